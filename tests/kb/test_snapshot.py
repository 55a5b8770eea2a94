"""The pre-validated KB snapshot (mbcpath.kb.snapshot): same answers as the YAML, never stale, never trusted
when altered."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MBCPATH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def kb_copy(tmp_path) -> Path:
    dest = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", dest)
    return dest


def _snapshot_and_yaml(root: Path):
    from mbcpath.kb import snapshot
    from mbcpath.kb.loader import KnowledgeBase, load_kb_from

    kb = load_kb_from(root)
    assert snapshot.save(kb, snapshot.content_key(root)) is not None
    again = snapshot.load(root, KnowledgeBase)
    assert again is not None
    return kb, again


def test_snapshot_gives_byte_identical_answers(cache, kb_copy):
    """Every vignette gets the same bytes from the snapshot-built KB as from the validated YAML (order kept)."""
    from mbcpath.domain.validation import parse_patient
    from mbcpath.domain.wire import recommendation_bytes
    from mbcpath.engine import recommend

    kb, again = _snapshot_and_yaml(kb_copy)
    n = 0
    for path in sorted(CASES.glob("*.json")):
        doc = json.loads(path.read_text())
        if doc["expect"].get("reject"):
            continue
        p = parse_patient(doc["patient"])
        assert recommendation_bytes(recommend(p, again)) == recommendation_bytes(recommend(p, kb)), path.stem
        n += 1
    assert n >= 20


def test_edited_kb_file_gets_a_new_key(cache, kb_copy):
    """A changed KB file changes the key: the old snapshot is not used for the new files."""
    from mbcpath.kb import snapshot
    from mbcpath.kb.loader import KnowledgeBase

    _snapshot_and_yaml(kb_copy)
    f = kb_copy / "trials" / "cleopatra.yaml"
    f.write_text(f.read_text() + "\n# edited\n")
    assert snapshot.load(kb_copy, KnowledgeBase) is None


def test_altered_snapshot_is_not_trusted(cache, kb_copy):
    """A snapshot whose payload was changed fails its SHA-256 check and is ignored."""
    from mbcpath.kb import snapshot
    from mbcpath.kb.loader import KnowledgeBase

    _snapshot_and_yaml(kb_copy)
    (path,) = cache.glob("kb-*.json")
    doc = json.loads(path.read_text())
    doc["payload"] = doc["payload"].replace('"verified":true', '"verified":false', 1)
    path.write_text(json.dumps(doc))
    assert snapshot.load(kb_copy, KnowledgeBase) is None


def test_snapshot_is_plain_json(cache, kb_copy):
    """The snapshot is JSON text (nothing in it can run code)."""
    _snapshot_and_yaml(kb_copy)
    (path,) = cache.glob("kb-*.json")
    doc = json.loads(path.read_text())
    assert set(doc) == {"format", "key", "sha256", "payload"}
    assert json.loads(doc["payload"])["release"]["kb_release"]


def test_corrupt_kb_is_never_served_from_an_old_snapshot(cache, kb_copy):
    """load_kb on a KB broken after its snapshot was written validates the YAML and refuses it."""
    from mbcpath.errors import KnowledgeBaseError
    from mbcpath.kb.loader import _cached

    _snapshot_and_yaml(kb_copy)
    f = kb_copy / "decisions" / "first_line.yaml"
    f.write_text(f.read_text().replace('condition: "lvef_percent >= 50"', 'condition: "lvef_percent >= "', 1))
    _cached.cache_clear()
    with pytest.raises(KnowledgeBaseError, match="fl-tdxd-pertuzumab"):
        _cached(str(kb_copy))
    _cached.cache_clear()


def test_a_kb_part_that_is_not_plain_data_means_no_snapshot(cache, kb_copy):
    """If the KB object ever holds something JSON cannot carry (a compiled plan), no snapshot is written and
    loading still works from the YAML."""
    from mbcpath.kb import snapshot
    from mbcpath.kb.loader import load_kb_from

    kb = load_kb_from(kb_copy)
    kb.aliases["x"] = object()  # type: ignore[assignment]
    assert snapshot.save(kb, snapshot.content_key(kb_copy)) is None
    assert not list(cache.glob("kb-*.json"))
