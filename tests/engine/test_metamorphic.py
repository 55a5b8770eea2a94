"""Metamorphic property tests: change ONE thing about a generated patient; the answer moves as the clinic requires.

The relations live in :mod:`._relations` (one function each, with its clinical source). Every relation runs

* under hypothesis on :func:`strategies.patients` (a modest ``max_examples``: the default suite), shrinking a
  failure to a small patient; and
* in the ``slow`` run over 10,000 seeded patients (:func:`strategies.random_patients`), every relation on
  every patient, counting the patients on which each relation (and each of its sub-cases, its *tags*) was
  actually exercised and asserting a minimum per tag, so that no relation passes vacuously.

A relation that fails is a finding for the engine: the test stays failing (no xfail, no skip).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mbcpath.kb import load_kb
from strategies import patients, random_patients

from ._relations import RELATIONS, Relation, run_case

BY_NAME = {r.name: r for r in RELATIONS}
SLOW_PATIENTS = 10_000
SLOW_SEED = 20261208
MAX_SHOWN = 8

DEFAULT_SETTINGS = settings(max_examples=20, deadline=None,
                            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _rng(relation: Relation, raw: dict[str, Any]) -> random.Random:
    """The relation's own seeded stream for one patient (reproducible, independent of the other relations)."""
    return random.Random(f"{relation.name}/{raw['id']}")


# ----------------------------------------------------------------------------- default suite (hypothesis)
@pytest.mark.parametrize("name", sorted(BY_NAME))
@DEFAULT_SETTINGS
@given(raw=patients(), seed=st.integers(0, 2**32 - 1))
def test_relation_holds_for_generated_patients(name, raw, seed):
    """The relation holds for a hypothesis-generated patient (shrunk to a small one when it does not)."""
    kb = load_kb()  # cached; not a fixture argument, which hypothesis would print with a failing example
    case = run_case(raw, kb)
    outcome = BY_NAME[name].run(case, random.Random(seed), kb)
    assert outcome.violations == [], f"{name} on {raw}: {outcome.violations}"


def test_every_relation_is_registered_once_with_minimums():
    """Each relation has a unique name, a docstring (its clinical statement) and at least one counted tag."""
    assert len(BY_NAME) == len(RELATIONS) >= 13
    for r in RELATIONS:
        assert r.run.__doc__ and r.minimum and all(n > 0 for n in r.minimum.values()), r.name


# ----------------------------------------------------------------------------- slow: 10,000 seeded patients
@pytest.fixture(scope="module")
def slow_run(kb):
    """Every relation on every one of the 10,000 seeded patients: exercised tags and violations per relation."""
    tags: dict[str, Counter[str]] = {r.name: Counter() for r in RELATIONS}
    found: dict[str, list[str]] = {r.name: [] for r in RELATIONS}
    for raw in random_patients(SLOW_PATIENTS, seed=SLOW_SEED):
        case = run_case(raw, kb)
        for r in RELATIONS:
            outcome = r.run(case, _rng(r, raw), kb)
            tags[r.name].update(outcome.tags)
            found[r.name] += [f"{raw['id']}: {v}" for v in outcome.violations]
    return tags, found


@pytest.mark.slow
@pytest.mark.xdist_group("metamorphic-slow")
@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_relation_holds_for_ten_thousand_seeded_patients(name, slow_run):
    """Over 10,000 seeded patients the relation is exercised at least its minimum times and never violated."""
    tags, found = slow_run
    exercised = tags[name]
    short = {tag: (exercised[tag], least) for tag, least in BY_NAME[name].minimum.items() if exercised[tag] < least}
    assert short == {}, f"{name} exercised too rarely (tag: (patients, minimum)): {short}; all: {dict(exercised)}"
    violations = found[name]
    patients_hit = len({v.split(":", 1)[0] for v in violations})
    assert violations == [], (f"{name}: {len(violations)} violations in {patients_hit} of the {SLOW_PATIENTS} "
                              f"patients (exercised {dict(exercised)}); first: {violations[:MAX_SHOWN]}")
