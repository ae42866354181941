"""Shared paths and helpers for the tests."""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MLPBOOK_STATIC", "1")

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
SMOKE = re.compile(r"^(?P<name>[A-Z_][A-Z0-9_]*)\s*=.*\bsmoke:\s*(?P<value>[^\s,;]+)", re.M)


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def parameters_cell(nb) -> nbformat.NotebookNode:
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"expected exactly one cell tagged 'parameters', found {len(cells)}"
    return cells[0]


def smoke_parameters(nb) -> dict:
    """The smallest settings, read from ``NAME = value  # ...; smoke: small`` lines."""
    import ast

    return {m["name"]: ast.literal_eval(m["value"])
            for m in SMOKE.finditer(parameters_cell(nb).source)}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


class Lazy:
    """An answer for a check that is costly to build (a trained model): built when used."""

    def __init__(self, factory):
        self.factory = factory

    def __call__(self):
        return self.factory()


def check_code_lines(min_length: int = 16) -> list[str]:
    """Every line of ``mlpbook.check``'s code that is not a string, a comment or trivial.

    A learner must never see one of these: they compute the reference answers. Lines that
    lie wholly inside a string (the hints, which learners do see) are left out.
    """
    import io
    import tokenize

    lines = []
    for path in sorted((ROOT / "src" / "mlpbook" / "check").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        code = {}  # line number -> the characters of that line outside strings and comments
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.STRING, tokenize.COMMENT, tokenize.NL,
                              tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                continue
            if tokenize.tok_name[token.type].startswith("FSTRING"):  # Python >= 3.12
                continue
            code[token.start[0]] = code.get(token.start[0], "") + token.string
        for number, line in enumerate(source.splitlines(), start=1):
            text = line.strip()
            if text.startswith(("import ", "from ")):
                continue
            if len(text) >= min_length and len(code.get(number, "").strip("(),+")) >= 8:
                lines.append(text)
    return lines
