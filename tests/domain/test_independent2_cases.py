"""The second independent case batch (tests/cases/independent2) is well-formed input for the harness.

These checks never run the engine: writing and judging stay apart (issue 8). They check that every case
uses only the expectation language of ``tests/cases/README.vignettes.md`` with the value shapes that
``tests/vignette_checks.check`` reads, names only vocabulary drugs and contract classes, and that its
patient is accepted, or (for ``reject`` cases) refused naming one of the expected fields. The checks
themselves live in ``_case_structure`` (shared with batches 3 and 4).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _case_structure import assert_parses_or_is_refused, assert_shape, case_files

CASES = case_files("independent2")


def test_batch_is_present_and_large_enough() -> None:
    assert len(CASES) >= 120


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_shape(path: Path) -> None:
    assert_shape(path)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_patient_parses_or_is_refused_naming_the_field(path: Path) -> None:
    assert_parses_or_is_refused(path)
