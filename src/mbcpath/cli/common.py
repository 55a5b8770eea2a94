"""Helpers shared by the CLI command modules: output formats, failing, reading a patient file, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer


class OutputFormat(StrEnum):
    json = "json"
    text = "text"
    brief = "brief"


def fail(message: str, code: int = 2) -> typer.Exit:
    """Write one line to stderr and return the ``typer.Exit`` to raise (2 = bad input)."""
    sys.stderr.write(" ".join(str(message).split()) + "\n")
    return typer.Exit(code)


def read_patient_file(path: Path) -> Any:
    """Read and validate a patient JSON file (a vignette file's ``patient`` also works).

    Raises :class:`mbcpath.errors.InputError` naming the file, field, value and rule.
    """
    from mbcpath.domain.validation import load_json_text, parse_patient
    from mbcpath.errors import InputError, Issue

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(Issue(str(path), None, f"cannot read file: {err.strerror}"), subject="file") from None
    data = load_json_text(text, source=str(path))
    if isinstance(data, dict) and "patient" in data and "age_years" not in data:
        data = data["patient"]  # a vignette file: {"id", "patient", "expect"}
    return parse_patient(data)


@contextmanager
def exit_on_error() -> Iterator[None]:
    """Map mbcpath errors to the CLI's exits: bad input -> 2 with the one-line message; any other
    :class:`~mbcpath.errors.MbcpathError` (KB, model) -> 1."""
    from mbcpath.errors import InputError, MbcpathError

    try:
        yield
    except InputError as err:
        raise fail(err.one_line()) from None
    except MbcpathError as err:
        raise fail(f"error: {err}", 1) from None


@contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Any]:
    """A Rich progress bar on stderr (a no-op display when stderr is not a terminal); yields ``advance(n)``."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as prog:
        task = prog.add_task(label, total=total)
        yield lambda n=1: prog.advance(task, n)
