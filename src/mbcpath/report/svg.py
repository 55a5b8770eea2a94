"""Server-side SVG charts: survival curves with 95% bands and solid/dashed segments, and forest plots.

Small, dependency-free renderers that return an ``<svg>`` string: pages and reports embed
the chart itself, so no chart script is downloaded and the chart prints as it shows.
Each chart carries ``role="img"``, a ``<title>`` and a ``<desc>`` that states what it
shows, scales to its container (``viewBox``), and never relies on colour alone: curves
are labelled with their number at the end of the line, and extrapolated segments are
dashed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["PALETTE", "CurveSeries", "ForestRow", "forest_plot", "survival_chart"]

#: Colours with >= 3:1 contrast on white (WCAG 2.2, 1.4.11 non-text contrast), distinguishable with
#: the common colour-vision deficiencies (after Okabe and Ito), darkened where the original was too light.
PALETTE = ("#0072b2", "#c84c00", "#007a5a", "#a6427e", "#7a5c00", "#1f1f1f", "#5e4fa2", "#b8006b")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"


@dataclass(frozen=True)
class CurveSeries:
    """One survival curve: S(t) at ``times``, an optional 95% band, dashed from ``dashed_from`` on.

    ``dashed_from`` is the time after which the curve is an extrapolation (e.g. the end of the trial's
    follow-up); ``None`` draws it solid throughout. ``key`` is the short label drawn at the end of the line.
    """

    label: str
    times: Sequence[float]
    survival: Sequence[float]
    lower: Sequence[float] | None = None
    upper: Sequence[float] | None = None
    dashed_from: float | None = None
    key: str = ""
    colour: str | None = None


@dataclass(frozen=True)
class ForestRow:
    """One hazard ratio with its 95% CI; ``group`` (e.g. PFS, OS) sets the marker colour."""

    label: str
    hr: float
    lo: float
    hi: float
    group: str = ""
    verified: bool = True


def _f(x: float) -> str:
    """Coordinates to 1 decimal (enough at screen and print resolution, and keeps the SVG small)."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text_width(text: str, size: float) -> float:
    """A conservative width estimate of ``text`` in a sans-serif font of ``size`` px (no font metrics here)."""
    return 0.58 * size * len(text)


def _open(width: int, height: int, title: str, desc: str, css_class: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" viewBox="0 0 {width} {height}" '
            f'role="img" preserveAspectRatio="xMidYMid meet" '
            f'font-family="{FONT}" font-size="12">',
            f"<title>{escape(title)}</title>", f"<desc>{escape(desc)}</desc>"]


# --------------------------------------------------------------------------- survival curves
@dataclass(frozen=True)
class _Frame:
    left: float
    top: float
    width: float
    height: float
    x_max: float

    def x(self, t: float) -> float:
        return self.left + self.width * min(max(t, 0.0), self.x_max) / self.x_max

    def y(self, s: float) -> float:
        return self.top + self.height * (1.0 - min(max(s, 0.0), 1.0))


def _nice_step(x_max: float) -> float:
    for step in (3, 6, 12, 24):
        if x_max / step <= 8:
            return float(step)
    return 60.0


def _axes(fr: _Frame, x_label: str, y_label: str) -> list[str]:
    out = []
    for p in (0, 25, 50, 75, 100):
        y = fr.y(p / 100)
        out.append(f'<line x1="{_f(fr.left)}" x2="{_f(fr.left + fr.width)}" y1="{_f(y)}" y2="{_f(y)}" '
                   f'stroke="#d5dadf" stroke-width="1"/>')
        out.append(f'<text x="{_f(fr.left - 6)}" y="{_f(y + 4)}" text-anchor="end" fill="#3d4349">{p}%</text>')
    step = _nice_step(fr.x_max)
    t = 0.0
    while t <= fr.x_max + 1e-9:
        x = fr.x(t)
        out.append(f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(fr.top + fr.height)}" '
                   f'y2="{_f(fr.top + fr.height + 4)}" stroke="#3d4349"/>')
        out.append(f'<text x="{_f(x)}" y="{_f(fr.top + fr.height + 17)}" text-anchor="middle" '
                   f'fill="#3d4349">{_f(t)}</text>')
        t += step
    bottom = fr.top + fr.height
    out.append(f'<line x1="{_f(fr.left)}" x2="{_f(fr.left + fr.width)}" y1="{_f(bottom)}" y2="{_f(bottom)}" '
               f'stroke="#3d4349"/>')
    out.append(f'<text x="{_f(fr.left + fr.width / 2)}" y="{_f(bottom + 34)}" text-anchor="middle" '
               f'fill="#1a1a1a">{escape(x_label)}</text>')
    out.append(f'<text transform="translate(14 {_f(fr.top + fr.height / 2)}) rotate(-90)" text-anchor="middle" '
               f'fill="#1a1a1a">{escape(y_label)}</text>')
    return out


def _points(fr: _Frame, times: Sequence[float], values: Sequence[float]) -> list[tuple[float, float]]:
    return [(fr.x(t), fr.y(s)) for t, s in zip(times, values, strict=False) if t <= fr.x_max + 1e-9
            and math.isfinite(s)]


def _path(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{_f(x)},{_f(y)}" for x, y in points)


def _split(times: Sequence[float], values: Sequence[float], at: float | None,
           ) -> tuple[list[float], list[float], list[float], list[float]]:
    """Split a curve at ``at`` (interpolated there) into the solid part and the dashed part."""
    if at is None or not times or at >= times[-1]:
        return list(times), list(values), [], []
    if at <= times[0]:
        return [], [], list(times), list(values)
    i = next(k for k, t in enumerate(times) if t >= at)
    t0, t1, s0, s1 = times[i - 1], times[i], values[i - 1], values[i]
    s_at = s0 + (s1 - s0) * (at - t0) / (t1 - t0) if t1 > t0 else s1
    return ([*times[:i], at], [*values[:i], s_at], [at, *times[i:]], [s_at, *values[i:]])


def _series(fr: _Frame, s: CurveSeries, colour: str) -> list[str]:
    out = []
    if s.lower is not None and s.upper is not None:
        upper = _points(fr, s.times, s.upper)
        lower = _points(fr, s.times, s.lower)
        if upper and lower:
            out.append(f'<polygon points="{_path(upper + lower[::-1])}" fill="{colour}" fill-opacity="0.13" '
                       f'stroke="none"/>')
    t_solid, s_solid, t_dash, s_dash = _split(s.times, s.survival, s.dashed_from)
    if len(t_solid) > 1:
        out.append(f'<polyline points="{_path(_points(fr, t_solid, s_solid))}" fill="none" stroke="{colour}" '
                   f'stroke-width="2.2" stroke-linejoin="round"/>')
    if len(t_dash) > 1:
        out.append(f'<polyline points="{_path(_points(fr, t_dash, s_dash))}" fill="none" stroke="{colour}" '
                   f'stroke-width="2" stroke-dasharray="6 4" class="extrapolated"/>')
    return out


def _end_labels(fr: _Frame, series: Sequence[CurveSeries], colours: Sequence[str]) -> list[str]:
    """The key of each curve at its right end, moved apart vertically so that no two overlap."""
    ends: list[tuple[float, float, str, str]] = []
    for s, colour in zip(series, colours, strict=True):
        pts = _points(fr, s.times, s.survival)
        if pts and s.key:
            ends.append((pts[-1][0], pts[-1][1] + 4, s.key, colour))
    ends.sort(key=lambda e: e[1])
    out, last = [], -math.inf
    for x, y, key, colour in ends:
        last = max(y, last + 12)
        out.append(f'<text x="{_f(x + 4)}" y="{_f(last)}" fill="{colour}" font-weight="700">{escape(key)}</text>')
    return out


def _legend(items: Sequence[tuple[str, str, bool]], left: float, top: float, width: float) -> tuple[list[str], float]:
    """Legend entries laid out in rows that wrap at ``width``; returns the elements and the height used."""
    out, x, y = [], left, top
    for text, colour, dashed in items:
        w = 30 + _text_width(text, 12)
        if x > left and x + w > left + width:
            x, y = left, y + 18
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        out.append(f'<line x1="{_f(x)}" x2="{_f(x + 22)}" y1="{_f(y - 4)}" y2="{_f(y - 4)}" stroke="{colour}" '
                   f'stroke-width="2.5"{dash}/>')
        out.append(f'<text x="{_f(x + 27)}" y="{_f(y)}" fill="#1a1a1a">{escape(text)}</text>')
        x += w + 14
    return out, y - top + 18


def survival_chart(series: Sequence[CurveSeries], *, title: str, subtitle: str = "",
                   x_label: str = "Months from the start of treatment", y_label: str = "Probability",
                   x_max: float | None = None, width: int = 640, desc: str = "") -> str:
    """An SVG of survival curves with their bands; dashed segments mark extrapolation.

    Parameters
    ----------
    series : sequence of CurveSeries
        The curves, in legend order.
    title, subtitle, x_label, y_label : str
        Chart title (also the accessible name), a line under it, and axis labels.
    x_max : float, optional
        Right end of the time axis (default: the longest curve).
    width : int
        Width of the drawing in user units; the height follows from the legend.
    desc : str
        The accessible description (what the curves rest on).
    """
    longest = max((s.times[-1] for s in series if s.times), default=12.0)
    fr = _Frame(left=52, top=50 if subtitle else 34, width=width - 52 - 34, height=230,
                x_max=float(x_max or longest) or 12.0)
    body: list[str] = [f'<text x="4" y="18" font-size="14" font-weight="700" fill="#1a1a1a">{escape(title)}</text>']
    if subtitle:
        body.append(f'<text x="4" y="35" fill="#3d4349">{escape(subtitle)}</text>')
    body += _axes(fr, x_label, y_label)
    items: list[tuple[str, str, bool]] = []
    colours = [s.colour or PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]
    for s, colour in zip(series, colours, strict=True):
        body += _series(fr, s, colour)
        items.append(((f"{s.key}. " if s.key else "") + s.label, colour, False))
    body += _end_labels(fr, series, colours)
    if any(s.dashed_from is not None and s.times and s.dashed_from < s.times[-1] for s in series):
        items.append(("dashed: extrapolated beyond follow-up", "#3d4349", True))
    legend, used = _legend(items, fr.left, fr.top + fr.height + 58, width - fr.left - 10)
    height = int(fr.top + fr.height + 58 + used)
    text = desc or f"{len(series)} curves with 95% bands"
    return "".join([*_open(width, height, title, text, "chart-survival"), *body, *legend, "</svg>"])


# --------------------------------------------------------------------------- forest plot
_GROUP_COLOURS = {"PFS": "#0b4f8a", "OS": "#9a3d00"}
_TICKS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0)


def _log_range(rows: Sequence[ForestRow]) -> tuple[float, float]:
    lo = min([r.lo for r in rows if r.lo > 0] + [0.5])
    hi = max([r.hi for r in rows] + [1.5])
    return math.log(lo * 0.9), math.log(hi * 1.1)


def forest_plot(rows: Sequence[ForestRow], *, title: str, x_label: str = "Hazard ratio (log scale; < 1 favours "
                "the first arm)", width: int = 720) -> str:
    """An SVG forest plot: one line per hazard ratio with its 95% CI on a log axis, and a line at HR = 1.

    Squares are filled for verified values and open for values not verified in stored sources.
    """
    label_w = min(max((_text_width(r.label, 12) for r in rows), default=80) + 12, width * 0.42)
    value_w = 118.0
    left, right = label_w, width - value_w
    row_h, top = 24.0, 40.0
    a, b = _log_range(rows)

    def x(v: float) -> float:
        return left + (right - left) * (math.log(max(v, 1e-9)) - a) / (b - a)

    bottom = top + row_h * len(rows)
    out = [f'<text x="4" y="20" font-size="14" font-weight="700" fill="#1a1a1a">{escape(title)}</text>',
           f'<line x1="{_f(x(1))}" x2="{_f(x(1))}" y1="{_f(top - 6)}" y2="{_f(bottom)}" stroke="#3d4349" '
           'stroke-dasharray="3 3"/>']
    for i, r in enumerate(rows):
        out += _forest_row(r, top + row_h * i + row_h / 2, x, label_w, width)
    out += _forest_axis(x, a, b, bottom, left, right, x_label)
    height = int(bottom + 48)
    desc = f"{len(rows)} hazard ratios with 95% confidence intervals on a log scale; the dashed line marks HR 1."
    return "".join([*_open(width, height, title, desc, "chart-forest"), *out, "</svg>"])


Scale = Callable[[float], float]


def _forest_row(r: ForestRow, y: float, xf: Scale, label_w: float, width: int) -> list[str]:
    colour = _GROUP_COLOURS.get(r.group, "#0b4f8a")
    label = r.label if _text_width(r.label, 12) <= label_w - 8 else r.label[: int((label_w - 8) / 7) - 1] + "…"
    fill = colour if r.verified else "#ffffff"
    star = "" if r.verified else " *"
    return [
        f'<text x="4" y="{_f(y + 4)}" fill="#1a1a1a">{escape(label)}</text>',
        f'<line x1="{_f(xf(r.lo))}" x2="{_f(xf(r.hi))}" y1="{_f(y)}" y2="{_f(y)}" stroke="{colour}" '
        'stroke-width="2"/>',
        f'<rect x="{_f(xf(r.hr) - 5)}" y="{_f(y - 5)}" width="10" height="10" fill="{fill}" stroke="{colour}" '
        'stroke-width="2"/>',
        f'<text x="{width - 4}" y="{_f(y + 4)}" text-anchor="end" fill="#1a1a1a">'
        f"{r.hr:.2f} ({r.lo:.2f}–{r.hi:.2f}){star}</text>",
    ]


def _forest_axis(xf: Scale, a: float, b: float, bottom: float, left: float, right: float, label: str) -> list[str]:
    out = [f'<line x1="{_f(left)}" x2="{_f(right)}" y1="{_f(bottom)}" y2="{_f(bottom)}" stroke="#3d4349"/>']
    for t in _TICKS:
        if a <= math.log(t) <= b:
            out.append(f'<line x1="{_f(xf(t))}" x2="{_f(xf(t))}" y1="{_f(bottom)}" y2="{_f(bottom + 4)}" '
                       'stroke="#3d4349"/>')
            out.append(f'<text x="{_f(xf(t))}" y="{_f(bottom + 17)}" text-anchor="middle" fill="#3d4349">'
                       f"{t:g}</text>")
    out.append(f'<text x="{_f((left + right) / 2)}" y="{_f(bottom + 36)}" text-anchor="middle" '
               f'fill="#1a1a1a">{escape(label)}</text>')
    return out
