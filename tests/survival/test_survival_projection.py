"""Projections v2: one basis per chart, each option's curve from the trials it cites, honest extent and
uncertainty. One test per misleading case of issue 11, then the structure (differences with intervals, RMST,
model choice, subgroups), determinism and thread safety."""

from __future__ import annotations

import json
import re
import threading
from functools import cache

import numpy as np
import pytest

from mbcpath.domain.recommendation import Category, EvidenceRef, Option, Recommendation
from mbcpath.survival.chart import charts, render_svg
from mbcpath.survival.projection import DIFFERENCE_MONTHS, NO_CI, ProjectionResult, project_options

from .conftest import ROOT

CASES = ["seed-01-first-line", "seed-02-maintenance-hr-positive", "seed-03-isolated-cns-progression",
         "second-line-after-thp", "second-line-after-first-line-tdxd", "third-line-active-brain-metastases",
         "late-relapse-first-line", "hr-negative-maintenance"]


def _patient(name: str):
    from mbcpath.domain.validation import parse_patient

    case = json.loads((ROOT / "tests" / "cases" / f"{name}.json").read_text(encoding="utf-8"))
    return parse_patient(case.get("patient", case))


@cache
def _projected(name: str) -> tuple[ProjectionResult, object]:
    from mbcpath.engine import recommend
    from mbcpath.kb import load_kb

    kb = load_kb()
    p = _patient(name)
    rec = recommend(p, kb)
    return project_options(rec, kb, patient=p), rec


# ----------------------------------------------------------------------------- the misleading cases
def test_first_line_curves_come_from_one_randomised_trial_and_match_db09():
    """T-DXd + P and THP are arms of DESTINY-Breast09 on one chart (not THP from CLEOPATRA), and the curves
    give DB09's published 24-month PFS (70.1% vs 52.1%) within 0.03."""
    proj, _ = _projected("seed-01-first-line")
    tp, thp = proj.get("tdxd-pertuzumab", "pfs"), proj.get("thp", "pfs")
    assert tp.trial == thp.trial == "DESTINY-Breast09"
    assert tp.comparison_id == thp.comparison_id
    comp = proj.comparison(tp.comparison_id)
    assert comp.kind == "randomised" and comp.trials == ["DESTINY-Breast09"]
    assert abs(tp.at(24.0).probability - 0.701) <= 0.03
    assert abs(thp.at(24.0).probability - 0.521) <= 0.03
    assert thp.role == "reference" and tp.hr_vs_reference.hr == pytest.approx(0.56)
    assert all(p.trial != "CLEOPATRA" for p in proj.projections if p.endpoint == "pfs" and p.regimen_id == "thp")


def test_cns_event_tdxd_curve_comes_from_destiny_breast12():
    """At a CNS event T-DXd is drawn from DESTINY-Breast12's brain-metastases cohort (median 17.3 months), the
    trial the option cites, not DESTINY-Breast03 (28.8); a single-arm cohort is shown apart, unanchored."""
    proj, rec = _projected("seed-03-isolated-cns-progression")
    assert "DESTINY-Breast12" in [e.trial for o in rec.options if o.regimen_id == "tdxd" for e in o.evidence]
    p = proj.get("tdxd", "pfs")
    assert p.trial == "DESTINY-Breast12" and p.arm == "bm"
    assert p.median == pytest.approx(17.3, abs=1.0) and p.published_median == 17.3
    assert p.basis_kind == "unanchored"
    comp = proj.comparison(p.comparison_id)
    assert comp.members == ["tdxd"] and "Unanchored single-arm estimate" in comp.title
    assert not any(x.trial == "DESTINY-Breast03" for x in proj.projections if x.regimen_id == "tdxd")


@pytest.mark.parametrize("name", CASES)
def test_no_curve_is_solid_past_follow_up(name):
    """Every solid segment (projection segments, chart series, SVG paths) ends at the trial's follow-up;
    what lies beyond is dashed, and landmarks beyond it say they are extrapolated."""
    proj, _ = _projected(name)
    for p in proj.projections:
        for style, t, _s in p.segments():
            if style == "solid":
                assert max(t) <= p.observed_until + 1e-9, (p.regimen_id, p.endpoint)
            else:
                assert min(t) >= p.observed_until - 1e-9
        for lm in p.landmarks:
            assert lm.observed == (lm.months <= p.observed_until)
    for chart in charts(proj):
        for s in chart.series:
            if s.solid is not None:
                assert max(s.solid.x) <= s.observed_until + 1e-9
            if s.dashed is not None:
                assert min(s.dashed.x) >= s.observed_until - 1e-9
        svg = render_svg(chart)
        assert svg.count('data-segment="solid"') == sum(s.solid is not None for s in chart.series)


def test_db09_curve_is_dashed_after_29_months():
    """DESTINY-Breast09's median follow-up is 29.2 months: its curves are solid to there and dashed beyond."""
    proj, _ = _projected("seed-01-first-line")
    p = proj.get("tdxd-pertuzumab", "pfs")
    assert p.observed_until == 29.2 and "median follow-up 29.2" in p.observed_basis
    styles = {style: (min(t), max(t)) for style, t, _ in p.segments()}
    assert styles["solid"] == (0.0, 29.2) and styles["dashed"][0] == 29.2 and styles["dashed"][1] == 60.0
    assert not p.at(36.0).observed and p.at(24.0).observed


@pytest.mark.parametrize("name", CASES)
def test_missing_ci_is_never_a_zero_width_interval(name):
    """No landmark, median, band or difference shows an interval of zero width: without a published CI it
    is absent and says so."""
    proj, _ = _projected(name)
    for p in proj.projections:
        for lm in p.landmarks:
            assert (lm.lower is None) == (lm.upper is None)
            if lm.lower is not None and 0 < lm.probability < 1:  # a curve at 0 (after 4-decimal rounding) is a floor
                assert lm.upper > lm.lower, (p.regimen_id, lm)
        if p.lower is None:
            assert NO_CI in p.ci_note
        else:
            assert any(h > lo for lo, h in zip(p.lower, p.upper, strict=True))
        if p.median_ci95 is not None and None not in p.median_ci95:
            assert p.median_ci95[1] > p.median_ci95[0]
    for d in proj.differences:
        if d.lower is not None:
            assert d.upper > d.lower


def test_unpublished_ci_reads_no_ci_published_everywhere(tmp_path):
    """TAnDEM's OS record has medians but no CI and no HR: no band, 'no CI published' in the JSON, the CLI
    text and the HTML, never a figure like 28.5 (28.5-28.5)."""
    from mbcpath.survival.plot import projection_html

    proj, _ = _projected("seed-01-first-line")
    p = proj.get("trastuzumab-ai", "os")
    assert p.trial == "TAnDEM" and p.lower is None and p.upper is None and p.median_ci95 is None
    assert all(lm.lower is None and lm.upper is None for lm in p.landmarks)
    html = projection_html(proj)
    assert NO_CI in html
    assert not re.search(r"(\d+(?:\.\d+)?)%? \(\1%?[-–]\1%?\)", html)
    series = next(s for c in charts(proj) for s in c.series if s.key == "trastuzumab-ai" and c.endpoint == "os")
    assert series.band is None and NO_CI in series.band_note


# ----------------------------------------------------------------------------- bases
@pytest.mark.parametrize("name", CASES)
def test_curves_share_a_chart_only_on_a_common_basis(name):
    """A randomised chart holds arms of its one trial; an unanchored chart holds one option; every member of
    an anchored chart other than the reference carries an HR against the reference."""
    proj, _ = _projected(name)
    for comp in proj.comparisons:
        members = [p for p in proj.projections if p.comparison_id == comp.id]
        refs = [p for p in members if p.role == "reference"]
        if comp.kind == "unanchored":
            assert len(members) == 1 and members[0].role == "unanchored"
            continue
        assert len(refs) == 1 and refs[0].regimen_id == comp.reference
        for p in members:
            if p.role == "randomised":
                assert p.trial == refs[0].trial and p.hr_vs_reference is not None
            elif p.role == "anchored":
                assert "network meta-analysis" in p.hr_vs_reference.basis
        if comp.kind == "randomised":
            assert {p.trial for p in members} == {comp.reference_trial}


def test_anchored_option_carries_the_network_hr_and_its_uncertainty():
    """Second line: tucatinib + T-DM1 joins the DESTINY-Breast03 chart through HER2CLIMB-02: its curve is the
    T-DM1 arm times the network HR (0.76), and its band is wider than the reference's."""
    proj, _ = _projected("second-line-after-thp")
    tt, tdm1 = proj.get("tucatinib-tdm1", "pfs"), proj.get("tdm1", "pfs")
    assert tt.role == "anchored" and tdm1.role == "reference" and tt.comparison_id == tdm1.comparison_id
    assert tt.hr_vs_reference.hr == pytest.approx(0.76, rel=1e-3)
    assert set(tt.hr_vs_reference.trials) == {"HER2CLIMB-02"}
    i = tt.times.index(12.0)
    assert tt.survival[i] == pytest.approx(tdm1.survival[i] ** tt.hr_vs_reference.hr, abs=2e-3)
    width = tt.upper[i] - tt.lower[i]
    assert width > 0 and width / tt.survival[i] > (tdm1.upper[i] - tdm1.lower[i]) / tdm1.survival[i]


def test_indirect_support_is_not_a_curve():
    """A cited trial marked support='indirect' does not give the option a curve even if an arm matches."""
    from mbcpath.kb import load_kb

    kb = load_kb()
    opt = Option(rank=1, category=Category.PREFERRED, regimen_id="tdxd", name="T-DXd", components=[],
                 evidence=[EvidenceRef(trial="DESTINY-Breast03", support="indirect", basis="another line")])
    rec = Recommendation(patient_id="p", kb_release="x", engine_version="0", decision_point="first_line",
                         options=[opt])
    proj = project_options(rec, kb, facts={})
    assert proj.projections == [] and "no cited trial has an arm" in proj.skipped[0]


# ----------------------------------------------------------------------------- what is reported
def test_differences_at_1_2_3_years_and_rmst_have_95_intervals():
    """DB09: differences at 12/24/36 months with 95% intervals from paired draws; RMST over the observed
    window (29.2 months) for each arm and their difference, with intervals."""
    proj, _ = _projected("seed-01-first-line")
    diffs = [d for d in proj.differences if d.option == "tdxd-pertuzumab" and d.endpoint == "pfs"]
    assert [d.months for d in diffs] == list(DIFFERENCE_MONTHS)
    for d in diffs:
        assert d.reference == "thp" and d.lower < d.difference < d.upper and d.comparison.startswith("within")
    r = next(x for x in proj.rmst_differences if x.option == "tdxd-pertuzumab")
    assert r.tau == 29.2 and r.lower < r.difference < r.upper and r.difference > 0
    for reg in ("thp", "tdxd-pertuzumab"):
        rm = proj.get(reg, "pfs").rmst
        assert rm.tau == 29.2 and rm.lower < rm.value < rm.upper < 29.2


def test_model_choice_is_shown_with_aic_and_bic():
    """Each curve lists every fitted family with AIC, BIC and delta AIC, the lowest AIC chosen; patient-level
    fits say so, summary fits say they rest on published points."""
    proj, _ = _projected("seed-01-first-line")
    thp = proj.get("thp", "pfs")
    sel = thp.model_selection
    assert "published summary statistics (5 points)" in sel.data and len(sel.candidates) >= 4
    aics = [c.aic for c in sel.candidates]
    assert aics == sorted(aics) and sel.candidates[0].chosen and sum(c.chosen for c in sel.candidates) == 1
    assert all(c.bic is not None for c in sel.candidates)
    os_ = proj.get("thp", "os")
    assert os_.trial == "CLEOPATRA" and "reconstructed patient-level data" in os_.model_selection.data


def test_subgroups_that_fit_the_patient_are_shown_beside_the_overall():
    """CNS event with active brain metastases: DB12's active-brain-metastases 12-month PFS is shown (not the
    stable subgroup), and HER2CLIMB's brain-metastasis subgroups beside its overall result."""
    proj, _ = _projected("seed-03-isolated-cns-progression")
    pops = {(s.trial, s.population) for s in proj.subgroups}
    assert ("DESTINY-Breast12", "active brain metastases (n=106)") in pops
    assert ("DESTINY-Breast12", "stable brain metastases (n=157)") not in pops
    hc = [s for s in proj.subgroups if s.trial == "HER2CLIMB"]
    assert hc and all(s.overall for s in hc)


def test_projection_is_deterministic_and_serialisable():
    """Same input, same JSON; the JSON parses back into the model."""
    from mbcpath.engine import recommend
    from mbcpath.kb import load_kb

    kb = load_kb()
    p = _patient("seed-01-first-line")
    a = project_options(recommend(p, kb), kb, patient=p)
    b = project_options(recommend(p, kb), kb, patient=p)
    assert a.to_json() == b.to_json()
    assert ProjectionResult.model_validate(json.loads(a.to_json())) == a


def test_projection_is_thread_safe():
    """Four threads projecting different patients at once give the same answers as one at a time."""
    from mbcpath.kb import load_kb
    from mbcpath.survival.service import project_for

    kb = load_kb()
    names = ["seed-01-first-line", "seed-03-isolated-cns-progression", "second-line-after-thp",
             "seed-02-maintenance-hr-positive"]
    serial = {n: project_for(_patient(n), kb).to_json() for n in names}
    got: dict[str, str] = {}

    def run(n: str) -> None:
        got[n] = project_for(_patient(n), kb).to_json()

    threads = [threading.Thread(target=run, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == serial


def test_cleopatra_patient_level_fits_agree_with_the_reconstructed_km():
    """The CLEOPATRA fits (from the artefact) stay close to the KM of their reconstructed data within
    follow-up: whole curve within 0.07, 12/24/36-month landmarks within 0.05, medians within 1.5 months."""
    from lifelines import KaplanMeierFitter

    from mbcpath.kb import load_kb
    from mbcpath.survival.artefact import default_store
    from mbcpath.survival.ipd import IPD_REGISTRY, load_kmdata

    store = default_store(load_kb())
    for ds in set(IPD_REGISTRY.values()):
        for arm in (ds.experimental, ds.control):
            fit = store.ipd(ds, arm).best
            t, e = load_kmdata(ds.file, arm)
            km = KaplanMeierFitter().fit(t, e)
            grid = np.arange(0.5, t[e == 1].max(), 0.5)
            gap = np.abs(fit.dist.survival(grid) - km.survival_function_at_times(grid).to_numpy())
            assert gap.max() <= 0.07, (ds.file, arm, gap.max())
            lm = np.array([12.0, 24.0, 36.0])
            assert np.abs(fit.dist.survival(lm) - km.survival_function_at_times(lm).to_numpy()).max() <= 0.05
            assert abs(fit.dist.median() - km.median_survival_time_) <= 1.5
