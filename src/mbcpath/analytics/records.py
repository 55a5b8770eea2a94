"""Cohort records: one patient at one decision, read from JSON Lines, Parquet or FHIR Bulk Data ndjson.

A cohort input line is **either** a bare contract patient object, **or** a wrapper::

    {"patient": {...contract patient...},
     "decision_date": "YYYY-MM-DD",                      (optional)
     "given": {"drugs": ["trastuzumab", ...]},            (optional: what was actually given)
     "override_reason": "...",                            (optional: why the clinician departed)
     "follow_up": {"months_since_metastatic_diagnosis": 31.5, "alive": true}}   (optional)

Extra keys are refused, naming the field. Every line goes through the contract's strict validation
(:func:`mbcpath.domain.validation.parse_patient`); a line that fails becomes a :class:`Rejected` carrying
the line number, the patient id when readable, and the field, value and rule of each issue. Nothing is
dropped silently: :func:`read_records` yields exactly one item per input record.

The Parquet layout (what ``mbcpath cohort synth`` writes) is one row per record: the patient as JSON text
(so nested treatment histories survive) plus the wrapper fields as columns (:data:`PARQUET_COLUMNS`).

References
----------
shared/contract.md (the patient); HL7 FHIR Bulk Data Access IG 2.0.0 (ndjson: one resource a line).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, field_validator

from mbcpath.domain.patient import Patient
from mbcpath.errors import InputError, Issue

Format = Literal["auto", "jsonl", "parquet", "fhir"]

#: The Parquet layout of a cohort file: column -> DuckDB type.
PARQUET_COLUMNS: dict[str, str] = {
    "record_no": "BIGINT",
    "patient_id": "VARCHAR",
    "patient": "VARCHAR",
    "decision_date": "DATE",
    "given_drugs": "VARCHAR[]",
    "override_reason": "VARCHAR",
    "follow_up_months": "DOUBLE",
    "follow_up_alive": "BOOLEAN",
}


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Given(_Wire):
    """What was actually given at the decision (for concordance audits)."""

    drugs: list[StrictStr] = Field(..., description="lower-case INNs (brand names and abbreviations are normalised)")

    @field_validator("drugs", mode="before")
    @classmethod
    def _known(cls, names: object, info: Any) -> object:
        from mbcpath.domain.patient import normalise_names

        out = normalise_names(names, info)
        return list(dict.fromkeys(out)) if isinstance(out, list) else out


class FollowUp(_Wire):
    """Vital status at the last contact, counted from the metastatic diagnosis (for survival)."""

    months_since_metastatic_diagnosis: StrictFloat | StrictInt = Field(..., ge=0, le=600)
    alive: StrictBool


class RecordWire(_Wire):
    """The wrapper form of a cohort line, exactly as written (the JSON Schema ``mbcpath cohort schema`` exports)."""

    patient: dict[str, Any] = Field(..., description="the contract patient (see `mbcpath schema patient`)")
    decision_date: StrictStr | None = Field(None, description="date of the decision, YYYY-MM-DD",
                                            pattern=r"^\d{4}-\d{2}-\d{2}$")
    given: Given | None = None
    override_reason: StrictStr | None = Field(None, max_length=2000,
                                              description="the clinician's reason for departing from the options")
    follow_up: FollowUp | None = None

    @field_validator("decision_date")
    @classmethod
    def _a_date(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                dt.date.fromisoformat(v)
            except ValueError:
                raise ValueError("not a calendar date (use YYYY-MM-DD)") from None
        return v


@dataclass(frozen=True)
class CohortRecord:
    """One validated cohort record."""

    patient: Patient
    decision_date: dt.date | None = None
    given_drugs: tuple[str, ...] | None = None
    override_reason: str | None = None
    follow_up: FollowUp | None = None

    @property
    def patient_id(self) -> str:
        return self.patient.id

    def as_json(self) -> dict[str, Any]:
        """The record in the wrapper form (what :func:`write_jsonl` writes)."""
        out: dict[str, Any] = {"patient": self.patient.model_dump(mode="json", exclude_none=True)}
        if self.decision_date is not None:
            out["decision_date"] = self.decision_date.isoformat()
        if self.given_drugs is not None:
            out["given"] = {"drugs": list(self.given_drugs)}
        if self.override_reason is not None:
            out["override_reason"] = self.override_reason
        if self.follow_up is not None:
            out["follow_up"] = self.follow_up.model_dump()
        return out


@dataclass(frozen=True)
class Accepted:
    """A record that passed validation; ``line`` is its 1-based position in the input."""

    line: int
    record: CohortRecord


@dataclass(frozen=True)
class Rejected:
    """A record that failed: where, whose (when readable), and each issue's field, value and rule."""

    line: int
    patient_id: str | None
    issues: tuple[Issue, ...] = field(default_factory=tuple)

    @property
    def field(self) -> str:
        return self.issues[0].field if self.issues else "(record)"

    @property
    def value(self) -> object:
        return self.issues[0].value if self.issues else None

    @property
    def rule(self) -> str:
        return self.issues[0].rule if self.issues else "invalid record"

    def as_json(self) -> dict[str, Any]:
        """One line of a rejects file."""
        return {"line": self.line, "patient_id": self.patient_id, "field": self.field,
                "value": _jsonable(self.value), "rule": self.rule,
                "issues": [{"field": i.field, "value": _jsonable(i.value), "rule": i.rule} for i in self.issues]}


def _jsonable(v: object) -> object:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return repr(v)
    return v


# ----------------------------------------------------------------------------- one record
def is_wrapper(obj: Any) -> bool:
    """A wrapper line holds the patient under ``patient`` (a bare patient has ``age_years`` at the top)."""
    return isinstance(obj, Mapping) and "patient" in obj and "age_years" not in obj


def parse_record(obj: Any, *, text_checked: bool = False) -> CohortRecord:
    """A parsed JSON line (bare patient or wrapper) -> :class:`CohortRecord`, or :class:`InputError`.

    Wrapper issues are named from the line's root (``patient.ecog``, ``given.drugs[0]``, ``follow_up.alive``).
    """
    from mbcpath.domain.validation import parse_model, parse_patient

    if not is_wrapper(obj):
        return CohortRecord(patient=parse_patient(obj, text_checked=text_checked))
    wire = parse_model(RecordWire, obj, subject="cohort record", text_checked=text_checked, context={"notes": []})
    try:
        patient = parse_patient(wire.patient, text_checked=True)
    except InputError as err:
        raise InputError([Issue(f"patient.{i.field}" if i.field != "(root)" else "patient", i.value, i.rule)
                          for i in err.issues], subject="cohort record") from None
    return CohortRecord(
        patient=patient,
        decision_date=dt.date.fromisoformat(wire.decision_date) if wire.decision_date else None,
        given_drugs=tuple(wire.given.drugs) if wire.given is not None else None,
        override_reason=wire.override_reason, follow_up=wire.follow_up)


def readable_id(obj: Any) -> str | None:
    """The patient id of a raw line, if it can be read (for the rejects file)."""
    if is_wrapper(obj):
        obj = obj.get("patient")
    if isinstance(obj, Mapping) and isinstance(obj.get("id"), str):
        return str(obj["id"])[:200]
    return None


def check_line(n: int, obj: Any, *, text_checked: bool = False) -> Accepted | Rejected:
    """Validate one parsed line."""
    try:
        return Accepted(n, parse_record(obj, text_checked=text_checked))
    except InputError as err:
        return Rejected(n, readable_id(obj), tuple(err.issues))


def check_text_line(n: int, text: str) -> Accepted | Rejected:
    """Validate one JSON Lines line (strict JSON: duplicate keys, NaN and bad text are refused)."""
    from mbcpath.domain.validation import loads_strict

    try:
        obj = loads_strict(text, subject="cohort record")
    except InputError as err:
        return Rejected(n, None, tuple(Issue(f"line {n}" if i.field == "(body)" else i.field, i.value, i.rule)
                                       for i in err.issues))
    return check_line(n, obj, text_checked=True)


# ----------------------------------------------------------------------------- files
def detect_format(path: Path) -> Literal["jsonl", "parquet", "fhir"]:
    """Parquet by its magic bytes; FHIR when the first non-blank line is a resource; else JSON Lines."""
    with path.open("rb") as fh:
        if fh.read(4) == b"PAR1":
            return "parquet"
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.strip():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    return "jsonl"
                return "fhir" if isinstance(obj, dict) and isinstance(obj.get("resourceType"), str) else "jsonl"
    return "jsonl"


def read_records(path: str | Path, fmt: Format = "auto", *, fhir_as_of: dt.date | None = None,
                 batch_rows: int = 2048) -> Iterator[Accepted | Rejected]:
    """Stream the records of a cohort file, one :class:`Accepted` or :class:`Rejected` per record.

    Parameters
    ----------
    path : str or Path
        JSON Lines (``.jsonl``), Parquet (the layout of :data:`PARQUET_COLUMNS`) or FHIR Bulk Data ndjson.
    fmt : {"auto", "jsonl", "parquet", "fhir"}
        ``auto`` detects the format from the content (:func:`detect_format`).
    fhir_as_of : datetime.date, optional
        FHIR only: the decision date its absolute dates are counted back from (default today).
    batch_rows : int
        Parquet rows fetched at a time (memory stays bounded by it).
    """
    p = Path(path)
    kind = detect_format(p) if fmt == "auto" else fmt
    if kind == "parquet":
        yield from _read_parquet(p, batch_rows)
    elif kind == "fhir":
        yield from _read_fhir(p, fhir_as_of)
    else:
        yield from _read_jsonl(p)


def _read_jsonl(path: Path) -> Iterator[Accepted | Rejected]:
    with path.open("r", encoding="utf-8", errors="surrogateescape") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                line.encode("utf-8")
            except UnicodeEncodeError:
                yield Rejected(n, None, (Issue(f"line {n}", None, "not UTF-8 text"),))
                continue
            yield check_text_line(n, line)


def _read_parquet(path: Path, batch_rows: int) -> Iterator[Accepted | Rejected]:
    import duckdb

    con = duckdb.connect()
    try:
        cols = [r[0] for r in con.execute("SELECT name FROM parquet_schema(?)", [str(path)]).fetchall()]
        missing = [c for c in ("patient",) if c not in cols]
        if missing:
            raise InputError(Issue(str(path), cols[1:], "a cohort Parquet file needs a 'patient' column holding "
                                   "the contract patient as JSON text"), subject="file")
        select = ", ".join(c if c in cols else f"NULL AS {c}" for c in PARQUET_COLUMNS)
        cur = con.execute(f"SELECT {select} FROM read_parquet(?)", [str(path)])  # noqa: S608 (fixed names)
        n = 0
        while rows := cur.fetchmany(batch_rows):
            for row in rows:
                n += 1
                yield _parquet_row(n, dict(zip(PARQUET_COLUMNS, row, strict=True)))
    finally:
        con.close()


def _parquet_row(n: int, row: dict[str, Any]) -> Accepted | Rejected:
    from mbcpath.domain.validation import loads_strict

    line = int(row["record_no"]) if row["record_no"] is not None else n
    try:
        patient = loads_strict(row["patient"] or "", subject="cohort record")
    except InputError as err:
        return Rejected(line, row["patient_id"], tuple(Issue("patient", None, i.rule) for i in err.issues))
    obj: dict[str, Any] = {"patient": patient}
    if row["decision_date"] is not None:
        obj["decision_date"] = row["decision_date"].isoformat()
    if row["given_drugs"] is not None:
        obj["given"] = {"drugs": list(row["given_drugs"])}
    if row["override_reason"] is not None:
        obj["override_reason"] = row["override_reason"]
    if row["follow_up_months"] is not None or row["follow_up_alive"] is not None:
        obj["follow_up"] = {"months_since_metastatic_diagnosis": row["follow_up_months"],
                            "alive": row["follow_up_alive"]}
    return check_line(line, obj, text_checked=False)


def _subject_of(res: Mapping[str, Any]) -> str | None:
    """The Patient id a resource is about (``subject`` or ``patient`` reference; a Patient is its own)."""
    if res.get("resourceType") == "Patient":
        rid = res.get("id")
        return str(rid) if rid is not None else None
    for key in ("subject", "patient"):
        ref = res.get(key)
        if isinstance(ref, Mapping) and isinstance(ref.get("reference"), str):
            return str(ref["reference"]).split("/")[-1]
    return None


def _read_fhir(path: Path, as_of: dt.date | None) -> Iterator[Accepted | Rejected]:
    """Bulk Data ndjson: resources grouped per Patient, each group through the FHIR importer.

    Grouping needs the whole file (resources of one patient may be anywhere in it); unattached
    resources that are not about a patient (e.g. Medication) are given to every group.
    """
    from mbcpath.interop.fhir import fhir_to_patient
    from mbcpath.interop.outcome import FhirInputError

    groups: dict[str, list[dict[str, Any]]] = {}
    shared: list[dict[str, Any]] = []
    order: list[tuple[int, str]] = []
    bad: list[Rejected] = []
    with path.open("r", encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                res = json.loads(line)
            except json.JSONDecodeError as err:
                bad.append(Rejected(n, None, (Issue(f"line {n}", None, f"not valid JSON: {err.msg}"),)))
                continue
            if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
                bad.append(Rejected(n, None, (Issue(f"line {n}", None, "each ndjson line must be one FHIR "
                                                    "resource"),)))
                continue
            who = _subject_of(res)
            if who is None:
                shared.append(res)
                continue
            if who not in groups:
                groups[who] = []
                order.append((n, who))
            groups[who].append(res)
    yield from bad
    for n, who in order:
        try:
            imported = fhir_to_patient([*groups[who], *shared], as_of, patient_id=who)
        except FhirInputError as err:
            yield Rejected(n, who, tuple(Issue(i.expression, i.value, i.rule) for i in err.issues))
            continue
        yield Accepted(n, CohortRecord(patient=imported.patient,
                                       decision_date=as_of or imported.as_of))


# ----------------------------------------------------------------------------- writing
def write_jsonl(records: Iterable[CohortRecord], path: str | Path) -> int:
    """Write records in the wrapper form, one a line; returns the count."""
    n = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r.as_json(), separators=(",", ":")) + "\n")
            n += 1
    return n


def parquet_row(n: int, obj: Mapping[str, Any]) -> tuple[Any, ...]:
    """A wrapper (or bare patient) JSON object -> a row of the Parquet layout (:data:`PARQUET_COLUMNS`)."""
    wrapped: Mapping[str, Any] = obj if is_wrapper(obj) else {"patient": obj}
    patient = wrapped["patient"]
    given = wrapped.get("given")
    fu = wrapped.get("follow_up") or {}
    dd = wrapped.get("decision_date")
    return (n, patient.get("id") if isinstance(patient, Mapping) else None,
            json.dumps(patient, separators=(",", ":")),
            dt.date.fromisoformat(dd) if isinstance(dd, str) else None,
            list(given["drugs"]) if isinstance(given, Mapping) and "drugs" in given else None,
            wrapped.get("override_reason"), fu.get("months_since_metastatic_diagnosis"), fu.get("alive"))


def write_parquet(objs: Iterable[Mapping[str, Any]], path: str | Path, *, batch_rows: int = 20_000) -> int:
    """Write wrapper (or bare patient) JSON objects to Parquet in the layout :func:`read_records` reads.

    Rows are staged in DuckDB in batches (a pandas frame per batch, not row inserts) and copied out once.
    """
    import duckdb
    import pandas as pd

    con = duckdb.connect()
    try:
        cols = ", ".join(f"{c} {t}" for c, t in PARQUET_COLUMNS.items())
        con.execute(f"CREATE TABLE rec ({cols})")
        n, batch = 0, []
        for obj in objs:
            n += 1
            batch.append(parquet_row(n, obj))
            if len(batch) >= batch_rows:
                _append(con, pd.DataFrame(batch, columns=list(PARQUET_COLUMNS)))
                batch = []
        if batch:
            _append(con, pd.DataFrame(batch, columns=list(PARQUET_COLUMNS)))
        target = str(path).replace("'", "''")
        con.execute(f"COPY (SELECT * FROM rec ORDER BY record_no) TO '{target}' (FORMAT PARQUET)")  # noqa: S608 (path quoted)
        return n
    finally:
        con.close()


def _append(con: Any, frame: Any) -> None:
    con.register("batch_frame", frame)
    casts = ", ".join(f"CAST({c} AS {t})" for c, t in PARQUET_COLUMNS.items())
    con.execute(f"INSERT INTO rec SELECT {casts} FROM batch_frame")  # noqa: S608 (fixed names)
    con.unregister("batch_frame")


def record_json_schema() -> dict[str, Any]:
    """JSON Schema of a cohort line: a bare patient, or the wrapper with the patient inside."""
    patient = Patient.model_json_schema(ref_template="#/$defs/{model}")
    wrapper = RecordWire.model_json_schema(ref_template="#/$defs/{model}")
    defs = {**patient.pop("$defs", {}), **wrapper.pop("$defs", {})}
    wrapper["properties"]["patient"] = {"$ref": "#/$defs/Patient", "description": "the contract patient"}
    defs["Patient"] = patient
    defs["CohortRecordWrapper"] = wrapper
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "mbcpath cohort record",
            "description": "One line of a cohort JSON Lines file: a bare contract patient, or the wrapper "
                           "with the decision date, what was given, the override reason and the follow-up.",
            "oneOf": [{"$ref": "#/$defs/Patient"}, {"$ref": "#/$defs/CohortRecordWrapper"}], "$defs": defs}
