"""Answers as of a date: the evidence known then, and what a later release changes for patients (issue 10)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import ROOT, run_cli
from mbcpath.domain.validation import parse_patient
from mbcpath.engine.core import recommend

SEED = ROOT / "examples" / "patients" / "seed-01-first-line.json"


def _seed():
    return parse_patient(json.loads(SEED.read_text()))


@pytest.mark.parametrize(("day", "tdxd_p", "top"), [
    (dt.date(2024, 6, 1), False, "thp"),              # before DESTINY-Breast09 (ASCO, June 2025)
    (dt.date(2025, 12, 20), True, "tdxd-pertuzumab"),  # after its presentation and FDA approval
    (None, True, "tdxd-pertuzumab"),                   # today
])
def test_seed_first_line_as_of(kb, day, tdxd_p, top):
    """The seed first-line patient: THP first and no T-DXd + pertuzumab as of 2024-06-01; T-DXd + P offered
    as of 2025-12-20 and today. The answer carries the date it was asked for."""
    rec = recommend(_seed(), kb, as_of=day)
    ids = [o.regimen_id for o in rec.options]
    assert ("tdxd-pertuzumab" in ids) is tdxd_p
    assert ids[0] == top
    assert rec.as_of == (day.isoformat() if day else None)


def test_as_of_answer_cites_only_evidence_public_then(kb):
    """As of 2024-06-01 no option cites a trial result first made public later (DESTINY-Breast09, PATINA)."""
    rec = recommend(_seed(), kb, as_of=dt.date(2024, 6, 1))
    cited = {e.trial for o in rec.options for e in o.evidence if e.endpoints}
    assert "DESTINY-Breast09" not in cited


def test_cli_as_of_and_bad_date():
    """`recommend --as-of` answers as of the date; a bad date exits 2 naming the option."""
    res = run_cli("recommend", str(SEED), "--format", "json", "--as-of", "2024-06-01")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["as_of"] == "2024-06-01" and data["options"][0]["regimen_id"] == "thp"
    bad = run_cli("recommend", str(SEED), "--as-of", "2024-13-01")
    assert bad.returncode == 2 and "--as-of" in bad.stderr


def test_kb_diff_names_the_patients_whose_answer_changes():
    """`kb diff 2024-06-01 2026-12-01 --patients examples/patients` names the seed patient (T-DXd + P gained)."""
    res = run_cli("kb", "diff", "2024-06-01", "2026-12-01", "--patients", str(ROOT / "examples/patients"),
                  "--format", "json")
    assert res.returncode == 0, res.stderr
    changes = {c["patient"]: c for c in json.loads(res.stdout)["patients"]}
    seed = changes["seed-01-first-line"]
    assert "tdxd-pertuzumab" in seed["gained"] and seed["before"][0] == "thp" and seed["after"][0] == "tdxd-pertuzumab"
