"""``mbcpath kb ...``: validate, list, show, manifest, diff and watch the knowledge base.

Every listing has ``--format json`` for machines; the text forms stay within 80 columns so that
``mbcpath kb list | grep DESTINY-Breast09`` finds the trial when piped.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mbcpath.cli.common import OutputFormat, fail, progress_bar
from mbcpath.errors import KnowledgeBaseError

if TYPE_CHECKING:
    from mbcpath.kb.history import KbDiff
    from mbcpath.kb.loader import KnowledgeBase
    from mbcpath.kb.models import Trial

kb_app = typer.Typer(help="Inspect, validate, compare and watch the knowledge base.", no_args_is_help=True)
WIDTH = 80


def _write_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


@kb_app.command("validate")
def kb_validate(
    path: Annotated[Path | None, typer.Argument(help="KB folder (default: the shipped KB)")] = None,
) -> None:
    """Validate every KB file, cross-reference and release check; exit 1 listing every problem."""
    from rich.console import Console

    from mbcpath.kb.checks import waived_problems
    from mbcpath.kb.loader import default_kb_path, load_kb_from

    root = path or default_kb_path()
    try:
        kb = load_kb_from(root)
    except KnowledgeBaseError as err:
        sys.stderr.write(f"KB invalid: {err}\n")
        for issue in err.issues[1:40]:
            sys.stderr.write(f"  - {issue}\n")
        raise typer.Exit(1) from None
    n_rules = sum(len(d.options) for d in kb.decisions.values())
    unverified = sum(1 for s in kb.sources.values() if not s.verified)
    retracted = sum(1 for s in kb.sources.values() if s.retracted)
    Console().print(
        f"[green]KB {kb.release.kb_release} valid[/]: {len(kb.trials)} trials, {len(kb.regimens)} regimens, "
        f"{len(kb.statements)} guideline statements, {n_rules} option rules, {len(kb.safety.gates)} safety gates, "
        f"{len(kb.sources)} sources ({unverified} unverified, {retracted} retracted)"
    )
    for p in waived_problems(kb):
        sys.stderr.write(f"waived (decision file to fix): {p}\n")


# ----------------------------------------------------------------------------- list / show
def _trial_row(t: Trial) -> dict[str, Any]:
    return {"id": t.id, "aliases": list(t.aliases), "nct": t.nct, "phase": t.phase, "randomized": t.randomized,
            "n": t.n.value if t.n else None, "settings": list(t.settings), "status": t.status,
            "regimens": sorted({a.regimen for a in t.arms if a.regimen}),
            "known_since": min((e.known_since for e in t.endpoints if e.known_since), default=None)}


def _text_table(rows: list[dict[str, Any]]) -> list[str]:
    """Fixed columns; the trial id is never cut, settings wrap under their column (80 columns)."""
    id_w = max(len("trial"), *(len(r["id"]) for r in rows))
    head = f"{'trial':<{id_w}}  {'phase':<6} {'n':>5}  {'status':<8} "
    rest = max(WIDTH - len(head), 12)
    out = [head + "settings", "-" * min(WIDTH, len(head) + rest)]
    for r in rows:
        n = str(r["n"]) if r["n"] is not None else "-"
        lines = textwrap.wrap(", ".join(r["settings"]), rest) or [""]
        out.append(f"{r['id']:<{id_w}}  {r['phase'][:6]:<6} {n:>5}  {r['status'][:8]:<8} {lines[0]}")
        out += [" " * len(head) + extra for extra in lines[1:]]
    return out


@kb_app.command("list")
def kb_list(fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text) -> None:
    """List the trials of the KB (text within 80 columns, or JSON)."""
    from mbcpath.kb import load_kb

    kb = load_kb()
    rows = [_trial_row(t) for t in sorted(kb.trials.values(), key=lambda x: x.id.lower())]
    if fmt is OutputFormat.json:
        _write_json({"kb_release": kb.release.kb_release, "trials": rows})
        return
    sys.stdout.write(f"mbcpath KB {kb.release.kb_release}: {len(rows)} trials\n")
    sys.stdout.write("\n".join(_text_table(rows)) + "\n")


@kb_app.command("show")
def kb_show(
    trial: Annotated[str, typer.Argument(help="trial id or alias, e.g. CLEOPATRA, DB-09, DEBORAH")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
) -> None:
    """Show one trial with its arms, endpoints and sources."""
    from mbcpath.kb import load_kb

    kb = load_kb()
    try:
        tr = kb.trial(trial)
    except KeyError:
        raise fail(f"unknown trial {trial!r}; try 'mbcpath kb list'", 2) from None
    if fmt is OutputFormat.json:
        data = tr.model_dump(mode="json", by_alias=True)
        data["kb_release"] = kb.release.kb_release
        data["source_records"] = {k: kb.sources[k].model_dump(mode="json") for k in _all_sources(tr) if k in kb.sources}
        _write_json(data)
        return
    _show_text(kb, tr)


def _all_sources(t: Trial) -> list[str]:
    keys: list[str] = list(t.sources)
    groups: list[list[str]] = [list(r.sources) for r in t.endpoints] + [list(r.sources) for r in t.toxicities]
    groups += [list(r.sources) for r in t.eligibility] + [list(r.sources) for r in t.regulatory]
    for group in groups:
        keys += [k for k in group if k not in keys]
    return keys


def _show_text(kb: KnowledgeBase, tr: Trial) -> None:
    from rich.console import Console

    from mbcpath.engine.evidence import endpoint_text

    c = Console()
    c.print(f"[bold]{tr.id}[/] {('(' + ', '.join(tr.aliases) + ')') if tr.aliases else ''} — {tr.title}")
    c.print(f"{tr.nct or 'NCT n/a'} · phase {tr.phase} · {'randomised' if tr.randomized else 'non-randomised'} · "
            f"n={tr.n.value if tr.n else '-'} · {tr.status}")
    c.print(f"[dim]{tr.design}[/]\nPopulation: {tr.population}")
    for a in tr.arms:
        reg = f" -> regimen {a.regimen}" if a.regimen else ""
        c.print(f"  arm [bold]{a.id}[/]: {a.label}" + (f" (n={a.n.value})" if a.n else "") + reg)
    for e in tr.endpoints:
        mark = "[green]*[/] " if e.engine_uses else "  "
        cut = e.data_cutoff or "cut-off unknown"
        c.print(f"{mark}{endpoint_text(tr, e)}  [dim]{cut}; known since {e.known_since}; "
                f"sources: {', '.join(e.sources)}[/]")
    for x in tr.toxicities:
        c.print(f"  tox: {x.event} ({x.grade}): {x.rates}  [dim]{', '.join(x.sources)}[/]")
    for ap in tr.regulatory:
        c.print(f"  {ap.agency} {ap.status} {ap.date or ap.checked}: {ap.indication}")
    for d in tr.discrepancies:
        c.print(f"  [yellow]discrepancy[/]: {d}")
    for k in tr.sources:
        s = kb.sources[k]
        flag = " (RETRACTED)" if s.retracted else ("" if s.verified else " (unverified)")
        c.print(f"  [dim]{k}: {s.citation or ''} {s.url or ''}{flag}[/]")
    c.print("[dim]* = the analysis the engine cites[/]")


@kb_app.command("manifest")
def kb_manifest() -> None:
    """Print the KB manifest table (the one in kb/README.md)."""
    from mbcpath.kb import load_kb
    from mbcpath.kb.manifest import manifest_table

    sys.stdout.write(manifest_table(load_kb()) + "\n")


# ----------------------------------------------------------------------------- diff
def _diff_lines(d: KbDiff) -> list[str]:
    out = [f"KB diff {d.from_release} -> {d.to_release}"]
    for name in ("trials", "endpoints", "statements", "rules", "regimens", "sources"):
        sec = getattr(d, name)
        out.append(f"{name}: +{len(sec.added)} -{len(sec.removed)} ~{len(sec.changed)}")
        for sign, keys in (("+", sec.added), ("-", sec.removed), ("~", sec.changed)):
            out += [f"  {sign} {k}" for k in keys]
    return out


@kb_app.command("diff")
def kb_diff(
    from_spec: Annotated[str, typer.Argument(metavar="FROM", help="date YYYY-MM-DD, release id or git revision")],
    to_spec: Annotated[str, typer.Argument(metavar="TO", help="date YYYY-MM-DD, release id or git revision")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
    patients: Annotated[Path | None, typer.Option("--patients", help="folder of patient JSON files, or a cohort "
                                                  "file (JSON Lines, Parquet, FHIR ndjson): whose answer changes "
                                                  "between the two, and how")] = None,
    engine: Annotated[str, typer.Option("--engine", help="with a cohort file: the runner's engine (duckdb, python "
                                                         "or spark)")] = "duckdb",
) -> None:
    """What changed in the KB between two dates, releases or git revisions (and, with --patients, whose
    recommendation changes: options gained, lost or re-ranked)."""
    from mbcpath.kb.history import diff_kb, load_kb_at

    try:
        old, new = load_kb_at(from_spec), load_kb_at(to_spec)
        diff = diff_kb(old, new)
    except KnowledgeBaseError as err:
        raise fail(f"error: {err}", 2) from None
    if patients is not None and patients.is_file():
        _cohort_diff(diff, patients, (old, new), (from_spec, to_spec), fmt, engine)
        return
    changes = _patient_changes(patients, old, new) if patients is not None else None
    if fmt is OutputFormat.json:
        _write_json({**diff.to_dict(), **({"patients": changes} if changes is not None else {})})
        return
    lines = _diff_lines(diff)
    if changes is not None:
        lines += _patient_lines(changes)
    sys.stdout.write("\n".join(lines) + "\n")


def _cohort_diff(diff: KbDiff, cohort: Path, kbs: tuple[Any, Any], specs: tuple[str, str], fmt: OutputFormat,
                 engine: str) -> None:
    """``--patients COHORT``: every record answered under both KBs by the cohort runner's engine, summarised
    (counts, top changes, examples)."""
    from mbcpath.analytics.records import read_records
    from mbcpath.analytics.release_impact import impact_lines, release_impact_runner
    from mbcpath.analytics.runner import ENGINES
    from mbcpath.errors import InputError

    if engine not in ENGINES:
        raise fail(f"--engine = {engine!r}: must be one of {', '.join(ENGINES)}")
    try:
        with progress_bar("release impact", None) as tick:
            impact = release_impact_runner(read_records(cohort), *kbs, engine=engine, progress=tick)
    except InputError as err:
        raise fail(err.one_line()) from None
    # a date's view keeps its release id: name the side as it was asked for too
    impact.from_release, impact.to_release = (r if r == spec else f"{r} ({spec})" for r, spec in
                                              zip((diff.from_release, diff.to_release), specs, strict=True))
    if fmt is OutputFormat.json:
        _write_json({**diff.to_dict(), "cohort": impact.model_dump(mode="json")})
        return
    sys.stdout.write("\n".join(_diff_lines(diff) + impact_lines(impact)) + "\n")


def _patient_changes(folder: Path, old: Any, new: Any) -> list[dict[str, Any]]:
    """For each patient file of ``folder``: the ranked regimens under ``old`` and ``new`` and what moved."""
    from mbcpath.cli.common import read_patient_file
    from mbcpath.engine import recommend
    from mbcpath.errors import InputError

    if not folder.is_dir():
        raise fail(f"--patients = {str(folder)!r}: neither a folder nor a cohort file")
    out = []
    for f in sorted(folder.glob("*.json")):
        try:
            patient = read_patient_file(f)
        except InputError:
            continue  # an invalid example is refused by `recommend`; it has no answer to compare
        before = [o.regimen_id for o in recommend(patient, old).options]
        after = [o.regimen_id for o in recommend(patient, new).options]
        if before != after:
            out.append({"patient": f.stem, "before": before, "after": after,
                        "gained": [r for r in after if r not in before], "lost": [r for r in before if r not in after],
                        "re_ranked": [r for r in after if r in before and after.index(r) != before.index(r)]})
    return out


def _patient_lines(changes: list[dict[str, Any]]) -> list[str]:
    lines = ["", f"Patients whose answer changes: {len(changes)}"]
    for c in changes:
        parts = [f"{k.replace('_', '-')} {', '.join(c[k])}" for k in ("gained", "lost", "re_ranked") if c[k]]
        lines.append(f"  {c['patient']}: " + "; ".join(parts) + f" (rank 1: {(c['before'] or ['none'])[0]} -> "
                     f"{(c['after'] or ['none'])[0]})")
    return lines


# ----------------------------------------------------------------------------- watch
@kb_app.command("watch")
def kb_watch(
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
    stale_days: Annotated[int, typer.Option(help="flag items not checked for this many days")] = 90,
) -> None:
    """Pending readouts, approvals and documents (kb/watch.yaml), with the date each was last checked."""
    from mbcpath.kb.loader import default_kb_path, load_watch

    items = load_watch(default_kb_path())
    today = dt.date.today()
    if fmt is OutputFormat.json:
        _write_json([{**i.model_dump(mode="json"), "days_since_check": (today - i.last_checked).days}
                     for i in items])
        return
    for i in items:
        age = (today - i.last_checked).days
        stale = "  STALE" if age > stale_days else ""
        sys.stdout.write(f"{i.id} [{i.kind}, {i.status}] checked {i.last_checked} ({age} d){stale}\n")
        for line in textwrap.wrap(f"{i.what}. {i.finding}", WIDTH - 4):
            sys.stdout.write(f"    {line}\n")
