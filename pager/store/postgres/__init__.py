"""The PostgreSQL store: several ``pager run`` nodes share one database (SPEC section 9)."""
