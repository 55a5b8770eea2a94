"""Cohort records: both line shapes, rejects naming field / value / rule, Parquet round trip, FHIR ndjson."""

from __future__ import annotations

import datetime as dt
import json

import jsonschema
import pytest

from conftest import load_case, vignette_files
from mbcpath.analytics.records import (
    Accepted,
    CohortRecord,
    Rejected,
    detect_format,
    read_records,
    record_json_schema,
    write_jsonl,
    write_parquet,
)
from mbcpath.domain.validation import parse_patient
from strategies import random_patients

ANSWERED = [p for p in vignette_files() if not load_case(p)["expect"].get("reject")]


def _patient(name: str = "late-relapse-first-line") -> dict:
    return load_case(next(p for p in ANSWERED if p.stem == name))["patient"] | {"id": name}


def _wrapped(p: dict, **extra: object) -> dict:
    return {"patient": p, "decision_date": "2024-03-01", "given": {"drugs": ["Herceptin", "pertuzumab", "docetaxel"]},
            "override_reason": "patient preference", "follow_up": {"months_since_metastatic_diagnosis": 14.5,
                                                                  "alive": False}, **extra}


def _write(tmp_path, lines: list[object]) -> object:
    path = tmp_path / "cohort.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


def test_bare_and_wrapped_lines_are_read(tmp_path):
    p = _patient()
    items = list(read_records(_write(tmp_path, [p, "", _wrapped(p)])))
    assert [type(i) for i in items] == [Accepted, Accepted]
    assert [i.line for i in items] == [1, 3]
    bare, wrapped = (i.record for i in items)
    assert bare.decision_date is None and bare.given_drugs is None and bare.follow_up is None
    assert wrapped.decision_date == dt.date(2024, 3, 1)
    assert wrapped.given_drugs == ("trastuzumab", "pertuzumab", "docetaxel")  # brand name normalised
    assert wrapped.override_reason == "patient preference"
    assert wrapped.follow_up is not None and wrapped.follow_up.alive is False
    assert wrapped.follow_up.months_since_metastatic_diagnosis == 14.5
    assert bare.patient == wrapped.patient == parse_patient(p)


@pytest.mark.parametrize(("line", "field", "rule_part"), [
    ({"patient": {"age_years": 50}, "decision_date": "2024-01-01"}, "patient.sex", "required"),
    ("{\"patient\": ", "line 1", "not valid JSON"),
    ({"patient": "x"}, "patient", "JSON object"),
    ("PATIENT_WITH_EXTRA", "cohort", "unknown field"),
    ("BAD_DATE", "decision_date", "calendar date"),
    ("BAD_DRUG", "given.drugs", "unknown"),
    ("NEGATIVE_FOLLOW_UP", "follow_up.months_since_metastatic_diagnosis", "greater than or equal"),
    ("BARE_BAD_ER", "er_percent", "100"),
    ("{\"a\": 1, \"a\": 2}", "a", "duplicate key"),
])
def test_bad_lines_become_rejects_naming_field_and_rule(tmp_path, line, field, rule_part):
    p = _patient()
    crafted = {
        "PATIENT_WITH_EXTRA": _wrapped(p, cohort="A"),
        "BAD_DATE": _wrapped(p, decision_date="2024-02-30"),
        "BAD_DRUG": _wrapped(p, given={"drugs": ["trastuzumabb"]}),
        "NEGATIVE_FOLLOW_UP": _wrapped(p, follow_up={"months_since_metastatic_diagnosis": -1, "alive": True}),
        "BARE_BAD_ER": p | {"er_percent": 150},
    }
    items = list(read_records(_write(tmp_path, [crafted.get(line, line) if isinstance(line, str) else line])))
    assert len(items) == 1 and isinstance(items[0], Rejected)
    rej = items[0]
    assert rej.field.startswith(field), rej
    assert rule_part in rej.rule, rej
    assert rej.line == 1
    if isinstance(line, str) and line in crafted:
        assert rej.patient_id == p["id"]
    out = rej.as_json()
    assert out["field"] == rej.field and out["rule"] == rej.rule and json.dumps(out)


def test_good_rows_are_unchanged_by_bad_neighbours(tmp_path):
    pool = random_patients(20, seed=77)
    alone = [i.record for i in read_records(_write(tmp_path, pool))]
    mixed = [pool[0], "not json", *pool[1:10], {"patient": {}}, *pool[10:], {"age_years": 3}]
    items = list(read_records(_write(tmp_path, mixed)))
    assert sum(isinstance(i, Rejected) for i in items) == 3
    assert [i.record for i in items if isinstance(i, Accepted)] == alone
    assert [i.line for i in items if isinstance(i, Rejected)] == [2, 12, 23]


def test_parquet_round_trip_keeps_nested_histories_and_wrapper_fields(tmp_path):
    pool = random_patients(60, seed=5)
    objs = [(_wrapped(p) if i % 2 else p) for i, p in enumerate(pool)]
    objs[7] = {"patient": {**pool[7], "ecog": 9}}  # a bad row survives into Parquet and is rejected on reading
    path = tmp_path / "cohort.parquet"
    assert write_parquet(objs, path, batch_rows=16) == 60
    assert detect_format(path) == "parquet"
    from_parquet = list(read_records(path, batch_rows=7))
    from_jsonl = list(read_records(_write(tmp_path, objs)))
    assert len(from_parquet) == 60
    assert [type(i) for i in from_parquet] == [type(i) for i in from_jsonl]
    for a, b in zip(from_parquet, from_jsonl, strict=True):
        assert a.line == b.line
        if isinstance(a, Accepted):
            assert a.record == b.record
        else:
            assert (a.field, a.rule) == (b.field, b.rule) == ("patient.ecog", b.rule)
    treated = [i.record for i in from_parquet if isinstance(i, Accepted) and i.record.patient.treatments]
    assert treated, "the pool has treatment histories"


def test_jsonl_writer_round_trips(tmp_path):
    recs = [i.record for i in read_records(_write(tmp_path, [_wrapped(p) for p in random_patients(10, seed=3)]))]
    out = tmp_path / "again.jsonl"
    assert write_jsonl(recs, out) == 10
    assert [i.record for i in read_records(out)] == recs
    assert all(isinstance(r, CohortRecord) for r in recs)


def test_fhir_bulk_ndjson_is_grouped_per_patient(tmp_path):
    from mbcpath.interop.generator import patient_to_bundle

    as_of = dt.date(2026, 1, 15)
    names = ["seed-01-first-line", "late-relapse-first-line"]
    lines = []
    for n in names:
        bundle = patient_to_bundle(_patient(n), as_of)
        lines.extend(json.dumps(e["resource"]) for e in bundle["entry"])
    path = tmp_path / "bulk.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert detect_format(path) == "fhir"
    items = list(read_records(path, fhir_as_of=as_of))
    assert all(isinstance(i, Accepted) for i in items), items
    assert len(items) == 2
    got = {i.record.patient.her2.ihc for i in items}
    assert got <= {"3+", "2+"}
    assert all(i.record.decision_date == as_of for i in items)


def test_record_schema_validates_both_shapes():
    schema = record_json_schema()
    p = _patient()
    jsonschema.validate(p, schema)
    jsonschema.validate(_wrapped(p), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"patient": p, "cohort": 1}, schema)
