"""The instructors' grader: full marks for solutions, zero for untouched student notebooks, and
a submission with ordinary mistakes graded and flagged.

The solutions of notebooks 01, 02 and 04 are graded whole (01 and 04 have Keras exercises whose
models, layers, datasets and callbacks cross from the sandbox into the grader as data); the
untouched and the mixed submissions are built from notebook 02 (fast: no training). The batch
is graded once, through the command line, by a module-scoped fixture; the tests read its CSV.
Attacks on the grader (patched checks, escapes, floods) are in test_grading_attacks.py; the
roster's refusals in test_grading_roster.py.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from sandbox_tools import require_sandbox

from course_tools import grading
from course_tools.anatomy import exercise_cells
from course_tools.grading import cli as grading_cli
from course_tools.grading.settings import GradingSettings
from course_utils.checks import exercises_in
from course_utils.exercises import checks_for

# Starts servers, browsers, kernels or whole pytest runs: `course.py check-pythons` leaves it out.
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
SOLUTION_02 = ROOT / "solutions" / "02_shape_arithmetic.ipynb"
RELEASE_02 = ROOT / "notebooks" / "02_shape_arithmetic.ipynb"
BLOCK = re.compile(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION\n?", re.DOTALL)
# Graded whole, as a solver's and an untouched copy: 01 and 02, and 04 for an exercise that
# builds a Keras model from the notebook's own state. (All seven would add about five minutes.)
GRADED_RELEASES = ["01_cnn_basics.ipynb", "02_shape_arithmetic.ipynb", "04_label_scaling.ipynb"]


def _read(path):
    return nbformat.read(path, as_version=4)


def _exercise_cell(notebook, number):
    exercise = exercise_cells(notebook)[number]
    index, cell = exercise.index, exercise.cell
    return index, cell


def _replace_body(notebook, number, body):
    _, cell = _exercise_cell(notebook, number)
    cell.source = BLOCK.sub(lambda m: f"{m.group(1)}{body}\n", cell.source, count=1)


def _insert_after_setup(notebook, *sources):
    first_code = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    for offset, source in enumerate(sources, start=1):
        notebook.cells.insert(first_code + offset, nbformat.v4.new_code_cell(source))


def _plant_mixed(folder) -> Path:
    """One submission with an ordinary defect per exercise, and a process that ends at the end."""
    notebook = _read(SOLUTION_02)
    _replace_body(notebook, 1, "return input_size + 2 * padding - kernel_size + 1  # no stride")
    _replace_body(notebook, 2, "return input_size // 0")
    _replace_body(notebook, 3, "return kernel_size * kernel_size * in_channels * filters")
    _, cell3 = _exercise_cell(notebook, 3)
    cell3.source = cell3.source.replace(
        "checks.exercise_3.check(conv2d_param_count)",
        'print("Exercise 3 (parameters of a Conv2D layer): correct.")',
    )
    index4, _ = _exercise_cell(notebook, 4)
    del notebook.cells[index4]
    changed = next(c for c in notebook.cells if "== 439" in c.source)
    changed.source = changed.source.replace("== 439", "> 0")
    _insert_after_setup(notebook, "added_by_the_learner = 1")
    notebook.cells.append(nbformat.v4.new_code_cell("import os\nos._exit(3)"))
    # a kernel the grader does not have: the sandbox runs its own Python regardless
    notebook.metadata["kernelspec"] = {
        "name": "alices-env", "display_name": "Alice's env", "language": "python",
    }  # fmt: skip
    path = folder / "mixed_02_shape_arithmetic.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def sandbox():
    return grading.sandbox_capabilities()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, sandbox):
    """Grade solutions, an untouched 02 and the mixed submission in one CLI run."""
    if sandbox["mode"] == "none":
        require_sandbox(sandbox)
    folder = tmp_path_factory.mktemp("submissions")
    for name in GRADED_RELEASES:
        (folder / "solver").mkdir(exist_ok=True)
        (folder / "solver" / name).write_bytes((ROOT / "solutions" / name).read_bytes())
    (folder / "untouched").mkdir()
    (folder / "untouched" / RELEASE_02.name).write_bytes(RELEASE_02.read_bytes())
    mixed = _plant_mixed(folder)
    out = tmp_path_factory.mktemp("report")
    submissions = sorted(folder.glob("*/*.ipynb")) + [mixed]
    result = subprocess.run(
        [sys.executable, "-m", "course_tools.grading", *map(str, submissions),
         "--out", str(out), "--time-limit", "150"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {"rows": rows, "markdown": (out / "grades.md").read_text(encoding="utf-8"),
            "stdout": result.stdout}  # fmt: skip


def _rows(graded, student, notebook="02_shape_arithmetic.ipynb"):
    found = {
        int(r["exercise"]): r
        for r in graded["rows"]
        if r["student"] == student and r["notebook"] == notebook
    }
    assert found, f"no rows for {student} / {notebook}: {graded['stdout']}"
    return found


@pytest.mark.parametrize("notebook", GRADED_RELEASES)
def test_solution_notebooks_get_full_marks(graded, notebook):
    rows = _rows(graded, "solver", notebook)
    assert {r["status"] for r in rows.values()} == {"passed"}, rows
    assert all(r["run"] == "completed" and not r["exercise_flags"] for r in rows.values())
    assert all(not r["notebook_flags"] and not r["cell_errors"] for r in rows.values())


def test_untouched_student_notebook_gets_zero_with_every_exercise_not_attempted(graded):
    rows = _rows(graded, "untouched")
    assert {r["status"] for r in rows.values()} == {"not attempted"}, rows
    assert sum(int(r["points"]) for r in rows.values()) == 0
    assert all(r["run"] == "completed" and not r["cell_errors"] for r in rows.values())


def test_wrong_answer_and_exception_fail_with_the_checks_message(graded):
    rows = _rows(graded, "mixed")
    assert rows[1]["status"] == "failed"
    assert "expected value" in rows[1]["message"], rows[1]["message"]
    assert rows[2]["status"] == "failed"
    assert "ZeroDivisionError" in rows[2]["message"], rows[2]["message"]


def test_faked_check_line_is_flagged_and_the_answer_still_graded(graded):
    row = _rows(graded, "mixed")[3]
    assert row["status"] == "failed", row  # its printed "correct." fools nobody
    assert "check line removed" in row["exercise_flags"]


def test_deleted_exercise_cell_is_missing_and_flagged(graded):
    row = _rows(graded, "mixed")[4]
    assert row["status"] == "missing"
    assert "exercise cell deleted" in row["exercise_flags"]


def test_untouched_exercises_of_a_bad_submission_still_pass(graded):
    rows = _rows(graded, "mixed")
    assert [rows[n]["status"] for n in (5, 6, 7, 8, 9)] == ["passed"] * 5
    assert not any(rows[n]["exercise_flags"] for n in (5, 6, 7, 8, 9))


def test_changed_and_added_code_cells_are_flagged(graded):
    flags = _rows(graded, "mixed")[1]["notebook_flags"]
    assert "code cell 16 changed (print(f\"ratio:" in flags, flags
    assert "code cells added by the learner" in flags, flags


def test_process_ending_after_the_exercises_is_recorded_and_costs_nothing_else(graded):
    row = _rows(graded, "mixed")[7]
    assert row["run"] == "process ended", row
    assert "exit status 3" in row["run_detail"], row
    assert row["status"] == "passed"  # graded before the last cell ended the process


def test_the_report_names_the_sandbox(graded):
    assert "bubblewrap" in graded["markdown"] and "no network" in graded["markdown"]


def _exercise_count(release: str) -> int:
    return len(exercises_in(checks_for(release)))


def test_markdown_summary_shows_every_student_and_score(graded):
    text = graded["markdown"]
    for release in GRADED_RELEASES:
        count = _exercise_count(release)
        assert f"| solver | {count}/{count} |" in text
    assert f"| untouched | 0/{_exercise_count(RELEASE_02.name)} |" in text
    # the mixed 02 submission breaks exercises 1-4 (see _plant_mixed); every other exercise
    # keeps the solution it was made from
    count = _exercise_count("02_shape_arithmetic.ipynb")
    assert f"| mixed | {count - 4}/{count} |" in text
    assert "check edited" in text


def test_infinite_loop_is_stopped_by_the_time_limit(tmp_path, sandbox):
    notebook = _read(RELEASE_02)
    notebook.cells.insert(0, nbformat.v4.new_code_cell("while True:\n    pass"))
    path = tmp_path / "looper_02_shape_arithmetic.ipynb"
    nbformat.write(notebook, path)
    if sandbox["mode"] == "none":
        require_sandbox(sandbox)
    grade = grading.grade_notebook(path, settings=GradingSettings(time_limit=8), capabilities=sandbox)
    assert grade.run == "timeout", (grade.run, grade.run_detail)
    assert grade.seconds < 30
    assert {e.status for e in grade.exercises} == {"not run"}
    assert grade.score == 0


def test_release_is_found_by_name_and_student_by_folder_or_prefix(tmp_path):
    alice = tmp_path / "alice"
    alice.mkdir()
    plain = alice / "02_shape_arithmetic.ipynb"
    prefixed = tmp_path / "bob_02_shape_arithmetic.ipynb"
    assert grading.find_release(plain) == RELEASE_02
    assert grading.find_release(prefixed) == RELEASE_02
    assert grading.student_name(plain, RELEASE_02) == "alice"
    assert grading.student_name(prefixed, RELEASE_02) == "bob"
    with pytest.raises(ValueError, match="--release"):
        grading.find_release(tmp_path / "homework.ipynb")


def test_comparison_ignores_whitespace_and_hint_calls_but_not_edits():
    release = _read(RELEASE_02)
    submission = _read(SOLUTION_02)  # solved bodies, identical checks and other cells
    hint_cell = nbformat.v4.new_code_cell("checks.exercise_1.hint()")
    submission.cells.insert(1, hint_cell)
    for cell in submission.cells:
        if cell.cell_type == "code":
            cell.source = cell.source.replace("\n", "\n\n").replace(" = ", "  =  ")
    per_exercise, notebook_flags = grading.compare_with_release(submission, release)
    assert not any(per_exercise.values()), per_exercise
    assert notebook_flags == [], notebook_flags  # an added hint() cell is no change

    cell = exercise_cells(submission)[2].cell
    cell.source = cell.source.replace("checks.exercise_2.check(", "checks.exercise_1.check(")
    per_exercise, _ = grading.compare_with_release(submission, release)
    assert per_exercise[2] == ["check line changed to `checks.exercise_1.check(same_output_size)`"]


def test_command_line_refuses_missing_files_and_unknown_notebooks(tmp_path, capsys):
    stray = tmp_path / "homework.ipynb"
    stray.write_text("{}")
    for arguments, message in (
        [["nothing.ipynb"], "no such file"],
        [["homework.ipynb"], "cannot tell which released notebook"],
        [["homework.ipynb", "--time-limit", "0"], "must be positive"],
    ):
        with pytest.raises(SystemExit) as stopped:
            grading_cli.main([*arguments, "--base", str(tmp_path)])
        assert stopped.value.code == 2
        assert message in capsys.readouterr().err


def test_without_bubblewrap_the_grader_refuses_unless_trusted(tmp_path, monkeypatch, capsys):
    from course_tools.grading import bubblewrap

    monkeypatch.setattr(bubblewrap, "_bwrap", lambda: None)
    (tmp_path / "bob").mkdir()
    submission = tmp_path / "bob" / RELEASE_02.name
    submission.write_bytes(RELEASE_02.read_bytes())
    with pytest.raises(SystemExit) as stopped:
        grading_cli.main([str(submission), "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "refusing to grade" in error and "apt-get install bubblewrap" in error and "--trusted" in error
    assert not (tmp_path / "out").exists()
    with pytest.raises(RuntimeError, match="bubblewrap"):
        grading.grade_notebook(submission)
    # told that the work is trusted, it grades without a sandbox, and says so
    assert grading_cli.main([str(submission), "--out", str(tmp_path / "out"), "--trusted"]) == 0
    captured = capsys.readouterr()
    assert "WARNING: grading without a sandbox" in captured.err
    assert "bob: 0/10, completed" in captured.out
    assert "NO SANDBOX" in (tmp_path / "out" / "grades.md").read_text(encoding="utf-8")
