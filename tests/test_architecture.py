"""Architecture rules of design.md: imports point down the diagram; no import-time KB I/O."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import mbcpath

SRC = Path(mbcpath.__file__).resolve().parent
#: For each package, the mbcpath packages it must not import.
FORBIDDEN = {
    "domain": {"facts", "rules", "kb", "engine", "survival", "web", "cli", "interop", "analytics"},
    "facts": {"rules", "kb", "engine", "survival", "web", "cli", "interop", "analytics"},
    "rules": {"kb", "engine", "survival", "web", "cli", "interop", "analytics"},
    "kb": {"engine", "survival", "web", "cli", "interop", "analytics"},
    "engine": {"survival", "web", "cli", "interop", "analytics"},
    "survival": {"web", "cli", "interop", "analytics"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mbcpath."):
            out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("mbcpath.")}
    return out


def test_imports_point_down_the_diagram():
    """domain imports nothing of ours above it; nothing below imports web, cli, interop or analytics."""
    bad = []
    for pkg, forbidden in FORBIDDEN.items():
        for f in (SRC / pkg).rglob("*.py"):
            hit = _imports(f) & forbidden
            if hit:
                bad.append(f"{f.relative_to(SRC)} imports {sorted(hit)}")
    assert bad == []


def test_importing_every_module_does_not_load_the_kb():
    """No module reads the KB at import time: the loader cache stays empty."""
    from mbcpath.kb import loader

    loader._cached.cache_clear()
    for m in pkgutil.walk_packages([str(SRC)], prefix="mbcpath."):
        if m.name.startswith(("mbcpath.web", "mbcpath.cli.main")):
            continue  # the app/CLI modules are entry points; they are imported by their own tests
        importlib.import_module(m.name)
    assert loader._cached.cache_info().currsize == 0
