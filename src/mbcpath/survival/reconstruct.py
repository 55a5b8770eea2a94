"""Reconstruct pseudo individual patient data from a digitised Kaplan-Meier curve.

A clean-room implementation of the algorithm of Guyot et al. (2012), written
from its published description (summarised in the project's
evidence-synthesis reference, section 1.2), not from any of the GPL R
implementations.

Input per arm: digitised (time, survival) clicks, the published numbers at risk
(time, n_at_risk) and optionally the total number of events. Output: one row per
patient, (time, event).

The algorithm, per numbers-at-risk interval ``i`` (clicks ``lower[i]..upper[i]``):

1. guess the censored count ``nc = round(n_i S[lower_{i+1}]/S[lower_i] - n_{i+1})``;
2. spread ``nc`` censorings evenly over the interval, then walk the clicks
   computing events ``d_k = round(n_k (1 - S_k / K_last))`` and the
   reconstructed KM ``K_k = K_last (1 - d_k / n_k)``, where ``last`` is the
   latest click with an event;
3. correct ``nc`` by the gap between the reconstructed and the published
   number at risk at the next interval and repeat until they agree (if they
   cannot, the reconstructed number replaces the published one);
4. the last interval gets censoring at the average rate of the earlier ones,
   and, if the total of events is known, its censoring is adjusted until the
   events add up.

Events are placed at the click times, censorings at the midpoint between
clicks, and everyone left is censored at the last click.

References
----------
Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of
survival data: reconstructing the data from published Kaplan-Meier survival
curves. BMC Med Res Methodol 2012;12:9. doi:10.1186/1471-2288-12-9
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mbcpath.errors import ModelError

#: a digitised survival value may rise by this much before the curve is rejected
RISE_TOLERANCE = 0.02
#: largest survival value accepted (digitisation noise above 1)
MAX_SURVIVAL = 1.02
_MAX_ITER = 10_000

__all__ = [
    "MAX_SURVIVAL",
    "RISE_TOLERANCE",
    "Reconstruction",
    "read_curve_csv",
    "read_nar_csv",
    "reconstruct",
    "write_ipd_csv",
]


@dataclass
class Reconstruction:
    """Pseudo-IPD and the reconstruction's bookkeeping.

    Attributes
    ----------
    time, event : one row per patient (event 1 = event, 0 = censored).
    click_time, click_survival : the cleaned clicks used.
    km : reconstructed KM at each click.
    n_risk_used : numbers at risk per interval after any overwrite.
    events_per_interval, censored_per_interval : reconstructed counts.
    notes : what preprocessing changed or which published numbers could not be matched.
    """

    time: NDArray[np.float64]
    event: NDArray[np.int64]
    click_time: NDArray[np.float64]
    click_survival: NDArray[np.float64]
    km: NDArray[np.float64]
    nar_time: NDArray[np.float64]
    n_risk_used: NDArray[np.int64]
    events_per_interval: NDArray[np.int64]
    censored_per_interval: NDArray[np.int64]
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.time.size)

    @property
    def events(self) -> int:
        return int(self.event.sum())

    @property
    def censored(self) -> int:
        return self.n - self.events

    def summary(self) -> str:
        """``n=61 events=23 censored=38``."""
        return f"n={self.n} events={self.events} censored={self.censored}"


# ----------------------------------------------------------------- validation
def _validate_curve(t: NDArray[np.float64], s: NDArray[np.float64], where: str) -> None:
    if t.size == 0:
        raise ModelError(f"{where}: no digitised points; at least one (time, survival) pair is needed")
    if t.size != s.size:
        raise ModelError(f"{where}: column 'survival' has {s.size} values for {t.size} times; "
                         "one survival value per time")
    bad_t = ~np.isfinite(t)
    if bad_t.any():
        raise ModelError(f"{where}: column 'time' = {t[bad_t][0].item()!r}: times must be finite numbers")
    bad_s = ~np.isfinite(s)
    if bad_s.any():
        raise ModelError(f"{where}: column 'survival' = {s[bad_s][0].item()!r}: survival must be a finite number")
    if (t < 0).any():
        raise ModelError(f"{where}: column 'time' = {t[t < 0][0]:g}: times must be >= 0")
    out = (s < 0) | (s > MAX_SURVIVAL)
    if out.any():
        raise ModelError(f"{where}: column 'survival' = {s[out][0]:g}: survival must be a proportion in [0, 1] "
                         f"(up to {MAX_SURVIVAL} for digitisation noise); divide percentages by 100")
    order = np.argsort(t, kind="stable")
    ts, ss = t[order], s[order]
    running = np.minimum.accumulate(ss)
    rise = ss[1:] - running[:-1]
    if (rise > RISE_TOLERANCE).any():
        k = int(np.argmax(rise > RISE_TOLERANCE)) + 1
        prev = int(np.argmin(ss[:k]))
        raise ModelError(
            f"{where}: column 'survival' = {ss[k]:g} at time {ts[k]:g}: survival rises from {ss[prev]:g} at time "
            f"{ts[prev]:g} by more than the digitisation tolerance {RISE_TOLERANCE}; a survival curve "
            "cannot rise (check the clicks or the column order)")


def _validate_nar(t: NDArray[np.float64], n: NDArray[np.float64], where: str) -> None:
    if t.size == 0:
        raise ModelError(f"{where}: no numbers at risk; at least the number at time 0 is needed")
    if t.size != n.size:
        raise ModelError(f"{where}: column 'n_at_risk' has {n.size} values for {t.size} times; one number per time")
    if (~np.isfinite(t)).any():
        raise ModelError(f"{where}: column 'time' = {t[~np.isfinite(t)][0].item()!r}: times must be finite numbers")
    if (t < 0).any():
        raise ModelError(f"{where}: column 'time' = {t[t < 0][0]:g}: times must be >= 0")
    if (~np.isfinite(n)).any() or (n < 0).any() or (np.round(n) != n).any():
        bad = n[(~np.isfinite(n)) | (n < 0) | (np.round(n) != n)][0].item()
        raise ModelError(f"{where}: column 'n_at_risk' = {bad!r}: numbers at risk must be whole numbers >= 0")
    d = np.diff(t)
    if (d <= 0).any():
        k = int(np.argmax(d <= 0)) + 1
        raise ModelError(f"{where}: column 'time' = {t[k]:g} after {t[k - 1]:g}: times in the numbers-at-risk table "
                         "must be strictly increasing")
    if t[0] != 0:
        raise ModelError(f"{where}: column 'time' = {t[0]:g}: the first number at risk must be at time 0 "
                         "(the number of patients in the arm)")
    g = np.diff(n)
    if (g > 0).any():
        k = int(np.argmax(g > 0)) + 1
        raise ModelError(f"{where}: column 'n_at_risk' = {int(n[k])} at time {t[k]:g}: numbers at risk grow from "
                         f"{int(n[k - 1])} at time {t[k - 1]:g}; they can only fall over time")
    if n[0] <= 0:
        raise ModelError(f"{where}: column 'n_at_risk' = {int(n[0])} at time 0: the arm needs at least one patient")


def _preprocess(t: NDArray[np.float64], s: NDArray[np.float64], notes: list[str]
                ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    order = np.argsort(t, kind="stable")
    t, s = t[order], np.clip(s[order], 0.0, 1.0)
    mono = np.minimum.accumulate(s)
    if (mono < s).any():
        notes.append(f"{int((mono < s).sum())} click(s) above an earlier one lowered (monotone fix)")
    s = mono
    if t[0] > 0 or s[0] < 1:
        if t[0] == 0:
            s = s.copy()
            s[0] = 1.0
        else:
            t, s = np.concatenate([[0.0], t]), np.concatenate([[1.0], s])
        notes.append("(0, 1) added as the first point")
    return t, s


# --------------------------------------------------------------------- core
def _spread(lo_t: float, hi_t: float, nc: int, edges: NDArray[np.float64], nbins: int) -> NDArray[np.int64]:
    """Counts of ``nc`` evenly spaced censoring times in right-closed bins between ``edges``."""
    out = np.zeros(nbins, dtype=np.int64)
    if nc <= 0 or nbins == 0:
        return out
    times = lo_t + np.arange(1, nc + 1) * (hi_t - lo_t) / (nc + 1)
    idx = np.searchsorted(edges, times, side="left") - 1  # (e_j, e_{j+1}] -> j ; x == e_0 -> -1
    idx = np.clip(idx, 0, nbins - 1)
    np.add.at(out, idx, 1)
    return out


def _walk(k0: int, k1: int, first: bool, n_start: int, s: NDArray[np.float64], cen: NDArray[np.int64],
          d: NDArray[np.int64], km: NDArray[np.float64], nhat: NDArray[np.float64], last: int) -> int:
    """Events, KM and at-risk numbers for clicks k0..k1; returns the new ``last``."""
    nhat[k0] = n_start
    for k in range(k0, k1 + 1):
        if first and k == 0:
            d[k] = 0
            km[k] = 1.0
        elif nhat[k] <= 0:
            d[k] = 0
            km[k] = km[last]
        else:
            ratio = s[k] / km[last] if km[last] > 0 else 0.0
            dk = math.floor(nhat[k] * (1.0 - ratio) + 0.5)  # round half up
            d[k] = min(max(dk, 0), int(nhat[k]))
            km[k] = km[last] * (1.0 - d[k] / nhat[k])
        if cen[k] > nhat[k] - d[k]:  # never censor more than remain
            cen[k] = max(int(nhat[k] - d[k]), 0)
        nhat[k + 1] = nhat[k] - d[k] - cen[k]
        if d[k] != 0:
            last = k
    return last


@dataclass
class _Guyot:
    """The state of one reconstruction: clicks, interval bounds and the per-click counts being built."""

    t: NDArray[np.float64]
    s: NDArray[np.float64]
    tr: NDArray[np.float64]
    nr: NDArray[np.int64]
    lower: NDArray[np.int64]
    upper: NDArray[np.int64]
    notes: list[str]
    d: NDArray[np.int64] = field(init=False)
    cen: NDArray[np.int64] = field(init=False)
    km: NDArray[np.float64] = field(init=False)
    nhat: NDArray[np.float64] = field(init=False)
    nc_int: NDArray[np.int64] = field(init=False)
    last: int = 0

    def __post_init__(self) -> None:
        nt = self.t.size
        self.d = np.zeros(nt, dtype=np.int64)
        self.cen = np.zeros(nt, dtype=np.int64)
        self.km = np.ones(nt, dtype=np.float64)
        self.nhat = np.zeros(nt + 1, dtype=np.float64)
        self.nc_int = np.zeros(self.tr.size, dtype=np.int64)

    @property
    def m(self) -> int:
        return int(self.tr.size)

    def interval(self, i: int) -> None:
        """Censoring in interval i (not the last) adjusted until the next number at risk is met."""
        t, s, nr = self.t, self.s, self.nr
        lo, hi, nxt = int(self.lower[i]), int(self.upper[i]), int(self.lower[i + 1])
        s_lo = s[lo] if s[lo] > 0 else 1e-12
        nc = math.floor(nr[i] * s[nxt] / s_lo - nr[i + 1] + 0.5)
        edges = t[lo:nxt + 1]
        start_last = self.last
        for _ in range(_MAX_ITER):
            nc = max(nc, 0)
            self.cen[lo:hi + 1] = _spread(t[lo], t[nxt], nc, edges, hi - lo + 1)
            self.last = _walk(lo, hi, i == 0, int(nr[i]), s, self.cen, self.d, self.km, self.nhat, start_last)
            gap = int(self.nhat[nxt] - nr[i + 1])
            new_nc = max(nc + gap, 0)
            if gap == 0 or (gap < 0 and nc == 0) or new_nc == nc:
                break
            nc = new_nc
        self.nc_int[i] = int(self.cen[lo:hi + 1].sum())
        self._reconcile(i, nxt)

    def _reconcile(self, i: int, nxt: int) -> None:
        got, want = int(self.nhat[nxt]), int(self.nr[i + 1])
        if got < want:
            self.notes.append(f"number at risk {want} at time {self.tr[i + 1]:g} not reachable; {got} used")
            self.nr[i + 1] = got
        elif got > want:
            self.notes.append(f"number at risk {want} at time {self.tr[i + 1]:g} not matched ({got} reconstructed)")

    def _last_censoring(self) -> int:
        """Censorings in the last interval at the average rate of the earlier intervals."""
        m, t = self.m, self.t
        if m == 1:
            return 0
        lo, hi = int(self.lower[m - 1]), int(self.upper[m - 1])
        span_before = t[int(self.upper[m - 2])] - t[int(self.lower[0])]
        rate_nc = self.nc_int[: m - 1].sum() * (t[hi] - t[lo]) / span_before if span_before > 0 else 0.0
        return min(math.floor(rate_nc + 0.5), int(self.nr[m - 1]))

    def _run_last(self, nc: int, start_last: int) -> None:
        m = self.m
        lo, hi = int(self.lower[m - 1]), int(self.upper[m - 1])
        self.cen[lo:hi + 1] = 0
        if nc > 0 and hi > lo:
            self.cen[lo:hi] = _spread(self.t[lo], self.t[hi], nc, self.t[lo:hi + 1], hi - lo)
        self.last = _walk(lo, hi, m == 1, int(self.nr[m - 1]), self.s, self.cen, self.d, self.km, self.nhat,
                          start_last)

    def last_interval(self, total_events: int | None) -> None:
        """The last interval; with the reported total events, its censoring is adjusted to match them."""
        start_last = self.last
        nc = self._last_censoring()
        self._run_last(nc, start_last)
        if total_events is None:
            return
        lo, hi = int(self.lower[self.m - 1]), int(self.upper[self.m - 1])
        before = int(self.d[:lo].sum())
        if before >= total_events:
            self.d[lo:hi + 1] = 0
            self.cen[lo:hi + 1] = 0
            self.km[lo:hi + 1] = self.km[start_last]
            if before > total_events:
                self.notes.append(f"{before} events reconstructed before the last interval exceed the reported "
                                  f"{total_events}")
            return
        for _ in range(_MAX_ITER):
            diff = int(self.d.sum()) - total_events
            new_nc = min(max(nc + diff, 0), int(self.nr[self.m - 1]))
            if diff == 0 or new_nc == nc:
                break
            nc = new_nc
            self._run_last(nc, start_last)
        if int(self.d.sum()) != total_events:
            self.notes.append(f"total events {int(self.d.sum())} could not be matched to the reported {total_events}")

    def result(self, n0: int) -> Reconstruction:
        """Pseudo-IPD: events at clicks, censorings at midpoints, the rest censored at the last click."""
        t, d, cen, m = self.t, self.d, self.cen, self.m
        ev_int = np.array([int(d[self.lower[i]:self.upper[i] + 1].sum()) for i in range(m)], dtype=np.int64)
        ce_int = np.array([int(cen[self.lower[i]:self.upper[i] + 1].sum()) for i in range(m)], dtype=np.int64)
        mid = np.append((t[:-1] + t[1:]) / 2, t[-1])
        times = [np.repeat(t, d), np.repeat(mid, cen)]
        events = [np.ones(int(d.sum()), dtype=np.int64), np.zeros(int(cen.sum()), dtype=np.int64)]
        rest = n0 - int(d.sum()) - int(cen.sum())
        if rest > 0:
            times.append(np.full(rest, t[-1]))
            events.append(np.zeros(rest, dtype=np.int64))
        elif rest < 0:
            self.notes.append(f"{-rest} more patients reconstructed than the {n0} at time 0")
        time_out = np.concatenate(times)
        event_out = np.concatenate(events)
        order = np.lexsort((1 - event_out, time_out))
        return Reconstruction(time=time_out[order], event=event_out[order], click_time=t, click_survival=self.s,
                              km=self.km, nar_time=self.tr, n_risk_used=self.nr, events_per_interval=ev_int,
                              censored_per_interval=ce_int, notes=self.notes)


def _intervals(t: NDArray[np.float64], tr: NDArray[np.float64], nr_in: NDArray[np.float64], notes: list[str],
               where: str) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Interval bounds (0-based): lower = first click >= t_risk, upper = last click < next t_risk; intervals
    without a click are dropped."""
    nt = t.size
    lower = np.searchsorted(t, tr, side="left")
    upper = np.append(lower[1:] - 1, nt - 1)
    keep = (lower <= upper) & (lower < nt)
    if not keep.all():
        notes.append(f"numbers at risk at {tr[~keep].tolist()} dropped: no digitised point in their interval")
    tr, nr = tr[keep], nr_in[keep].astype(np.int64)
    lower, upper = lower[keep], np.append(lower[keep][1:] - 1, nt - 1)
    if tr.size == 0 or lower[0] != 0:
        raise ModelError(f"{where}: no digitised point at or after time 0 in the first numbers-at-risk interval")
    return tr, nr, lower, upper


def _check_total(total_events: int | None, n0: float) -> int | None:
    if total_events is None:
        return None
    if int(total_events) != total_events or total_events < 0 or total_events > n0:
        raise ModelError(f"total_events = {total_events!r}: must be a whole number between 0 and the "
                         f"{int(n0)} patients at time 0")
    return int(total_events)


def reconstruct(click_time: ArrayLike, click_survival: ArrayLike, nar_time: ArrayLike,
                n_at_risk: ArrayLike, total_events: int | None = None, *, where: str = "curve") -> Reconstruction:
    """Reconstruct pseudo-IPD from digitised KM clicks and numbers at risk (Guyot 2012).

    Parameters
    ----------
    click_time, click_survival : digitised points; survival as proportions
        (values up to 1.02 are accepted as digitisation noise and clipped to 1).
    nar_time, n_at_risk : the published numbers-at-risk table; the first time
        must be 0. With only the time-0 row the algorithm runs without
        intermediate numbers at risk (events are then overestimated when
        censoring was heavy: treat such reconstructions as low-grade evidence).
    total_events : the published number of events, if reported.
    where : a label for error messages (file name or arm).

    Returns
    -------
    Reconstruction

    Raises
    ------
    ModelError
        For input that cannot be a survival curve: no points, negative or
        non-finite times, survival outside [0, 1.02], survival rising by more
        than 0.02, numbers at risk that grow, NAR times out of order or not
        starting at 0, or total events larger than the number of patients.

    References
    ----------
    Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of
    survival data: reconstructing the data from published Kaplan-Meier
    survival curves. BMC Med Res Methodol 2012;12:9.
    """
    t_in = np.asarray(click_time, dtype=np.float64).ravel()
    s_in = np.asarray(click_survival, dtype=np.float64).ravel()
    tr_in = np.asarray(nar_time, dtype=np.float64).ravel()
    nr_in = np.asarray(n_at_risk, dtype=np.float64).ravel()
    _validate_curve(t_in, s_in, where)
    _validate_nar(tr_in, nr_in, f"{where} numbers at risk")
    total = _check_total(total_events, nr_in[0])
    notes: list[str] = []
    t, s = _preprocess(t_in, s_in, notes)
    tr, nr, lower, upper = _intervals(t, tr_in, nr_in, notes, where)
    g = _Guyot(t=t, s=s, tr=tr, nr=nr, lower=lower, upper=upper, notes=notes)
    for i in range(g.m - 1):
        g.interval(i)
    g.last_interval(total)
    return g.result(int(nr_in[0]))


# -------------------------------------------------------------------- CSV I/O
def _read_columns(path: str | Path, columns: Sequence[str]) -> list[NDArray[np.float64]]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise ModelError(f"{p}: cannot read ({err.strerror})") from None
    rows = list(csv.reader(line for line in text.splitlines() if line.strip()))
    if not rows:
        raise ModelError(f"{p}: empty file; expected a header '{','.join(columns)}' and at least one row")
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ModelError(f"{p}: column '{missing[0]}' is missing (header {rows[0]}); expected columns "
                         f"{', '.join(columns)}")
    idx = [header.index(c) for c in columns]
    out: list[list[float]] = [[] for _ in columns]
    for r, row in enumerate(rows[1:], start=2):
        for j, c in zip(idx, range(len(columns)), strict=True):
            cell = row[j].strip() if j < len(row) else ""
            try:
                out[c].append(float(cell))
            except ValueError:
                raise ModelError(f"{p}: line {r}, column '{columns[c]}' = {cell!r}: not a number") from None
    if not out[0]:
        raise ModelError(f"{p}: no data rows below the header; at least one row is needed")
    return [np.array(col, dtype=np.float64) for col in out]


def read_curve_csv(path: str | Path) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Read digitised clicks from a CSV with columns ``time,survival``."""
    t, s = _read_columns(path, ("time", "survival"))
    _validate_curve(t, s, str(path))
    return t, s


def read_nar_csv(path: str | Path) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Read a numbers-at-risk table from a CSV with columns ``time,n_at_risk``."""
    t, n = _read_columns(path, ("time", "n_at_risk"))
    _validate_nar(t, n, str(path))
    return t, n


def write_ipd_csv(rec: Reconstruction, path: str | Path) -> None:
    """Write the pseudo-IPD as CSV with columns ``time,event``."""
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["time", "event"])
        for ti, ei in zip(rec.time.tolist(), rec.event.tolist(), strict=True):
            w.writerow([f"{ti:.6g}", int(ei)])
