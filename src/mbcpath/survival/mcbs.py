"""ESMO Magnitude of Clinical Benefit Scale (ESMO-MCBS) v1.1: forms 2a, 2b and 3.

Forms 2a (non-curative, OS) and 2b (non-curative, PFS) grade a randomised
trial by the **dual rule**: the LOWER limit of the 95% CI of the hazard ratio
and the absolute gain in median must both pass a threshold that depends on the
control arm's median. Form 3 grades single-arm studies by ORR (with duration of
response) or PFS. The preliminary grade is then adjusted (toxicity -1, quality
of life +1, long-term plateau +1 ...) and capped (form 2a: 1-5; forms 2b and 3:
1-4).

Grade tables used here (thresholds on the HR are on the lower 95% CI limit;
gains in months):

Form 2a, control median OS <= 12 months
  4: HR <= 0.65 and gain >= 3; or 2-year survival +>= 10 points
  3: HR <= 0.65 and gain 2 - < 3
  2: HR <= 0.65 and gain 1.5 - < 2; or HR > 0.65 - 0.70 and gain >= 1.5
  1: HR > 0.70 or gain < 1.5
Form 2a, control median OS > 12 and <= 24 months
  4: HR <= 0.70 and gain >= 5; or 3-year survival +>= 10 points
  3: HR <= 0.70 and gain 3 - < 5
  2: HR <= 0.70 and gain 1.5 - < 3; or HR > 0.70 - 0.75 and gain >= 1.5
  1: HR > 0.75 or gain < 1.5
Form 2a, control median OS > 24 months
  4: HR <= 0.70 and gain >= 9; or 5-year survival +>= 10 points
  3: HR <= 0.70 and gain 6 - < 9
  2: HR <= 0.70 and gain 4 - < 6; or HR > 0.70 - 0.75 and gain >= 4
  1: HR > 0.75 or gain < 4
Form 2b, control median PFS <= 6 months
  3: HR <= 0.65 and gain >= 1.5
  2: HR > 0.65 - 0.75 and gain >= 1.5
  1: HR > 0.75 or gain < 1.5
Form 2b, control median PFS > 6 months
  3: HR <= 0.65 and gain >= 3
  2: HR <= 0.65 and gain 1.5 - < 3; or HR > 0.65 - 0.75 and gain >= 1.5
  1: HR > 0.75 or gain < 1.5
Form 3 (single arm)
  3: PFS >= 6; or ORR >= 60%; or ORR 20 - < 60% and DoR >= 9
  2: PFS 3 - < 6; or ORR 40 - < 60%; or ORR 20 - < 40% and DoR 6 - < 9
  1: PFS 2 - < 3; or ORR 20 - < 40% and DoR < 6; or ORR 10 - < 20% and DoR >= 6

Provenance: the maximal-grade dual rule of both forms is from the ESMO Open
table of implemented thresholds (anchors [S7]); the form 2a grades 1-4 are as
implemented for v1.1 by Büsch et al. (cbuesch/IQWiGvsESMO, analysis functions);
the form 3 grades are ESMO-MCBS v1.1 form 3 as reprinted in Neuro-Oncology
2023;25(5):813-26, table 3 (PMC10158123). The form 2b grades 2 and 1 follow the
v1.1 evaluation form's structure as recalled and were not re-read in stored
text: they do not affect the five HER2+ scorecards reproduced in the tests,
which all reach the maximal preliminary grade or use form 3.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mbcpath.errors import ModelError

Form = Literal["2a", "2b", "3"]

__all__ = [
    "Adjustment",
    "McbsResult",
    "adjustment",
    "mcbs_for_trial",
    "parse_published_adjustments",
    "score_form_2a",
    "score_form_2b",
    "score_form_3",
]

_CAPS: dict[str, tuple[int, int]] = {"2a": (1, 5), "2b": (1, 4), "3": (1, 4)}

#: standard adjustments of v1.1 (name -> delta, description)
STANDARD_ADJUSTMENTS: dict[str, tuple[int, str]] = {
    "toxicity": (-1, "downgrade 1: statistically significant incremental toxicity (forms 2a/2b) or "
                     ">= 30% grade 3-4 toxicity impacting daily well-being (form 3)"),
    "qol": (+1, "upgrade 1: improved quality of life or delayed deterioration of QoL"),
    "less_toxicity": (+1, "upgrade 1: statistically significantly less grade 3-4 toxicity impacting daily "
                          "well-being (when QoL is not improved)"),
    "plateau": (+1, "upgrade 1: long-term benefit (plateau / tail of the curve, e.g. >= 10% gain at a "
                    "landmark) or early stopping / crossover for an OS benefit"),
    "pfs_only_no_qol": (-1, "downgrade 1 (form 2b): only PFS improved and QoL shows no improvement"),
    "phase4": (+1, "upgrade 1 (form 3): confirmatory, adequately sized phase 4 experience"),
}


class Adjustment(BaseModel):
    """One adjustment to the preliminary grade."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    delta: int = Field(..., ge=-2, le=2)
    reason: str


class McbsResult(BaseModel):
    """An ESMO-MCBS v1.1 score with its derivation."""

    model_config = ConfigDict(extra="forbid")

    form: Form
    preliminary: int = Field(..., ge=1, le=5)
    adjustments: list[Adjustment] = Field(default_factory=list)
    score: int = Field(..., ge=1, le=5)
    rationale: list[str] = Field(default_factory=list, description="how the preliminary grade was reached")
    inputs: dict[str, Any] = Field(default_factory=dict)
    trial: str | None = None
    published_score: int | None = None
    status: str = Field("", description="'published scorecard ...' or 'computed, no published scorecard'")
    notes: list[str] = Field(default_factory=list, description="what the computation could not judge")
    sources: list[str] = Field(default_factory=list)


def adjustment(name: str, reason: str = "") -> Adjustment:
    """A standard v1.1 adjustment by name (``toxicity``, ``qol``, ``plateau`` ...)."""
    if name not in STANDARD_ADJUSTMENTS:
        raise ModelError(f"adjustment = {name!r}: must be one of {', '.join(STANDARD_ADJUSTMENTS)}")
    delta, text = STANDARD_ADJUSTMENTS[name]
    return Adjustment(name=name, delta=delta, reason=reason or text)


def _num(name: str, value: Any, *, positive: bool = True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ModelError(f"{name} = {value!r}: must be a number") from None
    if not math.isfinite(v) or (positive and v <= 0) or (not positive and v < 0):
        raise ModelError(f"{name} = {value!r}: must be a finite number {'> 0' if positive else '>= 0'}")
    return v


def _finish(form: Form, preliminary: int, adjustments: Iterable[Adjustment], rationale: list[str],
            inputs: dict[str, Any]) -> McbsResult:
    adj = list(adjustments)
    lo, hi = _CAPS[form]
    raw = preliminary + sum(a.delta for a in adj)
    score = min(max(raw, lo), hi)
    if score != raw:
        rationale.append(f"adjusted grade {raw} capped to the form {form} range {lo}-{hi}")
    return McbsResult(form=form, preliminary=preliminary, adjustments=adj, score=score, rationale=rationale,
                      inputs=inputs)


def score_form_2a(control_median: float, experimental_median: float, hr_lower: float, *,
                  landmark_gain: float | None = None, adjustments: Sequence[Adjustment] = ()) -> McbsResult:
    """ESMO-MCBS v1.1 form 2a (non-curative setting, OS endpoint).

    Parameters
    ----------
    control_median, experimental_median : median OS per arm (months).
    hr_lower : lower limit of the 95% CI of the OS hazard ratio.
    landmark_gain : absolute gain (proportion, 0.10 = 10 points) in OS at the
        landmark the form uses for this control median (2 years if <= 12
        months, 3 years if <= 24, 5 years otherwise): >= 0.10 earns grade 4
        whatever the median gain (the "tail of the curve" criterion).
    adjustments : toxicity, QoL, plateau ... (see :func:`adjustment`).

    References
    ----------
    Cherny NI, Dafni U, Bogaerts J, et al. ESMO-Magnitude of Clinical Benefit
    Scale version 1.1. Ann Oncol 2017;28:2340-66. doi:10.1093/annonc/mdx310
    Cherny NI, Sullivan R, Dafni U, et al. A standardised, generic, validated
    approach to stratify the magnitude of clinical benefit that can be
    anticipated from anti-cancer therapies: the ESMO-MCBS. Ann Oncol
    2015;26:1547-73. doi:10.1093/annonc/mdv249
    """
    c = _num("control_median", control_median)
    e = _num("experimental_median", experimental_median)
    h = _num("hr_lower", hr_lower)
    gain = round(e - c, 6)
    if c <= 12:
        band, hr_top, hr_mid, g4, g3, g2, landmark = "<= 12", 0.65, 0.70, 3.0, 2.0, 1.5, 24
    elif c <= 24:
        band, hr_top, hr_mid, g4, g3, g2, landmark = "> 12 and <= 24", 0.70, 0.75, 5.0, 3.0, 1.5, 36
    else:
        band, hr_top, hr_mid, g4, g3, g2, landmark = "> 24", 0.70, 0.75, 9.0, 6.0, 4.0, 60
    if h <= hr_top and gain >= g4:
        grade, why = 4, f"HR lower limit {h:g} <= {hr_top} and gain {gain:g} >= {g4:g} months"
    elif h <= hr_top and gain >= g3:
        grade, why = 3, f"HR lower limit {h:g} <= {hr_top} and gain {gain:g} in [{g3:g}, {g4:g}) months"
    elif h <= hr_top and gain >= g2:
        grade, why = 2, f"HR lower limit {h:g} <= {hr_top} and gain {gain:g} in [{g2:g}, {g3:g}) months"
    elif h <= hr_mid and gain >= g2:
        grade, why = 2, f"HR lower limit {h:g} in ({hr_top}, {hr_mid}] and gain {gain:g} >= {g2:g} months"
    else:
        grade, why = 1, f"HR lower limit {h:g} > {hr_mid} or gain {gain:g} < {g2:g} months"
    rationale = [f"form 2a, control median OS {c:g} months ({band}): {why} -> grade {grade}"]
    if landmark_gain is not None:
        lg = float(landmark_gain)
        if lg >= 0.10 and grade < 4:
            grade = 4
            rationale.append(f"{landmark // 12}-year survival gain {lg:.0%} >= 10 points -> grade 4 "
                             "(tail of the curve)")
        else:
            rationale.append(f"{landmark // 12}-year survival gain {lg:.0%} (criterion: >= 10 points for grade 4)")
    return _finish("2a", grade, adjustments, rationale,
                   {"control_median": c, "experimental_median": e, "gain": gain, "hr_lower": h,
                    "landmark_gain": landmark_gain, "landmark_months": landmark})


def score_form_2b(control_median: float, experimental_median: float, hr_lower: float, *,
                  adjustments: Sequence[Adjustment] = ()) -> McbsResult:
    """ESMO-MCBS v1.1 form 2b (non-curative setting, PFS endpoint); final score capped at 4.

    Parameters
    ----------
    control_median, experimental_median : median PFS per arm (months).
    hr_lower : lower limit of the 95% CI of the PFS hazard ratio.
    adjustments : QoL +1, plateau/long-term +1, toxicity -1, PFS-only without
        QoL benefit -1 (see :func:`adjustment`).

    References
    ----------
    Cherny NI, Dafni U, Bogaerts J, et al. ESMO-Magnitude of Clinical Benefit
    Scale version 1.1. Ann Oncol 2017;28:2340-66. doi:10.1093/annonc/mdx310
    """
    c = _num("control_median", control_median)
    e = _num("experimental_median", experimental_median)
    h = _num("hr_lower", hr_lower)
    gain = round(e - c, 6)
    if c <= 6:
        band, g3 = "<= 6", 1.5
    else:
        band, g3 = "> 6", 3.0
    if h <= 0.65 and gain >= g3:
        grade, why = 3, f"HR lower limit {h:g} <= 0.65 and gain {gain:g} >= {g3:g} months"
    elif c > 6 and h <= 0.65 and gain >= 1.5:
        grade, why = 2, f"HR lower limit {h:g} <= 0.65 and gain {gain:g} in [1.5, 3) months"
    elif h <= 0.75 and gain >= 1.5:
        grade, why = 2, f"HR lower limit {h:g} in (0.65, 0.75] and gain {gain:g} >= 1.5 months"
    else:
        grade, why = 1, f"HR lower limit {h:g} > 0.75 or gain {gain:g} below the grade-2 threshold"
    rationale = [f"form 2b, control median PFS {c:g} months ({band}): {why} -> grade {grade}"]
    return _finish("2b", grade, adjustments, rationale,
                   {"control_median": c, "experimental_median": e, "gain": gain, "hr_lower": h})


def _form3_orr_grade(r: float, d: float | None) -> int:
    """Form 3 grade from the ORR (percent) and the median duration of response (months)."""
    dor = d if d is not None else -1.0
    if r >= 60 or (r >= 20 and dor >= 9):
        return 3
    if r >= 40 or (r >= 20 and dor >= 6):
        return 2
    if r >= 20 or (r >= 10 and dor >= 6):
        return 1
    return 0


def score_form_3(*, orr: float | None = None, dor: float | None = None, pfs: float | None = None,
                 adjustments: Sequence[Adjustment] = ()) -> McbsResult:
    """ESMO-MCBS v1.1 form 3 (single-arm studies in orphan diseases / high unmet need).

    Parameters
    ----------
    orr : objective response rate, percent.
    dor : median duration of response, months.
    pfs : median PFS, months.
    The preliminary grade is the highest grade any given criterion reaches.
    Adjustments: toxicity -1 (>= 30% grade 3-4 toxicities impacting daily
    well-being), QoL +1, phase 4 confirmation +1; final score capped at 4.

    References
    ----------
    Cherny NI, Dafni U, Bogaerts J, et al. ESMO-Magnitude of Clinical Benefit
    Scale version 1.1. Ann Oncol 2017;28:2340-66 (evaluation form 3).
    """
    if orr is None and pfs is None:
        raise ModelError("orr = None and pfs = None: form 3 needs an ORR (with DoR) or a median PFS")
    grades: list[tuple[int, str]] = []
    if pfs is not None:
        p = _num("pfs", pfs)
        g = 3 if p >= 6 else 2 if p >= 3 else 1 if p >= 2 else 0
        grades.append((g, f"median PFS {p:g} months -> grade {g}"))
    if orr is not None:
        r = _num("orr", orr, positive=False)
        if r > 100:
            raise ModelError(f"orr = {orr!r}: a response rate is a percentage in [0, 100]")
        d = _num("dor", dor) if dor is not None else None
        g = _form3_orr_grade(r, d)
        grades.append((g, f"ORR {r:g}%{f', DoR {d:g} months' if d is not None else ''} -> grade {g}"))
    best = max(g for g, _ in grades)
    if best < 1:
        raise ModelError(f"form 3 inputs orr={orr!r}, dor={dor!r}, pfs={pfs!r}: below the lowest form 3 grade "
                         "(no meaningful benefit on this scale)")
    rationale = [f"form 3: {why}" for _, why in grades]
    return _finish("3", best, adjustments, rationale, {"orr": orr, "dor": dor, "pfs": pfs})


# ------------------------------------------------------------------ from KB
_SIGNED = re.compile(r"(?:^|(?<=[\s(;,]))([+\-\u2212])\s?(\d)\b\s*(?:for\s+)?([^.;]*)")


def parse_published_adjustments(text: str, scorecard: str | None = None) -> list[Adjustment]:
    """Read the signed adjustments (``+1 for QoL ...``) recorded from a published scorecard."""
    out: list[Adjustment] = []
    for sign, digit, rest in _SIGNED.findall(text or ""):
        delta = int(digit) * (-1 if sign in "-\u2212" else 1)
        if delta == 0:
            continue
        low = rest.lower()
        if "tox" in low:
            name = "toxicity" if delta < 0 else "less_toxicity"
        elif "qol" in low or "quality of life" in low:
            name = "qol"
        elif any(w in low for w in ("plateau", "tail", "long-term", "crossover", "early stopping")):
            name = "plateau"
        else:
            name = "published"
        where = f"ESMO-MCBS scorecard {scorecard}" if scorecard else "the published scorecard"
        out.append(Adjustment(name=name, delta=delta, reason=f"as applied on {where}: {rest.strip()}"))
    return out


_TYPE_ORDER = {"end_of_study": 0, "final": 1, "updated": 2, "primary": 3, "interim": 4}


def _pick(trial: Any, endpoint: str, sources: Sequence[str], need_hr: bool) -> Any | None:
    cands = []
    for e in trial.endpoints:
        if e.endpoint != endpoint or e.population or e.analysis_type in ("subgroup", "pooled"):
            continue
        if need_hr and (e.hr_ci95 is None or len(e.arms) < 2):
            continue
        if need_hr and not all(isinstance(e.medians.get(a), int | float) for a in e.arms[:2]):
            continue
        cands.append(e)
    if not cands:
        return None
    return min(cands, key=lambda e: (not set(e.sources) & set(sources), not e.engine_uses,
                                     _TYPE_ORDER.get(e.analysis_type, 9)))


def _form_of(trial: Any, pub: Any, sources: Sequence[str]) -> str:
    form: str | None = pub.form if pub else None
    if form == "2c":
        raise ModelError(f"trial {trial.id}: esmo_mcbs.form = '2c' is not implemented (forms 2a, 2b, 3 only)")
    if form is not None:
        return form
    if not trial.randomized or len(trial.arms) < 2:
        return "3"
    os_rec = _pick(trial, "os", sources, need_hr=True)
    return "2a" if os_rec is not None and os_rec.hr_ci95[1] < 1 else "2b"


def _score_randomised(trial: Any, form: str, sources: Sequence[str], adjustments: Sequence[Adjustment]
                      ) -> McbsResult:
    ep = "os" if form == "2a" else "pfs"
    rec = _pick(trial, ep, sources, need_hr=True)
    if rec is None:
        raise ModelError(f"trial {trial.id}: no {ep.upper()} record with both medians and an HR 95% CI; "
                         f"form {form} cannot be scored")
    exp_arm, ctrl_arm = rec.arms[0], rec.arms[1]
    scorer = score_form_2a if form == "2a" else score_form_2b
    result = scorer(float(rec.medians[ctrl_arm]), float(rec.medians[exp_arm]), float(rec.hr_ci95[0]),
                    adjustments=adjustments)
    result.sources = list(rec.sources)
    result.rationale.append(f"{ep.upper()} record: {rec.analysis}")
    return result


def _first_value(d: dict[str, Any]) -> float | None:
    return next((float(v) for v in d.values() if isinstance(v, int | float)), None)


def _score_single_arm(trial: Any, sources: Sequence[str], adjustments: Sequence[Adjustment]) -> McbsResult:
    def single(ep: str) -> Any | None:
        recs = [e for e in trial.endpoints if e.endpoint == ep and not e.population
                and e.analysis_type not in ("subgroup", "pooled")]
        if not recs:
            return None
        return min(recs, key=lambda e: (not set(e.sources) & set(sources), not e.engine_uses,
                                        _TYPE_ORDER.get(e.analysis_type, 9)))

    orr_rec, dor_rec, pfs_rec = single("orr"), single("dor"), single("pfs")
    result = score_form_3(orr=_first_value(orr_rec.rates) if orr_rec else None,
                          dor=_first_value(dor_rec.medians) if dor_rec else None,
                          pfs=_first_value(pfs_rec.medians) if pfs_rec else None, adjustments=adjustments)
    result.sources = sorted({s for r in (orr_rec, dor_rec, pfs_rec) if r for s in r.sources})
    return result


def mcbs_for_trial(trial: Any) -> McbsResult:
    """Compute a trial's ESMO-MCBS v1.1 score from its KB endpoint records.

    Form: the published scorecard's form when the trial records one
    (``esmo_mcbs.form``); otherwise 2a when the OS hazard ratio is significant
    (upper CI limit < 1), else 2b for randomised trials, and 3 for single-arm
    trials. Endpoint record: the one citing the scorecard's source, else the
    one the engine uses, else the most mature analysis. Adjustments: the signed
    adjustments recorded from the published scorecard (``esmo_mcbs.adjustments``,
    e.g. "+1 for QoL"), taken as inputs.

    Parameters
    ----------
    trial : :class:`mbcpath.kb.models.Trial`.

    References
    ----------
    Cherny NI, Dafni U, Bogaerts J, et al. ESMO-Magnitude of Clinical Benefit
    Scale version 1.1. Ann Oncol 2017;28:2340-66. doi:10.1093/annonc/mdx310
    ESMO-MCBS scorecards: https://www.esmo.org/score/cards
    """
    pub = trial.esmo_mcbs
    sources = list(pub.sources) if pub else []
    adjustments = parse_published_adjustments(pub.adjustments, pub.scorecard) if pub else []
    form = _form_of(trial, pub, sources)
    if form in ("2a", "2b"):
        result = _score_randomised(trial, form, sources, adjustments)
    else:
        result = _score_single_arm(trial, sources, adjustments)
    result.trial = trial.id
    result.published_score = pub.score if pub else None
    if pub and pub.preliminary is not None and pub.preliminary != result.preliminary:
        result.rationale.append(f"note: the scorecard's preliminary grade is {pub.preliminary}")
    if pub:
        result.status = f"published scorecard{f' {pub.scorecard}' if pub.scorecard else ''}: score {pub.score}"
    else:
        result.status = "computed, no published scorecard"
        result.notes = _unjudged(trial, result.form)
    return result


def _unjudged(trial: Any, form: str) -> list[str]:
    """What a computed score without a scorecard leaves open: the toxicity and quality-of-life adjustments."""
    notes = ["no published ESMO-MCBS scorecard: the preliminary grade is computed from the KB's numbers and no "
             "adjustment is applied (toxicity, quality of life and long-term benefit need the evaluators' judgement)"]
    for tox in trial.toxicities:
        if tox.grade in (">=3", "3") and "adverse event" in tox.event.lower() and len(tox.rates) >= 2:
            rates = " vs ".join(f"{v:g}% ({a})" for a, v in tox.rates.items())
            notes.append(f"grade {tox.grade} {tox.event.lower()}: {rates}; if the excess is significant and impairs "
                         "daily well-being, v1.1 downgrades by 1")
    if form == "2b":
        notes.append("form 2b: without a quality-of-life benefit, a PFS-only gain may be downgraded by 1 "
                     "(quality-of-life results are not in the KB)")
    return notes
