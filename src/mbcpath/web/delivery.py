"""Between an answer and the client: reading the body, recording the answer, sending the bytes."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from mbcpath.domain.validation import printable
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
    headers: dict[str, str] = {}
    if audit is not None:
        entry = AuditEntry(
            kind=answer.kind, route=f"{request.method} {request.url.path}",
            caller=request.state.caller if hasattr(request.state, "caller") else "anonymous",
            request_id=getattr(request.state, "request_id", ""), kb_release=answer.kb_release,
            engine_version=answer.engine_version, as_of=answer.as_of, input_sha256=answer.input_sha256,
            output_sha256=answer.output_sha256, canonical_input=answer.canonical_input)
        try:
            record = await offload.run_thread(audit.record, entry)
            headers["x-mbcpath-audit"] = f"recorded; seq={record['seq']}"
        except AuditError as err:
            log.error("ALARM: audit trail not written", extra={"event": "audit_write_failed", "error": str(err),
                                                               "policy": request.app.state.settings.audit_policy})
            if request.app.state.settings.audit_policy == "refuse":
                raise
            headers["x-mbcpath-audit"] = "not-recorded"
    return Response(answer.body, media_type="application/json", headers=headers)
