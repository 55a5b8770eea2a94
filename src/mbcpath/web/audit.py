"""The audit trail: one append-only, hash-chained JSON line per answer served (opt-in).

Each line records when, for whom, from which KB release and engine version, and the SHA-256 of
the canonical input and of the exact bytes sent, so that an answer can later be re-derived and
proven (:func:`rederive`) from the record and the input it names. No patient data is written
unless ``include_input`` is set. Each line carries ``prev``, the SHA-256 of the line before it
(``"0" * 64`` for the first), so that an edited, removed or reordered line breaks the chain
(:func:`verify_chain`).

Writing is atomic per line: the file is locked (``flock``, so several worker processes can share
it), the whole line goes out in one ``write`` on an ``O_APPEND`` descriptor, a short write
(disk full) is truncated back, and the line is ``fsync``-ed before the answer is sent. A write
that fails raises :class:`~mbcpath.errors.AuditError`; the app then applies its policy:
``refuse`` (503, the answer is not shown) or ``answer-and-alarm`` (the answer is sent with
``x-mbcpath-audit: not-recorded``, an ``audit_write_failed`` error is logged, and ``/healthz``
reports ``audit: failing`` until a write succeeds again).

References
----------
Crosby S.A., Wallach D.S. Efficient data structures for tamper-evident logging. USENIX Security
2009 (hash-chained logs). https://www.usenix.org/legacy/event/sec09/tech/full_papers/crosby.pdf
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mbcpath.domain.wire import sha256_hex
from mbcpath.errors import AuditError

GENESIS = "0" * 64
FORMAT = 1
_TAIL = 64 * 1024


@dataclass(frozen=True)
class AuditEntry:
    """What an adapter tells the trail about one answer."""

    kind: str
    route: str
    caller: str
    request_id: str
    kb_release: str
    engine_version: str
    as_of: str | None
    input_sha256: str
    output_sha256: str
    canonical_input: bytes | None = None


class AuditTrail:
    """An append-only JSON-lines file shared by every worker of one deployment."""

    def __init__(self, path: Path, *, include_input: bool = False, fsync: bool = True) -> None:
        self.path = Path(path)
        self.include_input = include_input
        self.fsync = fsync
        self.failing = False
        self.failures = 0
        self._lock = threading.Lock()
        self._known: tuple[int, int, str] | None = None  # (file size, seq, hash) after this process's last write

    def record(self, entry: AuditEntry) -> dict[str, Any]:
        """Append one record; return it. Raises :class:`AuditError` when it cannot be written whole."""
        with self._lock:
            try:
                record = self._append(entry)
            except OSError as err:
                self.failing = True
                self.failures += 1
                raise AuditError(f"{self.path}: cannot append to the audit trail: {err.strerror or err}") from None
        self.failing = False
        return record

    def _append(self, entry: AuditEntry) -> dict[str, Any]:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            known = self._known
            seq, prev = known[1:] if known and known[0] == size else _last(self.path, size)
            record = self._record(entry, seq + 1, prev)
            line = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
            _write_whole(fd, line, size)
            if self.fsync:
                os.fsync(fd)
            self._known = (size + len(line), seq + 1, line_hash(line))
            return record
        finally:
            os.close(fd)  # closing releases the lock

    def _record(self, e: AuditEntry, seq: int, prev: str) -> dict[str, Any]:
        record: dict[str, Any] = {
            "v": FORMAT, "seq": seq, "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "kind": e.kind, "route": e.route, "caller": e.caller, "request_id": e.request_id,
            "kb_release": e.kb_release, "engine_version": e.engine_version, "as_of": e.as_of,
            "input_sha256": e.input_sha256, "output_sha256": e.output_sha256, "prev": prev,
        }
        if self.include_input and e.canonical_input is not None:
            record["input"] = e.canonical_input.decode("utf-8")
        return record


def _write_whole(fd: int, line: bytes, size: int) -> None:
    """One ``write`` of the whole line; a short write is undone so nothing half-written stays."""
    try:
        written = os.write(fd, line)
    except OSError:
        _truncate(fd, size)
        raise
    if written != len(line):
        _truncate(fd, size)
        raise OSError(28, "short write (disk full?)")


def _truncate(fd: int, size: int) -> None:
    try:
        os.ftruncate(fd, size)
    except OSError:
        pass


def line_hash(line: bytes) -> str:
    """The chain hash of one line (its bytes without the newline)."""
    return sha256_hex(line.rstrip(b"\n"))


def _last(path: Path, size: int) -> tuple[int, str]:
    """Sequence number and hash of the last complete line (0 and the genesis hash for an empty file)."""
    if size == 0:
        return 0, GENESIS
    with path.open("rb") as fh:
        fh.seek(max(0, size - _TAIL))
        tail = fh.read(size - max(0, size - _TAIL))
    lines = [ln for ln in tail.split(b"\n") if ln]
    if not lines:
        return 0, GENESIS
    last = lines[-1]
    try:
        seq = int(json.loads(last)["seq"])
    except (ValueError, KeyError, TypeError):
        raise OSError(5, "the last line of the audit trail is not a record; run `mbcpath audit verify`") from None
    return seq, line_hash(last)


def read_records(path: Path) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """Each line's bytes and record."""
    with Path(path).open("rb") as fh:
        for raw in fh:
            yield raw.rstrip(b"\n"), json.loads(raw)


def verify_chain(path: Path) -> int:
    """Check every line parses, sequence numbers run 1, 2, ... and each ``prev`` is the hash of the line
    before. Returns the number of records; raises :class:`AuditError` naming the first bad line."""
    prev, n = GENESIS, 0
    try:
        for n, (raw, rec) in enumerate(read_records(path), start=1):
            if rec.get("seq") != n:
                raise AuditError(f"{path}: line {n}: seq is {rec.get('seq')!r}, expected {n}")
            if rec.get("prev") != prev:
                raise AuditError(f"{path}: line {n}: prev does not match the hash of line {n - 1}: the trail was "
                                 "edited, truncated or reordered")
            prev = line_hash(raw)
    except json.JSONDecodeError as err:
        raise AuditError(f"{path}: line {n + 1} is not JSON ({err.msg})") from None
    return n


def rederive(record: dict[str, Any], raw_input: bytes | str, kb: Any = None) -> bytes:
    """Recompute a recommendation from its input and check it against an audit record.

    Validates ``raw_input`` as the API does, checks its canonical hash equals ``input_sha256`` and
    the KB release and engine version match, recommends, and checks the SHA-256 of the bytes equals
    ``output_sha256``. Returns the re-derived bytes; raises :class:`AuditError` on any mismatch.
    """
    from mbcpath import __version__
    from mbcpath.domain.validation import parse_patient_json
    from mbcpath.domain.wire import canonical_input_bytes, recommendation_bytes
    from mbcpath.engine import recommend
    from mbcpath.kb import load_kb

    kb = kb or load_kb()
    patient = parse_patient_json(raw_input)
    checks = [
        ("input_sha256", sha256_hex(canonical_input_bytes(patient))),
        ("kb_release", kb.release.kb_release),
        ("engine_version", __version__),
    ]
    for key, actual in checks:
        if record.get(key) != actual:
            raise AuditError(f"{key} differs: record {record.get(key)!r}, now {actual!r}")
    body = recommendation_bytes(recommend(patient, kb))
    if sha256_hex(body) != record.get("output_sha256"):
        raise AuditError("output_sha256 differs: the same input and release no longer give the recorded answer")
    return body
