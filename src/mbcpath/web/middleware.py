"""Pure ASGI middleware: request size limit and security headers.

Written as raw ASGI (not ``BaseHTTPMiddleware``) so they add little latency and
never buffer a body.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mbcpath.web.problems import PROBLEM_JSON, problem_bytes

#: Scripts only from this origin (no inline script, no eval). Styles allow 'unsafe-inline'
#: because plotly.js injects its modebar style rules at run time (checked: with
#: style-src 'self' it logs CSP violations and the modebar loses its styling).
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP response; ``no-store`` on non-static responses
    (they may carry patient data)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        extra: list[tuple[bytes, bytes]] = list(SECURITY_HEADERS)
        if hsts:
            extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        self.headers = tuple(extra)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers.extend(h for h in self.headers if h[0] not in present)
                if not static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with 413 problem details.

    A declared ``Content-Length`` over the limit is refused before reading; a
    chunked body is counted as it streams and refused when it passes the limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope["headers"])
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send, declared)
            return
        received = 0
        limit = self.max_bytes

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"request body exceeds the limit of {limit} bytes")
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, send: Send, size: int) -> None:
        body = problem_bytes(413, "body-too-large",
                             f"request body of {size} bytes exceeds the limit of {self.max_bytes} bytes")
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", PROBLEM_JSON.encode()),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _content_length(headers: Iterable[tuple[bytes, bytes]]) -> int | None:
    for k, v in headers:
        if k.lower() == b"content-length":
            try:
                return int(v)
            except ValueError:
                return None
    return None


class InternalErrorMiddleware:
    """Turn an unhandled exception into a 500 problem response *without* re-raising it.

    Starlette's own 500 handler re-raises so that the server logs the traceback with the
    exception's message, which may quote patient data; this middleware logs the type and
    frames only (:func:`mbcpath.web.problems.internal_error_response`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            from starlette.requests import Request

            from mbcpath.web.problems import internal_error_response

            if started:  # too late for a clean answer: log and end the response
                await internal_error_response(Request(scope), exc)
                return
            response = await internal_error_response(Request(scope), exc)
            await response(scope, receive, send)
