"""FHIR R4 (mCODE STU4 + US Core) -> the contract's patient, with provenance.

Entry points: :func:`fhir_to_patient` (a Bundle, a single resource or Bulk Data ndjson resources) and
:func:`detect_and_convert` (used by ``mbcpath recommend`` and the REST API: leaves contract JSON alone).

Absolute dates become months before the decision date ``as_of`` (default: today). Every contract field
records where it came from (:class:`~mbcpath.interop.provenance.Provenance`); what is missing, stale or
contradictory is returned as ``missing_data`` / ``conflicts`` (plain strings, for the recommendation),
and how the input was read as ``input_notes``. The mapping rules are in the docstrings of
:mod:`~mbcpath.interop.map_markers`, :mod:`~mbcpath.interop.map_clinical`,
:mod:`~mbcpath.interop.map_conditions` and :mod:`~mbcpath.interop.map_meds`, and in docs/interop.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mbcpath.interop import codes as C
from mbcpath.interop.context import Ctx, effective
from mbcpath.interop.fhir_read import Item, looks_like_fhir, read_record
from mbcpath.interop.outcome import FhirInputError, FhirIssue
from mbcpath.interop.provenance import Provenance


@dataclass
class FhirImport:
    """The contract patient read from FHIR, and everything said about how."""

    patient: Any
    data: dict[str, Any]
    provenance: Provenance
    missing_data: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    input_notes: list[str] = field(default_factory=list)
    as_of: date = field(default_factory=date.today)
    source: str = "Bundle"

    def as_json(self) -> dict[str, Any]:
        """What ``mbcpath fhir to-patient`` prints."""
        return {"patient": self.patient.model_dump(mode="json", exclude_none=True), "as_of": self.as_of.isoformat(),
                "source": self.source, "provenance": self.provenance.as_json(), "missing_data": self.missing_data,
                "conflicts": self.conflicts, "input_notes": self.input_notes}


def fhir_to_patient(obj: Any, as_of: date | None = None, patient_id: str | None = None) -> FhirImport:
    """Map a FHIR Bundle / resource / list of resources to the contract patient.

    Raises :class:`~mbcpath.interop.outcome.FhirInputError` (an OperationOutcome naming the element) when
    the input is not valid FHIR R4, holds no Patient, or maps to a contract-violating patient.
    """
    from mbcpath.interop.map_clinical import read_patient

    as_of = as_of or date.today()
    record = read_record(obj)
    ctx = Ctx(record, as_of)
    patient = _the_patient(record, patient_id)
    ctx.subject = f"Patient/{patient.raw.get('id')}"
    read_patient(ctx, patient)
    _read_all(ctx, patient)
    return FhirImport(_validate(ctx), ctx.out, ctx.prov, ctx.missing, ctx.conflicts, ctx.notes, as_of, record.kind)


def _read_all(ctx: Ctx, patient: Item) -> None:
    from mbcpath.interop import map_clinical as mc
    from mbcpath.interop import map_conditions as mcond
    from mbcpath.interop import map_markers as mm
    from mbcpath.interop import map_meds

    mm.read_her2(ctx)
    mm.read_receptor(ctx, "er_percent", C.ER_PERCENT, C.ER_PRESENCE)
    mm.read_receptor(ctx, "pr_percent", C.PR_PERCENT, C.PR_PRESENCE)
    mc.read_ecog(ctx)
    mc.read_menopause(ctx)
    mc.read_pregnancy(ctx)
    mc.read_qtc(ctx)
    mc.read_neuropathy(ctx)
    mc.read_visceral_crisis(ctx)
    dates = mcond.read_conditions(ctx)
    treatments = map_meds.read_treatments(ctx, dates["metastatic"], _surgery(ctx))
    mcond.read_presentation(ctx, dates, any(t["setting"] != "metastatic" for t in treatments))
    mc.read_lvef(ctx, map_meds.first_anti_her2(treatments, ctx.as_of))
    _read_context(ctx, patient)


def _the_patient(record: Any, patient_id: str | None) -> Item:
    patients = record.of("Patient")
    if patient_id is not None:
        patients = [p for p in patients if p.raw.get("id") == patient_id.split("/")[-1]]
    if len(patients) == 1:
        return patients[0]  # type: ignore[no-any-return]
    if not patients:
        raise FhirInputError(FhirIssue(f"{record.kind}.entry", None, "no Patient resource"
                                       + (f" with id {patient_id!r}" if patient_id else "")
                                       + ": the input must hold the patient the decision is about", code="required"))
    ids = ", ".join(str(p.raw.get("id")) for p in patients[:5])
    raise FhirInputError(FhirIssue(f"{record.kind}.entry", ids, f"{len(patients)} Patient resources: pass one "
                                   "patient's resources, or name the patient (patient_id)", code="multiple-matches"))


def _surgery(ctx: Ctx) -> date | None:
    """Date of the first breast cancer surgery (mCODE CancerRelatedSurgicalProcedure), if recorded."""
    found = [effective(p) for p in ctx.usable(ctx.record.of("Procedure"))
             if any(str(x).endswith("mcode-cancer-related-surgical-procedure")
                    for x in (p.raw.get("meta") or {}).get("profile") or [])]
    dates = [d for d in found if d is not None]
    return min(dates) if dates else None


def _read_context(ctx: Ctx, patient: Item) -> None:
    """mbcpath's ``decision-context`` extension on the Patient: preferences, formulary, stated decision point."""
    for ext in patient.raw.get("extension") or []:
        if ext.get("url") != C.EXT_CONTEXT:
            continue
        for sub in ext.get("extension") or []:
            _context_item(ctx, patient, sub)


def _context_item(ctx: Ctx, patient: Item, sub: dict[str, Any]) -> None:
    url = sub.get("url")
    if url == "avoid-chemotherapy" and isinstance(sub.get("valueBoolean"), bool):
        ctx.put("preferences.avoid_chemotherapy", sub["valueBoolean"], patient, C.EXT_CONTEXT)
    elif url in ("unavailable-drug", "available-drug") and isinstance(sub.get("valueString"), str):
        key = url.replace("-drug", "_drugs")
        ctx.out.setdefault(key, []).append(sub["valueString"])
        ctx.cite(key, patient, C.EXT_CONTEXT)
    elif url == "decision-point" and isinstance(sub.get("valueCode"), str):
        ctx.put("decision_point", sub["valueCode"], patient, C.EXT_CONTEXT)


def _validate(ctx: Ctx) -> Any:
    """The contract's validation of what was read; a violation names the FHIR resources behind the field."""
    from mbcpath.domain.validation import parse_patient
    from mbcpath.errors import InputError

    ctx.out.setdefault("her2", {"ihc": None, "ish": None})
    data = {k: v for k, v in ctx.out.items() if v is not None and not k.startswith("_")}
    data["treatments"] = [{k: v for k, v in t.items() if v is not None} for t in data.get("treatments", [])]
    try:
        return parse_patient(data)
    except InputError as err:
        issues = []
        for issue in err.issues:
            top = issue.field.split(".")[0]
            key = top if top in ctx.prov.fields else top.split("[")[0] if "[" in top else top
            sources = ", ".join(s.resource for s in ctx.prov.fields.get(key, ctx.prov.fields.get(top, [])))
            where = sources or "Bundle"
            issues.append(FhirIssue(where, issue.value, f"maps to contract field {issue.field}, which is invalid: "
                                    f"{issue.rule}", code="business-rule"))
        raise FhirInputError(issues) from None


def detect_and_convert(obj: Any, as_of: date | None = None) -> tuple[Any, FhirImport | None]:
    """FHIR input -> ``(contract patient JSON, FhirImport)``; anything else -> ``(obj, None)`` unchanged.

    The one hook ``mbcpath recommend`` and ``POST /api/v1/recommendations`` call; the caller merges
    ``FhirImport.missing_data`` / ``conflicts`` / ``input_notes`` into the recommendation.
    """
    if not looks_like_fhir(obj):
        return obj, None
    imported = fhir_to_patient(obj, as_of)
    return imported.patient.model_dump(mode="json", exclude_none=True), imported


def merge_into(rec: Any, imported: FhirImport | None) -> Any:
    """The recommendation with the import's missing data, conflicts and input notes added (a copy)."""
    if imported is None:
        return rec
    return rec.model_copy(update={
        "missing_data": [*rec.missing_data, *(m for m in imported.missing_data if m not in rec.missing_data)],
        "conflicts": [*rec.conflicts, *(c for c in imported.conflicts if c not in rec.conflicts)],
        "input_notes": [*rec.input_notes, *(n for n in imported.input_notes if n not in rec.input_notes)],
    })
