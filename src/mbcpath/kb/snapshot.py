"""A pre-validated snapshot of the knowledge base, so a short command need not parse YAML or build validators.

After :func:`mbcpath.kb.loader.load_kb_from` has validated a release whole, :func:`save` writes its records
as JSON (no pickle: nothing in it can run code) under the user's cache folder, keyed by a SHA-256 over every
``kb/*.yaml`` file's path and bytes, the KB models' source and the mbcpath version. :func:`load` recomputes
that key from the files on disk, checks the snapshot's own SHA-256, and rebuilds the records with
``model_construct`` (the values were validated when the snapshot was written; building them again skips
pydantic's validator construction, the largest part of a cold start). Any mismatch, a missing or corrupt
snapshot, or a type it cannot rebuild means: no snapshot, validate the YAML as usual.

The cache folder is ``$MBCPATH_CACHE_DIR``, else ``$XDG_CACHE_HOME/mbcpath``, else ``~/.cache/mbcpath``;
``MBCPATH_KB_SNAPSHOT=0`` turns the snapshot off.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
import hashlib
import json
import os
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

FORMAT = 1


class _CannotRebuild(Exception):
    """A value whose type the snapshot does not know how to rebuild."""


def enabled() -> bool:
    return os.environ.get("MBCPATH_KB_SNAPSHOT", "1") != "0"


def cache_dir() -> Path:
    env = os.environ.get("MBCPATH_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "mbcpath"


#: packages whose code decides what a valid KB is (models, loader checks, condition grammar, vocabulary)
_VALIDATING_CODE = ("kb", "rules", "domain", "facts")


def content_key(root: Path) -> str:
    """SHA-256 over every KB file (relative path and bytes), the source of the code that validates a KB,
    and the version: a change to any of them makes a new key, so a stale snapshot is never used."""
    from mbcpath import __version__

    h = hashlib.sha256(f"format {FORMAT} mbcpath {__version__}\n".encode())
    src = Path(__file__).resolve().parents[1]
    for pkg in _VALIDATING_CODE:
        for path in sorted((src / pkg).rglob("*.py")):
            h.update(path.read_bytes() + b"\0")
    for path in sorted(root.rglob("*.yaml")):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def _path(key: str) -> Path:
    return cache_dir() / f"kb-{key[:32]}.json"


# --------------------------------------------------------------------------- writing
def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def save(kb: Any, key: str) -> Path | None:
    """Write the snapshot of a validated KB (atomically); None when the cache folder is not writable."""
    data = {f.name: _dump(getattr(kb, f.name)) for f in dataclasses.fields(kb)}
    try:
        payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)  # key order kept: it is data
    except (TypeError, ValueError):
        return None  # a part that is not plain data (a compiled plan, say): no snapshot, validate each time
    doc = json.dumps({"format": FORMAT, "key": key, "sha256": hashlib.sha256(payload.encode()).hexdigest(),
                      "payload": payload})
    import tempfile

    target = _path(key)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".kb-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(doc)
        os.replace(tmp, target)
    except OSError:
        return None
    return target


# --------------------------------------------------------------------------- reading
def load(root: Path, kb_type: type) -> Any | None:
    """The KB rebuilt from a verified snapshot, or None (no snapshot, stale, corrupt or not rebuildable)."""
    key = content_key(root)
    try:
        doc = json.loads(_path(key).read_text(encoding="utf-8"))
        payload = doc["payload"]
        if doc.get("format") != FORMAT or doc.get("key") != key:
            return None
        if hashlib.sha256(payload.encode()).hexdigest() != doc.get("sha256"):
            return None
        data = json.loads(payload)
        hints = typing.get_type_hints(kb_type)
        values = {f.name: _rebuild(hints[f.name], data[f.name]) for f in dataclasses.fields(kb_type) if f.init}
        values["root"] = root
        return kb_type(**values)
    except (OSError, ValueError, KeyError, TypeError, NameError, _CannotRebuild):
        return None


Builder = typing.Callable[[Any], Any] | None  # None: the JSON value is already the right value


def _rebuild(tp: Any, value: Any) -> Any:
    build = _builder(tp)
    return value if build is None or value is None else build(value)


@functools.cache
def _builder(tp: Any) -> Builder:
    """A function that turns a JSON value into a value of type ``tp`` (None: nothing to do). Built once per type."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _builder(args[0])
    if origin in (typing.Union, types.UnionType):
        return _union_builder(args)
    if origin is list:
        return _list_builder(args)
    if origin is tuple:
        return _tuple_builder(args)
    if origin is dict:
        return _dict_builder(args)
    return _leaf_builder(tp)


def _leaf_builder(tp: Any) -> Builder:
    if tp is Any or _plain(tp):
        return None
    if tp is Path:
        return Path
    if tp is datetime.date:
        return datetime.date.fromisoformat
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _model_builder(tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp
    raise _CannotRebuild(repr(tp))


def _list_builder(args: tuple[Any, ...]) -> Builder:
    item = _builder(args[0])
    return None if item is None else (lambda v: [None if x is None else item(x) for x in v])


def _dict_builder(args: tuple[Any, ...]) -> Builder:
    val = _builder(args[1])
    return None if val is None else (lambda v: {k: None if x is None else val(x) for k, x in v.items()})


def _tuple_builder(args: tuple[Any, ...]) -> Builder:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _builder(args[0])
        return tuple if item is None else (lambda v: tuple(None if x is None else item(x) for x in v))
    items = [_builder(a) for a in args]
    return lambda v: tuple(x if b is None or x is None else b(x) for b, x in zip(items, v, strict=True))


def _union_builder(args: tuple[Any, ...]) -> Builder:
    arms = [a for a in args if a is not type(None)]
    if len(arms) == 1:
        return _builder(arms[0])
    if all(_plain(a) for a in arms):
        return None
    raise _CannotRebuild(repr(args))  # ambiguous (two models, a model or a plain value): validation decides


def _plain(tp: Any) -> bool:
    return typing.get_origin(tp) is typing.Literal or tp in (str, int, float, bool)


def _model_builder(model: type[BaseModel]) -> Builder:
    plan: list[tuple[str, Builder]] = []

    def build(value: dict[str, Any]) -> BaseModel:
        if not plan:
            fields = model.model_fields.items()
            plan.extend((name, _builder(typing.cast(Any, info.annotation))) for name, info in fields)
        known = model.model_fields
        if any(k not in known for k in value):
            raise _CannotRebuild(f"{model.__name__}: unknown fields")
        built = {name: (v if b is None or v is None else b(v)) for name, b in plan if (v := value.get(name, _ABSENT))
                 is not _ABSENT}
        return model.model_construct(**built)

    return build


_ABSENT = object()
