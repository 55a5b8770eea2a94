"""The drug-label matrix: every drug of the vocabulary x every safety dimension behaves as kb/labels says.

For each drug a *witness* is searched: a patient at a decision point where an option containing the drug
is offered, once as a **new** start (crafted and seeded generated patients, normalised to clean safety
values: LVEF 62%, no ILD, QTcF 420 ms, no neuropathy, no liver impairment, no interacting drug, nothing
unavailable, a premenopausal woman who is not pregnant, pyrotinib available) and once **continuing**
(a CNS event during an ongoing first-line maintenance of that drug: local therapy and continue the
regimen). Then each dimension's condition is switched on at the thresholds the label rules use
(``TRIGGERS``; a guard test checks that every rule of the table fires for one of them), and the answer is
checked against the table (:mod:`._label_oracle`):

* excluded: the drug is in no option (fixed or among the choices);
* warned: the witness regimen is still offered with the drug, and a warning names the drug;
* nothing: the witness regimen is still offered with the drug.

For a warned or unaffected drug, a witness is used only where the trigger leaves its partners in the
regimen allowed (otherwise the drug's own treatment cannot be seen); a trigger with no such witness is
listed, and that list is asserted equal to a documented one.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from mbcpath import parse_patient, recommend
from mbcpath.domain.drugs import DRUG_CLASSES
from mbcpath.facts.derive import derive_facts
from mbcpath.kb import load_kb
from mbcpath.kb.labels import effective_condition
from mbcpath.kb.models import LABEL_DIMENSIONS
from mbcpath.rules.conditions import compile_condition
from strategies import random_patients

from . import _label_oracle as oracle
from ._patients import base, crafted_pool, thp_induction
from ._relations import clean

DRUGS = sorted(DRUG_CLASSES)

#: Patient changes that switch each dimension on, at the thresholds the label rules use (kb/labels/*.yaml):
#: LVEF < 50 / <= 45 / < 40, falls of 10 / 16 / 20 points from baseline, heart failure; ILD grade 1 / >= 2 /
#: active; QTcF 450 / > 480; Child-Pugh A-C, bilirubin 1-1.25-1.5-3 x ULN (NCI ODWG), transaminases
#: 1.5-2.5-3-5-10 x ULN with ALP 2.5 x ULN; neuropathy grade 2 / 3 / 4; each interacting-drug category.
TRIGGERS: dict[str, dict[str, dict[str, Any]]] = {
    "pregnancy": {
        "trimester 1": {"pregnant": True, "pregnancy_trimester": 1},
        "trimester 2": {"pregnant": True, "pregnancy_trimester": 2},
        "trimester 3": {"pregnant": True, "pregnancy_trimester": 3},
        "trimester unknown": {"pregnant": True},
    },
    "lvef": {
        "LVEF 48%, baseline 52%": {"lvef_percent": 48, "lvef_baseline_percent": 52},
        "LVEF 45%, baseline 50%": {"lvef_percent": 45, "lvef_baseline_percent": 50},
        "LVEF 38%, baseline 45%": {"lvef_percent": 38, "lvef_baseline_percent": 45},
        "LVEF 47%, fall 13": {"lvef_percent": 47, "lvef_baseline_percent": 60},
        "LVEF 44%, fall 22": {"lvef_percent": 44, "lvef_baseline_percent": 66},
        "LVEF 55%, fall 17": {"lvef_percent": 55, "lvef_baseline_percent": 72},
        "LVEF 55%, fall 10": {"lvef_percent": 55, "lvef_baseline_percent": 65},
        "heart failure, LVEF 55%": {"heart_failure": True, "lvef_percent": 55, "lvef_baseline_percent": 57},
    },
    "ild": {
        "ILD grade 1": {"ild_history": "grade1"},
        "ILD grade >= 2": {"ild_history": "grade2_or_higher"},
        "ILD active": {"ild_history": "active"},
    },
    "qtc": {
        "QTcF 450 ms": {"qtcf_ms": 450},
        "QTcF 481 ms": {"qtcf_ms": 481},
    },
    "hepatic": {
        "Child-Pugh A": {"hepatic": {"child_pugh": "A"}},
        "Child-Pugh B": {"hepatic": {"child_pugh": "B"}},
        "Child-Pugh C": {"hepatic": {"child_pugh": "C"}},
        "bilirubin 1.2x": {"hepatic": {"bilirubin_x_uln": 1.2, "ast_x_uln": 0.9, "alt_x_uln": 0.9, "alp_x_uln": 1}},
        "bilirubin 1.3x": {"hepatic": {"bilirubin_x_uln": 1.3, "ast_x_uln": 0.9, "alt_x_uln": 0.9, "alp_x_uln": 1}},
        "bilirubin 1.6x": {"hepatic": {"bilirubin_x_uln": 1.6, "ast_x_uln": 0.9, "alt_x_uln": 0.9, "alp_x_uln": 1}},
        "bilirubin 2.1x, AST 3.1x": {"hepatic": {"bilirubin_x_uln": 2.1, "ast_x_uln": 3.1, "alt_x_uln": 3.1,
                                                  "alp_x_uln": 1}},
        "bilirubin 3.5x": {"hepatic": {"bilirubin_x_uln": 3.5, "ast_x_uln": 0.9, "alt_x_uln": 0.9, "alp_x_uln": 1}},
        "AST 1.6x, ALP 2.6x": {"hepatic": {"bilirubin_x_uln": 0.9, "ast_x_uln": 1.6, "alt_x_uln": 1.6,
                                            "alp_x_uln": 2.6}},
        "AST 2.6x": {"hepatic": {"bilirubin_x_uln": 0.9, "ast_x_uln": 2.6, "alt_x_uln": 2.6, "alp_x_uln": 1}},
        "AST 5.5x": {"hepatic": {"bilirubin_x_uln": 0.9, "ast_x_uln": 5.5, "alt_x_uln": 5.5, "alp_x_uln": 1}},
        "AST 10x": {"hepatic": {"bilirubin_x_uln": 0.9, "ast_x_uln": 10, "alt_x_uln": 10, "alp_x_uln": 1}},
    },
    "neuropathy": {
        "neuropathy grade 2": {"neuropathy_grade": 2},
        "neuropathy grade 3": {"neuropathy_grade": 3},
        "neuropathy grade 4": {"neuropathy_grade": 4},
    },
    "interactions": {c: {"interacting_drugs": [c]} for c in (
        "strong_cyp3a_inhibitor", "moderate_cyp3a_inhibitor", "strong_cyp3a_inducer", "moderate_cyp3a_inducer",
        "strong_cyp2c8_inhibitor", "moderate_cyp2c8_inducer", "sensitive_cyp3a_substrate", "pgp_substrate",
        "qt_prolonging", "acid_reducing_agent", "warfarin", "estrogen_containing", "strong_cyp2d6_inhibitor")},
}

#: Drugs that no option of the KB starts for any patient: no regimen of kb/regimens holds them (anthracyclines,
#: platinum, fluorouracil and methotrexate appear only in (neo)adjuvant histories; tamoxifen, everolimus,
#: zanidatamab and giredestrant have no regimen in this release). They are checked as continuing drugs only.
NO_NEW_START_WITNESS = frozenset({
    "carboplatin", "cisplatin", "doxorubicin", "epirubicin", "everolimus", "fluorouracil", "giredestrant",
    "methotrexate", "tamoxifen", "zanidatamab",
})
#: Partners of a continuing drug that cannot be given alone (CDK4/6 inhibitors need endocrine therapy).
_CONTINUING_PARTNER = {"palbociclib": "letrozole", "ribociclib": "letrozole", "abemaciclib": "letrozole"}


# ----------------------------------------------------------------------------- witnesses
def normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """A clean premenopausal woman, not pregnant, pyrotinib available, no preference or stated decision point."""
    out = clean(raw)
    out.update(sex="female", menopausal_status="premenopausal", age_years=min(raw["age_years"], 45),
               available_drugs=["pyrotinib"], preferences={})
    out.pop("decision_point", None)
    return out


def continuing_witness(drug: str) -> dict[str, Any]:
    """CNS event during an ongoing first-line maintenance of ``drug`` (local therapy and continue)."""
    drugs = [drug, *([_CONTINUING_PARTNER[drug]] if drug in _CONTINUING_PARTNER else [])]
    return normalise(base(
        id=f"continuing-{drug}", metastatic_diagnosis_months_ago=30, metastatic_sites=["bone", "brain"],
        brain_metastases="active", extracranial_progression=False,
        treatments=[thp_induction(ended=25, months=5),
                    {"drugs": drugs, "setting": "metastatic", "line": 1, "phase": "maintenance",
                     "started_months_ago": 25, "ended_months_ago": None, "stop_reason": None}]))


@dataclass(frozen=True)
class Witness:
    """A patient whose clean answer offers ``drug`` (new or continuing) in regimen ``regimen_id``."""

    raw: dict[str, Any]
    regimen_id: str
    components: tuple[tuple[str | None, tuple[str, ...]], ...]  # (fixed drug, choices) per component


def _collect(raws: list[dict[str, Any]], kb: Any) -> dict[tuple[str, str], list[Witness]]:
    found: dict[tuple[str, str], list[Witness]] = {}
    for raw in raws:
        p = parse_patient(raw)
        rec = recommend(p, kb)
        current = derive_facts(p).values["current_drugs"]
        for o in rec.options:
            comps = tuple((c.drug, tuple(c.choices or ())) for c in o.components)
            for drug in oracle.drugs_of(o):
                key = (drug, "continuing" if drug in current else "new")
                regimens = {w.regimen_id for w in found.get(key, [])}
                if o.regimen_id not in regimens and len(regimens) < 6:
                    found.setdefault(key, []).append(Witness(raw, o.regimen_id, comps))
    return found


@pytest.fixture(scope="module")
def witnesses(kb) -> dict[tuple[str, str], list[Witness]]:
    """Witnesses per (drug, 'new' | 'continuing'): crafted, seeded generated and continuing CNS-event patients."""
    pool = [normalise(r) for r in crafted_pool() + random_patients(300, seed=515151)]
    found = _collect(pool, kb)
    cont = _collect([continuing_witness(d) for d in DRUGS], kb)
    for (drug, context), ws in cont.items():
        own = [w for w in ws if w.raw["id"] == f"continuing-{drug}"]
        if context == "continuing" and own:
            found.setdefault((drug, context), []).insert(0, own[0])
    return found


# ----------------------------------------------------------------------------- checking one cell
_RAWS: dict[str, dict[str, Any]] = {}


def _triggered(raw: dict[str, Any], dimension: str, trigger: str) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    out.update(copy.deepcopy(TRIGGERS[dimension][trigger]))
    return out


@cache
def _run(raw_id: str, dimension: str, trigger: str, engine: bool) -> tuple[Any, dict[str, Any]]:
    """(answer or None, derived facts) of a registered witness with the trigger switched on (cached)."""
    p = parse_patient(_triggered(_RAWS[raw_id], dimension, trigger))
    return (recommend(p, load_kb()) if engine else None), derive_facts(p).values


def _facts(raw: dict[str, Any], dimension: str, trigger: str) -> dict[str, Any]:
    _RAWS.setdefault(raw["id"], raw)
    return _run(raw["id"], dimension, trigger, False)[1]


def _partners_allowed(w: Witness, drug: str, facts: dict[str, Any], dimension: str, kb: Any) -> bool:
    """Every other fixed drug of the witness regimen stays allowed, and every choice keeps an allowed drug."""
    def allowed(d: str) -> bool:
        return oracle.expectation(kb, facts, d, [dimension]).action != oracle.EXCLUDE

    for fixed, choices in w.components:
        if fixed is not None and fixed != drug and not allowed(fixed):
            return False
        if choices and not any(allowed(c) for c in choices if c != drug) and drug not in choices:
            return False
    return True


def check_cell(drug: str, dimension: str, context: str, ws: list[Witness], kb: Any,
               unseen: set[str]) -> list[str]:
    """Every trigger of ``dimension`` on the drug's witnesses, against the table; the violations found.

    Triggers under which no witness can show the drug's own treatment are added to ``unseen``; their
    answers are still checked for options that offer the drug unwarned or though excluded.
    """
    bad: list[str] = []
    for trigger in TRIGGERS[dimension]:
        usable = []
        for w in ws:
            facts = _facts(w.raw, dimension, trigger)
            exp = oracle.expectation(kb, facts, drug, [dimension])
            if exp.continuing == (context == "continuing") and (
                    exp.action == oracle.EXCLUDE or _partners_allowed(w, drug, facts, dimension, kb)):
                usable.append((w, exp))
        if not usable:
            unseen.add(trigger)
        w, exp = usable[0] if usable else (ws[0], oracle.expectation(kb, _facts(ws[0].raw, dimension, trigger),
                                                                     drug, [dimension]))
        rec = _run(w.raw["id"], dimension, trigger, True)[0]
        found = oracle.violations(rec, exp) + (_kept(rec, w, exp) if usable else [])
        bad += [f"[{trigger}, {context}, witness {w.raw['id']}] {v}" for v in found]
    return bad


def _kept(rec: Any, w: Witness, exp: oracle.Expectation) -> list[str]:
    """A drug the table only warns about or leaves alone is still offered in the witness regimen."""
    if exp.action == oracle.EXCLUDE:
        return []
    if any(o.regimen_id == w.regimen_id and exp.drug in oracle.drugs_of(o) for o in rec.options):
        return []
    gone = [(e.kind, e.reasons[:2]) for e in rec.excluded if e.regimen_id == w.regimen_id]
    return [f"{exp.drug}: table says {exp.action} ({'; '.join(exp.why) or 'no rule fires'}) but regimen "
            f"{w.regimen_id} no longer offers it; excluded as {gone}"]


# ----------------------------------------------------------------------------- the tests
@pytest.mark.parametrize("dimension", LABEL_DIMENSIONS)
@pytest.mark.parametrize("drug", DRUGS)
def test_drug_follows_its_label_in_dimension(drug, dimension, witnesses, kb):
    """The drug is excluded / warned about / left alone as the label table says, new and continuing;
    every trigger of the dimension is seen on at least one witness."""
    unseen: dict[str, set[str]] = {}
    bad = []
    for context in ("new", "continuing"):
        ws = witnesses.get((drug, context), [])
        unseen[context] = set(TRIGGERS[dimension]) if not ws else set()
        if ws:
            bad += check_cell(drug, dimension, context, ws, kb, unseen[context])
    blind = sorted(unseen["new"] & unseen["continuing"])
    assert blind == [], f"{drug} x {dimension}: no witness shows the drug's own treatment under {blind}"
    assert bad == [], f"{drug} x {dimension}:\n" + "\n".join(bad)


def test_drugs_without_a_new_start_witness_are_the_documented_ones(witnesses):
    """Every drug but the documented few is started by some option; every drug has a continuing witness."""
    no_new = {d for d in DRUGS if not witnesses.get((d, "new"))}
    assert no_new == NO_NEW_START_WITNESS
    assert {d for d in DRUGS if not witnesses.get((d, "continuing"))} == set()


def test_triggers_reach_every_label_rule(kb):
    """Each rule of the table that does something fires for at least one trigger of its dimension."""
    dims = {d.id: d for d in kb.label_dimensions.dimensions}
    probe = normalise(base(id="trigger-probe"))
    silent = []
    for drug in DRUGS:
        for dim, rules in kb.labels[drug].dimensions.items():
            for i, rule in enumerate(rules):
                text = effective_condition(rule, dims[dim])
                hits = [compile_condition(text).evaluate(_facts(probe, dim, t)) for t in TRIGGERS[dim]]
                if rule.effect != "none" and True not in hits:
                    silent.append(f"{drug} {dim}[{i}] {rule.effect}: {text}")
    assert silent == []
