"""Safety invariants of a recommendation, re-checked from the raw patient and its derived facts.

None of these checks reads what the engine's gates decided: they look at the options the
engine returned and the facts, so a gate that silently stopped firing is caught here.
"""

from __future__ import annotations

from typing import Any

from mbcpath.domain.drugs import DRUG_CLASSES
from mbcpath.domain.recommendation import Option, Recommendation
from mbcpath.facts.derive import derive_facts

ANTI_HER2_AB_ADC = {"anti_her2_antibody", "her2_adc"}
ENDOCRINE = {"aromatase_inhibitor", "serd", "serm"}
CHEMO = {"taxane", "chemotherapy", "her2_adc"}


def her2_positive(raw: dict[str, Any]) -> bool:
    """ASCO/CAP: IHC 3+ or ISH amplified, recomputed from the raw input."""
    h = raw["her2"]
    return h.get("ihc") == "3+" or h.get("ish") == "amplified"


def progressed_on(raw: dict[str, Any]) -> set[str]:
    """Drugs the disease progressed on: metastatic treatments stopped for progression, every drug of a
    numbered metastatic line given before that line's progression (progression ends the line, completed
    induction included), and (neo)adjuvant drugs finished <= 6 months before the metastatic diagnosis
    (domain.md 4.3)."""
    out: set[str] = set()
    dx = raw.get("metastatic_diagnosis_months_ago")
    met = [t for t in raw.get("treatments", []) if t["setting"] == "metastatic"]
    lines: dict[int, list[dict[str, Any]]] = {}
    current = 1
    for t in sorted(met, key=lambda t: -t["started_months_ago"]):  # a missing line follows progression
        line = t.get("line") or current
        lines.setdefault(line, []).append(t)
        current = line + 1 if t.get("stop_reason") == "progression" else line
    for members in lines.values():
        ends = [t["ended_months_ago"] for t in members if t.get("stop_reason") == "progression"]
        if ends:
            out.update(d for t in members if t["started_months_ago"] >= max(ends) for d in t["drugs"])
    for t in raw.get("treatments", []):
        if t["setting"] == "metastatic":
            if t.get("stop_reason") == "progression":
                out.update(t["drugs"])
        elif dx is not None:
            ended = t.get("ended_months_ago") or 0.0
            if ended - dx <= 6:
                out.update(t["drugs"])
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


def check(raw: dict[str, Any], patient: Any, rec: Recommendation, kb: Any) -> list[str]:
    """Every violated invariant, as readable lines (empty: the recommendation is safe)."""
    bad: list[str] = []
    facts = derive_facts(patient).values
    opts = rec.options
    names = [o.name for o in opts]

    # scope
    if not her2_positive(raw):
        if not rec.out_of_scope or opts or rec.excluded:
            bad.append(f"HER2 not positive ({raw['her2']}) but in scope / with options {names}")
        return bad
    if rec.out_of_scope is not None:
        bad.append(f"HER2-positive ({raw['her2']}) but out of scope: {rec.out_of_scope}")

    # structure
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
    exempt = {o.id for d in kb.decisions.values() for o in d.options if o.exposure_exempt}
    for o in opts:
        if not o.evidence or any(e.trial not in kb.trials for e in o.evidence):
            bad.append(f"{o.name}: cites no trial of the KB ({[e.trial for e in o.evidence]})")
        if dp not in rule_dp.get(o.rule_id, set()):
            bad.append(f"{o.name}: rule {o.rule_id!r} does not belong to decision point {dp}")

    current = facts["current_drugs"]
    progressed = progressed_on(raw)
    if progressed != set(facts["progressed_on"]):
        bad.append(f"progressed_on derived as {sorted(facts['progressed_on'])}, expected {sorted(progressed)}")
    prog_endocrine_classes = {DRUG_CLASSES[d].value for d in progressed} & ENDOCRINE
    overrides = {g["gate"] for g in raw.get("gate_overrides", [])}
    lvef = raw.get("lvef_percent")
    unavailable = set(raw.get("unavailable_drugs", []))
    female = raw["sex"] == "female"
    meno = raw.get("menopausal_status", "unknown")

    for o in opts:
        drugs, classes = drugs_of(o), classes_of(o)
        warn = " ".join(o.warnings).lower()
        tag = f"{o.name} [{o.rule_id}]"
        if raw.get("ild_history") in ("grade2_or_higher", "active") and "trastuzumab deruxtecan" in drugs:
            bad.append(f"{tag}: T-DXd with ILD history {raw['ild_history']}")
        if raw.get("qtcf_ms") is not None and raw["qtcf_ms"] >= 450 and "ribociclib" in drugs:
            bad.append(f"{tag}: ribociclib with QTcF {raw['qtcf_ms']}")
        new_her2 = {d for c in o.components if c.drug_class.value in ANTI_HER2_AB_ADC
                    for d in ([c.drug] if c.drug else list(c.choices or ())) if d not in current}
        cont_her2 = {d for c in o.components if c.drug_class.value in ANTI_HER2_AB_ADC
                     for d in ([c.drug] if c.drug else list(c.choices or ())) if d in current}
        if new_her2 and lvef is not None and lvef < 50:
            if "lvef-below-50-start" not in overrides:
                bad.append(f"{tag}: starts {sorted(new_her2)} with LVEF {lvef} and no override")
            elif "overridden" not in warn:
                bad.append(f"{tag}: LVEF {lvef} override used without a warning naming it")
        if new_her2 and lvef is None and "lvef" not in warn:
            bad.append(f"{tag}: starts {sorted(new_her2)} with LVEF unknown and no LVEF warning")
        if cont_her2 and lvef is not None and lvef < 40 and "lvef-below-40-during" not in overrides:
            bad.append(f"{tag}: continues {sorted(cont_her2)} with LVEF {lvef} < 40")
        if new_her2 and raw.get("heart_failure") is True and "heart-failure-start" not in overrides:
            bad.append(f"{tag}: starts {sorted(new_her2)} with symptomatic heart failure")
        grade = raw.get("neuropathy_grade")
        if grade is not None and grade >= 3 and "taxane" in classes:
            bad.append(f"{tag}: taxane with neuropathy grade {grade}")
        if grade == 2 and "taxane" in classes and ((o.rank == 1 and len(opts) > 1) or "neuropathy" not in warn):
            bad.append(f"{tag}: taxane with neuropathy grade 2 ranked first or without a neuropathy warning")
        if raw.get("pregnant") is True and classes & ANTI_HER2_AB_ADC:
            bad.append(f"{tag}: HER2-directed antibody/ADC in pregnancy")
        if raw.get("pregnant") is True and classes & {"aromatase_inhibitor", "serm"}:
            bad.append(f"{tag}: aromatase inhibitor / tamoxifen in pregnancy")
        if o.rule_id not in exempt:
            for c in o.components:
                if c.drug_class.value in ("ofs", "local_therapy"):
                    continue
                again = ({c.drug} if c.drug else set(c.choices or ())) & progressed - {"trastuzumab"}
                if again:
                    bad.append(f"{tag}: re-offers {sorted(again)} after progression on it")
                if c.drug_class.value in prog_endocrine_classes:
                    bad.append(f"{tag}: re-offers the {c.drug_class.value} class after progression on it")
        if "cdk46_inhibitor" in classes and not classes & ENDOCRINE:
            bad.append(f"{tag}: CDK4/6 inhibitor without endocrine therapy")
        if female and meno in ("premenopausal", "perimenopausal") and classes & {"aromatase_inhibitor", "serd"} \
                and "ofs" not in classes:
            bad.append(f"{tag}: {meno} woman on an AI/fulvestrant without ovarian function suppression")
        if female and meno == "unknown" and classes & {"aromatase_inhibitor", "serd"} and "ofs" not in classes \
                and "menopausal" not in warn:
            bad.append(f"{tag}: AI/fulvestrant with unknown menopausal status and no warning")
        if not female and "aromatase_inhibitor" in classes and "ofs" not in classes:
            bad.append(f"{tag}: man on an aromatase inhibitor without a GnRH agonist")
        if drugs & unavailable:
            bad.append(f"{tag}: contains unavailable {sorted(drugs & unavailable)}")
        if "pyrotinib" in drugs and "pyrotinib" not in raw.get("available_drugs", []):
            bad.append(f"{tag}: pyrotinib without it being listed available")
        if o.category.value == "preferred":
            if raw.get("visceral_crisis") is True and not classes & CHEMO and classes != {"local_therapy"}:
                bad.append(f"{tag}: chemotherapy-free option preferred in visceral crisis")
            if (facts["er_low"] or facts["er_negative_pr_positive"]) and classes & ENDOCRINE:
                bad.append(f"{tag}: endocrine option preferred in ER-low / ER-negative-PR-positive disease")
    if lvef is None and any(
        any(c.drug_class.value in ANTI_HER2_AB_ADC and (c.drug or "") not in current for c in o.components)
        for o in opts
    ) and not any("lvef" in m.lower() for m in rec.missing_data):
        bad.append("LVEF unknown before an anti-HER2 start but missing_data does not mention LVEF")
    return bad
