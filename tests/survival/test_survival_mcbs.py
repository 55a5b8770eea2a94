"""ESMO-MCBS v1.1: the five published HER2+ scores from the KB trial files, and the grade tables."""

from __future__ import annotations

import pytest

from mbcpath.errors import ModelError
from mbcpath.survival.mcbs import (
    adjustment,
    mcbs_for_trial,
    parse_published_adjustments,
    score_form_2a,
    score_form_2b,
    score_form_3,
)

from .conftest import load_trial

PUBLISHED = [
    # file, form, preliminary, adjustments (name, delta), final score (ESMO scorecards 4, 3, 342, 167, 164)
    ("cleopatra", "2a", 4, [], 4),
    ("emilia", "2b", 3, [("qol", 1)], 4),
    ("destiny-breast03", "2b", 3, [("plateau", 1)], 4),
    ("her2climb", "2a", 4, [], 4),
    ("destiny-breast01", "3", 3, [("toxicity", -1)], 2),
]


@pytest.mark.parametrize(("name", "form", "preliminary", "adjustments", "score"), PUBLISHED)
def test_published_scores_are_reproduced(name, form, preliminary, adjustments, score):
    """mcbs_for_trial reproduces the published scorecard from the KB endpoint records."""
    trial = load_trial(name)
    result = mcbs_for_trial(trial)
    assert result.form == form
    assert result.preliminary == preliminary
    assert [(a.name, a.delta) for a in result.adjustments] == adjustments
    assert result.score == score == trial.esmo_mcbs.score
    assert result.published_score == trial.esmo_mcbs.score
    assert result.sources, "the score cites the endpoint record's sources"


def test_result_json_has_score_preliminary_adjustments():
    """The JSON carries score, preliminary and each adjustment with name, delta and reason."""
    import json

    data = json.loads(mcbs_for_trial(load_trial("emilia")).model_dump_json())
    assert data["score"] == 4 and data["preliminary"] == 3
    assert data["adjustments"][0]["name"] == "qol" and data["adjustments"][0]["delta"] == 1
    assert "scorecard 3" in data["adjustments"][0]["reason"]


@pytest.mark.parametrize(("control", "experimental", "hr_lower", "grade"), [
    (10.0, 13.0, 0.65, 4),   # <= 12 months: HR <= 0.65 and gain >= 3
    (10.0, 12.5, 0.60, 3),   # gain 2 - < 3
    (10.0, 11.6, 0.60, 2),   # gain 1.5 - < 2
    (10.0, 12.0, 0.68, 2),   # HR 0.65 - 0.70, gain >= 1.5
    (10.0, 15.0, 0.72, 1),   # HR > 0.70
    (19.2, 24.7, 0.59, 4),   # > 12 and <= 24: HR <= 0.70 and gain >= 5 (HER2CLIMB)
    (19.2, 23.0, 0.59, 3),   # gain 3 - < 5
    (19.2, 21.0, 0.74, 2),   # HR 0.70 - 0.75, gain >= 1.5
    (19.2, 30.0, 0.76, 1),   # HR > 0.75
    (40.8, 57.1, 0.58, 4),   # > 24: HR <= 0.70 and gain >= 9 (CLEOPATRA)
    (25.1, 30.9, 0.55, 2),   # gain 4 - < 6 (EMILIA OS)
    (25.1, 32.0, 0.55, 3),   # gain 6 - < 9
    (25.1, 28.0, 0.55, 1),   # gain < 4
])
def test_form_2a_grid(control, experimental, hr_lower, grade):
    """Form 2a dual rule on the HR lower limit and the median gain, by control-median band."""
    assert score_form_2a(control, experimental, hr_lower).preliminary == grade


def test_form_2a_tail_rule_and_cap():
    """A >= 10-point landmark OS gain earns grade 4; upgrades can reach 5 on form 2a but never beyond."""
    r = score_form_2a(25.0, 28.0, 0.60, landmark_gain=0.12)
    assert r.preliminary == 4 and "tail of the curve" in r.rationale[1]
    r = score_form_2a(40.8, 57.1, 0.58, adjustments=[adjustment("qol"), adjustment("plateau")])
    assert r.score == 5
    low = score_form_2a(10.0, 10.5, 0.9, adjustments=[adjustment("toxicity")])
    assert low.preliminary == 1 and low.score == 1


@pytest.mark.parametrize(("control", "experimental", "hr_lower", "grade"), [
    (4.9, 7.6, 0.47, 3),     # <= 6: HR <= 0.65 and gain >= 1.5
    (4.9, 6.2, 0.47, 1),     # gain < 1.5
    (4.9, 6.5, 0.70, 2),     # HR 0.65 - 0.75 and gain >= 1.5
    (6.4, 9.6, 0.55, 3),     # > 6: HR <= 0.65 and gain >= 3 (EMILIA)
    (6.4, 8.0, 0.55, 2),     # gain 1.5 - < 3
    (6.4, 12.0, 0.80, 1),    # HR > 0.75
])
def test_form_2b_grid(control, experimental, hr_lower, grade):
    """Form 2b dual rule (maximal preliminary grade 3)."""
    assert score_form_2b(control, experimental, hr_lower).preliminary == grade


def test_form_2b_final_cap_is_4():
    """Form 2b scores are capped at 4 even with two upgrades; the PFS-only downgrade applies."""
    r = score_form_2b(6.8, 28.8, 0.26, adjustments=[adjustment("qol"), adjustment("plateau")])
    assert r.score == 4 and "capped" in r.rationale[-1]
    assert score_form_2b(6.8, 28.8, 0.26, adjustments=[adjustment("pfs_only_no_qol")]).score == 2


@pytest.mark.parametrize(("kwargs", "grade"), [
    ({"orr": 60.9, "dor": 14.8}, 3),
    ({"orr": 45.0, "dor": 10.0}, 3),
    ({"orr": 45.0, "dor": 5.0}, 2),
    ({"orr": 25.0, "dor": 7.0}, 2),
    ({"orr": 25.0, "dor": 4.0}, 1),
    ({"orr": 15.0, "dor": 7.0}, 1),
    ({"pfs": 4.0}, 2),
])
def test_form_3_grid(kwargs, grade):
    """Form 3 (single arm): ORR with duration of response, or PFS."""
    assert score_form_3(**kwargs).preliminary == grade


def test_form_3_rejects_no_benefit():
    with pytest.raises(ModelError, match="below the lowest form 3 grade"):
        score_form_3(orr=5.0)
    with pytest.raises(ModelError, match="needs an ORR"):
        score_form_3()


def test_bad_inputs_name_the_field():
    with pytest.raises(ModelError, match="control_median = 'NR'"):
        score_form_2a("NR", 20.0, 0.6)  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="adjustment = 'luck'"):
        adjustment("luck")


def test_parse_published_adjustments():
    """Signed adjustments are read from the scorecard text; HR intervals like 0.26-0.43 are not adjustments."""
    adj = parse_published_adjustments("+1 for long-term plateau. PFS HR 0.33 (0.26-0.43); -1 for toxicity", "342")
    assert [(a.name, a.delta) for a in adj] == [("plateau", 1), ("toxicity", -1)]
    assert parse_published_adjustments("None (QoL was exploratory).") == []


@pytest.mark.parametrize("trial", ["DESTINY-Breast09", "PATINA", "HER2CLIMB-05"])
def test_new_trials_are_computed_without_a_published_scorecard(trial):
    """DESTINY-Breast09, PATINA and HER2CLIMB-05 have no scorecard: form 2b, grade 3 from the dual rule
    (HR lower limit <= 0.65 and a gain >= 3 months with a control median > 6), marked computed, with the
    adjustments it cannot judge listed and none applied."""
    from mbcpath.kb import load_kb
    from mbcpath.survival.mcbs import mcbs_for_trial

    r = mcbs_for_trial(load_kb().trial(trial))
    assert (r.form, r.preliminary, r.score, r.published_score) == ("2b", 3, 3, None)
    assert r.status == "computed, no published scorecard" and r.adjustments == []
    assert any("no adjustment is applied" in n for n in r.notes)
