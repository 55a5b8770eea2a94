"""The ``spark`` engine: the plan's SQL (:mod:`mbcpath.analytics.sqlplan`) in Spark's dialect.

Facts are derived per patient by :func:`mbcpath.facts.derive.derive_facts` (the one place they are
derived), written as a typed Parquet file by DuckDB, read by Spark, and answered by the three statements
transpiled with sqlglot (``d`` and ``c`` are cached views). Tests run Spark in local mode; on a cluster the
same code runs under ``spark-submit`` (docs/cohort.md).

References
----------
Apache Spark SQL reference (array_contains, filter, transform, array_sort, collect_list, bool_or);
sqlglot (DuckDB -> Spark transpilation).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from mbcpath.analytics.records import Accepted
from mbcpath.analytics.sqlplan import compile_sql, render
from mbcpath.errors import MissingExtraError


def spark_session(master: str | None = None) -> Any:
    """The active Spark session, or a new local one (``local[2]``, small shuffles, no UI)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise MissingExtraError("pyspark", "spark") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = (SparkSession.builder.appName("mbcpath-cohort").master(master or "local[2]")
               .config("spark.sql.shuffle.partitions", "4").config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC").config("spark.driver.memory", "3g")
               # the plan of the candidate table is large: keep its description short in the status store
               .config("spark.sql.maxPlanStringLength", "4096").config("spark.sql.ui.retainedExecutions", "2"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class SparkEngine:
    """Answers batches with the plan's SQL in Spark (each batch's facts staged as Parquet)."""

    def __init__(self, kb: Any, as_of: dt.date | None = None, spark: Any = None) -> None:
        from mbcpath.engine.core import plan_for

        self.spark = spark or spark_session()
        self.sql = render(compile_sql(plan_for(kb, as_of)), "spark")
        self._dir = tempfile.TemporaryDirectory(prefix="mbcpath-spark-")
        self._n = 0

    def answer(self, batch: list[Accepted]) -> list[tuple[Any, ...]]:
        path = self.stage(batch)
        return self.answer_parquet(path)

    def stage(self, batch: list[Accepted]) -> str:
        """Write the batch's fact table as Parquet (DuckDB, typed) and return its path."""
        import duckdb

        from mbcpath.analytics.duck import facts_frame, load_facts

        self._n += 1
        path = str(Path(self._dir.name) / f"facts-{self._n}.parquet")
        con = duckdb.connect()
        try:
            load_facts(con, facts_frame(batch))
            con.execute("COPY facts TO '" + path.replace("'", "''") + "' (FORMAT PARQUET)")
        finally:
            con.close()
        return path

    def answer_parquet(self, path: str) -> list[tuple[Any, ...]]:
        """Answer a fact table in Parquet (the layout of :func:`mbcpath.analytics.sqlplan.fact_columns`)."""
        spark = self.spark
        spark.read.parquet(path).createOrReplaceTempView("facts")
        # each statement materialised with its plan cut: Catalyst analyses many small plans much faster
        # than the one large plan of table c
        spark.sql(self.sql.d_sql).localCheckpoint(eager=True).createOrReplaceTempView("d")
        for name, step in self.sql.c_steps:
            spark.sql(step).localCheckpoint(eager=True).createOrReplaceTempView(name)
        parts = [spark.sql(q).localCheckpoint(eager=True) for q in self.sql.c_rows]
        c = parts[0]
        for p in parts[1:]:
            c = c.unionByName(p)
        c.localCheckpoint(eager=True).createOrReplaceTempView("c")
        rows = spark.sql(self.sql.answer_sql).collect()
        return [(r["pid"], r["patient_id"], r["decision_point"], r["out_of_scope"], list(r["options"]),
                 list(r["excluded"]), list(r["stops"]), list(r["warnings"])) for r in rows]

    def close(self) -> None:
        self._dir.cleanup()
