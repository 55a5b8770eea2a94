"""Parametric fits reproduce R survreg/flexsurv on GBSG2; fits to published summaries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mbcpath.errors import ModelError
from mbcpath.survival.distributions import Exponential, ProportionalHazards, Weibull
from mbcpath.survival.fitting import FAMILIES, fit_all, fit_ipd, from_hazard_ratio, from_landmarks, from_median

# parameters of the reference are given to 4-6 significant digits; the optimum is flat, so two
# optimisers agree on the log-likelihood to 1e-9 but on parameters only to ~1e-5 relative
PARAM_RTOL = {"gompertz": 2e-3, "gengamma": 1e-4}


@pytest.mark.parametrize("family", FAMILIES)
def test_gbsg2_loglik_and_parameters_match_r(gbsg2, gbsg2_reference, family):
    """Each family's log-likelihood, AIC and parameters match the R values of evidence-synthesis 2.5."""
    t, e, _ = gbsg2
    ref = gbsg2_reference["models"][family]
    fit = fit_ipd(t, e, family)
    assert fit.loglik == pytest.approx(ref["loglik"], abs=2e-6)
    assert fit.aic == pytest.approx(ref["aic"], abs=1e-4)
    for name, value in ref["params"].items():
        assert fit.dist.params[name] == pytest.approx(value, rel=PARAM_RTOL.get(family, 1e-5)), name
    assert fit.n == 686 and fit.events == 299


def test_gbsg2_survreg_parameterisation(gbsg2, gbsg2_reference):
    """survreg's intercept/scale map onto our Weibull and log-logistic (shape = 1/scale, scale = exp(intercept))."""
    t, e, _ = gbsg2
    for fam in ("weibull", "loglogistic"):
        sr = gbsg2_reference["models"][fam]["survreg"]
        d = fit_ipd(t, e, fam).dist
        assert math.log(d.params["scale"]) == pytest.approx(sr["intercept"], abs=1e-5)
        assert 1 / d.params["shape"] == pytest.approx(sr["scale"], abs=1e-5)
    rate = fit_ipd(t, e, "exponential").dist.params["rate"]
    assert -math.log(rate) == pytest.approx(gbsg2_reference["models"]["exponential"]["survreg"]["intercept"], abs=2e-6)


def test_covariance_is_on_theta_scale(gbsg2):
    """Exponential: Var(log rate) = 1/events exactly; Weibull covariance is positive definite."""
    t, e, _ = gbsg2
    fit = fit_ipd(t, e, "exponential")
    assert fit.cov[0, 0] == pytest.approx(1 / 299, rel=1e-4)
    w = fit_ipd(t, e, "weibull")
    assert np.all(np.linalg.eigvalsh(w.cov) > 0)
    assert w.theta == pytest.approx([math.log(w.dist.shape), math.log(w.dist.scale)])


def test_piecewise_exponential_matches_lifelines(gbsg2):
    """Our closed-form piecewise-exponential MLE equals lifelines' PiecewiseExponentialFitter."""
    from lifelines import PiecewiseExponentialFitter

    t, e, _ = gbsg2
    ours = fit_ipd(t, e, "pwexp", breakpoints=[1, 3])
    theirs = PiecewiseExponentialFitter([1, 3]).fit(t, e)
    assert ours.loglik == pytest.approx(theirs.log_likelihood_, abs=1e-6)
    assert ours.dist.rates == pytest.approx((1 / theirs.params_.to_numpy()).tolist(), rel=1e-5)


def test_fit_all_sorted_by_aic(gbsg2):
    """fit_all returns the six families best-AIC first (generalized gamma on GBSG2)."""
    t, e, _ = gbsg2
    fits = fit_all(t, e)
    assert next(f.family for f in fits) == "gengamma"
    assert [f.aic for f in fits] == sorted(f.aic for f in fits)


def test_draws_follow_the_covariance(gbsg2):
    """Parametric-bootstrap thetas have the fit's mean and covariance."""
    t, e, _ = gbsg2
    fit = fit_ipd(t, e, "weibull")
    th = fit.draw_thetas(np.random.default_rng(1), 20000)
    assert th.mean(axis=0) == pytest.approx(fit.theta, abs=3e-3)
    assert np.cov(th.T) == pytest.approx(fit.cov, rel=0.05)


@pytest.mark.parametrize(("time", "event", "rule"), [
    ([], [], "no observations"),
    ([1.0, -2.0], [1, 0], "finite and >= 0"),
    ([1.0, 2.0], [1, 2], "must be 0"),
    ([1.0, 2.0], [0, 0], "no events"),
])
def test_bad_ipd_is_rejected(time, event, rule):
    """Unusable patient-level data raise ModelError naming the rule."""
    with pytest.raises(ModelError, match=rule):
        fit_ipd(time, event, "weibull")


def test_unknown_family():
    with pytest.raises(ModelError, match="family = 'cure'"):
        fit_ipd([1.0, 2.0], [1, 1], "cure")


def test_from_median_exponential_with_ci():
    """An exponential through a median has S(median) = 0.5; the CI sets SE(log rate)."""
    fit = from_median(12.0, (9.0, 16.0))
    assert isinstance(fit.dist, Exponential)
    assert float(fit.dist.survival(12.0)) == pytest.approx(0.5)
    se = (math.log(16) - math.log(9)) / (2 * 1.959963984540054)
    assert fit.cov[0, 0] == pytest.approx(se**2)
    assert any("constant hazard" in a for a in fit.assumptions)


def test_from_median_weibull_assumed_shape():
    """A Weibull needs its shape as an assumption; the median is honoured."""
    fit = from_median(20.0, family="weibull", shape=1.4)
    assert isinstance(fit.dist, Weibull) and fit.dist.shape == 1.4
    assert fit.dist.median() == pytest.approx(20.0)
    with pytest.raises(ModelError, match="median = 'NR'"):
        from_median("NR")  # type: ignore[arg-type]


def test_from_landmarks_two_points_exact():
    """A Weibull through two landmarks passes through both."""
    fit = from_landmarks([12, 24], [0.8, 0.55])
    assert fit.dist.survival(np.array([12.0, 24.0])) == pytest.approx([0.8, 0.55])
    one = from_landmarks([12], [0.7])
    assert isinstance(one.dist, Exponential) and float(one.dist.survival(12)) == pytest.approx(0.7)
    with pytest.raises(ModelError, match="rise"):
        from_landmarks([12, 24], [0.5, 0.6])


def test_from_landmarks_uncertainty_with_n():
    """With a number at risk the Weibull landmark fit carries a positive-definite covariance."""
    fit = from_landmarks([6, 12, 24], [0.9, 0.75, 0.5], n_at_risk=300)
    assert fit.cov is not None and np.all(np.linalg.eigvalsh(fit.cov) > 0)


def test_from_hazard_ratio_ph():
    """Experimental arm = control ^ HR; log-HR SE from the CI; medians scale as 1/HR for an exponential."""
    ctrl = from_median(12.4, (10.0, 15.0))
    exp_arm = from_hazard_ratio(ctrl, 0.62, (0.51, 0.75))
    assert isinstance(exp_arm.dist, ProportionalHazards)
    assert exp_arm.dist.median() == pytest.approx(12.4 / 0.62)
    assert exp_arm.cov.shape == (2, 2) and exp_arm.cov[0, 1] == 0
    assert exp_arm.cov[1, 1] == pytest.approx(((math.log(0.75) - math.log(0.51)) / 3.919927969080108) ** 2)
    assert "proportional hazards (HR constant over time)" in exp_arm.assumptions
    drawn = exp_arm.draw(np.random.default_rng(0), 3)
    assert all(isinstance(d, ProportionalHazards) for d in drawn)
    with pytest.raises(ModelError, match="outside its 95% CI"):
        from_hazard_ratio(ctrl, 0.9, (0.51, 0.75))
