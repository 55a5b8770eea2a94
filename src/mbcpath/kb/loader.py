"""Load and validate the knowledge base: ``load_kb()`` is explicit and cached.

Nothing is read at import time. A release that fails validation cannot load:
every file is validated by its pydantic model, then cross-checked (source
keys resolve, arms name known regimens, rules name known regimens, trials and
statements, excluding gates cite at least one verified source).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mbcpath.domain.validation import loc_to_path
from mbcpath.errors import KnowledgeBaseError
from mbcpath.kb.models import (
    DecisionFile,
    DrugLabel,
    GuidelineSource,
    LabelDimensionsFile,
    NotesFile,
    Regimen,
    Release,
    SafetyFile,
    Source,
    SourceRegistry,
    Statement,
    Trial,
    WatchFile,
    WatchItem,
)

M = TypeVar("M", bound=BaseModel)


@dataclass
class KnowledgeBase:
    """A validated KB release."""

    root: Path
    release: Release
    sources: dict[str, Source]
    trials: dict[str, Trial]
    regimens: dict[str, Regimen]
    guidelines: dict[str, GuidelineSource]
    decisions: dict[str, DecisionFile]
    safety: SafetyFile
    notes: NotesFile
    labels: dict[str, DrugLabel] = field(default_factory=dict)
    label_dimensions: LabelDimensionsFile = field(default_factory=lambda: LabelDimensionsFile(dimensions=[]))
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def statements(self) -> dict[str, tuple[GuidelineSource, Statement]]:
        return {s.id: (g, s) for g in self.guidelines.values() for s in g.statements}

    def trial(self, name: str) -> Trial:
        """Find a trial by id or alias, case-insensitively."""
        key = self.aliases.get(_norm(name))
        if key is None:
            raise KeyError(name)
        return self.trials[key]


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def default_kb_path() -> Path:
    """``$MBCPATH_KB``, else the KB shipped in the package, else the repository's ``kb/``."""
    env = os.environ.get("MBCPATH_KB")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    packaged = here.parent.parent / "_kb"
    if packaged.is_dir():
        return packaged
    return here.parents[3] / "kb"


def _read_yaml(path: Path) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as err:
        raise KnowledgeBaseError(f"not valid YAML: {err}", path=str(path)) from None
    except OSError as err:
        raise KnowledgeBaseError(f"cannot read: {err.strerror}", path=str(path)) from None


def _record_id(data: Any, loc: tuple[int | str, ...]) -> str | None:
    """The ids of the records (rule, criterion, gate, arm ...) that ``loc`` points into, outer to inner
    (``fl-tdxd-pertuzumab/lvef-50``), or None."""
    ids, cur = [], data
    for part in (*loc, None):
        if isinstance(cur, dict) and isinstance(cur.get("id"), str) and cur is not data:
            ids.append(cur["id"])
        if part is None:
            break
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            break
    return "/".join(ids) or None


def _validate(model: type[M], path: Path) -> M:
    data = _read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        issues = []
        for e in err.errors(include_url=False):
            msg = str(e["msg"]).removeprefix("Value error, ")
            if e["type"] == "missing":
                msg = "required field is missing"
            elif e["type"] == "extra_forbidden":
                msg = "unknown field"
            loc = tuple(e["loc"])
            rule = _record_id(data, loc)
            where = f"rule {rule!r} at {loc_to_path(loc)}" if rule else loc_to_path(loc)
            issues.append(f"{where}: {msg} (value: {e.get('input')!r:.80})")
        raise KnowledgeBaseError("; ".join(issues[:5]) + (f" (+{len(issues) - 5} more)" if len(issues) > 5 else ""),
                                 path=str(path), issues=issues) from None


def _yaml_files(folder: Path) -> Iterable[Path]:
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def load_kb_from(root: Path, *, release_checks: bool = True) -> KnowledgeBase:
    """Load and validate the KB below ``root`` (uncached).

    ``release_checks=False`` skips :func:`mbcpath.kb.checks.release_problems` (for reading an
    old release that predates them, e.g. in ``mbcpath kb diff``); the schema and the
    cross-references are always checked.
    """
    root = Path(root)
    if not (root / "release.yaml").is_file():
        raise KnowledgeBaseError("no release.yaml: not a knowledge base folder", path=str(root))
    release = _validate(Release, root / "release.yaml")
    sources: dict[str, Source] = {}
    for p in _yaml_files(root / "sources"):
        reg = _validate(SourceRegistry, p)
        for k, v in reg.sources.items():
            if k in sources:
                raise KnowledgeBaseError(f"source key {k!r} is defined twice", path=str(p))
            sources[k] = v
    regimens = _by_id(Regimen, root / "regimens")
    trials = _by_id(Trial, root / "trials")
    guidelines = _by_id(GuidelineSource, root / "guidelines")
    decisions: dict[str, DecisionFile] = {}
    for p in _yaml_files(root / "decisions"):
        if p.stem in ("safety", "notes"):
            continue
        d = _validate(DecisionFile, p)
        if d.id in decisions:
            raise KnowledgeBaseError(f"decision file id {d.id!r} is defined twice", path=str(p))
        decisions[d.id] = d
    safety = _validate(SafetyFile, root / "decisions" / "safety.yaml")
    notes = _validate(NotesFile, root / "decisions" / "notes.yaml")
    labels, dimensions = _labels(root, release_checks)
    kb = KnowledgeBase(root, release, sources, trials, regimens, guidelines, decisions, safety, notes, labels,
                       dimensions)
    _cross_check(kb, release_checks)
    for t in trials.values():
        for name in (t.id, *t.aliases):
            kb.aliases[_norm(name)] = t.id
    return kb


def _labels(root: Path, required: bool) -> tuple[dict[str, DrugLabel], LabelDimensionsFile]:
    """The drug-label safety table (``kb/labels``): every drug of the vocabulary, every dimension.

    Only a release read for comparison (``release_checks=False``, e.g. ``kb diff`` against an old
    release that predates the table) may lack it.
    """
    from mbcpath.kb.labels import load_dimensions, load_labels

    if not required and not (root / "labels").is_dir():
        return {}, LabelDimensionsFile(dimensions=[])
    return load_labels(root), load_dimensions(root)


def _by_id(model: type[M], folder: Path) -> dict[str, M]:
    out: dict[str, M] = {}
    for p in _yaml_files(folder):
        obj = _validate(model, p)
        key = obj.id  # type: ignore[attr-defined]
        if key in out:
            raise KnowledgeBaseError(f"id {key!r} is defined twice", path=str(p))
        out[key] = obj
    return out


def _cross_check(kb: KnowledgeBase, release_checks: bool = True) -> None:
    from mbcpath.kb.checks import release_problems
    from mbcpath.kb.labels import label_problems

    problems: list[str] = release_problems(kb) if release_checks else []
    problems += label_problems(kb.labels, kb.label_dimensions, kb.sources)

    def need_sources(where: str, keys: Iterable[str]) -> None:
        for k in keys:
            if k not in kb.sources:
                problems.append(f"{where}: source {k!r} is not in kb/sources")

    for r in kb.regimens.values():
        need_sources(f"regimens/{r.id}", r.safety.sources)
        for trial_id in r.trials:
            if trial_id not in kb.trials:
                problems.append(f"regimens/{r.id}: unknown trial {trial_id!r}")
    for t in kb.trials.values():
        where = f"trials/{t.id}"
        need_sources(where, t.sources)
        if t.n:
            need_sources(where, t.n.sources)
        for a in t.arms:
            if a.regimen and a.regimen not in kb.regimens:
                problems.append(f"{where}: arm {a.id!r} names unknown regimen {a.regimen!r}")
            if a.n:
                need_sources(where, a.n.sources)
        for e in t.endpoints:
            need_sources(where, e.sources)
        for x in t.toxicities:
            need_sources(where, x.sources)
        for c in t.eligibility:
            need_sources(where, c.sources)
        if t.esmo_mcbs:
            need_sources(where, t.esmo_mcbs.sources)
    for g in kb.guidelines.values():
        need_sources(f"guidelines/{g.id}", g.sources)
        for s in g.statements:
            need_sources(f"guidelines/{g.id}#{s.id}", s.sources)
    statements = kb.statements
    for d in kb.decisions.values():
        for o in d.options:
            where = f"decisions/{d.id}#{o.id}"
            if o.regimen not in kb.regimens:
                problems.append(f"{where}: unknown regimen {o.regimen!r}")
            for ev in o.evidence:
                if ev.trial not in kb.trials:
                    problems.append(f"{where}: unknown trial {ev.trial!r}")
            for sid in o.guidelines:
                if sid not in statements:
                    problems.append(f"{where}: unknown guideline statement {sid!r}")
            need_sources(where, o.sources)
            for crit in (*o.requires, *o.criteria):
                need_sources(where, crit.sources)
            for adj in o.adjustments:
                need_sources(where, adj.sources)
    for gate in kb.safety.gates:
        need_sources(f"safety#{gate.id}", gate.sources)
        verified = any(kb.sources[k].verified for k in gate.sources if k in kb.sources)
        if gate.effect == "exclude" and gate.kind in ("condition", "exposure") and not verified:
            problems.append(f"safety#{gate.id}: a hard stop must cite at least one verified source")
    for n in kb.notes.conflicts:
        need_sources(f"notes#{n.id}", n.sources)
    if problems:
        raise KnowledgeBaseError(f"{len(problems)} cross-reference problem(s): " + "; ".join(problems[:8]),
                                 path=str(kb.root), issues=problems)


def load_watch(root: Path) -> list[WatchItem]:
    """``kb/watch.yaml`` validated, with every source key resolving."""
    watch = _validate(WatchFile, Path(root) / "watch.yaml")
    kb = load_kb(root)
    bad = [f"{i.id}: source {k!r}" for i in watch.items for k in i.sources if k not in kb.sources]
    bad += [f"{i.id}: trial {i.trial!r}" for i in watch.items if i.trial and _norm(i.trial) not in kb.aliases]
    if bad:
        raise KnowledgeBaseError("watch.yaml names unknown keys: " + "; ".join(bad), path=str(root), issues=bad)
    return list(watch.items)


@lru_cache(maxsize=4)
def _cached(root: str) -> KnowledgeBase:
    """First load of a release in this process: from a verified snapshot when one matches the files
    (:mod:`mbcpath.kb.snapshot`), else validated from the YAML (and a snapshot written for next time)."""
    from mbcpath.kb import snapshot

    path = Path(root)
    if not snapshot.enabled() or not (path / "release.yaml").is_file():
        return load_kb_from(path)
    kb = snapshot.load(path, KnowledgeBase)
    if kb is not None:
        _cross_check(kb)
        return kb  # type: ignore[no-any-return]
    key = snapshot.content_key(path)
    kb = load_kb_from(path)
    snapshot.save(kb, key)
    return kb


@lru_cache(maxsize=8)
def _default_root(env_value: str | None) -> str:
    return str(default_kb_path())


#: releases loaded again by :func:`reload_kb` (they take precedence over the first load's cache)
_reloaded: dict[str, KnowledgeBase] = {}


def _key(root: str | Path | None) -> str:
    return _default_root(os.environ.get("MBCPATH_KB")) if root is None else str(root)


def load_kb(root: str | Path | None = None) -> KnowledgeBase:
    """Load the KB (default: :func:`default_kb_path`), validated and cached per path.

    Called on every request by the web app, so the default path is resolved once per
    value of ``$MBCPATH_KB`` rather than each time.
    """
    key = _key(root)
    kb = _reloaded.get(key)
    return kb if kb is not None else _cached(key)


def reload_kb(root: str | Path | None = None) -> KnowledgeBase:
    """Validate the KB at ``root`` again and, only if it validates whole, serve it from now on.

    A release that fails raises :class:`KnowledgeBaseError` (file and rule named) and leaves the
    release already loaded in place: a running server keeps answering from it.
    """
    key = _key(root)
    kb = load_kb_from(Path(key))
    _reloaded[key] = kb
    return kb
