"""Pydantic models of the knowledge base files (``kb/``).

Every number in the KB sits in a record that carries its sources: an
:class:`Endpoint`, :class:`Toxicity`, :class:`SourcedInt` or :class:`EsmoMcbs`
without ``sources`` fails validation, so a release cannot load with an
unsourced number. Source keys resolve to ``kb/sources.yaml``; a value that
could not be verified says ``verified: false`` and may be shown, never used by
a hard rule (:mod:`mbcpath.kb.loader` checks that every excluding gate cites
a verified source).
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mbcpath.domain.drugs import DRUG_CLASSES, DrugClass, unknown_drug_rule
from mbcpath.domain.recommendation import Category
from mbcpath.facts.catalog import DECISION_POINTS
from mbcpath.rules.conditions import ConditionError, compile_condition

SourceKey = Annotated[str, Field(min_length=2, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
Sources = Annotated[list[SourceKey], Field(min_length=1, description="keys into kb/sources.yaml")]
Median = float | Literal["NR", "NC", "NE"]
#: A data cut-off as the source prints it: a day or, where only the month is given, a month.
CutoffDate = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$")]
KnownSince = Annotated[
    _dt.date | None,
    Field(description="the day the record first became public (presentation, publication or approval), "
                            "as its sources date it; where a source gives only a month or a year, the last day "
                            "of that period (an as-of view then never shows it too early)"),
]


class _KB(BaseModel):
    # defer_build: validators are built on first validation only; a KB rebuilt from its verified snapshot
    # (mbcpath.kb.snapshot) never validates, so a short command does not pay for building them.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def _check_condition(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        compile_condition(text)
    except ConditionError as err:
        raise ValueError(str(err)) from None
    return text


ConditionText = Annotated[str, Field(description="a condition over derived facts")]


# ----------------------------------------------------------------------------- sources
class Source(_KB):
    """A citable source: publication, abstract, label, guideline, registry or report."""

    url: str | None = None
    citation: str | None = None
    kind: Literal["publication", "abstract", "label", "guideline", "registry", "report", "scorecard",
                  "secondary", "dataset"] = "secondary"
    verified: bool = Field(True, description="the cited text was read in stored public material")
    retracted: bool = Field(False, description="the publication (or the publication a summary reports) was "
                                               "retracted; a record resting only on retracted sources decides nothing")
    retraction_notice: str | None = Field(None, description="citation or URL of the retraction notice")
    corrected_by: str | None = Field(None, description="source key of the corrected or replacing publication")
    note: str = ""

    @model_validator(mode="after")
    def _locatable(self) -> Source:
        if not (self.url or self.citation):
            raise ValueError("a source needs a url or a citation")
        if self.retracted and not self.retraction_notice:
            raise ValueError("a retracted source needs its retraction_notice (citation or URL)")
        if self.retraction_notice and not self.retracted:
            raise ValueError("retraction_notice given but retracted is false")
        return self

    @property
    def usable(self) -> bool:
        """Read in stored text and not retracted: a source that may support a deciding record."""
        return self.verified and not self.retracted


class SourceRegistry(_KB):
    sources: dict[SourceKey, Source]


class Release(_KB):
    """``kb/release.yaml``: the release stamp every output carries."""

    kb_release: str = Field(..., pattern=r"^\d{4}\.\d{1,2}\.\d+$")
    date: str
    title: str
    licence: str
    previous: str | None = Field(None, description="the release this one follows")
    changelog: str | None = Field(None, description="file, relative to the KB root, describing the changes")
    changes: list[str] = Field(default_factory=list)


# ----------------------------------------------------------------------------- regimens
class ComponentSpec(_KB):
    """A regimen component in the contract's names and classes."""

    drug: str | None = None
    drug_class: DrugClass = Field(..., alias="class")
    name: str | None = None
    choices: list[str] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _consistent(self) -> ComponentSpec:
        names = ([self.drug] if self.drug else []) + list(self.choices or [])
        for d in names:
            if d not in DRUG_CLASSES:
                raise ValueError(f"drug {d!r}: {unknown_drug_rule(d)}")
            if DRUG_CLASSES[d] is not self.drug_class:
                raise ValueError(f"drug {d!r} is class {DRUG_CLASSES[d].value!r}, not {self.drug_class.value!r}")
        if self.drug is None and not self.choices and self.drug_class is not DrugClass.LOCAL_THERAPY:
            raise ValueError("a component needs a drug, choices, or class 'local_therapy'")
        if self.drug is None and not self.name:
            raise ValueError("a class-choice or local-therapy component needs a name")
        return self


class Safety(_KB):
    contraindications: list[str] = Field(default_factory=list)
    monitoring: list[str] = Field(default_factory=list)
    key_toxicities: list[str] = Field(default_factory=list)
    sources: Sources


class Regimen(_KB):
    """``kb/regimens/<id>.yaml``."""

    id: str = Field(..., pattern=r"^[a-z0-9][a-z0-9\-]*$")
    name: str
    components: list[ComponentSpec] = Field(..., min_length=1)
    schedule: str
    safety: Safety
    trials: list[str] = Field(default_factory=list, description="trial ids that tested this regimen")
    notes: str = ""
    dynamic: bool = Field(False, description="components are filled from the patient's current regimen")


# ----------------------------------------------------------------------------- trials
class SourcedInt(_KB):
    value: int = Field(..., ge=0)
    sources: Sources
    derived: bool = False
    verified: bool = True
    note: str = ""


class Arm(_KB):
    id: str = Field(..., pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    label: str
    regimen: str | None = Field(None, description="regimen id in kb/regimens when the arm gave exactly that regimen; "
                                                  "an option shows numbers only from arms of its own regimen")
    contains_regimens: list[str] = Field(
        default_factory=list,
        description="a physician's-choice or mixed arm: regimens given to part of it; its numbers are pooled, "
                    "never one regimen's own (indirect support only)")
    drugs: list[str] = Field(default_factory=list,
                             description="(neo)adjuvant trials: the drugs of the arm (an exposure, not a "
                                         "metastatic regimen; such arms name no regimen)")
    n: SourcedInt | None = None
    description: str = ""

    @field_validator("drugs")
    @classmethod
    def _known_drugs(cls, v: list[str]) -> list[str]:
        for d in v:
            if d not in DRUG_CLASSES:
                raise ValueError(f"drug {d!r}: {unknown_drug_rule(d)}")
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> Arm:
        if self.regimen and self.contains_regimens:
            raise ValueError(f"arm {self.id!r}: 'regimen' (exact) and 'contains_regimens' (mixed) exclude each other")
        return self


EndpointName = Literal["pfs", "os", "orr", "cns_pfs", "cns_orr", "ttp", "ttf", "dor", "cbr", "pfs_rate",
                       "os_rate", "cns_pfs_rate", "idfs", "idfs_rate", "dfs", "efs", "pcr", "pro"]


class Endpoint(_KB):
    """One analysis of one endpoint, with every number it reports and its sources."""

    endpoint: EndpointName
    assessment: str | None = Field(None, description="BICR, IRF, investigator ...")
    analysis: str = Field(..., description="which analysis: e.g. 'primary (Baselga NEJM 2012)'")
    analysis_type: Literal["primary", "interim", "final", "updated", "end_of_study", "subgroup", "pooled",
                           "non_randomized", "cohort"]
    data_cutoff: CutoffDate | None = Field(None, description="YYYY-MM-DD, or YYYY-MM where the source gives a month")
    data_cutoff_unknown: str | None = Field(None, min_length=10,
                                            description="why no cut-off is recorded (what was searched, what it said)")
    reported: str | None = Field(None, description="date of the report (YYYY or YYYY-MM)")
    known_since: KnownSince = None
    population: str | None = Field(None, description="if not the ITT population")
    arms: list[str] = Field(default_factory=list, description="arm ids compared: experimental first")
    medians: dict[str, Median] = Field(default_factory=dict, description="months, per arm id")
    median_ci95: dict[str, tuple[Median, Median]] = Field(default_factory=dict)
    rates: dict[str, float] = Field(default_factory=dict, description="percent per arm (ORR, landmark)")
    rate_at_months: float | None = Field(None, description="landmark time for rates")
    hr: float | None = Field(None, gt=0)
    hr_ci95: tuple[float, float] | None = None
    p: str | None = None
    followup_months: float | None = None
    engine_uses: bool = Field(False, description="the analysis the engine cites and projects from")
    verified: bool = True
    note: str = ""
    sources: Sources

    @model_validator(mode="after")
    def _coherent(self) -> Endpoint:
        if self.hr_ci95 is not None:
            lo, hi = self.hr_ci95
            if not (0 < lo <= hi):
                raise ValueError(f"hr_ci95 {self.hr_ci95} is not an interval")
            if self.hr is not None and not (lo <= self.hr <= hi):
                raise ValueError(f"hr {self.hr} lies outside its CI {self.hr_ci95}")
        for k in (*self.medians, *self.rates, *self.median_ci95):
            if self.arms and k not in self.arms:
                raise ValueError(f"value for arm {k!r} which is not in arms {self.arms}")
        if self.rates and any(not 0 <= v <= 100 for v in self.rates.values()):
            raise ValueError("rates are percentages in [0, 100]")
        if self.data_cutoff and self.data_cutoff_unknown:
            raise ValueError("give data_cutoff or data_cutoff_unknown, not both")
        return self


class Toxicity(_KB):
    event: str
    grade: str = Field(..., description="'any', '>=3', '5' ...")
    rates: dict[str, float] = Field(..., description="percent per arm id")
    verified: bool = True
    known_since: KnownSince = None
    note: str = ""
    sources: Sources


class Eligibility(_KB):
    """One eligibility criterion; ``condition`` makes it checkable for a patient."""

    id: str
    text: str
    condition: ConditionText | None = Field(
        None, description="true when the patient meets the criterion (inclusion met / exclusion absent)")
    missing_facts: list[str] = Field(
        default_factory=list,
        description="facts the catalogue lacks that a condition would need (condition stays null)")
    verified: bool = True
    sources: Sources

    _c = field_validator("condition")(classmethod(lambda cls, v: _check_condition(v)))


class Publication(_KB):
    citation: str
    year: int | None = None
    doi: str | None = None
    pmid: str | None = None
    verified: bool = True
    known_since: KnownSince = None
    note: str = ""


class Approval(_KB):
    """A regulatory decision on a regimen for an indication (or that none was found when checked)."""

    agency: Literal["FDA", "EMA", "EC", "PMDA", "MHLW", "NMPA", "MHRA", "Health Canada", "TGA", "other"]
    status: Literal["approved", "positive_opinion", "filed", "priority_review", "breakthrough_designation",
                    "not_found"]
    date: _dt.date | None = Field(None, description="date of the decision; null for not_found")
    indication: str = ""
    regimen: str | None = Field(None, description="regimen id in kb/regimens")
    checked: _dt.date | None = Field(None, description="not_found: the day the sources were searched")
    verified: bool = True
    known_since: KnownSince = None
    note: str = ""
    sources: Sources

    @model_validator(mode="after")
    def _dated(self) -> Approval:
        if self.status == "not_found" and self.checked is None:
            raise ValueError("an approval marked not_found needs 'checked' (the day it was looked for)")
        if self.status != "not_found" and self.date is None:
            raise ValueError(f"an approval with status {self.status!r} needs its 'date'")
        return self


class EsmoMcbs(_KB):
    """A published ESMO-MCBS v1.1 score (scorecard)."""

    score: int = Field(..., ge=1, le=5)
    form: Literal["2a", "2b", "2c", "3"]
    preliminary: int | None = Field(None, ge=1, le=5)
    adjustments: str = ""
    scorecard: str | None = None
    verified: bool = True
    sources: Sources


class RegistryDates(_KB):
    """Dates of a registry record as the record states them (YYYY-MM-DD or YYYY-MM)."""

    status: str = Field(..., description="recruitment status as the record words it")
    start: CutoffDate | None = None
    primary_completion: CutoffDate | None = Field(None, description="estimated unless noted")
    completion: CutoffDate | None = Field(None, description="estimated unless noted")
    last_update: CutoffDate | None = Field(None, description="the record's own last-update date")
    note: str = ""
    sources: Sources


class Trial(_KB):
    """``kb/trials/<id>.yaml``: one trial, with every number sourced."""

    id: str
    aliases: list[str] = Field(default_factory=list)
    title: str = ""
    nct: str | None = Field(None, pattern=r"^NCT\d{8}$")
    phase: str
    randomized: bool
    design: str
    registry_ids: list[str] = Field(default_factory=list, description="other registry ids (EudraCT, CTR, ...)")
    registry_checked: _dt.date | None = Field(None, description="the day the registry record was last read")
    registry: RegistryDates | None = None
    status: Literal["reported", "ongoing", "pending", "not_found"] = "reported"
    settings: list[Literal["first_line", "maintenance", "second_line", "third_line_or_later", "cns",
                           "early_relapse", "neoadjuvant", "adjuvant", "post_neoadjuvant"]] = Field(..., min_length=1)
    line: str = Field(..., description="line/setting as a clinician would say it")
    population: str
    hr_status: str
    n: SourcedInt | None = None
    arms: list[Arm] = Field(default_factory=list)
    primary_endpoint: str | None = None
    eligibility: list[Eligibility] = Field(default_factory=list)
    endpoints: list[Endpoint] = Field(default_factory=list)
    toxicities: list[Toxicity] = Field(default_factory=list)
    publications: list[Publication] = Field(default_factory=list)
    esmo_mcbs: EsmoMcbs | None = None
    regulatory: list[Approval] = Field(default_factory=list)
    known_since: KnownSince = None
    discrepancies: list[str] = Field(default_factory=list, description="where sources disagree")
    notes: str = ""
    sources: Sources

    @model_validator(mode="after")
    def _arms_known(self) -> Trial:
        arm_ids = {a.id for a in self.arms}
        for e in self.endpoints:
            unknown = [a for a in e.arms if a not in arm_ids]
            if unknown:
                raise ValueError(f"endpoint {e.endpoint} ({e.analysis}) names unknown arms {unknown}")
        for t in self.toxicities:
            unknown = [a for a in t.rates if a not in arm_ids]
            if unknown:
                raise ValueError(f"toxicity {t.event!r} names unknown arms {unknown}")
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for e in self.endpoints:
            if e.engine_uses:
                key = (e.endpoint, tuple(e.arms))
                if key in seen:
                    raise ValueError(f"two analyses of {e.endpoint} {list(e.arms)} are marked engine_uses")
                seen.add(key)
        return self


# ----------------------------------------------------------------------------- guidelines
StatementKind = Literal["recommendation", "expert_opinion", "label", "regulatory", "definition", "score"]
Tier = Literal["preferred", "other_recommended", "useful_in_certain_circumstances", "investigational"]
TIERS: tuple[str, ...] = ("preferred", "other_recommended", "useful_in_certain_circumstances", "investigational")


class Statement(_KB):
    """One statement of a guideline, label or approval, worded as its source words it.

    ``kind`` says what it is: a graded recommendation, expert opinion (consensus without
    evidence grading), label text, a regulatory decision, a definition (testing) or a
    benefit score. ``tier`` with ``regimens`` and ``decision_points`` states a guideline's
    preference tier for those regimens (the engine tiers options from these).
    """

    id: str
    number: str | None = None
    kind: StatementKind = "recommendation"
    text: str
    rating: str | None = None
    version: str | None = Field(None, description="guideline version the statement is from")
    date: str | None = Field(None, description="date of that version as the source prints it")
    known_since: KnownSince = None
    tier: Tier | None = None
    regimens: list[str] = Field(default_factory=list, description="regimen ids a tier statement applies to")
    decision_points: list[str] = Field(default_factory=list, description="decision points of a tier statement")
    verified: bool = True
    note: str = ""
    sources: Sources

    @model_validator(mode="after")
    def _tiered(self) -> Statement:
        if self.tier and not (self.regimens and self.decision_points):
            raise ValueError(f"statement {self.id!r}: a tier needs 'regimens' and 'decision_points'")
        bad = [d for d in self.decision_points if d not in DECISION_POINTS]
        if bad:
            raise ValueError(f"statement {self.id!r}: unknown decision point(s) {bad}; known: {list(DECISION_POINTS)}")
        return self


class GuidelineSource(_KB):
    """``kb/guidelines/<id>.yaml``: one guideline body's statements the engine relies on."""

    id: str
    body: Literal["ASCO", "NCCN", "ESO-ESMO", "ESMO", "FDA", "EMA", "ASCO/CAP", "PMDA", "other"]
    title: str
    version: str | None = Field(None, description="the version read, as the body numbers it")
    date: str
    citation: str
    status: Literal["current", "superseded"] = "current"
    superseded_by: str | None = Field(None, description="guideline id of the newer version")
    superseded_on: _dt.date | None = Field(None, description="publication day of the newer version")
    newer_version_checked: str | None = Field(
        None, description="when and how a newer version was looked for, and what was found")
    rating_legend: str = ""
    statements: list[Statement] = Field(..., min_length=1)
    sources: Sources

    @model_validator(mode="after")
    def _supersession(self) -> GuidelineSource:
        if self.status == "superseded" and not (self.superseded_by and self.superseded_on):
            raise ValueError(f"guideline {self.id!r} is superseded: give superseded_by and superseded_on")
        return self


# ----------------------------------------------------------------------------- watch list
class WatchItem(_KB):
    """A pending readout, decision or document the KB is waiting for."""

    id: str = Field(..., pattern=r"^[a-z0-9][a-z0-9\-]*$")
    what: str
    kind: Literal["readout", "approval", "guideline", "scorecard", "registry"]
    trial: str | None = Field(None, description="trial id or alias in kb/trials")
    expected: str | None = Field(None, description="when it is expected, as a source says")
    last_checked: _dt.date
    status: Literal["pending", "found"] = "pending"
    finding: str = Field("", description="what the last check found (or that nothing was found)")
    sources: list[SourceKey] = Field(default_factory=list)


class WatchFile(_KB):
    """``kb/watch.yaml``."""

    items: list[WatchItem] = Field(..., min_length=1)


# ----------------------------------------------------------------------------- decisions
class RuleCriterion(_KB):
    """A criterion of an option rule. A ``requires`` criterion that cannot be checked (unknown data)
    excludes the option (``if_unknown: exclude``) or offers it flagged as resting on unknown data
    (``if_unknown: offer``)."""

    id: str
    text: str
    condition: ConditionText
    if_unknown: Literal["exclude", "offer"] = "exclude"
    sources: Sources

    _c = field_validator("condition")(classmethod(lambda cls, v: _check_condition(v)))


class Adjustment(_KB):
    """Changes an option's category or priority when its condition holds."""

    id: str
    when: ConditionText
    category: Category | None = None
    priority: int = 0
    note: str = Field(..., description="shown in the option's rationale when it applies")
    sources: Sources

    _c = field_validator("when")(classmethod(lambda cls, v: _check_condition(v)))


class EvidenceLink(_KB):
    trial: str
    role: str


TierName = Literal["preferred", "other_recommended", "useful_in_certain_circumstances", "investigational",
                   "not_in_guidelines"]
#: The contract category each guideline tier gives (NCCN's three tiers; investigational).
TIER_CATEGORY: dict[str, Category] = {
    "preferred": Category.PREFERRED,
    "other_recommended": Category.ALTERNATIVE,
    "useful_in_certain_circumstances": Category.SELECTED_PATIENTS,
    "investigational": Category.INVESTIGATIONAL,
}


class TierSpec(_KB):
    """Where guidelines place an option at its decision point, with the statements that say so."""

    label: TierName
    statements: list[str] = Field(default_factory=list, description="guideline statement ids")
    note: str = ""

    @model_validator(mode="after")
    def _sourced(self) -> TierSpec:
        if self.label != "not_in_guidelines" and not self.statements:
            raise ValueError(f"tier {self.label!r} needs the guideline statement(s) that place it there")
        return self


class OptionRule(_KB):
    """One option the engine considers at a decision point."""

    id: str
    regimen: str
    category: Category
    tier: TierSpec
    summary: str = Field(..., min_length=10, max_length=160, description="one line of why, in clinical words")
    known_since: KnownSince = Field(None, description="date the option's evidence became public (as-of answers)")
    priority: int = Field(..., ge=0, le=1000)
    requires: list[RuleCriterion] = Field(default_factory=list, description="false -> excluded")
    criteria: list[RuleCriterion] = Field(default_factory=list, description="shown as met/not met/unknown")
    adjustments: list[Adjustment] = Field(default_factory=list)
    evidence: list[EvidenceLink] = Field(..., min_length=1)
    guidelines: list[str] = Field(default_factory=list, description="statement ids")
    rationale: list[str] = Field(..., min_length=1)
    exposure_exempt: bool = Field(False, description="continuing the current regimen is allowed")
    only_at: list[str] = Field(default_factory=list,
                               description="restrict the rule to these of its file's decision points")
    sources: Sources

    @model_validator(mode="after")
    def _category_follows_tier(self) -> OptionRule:
        expected = TIER_CATEGORY.get(self.tier.label)
        if expected is not None and self.category is not expected:
            raise ValueError(f"category {self.category.value!r} does not follow tier {self.tier.label!r} "
                             f"(expected {expected.value!r})")
        if expected is None and self.category is Category.PREFERRED:
            raise ValueError("an option outside the guidelines cannot be 'preferred'")
        return self


DecisionPointName = Literal["first_line", "maintenance", "second_line", "third_line_or_later", "cns_event"]


class DecisionFile(_KB):
    """``kb/decisions/<name>.yaml``: the options considered at one or more decision points."""

    id: str
    decision_points: list[DecisionPointName] = Field(..., min_length=1)
    description: str
    options: list[OptionRule] = Field(..., min_length=1)


class Selector(_KB):
    """Which regimens a gate applies to (any listed criterion matches)."""

    drugs: list[str] = Field(default_factory=list)
    classes: list[DrugClass] = Field(default_factory=list)
    chemotherapy: bool = Field(False, description="regimens containing chemotherapy (taxane, chemo, ADC)")
    chemo_free: bool = Field(False, description="regimens without chemotherapy or ADC")
    endocrine: bool = Field(False, description="regimens containing endocrine therapy")
    any_regimen: bool = False
    new_only: bool = Field(False, description="only drugs the patient is not currently receiving")
    continuing_only: bool = Field(False, description="only drugs the patient is currently receiving")

    @field_validator("drugs")
    @classmethod
    def _drugs(cls, v: list[str]) -> list[str]:
        for d in v:
            if d not in DRUG_CLASSES:
                raise ValueError(f"drug {d!r}: {unknown_drug_rule(d)}")
        return v


class Gate(_KB):
    """A safety gate of domain.md section 5: hard stop, warning, demotion or added component."""

    id: str = Field(..., pattern=r"^[a-z0-9][a-z0-9\-]*$")
    title: str
    kind: Literal["condition", "exposure", "intolerance", "formulary", "restricted", "composition"] = "condition"
    when: ConditionText | None = None
    applies_to: Selector = Field(default_factory=lambda: Selector())
    effect: Literal["exclude", "warn", "demote", "avoid", "add_component"] = Field(
        ..., description="avoid: never ranked first while another option remains")
    message: str
    if_unknown: str | None = Field(None, description="warning when the condition cannot be evaluated")
    overridable: bool = False
    component: ComponentSpec | None = None
    exempt_drugs: list[str] = Field(default_factory=list)
    class_level: list[DrugClass] = Field(default_factory=list, description="exposure by class for these")
    cross_resistant: list[list[str]] = Field(
        default_factory=list, description="exposure: groups of drugs where progression on one excludes the others")
    restricted_drugs: list[str] = Field(default_factory=list)
    needs_classes: list[DrugClass] = Field(default_factory=list,
                                           description="composition: applies_to classes need one of these")
    sources: Sources

    _c = field_validator("when")(classmethod(lambda cls, v: _check_condition(v)))

    @model_validator(mode="after")
    def _complete(self) -> Gate:
        if self.kind == "condition" and self.when is None:
            raise ValueError("a condition gate needs 'when'")
        if self.effect == "add_component" and self.component is None:
            raise ValueError("effect 'add_component' needs 'component'")
        if self.kind == "composition" and not (self.applies_to.classes and self.needs_classes):
            raise ValueError("a composition gate needs applies_to.classes and needs_classes")
        unknown = sorted({d for group in self.cross_resistant for d in group} - set(DRUG_CLASSES))
        if unknown:
            raise ValueError(f"cross_resistant names drugs outside the vocabulary: {unknown}")
        return self


class SafetyFile(_KB):
    gates: list[Gate] = Field(..., min_length=1)


class Note(_KB):
    """A conflict (guideline disagreement / evidence gap) or a missing-data message."""

    id: str
    when: ConditionText
    decision_points: list[str] = Field(default_factory=lambda: list(DECISION_POINTS))
    text: str
    when_offered: list[str] = Field(default_factory=list,
                                    description="regimen ids that must all be offered for the note to apply")
    sources: Sources

    _c = field_validator("when")(classmethod(lambda cls, v: _check_condition(v)))


class MissingDatum(_KB):
    """What an unknown fact could change. Emitted when a rule needed the fact and it was
    unknown, or, with ``when``, whenever ``when`` holds."""

    fact: str
    text: str = Field(..., description="what the unknown could change and what to do")
    when: ConditionText | None = None

    _c = field_validator("when")(classmethod(lambda cls, v: _check_condition(v)))


class NotesFile(_KB):
    conflicts: list[Note] = Field(default_factory=list)
    missing_data: list[MissingDatum] = Field(default_factory=list)


# ----------------------------------------------------------------------------- drug labels
#: What a label says to do when a safety dimension applies to the patient, most restrictive first.
#: contraindicated / withhold_stop exclude a drug whether new or continuing; do_not_start excludes a
#: new start and warns on a continuing drug; dose_adjust and monitor warn; none does nothing.
LabelEffect = Literal["contraindicated", "withhold_stop", "do_not_start", "dose_adjust", "monitor", "none"]
LABEL_EFFECTS: tuple[str, ...] = ("contraindicated", "withhold_stop", "do_not_start", "dose_adjust", "monitor",
                                  "none")
#: The safety dimensions every drug of the vocabulary must fill in (``kb/labels/<drug>.yaml``).
LABEL_DIMENSIONS: tuple[str, ...] = ("pregnancy", "lvef", "ild", "qtc", "hepatic", "neuropathy", "interactions")


class LabelRule(_KB):
    """One thing a drug's label says to do when a safety dimension applies.

    ``when`` narrows or replaces the dimension's default trigger (``kb/labels/dimensions.yaml``)
    with the label's own threshold (e.g. ``qtcf_ms >= 450`` for ribociclib).
    """

    effect: LabelEffect
    when: ConditionText | None = Field(None, description="the label's own trigger; default: the dimension's")
    text: str = Field(..., min_length=3, description="what the label says, in clinical words")
    section: str = Field(..., min_length=1, description="label section(s), e.g. 'Boxed warning; 5.3; 8.1'")
    overridable: bool = Field(False, description="a documented clinician override can lift the stop")
    interacting: list[str] = Field(default_factory=list,
                                   description="interactions only: the interacting categories the label names")
    sources: Sources

    _c = field_validator("when")(classmethod(lambda cls, v: _check_condition(v)))


class DrugLabel(_KB):
    """``kb/labels/<drug>.yaml``: the label's effect for every safety dimension of one drug."""

    drug: str
    label: str = Field(..., description="the label document, e.g. 'HERCEPTIN (trastuzumab) US PI, rev. 2024-11'")
    approved: bool = Field(True, description="false for investigational drugs without an approved label")
    dimensions: dict[str, list[LabelRule]]
    notes: str = ""
    sources: Sources

    @model_validator(mode="after")
    def _complete(self) -> DrugLabel:
        if self.drug not in DRUG_CLASSES:
            raise ValueError(f"drug {self.drug!r}: {unknown_drug_rule(self.drug)}")
        missing = [d for d in LABEL_DIMENSIONS if d not in self.dimensions or not self.dimensions[d]]
        if missing:
            raise ValueError(f"drug {self.drug!r} does not fill in the safety dimension(s) {missing}")
        extra = [d for d in self.dimensions if d not in LABEL_DIMENSIONS]
        if extra:
            raise ValueError(f"unknown safety dimension(s) {extra}; known: {list(LABEL_DIMENSIONS)}")
        for dim, rules in self.dimensions.items():
            if any(r.interacting for r in rules) and dim != "interactions":
                raise ValueError(f"{dim}: 'interacting' belongs to the interactions dimension only")
        return self


class LabelDimension(_KB):
    """A safety dimension: the patient condition that makes the labels' rules apply."""

    id: str
    title: str
    when: ConditionText = Field(..., description="default trigger over derived facts")
    if_unknown: str | None = Field(None, description="warning on restrictive rules when the trigger is unknown")
    unknown_when: ConditionText | None = Field(
        None, description="the warning is given only while this holds (the dimension's key datum is missing)")
    unknown_warns: Literal["restrictive", "any"] = Field(
        "restrictive", description="which rules the unknown warning is given for: those that stop a drug, or any "
                                   "rule the label has in this dimension (e.g. every drug that names QT)")
    sources: Sources

    _c = field_validator("when", "unknown_when")(classmethod(lambda cls, v: _check_condition(v)))


class LabelDimensionsFile(_KB):
    """``kb/labels/dimensions.yaml``."""

    dimensions: list[LabelDimension]
    interaction_categories: dict[str, str] = Field(default_factory=dict,
                                                   description="category id -> what it means")
