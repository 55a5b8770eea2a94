"""The trial explorer: searchable list with a forest plot (server-side SVG), and a page per trial."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from mbcpath.report.charts import forest_svg
from mbcpath.web.deps import KbDep, TemplatesDep
from mbcpath.web.services import forest_rows, resolve_trial, search_trials, trial_source_keys

router = APIRouter()


@router.get("/trials", response_class=HTMLResponse)
async def trials_page(request: Request, kb: KbDep, templates: TemplatesDep,
                      q: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    """Every trial (or those matching ``q``) and a forest plot of their PFS/OS hazard ratios."""
    found = search_trials(kb, q)
    rows = forest_rows(kb, found)
    ctx = {"trials": found, "q": q or "", "rows": rows, "section": "trials",
           "figure": forest_svg(rows, title="Hazard ratios (95% CI), log scale")}
    return templates.TemplateResponse(request, "trials.html", ctx)


@router.get("/trials/{trial_id}", response_class=HTMLResponse)
async def trial_page(request: Request, trial_id: str, kb: KbDep, templates: TemplatesDep) -> Response:
    """One trial: design, eligibility, arms, endpoints, toxicities, publications and sources."""
    t = resolve_trial(kb, trial_id)
    hr_rows = []
    for e in t.endpoints:
        if e.hr is not None and e.hr_ci95 is not None:
            arms = " vs ".join(next((a.label for a in t.arms if a.id == x), x) for x in e.arms)
            hr_rows.append({"trial": t.id, "endpoint": e.endpoint if e.endpoint in ("pfs", "os") else "pfs",
                            "label": f"{e.endpoint.upper()} · {e.analysis[:48]}", "hr": e.hr, "lo": e.hr_ci95[0],
                            "hi": e.hr_ci95[1], "comparison": arms, "analysis": e.analysis,
                            "verified": e.verified, "randomized": t.randomized, "population": e.population or ""})
    figure = forest_svg(hr_rows, title=f"{t.id}: hazard ratios of every analysis")
    arm_labels = {a.id: a.label for a in t.arms}
    ctx = {"t": t, "arm_labels": arm_labels, "source_keys": trial_source_keys(t), "figure": figure,
           "section": "trials"}
    return templates.TemplateResponse(request, "trial.html", ctx)
