"""The results page through the TestClient: POST-redirect-GET to a link that carries the patient in its
fragment, the board view, each trial once, projections as SVG, compression, the report endpoints, and the
engine-v2 fields rendered from a hand-built recommendation."""

from __future__ import annotations

import json
import re

import pytest

from mbcpath.web.share import encode_patient
from report.handbuilt import handbuilt

from .conftest import HTML, case


def _token(patient: dict) -> str:
    return encode_patient(json.dumps(patient))


def test_form_redirects_to_a_link_carrying_the_patient(client):
    """With JavaScript (prg=1) a valid form answers 303 to /results#p=<token> that decodes to the same patient."""
    from mbcpath.domain.validation import parse_patient
    from mbcpath.web.share import decode_patient

    from .test_pages import form_of

    form = {**form_of(case("seed-01-first-line")), "action": "evaluate", "prg": "1"}
    r = client.post("/patient", data=form, headers=HTML, follow_redirects=False)
    assert r.status_code == 303
    location = r.headers["location"]
    assert location.startswith("/results#p=1.")
    assert parse_patient(decode_patient(location.split("#p=", 1)[1])) == parse_patient(case("seed-01-first-line"))
    invalid = client.post("/patient", data={**form, "er_percent": "150"}, headers=HTML, follow_redirects=False)
    assert invalid.status_code == 422  # errors never redirect


def test_without_javascript_results_render_in_the_post_response(client):
    """prg empty (no script ran): the POST answers the results page itself, projections included."""
    r = client.post("/patient/json", data={"patient_json": json.dumps(case("seed-01-first-line"))}, headers=HTML)
    assert r.status_code == 200 and 'data-testid="board"' in r.text
    assert 'chart-survival' in r.text and "data-lazy" not in r.text


def test_results_shell_carries_no_patient(client):
    """GET /results is the same page for every link: the patient never reaches the server in the URL."""
    r = client.get("/results", headers=HTML)
    assert r.status_code == 200 and 'data-render="/results"' in r.text
    assert "<noscript>" in r.text and 'data-testid="board"' not in r.text


def test_posted_token_renders_the_board_with_each_trial_once(client):
    """POST /results with the link's token: the board table (first five rows), the options in detail, and one
    card per trial."""
    r = client.post("/results", data={"p": _token(case("seed-01-first-line")), "lazy": "1"}, headers=HTML)
    assert r.status_code == 200
    html = r.text
    assert html.index('data-testid="board"') < html.index('id="options-h"')
    n = html.count('data-testid="option"')
    assert n == 7  # every option in detail; the board table shows the first five and names the rest in one row
    assert html.count('data-testid="board-row"') == 5 and 'data-testid="board-more"' in html
    more = re.search(r'data-testid="board-more"[^>]*>(.*?)</td>', html, re.S)
    assert more and "2 more" in more.group(1) and "ranked 6 to 7" in more.group(1)
    trials = re.findall(r'data-testid="trial-ref" data-trial="([^"]+)"', html)
    assert trials and len(trials) == len(set(trials))  # each trial's card once, however many options cite it
    assert trials.count("DESTINY-Breast09") == 1
    assert 'data-lazy="/results/projections"' in html  # the board does not wait for projections
    assert 'data-token="1.' in html


def test_low_lvef_stop_is_in_the_board_before_the_table(client):
    """The LVEF hard stop sits in the board, above the options table, in the first part of the page."""
    html = client.post("/results", data={"p": _token(case("low-lvef-first-line")), "lazy": "1"}, headers=HTML).text
    stop = html.index('data-testid="safety-stop"')
    assert stop < html.index('data-testid="board-table"')
    assert "LVEF 42%" in html[stop:stop + 600]
    assert 'data-key="lvef"' in html and "strip-flag" in html


def test_json_download(client):
    """The page's JSON button posts the patient and downloads the contract's recommendation."""
    r = client.post("/results.json", data={"patient_json": json.dumps(case("seed-01-first-line"))})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert "attachment" in r.headers["content-disposition"]
    assert r.json()["options"][0]["rank"] == 1 and r.json()["kb_release"]


def test_projections_fragment_is_svg(client):
    """POST /results/projections answers the charts as inline SVG with their table; no chart script anywhere."""
    r = client.post("/results/projections", data={"p": _token(case("seed-01-first-line"))}, headers=HTML)
    assert r.status_code == 200
    assert r.text.count('data-kind="randomised"') >= 1 and 'data-testid="projection-table"' in r.text
    assert r.text.count("<svg") >= 2  # the DESTINY-Breast09 comparison and the options projected apart
    assert "<script" not in r.text


def test_bad_links_are_explained(client):
    """A damaged token is a 400 page that says so; a token carrying an invalid patient opens the form with errors."""
    r = client.post("/results", data={"p": "1.!!"}, headers=HTML)
    assert r.status_code == 400 and 'data-testid="link-error"' in r.text and "damaged" in r.text
    bad = client.post("/results", data={"p": _token({**case("seed-01-first-line"), "er_percent": 150})},
                      headers=HTML)
    assert bad.status_code == 422 and "ER must be between 0 and 100 %" in bad.text


def test_edit_from_a_link_token(client):
    """'Edit patient' from a link posts the token and gets the filled form."""
    r = client.post("/patient/edit", data={"p": _token(case("third-line-active-brain-metastases"))}, headers=HTML)
    assert r.status_code == 200 and 'id="t-2-drugs"' in r.text


@pytest.mark.parametrize("path", ["/", "/patient", "/trials", "/trials/CLEOPATRA", "/walkthrough/1"])
def test_pages_load_no_chart_library(client, path):
    """No page asks for plotly (charts are SVG from the server)."""
    html = client.get(path, headers=HTML).text
    assert "plotly" not in html.lower()


def test_text_is_compressed_binary_is_not(client):
    """HTML, CSS and JS go out gzip-encoded to a client that accepts it; the compressed page is far smaller."""
    gz = {"accept": "text/html", "accept-encoding": "gzip"}
    for path in ("/patient", "/static/css/app.css", "/static/js/app.js", "/trials"):
        r = client.get(path, headers=gz)
        assert r.headers.get("content-encoding") == "gzip", path
        assert "accept-encoding" in r.headers.get("vary", "").lower()
    raw = client.get("/trials", headers={"accept": "text/html", "accept-encoding": "identity"})
    assert raw.headers.get("content-encoding") is None
    assert int(client.get("/trials", headers=gz).headers.get("content-length", "0") or 0) < len(raw.content) / 3


def test_report_html_page(client):
    """POST /report: the report as a page with a linked stylesheet (no inline style or script), statement once."""
    r = client.post("/report", data={"patient_json": json.dumps(case("seed-01-first-line"))}, headers=HTML)
    assert r.status_code == 200
    assert '<link rel="stylesheet" href="/report.css">' in r.text and "<style" not in r.text and "<script" not in r.text
    assert r.text.count("mbcpath is not a medical device.") == 1
    css = client.get("/report.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and "@page" in css.text
    bad = client.post("/report", data={"patient_json": "{oops"}, headers=HTML)
    assert bad.status_code == 400


@pytest.fixture
def handbuilt_engine(monkeypatch):
    """The engine replaced by one that answers the hand-built recommendation (engine-v2 fields filled)."""
    from mbcpath.web import deps

    monkeypatch.setattr(deps, "load_engine", lambda: (lambda patient, kb: handbuilt()))


def test_engine_v2_fields_on_the_page(client, handbuilt_engine):
    """Safety stops and warnings, tiers, unknown-data and chemotherapy-free tags, indirect support, trial
    matches with their verdicts, 'provisional' and the as-of date all appear on the results page."""
    html = client.post("/results", data={"p": _token(case("seed-01-first-line")), "lazy": "1"}, headers=HTML).text
    assert html.count('data-testid="safety-stop"') == 2 and "QTcF 480 ms: lapatinib is not started" in html
    assert "NCCN 2026: preferred, category 1" in html and "Other recommended" in html
    assert 'data-testid="depends-on-unknown"' in html and "chemotherapy-free" in html
    assert 'data-testid="provisional"' in html and "as of 2026-11-30" in html
    assert html.count('data-testid="trial-match"') == 3
    for verdict in ("eligible", "not_eligible", "unknown"):
        assert f'data-verdict="{verdict}"' in html
    assert "not met: ER-positive (ER 0%)" in html and "unknown: LVEF &gt;= 50% (datum: LVEF)" in html
    assert "Longest PFS in first line" in html  # the option's one-line summary, one click deeper
    assert "HP + AI extrapolated from H + ET" in html  # what indirect support rests on
    assert "No systemic therapy for metastatic disease yet." in html  # decision-point basis


@pytest.mark.browser
def test_report_pdf_download(client):
    """POST /report.pdf answers a PDF attachment, not gzip-encoded."""
    r = client.post("/report.pdf", data={"patient_json": json.dumps(case("seed-01-first-line"))},
                    headers={"accept": "text/html", "accept-encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and r.headers.get("content-encoding") is None
    assert 'filename="mbcpath-report-seed-01-first-line.pdf"' in r.headers["content-disposition"]


def test_pdf_without_a_browser_engine_is_a_clear_503(client, monkeypatch, tmp_path):
    """No chromium on the server: the PDF button answers 503 saying what is missing, never a 500."""
    monkeypatch.setenv("MBCPATH_CHROMIUM", str(tmp_path / "no-chromium"))
    r = client.post("/report.pdf", data={"patient_json": json.dumps(case("seed-01-first-line"))}, headers=HTML)
    assert r.status_code == 503
    assert "chromium" in r.text and "not found" in r.text and "POST /report" in r.text
