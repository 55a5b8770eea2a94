"""Release impact at cohort scale: exact counts on a scripted engine, agreement with the per-folder diff, CLI."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import run_cli
from mbcpath.analytics.records import Accepted, CohortRecord
from mbcpath.analytics.release_impact import release_impact, release_impact_runner
from mbcpath.cli.common import read_patient_file
from mbcpath.domain.validation import parse_patient
from mbcpath.engine import recommend
from mbcpath.errors import InputError, Issue
from mbcpath.kb.history import load_kb_at

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "patients"
BASE = {"age_years": 60, "sex": "female", "her2": {"ihc": "3+"}}


def _kb(name: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, release=SimpleNamespace(kb_release=name))


def _rec(dp: str, options: list[str]) -> SimpleNamespace:
    return SimpleNamespace(decision_point=dp, out_of_scope=None,
                           options=[SimpleNamespace(regimen_id=r) for r in options])


#: patient id -> (answer under "old", answer under "new")
SCRIPT = {
    "same": (("first_line", ["thp", "hp-ai"]), ("first_line", ["thp", "hp-ai"])),
    "rank1": (("first_line", ["thp", "hp-ai"]), ("first_line", ["tdxd-pertuzumab", "thp", "hp-ai"])),
    "reranked": (("first_line", ["thp", "hp-ai"]), ("first_line", ["hp-ai", "thp"])),
    "lost": (("second_line", ["tdxd", "tdm1"]), ("second_line", ["tdxd"])),
    "moved": (("second_line", ["tdxd"]), ("third_line_or_later", ["tdxd"])),
}


def _engine(patient, kb):
    if patient.id == "refused":
        raise InputError(Issue("treatments", None, "scripted refusal"))
    dp, opts = SCRIPT[patient.id][0 if kb.name == "old" else 1]
    return _rec(dp, opts)


def _records(ids: list[str]) -> list[CohortRecord]:
    return [CohortRecord(patient=parse_patient({**BASE, "id": i})) for i in ids]


def test_counts_on_a_scripted_engine_are_exact():
    r = release_impact(_records([*SCRIPT, "rank1", "refused"]), _kb("old"), _kb("new"), engine=_engine, examples=2)
    assert (r.records, r.unanswered, r.changed) == (7, 1, 5)
    assert r.rank1_changed == 3  # rank1 twice, reranked once
    assert r.option_set_changed == 3  # rank1 twice (gained), lost once
    assert r.re_ranked_only == 1
    assert r.decision_point_changed == 1
    assert [(c.what, c.patients) for c in r.top_rank1_changes] == [("thp -> tdxd-pertuzumab", 2),
                                                                    ("thp -> hp-ai", 1)]
    assert [(c.what, c.patients) for c in r.top_gained] == [("tdxd-pertuzumab", 2)]
    assert [(c.what, c.patients) for c in r.top_lost] == [("tdm1", 1)]
    assert [e.patient for e in r.examples] == ["rank1", "reranked"]
    assert r.unanswered_reasons[0].patients == 1


@pytest.fixture(scope="module")
def two_kbs():
    return load_kb_at("2024-06-01"), load_kb_at("2026-12-01")


def _example_patients() -> dict[str, object]:
    out = {}
    for f in sorted(EXAMPLES.glob("*.json")):
        try:
            out[f.stem] = read_patient_file(f)
        except InputError:
            continue
    return out


def test_cohort_counts_agree_with_the_per_patient_diff(two_kbs):
    old, new = two_kbs
    patients = _example_patients()
    ranked = {pid: tuple([o.regimen_id for o in recommend(p, kb).options] for kb in (old, new))
              for pid, p in patients.items()}
    changed = {pid for pid, (a, b) in ranked.items() if a != b}
    rank1 = {pid for pid, (a, b) in ranked.items() if (a or ["-"])[0] != (b or ["-"])[0]}
    recs = [CohortRecord(patient=p.model_copy(update={"id": pid})) for pid, p in patients.items()]
    r = release_impact(recs, old, new, examples=100)
    assert changed and r.changed == len(changed) and r.rank1_changed == len(rank1)
    assert {e.patient for e in r.examples} == changed


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_the_runner_engines_give_the_per_patient_counts(two_kbs, engine):
    old, new = two_kbs
    patients = _example_patients()
    recs = [CohortRecord(patient=p.model_copy(update={"id": pid})) for pid, p in patients.items()]
    reference = release_impact(recs, old, new, examples=100)
    got = release_impact_runner([Accepted(i + 1, r) for i, r in enumerate(recs)], old, new, engine=engine,
                                batch_size=3, examples=100)
    assert got.model_dump() == reference.model_dump()


def test_kb_diff_accepts_a_cohort_file(tmp_path):
    lines = [json.dumps(json.loads(f.read_text())) for f in sorted(EXAMPLES.glob("*.json"))]
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text("\n".join(lines * 2) + "\n", encoding="utf-8")
    res = run_cli("kb", "diff", "2024-06-01", "2026-12-01", "--patients", str(cohort), "--format", "json")
    assert res.returncode == 0, res.stderr
    by_python = run_cli("kb", "diff", "2024-06-01", "2026-12-01", "--patients", str(cohort), "--format", "json",
                        "--engine", "python")
    assert json.loads(by_python.stdout)["cohort"] == json.loads(res.stdout)["cohort"]
    folder = run_cli("kb", "diff", "2024-06-01", "2026-12-01", "--patients", str(EXAMPLES), "--format", "json")
    by_folder = json.loads(folder.stdout)["patients"]
    c = json.loads(res.stdout)["cohort"]
    n_invalid = len(lines) - len(_example_patients())
    assert (c["records"], c["rejected"]) == (2 * len(lines), 2 * n_invalid)
    assert c["changed"] == 2 * len(by_folder)
    assert c["from_release"].endswith("(2024-06-01)")
    text = run_cli("kb", "diff", "2024-06-01", "2026-12-01", "--patients", str(cohort), "--engine", "python")
    assert "rank-1 option changes:" in text.stdout and "Top rank-1 changes:" in text.stdout
    bad = run_cli("kb", "diff", "2024-06-01", "2026-12-01", "--patients", str(cohort), "--engine", "sql")
    assert bad.returncode == 2 and "--engine = 'sql'" in bad.stderr
