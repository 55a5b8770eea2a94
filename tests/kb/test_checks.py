"""Release-validation checks (mbcpath.kb.checks): one rejection test per rule, run on a copy of the KB."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT
from mbcpath.errors import KnowledgeBaseError
from mbcpath.kb import checks
from mbcpath.kb.loader import load_kb_from


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", dst)
    return dst


def _edit(path: Path, change: Callable[[Any], None]) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _refused(root: Path) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as err:
        load_kb_from(root)
    return err.value.issues


def _option(data: dict, oid: str) -> dict:
    return next(o for o in data["options"] if o["id"] == oid)


def _gate(data: dict, gid: str) -> dict:
    return next(g for g in data["gates"] if g["id"] == gid)


def test_the_shipped_kb_passes_every_release_check(kb):
    """The release loads, and only the listed decision-file offences are waived."""
    assert checks.release_problems(kb) == []
    assert all(p.split(":")[0] in checks.WAIVED for p in checks.waived_problems(kb))


def test_every_waiver_still_matches_an_offence(kb):
    """A waiver for a rule that was fixed must be deleted (no stale waivers)."""
    matched = {p.split(":")[0] for p in checks.waived_problems(kb)}
    assert set(checks.WAIVED) <= matched, set(checks.WAIVED) - matched


def test_a_record_resting_only_on_a_retracted_source_is_refused(tmp_path):
    """An engine-used endpoint citing only the retracted ALTERNATIVE paper cannot load."""
    root = _copy(tmp_path)

    def cite_retracted(d: dict) -> None:
        d["endpoints"][1]["sources"] = ["ALT-1"]

    _edit(root / "trials" / "alternative.yaml", cite_retracted)
    issues = _refused(root)
    assert any("trials/ALTERNATIVE#pfs" in i and "retracted source(s) ['ALT-1']" in i for i in issues)


def test_a_retracted_source_without_its_notice_is_refused(tmp_path):
    """retracted: true needs retraction_notice."""
    root = _copy(tmp_path)
    _edit(root / "sources" / "trials-2.yaml", lambda d: d["sources"]["ALT-1"].pop("retraction_notice"))
    with pytest.raises(KnowledgeBaseError, match="retraction_notice"):
        load_kb_from(root)


def test_an_endpoint_without_a_cutoff_or_its_reason_is_refused(tmp_path):
    """Every endpoint record carries data_cutoff or data_cutoff_unknown."""
    root = _copy(tmp_path)
    _edit(root / "trials" / "destiny-breast09.yaml", lambda d: d["endpoints"][0].pop("data_cutoff"))
    issues = _refused(root)
    assert any("DESTINY-Breast09#pfs" in i and "no data_cutoff and no data_cutoff_unknown" in i for i in issues)


def test_a_malformed_cutoff_is_refused(tmp_path):
    """A cut-off is YYYY-MM-DD or YYYY-MM."""
    root = _copy(tmp_path)
    _edit(root / "trials" / "destiny-breast09.yaml", lambda d: d["endpoints"][0].update(data_cutoff="Feb 2025"))
    with pytest.raises(KnowledgeBaseError, match="data_cutoff"):
        load_kb_from(root)


def test_an_endpoint_without_known_since_is_refused(tmp_path):
    """The as-of view needs the day each endpoint record became public."""
    root = _copy(tmp_path)
    _edit(root / "trials" / "patina.yaml", lambda d: d["endpoints"][0].pop("known_since"))
    assert any("PATINA#" in i and "no known_since" in i for i in _refused(root))


def test_an_unverified_source_driving_a_ranking_adjustment_is_refused(tmp_path):
    """A priority or category change resting only on unverified sources cannot load."""
    root = _copy(tmp_path)

    def unverify(d: dict) -> None:
        _option(d, "fl-tdxd-pertuzumab")["adjustments"][0]["sources"] = ["CLEO-MEM"]

    _edit(root / "decisions" / "first_line.yaml", unverify)
    issues = _refused(root)
    assert any("fl-tdxd-pertuzumab/adjustments/ecog-2-outside-trial" in i and "ranking adjustment" in i
               for i in issues)


def test_an_unverified_source_driving_requires_is_refused(tmp_path):
    """A 'requires' criterion (it excludes the option) needs a verified source."""
    root = _copy(tmp_path)
    _edit(root / "decisions" / "first_line.yaml",
          lambda d: _option(d, "fl-tdxd-pertuzumab")["requires"][0].update(sources=["DB07-MEM"]))
    issues = _refused(root)
    assert any("fl-tdxd-pertuzumab/requires/db09-dfi" in i and "'requires' criterion" in i for i in issues)


def test_an_unverified_formulary_gate_is_refused(tmp_path):
    """A formulary or restricted-availability gate needs a verified source."""
    root = _copy(tmp_path)
    data = yaml.safe_load((root / "decisions" / "safety.yaml").read_text())
    gate = next(g for g in data["gates"] if g.get("kind") in ("formulary", "restricted"))
    gate["sources"] = ["PUF-MEM"]
    (root / "decisions" / "safety.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    issues = _refused(root)
    assert any(f"safety#{gate['id']}" in i and f"a {gate['kind']} gate" in i for i in issues)


def test_a_hard_stop_with_one_unverified_source_is_refused(tmp_path):
    """Every source of a hard stop must be verified, not just one."""
    root = _copy(tmp_path)
    _edit(root / "decisions" / "safety.yaml",
          lambda d: _gate(d, "neuropathy-taxane-severe")["sources"].append("CLEO-MEM"))
    issues = _refused(root)
    assert any("safety#neuropathy-taxane-severe" in i and "['CLEO-MEM'] are not" in i for i in issues)


def test_all_offenders_come_in_one_error(tmp_path):
    """Two independent offences are both reported by one KnowledgeBaseError."""
    root = _copy(tmp_path)
    _edit(root / "trials" / "destiny-breast09.yaml", lambda d: d["endpoints"][0].pop("data_cutoff"))
    _edit(root / "decisions" / "safety.yaml",
          lambda d: _gate(d, "neuropathy-taxane-severe")["sources"].append("CLEO-MEM"))
    issues = _refused(root)
    assert any("DESTINY-Breast09" in i for i in issues) and any("neuropathy-taxane-severe" in i for i in issues)


def test_an_engine_used_endpoint_must_be_verified(tmp_path):
    """engine_uses with verified: false cannot load."""
    root = _copy(tmp_path)
    _edit(root / "trials" / "destiny-breast09.yaml", lambda d: d["endpoints"][0].update(verified=False))
    assert any("marked engine_uses but verified: false" in i for i in _refused(root))


def test_a_regimen_trial_list_must_match_the_arms(tmp_path):
    """A regimen listing a trial that has no arm of it (borrowed evidence) cannot load."""
    root = _copy(tmp_path)
    _edit(root / "regimens" / "neratinib-capecitabine.yaml", lambda d: d["trials"].append("HER2CLIMB"))
    assert any("regimens/neratinib-capecitabine: trials ['HER2CLIMB'] have no arm" in i for i in _refused(root))


def test_an_unstructured_criterion_must_name_its_missing_facts(tmp_path):
    """condition: null needs missing_facts, and they must really be missing from the catalogue."""
    root = _copy(tmp_path)

    def strip(d: dict) -> None:
        d["eligibility"][0].pop("condition")
        d["eligibility"][1]["condition"] = None
        d["eligibility"][1]["missing_facts"] = ["ecog"]

    _edit(root / "trials" / "destiny-breast09.yaml", strip)
    issues = _refused(root)
    assert any("write one or list the catalogue facts" in i for i in issues)
    assert any("missing_facts ['ecog'] are in the fact catalogue" in i for i in issues)


def test_a_superseded_guideline_names_its_successor(tmp_path):
    """status: superseded needs superseded_by and superseded_on."""
    root = _copy(tmp_path)
    _edit(root / "guidelines" / "eso-esmo-abc4.yaml", lambda d: d.pop("superseded_on"))
    with pytest.raises(KnowledgeBaseError, match="superseded_by and superseded_on"):
        load_kb_from(root)


def test_an_old_release_loads_without_release_checks(tmp_path):
    """release_checks=False reads a KB that predates the checks (for kb diff)."""
    root = _copy(tmp_path)
    _edit(root / "trials" / "destiny-breast09.yaml", lambda d: d["endpoints"][0].pop("data_cutoff"))
    kb = load_kb_from(root, release_checks=False)
    assert kb.trial("DB-09").endpoints[0].data_cutoff is None
