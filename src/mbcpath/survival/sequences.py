"""Expected time on effective therapy across plausible treatment sequences for one patient.

A sequence starts with one of the patient's best-ranked options at the current
decision point; each next line is what the engine recommends first (rank 1 with
a PFS curve) for the same patient after progression on the lines before. Time on
each line is that option's PFS, drawn from the same curves the projections show
(:func:`mbcpath.survival.projection.option_curves`: randomised, anchored or
single-arm, with their parameter draws); a simulated patient's time on effective
therapy is the sum over the lines, restricted to a horizon. Parameter
uncertainty is carried by simulating each batch of patients under one joint
draw of every line's curve, so the 95% intervals are the spread of batch means
and medians.

Assumptions (stated in every report): every patient goes on to the next line at
progression (no death or stopping between lines), so the total is an upper
bound on time on effective therapy; lines are independent given their curves;
later-line trials enrolled patients whose earlier treatment often differed from
the sequence simulated.

References
----------
Woods B, Sideris E, Palmer S, Latimer N, Soares M. NICE DSU Technical Support
Document 19: partitioned survival analysis for decision modelling in health
care. 2017 (state-transition alternatives).
O'Hagan A, Stevenson M, Madan J. Monte Carlo probabilistic sensitivity analysis
for patient level simulation models. Health Econ 2007;16:1009-23.
Bender R, Augustin T, Blettner M. Generating survival times to simulate Cox
proportional hazards models. Stat Med 2005;24:1713-23 (inversion).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from mbcpath.errors import InputError, ModelError
from mbcpath.survival.projection import CurveDraws, option_curves

__all__ = ["LineOut", "SequenceOut", "SequenceReport", "sequence_report"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineOut(_Out):
    line: int
    regimen_id: str
    name: str
    trial: str
    basis_kind: str
    mean_months: float
    median_months: float


class SequenceOut(_Out):
    label: str
    lines: list[LineOut]
    mean_months: float = Field(..., description="expected time on effective therapy, restricted to the horizon")
    mean_ci95: tuple[float, float]
    median_months: float
    median_ci95: tuple[float, float]
    prob_beyond: dict[str, float] = Field(default_factory=dict, description="P(total > t months)")


class SequenceReport(_Out):
    patient_id: str | None
    kb_release: str | None
    decision_point: str | None
    horizon_months: float
    sequences: list[SequenceOut]
    assumptions: list[str]
    notes: list[str] = Field(default_factory=list)


def _drugs(regimen: Any) -> list[str]:
    out = []
    for c in regimen.components:
        if c.drug:
            out.append(c.drug)
        elif c.choices:
            out.append(c.choices[0])
    return out


def _after_progression(patient: Any, kb: Any, regimen_id: str, months: float, line: int) -> Any:
    """The patient ``months`` later, having progressed on ``regimen_id`` as metastatic line ``line``."""
    from mbcpath.domain.validation import parse_patient

    reg = kb.regimens.get(regimen_id)
    drugs = _drugs(reg) if reg is not None and not reg.dynamic else []
    if not drugs:
        raise ModelError(f"regimen {regimen_id!r}: no drugs to record as a treatment line")
    data = patient.model_dump(mode="json", exclude_none=True)
    for t in data.get("treatments", []):
        t["started_months_ago"] = round(t["started_months_ago"] + months, 2)
        if t.get("ended_months_ago") is not None:
            t["ended_months_ago"] = round(t["ended_months_ago"] + months, 2)
    if "metastatic_diagnosis_months_ago" in data:
        data["metastatic_diagnosis_months_ago"] = round(data["metastatic_diagnosis_months_ago"] + months, 2)
    data.setdefault("treatments", []).append({"drugs": drugs, "setting": "metastatic", "line": line,
                                              "started_months_ago": round(months, 2), "ended_months_ago": 0,
                                              "stop_reason": "progression"})
    data.pop("decision_point", None)
    try:
        return parse_patient(data)
    except InputError as err:
        raise ModelError(f"cannot build the patient after progression on {regimen_id}: {err}") from None


def _median(c: CurveDraws) -> float:
    below = np.nonzero(c.point <= 0.5)[0]
    return float(c.grid[below[0]]) if below.size else float(c.grid[-1])


def _first_with_curve(rec: Any, curves: dict[str, CurveDraws], used: set[str]) -> Any | None:
    for opt in sorted(rec.options, key=lambda o: o.rank):
        if opt.regimen_id in curves and opt.regimen_id not in used:
            return opt
    return None


def _build(patient: Any, kb: Any, engine: Any, first: Any, first_curve: CurveDraws, max_lines: int,
           notes: list[str]) -> list[CurveDraws]:
    lines = [first_curve]
    used = {first.regimen_id}
    current, regimen = patient, first.regimen_id
    line_no = _current_line(patient)
    for _ in range(max_lines - 1):
        try:
            current = _after_progression(current, kb, regimen, max(1.0, _median(lines[-1])), line_no)
        except ModelError as err:
            notes.append(str(err))
            break
        line_no += 1
        rec = engine(current, kb)
        curves = option_curves(rec, kb, patient=current)
        nxt = _first_with_curve(rec, curves, used)
        if nxt is None:
            notes.append(f"after {' -> '.join(c.label for c in lines)}: no later-line option with a PFS curve")
            break
        lines.append(curves[nxt.regimen_id])
        used.add(nxt.regimen_id)
        regimen = nxt.regimen_id
    return lines


def _current_line(patient: Any) -> int:
    lines = [t.line for t in patient.treatments if t.line is not None]
    progressed = [t for t in patient.treatments if getattr(t.stop_reason, "value", t.stop_reason) == "progression"
                  and getattr(t.setting, "value", t.setting) == "metastatic"]
    return max(lines, default=len(progressed)) + (1 if progressed else 0) if lines or progressed else 1


def _simulate(lines: Sequence[CurveDraws], n_batches: int, per_batch: int, horizon: float, seed: int
              ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    """Per-patient line times (n x k), their batch, and each line's times; inversion on each curve's grid."""
    rng = np.random.default_rng(seed)
    n = n_batches * per_batch
    times = np.empty((n, len(lines)))
    batch = np.repeat(np.arange(n_batches), per_batch)
    u = rng.random((n, len(lines)))
    for k, c in enumerate(lines):
        for b in range(n_batches):
            s = c.draws[b % c.draws.shape[0]] if c.draws is not None else c.point
            sl = slice(b * per_batch, (b + 1) * per_batch)
            # S falls from 1: invert on the reversed curve; beyond the grid, the grid end (restricted anyway)
            times[sl, k] = np.interp(-u[sl, k], -np.minimum.accumulate(s), c.grid)
    return times, batch, np.minimum(times.sum(axis=1), horizon)


def _summarise(label: str, lines: Sequence[CurveDraws], horizon: float, seed: int) -> SequenceOut:
    nb, per = 200, 250
    times, _batch, total = _simulate(lines, nb, per, horizon, seed)
    by_batch = total.reshape(nb, per)  # batches are contiguous and of equal size
    means = by_batch.mean(axis=1)
    medians = np.median(by_batch, axis=1)
    outs = [LineOut(line=k + 1, regimen_id=c.regimen_id, name=c.label, trial=c.trial, basis_kind=c.basis_kind,
                    mean_months=round(float(np.mean(np.minimum(times[:, k], horizon))), 1),
                    median_months=round(float(np.median(times[:, k])), 1)) for k, c in enumerate(lines)]
    return SequenceOut(
        label=label, lines=outs, mean_months=round(float(total.mean()), 1),
        mean_ci95=(round(float(np.quantile(means, 0.025)), 1), round(float(np.quantile(means, 0.975)), 1)),
        median_months=round(float(np.median(total)), 1),
        median_ci95=(round(float(np.quantile(medians, 0.025)), 1), round(float(np.quantile(medians, 0.975)), 1)),
        prob_beyond={f"{t:g}": round(float(np.mean(total > t)), 3) for t in (24.0, 60.0) if t < horizon})


def sequence_report(patient: Any, kb: Any, *, engine: Any = None, n_first: int = 3, max_lines: int = 3,
                    horizon: float = 120.0, seed: int = 2012) -> SequenceReport:
    """Plausible sequences from the patient's best-ranked options, with expected time on effective therapy.

    Parameters
    ----------
    patient : a validated :class:`mbcpath.domain.patient.Patient`.
    n_first : how many of the current options (best-ranked, with a PFS curve) start a sequence.
    max_lines : lines per sequence (the current one included).
    horizon : months; totals are restricted to it (restricted mean).
    """
    if engine is None:
        from mbcpath.engine import recommend as engine
    rec = engine(patient, kb)
    curves = option_curves(rec, kb, patient=patient)
    firsts = [o for o in sorted(rec.options, key=lambda o: o.rank) if o.regimen_id in curves][:n_first]
    notes: list[str] = []
    seqs = []
    for i, opt in enumerate(firsts):
        lines = _build(patient, kb, engine, opt, curves[opt.regimen_id], max_lines, notes)
        seqs.append(_summarise(" -> ".join(c.label for c in lines), lines, horizon, seed + i))
    dp = getattr(rec.decision_point, "value", rec.decision_point)
    if not firsts:
        notes.append("no current option has a PFS curve to start a sequence from")
    return SequenceReport(
        patient_id=getattr(patient, "id", None), kb_release=getattr(kb.release, "kb_release", None),
        decision_point=dp, horizon_months=horizon, sequences=seqs, notes=notes,
        assumptions=["time on effective therapy = the sum of each line's PFS, restricted to the horizon",
                     "every patient goes on to the next line at progression (no death or stopping between "
                     "lines): an upper bound",
                     "each later line is the engine's first-ranked option with a PFS curve after progression on "
                     "the lines before",
                     "later-line trials enrolled patients whose earlier treatment often differed from the simulated "
                     "sequence; lines are independent given their curves",
                     "95% intervals: parameter uncertainty of every line's curve (200 joint draws x 250 patients)"])
