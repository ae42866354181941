"""Instructors grade with nbgrader: `make nbgrader`'s course directory works with the
standard nbgrader commands, and the grades and feedback are right.

For one chapter of each part, in a temporary copy of the course directory: generate the
assignment; collect three submissions (zip_collect, from files named as a
learning-management system names them) and autograde them: the solutions (full marks),
the solutions with one exercise broken by a known mistake from tests/test_check_chNN.py
(exactly that exercise's points lost), the untouched release (zero); generate feedback
(the broken exercise's hint is there, no line of its solution or of a check); export the
CSV. A fast test keeps the instructor guide's points table equal to the solutions'.
"""

from __future__ import annotations

import ast
import csv
import html
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, check_code_lines, read

from tools.nbgrader_course import (
    GUIDE,
    POINTS,
    TABLE_BEGIN,
    TABLE_END,
    build,
    has_answer,
    points_table,
    source_notebook,
    total_points,
    with_answers,
    with_points_table,
)
from tools.nbtools import END, exercises_of

NBGRADER = Path(sys.executable).with_name("nbgrader")
GRADED = ["01", "11"]  # one chapter of Part I, one of Part II


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    # nbgrader runs the `alembic` command of its own environment
    path = f"{NBGRADER.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = os.environ | {"MLPBOOK_STATIC": "1", "OMP_NUM_THREADS": "1", "PATH": path}
    run = subprocess.run([str(NBGRADER), *args], cwd=course, env=env, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{run.stdout}\n{run.stderr}"
    return run


def solution_path(number: str) -> Path:
    return next((ROOT / "solutions").glob(f"{number}_*.ipynb"))


# --- the course directory, without running nbgrader ---------------------------------------

@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")),
                         ids=lambda p: p.name)
def test_every_coded_exercise_becomes_an_autograded_answer_and_a_graded_check(path):
    solution = read(path)
    nb = source_notebook(solution, path.stem)
    meta = [c.metadata["nbgrader"] for c in nb.cells]
    assert all(m["locked"] or m["solution"] for m in meta), "the rest is read-only"
    assert len({m["grade_id"] for m in meta}) == len(meta), "grade ids are unique"
    coded = [e for e in exercises_of(solution)
             if any(c.cell_type == "code" and has_answer(c.source) for c in e["cells"])]
    answers = [c for c in nb.cells if c.metadata["nbgrader"]["solution"]]
    assert len(answers) == sum(
        1 for e in coded for c in e["cells"] if c.cell_type == "code" and has_answer(c.source))
    assert total_points(nb) == sum(POINTS[e["stars"]] for e in coded)
    text = "\n".join(c.source for c in nb.cells)
    assert "solution-only" not in str([c.metadata for c in nb.cells])
    assert nb.cells[0].source.startswith("# Exercises ")
    for cell in answers:  # nbgrader's own markers, with the task kept as a comment
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
    assert "### BEGIN SOLUTION:" not in text


def test_make_nbgrader_writes_a_config_and_one_source_folder_per_chapter(tmp_path):
    out = build(tmp_path / "course")
    chapters = sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.name for p in (out / "source").iterdir()) == chapters
    for name in chapters:
        assert (out / "source" / name / f"{name}.ipynb").exists()
    config = (out / "nbgrader_config.py").read_text()
    compile(config, "nbgrader_config.py", "exec")
    assert "c.Execute.timeout" in config


def test_only_takes_chapter_numbers_with_or_without_the_zero_and_refuses_unknown_ones(
        tmp_path):
    out = build(tmp_path / "course", only=["1", "08"])
    assert [p.name[:2] for p in sorted((out / "source").iterdir())] == ["01", "08"]
    with pytest.raises(SystemExit, match="99"):
        build(tmp_path / "other", only=["01", "99"])


def test_the_guides_points_table_is_the_one_the_solutions_give():
    """The points table of book/instructor_guide.md, rebuilt from the current solutions/."""
    guide = GUIDE.read_text(encoding="utf-8")
    table = points_table()
    assert with_points_table(guide, table) == guide, (
        "the instructor guide's points table differs from solutions/: run "
        "`.venv/bin/python tools/nbgrader_course.py --guide`")
    block = guide[guide.index(TABLE_BEGIN):guide.index(TABLE_END)]
    chapters = sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    assert re.findall(r"^\| `(\d\d_\w+)` \|", block, re.M) == chapters
    for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        total = total_points(source_notebook(read(path), path.stem))
        assert re.search(rf"^\| `{path.stem}` \|.* \| {total} \|$", block, re.M), path.stem


# --- the standard commands, end to end -----------------------------------------------------

def answer_cells(nb) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def broken_exercise(number: str, source: nbformat.NotebookNode):
    """The first coded exercise whose answer is a function and whose check has a known
    mistake: (its grade id, its check's name, its mutant's label, its points)."""
    mutants = importlib.import_module(f"test_check_ch{number}").MUTANTS
    exercise = None
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.source.lstrip().startswith("def "):
            exercise = cell
        elif meta.get("grade") and exercise is not None:
            name = re.search(r"check\.(\w+)\(", cell.source)[1]
            if name in mutants:
                label = next(iter(mutants[name]))
                return exercise.metadata["nbgrader"]["grade_id"], name, label, meta["points"]
            exercise = None
    raise AssertionError(f"chapter {number}: no function exercise with a known mistake")


def with_mutant(answer: nbformat.NotebookNode, number: str, name: str, label: str) -> str:
    """The answer cell's function, its body replaced by a call to the known mistake."""
    tree = ast.parse(answer.source)
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    arguments = ", ".join(a.arg for a in function.args.args)
    return "\n".join([
        "import sys",
        f"sys.path.insert(0, {str(ROOT / 'tests')!r})",
        f"from test_check_ch{number} import MUTANTS as _MUTANTS",
        "",
        f"def {function.name}({arguments}):",
        f"    return _MUTANTS[{name!r}][{label!r}]({arguments})",
    ])


def solution_lines(cell) -> list[str]:
    lines, inside = [], False
    for line in cell.source.splitlines():
        if "BEGIN SOLUTION" in line:
            inside = True
        elif END.match(line):
            inside = False
        elif inside and len(line.strip()) >= 12:
            lines.append(line.strip())
    return lines


def expected_hint(number: str, name: str, label: str) -> str:
    from mlpbook import check

    mutant = importlib.import_module(f"test_check_ch{number}").MUTANTS[name][label]
    with pytest.raises(check.CheckFailed) as failure:
        getattr(check, name)(mutant)
    return re.search(r"Hint: (.*)", str(failure.value))[1]


@pytest.mark.slow
@pytest.mark.parametrize("number", GRADED)
def test_generate_autograde_feedback_and_export_with_standard_nbgrader(number, tmp_path):
    stem = solution_path(number).stem
    course = build(tmp_path / "course", only=[number])
    nbgrader(course, "generate_assignment", stem, "--force")
    release = read(course / "release" / stem / f"{stem}.ipynb")
    source = read(course / "source" / stem / f"{stem}.ipynb")
    full = total_points(source)
    grade_id, name, label, lost = broken_exercise(number, source)

    submissions = {"full": with_answers(release, source),
                   "broken": with_answers(release, source),
                   "untouched": nbformat.from_dict(release)}
    answer_cells(submissions["broken"])[grade_id].source = with_mutant(
        answer_cells(source)[grade_id], number, name, label)
    archive = course / "downloaded" / stem / "archive"  # as a learning-management system
    archive.mkdir(parents=True)                          # names them (nbgrader_config.py)
    for student, nb in submissions.items():
        nbformat.write(nb, archive / f"{student}_{stem}.ipynb")
    nbgrader(course, "zip_collect", stem)
    for student in submissions:
        assert (course / "submitted" / student / stem / f"{stem}.ipynb").exists(), student

    nbgrader(course, "autograde", stem, "--create", "--force")
    nbgrader(course, "generate_feedback", stem, "--force")
    nbgrader(course, "export", "--to", str(course / "grades.csv"))

    with open(course / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"full", "broken", "untouched"}
    for student, score in (("full", full), ("broken", full - lost), ("untouched", 0)):
        assert float(rows[student]["raw_score"]) == pytest.approx(score), student
        assert float(rows[student]["max_score"]) == pytest.approx(full)
        assert rows[student]["assignment"] == stem

    feedback = {s: (course / "feedback" / s / stem / f"{stem}.html").read_text()
                for s in submissions}
    hint = expected_hint(number, name, label)
    assert html.escape(hint, quote=False) in feedback["broken"] or hint in feedback["broken"]
    for line in solution_lines(answer_cells(source)[grade_id]):
        assert html.escape(line, quote=False) not in feedback["broken"], line
    answers = [line for c in answer_cells(source).values() for line in solution_lines(c)]
    for line in answers + check_code_lines():
        assert html.escape(line, quote=False) not in feedback["untouched"], line
