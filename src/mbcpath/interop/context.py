"""The mapping context shared by the FHIR readers: the patient being built, provenance and what was noticed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from mbcpath.interop.codes import codings
from mbcpath.interop.fhir_read import Item, Record, to_date
from mbcpath.interop.provenance import Provenance, Source

#: Observation / Condition states that carry no usable result.
VOID_STATUS = {"entered-in-error", "cancelled", "registered"}


@dataclass
class Ctx:
    """What one import builds: the contract patient (JSON), provenance, notes, missing data, conflicts."""

    record: Record
    as_of: date
    out: dict[str, Any] = field(default_factory=dict)
    prov: Provenance = field(default_factory=Provenance)
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    subject: str | None = None

    def put(self, path: str, value: Any, item: Item, code: str = "", when: date | None = None,
            note: str = "") -> None:
        """Set a top-level or dotted contract field and record where it came from."""
        target = self.out
        *head, last = path.split(".")
        for part in head:
            target = target.setdefault(part, {})
        target[last] = value
        self.cite(path, item, code, when, note)

    def cite(self, path: str, item: Item, code: str = "", when: date | None = None, note: str = "") -> None:
        self.prov.add(path, Source(item.ref, code, when.isoformat() if when else "", note))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def lack(self, text: str) -> None:
        if text not in self.missing:
            self.missing.append(text)

    def conflict(self, text: str) -> None:
        if text not in self.conflicts:
            self.conflicts.append(text)

    def usable(self, items: list[Item]) -> list[Item]:
        """Items about this patient, not void, not dated after the decision date."""
        out = []
        for it in items:
            if getattr(it.model, "status", None) in VOID_STATUS or _ver_status(it) == "entered-in-error":
                continue
            if not self._about_patient(it):
                continue
            when = effective(it)
            if when is not None and when > self.as_of:
                self.note(f"{it.ref} is dated {when.isoformat()}, after the decision date {self.as_of.isoformat()}: "
                          "left out")
                continue
            out.append(it)
        return out

    def _about_patient(self, it: Item) -> bool:
        ref = (it.raw.get("subject") or it.raw.get("patient") or {}).get("reference")
        if self.subject is None or not ref:
            return True
        if ref.split("/")[-1] == self.subject.split("/")[-1] or ref == self.subject:
            return True
        self.note(f"{it.ref} is about {ref}, not {self.subject}: left out")
        return False


def _ver_status(it: Item) -> str:
    return next((c for _, c, _ in codings(getattr(it.model, "verificationStatus", None))), "")


def effective(it: Item) -> date | None:
    """The clinically relevant date of a resource (effective, onset, recorded, issued, authored)."""
    m = it.model
    for attr in ("effectiveDateTime", "onsetDateTime", "occurrenceDateTime", "performedDateTime",
                 "authoredOn", "recordedDate", "issued", "dateAsserted"):
        d = to_date(getattr(m, attr, None))
        if d is not None:
            return d
    for attr in ("effectivePeriod", "onsetPeriod", "performedPeriod"):
        p = getattr(m, attr, None)
        if p is not None and to_date(p.start) is not None:
            return to_date(p.start)
    return None


def latest(items: list[Item]) -> list[Item]:
    """Items ordered newest first (undated last)."""
    return sorted(items, key=lambda i: effective(i) or date.min, reverse=True)


def number(model: Any) -> float | None:
    """valueQuantity / valueInteger / valueDecimal / numeric valueString as a float."""
    q = getattr(model, "valueQuantity", None)
    if q is not None and q.value is not None:
        return float(q.value)
    for attr in ("valueInteger", "valueDecimal"):
        v = getattr(model, attr, None)
        if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
            return float(v)
    s = getattr(model, "valueString", None)
    try:
        return float(str(s).strip().rstrip("%")) if s is not None else None
    except ValueError:
        return None


def answer_words(model: Any) -> str:
    """The words of a coded or string value (display and text, lower case)."""
    cc = getattr(model, "valueCodeableConcept", None)
    words = [d for _, _, d in codings(cc)]
    if cc is not None and cc.text:
        words.append(cc.text)
    if getattr(model, "valueString", None):
        words.append(model.valueString)
    return " ".join(words).lower()


def answer_codes(model: Any) -> set[tuple[str, str]]:
    return {(s, c) for s, c, _ in codings(getattr(model, "valueCodeableConcept", None))}


def code_label(item: Item, wanted: Any) -> str:
    """``system|code`` of the first coding of ``item.model.code`` that is in ``wanted``."""
    keys = {(c.system, c.code) for c in (wanted if isinstance(wanted, tuple) else (wanted,))}
    for s, c, _ in codings(getattr(item.model, "code", None)):
        if (s, c) in keys:
            return f"{s}|{c}"
    return ""
