"""Survival modelling and evidence synthesis for mbcpath.

Modules (import them directly; nothing heavy is imported here):

- :mod:`~mbcpath.survival.distributions`: parametric distributions (flexsurv parameterisations)
- :mod:`~mbcpath.survival.fitting`: fits to patient-level data and to published summaries
- :mod:`~mbcpath.survival.reconstruct`: Guyot (2012) IPD reconstruction from digitised KM curves
- :mod:`~mbcpath.survival.mcbs`: ESMO-MCBS v1.1 calculator (forms 2a, 2b, 3)
- :mod:`~mbcpath.survival.sequence`: Monte Carlo of treatment sequences
- :mod:`~mbcpath.survival.nma`: frequentist network meta-analysis of log hazard ratios
- :mod:`~mbcpath.survival.projection`: survival projections for a recommendation's options
- :mod:`~mbcpath.survival.plot`: Plotly figures of the projections
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
    "fit_ipd": "mbcpath.survival.fitting",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mbcpath.survival' has no attribute {name!r}")
