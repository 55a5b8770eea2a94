"""What the routers and pages share: body parsing, KB summaries, trial search, forest plot data.

Pure functions over the knowledge base and the request body; no I/O besides
reading the body, no patient data kept.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from fastapi import Request
from starlette.exceptions import HTTPException

from mbcpath.domain.validation import loads_strict, unwrap_patient
from mbcpath.errors import MalformedJsonError
from mbcpath.kb import KnowledgeBase
from mbcpath.kb.models import Endpoint, Trial
from mbcpath.web.schemas import KbCounts, KbOut, TrialSummaryOut

#: "the body is not JSON" (HTTP 400); kept under this name for the page routers.
MalformedJson = MalformedJsonError


def parse_json_bytes(raw: bytes) -> Any:
    """Parse a JSON body strictly (:func:`mbcpath.domain.validation.loads_strict`): malformed text raises
    :class:`MalformedJson` (400); duplicate keys and invalid text raise ``InputError`` (422)."""
    return loads_strict(raw)


async def read_json(request: Request) -> Any:
    """Read and parse a JSON request body strictly (415 without a JSON ``Content-Type``).

    For small bodies of other routes; the answer routes parse in their worker instead
    (:func:`mbcpath.web.delivery.read_body`).
    """
    from mbcpath.web.delivery import read_body

    return parse_json_bytes(await read_body(request))


# --------------------------------------------------------------------------- KB summaries
def kb_summary(kb: KnowledgeBase) -> KbOut:
    """Release stamp, counts and verified/unverified tallies."""
    rel = kb.release
    endpoints = [e for t in kb.trials.values() for e in t.endpoints]
    return KbOut(
        kb_release=rel.kb_release, date=rel.date, title=rel.title, licence=rel.licence, changes=list(rel.changes),
        counts=KbCounts(
            trials=len(kb.trials), regimens=len(kb.regimens), guidelines=len(kb.guidelines),
            statements=sum(len(g.statements) for g in kb.guidelines.values()),
            decision_files=len(kb.decisions), safety_gates=len(kb.safety.gates), sources=len(kb.sources)),
        sources_verified=sum(1 for s in kb.sources.values() if s.verified),
        sources_unverified=sum(1 for s in kb.sources.values() if not s.verified),
        endpoints_verified=sum(1 for e in endpoints if e.verified),
        endpoints_unverified=sum(1 for e in endpoints if not e.verified),
        sources_by_kind=dict(sorted(Counter(s.kind for s in kb.sources.values()).items())),
    )


def trial_summary(t: Trial) -> TrialSummaryOut:
    return TrialSummaryOut(
        id=t.id, aliases=list(t.aliases), title=t.title, nct=t.nct, phase=t.phase, randomized=t.randomized,
        status=t.status, settings=list(t.settings), line=t.line, hr_status=t.hr_status,
        n=t.n.value if t.n else None, esmo_mcbs=t.esmo_mcbs.score if t.esmo_mcbs else None,
        url=f"/api/v1/trials/{t.id}")


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def search_trials(kb: KnowledgeBase, q: str | None) -> list[Trial]:
    """Trials matching every word of ``q`` (id, aliases, title, NCT, setting, population, arms, HR status).

    Words match case-insensitively, ignoring punctuation ("db09" finds DESTINY-Breast09).
    """
    trials = sorted(kb.trials.values(), key=lambda t: t.id.lower())
    words = [w for w in (_norm(x) for x in (q or "").split()) if w]
    if not words:
        return trials
    out = []
    for t in trials:
        hay = _norm(" ".join([t.id, *t.aliases, t.title, t.nct or "", *t.settings, t.line, t.population,
                              t.hr_status, t.design, *(a.label for a in t.arms), *(a.regimen or "" for a in t.arms)]))
        hay_ids = [_norm(x) for x in (t.id, *t.aliases)]
        if all(w in hay or any(_abbrev_match(w, i) for i in hay_ids) for w in words):
            out.append(t)
    return out


def _abbrev_match(word: str, ident: str) -> bool:
    """'db09' matches 'destinybreast09'; 'hc5' matches 'her2climb05'."""
    m = re.fullmatch(r"([a-z]+)(\d+)", word)
    if not m:
        return False
    letters, digits = m.groups()
    tail = re.search(r"(\d+)$", ident)
    if not tail or int(tail.group(1)) != int(digits):
        return False
    head = ident[: tail.start()]
    it = iter(head)
    return head.startswith(letters[0]) and all(ch in it for ch in letters)


def resolve_trial(kb: KnowledgeBase, name: str) -> Trial:
    """Trial by id or alias, case-insensitively (404 otherwise)."""
    try:
        return kb.trial(name)
    except KeyError:
        raise HTTPException(404, f"no trial with id or alias {name[:80]!r}; GET /api/v1/trials lists them") from None


def trial_source_keys(t: Trial) -> list[str]:
    """Every source key a trial record cites, in first-seen order."""
    keys: list[str] = []

    def add(ks: list[str]) -> None:
        keys.extend(k for k in ks if k not in keys)

    add(t.sources)
    if t.n:
        add(t.n.sources)
    for a in t.arms:
        if a.n:
            add(a.n.sources)
    for c in t.eligibility:
        add(c.sources)
    for e in t.endpoints:
        add(e.sources)
    for x in t.toxicities:
        add(x.sources)
    if t.esmo_mcbs:
        add(t.esmo_mcbs.sources)
    return keys


# --------------------------------------------------------------------------- forest plot
def _arm_label(t: Trial, arm_id: str) -> str:
    for a in t.arms:
        if a.id == arm_id:
            return a.label
    return arm_id


def forest_rows(kb: KnowledgeBase, trials: list[Trial] | None = None,
                endpoints: tuple[str, ...] = ("pfs", "os")) -> list[dict[str, Any]]:
    """One row per ``engine_uses`` PFS/OS analysis with an HR and its 95% CI."""
    rows = []
    pool = trials if trials is not None else sorted(kb.trials.values(), key=lambda t: t.id.lower())
    for t in pool:
        for e in t.endpoints:
            if not (e.engine_uses and e.endpoint in endpoints and e.hr is not None and e.hr_ci95 is not None):
                continue
            rows.append(_row(t, e))
    _disambiguate(rows)
    rows.sort(key=lambda r: (endpoints.index(r["endpoint"]), r["trial"].lower()))
    return rows


def _disambiguate(rows: list[dict[str, Any]]) -> None:
    """Two analyses with the same trial and endpoint (e.g. MARIANNE's two experimental arms) get the
    experimental arm in their label, so each has its own line."""
    seen = Counter(r["label"] for r in rows)
    for r in rows:
        if seen[r["label"]] > 1:
            arm = r["comparison"].split(" vs ")[0]
            r["label"] = f"{r['label']} ({arm[:32]}{'…' if len(arm) > 32 else ''})"


def _row(t: Trial, e: Endpoint) -> dict[str, Any]:
    comparison = " vs ".join(_arm_label(t, a) for a in e.arms) if e.arms else ""
    lo, hi = e.hr_ci95 or (math.nan, math.nan)
    return {
        "trial": t.id, "endpoint": e.endpoint, "label": f"{t.id} · {e.endpoint.upper()}",
        "hr": e.hr, "lo": lo, "hi": hi, "comparison": comparison, "analysis": e.analysis,
        "population": e.population or "", "verified": e.verified, "randomized": t.randomized,
    }


def forest_figure(rows: list[dict[str, Any]], *, title: str = "Hazard ratios (95% CI), log scale") -> dict[str, Any]:
    """A Plotly figure (plain JSON) of hazard ratios with CIs on a log axis; HR < 1 favours the first arm."""
    colours = {"pfs": "#1f5fa8", "os": "#9a3d00"}
    data = []
    for ep in ("pfs", "os"):
        sel = [r for r in rows if r["endpoint"] == ep]
        if not sel:
            continue
        data.append({
            "type": "scatter", "mode": "markers", "name": ep.upper(),
            "x": [r["hr"] for r in sel], "y": [r["label"] for r in sel],
            "error_x": {"type": "data", "symmetric": False,
                        "array": [round(r["hi"] - r["hr"], 4) for r in sel],
                        "arrayminus": [round(r["hr"] - r["lo"], 4) for r in sel],
                        "thickness": 2, "width": 6, "color": colours[ep]},
            "marker": {"symbol": ["square" if r["verified"] else "square-open" for r in sel],
                       "size": 10, "color": colours[ep]},
            "customdata": [[r["lo"], r["hi"], r["comparison"], r["analysis"]] for r in sel],
            "hovertemplate": "%{y}<br>HR %{x:.2f} (95% CI %{customdata[0]:.2f}-%{customdata[1]:.2f})"
                             "<br>%{customdata[2]}<br>%{customdata[3]}<extra></extra>",
        })
    labels = [r["label"] for r in rows]
    height = max(260, 60 + 28 * len(rows))
    return {
        "data": data,
        "layout": {
            "title": {"text": title, "font": {"size": 15}},
            "xaxis": {"type": "log", "title": {"text": "hazard ratio (< 1 favours the experimental arm)"},
                      "tickvals": [0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2], "zeroline": False},
            "yaxis": {"categoryorder": "array", "categoryarray": list(reversed(labels)), "automargin": True},
            "shapes": [{"type": "line", "x0": 1, "x1": 1, "xref": "x", "y0": 0, "y1": 1, "yref": "paper",
                        "line": {"color": "#444", "width": 1, "dash": "dot"}}],
            "margin": {"l": 10, "r": 20, "t": 50, "b": 60}, "height": height,
            "legend": {"orientation": "h", "y": -0.2 if len(rows) < 6 else -0.08},
            "paper_bgcolor": "#ffffff", "plot_bgcolor": "#ffffff",
            "font": {"family": "system-ui, sans-serif", "color": "#1a1a1a"},
        },
    }



# --------------------------------------------------------------------------- engine calls
def recommend_for(data: Any, kb: KnowledgeBase, engine: Any) -> tuple[Any, Any]:
    """Validate a patient (raising ``InputError``) and run the engine: ``(patient, recommendation)``."""
    from mbcpath.domain.validation import parse_patient

    patient = parse_patient(unwrap_patient(data))
    return patient, engine(patient, kb)
