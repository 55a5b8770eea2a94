"""Real-world survival of a cohort: time on treatment per metastatic line, and overall survival.

Definitions (every record is one patient at one decision; times in the contract
count months back from that decision, "now"):

**A line of therapy** is every metastatic treatment with the same ``line``
number. It starts when its first treatment starts and ends when its last one
ends (induction and maintenance are one line); it is *ongoing* while any of its
treatments has no end. Its regimen is that of the treatment that started it (the
induction: docetaxel + trastuzumab + pertuzumab is ``thp`` even when trastuzumab
+ pertuzumab continue as maintenance), named by
:class:`~mbcpath.analytics.regimen_match.RegimenMatcher`. Metastatic treatments
without a line number are not counted (the number of such records is reported).

**Time on treatment** (real-world time to treatment discontinuation, rwTTD)
runs from the start of the line to its end. A line that ended is an event,
whatever the recorded reason (progression, toxicity, patient choice or planned
completion): rwTTD counts discontinuation for any reason, death included. A line
still ongoing at the record's decision is censored at the decision: the record
does not say whether it continued afterwards. The contract has no "death" stop
reason, so a death ends a line only through a later line's records.

**Overall survival** comes from the record's ``follow_up``: the months from the
metastatic diagnosis to the last contact, an event when the patient is not
alive. By regimen and by line it is counted from the start of the line
(``follow_up`` minus the months between the diagnosis and the line's start,
which needs ``metastatic_diagnosis_months_ago``), once per patient and group
(from the first such line); by decision point it is counted from the decision
itself. Time on treatment counts every line: a patient given the same regimen
in two lines contributes two observations to that group.

**Grouping**: ``regimen`` (the line's regimen), ``line`` (1, 2, 3+) or
``decision_point``: time on treatment of the lines a decision point starts (line
1: first line; line 2: second line; later lines: third line or later; a
maintenance phase: maintenance, from its own start to the end of the line), and
overall survival from the decision, grouped by the decision point the engine
gives the record.

Kaplan-Meier estimates come from lifelines with pointwise 95% confidence
intervals (Greenwood variance, log(-log) transform), numbers at risk every 6
months and the median with its 95% CI (Brookmeyer-Crowley, from the pointwise
band). Trial curves for the same regimens are the curves the projections draw
(:func:`mbcpath.survival.projection.option_curves`: reconstructed patient data
or families fitted to the published summaries); a real-world time on treatment
is compared with the trial's PFS, its closest trial endpoint, and real-world
overall survival with the trial's OS.

References
----------
Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. J Am Stat Assoc 1958;53:457-81.
Brookmeyer R, Crowley J. A confidence interval for the median survival time. Biometrics 1982;38:29-41.
Blumenthal GM, Gong Y, Kehl K, et al. Analysis of time-to-treatment discontinuation of targeted therapy,
immunotherapy, and chemotherapy in clinical trials of patients with non-small-cell lung cancer. Ann Oncol
2019;30:830-8 (TTD: start of treatment to discontinuation for any reason or death; closer to PFS, r = 0.87,
than to OS).
Walker B, Boyd M, Aguilar K, et al. Comparisons of real-world time-to-event end points in oncology research.
JCO Clin Cancer Inform 2021;5:45-6.
Saini KS, Twelves C. Determining lines of therapy in patients with solid cancers. Br J Cancer 2021;125:155-63.
Davidson-Pilon C. lifelines: survival analysis in Python. J Open Source Softw 2019;4:1317.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mbcpath.analytics.regimen_match import OTHER, RegimenMatcher
from mbcpath.errors import ModelError

By = Literal["regimen", "line", "decision_point"]
Endpoint = Literal["ttd", "os"]
BY_VALUES: tuple[str, ...] = ("regimen", "line", "decision_point")
ENDPOINTS: tuple[Endpoint, ...] = ("ttd", "os")
#: the trial endpoint each real-world endpoint is compared with
TRIAL_ENDPOINT: dict[str, str] = {"ttd": "pfs", "os": "os"}
ENDPOINT_LABEL: dict[str, str] = {"ttd": "Time on treatment", "os": "Overall survival"}
AT_RISK_STEP = 6.0
LINE_DECISION_POINT = {1: "first_line", 2: "second_line"}

__all__ = [
    "BY_VALUES",
    "ENDPOINTS",
    "KmCurve",
    "Line",
    "Observation",
    "RwSurvival",
    "TrialCurve",
    "kaplan_meier",
    "observations",
    "patient_lines",
    "rw_survival",
    "trial_curves",
]


# ============================================================================ lines and observations
@dataclass(frozen=True)
class Line:
    """One metastatic line of one patient (months before the decision)."""

    number: int
    drugs: tuple[str, ...]
    start: float
    end: float | None
    stop_reason: str | None
    maintenance_start: float | None = None

    @property
    def ongoing(self) -> bool:
        return self.end is None


@dataclass(frozen=True)
class Observation:
    """One time-to-event observation: ``time`` months, ``event`` True (False: censored)."""

    endpoint: Endpoint
    group: str
    time: float
    event: bool


def _val(x: object) -> str | None:
    return None if x is None else str(getattr(x, "value", x))


def patient_lines(patient: Any) -> list[Line]:
    """The patient's numbered metastatic lines, in line order (see the module's definitions)."""
    by_line: dict[int, list[Any]] = {}
    for t in patient.treatments:
        if _val(t.setting) == "metastatic" and t.line is not None:
            by_line.setdefault(int(t.line), []).append(t)
    return [_line(n, ts) for n, ts in sorted(by_line.items())]


def _line(number: int, ts: list[Any]) -> Line:
    first = max(ts, key=lambda t: (t.started_months_ago, _val(t.phase) != "maintenance"))
    ongoing = any(t.ended_months_ago is None for t in ts)
    last = None if ongoing else min(ts, key=lambda t: t.ended_months_ago)
    maint = [t.started_months_ago for t in ts if _val(t.phase) == "maintenance"]
    return Line(number=number, drugs=tuple(first.drugs), start=float(first.started_months_ago),
                end=None if last is None else float(last.ended_months_ago),
                stop_reason=None if last is None else _val(last.stop_reason),
                maintenance_start=max(maint) if maint else None)


def _line_group(number: int) -> str:
    return f"line {number}" if number < 3 else "line 3+"


def _ttd(line: Line, start: float, group: str) -> Observation:
    if line.end is None:
        return Observation("ttd", group, start, False)  # censored at the decision
    return Observation("ttd", group, start - line.end, True)


def _group_of(line: Line, by: str, matcher: RegimenMatcher) -> str:
    if by == "regimen":
        return matcher.label(line.drugs)
    if by == "line":
        return _line_group(line.number)
    return LINE_DECISION_POINT.get(line.number, "third_line_or_later")


def _line_ttds(line: Line, by: str, matcher: RegimenMatcher) -> list[Observation]:
    out = [_ttd(line, line.start, _group_of(line, by, matcher))]
    if by == "decision_point" and line.maintenance_start is not None:
        out.append(_ttd(line, line.maintenance_start, "maintenance"))
    return out


def _os_after(record: Any, months_ago: float) -> tuple[Observation | None, str | None]:
    """Overall survival from a moment ``months_ago`` before the decision (group filled in by the caller)."""
    fu = record.follow_up
    if fu is None:
        return None, "no follow_up (overall survival not counted)"
    dx = record.patient.metastatic_diagnosis_months_ago
    if dx is None:
        return None, "no metastatic_diagnosis_months_ago (overall survival cannot be dated)"
    time = float(fu.months_since_metastatic_diagnosis) - float(dx) + months_ago
    if time < 0:
        return None, "follow_up ends before the line or decision it is counted from"
    return Observation("os", "", time, not fu.alive), None


def observations(record: Any, by: str, matcher: RegimenMatcher,
                 decision_point: str | None = None) -> tuple[list[Observation], list[str]]:
    """Every observation one record contributes, and why any were left out.

    ``decision_point`` is the engine's decision point for the record (needed for OS by decision point).
    """
    out: list[Observation] = []
    why: list[str] = []
    lines = patient_lines(record.patient)
    if any(_val(t.setting) == "metastatic" and t.line is None for t in record.patient.treatments):
        why.append("metastatic treatments without a line number (not counted)")
    for line in lines:
        out += _line_ttds(line, by, matcher)
    if by == "decision_point":
        starts = [(decision_point, 0.0)] if decision_point else []
    else:  # a patient counts once per group: from the first line in it
        first: dict[str, float] = {}
        for line in lines:
            g = _group_of(line, by, matcher)
            first[g] = max(first.get(g, line.start), line.start)
        starts = list(first.items())
    for group, months_ago in starts:
        obs, reason = _os_after(record, months_ago)
        if obs is not None:
            out.append(Observation("os", group, obs.time, obs.event))
        elif reason is not None and reason not in why:
            why.append(reason)
    return out, why


# ============================================================================ Kaplan-Meier
class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AtRisk(_Out):
    months: float
    n: int


class KmCurve(_Out):
    """A real-world Kaplan-Meier curve with its pointwise 95% CI and numbers at risk."""

    endpoint: Endpoint
    group: str
    label: str
    n: int
    events: int
    times: list[float]
    survival: list[float]
    lower: list[float]
    upper: list[float]
    median: float | None = Field(None, description="months; null when not reached")
    median_ci95: tuple[float | None, float | None] = Field((None, None), description="null: not reached / "
                                                                                      "not estimable")
    at_risk: list[AtRisk] = Field(default_factory=list)
    max_time: float = 0.0


def _finite(x: Any) -> float | None:
    v = float(x)
    return round(v, 3) if math.isfinite(v) else None


def kaplan_meier(endpoint: Endpoint, group: str, times: Iterable[float], events: Iterable[bool],
                 *, label: str | None = None, step: float = AT_RISK_STEP) -> KmCurve:
    """Kaplan-Meier of one group (lifelines), with the 95% band, median (95% CI) and numbers at risk.

    References
    ----------
    Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457-81. Brookmeyer R, Crowley J. Biometrics 1982;38:29-41.
    """
    import numpy as np
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    t = np.asarray(list(times), dtype=float)
    e = np.asarray(list(events), dtype=bool)
    if t.size == 0:
        raise ModelError(f"group = {group!r}: no observations for a Kaplan-Meier curve")
    kmf = KaplanMeierFitter(alpha=0.05).fit(t, e, label="km")
    sf = kmf.survival_function_["km"]
    ci = kmf.confidence_interval_survival_function_
    med_ci = median_survival_times(kmf.confidence_interval_)
    max_t = float(t.max())
    marks = np.arange(0.0, max_t + 1e-9, step)
    return KmCurve(
        endpoint=endpoint, group=group, label=label or group, n=int(t.size), events=int(e.sum()),
        times=[round(float(x), 4) for x in sf.index], survival=[round(float(x), 5) for x in sf.to_numpy()],
        lower=[round(float(x), 5) for x in ci.iloc[:, 0].to_numpy()],
        upper=[round(float(x), 5) for x in ci.iloc[:, 1].to_numpy()],
        median=_finite(kmf.median_survival_time_),
        median_ci95=(_finite(med_ci.iloc[0, 0]), _finite(med_ci.iloc[0, 1])),
        at_risk=[AtRisk(months=float(m), n=int((t >= m).sum())) for m in marks], max_time=round(max_t, 3))


# ============================================================================ trial curves
class TrialCurve(_Out):
    """The trial curve the projections draw for a regimen (its own trial arm), for comparison."""

    regimen_id: str
    endpoint: Endpoint = Field(..., description="the real-world endpoint it is compared with")
    trial_endpoint: str
    trial: str
    label: str
    basis_kind: str
    times: list[float]
    survival: list[float]
    lower: list[float] | None = None
    upper: list[float] | None = None
    observed_until: float


def _regimen_option(kb: Any, regimen_id: str) -> Any:
    """A minimal option citing every trial with an arm of ``regimen_id`` (what the projections read)."""
    trials = [t.id for t in kb.trials.values() if any(a.regimen == regimen_id for a in t.arms)]
    name = kb.regimens[regimen_id].name if regimen_id in kb.regimens else regimen_id
    return SimpleNamespace(rank=1, regimen_id=regimen_id, name=name,
                           evidence=[SimpleNamespace(trial=t, support="direct") for t in trials])


def _trial_curve(kb: Any, regimen_id: str, endpoint: Endpoint, horizon: float) -> TrialCurve | str:
    """The regimen's trial curve, or why there is none."""
    import numpy as np

    from mbcpath.survival.comparisons import plan_endpoint
    from mbcpath.survival.projection import option_curves

    opt = _regimen_option(kb, regimen_id)
    ep = TRIAL_ENDPOINT[endpoint]
    rec = SimpleNamespace(decision_point=None, options=[opt], facts={})
    curves = option_curves(rec, kb, facts={}, endpoint=ep, n_draws=200, grid_max=horizon)
    c = curves.get(regimen_id)
    if c is None:
        skipped = plan_endpoint([opt], kb, ep, {}).skipped
        return skipped[0] if skipped else f"{regimen_id} {ep.upper()}: no trial curve"
    lower = upper = None
    if c.draws is not None:
        q = np.quantile(c.draws, [0.025, 0.975], axis=0)
        lower, upper = [round(float(x), 5) for x in q[0]], [round(float(x), 5) for x in q[1]]
    return TrialCurve(regimen_id=regimen_id, endpoint=endpoint, trial_endpoint=ep, trial=c.trial,
                      label=f"{regimen_id}: {c.trial} ({ep.upper()})", basis_kind=c.basis_kind,
                      times=[float(x) for x in c.grid], survival=[round(float(x), 5) for x in c.point],
                      lower=lower, upper=upper, observed_until=float(c.observed_until))


def trial_curves(kb: Any, regimen_ids: Iterable[str], endpoints: Iterable[Endpoint] = ENDPOINTS,
                 horizon: float = 60.0) -> tuple[list[TrialCurve], list[str]]:
    """Trial curves for the regimens (KB ids; ``other: ...`` groups have none), and a line per missing curve."""
    found: list[TrialCurve] = []
    missing: list[str] = []
    for ep in endpoints:
        for rid in regimen_ids:
            if rid.startswith(OTHER) or rid not in kb.regimens:
                missing.append(f"{rid}: not a regimen of the knowledge base, so no trial curve")
                continue
            got = _trial_curve(kb, rid, ep, horizon)
            if isinstance(got, str):
                missing.append(got)
            else:
                found.append(got)
    return found, list(dict.fromkeys(missing))


# ============================================================================ the whole cohort
class RwSurvival(_Out):
    """Real-world curves of a cohort, grouped one way, with the trial curves for the same regimens."""

    by: str
    kb_release: str | None = None
    records: int = 0
    rejected: int = 0
    curves: list[KmCurve] = Field(default_factory=list)
    trial_curves: list[TrialCurve] = Field(default_factory=list)
    no_trial_curve: list[str] = Field(default_factory=list)
    excluded: dict[str, int] = Field(default_factory=dict, description="records with a part left out, by reason")
    definitions: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def curve(self, endpoint: str, group: str) -> KmCurve | None:
        return next((c for c in self.curves if c.endpoint == endpoint and c.group == group), None)


DEFINITIONS = [
    "Time on treatment (real-world time to treatment discontinuation): from the start of a metastatic line to its "
    "end, an event whatever the stop reason; a line ongoing at the record's decision is censored there.",
    "Overall survival: from the start of the line (by regimen, by line) or from the decision (by decision point) to "
    "the last contact in follow_up, an event when the patient died.",
    "A line's regimen is that of the treatment that started it (the induction), matched to the knowledge base's "
    "regimens; drugs that match none are grouped as 'other: ...'.",
    "Trial curves restate trial populations: a real-world time on treatment is set beside the trial's PFS (its "
    "closest trial endpoint; Blumenthal 2019), real-world overall survival beside the trial's OS.",
]


class _Collect:
    """Times and events per (endpoint, group), in compact arrays (a large cohort stays small in memory)."""

    def __init__(self) -> None:
        self.times: dict[tuple[str, str], array[float]] = {}
        self.events: dict[tuple[str, str], array[int]] = {}
        self.excluded: Counter[str] = Counter()
        self.records = 0

    def add(self, obs: Iterable[Observation], why: Iterable[str]) -> None:
        self.records += 1
        for o in obs:
            key = (o.endpoint, o.group)
            self.times.setdefault(key, array("d")).append(o.time)
            self.events.setdefault(key, array("b")).append(int(o.event))
        self.excluded.update(why)


def _engine_decision_point(kb: Any) -> Callable[[Any], str | None]:
    from mbcpath.engine import recommend

    def dp(patient: Any) -> str | None:
        return _val(recommend(patient, kb).decision_point)

    return dp


def rw_survival(records: Iterable[Any], kb: Any, by: str, *, rejected: int = 0, with_trials: bool = True,
                min_n: int = 1, horizon: float = 60.0,
                decision_point_of: Callable[[Any], str | None] | None = None,
                progress: Callable[[int], None] | None = None) -> RwSurvival:
    """Real-world Kaplan-Meier curves of ``records`` (:class:`mbcpath.analytics.records.CohortRecord`).

    Parameters
    ----------
    records : validated cohort records (streamed: only times and events are kept).
    kb : the knowledge base (regimen names, trial curves, and the engine's decision point).
    by : ``regimen``, ``line`` or ``decision_point``.
    rejected : records refused by the reader (reported, not counted).
    with_trials : add the trial curves of the same regimens (``by = regimen`` only).
    min_n : groups with fewer observations are left out (and listed in the notes).
    decision_point_of : patient -> decision point (default: the per-patient engine), for ``by = decision_point``.
    progress : called with 1 after each record.

    References
    ----------
    See the module docstring (Kaplan-Meier 1958; Brookmeyer-Crowley 1982; Blumenthal 2019).
    """
    if by not in BY_VALUES:
        raise ModelError(f"by = {by!r}: must be one of {', '.join(BY_VALUES)}")
    matcher = RegimenMatcher(kb.regimens)
    dp_of = decision_point_of or (_engine_decision_point(kb) if by == "decision_point" else None)
    col = _Collect()
    for rec in records:
        obs, why = observations(rec, by, matcher, dp_of(rec.patient) if dp_of is not None else None)
        col.add(obs, why)
        if progress is not None:
            progress(1)
    out = RwSurvival(by=by, kb_release=kb.release.kb_release, records=col.records, rejected=rejected,
                     excluded=dict(sorted(col.excluded.items())), definitions=list(DEFINITIONS))
    out.curves = _curves(col, min_n, out.notes)
    if with_trials and by == "regimen":
        groups = sorted({c.group for c in out.curves})
        out.trial_curves, out.no_trial_curve = trial_curves(kb, groups, horizon=horizon)
    elif with_trials:
        out.notes.append("Trial curves are per regimen: group by regimen to set them beside the real-world curves.")
    return out


def _curves(col: _Collect, min_n: int, notes: list[str]) -> list[KmCurve]:
    out = []
    for (ep, group), times in sorted(col.times.items(), key=lambda kv: (ENDPOINTS.index(kv[0][0]), kv[0][1])):  # type: ignore[arg-type]
        if len(times) < min_n:
            notes.append(f"{ENDPOINT_LABEL[ep]}, {group}: {len(times)} observation(s), fewer than {min_n}: no curve")
            continue
        out.append(kaplan_meier(ep, group, times, [bool(x) for x in col.events[(ep, group)]]))  # type: ignore[arg-type]
    return out


def by_group(result: RwSurvival, endpoint: str) -> Mapping[str, KmCurve]:
    """The curves of one endpoint, by group."""
    return {c.group: c for c in result.curves if c.endpoint == endpoint}
