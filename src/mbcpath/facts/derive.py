"""Derive, once, the clinical facts the rules need from a validated patient.

Rules, web pages, reports and cohort code read these facts; none of them
re-derives "is this HR-positive" on its own.

References
----------
Wolff AC et al. Human epidermal growth factor receptor 2 testing in breast cancer:
    ASCO/CAP clinical practice guideline focused update. J Clin Oncol 2018;36:2105-22
    (affirmed 2023, J Clin Oncol 2023;41:3867-72).
Allison KH et al. Estrogen and progesterone receptor testing in breast cancer:
    ASCO/CAP guideline update. J Clin Oncol 2020;38:1346-66.
Cortes J et al. Trastuzumab deruxtecan versus trastuzumab emtansine for breast cancer
    (DESTINY-Breast03). N Engl J Med 2022;386:1143-54 (rapid-progression definition).
Giordano SH et al. Systemic therapy for advanced HER2-positive breast cancer: ASCO
    guideline update. J Clin Oncol 2022;40:2612-35 (recommendations 5.0 / 5.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mbcpath.domain.her2 import her2_status
from mbcpath.domain.patient import (
    BrainMetastases,
    MenopausalStatus,
    Patient,
    Setting,
    Sex,
    Site,
    Treatment,
)
from mbcpath.facts.decision import Decision, decide
from mbcpath.facts.history import (
    ADJUVANT_PROGRESSION_WINDOW_MONTHS,
    EARLY_RELAPSE_AFTER_PERTUZUMAB_MONTHS,
    EARLY_RELAPSE_MONTHS,
    adjuvant_facts,
    assign_lines,
    exposure_facts,
    line_facts,
)

__all__ = ["ADJUVANT_PROGRESSION_WINDOW_MONTHS", "EARLY_RELAPSE_AFTER_PERTUZUMAB_MONTHS", "EARLY_RELAPSE_MONTHS",
           "PatientFacts", "derive_facts", "her2_status"]

_VISCERAL = {Site.LIVER, Site.LUNG, Site.PLEURA}
_LOW_BURDEN = {Site.BONE, Site.LYMPH_NODE, Site.SKIN_SOFT_TISSUE}


@dataclass
class PatientFacts:
    """The derived facts (``values``), what the derivation noticed (``notes``) and the decision."""

    values: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    current_regimen: tuple[str, ...] = ()
    lines: dict[int, list[Treatment]] = field(default_factory=dict)
    decision: Decision | None = None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def _receptor_facts(p: Patient) -> dict[str, Any]:
    er, pr = p.er_percent, p.pr_percent
    er_pos = None if er is None else er >= 1
    pr_pos = None if pr is None else pr >= 1
    hr_pos: bool | None = True if (er_pos or pr_pos) else (False if er_pos is False and pr_pos is False else None)
    return {
        "her2_status": her2_status(p.her2.ihc, p.her2.ish),
        "hr_positive": hr_pos,
        "er_low": None if er is None else 1 <= er <= 10,
        "er_negative_pr_positive": None if er is None or pr is None else (er < 1 and pr >= 1),
        "endocrine_responsive": None if hr_pos is None else bool(hr_pos and er is not None and er > 10),
    }


def _needs_ofs(p: Patient) -> bool | None:
    if p.sex is Sex.MALE:
        return True
    if p.menopausal_status in (MenopausalStatus.PREMENOPAUSAL, MenopausalStatus.PERIMENOPAUSAL):
        return True
    if p.menopausal_status is MenopausalStatus.POSTMENOPAUSAL:
        return False
    return None


def _patient_facts(p: Patient) -> dict[str, Any]:
    v: dict[str, Any] = {
        "age_years": float(p.age_years),
        "sex": p.sex.value,
        "menopausal_status": p.menopausal_status.value,
        "needs_ofs": _needs_ofs(p),
        "ecog": None if p.ecog is None else float(p.ecog),
        "pregnant": p.pregnant,
        "pregnancy_trimester": None if p.pregnancy_trimester is None else float(p.pregnancy_trimester),
        "lvef_percent": p.lvef_percent,
        "lvef_baseline_percent": p.lvef_baseline_percent,
        "lvef_drop_points": (None if p.lvef_percent is None or p.lvef_baseline_percent is None
                             else p.lvef_baseline_percent - p.lvef_percent),
        "heart_failure": p.heart_failure,
        "ild_history": None if p.ild_history is None else p.ild_history.value,
        "qtcf_ms": p.qtcf_ms,
        "neuropathy_grade": None if p.neuropathy_grade is None else float(p.neuropathy_grade),
        "avoid_chemotherapy": bool(p.preferences.avoid_chemotherapy),
        "interacting_drugs": frozenset(c.value for c in p.interacting_drugs),
        "unavailable_drugs": frozenset(p.unavailable_drugs),
        "available_drugs": frozenset(p.available_drugs),
    }
    v.update(hepatic_facts(p))
    return v


def _disease_facts(p: Patient) -> dict[str, Any]:
    sites = set(p.metastatic_sites)
    bm = p.brain_metastases
    active_bm = None if bm is None else bm in (BrainMetastases.ACTIVE, BrainMetastases.SYMPTOMATIC)
    lepto = Site.LEPTOMENINGEAL in sites
    return {
        "distant_metastases": p.distant_metastases is not False,
        "metastatic_sites": frozenset(s.value for s in sites),
        "visceral_disease": bool(sites & _VISCERAL) if sites else None,
        "low_burden": (sites <= _LOW_BURDEN) if sites else None,
        "visceral_crisis": p.visceral_crisis,
        "brain_metastases": None if bm is None else bm.value,
        "active_brain_metastases": active_bm,
        "parenchymal_brain_metastases": Site.BRAIN in sites or (bm is not None and bm is not BrainMetastases.NONE),
        "leptomeningeal": lepto,
        "cns_disease_active": True if (lepto or active_bm) else active_bm,
        "extracranial_progression": p.extracranial_progression,
    }


def derive_facts(p: Patient) -> PatientFacts:
    """Derive the fact values of :data:`mbcpath.facts.catalog.FACT_TYPES` for ``p``."""
    v: dict[str, Any] = {}
    v.update(_receptor_facts(p))
    v.update(_patient_facts(p))
    v.update(_disease_facts(p))
    v.update(adjuvant_facts(p))
    lines = assign_lines([t for t in p.treatments if t.setting is Setting.METASTATIC])
    v.update(exposure_facts(p, lines))
    v.update(line_facts(lines, v["early_relapse"]))
    decision = decide(p, v, lines)
    v["decision_point"] = decision.point
    notes = list(lines.notes)
    return PatientFacts(v, notes, tuple(sorted(v["current_drugs"])), lines.by_line, decision)


_CHILD_PUGH_LEVEL = {"A": "mild", "B": "moderate", "C": "severe"}
_LEVELS = ("none", "mild", "moderate", "severe")


def _odwg_level(bili: float | None, ast: float | None) -> str | None:
    """NCI Organ Dysfunction Working Group category from bilirubin and AST (multiples of ULN)."""
    if bili is None:
        return None
    if bili > 3:
        return "severe"
    if bili > 1.5:
        return "moderate"
    if bili > 1:
        return "mild"
    if ast is None:
        return None
    return "mild" if ast > 1 else "none"


def hepatic_facts(p: Patient) -> dict[str, Any]:
    """Hepatic facts: lab multiples of ULN, Child-Pugh class and the worse of the two gradings.

    References
    ----------
    Patel H et al. (NCI Organ Dysfunction Working Group). Clin Cancer Res 2004 (hepatic dysfunction
    categories by total bilirubin and AST, used in FDA labels' hepatic-impairment sections).
    FDA Guidance for Industry: Pharmacokinetics in Patients with Impaired Hepatic Function (2003; Child-Pugh).
    """
    h = p.hepatic
    if h is None:
        return {"bilirubin_x_uln": None, "transaminases_x_uln": None, "alp_x_uln": None, "child_pugh": None,
                "hepatic_impairment": None}
    trans = [x for x in (h.ast_x_uln, h.alt_x_uln) if x is not None]
    odwg = _odwg_level(h.bilirubin_x_uln, h.ast_x_uln)
    cp = _CHILD_PUGH_LEVEL[h.child_pugh.value] if h.child_pugh is not None else None
    levels = [x for x in (odwg, cp) if x is not None]
    return {
        "bilirubin_x_uln": h.bilirubin_x_uln,
        "transaminases_x_uln": max(trans) if trans else None,
        "alp_x_uln": h.alp_x_uln,
        "child_pugh": h.child_pugh.value if h.child_pugh is not None else None,
        "hepatic_impairment": max(levels, key=_LEVELS.index) if levels else None,
    }
