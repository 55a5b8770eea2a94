"""The synthetic cohort: seeded, every record parses, the documented distributions hold, the CLI writes files
the reader reads."""

from __future__ import annotations

import collections
import json

import pytest

from conftest import run_cli
from mbcpath.analytics.records import Accepted, check_line, read_records
from mbcpath.analytics.synth import P_DE_NOVO, P_ER_LOW, P_HR_NEGATIVE, synth_record, synth_records
from mbcpath.facts.derive import derive_facts

N = 4000


@pytest.fixture(scope="module")
def checked():
    return [check_line(i + 1, r) for i, r in enumerate(synth_records(N, seed=11))]


def test_same_seed_same_cohort_and_records_are_independent():
    a = list(synth_records(50, seed=4))
    assert a == list(synth_records(50, seed=4))
    assert a != list(synth_records(50, seed=5))
    assert list(synth_records(10, seed=4, start=20)) == a[20:30]
    assert synth_record(4, 33) == a[33]


def test_every_generated_patient_parses(checked):
    rejected = [c for c in checked if not isinstance(c, Accepted)]
    assert rejected == []


def test_documented_shares_hold(checked):
    recs = [c.record for c in checked]
    de_novo = sum(r.patient.presentation.value == "de_novo" for r in recs) / N
    assert abs(de_novo - P_DE_NOVO) < 0.03
    er0 = [r for r in recs if r.patient.er_percent == 0 and not r.patient.pr_percent]
    expected_neg = P_DE_NOVO * P_HR_NEGATIVE["de_novo"] + (1 - P_DE_NOVO) * P_HR_NEGATIVE["recurrent"]
    assert abs(len(er0) / N - expected_neg * 0.9) < 0.04
    low = sum(r.patient.er_percent is not None and 1 <= r.patient.er_percent <= 10 for r in recs) / N
    assert abs(low - (1 - expected_neg) * P_ER_LOW) < 0.02
    ids = {r.patient.id for r in recs}
    assert len(ids) == N


def test_decision_points_histories_and_audit_fields(checked):
    recs = [c.record for c in checked]
    points = collections.Counter(derive_facts(r.patient).values["decision_point"] for r in recs)
    assert set(points) == {"first_line", "maintenance", "second_line", "third_line_or_later", "cns_event"}
    assert all(v > 0.04 * N for v in points.values()), points
    recurrent = [r for r in recs if r.patient.presentation.value == "recurrent"]
    assert all(any(t.setting.value != "metastatic" for t in r.patient.treatments) for r in recurrent)
    years = {r.decision_date.year for r in recs}
    assert min(years) == 2013 and max(years) == 2026
    given = [r for r in recs if r.given_drugs]
    assert 0.85 * N < len(given) < 0.95 * N
    assert any(r.override_reason for r in recs)
    for r in recs:
        fu = r.follow_up
        assert fu is not None and fu.months_since_metastatic_diagnosis >= (r.patient.metastatic_diagnosis_months_ago
                                                                           or 0)
    assert 0.1 < sum(not r.follow_up.alive for r in recs) / N < 0.9
    safety = collections.Counter()
    for r in recs:
        p = r.patient
        safety["lvef<50"] += bool(p.lvef_percent is not None and p.lvef_percent < 50)
        safety["ild"] += p.ild_history.value != "none"
        safety["formulary"] += bool(p.unavailable_drugs)
        safety["brain"] += p.brain_metastases is not None and p.brain_metastases.value != "none"
    assert all(v > 0 for v in safety.values()), safety


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_cli_synth_writes_a_file_the_reader_reads(tmp_path, suffix):
    out = tmp_path / f"c{suffix}"
    res = run_cli("cohort", "synth", "--n", "40", "--seed", "9", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "wrote 40 patients" in res.stderr
    items = list(read_records(out))
    assert len(items) == 40 and all(isinstance(i, Accepted) for i in items)
    assert [i.record.patient.id for i in items] == [r["patient"]["id"] for r in synth_records(40, seed=9)]
    if suffix == ".jsonl":
        assert json.loads(out.read_text().splitlines()[0]) == synth_record(9, 0)


def test_cli_synth_refuses_an_unknown_suffix(tmp_path):
    res = run_cli("cohort", "synth", "--n", "2", "--out", str(tmp_path / "c.csv"))
    assert res.returncode == 2 and "--out" in res.stderr and ".parquet" in res.stderr
