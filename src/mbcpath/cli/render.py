"""Render a recommendation as text a clinician reads at a glance (Rich)."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mbcpath.domain.recommendation import Option, Recommendation

_CATEGORY_STYLE = {"preferred": "bold green", "alternative": "cyan", "selected_patients": "yellow",
                   "investigational": "magenta"}
_STATUS = {"met": "[green]met[/]", "not_met": "[red]not met[/]", "unknown": "[yellow]unknown[/]"}


def _option_panel(o: Option) -> Panel:
    parts: list[RenderableType] = []
    comps = " + ".join(c.label() for c in o.components)
    parts.append(Text.from_markup(f"[bold]{comps}[/]"))
    for r in o.rationale:
        parts.append(Text(f"  • {r}"))
    for w in o.warnings:
        parts.append(Text.from_markup(f"  [bold red]⚠[/] {w}"))
    if o.criteria:
        t = Table(show_header=False, box=None, padding=(0, 1))
        for c in o.criteria:
            t.add_row(_STATUS[c.status], c.text, f"[dim]{c.detail}[/]")
        parts.append(t)
    for ev in o.evidence:
        fit = {True: "[green]patient fits eligibility[/]", False: "[red]outside eligibility[/]",
               None: "[yellow]eligibility partly unknown[/]"}[ev.fit.fits if ev.fit else None]
        design = f"phase {ev.phase}, {'randomised' if ev.randomized else 'non-randomised'}"
        n = f", n={ev.n}" if ev.n else ""
        parts.append(Text.from_markup(f"  [bold]{ev.trial}[/] ({design}{n}) — {ev.role}; {fit}"))
        for e in ev.endpoints:
            parts.append(Text(f"      {e.text}"))
        if ev.esmo_mcbs:
            parts.append(Text(f"      ESMO-MCBS {ev.esmo_mcbs}"))
    for g in o.guidelines:
        rating = f" [{g.rating}]" if g.rating else ""
        parts.append(Text(f"  ◦ {g.body}: {g.statement}{rating}"))
    style = _CATEGORY_STYLE.get(o.category.value, "")
    title = f"[{style}]#{o.rank} {o.name}[/]  ({o.category.value.replace('_', ' ')})"
    return Panel(Group(*parts), title=title, title_align="left")


def render_text(rec: Recommendation, console: Console) -> None:
    """Print the recommendation."""
    dp = rec.decision_point.value.replace("_", " ") if rec.decision_point else "-"
    console.print(f"[bold]mbcpath[/] — patient [bold]{rec.patient_id}[/] — decision point: [bold]{dp}[/] "
                  f"— KB {rec.kb_release}, engine {rec.engine_version}")
    console.print(f"[dim]{rec.disclaimer}[/]")
    if rec.out_of_scope:
        console.print(Panel(rec.out_of_scope, title="[bold red]Out of scope[/]", title_align="left"))
    for o in rec.options:
        console.print(_option_panel(o))
    if rec.conflicts:
        console.print(Panel("\n".join(f"• {c}" for c in rec.conflicts), title="[bold yellow]Conflicts to weigh[/]",
                            title_align="left"))
    if rec.missing_data:
        console.print(Panel("\n".join(f"• {m}" for m in rec.missing_data),
                            title="[bold yellow]Missing data that could change the answer[/]", title_align="left"))
    if rec.excluded:
        t = Table(title="Considered and excluded", title_justify="left", show_lines=False)
        t.add_column("regimen")
        t.add_column("kind")
        t.add_column("why not")
        order = {"safety": 0, "exposure": 1, "availability": 2, "not_indicated": 3}
        for e in sorted(rec.excluded, key=lambda e: order[e.kind]):
            kind = {"safety": "[bold red]hard stop[/]" + (" (overridable)" if e.overridable else ""),
                    "exposure": "[red]progressed on[/]", "availability": "formulary",
                    "not_indicated": "[dim]not indicated[/]"}[e.kind]
            t.add_row(e.name or e.regimen_id, kind, "; ".join(e.reasons))
        console.print(t)
