"""The third independent case batch (tests/cases/independent3) is well-formed input for the harness.

These checks never run the engine: writing and judging stay apart (issue 8). They check that every case
uses only the expectation language of ``tests/cases/README.vignettes.md`` with the value shapes that
``tests/vignette_checks.check`` reads, names only vocabulary drugs and contract classes, keeps the
tumour-board spread the batch was written for, and that its patient is accepted, or (for ``reject``
cases) refused naming one of the expected fields. The checks themselves live in ``_case_structure``
(shared with batches 2 and 4).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _case_structure import area_counts, assert_parses_or_is_refused, assert_shape, case_files

CASES = case_files("independent3")
#: the minimum number of cases per tumour-board viewpoint that the batch was written to cover
MINIMUM_PER_AREA = {"pharmacist": 25, "cardio_oncology": 20, "radiation_oncology": 20, "patient_preference": 12,
                    "older_frail": 12, "ehr_incomplete": 15, "full_vignette": 20, "invalid_input": 10}


def test_batch_is_present_and_keeps_its_spread() -> None:
    assert len(CASES) >= 120
    areas = area_counts(CASES)
    assert set(areas) == set(MINIMUM_PER_AREA)
    short = {area: areas[area] for area, least in MINIMUM_PER_AREA.items() if areas[area] < least}
    assert not short


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_shape(path: Path) -> None:
    assert_shape(path, prefix="b3-", check_disagreements=True)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_patient_parses_or_is_refused_naming_the_field(path: Path) -> None:
    assert_parses_or_is_refused(path)
