"""The shipped example patients the UI can load, and the guided walkthrough of the seed case."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,120}$")


@dataclass(frozen=True)
class Example:
    id: str
    label: str
    patient: dict[str, Any]
    invalid: bool = False


def _label(ident: str, doc: dict[str, Any]) -> str:
    for k in ("title", "label", "description"):
        if isinstance(doc.get(k), str) and doc[k].strip():
            return doc[k].strip()[:120]
    return ident.replace("-", " ").capitalize()


def load_examples(folder: Path) -> list[Example]:
    """Every ``*.json`` example in ``folder`` (bare patients or ``{id, patient, expect}`` files)."""
    out: list[Example] = []
    if not folder.is_dir():
        return out
    for p in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict):
            continue
        inner = doc.get("patient")
        patient: dict[str, Any] = inner if isinstance(inner, dict) else doc
        exp = doc.get("expect")
        expect: dict[str, Any] = exp if isinstance(exp, dict) else {}
        out.append(Example(id=p.stem, label=_label(p.stem, doc), patient=patient,
                           invalid=bool(expect.get("reject"))))
    return out


def find_example(folder: Path, ident: str) -> Example | None:
    """The example with file stem ``ident`` (None for unknown or unsafe names)."""
    if not _SAFE_ID.match(ident):
        return None
    for ex in load_examples(folder):
        if ex.id == ident:
            return ex
    return None


@dataclass(frozen=True)
class Step:
    number: int
    slug: str
    short: str
    file_prefix: str
    title: str
    situation: str
    question: str
    what_changed: str


#: The clinical summary's representative case (domain.md section 6), one decision point per step.
WALKTHROUGH: tuple[Step, ...] = (
    Step(1, "first-line", "First line", "seed-01",
         "First line: newly diagnosed HR-positive, HER2-positive metastatic disease",
         "A 56-year-old postmenopausal woman presents with de novo metastatic HER2-positive (IHC 3+), "
         "ER 85% / PR 40% breast cancer in bone and liver. ECOG 0, LVEF 62%, no ILD, no neuropathy.",
         "Which first-line regimen: taxane + trastuzumab + pertuzumab (CLEOPATRA) or "
         "trastuzumab deruxtecan + pertuzumab (DESTINY-Breast09)? Is a chemotherapy-free endocrine option "
         "reasonable?",
         "Start of the case: no systemic treatment yet."),
    Step(2, "maintenance", "Maintenance", "seed-02",
         "Maintenance: after induction docetaxel + trastuzumab + pertuzumab",
         "She completed about five months of docetaxel + trastuzumab + pertuzumab induction with a durable "
         "response; disease is controlled and the taxane has stopped.",
         "What maintenance: HP + endocrine therapy, with or without a CDK4/6 inhibitor (PATINA), "
         "or HP + tucatinib (HER2CLIMB-05)?",
         "Induction completed without progression; the decision point becomes maintenance."),
    Step(3, "cns-progression", "CNS progression", "seed-03",
         "CNS progression: brain metastases on HP + letrozole + ribociclib",
         "On HP + letrozole maintenance with ribociclib added, extracranial disease stays controlled, but "
         "new active brain metastases appear (isolated CNS progression).",
         "Local therapy and continue the current regimen, or switch to a CNS-active regimen "
         "(trastuzumab deruxtecan; tucatinib + trastuzumab + capecitabine)?",
         "Brain metastases are now active while extracranial disease is controlled: a CNS event."),
)


def walkthrough_example(folder: Path, step: Step) -> Example | None:
    """The example file for a walkthrough step (``seed-01*.json`` ...)."""
    for ex in load_examples(folder):
        if ex.id.startswith(step.file_prefix + "-"):
            return ex
    return None
