"""Survival commands of the ``mbcpath`` CLI: ``reconstruct``, ``project`` and ``kb mcbs``.

``register(app, kb_app)`` adds them to the main Typer app. numpy, lifelines and
plotly are imported inside the commands, so registering costs nothing at start-up.
Bad input exits with status 2 and one line on stderr naming the file or field,
the value and the rule; other model or KB failures exit with status 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mbcpath.cli.common import OutputFormat, exit_on_error, fail, read_patient_file

__all__ = ["register"]


def reconstruct_cmd(
    curve: Annotated[Path, typer.Option("--curve", help="digitised curve CSV with columns time,survival")],
    at_risk: Annotated[Path, typer.Option("--at-risk", help="numbers at risk CSV with columns time,n_at_risk")],
    out: Annotated[Path, typer.Option("--out", help="output CSV of pseudo-IPD with columns time,event")],
    events: Annotated[int | None, typer.Option("--events", help="total number of events, if published")] = None,
) -> None:
    """Rebuild pseudo patient-level data from a digitised KM curve (Guyot 2012)."""
    from mbcpath.errors import ModelError
    from mbcpath.survival.reconstruct import read_curve_csv, read_nar_csv, reconstruct, write_ipd_csv

    try:
        t, s = read_curve_csv(curve)
        tr, nr = read_nar_csv(at_risk)
        rec = reconstruct(t, s, tr, nr, total_events=events, where=str(curve))
    except ModelError as err:
        raise fail(str(err)) from None
    try:
        write_ipd_csv(rec, out)
    except OSError as err:
        raise fail(f"{out}: cannot write ({err.strerror})", 1) from None
    sys.stdout.write(f"{out}: {rec.summary()}\n")
    for note in rec.notes:
        sys.stderr.write(f"note: {note}\n")


def project_cmd(
    file: Annotated[Path, typer.Argument(help="patient JSON file (the contract's patient)")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="json or text")] = OutputFormat.text,
    plot: Annotated[Path | None, typer.Option("--plot", help="write PFS curves to OUT.html or OUT.png")] = None,
) -> None:
    """Project PFS and OS (with 95% bands) for each recommended option."""
    with exit_on_error():
        patient = read_patient_file(file)
    if plot is not None and plot.suffix.lower() not in (".html", ".htm", ".png"):
        raise fail(f"--plot = {str(plot)!r}: the file must end in .html or .png")
    with exit_on_error():
        from mbcpath.engine import recommend
        from mbcpath.kb import load_kb
        from mbcpath.survival.projection import project_options

        kb = load_kb()
        proj = project_options(recommend(patient, kb), kb)
        if plot is not None:
            from mbcpath.survival.plot import write_figure

            write_figure(proj, plot)
    if fmt is OutputFormat.json:
        sys.stdout.write(proj.to_json() + "\n")
    else:
        _render_projections(proj)
    if plot is not None:
        sys.stderr.write(f"plot written to {plot}\n")


def _render_projections(proj: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    for ep, label in (("pfs", "Progression-free survival"), ("os", "Overall survival")):
        items = sorted((p for p in proj.projections if p.endpoint == ep), key=lambda p: p.option_rank or 10**6)
        if not items:
            continue
        tab = Table(title=f"{label} (projected from trial data; trial populations, not this patient)")
        tab.add_column("#")
        tab.add_column("option")
        tab.add_column("trial / arm")
        tab.add_column("median, months (95% CI)")
        for m in (12, 24, 36, 60):
            tab.add_column(f"{m} mo")
        for p in items:
            ci = p.median_ci95
            med = "NR" if p.median is None else f"{p.median:.1f}"
            no_band = all(lm.lower == lm.upper for lm in p.landmarks)
            if no_band:
                med += " (no CI published)"
            elif ci is not None:
                med += f" ({'?' if ci[0] is None else f'{ci[0]:.1f}'}-{'NR' if ci[1] is None else f'{ci[1]:.1f}'})"
            cells = [f"{lm.probability:.0%}" if no_band else f"{lm.probability:.0%} ({lm.lower:.0%}-{lm.upper:.0%})"
                     for lm in p.landmarks]
            tab.add_row(str(p.option_rank or ""), p.option_name or p.regimen_id, f"{p.trial} / {p.arm}", med, *cells)
        con.print(tab)
        for p in items:
            con.print(f"  [bold]{p.regimen_id}[/bold] {ep.upper()}: {p.basis}; model {p.model}. "
                      f"Assumptions: {'; '.join(p.assumptions)}.", highlight=False)
    for d in proj.differences:
        if d.months in (12.0, 24.0):
            con.print(f"  {d.endpoint.upper()} at {d.months:g} months: {d.option} vs {d.reference} "
                      f"{d.difference:+.0%} ({d.comparison})", highlight=False)
    for s in proj.skipped:
        con.print(f"  [yellow]skipped:[/yellow] {s}", highlight=False)
    for n in proj.notes:
        con.print(f"  [dim]{n}[/dim]", highlight=False)


def mcbs_cmd(
    trial: Annotated[str, typer.Argument(help="trial id or alias, e.g. CLEOPATRA")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="json or text")] = OutputFormat.text,
) -> None:
    """Compute a trial's ESMO-MCBS v1.1 score from its KB endpoint records."""
    from mbcpath.errors import MbcpathError

    try:
        from mbcpath.kb import load_kb
        from mbcpath.survival.mcbs import mcbs_for_trial

        kb = load_kb()
        try:
            t = kb.trial(trial)
        except KeyError:
            raise fail(f"trial = {trial!r}: not in the knowledge base (known: {', '.join(sorted(kb.trials))})") \
                from None
        result = mcbs_for_trial(t)
    except MbcpathError as err:
        raise fail(f"error: {err}", 1) from None
    if fmt is OutputFormat.json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    from rich.console import Console

    con = Console()
    con.print(f"[bold]{result.trial}[/bold]: ESMO-MCBS v1.1 form {result.form}, preliminary grade "
              f"{result.preliminary}, final score [bold]{result.score}[/bold]"
              + (f" (published {result.published_score})" if result.published_score is not None else ""),
              highlight=False)
    for line in result.rationale:
        con.print(f"  {line}", highlight=False)
    for a in result.adjustments:
        con.print(f"  adjustment {a.name} {a.delta:+d}: {a.reason}", highlight=False)
    if result.sources:
        con.print(f"  sources: {', '.join(result.sources)}", highlight=False)


def register(app: typer.Typer, kb_app: typer.Typer) -> None:
    """Add ``reconstruct`` and ``project`` to ``app`` and ``mcbs`` to ``kb_app``."""
    app.command("reconstruct")(reconstruct_cmd)
    app.command("project")(project_cmd)
    kb_app.command("mcbs")(mcbs_cmd)
