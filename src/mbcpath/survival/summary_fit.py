"""Parametric curves fitted to a trial's published summary statistics, with model choice by AIC/BIC.

Where no patient-level data exist, a trial still publishes several numbers about
each arm's curve: the median (often with a 95% CI), landmark rates (24-month
PFS ...), and for a randomised comparison the hazard ratio with its CI. Each is
an observation of the curve with a standard error:

* a median m with CI (L, U): log(median) with SE = (log U - log L) / (2 z),
  or from the lower limit alone, (log m - log L) / z, when U was not reached;
* a landmark rate S at t from an arm of n patients: log(-log S) with variance
  (1 - S) / (n S log(S)^2) (binomial, delta method; censoring before t is
  ignored, so the landmark's weight is an upper bound);
* a hazard ratio with CI (L, U): log HR with SE = (log U - log L) / (2 z).

For a randomised trial the two arms are fitted jointly under proportional
hazards: the reference (control) arm has a baseline distribution of the chosen
family and the other arm S_ref(t)^HR, so the HR, both medians and both arms'
landmarks all inform one parameter vector (baseline theta, log HR). A single
arm is fitted alone. The standardised residuals give a Gaussian
(pseudo-)likelihood; each family (exponential, Weibull, log-logistic,
log-normal, Gompertz) is fitted by least squares, and AIC/BIC computed on these
published points (not on patient-level data: with few points they favour
parsimony and say little about the tail) choose among them. The parameter
covariance is the Gauss-Newton inverse (J^T J)^-1 at the optimum.

References
----------
Ades AE, Sutton AJ. Multiparameter evidence synthesis in epidemiology and
medical decision-making: current approaches. J R Stat Soc A 2006;169:5-35.
Parmar MKB, Torri V, Stewart L. Extracting summary statistics to perform
meta-analyses of the published literature for survival endpoints. Stat Med
1998;17:2815-34.
Latimer N. NICE DSU Technical Support Document 14. 2011 (updated 2013).
Brookmeyer R, Crowley J. A confidence interval for the median survival time.
Biometrics 1982;38:29-41.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from mbcpath.errors import ModelError
from mbcpath.survival.distributions import (
    Distribution,
    Exponential,
    Gompertz,
    LogLogistic,
    LogNormal,
    ProportionalHazards,
    Weibull,
)
from mbcpath.survival.fitting import FitResult

Z95 = 1.959963984540054
SUMMARY_FAMILIES: tuple[str, ...] = ("exponential", "weibull", "loglogistic", "lognormal", "gompertz")
_CLASSES: dict[str, type[Distribution]] = {"exponential": Exponential, "weibull": Weibull,
                                           "loglogistic": LogLogistic, "lognormal": LogNormal, "gompertz": Gompertz}
Kind = Literal["median", "landmark", "hr"]

__all__ = ["SUMMARY_FAMILIES", "SummaryFit", "SummaryPoint", "fit_summary", "fit_summary_all",
           "se_log_from_ci", "se_log_median"]


@dataclass(frozen=True)
class SummaryPoint:
    """One published number about the curve(s).

    ``arm`` is 0 for the reference (or only) arm and 1 for the arm compared
    with it; ``value`` is the median in months, the landmark survival as a
    proportion, or the HR (arm 1 vs arm 0); ``se`` is on the analysis scale
    (log median, log(-log S), log HR); ``published_ci`` says whether it comes
    from a published confidence interval (rather than from n).
    """

    kind: Kind
    arm: int
    value: float
    se: float
    t: float | None = None
    label: str = ""
    published_ci: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.value) and self.value > 0):
            raise ModelError(f"{self.label or self.kind} = {self.value!r}: must be a finite number > 0")
        if not (math.isfinite(self.se) and self.se > 0):
            raise ModelError(f"{self.label or self.kind}: standard error {self.se!r} must be > 0")
        if self.kind == "landmark" and not (0 < self.value < 1 and self.t is not None and self.t > 0):
            raise ModelError(f"{self.label}: a landmark needs 0 < S < 1 at a time t > 0")


def se_log_from_ci(lower: float, upper: float) -> float:
    """SE of a log-scale estimate from its 95% CI."""
    if not (0 < lower < upper) or not math.isfinite(upper):
        raise ModelError(f"95% CI ({lower!r}, {upper!r}): needs 0 < lower < upper < inf")
    return (math.log(upper) - math.log(lower)) / (2 * Z95)


def se_log_median(median: float, lower: float | None, upper: float | None) -> float | None:
    """SE of log(median) from its CI; from the lower half alone when the upper limit was not reached."""
    if lower is not None and upper is not None and 0 < lower < median < upper:
        return se_log_from_ci(lower, upper)
    if lower is not None and 0 < lower < median:
        return (math.log(median) - math.log(lower)) / Z95
    return None


def landmark_se(s: float, n: int) -> float:
    """SE of log(-log S) for a landmark proportion from n patients (binomial, delta method)."""
    if n <= 0 or not 0 < s < 1:
        raise ModelError(f"landmark {s!r} from n = {n!r}: needs 0 < S < 1 and n > 0")
    return math.sqrt((1 - s) / (n * s * math.log(s) ** 2))


@dataclass
class SummaryFit:
    """A family fitted to published summary points (one arm, or two under proportional hazards)."""

    family: str
    theta: NDArray[np.float64]
    cov: NDArray[np.float64] | None
    loglik: float
    aic: float
    bic: float
    n_points: int
    two_arms: bool
    residuals: list[tuple[str, float]] = field(default_factory=list)
    converged: bool = True

    @property
    def n_params(self) -> int:
        return int(self.theta.size)

    def reference(self) -> Distribution:
        k = self.theta.size - (1 if self.two_arms else 0)
        return _CLASSES[self.family].from_theta(self.theta[:k])

    def hr(self) -> float | None:
        return math.exp(float(self.theta[-1])) if self.two_arms else None

    def arm(self, i: int) -> Distribution:
        ref = self.reference()
        if i == 0:
            return ref
        hr = self.hr()
        if hr is None:
            raise ModelError("arm = 1: a single-arm fit has no second arm")
        return ProportionalHazards(ref, hr)

    def fit_result(self, i: int, label: str = "") -> FitResult:
        """The arm as a :class:`FitResult` (theta and covariance for parametric-bootstrap draws)."""
        k = self.theta.size - (1 if self.two_arms else 0)
        if i == 0:
            cov = None if self.cov is None else self.cov[:k, :k]
            return FitResult(self.reference(), self.family, self.theta[:k].copy(), cov, self.loglik, self.aic,
                             self.bic, basis=label, assumptions=self.assumptions())
        return FitResult(self.arm(1), self.family, self.theta.copy(), self.cov, self.loglik, self.aic, self.bic,
                         basis=label, assumptions=[*self.assumptions(), "proportional hazards between the arms"])

    def assumptions(self) -> list[str]:
        return [f"{self.family} shape fitted to {self.n_points} published summary points; beyond them the "
                "family's shape is an assumption"]


def _model_value(dist: Distribution, p: SummaryPoint) -> float:
    if p.kind == "median":
        m = float(dist.median())
        return math.log(m) if math.isfinite(m) and m > 0 else math.log(1e6)
    assert p.t is not None
    s = float(dist.survival(p.t))
    s = min(max(s, 1e-12), 1 - 1e-12)
    return math.log(-math.log(s))


def _observed(p: SummaryPoint) -> float:
    if p.kind == "median":
        return math.log(p.value)
    if p.kind == "landmark":
        return math.log(-math.log(p.value))
    return math.log(p.value)


def _residuals(theta: NDArray[np.float64], family: str, points: Sequence[SummaryPoint], two_arms: bool
               ) -> NDArray[np.float64]:
    k = theta.size - (1 if two_arms else 0)
    try:
        ref = _CLASSES[family].from_theta(theta[:k])
    except (ModelError, OverflowError, ValueError):
        return np.full(len(points), 1e3)
    arms = [ref, ProportionalHazards(ref, math.exp(float(theta[-1])))] if two_arms else [ref]
    out = np.empty(len(points))
    with np.errstate(all="ignore"):
        for i, p in enumerate(points):
            if p.kind == "hr":
                model = float(theta[-1])
            else:
                model = _model_value(arms[p.arm], p)
            r = (model - _observed(p)) / p.se
            out[i] = r if math.isfinite(r) else 1e3
    return out


def _starts(family: str, scale: float) -> list[list[float]]:
    """A few starting points on the unconstrained scale around an exponential with median ``scale``."""
    rate = math.log(2) / scale
    if family == "exponential":
        return [[math.log(rate)]]
    if family == "weibull":
        return [[0.0, math.log(scale / math.log(2))], [math.log(1.5), math.log(scale)]]
    if family == "loglogistic":
        return [[math.log(1.5), math.log(scale)], [math.log(3.0), math.log(scale)]]
    if family == "lognormal":
        return [[math.log(scale), 0.0], [math.log(scale), math.log(0.5)]]
    if family == "gompertz":
        return [[0.0, math.log(rate)], [0.02, math.log(rate / 2)], [-0.02, math.log(rate)]]
    raise ModelError(f"family = {family!r}: must be one of {', '.join(SUMMARY_FAMILIES)}")


def _typical_time(points: Sequence[SummaryPoint]) -> float:
    """A median-like time scale for the reference arm, to start the optimiser near the data."""
    for p in points:
        if p.kind == "median" and p.arm == 0:
            return p.value
    for p in points:
        if p.kind == "landmark" and p.arm == 0 and p.t is not None:
            return p.t * math.log(2) / -math.log(p.value)
    return 12.0


def fit_summary(points: Sequence[SummaryPoint], family: str) -> SummaryFit:
    """Fit one family to the points (jointly under PH when any point concerns arm 1).

    Raises ModelError when the family has more parameters than there are points.
    """
    from scipy.optimize import least_squares

    pts = list(points)
    two = any(p.arm == 1 or p.kind == "hr" for p in pts)
    starts = _starts(family, _typical_time(pts))
    n_par = len(starts[0]) + (1 if two else 0)
    if n_par > len(pts):
        raise ModelError(f"family = {family!r}: {n_par} parameters but only {len(pts)} published points")
    hr0 = next((math.log(p.value) for p in pts if p.kind == "hr"), 0.0)
    best = None
    for s in starts:
        x0 = np.array([*s, hr0] if two else s, dtype=np.float64)
        res = least_squares(_residuals, x0, args=(family, pts, two), method="trf", x_scale="jac", max_nfev=2000)
        if best is None or res.cost < best.cost:
            best = res
    assert best is not None
    return _finish(best, family, pts, two)


def _finish(res: object, family: str, pts: list[SummaryPoint], two: bool) -> SummaryFit:
    theta = np.asarray(res.x, dtype=np.float64)  # type: ignore[attr-defined]
    r = np.asarray(res.fun, dtype=np.float64)  # type: ignore[attr-defined]
    jac = np.asarray(res.jac, dtype=np.float64)  # type: ignore[attr-defined]
    jtj = jac.T @ jac
    cov = np.asarray(np.linalg.pinv(jtj), dtype=np.float64) if np.linalg.matrix_rank(jtj) == theta.size else None
    const = sum(math.log(p.se * math.sqrt(2 * math.pi)) for p in pts)
    loglik = float(-0.5 * np.sum(r**2) - const)
    k = theta.size
    return SummaryFit(family=family, theta=theta, cov=cov, loglik=loglik, aic=-2 * loglik + 2 * k,
                      bic=-2 * loglik + k * math.log(len(pts)), n_points=len(pts), two_arms=two,
                      residuals=[(p.label or p.kind, round(float(x), 4)) for p, x in zip(pts, r, strict=True)],
                      converged=bool(res.success) and float(np.max(np.abs(r))) < 1e2)  # type: ignore[attr-defined]


def fit_summary_all(points: Sequence[SummaryPoint], families: Sequence[str] = SUMMARY_FAMILIES) -> list[SummaryFit]:
    """Every family that can be fitted (enough points, converged), best AIC first.

    References
    ----------
    Akaike H. A new look at the statistical model identification. IEEE Trans
    Automat Contr 1974;19:716-23.
    Schwarz G. Estimating the dimension of a model. Ann Stat 1978;6:461-4.
    """
    fits: list[SummaryFit] = []
    for fam in families:
        try:
            f = fit_summary(points, fam)
        except ModelError:
            continue
        if f.converged:
            fits.append(f)
    if not fits:
        raise ModelError(f"no parametric family could be fitted to the {len(points)} published points")
    return sorted(fits, key=lambda f: (round(f.aic, 9), f.n_params))
