"""Load and validate the knowledge base: ``load_kb()`` is explicit and cached.

Nothing is read at import time. A release that fails validation cannot load:
every file is validated by its pydantic model, then cross-checked (source
keys resolve, arms name known regimens, rules name known regimens, trials and
statements, excluding gates cite at least one verified source).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from mbcpath.domain.validation import loc_to_path
from mbcpath.errors import KnowledgeBaseError
from mbcpath.kb.models import (
    DecisionFile,
    DrugLabel,
    GuidelineSource,
    LabelDimensionsFile,
    NotesFile,
    OptionRule,
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
    """Refuse a release whose references do not resolve: one :class:`KnowledgeBaseError` listing every
    problem (release checks, the label table, then regimens, trials, guidelines, decisions, gates, notes)."""
    from mbcpath.kb.checks import release_problems
    from mbcpath.kb.labels import label_problems

    problems: list[str] = release_problems(kb) if release_checks else []
    problems += label_problems(kb.labels, kb.label_dimensions, kb.sources)
    for part_problems in (_regimen_problems, _trial_problems, _guideline_problems, _decision_problems,
                          _gate_problems, _note_problems):
        problems += part_problems(kb)
    if problems:
        raise KnowledgeBaseError(f"{len(problems)} cross-reference problem(s): " + "; ".join(problems[:8]),
                                 path=str(kb.root), issues=problems)


def _unknown_sources(kb: KnowledgeBase, where: str, keys: Iterable[str]) -> list[str]:
    """One problem per source key that is not in ``kb/sources``."""
    return [f"{where}: source {k!r} is not in kb/sources" for k in keys if k not in kb.sources]


class _Cited(Protocol):
    """A KB record that cites source keys."""

    @property
    def sources(self) -> Sequence[str]: ...


def _unknown_sources_of(kb: KnowledgeBase, where: str, parts: Iterable[_Cited]) -> list[str]:
    """:func:`_unknown_sources` for each part, in order."""
    return [p for part in parts for p in _unknown_sources(kb, where, part.sources)]


def _regimen_problems(kb: KnowledgeBase) -> list[str]:
    """A regimen's safety sources resolve and its trials are in ``kb/trials``."""
    problems: list[str] = []
    for r in kb.regimens.values():
        problems += _unknown_sources(kb, f"regimens/{r.id}", r.safety.sources)
        problems += [f"regimens/{r.id}: unknown trial {trial_id!r}" for trial_id in r.trials
                     if trial_id not in kb.trials]
    return problems


def _trial_problems(kb: KnowledgeBase) -> list[str]:
    """A trial's sources resolve (its own, its n's, its arms', endpoints', toxicities', eligibility's and
    ESMO-MCBS score's), and each arm names a known regimen."""
    problems: list[str] = []
    for t in kb.trials.values():
        where = f"trials/{t.id}"
        problems += _unknown_sources(kb, where, t.sources)
        if t.n:
            problems += _unknown_sources(kb, where, t.n.sources)
        problems += _arm_problems(kb, t)
        for parts in (t.endpoints, t.toxicities, t.eligibility):
            problems += _unknown_sources_of(kb, where, parts)
        if t.esmo_mcbs:
            problems += _unknown_sources(kb, where, t.esmo_mcbs.sources)
    return problems


def _arm_problems(kb: KnowledgeBase, t: Trial) -> list[str]:
    """Each arm of a trial names a known regimen (when it names one) and its n's sources resolve."""
    problems: list[str] = []
    for a in t.arms:
        if a.regimen and a.regimen not in kb.regimens:
            problems.append(f"trials/{t.id}: arm {a.id!r} names unknown regimen {a.regimen!r}")
        if a.n:
            problems += _unknown_sources(kb, f"trials/{t.id}", a.n.sources)
    return problems


def _guideline_problems(kb: KnowledgeBase) -> list[str]:
    """A guideline's sources, and each of its statements' sources, resolve."""
    problems: list[str] = []
    for g in kb.guidelines.values():
        problems += _unknown_sources(kb, f"guidelines/{g.id}", g.sources)
        for s in g.statements:
            problems += _unknown_sources(kb, f"guidelines/{g.id}#{s.id}", s.sources)
    return problems


def _decision_problems(kb: KnowledgeBase) -> list[str]:
    """Each option of a decision file names a known regimen, trials and guideline statements, and its
    sources (its own, its requirements', criteria's and adjustments') resolve."""
    statements = kb.statements
    problems: list[str] = []
    for d in kb.decisions.values():
        for o in d.options:
            problems += _option_problems(kb, f"decisions/{d.id}#{o.id}", o, statements)
    return problems


def _option_problems(kb: KnowledgeBase, where: str, o: OptionRule,
                     statements: dict[str, tuple[GuidelineSource, Statement]]) -> list[str]:
    """One option rule: its regimen, evidence trials, guideline statements and sources."""
    problems = [f"{where}: unknown regimen {o.regimen!r}"] if o.regimen not in kb.regimens else []
    problems += [f"{where}: unknown trial {ev.trial!r}" for ev in o.evidence if ev.trial not in kb.trials]
    problems += [f"{where}: unknown guideline statement {sid!r}" for sid in o.guidelines if sid not in statements]
    problems += _unknown_sources(kb, where, o.sources)
    for parts in (o.requires, o.criteria, o.adjustments):
        problems += _unknown_sources_of(kb, where, parts)
    return problems


def _gate_problems(kb: KnowledgeBase) -> list[str]:
    """A safety gate's sources resolve, and a hard stop (an excluding condition or exposure gate) cites at
    least one verified source."""
    problems: list[str] = []
    for gate in kb.safety.gates:
        problems += _unknown_sources(kb, f"safety#{gate.id}", gate.sources)
        verified = any(kb.sources[k].verified for k in gate.sources if k in kb.sources)
        if gate.effect == "exclude" and gate.kind in ("condition", "exposure") and not verified:
            problems.append(f"safety#{gate.id}: a hard stop must cite at least one verified source")
    return problems


def _note_problems(kb: KnowledgeBase) -> list[str]:
    """A conflict note's sources resolve."""
    return [p for n in kb.notes.conflicts for p in _unknown_sources(kb, f"notes#{n.id}", n.sources)]


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
