"""Between an answer and the client: reading the body, recording the answer, sending the bytes."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from mbcpath.domain.validation import printable
from mbcpath.domain.wire import sha256_hex
from mbcpath.errors import AuditError
from mbcpath.web.answers import Answer
from mbcpath.web.audit import AuditEntry, AuditTrail
from mbcpath.web.offload import Offloader

log = logging.getLogger("mbcpath.web.audit")

_JSON_TYPES = ("application/json", "application/problem+json", "application/fhir+json")


async def read_body(request: Request) -> bytes:
    """The raw body of a JSON request. A missing or non-JSON ``Content-Type`` is 415: a body is never
    guessed to be JSON. Parsing happens in the worker, off the event loop."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not ctype:
        raise HTTPException(415, "the request has no Content-Type; send the body as application/json")
    if ctype not in _JSON_TYPES and not ctype.endswith("+json"):
        raise HTTPException(415, f"send the body as application/json, not {printable(ctype)[:80]!r}")
    return await request.body()


async def deliver(request: Request, answer: Answer, audit: AuditTrail | None, offload: Offloader) -> Response:
    """Record the answer (when the trail is on), then send exactly ``answer.body``.

    The record is written, whole, before the first byte of the answer leaves; a client that has gone
    away meanwhile changes nothing (the line is complete or absent). When it cannot be written, the
    policy decides: ``refuse`` raises :class:`AuditError` (503), ``answer-and-alarm`` answers with
    ``x-mbcpath-audit: not-recorded`` and logs the alarm.
    """
    if audit is None:
        return Response(answer.body, media_type="application/json")
    headers: dict[str, str] = {}
    state = request.state
    route = f"{request.method} {request.url.path}"
    try:
        record = await offload.run_io(_record, audit, answer, route, getattr(state, "caller", "anonymous"),
                                          getattr(state, "request_id", ""))
        headers["x-mbcpath-audit"] = f"recorded; seq={record['seq']}"
    except AuditError as err:
        policy = request.app.state.settings.audit_policy
        log.error("ALARM: audit trail not written", extra={"event": "audit_write_failed", "error": str(err),
                                                           "policy": policy})
        if policy == "refuse":
            raise
        headers["x-mbcpath-audit"] = "not-recorded"
    return Response(answer.body, media_type="application/json", headers=headers)


def _record(audit: AuditTrail, answer: Answer, route: str, caller: str, request_id: str) -> dict[str, Any]:
    """Hash the canonical input and write the record (in a worker thread: hashing and fsync stay off the loop)."""
    canonical = answer.canonical_input
    return audit.record(AuditEntry(
        kind=answer.kind, route=route, caller=caller, request_id=request_id, kb_release=answer.kb_release,
        engine_version=answer.engine_version, as_of=answer.as_of, input_sha256=sha256_hex(canonical),
        output_sha256=answer.output_sha256, canonical_input=canonical))
