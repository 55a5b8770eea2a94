"""Survival projections for the options of a recommendation: on a common basis, with honest extent.

For each endpoint (PFS, OS) the options are grouped by
:func:`mbcpath.survival.comparisons.plan_endpoint`: arms of one randomised
trial, an anchored indirect comparison through the network of the decision
point's randomised trials, or an unanchored single-arm estimate drawn alone.
Every curve states what it rests on:

* **the model and how it was chosen**: families fitted to reconstructed
  patient-level data (CLEOPATRA, kmdata) or to the trial's published summary
  points (medians with CIs, landmark rates, the HR), the lowest AIC chosen and
  every candidate's AIC and BIC shown (:mod:`~mbcpath.survival.artefact` holds
  the fits, built once per KB release);
* **its extent**: solid to the end of the trial's follow-up (``observed_until``),
  dashed beyond (extrapolation);
* **its uncertainty**: a pointwise 95% band from parameter draws (parametric
  bootstrap; the reference arm's draws combined with the network HR's for an
  anchored option); where nothing published carries a CI, no band and "no CI
  published", never a zero-width interval.

Differences between each option and its group's reference at 1, 2 and 3 years
and the restricted mean survival time over the group's observed window come
with 95% intervals from the same (paired) draws. Subgroup results that fit the
patient (brain metastases, HR status, de novo vs recurrent) are listed beside
the overall ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from mbcpath.errors import ModelError
from mbcpath.survival.comparisons import Group, Member, plan_endpoint
from mbcpath.survival.distributions import Distribution, ProportionalHazards, survival_matrix
from mbcpath.survival.evidence import ENDPOINTS, Analysis, subgroups_for
from mbcpath.survival.fitting import FitResult
from mbcpath.survival.ipd import dataset_for

LANDMARKS: tuple[float, ...] = (12.0, 24.0, 36.0, 60.0)
DIFFERENCE_MONTHS: tuple[float, ...] = (12.0, 24.0, 36.0)
EndpointKey = Literal["pfs", "os"]
BasisKind = Literal["randomised", "anchored", "unanchored"]
Z95 = 1.959963984540054
STEP = 0.5
NO_CI = "no CI published"

__all__ = [
    "DIFFERENCE_MONTHS",
    "LANDMARKS",
    "NO_CI",
    "Comparison",
    "CurveDraws",
    "Difference",
    "Landmark",
    "Projection",
    "ProjectionResult",
    "Projections",
    "option_curves",
    "project_options",
]


# ============================================================================ output models
class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Landmark(_Out):
    """Projected probability of being event-free at a landmark, with its 95% interval (None: no CI published)."""

    months: float
    probability: float
    lower: float | None = None
    upper: float | None = None
    observed: bool = Field(True, description="within the trial's follow-up (False: extrapolated)")

    @property
    def has_ci(self) -> bool:
        return self.lower is not None and self.upper is not None


class Candidate(_Out):
    family: str
    aic: float | None
    bic: float | None
    delta_aic: float | None
    chosen: bool


class ModelSelection(_Out):
    """How the curve's model was chosen: every candidate fitted, lowest AIC chosen (BIC shown)."""

    data: str
    criterion: str = "lowest AIC (BIC shown)"
    candidates: list[Candidate] = Field(default_factory=list)
    note: str = ""


class HazardRatio(_Out):
    hr: float
    lower: float | None
    upper: float | None
    basis: str
    trials: dict[str, float] = Field(default_factory=dict, description="trials feeding it (share of weight)")


class Rmst(_Out):
    """Restricted mean survival time (months) over [0, tau], tau = the group's observed window."""

    tau: float
    value: float
    lower: float | None = None
    upper: float | None = None


class Projection(_Out):
    """One option's projected curve for one endpoint, and what it rests on."""

    option_rank: int | None = None
    regimen_id: str
    option_name: str = ""
    trial: str
    arm: str
    arm_label: str = ""
    endpoint: EndpointKey
    analysis: str
    basis_kind: BasisKind
    role: Literal["reference", "randomised", "anchored", "unanchored"]
    comparison_id: str
    basis: str = Field(..., description="the data the curve is built from")
    model: str = Field(..., description="the fitted or assumed distribution")
    model_selection: ModelSelection
    hr_vs_reference: HazardRatio | None = None
    assumptions: list[str] = Field(default_factory=list)
    observed_until: float = Field(..., description="months: solid to here, dashed (extrapolated) beyond")
    observed_basis: str
    times: list[float]
    survival: list[float]
    lower: list[float] | None = None
    upper: list[float] | None = None
    ci_note: str = Field("", description="why there is no band, when there is none")
    median: float | None = Field(None, description="months; null if not reached within the model")
    median_ci95: tuple[float | None, float | None] | None = None
    median_observed: bool = True
    published_median: float | str | None = None
    landmarks: list[Landmark] = Field(default_factory=list)
    rmst: Rmst | None = None
    sources: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def at(self, months: float) -> Landmark | None:
        return next((lm for lm in self.landmarks if lm.months == months), None)

    def segments(self) -> list[tuple[Literal["solid", "dashed"], list[float], list[float]]]:
        """(style, times, survival): solid up to ``observed_until`` (the boundary point in both), dashed beyond."""
        t, s = self.times, self.survival
        cut = self.observed_until
        solid = [(x, y) for x, y in zip(t, s, strict=True) if x <= cut]
        dashed = [(x, y) for x, y in zip(t, s, strict=True) if x >= cut]
        if solid and solid[-1][0] < cut < t[-1]:
            y_cut = float(np.interp(cut, t, s))
            solid.append((cut, y_cut))
            dashed.insert(0, (cut, y_cut))
        out: list[tuple[Literal["solid", "dashed"], list[float], list[float]]] = []
        if solid:
            out.append(("solid", [p[0] for p in solid], [p[1] for p in solid]))
        if len(dashed) > 1:
            out.append(("dashed", [p[0] for p in dashed], [p[1] for p in dashed]))
        return out


class Difference(_Out):
    """Option minus its group's reference, in event-free probability at a landmark, with its 95% interval."""

    endpoint: EndpointKey
    option: str
    reference: str
    months: float
    difference: float
    lower: float | None = None
    upper: float | None = None
    observed: bool = True
    median_difference: float | None = None
    comparison: str
    comparison_id: str


class RmstDifference(_Out):
    endpoint: EndpointKey
    option: str
    reference: str
    tau: float
    difference: float
    lower: float | None = None
    upper: float | None = None
    comparison_id: str


class Comparison(_Out):
    """One chart's worth: options drawn together, and the basis that allows it."""

    id: str
    endpoint: EndpointKey
    kind: BasisKind
    title: str
    basis: str
    reference: str
    reference_trial: str
    trials: list[str]
    members: list[str]
    rmst_tau: float | None = None
    assumptions: list[str] = Field(default_factory=list)


class Subgroup(_Out):
    """A published subgroup (or cohort) result that fits this patient, shown beside the overall result."""

    regimen_id: str
    trial: str
    endpoint: str
    population: str
    matched: str
    summary: str
    overall: str
    sources: list[str] = Field(default_factory=list)


class ProjectionResult(_Out):
    """Projections for every option that has usable trial data, grouped by basis."""

    patient_id: str | None = None
    kb_release: str | None = None
    decision_point: str | None = None
    horizon_months: float
    comparisons: list[Comparison] = Field(default_factory=list)
    projections: list[Projection] = Field(default_factory=list)
    differences: list[Difference] = Field(default_factory=list)
    rmst_differences: list[RmstDifference] = Field(default_factory=list)
    subgroups: list[Subgroup] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list, description="options or endpoints without a projection")
    notes: list[str] = Field(default_factory=list)
    stale_fits: list[str] = Field(default_factory=list, description="fits made at start-up because the "
                                                                    "artefact was out of date")

    def get(self, regimen_id: str, endpoint: str) -> Projection | None:
        return next((p for p in self.projections if p.regimen_id == regimen_id and p.endpoint == endpoint), None)

    def comparison(self, comparison_id: str) -> Comparison | None:
        return next((c for c in self.comparisons if c.id == comparison_id), None)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


#: the name earlier releases used
Projections = ProjectionResult


# ============================================================================ curves
@dataclass
class _Curve:
    """A curve on the grid with its parameter draws (None: no published uncertainty)."""

    dist: Distribution
    point: NDArray[np.float64]
    draws: NDArray[np.float64] | None
    observed_until: float
    observed_basis: str
    basis: str
    model: str
    selection: ModelSelection
    assumptions: list[str]
    analysis: Analysis
    arm_id: str
    hr: HazardRatio | None = None
    ci_note: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class _Ctx:
    kb: Any
    store: Any
    grid: NDArray[np.float64]
    horizon: float
    n_draws: int
    seed: int
    network: Any
    decision_point: str | None


def _draw_matrix(fit: FitResult, grid: NDArray[np.float64], rng: np.random.Generator, n: int
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    thetas = fit.draw_thetas(rng, n)
    return thetas, survival_matrix(fit.dist, thetas, grid)


def _selection_ipd(ipd: Any) -> ModelSelection:
    best = ipd.fits[0].aic
    cands = [Candidate(family=_ipd_label(f), aic=_r(f.aic), bic=_r(f.bic), delta_aic=_r(f.aic - best), chosen=i == 0)
             for i, f in enumerate(ipd.fits)]
    return ModelSelection(data=f"reconstructed patient-level data ({ipd.n} patients, {ipd.events} events; "
                               f"{ipd.dataset.describe()})", candidates=cands)


def _ipd_label(f: FitResult) -> str:
    from mbcpath.survival.distributions import PiecewiseExponential

    d = f.dist
    return f"piecewise exponential, {len(d.breaks) + 1} pieces" if isinstance(d, PiecewiseExponential) else f.family


def _selection_summary(fits: Sequence[Any], n_points: int) -> ModelSelection:
    best = fits[0].aic
    cands = [Candidate(family=f.family, aic=_r(f.aic), bic=_r(f.bic), delta_aic=_r(f.aic - best), chosen=i == 0)
             for i, f in enumerate(fits)]
    close = [c.family for c in cands[1:] if c.delta_aic is not None and c.delta_aic < 2]
    note = (f"AIC/BIC computed on {n_points} published summary points, not on patient-level data"
            + (f"; {', '.join(close)} fit about as well (delta AIC < 2): the data cannot tell these shapes "
               "apart, so the extrapolated part is uncertain beyond its band" if close else ""))
    return ModelSelection(data=f"published summary statistics ({n_points} points)", candidates=cands, note=note)


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


def _ipd_curve(ctx: _Ctx, an: Analysis, arm_id: str, rng: np.random.Generator) -> _Curve | None:
    ds = dataset_for(an.trial.id, an.endpoint, tuple(an.trial.aliases))
    if ds is None or len(an.arms) < 2 or arm_id not in an.arms[:2]:
        return None
    kmarm = ds.experimental if arm_id == an.arms[0] else ds.control
    ipd = ctx.store.ipd(ds, kmarm)
    fit = ipd.best
    _, draws = _draw_matrix(fit, ctx.grid, rng, ctx.n_draws)
    return _Curve(dist=fit.dist, point=fit.dist.survival(ctx.grid), draws=draws, observed_until=ipd.max_time,
                  observed_basis=f"end of the reconstructed follow-up ({ipd.max_time:.1f} months)",
                  basis=f"{ds.describe()}, arm '{kmarm}'", model=f"{_ipd_label(fit)}: {fit.dist!r}",
                  selection=_selection_ipd(ipd), assumptions=["independent non-informative censoring",
                                                              "reconstructed data reproduce the published curve"],
                  analysis=an, arm_id=arm_id, notes=[f"curve fitted to {ds.describe()}; the KB's analysis for "
                                                     f"the published numbers is {an.record.analysis}"])


def _has_published_ci(points: Sequence[Any]) -> bool:
    return any(p.published_ci for p in points)


def _summary_curve(ctx: _Ctx, an: Analysis, arm_id: str, other: str | None, rng: np.random.Generator
                   ) -> tuple[_Curve, NDArray[np.float64] | None]:
    """The arm's curve from the summary fit (joint with ``other`` under PH when given).

    Returns the curve and, for a joint fit, the log-HR draws of ``other`` vs ``arm_id`` paired with the
    curve's draws."""
    fits = ctx.store.summary(an, arm_id, other)
    best = fits[0]
    pts = an.points(arm_id, other)
    ref_fit = best.fit_result(0)
    draws = hr_draws = None
    note = ""
    if _has_published_ci(pts) and best.cov is not None:
        full = best.fit_result(1) if other else ref_fit
        thetas = full.draw_thetas(rng, ctx.n_draws)
        k = ref_fit.theta.size
        draws = survival_matrix(ref_fit.dist, thetas[:, :k], ctx.grid)
        hr_draws = thetas[:, k] if other else None
    else:
        note = f"{NO_CI}: none of the published numbers behind this curve carries a confidence interval"
    t_obs, how = an.observed_until()
    dist = best.reference()
    curve = _Curve(dist=dist, point=dist.survival(ctx.grid), draws=draws, observed_until=t_obs, observed_basis=how,
                   basis=f"{an.trial.id} ({an.record.analysis}): " + "; ".join(p.label for p in pts),
                   model=f"{best.family}: {dist!r}", selection=_selection_summary(fits, len(pts)),
                   assumptions=best.assumptions(), analysis=an, arm_id=arm_id, ci_note=note)
    return curve, hr_draws


def _own_curve(ctx: _Ctx, an: Analysis, arm_id: str, rng: np.random.Generator) -> _Curve:
    """An option's curve from its own analysis: IPD where bundled, else the summary fit (jointly with the
    comparator when the analysis is a two-arm comparison, so that the arm agrees with the trial's HR)."""
    ipd = _ipd_curve(ctx, an, arm_id, rng)
    if ipd is not None:
        return ipd
    if an.comparable:
        ref = an.arms[1]
        if arm_id == ref:
            return _summary_curve(ctx, an, ref, an.arms[0], rng)[0]
        ref_curve, hr_draws = _summary_curve(ctx, an, ref, arm_id, rng)
        fit = ctx.store.summary(an, ref, arm_id)[0]
        return _apply_hr(ref_curve, float(fit.theta[-1]), hr_draws, an, arm_id,
                         _within_hr(an, arm_id), keep_selection=True)
    return _summary_curve(ctx, an, arm_id, None, rng)[0]


def _within_hr(an: Analysis, arm_id: str) -> HazardRatio:
    rec = an.record
    hr, ci = rec.hr, rec.hr_ci95
    flip = arm_id != an.arms[0]
    if flip:
        hr = 1 / hr
        ci = None if ci is None else (1 / ci[1], 1 / ci[0])
    return HazardRatio(hr=round(hr, 4), lower=None if ci is None else round(ci[0], 4),
                       upper=None if ci is None else round(ci[1], 4),
                       basis=f"randomised within {an.trial.id} ({rec.analysis})", trials={an.trial.id: 1.0})


def _apply_hr(ref: _Curve, log_hr: float, log_hr_draws: NDArray[np.float64] | None, an: Analysis, arm_id: str,
              hr: HazardRatio, *, keep_selection: bool = False, observed: tuple[float, str] | None = None) -> _Curve:
    h = math.exp(log_hr)
    dist = ProportionalHazards(ref.dist, h)
    draws = None
    if ref.draws is not None and log_hr_draws is not None:
        draws = ref.draws ** np.exp(log_hr_draws)[:, None]
    t_obs, how = observed if observed is not None else (ref.observed_until, ref.observed_basis)
    return _Curve(dist=dist, point=ref.point**h, draws=draws, observed_until=t_obs, observed_basis=how,
                  basis=ref.basis, model=f"reference curve ({ref.model}) x HR {h:.3g}",
                  selection=ref.selection if keep_selection else ref.selection.model_copy(
                      update={"note": "the reference curve's model; the option differs from it by a constant HR"}),
                  assumptions=[*ref.assumptions, "proportional hazards against the reference arm"],
                  analysis=an, arm_id=arm_id, hr=hr, ci_note=ref.ci_note)


# ============================================================================ groups
def _group_curves(ctx: _Ctx, group: Group, rng: np.random.Generator) -> dict[str, _Curve]:
    ref = group.reference
    assert ref.analysis is not None and ref.arm_id is not None
    curves: dict[str, _Curve] = {}
    first = next((m for m in group.members if m.role == "randomised"), None)
    if first is not None:
        curves.update(_randomised_pair(ctx, ref, first, rng))
    else:
        curves[ref.regimen] = _own_curve(ctx, ref.analysis, ref.arm_id, rng)
    ref_curve = curves[ref.regimen]
    for m in group.members:
        if m.regimen in curves:
            continue
        if m.role == "randomised":
            curves[m.regimen] = _randomised_other(ctx, ref_curve, m, rng)
        else:
            curves[m.regimen] = _anchored(ctx, ref_curve, ref, m, rng)
    return curves


def _randomised_pair(ctx: _Ctx, ref: Member, m: Member, rng: np.random.Generator) -> dict[str, _Curve]:
    an = m.analysis
    assert an is not None and m.arm_id is not None and ref.arm_id is not None
    ref_ipd = _ipd_curve(ctx, an, ref.arm_id, rng)
    if ref_ipd is not None:
        mem = _ipd_curve(ctx, an, m.arm_id, rng)
        assert mem is not None
        mem.hr = _within_hr(an, m.arm_id)
        return {ref.regimen: ref_ipd, m.regimen: mem}
    ref_curve, hr_draws = _summary_curve(ctx, an, ref.arm_id, m.arm_id, rng)
    fit = ctx.store.summary(an, ref.arm_id, m.arm_id)[0]
    mem = _apply_hr(ref_curve, float(fit.theta[-1]), hr_draws, an, m.arm_id, _within_hr(an, m.arm_id),
                    keep_selection=True)
    if mem.hr is not None:
        joint = math.exp(float(fit.theta[-1]))
        mem.hr = mem.hr.model_copy(update={"basis": f"{mem.hr.basis}; fitted jointly with both arms' medians and "
                                                    f"landmarks: HR {joint:.3f}"})
    return {ref.regimen: ref_curve, m.regimen: mem}


def _randomised_other(ctx: _Ctx, ref_curve: _Curve, m: Member, rng: np.random.Generator) -> _Curve:
    """A further arm of the same trial against the same comparator: its own joint fit's HR on the group's
    reference curve (its log-HR draws independent of the reference's)."""
    an = m.analysis
    assert an is not None and m.arm_id is not None and m.reference_arm is not None
    fit = ctx.store.summary(an, m.reference_arm, m.arm_id)[0]
    k = fit.theta.size - 1
    sd = math.sqrt(fit.cov[k, k]) if fit.cov is not None else 0.0
    draws = rng.normal(float(fit.theta[k]), sd, ctx.n_draws) if ref_curve.draws is not None else None
    return _apply_hr(ref_curve, float(fit.theta[k]), draws, an, m.arm_id, _within_hr(an, m.arm_id))


def _anchored(ctx: _Ctx, ref_curve: _Curve, ref: Member, m: Member, rng: np.random.Generator) -> _Curve:
    assert ctx.network is not None and m.analysis is not None and m.arm_id is not None
    net = ctx.network[ref_curve.analysis.endpoint]
    est, se, trials = net.log_hr(m.regimen, ref.regimen, "random")
    draws = rng.normal(est, se, ctx.n_draws) if ref_curve.draws is not None else None
    hr = HazardRatio(hr=round(math.exp(est), 4), lower=round(math.exp(est - Z95 * se), 4),
                     upper=round(math.exp(est + Z95 * se), 4),
                     basis=f"network meta-analysis of the {ctx.decision_point} randomised trials (random effects): "
                           f"{m.regimen} vs {ref.regimen}", trials={k: round(v, 3) for k, v in trials.items()})
    own_t, _ = m.analysis.observed_until()
    t_obs = min(ref_curve.observed_until, own_t)
    how = (f"the shorter of the reference trial's follow-up ({ref_curve.observed_until:g} months) and "
           f"{m.analysis.trial.id}'s ({own_t:g} months)")
    curve = _apply_hr(ref_curve, est, draws, m.analysis, m.arm_id, hr, observed=(t_obs, how))
    curve.assumptions.append("transitivity: the trials linking this option to the reference enrolled comparable "
                             "patients (anchored indirect comparison)")
    own_med = _num_or_none(m.analysis.record.medians.get(m.arm_id))
    proj_med = _median_from(curve.point, ctx.grid)
    if own_med is not None and proj_med is not None and abs(proj_med - own_med) > 0.3 * own_med:
        curve.notes.append(f"transitivity in doubt: anchored to {ref_curve.analysis.trial.id}'s reference arm this "
                           f"option's median is {proj_med:.1f} months, but {m.analysis.trial.id} reported "
                           f"{own_med:g} months for it: the trials' populations differ")
    curve.basis = (f"reference curve {ref.regimen} from {ref_curve.analysis.trial.id} x HR from the network "
                   f"({', '.join(sorted(trials))})")
    return curve


def _num_or_none(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) and x > 0 else None


# ============================================================================ summaries of a curve
def _band(draws: NDArray[np.float64] | None, mask: NDArray[np.bool_]
          ) -> tuple[NDArray[np.float64] | None, NDArray[np.float64] | None]:
    """Pointwise 2.5% and 97.5% quantiles of the draws on the grid points kept (``mask``)."""
    if draws is None:
        return None, None
    q = np.quantile(draws[:, mask], [0.025, 0.975], axis=0)
    return q[0], q[1]


def _median_from(curve_s: NDArray[np.float64], grid: NDArray[np.float64]) -> float | None:
    below = np.nonzero(curve_s <= 0.5)[0]
    if below.size == 0:
        return None
    i = int(below[0])
    if i == 0:
        return float(grid[0])
    x0, x1, y0, y1 = grid[i - 1], grid[i], curve_s[i - 1], curve_s[i]
    return float(x0 + (y0 - 0.5) * (x1 - x0) / (y0 - y1)) if y0 != y1 else float(x1)


def _medians(rows: NDArray[np.float64], grid: NDArray[np.float64]) -> NDArray[np.float64]:
    """Median of each row (linear interpolation on the grid; inf where S stays above 0.5)."""
    below = rows <= 0.5
    reached = below.any(axis=1)
    i = np.where(reached, below.argmax(axis=1), 0)
    j = np.maximum(i - 1, 0)
    r = np.arange(rows.shape[0])
    y0, y1 = rows[r, j], rows[r, i]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(y0 != y1, (y0 - 0.5) / (y0 - y1), 1.0)
    med = np.where(i == 0, grid[0], grid[j] + frac * (grid[i] - grid[j]))
    return np.asarray(np.where(reached, med, np.inf), dtype=np.float64)


def _median_ci(curve: _Curve, grid: NDArray[np.float64]) -> tuple[float | None, float | None] | None:
    if curve.draws is None:
        return None
    big = 1e9  # "not reached within the grid"; kept finite for the quantiles
    meds = np.minimum(_medians(curve.draws, grid), big)
    lo, hi = (float(x) for x in np.quantile(meds, [0.025, 0.975]))
    return (round(lo, 1) if lo < big else None, round(hi, 1) if hi < big else None)


def _rmst(values: NDArray[np.float64], grid: NDArray[np.float64], tau: float) -> NDArray[np.float64]:
    """Trapezoidal RMST over [0, tau] of each row of ``values`` (or of one curve)."""
    v = np.atleast_2d(values)
    k = int(np.searchsorted(grid, tau, side="right")) - 1  # grid[k] <= tau
    g = grid[: k + 1]
    area = np.sum((v[:, 1:k + 1] + v[:, :k]) / 2 * np.diff(g), axis=1)
    if g[-1] < tau and k + 1 < grid.size:
        w = (tau - grid[k]) / (grid[k + 1] - grid[k])
        s_tau = v[:, k] + w * (v[:, k + 1] - v[:, k])
        area = area + (v[:, k] + s_tau) / 2 * (tau - grid[k])
    return np.asarray(area, dtype=np.float64)


def _projection(ctx: _Ctx, group: Group, member: Member, curve: _Curve, tau: float | None) -> Projection:
    grid = ctx.grid
    out_mask = grid <= ctx.horizon + 1e-9
    lo, hi = _band(curve.draws, out_mask)
    lms = []
    for m in (x for x in LANDMARKS if x <= ctx.horizon):
        i = round(m / STEP)
        p = float(curve.point[i])
        lms.append(Landmark(months=m, probability=round(p, 4),
                            lower=None if lo is None else round(min(float(lo[i]), p), 4),
                            upper=None if hi is None else round(max(float(hi[i]), p), 4),
                            observed=m <= curve.observed_until))
    med = _median_from(curve.point, grid)
    rm = None
    if tau is not None:
        val = float(_rmst(curve.point, grid, tau)[0])
        r_lo = r_hi = None
        if curve.draws is not None:
            d = _rmst(curve.draws, grid, tau)
            r_lo, r_hi = float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))
        rm = Rmst(tau=round(tau, 2), value=round(val, 2), lower=_r(r_lo), upper=_r(r_hi))
    an = curve.analysis
    arm = an.arm(curve.arm_id)
    opt = member.option
    band = lo is not None and hi is not None
    return Projection(
        option_rank=opt.rank, regimen_id=opt.regimen_id, option_name=opt.name, trial=an.trial.id, arm=curve.arm_id,
        arm_label=arm.label, endpoint=an.endpoint, analysis=an.record.analysis, basis_kind=group.kind,
        role=member.role, comparison_id=group.id, basis=curve.basis, model=curve.model,
        model_selection=curve.selection, hr_vs_reference=curve.hr, assumptions=curve.assumptions,
        observed_until=round(curve.observed_until, 2), observed_basis=curve.observed_basis,
        times=[float(x) for x in grid[out_mask]], survival=[round(float(x), 4) for x in curve.point[out_mask]],
        lower=[round(float(min(a, b)), 4) for a, b in zip(lo, curve.point[out_mask], strict=True)]
        if band and lo is not None else None,
        upper=[round(float(max(a, b)), 4) for a, b in zip(hi, curve.point[out_mask], strict=True)]
        if band and hi is not None else None,
        ci_note=curve.ci_note, median=None if med is None else round(med, 2),
        median_ci95=_median_ci(curve, grid), median_observed=med is None or med <= curve.observed_until,
        published_median=an.record.medians.get(curve.arm_id), landmarks=lms, rmst=rm, sources=an.sources(),
        notes=list(curve.notes))


# ============================================================================ differences
def _differences(ctx: _Ctx, group: Group, curves: Mapping[str, _Curve], tau: float | None
                 ) -> tuple[list[Difference], list[RmstDifference]]:
    ref = group.reference.regimen
    rc = curves[ref]
    diffs: list[Difference] = []
    rdiffs: list[RmstDifference] = []
    label = {"randomised": "within-trial (randomised)", "anchored": "anchored indirect (network meta-analysis)",
             "unanchored": "none"}[group.kind]
    for m in group.members:
        c = curves[m.regimen]
        paired = c.draws is not None and rc.draws is not None
        kind = "within-trial (randomised)" if m.role == "randomised" else label
        md = _median_from(c.point, ctx.grid)
        rmed = _median_from(rc.point, ctx.grid)
        for months in DIFFERENCE_MONTHS:
            i = round(months / STEP)
            d = float(c.point[i] - rc.point[i])
            lo = hi = None
            if paired:
                assert c.draws is not None and rc.draws is not None
                dd = c.draws[:, i] - rc.draws[:, i]
                lo, hi = (float(x) for x in np.quantile(dd, [0.025, 0.975]))
            diffs.append(Difference(endpoint=group.endpoint, option=m.regimen, reference=ref, months=months,
                                    difference=round(d, 4), lower=_r(lo, 4), upper=_r(hi, 4),
                                    observed=months <= min(c.observed_until, rc.observed_until),
                                    median_difference=None if md is None or rmed is None else round(md - rmed, 2),
                                    comparison=kind, comparison_id=group.id))
        if tau is not None:
            val = float(_rmst(c.point, ctx.grid, tau)[0] - _rmst(rc.point, ctx.grid, tau)[0])
            lo = hi = None
            if paired:
                assert c.draws is not None and rc.draws is not None
                dd = _rmst(c.draws, ctx.grid, tau) - _rmst(rc.draws, ctx.grid, tau)
                lo, hi = (float(x) for x in np.quantile(dd, [0.025, 0.975]))
            rdiffs.append(RmstDifference(endpoint=group.endpoint, option=m.regimen, reference=ref, tau=round(tau, 2),
                                         difference=round(val, 2), lower=_r(lo), upper=_r(hi), comparison_id=group.id))
    return diffs, rdiffs


def _comparison(group: Group, curves: Mapping[str, _Curve], tau: float | None) -> Comparison:
    ref = group.reference
    rc = curves[ref.regimen]
    trials = sorted({curves[m.regimen].analysis.trial.id for m in group.all}
                    | {t for m in group.members if (h := curves[m.regimen].hr) for t in h.trials})
    name = ref.option.name
    if group.kind == "randomised":
        title = f"Arms of one randomised trial: {rc.analysis.trial.id}"
        basis = (f"every curve is an arm of {rc.analysis.trial.id}; the comparator arm ({name}) is the reference "
                 "and differences are randomised comparisons")
    elif group.kind == "anchored":
        title = f"Anchored indirect comparison: reference {name} ({rc.analysis.trial.id})"
        basis = (f"the reference curve is {name} from {rc.analysis.trial.id}; each other option is that curve times "
                 "its hazard ratio against the reference (randomised where the trial compared them, otherwise from "
                 "the network meta-analysis), uncertainty of both carried through")
    else:
        title = f"Unanchored single-arm estimate: {name} ({rc.analysis.trial.id})"
        basis = ("no randomised or connected evidence links this option to the others: its curve is its own trial "
                 "arm, shown apart and not comparable with the other charts")
    assumptions = ["trial populations, not this patient: averages over the trial's patients"]
    if group.kind == "anchored":
        assumptions.append("transitivity across the linked trials and proportional hazards against the reference")
    return Comparison(id=group.id, endpoint=group.endpoint, kind=group.kind, title=title, basis=basis,  # type: ignore[arg-type]
                      reference=ref.regimen, reference_trial=rc.analysis.trial.id, trials=trials,
                      members=[m.regimen for m in group.all], rmst_tau=None if tau is None else round(tau, 2),
                      assumptions=assumptions)


# ============================================================================ subgroups
def _fmt_record(rec: Any, arm_labels: Mapping[str, str]) -> str:
    parts = []
    if rec.medians:
        parts.append("median " + " vs ".join(f"{arm_labels.get(a, a)} {v}" for a, v in rec.medians.items())
                     + " months")
    if rec.rates and rec.rate_at_months:
        parts.append(f"{rec.rate_at_months:g}-month rate " + " vs ".join(
            f"{arm_labels.get(a, a)} {v:g}%" for a, v in rec.rates.items()))
    if rec.hr is not None:
        ci = f" (95% CI {rec.hr_ci95[0]:g}-{rec.hr_ci95[1]:g})" if rec.hr_ci95 else f" ({NO_CI})"
        parts.append(f"HR {rec.hr:g}{ci}")
    if rec.note and "CI" in rec.note:
        parts.append(rec.note.rstrip("."))
    return "; ".join(parts) or "no numbers recorded"


def _subgroups(projs: Sequence[Projection], kb: Any, facts: Mapping[str, Any]) -> list[Subgroup]:
    out = []
    seen: set[tuple[str, str, str]] = set()
    for p in projs:
        trial = kb.trials.get(p.trial) if hasattr(kb, "trials") else None
        if trial is None:
            continue
        labels = {a.id: a.label for a in trial.arms}
        overall = next((e for e in trial.endpoints if e.endpoint == p.endpoint and e.analysis == p.analysis), None)
        for rec, what in subgroups_for(trial, p.endpoint, [p.arm], facts):
            key = (p.regimen_id, trial.id, rec.analysis + (rec.population or ""))
            if key in seen:
                continue
            seen.add(key)
            out.append(Subgroup(regimen_id=p.regimen_id, trial=trial.id, endpoint=rec.endpoint,
                                population=rec.population or "", matched=what, summary=_fmt_record(rec, labels),
                                overall=_fmt_record(overall, labels) if overall is not None else "",
                                sources=list(rec.sources)))
    return out


# ============================================================================ entry point
def _facts_of(recommendation: Any, patient: Any, facts: Mapping[str, Any] | None) -> dict[str, Any]:
    if facts is not None:
        return dict(facts)
    if patient is not None:
        from mbcpath.facts.derive import derive_facts

        return dict(derive_facts(patient).values)
    return dict(getattr(recommendation, "facts", {}) or {})


def _network(kb: Any, decision_point: str | None, endpoints: Sequence[str]) -> dict[str, Any] | None:
    if not decision_point:
        return None
    from mbcpath.survival.network import network_for

    try:
        return {ep: network_for(kb, decision_point, ep) for ep in endpoints}
    except ModelError:
        return None


def project_options(recommendation: Any, kb: Any, *, patient: Any = None, facts: Mapping[str, Any] | None = None,
                    horizon: float = 60.0, n_draws: int = 400, seed: int = 2012,
                    endpoints: Sequence[str] = ENDPOINTS, store: Any = None) -> ProjectionResult:
    """Project PFS and OS for every option of a recommendation, on a common basis per chart.

    Parameters
    ----------
    recommendation : :class:`mbcpath.domain.recommendation.Recommendation`.
    kb : :class:`mbcpath.kb.loader.KnowledgeBase`.
    patient, facts : the patient (or its derived facts), to pick cohorts and
        subgroups that fit (brain metastases, HR status, de novo); default: the
        recommendation's facts.
    horizon : months to project (curves beyond follow-up are marked extrapolated).
    n_draws, seed : parameter draws for the bands, differences and RMST (fixed
        seed: the same input gives the same output).
    store : a :class:`mbcpath.survival.artefact.FitStore` (default: the
        process-wide store built from the checked-in fits).

    References
    ----------
    Guyot P, Ades AE, Ouwens MJNM, Welton NJ. BMC Med Res Methodol 2012;12:9.
    Latimer N. NICE DSU TSD 14 (2011).
    Royston P, Parmar MKB. Restricted mean survival time. BMC Med Res Methodol 2013;13:152.
    Phillippo DM, et al. NICE DSU TSD 18 (2016): anchored and unanchored comparisons.
    """
    from mbcpath.survival.artefact import default_store

    store = store if store is not None else default_store(kb)
    dp = getattr(recommendation, "decision_point", None)
    dp = getattr(dp, "value", dp)
    ctx = _Ctx(kb=kb, store=store, grid=np.round(np.arange(0.0, max(horizon, 120.0) + STEP / 2, STEP), 6),
               horizon=float(horizon), n_draws=n_draws, seed=seed, network=_network(kb, dp, endpoints),
               decision_point=dp)
    f = _facts_of(recommendation, patient, facts)
    out = ProjectionResult(patient_id=getattr(recommendation, "patient_id", None),
                           kb_release=getattr(getattr(kb, "release", None), "kb_release", None)
                           or getattr(recommendation, "kb_release", None),
                           decision_point=dp, horizon_months=float(horizon))
    out.notes.append("Curves restate trial populations (averages over each trial's patients), not a prediction "
                     "for this patient. Curves share a chart only when they share a basis: arms of one randomised "
                     "trial, or an anchored comparison through a connected network. Solid lines end where the "
                     "trial's follow-up ends; dashed lines are extrapolations.")
    for ep in endpoints:
        _project_endpoint(ctx, recommendation.options, ep, f, out)
    out.subgroups = _subgroups(out.projections, kb, f)
    out.stale_fits = list(getattr(store, "stale", []))
    return out


def _endpoint_curves(ctx: _Ctx, options: Sequence[Any], ep: str, facts: Mapping[str, Any], skipped: list[str]
                     ) -> list[tuple[Group, dict[str, _Curve]]]:
    net = ctx.network[ep] if ctx.network else None
    plan = plan_endpoint(options, ctx.kb, ep, facts, network_component=net.connected if net is not None else None)
    skipped += [s for s in plan.skipped if s not in skipped]
    out = []
    for gi, group in enumerate(plan.groups):
        rng = np.random.default_rng([ctx.seed, ENDPOINTS.index(ep), gi])
        try:
            out.append((group, _group_curves(ctx, group, rng)))
        except ModelError as err:
            skipped.append(f"{', '.join(m.regimen for m in group.all)} {ep.upper()}: {err}")
    return out


def _project_endpoint(ctx: _Ctx, options: Sequence[Any], ep: str, facts: Mapping[str, Any],
                      out: ProjectionResult) -> None:
    for group, curves in _endpoint_curves(ctx, options, ep, facts, out.skipped):
        tau = min(c.observed_until for c in curves.values())
        for m in group.all:
            out.projections.append(_projection(ctx, group, m, curves[m.regimen], tau))
        diffs, rdiffs = _differences(ctx, group, curves, tau)
        out.differences += diffs
        out.rmst_differences += rdiffs
        out.comparisons.append(_comparison(group, curves, tau))


@dataclass(frozen=True)
class CurveDraws:
    """An option's curve on a grid with its parameter draws (rows), for simulations built on the projections."""

    regimen_id: str
    label: str
    trial: str
    basis_kind: str
    grid: NDArray[np.float64]
    point: NDArray[np.float64]
    draws: NDArray[np.float64] | None
    observed_until: float


def option_curves(recommendation: Any, kb: Any, *, patient: Any = None, facts: Mapping[str, Any] | None = None,
                  endpoint: str = "pfs", n_draws: int = 200, seed: int = 2012, grid_max: float = 240.0,
                  store: Any = None) -> dict[str, CurveDraws]:
    """The same curves :func:`project_options` draws, for one endpoint, as arrays (regimen id -> curve)."""
    from mbcpath.survival.artefact import default_store

    dp = getattr(recommendation, "decision_point", None)
    dp = getattr(dp, "value", dp)
    ctx = _Ctx(kb=kb, store=store if store is not None else default_store(kb),
               grid=np.round(np.arange(0.0, grid_max + STEP / 2, STEP), 6), horizon=grid_max, n_draws=n_draws,
               seed=seed, network=_network(kb, dp, (endpoint,)), decision_point=dp)
    out: dict[str, CurveDraws] = {}
    for group, curves in _endpoint_curves(ctx, recommendation.options, endpoint,
                                          _facts_of(recommendation, patient, facts), []):
        for m in group.all:
            c = curves[m.regimen]
            out[m.regimen] = CurveDraws(m.regimen, m.option.name, c.analysis.trial.id, group.kind, ctx.grid,
                                        c.point, c.draws, c.observed_until)
    return out
