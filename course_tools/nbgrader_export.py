"""An nbgrader course folder made from the solution notebooks: the classroom route through nbgrader.

nbgrader (https://nbgrader.readthedocs.io) is what JupyterHub classrooms grade with. The course's
solution notebooks already use its ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers; this
module adds the cell metadata nbgrader needs and writes ``source/<assignment>/<notebook>.ipynb``
plus an ``nbgrader_config.py``. Each exercise cell becomes two cells:

* a **solution cell** (``solution: true``): the heading and the function with its solution
  block, which ``nbgrader generate_assignment`` replaces by ``raise NotImplementedError()``;
* a locked **autograder test cell** (``grade: true``, ``points``): it runs the exercise's own
  check and raises unless the answer is correct, so a wrong *or* unattempted exercise scores 0
  (the course's ``.check()`` only prints "not attempted", which nbgrader would count as passed).
  nbgrader restores locked cells from its database before grading, so editing them gains nothing.

Then, in the course folder::

    nbgrader generate_assignment 02_shape_arithmetic     # release/ without the solutions
    nbgrader autograde 02_shape_arithmetic               # grades submitted/<student>/...
    nbgrader export                                      # grades.csv

Command line (also ``python3 course.py nbgrader-export``)::

    python -m course_tools.nbgrader_export [NN ...] --out nbgrader-course
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

from course_tools.anatomy import find_exercise_cells
from course_tools.layout import REPOSITORY, CourseLayout
from course_tools.student_notebooks import METADATA_KEY, check_notebook, read_notebook

__all__ = ["nbgrader_notebook", "export_course", "CONFIG_TEXT"]

SCHEMA_VERSION = 3  # nbgrader 0.9's cell metadata schema
CONFIG_TEXT = '''\
# nbgrader configuration of a course exported by course_tools.nbgrader_export.
c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
# Exercises train small models: allow more than nbgrader's default of 30 s per cell.
c.ExecutePreprocessor.timeout = 300
# The solution blocks sit in function bodies: the stub keeps the function runnable.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
'''


def _test_source(number: int, module: str, answer: str) -> str:
    return (
        f"# Autograder test of Exercise {number} (locked): passes only for a correct answer\n"
        f"_result = {module}.exercise_{number}.evaluate({answer})\n"
        "print(_result.message)\n"
        '''assert _result.status.value == "correct", _result.message'''
    )


def nbgrader_notebook(solution, name: str = "notebook", points: int = 1) -> nbformat.NotebookNode:
    """The nbgrader source version of one solution notebook (the input is not changed).

    Parameters
    ----------
    solution : nbformat.NotebookNode
        A solution notebook as read by ``nbformat.read(path, as_version=4)``.
    name : str
        Names the notebook in error messages.
    points : int
        Points of each exercise.

    Raises
    ------
    ValueError
        If an exercise cell has no check line (nothing to build the test from).
    """
    if isinstance(points, bool) or not isinstance(points, int) or points < 1:
        raise ValueError(f"points must be a whole number of at least 1, got {points!r}.")
    notebook = copy.deepcopy(check_notebook(solution, "solution"))
    notebook.metadata.pop(METADATA_KEY, None)
    exercises = {exercise.index: exercise for exercise in find_exercise_cells(notebook)}
    cells = []
    for index, cell in enumerate(notebook.cells):
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        exercise = exercises.get(index)
        if exercise is None:
            cells.append(cell)
            continue
        check = exercise.check
        if check is None:
            raise ValueError(
                f"{name}, cell {index}: Exercise {exercise.number} has no check line "
                "(`checks.exercise_N.check(function)`), so no autograder test can be made."
            )
        grade_id = f"exercise_{exercise.number}"
        cell.source = exercise.definition.rstrip()
        cell.metadata["nbgrader"] = {
            "grade": False, "solution": True, "locked": False,
            "grade_id": grade_id, "schema_version": SCHEMA_VERSION,
        }  # fmt: skip
        test = nbformat.v4.new_code_cell(
            _test_source(exercise.number, check.group("module"), check.group("answer"))
        )
        test.metadata["nbgrader"] = {
            "grade": True, "solution": False, "locked": True, "points": points,
            "grade_id": f"{grade_id}_test", "schema_version": SCHEMA_VERSION,
        }  # fmt: skip
        cells += [cell, test]
    for number, cell in enumerate(cells):  # a split cell would share its id with its test
        cell["id"] = f"cell-{number}"
    notebook.cells = cells
    return notebook


def export_course(out_dir, names=(), layout: CourseLayout = REPOSITORY, points: int = 1) -> list[Path]:
    """Write an nbgrader course folder: ``nbgrader_config.py`` and ``source/<NN_name>/<NN_name>.ipynb``.

    Parameters
    ----------
    out_dir : path-like
        The course folder to create or update; an existing ``source/<assignment>/`` notebook of
        the same name is replaced, nothing else in it is touched (gradebook, submissions).
    names : sequence of str
        Notebooks by number or stem (``"02"``); all when empty.

    Returns
    -------
    list of Path
        The notebooks written.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(
            f"{out_dir} is a file, but the nbgrader course goes into a folder of that name; "
            "choose another --out."
        )
    chosen = layout.select(names)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = out_dir / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG_TEXT, encoding="utf-8")
    written = []
    for path in chosen:
        notebook = nbgrader_notebook(read_notebook(path), path.name, points=points)
        target = out_dir / "source" / path.stem / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.nbgrader_export",
        description="Write an nbgrader course folder made from the solution notebooks.",
    )
    parser.add_argument("names", nargs="*", help="e.g. 02 or 02_shape_arithmetic; default: all")
    parser.add_argument("--out", type=Path, default=Path("nbgrader-course"), help="course folder")
    parser.add_argument("--points", type=int, default=1, help="points per exercise (default 1)")
    parser.add_argument("--base", type=Path, default=Path.cwd(), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        written = export_course(args.base / args.out, args.names, points=args.points)
    except (ValueError, NotADirectoryError) as err:
        parser.error(str(err))
    for path in written:
        print(f"wrote {path}")
    print(f"next: cd {args.base / args.out} && nbgrader generate_assignment {written[0].parent.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
