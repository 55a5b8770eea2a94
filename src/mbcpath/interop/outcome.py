"""FHIR errors as ``OperationOutcome`` resources that name the element (FHIRPath ``expression``).

:class:`FhirInputError` is the :class:`~mbcpath.errors.InteropError` the FHIR adapter raises; its
:meth:`~FhirInputError.operation_outcome` is what the REST API, the CLI and CDS Hooks return.

References
----------
HL7 FHIR R4 OperationOutcome (issue.severity, issue.code, issue.details, issue.diagnostics,
    issue.expression); issue-type value set http://hl7.org/fhir/issue-type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mbcpath.errors import InteropError


@dataclass(frozen=True)
class FhirIssue:
    """One problem: where (a FHIRPath-like expression), what value, which rule, and the issue type."""

    expression: str
    value: object
    rule: str
    code: str = "invalid"
    severity: str = "error"

    def __str__(self) -> str:
        shown = "" if self.value is None else f" = {self.value!r}"
        return f"{self.expression}{shown}: {self.rule}"

    def as_issue(self) -> dict[str, Any]:
        out: dict[str, Any] = {"severity": self.severity, "code": self.code,
                               "details": {"text": str(self)}, "diagnostics": self.rule}
        if self.expression:
            out["expression"] = [self.expression]
        return out


class FhirInputError(InteropError):
    """A FHIR payload that cannot be mapped; carries the issues as an OperationOutcome."""

    def __init__(self, issues: list[FhirIssue] | FhirIssue) -> None:
        self.issues = [issues] if isinstance(issues, FhirIssue) else list(issues)
        first = self.issues[0] if self.issues else FhirIssue("", None, "invalid FHIR input")
        more = f" (+{len(self.issues) - 1} more)" if len(self.issues) > 1 else ""
        super().__init__(f"invalid FHIR input: {first}{more}")

    def one_line(self) -> str:
        return str(self)

    def operation_outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues)


def operation_outcome(issues: list[FhirIssue]) -> dict[str, Any]:
    """An OperationOutcome resource (plain JSON) for ``issues``."""
    return {"resourceType": "OperationOutcome", "issue": [i.as_issue() for i in issues]}


def issues_from_pydantic(err: Any, prefix: str, limit: int = 20) -> list[FhirIssue]:
    """Translate a fhir.resources (pydantic) ``ValidationError`` into issues under ``prefix``."""
    out: list[FhirIssue] = []
    for e in err.errors(include_url=False)[:limit]:
        path = prefix
        for part in e["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        msg = str(e["msg"]).removeprefix("Value error, ")
        value = e.get("input") if e["type"] != "model_field_validation.missing" else None
        if isinstance(value, dict | list):
            value = None
        code = "required" if "missing" in e["type"] else "value"
        out.append(FhirIssue(path, value, msg, code=code))
    return out
