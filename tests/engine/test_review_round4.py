"""Classes of error found by the fourth independent case batch and an independent review of 61 answers
(2026-12-02), each tested as a pair of patients that differ in one thing, so the answer must move as the clinic
requires and must not move otherwise.

References
----------
Vogelbaum MA et al. J Clin Oncol 2022;40:492-516 (ASCO-SNO-ASTRO rec 2.1: symptomatic brain metastases get
local therapy whatever the systemic therapy). Nerlynx and Margenza US indications (two or more prior anti-HER2
regimens). Oncology 2005;69:471-7 (exemestane after letrozole/anastrozole failure). DESTINY-Breast09 (T-DXd +
pertuzumab continued until progression). EORTC 75111 (de-escalated first line for older or frail patients).
"""

from __future__ import annotations

from mbcpath.domain.validation import parse_patient
from mbcpath.engine.core import recommend

from ._patients import (
    after_adjuvant,
    base,
    cns_event,
    maintenance_after_thp,
    second_line_after_thp,
    tdxd_first_line_ongoing,
    third_line,
)

_ESCALATED = {"taxane", "her2_adc"}


def run(kb, raw):
    return recommend(parse_patient(raw), kb)


def ids(rec):
    return [o.regimen_id for o in rec.options]


def classes(o):
    return {c.drug_class.value for c in o.components}


def test_symptomatic_brain_metastases_put_local_therapy_first_active_ones_do_not(kb):
    """First line with a brain metastasis: symptomatic -> local therapy rank 1; asymptomatic active -> a systemic
    regimen may lead (DESTINY-Breast12, TUXEDO-1), local therapy still offered."""
    sites = ["bone", "brain"]
    symptomatic = run(kb, base(metastatic_sites=sites, brain_metastases="symptomatic"))
    active = run(kb, base(metastatic_sites=sites, brain_metastases="active"))
    assert ids(symptomatic)[0] == "local-therapy"
    assert ids(active)[0] != "local-therapy" and "local-therapy" in ids(active)


def test_symptomatic_brain_metastases_at_a_later_line_put_local_therapy_first(kb):
    rec = run(kb, second_line_after_thp(metastatic_sites=["bone", "brain"], brain_metastases="symptomatic"))
    assert rec.decision_point.value == "second_line"
    assert ids(rec)[0] == "local-therapy"


def test_a_drug_stopped_for_toxicity_comes_back_only_with_a_warning_and_progression_excludes_it(kb):
    """Third line after T-DXd: stopped for toxicity -> T-DXd may return, warned; stopped for progression -> never."""
    tox = third_line()
    tox["treatments"][1].update(ended_months_ago=12, stop_reason="toxicity")
    tox["treatments"].append({"drugs": ["trastuzumab emtansine"], "setting": "metastatic", "line": 3,
                              "started_months_ago": 10, "ended_months_ago": 0, "stop_reason": "progression"})
    rec = run(kb, tox)
    again = next((o for o in rec.options if o.regimen_id == "tdxd"), None)
    assert again is not None
    assert any("stopped for toxicity" in w and "trastuzumab deruxtecan" in w for w in again.warnings)
    assert "tdxd" not in ids(run(kb, third_line()))


def test_leptomeningeal_disease_is_not_answered_with_continue_the_current_regimen(kb):
    """A CNS event with leptomeningeal spread: no 'local therapy + continue' (the regimen did not control the CNS);
    the same event with parenchymal disease only keeps it first."""
    parenchymal = run(kb, cns_event())
    lmd = run(kb, cns_event(metastatic_sites=["bone", "liver", "brain", "leptomeningeal"]))
    assert parenchymal.decision_point.value == lmd.decision_point.value == "cns_event"
    assert ids(parenchymal)[0] == "local-therapy-continue"
    assert "local-therapy-continue" not in ids(lmd)
    assert "leptomeningeal-local-therapy" in ids(lmd)


def test_first_line_tdxd_pertuzumab_going_on_is_not_stepped_down_to_trastuzumab_and_ai(kb):
    """HR-positive, T-DXd + pertuzumab ongoing without progression: continue it; trastuzumab + AI is not offered
    (it returns once T-DXd has stopped without progression, for toxicity or by the patient's choice)."""
    going = run(kb, tdxd_first_line_ongoing())
    assert ids(going)[0] == "tdxd-pertuzumab"
    assert "trastuzumab-ai" not in ids(going)
    for reason in ("toxicity", "patient_choice"):
        stopped = tdxd_first_line_ongoing()
        stopped["treatments"][0].update(ended_months_ago=0.5, stop_reason=reason)
        assert "trastuzumab-ai" in ids(run(kb, stopped)), reason


def test_neratinib_and_margetuximab_wait_for_two_prior_her2_regimens(kb):
    later_only = {"neratinib-capecitabine", "margetuximab-chemotherapy"}
    second = run(kb, second_line_after_thp())
    third = run(kb, third_line())
    assert second.decision_point.value == "second_line" and not later_only & set(ids(second))
    assert third.decision_point.value == "third_line_or_later" and later_only <= set(ids(third))


def test_an_endocrine_only_metastatic_line_leaves_the_first_her2_decision_first_line(kb):
    """Progression on letrozole alone for metastatic disease: the first HER2-directed therapy is first line
    (T-DXd + pertuzumab or THP, no letrozole); with trastuzumab in that line it is second line."""
    line = {"drugs": ["letrozole"], "setting": "metastatic", "line": 1, "started_months_ago": 14,
            "ended_months_ago": 0, "stop_reason": "progression"}
    et_only = run(kb, base(metastatic_diagnosis_months_ago=14, treatments=[line]))
    with_her2 = run(kb, base(metastatic_diagnosis_months_ago=14,
                             treatments=[dict(line, drugs=["letrozole", "trastuzumab"])]))
    assert et_only.decision_point.value == "first_line"
    assert {"tdxd-pertuzumab", "thp"} <= set(ids(et_only))
    assert all("letrozole" not in o.items() for o in et_only.options)
    assert with_her2.decision_point.value == "second_line"


def test_ecog_3_ranks_less_intensive_therapy_before_taxane_or_adc_regimens(kb):
    frail = run(kb, base(ecog=3, er_percent=0, pr_percent=0))
    fit = run(kb, base(ecog=1, er_percent=0, pr_percent=0))
    assert not classes(frail.options[0]) & _ESCALATED
    assert any(classes(o) & _ESCALATED for o in frail.options), "THP and T-DXd + P stay available"
    assert classes(fit.options[0]) & _ESCALATED


def test_ovarian_suppression_is_not_a_drug_the_disease_progressed_on(kb):
    """Premenopausal, progression on HP + letrozole + goserelin: letrozole and anastrozole fail, goserelin stays
    available with the endocrine options that need it."""
    raw = second_line_after_thp(menopausal_status="premenopausal")
    raw["treatments"][1]["drugs"] = ["trastuzumab", "pertuzumab", "letrozole", "goserelin"]
    rec = run(kb, raw)
    offered = set().union(*(o.items() for o in rec.options))
    assert "letrozole" not in offered and "anastrozole" not in offered
    assert "goserelin" in offered


def test_an_unrecorded_baseline_lvef_is_named_when_it_decides_the_withhold_rule(kb):
    """LVEF 45% on HP + letrozole: without a pre-treatment value the label's 10-point rule cannot be applied, so
    the baseline is named as missing; with the baseline recorded it is not."""
    raw = cns_event(lvef_percent=45, brain_metastases="stable_treated", extracranial_progression=None)
    unknown = run(kb, raw)
    known = run(kb, dict(raw, lvef_baseline_percent=50))
    assert any("baseline" in m.lower() for m in unknown.missing_data)
    assert not any("baseline" in m.lower() for m in known.missing_data)


def test_pregnancy_without_a_trimester_names_the_trimester_as_missing(kb):
    young = {"age_years": 32, "menopausal_status": "premenopausal"}
    unknown = run(kb, base(pregnant=True, **young))
    known = run(kb, base(pregnant=True, pregnancy_trimester=2, **young))
    assert any("trimester" in m.lower() for m in unknown.missing_data)
    assert not any("trimester not recorded" in m.lower() for m in known.missing_data)


def test_a_drug_stopped_for_toxicity_inside_a_line_that_later_progressed_did_not_fail(kb):
    """Line 2: T-DM1 stopped for toxicity after a month, then T-DXd in the same line to progression: T-DXd
    failed, T-DM1 did not (it may come back, warned); numbered as a separate line the answer is the same."""
    raw = second_line_after_thp()
    raw["treatments"][1].update(ended_months_ago=14)
    raw["treatments"] += [
        {"drugs": ["trastuzumab emtansine"], "setting": "metastatic", "line": 2, "started_months_ago": 14,
         "ended_months_ago": 13, "stop_reason": "toxicity"},
        {"drugs": ["trastuzumab deruxtecan"], "setting": "metastatic", "line": 2, "started_months_ago": 13,
         "ended_months_ago": 0, "stop_reason": "progression"}]
    rec = run(kb, raw)
    assert rec.decision_point.value == "third_line_or_later"
    assert "tdxd" not in ids(rec)
    tdm1 = next(o for o in rec.options if o.regimen_id == "tdm1")
    assert any("stopped for toxicity" in w for w in tdm1.warnings)


def test_a_line_that_ended_with_no_stop_reason_is_not_continued(kb):
    """T-DXd (line 2) ended a month ago, stop reason not recorded: not 'ongoing, continue it'; answered as after
    progression (T-DXd not offered) with the stop reason named as missing. Recorded as toxicity, T-DXd may return."""
    raw = second_line_after_thp()
    raw["treatments"][1].update(ended_months_ago=10)
    raw["treatments"].append({"drugs": ["trastuzumab deruxtecan"], "setting": "metastatic", "line": 2,
                              "started_months_ago": 10, "ended_months_ago": 1, "stop_reason": None})
    unknown = run(kb, raw)
    assert unknown.decision_point.value == "third_line_or_later"
    assert "tdxd" not in ids(unknown)
    assert any("stop reason" in m.lower() for m in unknown.missing_data)
    raw["treatments"][-1]["stop_reason"] = "toxicity"
    assert not any("stop reason of the latest line" in m.lower() for m in run(kb, raw).missing_data)


def test_a_missing_fixed_dose_combination_product_does_not_remove_its_molecules(kb):
    """'Phesgo' not on the formulary: IV trastuzumab and pertuzumab are still available (THP offered, with a note);
    'pertuzumab' not on the formulary removes THP."""
    raw = base(unavailable_drugs=["Phesgo"])
    patient = parse_patient(raw)
    assert patient.unavailable_drugs == []
    assert any("Phesgo" in n and "not assumed unavailable" in n for n in patient.input_notes)
    assert "thp" in ids(recommend(patient, kb))
    assert "thp" not in ids(run(kb, base(unavailable_drugs=["pertuzumab"])))


def test_active_ild_in_hr_positive_maintenance_leaves_endocrine_therapy_alone(kb):
    """HP must stop for active ILD (Herceptin boxed warning): endocrine therapy alone is the bridge, as for a
    low LVEF; with no ILD it is not offered (HER2 blockade continues)."""
    ild = run(kb, maintenance_after_thp(ild_history="active"))
    assert ild.decision_point.value == "maintenance"
    assert "ai-alone" in ids(ild)
    assert "ai-alone" not in ids(run(kb, maintenance_after_thp()))


def test_relapse_within_a_year_of_adjuvant_tdxd_is_not_answered_with_tdxd(kb):
    """8 months after adjuvant T-DXd: T-DXd is not offered again as 'the second-line reading'; 8 months after
    adjuvant trastuzumab alone it is."""
    assert "tdxd" not in ids(run(kb, after_adjuvant(["trastuzumab deruxtecan"], 8)))
    assert "tdxd" in ids(run(kb, after_adjuvant(["paclitaxel", "trastuzumab"], 8)))


def test_ecog_2_warns_on_taxane_and_adc_regimens(kb):
    ecog2 = run(kb, base(ecog=2))
    ecog1 = run(kb, base(ecog=1))
    thp2 = next(o for o in ecog2.options if o.regimen_id == "thp")
    thp1 = next(o for o in ecog1.options if o.regimen_id == "thp")
    assert any("ECOG 2" in w for w in thp2.warnings)
    assert not any("ECOG" in w for w in thp1.warnings)


def test_a_stated_next_line_after_a_break_at_a_later_line_moves_to_the_next_line(kb):
    """T-DXd (line 2) stopped by the patient's choice 10 months ago, nothing since: unstated, line 2's options
    with a basis that says nothing runs; stated 'next line' (progression during the break), line 3."""
    raw = second_line_after_thp()
    raw["treatments"][1].update(ended_months_ago=16)
    raw["treatments"].append({"drugs": ["trastuzumab deruxtecan"], "setting": "metastatic", "line": 2,
                              "started_months_ago": 16, "ended_months_ago": 10, "stop_reason": "patient_choice"})
    unstated = run(kb, raw)
    stated = run(kb, dict(raw, decision_point="next_line"))
    assert unstated.decision_point.value == "second_line"
    assert "nothing is running" in unstated.decision_point_basis
    assert stated.decision_point.value == "third_line_or_later"


def test_hp_maintenance_offers_fulvestrant_as_the_endocrine_partner(kb):
    """HR-positive maintenance after THP: HP + fulvestrant is offered beside HP + AI (PATINA allowed both); for a man
    it needs no GnRH agonist, while HP + AI carries one; after a non-steroidal AI failed it stays."""
    man = run(kb, maintenance_after_thp(sex="male", menopausal_status="not_applicable"))
    fulv = next(o for o in man.options if o.regimen_id == "hp-fulvestrant")
    ai = next(o for o in man.options if o.regimen_id == "hp-ai")
    assert "ofs" not in classes(fulv) and "ofs" in classes(ai)
    assert "hp-fulvestrant" not in ids(run(kb, maintenance_after_thp(er_percent=0, pr_percent=0)))
