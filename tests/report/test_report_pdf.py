"""`mbcpath report`: a 1-2 page A4 PDF rendered by Debian's chromium, read back with poppler (pdftotext, pdfinfo)
and rendered to PNG (pdftoppm); PNGs are kept under artifacts/screenshots/ for review."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

pytestmark = pytest.mark.browser

SEED = ROOT / "examples" / "patients" / "seed-01-first-line.json"
SHOTS = ROOT / "artifacts" / "screenshots"
STATEMENT = "mbcpath is not a medical device."


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: the PDF checks need Debian's poppler-utils (`make setup` installs it)")
    return path


def _text(pdf: Path) -> str:
    out = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split())


def _pages(pdf: Path) -> int:
    out = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def seed_report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.pdf"
    res = run_cli("report", str(SEED), "--out", str(out))
    assert res.returncode == 0, res.stderr
    return out


def test_seed_report_is_at_most_two_pages_naming_the_top_option_its_trial_and_the_statement(seed_report, kb):
    """The seed first-line report: <= 2 A4 pages naming the rank-1 option, its key trial, the statement once,
    the KB release and the as-of date."""
    from mbcpath.domain.validation import parse_patient
    from mbcpath.engine import recommend

    rec = recommend(parse_patient(json.loads(SEED.read_text())), kb)
    top = rec.options[0]
    key = next(e.trial for e in top.evidence if e.support == "direct")
    assert _pages(seed_report) <= 2
    text = _text(seed_report)
    assert top.name in text and key in text
    assert text.count(STATEMENT) == 1
    assert f"knowledge base release {rec.kb_release}" in text and "Evidence as of" in text
    for heading in ("Missing data", "To weigh", "Projected outcomes", "Clinical trials for this patient"):
        assert heading in text, heading


def test_report_renders_to_png(seed_report):
    """pdftoppm renders every page to a PNG of A4 proportions (kept as an artefact)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    prefix = SHOTS / "report-seed-01"
    for old in SHOTS.glob("report-seed-01-*.png"):  # pages of an earlier run
        old.unlink()
    subprocess.run([_tool("pdftoppm"), "-r", "60", "-png", str(seed_report), str(prefix)], check=True)
    pngs = sorted(SHOTS.glob("report-seed-01-*.png"))
    assert 1 <= len(pngs) <= 2
    for png in pngs:
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert abs(height / width - 297 / 210) < 0.02  # A4


def test_low_lvef_report_states_the_stop(tmp_path):
    """The low-LVEF report names the LVEF stop on its first page."""
    out = tmp_path / "lvef.pdf"
    res = run_cli("report", str(ROOT / "examples/patients/low-lvef-first-line.json"), "--out", str(out),
                  "--no-charts")
    assert res.returncode == 0, res.stderr
    first = subprocess.run([_tool("pdftotext"), "-f", "1", "-l", "1", str(out), "-"], capture_output=True, text=True,
                           check=True).stdout
    first = " ".join(first.split())
    assert "Safety stop" in first and "LVEF 42%" in first
    assert "LVEF 42% !" in first  # the strip flags the value a stop names, and still shows it


def test_patient_summary_adds_one_plain_language_page(tmp_path, seed_report):
    """--patient-summary adds exactly one page, in plain words, after the board pages."""
    out = tmp_path / "with-summary.pdf"
    res = run_cli("report", str(SEED), "--out", str(out), "--patient-summary")
    assert res.returncode == 0, res.stderr
    assert _pages(out) == _pages(seed_report) + 1
    last = subprocess.run([_tool("pdftotext"), "-f", str(_pages(out)), "-l", str(_pages(out)), str(out), "-"],
                          capture_output=True, text=True, check=True).stdout
    last = " ".join(last.split())
    assert "Your treatment options: a summary for you" in last
    assert "not a medical device" in last
    assert "HR " not in last and "PFS" not in last  # no trial jargon or numbers on the patient page


def test_report_html_output_and_bad_suffix(tmp_path):
    """--out report.html writes the same report as HTML; another suffix exits 2 naming the option."""
    out = tmp_path / "r.html"
    assert run_cli("report", str(SEED), "--out", str(out), "--no-charts").returncode == 0
    html = out.read_text()
    assert html.startswith("<!doctype html>") and "<script" not in html and STATEMENT in html
    bad = run_cli("report", str(SEED), "--out", str(tmp_path / "r.docx"))
    assert bad.returncode == 2 and "--out" in bad.stderr and ".pdf or .html" in bad.stderr


def test_report_of_invalid_patient_exits_2(tmp_path):
    """An invalid patient gives exit 2 and one line naming the field, and writes nothing."""
    out = tmp_path / "x.pdf"
    res = run_cli("report", str(ROOT / "examples/patients/invalid-unknown-drug.json"), "--out", str(out))
    assert res.returncode == 2 and "treatments[0].drugs" in res.stderr
    assert not out.exists()
