"""The KB's networks: contrasts taken from the randomised trials of a setting, sub-networks analysed apart,
the report's league table, heterogeneity, inconsistency and contributing trials."""

from __future__ import annotations

import math

import pytest

from mbcpath.kb import load_kb
from mbcpath.survival.evidence import network_contrasts
from mbcpath.survival.network import network_for, network_report


@pytest.fixture(scope="module")
def kb():
    return load_kb()


def test_first_line_contrasts_come_from_randomised_first_line_trials(kb):
    """DESTINY-Breast09 gives T-DXd + P vs THP (HR 0.56); single-arm and non-regimen arms give nothing."""
    cs = network_contrasts(kb.trials.values(), "first_line", "pfs")
    db09 = [c for c in cs if c.trial == "DESTINY-Breast09"]
    assert [(c.treat1, c.treat2) for c in db09] == [("tdxd-pertuzumab", "thp")]
    assert math.exp(db09[0].log_hr) == pytest.approx(0.56)
    assert db09[0].se == pytest.approx((math.log(0.71) - math.log(0.44)) / 3.919927969, rel=1e-6)
    assert all(kb.trials[c.trial].randomized for c in cs)
    assert not any(c.trial in ("DESTINY-Breast07", "DEMETHER") for c in cs)


def test_multi_arm_trial_is_completed_through_its_shared_control(kb):
    """MARIANNE reports both T-DM1 arms against trastuzumab + taxane: the third contrast is derived, with the
    shared-control covariance, so the trial is not double counted."""
    cs = [c for c in network_contrasts(kb.trials.values(), "first_line", "pfs") if c.trial == "MARIANNE"]
    assert len(cs) == 3
    derived = next(c for c in cs if c.derived)
    direct = {frozenset((c.treat1, c.treat2)): c for c in cs if not c.derived}
    a, b = direct[frozenset(("tdm1", "th"))], direct[frozenset(("tdm1-pertuzumab", "th"))]
    assert derived.log_hr == pytest.approx(a.log_hr - b.log_hr)
    va, vb = a.se**2, b.se**2
    assert derived.se**2 == pytest.approx(va + vb - min(va, vb))


def test_disconnected_sub_networks_are_analysed_apart(kb):
    """First-line PFS: the THP network and the endocrine network share no trial and are two components."""
    net = network_for(kb, "first_line", "pfs")
    assert len(net.components) == 2
    assert net.connected("tdxd-pertuzumab", "th") and not net.connected("tdxd-pertuzumab", "hp-ai")
    _est, se, trials = net.log_hr("pyrotinib-trastuzumab-docetaxel", "thp")
    assert set(trials) >= {"PHILA", "CLEOPATRA", "PUFFIN"} and sum(trials.values()) == pytest.approx(1.0)
    assert se > 0


def test_report_league_table_is_consistent(kb):
    """Second line: HR(a, b) x HR(b, a) = 1; the indirect T-DXd vs lapatinib + capecitabine HR is the product of
    the two direct ones (a chain), fed by both trials; no loop, so inconsistency is not assessable."""
    rep = network_report(kb, "second_line", "pfs")
    comp = next(c for c in rep.components if "tdxd" in c.treatments)
    cells = {(c.row, c.column): c for c in comp.league}
    for (a, b), cell in cells.items():
        assert cell.network.hr * cells[(b, a)].network.hr == pytest.approx(1.0, abs=2e-3)
    ind = cells[("tdxd", "lapatinib-capecitabine")]
    assert ind.direct is None and set(ind.trials) == {"DESTINY-Breast03", "EMILIA"}
    assert ind.network.hr == pytest.approx(0.33 * 0.65, rel=2e-3)
    assert ind.network.lower < ind.network.hr < ind.network.upper
    assert not comp.inconsistency.assessable and "cannot be assessed" in comp.inconsistency.note
    assert comp.p_scores["tdxd"] > comp.p_scores["tdm1"] > comp.p_scores["lapatinib-capecitabine"]


def test_heterogeneity_where_two_trials_share_a_comparison(kb):
    """First line: CLEOPATRA and PUFFIN both compare THP with TH, so Q has a degree of freedom."""
    rep = network_report(kb, "first_line", "pfs")
    comp = next(c for c in rep.components if "thp" in c.treatments)
    assert comp.heterogeneity.df >= 1 and comp.heterogeneity.q >= 0
    edge = next(e for e in comp.edges if {e.treat1, e.treat2} == {"thp", "th"})
    assert edge.trials == ["CLEOPATRA", "PUFFIN"]


def test_unknown_decision_point_is_refused(kb):
    from mbcpath.errors import ModelError

    with pytest.raises(ModelError, match="decision_point = 'fourth_line'"):
        network_report(kb, "fourth_line", "pfs")
