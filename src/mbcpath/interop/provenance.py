"""Where each contract field came from: resource, code, date, and how it was read.

:class:`Provenance` is returned beside the patient by :func:`mbcpath.interop.fhir.fhir_to_patient`; its
:meth:`~Provenance.as_json` is what ``mbcpath fhir to-patient`` prints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Source:
    """One resource that a contract field was read from."""

    resource: str
    code: str = ""
    date: str = ""
    note: str = ""


@dataclass
class Provenance:
    """field path (``her2.ihc``, ``treatments[0]``) -> the sources it was read from."""

    fields: dict[str, list[Source]] = field(default_factory=dict)

    def add(self, path: str, source: Source) -> None:
        bucket = self.fields.setdefault(path, [])
        if source not in bucket:
            bucket.append(source)

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        return {k: [{x: y for x, y in asdict(s).items() if y} for s in v] for k, v in sorted(self.fields.items())}
