"""Plans of the KB as of a date are shared between days the KB's view cannot tell apart, and only those."""

from __future__ import annotations

import datetime as dt

from mbcpath.domain.validation import parse_patient
from mbcpath.engine.core import plan_for, recommend
from mbcpath.kb.history import change_dates, kb_as_of

from ._patients import base


def test_days_between_two_change_dates_share_one_plan_and_answer_alike(kb):
    changes = change_dates(kb)
    assert len(changes) > 10 and changes == sorted(set(changes))
    a, b = changes[-3], changes[-2]
    first, last = a, b - dt.timedelta(days=1)
    assert first < last, "two distinct days inside one interval"
    assert plan_for(kb, first) is plan_for(kb, last)
    assert plan_for(kb, b) is not plan_for(kb, last)
    patient = parse_patient(base())
    one, other = recommend(patient, kb, as_of=first), recommend(patient, kb, as_of=last)
    assert [o.regimen_id for o in one.options] == [o.regimen_id for o in other.options]
    assert (one.as_of, other.as_of) == (first.isoformat(), last.isoformat())


def test_the_shared_plan_is_the_view_of_its_own_day(kb):
    """Sharing never changes an answer: the plan reused for a day equals the one compiled for that day alone."""
    from mbcpath.engine.plan import compile_plan

    changes = change_dates(kb)
    day = changes[len(changes) // 2] + dt.timedelta(days=1)
    fresh = compile_plan(kb_as_of(kb, day))
    shared = plan_for(kb, day)
    def rules(plan):
        return {dp: [c.rule_id for c in cands] for dp, cands in plan.candidates.items()}

    assert rules(shared) == rules(fresh)
    assert set(shared.kb.trials) == set(fresh.kb.trials)
