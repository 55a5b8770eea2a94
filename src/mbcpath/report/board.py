"""The tumour-board view of one recommendation: what a board needs on one screen.

:func:`build_board` turns a :class:`~mbcpath.domain.recommendation.Recommendation` into
plain, pre-formatted values: a strip of the safety-relevant findings, the safety stops,
one row per option (rank, category and guideline tier with its source, key trial, median
PFS/OS with the hazard ratio, the absolute difference at 2 years from the same trial,
the main grade >= 3 toxicity, the patient's fit to the key trial, the unknown data the
option rests on), the conflicts, the missing data and the trial matches.

Nothing here decides anything: every value is read from the recommendation, the patient
or the knowledge base record that the recommendation cites. Where the engine leaves a
field empty (safety stops, tiers, "depends on unknown data"), the board falls back to
what the recommendation already says (excluded regimens with a safety gate; option
criteria whose status is unknown) and never invents a value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mbcpath.report.labels import CATEGORIES, DECISION_POINTS, TIERS, num

__all__ = ["Board", "BoardRow", "FitBadge", "Landmark", "Median", "StopLine", "StripItem", "TrialMatchLine",
           "build_board"]

StripState = Literal["ok", "flag", "unknown"]


@dataclass(frozen=True)
class StripItem:
    """One safety-relevant finding of the patient strip (LVEF, ILD, QTcF, brain, pregnancy)."""

    key: str
    label: str
    value: str
    state: StripState


@dataclass(frozen=True)
class StopLine:
    """A hard stop (or label warning) stated once, with the regimens it removed."""

    gate: str
    text: str
    severity: Literal["stop", "warning"] = "stop"
    regimens: tuple[str, ...] = ()
    overridable: bool = False
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Median:
    """Median PFS or OS of the key trial's compared arms (this option's arm first), with the hazard ratio.

    ``hr`` reads as the trial reported it (``reported``: experimental vs control); ``hr_for_comparator``
    says that the option's own arm is the control of that comparison.
    """

    endpoint: str
    values: str
    comparison: str
    reported: str = ""
    hr: str = ""
    hr_for_comparator: bool = False
    verified: bool = True


@dataclass(frozen=True)
class Landmark:
    """An absolute difference at a landmark (percentage points), own arm minus the comparator."""

    endpoint: str
    months: float
    difference: str
    values: str
    basis: str


@dataclass(frozen=True)
class FitBadge:
    """Would the patient have met the key trial's eligibility (and which criterion says no / is unknown)?"""

    state: Literal["fits", "outside", "unknown"]
    text: str
    detail: str = ""


@dataclass(frozen=True)
class BoardRow:
    """One option as the board table shows it."""

    rank: int
    name: str
    regimen_id: str
    category: str
    category_label: str
    tier_label: str
    tier_source: str
    tier_unverified: str
    key_trial: str | None
    key_support: str
    key_basis: str
    pfs: Median | None
    os: Median | None
    landmark: Landmark | None
    toxicity: str
    fit: FitBadge | None
    depends_on_unknown: tuple[str, ...]
    chemotherapy_free: bool
    summary: str
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class TrialMatchLine:
    """An ongoing trial checked against the patient."""

    trial: str
    title: str
    registry: str | None
    status: str
    phase: str | None
    verdict: str
    verdict_label: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Board:
    """Everything the board view and the report's first page show."""

    patient_id: str
    decision_point: str
    decision_point_basis: str
    out_of_scope: str | None
    strip: tuple[StripItem, ...]
    stops: tuple[StopLine, ...]
    rows: tuple[BoardRow, ...]
    conflicts: tuple[str, ...]
    missing_data: tuple[str, ...]
    provisional: bool
    trial_matches: tuple[TrialMatchLine, ...]
    kb_release: str
    engine_version: str
    as_of: str | None
    disclaimer: str
    categories: tuple[str, ...] = field(default_factory=tuple)


def build_board(rec: Any, *, patient: Any = None, kb: Any = None, projections: Any = None) -> Board:
    """The board of ``rec``, for ``patient`` (strip values), with ``kb`` records for arms, landmark rates and
    toxicities, and ``projections`` for 2-year differences that the trial did not publish.

    Parameters
    ----------
    rec : Recommendation
        The engine's answer.
    patient : Patient, optional
        The patient the answer is for; without it the strip is empty.
    kb : KnowledgeBase, optional
        Trial records (arm regimens, landmark rates, grade >= 3 toxicities) and source verification.
    projections : Projections, optional
        Differences at 24 months from a within-trial or anchored comparison (never a cross-trial one).

    Returns
    -------
    Board
        Pre-formatted values; the templates only lay them out.
    """
    stops = _stops(rec, kb)
    rows = tuple(_row(o, kb, projections) for o in rec.options)
    provisional = bool(rec.provisional) or any(r.depends_on_unknown for r in rows)
    dp = rec.decision_point.value if rec.decision_point is not None else None
    return Board(
        patient_id=rec.patient_id, decision_point=DECISION_POINTS.get(dp or "", "not determined"),
        decision_point_basis=rec.decision_point_basis, out_of_scope=rec.out_of_scope,
        strip=_strip(patient, stops, rec.safety_stops), stops=stops, rows=rows,
        conflicts=tuple(rec.conflicts), missing_data=tuple(rec.missing_data), provisional=provisional,
        trial_matches=tuple(_match(m) for m in rec.trial_matches), kb_release=rec.kb_release,
        engine_version=rec.engine_version, as_of=rec.as_of, disclaimer=rec.disclaimer,
        categories=tuple(dict.fromkeys(r.category for r in rows)),
    )


# --------------------------------------------------------------------------- patient strip
_TOPICS = {"lvef": ("lvef", "cardiac", "heart"), "ild": ("ild", "pneumonitis"), "qtcf": ("qt",),
           "brain": ("brain", "cns", "leptomening"), "pregnancy": ("pregnan",)}
_ILD = {"none": "none", "grade1": "grade 1 history", "grade2_or_higher": "grade ≥ 2 history", "active": "active"}
_BRAIN = {"none": "none", "stable_treated": "stable, treated", "active": "active", "symptomatic": "symptomatic"}


def _value(x: Any) -> Any:
    return getattr(x, "value", x)


def _strip(patient: Any, stops: Sequence[StopLine], engine_stops: Iterable[Any]) -> tuple[StripItem, ...]:
    """LVEF, ILD, QTcF, brain status and pregnancy; an item is flagged when a stop or label warning names it."""
    if patient is None:
        return ()
    words = " ".join([*(f"{s.gate} {s.text}" for s in stops),
                      *(f"{s.gate} {s.text}" for s in engine_stops)]).lower()
    values = {
        "lvef": ("LVEF", _lvef(patient)),
        "ild": ("ILD / pneumonitis", _ILD.get(_value(patient.ild_history) or "", None)),
        "qtcf": ("QTcF", None if patient.qtcf_ms is None else f"{num(patient.qtcf_ms, 0)} ms"),
        "brain": ("Brain metastases", _brain(patient)),
        "pregnancy": ("Pregnancy", _pregnancy(patient)),
    }
    items = []
    for key, (text, value) in values.items():
        state: StripState = "unknown" if value is None else "ok"
        if any(w in words for w in _TOPICS[key]):
            state = "flag"
        items.append(StripItem(key=key, label=text, value=value or "unknown", state=state))
    return tuple(items)


def _lvef(patient: Any) -> str | None:
    if patient.lvef_percent is None:
        return None
    text = f"{num(patient.lvef_percent)}%"
    baseline = getattr(patient, "lvef_baseline_percent", None)
    return f"{text} (baseline {num(baseline)}%)" if baseline is not None else text


def _brain(patient: Any) -> str | None:
    sites = {_value(s) for s in patient.metastatic_sites}
    text = _BRAIN.get(_value(patient.brain_metastases) or "")
    if "leptomeningeal" in sites:
        return f"{text}; leptomeningeal disease" if text else "leptomeningeal disease"
    return text


def _pregnancy(patient: Any) -> str | None:
    if _value(patient.sex) == "male":
        return "not applicable"
    if patient.pregnant is None:
        return None
    if not patient.pregnant:
        return "not pregnant"
    trimester = getattr(patient, "pregnancy_trimester", None)
    return f"pregnant (trimester {trimester})" if trimester else "pregnant"


# --------------------------------------------------------------------------- safety stops
def _regimens_of(gate: str, names: dict[str, list[str]]) -> tuple[str, ...]:
    """Regimens excluded by ``gate``; a label dimension's line (``label:lvef``) covers each drug's rule
    (``label:<drug>:lvef:<i>``)."""
    if not gate.startswith("label:"):
        return tuple(names.get(gate, ()))
    dim = gate.split(":")[1]
    hits = [n for g, ns in names.items() if g.startswith("label:") and g.split(":")[2:3] == [dim] for n in ns]
    return tuple(dict.fromkeys(hits))


def _stops(rec: Any, kb: Any) -> tuple[StopLine, ...]:
    """The engine's safety stops; where it gives none, the hard stops among the excluded regimens, one per gate."""
    names = _names_by_gate(rec.excluded)
    if rec.safety_stops:
        return tuple(StopLine(gate=s.gate, text=s.text, severity=s.severity, overridable=s.overridable,
                              regimens=_regimens_of(s.gate, names) or tuple(s.drugs), sources=tuple(s.sources))
                     for s in rec.safety_stops)
    texts: dict[str, str] = {}
    overridable: dict[str, bool] = {}
    for x in rec.excluded:
        if x.kind != "safety":
            continue
        if len(x.gates) == len(x.reasons):  # the reasons line up with the gates
            for gate, reason in zip(x.gates, x.reasons, strict=True):
                texts.setdefault(gate, reason)
        for gate in x.gates:
            overridable[gate] = overridable.get(gate, False) or x.overridable
    return tuple(StopLine(gate=g, text=t, regimens=tuple(names.get(g, ())), overridable=overridable.get(g, False),
                          sources=_gate_sources(kb, g))
                 for g, t in texts.items() if _is_condition_gate(kb, g))


def _names_by_gate(excluded: Iterable[Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for x in excluded:
        for gate in x.gates:
            out.setdefault(gate, []).append(x.name or x.regimen_id)
    return out


def _gate(kb: Any, gate_id: str) -> Any:
    if kb is None:
        return None
    return next((g for g in kb.safety.gates if g.id == gate_id), None)


def _is_condition_gate(kb: Any, gate_id: str) -> bool:
    """A clinical hard stop (not the formulary, a restricted drug or the exposure rule); without a KB, any gate."""
    gate = _gate(kb, gate_id)
    return gate is None or gate.kind == "condition"


def _gate_sources(kb: Any, gate_id: str) -> tuple[str, ...]:
    gate = _gate(kb, gate_id)
    return tuple(gate.sources) if gate is not None else ()


# --------------------------------------------------------------------------- option rows
def _row(o: Any, kb: Any, projections: Any) -> BoardRow:
    ev = _key_evidence(o.evidence)
    trial = _trial(kb, ev.trial) if ev is not None else None
    direct = ev is not None and ev.support == "direct"
    own = _own_arm(trial, o.regimen_id) if direct else None
    support, basis = (ev.support, ev.basis) if ev is not None else ("", "")
    if direct and trial is not None and own is None:
        # the trial record has no arm with this regimen: its numbers are not this option's
        direct, support = False, "indirect"
        basis = basis or f"{trial.id} has no arm with this regimen; its results are not shown as this option's"
    tier_label, tier_source, unverified = _tier(o, kb)
    return BoardRow(
        rank=o.rank, name=o.name, regimen_id=o.regimen_id, category=o.category.value,
        category_label=CATEGORIES.get(o.category.value, o.category.value), tier_label=tier_label,
        tier_source=tier_source, tier_unverified=unverified, key_trial=ev.trial if ev else None,
        key_support=support, key_basis=basis,
        pfs=_median(ev, "pfs", own, trial) if direct else None,
        os=_median(ev, "os", own, trial) if direct else None,
        landmark=(_published_landmark(trial, own) or _projected_landmark(projections, o.regimen_id)) if direct
        else None,
        toxicity=_toxicity(trial, own) if direct else "",
        fit=_fit(ev.fit) if ev is not None else None,
        depends_on_unknown=tuple(o.depends_on_unknown) or tuple(c.text for c in o.criteria if c.status == "unknown"),
        chemotherapy_free=bool(o.chemotherapy_free), summary=o.summary or (o.rationale[0] if o.rationale else ""),
        warnings=tuple(o.warnings),
    )


def _key_evidence(evidence: Sequence[Any]) -> Any:
    """The first trial in which the option's own regimen was an arm; else the first trial cited (indirect)."""
    return next((e for e in evidence if e.support == "direct"), evidence[0] if evidence else None)


def _trial(kb: Any, name: str) -> Any:
    if kb is None:
        return None
    try:
        return kb.trial(name)
    except KeyError:
        return None


def _own_arm(trial: Any, regimen_id: str) -> str | None:
    """The trial arm that tested the option's regimen (None when the record does not say)."""
    if trial is None:
        return None
    arms = [a.id for a in trial.arms if a.regimen == regimen_id]
    return arms[0] if len(arms) == 1 else None


def _arm_labels(trial: Any) -> dict[str, str]:
    return {a.id: a.label for a in trial.arms} if trial is not None else {}


def _median(ev: Any, endpoint: str, own: str | None, trial: Any) -> Median | None:
    """``40.7 vs 26.9 mo`` (own arm first when known) with ``HR 0.56 (95% CI ...)`` as the trial reported it."""
    summary = next((e for e in ev.endpoints if e.endpoint == endpoint and e.arms), None)
    if summary is None:
        return None
    arms = list(summary.arms)
    if own in arms:
        arms.remove(own)
        arms.insert(0, own)
    labels = _arm_labels(trial)
    reported = " vs ".join(labels.get(a, a) for a in summary.arms) if labels else _comparison_from_text(
        summary.text)
    values = " vs ".join(num(summary.arms[a]) for a in arms)
    comparison = " vs ".join(labels.get(a, a) for a in arms) if labels else reported
    hr = ""
    if summary.hr is not None:
        ci = summary.hr_ci95
        hr = f"HR {num(summary.hr, 2)}" + (f" ({num(ci[0], 2)}–{num(ci[1], 2)})" if ci else "")
    # a hazard ratio reads in the trial's order (experimental vs control)
    for_comparator = bool(hr) and own is not None and own != next(iter(summary.arms))
    return Median(endpoint=endpoint.upper(), values=values, comparison=comparison, reported=reported, hr=hr,
                  hr_for_comparator=for_comparator, verified=summary.verified)


def _comparison_from_text(text: str) -> str:
    """The arms named in the engine's endpoint sentence (``... [A vs B; analysis]``)."""
    if text.endswith("]") and " [" in text:
        return text[:-1].rsplit(" [", 1)[1].split(";")[0].strip()
    return ""


def _published_landmark(trial: Any, own: str | None, months: float = 24.0) -> Landmark | None:
    """The trial's own landmark rates at ``months`` for the option's arm and its comparator (percentage points).

    References
    ----------
    The rates are the published Kaplan-Meier estimates the KB record cites (e.g. DESTINY-Breast09: 24-month
    PFS 70.1% vs 52.1%, Tolaney et al., N Engl J Med 2025); the difference is their plain subtraction.
    """
    if trial is None or own is None:
        return None
    for endpoint in ("pfs", "os"):
        for e in trial.endpoints:
            if e.endpoint not in (endpoint, f"{endpoint}_rate") or e.rate_at_months != months:
                continue
            others = [a for a in (e.arms or list(e.rates)) if a != own and a in e.rates]
            if own in e.rates and len(others) == 1 and e.verified:
                diff = e.rates[own] - e.rates[others[0]]
                return Landmark(endpoint=endpoint.upper(), months=months, difference=f"{diff:+.1f} pts",
                                values=f"{num(e.rates[own])}% vs {num(e.rates[others[0]])}%",
                                basis=f"{trial.id}, published {num(months, 0)}-month rates")
    return None


def _projected_landmark(projections: Any, regimen_id: str, months: float = 24.0) -> Landmark | None:
    """A projected difference at ``months`` from a within-trial or anchored comparison, never a cross-trial one."""
    if projections is None:
        return None
    for d in getattr(projections, "differences", ()):
        if d.option != regimen_id or d.months != months or str(d.comparison).startswith("cross-trial"):
            continue
        return Landmark(endpoint=d.endpoint.upper(), months=months, difference=f"{d.difference * 100:+.1f} pts",
                        values=f"vs {d.reference}", basis=f"projected, {d.comparison}")
    return None


_AGGREGATE = ("adverse event", "serious", "discontinuation", "toxic death", "drug-related adverse")


def _toxicity(trial: Any, own: str | None) -> str:
    """The most frequent specific grade >= 3 event of the option's arm (else the arm's any grade >= 3 rate)."""
    if trial is None or own is None:
        return ""
    severe = [x for x in trial.toxicities if x.grade in (">=3", "3", "3-4") and own in x.rates]
    specific = [x for x in severe if not x.event.lower().startswith(_AGGREGATE)]
    pool = specific or severe
    if not pool:
        return ""
    top = max(pool, key=lambda x: x.rates[own])
    grade = " (grade 3)" if top.grade == "3" else ""
    return f"{top.event} {num(top.rates[own])}%{grade}{'' if top.verified else ' (unverified)'}"


def _tier(o: Any, kb: Any) -> tuple[str, str, str]:
    """Guideline tier (or the category) with the statement it rests on, and which of the statements it rests on
    (the tier's; without a tier, any of the option's) could not be verified in stored sources."""
    refs = list(o.guidelines)
    if o.tier is not None:
        label = TIERS.get(o.tier.label, o.tier.label)
        picked = [g for g in refs if g.id in o.tier.statements] or refs[:1]
        source = o.tier.text or _ref_text(picked[:1])
    else:
        label = CATEGORIES.get(o.category.value, o.category.value)
        picked = refs
        source = _ref_text(refs[:1])
    return label, source or "no guideline statement", _unverified(kb, picked)


def _ref_text(refs: Sequence[Any]) -> str:
    if not refs:
        return ""
    g = refs[0]
    text = g.body + (f" {g.date[:4]}" if g.date and g.date[:4].isdigit() else "")
    return f"{text}, {g.rating}" if g.rating else text


def _unverified(kb: Any, refs: Sequence[Any]) -> str:
    """``"NCCN statement not verified"`` for statements (or their sources) marked unverified in the KB; else ""."""
    if kb is None:
        return ""
    statements = kb.statements
    bad = [g for g in refs
           if (g.id in statements and not statements[g.id][1].verified)
           or any(k in kb.sources and not kb.sources[k].verified for k in g.sources)]
    if not bad:
        return ""
    bodies = ", ".join(dict.fromkeys(g.body for g in bad))
    return f"{bodies} statement{'s' if len(bad) > 1 else ''} not verified in stored sources"


def _fit(fit: Any) -> FitBadge:
    if fit is None or fit.fits is None:
        unknown = [c.text for c in (fit.criteria if fit else ()) if c.status == "unknown"]
        return FitBadge("unknown", "fit unknown", f"unknown: {unknown[0]}" if unknown else "")
    if fit.fits:
        return FitBadge("fits", "fits trial")
    failed = [c.text for c in fit.criteria if c.status == "not_met"]
    return FitBadge("outside", "outside trial", f"not met: {failed[0]}" if failed else "")


# --------------------------------------------------------------------------- trial matches
_VERDICTS = {"eligible": "Eligible", "not_eligible": "Not eligible", "unknown": "Eligibility unknown"}


def _match(m: Any) -> TrialMatchLine:
    reasons = tuple(m.reasons) or tuple(
        ("not met: " if c.status == "not_met" else "unknown: ") + c.text
        for c in m.criteria if c.status != "met")
    return TrialMatchLine(trial=m.trial, title=m.title, registry=m.nct, status=m.status or "status not stated",
                          phase=m.phase, verdict=m.verdict, verdict_label=_VERDICTS[m.verdict], reasons=reasons)
