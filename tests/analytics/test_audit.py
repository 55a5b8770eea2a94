"""The concordance audit on a small hand-built cohort whose counts are known, including a decision judged
differently as of two dates (DESTINY-Breast09: T-DXd + pertuzumab first line, public in 2025)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import load_case, run_cli, vignette_files
from mbcpath.analytics.audit import audit
from mbcpath.analytics.records import read_records, record_json_schema

FIRST = next(p for p in vignette_files() if p.stem == "late-relapse-first-line")


def _p(pid: str, **changes: object) -> dict:
    return load_case(FIRST)["patient"] | {"id": pid} | changes


def _rec(pid: str, date: str | None, drugs: list[str] | None, reason: str | None = None, **changes: object) -> dict:
    out: dict = {"patient": _p(pid, **changes)}
    if date:
        out["decision_date"] = date
    if drugs is not None:
        out["given"] = {"drugs": drugs}
    if reason:
        out["override_reason"] = reason
    return out


COHORT = [
    # THP in 2024 is the rank-1 option; in 2026 T-DXd + pertuzumab (DESTINY-Breast09) ranks first
    _rec("thp-2024", "2024-01-15", ["docetaxel", "trastuzumab", "pertuzumab"]),
    _rec("thp-2026", "2026-01-15", ["paclitaxel", "trastuzumab", "pertuzumab"], "patient preference"),
    # T-DXd + pertuzumab: not offered before DESTINY-Breast09 was public, rank 1 after
    _rec("tdxdp-2024", "2024-01-15", ["trastuzumab deruxtecan", "pertuzumab"], "trial participation"),
    _rec("tdxdp-2026", "2026-03-01", ["Enhertu", "pertuzumab"]),
    # HP + an aromatase inhibitor: another offered option
    _rec("hpai-2024", "2024-05-01", ["trastuzumab", "pertuzumab", "letrozole"], "frailty"),
    # capecitabine alone: not offered
    _rec("cape-2025", "2025-02-01", ["capecitabine"]),
    # trastuzumab with LVEF 40%: given despite the label's stop
    _rec("lvef-2024", "2024-06-01", ["trastuzumab", "docetaxel", "pertuzumab"], lvef_percent=40),
    # HER2-negative: out of scope
    _rec("her2neg-2024", "2024-06-01", ["trastuzumab"], her2={"ihc": "1+", "ish": "not_amplified"}),
    # not judged: no decision date / no given drugs
    _rec("nodate", None, ["trastuzumab"]),
    _rec("nogiven", "2024-01-01", None),
]


@pytest.fixture(scope="module")
def cohort_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("audit") / "cohort.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in COHORT) + "{broken\n", encoding="utf-8")
    return path


def test_known_counts_and_the_decision_that_changes_with_the_date(cohort_file, kb):
    report = audit(read_records(cohort_file), kb)
    by_id = {j.patient_id: j for j in report.judged}
    assert {k: v.verdict for k, v in by_id.items()} == {
        "thp-2024": "rank1", "thp-2026": "other_option", "tdxdp-2024": "not_offered", "tdxdp-2026": "rank1",
        "hpai-2024": "other_option", "cape-2025": "not_offered", "lvef-2024": "despite_safety_stop",
        "her2neg-2024": "out_of_scope"}
    assert report.counts() == {"rank1": 2, "other_option": 2, "not_offered": 2, "despite_safety_stop": 1,
                               "out_of_scope": 1}
    assert (report.not_judged, report.rejected) == (2, 1)
    assert by_id["thp-2024"].regimen == by_id["thp-2026"].regimen == "thp"
    assert by_id["tdxdp-2026"].regimen == "tdxd-pertuzumab"
    assert by_id["tdxdp-2024"].as_of == dt.date(2024, 1, 15)
    years = report.table("year")
    assert years[2024] == {"rank1": 1, "not_offered": 1, "other_option": 1, "despite_safety_stop": 1,
                           "out_of_scope": 1}
    assert years[2026] == {"other_option": 1, "rank1": 1}
    assert report.table("decision_point")["first_line"]["rank1"] == 2
    assert report.table("regimen")["thp"] == {"rank1": 1, "other_option": 1}
    assert report.override_reasons() == {"other_option": {"patient preference": 1, "frailty": 1},
                                         "not_offered": {"trial participation": 1}}


def test_the_current_kb_judges_the_2024_decisions_differently(cohort_file, kb):
    now = {j.patient_id: j.verdict for j in audit(read_records(cohort_file), kb, as_of_record_date=False).judged}
    assert now["thp-2024"] == "other_option" and now["tdxdp-2024"] == "rank1"


def test_cli_audit_json_and_tables(cohort_file):
    res = run_cli("cohort", "audit", str(cohort_file), "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["counts"]["rank1"] == 2 and data["not_judged"] == 2 and data["rejected"] == 1
    assert data["by_year"]["2026"] == {"other_option": 1, "rank1": 1}
    text = run_cli("cohort", "audit", str(cohort_file))
    assert text.returncode == 0 and "Concordance by decision point" in text.stdout and "trial participation" in (
        text.stdout)


def test_cli_schema_is_the_record_schema():
    res = run_cli("cohort", "schema")
    assert res.returncode == 0
    assert json.loads(res.stdout) == record_json_schema()
