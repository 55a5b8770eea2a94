"""Strict input, in one place: raw JSON text -> checked data -> contract models.

Every adapter (REST API, the form's pasted JSON, CLI, FHIR import, cohort rows) goes through
here, so they all refuse the same things:

* :func:`loads_strict`: JSON text (RFC 8259) with **duplicate keys refused** at any depth
  (``{"pregnant": true, "pregnant": false}`` would otherwise let the last value win, silently),
  no NaN / Infinity, and a clear reason for everything else;
* :func:`check_text`: **lone UTF-16 surrogates** (``"\\ud800"``), NUL and other control
  characters refused in every key and string value, so that no error message ever has to echo
  text that cannot be encoded;
* :func:`parse_model` / :func:`parse_patient`: **exact JSON types** (the contract models use
  ``Strict`` types: no ``"56"`` -> 56, no ``"yes"`` -> true), every pydantic error mapped to an
  :class:`~mbcpath.errors.Issue` naming the field path (``treatments[0].drugs[0]``), the value
  and the rule;
* :func:`parse_patient_json`: all of the above from raw bytes or text.

References
----------
RFC 8259, The JavaScript Object Notation (JSON) Data Interchange Format, section 4 (names within
an object SHOULD be unique; behaviour with duplicates is unpredictable) and section 8.2 (unpaired
surrogates). https://www.rfc-editor.org/rfc/rfc8259
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mbcpath.errors import InputError, Issue, MalformedJsonError

M = TypeVar("M", bound=BaseModel)
_INDEX_PREFIX = re.compile(r"^\[(\d+)\] (.*)$", re.S)
_MISSING = object()
#: characters refused in any string: C0 controls other than tab / LF / CR, lone surrogates,
#: and the noncharacters U+FFFE / U+FFFF.
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: a JSON escape that could decode to a refused character (surrogate, C0 control, U+FFFE/U+FFFF): only text
#: with one of these (or a refused character written raw) needs the full walk of :func:`check_text`
_ESCAPE_HINT = re.compile(r"\\u(?:[dD][89a-fA-F]|00[01]|[fF]{3}[eEfF])")
#: pydantic error type -> the rule, in the contract's words
_TYPE_RULES = {
    "int_type": "must be a JSON integer such as 56: not a string (\"56\"), not 56.0, not true/false",
    "float_type": "must be a JSON number such as 450: not a string (\"450\"), not true/false",
    "bool_type": "must be JSON true or false: not a string (\"yes\", \"off\"), not 0 or 1",
    "string_type": "must be a JSON string",
    "list_type": "must be a JSON array",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
}


def printable(text: str) -> str:
    """``text`` with every refused character written as an escape (``\\ud800``): always encodable."""
    return _BAD_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class _DuplicateKeys(dict[str, Any]):
    """A JSON object that had duplicate keys (marked while parsing, located afterwards)."""

    duplicates: dict[str, list[Any]]


def _object_pairs(pairs: list[tuple[str, Any]], found: list[bool]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    values: dict[str, list[Any]] = {}
    for k, v in pairs:
        values.setdefault(k, []).append(v)
    marked = _DuplicateKeys(obj)
    marked.duplicates = {k: vs for k, vs in values.items() if len(vs) > 1}
    found.append(True)
    return marked


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (RFC 8259 has no NaN or Infinity)")


def _find_duplicates(data: Any, loc: tuple[int | str, ...] = ()) -> list[Issue]:
    issues: list[Issue] = []
    if isinstance(data, _DuplicateKeys):
        for key, values in data.duplicates.items():
            issues.append(Issue(printable(loc_to_path((*loc, key))), values,
                                f"duplicate key, given {len(values)} times: a key may appear only once in a JSON "
                                "object (the last value would otherwise silently win)"))
    if isinstance(data, dict):
        for k, v in data.items():
            issues.extend(_find_duplicates(v, (*loc, k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            issues.extend(_find_duplicates(v, (*loc, i)))
    return issues


def loads_strict(raw: bytes | str, *, subject: str = "patient") -> Any:
    """Parse JSON text strictly: duplicate keys and invalid text (:func:`check_text`) raise
    :class:`InputError` naming the key path.

    Malformed text (not UTF-8, not JSON, NaN / Infinity, nesting too deep, an integer too long)
    raises :class:`MalformedJsonError`, which adapters report as "malformed JSON" (HTTP 400,
    CLI exit 2).
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise MalformedJsonError(f"not UTF-8 text (byte {err.start})") from None
    if not raw.strip():
        raise MalformedJsonError("empty; send a JSON object")
    found: list[bool] = []
    try:
        data = json.loads(raw, object_pairs_hook=lambda pairs: _object_pairs(pairs, found),
                          parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise MalformedJsonError(f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except RecursionError:
        raise MalformedJsonError("JSON nested too deeply") from None
    except ValueError as err:  # an integer too long to convert, NaN / Infinity
        raise MalformedJsonError(f"not valid JSON: {printable(str(err))[:160]}") from None
    if found:
        raise InputError(_find_duplicates(data), subject=subject)
    if _ESCAPE_HINT.search(raw) or _BAD_TEXT.search(raw):
        check_text(data, subject=subject)
    return data


def check_text(data: Any, *, subject: str = "patient") -> None:
    """Refuse lone surrogates, NUL and other control characters in any key or string value."""
    issues = list(_bad_text(data, ()))
    if issues:
        raise InputError(issues, subject=subject)


def _bad_text(data: Any, loc: tuple[int | str, ...]) -> Any:
    if isinstance(data, str):
        if _BAD_TEXT.search(data):
            yield Issue(printable(loc_to_path(loc)), printable(data)[:200],
                        "invalid text: lone UTF-16 surrogates, NUL and control characters other than tab and "
                        "line breaks are refused")
    elif isinstance(data, dict):
        for k, v in data.items():
            if isinstance(k, str) and _BAD_TEXT.search(k):
                yield Issue(printable(loc_to_path((*loc, k))), None, "invalid text in a key: lone UTF-16 "
                            "surrogates, NUL and control characters are refused")
                continue
            yield from _bad_text(v, (*loc, k))
    elif isinstance(data, list | tuple):
        for i, v in enumerate(data):
            yield from _bad_text(v, (*loc, i))


def loc_to_path(loc: tuple[int | str, ...]) -> str:
    """``('treatments', 0, 'drugs')`` -> ``'treatments[0].drugs'``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(root)"


def _lookup(data: Any, loc: tuple[int | str, ...]) -> Any:
    cur = data
    for part in loc:
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return cur


def issues_from_validation_error(err: ValidationError, data: Any) -> list[Issue]:
    """Translate pydantic errors into field / value / rule issues."""
    issues: list[Issue] = []
    for e in err.errors(include_url=False):
        loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        ctx_err = (e.get("ctx") or {}).get("error")
        field_attr = getattr(ctx_err, "field", None)
        if field_attr is not None:
            prefix = loc_to_path(loc)
            path = field_attr if prefix == "(root)" else f"{prefix}.{field_attr}"
            issues.append(Issue(path, ctx_err.value, ctx_err.rule))  # type: ignore[union-attr]
            continue
        msg = _TYPE_RULES.get(e["type"]) or str(e["msg"]).removeprefix("Value error, ")
        value = _lookup(data, loc)
        m = _INDEX_PREFIX.match(msg)
        if m:
            loc = (*loc, int(m.group(1)))
            msg = m.group(2)
            value = _lookup(data, loc)
            msg = msg.split(": ", 1)[1] if ": " in msg else msg
        if e["type"] == "missing":
            value, msg = None, "required field is missing"
        elif e["type"] == "extra_forbidden":
            msg = "unknown field (not part of the contract; check the spelling)"
        issues.append(Issue(loc_to_path(loc), None if value is _MISSING else value, msg))
    return issues


def parse_model(model: type[M], data: Any, *, subject: str, text_checked: bool = False,
                context: dict[str, Any] | None = None) -> M:
    """Validate ``data`` (parsed JSON or a row's plain Python values) as ``model`` or raise
    :class:`InputError`: exact types, no invalid text (``text_checked``: :func:`loads_strict` already did);
    ``context`` is passed to the validators (e.g. to collect what drug names were normalised to)."""
    if not isinstance(data, Mapping):
        raise InputError(Issue("(root)", type(data).__name__, f"a {subject} must be a JSON object"),
                         subject=subject)
    if not text_checked:
        check_text(data, subject=subject)
    try:
        return model.model_validate(data, context=context)
    except ValidationError as err:
        raise InputError(issues_from_validation_error(err, data), subject=subject) from None


def load_json_text(text: str | bytes, *, source: str) -> Any:
    """Parse a file's JSON text strictly (:func:`loads_strict`); malformed text raises
    :class:`InputError` naming ``source`` (the file)."""
    try:
        return loads_strict(text)
    except MalformedJsonError as err:
        raise InputError(Issue(source, None, err.detail), subject="file") from None


def parse_patient(data: Any, *, text_checked: bool = False) -> Any:
    """Validate a patient JSON object (or a row's plain values); return a
    :class:`~mbcpath.domain.patient.Patient`."""
    from mbcpath.domain.patient import Patient

    context: dict[str, Any] = {"notes": []}
    patient = parse_model(Patient, data, subject="patient", text_checked=text_checked, context=context)
    patient._input_notes = list(context["notes"])
    return patient


def unwrap_patient(data: Any) -> Any:
    """Accept a bare patient, or a vignette/example file ``{"id", "patient", "expect"}``."""
    if isinstance(data, dict) and isinstance(data.get("patient"), dict) and "age_years" not in data:
        return data["patient"]
    return data


def parse_patient_json(raw: bytes | str) -> Any:
    """Raw JSON (bytes or text) -> :class:`~mbcpath.domain.patient.Patient`, strictly.

    Raises :class:`MalformedJsonError` for text that is not JSON, :class:`InputError` for
    duplicate keys, invalid text, wrong types and contract violations.
    """
    return parse_patient(unwrap_patient(loads_strict(raw)), text_checked=True)
