"""Which KB regimen a set of drugs is: the name a real-world line of therapy is grouped under.

A set of drugs *is* a regimen when the drugs can be paired one-to-one with the
regimen's components: a component naming a drug takes exactly that drug; a
component offering ``choices`` takes one of them; a class component (``taxane``,
``aromatase_inhibitor``, ...) takes one drug of that class. Local-therapy
components and regimens filled from the patient's own regimen (``dynamic``) are
never matched. When several regimens fit, the most specific wins (the most
components naming their drug), then the regimen id in alphabetical order, so the
same drugs always get the same name. Drugs that fit no regimen keep their own
name (``other: capecitabine + trastuzumab``), never a guess.

References
----------
shared/domain.md section 2 (a regimen and a line of therapy); kb/regimens/*.yaml.
Saini KS, Twelves C. Determining lines of therapy in patients with solid cancers: a proposed new
systematic and comprehensive framework. Br J Cancer 2021;125:155-63 (a line is named by the
combination of anticancer drugs given from its start).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mbcpath.domain.drugs import DRUG_CLASSES, DrugClass

__all__ = ["RegimenMatcher", "other_label"]

OTHER = "other: "


@dataclass(frozen=True)
class _Slot:
    drugs: frozenset[str]  # the drugs this component accepts
    named: bool  # the component names its drug (more specific than a class)


def _slots(regimen: Any) -> tuple[_Slot, ...] | None:
    out = []
    for c in regimen.components:
        cls = DrugClass(c.drug_class)
        if cls is DrugClass.LOCAL_THERAPY:
            return None
        if c.drug:
            out.append(_Slot(frozenset({c.drug}), True))
        elif c.choices:
            out.append(_Slot(frozenset(c.choices), False))
        else:
            out.append(_Slot(frozenset(d for d, k in DRUG_CLASSES.items() if k is cls), False))
    return tuple(out)


def _fits(drugs: tuple[str, ...], slots: tuple[_Slot, ...]) -> bool:
    """One-to-one assignment of drugs to slots (tiny sets: backtracking)."""
    if len(drugs) != len(slots):
        return False
    if not drugs:
        return True
    first, rest = drugs[0], drugs[1:]
    for i, s in enumerate(slots):
        if first in s.drugs and _fits(rest, slots[:i] + slots[i + 1:]):
            return True
    return False


def other_label(drugs: Iterable[str]) -> str:
    """The group name of drugs that fit no KB regimen."""
    return OTHER + " + ".join(sorted(drugs))


class RegimenMatcher:
    """Drugs -> KB regimen id, for one knowledge base (answers cached per drug set)."""

    def __init__(self, regimens: Mapping[str, Any]) -> None:
        self._slots: list[tuple[str, tuple[_Slot, ...]]] = []
        for rid, reg in sorted(regimens.items()):
            slots = None if getattr(reg, "dynamic", False) else _slots(reg)
            if slots is not None:
                self._slots.append((rid, slots))
        self._cache: dict[frozenset[str], str | None] = {}

    def regimen_id(self, drugs: Iterable[str]) -> str | None:
        """The KB regimen these drugs are, or None when none fits."""
        key = frozenset(drugs)
        if key not in self._cache:
            ordered = tuple(sorted(key))
            found = [(sum(s.named for s in slots), rid) for rid, slots in self._slots if _fits(ordered, slots)]
            self._cache[key] = min(found, key=lambda x: (-x[0], x[1]))[1] if found else None
        return self._cache[key]

    def label(self, drugs: Iterable[str]) -> str:
        """The regimen id, or ``other: a + b`` when no regimen fits."""
        ds = list(drugs)
        return self.regimen_id(ds) or other_label(ds)
