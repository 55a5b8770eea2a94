"""The brief answer for clinic: at most 40 lines, clinical words, each trial's numbers once.

Decision point (and how the history gives it), ranked options with category and one line of why,
safety stops and warnings, conflicts, missing data and trial matches, each list cut to what fits
with a count of what was left out (the full answer is ``--format text`` or ``--format json``).
"""

from __future__ import annotations

from collections.abc import Iterable

from mbcpath.domain.recommendation import EvidenceRef, Option, Recommendation

MAX_LINES = 40
_WIDTH = 118
_CATEGORY = {"preferred": "preferred", "alternative": "alternative", "selected_patients": "selected patients",
             "investigational": "investigational"}
_TIER = {"preferred": "guideline: preferred", "other_recommended": "guideline: other recommended",
         "useful_in_certain_circumstances": "guideline: certain circumstances",
         "investigational": "investigational", "not_in_guidelines": "not yet in guidelines"}


def _cut(text: str, width: int = _WIDTH) -> str:
    indent = text[: len(text) - len(text.lstrip())]
    text = indent + " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _num(v: object) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _headline(ev: EvidenceRef) -> str:
    """The trial's key number, this option's arm first: 'DESTINY-Breast09: PFS 40.7 (this option) vs 26.9 mo'."""
    for e in ev.endpoints:
        arms = {k: v for k, v in e.arms.items() if v is not None}
        parts = []
        if ev.arm in arms and len(arms) >= 2:
            other = next(v for k, v in arms.items() if k != ev.arm)
            parts.append(f"{_num(arms[ev.arm])} (this option) vs {_num(other)} mo")
        elif arms:
            parts.append(" vs ".join(_num(v) for v in list(arms.values())[:2]) + " mo")
        if e.hr is not None:
            parts.append(f"HR {e.hr:g}" + (" (experimental vs control)" if len(arms) >= 2 else ""))
        if parts:
            return f"{ev.trial}: {e.endpoint.upper().replace('_', ' ')} {', '.join(parts)}"
    return ev.trial


def _option_line(o: Option, seen: set[str]) -> list[str]:
    tier = _TIER.get(o.tier.label, o.tier.label) if o.tier else ""
    tags = [t for t in (_CATEGORY.get(o.category.value, o.category.value), tier) if t]
    if o.chemotherapy_free:
        tags.append("chemotherapy-free")
    flags = []
    if o.depends_on_unknown:
        flags.append("rests on unknown data")
    if o.warnings:
        flags.append(f"{len(o.warnings)} warning{'s' if len(o.warnings) > 1 else ''}")
    lines = [_cut(f"{o.rank:>2}. {o.name} [{'; '.join(tags)}]"),
             _cut(f"    {o.summary or (o.rationale[0] if o.rationale else '')}"
                  + (f"  [{'; '.join(flags)}]" if flags else ""))]
    direct = next((e for e in o.evidence if e.support == "direct"), None)
    if direct is None:
        lines.append("      evidence: indirect only (no trial of this regimen)")
    elif direct.trial not in seen:
        seen.add(direct.trial)
        lines.append(_cut(f"      {_headline(direct)}"))
    return lines


def _section(title: str, items: Iterable[str], budget: int) -> list[str]:
    items = [i for i in items if i]
    if not items or budget < 2:
        return []
    shown = items[: budget - 1] if len(items) > budget - 1 else items
    out = [title] + [_cut(f"  - {i}") for i in shown]
    if len(items) > len(shown):
        out.append(f"  (+{len(items) - len(shown)} more: see --format text)")
    return out


def brief_lines(rec: Recommendation) -> list[str]:
    """The brief answer as lines (at most :data:`MAX_LINES`)."""
    dp = rec.decision_point.value.replace("_", " ") if rec.decision_point else "-"
    lines = [_cut(f"mbcpath | {rec.patient_id} | decision point: {dp} | KB {rec.kb_release}"
                  + (f" as of {rec.as_of}" if rec.as_of else "")),
             "Not a medical device: supports, does not replace, a clinician's judgement."]
    if rec.decision_point_basis:
        lines.append(_cut(f"Basis: {rec.decision_point_basis}"))
    if rec.out_of_scope:
        lines.append(_cut(f"OUT OF SCOPE: {rec.out_of_scope}"))
        return lines + _section("What to do:", rec.missing_data, MAX_LINES - len(lines) - 1)
    if rec.provisional:
        lines.append("Ranking PROVISIONAL: key data are missing (see below).")
    lines += _options(rec, budget=24)
    stops = [s.text for s in rec.safety_stops if s.severity == "stop"]
    lines += _section("Safety stops:", stops, 5)
    lines += _section("Conflicts to weigh:", rec.conflicts, 5)
    lines += _section("Missing data:", rec.missing_data, 4)
    matches = [f"{m.trial} ({m.nct or 'no registry id'}): {m.verdict.replace('_', ' ')}" for m in rec.trial_matches
               if m.verdict != "not_eligible"]
    lines += _section("Trials to consider:", matches, max(0, min(3, MAX_LINES - len(lines))))
    return lines[:MAX_LINES]


def _options(rec: Recommendation, budget: int) -> list[str]:
    if not rec.options:
        return ["No option remains: see the conflicts (clinical trial, best supportive care, specialist review)."]
    out = ["Options:"]
    seen: set[str] = set()
    for i, o in enumerate(rec.options):
        block = _option_line(o, seen)
        if len(out) + len(block) > budget - 1:
            out.append(f"  (+{len(rec.options) - i} more options: see --format text)")
            break
        out += block
    return out


def render_brief(rec: Recommendation) -> str:
    """The brief answer as text (ends with a newline)."""
    return "\n".join(brief_lines(rec)) + "\n"


__all__ = ["MAX_LINES", "brief_lines", "render_brief"]
