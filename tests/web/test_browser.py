"""End-to-end tests in a real browser: Debian's chromium driven by Playwright, against uvicorn.

The app runs in a background thread on a free loopback port. Each test fills the form the way a
clinician would (typing values, adding treatment rows) and checks what the page shows. Screenshots
go to ``artifacts/screenshots/`` (git-ignored). Playwright never downloads a browser here: a missing
``/usr/bin/chromium`` fails with a message saying that ``make setup`` installs it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, case, case_doc, examples_dir

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """uvicorn serving the app on 127.0.0.1:<free port> in a background thread."""
    import uvicorn

    from mbcpath.web import create_app
    from mbcpath.web.settings import Settings

    app = create_app(Settings(examples_dir=examples_dir()))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, access_log=False, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium; `make setup` installs it "
                    "(apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, base_url) -> Iterator[Any]:
    """A laptop-sized page that records console errors and refused requests (CSP, off-origin)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    pg = ctx.new_page()
    pg.console_errors = []  # type: ignore[attr-defined]
    pg.off_origin = []  # type: ignore[attr-defined]
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))

    def guard(route: Any) -> None:
        if route.request.url.startswith(base_url) or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:  # nothing may leave the machine: no CDN, no fonts, no analytics
            pg.off_origin.append(route.request.url)
            route.abort()

    pg.route("**/*", guard)
    yield pg
    ctx.close()


def shot(pg: Any, name: str, *, full: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def clean(pg: Any, *, expected_status: int | None = None) -> None:
    """No script errors, no CSP violations, nothing fetched from another origin."""
    errors = [e for e in pg.console_errors
              if not (expected_status and f"status of {expected_status}" in e)]
    assert errors == [], errors
    assert pg.off_origin == [], pg.off_origin


# --------------------------------------------------------------------------- filling the form
def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


#: fields typed into a text box, and fields picked from a list, in the order a user meets them
_TYPED = ("age_years", "er_percent", "pr_percent", "metastatic_diagnosis_months_ago", "lvef_percent", "qtcf_ms")
_PICKED = ("sex", "menopausal_status", "ecog", "pregnant", "presentation", "visceral_crisis", "brain_metastases",
           "extracranial_progression", "ild_history", "neuropathy_grade", "heart_failure", "decision_point")


def fill_patient(pg: Any, p: dict[str, Any]) -> None:
    """Fill the blank form from a contract patient, as a user would: type, select, tick, add rows."""
    pg.goto("/patient")
    if p.get("id"):
        pg.get_by_label("Case identifier").fill(p["id"])
    _fill_fields(pg, p)
    _fill_her2(pg, p.get("her2") or {})
    for site in p.get("metastatic_sites", []):
        pg.locator(f"#site-{site}").check()
    if (p.get("preferences") or {}).get("avoid_chemotherapy") is not None:
        pg.locator("#avoid_chemotherapy").select_option(_fmt(p["preferences"]["avoid_chemotherapy"]))
    for i, t in enumerate(p.get("treatments", [])):
        _add_treatment(pg, i, t)


def _fill_fields(pg: Any, p: dict[str, Any]) -> None:
    """Type the numbers given, then pick every listed field the patient states (null included)."""
    for name in _TYPED:
        if p.get(name) is not None:
            pg.locator(f"#{name}").fill(_fmt(p[name]))
    for name in _PICKED:
        if name in p:
            pg.locator(f"#{name}").select_option(_fmt(p[name]))


def _fill_her2(pg: Any, her2: dict[str, Any]) -> None:
    pg.get_by_label("HER2 IHC").select_option(_fmt(her2.get("ihc")))
    pg.get_by_label("HER2 ISH").select_option(_fmt(her2.get("ish")))


def _add_treatment(pg: Any, i: int, t: dict[str, Any]) -> None:
    """Add treatment row ``i`` and fill it: drugs, setting, line, phase, started, ended, stop reason."""
    pg.get_by_role("button", name="Add treatment").click()
    row = pg.locator("#treatment-rows > li.row").nth(i)
    row.get_by_label("Drugs").fill(", ".join(t["drugs"]))
    row.get_by_label("Setting").select_option(t["setting"])
    if t.get("line") is not None:
        row.get_by_label("Line").fill(_fmt(t["line"]))
    if t.get("phase"):
        row.get_by_label("Phase").select_option(t["phase"])
    row.get_by_label("Started").fill(_fmt(t["started_months_ago"]))
    if t.get("ended_months_ago") is not None:
        row.get_by_label("Ended").fill(_fmt(t["ended_months_ago"]))
    if t.get("stop_reason"):
        row.get_by_label("Stop reason").select_option(t["stop_reason"])


def submit(pg: Any) -> None:
    """Submit the form; valid input lands on /results#p=... whose script loads the board."""
    pg.get_by_role("button", name="Show options").click()
    pg.wait_for_selector("[data-testid=board], #error-summary, [data-testid=link-error]")


def open_details(pg: Any, locator: Any) -> None:
    """Open a collapsed section (one click deeper) by clicking its summary."""
    locator.locator("summary").first.click()


def top_option(pg: Any) -> Any:
    return pg.locator("[data-testid=option][data-rank='1']")


# --------------------------------------------------------------------------- vignettes through the form
def test_seed_first_line_through_the_form(page):
    """Seed case, first line: T-DXd + pertuzumab or THP on top, DESTINY-Breast09 cited with its fit, conflict shown."""
    fill_patient(page, case("seed-01-first-line"))
    shot(page, "form-seed-01-filled")
    submit(page)
    assert page.get_by_test_id("decision-point").inner_text() == "First line"
    name = top_option(page).get_by_test_id("option-name").inner_text()
    assert re.search(r"deruxtecan \+ pertuzumab|Taxane \+ trastuzumab \+ pertuzumab", name), name
    ref = page.locator("[data-testid=trial-ref][data-trial='DESTINY-Breast09']")
    assert ref.count() == 1  # each trial once on the page
    assert ref.get_by_test_id("trial-fit").inner_text() == "fits eligibility"
    open_details(page, ref)
    assert "40.7" in ref.inner_text() and "HR 0.56" in ref.inner_text()
    assert "clinical judgement" in page.get_by_test_id("conflicts").inner_text()
    assert page.get_by_test_id("kb-release").inner_text() != "unavailable"
    shot(page, "results-seed-01-first-line")
    clean(page)


def test_low_lvef_through_the_form(page):
    """LVEF 42%: no T-DXd on top, and the LVEF hard stop is shown with its override possibility."""
    fill_patient(page, case("low-lvef-first-line"))
    submit(page)
    top = top_option(page).get_by_test_id("option-name").inner_text()
    assert "deruxtecan" not in top.lower()
    board_stop = page.get_by_test_id("safety-stop").first
    assert board_stop.is_visible() and "LVEF 42%" in board_stop.inner_text()
    stops = page.get_by_test_id("safety-stops")
    open_details(page, page.locator("details.excluded-block").first)
    assert "LVEF 42%" in stops.inner_text()
    row = stops.locator("tr[data-regimen='tdxd-pertuzumab']")
    assert "possible with a documented reason" in row.inner_text()
    assert page.locator("[data-testid=trial-ref]").count() >= 1
    top_trials = top_option(page).get_by_test_id("trial-link").all_text_contents()
    assert top_trials, "the top option cites no trial"
    shot(page, "results-low-lvef-first-line")
    clean(page)


def test_third_line_active_brain_metastases_through_the_form(page):
    """Third line with active BM: tucatinib-based (or T-DXd / local therapy) on top, HER2CLIMB cited,
    and T-DXd stopped by the exposure rule."""
    doc = case_doc("third-line-active-brain-metastases")
    fill_patient(page, doc["patient"])
    assert page.locator("#treatment-rows > li.row").count() == len(doc["patient"]["treatments"])
    shot(page, "form-third-line-bm-filled")
    submit(page)
    assert page.get_by_test_id("decision-point").inner_text() == "Third line or later"
    top = top_option(page)
    assert re.search(r"Tucatinib|deruxtecan|Local therapy", top.get_by_test_id("option-name").inner_text())
    assert "HER2CLIMB" in top.get_by_test_id("trial-link").all_text_contents()
    stop = page.get_by_test_id("safety-stops").locator("tr[data-regimen='tdxd']")
    assert "progressed on trastuzumab deruxtecan" in (stop.text_content() or "")
    for bad in doc["expect"].get("never_offered", []):
        for n in page.get_by_test_id("option-name").all_text_contents():
            assert bad not in n.lower()
    shot(page, "results-third-line-active-bm")
    clean(page)


def test_ild_grade1_warning_through_the_form(page):
    """Grade 1 ILD history: T-DXd stays possible with a visible ILD warning on its card."""
    fill_patient(page, case("ild-grade1-history-warns"))
    submit(page)
    tdxd = page.locator("[data-testid=option][data-regimen='tdxd-pertuzumab']")
    open_details(page, tdxd)
    warning = tdxd.get_by_test_id("warning").first
    assert "ILD" in warning.inner_text()
    assert warning.is_visible()
    assert top_option(page).locator("[data-testid=trial-link]").count() >= 1
    shot(page, "results-ild-grade1")
    clean(page)


# --------------------------------------------------------------------------- validation, rows, examples
def test_invalid_value_shows_inline_error(page):
    """ER 150% comes back with the message next to the ER field, the field marked invalid, and a summary."""
    p = case("seed-01-first-line")
    fill_patient(page, dict(p, er_percent=150))
    submit(page)
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    err = page.locator("#er_percent-error")
    assert "ER must be between 0 and 100 %" in err.inner_text()
    assert page.locator("#er_percent").get_attribute("aria-invalid") == "true"
    assert page.locator("#er_percent").input_value() == "150"  # the user's input is kept
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "er_percent"
    shot(page, "form-inline-error")
    clean(page, expected_status=422)


def test_unknown_drug_names_the_row_and_suggests(page):
    """A misspelt drug is rejected on its row with the closest known names."""
    fill_patient(page, case("invalid-unknown-drug"))
    submit(page)
    err = page.locator("#t-0-drugs-error")
    assert "did you mean: trastuzumab" in err.inner_text()
    assert "Treatment 1: Drugs: not a known drug name" in page.locator("#error-summary").inner_text()
    clean(page, expected_status=422)


def test_treatment_rows_add_and_remove(page):
    """Rows are added and removed with the keyboard, renumbered, and focus moves sensibly."""
    page.goto("/patient")
    add = page.get_by_role("button", name="Add treatment")
    add.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "t-0-drugs"
    add.click()
    add.click()
    rows = page.locator("#treatment-rows > li.row")
    assert rows.count() == 3
    page.get_by_role("button", name="Remove treatment 2").click()
    assert rows.count() == 2
    assert rows.nth(1).locator(".row-num").inner_text() == "2"
    assert page.get_by_role("button", name="Remove treatment 2").count() == 1
    clean(page)


def test_load_example(page):
    """Loading a shipped example fills the form, rows included."""
    page.goto("/patient")
    ex = next(p.stem for p in sorted(examples_dir().glob("seed-03-*.json")))
    page.get_by_label("Example patient").select_option(ex)
    page.get_by_role("button", name="Load example").click()
    assert page.locator("#treatment-rows > li.row").count() == 2
    assert "ribociclib" in page.locator("#t-1-drugs").input_value()
    assert page.locator("#brain_metastases").input_value() == "active"
    submit(page)
    assert page.get_by_test_id("decision-point").inner_text().startswith("CNS event")
    clean(page)


def test_edit_patient_round_trip(page):
    """'Edit patient' on the results page re-opens the form with the same values; nothing is stored."""
    fill_patient(page, case("third-line-active-brain-metastases"))
    submit(page)
    page.get_by_role("button", name="Edit patient").click()
    n_rows = len(case("third-line-active-brain-metastases")["treatments"])
    page.locator("#treatment-rows > li.row").nth(n_rows - 1).wait_for()
    assert page.locator("#treatment-rows > li.row").count() == n_rows
    assert page.url.split("#")[0].endswith("/patient")
    assert page.locator("#brain_metastases").input_value() == "active"
    clean(page)


# --------------------------------------------------------------------------- walkthrough, trials, docs
def test_walkthrough_three_decision_points(page):
    """The guided case walks first line -> maintenance -> CNS event, each evaluated live."""
    page.goto("/walkthrough")
    shot(page, "walkthrough-index")
    page.get_by_role("link", name="Start the walkthrough").click()
    expected = ["First line", "Maintenance after induction", "CNS event (isolated CNS progression)"]
    for n, dp in enumerate(expected, start=1):
        assert page.get_by_test_id("decision-point").inner_text() == dp
        assert page.locator("[data-testid=option]").count() >= 1
        shot(page, f"walkthrough-step-{n}")
        if n < 3:
            page.get_by_role("link", name=f"Step {n + 1} →").click()
    top = page.locator("[data-testid=option][data-rank='1']").inner_text()
    assert re.search(r"Local therapy|deruxtecan|Tucatinib", top)
    page.get_by_role("button", name="Full results with evidence").click()
    page.wait_for_selector("[data-testid=board]")
    assert "/results#p=" in page.url
    assert page.get_by_test_id("decision-point").inner_text().startswith("CNS event")
    clean(page)


def test_trial_explorer_search_and_forest_plot(page):
    """Search finds DESTINY-Breast09 by 'db09'; the forest plot is server-side SVG on a log axis, no script."""
    page.goto("/trials")
    svg = page.locator("#forest svg")
    assert svg.is_visible() and svg.get_attribute("role") == "img"
    assert "log scale" in (svg.locator("title").text_content() or "")
    assert page.evaluate("typeof window.Plotly") == "undefined"
    shot(page, "trials-forest")
    page.get_by_label("Search trials").fill("db09")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_test_id("trial-count").inner_text().startswith("1 trial")
    page.get_by_role("link", name="DESTINY-Breast09", exact=True).first.click()
    assert page.locator("h1").inner_text().startswith("DESTINY-Breast09")
    assert page.locator(".sources-list a[href^='http']").count() >= 1
    assert page.locator("#trial-forest svg").is_visible()
    shot(page, "trial-destiny-breast09")
    clean(page)


def test_api_docs_page_is_local(page):
    """/docs lists the API routes and loads nothing from a CDN."""
    page.goto("/docs")
    assert page.get_by_role("heading", name="POST /api/v1/recommendations").is_visible()
    clean(page)


# --------------------------------------------------------------------------- accessibility, layout, print
def test_keyboard_skip_link_and_focus_ring(page):
    """The first Tab reaches the skip link, which moves focus to <main>; focus is visible."""
    page.goto("/patient")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.locator("#age_years").focus()
    outline = page.evaluate("getComputedStyle(document.querySelector('#age_years')).outlineStyle")
    assert outline != "none"


def test_every_input_has_a_label_and_landmarks_exist(page):
    """Every form control has an accessible name; the page has lang, banner, main and contentinfo."""
    page.goto("/patient?example=" + next(p.stem for p in sorted(examples_dir().glob("seed-03-*.json"))))
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(el => !el.closest('template'))
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.name || el.id)""")
    assert unlabeled == []
    assert page.evaluate("document.documentElement.lang") == "en"
    for role in ("banner", "main", "contentinfo", "navigation"):
        assert page.get_by_role(role).count() >= 1, role
    assert "Not a medical device" in page.locator(".disclaimer").inner_text()


@pytest.mark.parametrize(("width", "height", "label"), [(768, 1024, "tablet"), (1024, 768, "tablet-landscape")])
def test_tablet_layout_has_no_horizontal_scroll(browser, base_url, width, height, label):
    """On a tablet the form and results fit the width (no sideways scrolling)."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, base_url=base_url, has_touch=True)
    pg = ctx.new_page()
    try:
        fill_patient(pg, case("seed-03-isolated-cns-progression"))
        assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shot(pg, f"form-{label}")
        submit(pg)
        assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shot(pg, f"results-{label}")
    finally:
        ctx.close()


def test_print_view(page):
    """The print stylesheet hides navigation, buttons and the collapsed detail sections, and keeps the disclaimer
    and the board view."""
    fill_patient(page, case("seed-01-first-line"))
    submit(page)
    page.emulate_media(media="print")
    assert not page.locator(".site-header nav").is_visible()
    assert not page.get_by_role("button", name="Print").is_visible()
    assert page.locator(".print-only").first.is_visible()
    assert page.get_by_test_id("board-table").is_visible()
    assert not top_option(page).is_visible()  # one click deeper on screen; not printed
    shot(page, "results-print")
    page.pdf(path=str(SHOTS / "results-print.pdf"))
