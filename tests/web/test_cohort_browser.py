"""The cohort page in a real browser: run the built-in sample and see the tables and charts."""

from __future__ import annotations

import pytest

from .test_browser import base_url, browser, clean, page, shot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_run_a_sample_cohort_and_read_the_charts(page):  # noqa: F811
    page.goto("/")
    page.get_by_role("link", name="Cohort").click()
    page.locator("#sample").select_option("200")
    page.locator("#by").select_option("line")
    page.get_by_role("button", name="Run the cohort").click()
    page.wait_for_selector("[data-testid=cohort-survival]")
    assert page.locator("[data-testid=cohort-records]").inner_text() == "200"
    assert page.locator("[data-testid=dp-mix] tbody tr").count() >= 3
    ttd = page.locator("[data-testid=chart-rw-ttd] svg")
    assert ttd.is_visible() and "line 1" in (ttd.text_content() or "")
    assert page.locator("[data-testid=at-risk-os] tbody tr").count() >= 2
    shot(page, "cohort-sample")
    clean(page)
