"""The report layer is an adapter: it imports nothing of web or cli, nothing below it imports it, and importing
it reads no file and loads neither jinja2 nor playwright."""

from __future__ import annotations

import subprocess
import sys

from test_architecture import SRC, _imports


def test_report_imports_point_down():
    """report/ imports no web, cli, interop or analytics; domain .. survival import no report."""
    bad = [f"{f.relative_to(SRC)}" for f in (SRC / "report").rglob("*.py")
           if _imports(f) & {"web", "cli", "interop", "analytics"}]
    for pkg in ("domain", "facts", "rules", "kb", "engine", "survival"):
        bad += [f"{f.relative_to(SRC)}" for f in (SRC / pkg).rglob("*.py") if "report" in _imports(f)]
    assert bad == []


def test_importing_report_is_light():
    """`import mbcpath.report` (and its SVG and PDF modules) loads no jinja2, playwright or KB."""
    code = ("import sys, mbcpath.report, mbcpath.report.svg, mbcpath.report.pdf, mbcpath.report.document; "
            "from mbcpath.kb import loader; "
            "heavy = sorted(m for m in ('jinja2', 'playwright') if m in sys.modules); "
            "print(heavy, loader._cached.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["[]", "0"]
