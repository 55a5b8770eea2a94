"""Server-rendered pages through the TestClient (no browser): content, forms without JavaScript, headers."""

from __future__ import annotations

import html as htmllib
import json
import re

import pytest

from .conftest import HTML, case, examples_dir


def seed(prefix: str) -> str:
    return next(p.stem for p in sorted(examples_dir().glob(f"{prefix}-*.json")))


@pytest.mark.parametrize("path", ["/", "/patient", "/trials", "/trials/CLEOPATRA", "/walkthrough", "/walkthrough/1",
                                  "/walkthrough/2", "/walkthrough/3", "/docs"])
def test_every_page_has_disclaimer_release_lang_and_landmarks(client, kb, path):
    """Each page states 'not a medical device', shows the KB release, and has lang and landmarks."""
    r = client.get(path, headers=HTML)
    assert r.status_code == 200
    html = r.text
    assert '<html lang="en">' in html
    assert "Not a medical device" in html
    assert f'data-testid="kb-release">{kb.release.kb_release}<' in html
    for landmark in ('role="banner"', '<main id="main"', 'role="contentinfo"', '<nav aria-label="Main"'):
        assert landmark in html
    assert "<script>" not in html and "onclick=" not in html  # no inline script (CSP)
    assert "https://cdn" not in html


def test_pages_have_a_strict_csp(client):
    """Pages are served with CSP script-src 'self' and no-store."""
    r = client.get("/patient", headers=HTML)
    assert "script-src 'self';" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"


def test_static_files_and_plotly_are_served_locally(client):
    """CSS, JS and plotly.min.js come from this server and may be cached."""
    for path in ("/static/css/app.css", "/static/css/print.css", "/static/js/app.js", "/static/favicon.svg"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "no-store" not in r.headers.get("cache-control", "")
    js = client.get("/static/vendor/plotly.min.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert b"plotly.js" in js.content[:500]


def test_form_prefills_an_example(client):
    """?example= fills every field, treatment rows included."""
    html = client.get("/patient", params={"example": seed("seed-03")}, headers=HTML).text
    assert 'id="age_years" name="age_years"' in html
    assert re.search(r'id="t-1-drugs"[^>]*value="trastuzumab, pertuzumab, letrozole, ribociclib"', html)
    assert re.search(r'<option value="active" selected>', html)


def test_unknown_example_is_404_page(client):
    """An unknown example id is an HTML 404 page for a browser."""
    r = client.get("/patient", params={"example": "nope"}, headers=HTML)
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert "no example patient" in r.text


def form_of(patient: dict) -> dict:
    """The posted form fields of a contract patient (what the browser sends)."""
    from mbcpath.web import forms

    state = forms.state_from_contract(patient)
    data: dict = {k: v for k, v in state.values.items() if k != "metastatic_sites"}
    data["metastatic_sites"] = state.values["metastatic_sites"]
    for i, row in enumerate(state.rows):
        for k, v in row.items():
            data[f"t-{i}-{k}"] = v
    return data


def test_form_post_renders_results(client):
    """Posting the form of a vignette renders ranked options with trials and the decision point."""
    r = client.post("/patient", data={**form_of(case("third-line-active-brain-metastases")), "action": "evaluate"},
                    headers=HTML)
    assert r.status_code == 200
    assert 'data-testid="decision-point">Third line or later<' in r.text
    assert 'data-rank="1"' in r.text and 'data-trial="HER2CLIMB"' in r.text
    assert 'data-testid="safety-stops"' in r.text


def test_form_post_with_error_shows_it_next_to_the_field(client):
    """An invalid form comes back 422 with the message wired to its input (aria-describedby, aria-invalid)."""
    form = {**form_of(case("seed-01-first-line")), "er_percent": "150", "action": "evaluate"}
    r = client.post("/patient", data=form, headers=HTML)
    assert r.status_code == 422
    assert 'id="er_percent-error"' in r.text
    assert re.search(r'id="er_percent"[^>]*aria-describedby="er_percent-hint er_percent-error" aria-invalid="true"',
                     r.text)
    assert 'value="150"' in r.text  # the input is kept as typed
    assert "ER must be between 0 and 100 % (entered: 150)" in r.text
    assert "Input should be" not in r.text and "er_percent:" not in r.text


def test_form_treatment_error_lands_on_its_row(client):
    """A bad drug in the second visible row is shown on that row, even after an empty row is skipped."""
    form = {**form_of(case("seed-01-first-line")), "action": "evaluate",
            "t-0-drugs": "", "t-0-setting": "metastatic",  # empty row: ignored
            "t-1-drugs": "docetaxel, trastuzumabb", "t-1-setting": "adjuvant", "t-1-started_months_ago": "30",
            "t-1-ended_months_ago": "24", "presentation": "recurrent"}
    r = client.post("/patient", data=form, headers=HTML)
    assert r.status_code == 422
    assert 'id="t-1-drugs-error"' in r.text and "did you mean: trastuzumab" in r.text


def test_form_rows_work_without_javascript(client):
    """'Add treatment' and 'Remove' are submit buttons the server honours when JavaScript is off."""
    form = form_of(case("seed-03-isolated-cns-progression"))
    added = client.post("/patient", data={**form, "action": "add_row"}, headers=HTML)
    assert added.status_code == 200 and 'id="t-2-drugs"' in added.text
    removed = client.post("/patient", data={**form, "action": "remove_row:0"}, headers=HTML)
    assert 'id="t-1-drugs"' not in removed.text
    assert re.search(r'id="t-0-drugs"[^>]*value="trastuzumab, pertuzumab, letrozole, ribociclib"', removed.text)


def test_override_lifts_an_overridable_stop(client):
    """A documented override posted with the form reaches the engine."""
    form = {**form_of(case("low-lvef-first-line")), "action": "evaluate",
            "o-0-gate": "lvef-below-50-start", "o-0-reason": "cardio-oncology review, cleared"}
    r = client.post("/patient", data=form, headers=HTML)
    assert r.status_code == 200
    before = client.post("/patient", data={**form_of(case("low-lvef-first-line")), "action": "evaluate"}, headers=HTML)
    assert r.text.count('data-testid="option"') > before.text.count('data-testid="option"')


def test_pasted_json_and_edit_round_trip(client):
    """Pasted JSON is evaluated; the results page carries the patient back to the form."""
    r = client.post("/patient/json", data={"patient_json": json.dumps(case("seed-01-first-line"))}, headers=HTML)
    assert r.status_code == 200
    carried = re.search(r'name="patient_json" value="([^"]*)"', r.text).group(1)
    edit = client.post("/patient/edit", data={"patient_json": htmllib.unescape(carried)}, headers=HTML)
    assert edit.status_code == 200 and 'value="56"' in edit.text


def test_pasted_malformed_json(client):
    """Pasted text that is not JSON comes back 400 with the reason."""
    r = client.post("/patient/json", data={"patient_json": "{oops"}, headers=HTML)
    assert r.status_code == 400 and "not valid JSON" in r.text


def test_results_show_out_of_scope(client):
    """HER2-negative input is stated as out of scope, with no options."""
    patient = json.dumps(case("her2-negative-out-of-scope"))
    r = client.post("/patient/json", data={"patient_json": patient}, headers=HTML)
    assert 'data-testid="out-of-scope"' in r.text and 'data-testid="option"' not in r.text


def test_trials_page_search_and_forest(client):
    """The trial explorer filters by ?q= and draws the forest plot as server-side SVG, with its table."""
    r = client.get("/trials", params={"q": "db09"}, headers=HTML)
    assert "1 trial matching" in r.text and 'data-trial="DESTINY-Breast09"' in r.text
    full = client.get("/trials", headers=HTML).text
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart-forest"' in full and "log scale" in full
    assert "plotly" not in full
    assert 'data-testid="forest-table"' in full


def test_trial_page_by_alias_and_404(client):
    """A trial page resolves an alias; an unknown trial is a 404 page."""
    assert "<h1>DESTINY-Breast09" in client.get("/trials/db-09", headers=HTML).text
    r = client.get("/trials/NOPE", headers=HTML)
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]


def test_walkthrough_steps(client):
    """The walkthrough's three steps reach first line, maintenance and CNS event; step 4 is 404."""
    expected = {1: "First line", 2: "Maintenance after induction", 3: "CNS event (isolated CNS progression)"}
    for n, dp in expected.items():
        assert f'data-testid="decision-point">{dp}<' in client.get(f"/walkthrough/{n}", headers=HTML).text
    assert client.get("/walkthrough/4", headers=HTML).status_code == 404


def test_docs_page_lists_routes_and_problem_types(client):
    """/docs is local HTML listing every API route and every problem type anchor."""
    html = client.get("/docs", headers=HTML).text
    for route in ("/api/v1/recommendations", "/api/v1/trials/{trial_id}", "/api/v1/kb", "/api/v1/schema/patient"):
        assert route in html
    assert 'id="problem-invalid-input"' in html and 'id="problem-body-too-large"' in html


def test_docs_can_be_turned_off(make_client):
    """MBCPATH_WEB_DOCS=0 removes /docs and /openapi.json."""
    c = make_client(docs=False)
    assert c.get("/docs").status_code == 404
    assert c.get("/openapi.json").status_code == 404


def test_page_404_is_html_for_browsers_and_json_for_apis(client):
    """Unknown paths: HTML for a browser, problem+json otherwise."""
    assert "text/html" in client.get("/nope", headers=HTML).headers["content-type"]
    assert client.get("/nope").headers["content-type"].startswith("application/problem+json")


def test_kb_failure_is_visible_on_pages(tmp_path):
    """With a broken KB the pages say 'unavailable' and the form page still renders.

    The app's start-up refuses such a KB (test_serving_faults.py); this is the app run by a server
    that skips the lifespan, so the pages' own fallback is still exercised.
    """
    from fastapi.testclient import TestClient

    from mbcpath.web import create_app
    from mbcpath.web.settings import Settings

    from .conftest import examples_dir

    c = TestClient(create_app(Settings(kb_path=tmp_path, examples_dir=examples_dir())), raise_server_exceptions=False)
    r = c.get("/", headers=HTML)
    assert 'data-testid="kb-release">unavailable<' in r.text and "did not load" in r.text
    assert c.get("/patient", headers=HTML).status_code == 200
    assert c.get("/trials", headers=HTML).status_code == 503
