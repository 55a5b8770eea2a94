"""Fixtures of the web tests: the app with the shipped examples, a TestClient, vignette patients."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # starlette asks for 'httpx2' instead of httpx; the warning is raised at import time only.
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases"
EXAMPLES = ROOT / "examples" / "patients"


def examples_dir() -> Path:
    """The shipped examples (they hold the walkthrough's seed-0* patients)."""
    return EXAMPLES if any(EXAMPLES.glob("seed-01-*.json")) else CASES


def case(name: str) -> dict[str, Any]:
    """A vignette's patient from tests/cases."""
    return json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))["patient"]


def case_doc(name: str) -> dict[str, Any]:
    return json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def web_settings():
    from mbcpath.web.settings import Settings

    return Settings(examples_dir=examples_dir())


@pytest.fixture(scope="session")
def app(web_settings):
    from mbcpath.web import create_app

    return create_app(web_settings)


@pytest.fixture(scope="session")
def client(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def make_client():
    """A client for an app built with other settings."""
    clients = []

    def make(**overrides: Any) -> TestClient:
        from mbcpath.web import create_app
        from mbcpath.web.settings import Settings

        c = TestClient(create_app(Settings(examples_dir=examples_dir(), **overrides)), raise_server_exceptions=False)
        c.__enter__()
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


HTML = {"accept": "text/html"}
