"""Plotly figures of projected survival curves (PFS by default) with 95% bands.

``write_figure`` writes a self-contained ``.html`` (plotly.js embedded, no CDN,
works offline) or a ``.png`` when kaleido is installed. plotly is imported
inside the functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mbcpath.errors import ModelError
from mbcpath.survival.projection import Projections

__all__ = ["projection_figure", "write_figure"]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def projection_figure(projections: Projections, endpoint: str = "pfs") -> Any:
    """A Plotly figure: one curve with its 95% band per option for ``endpoint``.

    Hover text names the trial, arm and what the curve rests on.
    """
    import plotly.graph_objects as go

    items = [p for p in projections.projections if p.endpoint == endpoint]
    if not items:
        raise ModelError(f"endpoint = {endpoint!r}: no projection to plot (options skipped: "
                         f"{'; '.join(projections.skipped) or 'none'})")
    fig = go.Figure()
    for i, p in enumerate(sorted(items, key=lambda p: p.option_rank or 10**6)):
        # one colour per option rank, so an option keeps its colour across the PFS and OS charts
        colour = _COLOURS[((p.option_rank or i + 1) - 1) % len(_COLOURS)]
        name = f"{p.option_rank}. {p.option_name or p.regimen_id}" if p.option_rank else p.regimen_id
        fig.add_trace(go.Scatter(x=p.times + p.times[::-1], y=p.upper + p.lower[::-1], fill="toself",
                                 fillcolor=_rgba(colour, 0.15), line={"width": 0}, hoverinfo="skip",
                                 showlegend=False, name=f"{name} 95% band"))
        fig.add_trace(go.Scatter(
            x=p.times, y=p.survival, mode="lines", line={"color": colour, "width": 2}, name=name,
            hovertemplate=(f"{name}<br>{p.trial}, arm {p.arm_label or p.arm}<br>%{{x:.1f}} months: "
                           "%{y:.0%}<extra></extra>")))
    label = {"pfs": "Progression-free survival", "os": "Overall survival"}.get(endpoint, endpoint.upper())
    fig.update_layout(
        title=f"{label}: projected from trial data (trial populations, not this patient)",
        xaxis_title="Months from start of treatment", yaxis_title=f"{label} probability",
        yaxis={"range": [0, 1.02], "tickformat": ".0%"}, template="plotly_white",
        legend={"orientation": "h", "y": -0.2})
    return fig


def write_figure(projections: Projections, out: str | Path, endpoint: str = "pfs") -> Path:
    """Write the figure to ``out``: ``.html`` (self-contained) or ``.png`` (needs kaleido).

    The HTML page holds the PFS chart and, when any option has OS data, the OS chart too
    (plotly.js embedded once); a PNG holds ``endpoint`` only.
    """
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".html", ".htm", ".png"):
        raise ModelError(f"plot = {str(path)!r}: the file must end in .html or .png")
    fig = projection_figure(projections, endpoint)
    if suffix != ".png":
        import plotly.io as pio

        figures = [fig] + [projection_figure(projections, ep) for ep in ("os",)
                           if ep != endpoint and any(p.endpoint == ep for p in projections.projections)]
        parts = [pio.to_html(f, full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figures)]
        from html import escape

        notes = "".join(f"<p>{escape(n)}</p>" for n in projections.notes)
        skipped = "".join(f"<li>{escape(n)}</li>" for n in projections.skipped)
        skipped = f"<p>Not projected:</p><ul>{skipped}</ul>" if skipped else ""
        path.write_text(
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>mbcpath projections</title></head>"
            f"<body><p><strong>Not a medical device.</strong></p>{notes}{''.join(parts)}{skipped}</body></html>",
            encoding="utf-8")
        return path
    if suffix == ".png":
        try:
            import kaleido  # noqa: F401
        except ImportError:
            raise ModelError(f"plot = {str(path)!r}: writing PNG needs the 'kaleido' package, which is not "
                             "installed; write .html instead (self-contained, opens in any browser)") from None
        try:
            fig.write_image(str(path))
        except Exception as err:  # kaleido needs a browser; report clearly
            raise ModelError(f"plot = {str(path)!r}: PNG export failed ({err}); write .html instead") from None
        return path
    return path
