"""Every KB condition compiled with ``Condition.to_sql()`` gives, in DuckDB, exactly the Python evaluator's
true / false / NULL over the derived facts of ~200 generated patients (plus crafted edge cases)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from mbcpath.domain.validation import parse_patient
from mbcpath.facts.catalog import FACT_TYPES
from mbcpath.facts.derive import derive_facts
from mbcpath.rules.conditions import compile_condition
from strategies import random_patients

from ._patients import crafted_pool

_SQL_TYPE = {"bool": "BOOLEAN", "number": "DOUBLE", "enum": "VARCHAR", "set": "VARCHAR[]"}


def kb_conditions(kb: Any) -> dict[str, str]:
    """Every condition text in the KB, keyed by where it sits."""
    out: dict[str, str] = {}
    for d in kb.decisions.values():
        for o in d.options:
            for c in o.requires:
                out[f"{o.id}/requires/{c.id}"] = c.condition
            for c in o.criteria:
                out[f"{o.id}/criteria/{c.id}"] = c.condition
            for a in o.adjustments:
                out[f"{o.id}/adjustment/{a.id}"] = a.when
    for g in kb.safety.gates:
        if g.when is not None:
            out[f"gate/{g.id}"] = g.when
    for n in kb.notes.conflicts:
        out[f"conflict/{n.id}"] = n.when
    for m in kb.notes.missing_data:
        if m.when is not None:
            out[f"missing/{m.fact}"] = m.when
    for t in kb.trials.values():
        for e in t.eligibility:
            if e.condition is not None:
                out[f"trial/{t.id}/{e.id}"] = e.condition
    return out


def _cell(kind: str, v: Any) -> Any:
    if v is None:
        return None
    if kind == "set":
        return sorted(v)
    if kind == "number":
        return float(v)
    return v


@pytest.fixture(scope="module")
def fact_rows():
    raws = random_patients(200, seed=9090) + crafted_pool()
    return [derive_facts(parse_patient(r)).values for r in raws]


@pytest.fixture(scope="module")
def facts_db(fact_rows):
    names = sorted(FACT_TYPES)
    con = duckdb.connect()
    cols = ", ".join(f'"{n}" {_SQL_TYPE[FACT_TYPES[n].kind]}' for n in names)
    con.execute(f"CREATE TABLE facts (row_id INTEGER, {cols})")
    con.executemany(
        f"INSERT INTO facts VALUES (?, {', '.join('?' for _ in names)})",
        [[i, *(_cell(FACT_TYPES[n].kind, f.get(n)) for n in names)] for i, f in enumerate(fact_rows)],
    )
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
    got = facts_db.execute("SELECT progressed_on, tfi_months FROM facts ORDER BY row_id").fetchall()
    assert [(sorted(r["progressed_on"]), r["tfi_months"]) for r in fact_rows] == [
        (list(a), b) for a, b in got]
    nulls = facts_db.execute("SELECT count(*) FROM facts WHERE lvef_percent IS NULL").fetchone()[0]
    assert nulls > 0


def test_every_kb_condition_gives_the_same_three_valued_answer_in_sql(kb, facts_db, fact_rows):
    """For every KB condition and every patient, DuckDB(to_sql) == Python evaluate (True / False / NULL)."""
    conds = kb_conditions(kb)
    keys = sorted(conds)
    compiled = {k: compile_condition(conds[k]) for k in keys}
    select = ", ".join(f"{compiled[k].to_sql(lambda n: chr(34) + n + chr(34))} AS c{i}" for i, k in enumerate(keys))
    rows = facts_db.execute(f"SELECT row_id, {select} FROM facts ORDER BY row_id").fetchall()
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
