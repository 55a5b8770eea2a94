"""A seeded generator of realistic HER2-positive metastatic breast cancer cohorts (``mbcpath cohort synth``).

Each record is the wrapper form of :mod:`mbcpath.analytics.records`: a contract patient at one decision
(first line, maintenance, a later line or a CNS event) with a coherent history (adjuvant treatment and
the interval to relapse for recurrent disease; metastatic lines with durations and stop reasons), the
safety facts the labels read, formulary gaps, a decision date (2013-2026), the drugs actually given at
that date (for audits) and a follow-up (for survival). Record ``i`` of seed ``s`` depends only on
``(s, i)``, so any slice of a cohort can be regenerated alone.

The distributions and where each comes from (published cohorts, trials, or an assumption) are listed
in docs/cohort.md; the constants below carry the same tags.

References
----------
Tripathy D et al. De novo versus recurrent HER2-positive metastatic breast cancer: SystHERs.
    Oncologist 2020;25:e214-22 (PMID 32043771): 49.8% de novo; HR-negative 34.9% (de novo) vs 24.9%
    (recurrent); bone 57.1% vs 45.9%; liver 41.9% vs 33.1%; CNS metastases at MBC diagnosis 4.3% vs 13.5%.
Cobleigh M et al. SystHERs by hormone receptor status. Clin Cancer Res 2020;26:1105-13 (PMID 31772121):
    HR-positive 70.1%; HR low-positive (1-9%) 60 of 685 HR-positive (8.8%).
Sammons SL et al. Brain metastases by line of therapy in 18,075 patients. J Natl Cancer Inst 2025;117:1565-72
    (PMID 40163696): cumulative incidence of brain metastases at 60 months 23% (HR+/HER2+), 34% (HR-/HER2+).
Swain SM et al. (CLEOPATRA) N Engl J Med 2015;372:724-34 (median PFS 18.7 months with THP);
    Verma S et al. (EMILIA) N Engl J Med 2012;367:1783-91 (median PFS 9.6 months with T-DM1);
    Murthy RK et al. (HER2CLIMB) N Engl J Med 2020;382:597-609 (median PFS 7.8 months).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: First and last decision dates drawn (uniform between; assumption: a registry spanning the pertuzumab era).
FIRST_DATE = dt.date(2013, 1, 1)
LAST_DATE = dt.date(2026, 11, 30)

#: SystHERs (Tripathy 2020): de novo share.
P_DE_NOVO = 0.498
#: SystHERs (Tripathy 2020): HR-negative share by presentation.
P_HR_NEGATIVE = {"de_novo": 0.349, "recurrent": 0.249}
#: SystHERs (Cobleigh 2020): HR low-positive (ER 1-9%) among HR-positive: 60 / 685.
P_ER_LOW = 60 / 685
#: SystHERs (Tripathy 2020): CNS metastases at MBC diagnosis by presentation.
P_CNS_AT_DIAGNOSIS = {"de_novo": 0.043, "recurrent": 0.135}
#: Sammons 2025: cumulative incidence of brain metastases at 60 months by HR status (a monthly hazard is
#: derived from it, 1 - (1 - p) ** (1 / 60)).
CNS_5Y_INCIDENCE = {True: 0.23, False: 0.34}
#: SystHERs (Tripathy 2020): bone and liver sites by presentation; other sites: assumption.
P_SITE = {
    "de_novo": {"bone": 0.571, "liver": 0.419, "lung": 0.30, "lymph_node": 0.45, "pleura": 0.08,
                "skin_soft_tissue": 0.06},
    "recurrent": {"bone": 0.459, "liver": 0.331, "lung": 0.33, "lymph_node": 0.40, "pleura": 0.10,
                  "skin_soft_tissue": 0.10},
}
#: Median time on each line in months (CLEOPATRA 18.7, EMILIA 9.6, HER2CLIMB 7.8; later lines: assumption 5).
LINE_MEDIAN_MONTHS = (18.7, 9.6, 7.8, 5.0)
#: Median overall survival from MBC diagnosis in months by HR status (SystHERs, Cobleigh 2020: 53.0 vs 43.4).
OS_MEDIAN_MONTHS = {True: 53.0, False: 43.4}
#: Decision point mix of a registry sampled at decisions (assumption).
DECISION_MIX = (("first_line", 0.40), ("maintenance", 0.15), ("second_line", 0.20), ("third_line", 0.15),
                ("cns_event", 0.10))
#: HER2 results: IHC 3+ / IHC 2+ ISH amplified / IHC 0-1+ ISH amplified; a small share out of scope
#: (negative, unresolved) to exercise those answers (assumption).
HER2_MIX = ((({"ihc": "3+", "ish": None}), 0.80), (({"ihc": "3+", "ish": "amplified"}), 0.05),
            (({"ihc": "2+", "ish": "amplified"}), 0.12), (({"ihc": "1+", "ish": "amplified"}), 0.01),
            (({"ihc": "1+", "ish": "not_amplified"}), 0.01), (({"ihc": "2+", "ish": None}), 0.01))
#: ECOG performance status (assumption, typical of registries).
ECOG_MIX = ((0, 0.45), (1, 0.40), (2, 0.11), (3, 0.03), (4, 0.01))
#: Interval from the end of adjuvant HER2-directed therapy to relapse: < 6, 6-12, > 12 months (assumption).
INTERVAL_MIX = (((0.5, 6.0), 0.10), ((6.0, 12.0), 0.15), ((12.0, 96.0), 0.75))
#: Drugs a formulary may lack (assumption).
FORMULARY_GAPS = ("pertuzumab", "trastuzumab deruxtecan", "tucatinib", "neratinib", "margetuximab")

_DAYS_PER_MONTH = 30.4375


@dataclass
class _Draw:
    """One patient being drawn: the random source and what has been decided so far."""

    rng: random.Random
    date: dt.date
    out: dict[str, Any] = field(default_factory=dict)
    treatments: list[dict[str, Any]] = field(default_factory=list)
    hr_positive: bool = True

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, pairs: tuple[tuple[Any, float], ...]) -> Any:
        x = self.rng.random() * sum(w for _, w in pairs)
        for v, w in pairs:
            x -= w
            if x < 0:
                return v
        return pairs[-1][0]

    def months(self, median: float, lo: float = 0.5, hi: float = 120.0) -> float:
        """An exponential duration with this median, rounded to 0.1 month and clipped to [lo, hi]."""
        return round(min(hi, max(lo, self.rng.expovariate(0.6931471805599453 / median))), 1)

    def date_at(self, months_ago: float) -> dt.date:
        return self.date - dt.timedelta(days=round(months_ago * _DAYS_PER_MONTH))


def synth_record(seed: int, i: int) -> dict[str, Any]:
    """Record ``i`` of the cohort of ``seed`` (wrapper form, JSON-ready)."""
    rng = random.Random(seed * 1_000_003 + i)  # noqa: S311 (simulation, not cryptography)
    span = (LAST_DATE - FIRST_DATE).days
    d = _Draw(rng, FIRST_DATE + dt.timedelta(days=rng.randrange(span + 1)))
    d.out["id"] = f"synth-{seed}-{i:07d}"
    presentation = "de_novo" if d.chance(P_DE_NOVO) else "recurrent"
    _demography(d)
    _tumour(d, presentation)
    point = d.pick(DECISION_MIX)
    dx_months = _metastatic_history(d, point)
    d.out["presentation"] = presentation
    d.out["metastatic_diagnosis_months_ago"] = dx_months
    if presentation == "recurrent":
        _adjuvant_history(d, dx_months)
    _sites(d, presentation, point, dx_months)
    _safety(d)
    _context(d)
    d.out["treatments"] = d.treatments
    return _wrap(d, point, dx_months)


def synth_records(n: int, seed: int, start: int = 0) -> Iterator[dict[str, Any]]:
    """Records ``start`` .. ``start + n - 1`` of the cohort of ``seed``."""
    for i in range(start, start + n):
        yield synth_record(seed, i)


# ----------------------------------------------------------------------------- the patient
def _demography(d: _Draw) -> None:
    male = d.chance(0.01)  # male breast cancer ~1% of cases (assumption for HER2+ MBC)
    age = int(min(92, max(24, round(d.rng.gauss(56, 12.5)))))
    d.out.update(age_years=age, sex="male" if male else "female", ecog=d.pick(ECOG_MIX))
    if male:
        d.out["menopausal_status"] = "not_applicable"
    elif d.chance(0.03):
        d.out["menopausal_status"] = "unknown"
    elif age < 45:
        d.out["menopausal_status"] = "premenopausal"
    elif age < 55:
        d.out["menopausal_status"] = d.pick((("premenopausal", 0.35), ("perimenopausal", 0.25),
                                             ("postmenopausal", 0.40)))
    else:
        d.out["menopausal_status"] = "postmenopausal"


def _tumour(d: _Draw, presentation: str) -> None:
    d.out["her2"] = dict(d.pick(HER2_MIX))
    hr_neg = d.chance(P_HR_NEGATIVE[presentation])
    d.hr_positive = not hr_neg
    if hr_neg:
        d.out.update(er_percent=0, pr_percent=0 if d.chance(0.9) else d.rng.randint(0, 5))
        if d.out["pr_percent"] >= 1:
            d.hr_positive = True  # ER-negative PR-positive: HR-positive by ASCO/CAP
    elif d.chance(P_ER_LOW):
        d.out.update(er_percent=d.rng.randint(1, 10), pr_percent=d.rng.choice((0, 0, 1, 5)))
    else:
        d.out.update(er_percent=d.rng.randrange(20, 101, 5), pr_percent=d.rng.randrange(0, 101, 5))
    if d.chance(0.01):
        d.out["er_percent"] = None  # receptor status not recorded (assumption: 1%)


def _sites(d: _Draw, presentation: str, point: str, dx_months: float) -> None:
    sites = [s for s, p in P_SITE[presentation].items() if d.chance(p)] or ["lymph_node"]
    monthly = 1 - (1 - CNS_5Y_INCIDENCE[d.hr_positive]) ** (1 / 60)
    since_dx = 1 - (1 - monthly) ** dx_months
    brain = point == "cns_event" or d.chance(P_CNS_AT_DIAGNOSIS[presentation]) or d.chance(since_dx)
    if brain:
        sites.append("brain")
        if point == "cns_event":
            d.out["brain_metastases"] = d.pick((("active", 0.7), ("symptomatic", 0.3)))
            d.out["extracranial_progression"] = d.pick(((False, 0.7), (None, 0.1), (True, 0.2)))
        else:
            d.out["brain_metastases"] = d.pick((("stable_treated", 0.6), ("active", 0.3), ("symptomatic", 0.1)))
    else:
        d.out["brain_metastases"] = "none" if d.chance(0.9) else None
    if d.chance(0.01):
        sites.append("leptomeningeal")
    d.out["metastatic_sites"] = sites
    d.out["visceral_crisis"] = bool({"liver", "lung"} & set(sites)) and d.chance(0.08)


def _safety(d: _Draw) -> None:
    """Cardiac, lung, nerve, QT, liver and pregnancy facts at the labels' thresholds (assumption)."""
    d.out["lvef_percent"] = None if d.chance(0.05) else round(min(75.0, max(30.0, d.rng.gauss(61, 6))))
    if d.chance(0.3):
        d.out["lvef_baseline_percent"] = min(80, (d.out["lvef_percent"] or 60) + d.rng.randint(0, 15))
    ild = d.out.get("ild_history")
    d.out["ild_history"] = ild or d.pick((("none", 0.95), ("grade1", 0.03), ("grade2_or_higher", 0.015),
                                          ("active", 0.005)))
    d.out["qtcf_ms"] = None if d.chance(0.1) else round(d.rng.gauss(425, 18))
    d.out["neuropathy_grade"] = d.out.get("neuropathy_grade") or d.pick(((0, 0.70), (1, 0.20), (2, 0.08),
                                                                         (3, 0.02)))
    d.out["heart_failure"] = d.chance(0.01)
    premenopausal = d.out["menopausal_status"] in ("premenopausal", "perimenopausal")
    d.out["pregnant"] = premenopausal and d.chance(0.005)
    if d.out["pregnant"]:
        d.out["pregnancy_trimester"] = d.rng.randint(1, 3)
    if "liver" in d.out.get("metastatic_sites", ()) and d.chance(0.2):
        d.out["hepatic"] = {"bilirubin_x_uln": round(d.rng.uniform(0.3, 3.5), 1),
                            "ast_x_uln": round(d.rng.uniform(0.5, 6.0), 1)}
    if d.chance(0.04):
        d.out["interacting_drugs"] = [d.rng.choice(("strong_cyp3a_inhibitor", "qt_prolonging",
                                                     "strong_cyp3a_inducer"))]


def _context(d: _Draw) -> None:
    if d.chance(0.05):
        d.out["preferences"] = {"avoid_chemotherapy": True}
    if d.chance(0.06):
        d.out["unavailable_drugs"] = [d.rng.choice(FORMULARY_GAPS)]


# ----------------------------------------------------------------------------- histories
def _regimen_at(d: _Draw, line: int, months_ago: float) -> list[str]:
    """A regimen of metastatic line ``line`` that was in use on the date it started (assumption: eras
    of approval; EMILIA 2012, DESTINY-Breast03 2022, HER2CLIMB 2020)."""
    start = d.date_at(months_ago)
    if line == 1:
        return ["trastuzumab", "pertuzumab", d.pick((("docetaxel", 0.7), ("paclitaxel", 0.3)))]
    if line == 2:
        return ["trastuzumab deruxtecan"] if start >= dt.date(2022, 5, 1) else ["trastuzumab emtansine"]
    if line == 3 and start >= dt.date(2020, 4, 1):
        return ["tucatinib", "trastuzumab", "capecitabine"]
    return d.rng.choice((["lapatinib", "capecitabine"], ["trastuzumab", "vinorelbine"],
                         ["trastuzumab", "eribulin"], ["neratinib", "capecitabine"]))


def _first_line(d: _Draw, start: float, end: float | None, stop: str | None) -> None:
    """THP induction (4-8 cycles, about 3 weeks each), then HP maintenance (+ endocrine when HR-positive)."""
    chemo = _regimen_at(d, 1, start)
    induction = round(min(start - (end or 0.0), d.rng.uniform(3.0, 5.5)), 1)
    if end is not None and start - end <= induction:
        d.treatments.append(_treatment(chemo, 1, start, end, stop, "induction"))
        return
    ind_end = round(start - induction, 1)
    if end is None and ind_end <= 0:
        d.treatments.append(_treatment(chemo, 1, start, None, None, "induction", cycles=d.rng.randint(2, 6)))
        return
    d.treatments.append(_treatment(chemo, 1, start, ind_end, "completed", "induction", cycles=6))
    maint = ["trastuzumab", "pertuzumab"]
    if d.hr_positive and d.chance(0.5):
        maint.append("letrozole" if d.out["menopausal_status"] == "postmenopausal" else "tamoxifen")
    d.treatments.append(_treatment(maint, 1, ind_end, end, stop, "maintenance"))


def _treatment(drugs: list[str], line: int | None, start: float, end: float | None, stop: str | None,
               phase: str | None = None, *, setting: str = "metastatic", cycles: int | None = None) -> dict[str, Any]:
    t: dict[str, Any] = {"drugs": drugs, "setting": setting, "started_months_ago": start,
                         "ended_months_ago": end, "stop_reason": stop}
    if line is not None:
        t["line"] = line
    if phase is not None:
        t["phase"] = phase
    if cycles is not None:
        t["cycles"] = cycles
    return t


def _metastatic_history(d: _Draw, point: str) -> float:
    """The metastatic lines before the decision; returns months since the metastatic diagnosis."""
    if point == "first_line":
        return round(d.rng.uniform(0.0, 2.0), 1)
    done = {"maintenance": 0, "second_line": 1, "third_line": d.pick(((2, 0.6), (3, 0.3), (4, 0.1))),
            "cns_event": d.pick(((0, 0.5), (1, 0.35), (2, 0.15)))}[point]
    ongoing = point in ("maintenance", "cns_event")
    durations = [d.months(LINE_MEDIAN_MONTHS[min(k, 3)]) for k in range(done)]
    current = d.months(LINE_MEDIAN_MONTHS[min(done, 3)] / 2, lo=0.7) if ongoing else 0.0
    lead = round(d.rng.uniform(0.2, 1.5), 1)  # diagnosis to first treatment
    t = round(sum(durations) + current + lead, 1)
    start = round(t - lead, 1)
    for k, dur in enumerate(durations, start=1):
        end = round(max(0.0, start - dur), 1)
        stop = d.pick((("progression", 0.85), ("toxicity", 0.10), ("patient_choice", 0.05)))
        if k == done:
            stop = "progression"  # the decision follows progression on the latest line
        _line(d, k, start, end, stop)
        start = end
    if ongoing:
        _line(d, done + 1, start, None, None)
    return t


def _line(d: _Draw, k: int, start: float, end: float | None, stop: str | None) -> None:
    if k == 1:
        _first_line(d, start, end, stop)
        return
    drugs = _regimen_at(d, k, start)
    d.treatments.append(_treatment(drugs, k, start, end, stop))
    if stop == "toxicity" and "trastuzumab deruxtecan" in drugs:
        d.out["ild_history"] = "grade2_or_higher"  # T-DXd stopped for pneumonitis
    elif stop == "toxicity" and "capecitabine" not in drugs and d.chance(0.5):
        d.out["neuropathy_grade"] = 2


def _adjuvant_history(d: _Draw, dx_months: float) -> None:
    """Adjuvant chemotherapy + trastuzumab (+ pertuzumab from 2018; T-DM1 for residual disease from 2019),
    ending ``interval`` months before the metastatic diagnosis (assumption: eras of APHINITY and KATHERINE)."""
    lo, hi = d.pick(INTERVAL_MIX)
    interval = round(d.rng.uniform(lo, hi), 1)
    end = round(dx_months + interval, 1)
    start = round(end + d.rng.uniform(10.0, 13.0), 1)
    start_date = d.date_at(start)
    drugs = ["trastuzumab", "paclitaxel"] if d.chance(0.3) else ["trastuzumab", "docetaxel", "carboplatin"]
    if start_date >= dt.date(2018, 1, 1) and d.chance(0.4):
        drugs.append("pertuzumab")
    setting = "neoadjuvant" if start_date >= dt.date(2019, 1, 1) and d.chance(0.5) else "adjuvant"
    if setting == "neoadjuvant":
        mid = round(start - 4.5, 1)
        d.treatments.append(_treatment(drugs, None, start, mid, "completed", setting="neoadjuvant"))
        post = ["trastuzumab emtansine"] if d.chance(0.5) else ["trastuzumab"]
        d.treatments.append(_treatment(post, None, round(mid - 1.0, 1), end, "completed", setting="adjuvant"))
    else:
        d.treatments.append(_treatment(drugs, None, start, end, "completed", setting="adjuvant"))
    if d.hr_positive and d.chance(0.8):
        et_end = round(max(dx_months, end - d.rng.uniform(0.0, interval)), 1)
        et = "tamoxifen" if d.out["menopausal_status"] in ("premenopausal", "perimenopausal") else "letrozole"
        d.treatments.append(_treatment([et], None, round(end + 0.5, 1), et_end, "completed", setting="adjuvant"))


# ----------------------------------------------------------------------------- what was given, follow-up
def _given(d: _Draw, point: str) -> list[str]:
    """What was given at the decision: the era's usual regimen for that point, 12% something else
    (assumption; SystHERs reported 68.7% HP + taxane in first line)."""
    when = d.date
    if d.chance(0.12):
        return list(d.rng.choice((["trastuzumab", "vinorelbine"], ["trastuzumab", "capecitabine"],
                                  ["lapatinib", "capecitabine"], ["trastuzumab", "letrozole"])))
    if point == "first_line":
        if when >= dt.date(2025, 6, 1) and d.chance(0.5):
            return ["trastuzumab deruxtecan", "pertuzumab"]
        return ["trastuzumab", "pertuzumab", "docetaxel"]
    if point == "maintenance":
        return ["trastuzumab", "pertuzumab"] + (["letrozole"] if d.hr_positive and d.chance(0.5) else [])
    if point == "second_line":
        return ["trastuzumab deruxtecan"] if when >= dt.date(2022, 5, 1) else ["trastuzumab emtansine"]
    if point == "cns_event" and when >= dt.date(2020, 4, 1):
        return ["tucatinib", "trastuzumab", "capecitabine"]
    return _regimen_at(d, 3, 0.0)


def _wrap(d: _Draw, point: str, dx_months: float) -> dict[str, Any]:
    rec: dict[str, Any] = {"patient": d.out, "decision_date": d.date.isoformat()}
    if d.chance(0.9):
        given = _given(d, point)
        rec["given"] = {"drugs": given}
        if d.chance(0.15):
            rec["override_reason"] = d.rng.choice(("patient preference", "toxicity of the preferred option",
                                                   "not reimbursed", "trial participation", "frailty"))
    scale = 0.8 if d.out["ecog"] >= 2 else 1.0
    os_months = dx_months + d.months(OS_MEDIAN_MONTHS[d.hr_positive] * scale, lo=0.3, hi=300.0)
    horizon = (LAST_DATE - d.date).days / _DAYS_PER_MONTH
    last_contact = dx_months + d.rng.uniform(0.0, horizon)
    alive = os_months > last_contact
    rec["follow_up"] = {"months_since_metastatic_diagnosis": round(max(dx_months, min(os_months, last_contact)), 1),
                        "alive": alive}
    return rec
