"""``mbcpath fhir ...``: FHIR input to the contract patient, the recommendation as FHIR, generated bundles.

Registered from :mod:`mbcpath.cli.main`. FHIR errors exit 2 with one line on stderr (the OperationOutcome's
first issue, naming the element); ``--outcome`` prints the whole OperationOutcome as JSON on stdout.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from mbcpath.cli.common import fail

fhir_app = typer.Typer(help="FHIR R4 (mCODE STU4): import a Bundle, export a recommendation, generate bundles.",
                       no_args_is_help=True)

AsOf = Annotated[str | None, typer.Option("--as-of", help="decision date YYYY-MM-DD (default: today)")]


def _as_of(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"--as-of = {value!r}: not a date (YYYY-MM-DD)") from None


def read_fhir_file(path: Path) -> Any:
    """A Bundle / resource JSON file, a Bulk Data ``.ndjson`` file, or a folder of ``.ndjson`` files."""
    from mbcpath.interop.fhir_read import parse_ndjson

    try:
        if path.is_dir():
            return [r for f in sorted(path.glob("*.ndjson")) for r in parse_ndjson(f.read_text("utf-8"), f.name)]
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise fail(f"{path}: cannot read file: {err.strerror}") from None
    if path.suffix == ".ndjson":
        return parse_ndjson(text, path.name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise fail(f"{path} = line {err.lineno} column {err.colno}: not valid JSON: {err.msg}") from None


def _is_fhir(obj: Any) -> bool:
    """A FHIR resource or Bundle (a ``resourceType`` key), or a list of them."""
    if isinstance(obj, dict):
        return isinstance(obj.get("resourceType"), str)
    return isinstance(obj, list) and bool(obj) and all(isinstance(x, dict) and "resourceType" in x for x in obj)


def read_patient_or_bundle(path: Path, as_of: date | None = None) -> tuple[Any, Any]:
    """For ``mbcpath recommend``: ``(patient, FhirImport or None)`` from a contract file or FHIR input."""
    from mbcpath.cli.common import read_patient_file
    from mbcpath.domain.validation import parse_patient

    if path.suffix != ".ndjson" and not path.is_dir():
        raw = read_fhir_file(path)
        if not _is_fhir(raw):  # the contract's patient: no FHIR machinery is imported
            return read_patient_file(path), None
    from mbcpath.errors import InputError, Issue
    from mbcpath.interop.fhir import detect_and_convert
    from mbcpath.interop.outcome import FhirInputError

    try:
        data, imported = detect_and_convert(read_fhir_file(path), as_of)
    except FhirInputError as err:
        raise InputError([Issue(i.expression, i.value, i.rule) for i in err.issues], subject="FHIR input") from None
    return parse_patient(data), imported


@fhir_app.command("to-patient")
def to_patient(
    file: Annotated[Path, typer.Argument(help="FHIR Bundle JSON, .ndjson file or folder of .ndjson files")],
    as_of: AsOf = None,
    outcome: Annotated[bool, typer.Option("--outcome", help="on error, print the OperationOutcome JSON")] = False,
) -> None:
    """Print the contract patient read from FHIR, with provenance, missing data, conflicts and notes."""
    from mbcpath.interop.fhir import fhir_to_patient
    from mbcpath.interop.outcome import FhirInputError

    try:
        imported = fhir_to_patient(read_fhir_file(file), _as_of(as_of))
    except FhirInputError as err:
        if outcome:
            sys.stdout.write(json.dumps(err.operation_outcome(), indent=2) + "\n")
        raise fail(err.one_line()) from None
    sys.stdout.write(json.dumps(imported.as_json(), indent=2) + "\n")


@fhir_app.command("recommend")
def recommend_fhir(
    file: Annotated[Path, typer.Argument(help="FHIR Bundle JSON (or contract patient JSON)")],
    as_of: AsOf = None,
) -> None:
    """Recommend, and print the answer as FHIR (GuidanceResponse + RequestGroup proposal)."""
    from mbcpath.cli.common import exit_on_error
    from mbcpath.engine import recommend as run
    from mbcpath.interop.export import recommendation_to_fhir
    from mbcpath.interop.fhir import merge_into

    when = _as_of(as_of)
    with exit_on_error():
        patient, imported = read_patient_or_bundle(file, when)
        rec = merge_into(run(patient), imported)
    sys.stdout.write(json.dumps(recommendation_to_fhir(rec, as_of=when), indent=2) + "\n")


@fhir_app.command("generate")
def generate(
    n: Annotated[int, typer.Argument(help="number of bundles", min=1, max=100000)],
    out: Annotated[Path, typer.Option("--out", help="folder to write <id>.json bundles into")],
    seed: Annotated[int, typer.Option(help="random seed (same seed, same bundles)")] = 0,
    as_of: AsOf = None,
) -> None:
    """Write ``n`` seeded synthetic HER2+ MBC mCODE bundles (and their contract patients) to a folder."""
    from mbcpath.interop.generator import generate_cases

    out.mkdir(parents=True, exist_ok=True)
    for patient, bundle in generate_cases(n, seed, _as_of(as_of) if as_of else None):
        (out / f"{patient['id']}.bundle.json").write_text(json.dumps(bundle, indent=1) + "\n")
        (out / f"{patient['id']}.patient.json").write_text(json.dumps(patient, indent=1) + "\n")
    sys.stdout.write(f"{n} bundles in {out}\n")


def register(app: typer.Typer) -> None:
    app.add_typer(fhir_app, name="fhir")
