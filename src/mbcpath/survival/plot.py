"""Self-contained HTML of the projection charts (server-side SVG; no JavaScript, no CDN).

``write_figure(result, "out.html")`` writes every comparison's chart (one per
basis: randomised trial, anchored comparison, unanchored single-arm estimate),
the table of what each curve rests on, the differences with their intervals,
and what could not be projected.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from mbcpath.errors import ModelError
from mbcpath.survival.chart import charts, render_svg
from mbcpath.survival.projection import NO_CI, ProjectionResult

__all__ = ["projection_html", "write_figure"]


def _pct(x: float | None) -> str:
    return "?" if x is None else f"{x:.0%}"


def _ci(lo: float | None, hi: float | None, fmt: str = "{:.0%}") -> str:
    if lo is None or hi is None:
        return f" ({NO_CI})"
    return f" ({fmt.format(lo)} to {fmt.format(hi)})"


def _table(result: ProjectionResult) -> str:
    rows = []
    for p in sorted(result.projections, key=lambda p: (p.endpoint, p.option_rank or 0)):
        med = "not reached" if p.median is None else f"{p.median:.1f}"
        if p.median_ci95 is not None:
            lo, hi = p.median_ci95
            med += f" ({'?' if lo is None else f'{lo:.1f}'} to {'NR' if hi is None else f'{hi:.1f}'})"
        elif p.median is not None:
            med += f" ({NO_CI})"
        lms = "; ".join(f"{lm.months:g} mo {_pct(lm.probability)}{_ci(lm.lower, lm.upper)}"
                        f"{'' if lm.observed else ' (extrapolated)'}" for lm in p.landmarks[:3])
        rows.append(f"<tr><td>{escape(p.endpoint.upper())}</td><td>{p.option_rank}. {escape(p.option_name)}</td>"
                    f"<td>{escape(p.basis_kind)}</td><td>{escape(p.trial)}</td><td>{escape(med)}</td>"
                    f"<td>{escape(lms)}</td><td>{escape(p.model)}; observed to {p.observed_until:g} months "
                    f"({escape(p.observed_basis)})</td></tr>")
    head = ("<tr><th>endpoint</th><th>option</th><th>basis</th><th>trial</th><th>median, months (95% CI)</th>"
            "<th>landmarks (95% CI)</th><th>model and extent</th></tr>")
    return f"<table border='1' cellpadding='4'>{head}{''.join(rows)}</table>"


def _differences(result: ProjectionResult) -> str:
    items = [f"<li>{escape(d.endpoint.upper())} at {d.months:g} months: {escape(d.option)} vs {escape(d.reference)} "
             f"{d.difference:+.1%}{escape(_ci(d.lower, d.upper, '{:+.1%}'))} ({escape(d.comparison)})</li>"
             for d in result.differences]
    items += [f"<li>{escape(d.endpoint.upper())} RMST over {d.tau:g} months: {escape(d.option)} vs "
              f"{escape(d.reference)} {d.difference:+.2f} months{escape(_ci(d.lower, d.upper, '{:+.2f}'))}</li>"
              for d in result.rmst_differences]
    return f"<ul>{''.join(items)}</ul>" if items else ""


def projection_html(result: ProjectionResult) -> str:
    """The whole report as one HTML document."""
    figs = "".join(f"<figure>{render_svg(c)}<figcaption>{escape(c.subtitle)}<br>"
                   f"{'<br>'.join(escape(n) for n in c.footnotes)}</figcaption></figure>" for c in charts(result))
    notes = "".join(f"<p>{escape(n)}</p>" for n in result.notes)
    skipped = "".join(f"<li>{escape(n)}</li>" for n in result.skipped)
    skipped = f"<h2>Not projected</h2><ul>{skipped}</ul>" if skipped else ""
    subs = "".join(f"<li>{escape(s.regimen_id)} ({escape(s.trial)}, {escape(s.population)}): {escape(s.summary)}; "
                   f"overall: {escape(s.overall)}</li>" for s in result.subgroups)
    subs = f"<h2>Subgroups that fit this patient</h2><ul>{subs}</ul>" if subs else ""
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>mbcpath projections</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:860px;margin:1em auto}figure{margin:1.5em 0}"
            "figcaption{font-size:.85em;color:#444}table{border-collapse:collapse;font-size:.85em}</style></head>"
            f"<body><p><strong>Not a medical device.</strong></p>{notes}{figs}<h2>What each curve rests on</h2>"
            f"{_table(result)}<h2>Differences (95% intervals)</h2>{_differences(result)}{subs}{skipped}"
            "</body></html>")


def write_figure(result: ProjectionResult, out: str | Path, endpoint: str | None = None) -> Path:
    """Write the charts to ``out`` (``.html`` or ``.svg``; an SVG holds the first chart of ``endpoint``)."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".html", ".htm", ".svg"):
        raise ModelError(f"plot = {str(path)!r}: the file must end in .html or .svg")
    if suffix == ".svg":
        found = charts(result, endpoint or "pfs")
        if not found:
            raise ModelError(f"endpoint = {endpoint or 'pfs'!r}: no projection to plot (options skipped: "
                             f"{'; '.join(result.skipped) or 'none'})")
        path.write_text(render_svg(found[0]), encoding="utf-8")
        return path
    if not result.projections:
        raise ModelError(f"plot = {str(path)!r}: no option could be projected ({'; '.join(result.skipped) or 'none'})")
    path.write_text(projection_html(result), encoding="utf-8")
    return path
