"""Survival commands of the ``mbcpath`` CLI: ``reconstruct``, ``project``, ``nma``, ``kb mcbs`` and
``kb build-fits``.

``register(app, kb_app)`` adds them to the main Typer app. numpy and scipy are
imported inside the commands, so registering costs nothing at start-up. Bad
input exits with status 2 and one line on stderr naming the file or field, the
value and the rule; other model or KB failures exit with status 1.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from mbcpath.cli.common import OutputFormat, exit_on_error, fail, read_patient_file

__all__ = ["register"]


class DecisionPointArg(StrEnum):
    first_line = "first_line"
    second_line = "second_line"
    maintenance = "maintenance"
    third_line_or_later = "third_line_or_later"
    cns_event = "cns_event"


class EndpointArg(StrEnum):
    pfs = "pfs"
    os = "os"


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
    plot: Annotated[Path | None, typer.Option("--plot", help="write the charts to OUT.html (all) or OUT.svg "
                                                             "(the first PFS chart)")] = None,
    sequence: Annotated[bool, typer.Option("--sequence", help="expected time on effective therapy across "
                                                              "plausible treatment sequences instead")] = False,
) -> None:
    """Project PFS and OS per option on a common basis (randomised, anchored, or apart), with 95% intervals."""
    with exit_on_error():
        patient = read_patient_file(file)
    if plot is not None and plot.suffix.lower() not in (".html", ".htm", ".svg"):
        raise fail(f"--plot = {str(plot)!r}: the file must end in .html or .svg")
    if sequence and plot is not None:
        raise fail("--plot and --sequence: choose one (sequences have no chart)")
    with exit_on_error():
        from mbcpath.kb import load_kb

        kb = load_kb()
        rep: Any
        if sequence:
            from mbcpath.survival.sequences import sequence_report

            rep = sequence_report(patient, kb)
        else:
            from mbcpath.survival.service import project_for

            rep = project_for(patient, kb)
            if plot is not None:
                from mbcpath.survival.plot import write_figure

                write_figure(rep, plot)
    if fmt is OutputFormat.json:
        sys.stdout.write(rep.model_dump_json(indent=2) + "\n")
    else:
        from mbcpath.cli import survival_render

        (survival_render.render_sequences if sequence else survival_render.render_projections)(rep)
    if plot is not None:
        sys.stderr.write(f"charts written to {plot}\n")


def nma_cmd(
    decision_point: Annotated[DecisionPointArg, typer.Option("--decision-point", "-d",
                                                             help="whose randomised trials form the network")],
    endpoint: Annotated[EndpointArg, typer.Option("--endpoint", "-e", help="pfs or os")] = EndpointArg.pfs,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="json or text")] = OutputFormat.text,
    common: Annotated[bool, typer.Option("--common", help="common-effect instead of random-effects model")] = False,
) -> None:
    """Network meta-analysis of the decision point's randomised trials: graph, league table, P-scores,
    heterogeneity, inconsistency, and the trials behind each comparison."""
    with exit_on_error():
        from mbcpath.kb import load_kb
        from mbcpath.survival.network import network_report

        rep = network_report(load_kb(), decision_point.value, endpoint.value, "common" if common else "random")
    if fmt is OutputFormat.json:
        sys.stdout.write(rep.model_dump_json(indent=2) + "\n")
        return
    from mbcpath.cli.survival_render import render_network

    render_network(rep)


def mcbs_cmd(
    trial: Annotated[str, typer.Argument(help="trial id or alias, e.g. CLEOPATRA; 'all' for every randomised "
                                              "trial")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="json or text")] = OutputFormat.text,
) -> None:
    """Compute ESMO-MCBS v1.1 from the KB's endpoint records (beside the published score where one exists)."""
    from mbcpath.errors import MbcpathError

    try:
        from mbcpath.kb import load_kb
        from mbcpath.survival.mcbs import mcbs_for_trial

        kb = load_kb()
        if trial.lower() == "all":
            names = sorted(t.id for t in kb.trials.values() if t.randomized or t.esmo_mcbs)
        else:
            try:
                names = [kb.trial(trial).id]
            except KeyError:
                raise fail(f"trial = {trial!r}: not in the knowledge base (known: "
                           f"{', '.join(sorted(kb.trials))})") from None
        results = []
        for name in names:
            try:
                results.append(mcbs_for_trial(kb.trial(name)))
            except MbcpathError as err:
                if len(names) == 1:
                    raise
                sys.stderr.write(f"{name}: not scored ({err})\n")
    except MbcpathError as err:
        raise fail(f"error: {err}", 1) from None
    if fmt is OutputFormat.json:
        import json

        if trial.lower() == "all":
            sys.stdout.write(json.dumps([r.model_dump(mode="json") for r in results], indent=2) + "\n")
        else:
            sys.stdout.write(results[0].model_dump_json(indent=2) + "\n")
        return
    _render_mcbs(results)


def _render_mcbs(results: list) -> None:  # type: ignore[type-arg]
    from rich.console import Console

    con = Console()
    for result in results:
        con.print(f"[bold]{result.trial}[/bold]: ESMO-MCBS v1.1 form {result.form}, preliminary grade "
                  f"{result.preliminary}, final score [bold]{result.score}[/bold] ({result.status})", highlight=False)
        for line in result.rationale:
            con.print(f"  {line}", highlight=False)
        for a in result.adjustments:
            con.print(f"  adjustment {a.name} {a.delta:+d}: {a.reason}", highlight=False)
        for n in result.notes:
            con.print(f"  [yellow]{n}[/yellow]", highlight=False)
        if result.sources:
            con.print(f"  sources: {', '.join(result.sources)}", highlight=False)


def build_fits_cmd(
    out: Annotated[Path | None, typer.Option("--out", help="write here instead of the package's "
                                                          "data/fits.json")] = None,
    check: Annotated[bool, typer.Option("--check", help="fit again and compare with the stored file; exit 1 on "
                                                        "any difference")] = False,
) -> None:
    """Fit every analysis of the KB (published summaries and bundled patient-level data) into the fits
    artefact that projections read at run time."""
    with exit_on_error():
        from mbcpath.kb import load_kb
        from mbcpath.survival import artefact

        kb = load_kb()
        if check:
            diffs = artefact.compare_fits(artefact.load_fits(out), artefact.build_fits(kb))
            if diffs:
                for d in diffs[:50]:
                    sys.stderr.write(d + "\n")
                raise typer.Exit(1)
            sys.stdout.write("fits artefact matches a fresh fit of the KB\n")
            return
        path = artefact.write_fits(kb, out)
    sys.stdout.write(f"{path}: fits for KB {kb.release.kb_release} written\n")


def register(app: typer.Typer, kb_app: typer.Typer) -> None:
    """Add ``reconstruct``, ``project`` and ``nma`` to ``app``; ``mcbs`` and ``build-fits`` to ``kb_app``."""
    app.command("reconstruct")(reconstruct_cmd)
    app.command("project")(project_cmd)
    app.command("nma")(nma_cmd)
    kb_app.command("mcbs")(mcbs_cmd)
    kb_app.command("build-fits")(build_fits_cmd)
