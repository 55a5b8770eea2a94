"""Second published NMA oracle: netmeta's worked example 1 (Parkinson's disease, Stowe2010) in
Balduzzi et al., J Stat Softw 2023;106(2): random-effects estimates, tau^2, I^2 with its interval,
P-scores, the league table, the design-based Q decomposition (with the design-by-treatment random-
effects model) and node-splitting (SIDE), to the 2-4 decimals printed in the article; common effects
against metafor's rma.mv (tests/data/survival/stowe2010_metafor.R, run with Debian's R)."""

from __future__ import annotations

import csv
import itertools
import json
import math

import pytest

from mbcpath.survival.nma import NMAResult, network_meta_analysis

from .conftest import DATA

PUBLISHED = json.loads((DATA / "stowe2010_netmeta_published.json").read_text(encoding="utf-8"))
METAFOR = json.loads((DATA / "stowe2010_metafor.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def net() -> NMAResult:
    """pairwise() then netmeta(): every pair of arms within a study, MD with SE sqrt(sd1^2/n1 + sd2^2/n2)."""
    with (DATA / "stowe2010_arms.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_study: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_study.setdefault(r["study"], []).append(r)
    te, se, t1, t2, st = [], [], [], [], []
    for study, arms in by_study.items():
        for a, b in itertools.combinations(arms, 2):
            te.append(float(a["mean"]) - float(b["mean"]))
            se.append(math.sqrt(float(a["sd"]) ** 2 / float(a["n"]) + float(b["sd"]) ** 2 / float(b["n"])))
            t1.append(a["treatment"])
            t2.append(b["treatment"])
            st.append(study)
    return network_meta_analysis(te, se, t1, t2, st, small_values_good=True)


def test_counts(net):
    """29 studies, 31 contrasts, 4 treatments, 4 designs."""
    c = PUBLISHED["counts"]
    assert (net.n_studies, net.n_contrasts, len(net.treatments)) == (c["studies"], c["contrasts"], c["treatments"])
    assert len(net.data.designs()) == c["designs"]


@pytest.mark.parametrize("treatment", sorted(PUBLISHED["random_vs_placebo"]))
def test_random_effects_vs_placebo(net, treatment):
    """MD and 95% CI vs placebo as printed (2 decimals)."""
    est, lo, hi = PUBLISHED["random_vs_placebo"][treatment]
    e, se = net.effect(treatment, "Placebo", "random")
    assert round(e, 2) == est and round(e - 1.959964 * se, 2) == lo and round(e + 1.959964 * se, 2) == hi


def test_heterogeneity_and_i2_interval(net):
    """tau^2 = 0.1518, I^2 = 43.9% [12.3%; 64.2%]."""
    h = PUBLISHED["heterogeneity"]
    assert round(net.tau2, 4) == h["tau2"] and round(net.tau, 4) == h["tau"]
    assert round(net.i2, 3) == h["I2"]
    lo, hi = net.i2_interval()
    assert (round(lo, 3), round(hi, 3)) == (h["I2_lower"], h["I2_upper"])


def test_p_scores(net):
    """P-scores 0.9677 / 0.5664 / 0.4659 / 0.0000."""
    ps = net.p_scores("random")
    for t, v in PUBLISHED["p_scores_random"].items():
        assert round(ps[t], 4) == v


def test_league_table(net):
    """netleague(net1, seq = netrank(net1)): network estimates below, direct estimates above the diagonal."""
    lg = PUBLISHED["league_random"]
    table = net.league("random", order=lg["order"])
    for i, row in enumerate(lg["cells"]):
        for j, expected in enumerate(row):
            cell = table[i][j]
            if expected is None:
                assert cell is None, (i, j)
            else:
                assert round(cell["estimate"], 2) == expected, (i, j, cell)


def test_q_decomposition_and_design_by_treatment(net):
    """Q total / within / between designs, per-design Q, and the design-by-treatment random-effects Q."""
    d = net.decomposition()
    q = PUBLISHED["Q"]
    for (val, df, p), (got_q, got_df, got_p) in (
            (q["total"], (d.q_total, d.df_total, d.p_total)), (q["within"], (d.q_within, d.df_within, d.p_within)),
            (q["between"], (d.q_between, d.df_between, d.p_between))):
        assert (round(got_q, 2), got_df, round(got_p, 4)) == (val, df, p)
    per = {name: (q_, df_, p_) for name, q_, df_, p_ in d.per_design}
    for name, (val, df, p) in PUBLISHED["Q_by_design"].items():
        key = next(k for k in per if set(k.split(":")) == set(name.split(":")))
        assert (round(per[key][0], 2), per[key][1], round(per[key][2], 4)) == (val, df, p)
    dbt = PUBLISHED["design_by_treatment_random"]
    assert round(d.q_between_random, 2) == dbt["Q_between"] and round(d.p_between_random, 4) == dbt["p"]
    assert round(math.sqrt(d.tau2_within), 4) == dbt["tau_within"]


def test_node_splitting(net):
    """netsplit(net1): direct proportion, direct, indirect, difference, z and p for all six comparisons."""
    rows = {(r.a, r.b): r for r in net.split("random")}
    for exp in PUBLISHED["netsplit_random"]:
        r = rows[tuple(exp["comparison"])]
        assert r.k == exp["k"] and round(r.prop_direct, 2) == exp["prop"] and round(r.nma, 2) == exp["nma"]
        for name in ("direct", "indirect", "diff", "z"):
            got = getattr(r, name)
            assert (got is None and exp[name] is None) or round(got, 2) == exp[name], (exp["comparison"], name)
        assert (r.p is None and exp["p"] is None) or round(r.p, 4) == exp["p"]


@pytest.mark.parametrize("treatment", sorted(METAFOR["common"]))
def test_common_effects_match_metafor(net, treatment):
    """Common-effect estimates and SEs equal metafor's rma.mv GLS fit to 1e-6 (Q too)."""
    ref = METAFOR["common"][treatment]
    est, se = net.effect(treatment, "Placebo", "common")
    assert est == pytest.approx(ref["estimate"], abs=1e-6) and se == pytest.approx(ref["se"], abs=1e-6)
    assert net.q == pytest.approx(METAFOR["common_Q"], abs=1e-5) and net.df == METAFOR["common_Q_df"]
