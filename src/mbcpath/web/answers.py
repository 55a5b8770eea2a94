"""The work behind each answer, as plain functions that run off the event loop.

Each returns an :class:`Answer`: the exact bytes to send plus what the audit trail records
(hashes of the canonical input and of those bytes, the KB release, the engine version, the
as-of date). They run in a worker thread (recommendations) or a worker process (projections);
none touches the request or the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mbcpath.domain.wire import canonical_input_bytes, recommendation_bytes, sha256_hex


@dataclass(frozen=True)
class Answer:
    """One answer: the bytes sent and the facts the audit trail keeps about it."""

    body: bytes
    patient: Any
    kb_release: str
    engine_version: str
    as_of: str | None
    kind: str

    @property
    def canonical_input(self) -> bytes:
        """The validated input in canonical form (computed only when the audit trail asks for it)."""
        return canonical_input_bytes(self.patient)

    @property
    def input_sha256(self) -> str:
        return sha256_hex(self.canonical_input)

    @property
    def output_sha256(self) -> str:
        return sha256_hex(self.body)


def patient_from_body(body: bytes) -> Any:
    """The request body -> a validated patient, strictly (raises ``MalformedJsonError`` / ``InputError``)."""
    from mbcpath.domain.validation import parse_patient_json

    return parse_patient_json(body)


def recommendation_answer(body: bytes, kb: Any, engine: Any) -> Answer:
    """Parse and validate the body strictly, then recommend (raises ``InputError``)."""
    patient = patient_from_body(body)
    rec = engine(patient, kb)
    return Answer(recommendation_bytes(rec), patient, rec.kb_release, rec.engine_version, rec.as_of,
                  "recommendation")


def projection_answer(patient: Any, kb_path: Path | None) -> Answer:
    """Recommend for a validated patient, then project every option.

    Runs in a worker process: it loads its own KB (cached per process) and engine.
    """
    from mbcpath.kb import load_kb
    from mbcpath.web.deps import load_engine, load_projector

    kb = load_kb(kb_path)
    rec = load_engine()(patient, kb)
    proj = load_projector()(rec, kb, patient=patient)
    body = proj.model_dump_json(by_alias=True).encode("utf-8") + b"\n"
    return Answer(body, patient, rec.kb_release, rec.engine_version, rec.as_of, "projection")
