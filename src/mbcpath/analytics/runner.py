"""Run a cohort through an engine: read records in batches, answer them, write one Parquet file.

Engines (``--engine``):

* ``python``: the per-patient engine (:func:`mbcpath.engine.core.recommend`), the reference;
* ``duckdb``: the compiled plan as SQL (:mod:`mbcpath.analytics.sqlplan`) over a fact table built by
  :func:`mbcpath.facts.derive.derive_facts`, one batch at a time, in embedded DuckDB;
* ``spark``: the same SQL in Spark's dialect (:mod:`mbcpath.analytics.spark`), local mode or a cluster.

The output has one row per accepted record, in input order (:data:`OUTPUT_COLUMNS`); rejected records go to
the rejects file (JSON Lines, one :meth:`~mbcpath.analytics.records.Rejected.as_json` a line). Memory is
bounded by the batch size: answers are staged in an on-disk DuckDB database and copied out once.

References
----------
shared/design.md ("one plan both executors read"); shared/contract.md (the recommendation's fields).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from mbcpath.analytics.records import Accepted, CohortRecord, Format, Rejected, read_records
from mbcpath.errors import InputError, Issue

Engine = Literal["python", "duckdb", "spark"]
ENGINES: tuple[Engine, ...] = ("python", "duckdb", "spark")

#: The answer table: column -> DuckDB type. ``out_of_scope`` is a code (null when in scope); ``options`` the
#: regimen ids in rank order; ``excluded`` the regimen ids ruled out (in the answer's order); ``stops`` and
#: ``warnings`` the ids of the safety gates (``label:<dimension>`` for the drug-label table) that stopped or
#: warned, sorted.
OUTPUT_COLUMNS: dict[str, str] = {
    "line": "BIGINT",
    "patient_id": "VARCHAR",
    "decision_point": "VARCHAR",
    "out_of_scope": "VARCHAR",
    "options": "VARCHAR[]",
    "excluded": "VARCHAR[]",
    "stops": "VARCHAR[]",
    "warnings": "VARCHAR[]",
}

#: out_of_scope codes, by the first words of the engine's reason
_SCOPE_CODES = (("HER2-negative", "her2_negative"), ("HER2 status unresolved", "her2_unresolved"),
                ("No distant", "no_distant_metastases"))


@dataclass
class RunCounts:
    """What a run did: records read, accepted, rejected, and answers written."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    answered: int = 0

    def line(self) -> str:
        return (f"read {self.read}, accepted {self.accepted}, rejected {self.rejected}, "
                f"answered {self.answered}")


class BatchEngine(Protocol):
    """Answers a batch of accepted records as rows of :data:`OUTPUT_COLUMNS` (in the batch's order)."""

    def answer(self, batch: list[Accepted]) -> list[tuple[Any, ...]]: ...

    def close(self) -> None: ...


def scope_code(reason: str | None) -> str | None:
    """The out-of-scope code of the engine's reason text."""
    if reason is None:
        return None
    for prefix, code in _SCOPE_CODES:
        if reason.startswith(prefix):
            return code
    raise ValueError(f"unknown out-of-scope reason: {reason[:60]!r}")


def answer_row(line: int, rec: Any) -> tuple[Any, ...]:
    """A :class:`~mbcpath.domain.recommendation.Recommendation` as a row of :data:`OUTPUT_COLUMNS`."""
    stops = sorted(s.gate for s in rec.safety_stops if s.severity == "stop")
    warnings = sorted(s.gate for s in rec.safety_stops if s.severity == "warning")
    return (line, rec.patient_id, rec.decision_point.value, scope_code(rec.out_of_scope),
            [o.regimen_id for o in rec.options], [e.regimen_id for e in rec.excluded], stops, warnings)


class PythonEngine:
    """The per-patient engine, one record at a time (the reference)."""

    def __init__(self, kb: Any, as_of: dt.date | None = None) -> None:
        self.kb, self.as_of = kb, as_of

    def answer(self, batch: list[Accepted]) -> list[tuple[Any, ...]]:
        from mbcpath.engine.core import recommend

        return [answer_row(a.line, recommend(a.record.patient, self.kb, as_of=self.as_of)) for a in batch]

    def close(self) -> None:
        return None


def make_engine(engine: Engine, kb: Any, as_of: dt.date | None = None) -> BatchEngine:
    """The batch engine of that name (``spark`` starts a local session unless one is running)."""
    if engine == "python":
        return PythonEngine(kb, as_of)
    if engine == "duckdb":
        from mbcpath.analytics.duck import DuckEngine

        return DuckEngine(kb, as_of)
    if engine == "spark":
        from mbcpath.analytics.spark import SparkEngine

        return SparkEngine(kb, as_of)
    raise InputError(Issue("--engine", engine, f"must be one of {', '.join(ENGINES)}"), subject="option")


def batched(items: Iterable[Accepted | Rejected], size: int, counts: RunCounts,
            on_reject: Callable[[Rejected], None]) -> Iterator[list[Accepted]]:
    """Accepted records in batches of ``size``; rejects go to ``on_reject``; ``counts`` follows along."""
    batch: list[Accepted] = []
    for item in items:
        counts.read += 1
        if isinstance(item, Rejected):
            counts.rejected += 1
            on_reject(item)
            continue
        counts.accepted += 1
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_cohort(source: str | Path | Iterable[Accepted | Rejected], out: str | Path, *, engine: Engine = "duckdb",
               rejects: str | Path | None = None, batch_size: int = 5000, kb: Any = None,
               as_of: dt.date | None = None, fmt: Format = "auto",
               progress: Callable[[int], None] | None = None) -> RunCounts:
    """Answer every record of ``source`` with ``engine`` and write the answers to ``out`` (Parquet).

    Parameters
    ----------
    source : path or iterable
        A cohort file (:func:`~mbcpath.analytics.records.read_records`) or already-read items.
    out : path
        The answers, one row per accepted record (:data:`OUTPUT_COLUMNS`), in input order.
    engine : {"python", "duckdb", "spark"}
    rejects : path, optional
        JSON Lines of the rejected records (field, value, rule); without it they are only counted.
    batch_size : int
        Records answered at a time (memory is bounded by it).
    as_of : datetime.date, optional
        Answer every record with the KB as known on that date.
    progress : callable, optional
        Called with the number of records read after each batch.
    """
    from mbcpath.kb import load_kb

    if batch_size < 1:
        raise InputError(Issue("--batch-size", batch_size, "must be at least 1"), subject="option")
    kb = kb or load_kb()
    items = read_records(source, fmt) if isinstance(source, (str, Path)) else source
    counts = RunCounts()
    runner = make_engine(engine, kb, as_of)
    rej_fh = Path(rejects).open("w", encoding="utf-8") if rejects else None
    try:
        with _Staging(out) as staging:
            def on_reject(r: Rejected) -> None:
                if rej_fh is not None:
                    rej_fh.write(json.dumps(r.as_json(), separators=(",", ":")) + "\n")

            seen = 0
            for batch in batched(items, batch_size, counts, on_reject):
                rows = runner.answer(batch)
                staging.add(rows)
                counts.answered += len(rows)
                if progress is not None:
                    progress(counts.read - seen)
                    seen = counts.read
    finally:
        runner.close()
        if rej_fh is not None:
            rej_fh.close()
    return counts


class _Staging:
    """Answers staged in an on-disk DuckDB table (spills, so memory stays bounded), then one Parquet file."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)

    def __enter__(self) -> _Staging:
        import duckdb

        self._dir = tempfile.TemporaryDirectory(prefix="mbcpath-cohort-")
        self.con = duckdb.connect(str(Path(self._dir.name) / "stage.duckdb"))
        cols = ", ".join(f"{c} {t}" for c, t in OUTPUT_COLUMNS.items())
        self.con.execute(f"CREATE TABLE answers ({cols})")
        return self

    def add(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        import pandas as pd

        frame = pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS))
        self.con.register("batch_frame", frame)
        casts = ", ".join(f"CAST({c} AS {t})" for c, t in OUTPUT_COLUMNS.items())
        self.con.execute(f"INSERT INTO answers SELECT {casts} FROM batch_frame")  # noqa: S608 (fixed names)
        self.con.unregister("batch_frame")

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                target = str(self.out).replace("'", "''")
                self.con.execute(f"COPY (SELECT * FROM answers ORDER BY line) TO '{target}' "  # noqa: S608
                                 "(FORMAT PARQUET)")
        finally:
            self.con.close()
            self._dir.cleanup()


def read_answers(path: str | Path) -> list[tuple[Any, ...]]:
    """The rows of an answers Parquet file, in line order (for tests and comparisons)."""
    import duckdb

    con = duckdb.connect()
    try:
        cols = ", ".join(OUTPUT_COLUMNS)
        return con.execute(f"SELECT {cols} FROM read_parquet(?) ORDER BY line", [str(path)]).fetchall()  # noqa: S608
    finally:
        con.close()


def records_of(items: Iterable[CohortRecord]) -> Iterator[Accepted]:
    """Already-validated records as reader items (line numbers from 1)."""
    for n, r in enumerate(items, start=1):
        yield Accepted(n, r)
