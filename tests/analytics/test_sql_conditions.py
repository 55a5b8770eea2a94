"""Every KB condition compiled with ``Condition.to_sql()`` gives, over the cohort fact table of
:mod:`mbcpath.analytics.duck` (facts from ``derive_facts``, typed by ``sqlplan.fact_columns``), exactly the
Python evaluator's true / false / NULL for ~200 generated patients plus crafted edge cases (formerly
tests/engine/test_sql.py, which had its own runner)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from engine._patients import crafted_pool
from mbcpath.analytics.duck import facts_frame, load_facts
from mbcpath.analytics.records import Accepted, check_line
from mbcpath.analytics.sqlplan import col
from mbcpath.facts.derive import derive_facts
from mbcpath.rules.conditions import compile_condition
from strategies import random_patients


def _option_conditions(kb: Any, out: dict[str, str]) -> None:
    for d in kb.decisions.values():
        for o in d.options:
            for c in o.requires:
                out[f"{o.id}/requires/{c.id}"] = c.condition
            for c in o.criteria:
                out[f"{o.id}/criteria/{c.id}"] = c.condition
            for a in o.adjustments:
                out[f"{o.id}/adjustment/{a.id}"] = a.when


def kb_conditions(kb: Any) -> dict[str, str]:
    """Every condition text in the KB, keyed by where it sits."""
    out: dict[str, str] = {}
    _option_conditions(kb, out)
    out.update({f"gate/{g.id}": g.when for g in kb.safety.gates if g.when is not None})
    out.update({f"conflict/{n.id}": n.when for n in kb.notes.conflicts})
    out.update({f"missing/{m.fact}": m.when for m in kb.notes.missing_data if m.when is not None})
    out.update({f"trial/{t.id}/{e.id}": e.condition for t in kb.trials.values() for e in t.eligibility
                if e.condition is not None})
    return out


@pytest.fixture(scope="module")
def batch() -> list[Accepted]:
    raws = random_patients(200, seed=9090) + crafted_pool()
    items = [check_line(i, r) for i, r in enumerate(raws)]
    assert all(isinstance(a, Accepted) for a in items)
    return items  # type: ignore[return-value]


@pytest.fixture(scope="module")
def fact_rows(batch):
    return {a.line: derive_facts(a.record.patient).values for a in batch}


@pytest.fixture(scope="module")
def facts_db(batch):
    con = duckdb.connect()
    load_facts(con, facts_frame(batch))
    yield con
    con.close()


def test_the_kb_has_conditions_of_every_kind(kb):
    """The collection is not vacuous: option, gate, conflict and trial-eligibility conditions are all present."""
    keys = kb_conditions(kb)
    for prefix in ("gate/", "conflict/", "trial/"):
        assert any(k.startswith(prefix) for k in keys), prefix
    assert any("/requires/" in k for k in keys) and any("/adjustment/" in k for k in keys)


def test_fact_table_round_trips(facts_db, fact_rows):
    """The DuckDB fact table holds the derived values (sets as lists, unknown as NULL) for every patient."""
    n = facts_db.execute("SELECT count(*) FROM facts").fetchone()[0]
    assert n == len(fact_rows) >= 200
    got = facts_db.execute("SELECT pid, progressed_on, tfi_months FROM facts ORDER BY pid").fetchall()
    assert [(sorted(fact_rows[pid]["progressed_on"]), fact_rows[pid]["tfi_months"]) for pid, _, _ in got] == [
        (list(a), b) for _, a, b in got]
    nulls = facts_db.execute("SELECT count(*) FROM facts WHERE lvef_percent IS NULL").fetchone()[0]
    assert nulls > 0


def test_every_kb_condition_gives_the_same_three_valued_answer_in_sql(kb, facts_db, fact_rows):
    """For every KB condition and every patient, DuckDB(to_sql) == Python evaluate (True / False / NULL)."""
    conds = kb_conditions(kb)
    keys = sorted(conds)
    compiled = {k: compile_condition(conds[k]) for k in keys}
    select = ", ".join(f"{compiled[k].to_sql(col)} AS c{i}" for i, k in enumerate(keys))
    rows = facts_db.execute(f"SELECT pid, {select} FROM facts ORDER BY pid").fetchall()
    mismatches = []
    outcomes: dict[str, set] = {k: set() for k in keys}
    for row in rows:
        facts = fact_rows[row[0]]
        for i, k in enumerate(keys):
            py = compiled[k].evaluate(facts)
            sql = row[i + 1]
            outcomes[k].add(py)
            if py != sql or type(py) is not type(sql):
                mismatches.append(f"{k}: {conds[k]!r} python={py} sql={sql} (row {row[0]})")
    assert mismatches == [], f"{len(mismatches)} mismatches, first: {mismatches[:5]}"
    # the comparison is not vacuous: most conditions are both true and false somewhere in the table
    both = [k for k in keys if {True, False} <= outcomes[k]]
    assert len(both) >= 0.7 * len(keys), sorted(set(keys) - set(both))
    assert any(None in outcomes[k] for k in keys)
