"""Rank the options that passed: the patient's stated preference, safety demotions, guideline tier.

Order (first key first): when the patient declines chemotherapy (antibody-drug conjugates
count as chemotherapy) and there is no visceral crisis, chemotherapy-free options come first;
options a safety rule says to avoid come after the others; then the category from the
guideline tier; options resting on unknown data after those that do not; then the rule's
priority (the KB's within-tier ordering) and its id (determinism).

References
----------
Giordano SH et al. J Clin Oncol 2022;40:2612-35 (ASCO recs 6.0-8.0: endocrine therapy with HER2
blockade for patients not suitable for or declining chemotherapy; not in visceral crisis).
shared/domain.md section 4.1 (ADCs count as chemotherapy for a patient who declines it).
"""

from __future__ import annotations

from mbcpath.domain.recommendation import CATEGORY_ORDER, Category, Option
from mbcpath.engine.evaluate import OptionState, Run

_DECLINES = ("The patient declines chemotherapy (antibody-drug conjugates count as chemotherapy): this option "
             "ranks after the chemotherapy-free ones.")


def prefers_chemo_free(run: Run) -> bool:
    """The patient declines chemotherapy and no visceral crisis calls for the fastest-acting therapy."""
    return bool(run.facts.get("avoid_chemotherapy")) and run.facts.get("visceral_crisis") is not True


def rank(states: list[OptionState], run: Run) -> list[Option]:
    """Sort, de-duplicate by regimen and number the options from 1."""
    prefer_free = prefers_chemo_free(run)
    if prefer_free:
        for s in states:
            if not s.chemo_free:
                s.category = Category.ALTERNATIVE if s.category is Category.PREFERRED else s.category
                s.rationale.append(_DECLINES)

    def key(s: OptionState) -> tuple[object, ...]:
        return (prefer_free and not s.chemo_free, s.avoided, CATEGORY_ORDER[s.category],
                s.requires_unknown, -s.priority, s.cand.rule_id)

    ordered: list[OptionState] = []
    seen: set[str] = set()
    for s in sorted(states, key=key):
        if s.cand.regimen.id not in seen:
            seen.add(s.cand.regimen.id)
            ordered.append(s)
    if prefer_free:
        _state_trade_off(ordered)
    return [_option(i + 1, s) for i, s in enumerate(ordered)]


def _state_trade_off(ordered: list[OptionState]) -> None:
    if not ordered or not ordered[0].chemo_free:
        return
    with_chemo = [s for s in ordered if not s.chemo_free]
    if with_chemo:
        best = min(with_chemo, key=lambda s: (CATEGORY_ORDER[s.cand.category], -s.cand.priority))
        ordered[0].rationale.insert(0, (
            f"Ranked first because the patient declines chemotherapy. Trade-off: {best.name} "
            f"({best.cand.tier.label.replace('_', ' ')} in the guidelines) is expected to be more effective; "
            "compare the evidence of both before deciding."))


def _option(rank_: int, s: OptionState) -> Option:
    c = s.cand
    return Option.model_construct(
        rank=rank_, category=s.category, regimen_id=c.regimen.id, name=s.name, components=s.components,
        rationale=s.rationale, evidence=s.evidence, warnings=s.warnings, criteria=s.criteria,
        guidelines=list(c.guidelines), rule_id=c.rule_id, tier=c.tier, summary=c.summary,
        chemotherapy_free=s.chemo_free, depends_on_unknown=s.depends_on_unknown,
    )
