"""Response compression for text: HTML, CSS, JavaScript, JSON and SVG go out gzip-encoded.

Starlette's :class:`~starlette.middleware.gzip.GZipMiddleware` does the work (it
honours ``Accept-Encoding``, sets ``Vary``, and leaves small responses alone); this
module only fixes the threshold and keeps already-compressed or binary media (PDF,
PNG, fonts) out of it.

A note on BREACH-style attacks: they need a secret in the response that an attacker
can probe with reflected input; mbcpath pages carry no tokens or session secrets.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["CompressionMiddleware"]

#: Responses smaller than this are sent as they are (compressing them saves nothing).
MINIMUM_SIZE = 500
_BINARY_PATHS = (".pdf", ".png", ".jpg", ".jpeg", ".woff", ".woff2", ".gz")


class CompressionMiddleware:
    """gzip for text responses of at least :data:`MINIMUM_SIZE` bytes; binary downloads pass through."""

    def __init__(self, app: ASGIApp, *, minimum_size: int = MINIMUM_SIZE, level: int = 6) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=level)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("path", "").lower().endswith(_BINARY_PATHS):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
