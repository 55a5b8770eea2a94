"""What the results page shows, assembled from the engine's answer: the board, each trial once, projections.

Pure functions (no request, no I/O besides the projections' own data files); the
routers call them and render the templates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from mbcpath.errors import MbcpathError
from mbcpath.kb import KnowledgeBase
from mbcpath.report import build_board
from mbcpath.web.deps import FeatureUnavailable, load_projector
from mbcpath.web.services import recommend_for
from mbcpath.web.share import encode_patient

__all__ = ["Citation", "TrialCard", "evaluate", "projection_view", "results_context", "trial_cards"]

log = logging.getLogger("mbcpath.web")


@dataclass(frozen=True)
class Citation:
    """An option citing a trial: which option, the trial's role for it, direct or indirect support."""

    rank: int
    name: str
    role: str
    support: str
    basis: str


@dataclass
class TrialCard:
    """One trial as the page shows it: its numbers once, and every option that cites it."""

    ev: Any
    cited_by: list[Citation] = field(default_factory=list)


def trial_cards(rec: Any) -> list[TrialCard]:
    """One card per trial cited anywhere in the answer, in first-cited order."""
    cards: dict[str, TrialCard] = {}
    for o in rec.options:
        for ev in o.evidence:
            card = cards.setdefault(ev.trial, TrialCard(ev=ev))
            card.cited_by.append(Citation(o.rank, o.name, ev.role, ev.support, ev.basis))
    return list(cards.values())


def evaluate(data: Any, kb: KnowledgeBase) -> tuple[Any, Any]:
    """Validate the patient (raising ``InputError``) and run the engine (CPU work: call it off the event
    loop, e.g. with :func:`evaluate_off_loop`)."""
    from mbcpath.web import deps

    return recommend_for(data, kb, deps.load_engine())  # type: ignore[no-any-return]


async def evaluate_off_loop(request: Any, data: Any, kb: KnowledgeBase) -> tuple[Any, Any]:
    """:func:`evaluate` in the app's worker threads (within the per-request time budget)."""
    return await request.app.state.offload.run_thread(evaluate, data, kb)  # type: ignore[no-any-return]


def projection_view(rec: Any, kb: KnowledgeBase, patient: Any = None) -> dict[str, Any]:
    """SVG charts (one per common basis: a trial's arms, an anchored comparison, or a lone unanchored option),
    the projections behind them and the sequences table, or a note saying why there are none."""
    if not rec.options:
        return {"note": "No options to project."}
    try:
        project = load_projector()
    except FeatureUnavailable as err:
        return {"note": err.detail}
    try:
        from mbcpath.survival.chart import charts, render_svg

        proj = project(rec, kb, patient=patient)
        figures = [{"endpoint": c.endpoint, "kind": c.kind, "subtitle": c.subtitle, "svg": render_svg(c)}
                   for c in charts(proj)]
    except MbcpathError as err:
        return {"note": f"Projections could not be computed: {err}"}
    except Exception as err:  # a failing chart must not hide the recommendation itself
        log.error("projection failed: %s", type(err).__name__)
        return {"note": "Projections could not be computed for these options (see the server log)."}
    if not figures:
        return {"note": "No option has trial data to project.", "projections": proj}
    return {"charts": figures, "projections": proj, "sequences": _sequences(kb, patient)}


def _sequences(kb: KnowledgeBase, patient: Any) -> Any:
    """Expected time on effective therapy across plausible sequences (None if it cannot be computed)."""
    if patient is None:
        return None
    try:
        from mbcpath.survival.sequences import sequence_report

        return sequence_report(patient, kb)
    except (MbcpathError, ImportError) as err:
        log.warning("sequences not computed: %s", type(err).__name__)
        return None


def results_context(patient: Any, rec: Any, kb: KnowledgeBase, *, projection: dict[str, Any] | None) -> dict[str, Any]:
    """The template context of the results page (``projection`` None: the page loads it after the board)."""
    patient_json = patient.model_dump_json(exclude_defaults=True)
    ongoing = sum(1 for t in kb.trials.values() if t.status == "ongoing")
    return {
        "rec": rec, "patient": patient, "patient_json": patient_json, "token": encode_patient(patient_json),
        "board": build_board(rec, patient=patient, kb=kb), "cards": trial_cards(rec), "ongoing_trials": ongoing,
        "projection": projection,
        "safety_gate_ids": {g.id for g in kb.safety.gates}, "section": "patient",
    }
