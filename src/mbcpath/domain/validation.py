"""Turn raw JSON into contract models, mapping every pydantic error to an :class:`Issue`.

The resulting :class:`~mbcpath.errors.InputError` names the field path
(``treatments[0].drugs[0]``), the offending value and the rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mbcpath.errors import InputError, Issue

M = TypeVar("M", bound=BaseModel)
_INDEX_PREFIX = re.compile(r"^\[(\d+)\] (.*)$", re.S)
_MISSING = object()


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
        msg = str(e["msg"])
        msg = msg.removeprefix("Value error, ")
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


def parse_model(model: type[M], data: Any, *, subject: str, context: dict[str, Any] | None = None) -> M:
    """Validate ``data`` as ``model`` or raise :class:`InputError`."""
    if not isinstance(data, Mapping):
        raise InputError(Issue("(root)", type(data).__name__, f"a {subject} must be a JSON object"),
                         subject=subject)
    try:
        return model.model_validate(data, context=context)
    except ValidationError as err:
        raise InputError(issues_from_validation_error(err, data), subject=subject) from None


def load_json_text(text: str, *, source: str) -> Any:
    """Parse JSON text, raising :class:`InputError` with the line and column on failure."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(Issue(source, f"line {err.lineno} column {err.colno}", f"not valid JSON: {err.msg}"),
                         subject="file") from None


def parse_patient(data: Any) -> Any:
    """Validate a patient JSON object; return a :class:`~mbcpath.domain.patient.Patient`."""
    from mbcpath.domain.patient import Patient

    context: dict[str, Any] = {"notes": []}
    patient = parse_model(Patient, data, subject="patient", context=context)
    patient._input_notes = list(context["notes"])
    return patient
