"""Fixtures for the survival tests: reference data paths, GBSG2, KB trial files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "survival"
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="session")
def gbsg2() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GBSG2 as (years, event, hormone therapy yes) from lifelines."""
    from lifelines.datasets import load_gbsg2

    df = load_gbsg2()
    return df.time.to_numpy() / 365.0, df.cens.to_numpy(), (df.horTh == "yes").to_numpy()


@pytest.fixture(scope="session")
def gbsg2_reference() -> dict:
    return json.loads((DATA / "gbsg2_reference.json").read_text(encoding="utf-8"))


def load_trial(name: str):
    """One KB trial file validated on its own (independent of the rest of the KB)."""
    from mbcpath.kb.models import Trial

    path = ROOT / "kb" / "trials" / f"{name}.yaml"
    with path.open(encoding="utf-8") as fh:
        return Trial.model_validate(yaml.safe_load(fh))


def write_artifact(name: str, data: dict) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
