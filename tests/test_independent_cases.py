"""The independent clinical cases (tests/cases/independent*/), written from guideline and label text by
reviewers who had not read the rules, are answered as their expectations require, or refused naming the
field. Each case records any disagreement with the engine and its resolution in its ``disagreements``."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from vignette_checks import check

CASE_DIRS = sorted(p for p in (ROOT / "tests" / "cases").glob("independent*") if p.is_dir())
CASES = sorted(f for d in CASE_DIRS for f in d.glob("*.json"))


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_independent_suites_are_not_empty():
    """At least the 232 cases of the first batch are present (the parametrised tests are not vacuous)."""
    assert len(CASES) >= 232


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_independent_case(path):
    """Answered cases meet every expectation; reject cases are refused with an error naming the field."""
    from mbcpath import parse_patient, recommend
    from mbcpath.errors import InputError

    case = _load(path)
    expect = case["expect"]
    if expect.get("reject"):
        want = expect["reject"] if isinstance(expect["reject"], list) else [expect["reject"]]
        with pytest.raises(InputError) as err:
            parse_patient(case["patient"])
        fields = [i.field for i in err.value.issues]
        assert any(w in f or f in w for w in want for f in fields if isinstance(w, str)), (fields, want)
        return
    rec = recommend(parse_patient(case["patient"]))
    assert check(expect, rec) == []


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_brief_answer_fits_in_forty_lines(path):
    """`--format brief` is at most 40 lines for every independent case, and names the rank-1 option."""
    from mbcpath import parse_patient, recommend
    from mbcpath.cli.brief import MAX_LINES, brief_lines
    from mbcpath.errors import InputError

    case = _load(path)
    try:
        rec = recommend(parse_patient(case["patient"]))
    except InputError:
        return
    lines = brief_lines(rec)
    assert len(lines) <= MAX_LINES
    if rec.options:
        assert any(rec.options[0].name[:60] in line for line in lines)
