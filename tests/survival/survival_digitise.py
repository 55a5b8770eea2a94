"""Simulated digitisation of a known Kaplan-Meier curve (helpers for the accuracy tests).

Protocol (after the evidence-synthesis reference, section 1.5 / 8): take the KM step corners
(t_i, S(t_i-)) and (t_i, S(t_i)), thin them to a few dozen clicks evenly spaced along the
drawn curve (arc length in axis-normalised units, as a person tracing the figure would),
add Gaussian noise to both axes (SD ``sd_t`` x the time axis length, ``sd_s`` in S),
clamp, sort and make monotone; numbers at risk every ``nar_step`` time units.
"""

from __future__ import annotations

import numpy as np


def km_corners(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both corners of every KM step, plus (0, 1) and the end of follow-up."""
    order = np.argsort(time, kind="stable")
    t, e = time[order], event[order]
    uniq = np.unique(t[e == 1])
    s = 1.0
    ts, ss = [0.0], [1.0]
    for u in uniq:
        n_risk = np.sum(t >= u)
        d = np.sum((t == u) & (e == 1))
        ts.append(u)
        ss.append(s)
        s *= 1 - d / n_risk
        ts.append(u)
        ss.append(s)
    ts.append(float(t.max()))
    ss.append(s)
    return np.array(ts), np.array(ss)


def digitise(time: np.ndarray, event: np.ndarray, *, n_clicks: int, sd_t: float, sd_s: float,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noisy clicks on the KM curve of (time, event)."""
    ct, cs = km_corners(time, event)
    # clicks evenly spaced along the drawn curve (arc length in axis-normalised units),
    # as a person tracing the figure would place them; both ends always included
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(ct) / ct.max(), np.diff(cs)))])
    targets = np.linspace(0.0, arc[-1], n_clicks)
    idx = np.unique(np.clip(np.searchsorted(arc, targets), 0, ct.size - 1))
    ct, cs = ct[idx], cs[idx]
    tmax = float(ct.max())
    ct = ct + rng.normal(0.0, sd_t * tmax, ct.size)
    cs = cs + rng.normal(0.0, sd_s, cs.size)
    ct = np.clip(ct, 0.0, tmax)
    cs = np.clip(cs, 0.0, 1.0)
    order = np.argsort(ct, kind="stable")
    ct, cs = ct[order], np.minimum.accumulate(cs[order])
    return ct, cs


def numbers_at_risk(time: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Published-style numbers at risk every ``step`` time units up to the last follow-up."""
    grid = np.arange(0.0, float(time.max()), step)
    return grid, np.array([int(np.sum(time >= g)) for g in grid])
