"""The catalogue of derived facts: every name a KB condition may use, with its type.

Types: ``bool``, ``number``, ``enum`` (with allowed values) and ``set`` (a set of
strings, e.g. drug names). ``None`` means unknown at evaluation time; the
condition language uses three-valued (Kleene) logic so that an unknown fact
gives an 'unknown' criterion instead of a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from mbcpath.domain.drugs import DRUG_CLASSES, DrugClass
from mbcpath.domain.patient import BrainMetastases, ChildPugh, IldHistory, InteractingDrug, MenopausalStatus, Sex, Site


@dataclass(frozen=True)
class FactType:
    """Type of a fact: kind is 'bool', 'number', 'enum' or 'set'."""

    kind: str
    values: frozenset[str] = frozenset()
    description: str = ""


def _b(d: str) -> FactType:
    return FactType("bool", description=d)


def _n(d: str) -> FactType:
    return FactType("number", description=d)


def _e(values: object, d: str) -> FactType:
    return FactType("enum", frozenset(str(getattr(v, "value", v)) for v in values), d)  # type: ignore[attr-defined]


_DRUGS = frozenset(DRUG_CLASSES)
_CLASSES = frozenset(c.value for c in DrugClass)
DECISION_POINTS = ("first_line", "maintenance", "second_line", "third_line_or_later", "cns_event")


def _s(values: frozenset[str], d: str) -> FactType:
    return FactType("set", values, d)


FACT_TYPES: dict[str, FactType] = {
    # receptor status
    "her2_status": _e(("positive", "negative", "unresolved"), "ASCO/CAP 2018/2023 reading of IHC + ISH"),
    "hr_positive": _b("ER >= 1% or PR >= 1% (ASCO/CAP 2020)"),
    "er_low": _b("ER 1-10%: 'ER-low positive', endocrine benefit uncertain"),
    "er_negative_pr_positive": _b("ER < 1% with PR >= 1% (rare; retest)"),
    "endocrine_responsive": _b("HR-positive and neither ER-low nor ER-negative/PR-positive"),
    # patient
    "age_years": _n("age in years"),
    "sex": _e(Sex, "sex"),
    "menopausal_status": _e(MenopausalStatus, "menopausal status"),
    "needs_ofs": _b("an AI or fulvestrant needs ovarian function suppression / GnRH agonist"),
    "ecog": _n("ECOG performance status"),
    "pregnant": _b("pregnant"),
    "lvef_percent": _n("latest LVEF, %"),
    "lvef_baseline_percent": _n("LVEF before anti-HER2 therapy, %"),
    "lvef_drop_points": _n("fall of LVEF from baseline, percentage points (baseline - latest)"),
    "pregnancy_trimester": _n("trimester of pregnancy (1-3)"),
    "bilirubin_x_uln": _n("total bilirubin / upper limit of normal"),
    "transaminases_x_uln": _n("the higher of AST and ALT / upper limit of normal"),
    "alp_x_uln": _n("alkaline phosphatase / upper limit of normal"),
    "child_pugh": _e(ChildPugh, "Child-Pugh class"),
    "hepatic_impairment": _e(("none", "mild", "moderate", "severe"),
                             "hepatic impairment (NCI-ODWG by bilirubin and AST, or Child-Pugh A/B/C; the worse)"),
    "interacting_drugs": _s(frozenset(c.value for c in InteractingDrug), "concomitant interacting drug categories"),
    "heart_failure": _b("symptomatic congestive heart failure"),
    "ild_history": _e(IldHistory, "interstitial lung disease / pneumonitis history"),
    "qtcf_ms": _n("QTcF, ms"),
    "neuropathy_grade": _n("peripheral neuropathy grade"),
    "avoid_chemotherapy": _b("patient declines chemotherapy (ADCs count as chemotherapy)"),
    # disease
    "de_novo": _b("de novo stage IV presentation"),
    "metastatic_sites": _s(frozenset(s.value for s in Site), "metastatic sites"),
    "visceral_disease": _b("liver, lung or pleural metastases"),
    "low_burden": _b("only bone, lymph-node or soft-tissue disease"),
    "visceral_crisis": _b("visceral crisis"),
    "brain_metastases": _e(BrainMetastases, "status of brain metastases now"),
    "active_brain_metastases": _b("active or symptomatic brain metastases"),
    "leptomeningeal": _b("leptomeningeal disease"),
    "parenchymal_brain_metastases": _b("brain (parenchymal) metastases recorded, any status"),
    "cns_disease_active": _b("active or symptomatic brain metastases, or leptomeningeal disease"),
    "distant_metastases": _b("distant (metastatic) disease present (false: out of scope)"),
    "extracranial_progression": _b("extracranial disease progressing at a CNS event"),
    # history
    "tfi_months": _n("treatment-free interval after (neo)adjuvant HER2-directed therapy, months"),
    "adjuvant_anti_her2": _b("(neo)adjuvant therapy contained HER2-directed drugs"),
    "adjuvant_pertuzumab": _b("(neo)adjuvant therapy contained pertuzumab"),
    "adjuvant_tdxd": _b("(neo)adjuvant therapy contained trastuzumab deruxtecan"),
    "adjuvant_tdm1": _b("(neo)adjuvant therapy contained trastuzumab emtansine"),
    "neoadjuvant_residual_disease": _b("residual invasive disease after neoadjuvant therapy"),
    "early_relapse": _b("TFI <= 6 months, or <= 12 after a pertuzumab-containing regimen (DB-03 definition)"),
    "relapse_6_12_after_trastuzumab_only": _b("relapse 6-12 months after trastuzumab-based, pertuzumab-free therapy"),
    "relapse_within_6_after_adjuvant_tki": _b("relapse <= 6 months after (neo)adjuvant HER2 TKI therapy (neratinib)"),
    "drugs_received": _s(_DRUGS, "every drug received in any setting"),
    "classes_received": _s(_CLASSES, "classes of every drug received in any setting"),
    "stopped_for_toxicity": _s(_DRUGS, "drugs stopped for toxicity (any setting)"),
    "line1_drugs": _s(_DRUGS, "every drug of metastatic line 1, including completed induction"),
    "induction_drugs": _s(_DRUGS, "drugs of the first-line induction phase"),
    "induction_completed": _b("first-line induction finished without progression"),
    "induction_ongoing": _b("first-line induction still ongoing"),
    "induction_cycles": _n("cycles of first-line induction given"),
    "current_line": _n("the metastatic line now running or just ended"),
    "latest_stop_unknown": _b("the latest line ended with no stop reason recorded (read as progression)"),
    "metastatic_drugs_received": _s(_DRUGS, "drugs received for metastatic disease"),
    "progressed_on": _s(_DRUGS, "drugs the disease progressed on (metastatic, or relapse <= 6 months after)"),
    "progressed_on_classes": _s(_CLASSES, "classes of the drugs progressed on"),
    "current_drugs": _s(_DRUGS, "drugs of the current, not-progressed line"),
    "metastatic_lines": _n("number of metastatic lines received"),
    "prior_lines": _n("lines counted for sequencing (early relapse counts as one)"),
    "first_line_tdxd": _b("T-DXd was part of first-line metastatic therapy"),
    "decision_point": _e(DECISION_POINTS, "the decision point"),
    "unavailable_drugs": _s(_DRUGS, "drugs missing from the local formulary"),
    "available_drugs": _s(_DRUGS, "restricted-availability drugs stated available"),
}
