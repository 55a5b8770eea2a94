"""The patient-in-the-URL-fragment token: round trip, size, damage, and bounded inflation."""

from __future__ import annotations

import base64
import json
import zlib

import pytest

from mbcpath.web.share import MAX_JSON, TokenError, decode_patient, encode_patient

from .conftest import case


def test_round_trip_and_url_safety():
    """A vignette patient survives encode -> decode; the token is URL-safe and much shorter than the JSON."""
    p = case("third-line-active-brain-metastases")
    text = json.dumps(p, separators=(",", ":"))
    token = encode_patient(text)
    assert token.startswith("1.") and all(ch.isalnum() or ch in "-_." for ch in token)
    assert len(token) < len(text)
    assert decode_patient(token) == p
    assert decode_patient("p=" + token) == p  # as read from location.hash without '#'


@pytest.mark.parametrize(("token", "why"), [
    ("", "known format"), ("2.abc", "known format"), ("1.!!!!", "damaged"),
    ("1." + base64.urlsafe_b64encode(b"not deflate at all").decode(), "damaged"),
])
def test_damaged_tokens_are_refused_with_a_reason(token, why):
    """A cut or foreign token is a TokenError saying why, never a crash."""
    with pytest.raises(TokenError, match=why):
        decode_patient(token)


def test_truncated_token_is_refused():
    """A link cut short (the end of the fragment lost) does not decode to a partial patient."""
    token = encode_patient(json.dumps(case("seed-01-first-line")))
    with pytest.raises(TokenError):
        decode_patient(token[: len(token) // 2])


def test_inflation_is_bounded():
    """A small token that inflates past MAX_JSON (a compression bomb) is refused."""
    comp = zlib.compressobj(level=9, wbits=-15)
    raw = comp.compress(b'{"id": "' + b"a" * (MAX_JSON + 10) + b'"}') + comp.flush()
    token = "1." + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert len(token) < 2000
    with pytest.raises(TokenError, match="larger than allowed"):
        decode_patient(token)


def test_not_json_is_refused():
    """Valid deflate of something that is not JSON is refused as not a patient document."""
    comp = zlib.compressobj(wbits=-15)
    token = "1." + base64.urlsafe_b64encode(comp.compress(b"\xff\xfe") + comp.flush()).decode().rstrip("=")
    with pytest.raises(TokenError, match="not a patient JSON"):
        decode_patient(token)
