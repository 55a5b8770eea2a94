"""Parametric time-to-event distributions in flexsurv's parameterisations.

Every distribution is a small subclass of :class:`Distribution`, which owns the
generic machinery once: survival ``S = exp(-H)``, CDF, density ``f = h S``,
restricted mean (numerical integration unless a subclass has a closed form),
inverse-CDF sampling with a :class:`numpy.random.Generator`, proportional-hazards
scaling, and the mapping to an unconstrained parameter vector ``theta`` (log of
every positive parameter) that fitting and probabilistic sensitivity analysis use.

Parameterisations follow R flexsurv (Jackson 2016) so that published flexsurv
parameters can be reused unchanged:

==================  ===========================  ==========================================
class               parameters                   survival function
==================  ===========================  ==========================================
Exponential         rate                         exp(-rate t)
Weibull             shape a, scale b             exp(-(t/b)^a)            (R ``dweibull``)
LogLogistic         shape a, scale b             1 / (1 + (t/b)^a)        (flexsurv ``llogis``)
LogNormal           meanlog mu, sdlog sigma      1 - Phi((log t - mu)/sigma)
Gompertz            shape a, rate b              exp(-(b/a)(e^{a t} - 1)) (flexsurv ``gompertz``)
GeneralizedGamma    mu, sigma, Q                 Prentice (1974), flexsurv ``gengamma``
PiecewiseExponential breaks, rates               constant hazard rates[j] on [breaks[j], breaks[j+1])
==================  ===========================  ==========================================

Times are in whatever unit the parameters were fitted in (months in mbcpath).
Nothing here reads files or imports optional packages at import time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mbcpath.errors import ModelError

FloatArray = NDArray[np.float64]

__all__ = [
    "DISTRIBUTIONS",
    "Distribution",
    "Exponential",
    "GeneralizedGamma",
    "Gompertz",
    "LogLogistic",
    "LogNormal",
    "PiecewiseExponential",
    "ProportionalHazards",
    "Weibull",
]

# Gauss-Legendre nodes for RMST on [0, tau]: computed once, lazily.
_GL_CACHE: dict[int, tuple[FloatArray, FloatArray]] = {}


def _gauss_legendre(n: int) -> tuple[FloatArray, FloatArray]:
    if n not in _GL_CACHE:
        _GL_CACHE[n] = np.polynomial.legendre.leggauss(n)
    return _GL_CACHE[n]


def _as_times(t: ArrayLike) -> FloatArray:
    arr = np.asarray(t, dtype=np.float64)
    if np.any(np.isnan(arr)):
        raise ModelError("time = nan: times must be numbers")
    return arr


def _positive(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ModelError(f"{name} = {value!r}: must be a finite number > 0")
    return v


def _finite(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise ModelError(f"{name} = {value!r}: must be a finite number")
    return v


class Distribution:
    """Base class: a survival distribution for times ``t >= 0``.

    Subclasses define :meth:`cumhaz`, :meth:`hazard` and :meth:`quantile`
    (closed forms), the parameter names and the ``theta`` transform; everything
    else is derived here.

    Notes
    -----
    ``quantile(p)`` is the inverse CDF: the time by which a fraction ``p`` has
    had the event, so ``S(quantile(p)) = 1 - p``. It returns ``inf`` for ``p``
    beyond the largest attainable CDF (a Gompertz with negative shape has a
    cured fraction).

    References
    ----------
    Jackson C. flexsurv: a platform for parametric survival modeling in R.
    J Stat Softw 2016;70(8):1-33. doi:10.18637/jss.v070.i08
    """

    name: ClassVar[str] = "distribution"
    param_names: ClassVar[tuple[str, ...]] = ()
    #: which entries of ``theta`` are logs of positive parameters
    log_params: ClassVar[tuple[bool, ...]] = ()

    # ------------------------------------------------------------ to implement
    def cumhaz(self, t: ArrayLike) -> FloatArray:
        """Cumulative hazard H(t)."""
        raise NotImplementedError

    def hazard(self, t: ArrayLike) -> FloatArray:
        """Hazard h(t)."""
        raise NotImplementedError

    def quantile(self, p: ArrayLike) -> FloatArray:
        """Inverse CDF: the time t with F(t) = p."""
        raise NotImplementedError

    @property
    def params(self) -> dict[str, float]:
        """Natural-scale parameters by flexsurv name."""
        return {n: float(getattr(self, n)) for n in self.param_names}

    # ------------------------------------------------------------- derived
    def survival(self, t: ArrayLike) -> FloatArray:
        """Survival S(t) = exp(-H(t)); S(0) = 1."""
        return np.exp(-self.cumhaz(t))

    def cdf(self, t: ArrayLike) -> FloatArray:
        """F(t) = 1 - S(t), computed as -expm1(-H) for accuracy near 0."""
        return -np.expm1(-self.cumhaz(t))

    def pdf(self, t: ArrayLike) -> FloatArray:
        """Density f(t) = h(t) S(t)."""
        return self.hazard(t) * self.survival(t)

    def median(self) -> float:
        """Median time to event (``inf`` if S never falls to 0.5)."""
        return float(self.quantile(0.5))

    def rmst(self, tau: float, *, nodes: int = 200) -> float:
        """Restricted mean survival time: integral of S(t) over [0, tau].

        Gauss-Legendre quadrature with ``nodes`` points, split at a few
        quantiles so that steep early drops are integrated accurately.

        References
        ----------
        Royston P, Parmar MKB. Restricted mean survival time: an alternative to
        the hazard ratio for the design and analysis of randomized trials with
        a time-to-event outcome. BMC Med Res Methodol 2013;13:152.
        """
        tau = float(tau)
        if not tau >= 0:
            raise ModelError(f"tau = {tau!r}: the restriction time must be >= 0")
        if tau == 0:
            return 0.0
        cuts = [0.0]
        with np.errstate(all="ignore"):
            for q in (0.1, 0.5, 0.9):
                c = float(self.quantile(q))
                if 0 < c < tau and c > cuts[-1]:
                    cuts.append(c)
        cuts.append(tau)
        x, w = _gauss_legendre(nodes)
        total = 0.0
        for a, b in itertools.pairwise(cuts):
            mid, half = (a + b) / 2, (b - a) / 2
            total += half * float(np.dot(w, self.survival(mid + half * x)))
        return total

    def mean(self) -> float:
        """Mean survival (integral of S over [0, inf)), ``inf`` where it diverges."""
        upper = float(self.quantile(1 - 1e-10))
        if not math.isfinite(upper):
            return math.inf
        return self.rmst(upper, nodes=400)

    def sample(self, n: int | tuple[int, ...], rng: np.random.Generator) -> FloatArray:
        """Draw event times by inversion: ``quantile(U)``, U ~ Uniform(0, 1).

        Vectorised; ``rng`` is a :class:`numpy.random.Generator` (use a seeded
        one for reproducible results).

        References
        ----------
        Bender R, Augustin T, Blettner M. Generating survival times to simulate
        Cox proportional hazards models. Stat Med 2005;24:1713-23.
        """
        return self.quantile(rng.random(n))

    def with_hr(self, hr: float) -> Distribution:
        """This distribution with every hazard multiplied by ``hr`` (proportional hazards)."""
        _positive("hr", hr)
        return ProportionalHazards(self, hr)

    # -------------------------------------------------------------- theta
    @property
    def theta(self) -> FloatArray:
        """Unconstrained parameter vector (log of positive parameters)."""
        vals = [getattr(self, n) for n in self.param_names]
        return np.array([math.log(v) if lg else float(v) for v, lg in zip(vals, self.log_params, strict=True)])

    @classmethod
    def from_theta(cls, theta: Sequence[float] | FloatArray) -> Distribution:
        """Build from an unconstrained parameter vector (inverse of :attr:`theta`)."""
        vals = [math.exp(v) if lg else float(v) for v, lg in zip(theta, cls.log_params, strict=True)]
        return cls(*vals)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"{type(self).__name__}({inner})"


def _clip_p(p: ArrayLike) -> FloatArray:
    arr = np.asarray(p, dtype=np.float64)
    if np.any((arr < 0) | (arr > 1) | np.isnan(arr)):
        raise ModelError("p: quantile probabilities must lie in [0, 1]")
    return arr


# ============================================================== distributions
@dataclass(frozen=True, repr=False)
class Exponential(Distribution):
    """Exponential with constant hazard ``rate`` (flexsurv ``exp``).

    References
    ----------
    Collett D. Modelling Survival Data in Medical Research, 3rd ed. CRC 2015, sec. 5.1.
    """

    rate: float
    name: ClassVar[str] = "exponential"
    param_names: ClassVar[tuple[str, ...]] = ("rate",)
    log_params: ClassVar[tuple[bool, ...]] = (True,)

    def __post_init__(self) -> None:
        _positive("rate", self.rate)

    def cumhaz(self, t: ArrayLike) -> FloatArray:
        return self.rate * np.maximum(_as_times(t), 0.0)

    def hazard(self, t: ArrayLike) -> FloatArray:
        return np.full_like(_as_times(t), self.rate)

    def quantile(self, p: ArrayLike) -> FloatArray:
        return -np.log1p(-_clip_p(p)) / self.rate

    def rmst(self, tau: float, *, nodes: int = 200) -> float:
        return float(-math.expm1(-self.rate * tau) / self.rate)

    def mean(self) -> float:
        return 1.0 / self.rate

    def with_hr(self, hr: float) -> Distribution:
        return Exponential(self.rate * _positive("hr", hr))


@dataclass(frozen=True, repr=False)
class Weibull(Distribution):
    """Weibull, R/flexsurv ``weibull``: S(t) = exp(-(t/scale)^shape).

    lifelines' ``WeibullFitter`` uses the same form (``lambda_`` = scale,
    ``rho_`` = shape); R ``survreg`` reports ``intercept = log(scale)`` and
    ``scale = 1/shape``. The RMST has the closed form
    (b/a) Gamma(1/a) P(1/a, (tau/b)^a).

    References
    ----------
    Collett D. Modelling Survival Data in Medical Research, 3rd ed. CRC 2015, sec. 5.1.
    Jackson C. flexsurv. J Stat Softw 2016;70(8):1-33.
    """

    shape: float
    scale: float
    name: ClassVar[str] = "weibull"
    param_names: ClassVar[tuple[str, ...]] = ("shape", "scale")
    log_params: ClassVar[tuple[bool, ...]] = (True, True)

    def __post_init__(self) -> None:
        _positive("shape", self.shape)
        _positive("scale", self.scale)

    def cumhaz(self, t: ArrayLike) -> FloatArray:
        return (np.maximum(_as_times(t), 0.0) / self.scale) ** self.shape

    def hazard(self, t: ArrayLike) -> FloatArray:
        tt = np.maximum(_as_times(t), 0.0)
        with np.errstate(divide="ignore"):
            return (self.shape / self.scale) * (tt / self.scale) ** (self.shape - 1)

    def quantile(self, p: ArrayLike) -> FloatArray:
        return self.scale * (-np.log1p(-_clip_p(p))) ** (1.0 / self.shape)

    def mean(self) -> float:
        return self.scale * math.gamma(1 + 1 / self.shape)

    def rmst(self, tau: float, *, nodes: int = 200) -> float:
        # integral_0^tau exp(-(t/b)^a) dt = (b/a) * Gamma(1/a) * P(1/a, (tau/b)^a)
        from scipy.special import gamma, gammainc

        a, b = self.shape, self.scale
        if tau <= 0:
            return 0.0
        return float(b / a * gamma(1 / a) * gammainc(1 / a, (tau / b) ** a))

    def with_hr(self, hr: float) -> Distribution:
        return Weibull(self.shape, self.scale * _positive("hr", hr) ** (-1.0 / self.shape))


@dataclass(frozen=True, repr=False)
class LogLogistic(Distribution):
    """Log-logistic, flexsurv ``llogis``: S(t) = 1 / (1 + (t/scale)^shape).

    lifelines' ``LogLogisticFitter``: ``alpha_`` = scale, ``beta_`` = shape.
    Mean (b pi/a) / sin(pi/a) for a > 1.

    References
    ----------
    Jackson C. flexsurv: a platform for parametric survival modeling in R.
    J Stat Softw 2016;70(8):1-33.
    """

    shape: float
    scale: float
    name: ClassVar[str] = "loglogistic"
    param_names: ClassVar[tuple[str, ...]] = ("shape", "scale")
    log_params: ClassVar[tuple[bool, ...]] = (True, True)

    def __post_init__(self) -> None:
        _positive("shape", self.shape)
        _positive("scale", self.scale)

    def cumhaz(self, t: ArrayLike) -> FloatArray:
        return np.log1p((np.maximum(_as_times(t), 0.0) / self.scale) ** self.shape)

    def hazard(self, t: ArrayLike) -> FloatArray:
        tt = np.maximum(_as_times(t), 0.0)
        a, b = self.shape, self.scale
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (tt / b) ** a
            return (a / b) * (tt / b) ** (a - 1) / (1 + z)

    def quantile(self, p: ArrayLike) -> FloatArray:
        pp = _clip_p(p)
        with np.errstate(divide="ignore"):
            return self.scale * (pp / (1 - pp)) ** (1.0 / self.shape)

    def mean(self) -> float:
        a = self.shape
        if a <= 1:
            return math.inf
        return self.scale * (math.pi / a) / math.sin(math.pi / a)


@dataclass(frozen=True, repr=False)
class LogNormal(Distribution):
    """Log-normal, R ``lnorm``: log T ~ Normal(meanlog, sdlog).

    The hazard is computed as exp(log f - log S) with ``log_ndtr`` for accuracy in the tail.

    References
    ----------
    Jackson C. flexsurv: a platform for parametric survival modeling in R.
    J Stat Softw 2016;70(8):1-33.
    """

    meanlog: float
    sdlog: float
    name: ClassVar[str] = "lognormal"
    param_names: ClassVar[tuple[str, ...]] = ("meanlog", "sdlog")
    log_params: ClassVar[tuple[bool, ...]] = (False, True)

    def __post_init__(self) -> None:
        _finite("meanlog", self.meanlog)
        _positive("sdlog", self.sdlog)

    def _z(self, t: ArrayLike) -> FloatArray:
        tt = _as_times(t)
        with np.errstate(divide="ignore"):
            return (np.log(np.maximum(tt, 0.0)) - self.meanlog) / self.sdlog

    def cumhaz(self, t: ArrayLike) -> FloatArray:
        from scipy.special import log_ndtr

        return -log_ndtr(-self._z(t))

    def survival(self, t: ArrayLike) -> FloatArray:
        from scipy.special import ndtr

        return ndtr(-self._z(t))

    def hazard(self, t: ArrayLike) -> FloatArray:
        from scipy.special import log_ndtr

        tt = np.maximum(_as_times(t), 0.0)
        z = self._z(tt)
        with np.errstate(divide="ignore", invalid="ignore"):
            logf = -0.5 * z * z - 0.5 * math.log(2 * math.pi) - np.log(self.sdlog * tt)
            out = np.exp(logf - log_ndtr(-z))
        return np.where(tt > 0, out, 0.0)

    def quantile(self, p: ArrayLike) -> FloatArray:
        from scipy.special import ndtri

        return np.exp(self.meanlog + self.sdlog * ndtri(_clip_p(p)))

    def mean(self) -> float:
        return math.exp(self.meanlog + self.sdlog**2 / 2)


@dataclass(frozen=True, repr=False)
class Gompertz(Distribution):
    """Gompertz, flexsurv ``gompertz``: h(t) = rate * exp(shape * t).

    ``shape`` may be negative (hazard falling over time; a fraction
    ``exp(rate/shape)`` never has the event) or zero (exponential).

    References
    ----------
    Jackson C. flexsurv: a platform for parametric survival modeling in R.
    J Stat Softw 2016;70(8):1-33.
    """

    shape: float
    rate: float
    name: ClassVar[str] = "gompertz"
    param_names: ClassVar[tuple[str, ...]] = ("shape", "rate")
    log_params: ClassVar[tuple[bool, ...]] = (False, True)

    def __post_init__(self) -> None:
        _finite("shape", self.shape)
        _positive("rate", self.rate)

    def cumhaz(self, t: ArrayLike) -> FloatArray:
        tt = np.maximum(_as_times(t), 0.0)
        a = self.shape
        if abs(a) < 1e-12:
            return self.rate * tt
        return self.rate / a * np.expm1(a * tt)

    def hazard(self, t: ArrayLike) -> FloatArray:
        return self.rate * np.exp(self.shape * np.maximum(_as_times(t), 0.0))

    def quantile(self, p: ArrayLike) -> FloatArray:
        pp = _clip_p(p)
        a, b = self.shape, self.rate
        h = -np.log1p(-pp)  # target cumulative hazard
        if abs(a) < 1e-12:
            return h / b
        with np.errstate(divide="ignore", invalid="ignore"):
            arg = a * h / b
            out = np.log1p(arg) / a
        # with a < 0 the cumulative hazard is bounded by -b/a: beyond it, never
        return np.where(arg > -1, out, np.inf)


def _stirling_remainder(g: float) -> float:
    """lgamma(g) - [(g - 1/2) log g - g + log(2 pi)/2]; asymptotic series for large g."""
    if g >= 10:
        g2 = g * g
        return 1 / (12 * g) - 1 / (360 * g * g2) + 1 / (1260 * g * g2 * g2) - 1 / (1680 * g * g2**3)
    return math.lgamma(g) - ((g - 0.5) * math.log(g) - g + 0.5 * math.log(2 * math.pi))


def _log_gamma_p_series(a: float, x: FloatArray) -> FloatArray:
    """log P(a, x) by the power series (accurate where P underflows, i.e. x << a)."""
    from scipy.special import gammaln

    term = np.full_like(x, 1.0 / a)
    total = term.copy()
    for n in range(1, 2000):
        term = term * x / (a + n)
        total += term
        if np.all(term < total * 1e-17):
            break
    with np.errstate(divide="ignore"):
        return a * np.log(x) - x - gammaln(a) + np.log(total)


def _log_gamma_q_cf(a: float, x: FloatArray) -> FloatArray:
    """log Q(a, x) by the Legendre continued fraction (modified Lentz), valid for x > a + 1."""
    from scipy.special import gammaln

    tiny = 1e-300
    b = x + 1.0 - a
    c = np.full_like(x, 1.0 / tiny)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, 2000):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1.0) < 1e-15):
            break
    return -x + a * np.log(x) - gammaln(a) + np.log(h)


@dataclass(frozen=True, repr=False)
class GeneralizedGamma(Distribution):
    """Generalized gamma, Prentice (1974) / flexsurv ``gengamma`` (mu, sigma, Q).

    With ``w = (log t - mu)/sigma``, ``g = Q^-2`` and ``u = g exp(Q w)``:
    F(t) = P(g, u) for Q > 0 and F(t) = 1 - P(g, u) for Q < 0, with P the
    regularised lower incomplete gamma function; Q = 0 is the log-normal.
    Q = 1 gives the Weibull and Q = sigma the gamma distribution.
    lifelines' ``GeneralizedGammaFitter`` uses the same parameters
    (``mu_``, ``ln_sigma_``, ``lambda_`` = Q).

    References
    ----------
    Prentice RL. A log gamma model and its maximum likelihood estimation.
    Biometrika 1974;61:539-44.
    Cox C, Chu H, Schneider MF, Munoz A. Parametric survival analysis and
    taxonomy of hazard functions for the generalized gamma distribution.
    Stat Med 2007;26:4352-74.
    """

    mu: float
    sigma: float
    Q: float
    name: ClassVar[str] = "gengamma"
    param_names: ClassVar[tuple[str, ...]] = ("mu", "sigma", "Q")
    log_params: ClassVar[tuple[bool, ...]] = (False, True, False)

    def __post_init__(self) -> None:
        _finite("mu", self.mu)
        _positive("sigma", self.sigma)
        _finite("Q", self.Q)

    def _lognormal(self) -> LogNormal:
        return LogNormal(self.mu, self.sigma)

    def _wu(self, t: ArrayLike) -> tuple[FloatArray, FloatArray, float]:
        tt = np.maximum(_as_times(t), 0.0)
        with np.errstate(divide="ignore"):
            w = (np.log(tt) - self.mu) / self.sigma
        g = self.Q ** -2
        with np.errstate(over="ignore"):
            u = g * np.exp(self.Q * w)
        return w, u, g

    def survival(self, t: ArrayLike) -> FloatArray:
        if abs(self.Q) < 1e-8:
            return self._lognormal().survival(t)
        from scipy.special import gammainc, gammaincc

        _, u, g = self._wu(t)
        return gammaincc(g, u) if self.Q > 0 else gammainc(g, u)

    def cumhaz(self, t: ArrayLike) -> FloatArray:
        if abs(self.Q) < 1e-8:
            return self._lognormal().cumhaz(t)
        return -self._log_survival(t)

    def _log_survival(self, t: ArrayLike) -> FloatArray:
        """log S(t), with log-space tails where S underflows double precision."""
        s = np.atleast_1d(self.survival(t)).astype(np.float64)
        with np.errstate(divide="ignore"):
            out = np.log(s)
        low = s < 1e-280
        if np.any(low):
            _, u, g = self._wu(np.atleast_1d(_as_times(t)))
            u = u[low]
            out[low] = _log_gamma_q_cf(g, u) if self.Q > 0 else _log_gamma_p_series(g, u)
        return out.reshape(np.shape(t)) if np.ndim(t) else out[0]

    def cdf(self, t: ArrayLike) -> FloatArray:
        if abs(self.Q) < 1e-8:
            return self._lognormal().cdf(t)
        from scipy.special import gammainc, gammaincc

        _, u, g = self._wu(t)
        return gammainc(g, u) if self.Q > 0 else gammaincc(g, u)

    def logpdf(self, t: ArrayLike) -> FloatArray:
        """log f(t) = log|Q| - log(sigma t) - lgamma(g) + g log g + g (Q w - e^{Q w}).

        Evaluated without the cancellation of the large terms when Q is small:
        log f = -log(sigma t) - log(2 pi)/2 - c(g) - (expm1(Q w) - Q w) / Q^2, with
        c(g) = lgamma(g) - [(g - 1/2) log g - g + log(2 pi)/2] (Stirling remainder),
        which tends to the log-normal density as Q -> 0.
        """
        tt = np.maximum(_as_times(t), 0.0)
        with np.errstate(divide="ignore"):
            w = (np.log(tt) - self.mu) / self.sigma
        with np.errstate(divide="ignore"):
            base = -np.log(self.sigma * tt) - 0.5 * math.log(2 * math.pi)
        if abs(self.Q) < 1e-8:
            with np.errstate(invalid="ignore"):
                return base - 0.5 * w * w
        q = self.Q
        x = q * w
        with np.errstate(over="ignore", invalid="ignore"):
            small = np.abs(x) < 1e-3
            em = np.where(small, x * x / 2 + x**3 / 6 + x**4 / 24, np.expm1(x) - x)
            return base - _stirling_remainder(q ** -2) - em / (q * q)

    def pdf(self, t: ArrayLike) -> FloatArray:
        return np.exp(self.logpdf(t))

    def hazard(self, t: ArrayLike) -> FloatArray:
        tt = np.maximum(_as_times(t), 0.0)
        if abs(self.Q) < 1e-8:
            return self._lognormal().hazard(tt)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.exp(self.logpdf(tt) - self._log_survival(tt))
        return np.where(tt > 0, np.nan_to_num(out, nan=0.0), 0.0)

    def quantile(self, p: ArrayLike) -> FloatArray:
        if abs(self.Q) < 1e-8:
            return self._lognormal().quantile(p)
        from scipy.special import gammainccinv, gammaincinv

        pp = _clip_p(p)
        g = self.Q ** -2
        u = gammaincinv(g, pp) if self.Q > 0 else gammainccinv(g, pp)
        with np.errstate(divide="ignore"):
            w = np.log(u / g) / self.Q
        return np.exp(self.mu + self.sigma * w)


@dataclass(frozen=True, repr=False)
class PiecewiseExponential(Distribution):
    """Piecewise-constant hazard: ``rates[j]`` on ``[breaks[j], breaks[j+1])``.

    ``breaks`` are the interior cut points (strictly increasing, > 0); there is
    one more rate than breaks, the last holding for ever. This matches
    lifelines' ``PiecewiseExponentialFitter(breakpoints)`` (which reports
    ``lambda_j = 1/rate_j``) and flexsurv's ``pwexp`` family.

    References
    ----------
    Friedman M. Piecewise exponential models for survival data with covariates.
    Ann Stat 1982;10:101-13.
    """

    breaks: tuple[float, ...]
    rates: tuple[float, ...]
    name: ClassVar[str] = "pwexp"

    def __init__(self, breaks: Sequence[float], rates: Sequence[float]) -> None:
        b = tuple(float(x) for x in breaks)
        r = tuple(float(x) for x in rates)
        if len(r) != len(b) + 1:
            raise ModelError(f"rates = {list(r)}: need exactly len(breaks) + 1 = {len(b) + 1} rates")
        if any(not (math.isfinite(x) and x > 0) for x in b) or any(y <= x for x, y in itertools.pairwise(b)):
            raise ModelError(f"breaks = {list(b)}: must be finite, > 0 and strictly increasing")
        for i, x in enumerate(r):
            _positive(f"rates[{i}]", x)
        object.__setattr__(self, "breaks", b)
        object.__setattr__(self, "rates", r)

    @property
    def params(self) -> dict[str, float]:
        return {f"rate_{i}": v for i, v in enumerate(self.rates)}

    @property
    def theta(self) -> FloatArray:
        return np.log(np.array(self.rates))

    def from_theta_like(self, theta: Sequence[float] | FloatArray) -> PiecewiseExponential:
        """A copy with the same breaks and rates ``exp(theta)``."""
        return PiecewiseExponential(self.breaks, np.exp(np.asarray(theta, dtype=float)).tolist())

    @classmethod
    def from_theta(cls, theta: Sequence[float] | FloatArray) -> Distribution:
        raise ModelError("PiecewiseExponential.from_theta needs the breaks: use dist.from_theta_like(theta)")

    def _edges(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        edges = np.array((0.0, *self.breaks))
        rates = np.array(self.rates)
        # cumulative hazard at the start of each piece
        h0 = np.concatenate([[0.0], np.cumsum(rates[:-1] * np.diff(edges))])
        return edges, rates, h0

    def cumhaz(self, t: ArrayLike) -> FloatArray:
        tt = np.maximum(_as_times(t), 0.0)
        edges, rates, h0 = self._edges()
        j = np.searchsorted(edges, tt, side="right") - 1
        return h0[j] + rates[j] * (tt - edges[j])

    def hazard(self, t: ArrayLike) -> FloatArray:
        tt = np.maximum(_as_times(t), 0.0)
        edges, rates, _ = self._edges()
        return rates[np.searchsorted(edges, tt, side="right") - 1]

    def quantile(self, p: ArrayLike) -> FloatArray:
        h = -np.log1p(-_clip_p(p))
        edges, rates, h0 = self._edges()
        j = np.searchsorted(h0, h, side="right") - 1
        return edges[j] + (h - h0[j]) / rates[j]

    def with_hr(self, hr: float) -> Distribution:
        k = _positive("hr", hr)
        return PiecewiseExponential(self.breaks, [r * k for r in self.rates])

    def __repr__(self) -> str:
        return f"PiecewiseExponential(breaks={list(self.breaks)}, rates={[round(r, 6) for r in self.rates]})"


class ProportionalHazards(Distribution):
    """A baseline distribution with every hazard multiplied by ``hr``.

    H(t) = hr * H0(t), S(t) = S0(t)^hr. The quantile solves S0(t) = (1-p)^(1/hr).
    ``theta`` is the baseline's theta followed by log(hr).

    References
    ----------
    Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
    """

    name: ClassVar[str] = "ph"

    def __init__(self, base: Distribution, hr: float) -> None:
        self.base = base
        self.hr = _positive("hr", hr)

    @property
    def params(self) -> dict[str, float]:
        return {**self.base.params, "hr": self.hr}

    @property
    def theta(self) -> FloatArray:
        return np.concatenate([self.base.theta, [math.log(self.hr)]])

    def cumhaz(self, t: ArrayLike) -> FloatArray:
        return self.hr * self.base.cumhaz(t)

    def hazard(self, t: ArrayLike) -> FloatArray:
        return self.hr * self.base.hazard(t)

    def quantile(self, p: ArrayLike) -> FloatArray:
        pp = _clip_p(p)
        # S0(t) = (1-p)^(1/hr)  <=>  F0(t) = 1 - (1-p)^(1/hr)
        return self.base.quantile(-np.expm1(np.log1p(-pp) / self.hr))

    def with_hr(self, hr: float) -> Distribution:
        return ProportionalHazards(self.base, self.hr * _positive("hr", hr))

    def __repr__(self) -> str:
        return f"ProportionalHazards({self.base!r}, hr={self.hr:.6g})"


#: name -> class, for the families fitted by :mod:`mbcpath.survival.fitting`
DISTRIBUTIONS: dict[str, type[Distribution]] = {
    c.name: c for c in (Exponential, Weibull, LogLogistic, LogNormal, Gompertz, GeneralizedGamma)
}


# ============================================================== many parameter vectors at once
def _matrix_standard(cls: type[Distribution], th: FloatArray, t: FloatArray) -> FloatArray | None:
    """S(t) for each row of ``th`` (unconstrained parameters) of a standard family, vectorised."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if cls is Exponential:
            return np.exp(-np.exp(th[:, :1]) * t)
        if cls is Weibull:
            return np.exp(-((t / np.exp(th[:, 1:2])) ** np.exp(th[:, :1])))
        if cls is LogLogistic:
            return 1.0 / (1.0 + (t / np.exp(th[:, 1:2])) ** np.exp(th[:, :1]))
        if cls is LogNormal:
            from scipy.special import ndtr

            z = (np.log(np.maximum(t, 1e-300)) - th[:, :1]) / np.exp(th[:, 1:2])
            return np.where(t > 0, ndtr(-z), 1.0)
        if cls is Gompertz:
            a, b = th[:, :1], np.exp(th[:, 1:2])
            small = np.abs(a) < 1e-12
            h = np.where(small, b * t, b / np.where(small, 1.0, a) * np.expm1(a * t))
            return np.exp(-h)
    return None


def survival_matrix(template: Distribution, thetas: ArrayLike, t: ArrayLike) -> FloatArray:
    """S(t) on the grid ``t`` for every row of ``thetas`` (parameter vectors of ``template``'s family, in
    its ``theta`` layout), vectorised for the standard families, piecewise exponentials and proportional
    hazards; other families fall back to one distribution per row. Rows x len(t)."""
    th = np.atleast_2d(np.asarray(thetas, dtype=np.float64))
    tt = np.maximum(np.asarray(t, dtype=np.float64), 0.0)[None, :]
    if isinstance(template, ProportionalHazards):
        base = survival_matrix(template.base, th[:, :-1], tt[0])
        return np.asarray(base ** np.exp(th[:, -1:]), dtype=np.float64)
    if isinstance(template, PiecewiseExponential):
        edges = np.array((0.0, *template.breaks, np.inf))
        overlap = np.clip(np.minimum(tt[0][:, None], edges[1:][None, :]) - edges[:-1][None, :], 0.0, None)
        return np.asarray(np.exp(-(np.exp(th) @ overlap.T)), dtype=np.float64)
    out = _matrix_standard(type(template), th, tt)
    if out is not None:
        return np.asarray(out, dtype=np.float64)
    return np.vstack([type(template).from_theta(row).survival(tt[0]) for row in th])
