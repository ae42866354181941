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
