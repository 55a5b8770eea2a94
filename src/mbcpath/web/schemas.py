"""Request and response schemas of the REST API (``/api/v1``).

The patient request body is the exchange contract itself
(:class:`mbcpath.domain.patient.Patient`) and the recommendation response is
:class:`mbcpath.domain.recommendation.Recommendation`; the schemas here are the
API's own envelopes around knowledge-base records.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mbcpath.kb.models import Regimen, Source, Trial


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemIssue(_Out):
    field: str = Field(..., description="path of the offending field, e.g. treatments[0].drugs[1]")
    value: Any = Field(None, description="the value sent (shortened when long)")
    rule: str = Field(..., description="the rule it breaks and what to do")


class Problem(_Out):
    """RFC 9457 problem details."""

    type: str = Field(..., description="URI reference of the problem type (an anchor on /docs)")
    title: str
    status: int
    detail: str
    errors: list[ProblemIssue] | None = Field(None, description="one entry per invalid field")


class HealthOut(_Out):
    status: Literal["ok"] = "ok"
    version: str
    audit: Literal["off", "ok", "failing"] = Field("off", description="state of the audit trail")


class KbCounts(_Out):
    trials: int
    regimens: int
    guidelines: int
    statements: int
    decision_files: int
    safety_gates: int
    sources: int


class KbOut(_Out):
    """Release stamp and a summary of the knowledge base's sources."""

    kb_release: str
    date: str
    title: str
    licence: str
    changes: list[str]
    counts: KbCounts
    sources_verified: int = Field(..., description="sources whose cited text was read in stored public material")
    sources_unverified: int = Field(..., description="shown, never used by a hard rule")
    endpoints_verified: int
    endpoints_unverified: int
    sources_by_kind: dict[str, int]


class TrialSummaryOut(_Out):
    id: str
    aliases: list[str]
    title: str
    nct: str | None
    phase: str
    randomized: bool
    status: str
    settings: list[str]
    line: str
    hr_status: str
    n: int | None
    esmo_mcbs: int | None
    url: str = Field(..., description="API path of the full record")


class TrialListOut(_Out):
    kb_release: str
    query: str | None
    count: int
    trials: list[TrialSummaryOut]


class TrialDetailOut(_Out):
    """A full trial record and the sources it cites, resolved."""

    kb_release: str
    trial: Trial
    sources: dict[str, Source] = Field(..., description="every source key the record cites")


class RegimenListOut(_Out):
    kb_release: str
    count: int
    regimens: list[Regimen]
