"""Metamorphic relations: change ONE thing about a patient and check that the answer moves as the clinic requires.

Each relation takes a *case* (a generated patient, validated, with its recommendation and derived facts)
and a seeded ``random.Random``, builds the follow-up patient, runs the engine on it and returns an
:class:`Outcome`: the tags of what it exercised (empty: the relation did not apply, or applied vacuously)
and the violations found. The relations never read how the engine reached its answer: they read the
answer (options, components, warnings, excluded, conflicts), the patient, its derived facts and the KB's
drug-label table (through :mod:`._label_oracle`).

References
----------
Chen TY et al. Metamorphic testing: a review of challenges and opportunities. ACM Comput Surv
    2018;51(1):4 (follow-up inputs built from a source input by one change, checked by a relation).
Giordano SH et al. Systemic therapy for advanced HER2-positive breast cancer: ASCO guideline update.
    J Clin Oncol 2022;40:2612-35 (lines, continuing trastuzumab beyond progression, OFS with endocrine
    therapy in premenopausal women).
Ramakrishna N et al. Management of advanced HER2-positive breast cancer and brain metastases: ASCO
    guideline update. J Clin Oncol 2022;40:2636-55 (rec. 7.1 HER2CLIMB regimen; 8.2 T-DXd; 9.1 regimens
    with CNS activity).
Hassett MJ et al. Management of male breast cancer: ASCO guideline. J Clin Oncol 2020;38:1849-63
    (rec. 4.1: an aromatase inhibitor with a GnRH agent; tamoxifen or fulvestrant without one).
kb/labels/README.md (the label table and its effect semantics).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mbcpath import parse_patient, recommend
from mbcpath.domain.drug_names import SYNONYMS
from mbcpath.domain.drugs import DRUG_CLASSES
from mbcpath.domain.recommendation import Option, Recommendation
from mbcpath.errors import InputError
from mbcpath.facts.derive import derive_facts
from mbcpath.kb.models import LABEL_DIMENSIONS

from . import _label_oracle as oracle

ENDOCRINE = frozenset({"aromatase_inhibitor", "serd", "serm"})
CHEMOTHERAPY = frozenset({"taxane", "chemotherapy", "her2_adc"})
OFS_DRUGS = frozenset({"goserelin", "leuprorelin", "triptorelin"})
#: HER2-directed drugs with intracranial activity in trials the ASCO 2022 brain-metastases guideline cites
#: (rec. 7.1, 8.2, 9.1): tucatinib (HER2CLIMB), T-DXd (DESTINY-Breast12, TUXEDO-1), T-DM1 (KAMILLA),
#: neratinib (NALA, TBCRC 022), lapatinib (LANDSCAPE), pyrotinib (PERMEATE).
CNS_ACTIVE = frozenset({"tucatinib", "trastuzumab deruxtecan", "trastuzumab emtansine", "neratinib", "lapatinib",
                        "pyrotinib"})
LATER_LINES = frozenset({"second_line", "third_line_or_later"})


@dataclass
class Case:
    """One patient: raw input, the validated patient, its derived facts and the engine's answer."""

    raw: dict[str, Any]
    rec: Recommendation
    facts: dict[str, Any]

    @property
    def in_scope(self) -> bool:
        return self.rec.out_of_scope is None

    @property
    def decision_point(self) -> str:
        return self.rec.decision_point.value if self.rec.decision_point else ""


@dataclass
class Outcome:
    """What a relation exercised (tags) and what it found wrong (violations)."""

    tags: set[str] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)


def run_case(raw: dict[str, Any], kb: Any) -> Case:
    """Validate ``raw``, derive its facts and run the engine."""
    p = parse_patient(raw)
    return Case(raw, recommend(p, kb), derive_facts(p).values)


def follow(raw: dict[str, Any], kb: Any, out: Outcome) -> Case | None:
    """Run the follow-up patient; a refused follow-up is a violation (the change kept the input valid)."""
    try:
        return run_case(raw, kb)
    except InputError as err:
        out.violations.append(f"follow-up input refused: {err}")
        return None


def changed(raw: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A deep copy of ``raw`` with ``fields`` set (a value of ``...`` removes the field)."""
    out = copy.deepcopy(raw)
    for k, v in fields.items():
        if v is ...:
            out.pop(k, None)
        else:
            out[k] = copy.deepcopy(v)
    return out


# ----------------------------------------------------------------------------- reading options
def classes_of(o: Option) -> set[str]:
    return {c.drug_class.value for c in o.components}


def chemotherapy_free(o: Option) -> bool:
    """No cytotoxic drug and no ADC, and at least one systemic component (local therapy alone is not)."""
    classes = classes_of(o)
    return not classes & CHEMOTHERAPY and bool(classes - {"local_therapy"})


def has_ofs(o: Option) -> bool:
    return any(c.drug_class.value == "ofs" and (c.drug or c.choices) for c in o.components)


def cns_active(o: Option) -> bool:
    return bool(oracle.drugs_of(o) & CNS_ACTIVE) or "local_therapy" in classes_of(o)


def show(o: Option) -> str:
    return f"rank {o.rank} {o.name} [{', '.join(c.label() for c in o.components)}]"


# ----------------------------------------------------------------------------- 1. formulary
def unavailable_drug(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """A drug made unavailable disappears from every option; each regimen that held it fixed says why."""
    out = Outcome()
    offered = sorted(oracle.offered_drugs(case.rec))
    if not case.in_scope or not offered:
        return out
    drug = rng.choice(offered)
    new = follow(changed(case.raw, unavailable_drugs=[*case.raw.get("unavailable_drugs", []), drug]), kb, out)
    if new is None:
        return out
    out.tags.add("unavailable_drug")
    out.violations += [f"{drug} unavailable but offered: {show(o)}" for o in new.rec.options
                       if drug in oracle.drugs_of(o)]
    fixed = {o.regimen_id for o in case.rec.options if any(c.drug == drug for c in o.components)}
    said = {e.regimen_id for e in new.rec.excluded if e.kind == "availability"}
    for rid in sorted(fixed - said - {o.regimen_id for o in new.rec.options}):
        listed = [(e.kind, e.reasons[:1]) for e in new.rec.excluded if e.regimen_id == rid]
        out.violations.append(f"{rid} held {drug}: no longer offered, but excluded is not kind 'availability' "
                              f"(excluded says {listed or 'nothing'})")
    return out


# ----------------------------------------------------------------------------- 2. stated decision point
_STATED = {"first_line": "first_line", "maintenance": "maintenance", "second_line": "next_line",
           "third_line_or_later": "next_line", "cns_event": "cns_event"}


def _without_stated(rec: Recommendation) -> str:
    return rec.model_copy(update={"decision_point_stated": None}).to_json()


def stated_decision_point(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """Stating the decision point the history gives changes nothing but ``decision_point_stated``."""
    out = Outcome()
    raw = changed(case.raw, decision_point=...)
    base = case if "decision_point" not in case.raw else follow(raw, kb, out)
    if base is None:
        return out
    if "options of that line are shown" in base.rec.decision_point_basis:
        return out  # the same line, not yet a next one: no stated point names it ('next line' would contradict it)
    stated = _STATED[base.decision_point]
    new = follow(changed(raw, decision_point=stated), kb, out)
    if new is None:
        return out
    out.tags.add(f"stated_decision_point:{base.decision_point}")
    if new.rec.decision_point_stated != stated:
        out.violations.append(f"decision_point_stated is {new.rec.decision_point_stated!r}, not {stated!r}")
    if _without_stated(new.rec) != _without_stated(base.rec):
        out.violations.append(f"stating the derived decision point {stated!r} changed the answer: "
                              f"{_first_difference(base.rec, new.rec)}")
    return out


def _first_difference(a: Recommendation, b: Recommendation) -> str:
    da, db = a.model_dump(mode="json", by_alias=True), b.model_dump(mode="json", by_alias=True)
    for k in da:
        if k != "decision_point_stated" and da[k] != db.get(k):
            return f"{k}: {str(da[k])[:200]} -> {str(db.get(k))[:200]}"
    return "(no field differs)"


# ----------------------------------------------------------------------------- 3. declining chemotherapy
def avoid_chemotherapy(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """Outside visceral crisis, declining chemotherapy puts a chemotherapy-free option first whenever one is offered."""
    out = Outcome()
    if not case.in_scope or case.raw.get("visceral_crisis") is not False or _declines(case.raw):
        return out
    new = follow(changed(case.raw, preferences={"avoid_chemotherapy": True}), kb, out)
    if new is None or not new.rec.options:
        return out
    opts = new.rec.options
    out.violations += [f"chemotherapy_free={o.chemotherapy_free} but components say {chemotherapy_free(o)}: {show(o)}"
                       for o in opts if o.chemotherapy_free != chemotherapy_free(o)]
    free = [o for o in opts if chemotherapy_free(o)]
    if free and len(free) < len(opts):
        out.tags.add("avoid_chemotherapy")
        if not chemotherapy_free(opts[0]):
            out.violations.append(f"declines chemotherapy, a chemotherapy-free option is offered ({show(free[0])}) "
                                  f"but rank 1 is {show(opts[0])}")
    return out


def _declines(raw: dict[str, Any]) -> bool:
    return bool((raw.get("preferences") or {}).get("avoid_chemotherapy"))


def avoid_chemotherapy_in_crisis(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """In visceral crisis, declining chemotherapy is shown as a conflict (preference against need)."""
    out = Outcome()
    if not case.in_scope or case.raw.get("visceral_crisis") is not True or _declines(case.raw):
        return out
    new = follow(changed(case.raw, preferences={"avoid_chemotherapy": True}), kb, out)
    if new is None:
        return out
    out.tags.add("avoid_chemotherapy_in_crisis")
    added = [c for c in new.rec.conflicts if c not in case.rec.conflicts and "chemotherapy" in c.lower()]
    if not added:
        out.violations.append("visceral crisis and chemotherapy declined, but no new conflict about chemotherapy "
                              f"(conflicts: {[c[:80] for c in new.rec.conflicts]})")
    return out


# ----------------------------------------------------------------------------- 4-7. label dimensions
def label_relation(kb: Any, dimension: str, name: str, case: Case, new: Case | None, out: Outcome,
                   words: str | None = None, extra: Iterable[str] = ()) -> None:
    """Check the follow-up answer against the label table for ``dimension``; tag when it mattered.

    The relation is exercised when the table requires something (exclusion or warning) for a drug the
    source answer offered; ``extra`` drugs offered in the source answer are tagged ``name:drug`` too.
    """
    if new is None or not new.in_scope:
        return
    overrides = bool(new.raw.get("gate_overrides"))
    before = oracle.offered_drugs(case.rec)
    for drug in sorted(before | oracle.offered_drugs(new.rec)):
        exp = oracle.expectation(kb, new.facts, drug, [dimension], overrides)
        if exp.action != oracle.NOTHING and drug in before:
            out.tags.add(name)
            if drug in extra:
                out.tags.add(f"{name}:{drug}")
        out.violations += oracle.violations(new.rec, exp, words)


def pregnancy(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """Pregnancy (trimester 1, 2, 3 or unknown) removes every drug the pregnancy rules exclude, warns on the rest."""
    out = Outcome()
    raw = case.raw
    may_be = raw["sex"] == "female" and raw.get("menopausal_status") in ("premenopausal", "perimenopausal", "unknown")
    if not case.in_scope or not may_be or raw.get("pregnant") is True:
        return out
    trimester = rng.choice([None, 1, 2, 3])
    new = follow(changed(raw, pregnant=True, pregnancy_trimester=... if trimester is None else trimester), kb, out)
    label_relation(kb, "pregnancy", "pregnancy", case, new, out, extra=["tucatinib", "capecitabine"])
    if out.tags:
        out.tags.add(f"pregnancy:trimester_{trimester or 'unknown'}")
    return out


def active_ild(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """Active ILD removes T-DXd; every other drug whose label names ILD/pneumonitis is removed or warned about."""
    out = Outcome()
    if not case.in_scope or case.raw.get("ild_history") == "active":
        return out
    new = follow(changed(case.raw, ild_history="active"), kb, out)
    label_relation(kb, "ild", "active_ild", case, new, out, oracle.DIMENSION_WORDS["ild"],
                   extra=["trastuzumab deruxtecan", "trastuzumab emtansine"])
    if new is not None:
        out.violations += [f"T-DXd offered with active ILD: {show(o)}" for o in new.rec.options
                           if "trastuzumab deruxtecan" in oracle.drugs_of(o)]
    return out


def qtcf_450(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """QTcF >= 450 ms removes ribociclib (new or continuing) and applies every drug's QTc rule."""
    out = Outcome()
    qtcf = case.raw.get("qtcf_ms")
    if not case.in_scope or (qtcf is not None and qtcf >= 450):
        return out
    new = follow(changed(case.raw, qtcf_ms=rng.choice([450, 450.5, 465, 480, 481, 520])), kb, out)
    label_relation(kb, "qtc", "qtcf_450", case, new, out, extra=["ribociclib"])
    if new is not None:
        out.violations += [f"ribociclib offered with QTcF {new.raw['qtcf_ms']}: {show(o)}" for o in new.rec.options
                           if "ribociclib" in oracle.drugs_of(o)]
    return out


def lvef_40_49(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """LVEF 40-49% removes or warns on every drug whose label has an LVEF rule that fires (as the table says)."""
    out = Outcome()
    lvef = case.raw.get("lvef_percent")
    if not case.in_scope or (lvef is not None and lvef < 50):
        return out
    new = follow(changed(case.raw, lvef_percent=rng.choice([40, 40.1, 44.9, 45, 45.1, 49, 49.9])), kb, out)
    label_relation(kb, "lvef", "lvef_40_49", case, new, out, extra=["lapatinib"])
    return out


def neuropathy(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """Neuropathy grade 2 keeps taxanes off rank 1 (while another option remains); grade >= 3 removes them."""
    out = Outcome()
    grade = case.raw.get("neuropathy_grade")
    if not case.in_scope or (grade is not None and grade >= 2):
        return out
    new = follow(changed(case.raw, neuropathy_grade=rng.choice([2, 2, 3, 4])), kb, out)
    label_relation(kb, "neuropathy", "neuropathy", case, new, out)
    if new is None:
        return out
    opts, grade = new.rec.options, new.raw["neuropathy_grade"]
    taxane_before = any("taxane" in classes_of(o) for o in case.rec.options)
    if grade == 2 and taxane_before:
        out.tags.add("neuropathy:grade2_taxane")
        if opts and "taxane" in classes_of(opts[0]) and any("taxane" not in classes_of(o) for o in opts):
            out.violations.append(f"neuropathy grade 2: a taxane option ranks first: {show(opts[0])}")
    if grade >= 3 and taxane_before:
        out.tags.add("neuropathy:grade3_taxane")
        out.violations += [f"neuropathy grade {grade}: taxane offered: {show(o)}" for o in opts
                           if "taxane" in classes_of(o) or oracle.drugs_of(o) & {"docetaxel", "paclitaxel"}]
    return out


def hepatic(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """Liver impairment (Child-Pugh class or bilirubin/transaminases x ULN) applies every drug's hepatic rules."""
    out = Outcome()
    if not case.in_scope or case.raw.get("hepatic"):
        return out
    value = rng.choice([{"child_pugh": "B"}, {"child_pugh": "C"}, {"bilirubin_x_uln": 1.6, "ast_x_uln": 1.2},
                        {"bilirubin_x_uln": 3.5, "ast_x_uln": 2.0}, {"bilirubin_x_uln": 0.8, "ast_x_uln": 5.5},
                        {"bilirubin_x_uln": 1.2, "ast_x_uln": 1.6, "alt_x_uln": 1.7, "alp_x_uln": 2.6}])
    new = follow(changed(case.raw, hepatic=value), kb, out)
    label_relation(kb, "hepatic", "hepatic", case, new, out)
    return out


def interactions(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """A concomitant interacting drug applies the interaction rules of every drug that names its category."""
    out = Outcome()
    if not case.in_scope or case.raw.get("interacting_drugs"):
        return out
    category = rng.choice(sorted(kb.label_dimensions.interaction_categories))
    new = follow(changed(case.raw, interacting_drugs=[category]), kb, out)
    label_relation(kb, "interactions", "interactions", case, new, out)
    return out


# ----------------------------------------------------------------------------- 8. progression
def _latest_metastatic(raw: dict[str, Any]) -> int | None:
    """Index of the metastatic treatment started last (None when there is none, or two share the start)."""
    met = [(t["started_months_ago"], i) for i, t in enumerate(raw.get("treatments", []))
           if t["setting"] == "metastatic"]
    if not met:
        return None
    met.sort()
    if len(met) > 1 and met[0][0] == met[1][0]:
        return None
    return met[0][1]


def progression(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """Recording progression on the latest treatment keeps its drugs out of the next line.

    Trastuzumab may continue beyond progression and GnRH agonists are not anticancer drugs of their own
    (ASCO 2022); an endocrine drug's whole class stays out (switch class).
    """
    out = Outcome()
    i = _latest_metastatic(case.raw)
    if not case.in_scope or i is None or case.raw["treatments"][i].get("stop_reason") == "progression":
        return out
    raw = changed(case.raw)
    t = raw["treatments"][i]
    t["ended_months_ago"] = 0.0 if t.get("ended_months_ago") is None else t["ended_months_ago"]
    t["stop_reason"] = "progression"
    new = follow(raw, kb, out)
    barred = set(t["drugs"]) - {"trastuzumab"} - OFS_DRUGS
    if new is None or not new.in_scope or not barred:
        return out
    out.tags.add("progression")
    if new.decision_point not in LATER_LINES:
        out.violations.append(f"progression recorded on the latest line but the decision point is {new.decision_point}")
    barred_classes = {c for c in ENDOCRINE if any(DRUG_CLASSES[d].value == c for d in barred)}
    for o in new.rec.options:
        again = oracle.drugs_of(o) & barred
        classes = classes_of(o) & barred_classes
        if again or classes:
            out.violations.append(f"progressed on {sorted(t['drugs'])}; re-offered {sorted(again | classes)}: "
                                  f"{show(o)}")
    return out


def stopped_treatment(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """A treatment stopped for toxicity months ago is no longer being received: offering its drugs again is a
    new start, so the label rules on starting a drug (``do_not_start``) exclude them, as for any new drug."""
    out = Outcome()
    i = _latest_metastatic(case.raw)
    if not case.in_scope or i is None or case.raw["treatments"][i].get("ended_months_ago") is not None:
        return out
    raw = changed(case.raw)
    t = raw["treatments"][i]
    if t["started_months_ago"] < 2:
        return out
    t["ended_months_ago"] = round(min(6.0, t["started_months_ago"] / 2), 1)
    t["stop_reason"] = "toxicity"
    new = follow(raw, kb, out)
    if new is None or not new.in_scope:
        return out
    overrides = bool(new.raw.get("gate_overrides"))
    for drug in sorted(set(t["drugs"])):
        exp = oracle.expectation(kb, new.facts, drug, LABEL_DIMENSIONS, overrides, continuing=False)
        if exp.action != oracle.EXCLUDE:
            continue  # warnings are the other relations' business; this one is about starting again
        out.tags.add("stopped_treatment")
        out.violations += [f"stopped for toxicity {t['ended_months_ago']:g} months ago, offered again: {v}"
                           for v in oracle.violations(new.rec, exp)]
    return out


# ----------------------------------------------------------------------------- 9-10. receptors, menopause
def hr_negative(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """HR-negative disease (ER 0%, PR 0%) gets no endocrine therapy, CDK4/6 inhibitor or OFS."""
    out = Outcome()
    if not case.in_scope:
        return out
    new = follow(changed(case.raw, er_percent=0, pr_percent=0), kb, out)
    if new is None:
        return out
    if any(classes_of(o) & ENDOCRINE for o in case.rec.options):
        out.tags.add("hr_negative")
    bad = ENDOCRINE | {"cdk46_inhibitor", "ofs"}
    out.violations += [f"HR-negative but offered {sorted(classes_of(o) & bad)}: {show(o)}" for o in new.rec.options
                       if classes_of(o) & bad]
    return out


def ovarian_suppression(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """A pre/perimenopausal woman on an AI or fulvestrant, or a man on an AI, gets a GnRH agonist.

    Men may receive fulvestrant (or tamoxifen) without one (ASCO male breast cancer 2020, rec. 4.1).
    """
    out = Outcome()
    raw = case.raw
    if not case.in_scope or raw["sex"] != "female" or raw.get("menopausal_status") != "postmenopausal":
        return out
    if rng.random() < 0.3:
        follow_up = changed(raw, sex="male", menopausal_status="not_applicable", pregnant=False,
                            pregnancy_trimester=...)
        needs = {"aromatase_inhibitor"}
    else:
        follow_up = changed(raw, menopausal_status=rng.choice(["premenopausal", "perimenopausal"]))
        needs = {"aromatase_inhibitor", "serd"}
    new = follow(follow_up, kb, out)
    if new is None:
        return out
    for o in new.rec.options:
        if classes_of(o) & needs:
            out.tags.add(f"ovarian_suppression:{new.raw['sex']}")
            if not has_ofs(o):
                out.violations.append(f"{new.raw['sex']} {new.raw['menopausal_status']}: "
                                      f"{sorted(classes_of(o) & needs)} without a GnRH agonist: {show(o)}")
    return out


# ----------------------------------------------------------------------------- 11. always an option
_CLEAN: dict[str, Any] = {"lvef_percent": 62, "lvef_baseline_percent": ..., "heart_failure": False,
                          "ild_history": "none", "qtcf_ms": 420, "neuropathy_grade": 0, "pregnancy_trimester": ...,
                          "hepatic": ..., "interacting_drugs": ..., "unavailable_drugs": ..., "gate_overrides": ...}


def clean(raw: dict[str, Any]) -> dict[str, Any]:
    """The patient with normal safety values, nothing unavailable, no override and (women) not pregnant."""
    return changed(raw, **_CLEAN, pregnant=False)


def no_contraindication(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """A HER2-positive patient with no contraindication (normal values, nothing unavailable, not pregnant)
    always gets at least one option."""
    out = Outcome()
    if not case.in_scope:
        return out
    new = follow(clean(case.raw), kb, out)
    if new is None or not new.in_scope:
        return out
    out.tags.add(f"no_contraindication:{new.decision_point}")
    if not new.rec.options:
        out.violations.append(f"no option at {new.decision_point}; excluded: "
                              f"{[(e.regimen_id, e.kind, e.reasons[:1]) for e in new.rec.excluded]}")
    return out


# ----------------------------------------------------------------------------- 12. determinism, order
def determinism(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """The same input, validated and answered again, gives byte-identical JSON."""
    out = Outcome({"determinism"})
    again = follow(copy.deepcopy(case.raw), kb, out)
    if again is not None and again.rec.to_json() != case.rec.to_json():
        out.violations.append(f"two runs differ: {_first_difference(case.rec, again.rec)}")
    return out


def _reversed_lists(raw: dict[str, Any]) -> dict[str, Any]:
    out = {k: raw[k] for k in reversed(list(raw))}
    for key in ("treatments", "metastatic_sites", "unavailable_drugs", "available_drugs", "interacting_drugs"):
        if isinstance(out.get(key), list):
            out[key] = list(reversed(out[key]))
    return copy.deepcopy(out)


def order_invariance(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """The contract takes treatments in any order: reversing them, the sites, the drug lists and the field order
    changes nothing (the drugs within one treatment keep their order: notes echo them as written)."""
    out = Outcome()
    if len(case.raw.get("treatments", [])) + len(case.raw.get("metastatic_sites", [])) < 3:
        return out
    new = follow(_reversed_lists(case.raw), kb, out)
    out.tags.add("order_invariance")
    if new is not None and new.rec.to_json() != case.rec.to_json():
        out.violations.append(f"reordered input changes the answer: {_first_difference(case.rec, new.rec)}")
    return out


# ----------------------------------------------------------------------------- 13. brand names
def _brands() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, inns in sorted(SYNONYMS.items()):
        if len(inns) == 1 and name.isascii():
            out.setdefault(inns[0], []).append(name)
    return out


_BRANDS = _brands()


def _spell(name: str, rng: random.Random) -> str:
    return rng.choice([name, name.upper(), name.title(), f" {name.capitalize()} "])


def _rename(drugs: list[str], rng: random.Random) -> tuple[list[str], bool]:
    if {"trastuzumab", "pertuzumab"} <= set(drugs) and rng.random() < 0.3:
        rest = [d for d in drugs if d not in ("trastuzumab", "pertuzumab")]
        return [_spell("phesgo", rng), *rest], True
    out, any_brand = [], False
    for d in drugs:
        if d in _BRANDS and rng.random() < 0.6:
            out.append(_spell(rng.choice(_BRANDS[d]), rng))
            any_brand = True
        else:
            out.append(d)
    return out, any_brand


def brand_names(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """Drug names written as brand names or abbreviations give the answer of the INNs (plus input notes)."""
    out = Outcome()
    raw = changed(case.raw)
    renamed = False
    for t in raw.get("treatments", []):
        t["drugs"], hit = _rename(t["drugs"], rng)
        renamed = renamed or hit
    if raw.get("unavailable_drugs"):
        raw["unavailable_drugs"], hit = _rename(raw["unavailable_drugs"], rng)
        renamed = renamed or hit
    if not renamed:
        return out
    new = follow(raw, kb, out)
    if new is None:
        return out
    out.tags.add("brand_names")
    if not new.rec.input_notes:
        out.violations.append("brand names were normalised but input_notes says nothing")
    strip: dict[str, Any] = {"input_notes": []}
    if new.rec.model_copy(update=strip).to_json() != case.rec.model_copy(update=strip).to_json():
        out.violations.append(f"brand names change the answer: {_first_difference(case.rec, new.rec)}")
    return out


# ----------------------------------------------------------------------------- 14. metastatic sites, brain
def remove_site(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """Removing a non-CNS metastatic site never adds a CNS-directed option or moves the decision point."""
    out = Outcome()
    sites = [s for s in case.raw.get("metastatic_sites", []) if s not in ("brain", "leptomeningeal")]
    if not case.in_scope or not sites:
        return out
    gone = rng.choice(sites)
    new = follow(changed(case.raw, metastatic_sites=[s for s in case.raw["metastatic_sites"] if s != gone]), kb, out)
    if new is None:
        return out
    out.tags.add("remove_site")
    local_before = {o.regimen_id for o in case.rec.options if "local_therapy" in classes_of(o)}
    out.violations += [f"removing site {gone!r} added a CNS option: {show(o)}" for o in new.rec.options
                       if "local_therapy" in classes_of(o) and o.regimen_id not in local_before]
    if new.decision_point != case.decision_point:
        out.violations.append(f"removing site {gone!r} moved the decision point {case.decision_point} -> "
                              f"{new.decision_point}")
    return out


def brain_metastases_later_line(case: Case, rng: random.Random, kb: Any) -> Outcome:
    """New active brain metastases at a later line never remove every CNS-active option, unless a safety,
    exposure or formulary stop on each of them explains it."""
    out = Outcome()
    raw = case.raw
    if not case.in_scope or case.decision_point not in LATER_LINES or raw.get("brain_metastases") not in (None, "none"):
        return out
    active_before = [o for o in case.rec.options if cns_active(o)]
    new = follow(changed(raw, brain_metastases="active", metastatic_sites=[*raw["metastatic_sites"], "brain"]), kb, out)
    if new is None or not active_before:
        return out
    out.tags.add("brain_metastases_later_line")
    if any(cns_active(o) for o in new.rec.options):
        return out
    explained = {e.regimen_id for e in new.rec.excluded if e.kind in ("safety", "exposure", "availability")}
    lost = [show(o) for o in active_before if o.regimen_id not in explained]
    if lost:
        out.violations.append(f"active brain metastases removed every CNS-active option; lost without a stop: {lost}")
    return out


# ----------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class Relation:
    """A relation, and the least number of patients of the slow run on which each of its tags must be exercised."""

    name: str
    run: Callable[[Case, random.Random, Any], Outcome]
    minimum: dict[str, int]


RELATIONS: tuple[Relation, ...] = (
    Relation("unavailable_drug", unavailable_drug, {"unavailable_drug": 4000}),
    Relation("stated_decision_point", stated_decision_point, {
        "stated_decision_point:first_line": 1500, "stated_decision_point:maintenance": 700,
        "stated_decision_point:second_line": 1200, "stated_decision_point:third_line_or_later": 900,
        "stated_decision_point:cns_event": 200}),
    Relation("avoid_chemotherapy", avoid_chemotherapy, {"avoid_chemotherapy": 1500}),
    Relation("avoid_chemotherapy_in_crisis", avoid_chemotherapy_in_crisis, {"avoid_chemotherapy_in_crisis": 350}),
    Relation("pregnancy", pregnancy, {"pregnancy": 1400, "pregnancy:tucatinib": 400, "pregnancy:capecitabine": 600,
                                      **{f"pregnancy:trimester_{t}": 300 for t in ("unknown", 1, 2, 3)}}),
    Relation("active_ild", active_ild, {"active_ild": 3000, "active_ild:trastuzumab deruxtecan": 1300,
                                        "active_ild:trastuzumab emtansine": 600}),
    Relation("qtcf_450", qtcf_450, {"qtcf_450": 1400, "qtcf_450:ribociclib": 120}),
    Relation("lvef_40_49", lvef_40_49, {"lvef_40_49": 2000, "lvef_40_49:lapatinib": 1500}),
    Relation("neuropathy", neuropathy, {"neuropathy": 2500, "neuropathy:grade2_taxane": 600,
                                        "neuropathy:grade3_taxane": 600}),
    Relation("hepatic", hepatic, {"hepatic": 3000}),
    Relation("interactions", interactions, {"interactions": 1800}),
    Relation("progression", progression, {"progression": 1500}),
    Relation("stopped_treatment", stopped_treatment, {"stopped_treatment": 500}),
    Relation("hr_negative", hr_negative, {"hr_negative": 2500}),
    Relation("ovarian_suppression", ovarian_suppression,
             {"ovarian_suppression:female": 900, "ovarian_suppression:male": 250}),
    Relation("no_contraindication", no_contraindication, {
        "no_contraindication:first_line": 1400, "no_contraindication:maintenance": 650,
        "no_contraindication:second_line": 1000, "no_contraindication:third_line_or_later": 800,
        "no_contraindication:cns_event": 250}),
    Relation("determinism", determinism, {"determinism": 10_000}),
    Relation("order_invariance", order_invariance, {"order_invariance": 4000}),
    Relation("brand_names", brand_names, {"brand_names": 4000}),
    Relation("remove_site", remove_site, {"remove_site": 4000}),
    Relation("brain_metastases_later_line", brain_metastases_later_line, {"brain_metastases_later_line": 1200}),
)
