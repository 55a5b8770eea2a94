"""The KB across time: a view of what was known on a date, old releases from git, and diffs.

- :func:`kb_as_of` keeps only what had become public by a date (``known_since``): endpoint
  records, toxicities, regulatory decisions, guideline statements, and option rules that carry
  ``known_since`` (a field the decision files may add). Records without a date stay (the
  release checks require dates on endpoints, statements and approvals).
- :func:`load_kb_at` reads the KB named by a date (the current KB as of that day), a release id
  (``2026.11.0``: the commit of ``kb/release.yaml`` that set it) or any git revision of ``kb/``.
- :func:`diff_kb` compares two :class:`~mbcpath.kb.loader.KnowledgeBase` objects and returns a
  structured :class:`KbDiff` (trials, endpoints, statements, option rules, regimens, sources
  added / removed / changed); ``mbcpath kb diff`` renders it, and the patient-level diff can be
  built on the same two objects.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from mbcpath.errors import KnowledgeBaseError
from mbcpath.kb.loader import KnowledgeBase, default_kb_path, load_kb_from
from mbcpath.kb.models import Endpoint, GuidelineSource, Trial

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RELEASE = re.compile(r"^\d{4}\.\d{1,2}\.\d+$")


# ----------------------------------------------------------------------------- as of a date
def _known(obj: Any, day: dt.date) -> bool:
    since = getattr(obj, "known_since", None)
    return since is None or since <= day


def _trial_as_of(t: Trial, day: dt.date) -> Trial | None:
    if t.known_since is not None and t.known_since > day:
        return None
    endpoints = [e for e in t.endpoints if _known(e, day)]
    if t.endpoints and not endpoints and t.status == "reported":
        return None
    return t.model_copy(update={
        "endpoints": endpoints,
        "toxicities": [x for x in t.toxicities if _known(x, day)],
        "regulatory": [a for a in t.regulatory if a.status == "not_found" or _known(a, day)],
        "publications": [p for p in t.publications if _known(p, day)],
    })


def _guideline_as_of(g: GuidelineSource, day: dt.date) -> GuidelineSource | None:
    kept = [s for s in g.statements if _known(s, day)]
    return g.model_copy(update={"statements": kept}) if kept else None


def change_dates(kb: KnowledgeBase) -> list[dt.date]:
    """Every ``known_since`` date that :func:`kb_as_of` compares against, sorted: between two of them the view
    of the KB is the same."""
    objs: list[Any] = []
    for t in kb.trials.values():
        objs += [t, *t.endpoints, *t.toxicities, *t.regulatory, *t.publications]
    for g in kb.guidelines.values():
        objs += g.statements
    for d in kb.decisions.values():
        objs += d.options
    return sorted({o.known_since for o in objs if getattr(o, "known_since", None) is not None})


def kb_as_of(kb: KnowledgeBase, day: dt.date) -> KnowledgeBase:
    """The KB reduced to what had become public by ``day`` (see the module docstring)."""
    trials = {k: t2 for k, t in kb.trials.items() if (t2 := _trial_as_of(t, day)) is not None}
    guidelines = {k: g2 for k, g in kb.guidelines.items() if (g2 := _guideline_as_of(g, day)) is not None}
    decisions = {}
    for k, d in kb.decisions.items():
        options = [o for o in d.options if _known(o, day)]
        if options:
            decisions[k] = d.model_copy(update={"options": options})
    aliases = {a: tid for a, tid in kb.aliases.items() if tid in trials}
    return replace(kb, trials=trials, guidelines=guidelines, decisions=decisions, aliases=aliases)


# ----------------------------------------------------------------------------- loading a point in time
def _git(args: list[str], cwd: Path) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as err:
        detail = getattr(err, "stderr", "") or str(err)
        raise KnowledgeBaseError(f"git {' '.join(args)} failed: {detail.strip()[:200]}", path=str(cwd)) from None
    return out.stdout


def _release_commit(release: str, repo: Path, kb_rel: str) -> str:
    """The oldest commit whose kb/release.yaml states ``kb_release: <release>``."""
    log = _git(["log", "--format=%H", "--reverse", "--", f"{kb_rel}/release.yaml"], repo).split()
    for commit in log:
        text = _git(["show", f"{commit}:{kb_rel}/release.yaml"], repo)
        if re.search(rf'kb_release:\s*"?{re.escape(release)}"?\s*$', text, re.MULTILINE):
            return commit
    raise KnowledgeBaseError(f"release {release!r} is not in the git history of {kb_rel}/release.yaml; "
                             "give a date (YYYY-MM-DD), a release id or a git revision", path=str(repo))


def _load_revision(rev: str, root: Path) -> KnowledgeBase:
    repo = Path(_git(["rev-parse", "--show-toplevel"], root).strip())
    kb_rel = str(root.resolve().relative_to(repo.resolve()))
    commit = _release_commit(rev, repo, kb_rel) if _RELEASE.match(rev) else rev
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", commit, kb_rel], cwd=repo, capture_output=True, check=False)
        if archive.returncode != 0:
            raise KnowledgeBaseError(f"unknown revision {rev!r}: {archive.stderr.decode()[:200].strip()}",
                                     path=str(repo))
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        return load_kb_from(Path(tmp) / kb_rel, release_checks=False)


def load_kb_at(spec: str, root: Path | None = None) -> KnowledgeBase:
    """Load the KB named by ``spec``: a date, a release id or a git revision (see the module docstring)."""
    root = Path(root or default_kb_path())
    if _DATE.match(spec):
        try:
            day = dt.date.fromisoformat(spec)
        except ValueError:
            raise KnowledgeBaseError(f"{spec!r} is not a valid date (YYYY-MM-DD)") from None
        return kb_as_of(load_kb_from(root), day)
    current = load_kb_from(root)
    if spec == current.release.kb_release:
        return current
    return _load_revision(spec, root)


# ----------------------------------------------------------------------------- diff
@dataclass
class Section:
    """Keys added, removed and changed in one kind of record."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass
class KbDiff:
    """What changed between two KBs, by record kind (keys are stable record names)."""

    from_release: str
    to_release: str
    trials: Section
    endpoints: Section
    statements: Section
    rules: Section
    regimens: Section
    sources: Section

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def empty(self) -> bool:
        return not any((self.trials, self.endpoints, self.statements, self.rules, self.regimens, self.sources))


def _compare(old: dict[str, Any], new: dict[str, Any], dump: Callable[[Any], Any] | None = None) -> Section:
    dump = dump or (lambda m: m.model_dump(mode="json"))
    return Section(added=sorted(set(new) - set(old)), removed=sorted(set(old) - set(new)),
                   changed=sorted(k for k in set(old) & set(new) if dump(old[k]) != dump(new[k])))


def _endpoint_key(t: Trial, e: Endpoint) -> str:
    return f"{t.id} | {e.endpoint} | {'/'.join(e.arms)} | {e.analysis}"


def _endpoints(kb: KnowledgeBase) -> dict[str, Endpoint]:
    return {_endpoint_key(t, e): e for t in kb.trials.values() for e in t.endpoints}


def _rules(kb: KnowledgeBase) -> dict[str, Any]:
    return {f"{d.id}#{o.id}": o for d in kb.decisions.values() for o in d.options}


def _statements(kb: KnowledgeBase) -> dict[str, Any]:
    return {sid: s for sid, (_, s) in kb.statements.items()}


def _without(keys: Iterable[str]) -> Callable[[Any], Any]:
    drop = set(keys)
    return lambda m: {k: v for k, v in m.model_dump(mode="json").items() if k not in drop}


def diff_kb(old: KnowledgeBase, new: KnowledgeBase) -> KbDiff:
    """Compare two KBs; a trial counts as changed when anything but its endpoints changed."""
    return KbDiff(
        from_release=old.release.kb_release, to_release=new.release.kb_release,
        trials=_compare(old.trials, new.trials, _without(["endpoints"])),
        endpoints=_compare(_endpoints(old), _endpoints(new)),
        statements=_compare(_statements(old), _statements(new)),
        rules=_compare(_rules(old), _rules(new)),
        regimens=_compare(old.regimens, new.regimens),
        sources=_compare(old.sources, new.sources),
    )
