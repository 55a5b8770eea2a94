"""The fourth independent case batch (tests/cases/independent4) is well-formed input for the harness.

These checks never run the engine: writing and judging stay apart (issue 8). Beyond the shared checks of
``_case_structure`` (expectation language and shapes, vocabulary items, the patient parses or is refused
naming a listed field), they check the spread the batch was written for, that twins come in groups, and
that ``tests/vignette_checks.check`` accepts every expectation (it runs on a synthetic empty answer and
reports failures instead of raising).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from _case_structure import (
    area_counts,
    assert_parses_or_is_refused,
    assert_shape,
    case_files,
    harness_failures_on_empty,
    load,
)

CASES = case_files("independent4")
#: the minimum number of cases per area that the batch was written to cover
MINIMUM_PER_AREA = {"sequencing": 10, "adjuvant_exposure": 12, "maintenance": 6, "hr_positive_chemo_free": 6,
                    "cns": 6, "safety_combined": 10, "metamorphic_twins": 16, "invalid_input": 12}
TWIN_ID = re.compile(r"^b4-mm-(\d+)[a-c]-")


def test_batch_is_present_and_keeps_its_spread() -> None:
    assert len(CASES) >= 90
    areas = area_counts(CASES)
    assert set(areas) == set(MINIMUM_PER_AREA)
    short = {area: areas[area] for area, least in MINIMUM_PER_AREA.items() if areas[area] < least}
    assert not short


def test_twins_come_in_groups() -> None:
    """Every metamorphic group has at least two members (a lone twin of a case in another area names it)."""
    groups = Counter(m.group(1) for path in CASES if (m := TWIN_ID.match(path.stem)))
    lone = [g for g, n in groups.items() if n < 2]
    for g in lone:
        (path,) = [p for p in CASES if p.stem.startswith(f"b4-mm-{g}")]
        assert re.search(r"b4-[a-z]+-\d+", load(path)["why"]), f"twin group {g} has one member and names no twin"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_shape(path: Path) -> None:
    case = assert_shape(path, prefix="b4-", check_disagreements=True)
    assert (case["area"] == "invalid_input") == ("reject" in case["expect"])


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_patient_parses_or_is_refused_naming_the_field(path: Path) -> None:
    assert_parses_or_is_refused(path)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_harness_reads_every_expectation(path: Path) -> None:
    """The harness evaluates the case without error; an empty answer fails every positive expectation."""
    expect = load(path)["expect"]
    failures = harness_failures_on_empty(path)
    positive = {"decision_point", "top_has_any", "offered_has_any", "offered_all", "conflict", "out_of_scope",
                "missing_mentions"} & set(expect)
    assert bool(failures) == bool(positive)
