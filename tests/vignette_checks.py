"""The vignette expectation language (tests/cases/README.vignettes.md) as code."""

from __future__ import annotations

from mbcpath.domain.recommendation import Option, Recommendation


def contains(option: Option, item: str) -> bool:
    return item in option.items()


def contains_all(option: Option, items: list[str]) -> bool:
    return all(contains(option, i) for i in items)


def check(expect: dict, rec: Recommendation) -> list[str]:
    """Return a list of failures (empty = the recommendation passes)."""
    fails: list[str] = []
    opts = rec.options
    top = opts[0] if opts else None
    got_dp = rec.decision_point.value if rec.decision_point else None
    if "decision_point" in expect and got_dp != expect["decision_point"]:
        fails.append(f"decision_point {rec.decision_point} != {expect['decision_point']}")
    if "top_has_any" in expect:
        if top is None or not any(contains_all(top, s) for s in expect["top_has_any"]):
            fails.append(f"top option {top.name if top else None} has none of {expect['top_has_any']}")
    if "offered_has_any" in expect and not any(contains_all(o, s) for o in opts for s in expect["offered_has_any"]):
        fails.append(f"no option has any of {expect['offered_has_any']}")
    for s in expect.get("offered_all", []):
        if not any(contains_all(o, s) for o in opts):
            fails.append(f"no option contains {s}")
    for item in expect.get("never_offered", []):
        bad = [o.name for o in opts if contains(o, item)]
        if bad:
            fails.append(f"{item} offered in {bad}")
    if "top_lacks" in expect and top is not None:
        bad = [i for i in expect["top_lacks"] if contains(top, i)]
        if bad:
            fails.append(f"top option {top.name} contains {bad}")
    if "warn_or_exclude" in expect:
        spec = expect["warn_or_exclude"]
        words = spec["word"] if isinstance(spec["word"], list) else [spec["word"]]
        for o in opts:
            if any(contains(o, i) for i in spec["items"]):
                text = " ".join(o.warnings).lower()
                if not any(w.lower() in text for w in words):
                    fails.append(f"option {o.name} lacks a warning mentioning {words}")
    rules = expect.get("options_with_class_need", [])
    for rule in [rules] if isinstance(rules, dict) else rules:
        for o in opts:
            if any(contains(o, i) for i in rule["if"]) and not any(contains(o, i) for i in rule["then"]):
                fails.append(f"option {o.name} has {rule['if']} without any of {rule['then']}")
    if expect.get("conflict") and not rec.conflicts:
        fails.append("no conflict listed")
    if expect.get("out_of_scope") and (not rec.out_of_scope or opts):
        fails.append("not out of scope")
    if "missing_mentions" in expect and not any(expect["missing_mentions"].lower() in m.lower()
                                                for m in rec.missing_data):
        fails.append(f"missing_data does not mention {expect['missing_mentions']}")
    return fails
