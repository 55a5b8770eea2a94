"""Exact rule edges of domain.md sections 4-5: one test per side of each boundary."""

from __future__ import annotations

import pytest

from mbcpath.domain.validation import parse_patient
from mbcpath.engine.core import recommend

from ._patients import after_adjuvant, base, maintenance_after_thp, second_line_after_thp, tdxd_first_line_ongoing

ANTI_HER2_AB_ADC = {"anti_her2_antibody", "her2_adc"}
ENDOCRINE = {"aromatase_inhibitor", "serd", "serm"}
CHEMO = {"taxane", "chemotherapy", "her2_adc"}
AIS = {"letrozole", "anastrozole", "exemestane", "aromatase_inhibitor"}
ZONE_CONFLICT = "6-12 months after trastuzumab-based"


def run(kb, raw):
    return recommend(parse_patient(raw), kb)


def classes(o):
    return {c.drug_class.value for c in o.components}


def offering(rec, item):
    """Options containing ``item`` (drug, class, name or choice)."""
    return [o for o in rec.options if item in o.items()]


def excluded(rec, regimen_id):
    found = [e for e in rec.excluded if e.regimen_id == regimen_id]
    assert found, f"{regimen_id} is neither offered nor listed as excluded"
    return found[0]


# ----------------------------------------------------------------------------- QTcF and ribociclib
def test_qtcf_449_allows_ribociclib_in_hr_positive_maintenance(kb):
    """QTcF 449 ms: the HP + AI + ribociclib maintenance option is offered (label: start if QTcF < 450)."""
    rec = run(kb, maintenance_after_thp(qtcf_ms=449))
    assert rec.decision_point.value == "maintenance"
    assert offering(rec, "ribociclib")


def test_qtcf_450_excludes_ribociclib(kb):
    """QTcF 450 ms: no option contains ribociclib; the regimen is excluded by the QTcF gate."""
    rec = run(kb, maintenance_after_thp(qtcf_ms=450))
    assert not offering(rec, "ribociclib")
    assert any(g.startswith("label:ribociclib:qtc") for g in excluded(rec, "hp-ai-ribociclib").gates)
    assert offering(rec, "palbociclib"), "palbociclib is not affected by QTcF"


# ----------------------------------------------------------------------------- LVEF
@pytest.mark.parametrize("lvef", [49.9, 49])
def test_lvef_below_50_blocks_every_new_anti_her2_start(kb, lvef):
    """LVEF 49.9 / 49: no option starts an anti-HER2 antibody or ADC; THP is an overridable hard stop."""
    rec = run(kb, base(lvef_percent=lvef))
    assert [o.name for o in rec.options if classes(o) & ANTI_HER2_AB_ADC] == []
    thp = excluded(rec, "thp")
    assert any(g.startswith("label:trastuzumab:lvef") for g in thp.gates) and thp.overridable


def test_lvef_50_allows_anti_her2_starts(kb):
    """LVEF exactly 50: THP and T-DXd + pertuzumab are offered."""
    rec = run(kb, base(lvef_percent=50))
    ids = {o.regimen_id for o in rec.options}
    assert {"thp", "tdxd-pertuzumab"} <= ids


def test_lvef_unknown_is_missing_data_and_warned(kb):
    """LVEF unknown: missing_data names LVEF and every option starting anti-HER2 therapy warns about it."""
    rec = run(kb, base(lvef_percent=None))
    assert any("lvef" in m.lower() for m in rec.missing_data)
    starting = [o for o in rec.options if classes(o) & ANTI_HER2_AB_ADC]
    assert starting
    assert all(any("lvef" in w.lower() for w in o.warnings) for o in starting)


def test_gate_override_lifts_the_lvef_hard_stop_with_a_warning(kb):
    """A documented override of 'lvef-below-50-start' brings THP back with a warning naming the override."""
    reason = "cardio-oncology review 2026-03: start with 3-weekly echo"
    rec = run(kb, base(lvef_percent=45, gate_overrides=[{"gate": "lvef-below-50-start", "reason": reason}]))
    thp = [o for o in rec.options if o.regimen_id == "thp"]
    assert thp
    assert any("overridden" in w.lower() and reason in w for w in thp[0].warnings)


def test_override_of_a_non_overridable_gate_changes_nothing(kb):
    """Overriding the pregnancy gate (not overridable) still offers no HER2-directed antibody or ADC."""
    raw = base(menopausal_status="premenopausal", age_years=33, pregnant=True,
               gate_overrides=[{"gate": "pregnancy-anti-her2", "reason": "patient insists"}])
    rec = run(kb, raw)
    assert [o.name for o in rec.options if classes(o) & ANTI_HER2_AB_ADC] == []


def test_lvef_39_9_during_anti_her2_therapy_withholds_continuing_antibodies(kb):
    """LVEF 39.9 in maintenance: continuing trastuzumab/pertuzumab is excluded (labels: withhold < 40)."""
    rec = run(kb, maintenance_after_thp(lvef_percent=39.9))
    assert not offering(rec, "trastuzumab")
    assert any(g.startswith("label:trastuzumab:lvef") for g in excluded(rec, "hp").gates)


def test_lvef_40_during_anti_her2_therapy_continues_with_a_warning(kb):
    """LVEF exactly 40 in maintenance: HP continues, with the 40-49% monitoring warning."""
    rec = run(kb, maintenance_after_thp(lvef_percent=40))
    hp = [o for o in rec.options if o.regimen_id == "hp"]
    assert hp and any("lvef" in w.lower() for w in hp[0].warnings)


def test_no_anti_her2_free_chemotherapy_when_heart_function_is_normal(kb):
    """LVEF 62 with heart failure not reported: taxane monotherapy (no HER2 blockade) is not offered.

    Its rule requires 'LVEF < 50% or heart failure'; an unrecorded heart_failure must not make it an option.
    """
    rec = run(kb, base(lvef_percent=62))
    assert [o.name for o in rec.options if not classes(o) & {"anti_her2_antibody", "her2_adc", "her2_tki",
                                                                 "aromatase_inhibitor", "local_therapy"}] == []


# ----------------------------------------------------------------------------- treatment-free interval
def test_tfi_exactly_6_after_trastuzumab_only_is_early_relapse(kb):
    """TFI 6.0 months after trastuzumab-only adjuvant therapy: early relapse (inclusive) -> second line, T-DXd."""
    rec = run(kb, after_adjuvant(["paclitaxel", "trastuzumab"], 6))
    assert rec.facts["early_relapse"] is True
    assert rec.decision_point.value == "second_line"
    assert "trastuzumab deruxtecan" in rec.options[0].items()


def test_tfi_6_5_after_trastuzumab_only_is_first_line_with_the_6_12_conflict(kb):
    """TFI 6.5 months after trastuzumab-only therapy: first line, and the 6-12 month guideline conflict is shown."""
    rec = run(kb, after_adjuvant(["paclitaxel", "trastuzumab"], 6.5))
    assert rec.decision_point.value == "first_line"
    assert any(ZONE_CONFLICT in c for c in rec.conflicts)
    ids = {o.regimen_id for o in rec.options}
    assert {"tdxd", "tdxd-pertuzumab"} <= ids  # both readings: ASCO (T-DXd) and DB-09 (> 6 months)


def test_tfi_12_after_trastuzumab_only_is_still_in_the_conflict_zone(kb):
    """TFI 12.0 months after trastuzumab-only therapy: upper edge of the 6-12 zone (inclusive), conflict shown."""
    rec = run(kb, after_adjuvant(["paclitaxel", "trastuzumab"], 12))
    assert rec.decision_point.value == "first_line"
    assert any(ZONE_CONFLICT in c for c in rec.conflicts)


def test_tfi_12_5_after_trastuzumab_only_has_no_conflict(kb):
    """TFI 12.5 months after trastuzumab-only therapy: plain first line, no 6-12 conflict, no T-DXd-alone option."""
    rec = run(kb, after_adjuvant(["paclitaxel", "trastuzumab"], 12.5))
    assert rec.decision_point.value == "first_line"
    assert not any(ZONE_CONFLICT in c for c in rec.conflicts)
    assert "tdxd" not in {o.regimen_id for o in rec.options}


def test_tfi_exactly_12_after_pertuzumab_is_early_relapse(kb):
    """TFI 12.0 months after a pertuzumab-containing regimen: early relapse (inclusive) -> second line."""
    rec = run(kb, after_adjuvant(["docetaxel", "carboplatin", "trastuzumab", "pertuzumab"], 12))
    assert rec.facts["early_relapse"] is True
    assert rec.decision_point.value == "second_line"
    assert "trastuzumab deruxtecan" in rec.options[0].items()


def test_tfi_12_5_after_pertuzumab_is_first_line_without_conflict(kb):
    """TFI 12.5 months after a pertuzumab-containing regimen: first line, and no 6-12 month conflict."""
    rec = run(kb, after_adjuvant(["docetaxel", "carboplatin", "trastuzumab", "pertuzumab"], 12.5))
    assert rec.facts["early_relapse"] is False
    assert rec.decision_point.value == "first_line"
    assert not any(ZONE_CONFLICT in c for c in rec.conflicts)
    assert "tdxd-pertuzumab" in {o.regimen_id for o in rec.options}


def test_tfi_3_gives_tdxd_alone_not_with_pertuzumab(kb):
    """TFI 3 months after trastuzumab: second line, T-DXd alone offered, T-DXd + pertuzumab not (DB-09: > 6)."""
    rec = run(kb, after_adjuvant(["paclitaxel", "trastuzumab"], 3))
    ids = [o.regimen_id for o in rec.options]
    assert "tdxd" in ids and "tdxd-pertuzumab" not in ids


# ----------------------------------------------------------------------------- neuropathy
def test_neuropathy_grade_1_allows_taxanes(kb):
    """Neuropathy grade 1: THP (taxane) is offered."""
    rec = run(kb, base(neuropathy_grade=1))
    assert offering(rec, "taxane")


def test_neuropathy_grade_2_keeps_taxanes_off_rank_1_and_stops_vinorelbine(kb):
    """Neuropathy grade 2: no taxane; THP excluded by the neuropathy gate; vinorelbine option warns."""
    rec = run(kb, base(neuropathy_grade=2))
    assert "taxane" not in rec.options[0].items()
    assert all(any("neuropathy" in w.lower() for w in o.warnings) for o in offering(rec, "taxane"))
    assert not offering(rec, "vinorelbine"), "the vinorelbine label stops it for moderate neuropathy"
    rec3 = run(kb, base(neuropathy_grade=3))
    assert not offering(rec3, "taxane")
    assert "neuropathy-taxane-severe" in excluded(rec3, "thp").gates


# ----------------------------------------------------------------------------- ECOG, preference, ER-low, crisis
def test_ecog_2_hr_positive_declining_chemotherapy_gets_chemo_free_first(kb):
    """ECOG 2, HR-positive, avoid_chemotherapy: the top option is chemotherapy-free ET + HER2 blockade, preferred."""
    rec = run(kb, base(ecog=2, preferences={"avoid_chemotherapy": True}))
    top = rec.options[0]
    assert top.category.value == "preferred"
    assert not classes(top) & CHEMO
    assert {"anti_her2_antibody", "aromatase_inhibitor"} <= classes(top)


def test_ecog_1_without_preference_ranks_chemotherapy_based_options_first(kb):
    """ECOG 1, HR-positive, no preference: the top option contains chemotherapy or an ADC."""
    rec = run(kb, base(ecog=1))
    assert classes(rec.options[0]) & CHEMO


def test_ecog_2_alone_makes_the_chemo_free_option_preferred(kb):
    """ECOG 2 (frail), HR-positive: a chemotherapy-free endocrine option is preferred and ranks first."""
    rec = run(kb, base(ecog=2))
    top = rec.options[0]
    assert not classes(top) & CHEMO and classes(top) & ENDOCRINE and top.category.value == "preferred"


def test_er_10_is_er_low_no_endocrine_option_preferred(kb):
    """ER 10% (ER-low) in HR-positive maintenance: the top option has no endocrine therapy, none preferred has."""
    rec = run(kb, maintenance_after_thp(er_percent=10, pr_percent=0))
    assert rec.facts["er_low"] is True
    assert not classes(rec.options[0]) & ENDOCRINE
    assert [o.name for o in rec.options if o.category.value == "preferred" and classes(o) & ENDOCRINE] == []


def test_er_11_is_endocrine_responsive_maintenance_adds_endocrine_therapy(kb):
    """ER 11%: endocrine-responsive; the top maintenance option is HP + endocrine therapy."""
    rec = run(kb, maintenance_after_thp(er_percent=11, pr_percent=0))
    assert rec.facts["er_low"] is False
    assert {"trastuzumab", "pertuzumab"} <= rec.options[0].items() and classes(rec.options[0]) & ENDOCRINE


def test_er_10_first_line_frail_gets_no_preferred_endocrine_option(kb):
    """ER 10%, ECOG 2, declining chemotherapy: no endocrine option is preferred (ER-low: do not rely on ET)."""
    rec = run(kb, base(er_percent=10, pr_percent=0, ecog=2, preferences={"avoid_chemotherapy": True}))
    assert [o.name for o in rec.options if o.category.value == "preferred" and classes(o) & ENDOCRINE] == []


def test_visceral_crisis_demotes_chemo_free_options(kb):
    """Visceral crisis (ECOG 2, declining chemo): no chemotherapy-free option is preferred; the top has chemo."""
    rec = run(kb, base(ecog=2, preferences={"avoid_chemotherapy": True}, visceral_crisis=True))
    assert [o.name for o in rec.options if o.category.value == "preferred" and not classes(o) & CHEMO] == []
    assert classes(rec.options[0]) & CHEMO


def test_without_visceral_crisis_the_same_patient_gets_chemo_free_first(kb):
    """Control for the crisis test: same patient, visceral_crisis false -> chemotherapy-free option first."""
    rec = run(kb, base(ecog=2, preferences={"avoid_chemotherapy": True}, visceral_crisis=False))
    assert not classes(rec.options[0]) & CHEMO


def test_visceral_crisis_demotes_chemo_free_maintenance(kb):
    """Visceral crisis in maintenance: HP + ET (chemo-free) stays an option but is not 'preferred'."""
    rec = run(kb, maintenance_after_thp(visceral_crisis=True))
    hp_et = [o for o in rec.options if o.regimen_id == "hp-ai"]
    assert hp_et and hp_et[0].category.value != "preferred"


# ----------------------------------------------------------------------------- formulary and availability
def test_pertuzumab_unavailable_never_offered_and_th_appears(kb):
    """Pertuzumab unavailable: no option contains it, and trastuzumab + taxane (TH) is offered."""
    rec = run(kb, base(unavailable_drugs=["pertuzumab"]))
    assert not offering(rec, "pertuzumab")
    assert "th" in {o.regimen_id for o in rec.options}


def test_pertuzumab_available_th_is_not_offered(kb):
    """Pertuzumab available: TH is not offered (THP is preferred)."""
    rec = run(kb, base())
    assert "th" not in {o.regimen_id for o in rec.options}


def test_pyrotinib_not_offered_unless_listed_available(kb):
    """Without available_drugs: no pyrotinib; its regimen is excluded by the restricted-availability gate."""
    rec = run(kb, base())
    assert not offering(rec, "pyrotinib")
    assert "restricted-availability" in excluded(rec, "pyrotinib-trastuzumab-docetaxel").gates


def test_pyrotinib_offered_when_listed_available(kb):
    """available_drugs: ['pyrotinib'] -> the PHILA regimen is offered."""
    rec = run(kb, base(available_drugs=["pyrotinib"]))
    assert offering(rec, "pyrotinib")


def test_unavailable_goserelin_is_not_an_ofs_choice(kb):
    """Goserelin unavailable, premenopausal on an AI: the OFS component offers only available GnRH agonists."""
    rec = run(kb, maintenance_after_thp(menopausal_status="premenopausal", age_years=41,
                                         unavailable_drugs=["goserelin"]))
    with_ofs = offering(rec, "ofs")
    assert with_ofs
    assert [o.name for o in with_ofs if "goserelin" in o.items()] == []


# ----------------------------------------------------------------------------- OFS / GnRH
@pytest.mark.parametrize("status", ["premenopausal", "perimenopausal"])
def test_pre_and_perimenopausal_women_get_ofs_with_ai_or_fulvestrant(kb, status):
    """Pre/perimenopausal: every option with an AI or fulvestrant also contains ovarian function suppression."""
    rec = run(kb, maintenance_after_thp(menopausal_status=status, age_years=44))
    et = [o for o in rec.options if classes(o) & {"aromatase_inhibitor", "serd"}]
    assert et and all("ofs" in classes(o) for o in et)


def test_postmenopausal_women_get_no_ofs(kb):
    """Postmenopausal: AI options carry no ovarian function suppression."""
    rec = run(kb, maintenance_after_thp())
    et = offering(rec, "aromatase_inhibitor")
    assert et and not [o.name for o in et if "ofs" in classes(o)]


def test_men_get_a_gnrh_agonist_with_an_aromatase_inhibitor(kb):
    """Men: every AI-containing option adds a GnRH agonist (Hassett, JCO 2020)."""
    rec = run(kb, maintenance_after_thp(sex="male", menopausal_status="not_applicable"))
    ai = offering(rec, "aromatase_inhibitor")
    assert ai
    for o in ai:
        ofs = [c for c in o.components if c.drug_class.value == "ofs"]
        assert ofs and "gnrh" in (ofs[0].name or "").lower()


# ----------------------------------------------------------------------------- exposure
def _progressed_on_letrozole(**changes):
    return second_line_after_thp(treatments=[
        {"drugs": ["docetaxel", "trastuzumab", "pertuzumab"], "setting": "metastatic", "line": 1,
         "phase": "induction", "started_months_ago": 24, "ended_months_ago": 18, "stop_reason": "completed"},
        {"drugs": ["trastuzumab", "pertuzumab", "letrozole"], "setting": "metastatic", "line": 1,
         "phase": "maintenance", "started_months_ago": 18, "ended_months_ago": 0, "stop_reason": "progression"},
    ], **changes)


def test_progression_on_letrozole_removes_every_ai_but_allows_fulvestrant(kb):
    """After progression on letrozole: no option contains any aromatase inhibitor; fulvestrant is offered."""
    rec = run(kb, _progressed_on_letrozole())
    assert rec.decision_point.value == "second_line"
    assert [o.name for o in rec.options if o.items() & AIS] == []
    assert offering(rec, "fulvestrant")


def test_relapse_on_adjuvant_letrozole_leaves_exemestane_as_the_only_ai_choice(kb):
    """Relapse 2 months after adjuvant letrozole: letrozole and the cross-resistant anastrozole (both non-steroidal)
    leave every AI choice, exemestane (steroidal, active after either fails) stays, and the option says why."""
    rec = run(kb, after_adjuvant(["letrozole"], 2))
    assert rec.decision_point.value == "first_line"
    with_ai = [o for o in rec.options if o.items() & AIS]
    assert with_ai, "an AI-based first-line option remains with exemestane"
    for o in with_ai:
        assert not o.items() & {"letrozole", "anastrozole"}, o.name
        assert "exemestane" in o.items(), o.name
        assert any("cross-resistant" in w and "anastrozole" in w for w in o.warnings), o.warnings


def test_relapse_on_adjuvant_exemestane_keeps_the_non_steroidal_ais(kb):
    """Relapse on adjuvant exemestane: only exemestane leaves the choices; letrozole and anastrozole stay."""
    rec = run(kb, after_adjuvant(["exemestane"], 2))
    with_ai = [o for o in rec.options if o.items() & AIS]
    assert with_ai and all("exemestane" not in o.items() for o in with_ai)
    assert all({"letrozole", "anastrozole"} <= o.items() for o in with_ai)


def test_progression_on_paclitaxel_leaves_docetaxel_as_the_only_taxane_choice(kb):
    """Progression on paclitaxel + trastuzumab: THP (pertuzumab-naive) is offered with docetaxel only."""
    raw = second_line_after_thp(treatments=[
        {"drugs": ["paclitaxel", "trastuzumab"], "setting": "metastatic", "line": 1,
         "started_months_ago": 24, "ended_months_ago": 0, "stop_reason": "progression"}])
    rec = run(kb, raw)
    thp = [o for o in rec.options if o.regimen_id == "thp"]
    assert thp
    taxane = next(c for c in thp[0].components if c.drug_class.value == "taxane")
    assert (taxane.choices or [taxane.drug]) == ["docetaxel"]


def test_progression_on_pertuzumab_and_tdxd_removes_them_but_keeps_trastuzumab(kb):
    """Progression on T-DXd + pertuzumab (1L): neither is offered again; trastuzumab continues across lines."""
    raw = second_line_after_thp(treatments=[
        {"drugs": ["trastuzumab deruxtecan", "pertuzumab"], "setting": "metastatic", "line": 1,
         "started_months_ago": 24, "ended_months_ago": 0, "stop_reason": "progression"}])
    rec = run(kb, raw)
    assert not offering(rec, "trastuzumab deruxtecan") and not offering(rec, "pertuzumab")
    assert offering(rec, "trastuzumab")


def test_after_first_line_tdxd_maintenance_continues_tdxd_without_switching(kb):
    """After 1L T-DXd + pertuzumab without progression: T-DXd continues (top); no endocrine/CDK4/6 switch offered."""
    rec = run(kb, tdxd_first_line_ongoing())
    assert rec.decision_point.value == "maintenance"
    assert "trastuzumab deruxtecan" in rec.options[0].items()
    assert [o.name for o in rec.options if classes(o) & {"cdk46_inhibitor"}] == []


# ----------------------------------------------------------------------------- ILD
def test_ild_grade1_keeps_tdxd_with_a_warning(kb):
    """Grade 1 ILD history: T-DXd + pertuzumab stays possible, with an ILD warning."""
    rec = run(kb, base(ild_history="grade1"))
    tdxd = offering(rec, "trastuzumab deruxtecan")
    assert tdxd and all(any("ild" in w.lower() for w in o.warnings) for o in tdxd)


@pytest.mark.parametrize("ild", ["grade2_or_higher", "active"])
def test_ild_grade2_or_active_excludes_tdxd(kb, ild):
    """ILD grade >= 2 or active: T-DXd is never offered; the regimen is excluded by the ILD hard stop."""
    rec = run(kb, base(ild_history=ild))
    assert not offering(rec, "trastuzumab deruxtecan")
    assert any(g.startswith("label:trastuzumab deruxtecan:ild") for g in excluded(rec, "tdxd-pertuzumab").gates)


# ----------------------------------------------------------------------------- HER2 scope
@pytest.mark.parametrize("her2", [{"ihc": "2+", "ish": "equivocal"}, {"ihc": "2+", "ish": None},
                                  {"ihc": "1+", "ish": "not_amplified"}, {"ihc": "0", "ish": None}])
def test_her2_not_positive_is_out_of_scope(kb, her2):
    """IHC 2+ without conclusive ISH (unresolved) or IHC 0/1+ (negative): out of scope, no options."""
    rec = run(kb, base(her2=her2))
    assert rec.out_of_scope and rec.options == [] and rec.missing_data


def test_ihc_0_with_ish_amplified_is_her2_positive(kb):
    """IHC 0 but ISH amplified: HER2-positive (ASCO/CAP), in scope with options."""
    rec = run(kb, base(her2={"ihc": "0", "ish": "amplified"}))
    assert rec.out_of_scope is None and rec.options
