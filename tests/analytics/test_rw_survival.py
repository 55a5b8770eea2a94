"""Real-world survival: lines, rwTTD and OS observations, Kaplan-Meier against hand values, trial curves, CLI."""

from __future__ import annotations

import json
import math

import pytest

from conftest import run_cli
from mbcpath.analytics.records import CohortRecord, FollowUp
from mbcpath.analytics.regimen_match import RegimenMatcher
from mbcpath.analytics.rw_chart import survival_charts, survival_html, survival_svg
from mbcpath.analytics.rw_survival import kaplan_meier, observations, patient_lines, rw_survival
from mbcpath.domain.validation import parse_patient
from mbcpath.errors import ModelError
from mbcpath.kb import load_kb

BASE = {"age_years": 56, "sex": "female", "menopausal_status": "postmenopausal", "ecog": 0,
        "her2": {"ihc": "3+"}, "er_percent": 85, "pr_percent": 40, "presentation": "de_novo",
        "metastatic_sites": ["bone"], "lvef_percent": 62, "ild_history": "none"}


def _thp_then_hp(dx: float, induction_end: float, end: float | None, stop: str | None = "progression") -> list:
    """Line 1: docetaxel + HP induction from the diagnosis, then HP maintenance to ``end`` (None: ongoing)."""
    return [{"drugs": ["docetaxel", "trastuzumab", "pertuzumab"], "setting": "metastatic", "line": 1,
             "phase": "induction", "started_months_ago": dx, "ended_months_ago": induction_end,
             "stop_reason": "completed"},
            {"drugs": ["trastuzumab", "pertuzumab"], "setting": "metastatic", "line": 1, "phase": "maintenance",
             "started_months_ago": induction_end, "ended_months_ago": end, "stop_reason": stop if end is not None
             else None}]


def _record(pid: str, dx: float, treatments: list, follow: tuple[float, bool] | None = None) -> CohortRecord:
    p = parse_patient({**BASE, "id": pid, "metastatic_diagnosis_months_ago": dx, "treatments": treatments})
    fu = FollowUp(months_since_metastatic_diagnosis=follow[0], alive=follow[1]) if follow else None
    return CohortRecord(patient=p, follow_up=fu)


@pytest.fixture(scope="module")
def kb():
    return load_kb()


@pytest.fixture(scope="module")
def matcher(kb):
    return RegimenMatcher(kb.regimens)


# ----------------------------------------------------------------------------- regimen names
@pytest.mark.parametrize(("drugs", "regimen"), [
    (["docetaxel", "trastuzumab", "pertuzumab"], "thp"),
    (["paclitaxel", "pertuzumab", "trastuzumab"], "thp"),  # a class component takes any drug of its class
    (["trastuzumab", "pertuzumab"], "hp"),
    (["trastuzumab deruxtecan"], "tdxd"),
    (["tucatinib", "trastuzumab", "capecitabine"], "tucatinib-trastuzumab-capecitabine"),
    (["letrozole", "trastuzumab", "pertuzumab"], "hp-ai"),
    (["capecitabine", "trastuzumab"], "capecitabine-trastuzumab"),  # the named drug beats the class match
])
def test_drugs_are_named_by_the_kb_regimen(matcher, drugs, regimen):
    assert matcher.regimen_id(drugs) == regimen


def test_drugs_that_fit_no_regimen_keep_their_own_name(matcher):
    assert matcher.regimen_id(["vinorelbine", "tamoxifen"]) is None
    assert matcher.label(["vinorelbine", "tamoxifen"]) == "other: tamoxifen + vinorelbine"


# ----------------------------------------------------------------------------- lines and observations
def test_induction_and_maintenance_are_one_line_named_by_the_induction():
    rec = _record("a", 30, _thp_then_hp(30, 25, 10))
    (line,) = patient_lines(rec.patient)
    assert (line.number, line.start, line.end, line.stop_reason) == (1, 30.0, 10.0, "progression")
    assert line.maintenance_start == 25.0
    assert set(line.drugs) == {"docetaxel", "trastuzumab", "pertuzumab"}


def test_ttd_is_an_event_at_the_end_of_the_line_and_censored_at_the_decision_while_ongoing(matcher):
    ended = _record("a", 30, _thp_then_hp(30, 25, 10))
    ongoing = _record("b", 20, _thp_then_hp(20, 15, None))
    (o1,), _ = observations(ended, "regimen", matcher)
    (o2,), _ = observations(ongoing, "regimen", matcher)
    assert (o1.endpoint, o1.group, o1.time, o1.event) == ("ttd", "thp", 20.0, True)
    assert (o2.group, o2.time, o2.event) == ("thp", 20.0, False)


def test_os_counts_from_the_line_start_and_needs_follow_up(matcher):
    # diagnosis 30 months before the decision; line 2 started 10 months before it; died 36 months after diagnosis
    tx = [*_thp_then_hp(30, 25, 12), {"drugs": ["trastuzumab deruxtecan"], "setting": "metastatic", "line": 2,
                                      "started_months_ago": 10, "ended_months_ago": None}]
    obs, why = observations(_record("a", 30, tx, (36.0, False)), "regimen", matcher)
    os_ = {o.group: (o.time, o.event) for o in obs if o.endpoint == "os"}
    assert os_ == {"thp": (36.0, True), "tdxd": (16.0, True)}
    assert why == []
    obs, why = observations(_record("b", 30, tx), "line", matcher)
    assert {o.group for o in obs} == {"line 1", "line 2"} and all(o.endpoint == "ttd" for o in obs)
    assert why == ["no follow_up (overall survival not counted)"]


def test_by_decision_point_adds_the_maintenance_phase_and_os_from_the_decision(matcher):
    rec = _record("a", 30, _thp_then_hp(30, 25, 10), (40.0, True))
    obs, _ = observations(rec, "decision_point", matcher, decision_point="second_line")
    got = sorted((o.endpoint, o.group, o.time, o.event) for o in obs)
    assert got == [("os", "second_line", 10.0, False), ("ttd", "first_line", 20.0, True),
                   ("ttd", "maintenance", 15.0, True)]


# ----------------------------------------------------------------------------- Kaplan-Meier
def test_kaplan_meier_matches_the_product_limit_and_greenwood_by_hand():
    # times 2, 3+, 4, 5, 6+, 7: S(2) = 5/6; S(4) = 5/6 * 3/4; S(5) = S(4) * 2/3
    c = kaplan_meier("ttd", "g", [2, 3, 4, 5, 6, 7], [True, False, True, True, False, True])
    s = dict(zip(c.times, c.survival, strict=True))
    assert s[2.0] == pytest.approx(5 / 6, abs=1e-5)
    assert s[4.0] == pytest.approx(5 / 8, abs=1e-5)
    assert s[5.0] == pytest.approx(5 / 12, abs=1e-5)
    assert c.median == 5.0 and (c.n, c.events) == (6, 4)
    # log(-log) interval at t = 4: var(log S) by Greenwood = 1/(6*5) + 1/(4*3)
    v = 1 / 30 + 1 / 12
    theta = math.log(-math.log(5 / 8))
    se = math.sqrt(v) / abs(math.log(5 / 8))
    lo, hi = (5 / 8) ** math.exp(1.959964 * se), (5 / 8) ** math.exp(-1.959964 * se)
    i = c.times.index(4.0)
    assert (c.lower[i], c.upper[i]) == (pytest.approx(lo, abs=1e-4), pytest.approx(hi, abs=1e-4))
    assert theta < 0  # S > 1/e here
    assert [(a.months, a.n) for a in c.at_risk] == [(0.0, 6), (6.0, 2)]


def test_kaplan_meier_of_nothing_is_refused():
    with pytest.raises(ModelError, match="no observations"):
        kaplan_meier("os", "empty", [], [])


# ----------------------------------------------------------------------------- the cohort, with trial curves
def _cohort() -> list[CohortRecord]:
    recs = [_record(f"e{i}", 40, _thp_then_hp(40, 35, 40 - 8 - 3 * i), (40 + 6 * i, i % 2 == 0)) for i in range(6)]
    recs += [_record("on", 12, _thp_then_hp(12, 7, None), (14, True))]
    recs += [_record("x", 10, [{"drugs": ["vinorelbine"], "setting": "metastatic", "line": 1,
                                "started_months_ago": 10, "ended_months_ago": 2, "stop_reason": "toxicity"}])]
    return recs


def test_cohort_curves_trial_curves_and_what_has_none(kb):
    res = rw_survival(_cohort(), kb, "regimen")
    ttd = res.curve("ttd", "thp")
    assert ttd is not None and (ttd.n, ttd.events) == (7, 6)
    # durations 8, 11, 14, 17, 20, 23 and one censored at 12: S(14) = 5/7 * 3/4 > 0.5, S(17) = S(14) * 2/3 < 0.5
    assert ttd.median == pytest.approx(17.0)
    os_ = res.curve("os", "thp")
    assert os_ is not None and (os_.n, os_.events) == (7, 3)
    assert res.curve("ttd", "other: vinorelbine") is not None
    trial = {(t.endpoint, t.regimen_id): t for t in res.trial_curves}
    assert trial[("os", "thp")].trial_endpoint == "os" and trial[("ttd", "thp")].trial_endpoint == "pfs"
    assert trial[("os", "thp")].trial in {t.id for t in kb.trials.values() if any(a.regimen == "thp" for a in t.arms)}
    assert any(m.startswith("other: vinorelbine") for m in res.no_trial_curve)
    assert res.excluded == {"no follow_up (overall survival not counted)": 1}


def test_one_chart_per_endpoint_labels_real_world_and_trial(kb):
    res = rw_survival(_cohort(), kb, "regimen")
    charts = survival_charts(res)
    assert [c.endpoint for c in charts] == ["ttd", "os"]
    roles = {s.role for s in charts[1].series}
    assert roles == {"real_world", "trial"}
    svg = survival_svg(res)[0][1]
    assert "real world" in svg and "trial" in svg and "<script" not in svg
    html = survival_html(res)
    assert "Numbers at risk".lower() in html.lower() and "Plotly" in html


def test_min_n_leaves_small_groups_out_and_says_so(kb):
    res = rw_survival(_cohort(), kb, "regimen", min_n=2, with_trials=False)
    assert res.curve("ttd", "other: vinorelbine") is None
    assert any("other: vinorelbine" in n and "fewer than 2" in n for n in res.notes)


def test_unknown_grouping_is_refused(kb):
    with pytest.raises(ModelError, match="by = 'arm'"):
        rw_survival([], kb, "arm")


# ----------------------------------------------------------------------------- CLI
def test_cli_survival_json_rejects_and_chart(tmp_path):
    path = tmp_path / "c.jsonl"
    lines = [json.dumps(r.as_json()) for r in _cohort()] + ['{"patient": {"age_years": 5}}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, rej = tmp_path / "chart.html", tmp_path / "rejects.jsonl"
    r = run_cli("cohort", "survival", str(path), "--by", "line", "--format", "json", "--out", str(out),
                "--rejects", str(rej))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert (data["records"], data["rejected"]) == (8, 1)
    assert {c["group"] for c in data["curves"]} == {"line 1"}
    assert json.loads(rej.read_text().splitlines()[0])["field"].startswith("patient.")
    assert out.stat().st_size > 1000


def test_cli_survival_missing_file_names_it(tmp_path):
    r = run_cli("cohort", "survival", str(tmp_path / "nope.jsonl"))
    assert r.returncode == 2 and "nope.jsonl" in r.stderr


def test_os_counts_a_patient_once_per_group_but_ttd_every_line(matcher):
    tx = [*_thp_then_hp(40, 35, 20),
          {"drugs": ["neratinib", "capecitabine"], "setting": "metastatic", "line": 2, "started_months_ago": 20,
           "ended_months_ago": 8, "stop_reason": "progression"},
          {"drugs": ["neratinib", "capecitabine"], "setting": "metastatic", "line": 3, "started_months_ago": 8,
           "ended_months_ago": None}]
    obs, _ = observations(_record("a", 40, tx, (46.0, True)), "regimen", matcher)
    ner = [(o.endpoint, o.time, o.event) for o in obs if o.group == "neratinib-capecitabine"]
    assert sorted(ner) == [("os", 26.0, False), ("ttd", 8.0, False), ("ttd", 12.0, True)]
    obs, _ = observations(_record("a", 40, tx, (46.0, True)), "line", matcher)
    assert sorted((o.endpoint, o.group, o.time) for o in obs if o.endpoint == "os") == [
        ("os", "line 1", 46.0), ("os", "line 2", 26.0), ("os", "line 3+", 14.0)]
