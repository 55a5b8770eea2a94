"""Crafted contract patients for the engine tests (JSON-ready dicts; every one is valid)."""

from __future__ import annotations

import copy
from typing import Any


def base(**changes: Any) -> dict[str, Any]:
    """A clean first-line patient: de novo, HR-positive (ER 85%), postmenopausal, LVEF 62%, no history."""
    p: dict[str, Any] = {
        "id": "crafted",
        "age_years": 58,
        "sex": "female",
        "menopausal_status": "postmenopausal",
        "ecog": 0,
        "her2": {"ihc": "3+", "ish": None},
        "er_percent": 85,
        "pr_percent": 40,
        "presentation": "de_novo",
        "metastatic_diagnosis_months_ago": 1,
        "metastatic_sites": ["bone", "liver"],
        "visceral_crisis": False,
        "brain_metastases": "none",
        "extracranial_progression": None,
        "lvef_percent": 62,
        "ild_history": "none",
        "qtcf_ms": 420,
        "neuropathy_grade": 0,
        "pregnant": False,
        "treatments": [],
    }
    p.update(copy.deepcopy(changes))
    return p


def thp_induction(ended: float = 0.0, months: float = 6.0, taxane: str = "docetaxel") -> dict[str, Any]:
    return {"drugs": [taxane, "trastuzumab", "pertuzumab"], "setting": "metastatic", "line": 1,
            "phase": "induction", "started_months_ago": ended + months, "ended_months_ago": ended,
            "stop_reason": "completed"}


def maintenance_after_thp(**changes: Any) -> dict[str, Any]:
    """Maintenance decision: THP induction (line 1) completed now, no progression."""
    changes.setdefault("metastatic_diagnosis_months_ago", 6)
    changes.setdefault("treatments", [thp_induction()])
    return base(**changes)


def second_line_after_thp(**changes: Any) -> dict[str, Any]:
    """Second-line decision: progression on THP induction + HP maintenance (line 1)."""
    changes.setdefault("metastatic_diagnosis_months_ago", 24)
    changes.setdefault("treatments", [
        thp_induction(ended=18),
        {"drugs": ["trastuzumab", "pertuzumab"], "setting": "metastatic", "line": 1, "phase": "maintenance",
         "started_months_ago": 18, "ended_months_ago": 0, "stop_reason": "progression"},
    ])
    return base(**changes)


def third_line(**changes: Any) -> dict[str, Any]:
    """Third-line decision: THP then T-DXd, both progressed."""
    changes.setdefault("metastatic_diagnosis_months_ago", 40)
    changes.setdefault("treatments", [
        {"drugs": ["docetaxel", "trastuzumab", "pertuzumab"], "setting": "metastatic", "line": 1,
         "started_months_ago": 40, "ended_months_ago": 20, "stop_reason": "progression"},
        {"drugs": ["trastuzumab deruxtecan"], "setting": "metastatic", "line": 2,
         "started_months_ago": 20, "ended_months_ago": 0, "stop_reason": "progression"},
    ])
    return base(**changes)


def after_adjuvant(drugs: list[str], tfi: float, **changes: Any) -> dict[str, Any]:
    """Recurrent disease diagnosed now, ``tfi`` months after the end of (neo)adjuvant ``drugs``."""
    changes.setdefault("presentation", "recurrent")
    changes.setdefault("metastatic_diagnosis_months_ago", 0)
    changes.setdefault("treatments", [{"drugs": drugs, "setting": "adjuvant", "started_months_ago": tfi + 12,
                                       "ended_months_ago": tfi, "stop_reason": "completed"}])
    return base(**changes)


def cns_event(**changes: Any) -> dict[str, Any]:
    """Isolated CNS progression on HP + letrozole maintenance (the seed's case)."""
    changes.setdefault("metastatic_diagnosis_months_ago", 30)
    changes.setdefault("metastatic_sites", ["bone", "liver", "brain"])
    changes.setdefault("brain_metastases", "active")
    changes.setdefault("extracranial_progression", False)
    changes.setdefault("treatments", [
        thp_induction(ended=25, months=5),
        {"drugs": ["trastuzumab", "pertuzumab", "letrozole"], "setting": "metastatic", "line": 1,
         "phase": "maintenance", "started_months_ago": 25, "ended_months_ago": None, "stop_reason": None},
    ])
    return base(**changes)


def tdxd_first_line_ongoing(**changes: Any) -> dict[str, Any]:
    """Maintenance decision after first-line T-DXd + pertuzumab (ongoing, no progression)."""
    changes.setdefault("metastatic_diagnosis_months_ago", 8)
    changes.setdefault("treatments", [
        {"drugs": ["trastuzumab deruxtecan", "pertuzumab"], "setting": "metastatic", "line": 1,
         "started_months_ago": 8, "ended_months_ago": None, "stop_reason": None}])
    return base(**changes)


def crafted_pool() -> list[dict[str, Any]]:
    """Patients chosen so that every rule, gate and conflict of domain.md sections 4-5 has a witness."""
    hr_neg = {"er_percent": 0, "pr_percent": 0}
    brain = {"metastatic_sites": ["bone", "brain"], "brain_metastases": "active"}
    out = [
        base(),
        base(**hr_neg),
        base(ecog=2, preferences={"avoid_chemotherapy": True}),
        base(ecog=3),
        base(visceral_crisis=True, ecog=2),
        base(er_percent=5),
        base(er_percent=0, pr_percent=30),
        base(lvef_percent=45),
        base(lvef_percent=45, gate_overrides=[{"gate": "lvef-below-50-start", "reason": "cardio-oncology ok"}]),
        base(lvef_percent=None),
        base(heart_failure=True),
        base(ild_history="grade1"),
        base(ild_history="grade2_or_higher"),
        base(ild_history="active"),
        base(ild_history=None),
        base(neuropathy_grade=2),
        base(menopausal_status="premenopausal", age_years=40),
        base(menopausal_status="premenopausal", age_years=34, pregnant=True),
        base(menopausal_status="unknown", pregnant=None),
        base(sex="male", menopausal_status="not_applicable"),
        base(unavailable_drugs=["pertuzumab"]),
        base(available_drugs=["pyrotinib"]),
        base(**brain),
        base(metastatic_sites=["bone", "brain", "leptomeningeal"], brain_metastases="active"),
        base(**hr_neg, **brain),
        after_adjuvant(["paclitaxel", "trastuzumab"], 9),
        after_adjuvant(["paclitaxel", "trastuzumab"], 3),
        after_adjuvant(["docetaxel", "carboplatin", "trastuzumab", "pertuzumab"], 10),
        after_adjuvant(["trastuzumab deruxtecan"], 24),
        after_adjuvant(["letrozole"], 2),
        maintenance_after_thp(),
        maintenance_after_thp(**hr_neg),
        maintenance_after_thp(er_percent=10),
        maintenance_after_thp(qtcf_ms=449),
        maintenance_after_thp(qtcf_ms=460),
        maintenance_after_thp(qtcf_ms=None),
        maintenance_after_thp(menopausal_status="premenopausal", age_years=42),
        maintenance_after_thp(sex="male", menopausal_status="not_applicable"),
        maintenance_after_thp(lvef_percent=35),
        maintenance_after_thp(lvef_percent=45),
        maintenance_after_thp(ild_history="active"),
        maintenance_after_thp(visceral_crisis=True),
        maintenance_after_thp(metastatic_sites=["bone", "brain"], brain_metastases="stable_treated"),
        tdxd_first_line_ongoing(),
        tdxd_first_line_ongoing(unavailable_drugs=["pertuzumab"]),  # T-DXd continues alone
        maintenance_after_thp(unavailable_drugs=["pertuzumab"]),
        maintenance_after_thp(**hr_neg, unavailable_drugs=["pertuzumab"]),
        cns_event(**hr_neg),  # ER 0% on re-biopsy while on letrozole: the letrozole is held
        second_line_after_thp(),
        second_line_after_thp(**hr_neg),
        second_line_after_thp(**brain, extracranial_progression=True),
        second_line_after_thp(ild_history="grade2_or_higher"),
        second_line_after_thp(neuropathy_grade=2),
        third_line(),
        third_line(**brain, extracranial_progression=True),
        third_line(ecog=3),
        cns_event(),
        cns_event(metastatic_sites=["bone", "brain", "leptomeningeal"]),
        cns_event(lvef_percent=None),
        {**second_line_after_thp(), "treatments": [
            {"drugs": ["trastuzumab deruxtecan", "pertuzumab"], "setting": "metastatic", "line": 1,
             "started_months_ago": 24, "ended_months_ago": 0, "stop_reason": "progression"}]},
        *({**second_line_after_thp(**extra), "ild_history": "grade2_or_higher", "treatments": [
            {"drugs": ["trastuzumab deruxtecan", "pertuzumab"], "setting": "metastatic", "line": 1,
             "started_months_ago": 10, "ended_months_ago": 1, "stop_reason": "toxicity"}]}
          for extra in ({}, hr_neg)),
        base(menopausal_status="premenopausal", age_years=33, pregnant=True, pregnancy_trimester=2),
        after_adjuvant(["paclitaxel", "trastuzumab"], 30, treatments=[  # adjuvant taxane stopped for toxicity
            {"drugs": ["paclitaxel", "trastuzumab"], "setting": "adjuvant", "started_months_ago": 40,
             "ended_months_ago": 30, "stop_reason": "toxicity"}]),
        cns_event(qtcf_ms=470, treatments=[  # continuing ribociclib with QTcF 470
            thp_induction(ended=25, months=5),
            {"drugs": ["trastuzumab", "pertuzumab", "letrozole", "ribociclib"], "setting": "metastatic", "line": 1,
             "phase": "maintenance", "started_months_ago": 25, "ended_months_ago": None, "stop_reason": None}]),
        cns_event(treatments=[  # a CDK4/6 inhibitor recorded without its endocrine partner
            thp_induction(ended=25, months=5),
            {"drugs": ["trastuzumab", "pertuzumab", "ribociclib"], "setting": "metastatic", "line": 1,
             "phase": "maintenance", "started_months_ago": 25, "ended_months_ago": None, "stop_reason": None}]),
        after_adjuvant(["neratinib"], 3, treatments=[  # ExteNET: relapse 3 months after extended neratinib
            {"drugs": ["docetaxel", "carboplatin", "trastuzumab"], "setting": "adjuvant", "started_months_ago": 30,
             "ended_months_ago": 26, "stop_reason": "completed"},
            {"drugs": ["trastuzumab"], "setting": "adjuvant", "started_months_ago": 26, "ended_months_ago": 15,
             "stop_reason": "completed"},
            {"drugs": ["neratinib"], "setting": "adjuvant", "started_months_ago": 15, "ended_months_ago": 3,
             "stop_reason": "completed"}]),
        third_line(presentation="recurrent", treatments=[
            {"drugs": ["trastuzumab deruxtecan"], "setting": "adjuvant", "started_months_ago": 60,
             "ended_months_ago": 50, "stop_reason": "completed"},
            {"drugs": ["docetaxel", "trastuzumab", "pertuzumab"], "setting": "metastatic", "line": 1,
             "started_months_ago": 40, "ended_months_ago": 20, "stop_reason": "progression"},
            {"drugs": ["tucatinib", "trastuzumab", "capecitabine"], "setting": "metastatic", "line": 2,
             "started_months_ago": 20, "ended_months_ago": 0, "stop_reason": "progression"}]),
        third_line(lvef_percent=35, treatments=[  # continuing margetuximab below LVEF 40%, no baseline recorded
            {"drugs": ["docetaxel", "trastuzumab", "pertuzumab"], "setting": "metastatic", "line": 1,
             "started_months_ago": 40, "ended_months_ago": 20, "stop_reason": "progression"},
            {"drugs": ["margetuximab", "eribulin"], "setting": "metastatic", "line": 2,
             "started_months_ago": 20, "ended_months_ago": None, "stop_reason": None}]),
    ]
    for i, p in enumerate(out):
        p["id"] = f"crafted-{i:02d}"
    return out
