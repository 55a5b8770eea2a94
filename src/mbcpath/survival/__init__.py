"""Survival modelling and evidence synthesis for mbcpath.

Modules (import them directly; nothing heavy is imported here):

- :mod:`~mbcpath.survival.distributions`: parametric distributions (flexsurv parameterisations)
- :mod:`~mbcpath.survival.fitting`: fits to patient-level data and to published summaries
- :mod:`~mbcpath.survival.reconstruct`: Guyot (2012) IPD reconstruction from digitised KM curves
- :mod:`~mbcpath.survival.mcbs`: ESMO-MCBS v1.1 calculator (forms 2a, 2b, 3)
- :mod:`~mbcpath.survival.sequence`: Monte Carlo of treatment sequences
- :mod:`~mbcpath.survival.nma`: frequentist network meta-analysis of log hazard ratios
- :mod:`~mbcpath.survival.summary_fit`: families fitted to published summary points (AIC/BIC)
- :mod:`~mbcpath.survival.evidence`: analyses, follow-up windows, direct trials, subgroups, network contrasts
- :mod:`~mbcpath.survival.comparisons`: which options share a chart (randomised, anchored, unanchored)
- :mod:`~mbcpath.survival.network`: the KB's network meta-analyses and their report
- :mod:`~mbcpath.survival.artefact`: fits as a checked-in artefact of the KB release
- :mod:`~mbcpath.survival.projection`: survival projections for a recommendation's options
- :mod:`~mbcpath.survival.service`: ``project_for(patient, kb)`` and start-up ``warm(kb)``
- :mod:`~mbcpath.survival.sequences`: expected time on effective therapy across sequences
- :mod:`~mbcpath.survival.chart`: chart data model (solid/dashed segments, bands) and SVG renderer
- :mod:`~mbcpath.survival.plot`: self-contained HTML of the charts
- :mod:`~mbcpath.survival.ipd`: bundled reconstructed trial data (kmdata, MIT)
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "reconstruct": "mbcpath.survival.reconstruct",
    "mcbs_for_trial": "mbcpath.survival.mcbs",
    "network_meta_analysis": "mbcpath.survival.nma",
    "simulate_sequence": "mbcpath.survival.sequence",
    "project_options": "mbcpath.survival.projection",
    "project_for": "mbcpath.survival.service",
    "network_report": "mbcpath.survival.network",
    "sequence_report": "mbcpath.survival.sequences",
    "fit_ipd": "mbcpath.survival.fitting",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mbcpath.survival' has no attribute {name!r}")
