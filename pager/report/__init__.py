"""The SLA and on-call load report (``pager report``): queries, figures, renderers, charts."""
