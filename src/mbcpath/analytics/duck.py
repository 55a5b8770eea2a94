"""The ``duckdb`` engine: facts derived per patient in batches, the compiled plan run as SQL in DuckDB.

Facts come from :func:`mbcpath.facts.derive.derive_facts` (the one place they are derived) and are loaded
as a pandas frame (not row inserts); everything after that is the SQL of :mod:`mbcpath.analytics.sqlplan`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mbcpath.analytics.records import Accepted
from mbcpath.analytics.sqlplan import compile_sql, fact_columns, fact_rows, render


def facts_frame(batch: list[Accepted]) -> Any:
    """The fact table of a batch (one row per record; ``pid`` is the record's line) as a pandas frame."""
    import pandas as pd

    from mbcpath.facts.derive import derive_facts

    rows = fact_rows((a.line, a.record.patient.id, [o.gate for o in a.record.patient.gate_overrides],
                      derive_facts(a.record.patient).values) for a in batch)
    return pd.DataFrame(rows, columns=list(fact_columns()))


def load_facts(con: Any, frame: Any, table: str = "facts") -> None:
    """Load a facts frame into a typed DuckDB table (replacing it)."""
    con.register("facts_frame", frame)
    casts = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in fact_columns().items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {casts} FROM facts_frame")  # noqa: S608
    con.unregister("facts_frame")


class DuckEngine:
    """Answers batches with the plan's SQL in an in-memory DuckDB connection."""

    def __init__(self, kb: Any, as_of: dt.date | None = None, threads: int | None = None) -> None:
        import duckdb

        from mbcpath.engine.core import plan_for

        self.compiled = compile_sql(plan_for(kb, as_of))
        r = render(self.compiled, "duckdb")
        self.d_sql, self.c_sql, self.answer_sql = r.d_sql, r.c_sql, r.answer_sql
        self.con = duckdb.connect()
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    def answer(self, batch: list[Accepted]) -> list[tuple[Any, ...]]:
        load_facts(self.con, facts_frame(batch))
        return self.run_sql()

    def run_sql(self) -> list[tuple[Any, ...]]:
        """The plan's statements over the loaded ``facts`` table: tables ``d`` and ``c``, then the answers."""
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE d AS {self.d_sql}")
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE c AS {self.c_sql}")
        return [tuple(r) for r in self.con.execute(self.answer_sql).fetchall()]

    def close(self) -> None:
        self.con.close()
