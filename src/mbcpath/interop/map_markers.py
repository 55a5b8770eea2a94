"""HER2, ER and PR from mCODE TumorMarkerTest observations.

Rules (never guessed, never from a proxy):

* HER2 is read only from HER2 tests: IHC (85319-2; legacy 18474-7, accepted with a note), ISH
  (85318-4, 31150-6, 96893-3), ISH ratio and copy number (49683-6, 74860-8) and the reported
  interpretation (48676-1). Receiving trastuzumab, an ERBB2 variant or a diagnosis text is not HER2 status.
* IHC score: from the value's display, text or string ("3+"), or its LOINC answer code (noted as unverified).
  A bare Positive/Negative on an IHC code is kept as the report's interpretation, with no score.
* ISH from numbers only in ASCO/CAP 2018 groups 1 (ratio >= 2.0 and >= 4.0 copies: amplified) and 5
  (ratio < 2.0 and < 4.0 copies: not amplified); groups 2-4 need the concurrent IHC review and are
  reported as missing data.
* Two results that disagree (IHC 3+ and IHC 0, ISH amplified and not amplified, a stated interpretation that
  contradicts IHC/ISH) are a conflict: the field is left unknown and the conflict is returned.
* ER/PR: the percentage (85329-1/14228-1, 85325-9/14230-7) when given; a "negative" report without a
  percentage is read as 0% (ASCO/CAP 2020: negative is < 1%) with a note; "positive" without a percentage
  cannot tell ER-low (1-10%) from > 10% and is missing data.

References
----------
Wolff AC et al. HER2 testing in breast cancer: ASCO/CAP clinical practice guideline focused update.
    J Clin Oncol 2018;36:2105-22 (ISH groups 1-5); affirmed J Clin Oncol 2023;41:3867-72.
Allison KH et al. Estrogen and progesterone receptor testing in breast cancer: ASCO/CAP guideline update.
    J Clin Oncol 2020;38:1346-66 (negative < 1%, low positive 1-10%).
"""

from __future__ import annotations

import re
from datetime import date

from mbcpath.domain.her2 import her2_status
from mbcpath.interop import codes as C
from mbcpath.interop.codes import has_code
from mbcpath.interop.context import Ctx, answer_codes, answer_words, code_label, effective, latest, number
from mbcpath.interop.fhir_read import Item

_SCORE = re.compile(r"(?<![\d.])([0-3])\s*\+|\b(score|ihc)\s*:?\s*([0-3])\b|^\s*([0-3])\s*\+?\s*$")


def _polarity(model: object) -> str | None:
    """'positive' / 'negative' / 'equivocal' from a coded or string answer."""
    found = answer_codes(model)
    if found & C.POSITIVE:
        return "positive"
    if found & C.NEGATIVE:
        return "negative"
    words = answer_words(model)
    for w in ("equivocal", "indeterminate"):
        if w in words:
            return "equivocal"
    if "not amplified" in words or "non-amplified" in words or "negative" in words:
        return "negative"
    if "amplified" in words or "positive" in words:
        return "positive"
    return None


def ihc_score(model: object) -> tuple[str | None, str]:
    """``(score, how)`` of a HER2 IHC result; ``how`` says when the score came from an unverified code."""
    words = answer_words(model)
    m = _SCORE.search(words)
    if m:
        digit = m.group(1) or m.group(3) or m.group(4)
        return ("0" if digit == "0" else f"{digit}+"), ""
    num = number(model)
    if num is not None and num in (0, 1, 2, 3):
        return ("0" if num == 0 else f"{int(num)}+"), ""
    for _, code in answer_codes(model):
        if code in C.HER2_IHC_ANSWERS:
            return C.HER2_IHC_ANSWERS[code], f"from LOINC answer {code} (unverified in the code table)"
    return None, ""


def read_her2(ctx: Ctx) -> None:
    """Set ``her2`` (ihc, ish, status) with provenance, or return the conflict / missing data."""
    obs = ctx.usable(ctx.record.of("Observation"))
    ihc = _read_ihc(ctx, [o for o in obs if has_code(o.model.code, C.HER2_IHC)])
    ish = _read_ish(ctx, obs)
    stated = _read_stated(ctx, [o for o in obs if has_code(o.model.code, C.HER2_INTERPRETATION)])
    her2: dict[str, str | None] = {"ihc": ihc, "ish": ish}
    implied = her2_status(ihc, ish)
    if stated is not None and implied != "unresolved" and stated != implied:
        ctx.conflict(f"HER2 reported {stated} (48676-1) but IHC {ihc or 'n/a'} / ISH {ish or 'n/a'} read "
                     f"{implied} (ASCO/CAP): HER2 left unresolved; reconcile the reports")
        her2 = {"ihc": None, "ish": None}
    elif stated is not None:
        her2["status"] = stated
    ctx.out["her2"] = her2
    if her2_status(her2["ihc"], her2["ish"]) == "unresolved" and not ctx.conflicts:
        ctx.lack("HER2 IHC score and ISH result (LOINC 85319-2, 85318-4): no conclusive HER2 test in the record; "
                 "HER2 status decides whether mbcpath applies")


def _read_ihc(ctx: Ctx, items: list[Item]) -> str | None:
    readings: list[tuple[date | None, str, Item, str]] = []
    for it in latest(items):
        if has_code(it.model.code, C.HER2_IHC[1]):
            ctx.note(f"{it.ref}: HER2 IHC coded with LOINC 18474-7, which is not in mCODE STU4 TumorMarkerTestVS; "
                     "read as an IHC result")
        score, how = ihc_score(it.model)
        if score is None:
            pol = _polarity(it.model)
            if pol in ("positive", "negative"):
                ctx.note(f"{it.ref}: HER2 IHC reported '{pol}' without a score; kept as the report's "
                         "interpretation only")
                ctx.out.setdefault("_her2_ihc_polarity", (pol, it))
            continue
        readings.append((effective(it), score, it, how))
    if not readings:
        return None
    statuses = {her2_status(s, None) for _, s, _, _ in readings} - {"unresolved"}
    if len(statuses) > 1:
        shown = ", ".join(f"{s} ({it.ref}, {d or 'undated'})" for d, s, it, _ in readings)
        ctx.conflict(f"HER2 IHC results disagree: {shown}; HER2 IHC left unknown: confirm the current result "
                     "(retest a metastatic lesion if needed)")
        return None
    when, score, it, how = readings[0]
    ctx.cite("her2.ihc", it, code_label(it, C.HER2_IHC), when, how or f"IHC {score}")
    return score


def _ish_group(ratio: float, copies: float) -> int:
    """ASCO/CAP 2018 dual-probe ISH group (1-5)."""
    if ratio >= 2.0:
        return 1 if copies >= 4.0 else 2
    if copies >= 6.0:
        return 3
    return 4 if copies >= 4.0 else 5


def _read_ish(ctx: Ctx, obs: list[Item]) -> str | None:
    calls: list[tuple[str, Item]] = []
    for it in latest([o for o in obs if has_code(o.model.code, C.HER2_ISH)]):
        pol = _polarity(it.model)
        value = {"positive": "amplified", "negative": "not_amplified", "equivocal": "equivocal"}.get(pol or "")
        if value:
            calls.append((value, it))
    numeric = _ish_from_numbers(ctx, obs)
    if numeric is not None:
        calls.append(numeric)
    values = {v for v, _ in calls} - {"equivocal"}
    if len(values) > 1:
        shown = ", ".join(f"{v} ({it.ref})" for v, it in calls)
        ctx.conflict(f"HER2 ISH results disagree: {shown}; ISH left unknown: reconcile the reports")
        return None
    if not calls:
        return None
    value, it = calls[0]
    ctx.cite("her2.ish", it, code_label(it, (*C.HER2_ISH, C.HER2_ISH_RATIO)), effective(it), value)
    return value


def _ish_from_numbers(ctx: Ctx, obs: list[Item]) -> tuple[str, Item] | None:
    ratios = latest([o for o in obs if has_code(o.model.code, C.HER2_ISH_RATIO)])
    copies = latest([o for o in obs if has_code(o.model.code, C.HER2_ISH_COPIES)])
    if not ratios or not copies:
        return None
    r, c = number(ratios[0].model), number(copies[0].model)
    if r is None or c is None:
        return None
    group = _ish_group(r, c)
    if group in (2, 3, 4):
        ctx.lack(f"HER2 ISH ratio {r:g} with {c:g} copies/cell ({ratios[0].ref}) is ASCO/CAP 2018 group {group}: "
                 "needs the concurrent IHC review; record the reported ISH interpretation")
        return None
    ctx.cite("her2.ish", copies[0], code_label(copies[0], C.HER2_ISH_COPIES), effective(copies[0]),
             f"ISH group {group} (ratio {r:g}, {c:g} copies/cell)")
    return ("amplified" if group == 1 else "not_amplified"), ratios[0]


def _read_stated(ctx: Ctx, items: list[Item]) -> str | None:
    stated = {(_polarity(it.model), it.ref) for it in items} - {(None, it.ref) for it in items}
    values = {p for p, _ in stated if p in ("positive", "negative")}
    if len(values) > 1:
        ctx.conflict("HER2 interpretations disagree: " + ", ".join(f"{p} ({r})" for p, r in sorted(stated)))
        return None
    pol = ctx.out.pop("_her2_ihc_polarity", None)
    if values:
        value = values.pop()
        it = next(i for i in latest(items) if _polarity(i.model) == value)
        ctx.cite("her2.status", it, code_label(it, C.HER2_INTERPRETATION), effective(it), value)
        return value
    if pol is not None:
        ctx.cite("her2.status", pol[1], code_label(pol[1], C.HER2_IHC), effective(pol[1]),
                 f"IHC reported {pol[0]} without a score")
        return str(pol[0])
    return None


# --------------------------------------------------------------------------- ER / PR
def read_receptor(ctx: Ctx, field: str, percent: tuple[C.Code, ...], presence: tuple[C.Code, ...]) -> None:
    """``er_percent`` / ``pr_percent`` from a percentage, or 0 from a 'negative' report (see module doc)."""
    obs = ctx.usable(ctx.record.of("Observation"))
    label = field.split("_")[0].upper()
    for it in latest([o for o in obs if has_code(o.model.code, percent)]):
        value = number(it.model)
        if value is not None and 0 <= value <= 100:
            ctx.put(field, value, it, code_label(it, percent), effective(it))
            return
    for it in latest([o for o in obs if has_code(o.model.code, presence)]):
        pol = _polarity(it.model)
        if pol == "negative":
            ctx.put(field, 0.0, it, code_label(it, presence), effective(it),
                    "reported negative without a percentage: read as 0% (< 1%, ASCO/CAP 2020)")
            ctx.note(f"{label} reported negative without a percentage ({it.ref}): read as 0%")
            return
        if pol == "positive":
            ctx.lack(f"{label} percentage: {it.ref} reports {label} positive without the % of stained nuclei, which "
                     f"decides {label}-low (1-10%) handling")
            return
    ctx.lack(f"{label} status: no {label} result in the record")
