"""Shared structural checks for the independent case batches (tests/cases/independent2, 3, 4).

The batches are judged by the engine elsewhere; these helpers never run it (writing and judging stay apart,
issue 8). They check that a case uses only the expectation language of ``tests/cases/README.vignettes.md`` with
the value shapes that ``tests/vignette_checks.check`` reads, names only vocabulary drugs and contract classes,
and that its patient is accepted by the contract models, or (for ``reject`` cases) refused naming one of the
expected fields.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mbcpath.domain.drugs import KNOWN_DRUGS
from mbcpath.domain.recommendation import Recommendation
from mbcpath.domain.validation import parse_patient
from mbcpath.errors import InputError

CASES_ROOT = Path(__file__).resolve().parents[1] / "cases"
#: the top-level fields of every case file
FIELDS = {"id", "area", "why", "sources", "patient", "expect", "disagreements"}
#: the expectation keys of tests/cases/README.vignettes.md
KEYS = {"decision_point", "top_has_any", "offered_has_any", "offered_all", "never_offered", "top_lacks",
        "warn_or_exclude", "options_with_class_need", "conflict", "out_of_scope", "missing_mentions", "reject"}
#: the component classes of the exchange contract
CLASSES = {"anti_her2_antibody", "her2_adc", "her2_tki", "taxane", "chemotherapy", "aromatase_inhibitor", "serd",
           "serm", "cdk46_inhibitor", "ofs", "mtor_inhibitor", "local_therapy"}
#: the decision points of a recommendation (contract)
DECISION_POINTS = {"first_line", "maintenance", "second_line", "third_line_or_later", "cns_event"}


def case_files(batch: str) -> list[Path]:
    """The case files of one batch folder under tests/cases, sorted."""
    return sorted((CASES_ROOT / batch).glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    """One case file as a dict."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def items(key: str, value: Any) -> list[str]:
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


def area_counts(paths: list[Path]) -> Counter[str]:
    """How many cases each ``area`` holds."""
    return Counter(load(path)["area"] for path in paths)


def assert_shape(path: Path, *, prefix: str | None = None, check_disagreements: bool = False) -> dict[str, Any]:
    """The case at ``path`` has the batch format; returns it."""
    case = load(path)
    assert set(case) == FIELDS
    assert case["id"] == path.stem == case["patient"]["id"]
    if prefix is not None:
        assert case["id"].startswith(prefix)
    assert case["why"] and case["sources"], "every case names its source"
    if check_disagreements:  # each entry a runner records: what the engine answered, the basis, the resolution
        for d in case["disagreements"]:
            assert {"engine_answer", "basis", "resolution", "date"} <= set(d), d
    expect = case["expect"]
    assert expect and set(expect) <= KEYS
    if "warn_or_exclude" in expect:
        assert isinstance(expect["warn_or_exclude"], dict), "the harness reads one warn_or_exclude rule"
    if "decision_point" in expect:
        assert expect["decision_point"] in DECISION_POINTS
    if "missing_mentions" in expect:
        assert isinstance(expect["missing_mentions"], str)
    unknown = [i for k, v in expect.items() for i in items(k, v) if i not in KNOWN_DRUGS | CLASSES]
    assert not unknown
    return case


def assert_parses_or_is_refused(path: Path) -> None:
    """A non-reject patient parses; a reject patient is refused naming one of the listed fields."""
    case = load(path)
    want = case["expect"].get("reject")
    if want is None:
        parse_patient(case["patient"])
        return
    wanted = {want} if isinstance(want, str) else set(want)
    with pytest.raises(InputError) as err:
        parse_patient(case["patient"])
    assert wanted & {issue.field for issue in err.value.issues}


def empty_recommendation(patient_id: str) -> Recommendation:
    """A synthetic answer with no options, no conflicts and no missing data (never from the engine)."""
    return Recommendation(patient_id=patient_id, kb_release="structural-test", engine_version="0",
                          decision_point=None)


def harness_failures_on_empty(path: Path) -> list[str]:
    """What ``vignette_checks.check`` reports for the case against an empty answer (the harness accepts it)."""
    from vignette_checks import check

    case = load(path)
    expect = {k: v for k, v in case["expect"].items() if k != "reject"}
    failures: list[str] = check(expect, empty_recommendation(case["id"]))
    return failures
