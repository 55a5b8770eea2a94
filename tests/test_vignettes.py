"""Every clinical vignette (tests/cases) is answered in the contract's form or refused as expected."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, load_case, run_cli, vignette_files
from mbcpath.domain.recommendation import Recommendation
from vignette_checks import check

CASES = vignette_files()
ANSWERED = [p for p in CASES if not load_case(p)["expect"].get("reject")]
REJECTED = [p for p in CASES if load_case(p)["expect"].get("reject")]


@pytest.mark.parametrize("path", ANSWERED, ids=lambda p: p.stem)
def test_vignette_answer_meets_expectations(path):
    """The engine's answer satisfies every expectation of the vignette."""
    from mbcpath import parse_patient, recommend

    case = load_case(path)
    rec = recommend(parse_patient(case["patient"]))
    assert check(case["expect"], rec) == []


@pytest.mark.parametrize("path", REJECTED, ids=lambda p: p.stem)
def test_invalid_vignette_is_refused_with_exit_2_naming_the_field(path, tmp_path):
    """`mbcpath recommend --format json` exits 2 with one stderr line naming the offending field."""
    case = load_case(path)
    f = tmp_path / "patient.json"
    f.write_text(json.dumps(case["patient"]))
    res = run_cli("recommend", str(f), "--format", "json")
    assert res.returncode == 2
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    field = lines[0].split("invalid patient: ", 1)[1].split(" = ", 1)[0]
    assert field.split("[")[0].split(".")[0] in case["patient"]


def test_cli_json_output_is_the_contract(tmp_path):
    """`--format json` prints a recommendation that round-trips through the contract model."""
    case = load_case(next(p for p in CASES if p.stem == "seed-01-first-line"))
    f = tmp_path / "p.json"
    f.write_text(json.dumps(case["patient"]))
    res = run_cli("recommend", str(f), "--format", "json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    rec = Recommendation.model_validate(data)
    assert rec.decision_point.value == "first_line"
    assert [o["rank"] for o in data["options"]] == list(range(1, len(data["options"]) + 1))
    assert all("class" in c for o in data["options"] for c in o["components"])


def test_brief_format_for_the_seed_first_line_case():
    """`mbcpath recommend seed-01 --format brief`: at most 40 lines, names the rank-1 option and its trial's
    numbers once, states the decision point and that mbcpath is not a medical device."""
    res = run_cli("recommend", str(ROOT / "examples/patients/seed-01-first-line.json"), "--format", "brief")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert 5 <= len(lines) <= 40
    assert "decision point: first line" in lines[0] and "Not a medical device" in res.stdout
    assert "1. Trastuzumab deruxtecan + pertuzumab" in res.stdout
    assert res.stdout.count("DESTINY-Breast09: PFS") == 1
    assert "_" not in "".join(lines[3:])  # clinical words, not fact names
