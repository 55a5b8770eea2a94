"""Contract tests over the knowledge base registry (every trial, every number, every regimen)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_cli
from mbcpath.domain.drugs import DRUG_CLASSES, DrugClass

#: Every trial the clinical summary names, plus those the pathway needs (issue 2).
REQUIRED_TRIALS = [
    "CLEOPATRA", "PERTAIN", "DETECT V", "monarcHER", "MonarchHER", "PATRICIA", "AFT-38 PATINA",
    "DESTINY-Breast07", "DESTINY-Breast09", "DESTINY-Breast12", "DEBBRAH", "DEBORAH", "TUXEDO-1", "DEMETHER",
    "DESTINY-Breast01", "DESTINY-Breast02", "DESTINY-Breast03", "HER2CLIMB", "HER2CLIMB-05", "EMILIA",
    "SYSUCC-002", "ALTERNATIVE", "TAnDEM", "eLEcTRA", "PHILA", "PUFFIN", "MARIANNE", "HERNATA", "heredERA",
]
#: Keys whose values are numbers but are not clinical facts (identifiers, thresholds in text).
_NON_FACT_KEYS = {"priority", "year", "score", "preliminary", "rank"}
_SOURCED_RECORD_KEYS = {"sources"}


@pytest.mark.parametrize("name", REQUIRED_TRIALS)
def test_every_required_trial_is_present(kb, name):
    """Each named trial resolves by id or alias (DEBORAH resolves to DEBBRAH)."""
    trial = kb.trial(name)
    assert trial.sources


def test_deborah_is_recorded_as_debbrah(kb):
    """The summary's spelling 'DEBORAH' is an alias of the DEBBRAH record."""
    assert kb.trial("DEBORAH").id == "DEBBRAH"


def _numbers_without_sources(node, path, inherited):
    """Yield paths of numbers that sit in no record carrying `sources`."""
    if isinstance(node, dict):
        has = inherited or bool(node.get("sources"))
        for k, v in node.items():
            if k in _NON_FACT_KEYS:
                continue
            yield from _numbers_without_sources(v, f"{path}.{k}", has)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _numbers_without_sources(v, f"{path}[{i}]", inherited)
    elif isinstance(node, (int, float)) and not isinstance(node, bool) and not inherited:
        yield path


@pytest.mark.parametrize("path", sorted((ROOT / "kb" / "trials").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_number_in_a_trial_file_has_a_source(path, kb):
    """No number in a trial file is outside a record that cites its sources, and every cited key resolves."""
    data = yaml.safe_load(path.read_text())
    unsourced = list(_numbers_without_sources({k: v for k, v in data.items() if k != "sources"}, path.stem, False))
    assert unsourced == []
    keys = set(re.findall(r"'([A-Za-z0-9][A-Za-z0-9_.\-]*)'", str(_collect_sources(data))))
    assert keys <= set(kb.sources), keys - set(kb.sources)


def _collect_sources(node):
    if isinstance(node, dict):
        out = list(node.get("sources", []) or [])
        for k, v in node.items():
            if k != "sources":
                out += _collect_sources(v)
        return out
    if isinstance(node, list):
        return [x for v in node for x in _collect_sources(v)]
    return []


def test_every_regimen_uses_contract_names_and_classes(kb):
    """Each regimen component is a known INN of the right class, a class choice, or local therapy."""
    for r in kb.regimens.values():
        for c in r.components:
            for d in ([c.drug] if c.drug else []) + list(c.choices or []):
                assert DRUG_CLASSES[d] is c.drug_class, (r.id, d)
            assert isinstance(c.drug_class, DrugClass)
        assert r.safety.sources, r.id


def test_unverified_sources_never_back_a_hard_stop(kb):
    """Every excluding clinical gate cites at least one verified source."""
    for g in kb.safety.gates:
        if g.effect == "exclude" and g.kind in ("condition", "exposure"):
            assert any(kb.sources[k].verified for k in g.sources), g.id


def test_engine_uses_marks_at_most_one_analysis_per_endpoint(kb):
    """Where analyses disagree, exactly one per endpoint and comparison is the engine's."""
    for t in kb.trials.values():
        seen = set()
        for e in t.endpoints:
            if e.engine_uses:
                key = (e.endpoint, tuple(e.arms))
                assert key not in seen, (t.id, key)
                seen.add(key)


def _copy_kb(tmp_path: Path) -> Path:
    dst = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", dst)
    return dst


def test_kb_validate_passes_on_the_shipped_kb():
    """`mbcpath kb validate` accepts the shipped release."""
    res = run_cli("kb", "validate")
    assert res.returncode == 0, res.stderr
    assert "valid" in res.stdout


def test_kb_validate_rejects_a_number_without_a_source(tmp_path):
    """A trial endpoint whose sources were removed makes `kb validate` fail, naming file and field."""
    kb = _copy_kb(tmp_path)
    f = kb / "trials" / "cleopatra.yaml"
    data = yaml.safe_load(f.read_text())
    data["endpoints"][0]["sources"] = []
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    res = run_cli("kb", "validate", str(kb))
    assert res.returncode == 1
    assert "cleopatra.yaml" in res.stderr and "endpoints[0].sources" in res.stderr


def test_kb_validate_rejects_a_bare_number(tmp_path):
    """`n: 808` (a number without its source record) is rejected."""
    kb = _copy_kb(tmp_path)
    f = kb / "trials" / "cleopatra.yaml"
    data = yaml.safe_load(f.read_text())
    data["n"] = 808
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    res = run_cli("kb", "validate", str(kb))
    assert res.returncode == 1
    assert "n:" in res.stderr or ".n" in res.stderr or " n" in res.stderr


def test_kb_validate_rejects_an_unknown_drug_class(tmp_path):
    """A regimen component with a class outside the contract fails validation."""
    kb = _copy_kb(tmp_path)
    f = kb / "regimens" / "thp.yaml"
    data = yaml.safe_load(f.read_text())
    data["components"][1]["class"] = "antibody_magic"
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    res = run_cli("kb", "validate", str(kb))
    assert res.returncode == 1
    assert "thp.yaml" in res.stderr and "components[1].class" in res.stderr


def test_kb_validate_rejects_a_condition_with_an_unknown_fact(tmp_path):
    """A rule condition naming a fact that does not exist cannot load."""
    kb = _copy_kb(tmp_path)
    f = kb / "decisions" / "safety.yaml"
    text = f.read_text().replace("when: \"neuropathy_grade >= 3\"", "when: \"qtc_ms >= 450\"")
    f.write_text(text)
    res = run_cli("kb", "validate", str(kb))
    assert res.returncode == 1
    assert "unknown fact 'qtc_ms'" in res.stderr


def test_kb_validate_rejects_a_hard_stop_backed_only_by_unverified_sources(tmp_path):
    """An excluding gate whose only source is unverified cannot load."""
    kb = _copy_kb(tmp_path)
    f = kb / "decisions" / "safety.yaml"
    data = yaml.safe_load(f.read_text())
    gate = next(g for g in data["gates"] if g["id"] == "neuropathy-taxane-severe")
    gate["sources"] = ["CLEO-MEM"]
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    res = run_cli("kb", "validate", str(kb))
    assert res.returncode == 1
    assert "neuropathy-taxane-severe" in res.stderr and "verified" in res.stderr


def test_kb_readme_manifest_matches_the_kb(kb):
    """kb/README.md's manifest table is the one `mbcpath kb manifest` generates from this release."""
    from mbcpath.kb.manifest import BEGIN, END, manifest_table

    text = (ROOT / "kb" / "README.md").read_text()
    table = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert table == manifest_table(kb)
