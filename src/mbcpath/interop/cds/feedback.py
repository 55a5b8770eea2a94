"""CDS Hooks feedback (accepted / overridden with reason) stored in an embedded DuckDB database.

For the concordance audit: one row per feedback item (service, card uuid, outcome, accepted suggestion ids,
override reason system/code/display, the clinician's comment, outcome timestamp, time received). No patient
data is sent in CDS Hooks feedback and none is stored. The database file is ``MBCPATH_CDS_FEEDBACK_DB``
(default: in memory, for this process only).

References
----------
HL7 CDS Hooks 2.0.1, "Feedback" (card, outcome accepted|overridden, acceptedSuggestions, overrideReason
    {reason (Coding), userComment}, outcomeTimestamp).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from mbcpath.errors import InteropError

SCHEMA = """
CREATE TABLE IF NOT EXISTS cds_feedback (
  service VARCHAR, card VARCHAR, outcome VARCHAR, accepted_suggestions VARCHAR,
  reason_system VARCHAR, reason_code VARCHAR, reason_display VARCHAR, user_comment VARCHAR,
  outcome_timestamp VARCHAR, received_at VARCHAR)
"""


class FeedbackError(InteropError):
    """A feedback body that breaks the CDS Hooks 2.0.1 feedback rules."""


class FeedbackStore:
    """An embedded DuckDB table of feedback items (one connection, serialised by a lock)."""

    def __init__(self, path: str = ":memory:") -> None:
        import duckdb

        self.path = path
        self._con = duckdb.connect(path)
        self._con.execute(SCHEMA)
        self._lock = threading.Lock()

    def add(self, service: str, body: Any) -> int:
        """Validate and store a feedback body ``{"feedback": [...]}``; return the number of items stored."""
        items = body.get("feedback") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise FeedbackError("feedback: a non-empty list is required")
        rows = [self._row(service, i, item) for i, item in enumerate(items)]
        with self._lock:
            self._con.executemany("INSERT INTO cds_feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    @staticmethod
    def _row(service: str, i: int, item: Any) -> tuple[Any, ...]:
        if not isinstance(item, dict) or not isinstance(item.get("card"), str):
            raise FeedbackError(f"feedback[{i}].card: the card's uuid is required")
        outcome = item.get("outcome")
        if outcome not in ("accepted", "overridden"):
            raise FeedbackError(f"feedback[{i}].outcome = {outcome!r}: must be 'accepted' or 'overridden'")
        if not isinstance(item.get("outcomeTimestamp"), str):
            raise FeedbackError(f"feedback[{i}].outcomeTimestamp: required (ISO 8601)")
        override = item.get("overrideReason") or {}
        if outcome == "accepted" and override:
            raise FeedbackError(f"feedback[{i}].overrideReason: not allowed with outcome 'accepted'")
        reason = override.get("reason") or {}
        accepted = [s.get("id") for s in item.get("acceptedSuggestions") or [] if isinstance(s, dict)]
        return (service, item["card"], outcome, json.dumps(accepted) if accepted else None, reason.get("system"),
                reason.get("code"), reason.get("display"), override.get("userComment"), item["outcomeTimestamp"],
                datetime.now(UTC).isoformat(timespec="seconds"))

    def read(self, service: str | None = None) -> list[dict[str, Any]]:
        """Stored feedback, oldest first (optionally for one service)."""
        with self._lock:
            if service:
                cur = self._con.execute("SELECT * FROM cds_feedback WHERE service = ? ORDER BY received_at", [service])
            else:
                cur = self._con.execute("SELECT * FROM cds_feedback ORDER BY received_at")
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
