"""CLI: ``mbcpath reconstruct``, ``mbcpath project`` and ``mbcpath kb mcbs`` (real entry point, exit codes)."""

from __future__ import annotations

import json

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
    """``project`` emits Projections JSON and writes a self-contained HTML plot."""
    plot = tmp_path / "pfs.html"
    r = run_cli("project", str(DATA.parents[1] / "cases" / "seed-01-first-line.json"), "--format", "json",
                "--plot", str(plot))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["projections"] and all("basis" in p and "assumptions" in p for p in data["projections"])
    assert plot.stat().st_size > 1_000_000


def test_project_invalid_patient_exits_2():
    """An invalid patient: exit 2 and the InputError's one line."""
    r = run_cli("project", str(DATA.parents[1] / "cases" / "invalid-er-percent.json"))
    assert r.returncode == 2
    assert r.stderr.strip().startswith("invalid patient: er_percent = 150")
