"""Cohort analytics: the same compiled plan over a whole population (DuckDB by default, Spark at scale)."""
