"""Primary and secondary cancer conditions, brain metastasis status, ILD and heart failure.

Rules:

* Metastatic sites come from SecondaryCancerCondition resources (SNOMED CT or ICD-10-CM C77-C79),
  leaving out refuted and entered-in-error ones; the metastatic diagnosis date is the earliest onset.
* A refuted (``verificationStatus = refuted``) brain, ILD or heart-failure condition is an explicit "no".
  An absent condition is *unknown*, never "none": it is returned as missing data.
* Brain status: mbcpath's ``brain-metastases-status`` extension when present; else the latest mCODE
  CancerDiseaseStatus whose ``focus`` is the brain condition: worsened -> active, stable or improved ->
  stable_treated (with a note); clinicalStatus remission/resolved -> stable_treated.
* Extracranial progression (read only at an active CNS event): the latest CancerDiseaseStatus about the
  cancer other than the brain lesion: worsened -> true, stable/improved -> false.
* ILD: active/recurrence/relapse -> active; resolved or inactive with a CTCAE grade -> grade1 or
  grade2_or_higher; without a grade -> missing data (the grade decides trastuzumab deruxtecan).
* Presentation: recurrent when a (neo)adjuvant treatment is recorded or the primary was diagnosed more than
  92 days before the metastatic diagnosis; de novo when within 92 days; otherwise unknown.

References
----------
HL7 mCODE STU4 PrimaryCancerCondition, SecondaryCancerCondition, CancerDiseaseStatus (97509-4) profiles.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from mbcpath.interop import codes as C
from mbcpath.interop.codes import codings, has_code
from mbcpath.interop.context import Ctx, effective, latest
from mbcpath.interop.fhir_read import Item, months_before
from mbcpath.interop.map_clinical import grade_of

DE_NOVO_WINDOW_DAYS = 92
_ACTIVE = {"active", "recurrence", "relapse"}


def clinical(it: Item) -> str:
    return next((c for _, c, _ in codings(getattr(it.model, "clinicalStatus", None))), "")


def refuted(it: Item) -> bool:
    return any(c == "refuted" for _, c, _ in codings(getattr(it.model, "verificationStatus", None)))


def site_of(it: Item) -> str | None:
    """The contract site of a secondary cancer condition, or None."""
    for system, code, _ in codings(it.model.code):
        if system == C.SNOMED and code in C.SECONDARY_SNOMED:
            return C.SECONDARY_SNOMED[code]
        if system == C.ICD10CM:
            return next((site for prefix, site in C.SECONDARY_ICD10 if code.startswith(prefix)), None)
    return None


def _is_primary(it: Item) -> bool:
    profiles = (it.raw.get("meta") or {}).get("profile") or []
    if any(p.endswith("mcode-primary-cancer-condition") for p in profiles):
        return True
    return any((s == C.SNOMED and c == C.BREAST_CANCER.code) or (s == C.ICD10CM and c.startswith("C50"))
               for s, c, _ in codings(it.model.code))


def read_conditions(ctx: Ctx) -> dict[str, date | None]:
    """Sites, metastatic diagnosis, brain, ILD, heart failure; returns the primary and metastatic dates."""
    conds = ctx.usable(ctx.record.of("Condition"))
    secondary = [c for c in conds if site_of(c) is not None]
    primary = [c for c in conds if _is_primary(c) and site_of(c) is None]
    met_dx = _read_sites(ctx, secondary)
    brain = [c for c in secondary if site_of(c) == "brain"]
    _read_brain(ctx, brain)
    _read_ild(ctx, [c for c in conds if has_code(c.model.code, C.ILD)])
    _read_heart_failure(ctx, [c for c in conds if has_code(c.model.code, C.HEART_FAILURE)])
    dx = [d for d in (effective(p) for p in primary) if d is not None]
    if not primary:
        ctx.note("no primary breast cancer Condition in the record")
    return {"primary": min(dx) if dx else None, "metastatic": met_dx}


def _read_sites(ctx: Ctx, secondary: list[Item]) -> date | None:
    sites: list[str] = []
    onsets: list[tuple[date, Item]] = []
    for it in secondary:
        if refuted(it):
            continue
        site = site_of(it) or "other"
        if clinical(it) in ("resolved", "inactive") and site != "brain":
            ctx.note(f"{it.ref}: {site} metastasis recorded as {clinical(it)}: not counted as a current site")
            continue
        if site not in sites:
            sites.append(site)
            ctx.cite("metastatic_sites", it, _code(it), effective(it), site)
        when = effective(it)
        if when is not None:
            onsets.append((when, it))
    ctx.out["metastatic_sites"] = sites
    if not sites:
        ctx.lack("metastatic sites: no SecondaryCancerCondition in the record")
    if not onsets:
        if sites:
            ctx.lack("metastatic diagnosis date: the secondary cancer conditions have no onset date")
        return None
    when, it = min(onsets, key=lambda x: x[0])
    ctx.put("metastatic_diagnosis_months_ago", months_before(when, ctx.as_of), it, _code(it), when,
            "earliest onset of a secondary cancer condition")
    return when


def _code(it: Item) -> str:
    return next((f"{s}|{c}" for s, c, _ in codings(it.model.code)), "")


def _read_brain(ctx: Ctx, brain: list[Item]) -> None:
    if not brain:
        ctx.lack("brain metastases: not recorded either way (no brain SecondaryCancerCondition, present or refuted)")
        return
    present = [b for b in latest(brain) if not refuted(b)]
    if not present:
        ctx.put("brain_metastases", "none", brain[0], _code(brain[0]), effective(brain[0]), "refuted")
        return
    it = present[0]
    status = _brain_status(ctx, it)
    if status is None:
        ctx.lack(f"brain metastases status: {it.ref} records brain metastases without their state (active, "
                 "stable after local therapy, symptomatic)")
        return
    ctx.put("brain_metastases", status, it, _code(it), effective(it))
    if status in ("active", "symptomatic"):
        _read_extracranial(ctx, it)


def _brain_status(ctx: Ctx, it: Item) -> str | None:
    for ext in it.raw.get("extension") or []:
        if ext.get("url") == C.EXT_BRAIN_STATUS and ext.get("valueCode") in ("stable_treated", "active",
                                                                              "symptomatic"):
            return str(ext["valueCode"])
    trend, _ = _trend(ctx, lambda focus: it.ref in focus)
    if trend == C.STATUS_WORSENED:
        return "active"
    if trend in (C.STATUS_STABLE, C.STATUS_IMPROVED) or clinical(it) in ("remission", "resolved", "inactive"):
        ctx.note(f"{it.ref}: brain metastases stable or improved: read as 'stable_treated'")
        return "stable_treated"
    if clinical(it) in _ACTIVE and trend is None:
        return None
    return None


def _trend(ctx: Ctx, about: Callable[[list[str]], bool]) -> tuple[str | None, Item | None]:
    """The latest CancerDiseaseStatus value (SNOMED code) whose focus list passes ``about``, and its resource."""
    obs = ctx.usable([o for o in ctx.record.of("Observation") if has_code(o.model.code, C.DISEASE_STATUS)])
    for o in latest(obs):
        focus = [f.get("reference", "") for f in o.raw.get("focus") or []]
        if about(focus):
            code = next((c for s, c, _ in codings(getattr(o.model, "valueCodeableConcept", None)) if s == C.SNOMED),
                        None)
            return code, o
    return None, None


def _read_extracranial(ctx: Ctx, brain: Item) -> None:
    trend, obs = _trend(ctx, lambda focus: brain.ref not in focus)
    if obs is None or trend not in (C.STATUS_WORSENED, C.STATUS_STABLE, C.STATUS_IMPROVED):
        ctx.lack("extracranial disease status at the CNS event (CancerDiseaseStatus 97509-4 about the "
                 "extracranial disease): decides local therapy and continuing the current regimen")
        return
    ctx.put("extracranial_progression", trend == C.STATUS_WORSENED, obs, f"{C.LOINC}|{C.DISEASE_STATUS.code}",
            effective(obs), f"SNOMED {trend}")


def _read_ild(ctx: Ctx, items: list[Item]) -> None:
    if not items:
        ctx.lack("ILD/pneumonitis history: not recorded either way (decides trastuzumab deruxtecan)")
        return
    present = [i for i in latest(items) if not refuted(i)]
    if not present:
        ctx.put("ild_history", "none", items[0], _code(items[0]), effective(items[0]), "refuted")
        return
    it = present[0]
    if clinical(it) in _ACTIVE:
        ctx.put("ild_history", "active", it, _code(it), effective(it))
        return
    grade = grade_of(it)
    if grade is None:
        ctx.lack(f"ILD grade: {it.ref} records past ILD/pneumonitis without a CTCAE grade (grade >= 2 rules out "
                 "trastuzumab deruxtecan)")
        return
    ctx.put("ild_history", "grade1" if grade <= 1 else "grade2_or_higher", it, _code(it), effective(it),
            f"CTCAE grade {grade}")


def _read_heart_failure(ctx: Ctx, items: list[Item]) -> None:
    for it in latest(items):
        if refuted(it):
            ctx.put("heart_failure", False, it, _code(it), effective(it), "refuted")
        else:
            ctx.put("heart_failure", clinical(it) in _ACTIVE or clinical(it) == "", it, _code(it), effective(it))
        return


def read_presentation(ctx: Ctx, dates: dict[str, date | None], adjuvant: bool) -> None:
    primary, met = dates.get("primary"), dates.get("metastatic")
    if adjuvant:
        ctx.out["presentation"] = "recurrent"
        ctx.note("presentation 'recurrent': (neo)adjuvant treatment is recorded")
    elif primary is not None and met is not None:
        gap = (met - primary).days
        ctx.out["presentation"] = "de_novo" if gap <= DE_NOVO_WINDOW_DAYS else "recurrent"
        ctx.note(f"presentation '{ctx.out['presentation']}': metastatic diagnosis {gap} days after the primary "
                 f"(de novo within {DE_NOVO_WINDOW_DAYS} days)")
    else:
        ctx.lack("presentation (de novo or recurrent): needs the primary and metastatic diagnosis dates")
