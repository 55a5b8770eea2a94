"""The decision point: derived from the history, which a stated decision point never overrides.

A stated decision point that agrees with the history changes nothing. One that contradicts the
history (``next_line`` while the latest line is recorded without progression, ``maintenance`` with no
first line, ...) is answered from the history, and the contradiction is shown
(:attr:`Decision.contradiction`) with what to record if the history is incomplete.

References
----------
shared/domain.md section 3 (the decision points and how the history decides them).
NCCN Breast Cancer guideline (T-DXd as a first-line option for rapid progression within 6 months
of (neo)adjuvant therapy) and Giordano SH et al., J Clin Oncol 2022;40:2612-35 (ASCO rec. 5.0:
relapse within 12 months follows the second-line recommendations): the same route, named differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mbcpath.domain.drugs import DRUG_CLASSES, ENDOCRINE_CLASSES, DrugClass
from mbcpath.domain.patient import Patient, Phase, RequestedDecisionPoint, StopReason
from mbcpath.facts.history import Lines


@dataclass(frozen=True)
class Decision:
    """The decision point, how the history gives it, and any contradiction with the stated one."""

    point: str
    basis: str
    stated: str | None = None
    contradiction: str | None = None


def _line_name(n: int) -> str:
    return "second_line" if n <= 2 else "third_line_or_later"


def _words(dp: str) -> str:
    return dp.replace("_", " ")


def derive_decision(v: dict[str, Any], lines: Lines) -> Decision:
    """The decision point the history gives (no stated point considered)."""
    offset = 1 if v["early_relapse"] else 0
    k = lines.count
    if k == 0:
        if v["early_relapse"]:
            return Decision("second_line", "relapse within the early-relapse window after (neo)adjuvant HER2-directed "
                                           "therapy counts as one prior line (DESTINY-Breast03; ASCO rec. 5.0)")
        return Decision("first_line", "no systemic treatment for metastatic disease recorded")
    if not v["early_relapse"] and _endocrine_only(lines):
        state = "progression on" if lines.latest_progressed else "ongoing"
        return Decision("first_line", f"endocrine therapy only for metastatic disease so far ({state} line {k}): the "
                        "first HER2-directed therapy is the first-line decision (CLEOPATRA and DESTINY-Breast09 "
                        "allowed prior endocrine therapy for metastatic disease); failed endocrine drugs stay failed")
    if lines.latest_progressed:
        return Decision(_line_name(k + 1 + offset), f"progression on metastatic line {k}")
    if v["latest_stop_unknown"]:
        return Decision(_line_name(k + 1 + offset), f"line {k} has ended with no stop reason recorded: answered as "
                        "after progression, so its drugs are not offered again; record the stop reason if it ended "
                        "otherwise")
    if v["cns_disease_active"] and v["extracranial_progression"] is not True:
        if _off_treatment(lines):
            return Decision(_line_name(k + 1 + offset), f"active CNS disease after line {k}, which ended without "
                            "progression (toxicity, the patient's choice or a holiday): no regimen to continue, so a "
                            "new line")
        ext = ("extracranial disease controlled" if v["extracranial_progression"] is False
               else "extracranial status NOT recorded")
        return Decision("cns_event", f"active CNS disease while line {k} is ongoing ({ext})")
    if v["extracranial_progression"] is True:
        return Decision(_line_name(k + 1 + offset), f"extracranial progression while line {k} is ongoing")
    if k == 1:
        return Decision("maintenance", _maintenance_basis(v, lines))
    return _same_line(k, offset, lines)


def _same_line(k: int, offset: int, lines: Lines) -> Decision:
    """Line ``k`` has not progressed: its options are shown, and the basis says whether anything still runs."""
    if _off_treatment(lines):
        return Decision(_line_name(k + offset), f"line {k} ended without progression (toxicity, the patient's choice "
                        "or a break) and nothing is running now: the options of that line are shown; if the disease "
                        "has progressed since, ask for the next line")
    return Decision(_line_name(k + offset), f"line {k} is ongoing without progression: the options of that line "
                                             "are shown; continuing the current regimen is appropriate while it works")


#: classes that do not make a metastatic line a HER2-directed (or chemotherapy) line
_NON_HER2_CLASSES = ENDOCRINE_CLASSES | {DrugClass.OFS, DrugClass.CDK46_INHIBITOR, DrugClass.MTOR_INHIBITOR}


def _endocrine_only(lines: Lines) -> bool:
    """Every metastatic treatment so far was endocrine therapy (with OFS, a CDK4/6 or mTOR inhibitor): no HER2-directed
    drug and no chemotherapy yet."""
    drugs = [d for ts in lines.by_line.values() for t in ts for d in t.drugs]
    return bool(drugs) and all(DRUG_CLASSES[d] in _NON_HER2_CLASSES for d in drugs)


def _maintenance_basis(v: dict[str, Any], lines: Lines) -> str:
    if _off_treatment(lines):
        return ("first line ended without progression (toxicity, the patient's choice or a break) and nothing is "
                "running now: the maintenance options are shown for re-introduction; if the disease has progressed "
                "since, ask for the next line")
    if v["induction_ongoing"]:
        cycles = v["induction_cycles"]
        done = f" ({cycles:g} cycles so far)" if cycles else ""
        return f"first-line induction ongoing{done}: the maintenance that follows 4-8 cycles without progression"
    if v["induction_completed"]:
        return "first-line induction completed without progression"
    return "first line ongoing without progression"


def decide(p: Patient, v: dict[str, Any], lines: Lines) -> Decision:
    """The decision point: the history's, or the stated one where it only adds to the history."""
    derived = derive_decision(v, lines)
    asked = p.decision_point
    if asked is None:
        return derived
    stated = asked.value
    if asked is RequestedDecisionPoint.NEXT_LINE:
        return _stated_next_line(v, lines, derived)
    if stated == derived.point:
        return Decision(derived.point, derived.basis, stated)
    if asked is RequestedDecisionPoint.FIRST_LINE and lines.count == 0 and v["early_relapse"]:
        return Decision(derived.point, derived.basis + ". Stated as first line: NCCN lists T-DXd as a first-line "
                        "option for such rapid relapse, ASCO counts it as second line; the same early-relapse "
                        "route applies whatever the line is called", stated)
    return Decision(derived.point, derived.basis, stated,
                    f"The stated decision point '{_words(stated)}' does not fit the treatment history "
                    f"({derived.basis}): answered as {_words(derived.point)}. Check the history if this is wrong.")


def _off_treatment(lines: Lines) -> bool:
    """The latest line has ended (nothing ongoing) and did not simply complete its induction: a treatment
    holiday, or a stop for toxicity or the patient's choice. Progression now is progression after that line,
    which the contract cannot record on the line itself."""
    last = lines.latest_ended
    return last is not None and not (last.phase is Phase.INDUCTION and last.stop_reason is StopReason.COMPLETED)


def _stated_next_line(v: dict[str, Any], lines: Lines, derived: Decision) -> Decision:
    k = lines.count
    offset = 1 if v["early_relapse"] else 0
    if derived.point == _line_name(k + 1 + offset):  # already a new line (progression, early relapse, ...)
        return Decision(derived.point, derived.basis, "next_line")
    if k and _off_treatment(lines):
        return Decision(_line_name(k + 1 + offset),
                        f"progression after line {k}, which had ended without progression (stated by the caller: "
                        "next line)", "next_line")
    where = ("no metastatic treatment is recorded" if lines.count == 0
             else f"line {lines.count} is recorded as ongoing or as a just-completed induction, without progression")
    return Decision(derived.point, derived.basis, "next_line",
                    f"The stated decision point 'next line' does not fit the treatment history ({where}): answered "
                    f"as {_words(derived.point)}. If the disease has progressed, record it (stop_reason "
                    "'progression' with the end date) and ask again.")
