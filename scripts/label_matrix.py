"""Regenerate the drug x dimension matrix in kb/labels/README.md from the label files.

Usage: ``python scripts/label_matrix.py`` (rewrites the block between the markers) or
``python scripts/label_matrix.py --check`` (exit 1 if the README is out of date).
"""

from __future__ import annotations

import sys
from pathlib import Path

from mbcpath.kb.labels import load_labels, render_matrix

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "kb" / "labels" / "README.md"
BEGIN = "<!-- label-matrix:begin -->"
END = "<!-- label-matrix:end -->"


def updated_readme(text: str, table: str) -> str:
    """The README text with the block between the markers replaced by ``table``."""
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table}{END}{tail}"


def main(argv: list[str]) -> int:
    table = render_matrix(load_labels(ROOT / "kb"))
    text = README.read_text(encoding="utf-8")
    new = updated_readme(text, table)
    if "--check" in argv:
        if new != text:
            print(f"{README}: the label matrix is out of date; run python scripts/label_matrix.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
