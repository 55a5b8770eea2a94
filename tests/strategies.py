"""Generators of VALID contract patients (dicts that pass ``mbcpath.domain.validation.parse_patient``).

One description of a patient, two drivers:

* :func:`patients` is a hypothesis strategy (shrinks towards a simple, HER2-positive,
  postmenopausal, de novo patient with no history);
* :func:`random_patient` draws the same distribution from a seeded :class:`random.Random`,
  for the large seeded runs (``@pytest.mark.slow``), the rule-liveness pool, the SQL
  cross-check and ``bench/bench_engine.py``, where hypothesis' per-example overhead is not wanted.

The distribution favours the clinically decisive edges: TFI of exactly 6 / 12 months,
LVEF 49 / 49.9 / 50, QTcF 449 / 450, ER 10 / 11, neuropathy 1 / 2, and histories of up to
three metastatic lines with induction / maintenance phases, where progression ends a line. The fields
the drug-label table reads (baseline LVEF, pregnancy trimester, liver tests at the labels' ULN thresholds,
interacting drugs, heart failure) are drawn too, at the labels' thresholds.
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
    t: dict[str, Any] = {"drugs": list(s.one(pool)), "setting": s.one(["adjuvant", "neoadjuvant"]),
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


def _line_starts(s: _Source, dx: float, n_lines: int) -> list[float]:
    """Line starts, strictly decreasing (months ago); line 1 starts at or just after the diagnosis."""
    starts = [dx - min(s.int(0, 10) / 10, dx)]
    for _ in range(n_lines - 1):
        prev = starts[-1]
        starts.append(prev - max(1.0, s.tenth(1, max(1.0, prev / 2))))
    return starts


def _last_line_end(s: _Source, start: float) -> float | None:
    """The last line: ongoing (None), stopped now, or stopped some time after its start."""
    end = s.weighted([(35, None), (45, 0.0), (20, round(start * s.int(0, 9) / 10, 1))])
    return None if end is not None and end >= start else end


def _final_reason(s: _Source, last: bool, end_line: float | None) -> str | None:
    if not last:
        return "progression"
    if end_line is None:
        return None
    return s.weighted([(60, "progression"), (15, "completed"), (15, "toxicity"), (10, "patient_choice")])


def _induction_end(s: _Source, start: float, end_line: float | None, ind_end: float, reason: str | None,
                   last: bool) -> tuple[float | None, str | None]:
    """(end, stop reason) of a line recorded as induction only."""
    if last and end_line is None and s.chance(50):
        return None, None  # induction ongoing
    ended = end_line if end_line is not None else round(ind_end if ind_end > 0 else 0.0, 1)
    if ended >= start:
        ended = 0.0
    reason = reason or s.one(["completed", "completed", "toxicity"])
    return ended, (reason if last else "progression")


def _phased_line(s: _Source, first: list[str], maint: list[str], start: float, end_line: float | None,
                 final_reason: str | None, line: int, last: bool, with_line: bool) -> list[dict[str, Any]]:
    """Induction 3-6 months (never past the end of the line), then maintenance if time allows."""
    stop = end_line if end_line is not None else 0.0
    ind_end = round(start - min(s.tenth(3, 6), (start - stop) * 0.6), 1)
    only_induction = last and s.chance(30)
    if ind_end <= stop or ind_end >= start:
        only_induction = True
    if only_induction:
        ended, reason = _induction_end(s, start, end_line, ind_end, final_reason, last)
        return [_t(first, start, ended, reason, line, "induction", with_line)]
    return [_t(first, start, ind_end, s.one(["completed", "completed", "completed", "toxicity"]), line, "induction",
               with_line),
            _t(maint, ind_end, end_line, final_reason, line, "maintenance", with_line)]


def _metastatic(s: _Source, dx: float, n_lines: int, hr_pos: bool, needs_ofs: bool,
                with_line: bool) -> list[dict[str, Any]]:
    """``n_lines`` lines between the diagnosis (``dx`` months ago) and now; progression ends every
    line but the last, whose state varies (ongoing, progressed, induction completed, stopped)."""
    starts = _line_starts(s, dx, n_lines)
    out: list[dict[str, Any]] = []
    for i, start in enumerate(starts):
        line = i + 1
        last = line == n_lines
        end_line = _last_line_end(s, start) if last else starts[i + 1]
        if line == 1:
            first, maint = _first_line(s, hr_pos, needs_ofs)
        else:
            first, maint = list(s.one(_LINE2 if line == 2 else _LINE3)), None
        final_reason = _final_reason(s, last, end_line)
        if maint is None:
            out.append(_t(first, start, end_line, final_reason, line, None, with_line))
        else:
            out += _phased_line(s, first, maint, start, end_line, final_reason, line, last, with_line)
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


def _demographics(s: _Source) -> tuple[str, str, int]:
    """(sex, menopausal status, age)."""
    if s.chance(8):
        return "male", s.weighted([(80, "not_applicable"), (20, "unknown")]), s.int(30, 95)
    meno = s.weighted([(55, "postmenopausal"), (22, "premenopausal"), (10, "perimenopausal"),
                       (10, "unknown"), (3, "not_applicable")])
    ages = {"postmenopausal": (45, 95), "premenopausal": (22, 55), "perimenopausal": (40, 58)}.get(meno, (18, 110))
    return "female", meno, s.int(*ages)


def _history(s: _Source, presentation: str | None, n_lines: int, hr_pos: bool,
             needs_ofs: bool) -> tuple[list[dict[str, Any]], float | None]:
    """(treatments in any order, months since the metastatic diagnosis or None when unknown)."""
    dx: float = s.weighted([(80, lambda: s.int(n_lines * 4, 120) / 1.0),
                            (20, lambda: s.one([0.0, 1.0, 3.5, 6.0, 12.0, 24.0]) + n_lines * 4)])()
    treatments: list[dict[str, Any]] = []
    if presentation != "de_novo" and (presentation == "recurrent" or s.chance(50)) and s.chance(85):
        treatments += _adjuvant(s, dx)
    if n_lines:
        treatments += _metastatic(s, dx, n_lines, hr_pos, needs_ofs, with_line=s.chance(85))
    known: float | None = None if n_lines == 0 and s.chance(5) else dx  # unknown date: TFI unknown
    if len(treatments) > 1 and s.chance(50):  # the contract allows any order
        k = s.int(0, len(treatments) - 1)
        treatments = treatments[k:] + treatments[:k]
    return treatments, known


def _cns(s: _Source) -> tuple[str | None, list[str], bool | None]:
    """(brain metastases, metastatic sites, extracranial progression)."""
    brain = s.weighted([(65, "none"), (12, "stable_treated"), (12, "active"), (5, "symptomatic"), (6, None)])
    sites = [x for x in _SITES if s.chance(30)]
    if brain not in (None, "none"):
        sites.append("brain")
    if s.chance(5):
        sites.append("leptomeningeal")
    if brain in ("active", "symptomatic"):
        return brain, sites, s.weighted([(50, False), (30, True), (20, None)])
    return brain, sites, s.weighted([(85, None), (10, False), (5, True)])


def _clinical(s: _Source) -> dict[str, Any]:
    """Performance status and HER2."""
    return {
        "ecog": s.weighted([(40, 0), (30, 1), (15, 2), (8, 3), (2, 4), (5, None)]),
        "her2": _her2(s),
    }


def _safety(s: _Source) -> dict[str, Any]:
    """The contract's safety values, at the decisive edges (LVEF 40/50, QTcF 450, neuropathy 2)."""
    return {
        "lvef_percent": s.weighted([(75, lambda: s.tenth(30, 75)), (15, lambda: s.one([49, 49.9, 50, 39.9, 40])),
                                    (10, lambda: None)])(),
        "ild_history": s.weighted([(60, "none"), (12, "grade1"), (10, "grade2_or_higher"), (6, "active"),
                                   (12, None)]),
        "qtcf_ms": s.weighted([(70, lambda: s.int(380, 520)), (15, lambda: s.one([449, 450, 449.9])),
                               (15, lambda: None)])(),
        "neuropathy_grade": s.weighted([(55, 0), (20, 1), (12, 2), (5, 3), (3, 4), (5, None)]),
    }


def _circumstances(s: _Source, p: dict[str, Any]) -> None:
    """Pregnancy, heart failure, preferences, formulary and overrides."""
    if p["sex"] == "female" and p["menopausal_status"] == "premenopausal":
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


def _stated_decision_point(s: _Source, n_lines: int, brain: str | None) -> str | None:
    if not s.chance(15):
        return None
    choices = ["first_line", "next_line"]
    if n_lines:
        choices.append("maintenance")
    if brain not in (None, "none"):
        choices.append("cns_event")
    return s.one(choices)


def build_patient(s: _Source, label_draws: Callable[[dict[str, Any]], _Source] | None = None) -> dict[str, Any]:
    """One valid contract patient (a JSON-ready dict) from the primitive draws of ``s``.

    ``label_draws`` (seeded runs) gives the source of the label-table fields, drawn last: a stream of its
    own keeps every other field of a seeded pool as it was before those fields existed.
    """
    sex, meno, age = _demographics(s)
    needs_ofs = sex == "male" or meno in ("premenopausal", "perimenopausal")
    er, pr = _receptor(s), _receptor(s)
    hr_pos = bool((er or 0) >= 1 or (pr or 0) >= 1)
    presentation = s.weighted([(55, "de_novo"), (40, "recurrent"), (5, None)])
    n_lines = s.weighted([(35, 0), (35, 1), (20, 2), (10, 3)])
    treatments, dx = _history(s, presentation, n_lines, hr_pos, needs_ofs)
    brain, sites, extracranial = _cns(s)
    p: dict[str, Any] = {"id": f"gen-{s.int(0, 10**6)}", "age_years": age, "sex": sex, "menopausal_status": meno,
                         **_clinical(s), "er_percent": er, "pr_percent": pr, "metastatic_diagnosis_months_ago": dx,
                         "metastatic_sites": sites,
                         "visceral_crisis": s.weighted([(80, False), (10, True), (10, None)]),
                         "brain_metastases": brain, "extracranial_progression": extracranial, **_safety(s),
                         "treatments": treatments}
    if presentation is not None:
        p["presentation"] = presentation
    _circumstances(s, p)
    stated = _stated_decision_point(s, n_lines, brain)
    if stated is not None:
        p["decision_point"] = stated
    _label_fields(s if label_draws is None else label_draws(p), p)
    return p


_HEPATIC_BILIRUBIN = [0.5, 0.9, 1.0, 1.2, 1.3, 1.5, 1.6, 2.1, 3.0, 3.5, 5.5]
_HEPATIC_TRANSAMINASES = [0.8, 1.0, 1.6, 2.6, 3.1, 5.1, 10.0]
_INTERACTING = ["strong_cyp3a_inhibitor", "moderate_cyp3a_inhibitor", "strong_cyp3a_inducer",
                "moderate_cyp3a_inducer", "strong_cyp2c8_inhibitor", "moderate_cyp2c8_inducer",
                "sensitive_cyp3a_substrate", "pgp_substrate", "qt_prolonging", "acid_reducing_agent", "warfarin",
                "estrogen_containing", "strong_cyp2d6_inhibitor"]


def _hepatic(s: _Source) -> dict[str, Any]:
    """Liver tests as multiples of ULN at the labels' thresholds (1, 1.25, 1.5, 3, 5, 10 x ULN), some missing."""
    out: dict[str, Any] = {}
    for key, pool in (("bilirubin_x_uln", _HEPATIC_BILIRUBIN), ("ast_x_uln", _HEPATIC_TRANSAMINASES),
                      ("alt_x_uln", _HEPATIC_TRANSAMINASES), ("alp_x_uln", [1.0, 2.0, 2.6])):
        if not s.chance(15):
            out[key] = s.one(pool)
    if s.chance(30):
        out["child_pugh"] = s.one(["A", "B", "C"])
    return out


def _label_fields(s: _Source, p: dict[str, Any]) -> None:
    """The fields the drug-label table reads beyond the contract's minimum: baseline LVEF, trimester,
    liver function and interacting drugs (drawn last and rarely, so the earlier draws keep their meaning)."""
    if p["lvef_percent"] is not None and s.chance(20):
        p["lvef_baseline_percent"] = min(90.0, p["lvef_percent"] + s.one([0, 5, 9.9, 10, 15.9, 16, 20, 20.1, 25]))
    if p.get("pregnant") is True and s.chance(70):
        p["pregnancy_trimester"] = s.int(1, 3)
    if s.chance(15):
        p["hepatic"] = _hepatic(s)
    if s.chance(10):
        p["interacting_drugs"] = sorted({s.one(_INTERACTING) for _ in range(s.int(1, 2))})


# ----------------------------------------------------------------------------- public API
@st.composite
def patients(draw: Callable[[Any], Any]) -> dict[str, Any]:
    """Hypothesis strategy: a valid contract patient (JSON-ready dict)."""
    return build_patient(_Hyp(draw))


def random_patient(rng: random.Random) -> dict[str, Any]:
    """The same distribution as :func:`patients`, drawn from a seeded ``random.Random``.

    The label-table fields come from a stream seeded by the patient's drawn id, so that the seeded pools of
    earlier releases keep every other field.
    """
    return build_patient(_Rng(rng), lambda p: _Rng(random.Random(f"label-fields/{p['id']}")))


def random_patients(n: int, seed: int = 20260101) -> list[dict[str, Any]]:
    """``n`` reproducible patients."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        p = random_patient(rng)
        p["id"] = f"gen-{seed}-{i}"
        out.append(p)
    return out
