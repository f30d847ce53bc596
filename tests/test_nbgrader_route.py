"""nbgrader as the classroom route: the export carries nbgrader's metadata, and nbgrader's own
commands release and grade a course notebook (full marks for a solved copy, zero for an
untouched one, and an edited autograder test restored before grading).

Notebook 02 is used because it runs in seconds; every notebook is exported the same way.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_tools.anatomy import BEGIN_MARKER, find_exercise_cells
from course_tools.layout import REPOSITORY
from course_tools.nbgrader_export import export_course, nbgrader_notebook
from course_utils.checks import exercises_in
from course_utils.exercises import checks_for

ASSIGNMENT = "02_shape_arithmetic"
SOLUTION = REPOSITORY.solutions / f"{ASSIGNMENT}.ipynb"


def _nbgrader_cells(notebook, kind):
    return [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get(kind)]


@pytest.mark.parametrize("path", REPOSITORY.solution_notebooks(), ids=lambda p: p.stem)
def test_every_exercise_becomes_a_solution_cell_and_a_locked_graded_test(path):
    solution = nbformat.read(path, as_version=4)
    exported = nbgrader_notebook(solution, path.name)
    numbers = [e.number for e in exercises_in(checks_for(path.name))]
    solutions, tests = _nbgrader_cells(exported, "solution"), _nbgrader_cells(exported, "grade")
    assert [c.metadata.nbgrader.grade_id for c in solutions] == [f"exercise_{n}" for n in numbers]
    assert [c.metadata.nbgrader.grade_id for c in tests] == [f"exercise_{n}_test" for n in numbers]
    assert all(c.metadata.nbgrader.locked and c.metadata.nbgrader.points == 1 for c in tests)
    assert all(BEGIN_MARKER in c.source and ".check(" not in c.source for c in solutions)
    # everything else is kept, in order, without outputs
    plain = [c.source for c in exported.cells if "nbgrader" not in c.metadata]
    exercise_indices = {e.index for e in find_exercise_cells(solution)}
    assert plain == [c.source for i, c in enumerate(solution.cells) if i not in exercise_indices]
    assert not any(c.get("outputs") for c in exported.cells)
    nbformat.validate(exported)


def test_export_refuses_an_exercise_without_a_check_line_and_bad_points():
    solution = nbformat.read(SOLUTION, as_version=4)
    first = find_exercise_cells(solution)[0]
    solution.cells[first.index].source = first.definition
    with pytest.raises(ValueError, match="has no check line"):
        nbgrader_notebook(solution, "02.ipynb")
    with pytest.raises(ValueError, match="points must be a whole number"):
        nbgrader_notebook(nbformat.read(SOLUTION, as_version=4), points=0)


def _nbgrader(course: Path, *arguments: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    # nbgrader runs `alembic` (its database migrations) from PATH: the venv's bin folder.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *arguments], cwd=course, env=env,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.integration
def test_nbgrader_releases_and_autogrades_a_course_notebook(tmp_path):
    course = tmp_path / "course"
    [source] = export_course(course, [ASSIGNMENT])
    _nbgrader(course, "generate_assignment", ASSIGNMENT)
    release = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    released = nbformat.read(release, as_version=4)
    assert BEGIN_MARKER not in release.read_text()  # the solutions stay with the instructor
    for cell in _nbgrader_cells(released, "solution"):
        assert "raise NotImplementedError()" in cell.source

    def submit(student, notebook):
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{ASSIGNMENT}.ipynb")

    submit("solver", nbformat.read(source, as_version=4))
    submit("untouched", released)
    # A learner who solves exercise 1 only and turns every autograder test into `pass`:
    # nbgrader puts the locked tests back from its database before it runs the notebook.
    forger = nbformat.read(release, as_version=4)
    solved = {c.metadata.nbgrader.grade_id: c.source for c in _nbgrader_cells(
        nbformat.read(source, as_version=4), "solution")}  # fmt: skip
    for cell in forger.cells:
        nbgrader = cell.metadata.get("nbgrader", {})
        if nbgrader.get("grade"):
            cell.source = "pass"
        elif nbgrader.get("grade_id") == "exercise_1":
            cell.source = solved["exercise_1"]
    submit("forger", forger)

    _nbgrader(course, "autograde", ASSIGNMENT)
    _nbgrader(course, "export", "--to", str(tmp_path / "grades.csv"))
    with open(tmp_path / "grades.csv", newline="") as handle:
        scores = {row["student_id"]: (float(row["score"]), float(row["max_score"]))
                  for row in csv.DictReader(handle)}  # fmt: skip
    count = len(exercises_in(checks_for(ASSIGNMENT)))
    assert scores == {
        "solver": (count, count), "untouched": (0, count), "forger": (1, count),
    }, scores  # fmt: skip
    shutil.rmtree(course)
