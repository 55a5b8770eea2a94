"""Structured logs: one JSON object per line, and a request id on every response.

Log records carry what operators need (event, request id, method, path, status, duration,
caller) and never a request body or a value taken from one: error logs name the exception type
only (:func:`mbcpath.web.problems.internal_error_response`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("mbcpath.web.access")

_STANDARD = set(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...extra fields}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info and record.exc_info[0] is not None:
            out["exception"] = record.exc_info[0].__name__  # the type only: a message may quote patient data
        return json.dumps(out, default=str, ensure_ascii=True)


def configure(fmt: str = "json", level: int = logging.INFO) -> None:
    """Send mbcpath's and uvicorn's logs to stderr as JSON lines (``fmt="json"``) or plain text."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for name in ("mbcpath", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


class RequestIdMiddleware:
    """Give each request an id (``x-request-id`` on the response, ``state["request_id"]``) and, when
    ``access_log`` is on, log method, path, status, duration and caller (never the query or body)."""

    def __init__(self, app: ASGIApp, *, access_log: bool = False) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = os.urandom(8).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                log.info("request", extra={
                    "event": "request", "request_id": request_id, "method": scope.get("method"),
                    "path": scope.get("path"), "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "caller": scope.get("state", {}).get("caller")})
