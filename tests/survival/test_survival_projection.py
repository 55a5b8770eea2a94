"""Projections: CLEOPATRA curves agree with the KM of the reconstructed data; structure, bands, plots."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import numpy as np
import pytest

from mbcpath.domain.recommendation import Category, EvidenceRef, Option, Recommendation
from mbcpath.errors import ModelError
from mbcpath.survival.ipd import load_kmdata
from mbcpath.survival.projection import LANDMARKS, Projections, project_options

from .conftest import ROOT, load_trial, write_artifact


class _KB:
    """The slice of a KnowledgeBase that projections use, built from individual trial files."""

    def __init__(self, *names: str) -> None:
        self.trials = {t.id: t for t in (load_trial(n) for n in names)}
        self.regimens: dict = {}
        self.release = SimpleNamespace(kb_release="test")

    def trial(self, name: str):
        raise KeyError(name)


def _option(rank: int, regimen: str, trial: str) -> Option:
    return Option(rank=rank, category=Category.PREFERRED, regimen_id=regimen, name=regimen, components=[],
                  evidence=[EvidenceRef(trial=trial)])


def _recommendation(*options: Option) -> Recommendation:
    return Recommendation(patient_id="p1", kb_release="test", engine_version="0", decision_point="first_line",
                          options=list(options))


@pytest.fixture(scope="module")
def cleopatra() -> Projections:
    rec = _recommendation(_option(1, "thp", "CLEOPATRA"), _option(2, "th", "CLEOPATRA"))
    return project_options(rec, _KB("cleopatra"))


def _km(t, e, grid):
    from lifelines import KaplanMeierFitter

    km = KaplanMeierFitter().fit(t, e)
    return km.survival_function_at_times(grid).to_numpy(), float(km.median_survival_time_)


def test_cleopatra_projection_agrees_with_reconstructed_km(cleopatra):
    """THP and TH PFS/OS curves fitted to the kmdata IPD stay close to its KM within follow-up.

    Measured largest gaps go to artifacts/projection_agreement.json. The PFS KM falls in steps at the
    scheduled tumour assessments, which no smooth model follows exactly, so the bound on the whole
    curve is 0.07; at the 12/24/36-month landmarks it is 0.05 and the medians agree within 1.5 months.
    """
    files = {"os": "cleopatra_2a.csv", "pfs": "cleopatra_3a.csv"}
    arms = {"thp": "pertuzumab", "th": "control"}
    report: dict[str, dict] = {}
    for reg, kmarm in arms.items():
        for ep, f in files.items():
            p = cleopatra.get(reg, ep)
            assert p is not None and "reconstructed IPD" in p.basis
            t, e = load_kmdata(f, kmarm)
            grid = np.array(p.times)
            inside = grid <= t[e == 1].max()
            km, km_med = _km(t, e, grid[inside])
            gap = np.abs(np.array(p.survival)[inside] - km)
            lm = np.array([m for m in LANDMARKS if m <= 36])
            km_lm, _ = _km(t, e, lm)
            lm_gap = np.abs(np.array([p.at(m).probability for m in lm]) - km_lm)
            report[f"{reg} {ep}"] = {"model": p.model, "max_abs_gap": round(float(gap.max()), 4),
                                     "at_months": float(grid[inside][gap.argmax()]),
                                     "max_landmark_gap_12_24_36": round(float(lm_gap.max()), 4),
                                     "median_projected": p.median, "median_km": km_med}
            assert gap.max() <= 0.07, (reg, ep, gap.max())
            assert lm_gap.max() <= 0.05, (reg, ep, lm_gap)
            assert abs(p.median - km_med) <= 1.5
    largest = max(v["max_abs_gap"] for v in report.values())
    write_artifact("projection_agreement.json", {"largest_abs_gap": largest, "curves": report,
                                                 "grid": "0.5-month steps within follow-up (to the last event)"})


def test_projection_states_its_basis(cleopatra):
    """Every projection names trial, arm, analysis, model, assumptions and sources; bands enclose the curve."""
    assert {(p.regimen_id, p.endpoint) for p in cleopatra.projections} == {
        ("thp", "pfs"), ("thp", "os"), ("th", "pfs"), ("th", "os")}
    for p in cleopatra.projections:
        assert p.trial == "CLEOPATRA" and p.analysis and p.model and p.assumptions and p.sources
        s, lo, hi = map(np.array, (p.survival, p.lower, p.upper))
        assert np.all(lo <= s) and np.all(s <= hi) and np.all(np.diff(s) <= 0)
        assert s[0] == 1.0 and [lm.months for lm in p.landmarks] == list(LANDMARKS)
    d = next(x for x in cleopatra.differences if x.endpoint == "pfs" and x.months == 24.0)
    assert d.option == "th" and d.reference == "thp" and d.difference < 0
    assert d.comparison == "within-trial (randomised)"


def test_projection_is_deterministic_and_serialisable(cleopatra):
    """Same input, same JSON; the JSON parses back into Projections."""
    again = project_options(_recommendation(_option(1, "thp", "CLEOPATRA"), _option(2, "th", "CLEOPATRA")),
                            _KB("cleopatra"))
    assert again.to_json() == cleopatra.to_json()
    assert Projections.model_validate(json.loads(cleopatra.to_json())) == cleopatra


def test_summary_based_projection_and_cross_trial_label():
    """Without IPD the curve goes through the published median; options from two trials are cross-trial."""
    rec = _recommendation(_option(1, "tdxd", "DESTINY-Breast03"), _option(2, "tdm1", "EMILIA"))
    proj = project_options(rec, _KB("destiny-breast03", "emilia"))
    p = proj.get("tdxd", "pfs")
    assert p.median == pytest.approx(28.8) and "published median 28.8" in p.basis
    assert p.median_ci95[0] < 28.8 < p.median_ci95[1]
    assert any("constant hazard" in a for a in p.assumptions)
    assert all(d.comparison == "cross-trial (not randomised)" for d in proj.differences)


def test_median_not_reached_uses_control_times_hr():
    """An arm whose median is 'NR' is projected as the control curve times the HR (proportional hazards)."""
    trial = load_trial("destiny-breast03")
    eps = [e.model_copy(update={"engine_uses": e.endpoint == "pfs" and e.analysis_type == "primary"})
           if e.endpoint == "pfs" else e for e in trial.endpoints]
    kb = _KB()
    kb.trials = {trial.id: trial.model_copy(update={"endpoints": eps})}
    proj = project_options(_recommendation(_option(1, "tdxd", "DESTINY-Breast03")), kb, endpoints=("pfs",))
    p = proj.get("tdxd", "pfs")
    assert "x HR 0.28" in p.basis and "proportional hazards (HR constant over time)" in p.assumptions
    assert p.median == pytest.approx(6.8 / 0.28, rel=1e-3)


def test_unmatched_option_is_skipped_with_reason():
    proj = project_options(_recommendation(_option(1, "hp", "CLEOPATRA")), _KB("cleopatra"))
    assert proj.projections == [] and "no cited trial has an arm with this regimen" in proj.skipped[0]


def test_plot_html_is_self_contained(cleopatra, tmp_path):
    """The HTML figure embeds plotly.js (no CDN) and has a curve and a band per option."""
    from mbcpath.survival.plot import projection_figure, write_figure

    out = write_figure(cleopatra, tmp_path / "pfs.html")
    html = out.read_text(encoding="utf-8")
    assert re.search(r"<script[^>]*\bsrc=", html) is None and len(html) > 1_000_000  # plotly.js inline
    assert len(projection_figure(cleopatra).data) == 4
    with pytest.raises(ModelError, match=r"must end in \.html or \.png"):
        write_figure(cleopatra, tmp_path / "pfs.svg")


def test_plot_png_without_kaleido_says_use_html(cleopatra, tmp_path):
    """PNG needs kaleido; without it the error says to write .html."""
    from mbcpath.survival.plot import write_figure

    try:
        import kaleido  # noqa: F401
    except ImportError:
        with pytest.raises(ModelError, match=r"kaleido.*write \.html instead"):
            write_figure(cleopatra, tmp_path / "pfs.png")
    else:
        pytest.skip("kaleido is installed: PNG export is exercised elsewhere")


def test_projection_for_an_engine_recommendation(kb):
    """End to end: the engine's first-line recommendation for the seed vignette projects THP from the IPD."""
    from mbcpath.domain.validation import parse_patient
    from mbcpath.engine import recommend

    case = json.loads((ROOT / "tests" / "cases" / "seed-01-first-line.json").read_text(encoding="utf-8"))
    rec = recommend(parse_patient(case.get("patient", case)), kb)
    proj = project_options(rec, kb)
    thp = proj.get("thp", "pfs")
    assert thp is not None and "reconstructed IPD" in thp.basis
    assert proj.kb_release == kb.release.kb_release
