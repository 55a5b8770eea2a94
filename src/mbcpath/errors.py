"""The one exception tree of mbcpath.

::

    MbcpathError
     +-- InputError            a patient or request breaks the contract (field, value, rule)
     |    +-- MalformedJsonError   the text is not JSON at all (HTTP 400, CLI exit 2)
     +-- KnowledgeBaseError    a KB file fails validation or cannot be found
     +-- ModelError            a statistical model cannot be fitted or evaluated
     +-- InteropError          FHIR / CDS Hooks input cannot be mapped
     +-- MissingExtraError     an optional dependency is not installed
     +-- ReportError           a report cannot be rendered (no browser engine, unwritable file)
     +-- AuditError            the audit trail cannot be written (disk full, unwritable)
     +-- ConfigurationError    a deployment setting is unsafe or contradictory

Every message names the field or file, the offending value, the rule broken
and, where possible, what to do about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class MbcpathError(Exception):
    """Base class of every error raised on purpose by mbcpath."""


@dataclass(frozen=True)
class Issue:
    """One problem found in an input: where, what value, which rule."""

    field: str
    value: object
    rule: str

    def __str__(self) -> str:
        return f"{self.field} = {self.value!r}: {self.rule}"


class InputError(MbcpathError):
    """Invalid input: each issue names the field path, the value and the rule."""

    def __init__(self, issues: list[Issue] | Issue, *, subject: str = "patient") -> None:
        self.issues: list[Issue] = [issues] if isinstance(issues, Issue) else list(issues)
        self.subject = subject
        super().__init__(self.one_line())

    def __reduce__(self) -> tuple[object, ...]:  # pickles across a worker process boundary
        return (_rebuild_input_error, (type(self), self.issues, self.subject))

    def one_line(self) -> str:
        """A single line suitable for stderr."""
        first = self.issues[0] if self.issues else Issue("?", None, "invalid input")
        more = f" (+{len(self.issues) - 1} more)" if len(self.issues) > 1 else ""
        return f"invalid {self.subject}: {first}{more}"


class MalformedJsonError(InputError):
    """The input is not a JSON document (not UTF-8, a syntax error, NaN, nesting too deep)."""

    def __init__(self, detail: str, *, source: str = "(body)") -> None:
        self.detail = detail
        super().__init__(Issue(source, None, detail), subject="JSON")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.detail,), {"issues": self.issues})

    def one_line(self) -> str:
        return f"malformed JSON: {self.detail}"


def _rebuild_input_error(cls: type[InputError], issues: list[Issue], subject: str) -> InputError:
    err = cls.__new__(cls)
    InputError.__init__(err, issues, subject=subject)
    return err


class AuditError(MbcpathError):
    """An answer could not be recorded in the audit trail (the message names the file and the OS error)."""


class ConfigurationError(MbcpathError):
    """A deployment setting is unsafe or contradictory (the message says which and what to set)."""


class KnowledgeBaseError(MbcpathError):
    """The knowledge base failed to load or validate."""

    def __init__(self, message: str, *, path: str | None = None, issues: list[str] | None = None) -> None:
        self.path = path
        self.issues = issues or []
        prefix = f"{path}: " if path else ""
        super().__init__(prefix + message)


class ModelError(MbcpathError):
    """A statistical model could not be fitted, evaluated or its input is unusable."""


class InteropError(MbcpathError):
    """An interoperability payload (FHIR, CDS Hooks) could not be mapped."""


class ReportError(MbcpathError):
    """A report could not be rendered or written (the message names the file or tool and what to do)."""


@dataclass
class MissingExtraError(MbcpathError):
    """An optional dependency is missing; the message says how to install it."""

    package: str
    extra: str
    message: str = field(init=False)

    def __post_init__(self) -> None:
        self.message = (
            f"optional dependency '{self.package}' is not installed; "
            f"install it with: pip install 'mbcpath[{self.extra}]'"
        )
        Exception.__init__(self, self.message)
