"""Jinja filters and labels: how values read on the page (presentation only, no clinical logic)."""

from __future__ import annotations

import math
from typing import Any

from jinja2 import Environment

DECISION_POINTS = {
    "first_line": "First line", "maintenance": "Maintenance after induction", "second_line": "Second line",
    "third_line_or_later": "Third line or later", "cns_event": "CNS event (isolated CNS progression)",
    "next_line": "Next line",
}
CATEGORIES = {"preferred": "Preferred", "alternative": "Alternative", "selected_patients": "Selected patients",
              "investigational": "Investigational"}
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


def label(value: Any) -> str:
    """A readable label for an enum value (``first_line`` -> ``First line``)."""
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
        text = f"{x:.{digits}f}".rstrip("0").rstrip(".")
        return text or "0"
    return str(x)


def hr_text(hr: Any, ci: Any = None) -> str:
    """``HR 0.56 (95% CI 0.47–0.66)``."""
    if hr is None:
        return ""
    text = f"HR {num(hr, 2)}"
    if ci:
        text += f" (95% CI {num(ci[0], 2)}–{num(ci[1], 2)})"
    return text


def fit_label(fit: Any) -> str:
    if fit is None or getattr(fit, "fits", None) is None:
        return "eligibility unknown"
    return "fits eligibility" if fit.fits else "outside eligibility"


def fit_class(fit: Any) -> str:
    if fit is None or getattr(fit, "fits", None) is None:
        return "unknown"
    return "met" if fit.fits else "not_met"


def source_href(kb: Any, key: str) -> str | None:
    src = kb.sources.get(key) if kb is not None else None
    return src.url if src is not None else None


def source_title(kb: Any, key: str) -> str:
    src = kb.sources.get(key) if kb is not None else None
    if src is None:
        return key
    return src.citation or src.url or key


def source_verified(kb: Any, key: str) -> bool | None:
    src = kb.sources.get(key) if kb is not None else None
    return None if src is None else bool(src.verified)


def endpoint_parts(text: str, fallback: str) -> tuple[str, str, str]:
    """Split the engine's endpoint sentence into (label, result, context) for display.

    ``"PFS (BICR): 40.7 vs 26.9 months (median); HR 0.56 [arms; analysis]"`` ->
    ``("PFS (BICR)", "40.7 vs 26.9 months (median); HR 0.56", "arms; analysis")``.
    """
    body, context = text, ""
    if text.endswith("]") and " [" in text:
        body, context = text[:-1].rsplit(" [", 1)
    head, sep, rest = body.partition(": ")
    if not sep or len(head) > 40:
        return fallback, body, context
    return head, rest, context


def is_safety_stop(excluded: Any, gate_ids: set[str]) -> bool:
    """An exclusion made by a safety gate (kb/decisions/safety.yaml), not by a rule's indication."""
    return any(g in gate_ids for g in getattr(excluded, "gates", ()))


def register(env: Environment) -> None:
    env.filters.update(label=label, num=num, fit_label=fit_label, fit_class=fit_class)
    env.tests.update(is_safety_stop=is_safety_stop)
    env.globals.update(hr_text=hr_text, endpoint_parts=endpoint_parts, source_href=source_href,
                       source_title=source_title,
                       source_verified=source_verified, label=label)
