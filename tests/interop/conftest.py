"""Fixtures for the interop tests: the copied official examples (tests/data/interop, see its READMEs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "interop"
MCODE = DATA / "mcode"
CDS = DATA / "cds-hooks"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def stu4_examples() -> list[Path]:
    return sorted(p for p in (MCODE / "stu4-examples").glob("*.json") if p.name != "_package.json")
