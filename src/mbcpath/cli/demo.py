"""``mbcpath demo``: the clinical summary's representative patient, decision point by decision point."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.rule import Rule

STEPS = (
    ("seed-01-first-line.json", "1. First line at diagnosis of HR+/HER2+ metastatic disease"),
    ("seed-02-maintenance.json", "2. Maintenance after docetaxel + trastuzumab + pertuzumab induction"),
    ("seed-03-cns-progression.json", "3. CNS progression on HP + letrozole + ribociclib, extracranial control"),
)


def examples_dir() -> Path:
    """The shipped example patients (package data, else the repository's ``examples/patients``)."""
    here = Path(__file__).resolve()
    packaged = here.parent.parent / "_examples"
    return packaged if packaged.is_dir() else here.parents[3] / "examples" / "patients"


def run_demo(console: Console) -> None:
    """Recommend at each decision point of the seed case and print the answers."""
    from mbcpath.cli.common import read_patient_file
    from mbcpath.cli.render import render_text
    from mbcpath.engine import recommend

    console.print("[bold]The clinical summary's representative case[/]: HR-positive, HER2-positive MBC; induction "
                  "docetaxel + trastuzumab + pertuzumab, durable response, letrozole maintenance with HP, "
                  "ribociclib added, then CNS progression.")
    for name, title in STEPS:
        console.print(Rule(title))
        rec = recommend(read_patient_file(examples_dir() / name))
        render_text(rec, console)
