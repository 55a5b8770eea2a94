"""Evidence citations: trial design, numbers and this patient's fit to the trial."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mbcpath.domain.recommendation import Criterion, EndpointSummary, EvidenceRef, Status, TrialFit
from mbcpath.kb.models import Endpoint, Trial
from mbcpath.rules.conditions import compile_condition

_ENDPOINT_LABEL = {"pfs": "PFS", "os": "OS", "orr": "ORR", "cns_pfs": "CNS-PFS", "cns_orr": "CNS ORR",
                   "ttp": "TTP", "ttf": "TTF", "dor": "DoR", "cbr": "CBR", "pfs_rate": "PFS rate",
                   "os_rate": "OS rate", "cns_pfs_rate": "CNS-PFS rate"}


def _num(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:g}"
    return str(x)


def endpoint_text(trial: Trial, e: Endpoint) -> str:
    """One line a clinician can read: '40.7 vs 26.9 months; HR 0.56 (0.44-0.71)'."""
    arm_label = {a.id: a.label for a in trial.arms}
    parts: list[str] = []
    if e.medians:
        keys = [a for a in (e.arms or list(e.medians)) if a in e.medians]
        parts.append(" vs ".join(_num(e.medians[k]) for k in keys) + " months (median)")
    if e.rates:
        keys = [a for a in (e.arms or list(e.rates)) if a in e.rates]
        at = f" at {_num(e.rate_at_months)} months" if e.rate_at_months else ""
        parts.append(" vs ".join(f"{_num(e.rates[k])}%" for k in keys) + at)
    if e.hr is not None:
        ci = f" ({_num(e.hr_ci95[0])}-{_num(e.hr_ci95[1])})" if e.hr_ci95 else ""
        parts.append(f"HR {_num(e.hr)}{ci}")
    if e.p:
        parts.append(f"p {e.p}" if e.p[:1] in "<>=" else f"p = {e.p}")
    arms = " vs ".join(arm_label.get(a, a) for a in e.arms) if len(e.arms) > 1 else ""
    label = _ENDPOINT_LABEL.get(e.endpoint, e.endpoint)
    head = f"{label}{' (' + e.assessment + ')' if e.assessment else ''}"
    tail = f" [{arms}; {e.analysis}]" if arms else f" [{e.analysis}]"
    flag = "" if e.verified else " (unverified value)"
    return f"{head}: {'; '.join(parts) or (e.note or 'not reported')}{tail}{flag}"


def _cited_endpoints(trial: Trial) -> list[Endpoint]:
    used = [e for e in trial.endpoints if e.engine_uses]
    if used:
        return used
    order = ["pfs", "os", "cns_orr", "orr", "pfs_rate", "cns_pfs_rate", "cns_pfs", "ttp"]
    for name in order:
        found = [e for e in trial.endpoints if e.endpoint == name and e.verified]
        if found:
            return found[:1]
    return []


def static_evidence(trial: Trial, role: str) -> EvidenceRef:
    """The patient-independent part of a citation (built once per KB)."""
    endpoints = [
        EndpointSummary(endpoint=e.endpoint, analysis=e.analysis,
                        arms={k: (v if isinstance(v, str) else float(v)) for k, v in e.medians.items()},
                        hr=e.hr, hr_ci95=e.hr_ci95, p=e.p, text=endpoint_text(trial, e),
                        verified=e.verified, sources=list(e.sources))
        for e in _cited_endpoints(trial)
    ]
    tox = "; ".join(
        f"{t.event} ({t.grade}): " + " vs ".join(f"{_num(v)}%" for v in t.rates.values())
        for t in trial.toxicities[:3]
    )
    pub = trial.publications[0].citation if trial.publications else ""
    return EvidenceRef(
        trial=trial.id, title=trial.title, phase=trial.phase, randomized=trial.randomized,
        n=trial.n.value if trial.n else None, design=trial.design, role=role, endpoints=endpoints,
        toxicity=tox, esmo_mcbs=trial.esmo_mcbs.score if trial.esmo_mcbs else None, publication=pub,
        status=trial.status, sources=list(trial.sources),
    )


_MEMO: dict[tuple[Any, ...], tuple[Criterion, bool | None]] = {}
_MEMO_MAX = 100_000


def evaluate_criterion(crit: Any, facts: Mapping[str, Any]) -> tuple[Criterion, bool | None]:
    """Evaluate a KB criterion (``id``, ``text``, ``condition``, ``sources``) for these facts.

    Results are memoised on the values of the facts the condition reads, so a cohort with
    recurring fact patterns builds each explanation once; the returned objects are shared
    and must not be mutated.
    """
    cond = compile_condition(crit.condition)
    key = (crit.id, crit.text, crit.condition, tuple(crit.sources), tuple(facts.get(f) for f in cond.facts))
    hit = _MEMO.get(key)
    if hit is not None:
        return hit
    v = cond.evaluate(facts)
    out = (Criterion.model_construct(id=crit.id, text=crit.text, status=_status(v), detail=cond.explain(facts),
                                     sources=list(crit.sources)), v)
    if len(_MEMO) >= _MEMO_MAX:
        _MEMO.clear()
    _MEMO[key] = out
    return out


_FIT_MEMO: dict[tuple[Any, ...], TrialFit] = {}
_CITED_MEMO: dict[tuple[Any, ...], EvidenceRef] = {}


_FIT_FACTS: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}


def _fit_key(trial: Trial, facts: Mapping[str, Any]) -> tuple[Any, ...]:
    """The trial's eligibility conditions and the values of every fact they read."""
    conds = tuple(c.condition for c in trial.eligibility if c.condition is not None)
    names = _FIT_FACTS.get((trial.id, conds))
    if names is None:
        names = _FIT_FACTS[(trial.id, conds)] = tuple(
            sorted({f for text in conds for f in compile_condition(text).facts}))
    return (trial.id, conds, tuple(facts.get(n) for n in names))


def cited_evidence(static: EvidenceRef, trial: Trial, facts: Mapping[str, Any]) -> EvidenceRef:
    """``static`` (from :func:`static_evidence`) with this patient's fit to the trial.

    Memoised on the facts the eligibility reads; the returned objects are shared, read-only.
    """
    key = _fit_key(trial, facts)
    cited_key = (static.trial, static.role, key)
    hit = _CITED_MEMO.get(cited_key)
    if hit is None:
        fit = _FIT_MEMO.get(key)
        if fit is None:
            fit = _FIT_MEMO[key] = trial_fit(trial, facts)
        hit = static.model_copy(update={"fit": fit})
        if len(_CITED_MEMO) >= _MEMO_MAX:
            _CITED_MEMO.clear()
            _FIT_MEMO.clear()
        _CITED_MEMO[cited_key] = hit
    return hit


def trial_fit(trial: Trial, facts: Mapping[str, Any]) -> TrialFit:
    """Evaluate the trial's checkable eligibility criteria for this patient.

    ``fits`` is False if any criterion is not met, None if any is unknown, else True.
    Criteria without a condition are listed as 'unknown' only when nothing else decides.
    """
    crits: list[Criterion] = []
    verdicts: list[bool | None] = []
    for c in trial.eligibility:
        if c.condition is None:
            continue
        crit, v = evaluate_criterion(c, facts)
        verdicts.append(v)
        crits.append(crit)
    if any(v is False for v in verdicts):
        fits: bool | None = False
    elif any(v is None for v in verdicts) or not verdicts:
        fits = None
    else:
        fits = True
    return TrialFit.model_construct(fits=fits, criteria=crits)


def _status(v: bool | None) -> Status:
    return "unknown" if v is None else ("met" if v else "not_met")
