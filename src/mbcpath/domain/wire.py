"""The bytes on the wire: one canonical form of the input and of the answer, for every adapter.

The REST API's body and ``mbcpath recommend --format json`` are the same bytes
(:func:`recommendation_bytes`), and the audit trail hashes exactly those bytes and the canonical
form of the validated input (:func:`canonical_input_bytes`), so an answer can be re-derived and
proven from an audit record and the input it names.

References
----------
RFC 8785, JSON Canonicalization Scheme (the idea followed here: sorted keys, no insignificant
whitespace, UTF-8). https://www.rfc-editor.org/rfc/rfc8785
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel


def recommendation_bytes(rec: BaseModel) -> bytes:
    """The answer as sent by the API and printed by the CLI: compact JSON (contract field names), one line."""
    return rec.model_dump_json(by_alias=True).encode("utf-8") + b"\n"


def canonical_input_bytes(patient: BaseModel) -> bytes:
    """The validated input in canonical JSON: every field (defaults filled in), keys sorted, no spaces.

    Two requests that differ only in key order, whitespace or omitted defaults have the same canonical input.
    """
    data: Any = patient.model_dump(mode="json")
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
