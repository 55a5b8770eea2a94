"""Chart data for the projections, and a small dependency-free SVG renderer.

The data model is what any renderer needs and no more: one :class:`Chart` per
comparison (curves that share a basis), each :class:`Series` split into a
``solid`` line (within the trial's follow-up) and a ``dashed`` line
(extrapolation), an optional 95% ``band`` (absent, with ``band_note``, where no
CI was published), and ``markers`` where follow-up ends. The web UI may draw
these with its own renderer; :func:`render_svg` is a plain, accessible SVG
(``role="img"``, a ``<title>`` and a ``<desc>`` listing each curve's basis)
for the CLI's HTML output and any page without one.

Colours follow the option's rank, so an option keeps its colour across charts.
"""

from __future__ import annotations

from html import escape
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mbcpath.survival.projection import NO_CI, Comparison, Projection, ProjectionResult

COLOURS: tuple[str, ...] = ("#1f5fa8", "#b2401d", "#2a7d2e", "#6b3fa0", "#a66a00", "#6d4c41", "#ad1457", "#00838f")
ENDPOINT_LABEL = {"pfs": "Progression-free survival", "os": "Overall survival"}

__all__ = ["COLOURS", "Band", "Chart", "Line", "Marker", "Series", "charts", "network_svg", "render_svg"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Line(_Out):
    x: list[float]
    y: list[float]


class Band(_Out):
    x: list[float]
    lower: list[float]
    upper: list[float]


class Series(_Out):
    key: str = Field(..., description="regimen id")
    label: str
    option_rank: int | None
    colour: str
    role: Literal["reference", "randomised", "anchored", "unanchored", "real_world", "trial"]
    solid: Line | None = Field(None, description="within the trial's follow-up")
    dashed: Line | None = Field(None, description="beyond follow-up: extrapolated")
    band: Band | None = None
    band_note: str = ""
    observed_until: float
    median: float | None = None
    basis: str = ""


class Marker(_Out):
    x: float
    label: str


class Chart(_Out):
    id: str
    endpoint: str
    kind: Literal["randomised", "anchored", "unanchored", "real_world"]
    title: str
    subtitle: str
    x_label: str = "Months from the start of treatment"
    y_label: str
    x_max: float
    series: list[Series]
    markers: list[Marker] = Field(default_factory=list)
    footnotes: list[str] = Field(default_factory=list)


def _colour(rank: int | None, i: int) -> str:
    return COLOURS[((rank or i + 1) - 1) % len(COLOURS)]


def _series(p: Projection, i: int) -> Series:
    segs = dict((style, (t, s)) for style, t, s in p.segments())
    solid = Line(x=segs["solid"][0], y=segs["solid"][1]) if "solid" in segs else None
    dashed = Line(x=segs["dashed"][0], y=segs["dashed"][1]) if "dashed" in segs else None
    band = Band(x=p.times, lower=p.lower, upper=p.upper) if p.lower is not None and p.upper is not None else None
    role_text = {"reference": "reference", "randomised": "randomised arm", "anchored": "anchored via network",
                 "unanchored": "unanchored single-arm estimate"}[p.role]
    hr = p.hr_vs_reference
    hr_text = ""
    if hr is not None:
        has_ci = hr.lower is not None and hr.upper is not None
        ci = f" (95% CI {hr.lower:.2f}-{hr.upper:.2f})" if has_ci else f" ({NO_CI})"
        hr_text = f"; HR vs reference {hr.hr:.2f}{ci}, {hr.basis}"
    return Series(key=p.regimen_id, label=f"{p.option_rank}. {p.option_name or p.regimen_id}" if p.option_rank
                  else p.regimen_id, option_rank=p.option_rank, colour=_colour(p.option_rank, i), role=p.role,
                  solid=solid, dashed=dashed, band=band, band_note=p.ci_note or ("" if band else NO_CI),
                  observed_until=p.observed_until, median=p.median,
                  basis=f"{role_text}: {p.trial}, {p.arm_label or p.arm}; model {p.model}{hr_text}")


def _chart(comp: Comparison, projs: list[Projection], horizon: float) -> Chart:
    ordered = sorted(projs, key=lambda p: (p.role != "reference", p.option_rank or 10**6))
    series = [_series(p, i) for i, p in enumerate(ordered)]
    marks: dict[float, list[str]] = {}
    for p in ordered:
        marks.setdefault(p.observed_until, []).append(p.trial)
    markers = [Marker(x=x, label=f"end of follow-up ({', '.join(sorted(set(ts)))}: {x:g} months)")
               for x, ts in sorted(marks.items()) if x < horizon]
    label = ENDPOINT_LABEL.get(comp.endpoint, comp.endpoint.upper())
    notes = ["Solid: within the trial's follow-up; dashed: extrapolated by the fitted model."]
    notes += [f"{s.label}: {s.band_note}" for s in series if s.band is None]
    notes += comp.assumptions
    return Chart(id=comp.id, endpoint=comp.endpoint, kind=comp.kind, title=f"{label}: {comp.title}",
                 subtitle=comp.basis, y_label=f"{label} probability", x_max=horizon, series=series,
                 markers=markers, footnotes=notes)


def charts(result: ProjectionResult, endpoint: str | None = None) -> list[Chart]:
    """One chart per comparison (optionally one endpoint's), in the order of the best-ranked option."""
    out = []
    for comp in result.comparisons:
        if endpoint is not None and comp.endpoint != endpoint:
            continue
        projs = [p for p in result.projections if p.comparison_id == comp.id]
        if projs:
            out.append(_chart(comp, projs, result.horizon_months))
    return out


# ----------------------------------------------------------------------------- SVG
_W, _H = 640, 340
_M = {"l": 56, "r": 16, "t": 52, "b": 48}
_LEGEND_ROW = 18


def _sx(x: float, x_max: float) -> float:
    return _M["l"] + x / x_max * (_W - _M["l"] - _M["r"])


def _sy(y: float) -> float:
    return _M["t"] + (1 - y) * (_H - _M["t"] - _M["b"])


def _path(xs: list[float], ys: list[float], x_max: float) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{_sx(x, x_max):.1f},{_sy(y):.1f}"
                    for i, (x, y) in enumerate(zip(xs, ys, strict=True)) if x <= x_max)


def _axes(chart: Chart) -> list[str]:
    out = []
    for v in (0, 0.25, 0.5, 0.75, 1.0):
        y = _sy(v)
        out.append(f'<line x1="{_M["l"]}" x2="{_W - _M["r"]}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        out.append(f'<text x="{_M["l"] - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{int(v * 100)}%</text>')
    step = 12 if chart.x_max > 24 else 6
    x = 0.0
    while x <= chart.x_max + 1e-9:
        sx = _sx(x, chart.x_max)
        out.append(f'<line x1="{sx:.1f}" x2="{sx:.1f}" y1="{_sy(0):.1f}" y2="{_sy(0) + 4:.1f}" stroke="#444"/>')
        out.append(f'<text x="{sx:.1f}" y="{_sy(0) + 16:.1f}" text-anchor="middle" font-size="11">{x:g}</text>')
        x += step
    out.append(f'<line x1="{_M["l"]}" x2="{_W - _M["r"]}" y1="{_sy(0):.1f}" y2="{_sy(0):.1f}" stroke="#444"/>')
    out.append(f'<line x1="{_M["l"]}" x2="{_M["l"]}" y1="{_sy(0):.1f}" y2="{_sy(1):.1f}" stroke="#444"/>')
    out.append(f'<text x="{(_M["l"] + _W - _M["r"]) / 2:.1f}" y="{_H - 14}" text-anchor="middle" '
               f'font-size="12">{escape(chart.x_label)}</text>')
    return out


def _series_svg(s: Series, x_max: float) -> list[str]:
    out = []
    if s.band is not None:
        up = [(x, y) for x, y in zip(s.band.x, s.band.upper, strict=True) if x <= x_max]
        lo = [(x, y) for x, y in zip(s.band.x, s.band.lower, strict=True) if x <= x_max]
        pts = " ".join(f"{_sx(x, x_max):.1f},{_sy(y):.1f}" for x, y in [*up, *reversed(lo)])
        out.append(f'<polygon points="{pts}" fill="{s.colour}" fill-opacity="0.13" stroke="none"/>')
    if s.solid is not None:
        out.append(f'<path d="{_path(s.solid.x, s.solid.y, x_max)}" fill="none" stroke="{s.colour}" '
                   f'stroke-width="2.2" data-segment="solid"/>')
    if s.dashed is not None:
        out.append(f'<path d="{_path(s.dashed.x, s.dashed.y, x_max)}" fill="none" stroke="{s.colour}" '
                   f'stroke-width="2" stroke-dasharray="6 4" data-segment="dashed"/>')
    return out


def _legend(chart: Chart) -> list[str]:
    out = []
    for i, s in enumerate(chart.series):
        y = _H + 8 + i * _LEGEND_ROW
        x = _M["l"]
        # a real-world or trial series says itself whether it has a band (see mbcpath.analytics.rw_chart)
        note = "" if s.band is not None or s.role in ("real_world", "trial") else f" ({NO_CI})"
        out.append(f'<line x1="{x}" x2="{x + 18}" y1="{y - 4}" y2="{y - 4}" stroke="{s.colour}" stroke-width="3"/>')
        out.append(f'<line x1="{x + 22}" x2="{x + 36}" y1="{y - 4}" y2="{y - 4}" stroke="{s.colour}" stroke-width="2" '
                   'stroke-dasharray="4 3"/>')
        out.append(f'<text x="{x + 42}" y="{y}" font-size="11">{escape(s.label + note)} · '
                   f'{escape(s.role.replace("_", " "))}</text>')
    return out


def render_svg(chart: Chart) -> str:
    """The chart as a standalone SVG string (no scripts, no external references)."""
    desc = " ".join(f"{s.label}: {s.basis}." for s in chart.series)
    height = _H + 12 + _LEGEND_ROW * len(chart.series)
    head, _, tail = chart.title.partition(": ")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {height}" width="100%" role="img" '
             f'aria-labelledby="{escape(chart.id)}-t {escape(chart.id)}-d" font-family="system-ui, sans-serif">',
             f'<title id="{escape(chart.id)}-t">{escape(chart.title)}</title>',
             f'<desc id="{escape(chart.id)}-d">{escape(chart.subtitle)} {escape(desc)}</desc>',
             f'<text x="{_M["l"]}" y="18" font-size="13" font-weight="600">{escape(head)}</text>',
             f'<text x="{_M["l"]}" y="36" font-size="12">{escape(tail)}</text>',
             *_axes(chart)]
    for m in chart.markers:
        x = _sx(m.x, chart.x_max)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{_sy(0):.1f}" y2="{_sy(1):.1f}" stroke="#777" '
                     f'stroke-dasharray="2 3"><title>{escape(m.label)}</title></line>')
    for s in chart.series:
        parts += _series_svg(s, chart.x_max)
    parts += _legend(chart)
    parts.append("</svg>")
    return "".join(parts)


# ----------------------------------------------------------------------------- network graph
def network_svg(treatments: list[str], edges: list[tuple[str, str, int, str]], names: dict[str, str] | None = None,
                title: str = "Network of randomised comparisons") -> str:
    """The network as an SVG: regimens on a circle, one line per directly compared pair, its width growing
    with the number of trials (``edges``: treat1, treat2, number of trials, their names)."""
    import math

    names = names or {}
    w, h, r = 900, 400, 130
    cx, cy = w / 2, h / 2 + 10
    n = max(len(treatments), 1)
    angle = {t: 2 * math.pi * i / n - math.pi / 2 for i, t in enumerate(treatments)}
    pos = {t: (cx + r * math.cos(a), cy + r * math.sin(a)) for t, a in angle.items()}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" '
             f'aria-label="{escape(title)}" font-family="system-ui, sans-serif">', f"<title>{escape(title)}</title>"]
    for a, b, k, trials in edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#1f5fa8" '
                     f'stroke-width="{1.5 + 2 * k:.1f}" stroke-opacity="0.7"><title>{escape(a)} vs {escape(b)}: '
                     f'{escape(trials)}</title></line>')
        parts.append(f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 4:.1f}" font-size="10" text-anchor="middle" '
                     f'fill="#333">{escape(trials)}</text>')
    for t, (x, y) in pos.items():
        anchor = "start" if x > cx + 1 else "end" if x < cx - 1 else "middle"
        dx = 10 if anchor == "start" else -10 if anchor == "end" else 0
        lines = _wrap(names.get(t, t))
        dy = -12 - 15 * (len(lines) - 1) if y < cy else 18
        spans = "".join(f'<tspan x="{x + dx:.1f}" dy="{0 if i == 0 else 15}">{escape(ln)}</tspan>'
                        for i, ln in enumerate(lines))
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="#b2401d"/>')
        parts.append(f'<text x="{x + dx:.1f}" y="{y + dy:.1f}" font-size="13" text-anchor="{anchor}">{spans}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _wrap(label: str, width: int = 26) -> list[str]:
    """Split a long regimen name into lines at ' + ' (or spaces), each about ``width`` characters."""
    words = label.replace(" + ", "\u00a0+ ").split(" ")
    lines: list[str] = []
    for w in words:
        if lines and len(lines[-1]) + 1 + len(w) <= width:
            lines[-1] += " " + w
        else:
            lines.append(w)
    return [ln.replace("\u00a0", " ") for ln in lines]
