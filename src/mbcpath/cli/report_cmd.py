"""``mbcpath report FILE --out report.pdf``: the 1-2 page tumour-board report as PDF (or HTML).

``register(app)`` adds the command to the main Typer app; the engine, projections,
Jinja and Playwright are imported when the command runs. Bad input exits 2 with one
line naming the field; a missing browser engine or an unwritable file exits 1.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from mbcpath.cli.common import exit_on_error, fail, read_patient_file

__all__ = ["register", "report_cmd"]


def _projections(rec: Any, kb: Any) -> Any:
    """The option projections, or None when the survival extra is missing or no option can be projected."""
    if not rec.options:
        return None
    try:
        from mbcpath.survival.projection import project_options
    except ImportError:
        return None
    return project_options(rec, kb)


def report_cmd(
    file: Annotated[Path, typer.Argument(help="patient JSON file (the contract's patient)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="output file: .pdf (A4, via chromium) or .html")],
    patient_summary: Annotated[bool, typer.Option("--patient-summary", help="add a plain-language page for the "
                                                  "patient")] = False,
    charts: Annotated[bool, typer.Option("--charts/--no-charts", help="PFS/OS projection charts")] = True,
) -> None:
    """Write the tumour-board report: board table, charts, safety stops, conflicts, missing data, KB release."""
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise fail(f"--out = {str(out)!r}: the file must end in .pdf or .html")
    with exit_on_error():
        from mbcpath.engine import recommend
        from mbcpath.kb import load_kb
        from mbcpath.report.document import render_report_html

        patient = read_patient_file(file)
        kb = load_kb()
        rec = recommend(patient, kb)
        proj = _projections(rec, kb) if charts else None
        html = render_report_html(rec, patient=patient, kb=kb, projections=proj, patient_summary=patient_summary,
                                  generated=dt.date.today().isoformat())
        if suffix == ".pdf":
            from mbcpath.report.pdf import html_to_pdf

            html_to_pdf(html, out)
        else:
            _write_text(out, html)
    typer.echo(f"{out}: tumour-board report for {rec.patient_id} ({len(rec.options)} options, KB {rec.kb_release})")


def _write_text(out: Path, text: str) -> None:
    from mbcpath.errors import ReportError

    try:
        out.write_text(text, encoding="utf-8")
    except OSError as err:
        raise ReportError(f"{out}: cannot write ({err.strerror})") from None


def register(app: typer.Typer) -> None:
    """Add ``report`` to ``app``."""
    app.command("report")(report_cmd)
