"""Charts of a recommendation's projections and of trial hazard ratios, as SVG (see :mod:`mbcpath.report.svg`).

The projection layer (``mbcpath.survival``) computes the curves; this module only draws
what it returns. A projection that says where observed follow-up ends (any of the
attributes in :data:`DASHED_FROM_FIELDS`) is drawn solid to that time and dashed beyond.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from mbcpath.report.svg import PALETTE, CurveSeries, ForestRow, forest_plot

__all__ = ["DASHED_FROM_FIELDS", "forest_svg", "projection_series", "projection_svg"]

#: Attribute names a projection may use for "observed until; extrapolated after" (months).
DASHED_FROM_FIELDS = ("dashed_from", "solid_until", "observed_until", "follow_up_months", "followup_months")
_TITLES = {"pfs": "Progression-free survival", "os": "Overall survival"}


def _dashed_from(p: Any) -> float | None:
    for name in DASHED_FROM_FIELDS:
        value = getattr(p, name, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def projection_series(projections: Any, endpoint: str) -> list[CurveSeries]:
    """One :class:`CurveSeries` per projected option for ``endpoint``, in rank order, keyed by the option's rank."""
    items = [p for p in projections.projections if p.endpoint == endpoint]
    items.sort(key=lambda p: p.option_rank or 10**6)
    # one colour per option rank, so that an option keeps its colour across the PFS and OS charts
    return [CurveSeries(label=p.option_name or p.regimen_id, times=p.times, survival=p.survival, lower=p.lower,
                        upper=p.upper, dashed_from=_dashed_from(p), key=str(p.option_rank or ""),
                        colour=PALETTE[((p.option_rank or i + 1) - 1) % len(PALETTE)])
            for i, p in enumerate(items)]


def projection_svg(projections: Any, endpoint: str, *, width: int = 640, x_max: float | None = None) -> str | None:
    """The SVG charts of ``endpoint`` (``pfs`` / ``os``): one chart per common basis (the arms of one
    randomised trial, or an anchored network comparison), never curves of different trials on the same axes
    without one; None when no option has a projection for it.

    The chart model and its renderer are :mod:`mbcpath.survival.chart` (solid to the end of follow-up,
    dashed beyond, bands only where a CI was published); ``width`` and ``x_max`` are kept for callers and
    ignored (the SVG scales to its container).
    """
    from mbcpath.survival.chart import charts, render_svg

    figures = [render_svg(c) for c in charts(projections, endpoint)]
    return "\n".join(figures) or None


def forest_svg(rows: Iterable[dict[str, Any]], *, title: str, width: int = 720) -> str | None:
    """A forest plot of the rows :func:`mbcpath.web.services.forest_rows` builds (trial, endpoint, hr, lo, hi)."""
    forest = [ForestRow(label=str(r["label"]), hr=float(r["hr"]), lo=float(r["lo"]), hi=float(r["hi"]),
                        group=str(r["endpoint"]).upper(), verified=bool(r.get("verified", True)))
              for r in rows]
    return forest_plot(forest, title=title, width=width) if forest else None


def landmark_rows(projections: Any, endpoint: str, months: Sequence[float] = (12.0, 24.0, 36.0)) -> list[list[str]]:
    """Rows of ``[option, p(12), p(24), p(36)]`` in percent with the 95% band, for a table under the chart."""
    rows = []
    for p in sorted((p for p in projections.projections if p.endpoint == endpoint),
                    key=lambda p: p.option_rank or 10**6):
        cells = [f"{p.option_rank}. {p.option_name or p.regimen_id}"]
        for m in months:
            lm = p.at(m)
            cells.append("—" if lm is None else
                         f"{round(lm.probability * 100)}% ({round(lm.lower * 100)}–{round(lm.upper * 100)})")
        rows.append(cells)
    return rows
