"""The vignette expectation language (tests/cases/README.vignettes.md) as code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mbcpath.domain.recommendation import Option, Recommendation


def contains(option: Option, item: str) -> bool:
    return item in option.items()


def contains_all(option: Option, items: list[str]) -> bool:
    return all(contains(option, i) for i in items)


def _top(rec: Recommendation) -> Option | None:
    """The rank-1 option (None when nothing is offered)."""
    return rec.options[0] if rec.options else None


def _decision_point(expected: str, rec: Recommendation) -> list[str]:
    got = rec.decision_point.value if rec.decision_point else None
    return [f"decision_point {rec.decision_point} != {expected}"] if got != expected else []


def _top_has_any(sets: list[list[str]], rec: Recommendation) -> list[str]:
    top = _top(rec)
    if top is None or not any(contains_all(top, s) for s in sets):
        return [f"top option {top.name if top else None} has none of {sets}"]
    return []


def _offered_has_any(sets: list[list[str]], rec: Recommendation) -> list[str]:
    if not any(contains_all(o, s) for o in rec.options for s in sets):
        return [f"no option has any of {sets}"]
    return []


def _offered_all(sets: list[list[str]], rec: Recommendation) -> list[str]:
    return [f"no option contains {s}" for s in sets if not any(contains_all(o, s) for o in rec.options)]


def _never_offered(items: list[str], rec: Recommendation) -> list[str]:
    fails = []
    for item in items:
        bad = [o.name for o in rec.options if contains(o, item)]
        if bad:
            fails.append(f"{item} offered in {bad}")
    return fails


def _top_lacks(items: list[str], rec: Recommendation) -> list[str]:
    top = _top(rec)
    if top is None:
        return []
    bad = [i for i in items if contains(top, i)]
    return [f"top option {top.name} contains {bad}"] if bad else []


def _warn_or_exclude(spec: dict[str, Any], rec: Recommendation) -> list[str]:
    words = spec["word"] if isinstance(spec["word"], list) else [spec["word"]]
    fails = []
    for o in rec.options:
        if any(contains(o, i) for i in spec["items"]):
            text = " ".join(o.warnings).lower()
            if not any(w.lower() in text for w in words):
                fails.append(f"option {o.name} lacks a warning mentioning {words}")
    return fails


def _options_with_class_need(rules: dict[str, Any] | list[dict[str, Any]], rec: Recommendation) -> list[str]:
    return [f"option {o.name} has {rule['if']} without any of {rule['then']}"
            for rule in ([rules] if isinstance(rules, dict) else rules)
            for o in rec.options
            if any(contains(o, i) for i in rule["if"]) and not any(contains(o, i) for i in rule["then"])]


def _conflict(wanted: bool, rec: Recommendation) -> list[str]:
    return ["no conflict listed"] if wanted and not rec.conflicts else []


def _out_of_scope(wanted: bool, rec: Recommendation) -> list[str]:
    return ["not out of scope"] if wanted and (not rec.out_of_scope or rec.options) else []


def _missing_mentions(word: str, rec: Recommendation) -> list[str]:
    if not any(word.lower() in m.lower() for m in rec.missing_data):
        return [f"missing_data does not mention {word}"]
    return []


#: each expectation key and its check, in the order the failures are listed
_CHECKS: tuple[tuple[str, Callable[[Any, Recommendation], list[str]]], ...] = (
    ("decision_point", _decision_point),
    ("top_has_any", _top_has_any),
    ("offered_has_any", _offered_has_any),
    ("offered_all", _offered_all),
    ("never_offered", _never_offered),
    ("top_lacks", _top_lacks),
    ("warn_or_exclude", _warn_or_exclude),
    ("options_with_class_need", _options_with_class_need),
    ("conflict", _conflict),
    ("out_of_scope", _out_of_scope),
    ("missing_mentions", _missing_mentions),
)


def check(expect: dict, rec: Recommendation) -> list[str]:
    """Return a list of failures (empty = the recommendation passes)."""
    return [fail for key, rule in _CHECKS if key in expect for fail in rule(expect[key], rec)]
