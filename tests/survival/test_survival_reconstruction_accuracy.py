"""Reconstruction accuracy on real curves: simulate digitisation, reconstruct, compare HR and medians.

Curves: GBSG2 recurrence-free survival by hormone therapy (months), CLEOPATRA OS and PFS (the
bundled kmdata pseudo-IPD, treated as the truth). Each arm: 50 clicks along the drawn curve,
Gaussian noise SD 0.3% of the time axis and 0.004 in S, monotone fix, numbers at risk every
6 months; 10 seeds per data set. Targets: median |HR error| <= 2%, largest <= 5%, median
|error| of the arm medians <= 1 month. The measured figures go to
artifacts/reconstruction_accuracy.json.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mbcpath.survival.ipd import load_kmdata
from mbcpath.survival.reconstruct import reconstruct

from .conftest import write_artifact
from .survival_digitise import digitise, numbers_at_risk

N_CLICKS, SD_T, SD_S, NAR_STEP, SEEDS = 50, 0.003, 0.004, 6.0, range(10)


def _cox_hr(a, b) -> float:
    import pandas as pd
    from lifelines import CoxPHFitter

    df = pd.DataFrame({"t": np.r_[a[0], b[0]], "e": np.r_[a[1], b[1]],
                       "x": np.r_[np.zeros(len(a[0])), np.ones(len(b[0]))]})
    return float(np.exp(CoxPHFitter().fit(df, "t", "e").params_["x"]))


def _km_median(t, e) -> float:
    from lifelines import KaplanMeierFitter

    return float(KaplanMeierFitter().fit(t, e).median_survival_time_)


def _datasets(gbsg2):
    years, event, hor = gbsg2
    months = years * 12.0
    return {
        "GBSG2 RFS, hormone therapy no vs yes": ((months[~hor], event[~hor]), (months[hor], event[hor])),
        "CLEOPATRA OS (kmdata fig 2A), control vs pertuzumab": (load_kmdata("cleopatra_2a.csv", "control"),
                                                                load_kmdata("cleopatra_2a.csv", "pertuzumab")),
        "CLEOPATRA PFS (kmdata fig 3A), control vs pertuzumab": (load_kmdata("cleopatra_3a.csv", "control"),
                                                                 load_kmdata("cleopatra_3a.csv", "pertuzumab")),
    }


@pytest.fixture(scope="module")
def accuracy(gbsg2):
    per_set: dict[str, dict] = {}
    hr_err: list[float] = []
    med_err: list[float] = []
    for name, arms in _datasets(gbsg2).items():
        true_hr = _cox_hr(*arms)
        true_med = [_km_median(*a) for a in arms]
        errs, merrs = [], []
        for seed in SEEDS:
            rng = np.random.default_rng(seed)
            rec = []
            for t, e in arms:
                ct, cs = digitise(np.asarray(t, float), np.asarray(e), n_clicks=N_CLICKS, sd_t=SD_T, sd_s=SD_S,
                                  rng=rng)
                tr, nr = numbers_at_risk(np.asarray(t, float), NAR_STEP)
                rec.append(reconstruct(ct, cs, tr, nr))
            errs.append(abs(_cox_hr(*[(r.time, r.event) for r in rec]) / true_hr - 1))
            for r, m in zip(rec, true_med, strict=True):
                merrs.append(abs(_km_median(r.time, r.event) - m))
        hr_err += errs
        med_err += merrs
        finite = [x for x in merrs if math.isfinite(x)]
        per_set[name] = {
            "true_hr": round(true_hr, 4), "true_medians_months": [round(m, 2) for m in true_med],
            "hr_rel_error_median": round(float(np.median(errs)), 4), "hr_rel_error_max": round(max(errs), 4),
            "median_abs_error_months_median": round(float(np.median(merrs)), 3),
            "median_abs_error_months_max": round(max(finite), 3) if finite else None,
            "medians_not_reached": len(merrs) - len(finite),
        }
    summary = {
        "protocol": {"clicks_per_curve": N_CLICKS, "sd_time_fraction_of_axis": SD_T, "sd_survival": SD_S,
                     "numbers_at_risk_every_months": NAR_STEP, "seeds": len(SEEDS),
                     "clicks": "evenly spaced along the drawn curve (arc length), monotone fix",
                     "hr": "lifelines CoxPHFitter (Efron) on reconstructed vs original data"},
        "hr_rel_error_median": round(float(np.median(hr_err)), 4),
        "hr_rel_error_max": round(max(hr_err), 4),
        "arm_median_abs_error_months_median": round(float(np.median(med_err)), 3),
        "arm_median_abs_error_months_max_finite": round(max(x for x in med_err if math.isfinite(x)), 3),
        "arm_medians_not_reached_after_reconstruction": sum(1 for x in med_err if not math.isfinite(x)),
        "datasets": per_set,
    }
    write_artifact("reconstruction_accuracy.json", summary)
    return summary


def test_hazard_ratio_error(accuracy):
    """Reconstructed Cox HRs: median relative error <= 2%, largest <= 5%."""
    assert accuracy["hr_rel_error_median"] <= 0.02
    assert accuracy["hr_rel_error_max"] <= 0.05


def test_arm_median_error(accuracy):
    """Reconstructed KM medians: median absolute error <= 1 month over all arms and seeds."""
    assert accuracy["arm_median_abs_error_months_median"] <= 1.0
