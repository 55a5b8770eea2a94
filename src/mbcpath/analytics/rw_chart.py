"""Charts of real-world survival beside the trial curves: one chart per endpoint.

Real-world Kaplan-Meier curves are drawn as solid steps with their shaded 95%
band; the trial curve of the same regimen is drawn dashed in the same colour,
with a marker where the trial's follow-up ends (beyond it the fitted model
extrapolates). Every series says which it is (``real world`` or ``trial``) in
the legend and in the SVG's description. The data model is
:class:`mbcpath.survival.chart.Chart`, so the same server-side SVG renderer as
the projections draws it (:func:`survival_svg`, no JavaScript: the web page);
:func:`survival_html` writes an interactive Plotly document for the CLI.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from mbcpath.analytics.rw_survival import ENDPOINT_LABEL, ENDPOINTS, TRIAL_ENDPOINT, KmCurve, RwSurvival, TrialCurve
from mbcpath.errors import ModelError
from mbcpath.survival.chart import COLOURS, Band, Chart, Line, Marker, Series, render_svg

__all__ = ["at_risk_table_html", "survival_charts", "survival_html", "survival_svg", "write_chart"]

TITLE = {"ttd": "real world, beside the trials' PFS", "os": "real world vs trial"}


def _steps(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    """A Kaplan-Meier step function as a polyline."""
    out_x, out_y = [xs[0]], [ys[0]]
    for i in range(1, len(xs)):
        out_x += [xs[i], xs[i]]
        out_y += [ys[i - 1], ys[i]]
    return out_x, out_y


def _rw_series(c: KmCurve, colour: str) -> Series:
    x, y = _steps(c.times, c.survival)
    bx, lo = _steps(c.times, c.lower)
    _, hi = _steps(c.times, c.upper)
    med = "not reached" if c.median is None else f"{c.median:g} months"
    return Series(key=f"rw:{c.group}", label=f"{c.group} (n = {c.n}, {c.events} events)", option_rank=None,
                  colour=colour, role="real_world", solid=Line(x=x, y=y), band=Band(x=bx, lower=lo, upper=hi),
                  observed_until=c.max_time, median=c.median,
                  basis=f"real-world Kaplan-Meier, {c.n} observations, {c.events} events, median {med}")


def _trial_series(t: TrialCurve, colour: str, x_max: float, with_band: bool = True) -> Series:
    keep = [i for i, x in enumerate(t.times) if x <= x_max]
    xs = [t.times[i] for i in keep]
    band = None
    if with_band and t.lower is not None and t.upper is not None:
        band = Band(x=xs, lower=[t.lower[i] for i in keep], upper=[t.upper[i] for i in keep])
    no_ci = " (no CI published)" if t.lower is None else ""
    return Series(key=f"trial:{t.regimen_id}", label=f"{t.regimen_id}: {t.trial} {t.trial_endpoint.upper()}{no_ci}",
                  option_rank=None, colour=colour, role="trial",
                  dashed=Line(x=xs, y=[t.survival[i] for i in keep]), band=band,
                  band_note="" if band is not None or with_band else "band not drawn" if t.lower is not None
                  else "no CI published", observed_until=t.observed_until,
                  basis=f"trial curve ({t.basis_kind}), {t.trial}, {t.trial_endpoint.upper()}; "
                        f"follow-up to {t.observed_until:g} months, the fitted model beyond")


def _largest(curves: list[KmCurve], max_groups: int | None) -> list[KmCurve]:
    if max_groups is None or len(curves) <= max_groups:
        return curves
    keep = {c.group for c in sorted(curves, key=lambda c: (-c.n, c.group))[:max_groups]}
    return [c for c in curves if c.group in keep]


def _missing_for(result: RwSurvival, endpoint: str) -> list[str]:
    tag = f" {TRIAL_ENDPOINT[endpoint].upper()}"
    return [m for m in result.no_trial_curve if tag in m or "not a regimen" in m]


def _chart(result: RwSurvival, endpoint: str, max_groups: int | None = None,
           trial_bands: bool = True) -> Chart | None:
    every = [c for c in result.curves if c.endpoint == endpoint]
    if not every:
        return None
    curves = _largest(every, max_groups)
    x_max = max(12.0, min(60.0, max(c.max_time for c in curves)))
    colours = {c.group: COLOURS[i % len(COLOURS)] for i, c in enumerate(curves)}
    series = [_rw_series(c, colours[c.group]) for c in curves]
    trials = [t for t in result.trial_curves if t.endpoint == endpoint and t.regimen_id in colours]
    series += [_trial_series(t, colours[t.regimen_id], x_max, trial_bands) for t in trials]
    markers = [Marker(x=t.observed_until, label=f"end of follow-up ({t.trial}: {t.observed_until:g} months)")
               for t in trials if t.observed_until < x_max]
    notes = ["Solid steps: real-world Kaplan-Meier with its 95% confidence band. Dashed: the trial curve of the "
             "same regimen (restating the trial's population, not this cohort's); beyond the marked end of the "
             "trial's follow-up it is the fitted model's extrapolation."]
    if endpoint == "ttd":
        notes.append("Real-world time on treatment is compared with the trial's PFS, its closest trial endpoint "
                     "(Blumenthal 2019); they are not the same endpoint.")
    if not trial_bands:
        notes.append("The trial curves' 95% bands are not drawn here (see the projections of each option).")
    if len(curves) < len(every):
        notes.append(f"The {len(curves)} largest of {len(every)} groups are drawn; the table lists every group.")
    notes += [m.replace("for this patient's population", "in the knowledge base")
              for m in _missing_for(result, endpoint) if any(m.startswith(c.group) for c in curves)]
    return Chart(id=f"rw-{endpoint}", endpoint=endpoint, kind="real_world",
                 title=f"{ENDPOINT_LABEL[endpoint]}: {TITLE[endpoint]}",
                 subtitle=f"Real world vs trial, grouped by {result.by.replace('_', ' ')}; "
                          f"knowledge base {result.kb_release}",
                 x_label="Months from the start of the line" if result.by != "decision_point" or endpoint == "ttd"
                 else "Months from the decision",
                 y_label=f"{ENDPOINT_LABEL[endpoint]} probability", x_max=x_max, series=series, markers=markers,
                 footnotes=notes)


def survival_charts(result: RwSurvival, *, max_groups: int | None = None, trial_bands: bool = True) -> list[Chart]:
    """One chart per endpoint that has curves (time on treatment, then overall survival); ``max_groups``: draw
    only the largest groups."""
    return [c for c in (_chart(result, ep, max_groups, trial_bands) for ep in ENDPOINTS) if c is not None]


def at_risk_table_html(result: RwSurvival, endpoint: str) -> str:
    """Numbers at risk every 6 months, medians (95% CI), n and events for one endpoint's curves."""
    curves = [c for c in result.curves if c.endpoint == endpoint]
    if not curves:
        return ""
    marks = sorted({a.months for c in curves for a in c.at_risk if a.months <= 60})
    head = "".join(f"<th scope='col'>{m:g}</th>" for m in marks)
    rows = []
    for c in curves:
        n_at = {a.months: a.n for a in c.at_risk}
        cells = "".join(f"<td>{n_at.get(m, 0)}</td>" for m in marks)
        lo, hi = c.median_ci95
        med = "not reached" if c.median is None else f"{c.median:g}"
        ci = f"{'NE' if lo is None else f'{lo:g}'} to {'NR' if hi is None else f'{hi:g}'}"
        rows.append(f"<tr><th scope='row'>{escape(c.group)}</th><td>{c.n}</td><td>{c.events}</td>"
                    f"<td>{escape(med)} ({ci})</td>{cells}</tr>")
    return (f"<table class='at-risk' data-testid='at-risk-{endpoint}'><caption>{escape(ENDPOINT_LABEL[endpoint])}: "
            "numbers at risk (months)</caption><thead><tr><th scope='col'>group</th><th scope='col'>n</th>"
            f"<th scope='col'>events</th><th scope='col'>median, months (95% CI)</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def survival_svg(result: RwSurvival, *, max_groups: int | None = None,
                 trial_bands: bool = True) -> list[tuple[Chart, str]]:
    """Each chart with its SVG (server-side, no scripts)."""
    return [(c, render_svg(c)) for c in survival_charts(result, max_groups=max_groups, trial_bands=trial_bands)]


def _plotly_figure(chart: Chart) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    for s in chart.series:
        line = s.solid or s.dashed
        if s.band is not None:
            fig.add_trace(go.Scatter(x=[*s.band.x, *reversed(s.band.x)], y=[*s.band.upper, *reversed(s.band.lower)],
                                     fill="toself", fillcolor=s.colour, opacity=0.15, line={"width": 0},
                                     hoverinfo="skip", showlegend=False, legendgroup=s.key))
        if line is not None:
            fig.add_trace(go.Scatter(x=line.x, y=line.y, mode="lines", name=f"{s.label} · {s.role.replace('_', ' ')}",
                                     legendgroup=s.key, hovertext=s.basis,
                                     line={"color": s.colour, "dash": "dash" if s.dashed else "solid",
                                           "width": 2.2 if s.solid else 1.8}))
    for m in chart.markers:  # the label is in the footnotes and the hover text, not over the curves
        fig.add_trace(go.Scatter(x=[m.x, m.x], y=[0, 1], mode="lines", hovertext=m.label, hoverinfo="text",
                                 line={"color": "#777", "dash": "dot", "width": 1}, showlegend=False))
    fig.update_layout(title=chart.title, xaxis_title=chart.x_label, yaxis_title=chart.y_label, height=520,
                      yaxis={"range": [0, 1.02], "tickformat": ".0%"}, xaxis={"range": [0, chart.x_max]},
                      template="plotly_white", legend={"font": {"size": 10}}, margin={"r": 20})
    return fig


def survival_html(result: RwSurvival) -> str:
    """A self-contained HTML document: interactive Plotly charts (plotly.js inlined, no CDN), numbers at risk,
    definitions and what has no trial curve."""
    parts = []
    for i, chart in enumerate(survival_charts(result)):
        fig = _plotly_figure(chart)
        parts.append(fig.to_html(full_html=False, include_plotlyjs=i == 0, div_id=chart.id))
        parts.append(at_risk_table_html(result, chart.endpoint))
        parts.append("<ul class='notes'>" + "".join(f"<li>{escape(n)}</li>" for n in chart.footnotes) + "</ul>")
    defs = "".join(f"<li>{escape(d)}</li>" for d in result.definitions)
    excl = "".join(f"<li>{escape(k)}: {v}</li>" for k, v in result.excluded.items())
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>mbcpath real-world survival</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:1em auto}table{border-collapse:"
            "collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:2px 6px}.notes{font-size:.85em}</style>"
            f"</head><body><p><strong>Not a medical device.</strong> {result.records} records ({result.rejected} "
            f"rejected), grouped by {escape(result.by.replace('_', ' '))}.</p>{''.join(parts)}"
            f"<h2>Definitions</h2><ul>{defs}</ul>"
            + (f"<h2>Left out</h2><ul>{excl}</ul>" if excl else "") + "</body></html>")


def write_chart(result: RwSurvival, out: str | Path) -> Path:
    """Write ``out``: ``.html`` (interactive Plotly) or ``.svg`` (the first chart, static)."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".html", ".htm", ".svg"):
        raise ModelError(f"out = {str(path)!r}: the file must end in .html or .svg")
    charts = survival_svg(result)
    if not charts:
        raise ModelError(f"out = {str(path)!r}: no curve to draw (no record contributed an observation)")
    text = charts[0][1] if suffix == ".svg" else survival_html(result)
    path.write_text(text, encoding="utf-8")
    return path
