"""Derived facts in clinical words: how a criterion's basis reads to a clinician.

``lvef_percent = 45`` reads "LVEF 45%"; an unknown value reads "LVEF not recorded", never as met.
Every fact of :data:`mbcpath.facts.catalog.FACT_TYPES` has an entry (a test checks it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: fact -> (label, unit). Units: '%', 'months', 'ms', '' (none), 'x ULN'.
FACT_WORDS: dict[str, tuple[str, str]] = {
    "her2_status": ("HER2 status", ""),
    "hr_positive": ("HR-positive (ER or PR >= 1%)", ""),
    "er_low": ("ER-low (1-10%)", ""),
    "er_negative_pr_positive": ("ER-negative, PR-positive", ""),
    "endocrine_responsive": ("ER > 10% (endocrine-responsive)", ""),
    "age_years": ("age", "years"),
    "sex": ("sex", ""),
    "menopausal_status": ("menopausal status", ""),
    "needs_ofs": ("needs ovarian function suppression with an AI or fulvestrant", ""),
    "ecog": ("ECOG", ""),
    "pregnant": ("pregnant", ""),
    "pregnancy_trimester": ("trimester", ""),
    "lvef_percent": ("LVEF", "%"),
    "lvef_baseline_percent": ("baseline LVEF", "%"),
    "lvef_drop_points": ("LVEF fall from baseline", "points"),
    "heart_failure": ("symptomatic heart failure", ""),
    "ild_history": ("ILD/pneumonitis history", ""),
    "qtcf_ms": ("QTcF", "ms"),
    "neuropathy_grade": ("peripheral neuropathy grade", ""),
    "avoid_chemotherapy": ("declines chemotherapy", ""),
    "bilirubin_x_uln": ("bilirubin", "x ULN"),
    "transaminases_x_uln": ("AST/ALT", "x ULN"),
    "alp_x_uln": ("alkaline phosphatase", "x ULN"),
    "child_pugh": ("Child-Pugh class", ""),
    "hepatic_impairment": ("hepatic impairment", ""),
    "interacting_drugs": ("interacting drugs", ""),
    "de_novo": ("de novo stage IV", ""),
    "distant_metastases": ("distant metastases", ""),
    "metastatic_sites": ("metastatic sites", ""),
    "visceral_disease": ("visceral disease", ""),
    "low_burden": ("bone, node or soft-tissue disease only", ""),
    "visceral_crisis": ("visceral crisis", ""),
    "brain_metastases": ("brain metastases", ""),
    "active_brain_metastases": ("active or symptomatic brain metastases", ""),
    "parenchymal_brain_metastases": ("brain (parenchymal) metastases", ""),
    "leptomeningeal": ("leptomeningeal disease", ""),
    "cns_disease_active": ("active CNS disease", ""),
    "extracranial_progression": ("extracranial progression", ""),
    "tfi_months": ("treatment-free interval after (neo)adjuvant therapy", "months"),
    "adjuvant_anti_her2": ("(neo)adjuvant HER2-directed therapy", ""),
    "adjuvant_pertuzumab": ("(neo)adjuvant pertuzumab", ""),
    "adjuvant_tdxd": ("(neo)adjuvant T-DXd", ""),
    "adjuvant_tdm1": ("(neo)adjuvant T-DM1", ""),
    "neoadjuvant_residual_disease": ("residual disease after neoadjuvant therapy", ""),
    "early_relapse": ("early relapse", ""),
    "relapse_6_12_after_trastuzumab_only": ("relapse 6-12 months after trastuzumab-only (neo)adjuvant therapy", ""),
    "relapse_within_6_after_adjuvant_tki": ("relapse within 6 months of (neo)adjuvant neratinib", ""),
    "drugs_received": ("drugs received", ""),
    "classes_received": ("drug classes received", ""),
    "stopped_for_toxicity": ("stopped for toxicity", ""),
    "metastatic_drugs_received": ("drugs received for metastatic disease", ""),
    "progressed_on": ("progressed on", ""),
    "progressed_on_classes": ("progressed on (classes)", ""),
    "current_drugs": ("current drugs", ""),
    "metastatic_lines": ("metastatic lines received", ""),
    "prior_lines": ("prior lines (early relapse counts as one)", ""),
    "line1_drugs": ("first-line drugs", ""),
    "induction_drugs": ("induction drugs", ""),
    "induction_completed": ("induction completed", ""),
    "induction_ongoing": ("induction ongoing", ""),
    "induction_cycles": ("induction cycles", ""),
    "first_line_tdxd": ("T-DXd in first line", ""),
    "current_line": ("current line", ""),
    "latest_stop_unknown": ("latest line ended, stop reason not recorded", ""),
    "decision_point": ("decision point", ""),
    "unavailable_drugs": ("not on the formulary", ""),
    "available_drugs": ("restricted drugs available", ""),
}

_ABBREV = {"trastuzumab deruxtecan": "T-DXd", "trastuzumab emtansine": "T-DM1"}


def _value(v: Any, unit: str) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (set, frozenset, list, tuple)):
        return ", ".join(sorted(_ABBREV.get(str(x), str(x).replace("_", " ")) for x in v)) if v else "none"
    if isinstance(v, float):
        v = int(v) if v.is_integer() else round(v, 1)
    text = str(v).replace("_", " ")
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def fact_phrase(name: str, facts: Mapping[str, Any]) -> str:
    """One fact as a clinician reads it: 'LVEF 45%', 'ILD/pneumonitis history: none', 'LVEF not recorded'."""
    label, unit = FACT_WORDS.get(name, (name.replace("_", " "), ""))
    v = facts.get(name)
    if v is None:
        return f"{label} not recorded"
    if isinstance(v, bool) or unit in ("%", "ms", "x ULN", "points") or name in ("ecog",):
        return f"{label} {_value(v, unit)}" if not isinstance(v, bool) else f"{label}: {_value(v, unit)}"
    return f"{label}: {_value(v, unit)}"


def explain(names: Iterable[str], facts: Mapping[str, Any]) -> str:
    """The facts a condition reads, in clinical words, joined."""
    return "; ".join(fact_phrase(n, facts) for n in names)
