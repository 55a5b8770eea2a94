"""HTML to PDF with the project's own browser engine: Playwright driving Debian's chromium.

Playwright never downloads a browser here; it launches the chromium binary at
``MBCPATH_CHROMIUM`` (default ``/usr/bin/chromium``, installed by ``make setup``).
The page has JavaScript off and every network request refused, so a report is
rendered from the HTML it is given and nothing else.
"""

from __future__ import annotations

import os
from pathlib import Path

from mbcpath.errors import MissingExtraError, ReportError

__all__ = ["CHROMIUM_ARGS", "chromium_path", "html_to_pdf"]

CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic")


def chromium_path() -> Path:
    """The chromium binary (``MBCPATH_CHROMIUM`` or ``/usr/bin/chromium``); :class:`ReportError` when missing."""
    path = Path(os.environ.get("MBCPATH_CHROMIUM", "/usr/bin/chromium"))
    if not path.is_file():
        raise ReportError(f"chromium = {str(path)!r}: not found; the PDF report needs Debian's chromium "
                          "(`make setup` installs it: apt-get install chromium), or set MBCPATH_CHROMIUM")
    return path


def html_to_pdf(html: str, out: Path | None = None) -> bytes:
    """Render ``html`` to an A4 PDF (the page's own ``@page`` rules apply); write it to ``out`` when given.

    Raises
    ------
    MissingExtraError
        Playwright is not installed.
    ReportError
        Chromium is missing or failed to render.
    """
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise MissingExtraError("playwright", "report") from None
    exe = chromium_path()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(exe), args=list(CHROMIUM_ARGS))
            try:
                ctx = browser.new_context(java_script_enabled=False, offline=True)
                page = ctx.new_page()
                page.route("**/*", lambda route: route.abort())
                page.set_content(html, wait_until="load")
                data = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
            finally:
                browser.close()
    except PlaywrightError as err:
        raise ReportError(f"chromium could not render the report: {str(err).splitlines()[0][:200]}") from None
    if out is not None:
        try:
            out.write_bytes(data)
        except OSError as err:
            raise ReportError(f"{out}: cannot write ({err.strerror})") from None
    return data
