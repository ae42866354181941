"""Exercise integrity: generated exercises, stubs, and a mutant test for every check."""

import importlib
import json
from pathlib import Path

import nbformat
import papermill
import pytest
from conftest import EXERCISES, ROOT, SOLUTIONS, read

import mlpbook.check
from tools.nbtools import make_exercise, stub_source


def test_every_solution_has_its_chapter_and_exercise():
    chapters = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert {p.name for p in SOLUTIONS} == chapters == {p.name for p in EXERCISES}


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_exercises_are_exactly_what_make_exercises_generates(solution):
    expected = nbformat.writes(make_exercise(read(solution), solution.name)) + "\n"
    committed = (ROOT / "exercises" / solution.name).read_text(encoding="utf-8")
    assert committed == expected, "exercises/ is stale: run `make exercises`"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_every_chapter_has_four_checked_exercises_and_a_question(solution):
    nb = read(solution)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert code.count("### BEGIN SOLUTION:") >= 4
    assert code.count("check.") >= 4
    assert "{dropdown}" in markdown, "the conceptual question needs its answer in a dropdown"


def test_stub_source_keeps_indentation_and_hint():
    source = "def f(x):\n    ### BEGIN SOLUTION: Exercise 9: double x\n    return 2 * x\n" \
             "    ### END SOLUTION\n"
    assert stub_source(source, "t") == "def f(x):\n    raise NotImplementedError(" \
                                       "'Exercise 9: double x')"


@pytest.mark.parametrize("source", [
    "### BEGIN SOLUTION\nx = 1\n### END SOLUTION",  # no hint
    "### BEGIN SOLUTION: a\nx = 1",  # no end
    "x = 1\n### END SOLUTION",  # no begin
])
def test_stub_source_rejects_malformed_markers(source):
    with pytest.raises(ValueError, match="SOLUTION"):
        stub_source(source, "t")


def test_every_check_has_mutant_tests():
    covered = set()
    for path in (ROOT / "tests").glob("test_check_ch*.py"):
        module = importlib.import_module(path.stem)
        assert set(module.MUTANTS) <= set(module.CORRECT)
        assert all(module.MUTANTS[name] for name in module.MUTANTS)
        covered |= set(module.MUTANTS)
    assert set(mlpbook.check.__all__) <= covered


def stub_hints(nb) -> list[str]:
    import ast

    hints = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "raise NotImplementedError(" in cell.source:
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and getattr(
                        node.exc.func, "id", "") == "NotImplementedError":
                    hints.append(node.exc.args[0].value)
    return hints


@pytest.mark.slow
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda p: p.name)
def test_exercise_notebook_fails_only_with_not_implemented_in_stubs(exercise, tmp_path):
    out = tmp_path / exercise.name
    # allow_errors lets every cell run; papermill still raises at the end, after saving.
    with pytest.raises(papermill.PapermillExecutionError, match="NotImplementedError"):
        papermill.execute_notebook(str(exercise), str(out), kernel_name="python3",
                                   cwd=str(exercise.parent), progress_bar=False,
                                   allow_errors=True)
    nb = read(out)
    hints = stub_hints(nb)
    assert len(hints) >= 4
    errors = [(k, o) for k, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert errors, "the exercise notebook ran without failing: are the stubs there?"
    for k, error in errors:
        assert error.ename == "NotImplementedError", f"cell {k}: {error.ename}: {error.evalue}"
        assert error.evalue in hints, f"cell {k} failed outside a stub: {error.evalue}"
    assert {e.evalue for _, e in errors} == set(hints), "some stub was never reached"


def test_papermill_runs_are_not_written_into_exercises():
    for path in EXERCISES:
        nb = json.loads(Path(path).read_text())
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
