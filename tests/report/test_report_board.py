"""The board model and its HTML: built from a hand-made Recommendation (engine-v2 fields filled) and from the
engine's answers for the seed cases, with the KB's trial records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mbcpath.report import build_board
from mbcpath.report.document import board_html, trial_matches_html

from .handbuilt import handbuilt

ROOT = Path(__file__).resolve().parents[2]


def _patient(name: str):
    from mbcpath.domain.validation import parse_patient

    doc = json.loads((ROOT / "examples" / "patients" / f"{name}.json").read_text())
    return parse_patient(doc.get("patient", doc))


@pytest.fixture(scope="module")
def seed01(kb):
    from mbcpath.engine import recommend

    p = _patient("seed-01-first-line")
    return p, recommend(p, kb)


def test_engine_v2_fields_reach_the_board(kb):
    """Safety stops, tiers with their source, unknown-data tags, chemotherapy-free, indirect support, trial matches,
    provisional and as-of all come through from the recommendation."""
    b = build_board(handbuilt(), kb=kb)
    assert [s.gate for s in b.stops] == ["label-qtc-lapatinib", "label-ild-tdxd"]
    assert b.stops[0].severity == "stop" and b.stops[0].regimens == ("Lapatinib + capecitabine",)
    assert b.stops[1].severity == "warning" and b.stops[1].regimens == ("trastuzumab deruxtecan",)
    r1, r2, r3 = b.rows
    assert (r1.tier_label, r1.tier_source) == ("Preferred", "NCCN 2026: preferred, category 1")
    assert r2.tier_label == "Other recommended"
    assert r1.depends_on_unknown == ("LVEF (no echocardiogram in the record)",)
    assert r3.chemotherapy_free and not r1.chemotherapy_free
    assert r3.key_support == "indirect" and r3.pfs is None and r3.landmark is None
    assert r1.summary.startswith("Longest PFS")
    assert b.provisional and b.as_of == "2026-11-30"
    assert [(m.trial, m.verdict) for m in b.trial_matches] == [
        ("DEMETHER", "eligible"), ("heredERA", "not_eligible"), ("EmpowHER-BC-303", "unknown")]
    assert b.trial_matches[1].reasons == ("not met: ER-positive (ER 0%)",)
    assert b.trial_matches[2].reasons == ("unknown: LVEF >= 50% (datum: LVEF)",)


def test_numbers_read_from_the_key_trial_with_the_option_arm_first(kb):
    """THP's row reads CLEOPATRA's medians with THP first and the HR as the trial reported it."""
    b = build_board(handbuilt(), kb=kb)
    r1, r2, _ = b.rows
    assert r1.key_trial == "DESTINY-Breast09" and r1.pfs is not None
    assert r1.pfs.values == "40.7 vs 26.9" and r1.pfs.hr == "HR 0.56 (0.44–0.71)" and not r1.pfs.hr_for_comparator
    assert r1.landmark is not None and r1.landmark.difference == "+18.0 pts"  # 70.1% vs 52.1%, published
    assert r1.toxicity == "Neutropenia 23.9%"  # the most frequent grade >= 3 event of the T-DXd + P arm
    assert r2.key_trial == "CLEOPATRA" and r2.os is not None and r2.os.values == "57.1 vs 40.8"
    assert r2.fit is not None and r2.fit.state == "unknown" and "LVEF" in r2.fit.detail


def test_an_arm_the_option_was_not_in_shows_no_numbers(kb, seed01):
    """Vinorelbine + HP cites HERNATA, whose arms had no pertuzumab: its numbers are not shown as the option's."""
    _, rec = seed01
    rows = {r.regimen_id: r for r in build_board(rec, kb=kb).rows}
    vhp = rows["vinorelbine-trastuzumab-pertuzumab"]
    assert vhp.key_trial == "HERNATA" and vhp.key_support == "indirect"
    assert vhp.pfs is None and vhp.os is None and vhp.landmark is None and vhp.toxicity == ""
    assert rows["tdxd-pertuzumab"].pfs is not None  # an arm of DESTINY-Breast09


def test_a_preferred_badge_on_an_unverified_statement_says_so(kb, seed01):
    """T-DXd + pertuzumab's support includes an NCCN listing the KB marks unverified: the board row says so
    next to the badge, not only inside a collapsed panel; THP (verified ASCO statements) carries no such note."""
    _, rec = seed01
    rows = {r.regimen_id: r for r in build_board(rec, kb=kb).rows}
    assert rows["tdxd-pertuzumab"].tier_unverified == "NCCN statement not verified in stored sources"
    assert rows["thp"].tier_unverified == ""
    html = str(board_html(build_board(rec, kb=kb)))
    assert 'title="NCCN statement not verified in stored sources">NCCN statement unverified<' in html


def test_comparator_row_says_the_hr_is_the_comparators(kb, seed01):
    """'Aromatase inhibitor alone' was TAnDEM's control arm: its medians come first and the HR is flagged."""
    _, rec = seed01
    row = next(r for r in build_board(rec, kb=kb).rows if r.regimen_id == "ai-alone")
    assert row.pfs is not None and row.pfs.values == "2.4 vs 4.8" and row.pfs.hr_for_comparator


def test_seed_board_strip_and_no_stops(kb, seed01):
    """The seed case: five strip items, none flagged, no stops, seven rows ranked 1..7, T-DXd + P on top."""
    p, rec = seed01
    b = build_board(rec, patient=p, kb=kb)
    assert [(s.key, s.value, s.state) for s in b.strip] == [
        ("lvef", "62%", "ok"), ("ild", "none", "ok"), ("qtcf", "420 ms", "ok"), ("brain", "none", "ok"),
        ("pregnancy", "not pregnant", "ok")]
    assert b.stops == () and [r.rank for r in b.rows] == list(range(1, 8))
    assert b.rows[0].name == "Trastuzumab deruxtecan + pertuzumab"


def test_low_lvef_stop_falls_back_to_the_excluded_regimens(kb):
    """LVEF 42% at first line: one LVEF stop line for every anti-HER2 drug the labels stop, listing every
    regimen it removed, and the strip flags LVEF."""
    from mbcpath.engine import recommend

    p = _patient("low-lvef-first-line")
    b = build_board(recommend(p, kb), patient=p, kb=kb)
    assert [s.gate for s in b.stops if s.severity == "stop"] == ["label:lvef"]
    stop = b.stops[0]
    assert "LVEF 42%" in stop.text and "trastuzumab" in stop.text
    assert "Trastuzumab deruxtecan + pertuzumab" in stop.regimens and len(stop.regimens) >= 6
    assert next(s for s in b.strip if s.key == "lvef").state == "flag"
    assert next(s for s in b.strip if s.key == "qtcf").state == "ok"


def test_unknown_criteria_mark_an_option_provisional(kb):
    """Unknown LVEF: options whose criteria are unknown carry the tag and the ranking is provisional."""
    from mbcpath.domain.validation import parse_patient
    from mbcpath.engine import recommend

    doc = json.loads((ROOT / "tests" / "cases" / "unknown-lvef.json").read_text())["patient"]
    p = parse_patient(doc)
    b = build_board(recommend(p, kb), patient=p, kb=kb)
    assert b.provisional
    assert any(r.depends_on_unknown for r in b.rows)
    assert next(s for s in b.strip if s.key == "lvef").state in ("unknown", "flag")


def test_board_html_shows_everything_once(kb):
    """The fragment holds the stop in red, the table, tags, the legend and the conflicts, escaped."""
    html = str(board_html(build_board(handbuilt(), kb=kb)))
    assert html.count('data-testid="safety-stop"') == 2 and "Stop:</strong> QTcF 480 ms" in html
    assert html.count('data-testid="board-row"') == 3
    assert 'data-testid="depends-on-unknown"' in html and "chemotherapy-free" in html
    assert 'data-testid="provisional"' in html and 'data-testid="legend"' in html
    assert 'href="#trial-destiny-breast09"' in html and 'href="#opt-1"' in html
    assert "indirect support" in html
    plain = str(board_html(build_board(handbuilt(), kb=kb), links=False))
    assert 'href="#' not in plain


def test_board_html_escapes_text(kb):
    """Text from the recommendation is escaped (no markup injected through a patient id or a stop text)."""
    rec = handbuilt().model_copy(update={"conflicts": ["<script>x</script>"]})
    html = str(board_html(build_board(rec, kb=kb)))
    assert "<script>x" not in html and "&lt;script&gt;x" in html


def test_trial_matches_html(kb):
    """Each match shows its verdict, registry id and status, and why it is not eligible or unknown."""
    html = str(trial_matches_html(build_board(handbuilt(), kb=kb)))
    assert html.count('data-testid="trial-match"') == 3
    assert 'data-verdict="not_eligible"' in html and "not met: ER-positive (ER 0%)" in html
    assert "NCT06172127" in html and "recruiting" in html and "no registry id" in html
    empty = str(trial_matches_html(build_board(handbuilt().model_copy(update={"trial_matches": []}), kb=kb),
                                   total_ongoing=2))
    assert 'data-testid="no-trial-matches"' in empty and "2 ongoing trials" in empty
