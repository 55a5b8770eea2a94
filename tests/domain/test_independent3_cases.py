"""The third independent case batch (tests/cases/independent3) is well-formed input for the harness.

These checks never run the engine: writing and judging stay apart (issue 8). They check that every case
uses only the expectation language of ``tests/cases/README.vignettes.md`` with the value shapes that
``tests/vignette_checks.check`` reads, names only vocabulary drugs and contract classes, keeps the
tumour-board spread the batch was written for, and that its patient is accepted, or (for ``reject``
cases) refused naming one of the expected fields.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mbcpath.domain.drugs import KNOWN_DRUGS
from mbcpath.domain.validation import parse_patient
from mbcpath.errors import InputError

CASE_DIR = Path(__file__).resolve().parents[1] / "cases" / "independent3"
CASES = sorted(CASE_DIR.glob("*.json"))
FIELDS = {"id", "area", "why", "sources", "patient", "expect", "disagreements"}
KEYS = {"decision_point", "top_has_any", "offered_has_any", "offered_all", "never_offered", "top_lacks",
        "warn_or_exclude", "options_with_class_need", "conflict", "out_of_scope", "missing_mentions", "reject"}
CLASSES = {"anti_her2_antibody", "her2_adc", "her2_tki", "taxane", "chemotherapy", "aromatase_inhibitor", "serd",
           "serm", "cdk46_inhibitor", "ofs", "mtor_inhibitor", "local_therapy"}
DECISION_POINTS = {"first_line", "maintenance", "second_line", "third_line_or_later", "cns_event"}
#: the minimum number of cases per tumour-board viewpoint that the batch was written to cover
MINIMUM_PER_AREA = {"pharmacist": 25, "cardio_oncology": 20, "radiation_oncology": 20, "patient_preference": 12,
                    "older_frail": 12, "ehr_incomplete": 15, "full_vignette": 20, "invalid_input": 10}


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _items(key: str, value: Any) -> list[str]:
    """Every item an expectation names, in the shapes the harness reads."""
    if key in ("top_has_any", "offered_has_any", "offered_all"):
        return [item for group in value for item in group]
    if key in ("never_offered", "top_lacks"):
        return list(value)
    if key == "warn_or_exclude":
        return list(value["items"])
    if key == "options_with_class_need":
        rules = [value] if isinstance(value, dict) else value
        return [item for rule in rules for item in rule["if"] + rule["then"]]
    return []


def test_batch_is_present_and_keeps_its_spread() -> None:
    assert len(CASES) >= 120
    areas = Counter(_load(path)["area"] for path in CASES)
    assert set(areas) == set(MINIMUM_PER_AREA)
    short = {area: areas[area] for area, least in MINIMUM_PER_AREA.items() if areas[area] < least}
    assert not short


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_shape(path: Path) -> None:
    case = _load(path)
    assert set(case) == FIELDS
    assert case["id"] == path.stem == case["patient"]["id"]
    assert case["id"].startswith("b3-")
    assert case["why"] and case["sources"], "every case names its source"
    assert case["disagreements"] == []
    expect = case["expect"]
    assert expect and set(expect) <= KEYS
    if "warn_or_exclude" in expect:
        assert isinstance(expect["warn_or_exclude"], dict), "the harness reads one warn_or_exclude rule"
    if "decision_point" in expect:
        assert expect["decision_point"] in DECISION_POINTS
    if "missing_mentions" in expect:
        assert isinstance(expect["missing_mentions"], str)
    unknown = [i for k, v in expect.items() for i in _items(k, v) if i not in KNOWN_DRUGS | CLASSES]
    assert not unknown


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_patient_parses_or_is_refused_naming_the_field(path: Path) -> None:
    case = _load(path)
    want = case["expect"].get("reject")
    if want is None:
        parse_patient(case["patient"])
        return
    wanted = {want} if isinstance(want, str) else set(want)
    with pytest.raises(InputError) as err:
        parse_patient(case["patient"])
    assert wanted & {issue.field for issue in err.value.issues}
