"""Derived facts: HER2 per ASCO/CAP, HR and ER-low, TFI and early relapse, lines and decision points."""

from __future__ import annotations

import pytest

from mbcpath.domain.validation import parse_patient
from mbcpath.facts.derive import derive_facts, her2_status

BASE = {"id": "t", "age_years": 56, "sex": "female", "menopausal_status": "postmenopausal", "ecog": 0,
        "her2": {"ihc": "3+", "ish": None}, "er_percent": 85, "pr_percent": 40, "presentation": "de_novo",
        "metastatic_diagnosis_months_ago": 0, "metastatic_sites": ["bone"], "visceral_crisis": False,
        "brain_metastases": "none", "lvef_percent": 62, "ild_history": "none", "qtcf_ms": 420,
        "neuropathy_grade": 0, "pregnant": False, "treatments": []}


def facts(**patch):
    return derive_facts(parse_patient({**BASE, **patch})).values


@pytest.mark.parametrize(("ihc", "ish", "expected"), [
    ("3+", None, "positive"), ("3+", "not_amplified", "positive"), ("0", "amplified", "positive"),
    ("2+", "amplified", "positive"), ("2+", None, "unresolved"), ("2+", "equivocal", "unresolved"),
    ("2+", "not_amplified", "negative"), ("1+", None, "negative"), ("0", None, "negative"),
    (None, None, "unresolved"), (None, "amplified", "positive"), ("1+", "equivocal", "negative"),
])
def test_her2_status_follows_asco_cap(ihc, ish, expected):
    """IHC 3+ or ISH amplified is positive; IHC 2+ without conclusive ISH is unresolved."""
    assert her2_status(ihc, ish) == expected


@pytest.mark.parametrize(("er", "pr", "hr_pos", "er_low", "responsive"), [
    (0, 0, False, False, False), (0.5, 0, False, False, False), (1, 0, True, True, False),
    (10, 0, True, True, False), (11, 0, True, False, True), (0, 5, True, False, False),
    (None, None, None, None, None), (None, 20, True, None, False),
])
def test_hormone_receptor_facts(er, pr, hr_pos, er_low, responsive):
    """HR-positive at >= 1%; ER 1-10% is ER-low; endocrine-responsive needs ER > 10%."""
    f = facts(er_percent=er, pr_percent=pr)
    assert (f["hr_positive"], f["er_low"], f["endocrine_responsive"]) == (hr_pos, er_low, responsive)


def _adjuvant(drugs, ended, dx=0):
    return {"presentation": "recurrent", "metastatic_diagnosis_months_ago": dx,
            "treatments": [{"drugs": drugs, "setting": "adjuvant", "started_months_ago": ended + 12,
                            "ended_months_ago": ended, "stop_reason": "completed"}]}


@pytest.mark.parametrize(("drugs", "ended", "early", "zone", "dp"), [
    (["paclitaxel", "trastuzumab"], 6, True, False, "second_line"),
    (["paclitaxel", "trastuzumab"], 6.5, False, True, "first_line"),
    (["paclitaxel", "trastuzumab"], 12, False, True, "first_line"),
    (["paclitaxel", "trastuzumab"], 12.5, False, False, "first_line"),
    (["paclitaxel", "trastuzumab", "pertuzumab"], 12, True, False, "second_line"),
    (["paclitaxel", "trastuzumab", "pertuzumab"], 12.5, False, False, "first_line"),
    (["doxorubicin", "cyclophosphamide"], 3, False, False, "first_line"),
])
def test_early_relapse_boundaries_are_inclusive(drugs, ended, early, zone, dp):
    """TFI <= 6 (<= 12 after pertuzumab) is early relapse and a second-line decision."""
    f = facts(**_adjuvant(drugs, ended))
    assert (f["early_relapse"], f["relapse_6_12_after_trastuzumab_only"], f["decision_point"]) == (early, zone, dp)


def test_relapse_within_six_months_counts_as_progression_on_adjuvant_drugs():
    """Relapse <= 6 months after a (neo)adjuvant drug counts as progression on it (KATHERINE-style T-DM1)."""
    f = facts(**_adjuvant(["trastuzumab emtansine"], 4))
    assert "trastuzumab emtansine" in f["progressed_on"]
    f = facts(**_adjuvant(["trastuzumab emtansine"], 7))
    assert "trastuzumab emtansine" not in f["progressed_on"]


def test_tfi_is_measured_to_the_metastatic_diagnosis():
    """TFI = end of (neo)adjuvant therapy minus metastatic diagnosis, both in months before now."""
    assert facts(**_adjuvant(["trastuzumab"], 20, dx=5))["tfi_months"] == 15


def _met(drugs, start, end, line, phase=None, stop=None):
    return {"drugs": drugs, "setting": "metastatic", "line": line, "phase": phase,
            "started_months_ago": start, "ended_months_ago": end, "stop_reason": stop}


@pytest.mark.parametrize(("treatments", "extra", "dp"), [
    ([], {}, "first_line"),
    ([_met(["docetaxel", "trastuzumab", "pertuzumab"], 5, 0, 1, "induction", "completed")], {}, "maintenance"),
    ([_met(["trastuzumab", "pertuzumab"], 5, 0, 1, "maintenance", "progression")], {}, "second_line"),
    ([_met(["trastuzumab", "pertuzumab"], 20, 10, 1, None, "progression"),
      _met(["trastuzumab deruxtecan"], 10, 0, 2, None, "progression")], {}, "third_line_or_later"),
    ([_met(["trastuzumab", "pertuzumab"], 5, None, 1, "maintenance")],
     {"brain_metastases": "active", "metastatic_sites": ["bone", "brain"], "extracranial_progression": False},
     "cns_event"),
    ([_met(["trastuzumab", "pertuzumab"], 5, 0, 1, "maintenance", "progression")],
     {"brain_metastases": "active", "metastatic_sites": ["bone", "brain"], "extracranial_progression": True},
     "second_line"),
    ([_met(["docetaxel", "trastuzumab", "pertuzumab"], 5, 0, 1, "induction", "completed")],
     {"decision_point": "next_line"}, "maintenance"),
    ([_met(["docetaxel", "trastuzumab", "pertuzumab"], 5, 0, 1, "induction", "progression")],
     {"decision_point": "next_line"}, "second_line"),
    ([], {"decision_point": "maintenance"}, "first_line"),
    ([_met(["trastuzumab", "pertuzumab"], 5, 0, 1, "maintenance", "progression")],
     {"decision_point": "first_line"}, "second_line"),
])
def test_decision_point_is_derived_from_history(treatments, extra, dp):
    """Ongoing line without progression -> maintenance; progression on line k -> line k+1; CNS event.

    A stated decision point never overrides the history (issue 8): 'next line' without a recorded
    progression is answered as maintenance, 'maintenance' without a first line as first line.
    """
    assert facts(metastatic_diagnosis_months_ago=30, treatments=treatments, **extra)["decision_point"] == dp


def test_missing_line_numbers_are_inferred_from_progression_and_noted():
    """A metastatic treatment without 'line' gets the line its history implies, with a note."""
    p = parse_patient({**BASE, "metastatic_diagnosis_months_ago": 30, "treatments": [
        {"drugs": ["trastuzumab", "pertuzumab"], "setting": "metastatic", "started_months_ago": 30,
         "ended_months_ago": 10, "stop_reason": "progression"},
        {"drugs": ["trastuzumab deruxtecan"], "setting": "metastatic", "started_months_ago": 10,
         "ended_months_ago": 0, "stop_reason": "progression"}]})
    pf = derive_facts(p)
    assert pf.values["metastatic_lines"] == 2 and pf.values["decision_point"] == "third_line_or_later"
    assert any("inferred" in n for n in pf.notes)


def test_ofs_need_follows_menopausal_status_and_sex():
    """Pre/perimenopausal women and men need OFS/GnRH with an AI; unknown status is unknown."""
    assert facts(menopausal_status="premenopausal", age_years=40)["needs_ofs"] is True
    assert facts(menopausal_status="postmenopausal")["needs_ofs"] is False
    assert facts(menopausal_status="unknown")["needs_ofs"] is None
    assert facts(sex="male", menopausal_status="not_applicable", pregnant=None)["needs_ofs"] is True


# ----------------------------------------------------------------------------- interval bounds (no diagnosis date)
def _adjuvant_course(drugs, ended, **extra):
    return {"drugs": drugs, "setting": "adjuvant", "started_months_ago": (ended or 0) + 12,
            "ended_months_ago": ended, "stop_reason": None if ended is None else "completed", **extra}


@pytest.mark.parametrize(("drugs", "ended", "early"), [
    (["trastuzumab emtansine"], 4, True),        # KATHERINE T-DM1 ended 4 months ago: interval <= 4
    (["trastuzumab"], None, True),               # adjuvant trastuzumab still recorded as ongoing
    (["docetaxel", "trastuzumab", "pertuzumab"], 11, True),  # pertuzumab-containing, <= 12 months
    (["trastuzumab"], 11, None),                 # could be 0-11 months: inside or outside the 6-month window
    (["trastuzumab"], 30, None),                 # could be anything up to 30 months
])
def test_early_relapse_from_an_upper_bound_without_a_diagnosis_date(drugs, ended, early):
    """Without metastatic_diagnosis_months_ago the interval is at most the months since the adjuvant treatment
    ended (the diagnosis is not in the future): a bound inside the window decides an early relapse, a bound
    outside it decides nothing."""
    f = facts(presentation="recurrent", metastatic_diagnosis_months_ago=None,
              treatments=[_adjuvant_course(drugs, ended)])
    assert f["early_relapse"] is early
    assert f["tfi_months"] is None  # the interval itself stays unknown
    within_six = ended is None or ended <= 6
    assert (set(drugs) <= f["progressed_on"]) is within_six  # relapse <= 6 months: the drugs failed


def test_interval_bound_uses_the_start_of_metastatic_treatment():
    """With a metastatic line that started 3 months ago the diagnosis was at least 3 months ago, so adjuvant
    trastuzumab that ended 8 months ago ended at most 5 months before the relapse: early."""
    met = {"drugs": ["docetaxel", "trastuzumab", "pertuzumab"], "setting": "metastatic", "line": 1,
           "started_months_ago": 3, "ended_months_ago": None, "stop_reason": None}
    f = facts(presentation="recurrent", metastatic_diagnosis_months_ago=None,
              treatments=[_adjuvant_course(["paclitaxel", "trastuzumab"], 8), met])
    assert f["early_relapse"] is True


def test_a_treatment_stopped_for_toxicity_is_not_current():
    """Drugs of a line stopped for toxicity (or by the patient) are not 'continuing': restarting them is a new
    start, to which the labels' start rules apply."""
    line = {"drugs": ["trastuzumab", "pertuzumab", "letrozole"], "setting": "metastatic", "line": 1,
            "phase": "maintenance", "started_months_ago": 12, "ended_months_ago": 3}
    assert facts(metastatic_diagnosis_months_ago=18, treatments=[{**line, "stop_reason": "toxicity"}])[
        "current_drugs"] == frozenset()
    assert facts(metastatic_diagnosis_months_ago=18, treatments=[{**line, "stop_reason": "patient_choice"}])[
        "current_drugs"] == frozenset()
    ongoing = {**line, "ended_months_ago": None, "stop_reason": None}
    assert facts(metastatic_diagnosis_months_ago=18, treatments=[ongoing])["current_drugs"] == frozenset(
        line["drugs"])


def test_maintenance_stopped_for_toxicity_leaves_nothing_current():
    """THP induction completed, then HP maintenance stopped for toxicity: trastuzumab and pertuzumab do not
    'continue' through the completed induction."""
    induction = {"drugs": ["paclitaxel", "trastuzumab", "pertuzumab"], "setting": "metastatic", "line": 1,
                 "phase": "induction", "started_months_ago": 30, "ended_months_ago": 25, "stop_reason": "completed"}
    maintenance = {"drugs": ["trastuzumab", "pertuzumab"], "setting": "metastatic", "line": 1,
                   "phase": "maintenance", "started_months_ago": 25, "ended_months_ago": 6, "stop_reason": "toxicity"}
    assert facts(metastatic_diagnosis_months_ago=31, treatments=[induction, maintenance])[
        "current_drugs"] == frozenset()


def test_active_cns_disease_after_a_line_stopped_for_toxicity_is_a_new_line():
    """Brain metastases found after the latest line was stopped for toxicity: no regimen goes on, so it is not
    an isolated CNS event during a line (local therapy + continue), but the next line."""
    line1 = {"drugs": ["docetaxel", "trastuzumab", "pertuzumab"], "setting": "metastatic", "line": 1,
             "started_months_ago": 20, "ended_months_ago": 10, "stop_reason": "progression"}
    line2 = {"drugs": ["trastuzumab deruxtecan"], "setting": "metastatic", "line": 2, "started_months_ago": 10,
             "ended_months_ago": 1, "stop_reason": "toxicity"}
    brain = {"metastatic_sites": ["bone", "brain"], "brain_metastases": "active", "metastatic_diagnosis_months_ago": 21}
    assert facts(**brain, treatments=[line1, line2])["decision_point"] == "third_line_or_later"
    ongoing = {**line2, "ended_months_ago": None, "stop_reason": None}
    assert facts(**brain, treatments=[line1, ongoing])["decision_point"] == "cns_event"
