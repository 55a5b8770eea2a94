"""The fits artefact is a reproducible product of the KB release: refitting everything gives the checked-in
file, and the run-time store rebuilds every fit from it without fitting anything."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mbcpath.kb import load_kb
from mbcpath.survival import artefact


@pytest.fixture(scope="module")
def kb():
    return load_kb()


def test_checked_in_fits_match_a_fresh_fit_of_the_kb(kb):
    """Fit every analysis again (about 15 s, the CLEOPATRA patient-level fits most of it) and compare with
    ``mbcpath/survival/data/fits.json``: same analyses, same chosen model, AIC within 1e-4 relative, parameters
    within 1e-3. After editing kb/trials, run ``mbcpath kb build-fits``."""
    stored = artefact.load_fits()
    assert stored["kb_release"] == kb.release.kb_release
    diffs = artefact.compare_fits(stored, artefact.build_fits(kb))
    assert diffs == [], "\n".join(diffs[:20])


def test_store_rebuilds_fits_without_fitting(kb, monkeypatch):
    """With a current artefact, preparing the store never calls a fitter (a fit would raise here)."""
    from mbcpath.survival import summary_fit

    def boom(*a, **k):
        raise AssertionError("a request path fitted a model")

    monkeypatch.setattr(artefact, "fit_summary_all", boom)
    monkeypatch.setattr(artefact, "fit_ipd_arm", boom)
    monkeypatch.setattr(summary_fit, "fit_summary", boom)
    store = artefact.FitStore(artefact.load_fits()).prepare(kb)
    assert store.stale == []


def test_stale_inputs_are_fitted_once_and_reported(kb):
    """An analysis whose published numbers changed since the artefact was built is fitted when the store is
    prepared, and named in ``stale``; a later lookup reuses it."""
    stored = json.loads(json.dumps(artefact.load_fits()))
    key = next(k for k in stored["summary"] if k.startswith("DESTINY-Breast09|pfs|planned interim analysis (ASCO"))
    stored["summary"][key]["inputs_hash"] = "0" * 16
    store = artefact.FitStore(stored).prepare(kb)
    assert [s for s in store.stale if "DESTINY-Breast09|pfs" in s] == [f"summary {key}: not in the fits artefact "
                                                                        "or its inputs changed; fitted now"]
    assert len(store.stale) == 1


def test_rebuilt_fit_equals_the_stored_parameters(kb):
    """The distribution rebuilt from the artefact has the stored parameters (round trip)."""
    from mbcpath.survival.evidence import analyses_for_arm

    trial = kb.trial("DESTINY-Breast09")
    an = analyses_for_arm(trial, "pfs", "thp", {})[0]
    fits = artefact.default_store(kb).summary(an, "thp", "tdxd_p")
    entry = artefact.load_fits()["summary"][artefact.summary_key(an, "thp", "tdxd_p")]
    assert fits[0].family == entry["chosen"]
    assert np.allclose(fits[0].theta, entry["families"][0]["theta"])
