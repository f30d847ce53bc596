"""The instructors' grader: full marks for solutions, zero for untouched student notebooks, and
planted bad submissions graded, flagged and contained.

The planted submissions are built here from notebook 02 (fast: no training); the solutions and
untouched student copies of notebooks 01, 02 and 04 are graded whole. The whole batch is
graded once, through the command line, by a module-scoped fixture; the tests read its CSV.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest

from course_tools import grading
from course_tools.grading import cli as grading_cli
from course_tools.anatomy import exercise_cells
from course_tools.grading.settings import GradingSettings
from course_utils.exercises import checks_for
from course_utils.checks import exercises_in

# Starts servers, browsers, kernels or whole pytest runs: `course.py check-pythons` leaves it out.
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
SOLUTION_02 = ROOT / "solutions" / "02_shape_arithmetic.ipynb"
RELEASE_02 = ROOT / "notebooks" / "02_shape_arithmetic.ipynb"
BLOCK = re.compile(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION\n?", re.DOTALL)
# Graded whole, as a solver's and an untouched copy: 01 and 02, and 04 for an exercise that
# builds a Keras model from the notebook's own state. (All seven would add about five minutes.)
GRADED_RELEASES = ["01_cnn_basics.ipynb", "02_shape_arithmetic.ipynb", "04_label_scaling.ipynb"]
MEMORY_GB = 8  # the default; the memory cell asks for 12 GiB of address space


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


def _plant_mixed(folder, canary, victim, repo_probe, signal: bool) -> Path:
    """One submission with a defect per exercise, escape attempts, and a kernel that dies."""
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
    _insert_after_setup(
        notebook,
        # escape attempts: each is tried, and the cell fails if one succeeds
        "import os, shutil\n"
        "escaped = []\n"
        f"for attempt in (lambda: os.remove({str(canary)!r}),\n"
        f"                lambda: shutil.rmtree({str(victim)!r}),\n"
        f"                lambda: open({str(repo_probe)!r}, 'w').write('escaped'),\n"
        + (f"                lambda: os.kill({os.getpid()}, 0),  # pytest\n" if signal else "")
        + "               ):\n"
        "    try:\n"
        "        attempt()\n"
        "        escaped.append(attempt)\n"
        "    except OSError as err:\n"
        "        print('refused:', err)\n"
        "assert not escaped, f'{len(escaped)} escape attempts succeeded'\n"
        f"readme = open({str(ROOT / 'README.md')!r}).read()  # reading is harmless\n"
        "open('my_own_file.txt', 'w').write('a submission may write in its own folder')",
        "import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=5)",
        "import numpy as np\nhuge = np.empty(12 * 2**30, dtype=np.uint8)",
    )
    notebook.cells.append(
        nbformat.v4.new_code_cell("import os\nos._exit(3)")
    )
    # a kernel the grader does not have: it must use its own python3 kernel regardless
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
    """Grade solutions, student notebooks and the mixed submission in one CLI run."""
    folder = tmp_path_factory.mktemp("submissions")
    outside = tmp_path_factory.mktemp("outside")
    canary = outside / "canary.txt"
    canary.write_text("must survive")
    victim = outside / "victim"
    victim.mkdir()
    (victim / "data.txt").write_text("must survive")
    repo_probe = ROOT / f"grading-escape-{uuid.uuid4().hex}.txt"
    for name in GRADED_RELEASES:
        for source, who in ((ROOT / "solutions", "solver"), (ROOT / "notebooks", "untouched")):
            (folder / who).mkdir(exist_ok=True)
            (folder / who / name).write_bytes((source / name).read_bytes())
    mixed = _plant_mixed(folder, canary, victim, repo_probe, signal=sandbox["processes"])
    out = tmp_path_factory.mktemp("report")
    submissions = sorted(folder.glob("*/*.ipynb")) + [mixed]
    try:
        result = subprocess.run(
            [sys.executable, "-m", "course_tools.grading", *map(str, submissions),
             "--out", str(out), "--time-limit", "150", "--memory-limit-gb", str(MEMORY_GB)],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        escaped = repo_probe.exists()
    finally:
        repo_probe.unlink(missing_ok=True)
    assert result.returncode == 0, result.stdout + result.stderr
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        "rows": rows,
        "markdown": (out / "grades.md").read_text(encoding="utf-8"),
        "stdout": result.stdout,
        "canary": canary,
        "victim": victim,
        "escaped_into_repo": escaped,
    }


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


@pytest.mark.parametrize("notebook", GRADED_RELEASES)
def test_untouched_student_notebooks_get_zero_with_every_exercise_not_attempted(graded, notebook):
    rows = _rows(graded, "untouched", notebook)
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


def test_kernel_death_after_the_exercises_is_recorded_and_costs_nothing_else(graded):
    row = _rows(graded, "mixed")[7]
    assert row["run"] == "kernel died", row
    assert row["status"] == "passed"  # graded before the last cell killed the kernel


def test_memory_limit_turns_a_huge_allocation_into_a_memory_error(graded):
    errors = _rows(graded, "mixed")[1]["cell_errors"]
    assert "MemoryError" in errors, errors


def test_network_is_unreachable_from_a_submission(graded, sandbox):
    if not sandbox["network"]:
        pytest.skip("this system does not allow network namespaces for the grading kernel")
    errors = _rows(graded, "mixed")[1]["cell_errors"]
    assert "Network is unreachable" in errors, errors


def test_submission_cannot_delete_or_write_outside_its_folder(graded, sandbox):
    if not sandbox["files"]:
        pytest.skip("this system allows no mount namespace or other user for the grader")
    assert graded["canary"].read_text() == "must survive"
    assert (graded["victim"] / "data.txt").read_text() == "must survive"
    assert not graded["escaped_into_repo"], "a submission created a file in the repository"
    errors = _rows(graded, "mixed")[1]["cell_errors"]
    # every attempt was refused (and so was signalling the grader's processes, where the system
    # allows a PID namespace), and writing in its own folder (the cell's last line) worked
    assert "cell 3:" not in errors, errors


def _exercise_count(release: str) -> int:
    return len(exercises_in(checks_for(release)))


def test_markdown_summary_shows_every_student_and_score(graded):
    text = graded["markdown"]
    for release in GRADED_RELEASES:
        count = _exercise_count(release)
        assert f"| solver | {count}/{count} |" in text and f"| untouched | 0/{count} |" in text
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
    grade = grading.grade_notebook(path, settings=GradingSettings(time_limit=4), capabilities=sandbox)
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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_kernel_wrapper_really_limits_the_address_space():
    limit = 512 * 2**20
    result = subprocess.run(
        [sys.executable, str(grading.WRAPPER), f"--memory-bytes={limit}", "--", sys.executable,
         "-c", "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0]);"
         " data = bytearray(600 * 2**20)"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.stdout.split() == [str(limit)], result.stdout + result.stderr
    assert "MemoryError" in result.stderr, result.stderr
