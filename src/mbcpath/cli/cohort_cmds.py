"""``mbcpath cohort ...``: synthetic cohorts, cohort runs on the python / duckdb / spark engines, audits, schema.

The group object is :data:`cohort_app` (other command modules register further commands on it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from mbcpath.cli.common import exit_on_error, fail, progress_bar

cohort_app = typer.Typer(help="Cohort analytics: the same plan over a whole population (DuckDB by default, Spark "
                              "at scale).", no_args_is_help=True)

T = TypeVar("T")


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


@cohort_app.command("run")
def run(
    input_file: Annotated[Path, typer.Argument(metavar="INPUT", help="cohort file: JSON Lines, Parquet or FHIR "
                                               "Bulk Data ndjson")],
    out: Annotated[Path, typer.Option("--out", help="answers (Parquet), one row per accepted record")] = Path(
        "answers.parquet"),
    engine: Annotated[str, typer.Option("--engine", help="duckdb (default), spark, or python (the per-patient "
                                        "reference)")] = "duckdb",
    rejects: Annotated[Path | None, typer.Option("--rejects", help="write rejected records here (JSON Lines: "
                                                 "line, patient_id, field, value, rule)")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="records answered at a time")] = 20_000,
    as_of: Annotated[str | None, typer.Option("--as-of", help="answer with the KB as known on YYYY-MM-DD")] = None,
) -> None:
    """Answer every patient of a cohort with the compiled plan; report read / accepted / rejected / answered."""
    from mbcpath.analytics.runner import ENGINES, run_cohort
    from mbcpath.cli.main import parse_as_of

    if engine not in ENGINES:
        raise fail(f"--engine = {engine!r}: must be one of {', '.join(ENGINES)}")
    if not input_file.is_file():
        raise fail(f"INPUT = {str(input_file)!r}: no such file")
    day = parse_as_of(as_of)
    with exit_on_error(), progress_bar(f"cohort ({engine})", None) as advance:
        counts = run_cohort(input_file, out, engine=engine, rejects=rejects,  # type: ignore[arg-type]
                            batch_size=batch_size, as_of=day, progress=advance)
    sys.stderr.write(f"{counts.line()}; answers in {out}" + (f"; rejects in {rejects}" if rejects else "") + "\n")


@cohort_app.command("audit")
def audit_cmd(
    input_file: Annotated[Path, typer.Argument(metavar="INPUT", help="cohort file with decision_date and given drugs")],
    as_of_record_date: Annotated[bool, typer.Option(
        "--as-of-record-date/--current-kb",
        help="judge each decision against the KB as known on its decision date (default), or the current KB")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print the counts as JSON")] = False,
) -> None:
    """Concordance of what was given with the options known at the time: rank 1 / another option / not offered /
    despite a safety stop, by decision point, year and regimen, with override reasons."""
    from mbcpath.analytics.audit import audit
    from mbcpath.analytics.records import read_records

    if not input_file.is_file():
        raise fail(f"INPUT = {str(input_file)!r}: no such file")
    with exit_on_error(), progress_bar("auditing", None) as advance:
        report = audit(read_records(input_file), as_of_record_date=as_of_record_date, progress=advance)
    if as_json:
        sys.stdout.write(json.dumps(report.as_json(), indent=2) + "\n")
        return
    _print_audit(report)


def _print_audit(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from mbcpath.analytics.audit import CLASSES

    console = Console()
    console.print(f"judged {len(report.judged)}, not judged (no decision date or given drugs) {report.not_judged}, "
                  f"rejected {report.rejected}")
    for by, title in (("decision_point", "by decision point"), ("year", "by year"), ("regimen", "by regimen")):
        table = Table(title=f"Concordance {title}")
        table.add_column(by)
        for c in CLASSES:
            table.add_column(c, justify="right")
        for key, counts in report.table(by).items():
            table.add_row(str(key), *(str(counts.get(c, 0)) for c in CLASSES))
        console.print(table)
    reasons = report.override_reasons()
    if reasons:
        table = Table(title="Override reasons")
        for c in ("class", "reason", "count"):
            table.add_column(c)
        for verdict, counts in reasons.items():
            for reason, n in counts.most_common():
                table.add_row(verdict, reason, str(n))
        console.print(table)
