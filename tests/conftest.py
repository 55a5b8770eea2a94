"""Shared fixtures: the KB, the vignettes, and a helper to run the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "cases"


def vignette_files() -> list[Path]:
    return sorted(CASES.glob("*.json"))


def load_case(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def kb():
    from mbcpath.kb import load_kb

    return load_kb()


def run_cli(*args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``mbcpath`` in a subprocess (the real entry point, real exit codes)."""
    env = dict(os.environ, PYTHONWARNINGS="ignore", COLUMNS="120")
    return subprocess.run([sys.executable, "-m", "mbcpath.cli.main", *args], capture_output=True, text=True,
                          input=input_text, env=env, cwd=ROOT, timeout=120, check=False)
