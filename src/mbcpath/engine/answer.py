"""The parts of an answer beyond the options: conflicts, missing data, safety summary, trial matches.

References
----------
shared/contract.md (conflicts: guideline disagreements and evidence gaps, each with its sources;
missing data: what an unknown could change) and shared/domain.md section 7.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from mbcpath.domain.recommendation import Excluded, Option, SafetyStop, TrialMatch
from mbcpath.engine.evaluate import Run
from mbcpath.engine.evidence import trial_fit
from mbcpath.facts.words import FACT_WORDS, explain

#: Facts echoed in the output (sets become sorted lists) so a reader can check the basis.
_SHOWN_FACTS = (
    "her2_status", "hr_positive", "er_low", "endocrine_responsive", "de_novo", "tfi_months",
    "adjuvant_pertuzumab", "adjuvant_tdxd", "early_relapse", "relapse_6_12_after_trastuzumab_only",
    "metastatic_lines", "prior_lines", "progressed_on", "current_drugs", "drugs_received", "line1_drugs",
    "induction_completed", "active_brain_metastases", "leptomeningeal", "cns_disease_active", "visceral_crisis",
    "low_burden", "needs_ofs", "hepatic_impairment", "decision_point",
)

_NOTHING_LEFT = (
    "No option remains for this patient at this decision point: every regimen considered is stopped by a safety "
    "rule, by a drug the disease progressed on, or by the local formulary (see the excluded regimens and the "
    "safety stops). Consider a clinical trial (see the trial matches), best supportive care, and individual "
    "specialist review (for example cardio-oncology, where an LVEF stop can be lifted with a documented reason)."
)


def shown_facts(facts: Mapping[str, Any]) -> dict[str, object]:
    out: dict[str, object] = {}
    for k in _SHOWN_FACTS:
        v = facts.get(k)
        out[k] = sorted(v) if isinstance(v, (set, frozenset)) else v
    return out


def conflicts(run: Run, options: list[Option], excluded: list[Excluded]) -> list[str]:
    """What the clinician must weigh: a stated decision point the history contradicts, guideline
    disagreements and evidence gaps (KB notes), and a plain statement when nothing remains."""
    out: list[str] = []
    decision = run.pf.decision
    if decision is not None and decision.contradiction:
        out.append(decision.contradiction)
    dp = run.facts["decision_point"]
    offered = {o.regimen_id for o in options}
    for n in run.plan.conflicts:
        if dp not in n.decision_points or not n.when_offered <= offered:
            continue
        v = run.verdict(n.cond)
        if v:
            out.append(n.text)
        elif v is None:
            run.note_unknown(n.cond, "a guideline conflict or evidence gap")
    if not options:
        out.append(_NOTHING_LEFT)
    return out


def missing_data(run: Run) -> list[str]:
    """Every unknown datum the answer met, with what it could change (the KB's text, else generic)."""
    texts = {m.fact: m.text for m in run.plan.missing if m.cond is None}
    out: list[str] = []
    for m in run.plan.missing:
        if m.cond is not None and run.verdict(m.cond):
            out.append(m.text)
    for fact, places in run.unknown.items():
        text = texts.get(fact)
        if text is None:
            label = FACT_WORDS.get(fact, (fact.replace("_", " "), ""))[0]
            text = f"{label[:1].upper()}{label[1:]} not recorded: it decides {'; '.join(places)}."
        if text not in out:
            out.append(text)
    return out


def provisional(run: Run) -> bool:
    """Key inputs are missing: an unknown decided whether an option is indicated or a drug can be given."""
    return any(p.startswith("whether") for places in run.unknown.values() for p in places)


def safety_stops(run: Run) -> list[SafetyStop]:
    """The stops and label warnings that shaped this answer, each stated once."""
    order = {"stop": 0, "warning": 1}
    items = sorted(run.applied.values(), key=lambda a: (order[a.severity], a.gate))
    return [SafetyStop.model_construct(gate=a.gate, severity=a.severity, text=_stop_text(a), drugs=sorted(a.drugs),
                                       overridable=a.overridable, sources=list(a.sources)) for a in items]


def _stop_text(a: Any) -> str:
    if not a.gate.startswith("label:"):
        return str(a.text)
    drugs = ", ".join(sorted(a.drugs))
    verb = "not started or stopped (labels)" if a.severity == "stop" else "given with the labels' warnings"
    lift = "; a documented cardio-oncology or specialist review can lift it" if a.overridable else ""
    return f"{a.text}: {drugs} {verb}{lift}. Each option gives the label's own words."


def trial_matches(run: Run) -> list[TrialMatch]:
    """Ongoing trials of the KB checked against this patient's structured eligibility."""
    out = []
    memo = run.plan.memo
    for tid in run.plan.ongoing_trials:
        t = run.plan.kb.trials[tid]
        fit = trial_fit(t, run.facts, memo)
        if not fit.criteria:
            continue
        key = ("match", tid, id(fit))  # the fit is shared while the memo holds it (see trial_fit)
        match = memo.get(key)
        if match is None:
            reasons = [f"{c.text}: {'not met' if c.status == 'not_met' else 'needs data'} ({c.detail})"
                       for c in fit.criteria if c.status != "met"]
            verdict: Literal["eligible", "not_eligible", "unknown"] = (
                "eligible" if fit.fits else ("not_eligible" if fit.fits is False else "unknown"))
            match = memo[key] = TrialMatch.model_construct(
                trial=t.id, title=t.title, nct=t.nct, phase=t.phase, status=t.status, verdict=verdict,
                criteria=fit.criteria, reasons=reasons)
        out.append(match)
    return out  # type: ignore[return-value]


__all__ = ["conflicts", "explain", "missing_data", "provisional", "safety_stops", "shown_facts", "trial_matches"]
