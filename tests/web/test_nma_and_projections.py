"""The evidence-synthesis page and API, and the projections behind POST /api/v1/projections and the results
page: charts one basis each, server-side SVG, honest intervals."""

from __future__ import annotations

import re

from .conftest import case


def test_nma_api_returns_the_network_report(client):
    """GET /api/v1/nma: components with a league table, P-scores, heterogeneity and inconsistency."""
    r = client.get("/api/v1/nma", params={"decision_point": "second_line", "endpoint": "os"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["decision_point"] == "second_line" and body["endpoint"] == "os"
    comp = body["components"][0]
    assert {"league", "p_scores", "heterogeneity", "inconsistency", "edges"} <= set(comp)
    assert client.get("/api/v1/nma", params={"decision_point": "tenth_line"}).status_code == 422


def test_nma_page_shows_graph_league_table_and_mcbs(client):
    """GET /nma: an SVG network graph, a league table, heterogeneity, inconsistency, and ESMO-MCBS with
    'computed, no published scorecard' for DESTINY-Breast09, PATINA and HER2CLIMB-05 beside published scores."""
    r = client.get("/nma", params={"decision_point": "first_line", "endpoint": "pfs"})
    assert r.status_code == 200
    html = r.text
    assert html.count('data-testid="subnetwork"') == 2 and "<svg" in html and 'data-testid="league-table"' in html
    assert 'data-testid="heterogeneity"' in html and 'data-testid="inconsistency"' in html
    mcbs = html[html.index('data-testid="mcbs-table"'):]
    for trial in ("DESTINY-Breast09", "PATINA", "HER2CLIMB-05"):
        row = re.search(rf'<a href="/trials/{trial}">{trial}</a>.*?</tr>', mcbs, re.S).group(0)
        assert "computed, no published scorecard" in row
    cleo = re.search(r'<a href="/trials/CLEOPATRA">CLEOPATRA</a>.*?</tr>', mcbs, re.S).group(0)
    assert "computed, no published scorecard" not in cleo


def test_projections_api_groups_curves_by_basis(client):
    """POST /api/v1/projections: DB09 arms on one randomised chart with 24-month PFS near 70.1% vs 52.1%."""
    r = client.post("/api/v1/projections", json=case("seed-01-first-line"))
    assert r.status_code == 200
    body = r.json()
    db09 = next(c for c in body["comparisons"] if c["endpoint"] == "pfs" and c["reference_trial"] == "DESTINY-Breast09")
    assert db09["kind"] == "randomised" and set(db09["members"]) == {"thp", "tdxd-pertuzumab"}
    at24 = {p["regimen_id"]: next(lm for lm in p["landmarks"] if lm["months"] == 24.0)["probability"]
            for p in body["projections"] if p["comparison_id"] == db09["id"]}
    assert abs(at24["tdxd-pertuzumab"] - 0.701) <= 0.03 and abs(at24["thp"] - 0.521) <= 0.03


def test_results_page_draws_svg_charts_without_zero_width_intervals(client):
    """The results page draws each comparison as inline SVG (no chart script) and never prints an interval of
    zero width: 'no CI published' instead."""
    import json

    r = client.post("/patient/json", data={"patient_json": json.dumps(case("seed-01-first-line"))})
    assert r.status_code == 200, r.text[:300]
    html = r.text
    assert 'data-testid="projections"' in html and "<svg" in html and "plotly" not in html
    assert 'data-kind="randomised"' in html and 'data-kind="unanchored"' in html
    assert "no CI published" in html
    seq = html[html.index('data-testid="sequences-table"'):]
    assert "Taxane + trastuzumab + pertuzumab (THP) -&gt; Trastuzumab deruxtecan" in seq
    # a curve at 0% or 100% after rounding (an extrapolated tail) is a floor, not a missing interval
    assert not re.search(r"\b([1-9]\d?)% <span[^>]*>\(\1–\1\)", html)
