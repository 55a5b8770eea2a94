"""The cohort page: form, sample run, upload with rejects, limits, nothing stored, nav link and banner."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from mbcpath.analytics.records import check_line
from mbcpath.analytics.synth import synth_records
from mbcpath.engine import recommend
from mbcpath.kb import load_kb

from .conftest import EXAMPLES, HTML


def _numbers(text: str, testid: str) -> list[tuple[str, int]]:
    table = text.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    return [(k.strip(), int(n)) for k, n in re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', table)]


def test_form_page_has_the_banner_the_nav_link_and_both_sources(client):
    r = client.get("/cohort", headers=HTML)
    assert r.status_code == 200
    assert "Not a medical device" in r.text and 'href="/cohort" aria-current="page"' in r.text
    assert 'type="file"' in r.text and 'name="sample"' in r.text and 'enctype="multipart/form-data"' in r.text
    assert 'href="/cohort"' in client.get("/trials", headers=HTML).text


def test_sample_run_shows_the_decision_point_mix_the_engine_gives(client):
    r = client.post("/cohort", data={"sample": "200", "seed": "5", "by": "regimen"})
    assert r.status_code == 200, r.text[:500]
    kb = load_kb()
    expected: dict[str, int] = {}
    for i, obj in enumerate(synth_records(200, 5)):
        rec = recommend(check_line(i + 1, obj).record.patient, kb)
        key = "out of scope" if rec.out_of_scope is not None or rec.decision_point is None else rec.decision_point.value
        expected[key.replace("_", " ")] = expected.get(key.replace("_", " "), 0) + 1
    assert dict(_numbers(r.text, "dp-mix")) == expected
    assert 'data-testid="cohort-records">200<' in r.text
    assert 'data-testid="chart-rw-ttd"' in r.text and 'data-testid="chart-rw-os"' in r.text
    assert "real world" in r.text and " · trial" in r.text and "data-testid='at-risk-ttd'" in r.text
    assert "<script" not in r.text.split("<main", 1)[1]  # server-side SVG, no inline script (CSP)


def test_upload_counts_rejects_and_leaves_no_file_behind(client):
    lines = [json.dumps(json.loads(f.read_text())) for f in sorted(EXAMPLES.glob("*.json"))]
    lines.append('{"patient": {"age_years": 50, "sex": "female"}}')
    body = ("\n".join(lines) + "\n").encode()
    before = set(Path(tempfile.gettempdir()).glob("mbcpath-cohort-*"))
    r = client.post("/cohort", data={"by": "line"}, files={"file": ("mine.jsonl", body, "application/x-ndjson")})
    assert r.status_code == 200
    assert set(Path(tempfile.gettempdir()).glob("mbcpath-cohort-*")) == before
    assert "uploaded file mine.jsonl" in r.text
    rejected = int(re.search(r'data-testid="cohort-rejected">(\d+)<', r.text).group(1))
    assert rejected >= 2  # the invalid example and the bare-bones line
    assert "<code>patient.her2</code>" in r.text  # the rejected line is named with its field


def test_an_empty_upload_is_refused_naming_the_file(client):
    r = client.post("/cohort", data={}, files={"file": ("empty.jsonl", b"  \n", "application/x-ndjson")})
    assert r.status_code == 400 and "empty.jsonl" in r.text and "empty" in r.text


def test_an_upload_over_the_body_limit_gets_413(make_client):
    c = make_client(max_body_bytes=4096)
    r = c.post("/cohort", files={"file": ("big.jsonl", b"x" * 10_000, "application/x-ndjson")})
    assert r.status_code == 413


def test_records_beyond_the_cap_are_counted_not_read(make_client):
    c = make_client(cohort_max_records=50)
    r = c.post("/cohort", data={"sample": "200", "seed": "1"})
    assert r.status_code == 200
    assert 'data-testid="cohort-records">50<' in r.text and "150 beyond the limit of 50 not read" in r.text


def test_concordance_table_is_the_audit_of_the_first_records(make_client):
    from mbcpath.analytics.audit import audit

    c = make_client(cohort_audit_records=60)
    r = c.post("/cohort", data={"sample": "200", "seed": "3"})
    assert r.status_code == 200
    rep = audit([check_line(i + 1, obj) for i, obj in enumerate(synth_records(60, 3))], load_kb())
    table = r.text.split('data-testid="concordance-by-dp"', 1)[1].split("</table>", 1)[0]
    assert "of the first 60 records judged" in r.text and f"{len(rep.judged)} of the first 60" in r.text
    for verdict, n in rep.counts().items():
        assert re.search(rf'data-class="{verdict}">{n}[ <]', table), (verdict, n)
    assert 'data-testid="concordance"' not in make_client(cohort_audit_records=0).post(
        "/cohort", data={"sample": "200", "seed": "3"}).text
