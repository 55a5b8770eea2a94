"""A patient carried in a URL without storing it: ``/results#p=<token>``.

The token is the patient's contract JSON, compressed with raw DEFLATE (RFC 1951) and
written in unpadded base64url (RFC 4648, section 5), after a version prefix ``1.``.
It lives in the URL *fragment*, which browsers never send to a server: the page's
script reads it and posts it back to render the results, so the patient is in the
link (bookmarkable, shareable, surviving Back) and never in a server log or store.

Decoding is bounded: a token longer than :data:`MAX_TOKEN` characters or inflating
past :data:`MAX_JSON` bytes is refused, so a crafted link cannot exhaust memory.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

__all__ = ["MAX_JSON", "MAX_TOKEN", "TokenError", "decode_patient", "encode_patient"]

VERSION = "1."
MAX_TOKEN = 64 * 1024
MAX_JSON = 256 * 1024


class TokenError(ValueError):
    """The link's patient data cannot be read (the message says why, without echoing the data)."""


def encode_patient(patient_json: str) -> str:
    """The fragment token of a patient's JSON text."""
    comp = zlib.compressobj(level=9, wbits=-15)
    raw = comp.compress(patient_json.encode("utf-8")) + comp.flush()
    return VERSION + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_patient(token: str) -> Any:
    """The patient (parsed JSON) carried by ``token``; :class:`TokenError` when it cannot be read."""
    token = token.strip()
    if token.startswith("p="):
        token = token[2:]
    if not token.startswith(VERSION):
        raise TokenError("the link does not carry a patient in a known format (expected '#p=1.…')")
    body = token[len(VERSION):]
    if len(body) > MAX_TOKEN:
        raise TokenError(f"the link's patient data is longer than {MAX_TOKEN} characters")
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
        inflater = zlib.decompressobj(wbits=-15)
        text = inflater.decompress(raw, MAX_JSON)
    except (binascii.Error, ValueError, zlib.error):
        raise TokenError("the link's patient data is damaged (was the address cut short?)") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise TokenError("the link's patient data is incomplete or larger than allowed")
    try:
        return json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise TokenError("the link's patient data is not a patient JSON document") from None
