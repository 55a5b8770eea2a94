"""The patient of the exchange contract (``shared/contract.md``), as pydantic models.

Times are months before "now", the moment of the decision. A missing or null
clinical value is allowed where the contract allows it; the recommendation then
lists it under ``missing_data``. Contradictions are rejected, never guessed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from mbcpath.domain.drugs import KNOWN_DRUGS, normalise_drug, unknown_drug_rule
from mbcpath.domain.her2 import her2_status
from mbcpath.domain.history import check_history

# Exact JSON types, nothing coerced: a clinical fact is never read out of a string or a word.
# ``Strict()`` refuses "56" and " 1 " for an integer, "4.5e2" and true for a number, and
# "yes", "off", 0 and 1 for a boolean (lax pydantic would accept each of them). A number field
# accepts a JSON integer (450 is a number); an integer field refuses 1.0. Bounds are written as
# ``Field(ge=..., le=...)`` on the strict type itself, so the JSON Schema carries them as
# ``minimum`` / ``maximum`` (a validator wrapped around the type would hide them from the schema).

#: JSON integer only (not a string, a float or true/false).
Int = Annotated[int, Strict()]
#: JSON number only (an integer is a number; a string or true/false is not).
Float = Annotated[float, Strict()]
#: JSON true / false only (not "yes", "off", 0 or 1).
Bool = Annotated[bool, Strict()]
Months = Annotated[Float, Field(ge=0, le=600, description="months before the decision (>= 0)")]
#: A drug name: validated against the vocabulary (with "did you mean"), published as its enum.
DrugName = Annotated[str, WithJsonSchema({
    "type": "string", "minLength": 1,
    "description": "a drug of the contract's vocabulary: its lower-case INN (" + ", ".join(sorted(KNOWN_DRUGS))
                   + "), or a brand name or abbreviation in any case (Herceptin, Phesgo, T-DXd ...), which the "
                     "answer reports as normalised; an unknown name is refused with the closest known names"})]


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


class MenopausalStatus(StrEnum):
    PREMENOPAUSAL = "premenopausal"
    PERIMENOPAUSAL = "perimenopausal"
    POSTMENOPAUSAL = "postmenopausal"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"


class Presentation(StrEnum):
    DE_NOVO = "de_novo"
    RECURRENT = "recurrent"


class Site(StrEnum):
    BONE = "bone"
    LYMPH_NODE = "lymph_node"
    LIVER = "liver"
    LUNG = "lung"
    PLEURA = "pleura"
    SKIN_SOFT_TISSUE = "skin_soft_tissue"
    BRAIN = "brain"
    LEPTOMENINGEAL = "leptomeningeal"
    OTHER = "other"


class BrainMetastases(StrEnum):
    NONE = "none"
    STABLE_TREATED = "stable_treated"
    ACTIVE = "active"
    SYMPTOMATIC = "symptomatic"


class IldHistory(StrEnum):
    NONE = "none"
    GRADE1 = "grade1"
    GRADE2_OR_HIGHER = "grade2_or_higher"
    ACTIVE = "active"


class Setting(StrEnum):
    NEOADJUVANT = "neoadjuvant"
    ADJUVANT = "adjuvant"
    METASTATIC = "metastatic"


class Phase(StrEnum):
    INDUCTION = "induction"
    MAINTENANCE = "maintenance"


class StopReason(StrEnum):
    COMPLETED = "completed"
    PROGRESSION = "progression"
    TOXICITY = "toxicity"
    PATIENT_CHOICE = "patient_choice"


class PathologicalResponse(StrEnum):
    """Response to neoadjuvant therapy at surgery."""

    PCR = "pcr"
    RESIDUAL_DISEASE = "residual_disease"


class ChildPugh(StrEnum):
    A = "A"
    B = "B"
    C = "C"


class InteractingDrug(StrEnum):
    """Categories of concomitant drugs that drug labels name in their interaction sections."""

    STRONG_CYP3A_INHIBITOR = "strong_cyp3a_inhibitor"
    MODERATE_CYP3A_INHIBITOR = "moderate_cyp3a_inhibitor"
    STRONG_CYP3A_INDUCER = "strong_cyp3a_inducer"
    MODERATE_CYP3A_INDUCER = "moderate_cyp3a_inducer"
    STRONG_CYP2C8_INHIBITOR = "strong_cyp2c8_inhibitor"
    MODERATE_CYP2C8_INDUCER = "moderate_cyp2c8_inducer"
    SENSITIVE_CYP3A_SUBSTRATE = "sensitive_cyp3a_substrate"
    PGP_SUBSTRATE = "pgp_substrate"
    QT_PROLONGING = "qt_prolonging"
    ACID_REDUCING_AGENT = "acid_reducing_agent"
    WARFARIN = "warfarin"
    ESTROGEN_CONTAINING = "estrogen_containing"
    STRONG_CYP2D6_INHIBITOR = "strong_cyp2d6_inhibitor"


class RequestedDecisionPoint(StrEnum):
    """Decision points a caller may state (``next_line`` is resolved by the engine)."""

    FIRST_LINE = "first_line"
    MAINTENANCE = "maintenance"
    NEXT_LINE = "next_line"
    CNS_EVENT = "cns_event"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Her2(_Strict):
    """HER2 result per ASCO/CAP 2018 (affirmed 2023): IHC score and ISH result."""

    ihc: Literal["0", "1+", "2+", "3+"] | None = Field(None, description="IHC score")
    ish: Literal["amplified", "not_amplified", "equivocal"] | None = Field(
        None, description="in situ hybridisation result"
    )
    status: Literal["positive", "negative"] | None = Field(
        None,
        description="optional: the interpretation the report states; it must agree with IHC/ISH",
    )


class Treatment(_Strict):
    """One systemic treatment the patient has received (any order in the list)."""

    drugs: list[DrugName] = Field(..., min_length=1, description="lower-case INN names")
    setting: Setting
    line: Int | None = Field(None, ge=1, le=20, description="line of therapy (metastatic only)")
    phase: Phase | None = Field(None, description="induction / maintenance within a line")
    started_months_ago: Months
    ended_months_ago: Months | None = Field(None, description="null = ongoing")
    stop_reason: StopReason | None = None
    cycles: Int | None = Field(None, ge=1, le=200, description="cycles given so far (e.g. of induction)")
    pathological_response: PathologicalResponse | None = Field(
        None, description="neoadjuvant only: pathological complete response or residual disease at surgery"
    )

    @field_validator("drugs", mode="before")
    @classmethod
    def _known_drugs(cls, drugs: object, info: ValidationInfo) -> object:
        out = normalise_names(drugs, info)
        if isinstance(out, list) and all(isinstance(d, str) for d in out) and len(set(out)) != len(out):
            raise ValueError("a drug is listed twice in one treatment")
        return out

    @model_validator(mode="after")
    def _consistent(self) -> Treatment:
        if self.ended_months_ago is not None and self.ended_months_ago > self.started_months_ago:
            raise _at("ended_months_ago", self.ended_months_ago,
                      f"ends before the treatment started (started_months_ago = {self.started_months_ago:g}); "
                      "months count back from now, so ended_months_ago must be <= started_months_ago")
        if self.setting is not Setting.METASTATIC and self.line is not None:
            raise _at("line", self.line, "line applies to metastatic treatments only")
        if self.setting is not Setting.METASTATIC and self.phase is not None:
            raise _at("phase", self.phase.value, "phase applies to metastatic treatments only")
        if self.pathological_response is not None and self.setting is not Setting.NEOADJUVANT:
            raise _at("pathological_response", self.pathological_response.value,
                      "applies to neoadjuvant treatments only")
        if self.ended_months_ago is None and self.stop_reason is not None:
            raise _at("stop_reason", self.stop_reason.value,
                      "given for an ongoing treatment (ended_months_ago is null)")
        return self


class Preferences(_Strict):
    """What the patient wants, as far as it changes the options."""

    avoid_chemotherapy: Bool | None = Field(
        None, description="declines chemotherapy (antibody-drug conjugates count as chemotherapy)"
    )


class Hepatic(_Strict):
    """Liver function: laboratory values as multiples of the upper limit of normal, or Child-Pugh class."""

    bilirubin_x_uln: Float | None = Field(None, ge=0, le=100, description="total bilirubin / ULN")
    ast_x_uln: Float | None = Field(None, ge=0, le=200, description="AST / ULN")
    alt_x_uln: Float | None = Field(None, ge=0, le=200, description="ALT / ULN")
    alp_x_uln: Float | None = Field(None, ge=0, le=200, description="alkaline phosphatase / ULN")
    child_pugh: ChildPugh | None = Field(None, description="Child-Pugh class, where cirrhosis is assessed")


class GateOverride(_Strict):
    """A documented clinician override of one hard safety stop."""

    gate: str = Field(..., description="id of the safety gate, e.g. 'lvef-below-50-start'")
    reason: str = Field(..., min_length=5, description="documented reason (e.g. cardio-oncology review)")


class Patient(_Strict):
    """A patient at a decision point, in the exchange contract's form."""

    id: str = Field("anonymous", max_length=200, description="caller's identifier, no names needed")
    age_years: Int = Field(..., ge=18, le=110)
    sex: Sex
    menopausal_status: MenopausalStatus = MenopausalStatus.UNKNOWN
    ecog: Int | None = Field(None, ge=0, le=4, description="ECOG performance status")
    her2: Her2
    er_percent: Float | None = Field(None, ge=0, le=100, description="ER-positive nuclei, %")
    pr_percent: Float | None = Field(None, ge=0, le=100, description="PR-positive nuclei, %")
    presentation: Presentation | None = None
    metastatic_diagnosis_months_ago: Months | None = None
    metastatic_sites: list[Site] = Field(default_factory=list)
    visceral_crisis: Bool | None = None
    brain_metastases: BrainMetastases | None = None
    extracranial_progression: Bool | None = Field(
        None, description="at a CNS event: is extracranial disease progressing too?"
    )
    lvef_percent: Float | None = Field(None, ge=5, le=90, description="latest LVEF, %")
    lvef_baseline_percent: Float | None = Field(
        None, ge=5, le=90, description="LVEF before anti-HER2 therapy began (for the labels' fall-from-baseline rules)"
    )
    heart_failure: Bool | None = Field(None, description="symptomatic congestive heart failure")
    ild_history: IldHistory | None = None
    qtcf_ms: Float | None = Field(None, ge=250, le=800)
    neuropathy_grade: Int | None = Field(None, ge=0, le=4)
    pregnant: Bool | None = None
    pregnancy_trimester: Int | None = Field(None, ge=1, le=3, description="when pregnant: 1, 2 or 3")
    hepatic: Hepatic | None = Field(None, description="liver function (labels adjust or stop drugs by it)")
    interacting_drugs: list[InteractingDrug] = Field(
        default_factory=list, description="concomitant drug categories that labels name as interacting"
    )
    distant_metastases: Bool | None = Field(
        None, description="false: no distant disease (out of scope); null/absent: metastatic disease assumed"
    )
    treatments: list[Treatment] = Field(default_factory=list)
    preferences: Preferences = Field(default_factory=lambda: Preferences())
    unavailable_drugs: list[DrugName] = Field(default_factory=list, description="local formulary gaps")
    available_drugs: list[DrugName] = Field(
        default_factory=list,
        description="drugs of restricted availability that are available here (e.g. pyrotinib)",
    )
    gate_overrides: list[GateOverride] = Field(default_factory=list)
    decision_point: RequestedDecisionPoint | None = Field(
        None, description="absent: derived from the treatment history"
    )

    _input_notes: list[str] = PrivateAttr(default_factory=list)

    @property
    def input_notes(self) -> list[str]:
        """What the input was normalised to (brand names, abbreviations), for the answer to show."""
        return list(self._input_notes)

    @field_validator("unavailable_drugs", "available_drugs", mode="before")
    @classmethod
    def _known(cls, names: object, info: ValidationInfo) -> object:
        if info.field_name == "unavailable_drugs":
            names = _single_products(names, info)
        out = normalise_names(names, info)
        if isinstance(out, list) and all(isinstance(x, str) for x in out):
            return list(dict.fromkeys(out))
        return out

    @model_validator(mode="after")
    def _no_contradictions(self) -> Patient:
        # The order decides which contradiction is reported first: keep it.
        _her2_agrees(self.her2)
        _sex_agrees(self)
        _pregnancy_agrees(self)
        _brain_disease_agrees(self)
        _history_agrees(self)
        return self


def _her2_agrees(her2: Her2) -> None:
    """A stated HER2 status agrees with the ASCO/CAP reading of its IHC / ISH (when that reading resolves)."""
    implied = her2_status(her2.ihc, her2.ish)
    if her2.status is not None and implied != "unresolved" and implied != her2.status:
        raise _at("her2.status", her2.status, f"contradicts IHC {her2.ihc} / ISH {her2.ish} "
                  f"(ASCO/CAP reading: {implied})")


def _sex_agrees(p: Patient) -> None:
    """A man has no menopausal status and is not pregnant."""
    if p.sex is not Sex.MALE:
        return
    if p.menopausal_status in (MenopausalStatus.PREMENOPAUSAL, MenopausalStatus.PERIMENOPAUSAL,
                               MenopausalStatus.POSTMENOPAUSAL):
        raise _at("menopausal_status", p.menopausal_status.value,
                  "menopausal status applies to women; use 'not_applicable' for men")
    if p.pregnant:
        raise _at("pregnant", True, "cannot be true for sex 'male'")


def _pregnancy_agrees(p: Patient) -> None:
    """A trimester only in pregnancy; no pregnancy after menopause."""
    if p.pregnancy_trimester is not None and p.pregnant is not True:
        raise _at("pregnancy_trimester", p.pregnancy_trimester, "given but pregnant is not true")
    if p.pregnant and p.menopausal_status is MenopausalStatus.POSTMENOPAUSAL:
        raise _at("pregnant", True, "contradicts menopausal_status 'postmenopausal'")


def _brain_disease_agrees(p: Patient) -> None:
    """brain_metastases and a 'brain' site say the same; a CNS event needs brain or leptomeningeal disease."""
    has_brain_site = Site.BRAIN in p.metastatic_sites
    if p.brain_metastases is BrainMetastases.NONE and has_brain_site:
        raise _at("brain_metastases", "none", "contradicts 'brain' in metastatic_sites")
    if p.brain_metastases not in (None, BrainMetastases.NONE) and not has_brain_site:
        raise _at("metastatic_sites", [s.value for s in p.metastatic_sites],
                  f"brain_metastases is {p.brain_metastases.value!r} but 'brain' is not listed")
    if (p.decision_point is RequestedDecisionPoint.CNS_EVENT and p.brain_metastases is BrainMetastases.NONE
            and Site.LEPTOMENINGEAL not in p.metastatic_sites):
        raise _at("decision_point", "cns_event", "a CNS event needs brain metastases or leptomeningeal disease")


def _history_agrees(p: Patient) -> None:
    """The treatment history is coherent, dated on the right side of the metastatic diagnosis, and a de novo
    presentation has no (neo)adjuvant treatment."""
    problem = check_history(p.treatments)
    if problem is not None:
        raise _at(problem.field, problem.value, problem.rule)
    if p.metastatic_diagnosis_months_ago is not None:
        _treatments_dated_around_diagnosis(p.treatments, p.metastatic_diagnosis_months_ago)
    if p.presentation is Presentation.DE_NOVO and any(t.setting is not Setting.METASTATIC for t in p.treatments):
        raise _at("presentation", "de_novo", "contradicts a (neo)adjuvant treatment in treatments")


def _treatments_dated_around_diagnosis(treatments: list[Treatment], dx: float) -> None:
    """Metastatic treatments start at or after the metastatic diagnosis, (neo)adjuvant ones at or before it."""
    for i, t in enumerate(treatments):
        if t.setting is Setting.METASTATIC and t.started_months_ago > dx:
            raise _at(f"treatments[{i}].started_months_ago", t.started_months_ago,
                      f"a metastatic treatment cannot start before the metastatic diagnosis "
                      f"(metastatic_diagnosis_months_ago = {dx:g})")
        if t.setting is not Setting.METASTATIC and t.started_months_ago < dx:
            raise _at(f"treatments[{i}].started_months_ago", t.started_months_ago,
                      f"(neo)adjuvant treatment cannot start after the metastatic diagnosis "
                      f"(metastatic_diagnosis_months_ago = {dx:g})")


def _single_products(names: object, info: ValidationInfo) -> object:
    """A fixed-dose combination product (Phesgo) missing from a formulary says nothing of its molecules given
    separately (IV trastuzumab and pertuzumab): it is dropped from ``unavailable_drugs`` with a note."""
    if not isinstance(names, list):
        return names
    notes = info.context.setdefault("notes", []) if isinstance(info.context, dict) else None
    kept: list[object] = []
    for name in names:
        inns = normalise_drug(name)[0] if isinstance(name, str) else ()
        if len(inns) > 1:
            if notes is not None:
                notes.append(f"{name!r} (a fixed-dose combination of {' + '.join(inns)}) listed as unavailable: its "
                             "molecules given separately are not assumed unavailable; list them by name if they are")
            continue
        kept.append(name)
    return kept


def normalise_names(names: object, info: ValidationInfo) -> object:
    """Drug names as clinicians write them (any case, brand names, abbreviations) -> lower-case INNs.

    What was normalised is appended to ``info.context['notes']`` when the caller passes a context;
    an unknown name is refused with the closest known names.
    """
    if not isinstance(names, list):
        return names
    out: list[object] = []
    notes = info.context.setdefault("notes", []) if isinstance(info.context, dict) else None
    for i, name in enumerate(names):
        if not isinstance(name, str):
            out.append(name)
            continue
        inns, note = normalise_drug(name)
        if not inns:
            raise ValueError(f"[{i}] {name!r}: {unknown_drug_rule(name)}")
        if note and notes is not None and note not in notes:
            notes.append(note)
        out.extend(inns)
    return out


class _FieldContradiction(ValueError):
    def __init__(self, field: str, value: object, rule: str) -> None:
        self.field, self.value, self.rule = field, value, rule
        super().__init__(f"{field} = {value!r}: {rule}")


def _at(field: str, value: object, rule: str) -> _FieldContradiction:
    return _FieldContradiction(field, value, rule)
