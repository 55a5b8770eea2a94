"""The condition language: parsing, type checks, three-valued evaluation, explanation and SQL."""

from __future__ import annotations

import pytest

from mbcpath.rules.conditions import ConditionError, compile_condition


@pytest.mark.parametrize(("text", "facts", "expected"), [
    ("hr_positive and tfi_months <= 6", {"hr_positive": True, "tfi_months": 6.0}, True),
    ("hr_positive and tfi_months <= 6", {"hr_positive": True, "tfi_months": 6.01}, False),
    ("hr_positive and tfi_months <= 6", {"hr_positive": True, "tfi_months": None}, None),
    ("hr_positive and tfi_months <= 6", {"hr_positive": False, "tfi_months": None}, False),
    ("hr_positive or tfi_months <= 6", {"hr_positive": True, "tfi_months": None}, True),
    ("not hr_positive", {"hr_positive": None}, None),
    ("'pertuzumab' in progressed_on", {"progressed_on": frozenset({"pertuzumab"})}, True),
    ("'pertuzumab' not in progressed_on", {"progressed_on": frozenset({"pertuzumab"})}, False),
    ("ild_history in ['grade2_or_higher', 'active']", {"ild_history": "active"}, True),
    ("ild_history in ['grade2_or_higher', 'active']", {"ild_history": "grade1"}, False),
    ("ild_history in ['grade2_or_higher', 'active']", {"ild_history": None}, None),
    ("lvef_percent is null", {"lvef_percent": None}, True),
    ("lvef_percent is not null", {"lvef_percent": None}, False),
    ("(ecog >= 2 or avoid_chemotherapy) and visceral_crisis == false",
     {"ecog": 2.0, "avoid_chemotherapy": False, "visceral_crisis": False}, True),
])
def test_three_valued_evaluation(text, facts, expected):
    """Unknown facts give unknown unless the other operand decides (Kleene logic)."""
    assert compile_condition(text).evaluate(facts) is expected


@pytest.mark.parametrize(("text", "message"), [
    ("qtc_ms >= 450", "unknown fact 'qtc_ms'"),
    ("ild_history == 'grade2'", "'grade2' is not a value of ild_history"),
    ("hr_positive > 1", "compares numbers"),
    ("'docetaxl' in progressed_on", "'docetaxl' is not a value of progressed_on"),
    ("tfi_months", "is not true/false"),
    ("hr_positive and", "expected a value"),
    ("__import__('os')", "unexpected '('"),
    ("tfi_months <= 6; rm", "cannot read"),
    ("tfi_months in progressed_on", "'in' needs"),
])
def test_invalid_conditions_are_refused_with_a_reason(text, message):
    """Typos in facts or enum values, wrong types and code injection fail at KB load."""
    with pytest.raises(ConditionError) as exc:
        compile_condition(text)
    assert message in str(exc.value)


def test_explain_lists_each_fact_with_its_value():
    """The explanation shows the values the rule read, 'unknown' for missing ones."""
    c = compile_condition("hr_positive and tfi_months <= 6 and 'pertuzumab' in progressed_on")
    text = c.explain({"hr_positive": True, "tfi_months": None, "progressed_on": frozenset({"b", "a"})})
    assert text == "hr_positive = true; tfi_months = unknown; progressed_on = {a, b}"


def test_sql_compilation_and_duckdb_agree_on_kleene_logic():
    """The SQL form gives the same true/false/NULL as the Python evaluator in DuckDB."""
    duckdb = pytest.importorskip("duckdb", reason="duckdb is part of the dev install")
    c = compile_condition("(hr_positive and tfi_months <= 6) or 'pertuzumab' in progressed_on")
    con = duckdb.connect()
    con.execute("create table f (hr_positive boolean, tfi_months double, progressed_on varchar[])")
    rows = [(True, 4.0, []), (True, None, []), (False, None, []), (None, 9.0, ["pertuzumab"]), (None, 3.0, [])]
    con.executemany("insert into f values (?, ?, ?)", rows)
    got = [r[0] for r in con.execute(f"select {c.to_sql()} from f").fetchall()]
    want = [c.evaluate({"hr_positive": h, "tfi_months": t, "progressed_on": frozenset(p)}) for h, t, p in rows]
    assert got == want == [True, None, False, True, None]
