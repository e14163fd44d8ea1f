"""The report as one self-contained HTML page (tables and inline SVG charts)."""

from __future__ import annotations

import re

import jinja2

from pager.report.charts import Chart
from pager.report.model import Report
from pager.report.render import heading
from pager.report.tables import tables

_TEMPLATE = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ heading }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
figure { margin: 0 0 2em 0; }
svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>{{ heading }}</h1>
{% for chart in charts %}
<figure>{{ chart.svg | safe }}<figcaption>{{ chart.title }}</figcaption></figure>
{% endfor %}
{% for table in tables %}
<h2>{{ table.title }}</h2>
{% if table.rows %}
<table>
<tr>{% for h in table.header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in table.rows %}
<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}
</table>
{% else %}
<p>(none)</p>
{% endif %}
{% endfor %}
</body>
</html>
"""
)

_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)


def html(report: Report, charts: list[Chart]) -> str:
    """The page; each chart's SVG is inlined without its XML prologue."""
    inline = [Chart(c.name, c.title, _PROLOGUE.sub("", c.svg, count=1), c.png) for c in charts]
    return _TEMPLATE.render(heading=heading(report), charts=inline, tables=tables(report))
