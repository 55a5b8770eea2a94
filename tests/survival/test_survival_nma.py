"""Network meta-analysis: Senn2013 reference values (evidence-synthesis 3.5) and hand-derivable networks."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from mbcpath.errors import ModelError
from mbcpath.survival.nma import network_meta_analysis

from .conftest import DATA

# treatment: (common est, common SE, DL random est, DL random SE), vs placebo; metafor/pimeta/netmeta formulas
SENN_REFERENCE = {
    "acarbose": (-0.8273, 0.1085, -0.8418, 0.2458),
    "benfluorex": (-0.9051, 0.1271, -0.7311, 0.2861),
    "metformin": (-1.1140, 0.0596, -1.1268, 0.1543),
    "miglitol": (-0.9438, 0.1269, -0.9497, 0.2318),
    "pioglitazone": (-1.0663, 0.0758, -1.1291, 0.2196),
    "rosiglitazone": (-1.2019, 0.0477, -1.2335, 0.1278),
    "sitagliptin": (-0.5700, 0.1291, -0.5700, 0.3541),
    "sulfonylurea": (-0.4394, 0.0915, -0.4165, 0.2409),
    "vildagliptin": (-0.7000, 0.1273, -0.7000, 0.3534),
}


@pytest.fixture(scope="module")
def senn():
    with (DATA / "senn2013_contrasts.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return network_meta_analysis([float(r["te"]) for r in rows], [float(r["se"]) for r in rows],
                                 [r["treat1"] for r in rows], [r["treat2"] for r in rows],
                                 [r["study"] for r in rows], small_values_good=True)


def test_senn2013_heterogeneity(senn):
    """Q = 96.98 on 18 df, DL tau^2 = 0.1087, I^2 = 81.4% (inputs are rounded to 2/4 decimals)."""
    assert senn.df == 18
    assert senn.q == pytest.approx(96.984, abs=0.01)
    assert senn.tau2 == pytest.approx(0.10871, abs=2e-4)
    assert senn.i2 == pytest.approx(0.814, abs=1e-3)
    assert (senn.n_studies, senn.n_contrasts) == (26, 28)


@pytest.mark.parametrize("treatment", sorted(SENN_REFERENCE))
def test_senn2013_effects(senn, treatment):
    """Common and DL random effects vs placebo match the reference to about 3e-4."""
    ce, cse, re_, rse = SENN_REFERENCE[treatment]
    est, se = senn.effect(treatment, "placebo", "common")
    assert est == pytest.approx(ce, abs=3e-4) and se == pytest.approx(cse, abs=3e-4)
    est, se = senn.effect(treatment, "placebo", "random")
    assert est == pytest.approx(re_, abs=3e-4) and se == pytest.approx(rse, abs=3e-4)


def test_p_scores(senn):
    """P-scores are in [0, 1], average 0.5, and rank rosiglitazone (largest HbA1c fall) first, placebo last."""
    ps = senn.p_scores("random")
    assert sum(ps.values()) / len(ps) == pytest.approx(0.5)
    assert max(ps, key=ps.get) == "rosiglitazone" and min(ps, key=ps.get) == "placebo"


def test_consistent_triangle_equals_direct_estimates():
    """A consistent triangle (AC = AB + BC exactly): NMA equals the direct estimates, Q = 0, tau^2 = 0."""
    r = network_meta_analysis([-0.3, -0.2, -0.5], [0.1, 0.15, 0.12], ["B", "C", "C"], ["A", "B", "A"],
                              ["s1", "s2", "s3"])
    assert r.q == pytest.approx(0.0, abs=1e-12) and r.tau2 == 0.0
    assert r.effect("B", "A", "common")[0] == pytest.approx(-0.3)
    assert r.effect("C", "B", "common")[0] == pytest.approx(-0.2)
    assert r.effect("C", "A", "random")[0] == pytest.approx(-0.5)


def test_two_studies_same_comparison_equal_inverse_variance_pooling():
    """Two studies of B vs A: the common effect is the inverse-variance mean, SE = (sum w)^-1/2; DL tau^2 by hand."""
    y, s = np.array([-0.4, -0.1]), np.array([0.1, 0.2])
    r = network_meta_analysis(y, s, ["B", "B"], ["A", "A"], ["s1", "s2"])
    w = 1 / s**2
    est, se = r.effect("B", "A", "common")
    assert est == pytest.approx(np.sum(w * y) / np.sum(w))
    assert se == pytest.approx(1 / math.sqrt(np.sum(w)))
    q = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))
    tau2 = max(0.0, (q - 1) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
    assert r.q == pytest.approx(q) and r.tau2 == pytest.approx(tau2)
    wr = 1 / (s**2 + tau2)
    assert r.effect("B", "A", "random")[0] == pytest.approx(np.sum(wr * y) / np.sum(wr))


def test_three_arm_study_needs_all_contrasts_and_is_not_double_counted():
    """A lone three-arm study: the NMA returns its own (consistent) contrasts with their variances."""
    r = network_meta_analysis([-0.5, -0.2, -0.3], [0.2, 0.25, 0.22], ["B", "C", "B"], ["A", "A", "C"],
                              ["s", "s", "s"])
    est, se = r.effect("B", "A", "common")
    assert est == pytest.approx(-0.5) and se == pytest.approx(0.2, rel=1e-9)
    assert r.df == 0
    with pytest.raises(ModelError, match="all 3 pairwise contrasts"):
        network_meta_analysis([-0.5, -0.2], [0.2, 0.25], ["B", "C"], ["A", "A"], ["s", "s"])


def test_disconnected_network_and_bad_input():
    with pytest.raises(ModelError, match="not connected"):
        network_meta_analysis([-0.1, -0.2], [0.1, 0.1], ["B", "D"], ["A", "C"], ["s1", "s2"])
    with pytest.raises(ModelError, match=r"se = 0\.0"):
        network_meta_analysis([-0.1], [0.0], ["B"], ["A"], ["s1"])
    with pytest.raises(ModelError, match="treatment = 'Z'"):
        network_meta_analysis([-0.1], [0.1], ["B"], ["A"], ["s1"]).effect("Z", "A")
