"""CDS Hooks 2.0.1 security: the EHR's JWT on every call.

Checks (CDS Hooks 2.0.1, "Trusting CDS Clients"): a bearer JWT; ``alg`` ES384 or RS384 only (``none``
and HMAC refused: an HMAC key would be a shared secret); ``iss`` in the configured allow-list
(``MBCPATH_CDS_TRUSTED_ISSUERS``: a JSON file ``{"<iss>": {"jwks": {"keys": [...]}}}`` or
``{"<iss>": {"jku": "<url>"}}``; a token's own ``jku`` header is honoured only when it equals the configured
one); signature; ``aud`` equal to the called endpoint's URL; ``exp`` in the future; ``jti`` present and not
seen before (replay cache kept until the token expires). PyJWT (with cryptography) does the cryptography.

References
----------
HL7 CDS Hooks 2.0.1, section "Security and Safety" / "Trusting CDS Clients" (JWT claims iss, aud, exp, iat,
    jti; ES384 and RS384; jku / JWK Set).
RFC 7515 (JWS), RFC 7517 (JWK), RFC 7519 (JWT).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mbcpath.errors import InteropError

log = logging.getLogger("mbcpath.cds")
ALGORITHMS = ("ES384", "RS384")
ENV_ISSUERS = "MBCPATH_CDS_TRUSTED_ISSUERS"


class CdsAuthError(InteropError):
    """The call is not authenticated; the message says why (returned with 401)."""


@dataclass
class ReplayCache:
    """``jti`` values seen, kept until their token's ``exp`` (thread-safe)."""

    seen: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check_and_add(self, key: str, exp: float, now: float) -> bool:
        """True the first time ``key`` is seen (and records it); False on a replay."""
        with self.lock:
            if len(self.seen) > 10000:
                self.seen = {k: v for k, v in self.seen.items() if v > now}
            if key in self.seen:
                return False
            self.seen[key] = exp
            return True


@dataclass
class TrustedIssuers:
    """The allow-list: issuer -> JWKS (inline or from a configured jku URL, fetched once and cached)."""

    issuers: dict[str, dict[str, Any]]
    problem: str | None = None
    _jwks_cache: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> TrustedIssuers:
        env = os.environ if environ is None else environ
        path = env.get(ENV_ISSUERS, "").strip()
        if not path:
            return cls({}, f"{ENV_ISSUERS} is not set: every CDS Hooks call is refused until it names a trusted-"
                           "issuer file")
        return cls.from_file(Path(path))

    @classmethod
    def from_file(cls, path: Path) -> TrustedIssuers:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            return cls({}, f"{ENV_ISSUERS} = {str(path)!r}: cannot read a JSON object ({err}); every call refused")
        if not isinstance(raw, dict) or not all(isinstance(v, dict) and ("jwks" in v or "jku" in v)
                                                for v in raw.values()):
            return cls({}, f"{ENV_ISSUERS} = {str(path)!r}: expected {{'<iss>': {{'jwks': ...}} | {{'jku': url}}}}; "
                           "every call refused")
        return cls(raw)

    def jwks(self, iss: str, header: dict[str, Any]) -> dict[str, Any]:
        conf = self.issuers.get(iss)
        if conf is None:
            raise CdsAuthError(f"iss {iss!r} is not a trusted issuer")
        if "jwks" in conf:
            return conf["jwks"]  # type: ignore[no-any-return]
        url = str(conf["jku"])
        if header.get("jku") not in (None, url):
            raise CdsAuthError(f"jku {header.get('jku')!r} is not the issuer's configured JWK Set URL")
        if url not in self._jwks_cache:
            import httpx

            try:
                self._jwks_cache[url] = httpx.get(url, timeout=5.0).raise_for_status().json()
            except (httpx.HTTPError, ValueError) as err:
                raise CdsAuthError(f"cannot fetch the issuer's JWK Set {url!r}: {err}") from None
        return self._jwks_cache[url]


def _key_for(jwks: dict[str, Any], header: dict[str, Any]) -> Any:
    import jwt

    keys = [k for k in jwks.get("keys") or [] if header.get("kid") in (None, k.get("kid"))]
    if not keys:
        raise CdsAuthError(f"no key with kid {header.get('kid')!r} in the issuer's JWK Set")
    try:
        return jwt.PyJWK(keys[0], algorithm=header["alg"]).key
    except jwt.PyJWTError as err:
        raise CdsAuthError(f"the issuer's key cannot be used: {err}") from None


def verify(token: str, audience: str, issuers: TrustedIssuers, replay: ReplayCache | None = None,
           now: float | None = None) -> dict[str, Any]:
    """Verify a CDS client's JWT for ``audience`` (the called endpoint's URL); return its claims.

    ``now`` (seconds since the epoch) defaults to the clock; tests freeze it. Raises :class:`CdsAuthError`.
    """
    import jwt

    if issuers.problem:
        raise CdsAuthError(issuers.problem)
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as err:
        raise CdsAuthError(f"malformed JWT: {err}") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise CdsAuthError(f"alg {alg!r} refused: CDS Hooks 2.0.1 requires ES384 or RS384")
    key = _key_for(issuers.jwks(str(unverified.get("iss")), header), header)
    try:
        claims: dict[str, Any] = jwt.decode(token, key, algorithms=[alg], audience=audience,
                                            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                                     "require": ["iss", "aud", "exp", "jti"]})
    except jwt.InvalidAudienceError:
        raise CdsAuthError(f"aud {unverified.get('aud')!r} is not this endpoint ({audience})") from None
    except jwt.PyJWTError as err:
        raise CdsAuthError(f"JWT rejected: {err}") from None
    clock = time.time() if now is None else now
    if float(claims["exp"]) <= clock:
        raise CdsAuthError(f"JWT expired at {int(claims['exp'])} (now {int(clock)})")
    if replay is not None and not replay.check_and_add(f"{claims['iss']}|{claims['jti']}", float(claims["exp"]), clock):
        raise CdsAuthError(f"jti {claims['jti']!r} already used (replay)")
    return claims
