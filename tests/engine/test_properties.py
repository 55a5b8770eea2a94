"""Property tests: for any valid patient the engine is deterministic, in scope only for HER2-positive
disease, and never offers what a hard safety gate of domain.md section 5 forbids."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from mbcpath.domain.validation import parse_patient
from mbcpath.engine.core import recommend
from strategies import patients, random_patients

from ._invariants import check, her2_positive

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(raw=patients())
def test_generated_patients_are_valid_contract_input(raw):
    """Every generated patient passes the contract validation (the strategies stay honest)."""
    p = parse_patient(raw)
    assert p.age_years == raw["age_years"]
    assert ("brain" in raw["metastatic_sites"]) == (raw["brain_metastases"] not in (None, "none"))


@PROPERTY_SETTINGS
@given(raw=patients())
def test_identical_input_gives_byte_identical_output(raw, kb):
    """Two validations and two runs of the same input give byte-identical JSON."""
    first = recommend(parse_patient(raw), kb).to_json()
    second = recommend(parse_patient(dict(raw)), kb).to_json()
    assert first == second


@PROPERTY_SETTINGS
@given(raw=patients())
def test_no_option_violates_a_safety_invariant(raw, kb):
    """Hard gates, exposure, OFS, formulary, CDK4/6 pairing, ranks, citations and scope hold for any patient."""
    p = parse_patient(raw)
    rec = recommend(p, kb)
    assert check(raw, p, rec, kb) == []


@PROPERTY_SETTINGS
@given(raw=patients())
def test_scope_follows_asco_cap_her2(raw, kb):
    """HER2-negative or unresolved -> out_of_scope with no options; HER2-positive -> in scope."""
    rec = recommend(parse_patient(raw), kb)
    if her2_positive(raw):
        assert rec.out_of_scope is None
    else:
        assert rec.out_of_scope and rec.options == [] and rec.missing_data


def test_seeded_patients_cover_every_decision_point(kb):
    """The generator reaches every decision point, in and out of scope (the properties are not vacuous)."""
    seen = set()
    for raw in random_patients(600, seed=7):
        rec = recommend(parse_patient(raw), kb)
        seen.add((rec.decision_point.value, rec.out_of_scope is None))
    expected = {(dp, True) for dp in ("first_line", "maintenance", "second_line", "third_line_or_later", "cns_event")}
    assert expected <= seen
    assert any(not in_scope for _, in_scope in seen)


@pytest.mark.slow
def test_invariants_hold_for_ten_thousand_seeded_patients(kb):
    """10,000 seeded patients: every invariant holds, no exception, every 10th rerun byte-identical.

    Throughput is measured in bench/ (make bench), not asserted here.
    """
    failures: list[str] = []
    for i, raw in enumerate(random_patients(10_000, seed=20260314)):
        p = parse_patient(raw)
        rec = recommend(p, kb)
        failures += [f"{raw['id']}: {b}" for b in check(raw, p, rec, kb)]
        if i % 10 == 0 and recommend(parse_patient(raw), kb).to_json() != rec.to_json():
            failures.append(f"{raw['id']}: output differs between two runs")
    assert failures == [], f"{len(failures)} violations, first: {failures[:10]}"
