"""The recommendation of the exchange contract, as pydantic models.

The contract's fields (``shared/contract.md``) are the stable minimum; the
extra fields here (``criteria``, ``guidelines``, ``trace`` ...) are additions
that let a clinician check the basis of every option.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mbcpath.domain.drugs import DrugClass


class DecisionPoint(StrEnum):
    FIRST_LINE = "first_line"
    MAINTENANCE = "maintenance"
    SECOND_LINE = "second_line"
    THIRD_LINE_OR_LATER = "third_line_or_later"
    CNS_EVENT = "cns_event"


class Category(StrEnum):
    PREFERRED = "preferred"
    ALTERNATIVE = "alternative"
    SELECTED_PATIENTS = "selected_patients"
    INVESTIGATIONAL = "investigational"


CATEGORY_ORDER = {c: i for i, c in enumerate(Category)}

Status = Literal["met", "not_met", "unknown"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


def component_label(drug: str | None, drug_class: DrugClass, name: str | None, choices: list[str] | None) -> str:
    """How a component reads: the INN, 'Name (a / b / c)' for a class choice, or its name."""
    if drug:
        return drug
    if choices:
        return f"{name or drug_class.value} ({' / '.join(choices)})"
    return name or drug_class.value


class Component(_Out):
    """One component of a regimen: a drug, a choice within a class, or local therapy."""

    drug: str | None = Field(None, description="lower-case INN, or null for a class choice / local therapy")
    drug_class: DrugClass = Field(..., alias="class", serialization_alias="class")
    name: str | None = Field(None, description="label for class choices and non-drug components")
    choices: list[str] | None = Field(None, description="INNs the clinician chooses from")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def items(self) -> set[str]:
        """Every item this component 'contains' (drug, class, name, choices)."""
        out = {self.drug_class.value}
        if self.drug:
            out.add(self.drug)
        if self.name:
            out.add(self.name)
        out.update(self.choices or ())
        return out

    def label(self) -> str:
        return component_label(self.drug, self.drug_class, self.name, self.choices)


class Criterion(_Out):
    """One criterion evaluated for this patient."""

    id: str
    text: str
    status: Status
    detail: str = Field("", description="the facts the evaluation used")
    sources: list[str] = Field(default_factory=list)


class EndpointSummary(_Out):
    """One endpoint result of a trial, as the engine cites it."""

    endpoint: str
    analysis: str
    arms: dict[str, float | str | None] = Field(default_factory=dict, description="median per arm, months")
    hr: float | None = None
    hr_ci95: tuple[float, float] | None = None
    p: str | None = None
    text: str = ""
    verified: bool = True
    sources: list[str] = Field(default_factory=list)


class TrialFit(_Out):
    """Would this patient have met the trial's eligibility?"""

    fits: bool | None = Field(..., description="true / false / null when unknown")
    criteria: list[Criterion] = Field(default_factory=list)


Support = Literal["direct", "indirect"]


class EvidenceRef(_Out):
    """A trial cited for an option, with its design, numbers and this patient's fit.

    ``support`` is ``direct`` only when the option's own regimen was an arm of the trial; otherwise
    the trial is indirect support (``basis`` says from what) and its numbers are not shown as the
    option's.
    """

    trial: str
    support: Support = Field("direct", description="direct: the option's regimen was an arm of this trial")
    arm: str | None = Field(None, description="direct support: the arm id of the option's regimen")
    basis: str = Field("", description="for indirect support: what is extrapolated from what")
    title: str = ""
    phase: str | None = None
    randomized: bool | None = None
    n: int | None = None
    design: str = ""
    role: str = Field("", description="how the trial supports this option")
    endpoints: list[EndpointSummary] = Field(default_factory=list)
    toxicity: str = ""
    esmo_mcbs: int | None = None
    publication: str = ""
    status: str = "reported"
    fit: TrialFit | None = None
    sources: list[str] = Field(default_factory=list)


class GuidelineRef(_Out):
    """A guideline statement supporting or qualifying an option."""

    id: str
    body: str
    statement: str
    rating: str | None = None
    date: str | None = None
    sources: list[str] = Field(default_factory=list)


TierLabel = Literal["preferred", "other_recommended", "useful_in_certain_circumstances", "investigational",
                    "not_in_guidelines"]


class Tier(_Out):
    """Where the guidelines place this option at this decision point, with the statements that say so."""

    label: TierLabel
    statements: list[str] = Field(default_factory=list, description="guideline statement ids")
    text: str = ""


class Option(_Out):
    """A ranked, reasonable option for this patient."""

    rank: int = Field(..., ge=1)
    category: Category
    regimen_id: str
    name: str
    components: list[Component]
    rationale: list[str] = Field(default_factory=list)
    evidence: list[EvidenceRef] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    criteria: list[Criterion] = Field(default_factory=list)
    guidelines: list[GuidelineRef] = Field(default_factory=list)
    rule_id: str = ""
    tier: Tier | None = None
    summary: str = Field("", description="one line of why, in clinical words")
    chemotherapy_free: bool = Field(False, description="no cytotoxic drug and no antibody-drug conjugate")
    depends_on_unknown: list[str] = Field(
        default_factory=list, description="unknown data this option rests on, in clinical words"
    )

    def items(self) -> set[str]:
        """Every drug, class, name and choice in the option."""
        out: set[str] = set()
        for c in self.components:
            out |= c.items()
        return out


class Excluded(_Out):
    """A regimen considered and ruled out, with why."""

    regimen_id: str
    name: str = ""
    components: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    gates: list[str] = Field(default_factory=list, description="ids of the safety gates or rules that fired")
    kind: Literal["safety", "exposure", "availability", "not_indicated", "not_established"] = Field(
        "not_indicated",
        description="safety: a hard stop; exposure: progressed on a component; availability: formulary; "
                    "not_indicated: a required criterion of the rule is not met; not_established: a required criterion "
                    "cannot be checked because data are missing",
    )
    overridable: bool = Field(False, description="a documented clinician override can lift the stop")


class SafetyStop(_Out):
    """A hard stop or label warning that shaped this answer, stated once for the clinician."""

    gate: str
    severity: Literal["stop", "warning"]
    text: str
    drugs: list[str] = Field(default_factory=list)
    overridable: bool = False
    sources: list[str] = Field(default_factory=list)


class TrialMatch(_Out):
    """An ongoing trial checked against this patient's structured eligibility."""

    trial: str
    title: str = ""
    nct: str | None = None
    phase: str | None = None
    status: str = ""
    verdict: Literal["eligible", "not_eligible", "unknown"]
    criteria: list[Criterion] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list, description="criteria not met, or data needed")


class Recommendation(_Out):
    """The answer for one patient at one decision point."""

    patient_id: str
    kb_release: str
    engine_version: str
    decision_point: DecisionPoint | None
    out_of_scope: str | None = None
    options: list[Option] = Field(default_factory=list)
    excluded: list[Excluded] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)
    missing_data: list[str] = Field(default_factory=list)
    facts: dict[str, object] = Field(default_factory=dict, description="derived facts the rules used")
    decision_point_stated: str | None = Field(None, description="the decision point the caller stated, if any")
    decision_point_basis: str = Field("", description="how the decision point follows from the history")
    input_notes: list[str] = Field(default_factory=list, description="what the input was normalised to, and why")
    safety_stops: list[SafetyStop] = Field(default_factory=list)
    trial_matches: list[TrialMatch] = Field(default_factory=list)
    provisional: bool = Field(False, description="key inputs are missing: the ranking may change")
    as_of: str | None = Field(None, description="the date whose evidence the answer uses (YYYY-MM-DD)")
    disclaimer: str = (
        "mbcpath is not a medical device. It supports, and does not replace, a clinician's judgement; "
        "check each option against its cited sources."
    )

    def to_json(self) -> str:
        """Deterministic JSON (same input and KB release give identical bytes)."""
        return self.model_dump_json(by_alias=True, indent=2)
