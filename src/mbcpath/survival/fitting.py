"""Fit survival distributions to patient-level data and to published summaries.

Patient-level data (:func:`fit_ipd`, :func:`fit_all`) are fitted by maximum
likelihood with lifelines where it has the family (exponential, Weibull,
log-normal, log-logistic, generalized gamma, piecewise exponential) and with a
small custom lifelines fitter for the Gompertz, which lifelines lacks. Each fit
returns one of our :mod:`~mbcpath.survival.distributions` objects plus the
log-likelihood, AIC/BIC and the covariance of the unconstrained parameter
vector ``theta`` (log of positive parameters), obtained from lifelines'
observed-information covariance by the delta method (exact at the MLE, where
the gradient is zero). lifelines agrees with R ``survreg``/flexsurv to six
decimals on GBSG2 (tests/data/survival/gbsg2_reference.json).

Published summaries (:func:`from_median`, :func:`from_landmarks`,
:func:`from_hazard_ratio`) give curves with explicit assumptions; each
docstring says what they are.

lifelines is imported inside the functions that need it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mbcpath.errors import ModelError
from mbcpath.survival.distributions import (
    Distribution,
    Exponential,
    GeneralizedGamma,
    Gompertz,
    LogLogistic,
    LogNormal,
    PiecewiseExponential,
    ProportionalHazards,
    Weibull,
)

Z95 = 1.959963984540054
Family = Literal["exponential", "weibull", "lognormal", "loglogistic", "gompertz", "gengamma", "pwexp"]
FAMILIES: tuple[Family, ...] = ("exponential", "weibull", "lognormal", "loglogistic", "gompertz", "gengamma")

__all__ = [
    "FAMILIES",
    "FitResult",
    "fit_all",
    "fit_ipd",
    "from_hazard_ratio",
    "from_landmarks",
    "from_median",
]


@dataclass
class FitResult:
    """A fitted distribution with what is needed to judge and propagate it.

    Attributes
    ----------
    dist : the fitted distribution (point estimate).
    family : family name (``weibull`` ...).
    theta, cov : unconstrained parameter vector and its covariance matrix
        (None where the source gives no uncertainty).
    loglik, aic, bic : maximised log-likelihood (time scale, as R survreg)
        and information criteria; None for fits to summaries.
    n, events : patients and events fitted (None for summaries).
    basis : one line saying what the curve rests on.
    assumptions : the modelling assumptions a reader must accept.
    """

    dist: Distribution
    family: str
    theta: NDArray[np.float64]
    cov: NDArray[np.float64] | None = None
    loglik: float | None = None
    aic: float | None = None
    bic: float | None = None
    n: int | None = None
    events: int | None = None
    basis: str = ""
    assumptions: list[str] = field(default_factory=list)

    @property
    def n_params(self) -> int:
        return int(self.theta.size)

    def rebuild(self, theta: ArrayLike) -> Distribution:
        """The distribution of the same family at another ``theta``."""
        th = np.asarray(theta, dtype=np.float64)
        d = self.dist
        if isinstance(d, ProportionalHazards):
            base_fit = FitResult(d.base, self.family, th[:-1])
            return ProportionalHazards(base_fit.rebuild(th[:-1]), math.exp(th[-1]))
        if isinstance(d, PiecewiseExponential):
            return d.from_theta_like(th)
        return type(d).from_theta(th)

    def draw_thetas(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        """Parameter vectors drawn from N(theta, cov): a parametric bootstrap.

        Returns ``size`` copies of ``theta`` when there is no covariance.

        References
        ----------
        Briggs A, Claxton K, Sculpher M. Decision Modelling for Health Economic
        Evaluation. Oxford University Press 2006, ch. 4 (probabilistic
        sensitivity analysis with multivariate normal parameter draws).
        """
        if self.cov is None or not np.any(self.cov):
            return np.tile(self.theta, (size, 1))
        return rng.multivariate_normal(self.theta, self.cov, size=size, method="cholesky")

    def draw(self, rng: np.random.Generator, size: int) -> list[Distribution]:
        """``size`` distributions with parameters drawn from their sampling distribution."""
        return [self.rebuild(t) for t in self.draw_thetas(rng, size)]

    def summary(self) -> dict[str, Any]:
        """JSON-friendly description."""
        return {
            "family": self.family, "params": self.dist.params, "loglik": self.loglik, "aic": self.aic,
            "bic": self.bic, "n": self.n, "events": self.events, "basis": self.basis,
            "assumptions": list(self.assumptions),
        }


# ============================================================= patient-level
def _check_ipd(time: ArrayLike, event: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    t = np.asarray(time, dtype=np.float64).ravel()
    e = np.asarray(event).ravel()
    if t.size == 0:
        raise ModelError("time: no observations; at least one patient is needed")
    if t.size != e.size:
        raise ModelError(f"event: {e.size} values for {t.size} times; one event flag per time is needed")
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        bad = t[~np.isfinite(t) | (t < 0)][0].item()
        raise ModelError(f"time = {bad!r}: times must be finite and >= 0")
    if not np.all(np.isin(e, (0, 1))):
        bad = e[~np.isin(e, (0, 1))][0].item()
        raise ModelError(f"event = {bad!r}: event flags must be 0 (censored) or 1 (event)")
    if e.sum() == 0:
        raise ModelError("event: no events among the observations; a parametric model cannot be fitted")
    # lifelines rejects zero times for some families: move them to a tiny positive value
    t = np.where(t <= 0, 1e-6, t)
    return t, e.astype(np.int64)


def _gompertz_fitter() -> Any:
    """A lifelines fitter for h(t) = b exp(a t) (flexsurv shape a, rate b)."""
    from autograd import numpy as anp
    from lifelines.fitters import ParametricUnivariateFitter

    class GompertzFitter(ParametricUnivariateFitter):  # type: ignore[misc]
        _fitted_parameter_names = ["a_", "b_"]  # noqa: RUF012 - lifelines' API
        _bounds = [(None, None), (0, None)]  # noqa: RUF012

        def _cumulative_hazard(self, params: Any, times: Any) -> Any:
            a, b = params
            a = anp.where(anp.abs(a) < 1e-10, 1e-10, a)
            return b / a * anp.expm1(a * times)

    return GompertzFitter()


def _delta_cov(cov_nat: NDArray[np.float64], values: NDArray[np.float64],
               log_mask: Sequence[bool], signs: Sequence[float] | None = None) -> NDArray[np.float64]:
    """Covariance of theta = g(natural params): J cov J^T with J = diag(1/x or 1)."""
    jac = np.array([(1.0 / v if lg else 1.0) for v, lg in zip(values, log_mask, strict=True)])
    if signs is not None:
        jac = jac * np.asarray(signs)
    return cov_nat * np.outer(jac, jac)


def _fit_pwexp(t: NDArray[np.float64], e: NDArray[np.int64], breaks: list[float]
               ) -> tuple[PiecewiseExponential, NDArray[np.float64], float]:
    """Closed-form MLE of a piecewise-constant hazard: rate_j = d_j / exposure_j.

    Var(log rate_j) = 1/d_j, independent across pieces (the observed
    information is diagonal). Same likelihood as lifelines'
    ``PiecewiseExponentialFitter`` (checked in the tests).

    References
    ----------
    Friedman M. Piecewise exponential models for survival data with
    covariates. Ann Stat 1982;10:101-13.
    """
    if any(b <= 0 for b in breaks) or any(b2 <= b1 for b1, b2 in itertools.pairwise(breaks)):
        raise ModelError(f"breakpoints = {breaks}: must be > 0 and strictly increasing")
    edges = np.array([0.0, *breaks, np.inf])
    lo, hi = edges[:-1], edges[1:]
    exposure = np.clip(np.minimum(t[:, None], hi[None, :]) - lo[None, :], 0.0, None).sum(axis=0)
    piece = np.searchsorted(edges, t, side="right") - 1
    piece = np.minimum(piece, len(breaks))
    d = np.bincount(piece, weights=e, minlength=len(breaks) + 1)
    if np.any(d == 0):
        j = int(np.argmax(d == 0))
        raise ModelError(f"breakpoints = {breaks}: no events in piece {j} "
                         f"[{edges[j]:g}, {edges[j + 1]:g}); merge it with a neighbour")
    rates = d / exposure
    loglik = float(np.sum(d * np.log(rates)) - np.sum(rates * exposure))
    return PiecewiseExponential(breaks, rates.tolist()), np.diag(1.0 / d), loglik


_Fitted = tuple[Distribution, NDArray[np.float64], float]


def _ll_exponential(t: NDArray[np.float64], e: NDArray[np.int64]) -> _Fitted:
    import lifelines

    f = lifelines.ExponentialFitter().fit(t, e)
    lam = float(f.params_["lambda_"])  # scale = 1/rate
    cov = _delta_cov(f.variance_matrix_.to_numpy(), np.array([lam]), [True], signs=[-1.0])
    return Exponential(1.0 / lam), cov, float(f.log_likelihood_)


def _ll_weibull(t: NDArray[np.float64], e: NDArray[np.int64]) -> _Fitted:
    import lifelines

    f = lifelines.WeibullFitter().fit(t, e)
    lam, rho = float(f.params_["lambda_"]), float(f.params_["rho_"])
    # lifelines order (lambda_, rho_) -> our theta order (log shape, log scale)
    v = f.variance_matrix_.loc[["rho_", "lambda_"], ["rho_", "lambda_"]].to_numpy()
    return Weibull(shape=rho, scale=lam), _delta_cov(v, np.array([rho, lam]), [True, True]), float(f.log_likelihood_)


def _ll_lognormal(t: NDArray[np.float64], e: NDArray[np.int64]) -> _Fitted:
    import lifelines

    f = lifelines.LogNormalFitter().fit(t, e)
    mu, sg = float(f.params_["mu_"]), float(f.params_["sigma_"])
    v = f.variance_matrix_.loc[["mu_", "sigma_"], ["mu_", "sigma_"]].to_numpy()
    return LogNormal(mu, sg), _delta_cov(v, np.array([mu, sg]), [False, True]), float(f.log_likelihood_)


def _ll_loglogistic(t: NDArray[np.float64], e: NDArray[np.int64]) -> _Fitted:
    import lifelines

    f = lifelines.LogLogisticFitter().fit(t, e)
    al, be = float(f.params_["alpha_"]), float(f.params_["beta_"])
    v = f.variance_matrix_.loc[["beta_", "alpha_"], ["beta_", "alpha_"]].to_numpy()
    return LogLogistic(shape=be, scale=al), _delta_cov(v, np.array([be, al]), [True, True]), float(f.log_likelihood_)


def _ll_gengamma(t: NDArray[np.float64], e: NDArray[np.int64]) -> _Fitted:
    import lifelines

    f = lifelines.GeneralizedGammaFitter().fit(t, e)
    mu, lns, q = (float(f.params_[k]) for k in ("mu_", "ln_sigma_", "lambda_"))
    cov = f.variance_matrix_.loc[["mu_", "ln_sigma_", "lambda_"], ["mu_", "ln_sigma_", "lambda_"]].to_numpy()
    return GeneralizedGamma(mu, math.exp(lns), q), cov, float(f.log_likelihood_)


def _ll_gompertz(t: NDArray[np.float64], e: NDArray[np.int64]) -> _Fitted:
    start = np.array([0.01, max(e.sum() / t.sum(), 1e-6)])
    f = _gompertz_fitter().fit(t, e, initial_point=start)
    a, b = float(f.params_["a_"]), float(f.params_["b_"])
    v = f.variance_matrix_.loc[["a_", "b_"], ["a_", "b_"]].to_numpy()
    return Gompertz(shape=a, rate=b), _delta_cov(v, np.array([a, b]), [False, True]), float(f.log_likelihood_)


_LIFELINES = {"exponential": _ll_exponential, "weibull": _ll_weibull, "lognormal": _ll_lognormal,
              "loglogistic": _ll_loglogistic, "gengamma": _ll_gengamma, "gompertz": _ll_gompertz}


def fit_ipd(time: ArrayLike, event: ArrayLike, family: Family | str = "weibull", *,
            breakpoints: Sequence[float] | None = None, label: str = "") -> FitResult:
    """Fit one parametric family to right-censored patient-level data by maximum likelihood.

    Parameters
    ----------
    time, event : follow-up times (>= 0) and event flags (1 event, 0 censored).
    family : ``exponential``, ``weibull``, ``lognormal``, ``loglogistic``,
        ``gompertz``, ``gengamma`` or ``pwexp`` (then ``breakpoints`` is required).
    label : shown in the result's ``basis``.

    Returns
    -------
    FitResult with the distribution, log-likelihood (density of t, as R
    ``survreg``), AIC = -2 loglik + 2p, BIC = -2 loglik + p log(n), and the
    covariance of ``theta``.

    Notes
    -----
    Assumes independent, non-informative right censoring and one homogeneous
    population (no covariates). Extrapolation beyond follow-up depends entirely
    on the family's shape: compare families (:func:`fit_all`) and judge the
    tail clinically (NICE DSU TSD 14).

    References
    ----------
    Latimer N. NICE DSU Technical Support Document 14: survival analysis for
    economic evaluations alongside clinical trials. 2011 (updated 2013).
    Davidson-Pilon C. lifelines: survival analysis in Python. J Open Source
    Softw 2019;4(40):1317. doi:10.21105/joss.01317
    Jackson C. flexsurv: a platform for parametric survival modeling in R.
    J Stat Softw 2016;70(8):1-33.
    """
    t, e = _check_ipd(time, event)
    fam = str(family)
    dist: Distribution
    if fam == "pwexp":
        if breakpoints is None or len(breakpoints) == 0:
            raise ModelError("breakpoints = None: the piecewise-exponential family needs interior cut points")
        dist, cov, loglik = _fit_pwexp(t, e, [float(b) for b in breakpoints])
    elif fam in _LIFELINES:
        try:
            dist, cov, loglik = _LIFELINES[fam](t, e)
        except ModelError:
            raise
        except Exception as err:  # lifelines convergence problems
            raise ModelError(f"family = {fam!r}: maximum-likelihood fit failed ({type(err).__name__}: {err})") \
                from None
    else:
        raise ModelError(f"family = {family!r}: must be one of {', '.join((*FAMILIES, 'pwexp'))}")
    p = int(dist.theta.size)
    return FitResult(
        dist=dist, family=fam, theta=dist.theta, cov=np.asarray(cov, dtype=np.float64), loglik=loglik,
        aic=-2 * loglik + 2 * p, bic=-2 * loglik + p * math.log(t.size), n=int(t.size), events=int(e.sum()),
        basis=(f"{fam} maximum-likelihood fit to {t.size} patients ({int(e.sum())} events)"
               f"{' - ' + label if label else ''}"),
        assumptions=["independent non-informative censoring", f"{fam} shape holds beyond follow-up"],
    )


def fit_all(time: ArrayLike, event: ArrayLike, families: Sequence[str] = FAMILIES, *,
            label: str = "") -> list[FitResult]:
    """Fit several families and return them sorted by AIC (best first).

    Families whose fit fails are left out; if every one fails the error of the
    first is raised.

    References
    ----------
    Akaike H. A new look at the statistical model identification. IEEE Trans
    Automat Contr 1974;19:716-23.
    Latimer N. NICE DSU TSD 14 (2011): compare the standard set of families
    by AIC/BIC and clinical plausibility.
    """
    fits: list[FitResult] = []
    first_err: ModelError | None = None
    for fam in families:
        try:
            fits.append(fit_ipd(time, event, fam, label=label))
        except ModelError as err:
            first_err = first_err or err
    if not fits:
        assert first_err is not None
        raise first_err
    return sorted(fits, key=lambda r: r.aic if r.aic is not None else math.inf)


# ============================================================ from summaries
def _ci_se_log(lower: float, upper: float, what: str) -> float:
    if not (0 < lower <= upper) or not math.isfinite(upper):
        raise ModelError(f"{what} = ({lower!r}, {upper!r}): a 95% CI needs 0 < lower <= upper < inf")
    return (math.log(upper) - math.log(lower)) / (2 * Z95)


def from_median(median: float, ci95: tuple[float, float] | None = None, *, family: str = "exponential",
                shape: float = 1.0, label: str = "") -> FitResult:
    """An exponential or Weibull curve through a published median (with its 95% CI).

    Exponential: rate = log(2)/median. Weibull: the shape cannot be learnt from
    one median, so it is an explicit input (default 1, i.e. exponential) and
    scale = median / log(2)^(1/shape).

    Uncertainty: the CI of the median gives the standard error of log(median),
    SE = (log U - log L) / (2 * 1.96) (the usual log-symmetric CI; for an
    exponential, SE(log median) = 1/sqrt(events)). It is carried as the
    uncertainty of log(rate) or log(scale); the shape is held fixed.

    Assumptions (reported in the result): constant hazard (exponential) or the
    stated Weibull shape; a median CI that is symmetric on the log scale.
    An upper limit "NR" (not reached) must be passed as None for ``ci95``.

    References
    ----------
    Collett D. Modelling Survival Data in Medical Research, 3rd ed. CRC 2015,
    ch. 5 (exponential and Weibull models; the median of an exponential).
    Brookmeyer R, Crowley J. A confidence interval for the median survival
    time. Biometrics 1982;38:29-41.
    """
    try:
        m = float(median)
    except (TypeError, ValueError):
        m = math.nan
    if not (math.isfinite(m) and m > 0):
        raise ModelError(f"median = {median!r}: must be a finite number of months > 0")
    se = _ci_se_log(float(ci95[0]), float(ci95[1]), "median_ci95") if ci95 is not None else None
    assumptions: list[str] = []
    if family == "exponential":
        dist: Distribution = Exponential(math.log(2) / m)
        cov = np.array([[se**2]]) if se is not None else None
        assumptions.append("constant hazard (exponential) through the published median")
    elif family == "weibull":
        sh = float(shape)
        if not (math.isfinite(sh) and sh > 0):
            raise ModelError(f"shape = {shape!r}: the assumed Weibull shape must be > 0")
        dist = Weibull(sh, m / math.log(2) ** (1 / sh))
        cov = np.array([[0.0, 0.0], [0.0, se**2]]) if se is not None else None
        assumptions.append(f"Weibull with assumed shape {sh:g} through the published median")
    else:
        raise ModelError(f"family = {family!r}: a curve from a median can be 'exponential' or 'weibull'")
    if se is not None:
        assumptions.append("median 95% CI symmetric on the log scale")
    else:
        assumptions.append("no median CI: no parameter uncertainty")
    return FitResult(dist=dist, family=family, theta=dist.theta, cov=cov,
                     basis=f"{family} through published median {m:g}{' - ' + label if label else ''}",
                     assumptions=assumptions)


def _landmark_exponential(t: NDArray[np.float64], y: NDArray[np.float64], x: NDArray[np.float64],
                          var_y: NDArray[np.float64] | None) -> tuple[Distribution, NDArray[np.float64] | None]:
    """-log S = rate t, so log rate = y - x: a weighted mean (by 1/var, else by t)."""
    w = 1.0 / var_y if var_y is not None else t
    log_rate = float(np.sum(w * (y - x)) / np.sum(w))
    cov = np.array([[1.0 / np.sum(1.0 / var_y)]]) if var_y is not None else None
    return Exponential(math.exp(log_rate)), cov


def _landmark_weibull(t: NDArray[np.float64], s: NDArray[np.float64], y: NDArray[np.float64],
                      x: NDArray[np.float64], var_y: NDArray[np.float64] | None
                      ) -> tuple[Distribution, NDArray[np.float64] | None]:
    """Weighted least squares of y = shape x - shape log(scale); covariance to (log shape, log scale)."""
    w = 1.0 / var_y if var_y is not None else np.ones_like(y)
    xm = np.sum(w * x) / np.sum(w)
    ym = np.sum(w * y) / np.sum(w)
    sxx = np.sum(w * (x - xm) ** 2)
    if sxx <= 0:
        raise ModelError(f"times = {t.tolist()}: a Weibull fit needs landmarks at two different times")
    shape = float(np.sum(w * (x - xm) * (y - ym)) / sxx)
    if shape <= 0:
        raise ModelError(f"survival = {s.tolist()}: the landmarks imply a non-positive Weibull shape")
    intercept = ym - shape * xm
    cov = None
    if var_y is not None:
        xtwx = np.array([[np.sum(w * x * x), np.sum(w * x)], [np.sum(w * x), np.sum(w)]])
        cov_bi = np.linalg.inv(xtwx)  # order (slope, intercept)
        jac = np.array([[1 / shape, 0.0], [intercept / shape**2, -1 / shape]])
        cov = jac @ cov_bi @ jac.T
    return Weibull(shape, math.exp(-intercept / shape)), cov


def from_landmarks(times: Sequence[float], survival: Sequence[float], *, family: str = "weibull",
                   n_at_risk: int | None = None, label: str = "") -> FitResult:
    """A Weibull (or exponential) curve through published landmark survival rates.

    ``survival`` are proportions in (0, 1) at ``times`` (a median is the
    landmark S = 0.5). Weibull: log(-log S) = shape * (log t - log scale), a
    straight line fitted by least squares (exact through two landmarks);
    exponential: rate = mean of -log(S)/t weighted by t (exact for one landmark).

    If ``n_at_risk`` (the number of patients behind the rates) is given, the
    parameter covariance comes from the binomial (Greenwood-type) variance of
    log(-log S) at each landmark, Var = (1-S) / (n S log(S)^2), propagated
    through the least-squares fit; otherwise the fit has no uncertainty.

    Assumptions: the rates are from one KM curve of the intended population;
    the Weibull (or constant) hazard shape holds between and beyond them.

    References
    ----------
    Kalbfleisch JD, Prentice RL. The Statistical Analysis of Failure Time Data,
    2nd ed. Wiley 2002, sec. 1.3 (Weibull log(-log S) linearisation).
    Greenwood M. The natural duration of cancer. Rep Public Health Med Subj
    1926;33:1-26.
    """
    t = np.asarray(times, dtype=np.float64)
    s = np.asarray(survival, dtype=np.float64)
    if t.size == 0 or t.size != s.size:
        raise ModelError(f"survival: {s.size} rates for {t.size} landmark times; give one rate per time")
    if np.any(~np.isfinite(t)) or np.any(t <= 0):
        raise ModelError(f"times = {t.tolist()}: landmark times must be finite and > 0")
    if np.any((s <= 0) | (s >= 1)):
        raise ModelError(f"survival = {s.tolist()}: landmark rates must be proportions strictly between 0 and 1")
    if np.any(np.diff(s[np.argsort(t)]) > 0):
        raise ModelError(f"survival = {s.tolist()}: rates rise with time; a survival curve cannot rise")
    y = np.log(-np.log(s))
    x = np.log(t)
    var_y = None
    if n_at_risk is not None:
        if n_at_risk <= 0:
            raise ModelError(f"n_at_risk = {n_at_risk!r}: must be a positive number of patients")
        var_y = (1 - s) / (n_at_risk * s * np.log(s) ** 2)
    if family not in ("exponential", "weibull"):
        raise ModelError(f"family = {family!r}: landmark fits can be 'exponential' or 'weibull'")
    if family == "exponential" or t.size == 1:
        dist, cov = _landmark_exponential(t, y, x, var_y)
        fam = "exponential"
        fam_note = ("one landmark: exponential (a Weibull shape needs two)" if family == "weibull"
                    else "constant hazard through the landmarks")
    else:
        dist, cov = _landmark_weibull(t, s, y, x, var_y)
        fam = "weibull"
        fam_note = "Weibull through the landmarks (log(-log S) linear in log t)"
    return FitResult(dist=dist, family=fam, theta=dist.theta, cov=cov,
                     basis=f"{fam} through landmark rates at {t.tolist()}{' - ' + label if label else ''}",
                     assumptions=[fam_note] + ([] if var_y is not None else ["no n at risk: no uncertainty"]))


def from_hazard_ratio(control: FitResult | Distribution, hr: float, hr_ci95: tuple[float, float] | None = None,
                      *, label: str = "") -> FitResult:
    """An experimental-arm curve from a control curve and a hazard ratio (proportional hazards).

    S_exp(t) = S_ctrl(t)^HR. The log HR's standard error is taken from its
    95% CI, SE = (log U - log L) / (2 * 1.96), and is independent of the
    control curve's parameter uncertainty (block-diagonal covariance).

    Assumptions: proportional hazards for the whole horizon (no delayed or
    waning effect); the HR and the control curve come from the same trial and
    population; the CI is a Wald interval on the log scale.

    References
    ----------
    Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
    Parmar MKB, Torri V, Stewart L. Extracting summary statistics to perform
    meta-analyses of the published literature for survival endpoints. Stat Med
    1998;17:2815-34 (log HR variance from a reported CI).
    """
    h = float(hr)
    if not (math.isfinite(h) and h > 0):
        raise ModelError(f"hr = {hr!r}: a hazard ratio must be a finite number > 0")
    ctrl = control if isinstance(control, FitResult) else FitResult(control, control.name, control.theta)
    se = None
    if hr_ci95 is not None:
        lo, hi = float(hr_ci95[0]), float(hr_ci95[1])
        se = _ci_se_log(lo, hi, "hr_ci95")
        if not (lo <= h <= hi):
            raise ModelError(f"hr = {h!r}: lies outside its 95% CI ({lo}, {hi})")
    dist = ProportionalHazards(ctrl.dist, h)
    k = ctrl.theta.size
    cov = None
    if ctrl.cov is not None or se is not None:
        cov = np.zeros((k + 1, k + 1))
        if ctrl.cov is not None:
            cov[:k, :k] = ctrl.cov
        if se is not None:
            cov[k, k] = se**2
    return FitResult(dist=dist, family=ctrl.family, theta=dist.theta, cov=cov,
                     basis=f"control curve x HR {h:g}{' - ' + label if label else ''}",
                     assumptions=[*ctrl.assumptions, "proportional hazards (HR constant over time)"])
