"""``mbcpath`` command line: recommend, kb, schema, demo, serve (and survival commands).

Invalid input exits with status 2 and one line on stderr naming the field.
Heavy modules are imported inside the commands so that start-up stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from mbcpath.cli.common import OutputFormat, exit_on_error, fail, read_patient_file
from mbcpath.errors import KnowledgeBaseError

app = typer.Typer(help="mbcpath: evidence-grounded decision support for HER2-positive metastatic breast cancer "
                       "(not a medical device).", no_args_is_help=True, add_completion=False)
kb_app = typer.Typer(help="Inspect and validate the knowledge base.", no_args_is_help=True)
schema_app = typer.Typer(help="Export the JSON Schema of the exchange contract.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(schema_app, name="schema")


@app.command()
def recommend(
    file: Annotated[Path, typer.Argument(help="patient JSON file (the contract's patient)")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="json (the contract) or text")] = (
        OutputFormat.text
    ),
) -> None:
    """Rank the options for one patient at the decision point."""
    from mbcpath.engine import recommend as run

    with exit_on_error():
        rec = run(read_patient_file(file))
    if fmt is OutputFormat.json:
        from mbcpath.domain.wire import recommendation_bytes

        sys.stdout.flush()
        sys.stdout.buffer.write(recommendation_bytes(rec))  # the REST API's bytes, exactly
        sys.stdout.buffer.flush()
    else:
        from rich.console import Console

        from mbcpath.cli.render import render_text

        render_text(rec, Console())


@kb_app.command("validate")
def kb_validate(
    path: Annotated[Path | None, typer.Argument(help="KB folder (default: the shipped KB)")] = None,
) -> None:
    """Validate every KB file and cross-reference; exit 1 on the first failing file."""
    from mbcpath.kb.loader import default_kb_path, load_kb_from

    root = path or default_kb_path()
    try:
        kb = load_kb_from(root)
    except KnowledgeBaseError as err:
        sys.stderr.write(f"KB invalid: {err}\n")
        for issue in err.issues[1:20]:
            sys.stderr.write(f"  - {issue}\n")
        raise typer.Exit(1) from None
    from rich.console import Console

    n_rules = sum(len(d.options) for d in kb.decisions.values())
    unverified = sum(1 for s in kb.sources.values() if not s.verified)
    Console().print(
        f"[green]KB {kb.release.kb_release} valid[/]: {len(kb.trials)} trials, {len(kb.regimens)} regimens, "
        f"{len(kb.statements)} guideline statements, {n_rules} option rules, {len(kb.safety.gates)} safety gates, "
        f"{len(kb.sources)} sources ({unverified} unverified)"
    )


@kb_app.command("list")
def kb_list() -> None:
    """List the trials of the KB."""
    from rich.console import Console
    from rich.table import Table

    from mbcpath.kb import load_kb

    kb = load_kb()
    t = Table(title=f"mbcpath KB {kb.release.kb_release}")
    for col in ("trial", "aliases", "phase", "randomised", "n", "settings", "status"):
        t.add_column(col)
    for tr in sorted(kb.trials.values(), key=lambda x: x.id.lower()):
        t.add_row(tr.id, ", ".join(tr.aliases), tr.phase, "yes" if tr.randomized else "no",
                  str(tr.n.value) if tr.n else "-", ", ".join(tr.settings), tr.status)
    Console().print(t)


@kb_app.command("show")
def kb_show(
    trial: Annotated[str, typer.Argument(help="trial id or alias, e.g. CLEOPATRA, DB-09, DEBORAH")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
) -> None:
    """Show one trial with its arms, endpoints and sources."""
    from mbcpath.engine.evidence import endpoint_text
    from mbcpath.kb import load_kb

    kb = load_kb()
    try:
        tr = kb.trial(trial)
    except KeyError:
        raise fail(f"unknown trial {trial!r}; try 'mbcpath kb list'", 2) from None
    if fmt is OutputFormat.json:
        sys.stdout.write(tr.model_dump_json(indent=2, by_alias=True) + "\n")
        return
    from rich.console import Console

    c = Console()
    c.print(f"[bold]{tr.id}[/] {('(' + ', '.join(tr.aliases) + ')') if tr.aliases else ''} — {tr.title}")
    c.print(f"{tr.nct or 'NCT n/a'} · phase {tr.phase} · {'randomised' if tr.randomized else 'non-randomised'} · "
            f"n={tr.n.value if tr.n else '-'} · {tr.status}")
    c.print(f"[dim]{tr.design}[/]\nPopulation: {tr.population}")
    for a in tr.arms:
        c.print(f"  arm [bold]{a.id}[/]: {a.label}" + (f" (n={a.n.value})" if a.n else ""))
    for e in tr.endpoints:
        mark = "[green]*[/] " if e.engine_uses else "  "
        c.print(f"{mark}{endpoint_text(tr, e)}  [dim]sources: {', '.join(e.sources)}[/]")
    for x in tr.toxicities:
        c.print(f"  tox: {x.event} ({x.grade}): {x.rates}  [dim]{', '.join(x.sources)}[/]")
    for d in tr.discrepancies:
        c.print(f"  [yellow]discrepancy[/]: {d}")
    for k in tr.sources:
        s = kb.sources[k]
        c.print(f"  [dim]{k}: {s.citation or ''} {s.url or ''}{'' if s.verified else ' (unverified)'}[/]")
    c.print("[dim]* = the analysis the engine cites[/]")


@kb_app.command("manifest")
def kb_manifest() -> None:
    """Print the KB manifest table (the one in kb/README.md)."""
    from mbcpath.kb import load_kb
    from mbcpath.kb.manifest import manifest_table

    sys.stdout.write(manifest_table(load_kb()) + "\n")


@schema_app.command("patient")
def schema_patient() -> None:
    """JSON Schema of the patient."""
    from mbcpath.domain.patient import Patient

    sys.stdout.write(json.dumps(Patient.model_json_schema(), indent=2) + "\n")


@schema_app.command("recommendation")
def schema_recommendation() -> None:
    """JSON Schema of the recommendation."""
    from mbcpath.domain.recommendation import Recommendation

    sys.stdout.write(json.dumps(Recommendation.model_json_schema(by_alias=True), indent=2) + "\n")


@app.command()
def demo() -> None:
    """Walk the clinical summary's representative patient through its decision points."""
    from rich.console import Console

    from mbcpath.cli.demo import run_demo

    run_demo(Console())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    allow_unauthenticated: Annotated[bool, typer.Option(
        help="serve a non-loopback address without API keys (only behind a proxy that authenticates)")] = False,
) -> None:
    """Start the clinician web app and REST API (see the README's "Deployment" section)."""
    from mbcpath.errors import MbcpathError

    try:
        from mbcpath.web.app import serve as run_server
    except ImportError as err:
        raise fail(f"the web app needs the 'web' extra: pip install 'mbcpath[web]' ({err})", 1) from None
    extra = {"allow_unauthenticated": True} if allow_unauthenticated else {}
    try:
        run_server(host=host, port=port, **extra)
    except MbcpathError as err:
        raise fail(f"mbcpath: not starting: {err}", 1) from None


def _register_optional() -> None:
    try:
        from mbcpath.cli.survival_cmds import register
    except ImportError:
        return
    register(app, kb_app)


_register_optional()


def main() -> None:
    """Console-script entry point."""
    import os

    # mbcpath uses no pydantic plugins: skip their discovery (a scan of every installed package's
    # entry points, a large part of a cold start). An explicit setting in the environment wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    app()


if __name__ == "__main__":
    main()
