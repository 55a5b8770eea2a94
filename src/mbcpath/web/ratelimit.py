"""Per-client rate limits: a token bucket per caller (API key id, else the client address).

Each client may send ``per_minute`` requests a minute on average and up to ``burst`` at once;
past that it gets 429 problem details with ``Retry-After`` (seconds). Probes (``/healthz``) and
static files are not counted. State is per worker process and in memory (a restart forgets it);
several workers each apply the limit, so the effective limit is ``workers x per_minute``: put a
shared limiter in the reverse proxy when that matters.

References
----------
Token bucket: Turner J. New directions in communications (or which way to the information age?).
IEEE Communications Magazine 1986;24(10):8-15. RFC 6585 section 4 (429 Too Many Requests).
https://www.rfc-editor.org/rfc/rfc6585#section-4
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from mbcpath.web.problems import PROBLEM_JSON, problem_bytes
from mbcpath.web.security import ANONYMOUS, OPEN_PATHS, OPEN_PREFIXES

MAX_CLIENTS = 10_000


class TokenBuckets:
    """One bucket per client key; the least recently seen clients are forgotten past ``MAX_CLIENTS``."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """Take one token: 0.0 when allowed, else the seconds until one is available."""
        now = self.clock()
        tokens, last = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        return wait


class RateLimitMiddleware:
    """429 for a client over its limit (runs after :class:`~mbcpath.web.security.AuthMiddleware`)."""

    def __init__(self, app: ASGIApp, *, per_minute: float, burst: int) -> None:
        self.app = app
        self.buckets = TokenBuckets(per_minute, burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(_client(scope))
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry = str(max(1, math.ceil(wait)))
        body = problem_bytes(429, "rate-limited", f"too many requests from this client; retry in {retry} s")
        await send({"type": "http.response.start", "status": 429,
                    "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
                                (b"retry-after", retry.encode())]})
        await send({"type": "http.response.body", "body": body})


def _client(scope: Scope) -> str:
    caller = scope.get("state", {}).get("caller", ANONYMOUS)
    if caller != ANONYMOUS:
        return f"key:{caller}"
    client = scope.get("client")
    return f"addr:{client[0]}" if client else "addr:?"
