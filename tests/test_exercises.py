"""The exercises: generated from solutions/, labelled by kind and difficulty, never a copy
of the chapter, and never showing the learner a line of an answer.

Conventions (README, "Writing exercises"):

- each exercise opens with ``## Exercise N (Kind, ★★): title``, Kind one of ``KINDS``;
- its code answer sits between ``### BEGIN SOLUTION: <task>`` and ``### END SOLUTION``;
- a markdown cell tagged ``solution-only`` after it explains the solution;
- cells tagged ``exercise-only`` (with ``remove-cell``) speak only to the learner.
"""

import ast
import json
import re
from pathlib import Path

import nbformat
import papermill
import pytest
from conftest import EXERCISES, ROOT, SOLUTIONS, check_code_lines, read

from tools.nbtools import BEGIN, END, HEADING, KINDS, exercises_of, make_exercise, stub_source

PART_ONE = [p for p in SOLUTIONS if int(p.name[:2]) <= 7]
PART_TWO = [p for p in SOLUTIONS if int(p.name[:2]) >= 8]


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def is_coded(exercise) -> bool:
    return any(c.cell_type == "code" and re.search(r"^\s*### BEGIN SOLUTION", c.source, re.M)
               for c in exercise["cells"])


def solution_blocks(nb) -> list[list[str]]:
    """The lines between each BEGIN and END marker."""
    blocks = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        block = None
        for line in cell.source.splitlines():
            if BEGIN.match(line):
                block = []
            elif END.match(line):
                blocks.append(block)
                block = None
            elif block is not None:
                block.append(line)
    return blocks


def normalised(line: str) -> str:
    """A line without indentation, trailing comment and repeated spaces."""
    line = re.sub(r"\s+#.*$", "", line.strip()) if not line.strip().startswith("#") else ""
    return re.sub(r"\s+", " ", line).strip()


def code_lines(lines) -> list[str]:
    return [n for n in map(normalised, lines) if n]


# --- generation -----------------------------------------------------------------------

def test_every_solution_has_its_chapter_and_exercise():
    chapters = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert {p.name for p in SOLUTIONS} == chapters == {p.name for p in EXERCISES}


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_exercises_are_exactly_what_make_exercises_generates(solution):
    expected = nbformat.writes(make_exercise(read(solution), solution.name)) + "\n"
    committed = (ROOT / "exercises" / solution.name).read_text(encoding="utf-8")
    assert committed == expected, "exercises/ is stale: run `make exercises`"


def test_stub_source_keeps_indentation_and_hint():
    source = "def f(x):\n    ### BEGIN SOLUTION: Exercise 9: double x\n    return 2 * x\n" \
             "    ### END SOLUTION\n"
    assert stub_source(source, "t") == "def f(x):\n    raise NotImplementedError(" \
                                       "'Exercise 9: double x')"


def test_a_long_stub_is_wrapped_within_the_line_length_and_keeps_its_hint():
    hint = "Exercise 9: " + "a very long description of the task " * 4
    source = f"def f(x):\n    ### BEGIN SOLUTION: {hint.strip()}\n    return x\n" \
             "    ### END SOLUTION\n"
    stub = stub_source(source, "t")
    assert max(len(line) for line in stub.splitlines()) <= 80
    raised = next(n for n in ast.walk(ast.parse(stub)) if isinstance(n, ast.Raise))
    assert raised.exc.args[0].value == hint.strip()


@pytest.mark.parametrize("source", [
    "### BEGIN SOLUTION\nx = 1\n### END SOLUTION",  # no hint
    "### BEGIN SOLUTION: a\nx = 1",  # no end
    "x = 1\n### END SOLUTION",  # no begin
])
def test_stub_source_rejects_malformed_markers(source):
    with pytest.raises(ValueError, match="SOLUTION"):
        stub_source(source, "t")


def test_exercise_only_cells_are_kept_and_solution_only_cells_dropped():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Solutions 9: a topic"),
        nbformat.v4.new_markdown_cell("Run All stops at the first unfinished exercise.",
                                      metadata={"tags": ["exercise-only", "remove-cell"]}),
        nbformat.v4.new_markdown_cell("Why it works.", metadata={"tags": ["solution-only"]}),
    ])
    exercise = make_exercise(nb, "t")
    assert exercise.cells[0].source == "# Exercises 9: a topic"
    assert [c.source for c in exercise.cells[1:]] == [
        "Run All stops at the first unfinished exercise."]
    assert "tags" not in exercise.cells[1].metadata


def test_papermill_runs_are_not_written_into_exercises():
    for path in EXERCISES:
        nb = json.loads(Path(path).read_text())
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")


# --- what the exercises ask --------------------------------------------------------------

@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_titles_say_solutions_and_exercises(solution):
    number = int(solution.name[:2])
    assert read(solution).cells[0].source.startswith(f"# Solutions {number}: ")
    exercise = read(ROOT / "exercises" / solution.name)
    assert exercise.cells[0].source.startswith(f"# Exercises {number}: ")


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_the_exercise_notebook_opens_by_saying_how_run_all_behaves(solution):
    opening = [c for c in read(solution).cells[:4] if "exercise-only" in tags(c)]
    assert opening, "an exercise-only cell near the top explains how to work the notebook"
    assert all("remove-cell" in tags(c) for c in opening), "hide it from the solutions page"
    text = " ".join(c.source for c in opening)
    assert "Run All" in text and "first unfinished exercise" in text


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_each_chapter_has_four_to_eight_labelled_exercises_numbered_in_order(solution):
    nb = read(solution)
    found = exercises_of(nb)
    assert 4 <= len(found) <= 8, f"{len(found)} exercises"
    assert [int(e["number"]) for e in found] == list(range(1, len(found) + 1))
    for e in found:
        assert e["kind"] in KINDS, f"Exercise {e['number']}: unknown kind {e['kind']!r}"
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    loose = re.findall(r"^## Exercise.*$", markdown, re.M)
    assert len(loose) == len(found), f"headings not in the form '{HEADING.pattern}': {loose}"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_at_most_forty_percent_of_coded_exercises_are_practice(solution):
    coded = [e for e in exercises_of(read(solution)) if is_coded(e)]
    assert coded, "a chapter has coded exercises"
    practice = [e for e in coded if e["kind"] == "Practice"]
    assert len(practice) <= 0.4 * len(coded), (
        f"{len(practice)} of {len(coded)} coded exercises are Practice")


@pytest.mark.parametrize("solution", PART_ONE, ids=lambda p: p.name)
def test_part_one_chapters_have_a_debug_and_a_derive_or_extend_exercise(solution):
    kinds = {e["kind"] for e in exercises_of(read(solution))}
    assert "Debug" in kinds
    assert kinds & {"Derive", "Extend"}


@pytest.mark.parametrize("solution", PART_TWO, ids=lambda p: p.name)
def test_part_two_chapters_have_an_experiment_that_the_check_evaluates(solution):
    experiments = [e for e in exercises_of(read(solution)) if e["kind"] == "Experiment"]
    assert experiments
    for e in experiments:
        assert is_coded(e) and any("check." in c.source for c in e["cells"]
                                   if c.cell_type == "code")


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_every_coded_exercise_is_checked_and_every_solution_explained(solution):
    for e in exercises_of(read(solution)):
        code = [c for c in e["cells"] if c.cell_type == "code"]
        if is_coded(e):
            assert any(re.search(r"\bcheck\.\w+\(", c.source) for c in code), (
                f"Exercise {e['number']} has no check cell")
        notes = [c for c in e["cells"] if c.cell_type == "markdown"
                 and "solution-only" in tags(c)]
        words = sum(len(c.source.split()) for c in notes)
        assert words >= 25, f"Exercise {e['number']}: explain the solution (solution-only cell)"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_no_solution_block_repeats_the_chapters_code(solution):
    chapter = read(ROOT / "notebooks" / solution.name)
    lines = code_lines(line for c in chapter.cells if c.cell_type == "code"
                       for line in c.source.splitlines())
    chapter_windows = {tuple(lines[k:k + 3]) for k in range(len(lines) - 2)}
    for block in solution_blocks(read(solution)):
        block = code_lines(block)
        for k in range(len(block) - 2):
            window = tuple(block[k:k + 3])
            assert window not in chapter_windows, (
                "three consecutive lines of a solution are in the chapter:\n" + "\n".join(window))


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_solutions_carry_no_maintainer_notes(solution):
    text = "\n".join(c.source for c in read(solution).cells if c.cell_type == "markdown")
    assert "make exercises" not in text and "solved version" not in text


# --- running the exercise notebooks as a learner would -----------------------------------

def stub_hints(nb) -> list[str]:
    hints = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "raise NotImplementedError(" in cell.source:
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and getattr(
                        node.exc.func, "id", "") == "NotImplementedError":
                    hints.append(node.exc.args[0].value)
    return hints


def with_wrong_answers(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The exercise notebook with a wrong answer in every exercise instead of its stub:
    ``return None`` inside a function, ``pass`` at the top level."""
    nb = make_exercise(solution, "wrong")
    source = nbformat.from_dict(solution)
    source.cells = [c for c in source.cells if "solution-only" not in tags(c)]
    for cell, original in zip(nb.cells, source.cells):
        if cell.cell_type != "code" or "### BEGIN SOLUTION" not in original.source:
            continue
        out, inside = [], False
        for line in original.source.splitlines():
            begin = BEGIN.match(line)
            if begin:
                inside = True
                out.append(begin["indent"] + ("return None" if begin["indent"] else "pass"))
            elif END.match(line):
                inside = False
            elif not inside:
                out.append(line)
        cell.source = "\n".join(out)
    return nb


def output_texts(nb) -> list[str]:
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts.append(str(output.get("text", "")))
            texts += [str(v) for k, v in output.get("data", {}).items()
                      if k.startswith("text/")]
            texts += [str(output.get("evalue", ""))] + list(output.get("traceback", []))
    return texts


def assert_no_answer_shown(ran: nbformat.NotebookNode, solution: nbformat.NotebookNode):
    shown = "\n".join(output_texts(ran))
    answers = {n for block in solution_blocks(solution) for n in code_lines(block)
               if len(n) >= 12}
    for line in sorted(answers):
        assert line not in shown, f"an output shows a line of the solution: {line!r}"
    for line in check_code_lines():
        assert line not in shown, f"an output shows a line of a check: {line!r}"


def execute(nb, path: Path, tmp_path: Path) -> nbformat.NotebookNode:
    source, out = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, source)
    try:
        papermill.execute_notebook(str(source), str(out), kernel_name="python3",
                                   cwd=str(path.parent), progress_bar=False, allow_errors=True)
    except papermill.PapermillExecutionError:
        pass  # allow_errors runs every cell; papermill still raises at the end, after saving
    return read(out)


@pytest.mark.slow
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda p: p.name)
def test_untouched_exercises_stop_only_at_their_stubs_and_show_no_answer(exercise, tmp_path):
    ran = execute(read(exercise), exercise, tmp_path)
    hints = stub_hints(read(exercise))
    assert len(hints) >= 4
    errors = [(k, o) for k, c in enumerate(ran.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert errors, "the exercise notebook ran without failing: are the stubs there?"
    reached = set()
    for k, error in errors:
        assert error.ename in ("NotImplementedError", "ExerciseNotDone"), (
            f"cell {k}: {error.ename}: {error.evalue}")
        said = " ".join(error.evalue.split())  # a verdict wraps at 80 columns
        found = [h for h in hints if " ".join(h.split()) in said]
        assert found, f"cell {k} failed outside a stub: {error.evalue}"
        reached.update(found)
    assert reached == set(hints), "some stub was never reached"
    assert_no_answer_shown(ran, read(ROOT / "solutions" / exercise.name))


@pytest.mark.slow
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_wrong_answers_are_refused_without_showing_the_answer(solution, tmp_path):
    ran = execute(with_wrong_answers(read(solution)), solution, tmp_path)
    shown = "\n".join(output_texts(ran))
    assert "\u2718 Not yet" in shown, "no check refused the wrong answers"
    assert "\u2714" not in shown, "a check accepted a wrong answer"
    assert_no_answer_shown(ran, read(solution))
