"""CLI: ``mbcpath reconstruct``, ``mbcpath project`` and ``mbcpath kb mcbs`` (real entry point, exit codes)."""

from __future__ import annotations

import json
import re

from conftest import run_cli

from .conftest import DATA


def test_reconstruct_writes_ipd_and_summary(tmp_path):
    """Good input: exit 0, a one-line summary, and a time,event CSV."""
    out = tmp_path / "ipd.csv"
    r = run_cli("reconstruct", "--curve", str(DATA / "survhe_curve.csv"), "--at-risk", str(DATA / "survhe_nar.csv"),
                "--events", "20", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("n=61 events=20 censored=41")
    assert out.read_text().splitlines()[0] == "time,event"


def test_reconstruct_bad_input_exits_2_with_one_line(tmp_path):
    """Numbers at risk that grow: exit 2 and one stderr line naming file, column, value and rule."""
    nar = tmp_path / "nar.csv"
    nar.write_text("time,n_at_risk\n0,61\n4,55\n8,59\n")
    r = run_cli("reconstruct", "--curve", str(DATA / "survhe_curve.csv"), "--at-risk", str(nar),
                "--out", str(tmp_path / "x.csv"))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(nar) in lines[0] and "'n_at_risk' = 59" in lines[0] and "grow" in lines[0]


def test_kb_mcbs_json_and_text():
    """``kb mcbs`` gives the final score under 'score', beside 'preliminary' and each adjustment."""
    r = run_cli("kb", "mcbs", "EMILIA", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert (data["score"], data["preliminary"], data["form"]) == (4, 3, "2b")
    assert data["adjustments"][0]["delta"] == 1
    t = run_cli("kb", "mcbs", "DB-01")
    assert t.returncode == 0 and "final score 2" in t.stdout
    bad = run_cli("kb", "mcbs", "NOPE-1")
    assert bad.returncode == 2 and "trial = 'NOPE-1'" in bad.stderr


def test_project_json_and_plot(tmp_path):
    """``project`` emits the projections JSON and writes self-contained HTML (inline SVG, no script) or SVG."""
    plot = tmp_path / "charts.html"
    r = run_cli("project", str(DATA.parents[1] / "cases" / "seed-01-first-line.json"), "--format", "json",
                "--plot", str(plot))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["projections"] and all("basis" in p and "assumptions" in p for p in data["projections"])
    assert {c["kind"] for c in data["comparisons"]} >= {"randomised", "unanchored"}
    html = plot.read_text(encoding="utf-8")
    assert "<svg" in html and "<script" not in html and 'data-segment="dashed"' in html
    svg = tmp_path / "pfs.svg"
    r = run_cli("project", str(DATA.parents[1] / "cases" / "seed-01-first-line.json"), "--plot", str(svg))
    assert r.returncode == 0 and svg.read_text(encoding="utf-8").startswith("<svg")
    bad = run_cli("project", str(DATA.parents[1] / "cases" / "seed-01-first-line.json"), "--plot", "x.png")
    assert bad.returncode == 2 and "must end in .html or .svg" in bad.stderr


def test_project_text_says_no_ci_published_and_marks_extrapolation():
    """The text table prints 'no CI published' where none was, never an interval like 28.5 (28.5-28.5)."""
    r = run_cli("project", str(DATA.parents[1] / "cases" / "seed-01-first-line.json"))
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "no CI published" in text and "extrapolated beyond the trial's follow-up" in text
    assert "Arms of one randomised trial" in r.stdout and "DESTINY-Breast09" in r.stdout
    assert not re.search(r"\b(\d+\.\d)\s\(\1-\1\)", r.stdout)


def test_project_sequence():
    """``project --sequence``: sequences from the best-ranked options with expected time on effective therapy."""
    r = run_cli("project", str(DATA.parents[1] / "cases" / "seed-01-first-line.json"), "--sequence", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    labels = [s["label"] for s in data["sequences"]]
    assert any(lab.startswith("Taxane + trastuzumab + pertuzumab (THP) -> Trastuzumab deruxtecan") for lab in labels)
    assert any(lab.startswith("Trastuzumab deruxtecan + pertuzumab") for lab in labels)
    for s in data["sequences"]:
        assert s["mean_ci95"][0] < s["mean_months"] < s["mean_ci95"][1]
    t = run_cli("project", str(DATA.parents[1] / "cases" / "seed-01-first-line.json"), "--sequence")
    assert t.returncode == 0 and "Expected time on effective" in t.stdout and "assumption:" in t.stdout


def test_nma_json_and_text():
    """``nma --decision-point second_line``: the T-DM1 network (DESTINY-Breast03, EMILIA, HER2CLIMB-02, and
    PHOEBE through lapatinib + capecitabine) with a league table; bad values exit 2."""
    r = run_cli("nma", "--decision-point", "second_line", "--endpoint", "pfs", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    comp = next(c for c in data["components"] if "tdm1" in c["treatments"])
    assert set(comp["treatments"]) == {"tdxd", "tdm1", "lapatinib-capecitabine", "tucatinib-tdm1",
                                       "pyrotinib-capecitabine"}
    assert len(comp["league"]) == 5 * 4 and not comp["inconsistency"]["assessable"]
    t = run_cli("nma", "-d", "first_line")
    assert t.returncode == 0 and "League table" in t.stdout and "P-scores" in t.stdout
    bad = run_cli("nma", "--decision-point", "fourth_line")
    assert bad.returncode == 2 and "fourth_line" in bad.stderr


def test_kb_mcbs_all_marks_computed_scores():
    """``kb mcbs all``: DESTINY-Breast09, PATINA and HER2CLIMB-05 are computed, with no published scorecard."""
    r = run_cli("kb", "mcbs", "all", "--format", "json")
    assert r.returncode == 0, r.stderr
    by = {x["trial"]: x for x in json.loads(r.stdout)}
    for t in ("DESTINY-Breast09", "PATINA", "HER2CLIMB-05"):
        assert by[t]["status"] == "computed, no published scorecard" and by[t]["published_score"] is None
    assert by["CLEOPATRA"]["published_score"] == 4 and by["CLEOPATRA"]["status"].startswith("published")


def test_project_invalid_patient_exits_2():
    """An invalid patient: exit 2 and the InputError's one line."""
    r = run_cli("project", str(DATA.parents[1] / "cases" / "invalid-er-percent.json"))
    assert r.returncode == 2
    assert r.stderr.strip().startswith("invalid patient: er_percent = 150")
