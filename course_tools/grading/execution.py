"""Run one submission in the confined kernel and evaluate each exercise right after its cell."""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_utils.checks import exercises_in

from course_tools.anatomy import exercise_cells, heading_title
from course_tools.grading.release import (
    checks_module_of,
    compare_with_release,
    find_release,
    student_name,
)
from course_tools.grading.results import (
    FAILED,
    MISSING,
    NOT_ATTEMPTED,
    NOT_RUN,
    PASSED,
    STATUS_OF_CHECK,
    ExerciseGrade,
    NotebookGrade,
)
from course_tools.grading.roster import printable
from course_tools.grading.sandbox import (
    base_env,
    describe_sandbox,
    kernel_manager_class,
    kill_tree,
    sandbox_capabilities,
)
from course_tools.grading.settings import GradingSettings

__all__ = ["grade_notebook"]


def _evaluation_code(module_name: str, number: int, answer_name: str, marker: str) -> str:
    return f"""def _course_grader_():
    import importlib, json
    try:
        exercise = importlib.import_module({module_name!r}).exercise_{number}
        result = exercise.evaluate(get_ipython().user_ns.get({answer_name!r}))
        found = {{"status": result.status.value, "message": result.message}}
    except BaseException as err:
        found = {{"status": "incorrect", "message": f"checking raised {{type(err).__name__}}: {{err}}"}}
    print({marker!r} + json.dumps(found))
_course_grader_()
del _course_grader_"""


def _outputs_text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def _error_of(cell):
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            return output.ename, output.evalue
    return None


def _parse_printed_outcome(cell, number: int):
    """Fallback: the outcome the exercise cell printed (used if the evaluation left no trace)."""
    text = _outputs_text(cell)
    match = re.search(rf"^(Exercise {number} \(.*?\): (correct|not attempted).*)$", text, re.M)
    if match:
        return (PASSED if match.group(2) == "correct" else NOT_ATTEMPTED), match.group(1)
    return None


@dataclass
class _Run:
    """One submission being graded: what the helpers below share."""

    notebook: nbformat.NotebookNode
    submission: Path
    grade: NotebookGrade
    module_name: str | None
    answer_names: dict[int, str]
    settings: GradingSettings
    capabilities: dict
    current: int | None = None  # the cell running now, for the reports

    @property
    def by_number(self) -> dict[int, ExerciseGrade]:
        return {e.number: e for e in self.grade.exercises}


def grade_notebook(
    submission,
    release=None,
    *,
    settings: GradingSettings | None = None,
    student: str | None = None,
    capabilities: dict | None = None,
) -> NotebookGrade:
    """Grade one submitted notebook; never raises for anything the submission does.

    Parameters
    ----------
    submission : path-like
        The learner's ``.ipynb`` file.
    release : path-like, optional
        The released notebook it answers; found by file name when omitted.
    settings : GradingSettings, optional
        Time, memory and file-size limits (the defaults when omitted).
    student : str, optional
        The name in the reports; taken from the file or folder name when omitted.
    capabilities : dict, optional
        What :func:`~course_tools.grading.sandbox.sandbox_capabilities` found (probed when
        omitted; pass it to grade many submissions with one probe).
    """
    settings = GradingSettings() if settings is None else settings
    if not isinstance(settings, GradingSettings):
        raise TypeError(
            f"settings must be a GradingSettings, got {type(settings).__name__}; e.g. "
            "GradingSettings(time_limit=120)."
        )
    submission = Path(submission)
    release = find_release(submission, release)
    released = nbformat.read(release, as_version=4)
    module = checks_module_of(release)
    exercises = exercises_in(module) if module is not None else []
    titles = {e.number: e.title for e in exercises}
    answer_names = {e.number: e.answer_name for e in exercises}
    for number, exercise_cell in exercise_cells(released).items():
        titles.setdefault(number, heading_title(exercise_cell.source))
    grade = NotebookGrade(
        student=student or student_name(submission, release),
        submission=printable(submission),
        release=release.name,
        exercises=[ExerciseGrade(n, titles[n]) for n in sorted(titles)],
    )
    by_number = {e.number: e for e in grade.exercises}
    capabilities = sandbox_capabilities() if capabilities is None else capabilities
    grade.sandbox = describe_sandbox(capabilities, settings.memory_bytes)

    try:
        notebook = nbformat.read(submission, as_version=4)
        if not isinstance(notebook.get("cells"), list):
            raise ValueError("no cells")
        nbformat.validate(notebook)  # a cell without its source, an unknown cell type, ...
    except Exception as err:
        grade.run = "unreadable"
        grade.run_detail = f"not a readable notebook: {type(err).__name__}: {str(err)[:200]}"
        for exercise in grade.exercises:
            exercise.status, exercise.message = MISSING, "the submission could not be read"
        return grade

    per_exercise, grade.flags = compare_with_release(notebook, released)
    for number, flags in per_exercise.items():
        if number in by_number:
            by_number[number].flags.extend(flags)
    submitted = exercise_cells(notebook)
    for number, exercise in by_number.items():
        if number not in submitted:
            exercise.status, exercise.message = MISSING, "the exercise cell was deleted"

    run = _Run(notebook, submission, grade, module.__name__ if module is not None else None,
               answer_names, settings, capabilities)  # fmt: skip
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="course-grade-") as folder:
        _execute(run, Path(folder))
    grade.seconds = time.monotonic() - started
    return grade


def _execute(run: _Run, root: Path) -> None:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    grade, settings, capabilities = run.grade, run.settings, run.capabilities
    work, home, runtime = root / "work", root / "home", root / "run"
    for folder in (work, home, runtime, home / "tmp"):
        folder.mkdir()
    shutil.copyfile(run.submission, work / run.submission.name)
    user = [o for o in capabilities["options"] if o.startswith("--user=")]
    if user:
        uid, gid = (int(x) for x in user[0].split("=")[1].split(":"))
        for path in [root, *root.rglob("*")]:
            os.chown(path, uid, gid)
    env = base_env()
    env.update(
        HOME=str(home), TMPDIR=str(home / "tmp"), JUPYTER_RUNTIME_DIR=str(runtime),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"), IPYTHONDIR=str(home / ".ipython"),
        MPLCONFIGDIR=str(home / ".matplotlib"), XDG_CACHE_HOME=str(home / ".cache"),
        PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1",
    )  # fmt: skip
    for cell in run.notebook.cells:  # a fresh run: no stored outputs, no tags that skip cells
        cell.metadata.pop("tags", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None

    km = kernel_manager_class()(
        transport="tcp" if os.name == "nt" else "ipc",  # Unix sockets work without a network
        connection_file=str(runtime / "kernel.json"),
    )
    km.wrapper_options = [
        f"--memory-bytes={settings.memory_bytes}", f"--file-bytes={settings.file_bytes}",
        *capabilities["options"], "--writable", str(root),
    ]  # fmt: skip
    client = NotebookClient(
        run.notebook, km=km, kernel_name="python3", allow_errors=True,
        shutdown_kernel="immediate", startup_timeout=max(10, int(settings.time_limit)),
        resources={"metadata": {"path": str(work)}}, record_timing=False,
    )  # fmt: skip
    deadline = time.monotonic() + settings.time_limit
    log_path = root / "kernel.log"
    kernel_pid = None
    with open(log_path, "wb") as log:
        try:
            with client.setup_kernel(env=env, stdout=log, stderr=log):
                kernel_pid = km.provisioner.pid
                try:
                    grade.run = "completed"
                    _run_cells(client, run, deadline)
                finally:  # the kernel and everything it started, before the shutdown
                    kill_tree(kernel_pid)
        except CellTimeoutError:
            grade.run = "timeout"
            grade.run_detail = (
                f"the time limit of {settings.time_limit:g} s ran out in cell {run.current}"
            )
        except DeadKernelError:
            grade.run = "kernel died"
            grade.run_detail = (
                f"the kernel died in cell {run.current} (memory limit "
                f"{settings.memory_gb:.1f} GiB, a crash, or the code ended the process)"
            )
        except Exception as err:  # e.g. the kernel did not start
            grade.run = "kernel error"
            grade.run_detail = f"{type(err).__name__}: {str(err)[:300]}"
        finally:
            if kernel_pid and hasattr(os, "killpg"):
                try:  # anything that left the tree but not the kernel's process group
                    os.killpg(kernel_pid, 9)
                except OSError:
                    pass
    _finish(run, log_path)


def _finish(run: _Run, log_path: Path) -> None:
    """Say why exercises were not graded, and what the kernel log says about a crash."""
    grade, by_number = run.grade, run.by_number
    exercise_at = {e.index: number for number, e in exercise_cells(run.notebook).items()}
    if run.current is not None and run.current in exercise_at:
        exercise = by_number.get(exercise_at[run.current])
        if exercise and exercise.status == NOT_RUN:
            exercise.status, exercise.message = FAILED, f"{grade.run}: {grade.run_detail}"
    for exercise in by_number.values():
        if exercise.status == NOT_RUN:
            exercise.message = f"not reached ({grade.run}: {grade.run_detail})"
    if grade.run in ("kernel died", "kernel error"):
        tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
        if tail:
            grade.run_detail += " | kernel log: " + " / ".join(tail)
    for error in grade.cell_errors:
        if "MemoryError" in error or "Unable to allocate" in error:
            grade.run_detail = (grade.run_detail + " | memory limit hit").strip(" |")


def _run_cells(client, run: _Run, deadline: float) -> None:
    by_number = run.by_number
    exercise_at = {e.index: number for number, e in exercise_cells(run.notebook).items()}
    for index, cell in enumerate(run.notebook.cells):
        if cell.cell_type != "code":
            continue
        run.current = index
        _set_remaining(client, deadline)
        client.execute_cell(cell, index)
        number = exercise_at.get(index)
        if number is None:
            error = _error_of(cell)
            if error:
                run.grade.cell_errors.append(f"cell {index}: {error[0]}: {error[1][:200]}")
            continue
        if number not in by_number:
            continue
        evaluation = None
        if run.module_name and number in run.answer_names:
            marker = f"@@grade-{secrets.token_hex(8)}@@"
            probe = nbformat.v4.new_code_cell(
                _evaluation_code(run.module_name, number, run.answer_names[number], marker)
            )
            _set_remaining(client, deadline)
            client.execute_cell(probe, index, store_history=False)
            for line in _outputs_text(probe).splitlines():
                if line.startswith(marker):
                    evaluation = json.loads(line[len(marker) :])
        _record_exercise(by_number[number], cell, evaluation)
    run.current = None


def _set_remaining(client, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        from nbclient.exceptions import CellTimeoutError

        raise CellTimeoutError("time limit reached")
    client.timeout = max(1, math.ceil(remaining))


def _record_exercise(exercise: ExerciseGrade, cell, evaluation: dict | None) -> None:
    error = _error_of(cell)
    if error and error[0] != "IncorrectAnswer":
        exercise.status = FAILED
        exercise.message = f"the exercise cell raised {error[0]}: {error[1][:300]}"
        return
    if evaluation is not None:
        exercise.status = STATUS_OF_CHECK.get(evaluation["status"], FAILED)
        exercise.message = evaluation["message"]
        return
    if error:
        exercise.status, exercise.message = FAILED, error[1]
        return
    printed = _parse_printed_outcome(cell, exercise.number)
    if printed:
        exercise.status, exercise.message = printed
    else:
        exercise.status, exercise.message = FAILED, "no check outcome found in the cell's output"
