"""Guyot (2012) reconstruction: the survHE golden example, exact corners, and impossible curves."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mbcpath.errors import ModelError
from mbcpath.survival.reconstruct import read_curve_csv, read_nar_csv, reconstruct, write_ipd_csv

from .conftest import DATA
from .survival_digitise import km_corners


def _km_at(time, event, points):
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter().fit(time, event).survival_function_at_times(points).to_numpy()


@pytest.fixture(scope="module")
def survhe():
    t, s = read_curve_csv(DATA / "survhe_curve.csv")
    tr, nr = read_nar_csv(DATA / "survhe_nar.csv")
    return t, s, tr, nr


def test_survhe_golden_example(survhe):
    """The 31 survHE clicks reproduce the original algorithm's output (evidence-synthesis 1.6)."""
    rec = reconstruct(*survhe)
    assert (rec.n, rec.events, rec.censored) == (61, 23, 38)
    assert rec.events_per_interval.tolist() == [4, 5, 5, 5, 4]
    pts = np.array([4.0, 8.0, 12.0, 16.0, 19.0])
    assert _km_at(rec.time, rec.event, pts) == pytest.approx([0.9327, 0.8476, 0.7503, 0.5825, 0.2689], abs=5e-5)
    assert [int(np.sum(rec.time >= p)) for p in pts] == [55, 49, 32, 13, 6]


def test_survhe_with_total_events(survhe):
    """With D = 20 the last interval is adjusted until the events add up to exactly 20."""
    rec = reconstruct(*survhe, total_events=20)
    assert rec.events == 20 and rec.n == 61


def test_no_numbers_at_risk_only_n0(survhe):
    """With only N0 the algorithm runs without censoring until the end (events then overestimated)."""
    t, s, _, _ = survhe
    rec = reconstruct(t, s, [0.0], [61])
    assert rec.n == 61 and rec.events >= 23


def _exact_case():
    """A known data set: 120 patients, deterministic event and censoring times."""
    rng = np.random.default_rng(11)
    n = 120
    ev = np.round(rng.weibull(1.3, n) * 20, 1)
    cen = np.round(rng.uniform(5, 40, n), 1)
    time = np.minimum(ev, cen)
    event = (ev <= cen).astype(int)
    return time, event


def test_exact_corners_without_censoring_are_exact():
    """Exact step corners of a known KM without censoring: every event time and count is reproduced."""
    time = np.array([1.0, 2.0, 2.0, 3.5, 4.0, 4.0, 4.0, 6.0, 7.5, 9.0, 9.0, 12.0])
    event = np.ones_like(time, dtype=int)
    ct, cs = km_corners(time, event)
    grid = np.array([0.0, 3.0, 6.0, 9.0])
    rec = reconstruct(ct, cs, grid, [int(np.sum(time >= g)) for g in grid])
    assert rec.time.tolist() == sorted(time.tolist()) and rec.event.tolist() == event.tolist()


def test_exact_corners_reproduce_events_per_interval():
    """Exact step corners of a known censored KM with the true numbers at risk: each NAR interval within
    one event, the total within 4% and the KM within 0.02. (Censorings are spread evenly inside an
    interval, so the reconstructed number at risk at an event differs slightly from the truth and the
    rounding of d = n (1 - S/K) can move an event: the published algorithm is not exact here.)"""
    time, event = _exact_case()
    ct, cs = km_corners(time, event)
    grid = np.arange(0.0, time.max(), 5.0)
    nar = np.array([np.sum(time >= g) for g in grid])
    rec = reconstruct(ct, cs, grid, nar)
    edges = np.append(grid, np.inf)
    true_per = [int(np.sum(event[(time >= a) & (time < b)])) for a, b in itertools.pairwise(edges)]
    assert np.max(np.abs(rec.events_per_interval - np.array(true_per))) <= 1
    assert abs(rec.events - int(event.sum())) <= 0.04 * event.sum() and rec.n == time.size
    pts = np.arange(1.0, time.max(), 1.0)
    assert np.max(np.abs(_km_at(rec.time, rec.event, pts) - _km_at(time, event, pts))) < 0.02


def test_preprocessing_fixes_small_noise():
    """Unsorted clicks, values slightly above 1 and small rises (<= 0.02) are cleaned, with notes."""
    t = [5.0, 0.5, 2.0, 3.0, 4.0, 8.0]
    s = [0.70, 1.01, 0.90, 0.91, 0.80, 0.60]
    rec = reconstruct(t, s, [0.0, 4.0], [50, 30])
    assert rec.click_survival[0] == 1.0 and rec.click_time[0] == 0.0
    assert np.all(np.diff(rec.click_survival) <= 0)
    assert any("monotone" in n for n in rec.notes)
    assert rec.n == 50


@pytest.mark.parametrize(("curve", "nar", "message"), [
    (([0, 1, 2], [1.0, 0.8, 0.9]), ([0], [10]), "column 'survival' = 0.9 at time 2: survival rises"),
    (([0, 1, 2], [1.0, 0.9, 0.8]), ([0, 1, 2], [10, 8, 9]), "column 'n_at_risk' = 9 at time 2: numbers at risk grow"),
    (([0, 1, 2], [1.0, 0.9, 0.8]), ([0, 2, 1], [10, 8, 6]), "column 'time' = 1 after 2: times in the numbers-at-risk"),
    (([0, -1, 2], [1.0, 0.9, 0.8]), ([0], [10]), "column 'time' = -1: times must be >= 0"),
    (([0, 1, 2], [1.0, 1.3, 0.8]), ([0], [10]), "column 'survival' = 1.3: survival must be a proportion"),
    (([0, 1, 2], [100, 90, 80]), ([0], [10]), "divide percentages by 100"),
    (([], []), ([0], [10]), "no digitised points"),
    (([0, 1], [1.0, 0.9]), ([], []), "no numbers at risk"),
    (([0, 1], [1.0, 0.9]), ([1, 2], [10, 5]), "first number at risk must be at time 0"),
    (([0, 1], [1.0, 0.9]), ([0], [10.5]), "whole numbers"),
])
def test_impossible_curves_are_rejected(curve, nar, message):
    """Input that cannot be a survival curve raises ModelError naming column, value and rule."""
    with pytest.raises(ModelError, match=message):
        reconstruct(curve[0], curve[1], nar[0], nar[1])


def test_total_events_out_of_range(survhe):
    with pytest.raises(ModelError, match="total_events = 70"):
        reconstruct(*survhe, total_events=70)


def test_csv_round_trip(tmp_path, survhe):
    """CSV reader/writer: curve time,survival; NAR time,n_at_risk; output time,event."""
    rec = reconstruct(*survhe)
    out = tmp_path / "ipd.csv"
    write_ipd_csv(rec, out)
    lines = out.read_text().splitlines()
    assert lines[0] == "time,event" and len(lines) == 62
    bad = tmp_path / "bad.csv"
    bad.write_text("t,s\n0,1\n")
    with pytest.raises(ModelError, match="column 'time' is missing"):
        read_curve_csv(bad)
    bad.write_text("time,survival\n0,one\n")
    with pytest.raises(ModelError, match="line 2, column 'survival' = 'one': not a number"):
        read_curve_csv(bad)
    bad.write_text("")
    with pytest.raises(ModelError, match="empty file"):
        read_nar_csv(bad)
