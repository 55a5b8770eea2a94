"""The SQL compiler refuses plan features it does not express, naming them, instead of approximating."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from mbcpath.analytics.sqlplan import PlanNotExpressible, compile_sql, render
from mbcpath.engine.core import plan_for


def test_the_shipped_plan_compiles_for_both_dialects(kb):
    compiled = compile_sql(plan_for(kb))
    duck = render(compiled, "duckdb")
    spark = render(compiled, "spark")
    assert "list_contains" in duck.d_sql and "ARRAY_CONTAINS" in spark.d_sql
    assert len(spark.c_rows) == sum(len(v) for v in plan_for(kb).candidates.values())
    assert compiled.stop_keys and compiled.warn_keys


def test_an_added_component_of_one_fixed_drug_is_refused(kb):
    plan = plan_for(kb)
    dp, cands = next((dp, cs) for dp, cs in plan.candidates.items()
                     if any(g.effect == "add_component" for c in cs for g in c.gates or ()))
    cand = next(c for c in cands if any(g.effect == "add_component" for g in c.gates or ()))
    gates = tuple(g.model_copy(update={"component": g.component.model_copy(update={"drug": "goserelin",
                                                                                   "choices": None})})
                  if g.effect == "add_component" else g for g in cand.gates)
    changed = dataclasses.replace(cand, gates=gates)
    bad = dataclasses.replace(plan, candidates=MappingProxyType(
        {**plan.candidates, dp: tuple(changed if c is cand else c for c in cands)}))
    with pytest.raises(PlanNotExpressible, match="one fixed drug"):
        compile_sql(bad)
