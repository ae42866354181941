"""Notebook plumbing for the Makefile: exercises from solutions, and tidy metadata.

    python tools/nbtools.py exercises   # solutions/*.ipynb -> exercises/*.ipynb
    python tools/nbtools.py tidy FILE.. # drop run-specific metadata after papermill

In ``solutions/``, each exercise's code sits between two marker lines:

    ### BEGIN SOLUTION: Exercise 3: update w and b for one misclassified point
    ...
    ### END SOLUTION

``make exercises`` replaces each block by
``raise NotImplementedError("Exercise 3: update w and b for one misclassified point")``
at the marker's indentation (split over lines when the hint is long), and clears every
output. Cells are kept or dropped by their tags:

- ``solution-only``: the worked explanations; dropped from the exercises.
- ``exercise-only``: what only the exercise notebook says (how to work it, what "Run All"
  does); kept there without its tags. In ``solutions/`` such a cell also carries
  ``remove-cell``, so that the book's solutions page does not show it.

The solutions notebook is titled ``# Solutions N: topic``; the exercises get
``# Exercises N: topic``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION(?::\s*(?P<hint>.+?))?\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
RUN_METADATA = ("papermill", "execution", "ExecuteTime")
TITLE = re.compile(r"^# Solutions (?=\d+: )")
KINDS = ("Practice", "Derive", "Predict", "Extend", "Experiment", "Debug")
# "## Exercise 3 (Derive, ★★): The sigmoid's derivative"
HEADING = re.compile(r"^## Exercise (?P<number>\d+) \((?P<kind>[A-Za-z]+), (?P<stars>★{1,3})\): "
                     r"(?P<title>\S.*)$", re.M)
STUB_WIDTH = 80  # the notebooks' line length (ruff)


def stub_source(source: str, where: str) -> str:
    """Replace every solution block in ``source`` by a ``NotImplementedError`` stub."""
    out, inside = [], False
    for line in source.splitlines():
        begin = BEGIN.match(line)
        if begin:
            if inside or not begin["hint"]:
                raise ValueError(f"{where}: expected '### BEGIN SOLUTION: <hint>' "
                                 f"outside a block, received {line!r}")
            inside = True
            out.append(stub_line(begin["indent"], begin["hint"]))
        elif END.match(line):
            if not inside:
                raise ValueError(f"{where}: '### END SOLUTION' without a BEGIN")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: '### BEGIN SOLUTION' without an END")
    return "\n".join(out)


def stub_line(indent: str, hint: str) -> str:
    """``raise NotImplementedError("hint")``, wrapped to ``STUB_WIDTH`` characters."""
    one_line = f"{indent}raise NotImplementedError({hint!r})"
    if len(one_line) <= STUB_WIDTH:
        return one_line
    width = STUB_WIDTH - len(indent) - 8  # indentation, quotes and a space
    words, parts, current = hint.split(" "), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            parts.append(current + " ")
            current = word
        else:
            current = f"{current} {word}" if current else word
    parts.append(current)
    body = "\n".join(f"{indent}    {part!r}" for part in parts)
    return f"{indent}raise NotImplementedError(\n{body}\n{indent})"


def make_exercise(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The exercise notebook for a solution notebook (a new object)."""
    nb = nbformat.from_dict(solution)
    nb.cells = [c for c in nb.cells if "solution-only" not in c.metadata.get("tags", [])]
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.source = stub_source(cell.source, f"{name} cell {k}")
            cell.outputs, cell.execution_count = [], None
        elif k == 0:
            cell.source = TITLE.sub("# Exercises ", cell.source)
        tags = cell.metadata.get("tags", [])
        if "exercise-only" in tags:
            cell.metadata["tags"] = [t for t in tags if t not in ("exercise-only", "remove-cell")]
        tidy_cell(cell)
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    return nb


def exercises_of(nb) -> list[dict]:
    """Each exercise of a solutions notebook: its number, kind, stars, title and cells (from
    its heading up to the next ``## `` heading)."""
    found, current = [], None
    for cell in nb.cells:
        heading = HEADING.search(cell.source) if cell.cell_type == "markdown" else None
        if heading:
            current = {**heading.groupdict(), "cells": [cell]}
            found.append(current)
        elif cell.cell_type == "markdown" and re.search(r"^## ", cell.source, re.M):
            current = None
        elif current is not None:
            current["cells"].append(cell)
    return found


def tidy_cell(cell) -> None:
    for key in RUN_METADATA:
        cell.metadata.pop(key, None)
    if cell.metadata.get("tags") == []:
        del cell.metadata["tags"]


def write(nb, path: Path) -> None:
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def exercises() -> list[Path]:
    written = []
    for src in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = make_exercise(nbformat.read(src, as_version=4), src.name)
        dest = ROOT / "exercises" / src.name
        write(nb, dest)
        written.append(dest)
    return written


def tidy(paths: list[str]) -> None:
    for p in map(Path, paths):
        nb = nbformat.read(p, as_version=4)
        for cell in nb.cells:
            tidy_cell(cell)
        nb.metadata.pop("papermill", None)
        nb.metadata.pop("widgets", None)  # saved widget state would render as empty controls
        write(nb, p)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "exercises":
        for path in exercises():
            print(f"wrote {path.relative_to(ROOT)}")
    elif command == "tidy":
        tidy(sys.argv[2:])
    else:
        sys.exit(__doc__)
