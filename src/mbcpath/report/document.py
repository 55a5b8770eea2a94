"""The report for the tumour-board minutes as HTML (A4, 1-2 pages), and the board view as an HTML fragment.

The templates live beside this module (``templates/``); the board fragment
(``_board.html``) is the same one the results page shows. ``jinja2`` is imported
when the first template is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mbcpath.report.board import Board, build_board
from mbcpath.report.labels import CATEGORIES, CATEGORY_MEANING, label, num, slug

__all__ = ["ReportParts", "board_html", "environment", "render_report_html", "report_parts", "trial_matches_html"]

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Any:
    """The Jinja environment of the report templates (autoescaped HTML)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(("html",)),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(slug=slug, label=label, num=num)
    env.globals.update(category_labels=CATEGORIES, category_meaning=CATEGORY_MEANING)
    return env


def board_html(board: Board, *, links: bool = True) -> Any:
    """The board view as safe HTML (``markupsafe.Markup``) for embedding in a page."""
    from markupsafe import Markup

    tpl = environment().from_string('{% from "_board.html" import board_view %}{{ board_view(b, links) }}')
    return Markup(tpl.render(b=board, links=links))  # noqa: S704 - rendered by an autoescaping environment


def trial_matches_html(board: Board, *, links: bool = True, total_ongoing: int | None = None) -> Any:
    """The trial-matching list as safe HTML."""
    from markupsafe import Markup

    tpl = environment().from_string('{% from "_board.html" import trial_matches %}'
                                    "{{ trial_matches(b, links, total) }}")
    return Markup(tpl.render(b=board, links=links, total=total_ongoing))  # noqa: S704


@dataclass(frozen=True)
class ReportParts:
    """What the report shows besides the board: charts, the patient line, the patient page."""

    board: Board
    charts: tuple[str, ...]
    chart_note: str
    patient_line: str
    treatments: tuple[str, ...]
    evidence_date: str
    summary: Any = None


def report_parts(rec: Any, *, patient: Any = None, kb: Any = None, projections: Any = None,
                 patient_summary: bool = False) -> ReportParts:
    """Build the board, the SVG charts (PFS and OS, when projected) and the optional patient page."""
    from mbcpath.report.charts import projection_svg
    from mbcpath.report.summary import plain_summary

    board = build_board(rec, patient=patient, kb=kb, projections=projections)
    charts: list[str] = []
    note = "Projections were not computed."
    if projections is not None:
        charts = [svg.split("\n<svg")[0] for ep in ("pfs", "os")  # the basis of the best-ranked option only
                  if (svg := projection_svg(projections, ep, width=520))]
        note = ("Curves restate the cited trials' populations, not a prediction for this patient; each chart "
                "holds one basis (the arms of one trial, or a network-anchored comparison)." if charts
                else "No option could be projected.")
    evidence_date = rec.as_of or (f"knowledge base release date {kb.release.date}" if kb is not None else "not stated")
    return ReportParts(board=board, charts=tuple(charts), chart_note=note, patient_line=_patient_line(patient, rec),
                       treatments=_treatments(patient), evidence_date=evidence_date,
                       summary=plain_summary(rec, board) if patient_summary else None)


def render_report_html(rec: Any, *, patient: Any = None, kb: Any = None, projections: Any = None,
                       patient_summary: bool = False, generated: str | None = None,
                       stylesheet: str | None = None) -> str:
    """The report as one self-contained HTML document (inline CSS and SVG; no script, no external resource).

    Parameters
    ----------
    rec : Recommendation
    patient : Patient, optional
        For the patient line, the treatment history and the safety strip.
    kb : KnowledgeBase, optional
        Trial records for the board's numbers; its release date stands in when ``rec.as_of`` is empty.
    projections : Projections, optional
        Drawn as PFS and OS charts.
    patient_summary : bool
        Add the plain-language page for the patient after the board pages.
    generated : str, optional
        The date printed as the report date (callers pass today's; omitted, the report is reproducible).
    stylesheet : str, optional
        Link this stylesheet URL instead of inlining the CSS (a web page under a CSP without inline styles).
    """
    parts = report_parts(rec, patient=patient, kb=kb, projections=projections, patient_summary=patient_summary)
    return str(environment().get_template("report.html").render(p=parts, b=parts.board, rec=rec,
                                                                 generated=generated, stylesheet=stylesheet))


def _patient_line(patient: Any, rec: Any) -> str:
    if patient is None:
        return ""
    facts = rec.facts
    her2 = "HER2 " + str(facts.get("her2_status") or "unknown")
    hr = {True: "HR-positive", False: "HR-negative"}.get(facts.get("hr_positive"), "HR unknown")  # type: ignore[arg-type]
    if facts.get("er_low"):
        hr += " (ER-low)"
    sites = ", ".join(label(s) for s in patient.metastatic_sites) or "sites not stated"
    parts = [f"{patient.age_years} y", label(patient.sex), f"ECOG {num(patient.ecog)}", her2, hr,
             f"ER {num(patient.er_percent)}%, PR {num(patient.pr_percent)}%", sites]
    return " · ".join(parts)


def _treatments(patient: Any) -> tuple[str, ...]:
    if patient is None:
        return ()
    return tuple(_treatment(t) for t in sorted(patient.treatments, key=lambda t: -t.started_months_ago))


def _treatment(t: Any) -> str:
    where = label(t.setting) + (f" line {t.line}" if t.line else "") + (f", {label(t.phase)}" if t.phase else "")
    when = f"{num(t.started_months_ago)}–{'now' if t.ended_months_ago is None else num(t.ended_months_ago)} mo ago"
    stop = f", {label(t.stop_reason)}" if t.stop_reason else ""
    return f"{' + '.join(t.drugs)} ({where}; {when}{stop})"
