"""Contract patient -> mCODE STU4 Bundle, and a seeded generator of HER2+ MBC bundles.

:func:`patient_to_bundle` writes what :func:`mbcpath.interop.fhir.fhir_to_patient` reads, in one of
several coding styles (:class:`Style`: medication resource type, RxNorm ingredient / clinical drug / brand /
combination-product codes, SNOMED CT or ICD-10-CM sites, HER2 score as text or LOINC answer, Bundle type), so
a round trip gives back the same patient. Contract fields with no standard element use mbcpath's
documented extensions (docs/interop.md). Not encoded (the importer cannot read them back yet): hepatic,
interacting_drugs, gate_overrides, pregnancy_trimester, distant_metastases, treatment cycles and
pathological_response; :func:`patient_to_bundle` refuses a patient that sets them.

:func:`generate_bundles` yields seeded, valid HER2+ MBC bundles that vary line, CNS state, HR status,
LVEF, prior drugs and coding style (:func:`generate_cases` also yields the contract patient each came from).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from mbcpath.interop import codes as C
from mbcpath.interop.fhir_read import date_months_before

UNSUPPORTED = ("hepatic", "pregnancy_trimester", "distant_metastases")
MED_TYPES = ("MedicationStatement", "MedicationRequest", "MedicationAdministration")


@dataclass(frozen=True)
class Style:
    """How a bundle is coded (all styles carry the same clinical content)."""

    med_type: str = "MedicationStatement"
    rx_level: str = "ingredient"        # ingredient | clinical | brand
    combination_products: bool = False  # Phesgo for trastuzumab + pertuzumab
    site_system: str = "snomed"         # snomed | icd10
    her2_value: str = "text"            # text | answer-code | string
    bundle_type: str = "collection"     # collection | searchset | transaction

    @classmethod
    def random(cls, rng: random.Random) -> Style:
        return cls(med_type=rng.choice(MED_TYPES), rx_level=rng.choice(("ingredient", "clinical", "brand")),
                   combination_products=rng.random() < 0.3, site_system=rng.choice(("snomed", "icd10")),
                   her2_value=rng.choice(("text", "answer-code", "string")),
                   bundle_type=rng.choice(("collection", "searchset", "transaction")))


class _Writer:
    def __init__(self, patient: dict[str, Any], as_of: date, style: Style) -> None:
        self.p, self.as_of, self.style = patient, as_of, style
        self.pid = re.sub(r"[^A-Za-z0-9\-.]", "-", str(patient.get("id") or "anonymous"))[:64]
        self.resources: list[dict[str, Any]] = []
        self.n = 0

    def when(self, months: float) -> str:
        return date_months_before(months, self.as_of).isoformat()

    def add(self, rtype: str, body: dict[str, Any], profile: str | None = None) -> str:
        self.n += 1
        rid = f"{self.pid}-{rtype.lower()}-{self.n}"
        res: dict[str, Any] = {"resourceType": rtype, "id": rid}
        if profile:
            res["meta"] = {"profile": [profile]}
        if rtype != "Patient":
            res["subject" if rtype != "MedicationAdministration" or True else "patient"] = {
                "reference": f"Patient/{self.pid}"}
        res.update(body)
        self.resources.append(res)
        return f"{rtype}/{rid}"

    def obs(self, code: C.Code, value: dict[str, Any], months: float, profile: str | None = None,
            extra: dict[str, Any] | None = None) -> str:
        body = {"status": "final", "code": {"coding": [code.coding()]}, "effectiveDateTime": self.when(months),
                **value, **(extra or {})}
        return self.add("Observation", body, profile)

    def condition(self, code: C.Code, months: float | None, *, refuted: bool = False, clinical: str = "active",
                  extension: list[dict[str, Any]] | None = None, profile: str | None = None) -> str:
        body: dict[str, Any] = {
            "verificationStatus": {"coding": [{"system": C.CONDITION_VER_STATUS,
                                               "code": "refuted" if refuted else "confirmed"}]},
            "code": {"coding": [code.coding()]}}
        if not refuted:
            body["clinicalStatus"] = {"coding": [{"system": C.CONDITION_CLINICAL, "code": clinical}]}
        if months is not None:
            body["onsetDateTime"] = self.when(months)
        if extension:
            body["extension"] = extension
        return self.add("Condition", body, profile)


def _quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"valueQuantity": {"value": value, "unit": unit, "system": C.UCUM, "code": code}}


def _concept(code: C.Code) -> dict[str, Any]:
    return {"valueCodeableConcept": {"coding": [code.coding()]}}


def patient_to_bundle(patient: dict[str, Any], as_of: date, style: Style | None = None) -> dict[str, Any]:
    """An mCODE STU4 Bundle for a contract patient (a dict in the contract's JSON form)."""
    bad = [k for k in UNSUPPORTED if patient.get(k) not in (None, [], {})]
    bad += [k for k in ("interacting_drugs", "gate_overrides") if patient.get(k)]
    bad += [f"treatments[{i}].{k}" for i, t in enumerate(patient.get("treatments") or [])
            for k in ("cycles", "pathological_response") if t.get(k) is not None]
    if bad:
        raise ValueError(f"patient_to_bundle cannot encode {', '.join(bad)} yet (see mbcpath.interop.generator)")
    w = _Writer(patient, as_of, style or Style())
    _patient(w)
    _markers(w)
    _clinical(w)
    _disease(w)
    _treatments(w)
    return _bundle(w)


def _patient(w: _Writer) -> None:
    p = w.p
    born = date(w.as_of.year - int(p["age_years"]), w.as_of.month, 1) - timedelta(days=1)
    body: dict[str, Any] = {"gender": p["sex"], "birthDate": born.isoformat()}
    context = _context(p)
    if context:
        body["extension"] = [{"url": C.EXT_CONTEXT, "extension": context}]
    w.resources.append({"resourceType": "Patient", "id": w.pid,
                        "meta": {"profile": [C.MCODE_SD + "mcode-cancer-patient"]}, **body})


def _context(p: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    avoid = (p.get("preferences") or {}).get("avoid_chemotherapy")
    if avoid is not None:
        out.append({"url": "avoid-chemotherapy", "valueBoolean": avoid})
    out += [{"url": "unavailable-drug", "valueString": d} for d in p.get("unavailable_drugs") or []]
    out += [{"url": "available-drug", "valueString": d} for d in p.get("available_drugs") or []]
    if p.get("decision_point"):
        out.append({"url": "decision-point", "valueCode": p["decision_point"]})
    return out


def _markers(w: _Writer) -> None:
    p, tm = w.p, C.MCODE_SD + "mcode-tumor-marker-test"
    dx = float(p.get("metastatic_diagnosis_months_ago") or 0)
    her2 = p.get("her2") or {}
    if her2.get("ihc") is not None:
        w.obs(C.HER2_IHC[0], _ihc_value(her2["ihc"], w.style.her2_value), dx, tm)
    if her2.get("ish") is not None:
        answer = {"amplified": C.ANSWER_POSITIVE, "not_amplified": C.ANSWER_NEGATIVE}.get(her2["ish"])
        value = _concept(answer) if answer else {"valueCodeableConcept": {"text": "Equivocal"}}
        w.obs(C.HER2_ISH[0], value, dx, tm)
    if her2.get("status") is not None:
        w.obs(C.HER2_INTERPRETATION, _concept(C.ANSWER_POSITIVE if her2["status"] == "positive"
                                              else C.ANSWER_NEGATIVE), dx, tm)
    for key, code in (("er_percent", C.ER_PERCENT[0]), ("pr_percent", C.PR_PERCENT[0])):
        if p.get(key) is not None:
            w.obs(code, _quantity(float(p[key]), "%", "%"), dx, tm)


def _ihc_value(score: str, how: str) -> dict[str, Any]:
    if how == "string":
        return {"valueString": score}
    if how == "answer-code":
        code = next(k for k, v in C.HER2_IHC_ANSWERS.items() if v == score)
        return {"valueCodeableConcept": {"coding": [{"system": C.LOINC, "code": code, "display": score}]}}
    return {"valueCodeableConcept": {"text": f"IHC {score}"}}


def _clinical(w: _Writer) -> None:
    p = w.p
    if p.get("ecog") is not None:
        w.obs(C.ECOG, {"valueInteger": int(p["ecog"])}, 0.5, C.MCODE_SD + "mcode-ecog-performance-status")
    meno = p.get("menopausal_status")
    if meno in C.MENOPAUSAL_CODES:
        w.obs(C.MENOPAUSAL_STATUS_OBS, _concept(C.MENOPAUSAL_CODES[meno]), 1.0)
    if p.get("pregnant") is not None and p.get("sex") == "female":
        w.obs(C.PREGNANCY_STATUS, _concept(C.PREGNANT if p["pregnant"] else C.NOT_PREGNANT), 0.2)
    if p.get("lvef_percent") is not None:
        w.obs(C.LVEF[0], _quantity(float(p["lvef_percent"]), "%", "%"), 0.5)
    if p.get("lvef_baseline_percent") is not None:
        w.obs(C.LVEF[0], _quantity(float(p["lvef_baseline_percent"]), "%", "%"), _first_anti_her2(p) + 0.3)
    if p.get("qtcf_ms") is not None:
        w.obs(C.QTCF, _quantity(float(p["qtcf_ms"]), "ms", "ms"), 0.5)
    if p.get("neuropathy_grade") is not None:
        w.obs(C.NEUROPATHY_GRADE, {"valueInteger": int(p["neuropathy_grade"])}, 0.5)
    if p.get("visceral_crisis") is not None:
        w.obs(C.VISCERAL_CRISIS, {"valueBoolean": bool(p["visceral_crisis"])}, 0.2)
    _ild(w, p.get("ild_history"))
    if p.get("heart_failure") is not None:
        w.condition(C.HEART_FAILURE[0], 6.0, refuted=not p["heart_failure"])


def _first_anti_her2(p: dict[str, Any]) -> float:
    from mbcpath.domain.drugs import ANTI_HER2_CLASSES, DRUG_CLASSES

    starts = [float(t["started_months_ago"]) for t in p.get("treatments") or []
              if any(DRUG_CLASSES[d] in ANTI_HER2_CLASSES for d in t["drugs"])]
    return max(starts) if starts else 1.0


def _ild(w: _Writer, ild: str | None) -> None:
    if ild is None:
        return
    code = C.ILD[0]
    if ild == "none":
        w.condition(code, None, refuted=True)
    elif ild == "active":
        w.condition(code, 1.0)
    else:
        grade = 1 if ild == "grade1" else 2
        w.condition(code, 12.0, clinical="resolved", extension=[{"url": C.EXT_GRADE, "valueInteger": grade}])


def _disease(w: _Writer) -> None:
    p = w.p
    dx = p.get("metastatic_diagnosis_months_ago")
    dx_f = float(dx) if dx is not None else None
    primary_at = _primary_onset(p, dx_f)
    primary = w.condition(C.BREAST_CANCER, primary_at, profile=C.MCODE_SD + "mcode-primary-cancer-condition")
    brain = p.get("brain_metastases")
    for site in p.get("metastatic_sites") or []:
        ext = [{"url": C.EXT_BRAIN_STATUS, "valueCode": brain}] if site == "brain" and brain not in (None, "none") \
            else None
        ref = w.condition(_site_code(site, w.style.site_system), dx_f, extension=ext,
                          profile=C.MCODE_SD + "mcode-secondary-cancer-condition")
        if site == "brain" and p.get("extracranial_progression") is not None:
            status = C.STATUS_CODES[C.STATUS_WORSENED if p["extracranial_progression"] else C.STATUS_STABLE]
            w.obs(C.DISEASE_STATUS, _concept(status), 0.3, C.MCODE_SD + "mcode-cancer-disease-status",
                  {"focus": [{"reference": primary}]})
            _ = ref
    if brain == "none":
        w.condition(_site_code("brain", w.style.site_system), None, refuted=True)


def _primary_onset(p: dict[str, Any], dx: float | None) -> float | None:
    if dx is None:
        return None
    if p.get("presentation") == "de_novo":
        return dx
    starts = [float(t["started_months_ago"]) for t in p.get("treatments") or [] if t["setting"] != "metastatic"]
    return max([dx + 24.0, *(s + 1.0 for s in starts)])


def _site_code(site: str, system: str) -> C.Code:
    if system == "snomed" and site in C.SECONDARY_SNOMED_CODES:
        return C.SECONDARY_SNOMED_CODES[site]
    return C.SECONDARY_ICD10_CODES[site]


# --------------------------------------------------------------------------- treatments
def _products(drugs: list[str], style: Style) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """(drugs, medicationCodeableConcept) per resource to write."""
    rest = list(drugs)
    out: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    if style.combination_products and {"trastuzumab", "pertuzumab"} <= set(rest):
        rest = [d for d in rest if d not in ("trastuzumab", "pertuzumab")]
        out.append((("pertuzumab", "trastuzumab"), {"coding": [{"system": C.RXNORM, "code": "2382605",
                                                                "display": "Phesgo"}]}))
    for d in rest:
        out.append(((d,), _rx_concept(d, style.rx_level)))
    return out


def _rx_concept(drug: str, level: str) -> dict[str, Any]:
    table = C.rxnorm_map()
    options = C.rxnorm_for(drug)
    code = next(iter(options.get(level) or options["ingredient"] or options["clinical"] or options["brand"]), None)
    if code is None:
        return {"text": drug}
    return {"coding": [{"system": C.RXNORM, "code": code, "display": table[code].display}], "text": drug}


def _treatments(w: _Writer) -> None:
    for i, t in enumerate(w.p.get("treatments") or []):
        med_type = w.style.med_type
        ended = t.get("ended_months_ago")
        if med_type == "MedicationAdministration" and ended is not None and float(ended) * 30.4 <= 60:
            med_type = "MedicationStatement"  # an administration course ending lately would read as ongoing
        for drugs, concept in _products(list(t["drugs"]), w.style):
            _write_med(w, med_type, t, i, concept, drugs)


def _med_extensions(t: dict[str, Any], i: int) -> list[dict[str, Any]]:
    ext: list[dict[str, Any]] = [
        {"url": C.EXT_REGIMEN, "valueString": f"t{i}"}, {"url": C.EXT_SETTING, "valueCode": t["setting"]},
        {"url": C.PROCEDURE_INTENT_EXT, "valueCodeableConcept": {"coding": [
            (C.INTENT_PALLIATIVE if t["setting"] == "metastatic" else C.INTENT_CURATIVE).coding()]}}]
    if t.get("line") is not None:
        ext.append({"url": C.EXT_LINE, "valueInteger": int(t["line"])})
    if t.get("phase") is not None:
        ext.append({"url": C.EXT_PHASE, "valueCode": t["phase"]})
    return ext


def _status(t: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    if t.get("ended_months_ago") is None:
        return "active", []
    reason = t.get("stop_reason")
    if reason in C.TERMINATION_CODES:
        return "stopped", [{"coding": [C.TERMINATION_CODES[reason].coding()]}]
    return "completed", []


def _write_med(w: _Writer, med_type: str, t: dict[str, Any], i: int, concept: dict[str, Any],
               drugs: tuple[str, ...]) -> None:
    start, end = w.when(float(t["started_months_ago"])), None
    if t.get("ended_months_ago") is not None:
        end = w.when(float(t["ended_months_ago"]))
    status, reasons = _status(t)
    profile = C.MCODE_SD + {"MedicationStatement": "mcode-cancer-related-medication-statement",
                            "MedicationRequest": "mcode-cancer-related-medication-request",
                            "MedicationAdministration": "mcode-cancer-related-medication-administration"}[med_type]
    period = {"start": start, **({"end": end} if end else {})}
    base: dict[str, Any] = {"extension": _med_extensions(t, i), "medicationCodeableConcept": concept}
    if med_type == "MedicationStatement":
        body = {**base, "status": status, "effectivePeriod": period, **({"statusReason": reasons} if reasons else {})}
        w.add(med_type, body, profile)
    elif med_type == "MedicationRequest":
        body = {**base, "status": status, "intent": "order", "authoredOn": start,
                "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": period}}}],
                **({"statusReason": reasons[0]} if reasons else {}), "groupIdentifier": {"value": f"t{i}"}}
        w.add(med_type, body, profile)
    else:
        last = end or (w.as_of - timedelta(days=7)).isoformat()
        w.add(med_type, {**base, "status": "completed", "effectiveDateTime": start}, profile)
        if last != start:
            w.add(med_type, {**base, "status": "stopped" if reasons else "completed", "effectiveDateTime": last,
                             **({"statusReason": reasons} if reasons else {})}, profile)


def _bundle(w: _Writer) -> dict[str, Any]:
    kind = w.style.bundle_type
    entries = []
    for r in w.resources:
        entry: dict[str, Any] = {"fullUrl": f"urn:uuid:{r['id']}" if kind == "transaction"
                                 else f"http://example.org/fhir/{r['resourceType']}/{r['id']}", "resource": r}
        if kind == "transaction":
            entry["request"] = {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}
        if kind == "searchset":
            entry["search"] = {"mode": "match" if r["resourceType"] == "Patient" else "include"}
        entries.append(entry)
    return {"resourceType": "Bundle", "id": f"{w.pid}-bundle", "type": kind, "entry": entries}


# --------------------------------------------------------------------------- seeded cohort
_FIRST_LINE = (["docetaxel", "trastuzumab", "pertuzumab"], ["paclitaxel", "trastuzumab", "pertuzumab"],
               ["trastuzumab deruxtecan", "pertuzumab"])
_LATER = (["trastuzumab deruxtecan"], ["tucatinib", "trastuzumab", "capecitabine"], ["trastuzumab emtansine"],
          ["lapatinib", "capecitabine"], ["neratinib", "capecitabine"])


def random_patient(rng: random.Random, n: int) -> dict[str, Any]:
    """One synthetic HER2+ MBC patient in the contract's JSON form (valid by construction)."""
    hr_pos = rng.random() < 0.6
    lines = rng.choice((0, 0, 1, 1, 2, 3))
    dx = round(rng.uniform(1, 10) + 9 * lines, 1) if lines else round(rng.uniform(0, 2), 1)
    brain = rng.choice(("none", "none", "none", "stable_treated", "active"))
    sites = rng.sample(["bone", "liver", "lung", "lymph_node", "pleura", "skin_soft_tissue"], rng.randint(1, 3))
    treatments = _history(rng, lines, dx)
    premenopausal = rng.random() < 0.3
    p: dict[str, Any] = {
        "id": f"gen-{n:05d}", "age_years": rng.randint(30 if premenopausal else 52, 50 if premenopausal else 85),
        "sex": "female", "menopausal_status": "premenopausal" if premenopausal else "postmenopausal",
        "ecog": rng.choice((0, 0, 1, 1, 2)), "her2": rng.choice(({"ihc": "3+", "ish": None},
                                                                 {"ihc": "2+", "ish": "amplified"})),
        "er_percent": rng.choice((85, 60, 5)) if hr_pos else 0, "pr_percent": rng.choice((40, 0)) if hr_pos else 0,
        "presentation": "de_novo", "metastatic_diagnosis_months_ago": dx,
        "metastatic_sites": sites + (["brain"] if brain != "none" else []), "visceral_crisis": False,
        "brain_metastases": brain, "lvef_percent": rng.choice((62, 58, 55, 48, 45)), "ild_history": "none",
        "qtcf_ms": rng.choice((420, 430, 455)), "neuropathy_grade": rng.choice((0, 0, 1, 2)), "pregnant": False,
        "treatments": treatments,
    }
    if brain == "active":
        p["extracranial_progression"] = rng.random() < 0.5
    return p


def _history(rng: random.Random, lines: int, dx: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    t = dx
    for line in range(1, lines + 1):
        drugs = list(rng.choice(_FIRST_LINE if line == 1 else _LATER))
        length = round(rng.uniform(4, 8), 1)
        end = round(max(t - length, 0.5), 1)
        out.append({"drugs": drugs, "setting": "metastatic", "line": line, "started_months_ago": t,
                    "ended_months_ago": end, "stop_reason": "progression"})
        t = round(end - 0.3, 1) if end > 0.6 else end
    return out


def generate_cases(n: int, seed: int, as_of: date | None = None) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """``n`` seeded ``(contract patient, Bundle)`` pairs; the same seed gives the same pairs."""
    from mbcpath.domain.validation import parse_patient

    rng = random.Random(seed)  # noqa: S311 - synthetic test data, not security
    as_of = as_of or date(2026, 1, 1)
    for i in range(n):
        patient = random_patient(rng, i)
        parse_patient(patient)
        yield patient, patient_to_bundle(patient, as_of, Style.random(rng))


def generate_bundles(n: int, seed: int, as_of: date | None = None) -> Iterator[dict[str, Any]]:
    """``n`` seeded HER2+ MBC mCODE bundles (for tests and the cohort work); decision date 2026-01-01 by default."""
    for _, bundle in generate_cases(n, seed, as_of):
        yield bundle
