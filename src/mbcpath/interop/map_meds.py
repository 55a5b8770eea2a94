"""Cancer-related medications (mCODE MedicationRequest / MedicationStatement / MedicationAdministration)
to the contract's treatments.

Mapping rules (each result records the resources it came from):

* **Drug**: RxNorm ingredient, clinical drug, brand or pack codes through the project's RxNorm map
  (``data/rxnorm_inn.json``); else the coding display or text, read by product and ingredient name. A drug
  outside the contract (zoledronic acid, alpelisib ...) is left out with a note.
* **Period**: MedicationStatement / Administration ``effective[x]``; MedicationRequest
  ``dosageInstruction.timing.repeat.boundsPeriod`` (else ``dispenseRequest.validityPeriod``, else
  ``authoredOn`` as the start). Administrations of one drug form one course: first to last
  administration, ongoing while the last lies within 42 days of the decision date (a note says so).
* **Ended or ongoing**: status active / on-hold / intended = ongoing; completed / stopped = ended.
  Drafts, proposals, cancelled, not-taken and entered-in-error records are left out.
* **Stop reason** from ``statusReason`` (mCODE TreatmentTerminationReasonVS): 266721009 no response ->
  progression; 407563006 not tolerated -> toxicity; 105480006 refused by patient -> patient_choice. Other
  reasons (financial, moved, lost to follow-up, trial completed, pregnancy) have no contract value: null with
  a note. ``completed`` without a reason -> completed; ``stopped`` without a reason -> null and missing data
  (progression decides the next line).
* **Setting**: mbcpath's ``treatment-setting`` extension; else started on or after the metastatic diagnosis
  (14 days' tolerance) -> metastatic; before it -> neoadjuvant when before a recorded breast surgery, else
  adjuvant. mCODE procedure intent (curative / palliative) is compared and a disagreement noted.
* **Regimens**: drugs sharing mbcpath's ``regimen`` extension or a MedicationRequest ``groupIdentifier``
  form one treatment; otherwise drugs of one setting started within 14 days of each other. When some drugs of
  a metastatic regimen end (not for progression) and the others go on, the regimen splits into an induction
  (all drugs) and a maintenance phase (the drugs that go on, with any started at that point).
* **Line and phase**: mbcpath's ``line-of-therapy`` / ``treatment-phase`` extensions; otherwise the line
  is left for the engine to infer (a progression starts the next line).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from mbcpath.domain.drugs import ANTI_HER2_CLASSES, DRUG_CLASSES
from mbcpath.interop import codes as C
from mbcpath.interop.codes import codings, drugs_from_text, non_contract_drug, rxnorm_map
from mbcpath.interop.context import Ctx
from mbcpath.interop.fhir_read import Item, months_before, to_date

GROUP_WINDOW_DAYS = 14
ONGOING_ADMIN_DAYS = 42
_SKIP_STATUS = {"draft", "cancelled", "entered-in-error", "not-taken", "unknown"}
_ONGOING = {"active", "on-hold", "intended", "in-progress"}


@dataclass
class Course:
    """One drug (or fixed combination) over one period, from one or more resources."""

    drugs: tuple[str, ...]
    start: date
    end: date | None
    stop: str | None
    items: list[Item]
    group: str | None = None
    setting: str | None = None
    line: int | None = None
    phase: str | None = None
    intent: str | None = None
    unknown_stop: bool = False
    end_estimated: bool = False


# --------------------------------------------------------------------------- drugs
def medication_drugs(ctx: Ctx, it: Item) -> tuple[str, ...] | None:
    """Contract INNs of a medication resource (None: not a drug the contract names)."""
    concept = it.raw.get("medicationCodeableConcept")
    ref = (it.raw.get("medicationReference") or {}).get("reference")
    if concept is None and ref:
        med = next((m for m in ctx.record.of("Medication") if ref.endswith(f"Medication/{m.raw.get('id')}")), None)
        concept = med.raw.get("code") if med else None
    concept = concept or {}
    table = rxnorm_map()
    for system, code, _ in codings(concept):
        if system == C.RXNORM and code in table:
            return table[code].drugs or None
    words = " ".join([d for _, _, d in codings(concept)] + [concept.get("text") or ""])
    found = drugs_from_text(words)
    if found:
        ctx.note(f"{it.ref}: drug read from its name {words.strip()!r} (code not in the RxNorm map)")
        return found
    outside = non_contract_drug(words)
    ctx.note(f"{it.ref}: {outside or words.strip() or 'medication without code or text'} is not a drug mbcpath "
             "reasons about: left out")
    return None


# --------------------------------------------------------------------------- one resource -> course
def _period(it: Item) -> tuple[date | None, date | None]:
    m = it.model
    rtype = it.raw["resourceType"]
    if rtype in ("MedicationStatement", "MedicationAdministration"):
        p = getattr(m, "effectivePeriod", None)
        if p is not None:
            return to_date(p.start), to_date(p.end)
        return to_date(getattr(m, "effectiveDateTime", None)), None
    for dosage in getattr(m, "dosageInstruction", None) or []:
        bounds = getattr(getattr(dosage.timing, "repeat", None), "boundsPeriod", None) if dosage.timing else None
        if bounds is not None and to_date(bounds.start) is not None:
            return to_date(bounds.start), to_date(bounds.end)
    vp = getattr(getattr(m, "dispenseRequest", None), "validityPeriod", None)
    if vp is not None and to_date(vp.start) is not None:
        return to_date(vp.start), to_date(vp.end)
    return to_date(getattr(m, "authoredOn", None)), None


def _ext(it: Item, url: str) -> Any:
    for ext in it.raw.get("extension") or []:
        if ext.get("url") == url:
            return next((v for k, v in ext.items() if k.startswith("value")), None)
    return None


def _stop(ctx: Ctx, it: Item, status: str) -> tuple[str | None, bool]:
    """(stop_reason, unknown) from statusReason and status."""
    reasons = it.raw.get("statusReason")
    concepts = reasons if isinstance(reasons, list) else [reasons] if reasons else []
    for concept in concepts:
        for system, code, display in codings(concept):
            if system == C.SNOMED and code in C.TERMINATION_REASONS:
                mapped = C.TERMINATION_REASONS[code]
                if mapped is None:
                    ctx.note(f"{it.ref}: stopped for '{display or code}', which has no contract stop reason")
                return mapped, mapped is None
    if status == "completed":
        return "completed", False
    return None, True


def course_of(ctx: Ctx, it: Item) -> Course | None:
    status = str(getattr(it.model, "status", "") or "")
    if status in _SKIP_STATUS or getattr(it.model, "intent", None) == "proposal":
        ctx.note(f"{it.ref}: status {status or 'proposal'}: not a treatment given, left out")
        return None
    drugs = medication_drugs(ctx, it)
    if not drugs:
        return None
    start, end = _period(it)
    if start is None:
        ctx.lack(f"start date of {'+'.join(drugs)} ({it.ref}): not recorded")
        return None
    if start > ctx.as_of:
        ctx.note(f"{it.ref}: starts {start.isoformat()}, after the decision date: left out")
        return None
    ongoing = status in _ONGOING and (end is None or end > ctx.as_of)
    stop, unknown = (None, False) if ongoing else _stop(ctx, it, status)
    intent = next((c for s, c, _ in codings(_ext(it, C.PROCEDURE_INTENT_EXT)) if s == C.SNOMED), None)
    group = _ext(it, C.EXT_REGIMEN) or ((it.raw.get("groupIdentifier") or {}).get("value"))
    course = Course(drugs, start, None if ongoing else (end or start), stop, [it], group=group,
                    setting=_ext(it, C.EXT_SETTING), line=_ext(it, C.EXT_LINE), phase=_ext(it, C.EXT_PHASE),
                    intent=intent, unknown_stop=unknown, end_estimated=not ongoing and end is None)
    if not ongoing and end is None:
        ctx.lack(f"end date of {'+'.join(drugs)} ({it.ref}, status {status}): not recorded; taken as its start date")
    return course


def _merge_administrations(ctx: Ctx, courses: list[Course]) -> list[Course]:
    """Administrations of the same drug(s) in the same regimen become one course."""
    admin = [c for c in courses if c.items[0].raw["resourceType"] == "MedicationAdministration"]
    rest = [c for c in courses if c not in admin]
    by_key: dict[tuple[Any, ...], list[Course]] = {}
    for c in admin:
        by_key.setdefault((c.drugs, c.group, c.setting, c.line, c.phase), []).append(c)
    for group in by_key.values():
        first = min(group, key=lambda c: c.start)
        last = max(group, key=lambda c: c.end or c.start)
        last_day = last.end or last.start
        ongoing = (ctx.as_of - last_day).days <= ONGOING_ADMIN_DAYS and last.stop in (None, "completed")
        items = [i for c in group for i in c.items]
        merged = replace(first, items=items, end=None if ongoing else last_day,
                         stop=None if ongoing else last.stop, unknown_stop=False if ongoing else last.unknown_stop)
        if ongoing:
            ctx.note(f"{'+'.join(first.drugs)}: last administration {last_day.isoformat()} is within "
                     f"{ONGOING_ADMIN_DAYS} days of the decision date: read as ongoing")
        rest.append(merged)
    return rest


# --------------------------------------------------------------------------- courses -> treatments
def _setting(ctx: Ctx, c: Course, met_dx: date | None, surgery: date | None) -> str:
    if c.setting in ("neoadjuvant", "adjuvant", "metastatic"):
        return str(c.setting)
    if met_dx is None:
        setting = "adjuvant" if c.intent == C.INTENT_CURATIVE.code else "metastatic"
        ctx.note(f"{'+'.join(c.drugs)}: setting '{setting}' from its intent/no metastatic diagnosis date")
        return setting
    if c.start >= met_dx - timedelta(days=GROUP_WINDOW_DAYS):
        setting = "metastatic"
    else:
        setting = "neoadjuvant" if surgery is not None and c.start < surgery else "adjuvant"
    expected = {"metastatic": C.INTENT_PALLIATIVE.code}.get(setting, C.INTENT_CURATIVE.code)
    if c.intent in (C.INTENT_PALLIATIVE.code, C.INTENT_CURATIVE.code) and c.intent != expected:
        ctx.note(f"{'+'.join(c.drugs)}: procedure intent disagrees with the dates; setting '{setting}' from the dates")
    return setting


def _cluster(courses: list[Course]) -> list[list[Course]]:
    """Group courses into regimens: shared group id, else same setting and start within 14 days."""
    groups: dict[str, list[Course]] = {}
    loose: list[list[Course]] = []
    for c in sorted(courses, key=lambda c: c.start):
        if c.group:
            groups.setdefault(f"{c.setting}:{c.group}", []).append(c)
            continue
        home = next((g for g in loose if g[0].setting == c.setting and g[0].line == c.line and g[0].phase == c.phase
                     and abs((c.start - g[0].start).days) <= GROUP_WINDOW_DAYS), None)
        if home is None:
            loose.append([c])
        else:
            home.append(c)
    return list(groups.values()) + loose


def _split(group: list[Course]) -> list[list[Course]]:
    """Induction (all drugs) / maintenance (drugs that go on) when some end early, not for progression."""
    ends = {c.end for c in group}
    if len(ends) == 1 or group[0].setting != "metastatic" or group[0].phase is not None:
        return [group]
    first_end = min(e for e in ends if e is not None)
    early = [c for c in group if c.end == first_end]
    if any(c.stop == "progression" or c.end_estimated for c in early):
        return [group]
    later = [c for c in group if c.end != first_end]
    induction = [replace(c, end=first_end, phase="induction",
                         stop=c.stop if c in early else "completed", unknown_stop=c.unknown_stop and c in early)
                 for c in group]
    maintenance = [replace(c, start=first_end, phase="maintenance") for c in later]
    return [induction, maintenance]


def _join_maintenance(groups: list[list[Course]]) -> list[list[Course]]:
    """A maintenance phase absorbs drugs started at its start (e.g. endocrine therapy added to HP)."""
    out: list[list[Course]] = []
    for g in groups:
        home = next((h for h in out if h[0].phase == "maintenance" and g[0].setting == "metastatic"
                     and g[0].phase in (None, "maintenance")
                     and abs((g[0].start - h[0].start).days) <= GROUP_WINDOW_DAYS
                     and {c.end for c in g} == {c.end for c in h}), None)
        if home is None:
            out.append(g)
        else:
            home.extend(replace(c, phase="maintenance") for c in g)
    return out


def _treatment(ctx: Ctx, group: list[Course], index: int) -> dict[str, Any]:
    drugs = sorted({d for c in group for d in c.drugs})
    start = min(c.start for c in group)
    ended = [c.end for c in group]
    end = None if any(e is None for e in ended) else max(e for e in ended if e is not None)
    last = [c for c in group if c.end == end] or group
    stop = None if end is None else next((c.stop for c in last if c.stop), None)
    t: dict[str, Any] = {"drugs": drugs, "setting": group[0].setting,
                         "started_months_ago": months_before(start, ctx.as_of),
                         "ended_months_ago": None if end is None else months_before(end, ctx.as_of),
                         "stop_reason": stop}
    if group[0].setting == "metastatic":
        t["line"] = next((c.line for c in group if c.line), None)
        t["phase"] = next((c.phase for c in group if c.phase), None)
    if end is not None and stop is None and any(c.unknown_stop for c in last):
        ctx.lack(f"why {'+'.join(drugs)} was stopped ({end.isoformat()}): no reason recorded; progression on it "
                 "decides the next line")
    for c in group:
        for it in c.items:
            ctx.cite(f"treatments[{index}]", it, _rx(it), c.start, "+".join(c.drugs))
    return t


def _rx(it: Item) -> str:
    concept = it.raw.get("medicationCodeableConcept") or {}
    return next((f"{s}|{c}" for s, c, _ in codings(concept)), "")


def read_treatments(ctx: Ctx, met_dx: date | None, surgery: date | None) -> list[dict[str, Any]]:
    """Every cancer medication in the record as contract treatments (see the module's rules)."""
    types = ("MedicationRequest", "MedicationStatement", "MedicationAdministration")
    courses = [c for it in ctx.usable([i for t in types for i in ctx.record.of(t)]) if (c := course_of(ctx, it))]
    courses = _merge_administrations(ctx, courses)
    for c in courses:
        c.setting = _setting(ctx, c, met_dx, surgery)
    groups = _join_maintenance([part for g in _cluster(courses) for part in _split(g)])
    groups.sort(key=lambda g: (min(c.start for c in g), g[0].phase or ""))
    treatments = [_treatment(ctx, g, i) for i, g in enumerate(groups)]
    ctx.out["treatments"] = treatments
    return treatments


def first_anti_her2(treatments: list[dict[str, Any]], as_of: date) -> date | None:
    """Start date of the first treatment with an anti-HER2 drug (for the LVEF baseline)."""
    from mbcpath.interop.fhir_read import date_months_before

    starts = [t["started_months_ago"] for t in treatments
              if any(DRUG_CLASSES[d] in ANTI_HER2_CLASSES for d in t["drugs"])]
    return date_months_before(max(starts), as_of) if starts else None
