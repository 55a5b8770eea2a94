"""Generators of VALID contract patients (dicts that pass ``mbcpath.domain.validation.parse_patient``).

One description of a patient, two drivers:

* :func:`patients` is a hypothesis strategy (shrinks towards a simple, HER2-positive,
  postmenopausal, de novo patient with no history);
* :func:`random_patient` draws the same distribution from a seeded :class:`random.Random`,
  for the large seeded runs (``@pytest.mark.slow``), the rule-liveness pool, the SQL
  cross-check and ``bench/bench_engine.py``, where hypothesis' per-example overhead is not wanted.

The distribution favours the clinically decisive edges: TFI of exactly 6 / 12 months,
LVEF 49 / 49.9 / 50, QTcF 449 / 450, ER 10 / 11, neuropathy 1 / 2, and histories of up to
three metastatic lines with induction / maintenance phases, where progression ends a line.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")


# ----------------------------------------------------------------------------- the two drivers
class _Source:
    """Primitive draws. Every 'rare' branch is written so that the smallest draw is the common case."""

    def int(self, lo: int, hi: int) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def one(self, seq: Sequence[T]) -> T:
        return seq[self.int(0, len(seq) - 1)]

    def chance(self, percent: float) -> bool:
        """True with probability ``percent`` / 100 (a zero draw is False, so rare branches shrink away)."""
        return self.int(0, 999) >= 1000 - round(percent * 10)

    def weighted(self, pairs: Sequence[tuple[float, T]]) -> T:
        """Pick a value by weight; the first pair is what hypothesis shrinks to."""
        total = sum(round(w * 10) for w, _ in pairs)
        x = self.int(0, total - 1)
        for w, v in pairs:
            x -= round(w * 10)
            if x < 0:
                return v
        return pairs[-1][1]

    def tenth(self, lo: float, hi: float) -> float:
        """A number in [lo, hi] with one decimal."""
        return self.int(round(lo * 10), round(hi * 10)) / 10


class _Hyp(_Source):
    def __init__(self, draw: Callable[[Any], Any]) -> None:
        self.draw = draw

    def int(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))


class _Rng(_Source):
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)


# ----------------------------------------------------------------------------- vocabulary
_HER2_POSITIVE = [("3+", None), ("3+", "amplified"), ("2+", "amplified"), ("0", "amplified"), ("1+", "amplified")]
_HER2_OTHER = [("2+", None), ("2+", "equivocal"), ("2+", "not_amplified"), ("0", None), ("1+", None),
               ("0", "not_amplified"), ("1+", "not_amplified"), (None, None), (None, "equivocal")]
_SITES = ["bone", "lymph_node", "liver", "lung", "pleura", "skin_soft_tissue", "other"]
_AI = ["letrozole", "anastrozole", "exemestane"]
_CDK = ["palbociclib", "ribociclib", "abemaciclib"]
_UNAVAILABLE = ["pertuzumab", "trastuzumab deruxtecan", "tucatinib", "palbociclib", "ribociclib", "letrozole",
                "goserelin", "capecitabine", "docetaxel", "neratinib", "fulvestrant", "trastuzumab emtansine"]

# (neo)adjuvant regimens
_ADJ_TRASTUZUMAB = [["paclitaxel", "trastuzumab"], ["docetaxel", "carboplatin", "trastuzumab"], ["trastuzumab"]]
_ADJ_PERTUZUMAB = [["docetaxel", "carboplatin", "trastuzumab", "pertuzumab"], ["trastuzumab", "pertuzumab"]]
_ADJ_OTHER_HER2 = [["trastuzumab emtansine"], ["trastuzumab deruxtecan"], ["neratinib"]]
_ADJ_NO_HER2 = [["doxorubicin", "cyclophosphamide"], ["epirubicin", "cyclophosphamide"], ["tamoxifen"],
                ["letrozole"], ["anastrozole"]]
_NEOADJUVANT = [["docetaxel", "carboplatin", "trastuzumab", "pertuzumab"], ["paclitaxel", "trastuzumab"],
                ["doxorubicin", "cyclophosphamide"], ["paclitaxel", "trastuzumab", "pertuzumab"]]
_AFTER_NEO = [["trastuzumab", "pertuzumab"], ["trastuzumab emtansine"], ["trastuzumab"],
              ["trastuzumab deruxtecan"], ["letrozole"], ["trastuzumab", "pertuzumab", "letrozole"]]

# later-line single-phase regimens
_LINE2 = [["trastuzumab deruxtecan"], ["trastuzumab emtansine"], ["tucatinib", "trastuzumab", "capecitabine"],
          ["docetaxel", "trastuzumab", "pertuzumab"], ["trastuzumab", "fulvestrant"]]
_LINE3 = [["neratinib", "capecitabine"], ["lapatinib", "capecitabine"], ["trastuzumab", "capecitabine"],
          ["trastuzumab", "fulvestrant"], ["abemaciclib", "fulvestrant", "trastuzumab"], ["margetuximab", "eribulin"],
          ["trastuzumab", "vinorelbine"], ["lapatinib", "trastuzumab"], ["trastuzumab emtansine"],
          ["trastuzumab deruxtecan"], ["tucatinib", "trastuzumab", "capecitabine"],
          ["palbociclib", "trastuzumab", "fulvestrant"]]


# ----------------------------------------------------------------------------- the patient
def _her2(s: _Source) -> dict[str, Any]:
    ihc, ish = s.one(_HER2_POSITIVE) if not s.chance(15) else s.one(_HER2_OTHER)
    out: dict[str, Any] = {"ihc": ihc, "ish": ish}
    if s.chance(10):
        implied = ("positive" if ihc == "3+" or ish == "amplified" else
                   "negative" if ish == "not_amplified" or ihc in ("0", "1+") else None)
        if implied is not None:
            out["status"] = implied
    return out


def _receptor(s: _Source) -> float | int | None:
    return s.weighted([
        (45, lambda: s.int(11, 100)), (20, lambda: 0), (12, lambda: s.int(1, 10)),
        (8, lambda: s.one([1, 10, 11, 10.5, 0.5])), (10, lambda: None), (5, lambda: s.tenth(0, 100)),
    ])()


def _tfi(s: _Source) -> float:
    """Months from the end of (neo)adjuvant therapy to the metastatic diagnosis."""
    return s.weighted([(40, lambda: s.one([0, 2, 6, 6.5, 9, 12, 12.5, 18, 24, 48])),
                       (60, lambda: s.tenth(0, 100))])()


def _adjuvant(s: _Source, dx: float) -> list[dict[str, Any]]:
    """(Neo)adjuvant history ending ``tfi`` months before the metastatic diagnosis."""
    kind = s.weighted([(35, "trastuzumab"), (25, "pertuzumab"), (12, "other_her2"), (13, "no_her2"), (15, "neo")])
    end = dx + _tfi(s)
    if kind == "neo":
        adj = s.one(_AFTER_NEO)
        adj_start = end + s.int(3, 12)
        neo_end = adj_start + s.int(1, 2)
        neo = s.one(_NEOADJUVANT)
        return [
            {"drugs": list(neo), "setting": "neoadjuvant", "started_months_ago": neo_end + s.int(3, 6),
             "ended_months_ago": neo_end, "stop_reason": "completed"},
            {"drugs": list(adj), "setting": "adjuvant", "started_months_ago": adj_start,
             "ended_months_ago": end, "stop_reason": s.one(["completed", "completed", "toxicity", None])
             if end > dx else "progression"},
        ]
    pool = {"trastuzumab": _ADJ_TRASTUZUMAB, "pertuzumab": _ADJ_PERTUZUMAB, "other_her2": _ADJ_OTHER_HER2,
            "no_her2": _ADJ_NO_HER2}[kind]
    t = {"drugs": list(s.one(pool)), "setting": s.one(["adjuvant", "neoadjuvant"]),
         "started_months_ago": end + s.int(3, 14), "ended_months_ago": end,
         "stop_reason": "completed" if s.chance(80) else None}
    out = [t]
    if s.chance(15):  # adjuvant chemotherapy before the HER2 regimen
        first_end = t["started_months_ago"] + 1
        out.insert(0, {"drugs": list(s.one(_ADJ_NO_HER2[:2])), "setting": "adjuvant",
                       "started_months_ago": first_end + s.int(2, 5), "ended_months_ago": first_end,
                       "stop_reason": "completed"})
    return out


def _endocrine(s: _Source, needs_ofs: bool) -> list[str]:
    et = [s.one([*_AI, "fulvestrant"])]
    if needs_ofs and s.chance(85):
        et.append(s.one(["goserelin", "leuprorelin"]))
    return et


def _first_line(s: _Source, hr_pos: bool, needs_ofs: bool) -> tuple[list[str], list[str] | None]:
    """(induction or whole-line drugs, maintenance drugs or None)."""
    kind = s.weighted([(40, "thp"), (20, "tdxd_p"), (8, "th"), (8, "hp_et"), (6, "t_et"), (6, "vin_hp"),
                       (6, "tdxd"), (6, "hp_tuc")])
    taxane = s.one(["docetaxel", "paclitaxel"])
    if kind == "thp":
        maint = ["trastuzumab", "pertuzumab"]
        if hr_pos and s.chance(75):
            maint += _endocrine(s, needs_ofs)
            if s.chance(40):
                maint.append(s.one(_CDK))
        elif s.chance(20):
            maint.append("tucatinib")
        return [taxane, "trastuzumab", "pertuzumab"], maint
    if kind == "th":
        return [taxane, "trastuzumab"], ["trastuzumab"]
    if kind == "vin_hp":
        return ["vinorelbine", "trastuzumab", "pertuzumab"], ["trastuzumab", "pertuzumab"]
    if kind == "tdxd_p":
        return ["trastuzumab deruxtecan", "pertuzumab"], None
    if kind == "tdxd":
        return ["trastuzumab deruxtecan"], None
    if kind == "hp_tuc":
        return [taxane, "trastuzumab", "pertuzumab"], ["trastuzumab", "pertuzumab", "tucatinib"]
    et = _endocrine(s, needs_ofs)
    return (["trastuzumab", "pertuzumab", *et] if kind == "hp_et" else ["trastuzumab", *et]), None


def _metastatic(s: _Source, dx: float, n_lines: int, hr_pos: bool, needs_ofs: bool,
                with_line: bool) -> list[dict[str, Any]]:
    """``n_lines`` lines between the diagnosis (``dx`` months ago) and now; progression ends every
    line but the last, whose state varies (ongoing, progressed, induction completed, stopped)."""
    # line starts, strictly decreasing (months ago); line 1 starts at or just after the diagnosis
    starts = [dx - min(s.int(0, 10) / 10, dx)]
    for _ in range(n_lines - 1):
        prev = starts[-1]
        starts.append(prev - max(1.0, s.tenth(1, max(1.0, prev / 2))))
    out: list[dict[str, Any]] = []
    for i, start in enumerate(starts):
        line = i + 1
        last = line == n_lines
        end_line = (starts[i + 1] if not last else
                    s.weighted([(35, None), (45, 0.0), (20, round(start * s.int(0, 9) / 10, 1))]))
        if last and end_line is not None and end_line >= start:
            end_line = None
        if line == 1:
            first, maint = _first_line(s, hr_pos, needs_ofs)
        else:
            first, maint = list(s.one(_LINE2 if line == 2 else _LINE3)), None
        if last:
            final_reason = (None if end_line is None else
                            s.weighted([(60, "progression"), (15, "completed"), (15, "toxicity"),
                                        (10, "patient_choice")]))
        else:
            final_reason = "progression"
        if maint is not None:
            # induction 3-6 months (never past the end of the line), then maintenance if time allows
            stop = end_line if end_line is not None else 0.0
            ind_end = round(start - min(s.tenth(3, 6), (start - stop) * 0.6), 1)
            only_induction = last and s.chance(30)
            if ind_end <= stop or ind_end >= start:
                only_induction = True
            if only_induction:
                reason = final_reason if final_reason is not None else None
                if last and end_line is None and s.chance(50):
                    ended, reason = None, None  # induction ongoing
                else:
                    ended = end_line if end_line is not None else round(ind_end if ind_end > 0 else 0.0, 1)
                    if ended >= start:
                        ended = 0.0
                    reason = reason or s.one(["completed", "completed", "toxicity"])
                    if not last:
                        reason = "progression"
                out.append(_t(first, start, ended, reason, line, "induction", with_line))
            else:
                out.append(_t(first, start, ind_end, s.one(["completed", "completed", "completed", "toxicity"]),
                              line, "induction", with_line))
                out.append(_t(maint, ind_end, end_line, final_reason, line, "maintenance", with_line))
        else:
            out.append(_t(first, start, end_line, final_reason, line, None, with_line))
    return out


def _t(drugs: list[str], start: float, end: float | None, reason: str | None, line: int,
       phase: str | None, with_line: bool) -> dict[str, Any]:
    t: dict[str, Any] = {"drugs": list(dict.fromkeys(drugs)), "setting": "metastatic",
                         "started_months_ago": round(start, 1),
                         "ended_months_ago": None if end is None else round(end, 1),
                         "stop_reason": None if end is None else reason}
    if with_line:
        t["line"] = line
    if phase is not None:
        t["phase"] = phase
    return t


def build_patient(s: _Source) -> dict[str, Any]:
    """One valid contract patient (a JSON-ready dict) from the primitive draws of ``s``."""
    sex = "male" if s.chance(8) else "female"
    if sex == "male":
        meno = s.weighted([(80, "not_applicable"), (20, "unknown")])
        age = s.int(30, 95)
    else:
        meno = s.weighted([(55, "postmenopausal"), (22, "premenopausal"), (10, "perimenopausal"),
                           (10, "unknown"), (3, "not_applicable")])
        age = {"postmenopausal": (45, 95), "premenopausal": (22, 55), "perimenopausal": (40, 58)}.get(meno, (18, 110))
        age = s.int(*age)
    needs_ofs = sex == "male" or meno in ("premenopausal", "perimenopausal")
    er, pr = _receptor(s), _receptor(s)
    hr_pos = bool((er or 0) >= 1 or (pr or 0) >= 1)
    presentation = s.weighted([(55, "de_novo"), (40, "recurrent"), (5, None)])
    n_lines = s.weighted([(35, 0), (35, 1), (20, 2), (10, 3)])
    dx: float | None = s.weighted([(80, lambda: s.int(n_lines * 4, 120) / 1.0),
                                   (20, lambda: s.one([0.0, 1.0, 3.5, 6.0, 12.0, 24.0]) + n_lines * 4)])()
    treatments: list[dict[str, Any]] = []
    if presentation != "de_novo" and (presentation == "recurrent" or s.chance(50)):
        if s.chance(85):
            treatments += _adjuvant(s, dx)
    if n_lines:
        treatments += _metastatic(s, dx, n_lines, hr_pos, needs_ofs, with_line=s.chance(85))
    if n_lines == 0 and s.chance(5):
        dx = None  # unknown date of the metastatic diagnosis: TFI unknown
    if len(treatments) > 1 and s.chance(50):  # the contract allows any order
        k = s.int(0, len(treatments) - 1)
        treatments = treatments[k:] + treatments[:k]

    brain = s.weighted([(65, "none"), (12, "stable_treated"), (12, "active"), (5, "symptomatic"), (6, None)])
    sites = [x for x in _SITES if s.chance(30)]
    if brain not in (None, "none"):
        sites.append("brain")
    if s.chance(5):
        sites.append("leptomeningeal")
    if brain in ("active", "symptomatic"):
        extracranial = s.weighted([(50, False), (30, True), (20, None)])
    else:
        extracranial = s.weighted([(85, None), (10, False), (5, True)])

    p: dict[str, Any] = {
        "id": f"gen-{s.int(0, 10**6)}",
        "age_years": age,
        "sex": sex,
        "menopausal_status": meno,
        "ecog": s.weighted([(40, 0), (30, 1), (15, 2), (8, 3), (2, 4), (5, None)]),
        "her2": _her2(s),
        "er_percent": er,
        "pr_percent": pr,
        "metastatic_diagnosis_months_ago": dx,
        "metastatic_sites": sites,
        "visceral_crisis": s.weighted([(80, False), (10, True), (10, None)]),
        "brain_metastases": brain,
        "extracranial_progression": extracranial,
        "lvef_percent": s.weighted([(75, lambda: s.tenth(30, 75)), (15, lambda: s.one([49, 49.9, 50, 39.9, 40])),
                                    (10, lambda: None)])(),
        "ild_history": s.weighted([(60, "none"), (12, "grade1"), (10, "grade2_or_higher"), (6, "active"),
                                   (12, None)]),
        "qtcf_ms": s.weighted([(70, lambda: s.int(380, 520)), (15, lambda: s.one([449, 450, 449.9])),
                               (15, lambda: None)])(),
        "neuropathy_grade": s.weighted([(55, 0), (20, 1), (12, 2), (5, 3), (3, 4), (5, None)]),
        "treatments": treatments,
    }
    if presentation is not None:
        p["presentation"] = presentation
    if sex == "female" and meno == "premenopausal":
        p["pregnant"] = s.weighted([(80, False), (10, True), (10, None)])
    else:
        p["pregnant"] = s.weighted([(85, False), (15, None)])
    if s.chance(3):
        p["heart_failure"] = s.one([True, False])
    pref = s.weighted([(75, None), (15, True), (10, False)])
    p["preferences"] = {} if pref is None else {"avoid_chemotherapy": pref}
    unavailable = [d for d in _UNAVAILABLE if s.chance(4)]
    if unavailable:
        p["unavailable_drugs"] = unavailable
    if s.chance(10):
        p["available_drugs"] = ["pyrotinib"]
    if s.chance(5):
        p["gate_overrides"] = [{"gate": "lvef-below-50-start", "reason": "cardio-oncology review, cleared"}]
    if s.chance(15):
        choices = ["first_line", "next_line"]
        if n_lines:
            choices.append("maintenance")
        if brain not in (None, "none"):
            choices.append("cns_event")
        p["decision_point"] = s.one(choices)
    return p


# ----------------------------------------------------------------------------- public API
@st.composite
def patients(draw: Callable[[Any], Any]) -> dict[str, Any]:
    """Hypothesis strategy: a valid contract patient (JSON-ready dict)."""
    return build_patient(_Hyp(draw))


def random_patient(rng: random.Random) -> dict[str, Any]:
    """The same distribution as :func:`patients`, drawn from a seeded ``random.Random``."""
    return build_patient(_Rng(rng))


def random_patients(n: int, seed: int = 20260101) -> list[dict[str, Any]]:
    """``n`` reproducible patients."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        p = random_patient(rng)
        p["id"] = f"gen-{seed}-{i}"
        out.append(p)
    return out
