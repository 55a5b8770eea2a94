"""``mbcpath cohort ...``: synthetic cohorts, cohort runs on the python / duckdb / spark engines, audits, schema.

The group object is :data:`cohort_app` (other command modules register further commands on it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from mbcpath.cli.common import exit_on_error, fail

cohort_app = typer.Typer(help="Cohort analytics: the same plan over a whole population (DuckDB by default, Spark "
                              "at scale).", no_args_is_help=True)

T = TypeVar("T")


@contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Any]:
    """A Rich progress bar on stderr (a no-op display when stderr is not a terminal); yields ``advance(n)``."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as prog:
        task = prog.add_task(label, total=total)
        yield lambda n=1: prog.advance(task, n)


def _counted(items: Iterable[T], advance: Any) -> Iterator[T]:
    for x in items:
        advance(1)
        yield x


@cohort_app.command("synth")
def synth(
    n: Annotated[int, typer.Option("--n", min=1, help="number of patients")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="random seed (the same seed gives the same cohort)")] = 1,
    out: Annotated[Path, typer.Option("--out", help="output file: .jsonl or .parquet")] = Path("cohort.jsonl"),
) -> None:
    """Write a seeded synthetic HER2-positive MBC cohort (distributions: docs/cohort.md)."""
    from mbcpath.analytics.records import write_parquet
    from mbcpath.analytics.synth import synth_records

    suffix = out.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".parquet"):
        raise fail(f"--out = {str(out)!r}: the file name must end in .jsonl or .parquet")
    with exit_on_error(), progress_bar("synthesising", n) as advance:
        records = _counted(synth_records(n, seed), advance)
        if suffix == ".parquet":
            count = write_parquet(records, out)
        else:
            count = 0
            with out.open("w", encoding="utf-8") as fh:
                for rec in records:
                    fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
                    count += 1
    sys.stderr.write(f"wrote {count} patients (seed {seed}) to {out}\n")


@cohort_app.command("schema")
def schema() -> None:
    """JSON Schema of a cohort record (a bare contract patient, or the wrapper with decision date, given drugs,
    override reason and follow-up)."""
    from mbcpath.analytics.records import record_json_schema

    sys.stdout.write(json.dumps(record_json_schema(), indent=2) + "\n")
