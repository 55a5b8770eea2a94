"""Monte Carlo of a three-line plan: determinism, consistent totals, analytic Weibull means."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mbcpath.errors import ModelError
from mbcpath.survival.distributions import Weibull
from mbcpath.survival.fitting import FitResult
from mbcpath.survival.sequence import Line, simulate_sequence

DISTS = [Weibull(1.3, 20.0), Weibull(1.1, 9.0), Weibull(0.9, 5.0)]


def _plan(cov: float = 0.004) -> list[Line]:
    return [Line(f"line {i + 1}", FitResult(d, "weibull", d.theta, cov=np.diag([cov, cov / 2])))
            for i, d in enumerate(DISTS)]


def test_same_seed_same_result():
    """The same seed gives identical per-patient times; another seed does not."""
    a = simulate_sequence(_plan(), 20_000, seed=3)
    b = simulate_sequence(_plan(), 20_000, seed=3)
    c = simulate_sequence(_plan(), 20_000, seed=4)
    assert np.array_equal(a.times, b.times)
    assert not np.array_equal(a.times, c.times)


def test_totals_are_consistent():
    """Times are positive, the total is the sum of the lines, and line occupancy probabilities are coherent."""
    r = simulate_sequence(_plan(), 50_000, seed=1)
    assert r.times.shape == (50_000, 3) and np.all(r.times > 0)
    assert r.total == pytest.approx(r.times.sum(axis=1))
    assert np.all(r.total >= r.times.max(axis=1))
    t = np.array([0.0, 6.0, 12.0, 24.0, 48.0])
    occ = sum(r.prob_on_line(k, t) for k in range(3)) + (1 - r.prob_beyond(t))
    assert occ == pytest.approx(np.ones_like(t), abs=1e-12)  # on some line, or past the plan
    assert np.all(np.diff(r.prob_beyond(t)) <= 0)
    assert r.prob_on_line(0, 0.0)[0] == pytest.approx(1.0)


def test_means_match_analytic_weibull_without_parameter_uncertainty():
    """Point-estimate simulation: means equal scale * Gamma(1 + 1/shape) within 4 Monte Carlo SEs."""
    r = simulate_sequence(_plan(), 400_000, seed=11, parameter_uncertainty=False)
    s = r.summary()
    for k, d in enumerate(DISTS):
        x = r.times[:, k]
        assert abs(x.mean() - d.mean()) < 4 * x.std() / math.sqrt(x.size)
        assert s[f"line {k + 1}"]["median"] == pytest.approx(d.median(), rel=0.01)
    total = sum(d.mean() for d in DISTS)
    assert abs(r.total.mean() - total) < 4 * r.total.std() / math.sqrt(r.n)


def test_parameter_uncertainty_widens_between_batch_spread():
    """With parameter draws the batch means vary more than sampling alone allows; the mean stays unbiased."""
    with_unc = simulate_sequence(_plan(cov=0.02), 200_000, seed=5, n_batches=200)
    without = simulate_sequence(_plan(cov=0.02), 200_000, seed=5, n_batches=200, parameter_uncertainty=False)
    s1, s0 = with_unc.summary()["line 1"], without.summary()["line 1"]
    assert s1["mean_se"] > 2 * s0["mean_se"]
    assert abs(s1["mean"] - DISTS[0].mean()) < 4 * s1["mean_se"] + 0.5


def test_bad_plans_are_rejected():
    with pytest.raises(ModelError, match="no lines"):
        simulate_sequence([], 10)
    with pytest.raises(ModelError, match="n_patients = 0"):
        simulate_sequence(_plan(), 0)
