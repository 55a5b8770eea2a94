"""How contract values read on a page or in a report (one table, used by the web pages and the report)."""

from __future__ import annotations

import math
from typing import Any

DECISION_POINTS = {
    "first_line": "First line", "maintenance": "Maintenance after induction", "second_line": "Second line",
    "third_line_or_later": "Third line or later", "cns_event": "CNS event (isolated CNS progression)",
    "next_line": "Next line",
}
CATEGORIES = {"preferred": "Preferred", "alternative": "Alternative", "selected_patients": "Selected patients",
              "investigational": "Investigational"}
#: What each category means, for the legend.
CATEGORY_MEANING = {
    "preferred": "first choice in the cited guidelines for this situation",
    "alternative": "a reasonable choice when the preferred ones do not suit",
    "selected_patients": "for particular patients only (e.g. low burden, comorbidity, declining chemotherapy)",
    "investigational": "evidence from small or non-randomised studies, or within a trial",
}
TIERS = {"preferred": "Preferred", "other_recommended": "Other recommended",
         "useful_in_certain_circumstances": "Useful in certain circumstances", "investigational": "Investigational",
         "not_in_guidelines": "Not in the guidelines"}
CLASSES = {
    "anti_her2_antibody": "anti-HER2 antibody", "her2_adc": "HER2 ADC", "her2_tki": "HER2 TKI", "taxane": "taxane",
    "chemotherapy": "chemotherapy", "aromatase_inhibitor": "aromatase inhibitor", "serd": "SERD", "serm": "SERM",
    "cdk46_inhibitor": "CDK4/6 inhibitor", "ofs": "ovarian function suppression", "mtor_inhibitor": "mTOR inhibitor",
    "local_therapy": "local therapy",
}
ENDPOINTS = {"pfs": "PFS", "os": "OS", "orr": "ORR", "cns_pfs": "CNS-PFS", "cns_orr": "CNS ORR", "ttp": "TTP",
             "ttf": "TTF", "dor": "DoR", "cbr": "CBR", "pfs_rate": "PFS rate", "os_rate": "OS rate",
             "cns_pfs_rate": "CNS-PFS rate"}
STATUS = {"met": "met", "not_met": "not met", "unknown": "unknown"}
VERDICTS = {"eligible": "Eligible", "not_eligible": "Not eligible", "unknown": "Eligibility unknown"}


def label(value: Any) -> str:
    """A readable label for an enum value (``first_line`` -> ``First line``); None reads as an em dash."""
    if value is None:
        return "—"
    v = getattr(value, "value", value)
    for table in (DECISION_POINTS, CATEGORIES, CLASSES, ENDPOINTS, STATUS):
        if v in table:
            return table[v]
    return str(v).replace("_", " ")


def num(x: Any, digits: int = 1) -> str:
    """Numbers without trailing zeros; text (NR, NE) as is; None as an em dash."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            return "—"
        text = f"{x:.{digits}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text
    return str(x)


def hr_text(hr: Any, ci: Any = None) -> str:
    """``HR 0.56 (95% CI 0.47–0.66)``; empty when there is no hazard ratio."""
    if hr is None:
        return ""
    text = f"HR {num(hr, 2)}"
    if ci:
        text += f" (95% CI {num(ci[0], 2)}–{num(ci[1], 2)})"
    return text


def slug(text: str) -> str:
    """An HTML id fragment for a trial or regimen name (``DETECT V`` -> ``detect-v``)."""
    out = "".join(ch if ch.isalnum() else "-" for ch in str(text).lower())
    return "-".join(part for part in out.split("-") if part) or "x"
