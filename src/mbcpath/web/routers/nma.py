"""The evidence-synthesis page: network meta-analysis per decision point, and ESMO-MCBS computed from the KB.

``GET /nma`` (page) and ``GET /api/v1/nma`` (JSON, the same report as ``mbcpath nma --format json``). The work
is done by :func:`mbcpath.survival.network.network_report` (cached per KB); these handlers are synchronous, so
FastAPI runs them in its thread pool, off the event loop.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from mbcpath.errors import MbcpathError
from mbcpath.web.deps import KbDep, TemplatesDep

router = APIRouter()
api_router = APIRouter(prefix="/nma", tags=["evidence synthesis"])

DecisionPointQ = Annotated[Literal["first_line", "second_line", "maintenance", "third_line_or_later", "cns_event"],
                           Query(description="whose randomised trials form the network")]
EndpointQ = Annotated[Literal["pfs", "os"], Query(description="pfs or os")]


@api_router.get("", summary="Network meta-analysis of a decision point's randomised trials")
def nma_json(kb: KbDep, decision_point: DecisionPointQ = "first_line", endpoint: EndpointQ = "pfs") -> Response:
    """Graph, league table (HR with 95% CI), P-scores, heterogeneity, inconsistency and contributing trials."""
    from mbcpath.survival.network import network_report

    rep = network_report(kb, decision_point, endpoint)
    return Response(rep.model_dump_json(), media_type="application/json")


def _mcbs_rows(kb: Any) -> list[Any]:
    from mbcpath.survival.mcbs import mcbs_for_trial

    rows = []
    for t in sorted(kb.trials.values(), key=lambda t: t.id.lower()):
        if not (t.randomized or t.esmo_mcbs):
            continue
        try:
            rows.append(mcbs_for_trial(t))
        except MbcpathError:
            continue
    return rows


@router.get("/nma", response_class=HTMLResponse)
def nma_page(request: Request, kb: KbDep, templates: TemplatesDep, decision_point: DecisionPointQ = "first_line",
             endpoint: EndpointQ = "pfs") -> Response:
    """The network graph, league table, P-scores, heterogeneity and inconsistency; ESMO-MCBS beside it."""
    from mbcpath.survival.chart import network_svg
    from mbcpath.survival.network import network_report

    rep = network_report(kb, decision_point, endpoint)
    graphs = [network_svg(c.treatments, [(e.treat1, e.treat2, len(e.trials), ", ".join(e.trials)) for e in c.edges],
                          c.names, title=f"Sub-network {i}: {len(c.treatments)} regimens, {c.n_trials} trials")
              for i, c in enumerate(rep.components, 1)]
    leagues = [{(cell.row, cell.column): cell for cell in c.league} for c in rep.components]
    ctx = {"rep": rep, "graphs": graphs, "leagues": leagues, "mcbs": _mcbs_rows(kb), "section": "nma",
           "decision_points": ["first_line", "second_line", "maintenance", "third_line_or_later", "cns_event"]}
    return templates.TemplateResponse(request, "nma.html", ctx)
