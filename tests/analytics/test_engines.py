"""The duckdb engine (the plan compiled to SQL) answers exactly as the per-patient python engine: every
column, on every case file, on seeded random patients and on synthetic cohorts; bad rows go to the rejects
file with the right counts and leave the good rows' answers unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CASES, run_cli
from engine._patients import crafted_pool
from mbcpath.analytics.records import Accepted, check_line, read_records
from mbcpath.analytics.runner import OUTPUT_COLUMNS, RunCounts, read_answers, run_cohort
from mbcpath.analytics.synth import synth_records
from strategies import random_patients


def _case_patients() -> list[dict]:
    out = []
    for p in sorted(CASES.rglob("*.json")):
        data = json.loads(p.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("patient"), dict):
            out.append(data["patient"])
    return out


def _both(tmp_path: Path, objs: list[dict], kb, batch_size: int = 5000) -> tuple[list, list, RunCounts]:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    counts = []
    out = {}
    for engine in ("python", "duckdb"):
        dest = tmp_path / f"{engine}.parquet"
        counts.append(run_cohort(src, dest, engine=engine, kb=kb, batch_size=batch_size))
        out[engine] = read_answers(dest)
    assert counts[0] == counts[1]
    return out["python"], out["duckdb"], counts[0]


def _assert_identical(py: list, sql: list) -> None:
    assert len(py) == len(sql)
    diffs = [(a, b) for a, b in zip(py, sql, strict=True) if a != b]
    assert diffs == [], f"{len(diffs)} patients differ; first: python={diffs[0][0]} duckdb={diffs[0][1]}"


def _assert_not_vacuous(rows: list) -> None:
    cols = list(OUTPUT_COLUMNS)
    at = {c: i for i, c in enumerate(cols)}
    points = {r[at["decision_point"]] for r in rows}
    assert {"first_line", "second_line", "cns_event", "maintenance"} <= points
    assert any(r[at["out_of_scope"]] for r in rows)
    assert any(r[at["stops"]] for r in rows) and any(r[at["warnings"]] for r in rows)
    assert any(len(r[at["options"]]) > 2 for r in rows) and any(r[at["excluded"]] for r in rows)
    assert any("local-therapy-continue" in r[at["options"]] for r in rows)  # the dynamic regimen is exercised


def test_every_case_file_is_answered_identically(tmp_path, kb):
    objs = _case_patients()
    valid = [o for i, o in enumerate(objs) if isinstance(check_line(i, o), Accepted)]
    assert len(valid) > 400  # vignettes + independent batches
    py, sql, counts = _both(tmp_path, valid, kb, batch_size=128)
    assert counts.answered == len(valid)
    _assert_identical(py, sql)
    _assert_not_vacuous(py)


def test_random_and_crafted_patients_are_answered_identically(tmp_path, kb):
    objs = random_patients(2500, seed=2026) + crafted_pool()
    py, sql, _ = _both(tmp_path, objs, kb)
    _assert_identical(py, sql)
    _assert_not_vacuous(py)


def test_ten_thousand_synthetic_patients_are_answered_identically(tmp_path, kb):
    py, sql, counts = _both(tmp_path, list(synth_records(10_000, seed=14)), kb, batch_size=4000)
    assert counts.answered == 10_000
    _assert_identical(py, sql)
    _assert_not_vacuous(py)


@pytest.mark.slow
def test_a_hundred_thousand_synthetic_patients_are_answered_identically(tmp_path, kb):
    py, sql, _ = _both(tmp_path, list(synth_records(100_000, seed=15)), kb, batch_size=20_000)
    _assert_identical(py, sql)


def test_bad_rows_go_to_rejects_with_counts_and_leave_good_answers_unchanged(tmp_path, kb):
    good = list(synth_records(60, seed=3))
    clean = tmp_path / "clean.jsonl"
    clean.write_text("".join(json.dumps(o) + "\n" for o in good), encoding="utf-8")
    bad_lines = ['{"patient": {"age_years": 17, "sex": "female", "her2": {"ihc": "3+"}}}', "{not json",
                 json.dumps({**good[0], "cohort": "x"}),
                 json.dumps({"patient": {**good[1]["patient"], "er_percent": 150}})]
    mixed = tmp_path / "mixed.jsonl"
    lines = [json.dumps(o) for o in good]
    for k, b in enumerate(bad_lines):
        lines.insert(5 + 10 * k, b)
    mixed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for engine in ("python", "duckdb"):
        ref = run_cohort(clean, tmp_path / "ref.parquet", engine=engine, kb=kb, batch_size=16)
        got = run_cohort(mixed, tmp_path / "got.parquet", engine=engine, kb=kb, batch_size=16,
                         rejects=tmp_path / "rejects.jsonl")
        assert (got.read, got.accepted, got.rejected, got.answered) == (64, 60, 4, 60)
        assert ref.answered == 60
        strip = [r[1:] for r in read_answers(tmp_path / "ref.parquet")]
        assert [r[1:] for r in read_answers(tmp_path / "got.parquet")] == strip
        rejects = [json.loads(x) for x in (tmp_path / "rejects.jsonl").read_text().splitlines()]
        assert [r["line"] for r in rejects] == [6, 16, 26, 36]
        assert [r["field"] for r in rejects] == ["patient.age_years", "line 16", "cohort", "patient.er_percent"]
        assert rejects[2]["patient_id"] == good[0]["patient"]["id"]
        assert all(r["rule"] for r in rejects)


def test_cli_run_reports_counts_and_writes_answers(tmp_path):
    src = tmp_path / "c.jsonl"
    objs = list(synth_records(30, seed=8))
    src.write_text("".join(json.dumps(o) + "\n" for o in objs) + "[1]\n", encoding="utf-8")
    out, rej = tmp_path / "a.parquet", tmp_path / "r.jsonl"
    res = run_cli("cohort", "run", str(src), "--out", str(out), "--rejects", str(rej), "--batch-size", "7")
    assert res.returncode == 0, res.stderr
    assert "read 31, accepted 30, rejected 1, answered 30" in res.stderr
    rows = read_answers(out)
    assert [r[1] for r in rows] == [o["patient"]["id"] for o in objs]
    assert json.loads(rej.read_text())["field"] == "(root)"
    bad = run_cli("cohort", "run", str(src), "--engine", "oracle")
    assert bad.returncode == 2 and "--engine" in bad.stderr


def test_parquet_input_gives_the_jsonl_answers(tmp_path, kb):
    from mbcpath.analytics.records import write_parquet

    objs = list(synth_records(200, seed=21))
    src = tmp_path / "c.jsonl"
    src.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    write_parquet(objs, tmp_path / "c.parquet")
    run_cohort(src, tmp_path / "a1.parquet", engine="duckdb", kb=kb)
    run_cohort(tmp_path / "c.parquet", tmp_path / "a2.parquet", engine="duckdb", kb=kb)
    assert read_answers(tmp_path / "a1.parquet") == read_answers(tmp_path / "a2.parquet")
    assert len(list(read_records(tmp_path / "c.parquet"))) == 200
