"""What the projections rest on, read from the knowledge base: analyses, published points, follow-up
windows, the trials an option cites directly, subgroups that fit a patient, and network contrasts.

Pure functions over KB models (:mod:`mbcpath.kb.models`); nothing here fits a
model. An *analysis* is one usable endpoint record of one trial (PFS or OS),
with the landmark-rate records of the same data cut-off. A trial supports an
option *directly* when the option's evidence does not mark it indirect and one
of the trial's arms is the option's regimen (``arms[].regimen``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mbcpath.errors import ModelError
from mbcpath.survival.summary_fit import SummaryPoint, landmark_se, se_log_from_ci, se_log_median

ENDPOINTS: tuple[str, ...] = ("pfs", "os")
_EXCLUDED_TYPES = ("subgroup", "pooled", "non_randomized")
_TYPE_ORDER = {"end_of_study": 0, "final": 1, "updated": 2, "primary": 3, "interim": 4, "cohort": 5}
#: decision point -> the trial settings whose randomised comparisons form its network
SETTINGS: dict[str, tuple[str, ...]] = {
    "first_line": ("first_line",), "maintenance": ("maintenance",), "second_line": ("second_line",),
    "third_line_or_later": ("third_line_or_later",), "cns_event": ("cns",)}

__all__ = [
    "ENDPOINTS",
    "SETTINGS",
    "Analysis",
    "NetworkContrast",
    "analyses_for_arm",
    "direct_trials",
    "landmark_records",
    "network_contrasts",
    "population_fits",
    "subgroups_for",
]


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) and x > 0 else None


# ----------------------------------------------------------------------------- populations
_BM = ("stable_treated", "active", "symptomatic")


def _brain_rule(text: str) -> tuple[set[str], str] | None:
    if "leptomening" in text or "isolated cns" in text:
        return None
    if "without brain" in text or "no brain" in text or "non-bm" in text:
        return {"none"}, "no brain metastases"
    if "brain" not in text:
        return None
    stable, active = "stable" in text, "active" in text
    if stable and active:
        return {"stable_treated", "active"}, "stable or active brain metastases"
    if stable:
        return {"stable_treated"}, "stable treated brain metastases"
    if active:
        return {"active", "symptomatic"}, "active brain metastases"
    return set(_BM), "brain metastases"


def population_fits(text: str | None, facts: Mapping[str, Any]) -> tuple[bool | None, str]:
    """Does a record's population (cohort or subgroup) describe this patient?

    Recognises brain-metastasis status, HR status and de novo vs recurrent
    presentation; anything else is ``None`` (not judged). Returns
    (fits, what was matched).
    """
    if not text:
        return True, "intention-to-treat population"
    low = text.lower()
    brain = _brain_rule(low)
    if brain is not None:
        status = facts.get("brain_metastases")
        return (None if status is None else status in brain[0]), brain[1]
    if re.search(r"\b(hr|hormone[- ]receptor)[- ]?(positive|\+)", low):
        hr = facts.get("hr_positive")
        return (None if hr is None else bool(hr)), "hormone-receptor-positive"
    if re.search(r"\b(hr|hormone[- ]receptor)[- ]?(negative|-)", low):
        hr = facts.get("hr_positive")
        return (None if hr is None else not hr), "hormone-receptor-negative"
    if "de novo" in low:
        dn = facts.get("de_novo")
        return (None if dn is None else bool(dn)), "de novo metastatic disease"
    if "recurrent" in low:
        dn = facts.get("de_novo")
        return (None if dn is None else not dn), "recurrent disease"
    return None, text


# ----------------------------------------------------------------------------- analyses
@dataclass(frozen=True)
class Analysis:
    """One usable endpoint record of one trial, with its landmark-rate records (same cut-off)."""

    trial: Any
    record: Any
    landmarks: tuple[Any, ...] = ()
    population: str = "intention-to-treat population"

    @property
    def endpoint(self) -> str:
        return str(self.record.endpoint)

    @property
    def arms(self) -> list[str]:
        return list(self.record.arms)

    @property
    def key(self) -> str:
        return f"{self.trial.id}|{self.endpoint}|{self.record.analysis}|{','.join(self.arms)}"

    @property
    def randomised(self) -> bool:
        return bool(self.trial.randomized) and len(self.arms) >= 2 and self.record.hr is not None

    @property
    def comparable(self) -> bool:
        """A randomised two-arm comparison with an HR and its CI: the arms can be fitted jointly."""
        return self.randomised and len(self.arms) == 2 and self.record.hr_ci95 is not None

    def arm(self, arm_id: str) -> Any:
        for a in self.trial.arms:
            if a.id == arm_id:
                return a
        raise ModelError(f"trial {self.trial.id}: arm {arm_id!r} not found")

    def arm_n(self, arm_id: str) -> int:
        arm = self.arm(arm_id)
        if arm.n is not None:
            return int(arm.n.value)
        if self.trial.n is not None and self.trial.arms:
            return max(1, int(self.trial.n.value) // len(self.trial.arms))
        return 100

    def sources(self) -> list[str]:
        out: list[str] = []
        for r in (self.record, *self.landmarks):
            out.extend(s for s in r.sources if s not in out)
        return out

    def landmark_values(self, arm_id: str) -> list[tuple[float, float]]:
        """(months, proportion) landmark rates of one arm, from the record and its rate records."""
        out: dict[float, float] = {}
        for r in (self.record, *self.landmarks):
            t = r.rate_at_months
            v = r.rates.get(arm_id) if r.rates else None
            if t and isinstance(v, int | float) and 0 < v < 100:
                out.setdefault(float(t), float(v) / 100)
        return sorted(out.items())

    def observed_until(self) -> tuple[float, str]:
        """Where the published data end: the median follow-up when the KB records it; otherwise the latest
        time the published results describe (a landmark, or the upper limit of a median's CI)."""
        fu = _num(self.record.followup_months)
        if fu is not None:
            return fu, f"median follow-up {fu:g} months ({self.record.analysis})"
        times = [t for a in self.arms for t, _ in self.landmark_values(a)]
        for a in self.arms:
            ci = (self.record.median_ci95 or {}).get(a)
            med = _num(self.record.medians.get(a))
            hi = _num(ci[1]) if ci else None
            times += [x for x in (hi, med if ci is None else None) if x is not None]
        if not times:
            raise ModelError(f"{self.key}: no follow-up, landmark or median time to bound the observed window")
        t = max(times)
        return t, (f"follow-up not recorded in the knowledge base: solid to {t:g} months, the latest time the "
                   "published results describe")

    def points(self, reference: str, other: str | None) -> list[SummaryPoint]:
        """Published points for a fit: the reference arm is arm 0, ``other`` (if given) arm 1 under PH."""
        pts: list[SummaryPoint] = []
        hr_se = self._hr_se() if other is not None else None
        for idx, arm_id in enumerate([reference] + ([other] if other else [])):
            pts.extend(self._arm_points(arm_id, idx, hr_se))
        if other is not None and hr_se is not None:
            hr = float(self.record.hr)
            if other != self.arms[0]:
                hr = 1 / hr  # the record's HR is arms[0] vs arms[1]
            pts.append(SummaryPoint("hr", 1, hr, hr_se, label=f"HR {self.record.hr:g} "
                                    f"(95% CI {self.record.hr_ci95[0]:g}-{self.record.hr_ci95[1]:g})",
                                    published_ci=True))
        return pts

    def _hr_se(self) -> float | None:
        ci = self.record.hr_ci95
        return se_log_from_ci(ci[0], ci[1]) if ci is not None and self.record.hr is not None else None

    def _arm_points(self, arm_id: str, idx: int, hr_se: float | None) -> list[SummaryPoint]:
        label = self.arm(arm_id).label
        n = self.arm_n(arm_id)
        pts = []
        med = _num(self.record.medians.get(arm_id))
        if med is not None:
            ci = (self.record.median_ci95 or {}).get(arm_id)
            se = se_log_median(med, _num(ci[0]) if ci else None, _num(ci[1]) if ci else None)
            how = "95% CI" if se is not None else ""
            from_ci = se is not None
            if se is None:
                se = hr_se / math.sqrt(2) if hr_se is not None else math.sqrt(2 / n)
                how = "SE from the HR's CI" if hr_se is not None else f"SE approximated from n = {n}"
            pts.append(SummaryPoint("median", idx, med, se, label=f"{label}: median {med:g} months ({how})",
                                    published_ci=from_ci))
        for t, s in self.landmark_values(arm_id):
            pts.append(SummaryPoint("landmark", idx, s, landmark_se(s, n), t=t,
                                    label=f"{label}: {s:.1%} at {t:g} months (n = {n})"))
        return pts


def _usable(rec: Any, ep: str) -> bool:
    return rec.endpoint == ep and bool(rec.medians or rec.rates or rec.hr)


def landmark_records(trial: Any, rec: Any) -> tuple[Any, ...]:
    rate_ep = f"{rec.endpoint}_rate"
    out = []
    for r in trial.endpoints:
        if r.endpoint != rate_ep or r.population != rec.population or not set(r.arms) & set(rec.arms):
            continue
        if rec.data_cutoff and r.data_cutoff and r.data_cutoff != rec.data_cutoff:
            continue
        if not rec.data_cutoff and not r.engine_uses:
            continue
        out.append(r)
    return tuple(out)


def analyses_for_arm(trial: Any, endpoint: str, arm_id: str, facts: Mapping[str, Any]) -> list[Analysis]:
    """Usable analyses of ``endpoint`` that include ``arm_id``: the ITT analyses the engine uses first
    (two-arm records with an HR before others), then cohorts whose population fits the patient."""
    itt, cohorts = [], []
    for rec in trial.endpoints:
        if not _usable(rec, endpoint) or arm_id not in rec.arms or not rec.engine_uses:
            continue
        if rec.analysis_type in _EXCLUDED_TYPES:
            continue
        if not rec.population:
            itt.append(Analysis(trial, rec, landmark_records(trial, rec)))
            continue
        fits, what = population_fits(rec.population, facts)
        if fits:
            cohorts.append(Analysis(trial, rec, landmark_records(trial, rec), population=what))
    itt.sort(key=lambda a: (not (len(a.arms) == 2 and a.record.hr is not None), len(a.arms)))
    return itt + cohorts


def direct_trials(option: Any, kb: Any) -> list[tuple[Any, Any]]:
    """(trial, arm) pairs that support ``option`` directly, in the option's citation order.

    A cited trial counts when its evidence entry is not marked ``support:
    indirect`` and one of its arms is the option's regimen
    (``kb/trials/*.yaml`` ``arms[].regimen``).
    """
    out: list[tuple[Any, Any]] = []
    seen: set[str] = set()
    for ev in getattr(option, "evidence", []):
        if getattr(ev, "support", "direct") == "indirect":
            continue
        trial = _lookup(kb, ev.trial)
        if trial is None or trial.id in seen:
            continue
        seen.add(trial.id)
        out.extend((trial, arm) for arm in trial.arms if arm.regimen == option.regimen_id)
    return out


def _lookup(kb: Any, name: str) -> Any | None:
    trials = getattr(kb, "trials", {})
    if name in trials:
        return trials[name]
    try:
        return kb.trial(name)
    except (KeyError, AttributeError):
        return None


# ----------------------------------------------------------------------------- subgroups
def subgroups_for(trial: Any, endpoint: str, arm_ids: Iterable[str], facts: Mapping[str, Any]
                  ) -> list[tuple[Any, str]]:
    """Subgroup or cohort records of ``endpoint`` (or its landmark rate) whose population fits the patient."""
    arms = set(arm_ids)
    out = []
    for rec in trial.endpoints:
        if rec.endpoint not in (endpoint, f"{endpoint}_rate") or not rec.population or not set(rec.arms) & arms:
            continue
        if rec.engine_uses and rec.analysis_type not in _EXCLUDED_TYPES:
            continue  # a cohort used as the main analysis, not a subgroup beside it
        fits, what = population_fits(rec.population, facts)
        if fits:
            out.append((rec, what))
    return out


# ----------------------------------------------------------------------------- network
@dataclass(frozen=True)
class NetworkContrast:
    """One contrast for the network: log HR of ``treat1`` vs ``treat2`` from one trial."""

    trial: str
    treat1: str
    treat2: str
    log_hr: float
    se: float
    analysis: str
    derived: bool = False
    note: str = ""


def _pick_records(trial: Any, endpoint: str) -> dict[tuple[str, str], Any]:
    """One HR record per arm pair: the one the engine uses, else the most mature."""
    cands: dict[tuple[str, str], list[Any]] = {}
    for rec in trial.endpoints:
        if rec.endpoint != endpoint or rec.population or rec.analysis_type in _EXCLUDED_TYPES:
            continue
        if rec.hr is None or rec.hr_ci95 is None or len(rec.arms) != 2:
            continue
        cands.setdefault((rec.arms[0], rec.arms[1]), []).append(rec)
    return {k: min(v, key=lambda r: (not r.engine_uses, _TYPE_ORDER.get(r.analysis_type, 9))) for k, v in cands.items()}


def _trial_contrasts(trial: Any, endpoint: str) -> list[NetworkContrast]:
    regimen = {a.id: a.regimen for a in trial.arms}
    out = []
    for (a0, a1), rec in sorted(_pick_records(trial, endpoint).items()):
        r0, r1 = regimen.get(a0), regimen.get(a1)
        if not r0 or not r1 or r0 == r1:
            continue
        out.append(NetworkContrast(trial.id, r0, r1, math.log(rec.hr), se_log_from_ci(*rec.hr_ci95), rec.analysis))
    return _complete_multiarm(trial.id, out)


def _complete_multiarm(trial_id: str, rows: list[NetworkContrast]) -> list[NetworkContrast]:
    """A multi-arm trial reporting each arm against a shared control only: add the missing contrasts.

    The derived contrast x vs y = (x vs c) - (y vs c) has variance
    var(x vs c) + var(y vs c) - 2 cov, the covariance being the variance of the
    shared control arm's log hazard, approximated as half the smaller contrast
    variance (equal information per arm; Woods et al. 2010).

    References
    ----------
    Woods BS, Hawkins N, Scott DA. Network meta-analysis on the log-hazard
    scale, combining count and hazard ratio statistics accounting for
    multi-arm trials: a tutorial. BMC Med Res Methodol 2010;10:54.
    """
    treats = {t for r in rows for t in (r.treat1, r.treat2)}
    k = len(treats)
    if len(rows) <= 1 or len(rows) == k * (k - 1) // 2:
        return rows
    controls = [t for t in treats if all(t in (r.treat1, r.treat2) for r in rows)]
    if not controls or len(rows) != k - 1:
        return rows[:1]  # cannot complete without a shared control: keep one contrast, no double counting
    c = controls[0]
    vs_c = {(r.treat1 if r.treat2 == c else r.treat2): (r.log_hr if r.treat2 == c else -r.log_hr, r.se**2)
            for r in rows}
    out = list(rows)
    names = sorted(vs_c)
    for i, x in enumerate(names):
        for y in names[i + 1:]:
            (lx, vx), (ly, vy) = vs_c[x], vs_c[y]
            var = vx + vy - 2 * (min(vx, vy) / 2)
            out.append(NetworkContrast(trial_id, x, y, lx - ly, math.sqrt(var), "derived from the shared control",
                                       derived=True, note=f"{x} vs {y} derived through {c} (shared-control covariance "
                                                          "approximated as half the smaller variance)"))
    return out


def network_contrasts(trials: Iterable[Any], decision_point: str, endpoint: str) -> list[NetworkContrast]:
    """Contrasts of every randomised trial of the decision point's setting with an HR (and CI) for
    ``endpoint`` between two arms that name regimens (ITT analyses only)."""
    settings = SETTINGS.get(decision_point)
    if settings is None:
        raise ModelError(f"decision_point = {decision_point!r}: must be one of {', '.join(SETTINGS)}")
    if endpoint not in ENDPOINTS:
        raise ModelError(f"endpoint = {endpoint!r}: must be one of {', '.join(ENDPOINTS)}")
    out: list[NetworkContrast] = []
    for trial in sorted(trials, key=lambda t: t.id.lower()):
        if trial.randomized and set(trial.settings) & set(settings):
            out.extend(_trial_contrasts(trial, endpoint))
    return out


def pick_latest(analyses: Sequence[Analysis]) -> Analysis | None:
    """The most recently reported analysis (data cut-off, then report date); ties keep the given order."""
    if not analyses:
        return None

    def when(a: Analysis) -> str:
        return str(a.record.data_cutoff or a.record.reported or "")

    return max(analyses, key=when)
