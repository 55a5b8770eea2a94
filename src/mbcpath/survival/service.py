"""The projection service behind ``POST /api/v1/projections`` and ``mbcpath project``.

``project_for(patient, kb)`` recommends and projects in one call; it is
thread-safe (the shared fit store and network cache lock their own state; each
call keeps everything else local), so a web server can run it off the event
loop, in a worker thread. ``warm(kb)`` does at start-up everything a first
request would otherwise pay for: importing numpy/scipy, rebuilding every fit
from the checked-in artefact (:mod:`~mbcpath.survival.artefact`), and analysing
every decision point's network. No request ever fits a model.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from mbcpath.survival.evidence import ENDPOINTS, SETTINGS
from mbcpath.survival.projection import ProjectionResult, project_options

__all__ = ["project_for", "project_recommendation", "warm"]

_WARM: set[int] = set()
_WARM_LOCK = threading.Lock()

#: a first-line patient whose projection, run once at start-up, takes every code path a request takes
_WARM_PATIENT: dict[str, Any] = {
    "id": "warm-up", "age_years": 56, "sex": "female", "menopausal_status": "postmenopausal", "ecog": 0,
    "her2": {"ihc": "3+", "ish": None}, "er_percent": 85, "pr_percent": 40, "presentation": "de_novo",
    "metastatic_diagnosis_months_ago": 0, "metastatic_sites": ["bone", "liver"], "visceral_crisis": False,
    "brain_metastases": "none", "extracranial_progression": None, "lvef_percent": 62, "ild_history": "none",
    "qtcf_ms": 420, "neuropathy_grade": 0, "pregnant": False, "treatments": []}


def warm(kb: Any) -> dict[str, Any]:
    """Prepare the fits and networks for ``kb`` (idempotent, thread-safe); returns what was done and how long."""
    from mbcpath.survival.artefact import default_store
    from mbcpath.survival.network import network_for

    start = time.perf_counter()
    with _WARM_LOCK:
        if id(kb) in _WARM:
            return {"seconds": 0.0, "stale_fits": list(default_store(kb).stale)}
        store = default_store(kb)
        for dp in SETTINGS:
            for ep in ENDPOINTS:
                network_for(kb, dp, ep)
        _WARM.add(id(kb))
    _exercise(kb)
    return {"seconds": round(time.perf_counter() - start, 3), "stale_fits": list(store.stale)}


def _exercise(kb: Any) -> None:
    """Recommend and project one built-in patient: imports and first-call costs are paid here, not by a request."""
    from mbcpath.domain.validation import parse_patient
    from mbcpath.errors import MbcpathError

    try:
        project_for(parse_patient(_WARM_PATIENT), kb)
    except (MbcpathError, ImportError):
        return


def project_recommendation(recommendation: Any, kb: Any, *, patient: Any = None, **kwargs: Any) -> ProjectionResult:
    """Project the options of an existing recommendation (see :func:`project_options`)."""
    if id(kb) not in _WARM:
        warm(kb)
    return project_options(recommendation, kb, patient=patient, **kwargs)


def project_for(patient: Any, kb: Any, *, engine: Any = None, **kwargs: Any) -> ProjectionResult:
    """Recommend for ``patient`` (a validated :class:`mbcpath.domain.patient.Patient`), then project each
    option. ``engine`` defaults to :func:`mbcpath.engine.recommend`."""
    if engine is None:
        from mbcpath.engine import recommend as engine
    rec = engine(patient, kb)
    return project_recommendation(rec, kb, patient=patient, **kwargs)
