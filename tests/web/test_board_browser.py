"""The tumour-board view in Debian's chromium (Playwright): one screen at 1280x720, stacked on a 390x844 phone,
links that carry the patient and survive Back, projections after the board, the PDF button, and axe-core on
every kind of page. Screenshots of the first viewport go to artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from mbcpath.web.share import encode_patient

from .conftest import EXAMPLES, ROOT
from .test_browser import ARGS, CHROMIUM, base_url, browser, clean, shot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SEEDS = ("seed-01-first-line", "seed-02-maintenance", "seed-03-cns-progression", "low-lvef-first-line")
DESKTOP = (1280, 720)
PHONE = (390, 844)


def example(name: str) -> dict[str, Any]:
    doc = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return doc.get("patient", doc)


def link(name: str) -> str:
    return "/results#p=" + encode_patient(json.dumps(example(name)))


@pytest.fixture
def open_page(browser, base_url):  # noqa: F811
    """A page factory at a given viewport that records console errors and off-origin requests."""
    contexts = []

    def make(size: tuple[int, int] = DESKTOP) -> Any:
        ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, base_url=base_url,
                                  accept_downloads=True)
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.console_errors = []
        pg.off_origin = []
        pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
        pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))

        def guard(route: Any) -> None:
            if route.request.url.startswith(base_url):
                route.continue_()
            else:
                pg.off_origin.append(route.request.url)
                route.abort()

        pg.route("**/*", guard)
        return pg

    yield make
    for ctx in contexts:
        ctx.close()


def board(pg: Any, name: str) -> None:
    pg.goto(link(name))
    pg.get_by_test_id("board").wait_for()


def box(loc: Any) -> dict[str, float]:
    b = loc.bounding_box()
    assert b is not None, "element is not rendered"
    return b


def no_horizontal_overflow(pg: Any) -> bool:
    return bool(pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


# --------------------------------------------------------------------------- first viewport
@pytest.mark.parametrize("name", SEEDS)
@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280x720", "390x844"])
def test_board_and_stop_in_the_first_viewport(open_page, name, size):
    """The board table starts in the first viewport (at 1280x720 the whole table and the conflicts start fit),
    any safety stop is fully inside it, and the phone never scrolls sideways."""
    pg = open_page(size)
    board(pg, name)
    width, height = size
    table = box(pg.get_by_test_id("board-table"))
    top = box(pg.locator("[data-testid=board-row][data-rank='1'] [data-testid=board-option]"))
    assert table["y"] < height and top["y"] + top["height"] <= height  # the rank-1 option is read without scrolling
    if size == DESKTOP:
        first = box(pg.locator("[data-testid=board-row][data-rank='1']"))
        assert first["y"] + first["height"] <= height
        assert table["y"] + table["height"] <= height, "the options table spills past one screen"
        conflicts = pg.get_by_test_id("board-conflicts")
        if conflicts.count():
            assert box(conflicts)["y"] < height
    for stop in pg.get_by_test_id("safety-stop").all():
        b = box(stop)
        assert b["y"] + b["height"] <= height
    assert no_horizontal_overflow(pg)
    shot(pg, f"board-{name}-{width}x{height}", full=False)
    clean(pg)


def test_low_lvef_stop_is_the_first_thing_after_the_strip(open_page):
    """For LVEF 42% the red stop sits between the strip (LVEF flagged) and the table, on the desktop and the phone."""
    for size in (DESKTOP, PHONE):
        pg = open_page(size)
        board(pg, "low-lvef-first-line")
        lvef = pg.locator("[data-testid=patient-strip] [data-key=lvef]")
        assert "strip-flag" in (lvef.get_attribute("class") or "") and "42%" in lvef.inner_text()
        stop = pg.get_by_test_id("safety-stop").first
        assert "LVEF 42%" in stop.inner_text()
        assert box(lvef)["y"] < box(stop)["y"] < box(pg.get_by_test_id("board-table"))["y"]


@pytest.mark.parametrize("path", ["/", "/patient", "/trials", "/trials/DESTINY-Breast09", "/walkthrough/1"])
def test_phone_pages_do_not_scroll_sideways(open_page, path):
    """At 390x844 the home, form, trial and walkthrough pages fit the width."""
    pg = open_page(PHONE)
    pg.goto(path)
    assert no_horizontal_overflow(pg), path
    shot(pg, "phone" + (path.replace("/", "-").rstrip("-") or "-home"), full=False)


# --------------------------------------------------------------------------- links, Back, projections
def test_results_link_survives_back_and_can_be_shared(open_page):
    """Submit -> /results#p=...; a trial page and Back, then Edit patient and Back, return to the same board with
    GET requests only (no form resubmission); the same link in a fresh browser shows the same answer."""
    pg = open_page()
    navigations: list[tuple[str, str]] = []
    pg.on("request", lambda r: r.is_navigation_request() and navigations.append((r.method, r.url)))
    pg.goto("/patient?example=seed-01-first-line")
    pg.get_by_role("button", name="Show options").click()
    pg.get_by_test_id("board").wait_for()
    url = pg.url
    assert "/results#p=1." in url
    rows = pg.get_by_test_id("board-option").all_inner_texts()
    pg.locator("[data-testid=trial-ref] a[href^='/trials/']").first.evaluate("a => a.click()")
    pg.wait_for_url("**/trials/**")
    navigations.clear()
    pg.go_back()
    pg.get_by_test_id("board").wait_for()
    assert pg.url == url and pg.get_by_test_id("board-option").all_inner_texts() == rows
    pg.get_by_role("button", name="Edit patient").click()
    pg.wait_for_url("**/patient#p=*")
    pg.locator("#age_years").wait_for()
    pg.go_back()
    pg.get_by_test_id("board").wait_for()
    assert pg.url == url
    assert all(method == "GET" for method, _ in navigations), navigations
    other = open_page()  # a colleague opening the shared link: a fresh browser context, nothing stored
    other.goto(url)
    other.get_by_test_id("board").wait_for()
    assert other.get_by_test_id("board-option").all_inner_texts() == rows
    clean(pg)


def test_projections_arrive_after_the_board_as_svg(open_page):
    """The board renders before the projections; the charts are inline SVG and no chart script is loaded."""
    pg = open_page()
    scripts: list[str] = []
    posts: list[str] = []
    pg.on("request", lambda r: r.resource_type == "script" and scripts.append(r.url))
    pg.on("request", lambda r: r.method == "POST" and posts.append(r.url.split("127.0.0.1", 1)[1].split("/", 1)[1]))
    board(pg, "seed-01-first-line")
    pg.locator("#projections[data-loaded=true]").wait_for(timeout=60000)
    assert pg.locator("#projections figure[data-kind=randomised] svg").count() >= 1
    assert [s.rsplit("/", 1)[1] for s in scripts] == ["app.js"]
    assert sorted(posts) == ["results", "results/projections"]  # the link's patient is posted once
    pg.locator("#projections-h").scroll_into_view_if_needed()
    shot(pg, "results-seed-01-projections", full=True)
    clean(pg)


def test_each_trial_once_and_board_links_open_it(open_page):
    """Every trial card appears once; the key-trial link in the board opens its collapsed card."""
    pg = open_page()
    board(pg, "seed-01-first-line")
    ids = pg.locator("[data-testid=trial-ref]").evaluate_all("els => els.map(e => e.dataset.trial)")
    assert len(ids) == len(set(ids))
    pg.locator("[data-testid=board-row][data-rank='1'] a[href^='#trial-']").click()
    card = pg.locator("#trial-destiny-breast09")
    assert card.get_attribute("open") is not None
    assert "40.7" in card.inner_text()


def test_print_is_short(open_page, tmp_path):
    """Printing the seed results gives at most 3 A4 pages (the board, trials, missing data and charts)."""
    pg = open_page()
    board(pg, "seed-01-first-line")
    pg.locator("#projections[data-loaded=true]").wait_for(timeout=60000)
    pg.emulate_media(media="print")
    out = tmp_path / "print.pdf"
    pg.pdf(path=str(out), format="A4")
    pages = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    n = int(next(line.split()[-1] for line in pages.splitlines() if line.startswith("Pages:")))
    assert n <= 3, n


def test_report_button_downloads_the_pdf(open_page, tmp_path):
    """'Report (PDF)' downloads the tumour-board report naming the rank-1 option."""
    pg = open_page()
    board(pg, "seed-01-first-line")
    with pg.expect_download(timeout=90000) as dl:
        pg.get_by_test_id("report-pdf").click()
    path = tmp_path / "report.pdf"
    dl.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    text = subprocess.run([shutil.which("pdftotext") or "pdftotext", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Trastuzumab deruxtecan + pertuzumab" in " ".join(text.split())


# --------------------------------------------------------------------------- accessibility
def axe(pg: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: `make setup` installs axe-core from npm (npm ci)")
    pg.evaluate(AXE.read_text(encoding="utf-8"))
    result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280x720", "390x844"])
def test_axe_home_form_trials(open_page, size):
    """Home, the form (blank and with errors), the trial list and a trial page: no serious or critical violation."""
    pg = open_page(size)
    for path in ("/", "/patient", "/trials", "/trials/DESTINY-Breast09", "/walkthrough/3"):
        pg.goto(path)
        assert axe(pg) == [], path
    pg.goto("/patient?example=seed-01-first-line")
    pg.locator("#er_percent").fill("150")
    pg.get_by_role("button", name="Show options").click()
    pg.locator("#error-summary").wait_for()
    assert axe(pg) == [], "form with errors"


@pytest.mark.parametrize("name", ["seed-01-first-line", "low-lvef-first-line"])
def test_axe_results_and_report(open_page, name):
    """The results page (details opened, projections loaded) and the report page: no serious or critical
    violation."""
    pg = open_page()
    board(pg, name)
    pg.locator("#projections[data-loaded=true]").wait_for(timeout=60000)
    pg.locator("details").evaluate_all("els => els.forEach(d => d.open = true)")
    assert axe(pg) == [], "results"
    with pg.context.expect_page() as popup:
        pg.get_by_role("button", name="Report (HTML)").click()
    report = popup.value
    report.wait_for_load_state()
    assert "Tumour-board report" in report.locator("h1").first.inner_text()
    assert axe(report) == [], "report"
