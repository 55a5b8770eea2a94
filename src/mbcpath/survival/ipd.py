"""Bundled reconstructed patient-level data (kmdata) and the trial/endpoint registry.

The CSV files in ``mbcpath/survival/data/kmdata/`` are exports of the R package
kmdata 1.0.1 (MIT; Redd R, Fell G, Rahman R; https://github.com/raredd/kmdata),
reconstructed with the Guyot algorithm from published Kaplan-Meier figures; see
that folder's README for the licence and the source publications. They are
read with :mod:`importlib.resources` when first asked for, never at import.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from mbcpath.errors import ModelError

__all__ = ["IPD_REGISTRY", "KmDataset", "dataset_for", "load_kmdata"]


@dataclass(frozen=True)
class KmDataset:
    """One reconstructed figure and how its arms map onto a KB endpoint record.

    ``experimental`` / ``control`` name the kmdata arm labels of the first and
    second arm of the KB record's ``arms`` list.
    """

    file: str
    trial: str
    endpoint: str
    figure: str
    analysis: str
    experimental: str
    control: str
    unit: str = "months"
    citation: str = ""

    def describe(self) -> str:
        return (f"reconstructed IPD of {self.trial} fig. {self.figure} ({self.analysis}; kmdata 1.0.1, "
                f"Guyot reconstruction, MIT)")


#: (normalised trial id, endpoint) -> dataset
IPD_REGISTRY: dict[tuple[str, str], KmDataset] = {
    ("cleopatra", "os"): KmDataset(
        file="cleopatra_2a.csv", trial="CLEOPATRA", endpoint="os", figure="2A",
        analysis="final prespecified OS analysis, Swain NEJM 2015", experimental="pertuzumab", control="control",
        citation="Swain SM et al. N Engl J Med 2015;372:724-34 (PMID 25693012)"),
    ("cleopatra", "pfs"): KmDataset(
        file="cleopatra_3a.csv", trial="CLEOPATRA", endpoint="pfs", figure="3A",
        analysis="investigator-assessed PFS, Swain NEJM 2015", experimental="pertuzumab", control="control",
        citation="Swain SM et al. N Engl J Med 2015;372:724-34 (PMID 25693012)"),
}


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def dataset_for(trial_id: str, endpoint: str, aliases: tuple[str, ...] = ()) -> KmDataset | None:
    """The bundled dataset for a trial (by id or alias) and endpoint, if any."""
    for name in (trial_id, *aliases):
        ds = IPD_REGISTRY.get((_norm(name), endpoint))
        if ds is not None:
            return ds
    return None


@lru_cache(maxsize=16)
def _read(file: str) -> tuple[NDArray[np.float64], NDArray[np.int64], tuple[str, ...]]:
    ref = resources.files("mbcpath.survival").joinpath("data").joinpath("kmdata").joinpath(file)
    try:
        text = ref.read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        raise ModelError(f"kmdata file {file!r}: not found in the installed package data") from None
    rows = list(csv.DictReader(text.splitlines()))
    t = np.array([float(r["time"]) for r in rows])
    e = np.array([int(r["event"]) for r in rows], dtype=np.int64)
    return t, e, tuple(r["arm"] for r in rows)


def load_kmdata(file: str, arm: str | None = None) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """(time, event) of one bundled kmdata file, optionally one arm only.

    References
    ----------
    Redd R, Fell G, Rahman R. kmdata: Kaplan-Meier data reconstructed from
    published figures. R package 1.0.1, https://github.com/raredd/kmdata (MIT).
    Guyot P, Ades AE, Ouwens MJNM, Welton NJ. BMC Med Res Methodol 2012;12:9.
    """
    t, e, arms = _read(file)
    if arm is None:
        return t.copy(), e.copy()
    mask = np.array([a == arm for a in arms])
    if not mask.any():
        raise ModelError(f"kmdata {file}: arm {arm!r} not found (arms: {sorted(set(arms))})")
    return t[mask], e[mask]
