"""Distribution invariants (hypothesis): S monotone in [0, 1], S(quantile(p)) = 1 - p, H = -log S."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mbcpath.errors import ModelError
from mbcpath.survival.distributions import (
    Exponential,
    GeneralizedGamma,
    Gompertz,
    LogLogistic,
    LogNormal,
    PiecewiseExponential,
    ProportionalHazards,
    Weibull,
)

pos = st.floats(0.2, 5.0)
scale = st.floats(1.0, 60.0)
dists = st.one_of(
    st.builds(Exponential, st.floats(0.005, 1.0)),
    st.builds(Weibull, pos, scale),
    st.builds(LogLogistic, pos, scale),
    st.builds(LogNormal, st.floats(0.0, 4.0), st.floats(0.2, 2.5)),
    st.builds(Gompertz, st.floats(-0.2, 0.3), st.floats(0.005, 0.5)),
    st.builds(GeneralizedGamma, st.floats(0.0, 4.0), st.floats(0.2, 2.0), st.floats(-2.0, 2.0)),
    st.builds(lambda r: PiecewiseExponential([3.0, 12.0], r), st.lists(st.floats(0.005, 1.0), min_size=3, max_size=3)),
    st.builds(lambda d, hr: d.with_hr(hr), st.builds(LogNormal, st.floats(0.5, 3.0), st.floats(0.3, 1.5)),
              st.floats(0.3, 3.0)),
)
times = st.lists(st.floats(0.0, 200.0), min_size=2, max_size=30)


@settings(max_examples=150, deadline=None)
@given(d=dists, t=times)
def test_survival_is_monotone_in_unit_interval(d, t):
    """S is in [0, 1], non-increasing, with S(0) = 1."""
    tt = np.sort(np.array(t))
    s = d.survival(tt)
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) <= 1e-12)
    assert float(d.survival(0.0)) == pytest.approx(1.0)


@settings(max_examples=150, deadline=None)
@given(d=dists, p=st.floats(0.001, 0.999))
def test_quantile_inverts_survival(d, p):
    """S(quantile(p)) = 1 - p wherever the quantile is finite (a Gompertz with shape < 0 has a cured fraction)."""
    q = float(d.quantile(p))
    if math.isinf(q):
        s_inf = float(d.survival(1e9))
        assert 1 - p <= s_inf + 1e-9
        return
    assert float(d.survival(q)) == pytest.approx(1 - p, abs=1e-7)


@settings(max_examples=150, deadline=None)
@given(d=dists, t=times)
def test_cumulative_hazard_is_minus_log_survival(d, t):
    """H(t) = -log S(t) (and the hazard is non-negative)."""
    tt = np.array(t)
    s = d.survival(tt)
    ok = s > 1e-300
    assert d.cumhaz(tt)[ok] == pytest.approx(-np.log(s[ok]), rel=1e-7, abs=1e-10)
    assert np.all(d.hazard(tt[tt > 0]) >= 0)


@settings(max_examples=60, deadline=None)
@given(d=dists)
def test_hazard_integrates_to_cumulative_hazard(d):
    """H(b) - H(a) equals the integral of h over [a, b] (checks each hazard formula).

    Gauss-Legendre with 200 nodes on [0.5, 3] and [3, 8] (split at the piecewise break).
    """
    x, w = np.polynomial.legendre.leggauss(200)
    total = 0.0
    for a, b in ((0.5, 3.0), (3.0, 8.0)):
        total += (b - a) / 2 * float(np.dot(w, d.hazard((a + b) / 2 + (b - a) / 2 * x)))
    assert total == pytest.approx(float(d.cumhaz(8.0) - d.cumhaz(0.5)), rel=1e-6, abs=1e-9)


def test_rmst_closed_forms_agree_with_quadrature():
    """Weibull and exponential closed-form RMST equal the generic numerical integration."""
    from mbcpath.survival.distributions import Distribution

    for d in (Weibull(1.3, 20.0), Weibull(0.7, 5.0), Exponential(0.08)):
        assert d.rmst(36.0) == pytest.approx(Distribution.rmst(d, 36.0), rel=1e-8)
    assert Weibull(1.3, 20.0).mean() == pytest.approx(20 * math.gamma(1 + 1 / 1.3))
    assert LogNormal(1.0, 0.5).mean() == pytest.approx(math.exp(1.125), rel=1e-6)
    assert LogNormal(1.0, 0.5).rmst(1e4) == pytest.approx(math.exp(1.125), rel=1e-6)


def test_gengamma_special_cases():
    """Q = 1 is the Weibull, Q -> 0 the log-normal (Prentice parameterisation)."""
    t = np.array([0.5, 2.0, 7.0])
    mu, sigma = 1.5, 0.8
    wb = Weibull(shape=1 / sigma, scale=math.exp(mu))
    assert GeneralizedGamma(mu, sigma, 1.0).survival(t) == pytest.approx(wb.survival(t), rel=1e-10)
    assert GeneralizedGamma(mu, sigma, 1e-9).survival(t) == pytest.approx(LogNormal(mu, sigma).survival(t))
    assert GeneralizedGamma(mu, sigma, 1e-4).survival(t) == pytest.approx(LogNormal(mu, sigma).survival(t), abs=1e-4)


def test_sampling_matches_the_distribution():
    """Inverse-CDF samples reproduce the median and the RMST (Monte Carlo)."""
    rng = np.random.default_rng(7)
    for d in (Weibull(1.2, 15.0), GeneralizedGamma(2.0, 0.9, -0.5), Gompertz(0.05, 0.03)):
        x = d.sample(200_000, rng)
        assert np.median(x) == pytest.approx(d.median(), rel=0.01)
        assert np.minimum(x, 24.0).mean() == pytest.approx(d.rmst(24.0), rel=0.01)


def test_proportional_hazards_wrapper():
    """with_hr multiplies H by hr: closed form for Weibull, generic wrapper for the log-normal."""
    w = Weibull(1.3, 20.0)
    t = np.array([1.0, 10.0, 30.0])
    assert w.with_hr(0.6).cumhaz(t) == pytest.approx(0.6 * w.cumhaz(t))
    ln = LogNormal(2.5, 0.9).with_hr(0.6)
    assert isinstance(ln, ProportionalHazards)
    assert ln.cumhaz(t) == pytest.approx(0.6 * LogNormal(2.5, 0.9).cumhaz(t))
    assert ln.theta[-1] == pytest.approx(math.log(0.6))


@pytest.mark.parametrize(("factory", "message"), [
    (lambda: Weibull(-1.0, 2.0), "shape = -1.0"),
    (lambda: Exponential(0.0), "rate = 0.0"),
    (lambda: PiecewiseExponential([3.0, 2.0], [0.1, 0.1, 0.1]), "strictly increasing"),
    (lambda: PiecewiseExponential([3.0], [0.1]), "len\\(breaks\\) \\+ 1"),
    (lambda: Weibull(1.0, 2.0).quantile(1.5), "\\[0, 1\\]"),
])
def test_invalid_parameters(factory, message):
    """Bad parameters raise ModelError naming the field and the rule."""
    with pytest.raises(ModelError, match=message):
        factory()


def test_theta_round_trip():
    """from_theta(theta) rebuilds the same distribution."""
    for d in (Weibull(1.3, 20.0), LogLogistic(1.5, 8.0), LogNormal(2.0, 0.7), Gompertz(-0.05, 0.1),
              GeneralizedGamma(1.2, 1.1, -0.6), Exponential(0.2)):
        again = type(d).from_theta(d.theta)
        assert again.params == pytest.approx(d.params)
