"""A plain-language page for the patient: where they are, the options discussed, what is still unknown.

It restates the recommendation in everyday words and adds no number and no judgement
of its own: option names, the safety stops and the missing data come from the
recommendation; the words for each drug class are fixed descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mbcpath.report.board import Board

__all__ = ["PlainOption", "PlainSummary", "plain_summary"]

SITUATION = {
    "first_line": "Your team is choosing the first treatment for breast cancer that has spread (metastatic "
                  "HER2-positive breast cancer).",
    "maintenance": "Your first treatment has controlled the cancer. Your team is choosing how to continue it "
                   "(maintenance treatment).",
    "second_line": "The cancer has grown during or after your previous treatment. Your team is choosing the next "
                   "treatment.",
    "third_line_or_later": "The cancer has grown after several treatments. Your team is choosing the next "
                           "treatment.",
    "cns_event": "New or growing areas of cancer were found in the brain, while the cancer elsewhere is under "
                 "control. Your team is choosing how to treat them.",
}
CLASS_WORDS = {
    "anti_her2_antibody": "an antibody drip that blocks the HER2 protein on the cancer cells",
    "her2_adc": "an antibody that carries chemotherapy straight to HER2-positive cancer cells",
    "her2_tki": "a tablet that blocks HER2 signals inside the cancer cells",
    "taxane": "chemotherapy",
    "chemotherapy": "chemotherapy",
    "aromatase_inhibitor": "a hormone tablet that lowers oestrogen",
    "serd": "a hormone injection that blocks oestrogen",
    "serm": "a hormone tablet that blocks oestrogen",
    "cdk46_inhibitor": "a tablet that slows the growth of cancer cells, taken with hormone treatment",
    "ofs": "an injection that stops the ovaries making oestrogen",
    "mtor_inhibitor": "a tablet that blocks a growth signal in cancer cells",
    "local_therapy": "radiotherapy or surgery aimed at the areas in the brain",
}
QUESTIONS = (
    "What would each option mean for my daily life: how is it given, how often, and for how long?",
    "What side effects are most likely, and which ones should I report at once?",
    "What would we do if this treatment stops working?",
    "Is there a clinical trial I could take part in?",
)
STATEMENT = ("This summary was produced by mbcpath, a computer tool that helps your care team review the evidence. "
             "It is not a medical device and does not replace their advice: please discuss every point with them.")


@dataclass(frozen=True)
class PlainOption:
    """One option as the patient page words it."""

    rank: int
    name: str
    parts: tuple[str, ...]
    chemotherapy_free: bool


@dataclass(frozen=True)
class PlainSummary:
    """The patient page: situation, the first options, safety checks, open questions."""

    situation: str
    options: tuple[PlainOption, ...]
    more_options: int
    safety: tuple[str, ...]
    missing: tuple[str, ...]
    trials_to_ask_about: tuple[str, ...]
    questions: tuple[str, ...] = QUESTIONS
    statement: str = STATEMENT


def plain_summary(rec: Any, board: Board, *, top: int = 3) -> PlainSummary:
    """The plain-language page of ``rec`` (its first ``top`` options; the rest are counted)."""
    dp = rec.decision_point.value if rec.decision_point is not None else ""
    situation = SITUATION.get(dp, "Your team is reviewing the treatment options for your situation.")
    if rec.out_of_scope:
        situation = ("This tool could not suggest HER2-positive treatments for your situation; your team will "
                     "explain why and what happens next.")
    options = tuple(
        PlainOption(rank=o.rank, name=o.name, chemotherapy_free=bool(o.chemotherapy_free),
                    parts=tuple(dict.fromkeys(CLASS_WORDS.get(c.drug_class.value, c.drug_class.value)
                                              for c in o.components)))
        for o in rec.options[:top])
    safety = tuple(f"Some treatments were set aside after a safety check: {s.text}" for s in board.stops)
    eligible = tuple(m.trial for m in board.trial_matches if m.verdict != "not_eligible")
    return PlainSummary(situation=situation, options=options, more_options=max(len(rec.options) - top, 0),
                        safety=safety, missing=tuple(rec.missing_data), trials_to_ask_about=eligible)
