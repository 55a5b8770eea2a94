"""What the drug-label safety table (kb/labels) requires for one patient, computed apart from the engine.

The oracle reads the table's rules (:mod:`mbcpath.kb.labels`), evaluates each rule's own condition
(:func:`mbcpath.kb.labels.effective_condition`) with :mod:`mbcpath.rules.conditions` on the patient's
derived facts, and applies the effect semantics of ``kb/labels/README.md``:

* ``contraindicated`` / ``withhold_stop``: the drug is excluded, new or continuing;
* ``do_not_start``: a new start is excluded, a continuing drug is warned about;
* ``dose_adjust`` / ``monitor``: a warning; ``none``: nothing;
* a rule not backed by a verified (and not retracted) source only warns; an ``overridable`` rule
  may be lifted by a documented override, so with an override present it may warn instead;
* the stricter domain gates of ``kb/decisions/safety.yaml`` (``effect: exclude`` on a drug or class,
  e.g. ribociclib at QTcF >= 450 new or continuing, taxanes at neuropathy grade >= 3, anti-HER2
  antibodies and ADCs continued below LVEF 40%) may exclude where the table only warns.

It never reads what the engine decided; the checks compare the engine's answer with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from mbcpath.domain.drugs import DRUG_CLASSES
from mbcpath.domain.recommendation import Option, Recommendation
from mbcpath.kb.labels import effective_condition
from mbcpath.rules.conditions import Condition, compile_condition

from ._invariants import drugs_of

EXCLUDE, WARN, NOTHING = "exclude", "warn", "nothing"
_ORDER = (NOTHING, WARN, EXCLUDE)
#: Effect -> (action on a new start, action on a continuing drug): kb/labels/README.md, "Effects".
EFFECT_ACTIONS: dict[str, tuple[str, str]] = {
    "contraindicated": (EXCLUDE, EXCLUDE),
    "withhold_stop": (EXCLUDE, EXCLUDE),
    "do_not_start": (EXCLUDE, WARN),
    "dose_adjust": (WARN, WARN),
    "monitor": (WARN, WARN),
    "none": (NOTHING, NOTHING),
}
#: Words a warning about each dimension is expected to carry (used where a relation asks for them).
DIMENSION_WORDS: dict[str, str] = {
    "pregnancy": r"pregnan|fetal|foetal|embryo",
    "lvef": r"lvef|ejection|cardiac|heart|cardio",
    "ild": r"\bild\b|interstitial|pneumonitis",
    "qtc": r"\bqt",
    "hepatic": r"hepat|liver|bilirubin|transaminase|child-pugh|\bast\b|\balt\b",
    "neuropathy": r"neuropath|neurosensory|neurolog",
    "interactions": r"cyp|inhibitor|inducer|interact|concomitant|warfarin|anticoagul|oestrogen|estrogen|acid|qt",
}


@dataclass
class Expectation:
    """What the table (and the stricter domain gates) require for one drug of one patient."""

    drug: str
    continuing: bool
    action: str = NOTHING
    may_warn_instead: bool = False
    why: list[str] = field(default_factory=list)

    def raise_to(self, action: str, why: str) -> None:
        if _ORDER.index(action) > _ORDER.index(self.action):
            self.action = action
        if action != NOTHING:
            self.why.append(why)


@cache
def _compiled(text: str) -> Condition:
    return compile_condition(text)


def _verified(kb: Any, keys: Iterable[str]) -> bool:
    """Every source verified and not retracted (kb/labels/README.md: a stop never rests on unread text)."""
    keys = list(keys)
    return bool(keys) and all(k in kb.sources and kb.sources[k].verified and not kb.sources[k].retracted
                              for k in keys)


def _dimensions(kb: Any) -> dict[str, Any]:
    return {d.id: d for d in kb.label_dimensions.dimensions}


def _rule_action(kb: Any, rule: Any, continuing: bool, overrides: bool) -> tuple[str, bool]:
    """(action, may warn instead) for a rule whose condition holds."""
    action = EFFECT_ACTIONS[rule.effect][1 if continuing else 0]
    if action == EXCLUDE and not _verified(kb, rule.sources):
        return WARN, False
    return action, action == EXCLUDE and rule.overridable and overrides


def label_expectation(kb: Any, facts: Mapping[str, Any], drug: str, dimensions: Iterable[str],
                      overrides: bool = False, continuing: bool | None = None) -> Expectation:
    """What the table requires for ``drug`` in ``dimensions`` for a patient with these derived facts.

    ``continuing`` defaults to whether the drug is among the facts' ``current_drugs``. A rule whose
    condition is unknown (a fact is missing) requires nothing here.
    """
    if continuing is None:
        continuing = drug in (facts.get("current_drugs") or ())
    exp = Expectation(drug, continuing)
    dims = _dimensions(kb)
    lifted = True
    for dim in dimensions:
        for i, rule in enumerate(kb.labels[drug].dimensions[dim]):
            if rule.effect == "none" or _compiled(effective_condition(rule, dims[dim])).evaluate(facts) is not True:
                continue
            action, may_warn = _rule_action(kb, rule, continuing, overrides)
            if action == EXCLUDE:
                lifted = lifted and may_warn
            exp.raise_to(action, f"{drug} {dim}[{i}] {rule.effect}: {rule.text[:90]}")
    exp.may_warn_instead = exp.action == EXCLUDE and lifted
    return exp


def gate_exclusions(kb: Any, facts: Mapping[str, Any], drug: str, overrides: bool = False,
                    continuing: bool | None = None) -> list[str]:
    """Ids of the excluding domain gates of kb/decisions/safety.yaml that stop ``drug`` for these facts.

    Only gates that select drugs or classes (``applies_to.drugs`` / ``classes``) are read here; a gate's
    ``new_only`` / ``continuing_only`` restricts it to drugs started / continued; an ``overridable`` gate
    counts only when the patient has no documented override.
    """
    if continuing is None:
        continuing = drug in (facts.get("current_drugs") or ())
    out = []
    for g in kb.safety.gates:
        sel = g.applies_to
        if g.kind != "condition" or g.effect != "exclude" or g.when is None:
            continue
        if (sel.new_only and continuing) or (sel.continuing_only and not continuing):
            continue
        if drug not in sel.drugs and DRUG_CLASSES[drug] not in sel.classes:
            continue
        if _compiled(g.when).evaluate(facts) is True and not (g.overridable and overrides):
            out.append(g.id)
    return out


def expectation(kb: Any, facts: Mapping[str, Any], drug: str, dimensions: Iterable[str],
                overrides: bool = False, continuing: bool | None = None) -> Expectation:
    """The table's expectation raised by the stricter excluding domain gates."""
    exp = label_expectation(kb, facts, drug, dimensions, overrides, continuing)
    for gid in gate_exclusions(kb, facts, drug, overrides, continuing):
        exp.raise_to(EXCLUDE, f"gate {gid}")
        exp.may_warn_instead = False
    return exp


# ----------------------------------------------------------------------------- reading an answer
def offered_drugs(rec: Recommendation) -> set[str]:
    out: set[str] = set()
    for o in rec.options:
        out |= drugs_of(o)
    return out


def warns_about(o: Option, drug: str, words: str | None = None) -> bool:
    """Some warning of the option names ``drug`` (and, when given, matches ``words``)."""
    for w in o.warnings:
        low = w.lower()
        if drug in low and (words is None or re.search(words, low)):
            return True
    return False


def violations(rec: Recommendation, exp: Expectation, words: str | None = None) -> list[str]:
    """Where the answer departs from ``exp`` for its drug: offered though excluded, or offered unwarned."""
    bad = []
    for o in rec.options:
        if exp.drug not in drugs_of(o):
            continue
        state = "continuing" if exp.continuing else "new"
        if exp.action == EXCLUDE and not (exp.may_warn_instead and warns_about(o, exp.drug)):
            bad.append(f"{o.name} (rank {o.rank}) offers {exp.drug} ({state}) though the label excludes it: "
                       f"{'; '.join(exp.why)}")
        elif exp.action == WARN and not warns_about(o, exp.drug, words):
            bad.append(f"{o.name} (rank {o.rank}) offers {exp.drug} ({state}) without a warning naming it"
                       f"{' and matching ' + repr(words) if words else ''}: {'; '.join(exp.why)}")
    return bad
