"""Rich text output of the survival commands: projections, sequences, the network, ESMO-MCBS."""

from __future__ import annotations

from typing import Any

NO_CI = "no CI published"


def _pct_ci(p: float, lo: float | None, hi: float | None) -> str:
    return f"{p:.0%} ({NO_CI})" if lo is None or hi is None else f"{p:.0%} ({lo:.0%}-{hi:.0%})"


def _median(p: Any) -> str:
    med = "NR" if p.median is None else f"{p.median:.1f}"
    if p.median_ci95 is None:
        return med if p.median is None else f"{med} ({NO_CI})"
    lo, hi = p.median_ci95
    return f"{med} ({'?' if lo is None else f'{lo:.1f}'}-{'NR' if hi is None else f'{hi:.1f}'})"


def render_projections(proj: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    for comp in proj.comparisons:
        items = sorted((p for p in proj.projections if p.comparison_id == comp.id),
                       key=lambda p: (p.role != "reference", p.option_rank or 10**6))
        tab = Table(title=f"{comp.endpoint.upper()}: {comp.title}", caption=comp.basis, caption_justify="left")
        for col in ("#", "option", "trial / arm", "role", "median, months (95% CI)", "12 mo", "24 mo", "36 mo",
                    "observed to", f"RMST to {comp.rmst_tau:g} mo" if comp.rmst_tau else "RMST"):
            tab.add_column(col)
        for p in items:
            cells = [_pct_ci(lm.probability, lm.lower, lm.upper) + ("" if lm.observed else " *")
                     for lm in p.landmarks[:3]]
            rm = p.rmst
            rmst = "" if rm is None else (f"{rm.value:.1f}" + (f" ({rm.lower:.1f}-{rm.upper:.1f})"
                                                                if rm.lower is not None and rm.upper is not None
                                                                else f" ({NO_CI})"))
            tab.add_row(str(p.option_rank or ""), p.option_name or p.regimen_id, f"{p.trial} / {p.arm}", p.role,
                        _median(p), *cells, f"{p.observed_until:g} mo", rmst)
        con.print(tab)
        con.print("  * extrapolated beyond the trial's follow-up", highlight=False)
        for p in items:
            sel = ", ".join(f"{c.family} {c.aic:.1f}" + (" (chosen)" if c.chosen else "")
                            for c in p.model_selection.candidates if c.aic is not None)
            con.print(f"  [bold]{p.regimen_id}[/bold]: {p.basis}. Model {p.model}; AIC: {sel or 'n/a'} "
                      f"({p.model_selection.data}). Observed to {p.observed_until:g} months: {p.observed_basis}.",
                      highlight=False)
            if p.hr_vs_reference is not None:
                h = p.hr_vs_reference
                ci = f"{h.lower:.2f}-{h.upper:.2f}" if h.lower is not None and h.upper is not None else NO_CI
                con.print(f"    HR vs reference {h.hr:.2f} ({ci}); {h.basis}", highlight=False)
            if p.lower is None and p.ci_note:
                con.print(f"    {p.ci_note}: no band is drawn", highlight=False)
            for n in p.notes:
                con.print(f"    [yellow]{n}[/yellow]", highlight=False)
        _render_differences(con, proj, comp.id)
    _render_tail(con, proj)


def _render_differences(con: Any, proj: Any, comp_id: str) -> None:
    for d in (x for x in proj.differences if x.comparison_id == comp_id):
        ci = f"{d.lower:+.1%} to {d.upper:+.1%}" if d.lower is not None and d.upper is not None else NO_CI
        con.print(f"  {d.endpoint.upper()} at {d.months:g} months: {d.option} vs {d.reference} {d.difference:+.1%} "
                  f"(95% interval {ci}; {d.comparison}{'' if d.observed else '; extrapolated'})", highlight=False)
    for d in (x for x in proj.rmst_differences if x.comparison_id == comp_id):
        ci = f"{d.lower:+.2f} to {d.upper:+.2f}" if d.lower is not None and d.upper is not None else NO_CI
        con.print(f"  RMST over {d.tau:g} months: {d.option} vs {d.reference} {d.difference:+.2f} months "
                  f"(95% interval {ci})", highlight=False)


def _render_tail(con: Any, proj: Any) -> None:
    for s in proj.subgroups:
        con.print(f"  [cyan]subgroup[/cyan] {s.regimen_id} ({s.trial}, {s.population}; fits: {s.matched}): "
                  f"{s.summary}. Overall: {s.overall}.", highlight=False)
    for s in proj.skipped:
        con.print(f"  [yellow]not projected:[/yellow] {s}", highlight=False)
    for s in proj.stale_fits:
        con.print(f"  [yellow]stale fit:[/yellow] {s}", highlight=False)
    for n in proj.notes:
        con.print(f"  [dim]{n}[/dim]", highlight=False)


def render_sequences(rep: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    tab = Table(title=f"Expected time on effective therapy within {rep.horizon_months:g} months (95% intervals)")
    for col in ("sequence", "mean, months", "median, months", "P(> 24 mo)", "P(> 60 mo)", "lines (median each)"):
        tab.add_column(col)
    for s in rep.sequences:
        lines = "; ".join(f"{ln.line}. {ln.regimen_id} {ln.median_months:g} ({ln.trial}, {ln.basis_kind})"
                          for ln in s.lines)
        tab.add_row(s.label, f"{s.mean_months:.1f} ({s.mean_ci95[0]:.1f}-{s.mean_ci95[1]:.1f})",
                    f"{s.median_months:.1f} ({s.median_ci95[0]:.1f}-{s.median_ci95[1]:.1f})",
                    f"{s.prob_beyond.get('24', 0):.0%}", f"{s.prob_beyond.get('60', 0):.0%}", lines)
    con.print(tab)
    for a in rep.assumptions:
        con.print(f"  [dim]assumption: {a}[/dim]", highlight=False)
    for n in rep.notes:
        con.print(f"  [yellow]{n}[/yellow]", highlight=False)


def _hr(h: Any) -> str:
    return "." if h is None else f"{h.hr:.2f} ({h.lower:.2f}-{h.upper:.2f})"


def render_network(rep: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    con.print(f"[bold]Network meta-analysis[/bold]: {rep.decision_point}, {rep.endpoint.upper()}, {rep.model} "
              f"effects; {rep.measure}. KB {rep.kb_release}.", highlight=False)
    for i, comp in enumerate(rep.components, 1):
        con.print(f"\n[bold]Sub-network {i}[/bold]: {len(comp.treatments)} regimens, {comp.n_trials} trials",
                  highlight=False)
        for e in comp.edges:
            con.print(f"  edge {e.treat1} -- {e.treat2}: {', '.join(e.trials)}; direct HR {_hr(e.direct_hr)}",
                      highlight=False)
        tab = Table(title="League table: network HR (95% CI), row vs column; \\[direct] where trials compared them")
        tab.add_column("")
        for t in comp.treatments:
            tab.add_column(t)
        cells = {(c.row, c.column): c for c in comp.league}
        for r in comp.treatments:
            row = []
            for c in comp.treatments:
                cell = cells.get((r, c))
                row.append("-" if cell is None else _hr(cell.network) + (f"\n\\[{_hr(cell.direct)}]" if cell.direct
                                                                         else ""))
            tab.add_row(r, *row)
        con.print(tab)
        _render_component_tail(con, comp)
    _render_network_tail(con, rep)


def _render_component_tail(con: Any, comp: Any) -> None:
    con.print("  P-scores: " + ", ".join(f"{t} {v:.3f}" for t, v in comp.p_scores.items()), highlight=False)
    h = comp.heterogeneity
    ci = f" [{h.i2_ci95[0]:.0%}; {h.i2_ci95[1]:.0%}]" if h.i2_ci95 else ""
    con.print(f"  Heterogeneity: tau^2 = {h.tau2:.4f}, I^2 = {h.i2:.0%}{ci}, Q = {h.q:.2f} on {h.df} df"
              + (f" (p = {h.p:.3f})" if h.p is not None else ""), highlight=False)
    inc = comp.inconsistency
    if inc.assessable:
        con.print(f"  Inconsistency: Q between designs {inc.q_between:.2f} on {inc.df_between} df"
                  + (f" (p = {inc.p_between:.3f})" if inc.p_between is not None else "") + "; node-splits: "
                  + "; ".join(f"{s.treat1} vs {s.treat2} direct {_hr(s.direct)} indirect {_hr(s.indirect)} "
                              f"p = {s.p}" for s in inc.node_split), highlight=False)
    else:
        con.print(f"  Inconsistency: {inc.note}", highlight=False)
    for n in comp.notes:
        con.print(f"  [dim]{n}[/dim]", highlight=False)


def _render_network_tail(con: Any, rep: Any) -> None:
    if rep.trials_without_contrast:
        con.print(f"\n  Trials of this setting without a usable HR between two regimens: "
                  f"{', '.join(rep.trials_without_contrast)}", highlight=False)
    for a in rep.assumptions:
        con.print(f"  [dim]assumption: {a}[/dim]", highlight=False)
