"""mbcpath: evidence-grounded decision support for HER2-positive metastatic breast cancer.

Not a medical device: the output supports a clinician's judgement and shows its basis.

Example
-------
>>> from mbcpath import load_kb, parse_patient, recommend          # doctest: +SKIP
>>> rec = recommend(parse_patient(patient_json))                     # doctest: +SKIP
>>> [(o.rank, o.name) for o in rec.options]                          # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

__all__ = ["__version__", "load_kb", "parse_patient", "recommend"]

if TYPE_CHECKING:
    from mbcpath.domain.recommendation import Recommendation


def recommend(patient: Any, kb: Any = None, *, as_of: Any = None) -> Recommendation:
    """Recommend options for a :class:`~mbcpath.domain.patient.Patient` (see :mod:`mbcpath.engine`);
    ``as_of`` (a ``datetime.date``) answers with the evidence known on that date."""
    from mbcpath.engine.core import recommend as _recommend

    return _recommend(patient, kb, as_of=as_of)


def parse_patient(data: Any) -> Any:
    """Validate a patient JSON object (raises :class:`mbcpath.errors.InputError`)."""
    from mbcpath.domain.validation import parse_patient as _parse

    return _parse(data)


def load_kb(root: Any = None) -> Any:
    """Load the cited knowledge base (cached)."""
    from mbcpath.kb.loader import load_kb as _load

    return _load(root)
