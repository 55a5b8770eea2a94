"""The `mbcpath kb` commands: JSON output, 80-column text, diff (dates, releases), watch."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

from conftest import ROOT, run_cli
from mbcpath.kb.history import diff_kb, kb_as_of, load_kb_at


def _run_piped(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a pipe would: no terminal, no COLUMNS hint."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run([sys.executable, "-m", "mbcpath.cli.main", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120, check=False)


def test_kb_list_json_lists_every_trial(kb):
    """`kb list --format json` gives every trial with its regimens and first known_since."""
    res = run_cli("kb", "list", "--format", "json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["kb_release"] == kb.release.kb_release
    rows = {r["id"]: r for r in data["trials"]}
    assert set(rows) == set(kb.trials)
    assert rows["NALA"]["regimens"] == ["lapatinib-capecitabine", "neratinib-capecitabine"]
    assert rows["DESTINY-Breast09"]["known_since"] == "2025-06-30"


def test_kb_list_text_fits_80_columns_and_keeps_full_names():
    """Piped `kb list`: no line over 80 columns, and `grep DESTINY-Breast09` finds the trial."""
    res = _run_piped("kb", "list")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("DESTINY-Breast09 ") for line in lines)
    assert any(line.startswith("EmpowHER-BC-303 ") for line in lines)


def test_kb_show_json_carries_the_trial_and_its_sources():
    """`kb show DB-09 --format json`: the record, the release and every cited source record."""
    res = run_cli("kb", "show", "DB-09", "--format", "json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["id"] == "DESTINY-Breast09"
    rate = next(e for e in data["endpoints"] if e["endpoint"] == "pfs_rate")
    assert rate["rates"] == {"tdxd_p": 70.1, "thp": 52.1}
    assert "DB09-11" in data["source_records"]
    assert {a["agency"] for a in data["regulatory"]} >= {"FDA", "EMA", "PMDA"}


def test_kb_show_unknown_trial_exits_2():
    """An unknown trial name is bad input: exit 2 with a hint."""
    res = run_cli("kb", "show", "NOT-A-TRIAL")
    assert res.returncode == 2 and "kb list" in res.stderr


def test_as_of_view_drops_evidence_not_yet_public(kb):
    """As of 2024-06-01 DESTINY-Breast09 and PATINA are unknown; the 2012 CLEOPATRA record is there."""
    old = kb_as_of(kb, dt.date(2024, 6, 1))
    assert "DESTINY-Breast09" not in old.trials and "PATINA" not in old.trials
    assert "CLEOPATRA" in old.trials
    assert "fda-2025-tdxd-pertuzumab-1l" not in old.statements
    later = kb_as_of(kb, dt.date(2025, 12, 20))
    assert "DESTINY-Breast09" in later.trials and "fda-2025-tdxd-pertuzumab-1l" in later.statements


def test_diff_between_two_dates_names_the_new_trials(kb):
    """diff_kb(as of 2024-06-01, as of 2026-12-01) lists DESTINY-Breast09 among added trials."""
    d = diff_kb(load_kb_at("2024-06-01"), load_kb_at("2026-12-01"))
    assert "DESTINY-Breast09" in d.trials.added
    assert any(k.startswith("DESTINY-Breast09 | pfs_rate") for k in d.endpoints.added)
    assert "fda-2025-tdxd-pertuzumab-1l" in d.statements.added
    assert not d.trials.removed


def test_diff_of_a_kb_with_itself_is_empty(kb):
    """The same KB on both sides gives an empty diff."""
    assert diff_kb(kb, kb).empty


def test_kb_diff_cli_json():
    """`kb diff FROM TO --format json` is the structured diff."""
    res = run_cli("kb", "diff", "2024-06-01", "2026-12-01", "--format", "json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert "DESTINY-Breast09" in data["trials"]["added"]


def test_kb_diff_rejects_an_unknown_revision():
    """A FROM that is neither a date, a release nor a git revision exits 2 naming it."""
    res = run_cli("kb", "diff", "no-such-revision-xyz", "2026-12-01")
    assert res.returncode == 2 and "no-such-revision-xyz" in res.stderr


def test_kb_watch_lists_pending_readouts_with_check_dates():
    """`kb watch --format json` carries the DB-09 final PFS and the DB-09 scorecard with last_checked."""
    res = run_cli("kb", "watch", "--format", "json")
    assert res.returncode == 0, res.stderr
    items = {i["id"]: i for i in json.loads(res.stdout)}
    for key in ("db09-final-pfs", "db09-tdxd-alone", "db09-os", "heredera", "demether", "her2climb05-os",
                "her2climb05-approvals", "nccn-current", "mcbs-db09", "mcbs-patina", "mcbs-her2climb05"):
        assert key in items, key
        assert items[key]["last_checked"] >= "2026-12-02"


def test_kb_validate_passes_with_nothing_waived():
    """`kb validate` passes the shipped release with no waived decision-file offence left."""
    res = run_cli("kb", "validate")
    assert res.returncode == 0, res.stderr
    assert "2026.12.0 valid" in res.stdout
    assert "waived" not in res.stderr
