"""Patient, performance status, cardiac function, QTc, pregnancy, menopausal status, neuropathy, visceral crisis.

Staleness limits (a value older than its limit is not used; it is returned as missing data):

* LVEF: 3 months (92 days). The trastuzumab and pertuzumab labels ask for LVEF before starting and
  about every 3 months during treatment; a decision to start or continue anti-HER2 therapy needs a current one.
* QTc: 3 months (92 days), a project choice (the ribociclib label asks for an ECG before starting).
* Pregnancy status: 30 days, a project choice (a status older than a month says little about today).

The most recent value is used; the latest LVEF measured on or before the start of the first anti-HER2
treatment is the baseline (``lvef_baseline_percent``) when it is not the latest value itself.

References
----------
HERCEPTIN (trastuzumab) US prescribing information, 2.1 and 5.1 (LVEF before and every 3 months during).
PERJETA (pertuzumab) US prescribing information, 5.1 (LVEF before and every 3 months).
KISQALI (ribociclib) US prescribing information, 5.3 (ECG before initiation; QTcF >= 450 ms).
Oken MM et al. Toxicity and response criteria of the ECOG. Am J Clin Oncol 1982;5:649-55.
"""

from __future__ import annotations

from datetime import date

from mbcpath.interop import codes as C
from mbcpath.interop.codes import codings, has_code
from mbcpath.interop.context import Ctx, answer_codes, code_label, effective, latest, number
from mbcpath.interop.fhir_read import Item, to_date

LVEF_MAX_AGE_DAYS = 92
QTC_MAX_AGE_DAYS = 92
PREGNANCY_MAX_AGE_DAYS = 30


def read_patient(ctx: Ctx, patient: Item) -> None:
    """``id``, ``age_years`` (full years at the decision date) and ``sex`` from the Patient resource."""
    m = patient.model
    ctx.out["id"] = m.id or "anonymous"
    ctx.cite("id", patient)
    if m.gender in ("female", "male"):
        ctx.put("sex", m.gender, patient, "Patient.gender")
    else:
        ctx.lack(f"sex: Patient.gender is {m.gender!r}; the contract needs female or male")
    born = to_date(m.birthDate)
    if born is None:
        ctx.lack("age: Patient.birthDate is missing")
        return
    age = ctx.as_of.year - born.year - ((ctx.as_of.month, ctx.as_of.day) < (born.month, born.day))
    ctx.put("age_years", age, patient, "Patient.birthDate", born)


def _fresh(ctx: Ctx, it: Item, limit: int, what: str, when: date | None = None) -> bool:
    when = when or effective(it)
    if when is None:
        ctx.lack(f"{what}: {it.ref} has no date, so it cannot be known to be current")
        return False
    age = (ctx.as_of - when).days
    if age > limit:
        ctx.lack(f"{what}: the latest ({it.ref}, {when.isoformat()}) is {age} days old, older than the {limit}-day "
                 "limit: measure again")
        return False
    return True


def read_ecog(ctx: Ctx) -> None:
    obs = latest(ctx.usable([o for o in ctx.record.of("Observation") if has_code(o.model.code, C.ECOG)]))
    for it in obs:
        value = number(it.model)
        if value is not None and value in (0, 1, 2, 3, 4):
            ctx.put("ecog", int(value), it, code_label(it, C.ECOG), effective(it))
            return
        if value == 5:
            ctx.note(f"{it.ref}: ECOG 5 (dead) is not a decision input: left out")
    if any(has_code(o.model.code, C.KARNOFSKY) for o in ctx.record.of("Observation")):
        ctx.note("Karnofsky performance status present: not converted to ECOG (no validated one-to-one mapping)")
    ctx.lack("ECOG performance status (LOINC 89247-1)")


def read_lvef(ctx: Ctx, first_anti_her2: date | None) -> None:
    obs = [o for o in latest(ctx.usable([o for o in ctx.record.of("Observation") if has_code(o.model.code, C.LVEF)]))
           if number(o.model) is not None]
    if not obs:
        ctx.lack("LVEF (LOINC 10230-1): no ejection fraction in the record; anti-HER2 therapy needs a current one")
        return
    newest = obs[0]
    if _fresh(ctx, newest, LVEF_MAX_AGE_DAYS, "LVEF"):
        ctx.put("lvef_percent", number(newest.model), newest, code_label(newest, C.LVEF), effective(newest))
    if first_anti_her2 is None:
        return
    before = [o for o in obs if (effective(o) or date.max) <= first_anti_her2]
    if before and before[0] is not newest:
        ctx.put("lvef_baseline_percent", number(before[0].model), before[0], code_label(before[0], C.LVEF),
                effective(before[0]), f"latest LVEF on or before the first anti-HER2 treatment ({first_anti_her2})")


def read_qtc(ctx: Ctx) -> None:
    """QTcF (76634-5) first; else a QTc of unstated correction (8636-3) or Bazett (76635-2), with a note.

    A QTc given as a component of an ECG observation counts as that observation's value.
    """
    obs = ctx.usable(ctx.record.of("Observation"))
    for code, how in ((C.QTCF, ""), (C.QTC, "QTc correction method not stated: read as QTcF"),
                      (C.QTC_BAZETT, "Bazett-corrected QTc read as QTcF (Bazett overcorrects above 60/min, so "
                                     "it errs towards exclusion)")):
        found = _qtc_values(obs, code)
        if not found:
            continue
        when, value, it = found[0]
        if _fresh(ctx, it, QTC_MAX_AGE_DAYS, "QTc", when):
            ctx.put("qtcf_ms", value, it, f"{code.system}|{code.code}", when, how)
            if how:
                ctx.note(f"{it.ref}: {how}")
        return
    ctx.lack("QTcF (LOINC 76634-5): no corrected QT interval in the record (decides ribociclib)")


def _qtc_values(obs: list[Item], code: C.Code) -> list[tuple[date | None, float, Item]]:
    """``(date, ms, observation)`` for ``code`` as an observation's value or one of its components, newest first."""
    out: list[tuple[date | None, float, Item]] = []
    for o in obs:
        parts = [o.model] if has_code(o.model.code, code) else []
        parts += [c for c in getattr(o.model, "component", None) or [] if has_code(c.code, code)]
        for part in parts:
            value = number(part)
            if value is not None:
                out.append((effective(o), value, o))
    return sorted(out, key=lambda x: x[0] or date.min, reverse=True)


def read_pregnancy(ctx: Ctx) -> None:
    if ctx.out.get("sex") == "male":
        return
    for it in latest(ctx.usable([o for o in ctx.record.of("Observation") if has_code(o.model.code,
                                                                                        C.PREGNANCY_STATUS)])):
        found = answer_codes(it.model)
        value = True if (C.SNOMED, C.PREGNANT.code) in found else False if (C.SNOMED, C.NOT_PREGNANT.code) in found \
            else None
        if value is None:
            continue
        if _fresh(ctx, it, PREGNANCY_MAX_AGE_DAYS, "pregnancy status"):
            ctx.put("pregnant", value, it, code_label(it, C.PREGNANCY_STATUS), effective(it))
        return
    ctx.lack("pregnancy status (LOINC 82810-3): not recorded; anti-HER2 antibodies are contraindicated in pregnancy")


def read_menopause(ctx: Ctx) -> None:
    if ctx.out.get("sex") == "male":
        ctx.out["menopausal_status"] = "not_applicable"
        return
    pool = ctx.usable(ctx.record.of("Observation") + ctx.record.of("Condition"))
    for it in latest(pool):
        concept = getattr(it.model, "valueCodeableConcept", None) if it.raw["resourceType"] == "Observation" \
            else it.model.code
        for system, code, _ in codings(concept):
            if system == C.SNOMED and code in C.MENOPAUSAL:
                ctx.put("menopausal_status", C.MENOPAUSAL[code], it, f"{system}|{code}", effective(it))
                return
    ctx.lack("menopausal status: not recorded (decides ovarian function suppression with endocrine therapy)")


def read_neuropathy(ctx: Ctx) -> None:
    """CTCAE grade from an mbcpath neuropathy-grade observation, or a neuropathy Condition with a grade."""
    obs = latest(ctx.usable([o for o in ctx.record.of("Observation") if has_code(o.model.code, C.NEUROPATHY_GRADE)]))
    if obs and number(obs[0].model) in (0, 1, 2, 3, 4):
        ctx.put("neuropathy_grade", int(number(obs[0].model) or 0), obs[0], code_label(obs[0], C.NEUROPATHY_GRADE),
                effective(obs[0]))
        return
    for it in latest(ctx.usable([c for c in ctx.record.of("Condition") if has_code(c.model.code, C.NEUROPATHY)])):
        grade = grade_of(it)
        if grade is not None:
            ctx.put("neuropathy_grade", grade, it, code_label(it, C.NEUROPATHY), effective(it), "CTCAE grade")
            return
        ctx.lack(f"neuropathy grade: {it.ref} records peripheral neuropathy without a CTCAE grade")
        return
    ctx.lack("peripheral neuropathy grade: not recorded (decides taxane use)")


def read_visceral_crisis(ctx: Ctx) -> None:
    obs = latest(ctx.usable([o for o in ctx.record.of("Observation") if has_code(o.model.code, C.VISCERAL_CRISIS)]))
    if obs and isinstance(getattr(obs[0].model, "valueBoolean", None), bool):
        ctx.put("visceral_crisis", obs[0].model.valueBoolean, obs[0], code_label(obs[0], C.VISCERAL_CRISIS),
                effective(obs[0]))
        return
    ctx.lack("visceral crisis: not recorded (rules out endocrine therapy alone)")


def grade_of(it: Item) -> int | None:
    """The CTCAE grade extension of a resource, if any."""
    for ext in it.raw.get("extension") or []:
        if ext.get("url") == C.EXT_GRADE and isinstance(ext.get("valueInteger"), int):
            return int(ext["valueInteger"])
    return None
