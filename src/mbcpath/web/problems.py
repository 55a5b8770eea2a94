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
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mbcpath.domain.validation import loc_to_path
from mbcpath.errors import InputError, Issue, KnowledgeBaseError

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
    "internal-error": ("Internal error", "A bug: the request was valid but the server failed. Nothing was stored."),
}

_STATUS_SLUG = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large", 415: "unsupported-media-type"}


def problem_type(slug: str) -> str:
    """The ``type`` URI reference of a problem: an anchor on the local API docs page."""
    return f"/docs#problem-{slug}"


def json_safe(value: Any) -> Any:
    """Make an offending value printable in JSON without echoing huge payloads back."""
    if value is None or isinstance(value, bool | str):
        return value if not isinstance(value, str) or len(value) <= _MAX_VALUE_CHARS else value[:_MAX_VALUE_CHARS] + "…"
    if isinstance(value, int):
        try:
            text = str(value)
        except ValueError:  # more digits than int -> str allows
            return "(an integer too large to print)"
        return value if len(text) <= 30 else text[:30] + "…"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    try:
        text = json.dumps(value, default=str, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    if len(text) <= _MAX_VALUE_CHARS:
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return text
    return text[:_MAX_VALUE_CHARS] + "…"


def problem(status: int, slug: str, detail: str, *, errors: list[Issue] | None = None,
            title: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    """Build a problem-details response (``slug`` "" gives ``type: about:blank``)."""
    body: dict[str, Any] = {
        "type": problem_type(slug) if slug else "about:blank",
        "title": title or PROBLEM_TYPES.get(slug, (HTTPStatus(status).phrase, ""))[0],
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = [{"field": i.field, "value": json_safe(i.value), "rule": i.rule} for i in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_bytes(status: int, slug: str, detail: str) -> bytes:
    """The body of a problem response for raw ASGI middleware."""
    return json.dumps({"type": problem_type(slug), "title": PROBLEM_TYPES[slug][0], "status": status,
                       "detail": detail}).encode()


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


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""
    from mbcpath.web.deps import FeatureUnavailable
    from mbcpath.web.services import MalformedJson

    @app.exception_handler(MalformedJson)
    async def _malformed(request: Request, exc: MalformedJson) -> Response:
        return problem(400, "malformed-json", exc.detail)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> Response:
        return problem(422, "invalid-input", exc.one_line(), errors=exc.issues)

    @app.exception_handler(RequestValidationError)
    async def _request_error(request: Request, exc: RequestValidationError) -> Response:
        issues = issues_from_request_error(exc)
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return problem(400, "malformed-json", "the request body is not valid JSON")
        first = issues[0] if issues else Issue("(root)", None, "invalid")
        return problem(422, "invalid-input", f"invalid request: {first}", errors=issues)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        detail = exc.detail if isinstance(exc.detail, str) else title
        headers = dict(exc.headers or {})
        if wants_html(request):
            return _html_error(request, status, title, detail)
        slug = _STATUS_SLUG.get(status, "")
        return problem(status, slug, detail, title=PROBLEM_TYPES[slug][0] if slug else title, headers=headers)

    @app.exception_handler(KnowledgeBaseError)
    async def _kb_error(request: Request, exc: KnowledgeBaseError) -> Response:
        log.error("knowledge base unavailable: %s", str(exc)[:500])
        detail = "the knowledge base failed validation; see the server log or run `mbcpath kb check`"
        if wants_html(request):
            return _html_error(request, 503, "Knowledge base unavailable", detail)
        return problem(503, "kb-unavailable", detail)

    @app.exception_handler(FeatureUnavailable)
    async def _unavailable(request: Request, exc: FeatureUnavailable) -> Response:
        if wants_html(request):
            return _html_error(request, 503, f"{exc.feature.capitalize()} not available", exc.detail)
        return problem(503, "not-available", exc.detail)


async def internal_error_response(request: Request, exc: Exception) -> Response:
    """500 for a bug. Logs the exception type and stack frames only: never the message or the
    request body, which may carry patient data."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("internal error on %s %s: %s\n%s", request.method, request.url.path, type(exc).__name__, frames)
    if wants_html(request):
        return _html_error(request, 500, "Internal error", "The server failed; nothing was stored.")
    return problem(500, "internal-error", "the server failed to handle a valid request; nothing was stored")
