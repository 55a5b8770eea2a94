"""Authentication (API keys) and the cross-site check, as one raw ASGI middleware.

Why API keys and not OIDC bearer tokens: an OIDC check needs the issuer's JWKS over the network,
and this service must run where nothing outside can be reached (a hospital network, an air-gapped
research machine). An API key per calling system is enough to know *who* asked (the key's id goes
into the audit trail and the rate limiter), costs one hash per request, and needs no extra
dependency. Put an OIDC-aware reverse proxy in front when users must sign in individually.

* Keys are configured as ``id:sha256hex`` pairs (``MBCPATH_WEB_API_KEYS``): the server never holds
  a key itself, only its SHA-256, so a leaked configuration leaks no key. ``python -m
  mbcpath.web.security new-key NAME`` makes a key (256 random bits) and prints its config entry.
* A request presents its key as ``Authorization: Bearer <key>``, ``X-API-Key: <key>``, or, for the
  browser pages, HTTP Basic with the key as the password (the browser asks once).
* Without keys the app is open, for development on the loopback interface; ``serve()`` refuses to
  bind any other address without keys unless told ``allow_unauthenticated``.
* Open paths: ``/healthz``, ``/api/v1/healthz`` (probes) and ``/static/`` (no data).
* Unsafe methods from a browser on another site (``Sec-Fetch-Site: cross-site`` or an ``Origin``
  that is not this host) get 403: a page elsewhere cannot make a signed-in browser post a patient.

References
----------
RFC 6750, The OAuth 2.0 Authorization Framework: Bearer Token Usage (header syntax, 401 with
``WWW-Authenticate``). https://www.rfc-editor.org/rfc/rfc6750 ;
RFC 7617, The 'Basic' HTTP Authentication Scheme. https://www.rfc-editor.org/rfc/rfc7617 ;
W3C Fetch Metadata Request Headers (``Sec-Fetch-Site``). https://www.w3.org/TR/fetch-metadata/
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import sys
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from mbcpath.web.problems import PROBLEM_JSON, problem_bytes

OPEN_PATHS = ("/healthz", "/api/v1/healthz")
OPEN_PREFIXES = ("/static/",)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
ANONYMOUS = "anonymous"


def key_digest(key: str) -> str:
    """The SHA-256 (hex) a key is configured as."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_api_keys(entries: Iterable[str]) -> dict[str, str]:
    """``["id:sha256hex", ...]`` -> ``{sha256hex: id}``; raises ``ValueError`` naming a bad entry."""
    out: dict[str, str] = {}
    for entry in entries:
        key_id, sep, digest = entry.strip().partition(":")
        digest = digest.strip().lower()
        if not sep or not key_id or not _HEX64.match(digest):
            raise ValueError(f"api key entry {entry.strip()[:20]!r}…: expected 'id:<64 hex digits of SHA-256>'")
        out[digest] = key_id.strip()
    return out


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v.decode("latin-1")
    return None


def presented_key(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The key a request presents (Bearer, X-API-Key or Basic password), or None."""
    headers = list(headers)
    auth = _header(headers, b"authorization")
    if auth:
        scheme, _, value = auth.strip().partition(" ")
        if scheme.lower() == "bearer":
            return value.strip() or None
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return decoded.partition(":")[2] or None
    key = _header(headers, b"x-api-key")
    return key.strip() if key else None


def identify(keys: Mapping[str, str], presented: str | None) -> str | None:
    """The id of the key presented, or None (constant-time comparison of digests)."""
    if not presented:
        return None
    digest = key_digest(presented)
    found = None
    for known, key_id in keys.items():
        if hmac.compare_digest(known, digest):
            found = key_id
    return found


def cross_site(scope: Scope) -> bool:
    """True for an unsafe-method request that a browser sent from another site.

    Fetch Metadata decides when present (every current browser sends ``Sec-Fetch-Site``). Otherwise an
    ``Origin`` naming another host is refused. ``Origin: null`` is not evidence either way: with this app's
    ``Referrer-Policy: no-referrer`` a browser sends it for its own same-origin form posts.
    """
    if scope.get("method", "GET") in ("GET", "HEAD", "OPTIONS"):
        return False
    headers = scope.get("headers", [])
    site = (_header(headers, b"sec-fetch-site") or "").lower()
    if site:
        return site == "cross-site"
    origin = _header(headers, b"origin")
    if not origin or origin == "null":
        return False
    host = _header(headers, b"host") or ""
    return urlsplit(origin).netloc.lower() != host.lower()


class AuthMiddleware:
    """Refuse requests without a valid API key (when keys are configured) and cross-site posts.

    Sets ``scope["state"]["caller"]`` to the key's id (``anonymous`` when the app is open).
    """

    def __init__(self, app: ASGIApp, *, keys: Mapping[str, str], cors_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.keys = dict(keys)
        self.cors_origins = {o.lower() for o in cors_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        state = scope.setdefault("state", {})
        state["caller"] = ANONYMOUS
        if cross_site(scope) and not self._cors_allowed(scope):
            await _refuse(send, 403, "forbidden", "a cross-site request is refused (Origin / Sec-Fetch-Site)")
            return
        if not self.keys or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        caller = identify(self.keys, presented_key(scope.get("headers", [])))
        if caller is None:
            api = path.startswith("/api/")
            challenge = b'Bearer realm="mbcpath"' if api else b'Basic realm="mbcpath", charset="UTF-8"'
            await _refuse(send, 401, "unauthorized", "a valid API key is required (Authorization: Bearer <key>)",
                          [(b"www-authenticate", challenge)])
            return
        state["caller"] = caller
        await self.app(scope, receive, send)

    def _cors_allowed(self, scope: Scope) -> bool:
        origin = (_header(scope.get("headers", []), b"origin") or "").lower()
        return bool(origin) and origin in self.cors_origins


async def _refuse(send: Send, status: int, slug: str, detail: str,
                  extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = problem_bytes(status, slug, detail)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
                            *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


def new_key(name: str) -> tuple[str, str]:
    """A fresh key (256 random bits, URL-safe) and its configuration entry ``name:sha256hex``."""
    key = secrets.token_urlsafe(32)
    return key, f"{name}:{key_digest(key)}"


def main(argv: list[str] | None = None) -> int:
    """``python -m mbcpath.web.security new-key NAME``: print a new key and its config entry."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "new-key" or ":" in args[1]:
        sys.stderr.write("usage: python -m mbcpath.web.security new-key NAME\n")
        return 2
    key, entry = new_key(args[1])
    sys.stdout.write(f"key (give it to the caller; it is not stored anywhere): {key}\n"
                     f"config entry (MBCPATH_WEB_API_KEYS, comma-separated): {entry}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
