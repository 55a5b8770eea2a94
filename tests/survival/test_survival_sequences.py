"""Treatment sequences built on the projections' curves: the engine's next lines, expected time on effective
therapy with intervals, stated assumptions."""

from __future__ import annotations

import json

import pytest

from mbcpath.kb import load_kb
from mbcpath.survival.sequences import sequence_report

from .conftest import ROOT


@pytest.fixture(scope="module")
def report():
    from mbcpath.domain.validation import parse_patient

    case = json.loads((ROOT / "tests" / "cases" / "seed-01-first-line.json").read_text(encoding="utf-8"))
    return sequence_report(parse_patient(case.get("patient", case)), load_kb())


def test_sequences_start_from_the_best_options_and_follow_the_engine(report):
    """THP then T-DXd then tucatinib-based therapy, and T-DXd + P then what remains, each line from the same
    curves the projections draw (THP and T-DXd + P from DESTINY-Breast09)."""
    by_first = {s.lines[0].regimen_id: s for s in report.sequences}
    thp = by_first["thp"]
    assert [ln.regimen_id for ln in thp.lines] == ["thp", "tdxd", "tucatinib-trastuzumab-capecitabine"]
    assert thp.lines[0].trial == "DESTINY-Breast09"
    tp = by_first["tdxd-pertuzumab"]
    assert tp.lines[0].trial == "DESTINY-Breast09" and "tdxd" not in [ln.regimen_id for ln in tp.lines[1:]]


def test_expected_time_has_intervals_and_is_restricted(report):
    """Means and medians lie inside their 95% intervals and below the horizon; each total exceeds its first line."""
    for s in report.sequences:
        assert s.mean_ci95[0] < s.mean_months < s.mean_ci95[1] <= report.horizon_months
        assert s.median_ci95[0] <= s.median_months <= s.median_ci95[1]
        assert s.mean_months > s.lines[0].mean_months
        assert 0 <= s.prob_beyond["60"] <= s.prob_beyond["24"] <= 1
    assert any("upper bound" in a for a in report.assumptions)


def test_sequences_are_reproducible(report):
    from mbcpath.domain.validation import parse_patient

    case = json.loads((ROOT / "tests" / "cases" / "seed-01-first-line.json").read_text(encoding="utf-8"))
    again = sequence_report(parse_patient(case.get("patient", case)), load_kb())
    assert again == report
