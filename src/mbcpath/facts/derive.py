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

from mbcpath.domain.drugs import ANTI_HER2_CLASSES, CHEMOTHERAPY_CLASSES, DRUG_CLASSES, DrugClass
from mbcpath.domain.her2 import her2_status
from mbcpath.domain.patient import (
    BrainMetastases,
    MenopausalStatus,
    Patient,
    Phase,
    Presentation,
    RequestedDecisionPoint,
    Setting,
    Sex,
    Site,
    StopReason,
    Treatment,
)

_VISCERAL = {Site.LIVER, Site.LUNG, Site.PLEURA}
_LOW_BURDEN = {Site.BONE, Site.LYMPH_NODE, Site.SKIN_SOFT_TISSUE}
#: Relapse within this many months of finishing a (neo)adjuvant drug counts as progression on it.
ADJUVANT_PROGRESSION_WINDOW_MONTHS = 6.0
EARLY_RELAPSE_MONTHS = 6.0
EARLY_RELAPSE_AFTER_PERTUZUMAB_MONTHS = 12.0


@dataclass
class PatientFacts:
    """The derived facts (``values``) plus what the derivation noticed (``notes``)."""

    values: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    current_regimen: tuple[str, ...] = ()
    lines: dict[int, list[Treatment]] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def _has_class(drugs: list[str], classes: frozenset[DrugClass] | set[DrugClass]) -> bool:
    return any(DRUG_CLASSES[d] in classes for d in drugs)


def _assign_lines(met: list[Treatment], notes: list[str]) -> dict[int, list[Treatment]]:
    """Group metastatic treatments by line; a missing line is inferred from progression."""
    lines: dict[int, list[Treatment]] = {}
    current = 1
    for t in sorted(met, key=lambda t: -t.started_months_ago):
        if t.line is not None:
            line = t.line
        else:
            line = current
            notes.append(f"line of {'+'.join(t.drugs)} inferred as {line} (progression starts the next line)")
        lines.setdefault(line, []).append(t)
        current = line + 1 if t.stop_reason is StopReason.PROGRESSION else line
    return lines


def derive_facts(p: Patient) -> PatientFacts:
    """Derive the fact values of :data:`mbcpath.facts.catalog.FACT_TYPES` for ``p``."""
    notes: list[str] = []
    v: dict[str, Any] = {}
    # --- receptors
    v["her2_status"] = her2_status(p.her2.ihc, p.her2.ish)
    er, pr = p.er_percent, p.pr_percent
    er_pos = None if er is None else er >= 1
    pr_pos = None if pr is None else pr >= 1
    if er_pos or pr_pos:
        hr_pos: bool | None = True
    elif er_pos is False and pr_pos is False:
        hr_pos = False
    else:
        hr_pos = None
    v["hr_positive"] = hr_pos
    v["er_low"] = None if er is None else 1 <= er <= 10
    v["er_negative_pr_positive"] = None if er is None or pr is None else (er < 1 and pr >= 1)
    if hr_pos is None:
        v["endocrine_responsive"] = None
    else:
        v["endocrine_responsive"] = bool(hr_pos and er is not None and er > 10)
    # --- patient
    v["age_years"] = float(p.age_years)
    v["sex"] = p.sex.value
    v["menopausal_status"] = p.menopausal_status.value
    if p.sex is Sex.MALE:
        v["needs_ofs"] = True
    elif p.menopausal_status in (MenopausalStatus.PREMENOPAUSAL, MenopausalStatus.PERIMENOPAUSAL):
        v["needs_ofs"] = True
    elif p.menopausal_status is MenopausalStatus.POSTMENOPAUSAL:
        v["needs_ofs"] = False
    else:
        v["needs_ofs"] = None
    v["ecog"] = None if p.ecog is None else float(p.ecog)
    v["pregnant"] = p.pregnant
    v["lvef_percent"] = p.lvef_percent
    v["lvef_baseline_percent"] = p.lvef_baseline_percent
    v["lvef_drop_points"] = (None if p.lvef_percent is None or p.lvef_baseline_percent is None
                             else p.lvef_baseline_percent - p.lvef_percent)
    v["pregnancy_trimester"] = None if p.pregnancy_trimester is None else float(p.pregnancy_trimester)
    v.update(hepatic_facts(p))
    v["interacting_drugs"] = frozenset(c.value for c in p.interacting_drugs)
    v["heart_failure"] = p.heart_failure
    v["ild_history"] = None if p.ild_history is None else p.ild_history.value
    v["qtcf_ms"] = p.qtcf_ms
    v["neuropathy_grade"] = None if p.neuropathy_grade is None else float(p.neuropathy_grade)
    v["avoid_chemotherapy"] = bool(p.preferences.avoid_chemotherapy)
    # --- disease
    sites = set(p.metastatic_sites)
    v["metastatic_sites"] = frozenset(s.value for s in sites)
    v["visceral_disease"] = bool(sites & _VISCERAL) if sites else None
    v["low_burden"] = (sites <= _LOW_BURDEN) if sites else None
    v["visceral_crisis"] = p.visceral_crisis
    v["brain_metastases"] = None if p.brain_metastases is None else p.brain_metastases.value
    v["active_brain_metastases"] = (
        None if p.brain_metastases is None
        else p.brain_metastases in (BrainMetastases.ACTIVE, BrainMetastases.SYMPTOMATIC)
    )
    v["leptomeningeal"] = Site.LEPTOMENINGEAL in sites
    v["extracranial_progression"] = p.extracranial_progression
    # --- (neo)adjuvant history and treatment-free interval
    adjuvant = [t for t in p.treatments if t.setting is not Setting.METASTATIC]
    met = [t for t in p.treatments if t.setting is Setting.METASTATIC]
    dx = p.metastatic_diagnosis_months_ago
    if p.presentation is Presentation.DE_NOVO:
        v["de_novo"] = True
    elif p.presentation is Presentation.RECURRENT:
        v["de_novo"] = False
    else:
        v["de_novo"] = False if adjuvant else None
    her2_adj = [t for t in adjuvant if _has_class(t.drugs, ANTI_HER2_CLASSES)]
    v["adjuvant_anti_her2"] = bool(her2_adj)
    v["adjuvant_pertuzumab"] = any("pertuzumab" in t.drugs for t in her2_adj)
    v["adjuvant_tdxd"] = any("trastuzumab deruxtecan" in t.drugs for t in adjuvant)

    def interval(t: Treatment) -> float | None:
        if dx is None:
            return None
        ended = t.ended_months_ago if t.ended_months_ago is not None else 0.0
        return max(0.0, ended - dx)

    relevant = her2_adj or [t for t in adjuvant if _has_class(t.drugs, CHEMOTHERAPY_CLASSES)]
    tfis = [interval(t) for t in relevant]
    tfi = None if (not relevant or any(x is None for x in tfis)) else min(x for x in tfis if x is not None)
    v["tfi_months"] = tfi
    if not her2_adj:
        early: bool | None = False if (v["de_novo"] is not None or adjuvant) else None
        zone: bool | None = early
    elif tfi is None:
        early, zone = None, None
        notes.append("treatment-free interval unknown: metastatic_diagnosis_months_ago is missing")
    else:
        early = tfi <= EARLY_RELAPSE_MONTHS or (
            v["adjuvant_pertuzumab"] and tfi <= EARLY_RELAPSE_AFTER_PERTUZUMAB_MONTHS
        )
        zone = (not v["adjuvant_pertuzumab"]) and EARLY_RELAPSE_MONTHS < tfi <= EARLY_RELAPSE_AFTER_PERTUZUMAB_MONTHS
    v["early_relapse"] = early
    v["relapse_6_12_after_trastuzumab_only"] = zone
    # --- exposure
    received = {d for t in p.treatments for d in t.drugs}
    progressed: set[str] = set()
    for t in met:
        if t.stop_reason is StopReason.PROGRESSION:
            progressed.update(t.drugs)
    for t in adjuvant:
        gap = interval(t)
        if gap is not None and gap <= ADJUVANT_PROGRESSION_WINDOW_MONTHS:
            progressed.update(t.drugs)
    v["drugs_received"] = frozenset(received)
    v["metastatic_drugs_received"] = frozenset(d for t in met for d in t.drugs)
    v["progressed_on"] = frozenset(progressed)
    v["progressed_on_classes"] = frozenset(DRUG_CLASSES[d].value for d in progressed)
    # --- lines and the decision point
    lines = _assign_lines(met, notes)
    max_line = max(lines) if lines else 0
    latest = lines.get(max_line, [])
    latest_progressed = any(t.stop_reason is StopReason.PROGRESSION for t in latest)
    current: list[str] = []
    if latest and not latest_progressed:
        ongoing = [t for t in latest if t.ended_months_ago is None]
        pool = ongoing or [t for t in latest if t.phase is Phase.MAINTENANCE] or latest
        for t in pool:
            for d in t.drugs:
                if d not in current and not (DRUG_CLASSES[d] in (DrugClass.TAXANE, DrugClass.CHEMOTHERAPY)
                                             and t.phase is Phase.INDUCTION and not ongoing):
                    current.append(d)
    v["current_drugs"] = frozenset(current)
    v["metastatic_lines"] = float(max_line)
    prior = max_line + (1 if early else 0)
    v["prior_lines"] = float(prior)
    v["first_line_tdxd"] = any("trastuzumab deruxtecan" in t.drugs for t in lines.get(1, []))
    v["decision_point"] = _decision_point(p, v, lines, max_line, latest_progressed, notes)
    v["unavailable_drugs"] = frozenset(p.unavailable_drugs)
    v["available_drugs"] = frozenset(p.available_drugs)
    return PatientFacts(v, notes, tuple(current), lines)


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


def _line_name(n: int) -> str:
    return "second_line" if n <= 2 else "third_line_or_later"


def _decision_point(p: Patient, v: dict[str, Any], lines: dict[int, list[Treatment]], max_line: int,
                    latest_progressed: bool, notes: list[str]) -> str:
    """Find the decision point from the history (domain.md section 3), or honour the caller's."""
    offset = 1 if v["early_relapse"] else 0
    asked = p.decision_point
    if asked is RequestedDecisionPoint.FIRST_LINE:
        return "first_line"
    if asked is RequestedDecisionPoint.MAINTENANCE:
        return "maintenance"
    if asked is RequestedDecisionPoint.CNS_EVENT:
        return "cns_event"
    if asked is RequestedDecisionPoint.NEXT_LINE:
        return _line_name(max(max_line, 1) + 1 + offset) if max_line else _line_name(2)
    if not lines:
        if v["early_relapse"]:
            notes.append("early relapse counts as one prior line: treated as a second-line decision")
            return "second_line"
        return "first_line"
    if v["active_brain_metastases"] and v["extracranial_progression"] is not True:
        if v["extracranial_progression"] is None:
            notes.append("extracranial status unknown at a CNS event: assumed controlled (isolated CNS progression)")
        return "cns_event"
    if latest_progressed:
        return _line_name(max_line + 1 + offset)
    if max_line >= 2:
        notes.append(f"line {max_line} is ongoing without progression: the options of that line are shown; "
                     "continuing the current regimen is appropriate while it works")
        return _line_name(max_line + offset)
    return "maintenance"
