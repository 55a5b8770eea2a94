"""Read FHIR R4 input (a Bundle or a Bulk Data ndjson set) into validated resources.

Validation uses ``fhir.resources``' R4B models (the R4 base structures; the package's default R5 models
reject R4 content such as ``Condition.asserter``). Each entry is validated on its own, so an error names
its element: ``Bundle.entry[3].resource.valueQuantity.value``. Nothing is fetched: references are
resolved inside the input only.

References
----------
HL7 FHIR R4 (4.0.1) Bundle (types collection, searchset, transaction, batch); FHIR Bulk Data Access
    (Flat FHIR) IG 2.0.0: one resource per line (ndjson).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from mbcpath.interop.outcome import FhirInputError, FhirIssue, issues_from_pydantic

BUNDLE_TYPES = ("collection", "searchset", "transaction", "batch", "document", "transaction-response",
                "batch-response")
#: Resource types the importer reads; others are validated and kept but not mapped.
MAPPED = ("Patient", "Condition", "Observation", "MedicationRequest", "MedicationStatement",
          "MedicationAdministration", "Medication", "Procedure")


@dataclass
class Item:
    """One validated resource with the expression that locates it in the input."""

    where: str
    model: Any
    raw: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"{self.raw['resourceType']}/{self.raw.get('id', '?')}"


@dataclass
class Record:
    """The validated resources of one input, by type."""

    items: list[Item] = field(default_factory=list)
    kind: str = "Bundle"

    def of(self, rtype: str) -> list[Item]:
        return [i for i in self.items if i.raw["resourceType"] == rtype]


def looks_like_fhir(obj: Any) -> bool:
    """A FHIR resource or Bundle (a ``resourceType`` key), or a list of them."""
    if isinstance(obj, dict):
        return isinstance(obj.get("resourceType"), str)
    return isinstance(obj, list) and bool(obj) and all(isinstance(x, dict) and "resourceType" in x for x in obj)


def parse_ndjson(text: str, source: str = "ndjson") -> list[dict[str, Any]]:
    """Bulk Data ndjson -> resources (one JSON object a line; blank lines ignored)."""
    out: list[dict[str, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise FhirInputError(FhirIssue(f"{source} line {n}", None, f"not valid JSON: {err.msg}",
                                           code="structure")) from None
        if not isinstance(obj, dict) or "resourceType" not in obj:
            raise FhirInputError(FhirIssue(f"{source} line {n}", None, "each ndjson line must be one FHIR resource",
                                           code="structure"))
        out.append(obj)
    return out


def read_record(obj: Any) -> Record:
    """Validate a Bundle, a single resource, or a list of resources (ndjson) into a :class:`Record`."""
    if isinstance(obj, list):
        rec = Record(kind="ndjson")
        for i, res in enumerate(obj):
            rec.items.append(_validate(res, f"ndjson[{i}]"))
        return rec
    if not isinstance(obj, dict) or not isinstance(obj.get("resourceType"), str):
        raise FhirInputError(FhirIssue("(root)", None, "not a FHIR resource: a JSON object with 'resourceType' "
                                       "is required (a Bundle, or Bulk Data ndjson)", code="structure"))
    if obj["resourceType"] != "Bundle":
        return Record([_validate(obj, obj["resourceType"])], kind=obj["resourceType"])
    return _read_bundle(obj)


def _read_bundle(obj: dict[str, Any]) -> Record:
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    entries = obj.get("entry") or []
    if not isinstance(entries, list):
        raise FhirInputError(FhirIssue("Bundle.entry", None, "must be a list", code="structure"))
    envelope = {k: v for k, v in obj.items() if k != "entry"}
    envelope["entry"] = [{k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e
                         for e in entries]
    try:
        bundle = Bundle.model_validate(envelope)
    except ValidationError as err:
        raise FhirInputError(issues_from_pydantic(err, "Bundle")) from None
    if bundle.type not in BUNDLE_TYPES:
        raise FhirInputError(FhirIssue("Bundle.type", bundle.type, "not a bundle of patient data"))
    rec = Record(kind=f"Bundle ({bundle.type})")
    issues: list[FhirIssue] = []
    for i, e in enumerate(entries):
        res = e.get("resource") if isinstance(e, dict) else None
        if res is None:
            continue
        if _search_outcome(e):
            continue
        try:
            rec.items.append(_validate(res, f"Bundle.entry[{i}].resource"))
        except FhirInputError as err:
            issues.extend(err.issues)
    if issues:
        raise FhirInputError(issues)
    return rec


def _search_outcome(entry: dict[str, Any]) -> bool:
    """A searchset's OperationOutcome entry (search.mode 'outcome') is not patient data."""
    return (entry.get("search") or {}).get("mode") == "outcome"


def _validate(res: Any, where: str) -> Item:
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
        raise FhirInputError(FhirIssue(where, None, "not a FHIR resource (no resourceType)", code="structure"))
    rtype = res["resourceType"]
    try:
        model_cls = get_fhir_model_class(rtype)
    except (ValueError, KeyError):
        raise FhirInputError(FhirIssue(f"{where}.resourceType", rtype, "not a FHIR R4 resource type",
                                       code="not-supported")) from None
    try:
        model = model_cls.model_validate(res)
    except ValidationError as err:
        raise FhirInputError(issues_from_pydantic(err, f"{where}({rtype})")) from None
    return Item(where, model, res)


# --------------------------------------------------------------------------- dates
def to_date(value: Any) -> date | None:
    """A FHIR date / dateTime (model value or string, partial dates allowed) as a ``date``.

    A partial date takes the first day of its period ("2018-03" -> 2018-03-01).
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    parts = text[:10].split("-")
    try:
        y = int(parts[0])
        m = int(parts[1]) if len(parts) > 1 else 1
        d = int(parts[2]) if len(parts) > 2 else 1
        return date(y, m, d)
    except (ValueError, IndexError):
        return None


DAYS_PER_MONTH = 365.25 / 12


def months_before(d: date, as_of: date) -> float:
    """Months from ``d`` to the decision date (one decimal; 30.4375 days a month)."""
    return round((as_of - d).days / DAYS_PER_MONTH, 1)


def date_months_before(months: float, as_of: date) -> date:
    """Inverse of :func:`months_before` (to the day)."""
    from datetime import timedelta

    return as_of - timedelta(days=round(months * DAYS_PER_MONTH))
