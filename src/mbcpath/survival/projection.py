"""Survival projections for the options of a recommendation.

For each option the regimen is matched to a trial arm (``arm.regimen ==
option.regimen_id``) among the trials the option cites, and that trial's
``engine_uses`` PFS and OS records are projected to a curve with a 95% band:

* **reconstructed IPD** where the package bundles it (CLEOPATRA OS and PFS,
  kmdata): a parametric model is fitted to the arm's pseudo-IPD (the best by
  AIC among the standard families and piecewise exponentials, or a named
  family), and the band is a parametric bootstrap over the fit's parameter
  covariance;
* **published summaries** otherwise: an exponential curve through the arm's
  published median (uncertainty from the median's 95% CI, or else from the
  HR's CI as SE(log median) ~ SE(log HR)/sqrt(2)); when the arm's median is not
  reached, the control arm's exponential curve times the HR (proportional
  hazards), with the HR's CI.

Each :class:`Projection` states what it rests on (trial, arm, analysis, model)
and its assumptions. Differences between options are computed at 12, 24, 36
and 60 months; a difference between options from different trials is a
cross-trial comparison and is labelled as such.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from mbcpath.errors import ModelError
from mbcpath.survival.fitting import FitResult, fit_all, fit_ipd, from_hazard_ratio, from_median
from mbcpath.survival.ipd import KmDataset, dataset_for, load_kmdata

LANDMARKS: tuple[float, ...] = (12.0, 24.0, 36.0, 60.0)
EndpointKey = Literal["pfs", "os"]
ENDPOINTS: tuple[EndpointKey, ...] = ("pfs", "os")
Z95 = 1.959963984540054

__all__ = [
    "LANDMARKS",
    "Difference",
    "Landmark",
    "Projection",
    "Projections",
    "fit_ipd_best",
    "project_arm",
    "project_options",
]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Landmark(_Out):
    """Projected probability of being event-free at a landmark, with a 95% interval."""

    months: float
    probability: float
    lower: float
    upper: float


class Projection(_Out):
    """One option's projected curve for one endpoint, and what it rests on."""

    option_rank: int | None = None
    regimen_id: str
    option_name: str = ""
    trial: str
    arm: str
    arm_label: str = ""
    endpoint: Literal["pfs", "os"]
    analysis: str
    basis: str = Field(..., description="the data the curve is built from")
    model: str = Field(..., description="the fitted or assumed distribution")
    assumptions: list[str] = Field(default_factory=list)
    times: list[float]
    survival: list[float]
    lower: list[float]
    upper: list[float]
    median: float | None = Field(None, description="months; null if not reached within the model")
    median_ci95: tuple[float | None, float | None] | None = None
    published_median: float | str | None = None
    landmarks: list[Landmark] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def at(self, months: float) -> Landmark | None:
        for lm in self.landmarks:
            if lm.months == months:
                return lm
        return None


class Difference(_Out):
    """Difference in projected event-free probability (option - reference option) at a landmark."""

    endpoint: Literal["pfs", "os"]
    option: str
    reference: str
    months: float
    difference: float
    median_difference: float | None = None
    comparison: Literal["within-trial (randomised)", "cross-trial (not randomised)"]


class Projections(_Out):
    """Projections for every option that has usable trial data."""

    patient_id: str | None = None
    kb_release: str | None = None
    horizon_months: float
    projections: list[Projection] = Field(default_factory=list)
    differences: list[Difference] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list, description="options or endpoints without a projection")
    notes: list[str] = Field(default_factory=list)

    def get(self, regimen_id: str, endpoint: str) -> Projection | None:
        for p in self.projections:
            if p.regimen_id == regimen_id and p.endpoint == endpoint:
                return p
        return None

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


# ------------------------------------------------------------------ curves
def _pwexp_breaks(time: np.ndarray, event: np.ndarray, k: int) -> list[float]:
    ev = np.sort(time[event == 1])
    qs = np.quantile(ev, np.linspace(0, 1, k + 1)[1:-1])
    return sorted({round(float(q), 2) for q in qs if q > 0})


@lru_cache(maxsize=64)
def _fit_cached(file: str, arm: str, family: str) -> FitResult:
    t, e = load_kmdata(file, arm)
    return fit_ipd_best(t, e, family=family, label=f"kmdata {file} arm {arm}")


def fit_ipd_best(time: Any, event: Any, *, family: str = "best", label: str = "") -> FitResult:
    """Fit ``family``, or with ``best`` the lowest-AIC model among the standard
    families and piecewise exponentials with 4, 6 and 8 pieces (breaks at
    event-time quantiles; the last piece's constant hazard is the tail).

    References
    ----------
    Latimer N. NICE DSU TSD 14 (2011): model choice by AIC and plausibility.
    Rutherford MJ, Lambert PC, Sweeting MJ, et al. NICE DSU TSD 21: flexible
    methods for survival analysis (2020): piecewise models.
    """
    t = np.asarray(time, dtype=np.float64)
    e = np.asarray(event)
    if family != "best":
        return fit_ipd(t, e, family, label=label)
    fits = fit_all(t, e, label=label)
    for k in (4, 6, 8):
        try:
            fits.append(fit_ipd(t, e, "pwexp", breakpoints=_pwexp_breaks(t, e, k), label=label))
        except ModelError:
            continue
    best = min(fits, key=lambda r: r.aic if r.aic is not None else math.inf)
    best.assumptions.append(f"model chosen by AIC among {len(fits)} candidates")
    if best.family == "pwexp":
        best.assumptions.append("exponential tail: constant hazard after the last break")
    return best


def _band(fit: FitResult, grid: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                               np.ndarray]:
    """Pointwise 2.5/97.5% survival band and bootstrap medians from parameter draws."""
    rng = np.random.default_rng(seed)
    surv = np.empty((n_boot, grid.size))
    meds = np.empty(n_boot)
    lms = np.empty((n_boot, len(LANDMARKS)))
    for i, d in enumerate(fit.draw(rng, n_boot)):
        surv[i] = d.survival(grid)
        meds[i] = float(d.median())
        lms[i] = d.survival(np.array(LANDMARKS))
    lo, hi = np.quantile(surv, [0.025, 0.975], axis=0)
    return lo, hi, meds, lms


def project_arm(fit: FitResult, *, horizon: float = 60.0, step: float = 0.5, n_boot: int = 400,
                seed: int = 2012) -> dict[str, Any]:
    """Curve, 95% band, median (with CI) and landmark probabilities for one fitted arm.

    The band is a parametric bootstrap: ``n_boot`` parameter vectors drawn from
    N(theta, cov); pointwise 2.5% and 97.5% quantiles of S(t).

    References
    ----------
    Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall
    1993 (parametric bootstrap).
    """
    grid = np.round(np.arange(0.0, horizon + step / 2, step), 6)
    s = fit.dist.survival(grid)
    lo, hi, meds, lms = _band(fit, grid, n_boot, seed)
    med = float(fit.dist.median())
    finite = meds[np.isfinite(meds)]
    if finite.size >= 0.975 * meds.size:
        mci: tuple[float | None, float | None] | None = (
            float(np.quantile(meds, 0.025)), float(np.quantile(meds, 0.975)) if np.isfinite(
                np.quantile(meds, 0.975)) else None)
    else:
        mci = (float(np.quantile(finite, 0.025)) if finite.size else None, None)
    lm_point = fit.dist.survival(np.array(LANDMARKS))
    landmarks = [Landmark(months=m, probability=round(float(p), 4), lower=round(float(a), 4), upper=round(float(b), 4))
                 for m, p, a, b in zip(LANDMARKS, lm_point, np.quantile(lms, 0.025, axis=0),
                                       np.quantile(lms, 0.975, axis=0), strict=True)]
    return {
        "times": [float(x) for x in grid],
        "survival": [round(float(x), 4) for x in s],
        "lower": [round(float(x), 4) for x in np.minimum(lo, s)],
        "upper": [round(float(x), 4) for x in np.maximum(hi, s)],
        "median": round(med, 2) if math.isfinite(med) else None,
        "median_ci95": None if mci is None else tuple(None if v is None else round(v, 2) for v in mci),
        "landmarks": landmarks,
    }


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) and x > 0 else None


def _summary_fit(rec: Any, arm: str) -> tuple[FitResult, str, list[str]]:
    """Exponential curve for ``arm`` of a published endpoint record.

    SE(log median) from the median's CI; with only a lower limit, from that
    half; with no median CI, SE(log median) ~ SE(log HR)/sqrt(2) (the log-HR
    variance is about 4/D for D events split evenly, an arm's log-median
    variance about 1/(D/2)). An arm whose median is not reached is the
    control curve times the HR.

    References
    ----------
    Parmar MKB, Torri V, Stewart L. Extracting summary statistics to perform
    meta-analyses of the published literature for survival endpoints. Stat Med
    1998;17:2815-34.
    Tierney JF, Stewart LA, Ghersi D, Burdett S, Sydes MR. Practical methods for
    incorporating summary time-to-event data into meta-analysis. Trials 2007;8:16.
    """
    notes: list[str] = []
    arms = list(rec.arms)
    med = _num(rec.medians.get(arm))
    ci = rec.median_ci95.get(arm) if rec.median_ci95 else None
    se_hr = None
    if rec.hr_ci95 is not None:
        lo, hi = rec.hr_ci95
        se_hr = (math.log(hi) - math.log(lo)) / (2 * Z95)
    if med is not None:
        lo_ci, hi_ci = (_num(ci[0]), _num(ci[1])) if ci else (None, None)
        if lo_ci is not None and hi_ci is not None:
            fit = from_median(med, (lo_ci, hi_ci), label=f"{arm} median {med:g}")
            basis = f"published median {med:g} months with its 95% CI ({lo_ci:g}-{hi_ci:g})"
        else:
            fit = from_median(med, label=f"{arm} median {med:g}")
            if lo_ci is not None:
                se = (math.log(med) - math.log(lo_ci)) / Z95
                fit.cov = np.array([[se**2]])
                fit.assumptions[-1] = "median CI upper limit not reached: SE from the lower limit only"
                basis = f"published median {med:g} months (95% CI lower limit {lo_ci:g})"
            elif se_hr is not None:
                fit.cov = np.array([[se_hr**2 / 2]])
                fit.assumptions[-1] = ("no median CI: SE(log median) ~ SE(log HR)/sqrt(2) "
                                       "(events split evenly between arms)")
                basis = f"published median {med:g} months; uncertainty from the HR's 95% CI"
            else:
                basis = f"published median {med:g} months (no CI: no uncertainty band)"
                notes.append("no CI for the median or the HR: the band shows no uncertainty")
        return fit, basis, notes
    # median not reached: control curve x HR
    if len(arms) >= 2 and arm == arms[0] and rec.hr is not None:
        ctrl = arms[1]
        cmed = _num(rec.medians.get(ctrl))
        if cmed is None:
            raise ModelError(f"{rec.endpoint} record '{rec.analysis}': neither arm has a numeric median")
        cfit, cbasis, cnotes = _summary_fit(rec, ctrl)
        fit = from_hazard_ratio(cfit, rec.hr, tuple(rec.hr_ci95) if rec.hr_ci95 else None,
                                label=f"{arm} vs {ctrl}")
        notes += cnotes
        notes.append(f"median of this arm not reached ({rec.medians.get(arm)!r}): control curve x HR")
        basis = f"control arm ({ctrl}) {cbasis} x HR {rec.hr:g}" + (
            f" (95% CI {rec.hr_ci95[0]:g}-{rec.hr_ci95[1]:g})" if rec.hr_ci95 else "")
        return fit, basis, notes
    raise ModelError(f"{rec.endpoint} record '{rec.analysis}': arm {arm!r} has no numeric median "
                     f"({rec.medians.get(arm)!r}) and no control curve with an HR to derive one")


def _engine_records(trial: Any, arm_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for e in trial.endpoints:
        if e.endpoint in ENDPOINTS and e.engine_uses and arm_id in e.arms and not e.population \
                and e.analysis_type not in ("subgroup",):
            out.setdefault(e.endpoint, e)
    return out


def _lookup_trial(kb: Any, name: str) -> Any | None:
    trials = getattr(kb, "trials", {})
    if name in trials:
        return trials[name]
    try:
        return kb.trial(name)
    except (KeyError, AttributeError):
        return None


def _candidate_trials(option: Any, kb: Any) -> list[Any]:
    names = [ev.trial for ev in getattr(option, "evidence", [])]
    reg = getattr(kb, "regimens", {}).get(option.regimen_id)
    if reg is not None:
        names += list(reg.trials)
    seen: set[str] = set()
    out = []
    for n in names:
        t = _lookup_trial(kb, n)
        if t is not None and t.id not in seen:
            seen.add(t.id)
            out.append(t)
    return out


def _project_record(trial: Any, arm: Any, rec: Any, *, family: str, horizon: float, n_boot: int,
                    seed: int) -> Projection:
    ds: KmDataset | None = dataset_for(trial.id, rec.endpoint, tuple(trial.aliases))
    notes: list[str] = []
    assumptions: list[str]
    if ds is not None and len(rec.arms) >= 2 and arm.id in rec.arms[:2]:
        kmarm = ds.experimental if arm.id == rec.arms[0] else ds.control
        fit = _fit_cached(ds.file, kmarm, family)
        basis = f"{ds.describe()}, arm '{kmarm}'"
        model = f"{fit.family} fit ({fit.dist!r}), AIC {fit.aic:.1f}"
        assumptions = [*fit.assumptions, "reconstructed data reproduce the published curve (HR within ~0.03)"]
        analysis = f"{ds.analysis} (KB record for the published numbers: {rec.analysis})"
        notes.append("curve fitted to reconstructed patient-level data; published medians shown for comparison")
    else:
        fit, basis, notes = _summary_fit(rec, arm.id)
        model = repr(fit.dist)
        assumptions = list(fit.assumptions)
        analysis = rec.analysis
    cur = project_arm(fit, horizon=horizon, n_boot=n_boot, seed=seed)
    pm = rec.medians.get(arm.id)
    return Projection(
        regimen_id=arm.regimen or "", trial=trial.id, arm=arm.id, arm_label=arm.label, endpoint=rec.endpoint,
        analysis=analysis, basis=basis, model=model, assumptions=assumptions, published_median=pm,
        sources=list(rec.sources), notes=notes, **cur)


def project_options(recommendation: Any, kb: Any, *, horizon: float = 60.0, family: str = "best",
                    n_boot: int = 400, seed: int = 2012, endpoints: Sequence[str] = ENDPOINTS) -> Projections:
    """Project PFS and OS for every option of a recommendation.

    Parameters
    ----------
    recommendation : :class:`mbcpath.domain.recommendation.Recommendation`.
    kb : :class:`mbcpath.kb.loader.KnowledgeBase` (``trials``, ``trial()``,
        ``regimens``).
    horizon : months to project.
    family : model for reconstructed IPD (``best`` = lowest AIC).
    n_boot, seed : parametric-bootstrap draws for the bands (fixed seed: the
        same input gives the same output).

    Returns
    -------
    Projections; options without a matching trial arm or usable record are
    listed in ``skipped`` with the reason.

    References
    ----------
    Guyot P, Ades AE, Ouwens MJNM, Welton NJ. BMC Med Res Methodol 2012;12:9.
    Latimer N. NICE DSU TSD 14 (2011).
    Woods B, Sideris E, Palmer S, Latimer N, Soares M. NICE DSU TSD 19 (2017).
    """
    out = Projections(patient_id=getattr(recommendation, "patient_id", None),
                      kb_release=getattr(getattr(kb, "release", None), "kb_release", None)
                      or getattr(recommendation, "kb_release", None),
                      horizon_months=float(horizon))
    out.notes.append("Projections restate trial populations, not this patient: they are averages over the "
                     "trial's patients, and comparisons between options from different trials are not "
                     "randomised.")
    for opt in recommendation.options:
        matched = False
        for trial in _candidate_trials(opt, kb):
            arms = [a for a in trial.arms if a.regimen == opt.regimen_id]
            for arm in arms:
                recs = _engine_records(trial, arm.id)
                if not recs:
                    continue
                matched = True
                for ep in endpoints:
                    if ep not in recs:
                        out.skipped.append(f"{opt.regimen_id}: {trial.id} has no {ep.upper()} record the engine uses")
                        continue
                    try:
                        p = _project_record(trial, arm, recs[ep], family=family, horizon=horizon, n_boot=n_boot,
                                            seed=seed)
                    except ModelError as err:
                        out.skipped.append(f"{opt.regimen_id} {ep.upper()} ({trial.id}): {err}")
                        continue
                    p.option_rank, p.option_name = opt.rank, opt.name
                    out.projections.append(p)
                break
            if matched:
                break
        if not matched:
            out.skipped.append(f"{opt.regimen_id}: no cited trial has an arm with this regimen and PFS/OS data")
    out.differences = _differences(out.projections)
    return out


def _differences(projs: list[Projection]) -> list[Difference]:
    diffs: list[Difference] = []
    for ep in ENDPOINTS:
        ps = sorted((p for p in projs if p.endpoint == ep), key=lambda p: p.option_rank or 10**6)
        if len(ps) < 2:
            continue
        ref = ps[0]
        for p in ps[1:]:
            if p.regimen_id == ref.regimen_id:
                continue
            same = p.trial == ref.trial and p.analysis == ref.analysis
            md = (p.median - ref.median) if p.median is not None and ref.median is not None else None
            for m in LANDMARKS:
                a, b = p.at(m), ref.at(m)
                if a is None or b is None:
                    continue
                diffs.append(Difference(
                    endpoint=ep, option=p.regimen_id, reference=ref.regimen_id, months=m,
                    difference=round(a.probability - b.probability, 4),
                    median_difference=None if md is None else round(md, 2),
                    comparison="within-trial (randomised)" if same else "cross-trial (not randomised)"))
    return diffs
