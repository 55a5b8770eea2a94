"""Errors as problem details (RFC 9457, ``application/problem+json``).

Every 4xx/5xx the API sends has ``type``, ``title``, ``status``, ``detail`` and,
for invalid input, ``errors: [{field, value, rule}]`` naming each field path.
Bad input never becomes a 500: pydantic request errors and our
:class:`~mbcpath.errors.InputError` both map to 422, malformed JSON to 400.
Browser pages (paths outside ``/api``, asking for HTML) get an HTML error page instead.

References
----------
RFC 9457, Problem Details for HTTP APIs. https://www.rfc-editor.org/rfc/rfc9457
"""

from __future__ import annotations

import json
import logging
import math
import traceback
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mbcpath.domain.validation import loc_to_path, printable
from mbcpath.errors import AuditError, InputError, Issue, KnowledgeBaseError, MalformedJsonError

log = logging.getLogger("mbcpath.web")

PROBLEM_JSON = "application/problem+json"
_MAX_VALUE_CHARS = 200

#: problem type slug -> (title, explanation shown on the docs page)
PROBLEM_TYPES: dict[str, tuple[str, str]] = {
    "invalid-input": ("Invalid input", "The body or a parameter breaks the contract; `errors` names each field, "
                      "the value sent and the rule broken."),
    "malformed-json": ("Malformed JSON", "The body is not a JSON document (RFC 8259); NaN and Infinity are not JSON."),
    "unsupported-media-type": ("Unsupported media type", "Send the body as application/json."),
    "body-too-large": ("Request body too large", "The body exceeds the configured limit "
                       "(MBCPATH_WEB_MAX_BODY_BYTES, default 256 KiB)."),
    "not-found": ("Not found", "No resource with that path or id."),
    "method-not-allowed": ("Method not allowed", "The path exists but not with this HTTP method."),
    "kb-unavailable": ("Knowledge base unavailable", "The knowledge base failed validation or cannot be read; "
                       "no recommendation is made from a KB that does not validate."),
    "not-available": ("Feature not available", "An optional part of mbcpath (engine, projections) is not installed."),
    "unauthorized": ("Authentication required", "This deployment requires an API key: send "
                     "`Authorization: Bearer <key>` (or `X-API-Key: <key>`)."),
    "forbidden": ("Forbidden", "A cross-site form post, or a key not allowed this operation."),
    "rate-limited": ("Too many requests", "This client sent more requests than its limit "
                     "(MBCPATH_WEB_RATE_LIMIT per minute); `Retry-After` says when to try again."),
    "timeout": ("Time budget exceeded", "The answer took longer than the per-request time budget "
                "(MBCPATH_WEB_REQUEST_TIMEOUT_S); nothing was shown or recorded. Try again later."),
    "overloaded": ("Server busy", "Every worker is busy and the queue is full; `Retry-After` says when to try again."),
    "audit-unavailable": ("Audit trail unavailable", "The audit trail cannot be written (disk full or not writable) "
                          "and this deployment refuses to answer without recording the answer."),
    "internal-error": ("Internal error", "A bug: the request was valid but the server failed. Nothing was stored."),
}

_STATUS_SLUG = {401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
                413: "body-too-large", 415: "unsupported-media-type", 429: "rate-limited"}


_DESCRIPTIONS = {
    400: "malformed JSON (not UTF-8, a syntax error, NaN / Infinity)",
    401: "no valid API key (this deployment requires one)",
    403: "a cross-site request",
    404: "no such resource",
    413: "body too large",
    415: "no Content-Type, or not JSON",
    422: "invalid input: `errors` names each field path, the value and the rule (wrong JSON type, duplicate key, "
         "invalid text, out of range, contradiction)",
    429: "too many requests from this client (`Retry-After`)",
    503: "knowledge base, engine, audit trail or workers unavailable",
    504: "no answer within the per-request time budget",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem details (``application/problem+json``)."""
    return {s: {"description": _DESCRIPTIONS.get(s, HTTPStatus(s).phrase),
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}} for s in statuses}


def document_problems(spec: dict[str, Any], *, auth: bool, rate_limited: bool) -> None:
    """Make the OpenAPI document say what errors are: every 4xx/5xx of every operation is
    ``application/problem+json`` with the ``Problem`` schema; add the statuses that middleware can send
    (401 with API keys, 429 with rate limits, 413 / 415 on bodies, 503 / 504 on answers)."""
    from mbcpath.web.schemas import Problem

    comps = spec.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, d in problem_schema.pop("$defs", {}).items():
        comps.setdefault(name, d)
    comps["Problem"] = problem_schema
    extra = {s for s, on in ((401, auth), (429, rate_limited)) if on}
    for path, ops in spec.get("paths", {}).items():
        if path.startswith("/cds-services"):
            continue  # CDS Hooks answers errors as FHIR OperationOutcome, documented by its router
        for method, op in ops.items():
            if isinstance(op, dict) and "responses" in op:
                _document_operation(op, _statuses(path, method, op, extra))
    for unused in ("HTTPValidationError", "ValidationError"):
        comps.pop(unused, None)


def _statuses(path: str, method: str, op: dict[str, Any], extra: set[int]) -> set[int]:
    codes = set(extra)
    if method == "post":
        codes |= {400, 413, 415, 422}
    if op.get("parameters"):
        codes.add(422)
    if path.endswith("/healthz"):
        codes -= {401, 429}  # probes are never authenticated or limited
    return codes


def _document_operation(op: dict[str, Any], codes: set[int]) -> None:
    for status, entry in problem_responses(*sorted(codes)).items():
        op["responses"].setdefault(str(status), entry)
    for status, entry in op["responses"].items():
        if status[0] in "45":
            entry["content"] = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def problem_type(slug: str) -> str:
    """The ``type`` URI reference of a problem: an anchor on the local API docs page."""
    return f"/docs#problem-{slug}"


def json_safe(value: Any) -> Any:
    """Make an offending value printable in JSON without echoing huge payloads or un-encodable text
    (a lone surrogate is written as the escape ``\\ud800``) back."""
    if isinstance(value, str):
        value = printable(value)
        return value if len(value) <= _MAX_VALUE_CHARS else value[:_MAX_VALUE_CHARS] + "…"
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        try:
            text = str(value)
        except ValueError:  # more digits than int -> str allows
            return "(an integer too large to print)"
        return value if len(text) <= 30 else text[:30] + "…"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    try:
        text = printable(json.dumps(value, default=str, allow_nan=False, ensure_ascii=False))
    except (TypeError, ValueError, RecursionError):
        text = printable(repr(value))
    if len(text) <= _MAX_VALUE_CHARS:
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return text
    return text[:_MAX_VALUE_CHARS] + "…"


def problem(status: int, slug: str, detail: str, *, errors: list[Issue] | None = None,
            title: str | None = None, headers: dict[str, str] | None = None) -> Response:
    """Build a problem-details response (``slug`` "" gives ``type: about:blank``)."""
    body: dict[str, Any] = {
        "type": problem_type(slug) if slug else "about:blank",
        "title": title or PROBLEM_TYPES.get(slug, (HTTPStatus(status).phrase, ""))[0],
        "status": status,
        "detail": printable(detail),
    }
    if errors is not None:
        body["errors"] = [{"field": printable(i.field), "value": json_safe(i.value), "rule": printable(i.rule)}
                          for i in errors]
    return Response(_encode(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _encode(body: dict[str, Any]) -> bytes:
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except (UnicodeEncodeError, ValueError):  # never a 500 for an error message: fall back to ASCII escapes
        return json.dumps(body, ensure_ascii=True, separators=(",", ":"), default=str).encode("ascii")


def problem_bytes(status: int, slug: str, detail: str) -> bytes:
    """The body of a problem response for raw ASGI middleware."""
    return _encode({"type": problem_type(slug), "title": PROBLEM_TYPES[slug][0], "status": status,
                    "detail": printable(detail)})


def issues_from_request_error(exc: RequestValidationError) -> list[Issue]:
    """FastAPI request errors -> field issues (``body.x`` loses its ``body`` prefix)."""
    issues = []
    for e in exc.errors():
        loc = tuple(e.get("loc", ()))
        if loc and loc[0] == "body":
            loc = loc[1:]
        path = loc_to_path(loc)
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        value = None if e.get("type") == "missing" else e.get("input")
        if e.get("type") == "missing":
            msg = "required field is missing"
        issues.append(Issue(path, value, msg))
    return issues


def wants_html(request: Request) -> bool:
    """Browser page requests (not under /api, Accept text/html) get HTML errors."""
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _html_error(request: Request, status: int, title: str, detail: str) -> Response:
    templates = getattr(request.app.state, "templates", None)
    if templates is None:
        return HTMLResponse(f"<h1>{status} {title}</h1>", status_code=status)
    return templates.TemplateResponse(request, "error.html", {"status": status, "title": title, "detail": detail},
                                      status_code=status)


def _answer(request: Request, status: int, slug: str, detail: str, *, title: str | None = None,
            headers: dict[str, str] | None = None, errors: list[Issue] | None = None) -> Response:
    """Problem details for API clients, the HTML error page for browsers asking for a page."""
    if wants_html(request):
        text = "; ".join(str(i) for i in errors[:10]) if errors else detail
        return _html_error(request, status, title or PROBLEM_TYPES.get(slug, ("Error", ""))[0], printable(text))
    return problem(status, slug, detail, errors=errors, title=title, headers=headers)


async def _malformed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MalformedJsonError)
    return _answer(request, 400, "malformed-json", exc.detail)


async def _input_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InputError)
    return _answer(request, 422, "invalid-input", exc.one_line(), errors=exc.issues)


async def _timeout(request: Request, exc: Exception) -> Response:
    budget = getattr(exc, "budget_s", 0.0)
    log.warning("time budget exceeded", extra={"event": "timeout", "budget_s": budget})
    return _answer(request, 504, "timeout",
                   f"no answer within the time budget of {budget:g} s; nothing was shown or recorded")


async def _overloaded(request: Request, exc: Exception) -> Response:
    return _answer(request, 503, "overloaded", "every worker is busy; try again shortly", headers={"retry-after": "1"})


async def _audit(request: Request, exc: Exception) -> Response:
    return _answer(request, 503, "audit-unavailable",
                   "the answer could not be recorded in the audit trail, so it is not shown (policy: refuse)")


async def _request_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return problem(400, "malformed-json", "the request body is not valid JSON")
    issues = issues_from_request_error(exc)
    first = issues[0] if issues else Issue("(root)", None, "invalid")
    return problem(422, "invalid-input", f"invalid request: {first}", errors=issues)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    detail = exc.detail if isinstance(exc.detail, str) else title
    slug = _STATUS_SLUG.get(status, "")
    headers = dict(exc.headers or {})
    if status == 405:  # every method this path answers (two routes can share a path), not only the first's
        given = {m.strip() for k, v in headers.items() if k.lower() == "allow" for m in v.split(",") if m.strip()}
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
        headers["Allow"] = ", ".join(sorted(given | _documented_methods(request)))
    return _answer(request, status, slug, detail, title=PROBLEM_TYPES[slug][0] if slug else title,
                   headers=headers)


def _documented_methods(request: Request) -> set[str]:
    """The methods the OpenAPI document gives for the request's path (templates such as ``{id}`` match a
    segment)."""
    import re

    try:
        paths = request.app.openapi().get("paths", {})
    except Exception:  # no OpenAPI document (docs off): the route's own Allow stands
        return set()
    out: set[str] = set()
    for template, ops in paths.items():
        if re.fullmatch(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)), request.url.path):
            out |= {m.upper() for m in ops if m in ("get", "post", "put", "patch", "delete")}
    return out


async def _kb_error(request: Request, exc: Exception) -> Response:
    log.error("knowledge base unavailable: %s", str(exc)[:500])
    return _answer(request, 503, "kb-unavailable",
                   "the knowledge base failed validation; see the server log or run `mbcpath kb validate`")


async def _unavailable(request: Request, exc: Exception) -> Response:
    feature, detail = getattr(exc, "feature", "feature"), getattr(exc, "detail", str(exc))
    return _answer(request, 503, "not-available", detail, title=f"{feature.capitalize()} not available")


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""
    from mbcpath.web.deps import FeatureUnavailable
    from mbcpath.web.offload import Overloaded, TimeBudgetExceeded

    for exc_type, handler in ((MalformedJsonError, _malformed), (InputError, _input_error),
                              (TimeBudgetExceeded, _timeout), (Overloaded, _overloaded), (AuditError, _audit),
                              (RequestValidationError, _request_error), (StarletteHTTPException, _http_error),
                              (KnowledgeBaseError, _kb_error), (FeatureUnavailable, _unavailable)):
        app.add_exception_handler(exc_type, handler)


async def internal_error_response(request: Request, exc: Exception) -> Response:
    """500 for a bug. Logs the exception type and stack frames only: never the message or the
    request body, which may carry patient data."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("internal error on %s %s: %s\n%s", request.method, request.url.path, type(exc).__name__, frames)
    if wants_html(request):
        return _html_error(request, 500, "Internal error", "The server failed; nothing was stored.")
    return problem(500, "internal-error", "the server failed to handle a valid request; nothing was stored")
