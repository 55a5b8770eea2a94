"""Page benchmark: weight and time to a rendered board view of the results page, against the home page, same run.

Serves the app with uvicorn on a free 127.0.0.1 port (in a thread), drives Debian's chromium with
Playwright, and for each page measures, ``--runs`` times:

* **cold**: a new browser context (empty cache): bytes transferred (compressed bodies plus headers, every
  request the page makes: HTML, CSS, JS, the fetch that posts the link's patient, the projections) and the
  time from navigation until the page's content is rendered (results: the board table; home: the tiles);
* **warm**: the same context again (CSS and JS from the cache; pages are never cached).

The results page is opened the way a shared link is: ``/results#p=<token>`` for the seed first-line case.
Before measuring, one throw-away load warms the server (KB, engine, projection fits), so both pages are
timed against a warm server. Prints medians and the ratios; targets: results page cold < 300 KB
transferred, time to board view within 2x the home page's. No assertions (shared, noisy machines):
``--check`` exits 1 when a target is missed.

Usage::

    python bench/bench_pages.py [--runs 7] [--check]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
WEIGHT_TARGET = 300 * 1024
TIME_RATIO_TARGET = 2.0


@dataclass
class Sample:
    bytes: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)

    def med(self) -> tuple[float, float, float]:
        return (statistics.median(self.bytes), statistics.median(self.seconds) * 1000,
                statistics.median(self.requests))


def serve() -> tuple[str, Any]:
    import uvicorn

    from mbcpath.web import create_app
    from mbcpath.web.settings import Settings

    app = create_app(Settings(examples_dir=ROOT / "examples" / "patients"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, access_log=False, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("uvicorn did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}", server


def results_link() -> str:
    from mbcpath.web.share import encode_patient

    doc = json.loads((ROOT / "examples" / "patients" / "seed-01-first-line.json").read_text())
    return "/results#p=" + encode_patient(json.dumps(doc.get("patient", doc)))


def load(page: Any, url: str, selector: str, settle: str | None) -> tuple[int, float, int]:
    """Navigate, wait for ``selector`` to render (timed), then for ``settle`` (lazy parts); count bytes."""
    sizes: list[int] = []

    def done(req: Any) -> None:
        s = req.sizes()
        sizes.append(int(s["responseBodySize"]) + int(s["responseHeadersSize"]))

    page.goto("about:blank")  # a fresh navigation every time (a same-URL fragment change would not reload)
    page.on("requestfinished", done)
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.locator(selector).first.wait_for(state="visible")
    elapsed = time.perf_counter() - t0
    if settle:
        page.locator(settle).wait_for(state="attached", timeout=120000)
    page.wait_for_load_state("networkidle")
    page.remove_listener("requestfinished", done)
    return sum(sizes), elapsed, len(sizes)


def measure(browser: Any, base: str, url: str, selector: str, settle: str | None, runs: int) -> tuple[Sample, Sample]:
    cold, warm = Sample(), Sample()
    for _ in range(runs):
        ctx = browser.new_context(viewport={"width": 1280, "height": 720}, base_url=base)
        page = ctx.new_page()
        for sample in (cold, warm):
            b, s, n = load(page, url, selector, settle)
            sample.bytes.append(b)
            sample.seconds.append(s)
            sample.requests.append(n)
        ctx.close()
    return cold, warm


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    base, server = serve()
    pages = {"home": ("/", ".tiles", None),
             "results": (results_link(), "[data-testid=board-table]", "#projections[data-loaded=true]")}
    out: dict[str, tuple[Sample, Sample]] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            measure(browser, base, *pages["results"], runs=1)  # warm the server: KB, engine, projection fits
            for name, (url, selector, settle) in pages.items():
                out[name] = measure(browser, base, url, selector, settle, args.runs)
            browser.close()
    finally:
        server.should_exit = True
    print(f"pages: medians of {args.runs} runs, 1280x720, chromium {CHROMIUM}, 127.0.0.1")
    for name, (cold, warm) in out.items():
        for label, s in (("cold", cold), ("warm", warm)):
            b, ms, n = s.med()
            what = "board view" if name == "results" else "content"
            print(f"  {name:<8} {label}: {b / 1024:7.1f} KB transferred in {n:3.0f} requests; "
                  f"time to rendered {what} {ms:7.1f} ms")
    rc, hc = out["results"][0].med(), out["home"][0].med()
    rw, hw = out["results"][1].med(), out["home"][1].med()
    ratio_cold, ratio_warm = rc[1] / hc[1], rw[1] / hw[1]
    print(f"  ratio results/home, time to rendered view: cold {ratio_cold:.2f}x, warm {ratio_warm:.2f}x")
    weight_ok = rc[0] < WEIGHT_TARGET
    time_ok = ratio_cold <= TIME_RATIO_TARGET and ratio_warm <= TIME_RATIO_TARGET
    print(f"  target results cold < {WEIGHT_TARGET // 1024} KB: {'met' if weight_ok else 'NOT met'} "
          f"({rc[0] / 1024:.1f} KB); target time to board view <= {TIME_RATIO_TARGET:g}x home: "
          f"{'met' if time_ok else 'NOT met'}")
    return 1 if args.check and not (weight_ok and time_ok) else 0


if __name__ == "__main__":
    sys.exit(main())
