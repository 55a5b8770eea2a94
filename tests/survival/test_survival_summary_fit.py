"""Fits to published summary points: exact recovery of known curves, joint proportional-hazards fits, the
standard errors taken from published CIs, and refusal when there are fewer points than parameters."""

from __future__ import annotations

import math

import pytest

from mbcpath.errors import ModelError
from mbcpath.survival.distributions import Weibull
from mbcpath.survival.summary_fit import (
    SummaryPoint,
    fit_summary,
    fit_summary_all,
    landmark_se,
    se_log_from_ci,
    se_log_median,
)


def test_standard_errors_from_published_intervals():
    """SE(log x) = (log U - log L) / 3.92; from the lower half alone when U is not reached; landmark SE on
    log(-log S) = sqrt((1 - S) / (n S log(S)^2))."""
    assert se_log_from_ci(0.44, 0.71) == pytest.approx((math.log(0.71) - math.log(0.44)) / (2 * 1.959963984540054))
    assert se_log_median(26.9, 21.8, None) == pytest.approx((math.log(26.9) - math.log(21.8)) / 1.959963984540054)
    assert se_log_median(26.9, None, None) is None
    assert landmark_se(0.5, 100) == pytest.approx(math.sqrt(0.5 / (100 * 0.5 * math.log(0.5) ** 2)))
    with pytest.raises(ModelError, match="needs 0 < lower < upper"):
        se_log_from_ci(0.7, 0.4)


def test_weibull_through_a_median_and_a_landmark_is_exact():
    """Two points of a known Weibull (shape 1.3, scale 20): the Weibull fit recovers it exactly."""
    true = Weibull(1.3, 20.0)
    pts = [SummaryPoint("median", 0, float(true.median()), 0.1, label="median"),
           SummaryPoint("landmark", 0, float(true.survival(12.0)), 0.1, t=12.0, label="12 months")]
    f = fit_summary(pts, "weibull")
    assert f.reference().shape == pytest.approx(1.3, rel=1e-5) and f.reference().scale == pytest.approx(20.0, rel=1e-5)
    assert max(abs(r) for _, r in f.residuals) < 1e-4


def test_joint_fit_recovers_the_hazard_ratio_under_proportional_hazards():
    """Both arms of an exponential trial with HR 0.6 (medians, landmarks, the HR): HR and rate recovered."""
    rate, hr = math.log(2) / 20, 0.6
    pts = [SummaryPoint("median", 0, 20.0, 0.08), SummaryPoint("median", 1, 20.0 / hr, 0.08),
           SummaryPoint("landmark", 0, math.exp(-rate * 24), 0.1, t=24.0),
           SummaryPoint("landmark", 1, math.exp(-rate * hr * 24), 0.1, t=24.0),
           SummaryPoint("hr", 1, hr, se_log_from_ci(0.45, 0.8))]
    best = fit_summary_all(pts)[0]
    assert best.two_arms and best.hr() == pytest.approx(hr, rel=1e-3)
    assert float(best.arm(1).survival(24.0)) == pytest.approx(math.exp(-rate * hr * 24), abs=1e-3)
    assert best.cov is not None and best.cov.shape == (best.n_params, best.n_params)


def test_aic_prefers_fewer_parameters_when_points_cannot_tell_shapes_apart():
    """An exponential's median and landmark: every two-parameter family also passes through both points, and
    the exponential wins by AIC (2 fewer)."""
    rate = math.log(2) / 10
    pts = [SummaryPoint("median", 0, 10.0, 0.1), SummaryPoint("landmark", 0, math.exp(-rate * 12), 0.1, t=12.0)]
    fits = fit_summary_all(pts)
    assert fits[0].family == "exponential" and fits[1].aic == pytest.approx(fits[0].aic + 2, abs=0.05)


def test_too_few_points_for_a_family_is_refused():
    """One published point cannot fix a two-parameter family."""
    with pytest.raises(ModelError, match="2 parameters but only 1 published points"):
        fit_summary([SummaryPoint("median", 0, 10.0, 0.1)], "weibull")
    with pytest.raises(ModelError, match=r"median = -1: must be a finite number > 0"):
        SummaryPoint("median", 0, -1, 0.1, label="median")
