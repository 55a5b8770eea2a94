"""Evidence citations: trial design, numbers and this patient's fit to the trial."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mbcpath.domain.recommendation import Criterion, EndpointSummary, EvidenceRef, Status, TrialFit
from mbcpath.facts.words import explain
from mbcpath.kb.models import Endpoint, Trial
from mbcpath.rules.conditions import Condition, compile_condition

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


def criterion_status(crit_id: str, text: str, cond: Condition, sources: tuple[str, ...] | list[str],
                     facts: Mapping[str, Any], memo: dict[Any, Any] | None = None) -> tuple[Criterion, bool | None]:
    """Evaluate one criterion and explain it in clinical words (an unknown value is never 'met').

    With ``memo`` (the plan's), the explained criterion is built once per pattern of the values it reads
    and shared (read-only) between answers.
    """
    key = None
    if memo is not None:
        key = ("crit", crit_id, text, cond.source, tuple(sources), tuple(_hashable(facts.get(f)) for f in cond.facts))
        hit = memo.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
    v = cond.evaluate(facts)
    detail = explain(cond.facts, facts)
    out = (Criterion.model_construct(id=crit_id, text=text, status=_status(v), detail=detail,
                                     sources=list(sources)), v)
    if memo is not None:
        if len(memo) >= _MEMO_MAX:  # bounded: a long cohort run never grows it without limit
            memo.clear()
        memo[key] = out
    return out


_MEMO_MAX = 200_000


def _hashable(v: Any) -> Any:
    return tuple(sorted(v)) if isinstance(v, (set, frozenset)) else v


def trial_fit(trial: Trial, facts: Mapping[str, Any], memo: dict[Any, Any] | None = None) -> TrialFit:
    """Evaluate the trial's structured eligibility for this patient (the whole history).

    ``fits`` is False if any criterion is not met (the criteria say which), None if any is
    unknown (which datum), else True. Criteria without a condition are not evaluated.
    """
    crits: list[Criterion] = []
    verdicts: list[bool | None] = []
    for c in trial.eligibility:
        if c.condition is None:
            continue
        crit, v = criterion_status(c.id, c.text, compile_condition(c.condition), c.sources, facts, memo)
        verdicts.append(v)
        crits.append(crit)
    if any(v is False for v in verdicts):
        fits: bool | None = False
    elif any(v is None for v in verdicts) or not verdicts:
        fits = None
    else:
        fits = True
    if memo is None:
        return TrialFit.model_construct(fits=fits, criteria=crits)
    key = ("fit", trial.id, *((c.id, c.status, c.detail, tuple(c.sources)) for c in crits))
    hit = memo.get(key)
    if hit is None:
        hit = memo[key] = TrialFit.model_construct(fits=fits, criteria=crits)
    return hit  # type: ignore[no-any-return]


def fit_facts(trial: Trial) -> tuple[str, ...]:
    """The facts the trial's eligibility reads."""
    return tuple(sorted({f for c in trial.eligibility if c.condition for f in compile_condition(c.condition).facts}))


def _status(v: bool | None) -> Status:
    return "unknown" if v is None else ("met" if v else "not_met")
