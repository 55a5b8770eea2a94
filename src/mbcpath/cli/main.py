"""``mbcpath`` command line: recommend, kb, schema, demo, serve (and survival commands).

Invalid input exits with status 2 and one line on stderr naming the field.
Heavy modules are imported inside the commands so that start-up stays fast.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mbcpath.cli import report_cmd
from mbcpath.cli.cohort_cmds import cohort_app
from mbcpath.cli.common import OutputFormat, exit_on_error, fail
from mbcpath.cli.kb_cmds import kb_app

app = typer.Typer(help="mbcpath: evidence-grounded decision support for HER2-positive metastatic breast cancer "
                       "(not a medical device).", no_args_is_help=True, add_completion=False)
schema_app = typer.Typer(help="Export the JSON Schema of the exchange contract.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(schema_app, name="schema")
app.add_typer(cohort_app, name="cohort")


def parse_as_of(value: str | None) -> dt.date | None:
    """``--as-of YYYY-MM-DD`` as a date (exit 2 naming the option when it is not one)."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"--as-of = {value!r}: not a date (use YYYY-MM-DD)") from None


@app.command()
def recommend(
    file: Annotated[Path, typer.Argument(help="patient JSON file (the contract's patient)")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f",
                                              help="text (full), brief (at most 40 lines) or json (the contract)")] = (
        OutputFormat.text
    ),
    as_of: Annotated[str | None, typer.Option("--as-of", help="answer with the evidence known on YYYY-MM-DD")] = None,
) -> None:
    """Rank the options for one patient at the decision point."""
    from mbcpath.engine import recommend as engine

    day = parse_as_of(as_of)

    def run(patient: Any, kb: Any = None) -> Any:
        return engine(patient, kb, as_of=day)

    with exit_on_error():
        rec = _recommend_file(file, run, day)
    if fmt is OutputFormat.json:
        from mbcpath.domain.wire import recommendation_bytes

        sys.stdout.flush()
        sys.stdout.buffer.write(recommendation_bytes(rec))  # the REST API's bytes, exactly
        sys.stdout.buffer.flush()
    elif fmt is OutputFormat.brief:
        from mbcpath.cli.brief import render_brief

        sys.stdout.write(render_brief(rec))
    else:
        from rich.console import Console

        from mbcpath.cli.render import render_text

        render_text(rec, Console())


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


def _recommend_file(file: Path, run: Any, as_of: dt.date | None = None) -> Any:
    """Contract patient JSON, or FHIR input (a Bundle / ndjson) mapped by mbcpath.interop (its notes merged);
    ``as_of`` is also the decision moment from which FHIR dates become months."""
    from mbcpath.cli.fhir_cmds import read_patient_or_bundle

    patient, imported = read_patient_or_bundle(file, as_of)
    if imported is None:
        return run(patient)
    from mbcpath.interop.fhir import merge_into

    return merge_into(run(patient), imported)


def _register_optional() -> None:
    from mbcpath.cli.fhir_cmds import register as register_fhir

    register_fhir(app)
    from mbcpath.cli.cohort_views_cmds import register as register_cohort_views

    register_cohort_views(app)
    try:
        from mbcpath.cli.survival_cmds import register
    except ImportError:
        return
    register(app, kb_app)


_register_optional()
report_cmd.register(app)


def main() -> None:
    """Console-script entry point."""
    import os

    # mbcpath uses no pydantic plugins: skip their discovery (a scan of every installed package's
    # entry points, a large part of a cold start). An explicit setting in the environment wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    app()


if __name__ == "__main__":
    main()
