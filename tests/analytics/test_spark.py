"""The spark engine (the plan's SQL through sqlglot into Spark's dialect, local mode) answers exactly as the
duckdb engine and the python reference. Needs a JVM and pyspark: fails, never skips, without them."""

from __future__ import annotations

import shutil

import pytest

from mbcpath.analytics.records import check_line
from mbcpath.analytics.runner import PythonEngine
from mbcpath.analytics.synth import synth_records

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    import pyspark  # noqa: F401 (a missing pyspark fails here)

    from mbcpath.analytics.spark import spark_session

    assert shutil.which("java"), "no Java runtime on PATH: the spark engine needs one"
    session = spark_session()
    yield session
    session.stop()


def _identical(kb, spark, n: int, seed: int) -> None:
    from mbcpath.analytics.duck import DuckEngine
    from mbcpath.analytics.spark import SparkEngine

    batch = [check_line(i + 1, r) for i, r in enumerate(synth_records(n, seed))]
    eng = SparkEngine(kb, spark=spark)
    try:
        got = eng.answer(batch)
    finally:
        eng.close()
    duck = DuckEngine(kb).answer(batch)
    assert got == duck
    py = PythonEngine(kb).answer(batch)
    assert got == py
    assert len({r[2] for r in got}) == 5 and any(r[3] for r in got) and any(r[6] for r in got)


def test_two_thousand_synthetic_patients_spark_equals_duckdb_and_python(kb, spark):
    _identical(kb, spark, 2000, seed=31)


@pytest.mark.slow
def test_a_hundred_thousand_synthetic_patients_spark_equals_duckdb_and_python(kb, spark):
    _identical(kb, spark, 100_000, seed=32)
