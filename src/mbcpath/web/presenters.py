"""Jinja filters and labels: how values read on the page (presentation only, no clinical logic).

The labels and number formats are those of :mod:`mbcpath.report.labels`, so a page and a
report say the same thing the same way; the board view is the report's own fragment.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from mbcpath.report.labels import (
    CATEGORIES,
    CATEGORY_MEANING,
    CLASSES,
    DECISION_POINTS,
    ENDPOINTS,
    STATUS,
    hr_text,
    label,
    num,
    slug,
)

__all__ = ["CATEGORIES", "CLASSES", "DECISION_POINTS", "ENDPOINTS", "STATUS", "endpoint_parts", "fit_class",
           "fit_label", "hr_text", "is_safety_stop", "label", "num", "register", "source_href", "source_title",
           "source_verified"]


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


_STOP_KINDS = frozenset({"safety", "exposure", "availability"})


def is_safety_stop(excluded: Any, gate_ids: set[str]) -> bool:
    """An exclusion made by a safety gate, a drug label, exposure or availability, not by a rule's indication.

    The engine's ``kind`` decides; ``gate_ids`` (kb/decisions/safety.yaml) is the fallback for answers without one.
    """
    kind = getattr(excluded, "kind", None)
    if kind is not None:
        return kind in _STOP_KINDS
    return any(g in gate_ids for g in getattr(excluded, "gates", ()))


def board_html(board: Any, links: bool = True) -> Any:
    """The board view fragment (shared with the PDF report)."""
    from mbcpath.report.document import board_html as render

    return render(board, links=links)


def trial_matches_html(board: Any, total_ongoing: int | None = None) -> Any:
    """The trial-matching list (shared with the PDF report)."""
    from mbcpath.report.document import trial_matches_html as render

    return render(board, links=True, total_ongoing=total_ongoing)


def register(env: Environment) -> None:
    env.filters.update(label=label, num=num, fit_label=fit_label, fit_class=fit_class, slug=slug)
    env.tests.update(is_safety_stop=is_safety_stop)
    env.globals.update(hr_text=hr_text, endpoint_parts=endpoint_parts, source_href=source_href,
                       source_title=source_title, source_verified=source_verified, label=label,
                       board_html=board_html, trial_matches_html=trial_matches_html,
                       category_labels=CATEGORIES, category_meaning=CATEGORY_MEANING)
