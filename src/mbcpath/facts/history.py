"""Facts of the treatment history: (neo)adjuvant exposure, treatment-free interval, lines, exposure.

References
----------
Cortes J et al. Trastuzumab deruxtecan versus trastuzumab emtansine for breast cancer
    (DESTINY-Breast03). N Engl J Med 2022;386:1143-54 (progression within 6 months of
    neoadjuvant/adjuvant therapy counted as a prior line).
Giordano SH et al. Systemic therapy for advanced HER2-positive breast cancer: ASCO guideline
    update. J Clin Oncol 2022;40:2612-35 (recommendation 5.0: relapse within 12 months).
shared/domain.md sections 2 and 4.3 (lines of therapy; the exposure rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mbcpath.domain.drugs import ANTI_HER2_CLASSES, DRUG_CLASSES, DrugClass
from mbcpath.domain.patient import Patient, Phase, Presentation, Setting, StopReason, Treatment

#: Relapse within this many months of finishing a (neo)adjuvant drug counts as progression on it.
ADJUVANT_PROGRESSION_WINDOW_MONTHS = 6.0
EARLY_RELAPSE_MONTHS = 6.0
EARLY_RELAPSE_AFTER_PERTUZUMAB_MONTHS = 12.0
_CYTOTOXIC = frozenset({DrugClass.TAXANE, DrugClass.CHEMOTHERAPY})
#: Trastuzumab-based HER2 therapy (antibodies and ADCs): the regimens the early-relapse rules speak of.
_ANTIBODY_BASED = frozenset({DrugClass.ANTI_HER2_ANTIBODY, DrugClass.HER2_ADC})


@dataclass
class Lines:
    """Metastatic treatments grouped by line, and what the latest line tells."""

    by_line: dict[int, list[Treatment]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return max(self.by_line) if self.by_line else 0

    @property
    def latest(self) -> list[Treatment]:
        return self.by_line.get(self.count, [])

    @property
    def latest_progressed(self) -> bool:
        return any(t.stop_reason is StopReason.PROGRESSION for t in self.latest)

    @property
    def latest_ended(self) -> Treatment | None:
        """The latest line's most recently ended treatment, when nothing of that line is ongoing (else None)."""
        latest = self.latest
        if not latest or any(t.ended_months_ago is None for t in latest):
            return None
        return min(latest, key=lambda t: t.ended_months_ago or 0.0)

    @property
    def latest_stop_unknown(self) -> bool:
        """The latest line has ended but its most recent treatment has no stop reason.

        The contract reads ``ended_months_ago`` as "not ongoing"; whether it ended in progression is unknown.
        The answer takes the reading that never re-offers a drug that may have failed (the next line, its drugs
        not offered again) and names the missing stop reason. An induction ends by completing.
        """
        last = self.latest_ended
        return last is not None and last.stop_reason is None and last.phase is not Phase.INDUCTION


def _has_class(drugs: list[str], classes: frozenset[DrugClass]) -> bool:
    return any(DRUG_CLASSES[d] in classes for d in drugs)


def assign_lines(met: list[Treatment]) -> Lines:
    """Group metastatic treatments by line; a missing line is inferred from progression (noted)."""
    out = Lines()
    current = 1
    for t in sorted(met, key=lambda t: -t.started_months_ago):
        if t.line is not None:
            line = t.line
        else:
            line = current
            out.notes.append(f"line of {' + '.join(t.drugs)} inferred as {line} (progression starts the next line)")
        out.by_line.setdefault(line, []).append(t)
        current = line + 1 if t.stop_reason is StopReason.PROGRESSION else line
    return out


def _interval(t: Treatment, dx: float | None) -> float | None:
    """Months from the end of (neo)adjuvant treatment ``t`` to the metastatic diagnosis."""
    if dx is None:
        return None
    ended = t.ended_months_ago if t.ended_months_ago is not None else 0.0
    return max(0.0, ended - dx)


def _dx_floor(p: Patient) -> float:
    """The fewest months ago the metastatic diagnosis can have been made: not in the future, and no later than
    the start of any metastatic treatment."""
    starts = [t.started_months_ago for t in p.treatments if t.setting is Setting.METASTATIC]
    return max([0.0, *starts])


def _interval_at_most(t: Treatment, p: Patient) -> float:
    """An upper bound of the treatment-free interval after ``t`` that holds even when the diagnosis date is
    missing: the diagnosis came at the earliest :func:`_dx_floor` months ago, so the interval is at most the
    months from the end of ``t`` (0 while it is ongoing) to then. A bound within a relapse window decides
    the relapse as early with certainty; a bound outside it decides nothing."""
    dx = p.metastatic_diagnosis_months_ago
    floor = dx if dx is not None else _dx_floor(p)
    ended = t.ended_months_ago if t.ended_months_ago is not None else 0.0
    return max(0.0, ended - floor)


def adjuvant_facts(p: Patient) -> dict[str, Any]:
    """De novo vs recurrent, (neo)adjuvant exposures, the treatment-free interval and early relapse."""
    adjuvant = [t for t in p.treatments if t.setting is not Setting.METASTATIC]
    dx = p.metastatic_diagnosis_months_ago
    v: dict[str, Any] = {}
    if p.presentation is not None:
        v["de_novo"] = p.presentation is Presentation.DE_NOVO
    else:
        v["de_novo"] = False if adjuvant else None
    her2_adj = [t for t in adjuvant if _has_class(t.drugs, ANTI_HER2_CLASSES)]
    v["adjuvant_anti_her2"] = bool(her2_adj)
    v["adjuvant_pertuzumab"] = any("pertuzumab" in t.drugs for t in her2_adj)
    antibody_based = [t for t in her2_adj if _has_class(t.drugs, _ANTIBODY_BASED)]
    v["adjuvant_tdxd"] = any("trastuzumab deruxtecan" in t.drugs for t in adjuvant)
    v["adjuvant_tdm1"] = any("trastuzumab emtansine" in t.drugs for t in adjuvant)
    v["neoadjuvant_residual_disease"] = (
        True if any(t.pathological_response is not None and t.pathological_response.value == "residual_disease"
                    for t in adjuvant)
        else (False if any(t.pathological_response is not None for t in adjuvant) else None))
    relevant = her2_adj or [t for t in adjuvant if _has_class(t.drugs, _CYTOTOXIC)]
    gaps = [_interval(t, dx) for t in relevant]
    v["tfi_months"] = None if (not relevant or None in gaps) else min(g for g in gaps if g is not None)
    v.update(_early_relapse(antibody_based, p, v["de_novo"], bool(adjuvant)))
    tki = [t for t in her2_adj if t not in antibody_based]
    within = any(_interval_at_most(t, p) <= EARLY_RELAPSE_MONTHS for t in tki)
    v["relapse_within_6_after_adjuvant_tki"] = True if within else (None if dx is None and tki else False)
    return v


def _within_window(t: Treatment, gap: float) -> bool:
    return gap <= EARLY_RELAPSE_MONTHS or ("pertuzumab" in t.drugs and gap <= EARLY_RELAPSE_AFTER_PERTUZUMAB_MONTHS)


def _early_relapse(treatments: list[Treatment], p: Patient, de_novo: bool | None,
                   any_adjuvant: bool) -> dict[str, Any]:
    """Early relapse after trastuzumab-based (antibody or ADC) (neo)adjuvant therapy, treatment by treatment:
    <= 6 months after any of them, or <= 12 months after one that contained pertuzumab; the 6-12 month zone
    is the most recent one being pertuzumab-free and ended 6-12 months before the relapse.

    Without a diagnosis date the relapse is still early when an upper bound of an interval falls inside its
    window (e.g. adjuvant trastuzumab ongoing, or ended 4 months ago); otherwise it is unknown.
    """
    if not treatments:
        early: bool | None = False if (de_novo is not None or any_adjuvant) else None
        return {"early_relapse": early, "relapse_6_12_after_trastuzumab_only": early}
    dx = p.metastatic_diagnosis_months_ago
    gaps = [(t, _interval(t, dx)) for t in treatments]
    if any(g is None for _, g in gaps):
        certain = any(_within_window(t, _interval_at_most(t, p)) for t in treatments)
        return {"early_relapse": True if certain else None,
                "relapse_6_12_after_trastuzumab_only": False if certain else None}
    early = any(_within_window(t, g) for t, g in gaps if g is not None)
    last, gap = min(gaps, key=lambda tg: tg[1] or 0.0)
    zone = (not early and "pertuzumab" not in last.drugs and gap is not None
            and EARLY_RELAPSE_MONTHS < gap <= EARLY_RELAPSE_AFTER_PERTUZUMAB_MONTHS)
    return {"early_relapse": early, "relapse_6_12_after_trastuzumab_only": zone}


def _line_failures(lines: Lines) -> set[str]:
    """Drugs of every metastatic line that ended in progression, given before the progression.

    Progression ends the line: its completed induction chemotherapy failed with it (the regimen
    failed), so it is not re-offered either. A treatment of the line stopped earlier for toxicity or by
    the patient's choice did not fail (it is a re-challenge question), nor did the drugs of a latest line
    that ended with no stop reason recorded - those are read as failed separately
    (:attr:`Lines.latest_stop_unknown`), and the answer says so.
    """
    out: set[str] = set()
    for members in lines.by_line.values():
        ends = [t.ended_months_ago for t in members
                if t.stop_reason is StopReason.PROGRESSION and t.ended_months_ago is not None]
        if ends:
            at = max(ends)
            out.update(d for t in members if t.started_months_ago >= at and t.stop_reason not in _NOT_FAILED
                       for d in t.drugs)
    if lines.latest_stop_unknown:
        out.update(d for t in lines.latest for d in t.drugs)
    return out


_NOT_FAILED = (StopReason.TOXICITY, StopReason.PATIENT_CHOICE)


def exposure_facts(p: Patient, lines: Lines) -> dict[str, Any]:
    """Drugs received, progressed on (metastatic lines that progressed, or relapse <= 6 months after
    (neo)adjuvant therapy) and stopped for toxicity."""
    met = [t for t in p.treatments if t.setting is Setting.METASTATIC]
    progressed = _line_failures(lines)
    for t in met:
        if t.stop_reason is StopReason.PROGRESSION:
            progressed.update(t.drugs)
    for t in p.treatments:
        if t.setting is not Setting.METASTATIC and _interval_at_most(t, p) <= ADJUVANT_PROGRESSION_WINDOW_MONTHS:
            progressed.update(t.drugs)
    received = {d for t in p.treatments for d in t.drugs}
    return {
        "drugs_received": frozenset(received),
        "classes_received": frozenset(DRUG_CLASSES[d].value for d in received),
        "metastatic_drugs_received": frozenset(d for t in met for d in t.drugs),
        "progressed_on": frozenset(progressed),
        "progressed_on_classes": frozenset(DRUG_CLASSES[d].value for d in progressed),
        "stopped_for_toxicity": frozenset(d for t in p.treatments if t.stop_reason is StopReason.TOXICITY
                                          for d in t.drugs),
    }


def _current_drugs(lines: Lines) -> list[str]:
    """Drugs of the latest line while it has not progressed (completed induction chemotherapy excluded).

    A treatment stopped for toxicity or by the patient's choice is no longer received: giving its drugs
    again is a new start (the labels' rules on starting a drug apply)."""
    latest = lines.latest
    if not latest or lines.latest_progressed or lines.latest_stop_unknown:
        return []
    ongoing = [t for t in latest if t.ended_months_ago is None]
    last = min(latest, key=lambda t: t.started_months_ago)
    if not ongoing and last.stop_reason in (StopReason.TOXICITY, StopReason.PATIENT_CHOICE):
        return []  # the line's most recent treatment was stopped: nothing of it goes on
    pool = ongoing or [t for t in latest if t.phase is Phase.MAINTENANCE] or latest
    current: list[str] = []
    for t in pool:
        for d in t.drugs:
            finished_chemo = DRUG_CLASSES[d] in _CYTOTOXIC and t.phase is Phase.INDUCTION and not ongoing
            if d not in current and not finished_chemo:
                current.append(d)
    return current


def line_facts(lines: Lines, early_relapse: bool | None) -> dict[str, Any]:
    """Line counts, first-line drugs and induction, and the current regimen."""
    line1 = lines.by_line.get(1, [])
    induction = [t for t in line1 if t.phase is Phase.INDUCTION]
    cycles = [t.cycles for t in induction if t.cycles is not None]
    current = _current_drugs(lines)
    count = lines.count
    return {
        "current_drugs": frozenset(current),
        "metastatic_lines": float(count),
        "prior_lines": float(count + (1 if early_relapse else 0)),
        "line1_drugs": frozenset(d for t in line1 for d in t.drugs),
        "induction_drugs": frozenset(d for t in induction for d in t.drugs),
        "induction_completed": (any(t.ended_months_ago is not None and t.stop_reason is not StopReason.PROGRESSION
                                    for t in induction) if induction else None),
        "induction_ongoing": any(t.ended_months_ago is None for t in induction),
        "induction_cycles": float(max(cycles)) if cycles else None,
        "first_line_tdxd": any("trastuzumab deruxtecan" in t.drugs for t in line1),
        "current_line": float(count) if count else None,
        "latest_stop_unknown": lines.latest_stop_unknown,
    }
