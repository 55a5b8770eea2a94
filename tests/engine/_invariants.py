"""Safety invariants of a recommendation, re-checked from the raw patient and its derived facts.

None of these checks reads what the engine's gates decided: they look at the options the
engine returned and the facts, so a gate that silently stopped firing is caught here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mbcpath.domain.drugs import DRUG_CLASSES
from mbcpath.domain.recommendation import Option, Recommendation
from mbcpath.facts.derive import derive_facts

ANTI_HER2_AB_ADC = {"anti_her2_antibody", "her2_adc"}
ENDOCRINE = {"aromatase_inhibitor", "serd", "serm"}
#: progression on one excludes the class (SERDs, SERMs) or the group (the non-steroidal AIs: exemestane is active
#: after letrozole or anastrozole fails, Oncology 2005;69:471-7)
CLASS_LEVEL_ENDOCRINE = {"serd", "serm"}
NON_STEROIDAL_AIS = {"letrozole", "anastrozole"}
CHEMO = {"taxane", "chemotherapy", "her2_adc"}


def her2_positive(raw: dict[str, Any]) -> bool:
    """ASCO/CAP: IHC 3+ or ISH amplified, recomputed from the raw input."""
    h = raw["her2"]
    return h.get("ihc") == "3+" or h.get("ish") == "amplified"


def progressed_on(raw: dict[str, Any]) -> set[str]:
    """Drugs the disease progressed on: metastatic treatments stopped for progression, every drug of a
    numbered metastatic line given before that line's progression (progression ends the line, completed
    induction included; a treatment stopped earlier for toxicity or by choice did not fail), the latest line when
    it ended with no stop reason (the reading that never re-offers a drug that may have failed; an induction ends
    by completing), and (neo)adjuvant drugs finished <= 6 months before the metastatic diagnosis (domain.md 4.3)."""
    out: set[str] = set()
    dx = raw.get("metastatic_diagnosis_months_ago")
    met = [t for t in raw.get("treatments", []) if t["setting"] == "metastatic"]
    lines: dict[int, list[dict[str, Any]]] = {}
    current = 1
    for t in sorted(met, key=lambda t: -t["started_months_ago"]):  # a missing line follows progression
        line = t.get("line") or current
        lines.setdefault(line, []).append(t)
        current = line + 1 if t.get("stop_reason") == "progression" else line
    out |= _line_failures(lines)
    for t in raw.get("treatments", []):
        if t["setting"] == "metastatic":
            if t.get("stop_reason") == "progression":
                out.update(t["drugs"])
        elif dx is not None:
            ended = t.get("ended_months_ago") or 0.0
            if ended - dx <= 6:
                out.update(t["drugs"])
    return out


def _line_failures(lines: dict[int, list[dict[str, Any]]]) -> set[str]:
    out: set[str] = set()
    for members in lines.values():
        ends = [t["ended_months_ago"] for t in members if t.get("stop_reason") == "progression"]
        if ends:
            out.update(d for t in members if t["started_months_ago"] >= max(ends)
                       and t.get("stop_reason") not in ("toxicity", "patient_choice") for d in t["drugs"])
    latest = lines[max(lines)] if lines else []
    if latest and all(t.get("ended_months_ago") is not None for t in latest):
        last = min(latest, key=lambda t: t["ended_months_ago"])
        if last.get("stop_reason") is None and last.get("phase") != "induction":
            out.update(d for t in latest for d in t["drugs"])
    return out


def drugs_of(o: Option) -> set[str]:
    """Every INN an option contains (fixed drugs and choices)."""
    out: set[str] = set()
    for c in o.components:
        if c.drug:
            out.add(c.drug)
        out.update(c.choices or ())
    return out


def classes_of(o: Option) -> set[str]:
    return {c.drug_class.value for c in o.components}


@dataclass(frozen=True)
class _Chart:
    """What the invariants read of one patient: the raw input, its derived facts, and the KB's exempt rules."""

    raw: dict[str, Any]
    facts: dict[str, Any]
    exempt: set[str]
    n_options: int
    current: Any
    progressed: set[str]
    prog_endocrine_classes: set[str]
    overrides: set[str]
    lvef: Any
    unavailable: set[str]
    female: bool
    meno: Any

    @classmethod
    def of(cls, raw: dict[str, Any], facts: dict[str, Any], kb: Any, n_options: int) -> _Chart:
        exempt = {o.id for d in kb.decisions.values() for o in d.options if o.exposure_exempt}
        current = facts["current_drugs"]
        progressed = progressed_on(raw)
        return cls(raw, facts, exempt, n_options, current, progressed,
                   prog_endocrine_classes={DRUG_CLASSES[d].value for d in progressed} & ENDOCRINE,
                   overrides={g["gate"] for g in raw.get("gate_overrides", [])},
                   lvef=raw.get("lvef_percent"),
                   unavailable=set(raw.get("unavailable_drugs", [])),
                   female=raw["sex"] == "female",
                   meno=raw.get("menopausal_status", "unknown"))


@dataclass(frozen=True)
class _Offer:
    """One offered option as the checks read it: its drugs, classes, warnings (lower case) and a tag."""

    option: Option
    drugs: set[str]
    classes: set[str]
    warn: str
    tag: str

    @classmethod
    def of(cls, o: Option) -> _Offer:
        return cls(o, drugs_of(o), classes_of(o), " ".join(o.warnings).lower(), f"{o.name} [{o.rule_id}]")

    def her2_drugs(self, current: Any, *, continuing: bool) -> set[str]:
        """The anti-HER2 antibody / ADC drugs this option continues (``continuing``) or starts."""
        return {d for c in self.option.components if c.drug_class.value in ANTI_HER2_AB_ADC
                for d in ([c.drug] if c.drug else list(c.choices or ())) if (d in current) is continuing}


def check(raw: dict[str, Any], patient: Any, rec: Recommendation, kb: Any) -> list[str]:
    """Every violated invariant, as readable lines (empty: the recommendation is safe)."""
    facts = derive_facts(patient).values
    if not her2_positive(raw):
        return _out_of_scope_problems(raw, rec)
    bad: list[str] = []
    if rec.out_of_scope is not None:
        bad.append(f"HER2-positive ({raw['her2']}) but out of scope: {rec.out_of_scope}")
    bad += _structure_problems(rec, kb)
    chart = _Chart.of(raw, facts, kb, len(rec.options))
    if chart.progressed != set(facts["progressed_on"]):
        bad.append(f"progressed_on derived as {sorted(facts['progressed_on'])}, expected {sorted(chart.progressed)}")
    for o in rec.options:
        offer = _Offer.of(o)
        bad += [line for option_check in _OPTION_CHECKS for line in option_check(chart, offer)]
    bad += _lvef_missing_problems(chart, rec)
    return bad


def _out_of_scope_problems(raw: dict[str, Any], rec: Recommendation) -> list[str]:
    """HER2 not positive: out of scope, with nothing offered or excluded."""
    if not rec.out_of_scope or rec.options or rec.excluded:
        return [f"HER2 not positive ({raw['her2']}) but in scope / with options {[o.name for o in rec.options]}"]
    return []


def _structure_problems(rec: Recommendation, kb: Any) -> list[str]:
    """Ranks 1..n, no regimen offered twice or both offered and excluded, each option citing KB trials and
    coming from a rule of the decision point."""
    opts = rec.options
    bad: list[str] = []
    if [o.rank for o in opts] != list(range(1, len(opts) + 1)):
        bad.append(f"ranks are {[o.rank for o in opts]}, not 1..{len(opts)}")
    ids = [o.regimen_id for o in opts]
    if len(set(ids)) != len(ids):
        bad.append(f"a regimen is offered twice: {ids}")
    both = set(ids) & {e.regimen_id for e in rec.excluded}
    if both:
        bad.append(f"offered and excluded at once: {sorted(both)}")
    dp = rec.decision_point.value if rec.decision_point else None
    rule_dp = {o.id: set(d.decision_points) for d in kb.decisions.values() for o in d.options}
    for o in opts:
        if not o.evidence or any(e.trial not in kb.trials for e in o.evidence):
            bad.append(f"{o.name}: cites no trial of the KB ({[e.trial for e in o.evidence]})")
        if dp not in rule_dp.get(o.rule_id, set()):
            bad.append(f"{o.name}: rule {o.rule_id!r} does not belong to decision point {dp}")
    return bad


def _pneumonitis_and_qt(chart: _Chart, x: _Offer) -> list[str]:
    """No T-DXd after grade >= 2 or active ILD; no ribociclib with QTcF >= 450 ms."""
    raw, bad = chart.raw, []
    if raw.get("ild_history") in ("grade2_or_higher", "active") and "trastuzumab deruxtecan" in x.drugs:
        bad.append(f"{x.tag}: T-DXd with ILD history {raw['ild_history']}")
    if raw.get("qtcf_ms") is not None and raw["qtcf_ms"] >= 450 and "ribociclib" in x.drugs:
        bad.append(f"{x.tag}: ribociclib with QTcF {raw['qtcf_ms']}")
    return bad


def _cardiac(chart: _Chart, x: _Offer) -> list[str]:
    """Anti-HER2 starts need LVEF >= 50 (or a named override) and a known LVEF (or a warning); continuing
    needs LVEF >= 40; no start in symptomatic heart failure."""
    new_her2 = x.her2_drugs(chart.current, continuing=False)
    cont_her2 = x.her2_drugs(chart.current, continuing=True)
    lvef, overrides, bad = chart.lvef, chart.overrides, []
    if new_her2 and lvef is not None and lvef < 50:
        if "lvef-below-50-start" not in overrides:
            bad.append(f"{x.tag}: starts {sorted(new_her2)} with LVEF {lvef} and no override")
        elif "overridden" not in x.warn:
            bad.append(f"{x.tag}: LVEF {lvef} override used without a warning naming it")
    if new_her2 and lvef is None and "lvef" not in x.warn:
        bad.append(f"{x.tag}: starts {sorted(new_her2)} with LVEF unknown and no LVEF warning")
    if cont_her2 and lvef is not None and lvef < 40 and "lvef-below-40-during" not in overrides:
        bad.append(f"{x.tag}: continues {sorted(cont_her2)} with LVEF {lvef} < 40")
    if new_her2 and chart.raw.get("heart_failure") is True and "heart-failure-start" not in overrides:
        bad.append(f"{x.tag}: starts {sorted(new_her2)} with symptomatic heart failure")
    return bad


def _neuropathy(chart: _Chart, x: _Offer) -> list[str]:
    """No taxane with grade >= 3 neuropathy; with grade 2, not ranked first (among several) and warned."""
    grade, bad = chart.raw.get("neuropathy_grade"), []
    if grade is not None and grade >= 3 and "taxane" in x.classes:
        bad.append(f"{x.tag}: taxane with neuropathy grade {grade}")
    if grade == 2 and "taxane" in x.classes and ((x.option.rank == 1 and chart.n_options > 1)
                                                 or "neuropathy" not in x.warn):
        bad.append(f"{x.tag}: taxane with neuropathy grade 2 ranked first or without a neuropathy warning")
    return bad


def _pregnancy(chart: _Chart, x: _Offer) -> list[str]:
    """No HER2-directed antibody / ADC, aromatase inhibitor or tamoxifen in pregnancy."""
    if chart.raw.get("pregnant") is not True:
        return []
    bad = []
    if x.classes & ANTI_HER2_AB_ADC:
        bad.append(f"{x.tag}: HER2-directed antibody/ADC in pregnancy")
    if x.classes & {"aromatase_inhibitor", "serm"}:
        bad.append(f"{x.tag}: aromatase inhibitor / tamoxifen in pregnancy")
    return bad


def _progression(chart: _Chart, x: _Offer) -> list[str]:
    """No drug (trastuzumab aside) or endocrine class the disease progressed on, unless the rule is exempt."""
    if x.option.rule_id in chart.exempt:
        return []
    bad = []
    failed = set(chart.progressed)
    if failed & NON_STEROIDAL_AIS:  # cross-resistant with each other; exemestane (steroidal) is not
        failed |= NON_STEROIDAL_AIS
    for c in x.option.components:
        if c.drug_class.value in ("ofs", "local_therapy"):
            continue
        again = ({c.drug} if c.drug else set(c.choices or ())) & failed - {"trastuzumab"}
        if again:
            bad.append(f"{x.tag}: re-offers {sorted(again)} after progression on it (or a cross-resistant drug)")
        if c.drug_class.value in chart.prog_endocrine_classes & CLASS_LEVEL_ENDOCRINE:
            bad.append(f"{x.tag}: re-offers the {c.drug_class.value} class after progression on it")
    return bad


def _endocrine_partners(chart: _Chart, x: _Offer) -> list[str]:
    """CDK4/6 with endocrine therapy; AI / fulvestrant with OFS before menopause (or a warning when the
    status is unknown); a man's aromatase inhibitor with a GnRH agonist."""
    classes, meno, bad = x.classes, chart.meno, []
    if "cdk46_inhibitor" in classes and not classes & ENDOCRINE:
        bad.append(f"{x.tag}: CDK4/6 inhibitor without endocrine therapy")
    ai_or_serd_alone = bool(classes & {"aromatase_inhibitor", "serd"}) and "ofs" not in classes
    if chart.female and meno in ("premenopausal", "perimenopausal") and ai_or_serd_alone:
        bad.append(f"{x.tag}: {meno} woman on an AI/fulvestrant without ovarian function suppression")
    if chart.female and meno == "unknown" and ai_or_serd_alone and "menopausal" not in x.warn:
        bad.append(f"{x.tag}: AI/fulvestrant with unknown menopausal status and no warning")
    if not chart.female and "aromatase_inhibitor" in classes and "ofs" not in classes:
        bad.append(f"{x.tag}: man on an aromatase inhibitor without a GnRH agonist")
    return bad


def _availability(chart: _Chart, x: _Offer) -> list[str]:
    """Nothing unavailable; pyrotinib only where it is listed available."""
    bad = []
    if x.drugs & chart.unavailable:
        bad.append(f"{x.tag}: contains unavailable {sorted(x.drugs & chart.unavailable)}")
    if "pyrotinib" in x.drugs and "pyrotinib" not in chart.raw.get("available_drugs", []):
        bad.append(f"{x.tag}: pyrotinib without it being listed available")
    return bad


def _preferred(chart: _Chart, x: _Offer) -> list[str]:
    """A preferred option holds chemotherapy in visceral crisis, and no endocrine therapy in ER-low /
    ER-negative-PR-positive disease."""
    if x.option.category.value != "preferred":
        return []
    classes, facts, bad = x.classes, chart.facts, []
    if chart.raw.get("visceral_crisis") is True and not classes & CHEMO and classes != {"local_therapy"}:
        bad.append(f"{x.tag}: chemotherapy-free option preferred in visceral crisis")
    if (facts["er_low"] or facts["er_negative_pr_positive"]) and classes & ENDOCRINE:
        bad.append(f"{x.tag}: endocrine option preferred in ER-low / ER-negative-PR-positive disease")
    return bad


#: the per-option invariants, in the order their lines are listed
_OPTION_CHECKS = (_pneumonitis_and_qt, _cardiac, _neuropathy, _pregnancy, _progression, _endocrine_partners,
                  _availability, _preferred)


def _lvef_missing_problems(chart: _Chart, rec: Recommendation) -> list[str]:
    """An anti-HER2 start with LVEF unknown lists LVEF under missing data."""
    if chart.lvef is None and any(
        any(c.drug_class.value in ANTI_HER2_AB_ADC and (c.drug or "") not in chart.current for c in o.components)
        for o in rec.options
    ) and not any("lvef" in m.lower() for m in rec.missing_data):
        return ["LVEF unknown before an anti-HER2 start but missing_data does not mention LVEF"]
    return []
