"""``mbcpath cohort survival``: real-world Kaplan-Meier of a cohort beside the trial curves.

Registered onto the ``cohort`` group of :mod:`mbcpath.cli.cohort_cmds` when that module is present, else
onto a ``cohort`` group of its own. Heavy modules (lifelines, numpy, plotly) are imported inside the command.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from mbcpath.cli.common import fail, progress_bar


class SurvivalBy(StrEnum):
    regimen = "regimen"
    line = "line"
    decision_point = "decision_point"


class ViewFormat(StrEnum):
    text = "text"
    json = "json"


def accepted_records(path: Path, rejects: list[Any], rejects_out: Path | None = None) -> Iterator[Any]:
    """The validated records of a cohort file; each rejected one is kept in ``rejects`` (and written as one JSON
    line to ``rejects_out`` when given)."""
    from mbcpath.analytics.records import Accepted, read_records

    sink = rejects_out.open("w", encoding="utf-8") if rejects_out is not None else None
    try:
        for item in read_records(path):
            if isinstance(item, Accepted):
                yield item.record
            else:
                rejects.append(item)
                if sink is not None:
                    sink.write(json.dumps(item.as_json(), ensure_ascii=False) + "\n")
    finally:
        if sink is not None:
            sink.close()


def _text(result: Any) -> str:
    from mbcpath.analytics.rw_survival import ENDPOINT_LABEL

    out = [f"Real-world survival by {result.by.replace('_', ' ')}: {result.records} records "
           f"({result.rejected} rejected), knowledge base {result.kb_release}"]
    for ep, label in ENDPOINT_LABEL.items():
        curves = [c for c in result.curves if c.endpoint == ep]
        if not curves:
            continue
        out += ["", f"{label} (months; numbers at risk at 0/6/12/24/36)"]
        for c in curves:
            lo, hi = c.median_ci95
            med = "NR" if c.median is None else f"{c.median:g}"
            at = {a.months: a.n for a in c.at_risk}
            risk = "/".join(str(at.get(m, 0)) for m in (0.0, 6.0, 12.0, 24.0, 36.0))
            out.append(f"  {c.group}: n {c.n}, events {c.events}, median {med} "
                       f"(95% CI {'NE' if lo is None else f'{lo:g}'}-{'NR' if hi is None else f'{hi:g}'}); "
                       f"at risk {risk}")
        for t in (t for t in result.trial_curves if t.endpoint == ep):
            t_med = next((x for x, s in zip(t.times, t.survival, strict=True) if s <= 0.5), None)
            out.append(f"  trial {t.regimen_id}: {t.trial} {t.trial_endpoint.upper()} ({t.basis_kind}), median "
                       f"{'not reached' if t_med is None else f'{t_med:g}'}, follow-up {t.observed_until:g}")
    out += [f"  no trial curve: {m}" for m in result.no_trial_curve]
    out += [f"left out: {k} ({v} records)" for k, v in result.excluded.items()]
    out += result.notes
    return "\n".join(out) + "\n"


def survival(
    input_file: Annotated[Path, typer.Argument(metavar="INPUT", help="cohort: JSON Lines, Parquet or FHIR ndjson")],
    by: Annotated[SurvivalBy, typer.Option("--by", help="group the curves by regimen, line or decision point")] = (
        SurvivalBy.regimen),
    out: Annotated[Path | None, typer.Option("--out", help="write the chart: .html (interactive) or .svg")] = None,
    fmt: Annotated[ViewFormat, typer.Option("--format", "-f", help="text or json")] = ViewFormat.text,
    min_n: Annotated[int, typer.Option("--min-n", min=1, help="leave out groups with fewer observations")] = 1,
    rejects: Annotated[Path | None, typer.Option("--rejects", help="write rejected records here (JSON Lines)")] = None,
) -> None:
    """Real-world Kaplan-Meier of time on treatment and overall survival (95% CIs, numbers at risk), beside the
    trial curves of the same regimens."""
    from mbcpath.analytics.rw_chart import write_chart
    from mbcpath.analytics.rw_survival import rw_survival
    from mbcpath.errors import InputError, MbcpathError
    from mbcpath.kb import load_kb

    if not input_file.is_file():
        raise fail(f"INPUT = {str(input_file)!r}: no such file")
    kb = load_kb()
    refused: list[Any] = []
    try:
        with progress_bar("survival", None) as tick:
            result = rw_survival(accepted_records(input_file, refused, rejects), kb, by.value, min_n=min_n,
                                 progress=tick)
        result.rejected = len(refused)
        if out is not None:
            write_chart(result, out)
    except InputError as err:
        raise fail(err.one_line()) from None
    except MbcpathError as err:
        raise fail(f"error: {err}", 1) from None
    if fmt is ViewFormat.json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(_text(result))


def _own_group(app: typer.Typer) -> typer.Typer:
    group = typer.Typer(help="Cohort analytics: the same plan over a whole population.", no_args_is_help=True)
    app.add_typer(group, name="cohort")
    return group


def register(app: typer.Typer) -> None:
    """Add ``cohort survival`` to the ``cohort`` group (the one :mod:`mbcpath.cli.cohort_cmds` exposes, if any)."""
    try:
        from mbcpath.cli.cohort_cmds import cohort_app as group
    except ImportError:
        group = _own_group(app)
    group.command("survival")(survival)
