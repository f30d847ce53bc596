"""Run one submission in the sandbox; check each exercise in the grader, right after its cell.

The learner's notebook runs in the sandbox (:mod:`.sandbox`), cell by cell. Right after an
exercise cell, the exercise's check runs here, in the grader's own process, with the course's
own checks (never the copy the learner's notebook imported): it calls the learner's function
through :class:`NotebookFunction`, which sends the arguments into the sandbox as data and
rebuilds the result from data (:mod:`.wire`). Nothing the notebook patches, defines or prints
can change how a check decides.
"""

from __future__ import annotations

import contextlib
import inspect
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_tools.anatomy import exercise_cells, heading_title
from course_tools.grading import wire
from course_tools.grading.release import (
    checks_module_of,
    compare_with_release,
    find_release,
    student_name,
)
from course_tools.grading.results import (
    FAILED,
    MISSING,
    NOT_RUN,
    STATUS_OF_CHECK,
    ExerciseGrade,
    NotebookGrade,
)
from course_tools.grading.roster import printable
from course_tools.grading.sandbox import (
    BWRAP_MISSING,
    Sandbox,
    SandboxStopped,
    describe_sandbox,
    sandbox_capabilities,
)
from course_tools.grading.settings import GradingSettings
from course_utils.checks import exercises_in

__all__ = ["grade_notebook"]


@dataclass
class _Run:
    """One submission being graded: what the helpers below share."""

    notebook: nbformat.NotebookNode
    submission: Path
    grade: NotebookGrade
    exercises: dict  # number -> the course's own Exercise
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
    learner_package=None,
    trusted: bool = False,
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
    learner_package : path-like, optional
        The ``course_utils`` the learner's notebook imports: the classroom release's, without
        checks or solutions (made for this call when omitted; pass one to grade many).
    trusted : bool
        Grade without a sandbox where none can be made. Only for work you trust.

    Raises
    ------
    RuntimeError
        If no sandbox can be made here and ``trusted`` is False.
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
    if capabilities["mode"] == "none" and not trusted:
        raise RuntimeError(capabilities.get("reason") or BWRAP_MISSING)

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

    run = _Run(notebook, submission, grade, {e.number: e for e in exercises}, settings, capabilities)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="course-grade-package-") as folder:
        if learner_package is None:
            learner_package = write_learner_files(Path(folder))
        _execute(run, Path(learner_package))
    grade.seconds = time.monotonic() - started
    return grade


def write_learner_files(folder: Path) -> Path:
    """What a graded notebook may read of the course, written into ``folder``: the classroom
    release's ``course_utils`` (no checks, no solutions) and the data scripts beside it (a
    notebook runs one). Readable by the sandbox's user; returns the package folder."""
    import shutil

    from course_tools.classroom import write_learner_package
    from course_tools.layout import REPOSITORY

    package = write_learner_package(folder, solutions_available="after grading")
    shutil.copytree(REPOSITORY.root / "data_scripts", folder / "data_scripts",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return package


def _fresh_keras() -> None:
    """Import Keras before any time limit runs (an import cut short by the alarm would leave
    TensorFlow half-registered for every later learner), and start each submission from
    Keras's initial state: no seed or models left by the previous learner's checks."""
    import keras
    from keras.src.backend.common import global_state

    keras.backend.clear_session()
    global_state.set_global_attribute("global_random_seed", None)


def _execute(run: _Run, learner_package: Path) -> None:
    grade, settings = run.grade, run.settings
    _fresh_keras()
    for cell in run.notebook.cells:  # a fresh run: stored outputs are not looked at
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    deadline = time.monotonic() + settings.time_limit
    with Sandbox(run.capabilities, settings, learner_package) as sandbox:
        grade.sandbox = describe_sandbox(run.capabilities, settings, sandbox.tree_description)
        try:
            sandbox.start(deadline)
            grade.run = "completed"
            _run_cells(sandbox, run, deadline)
        except SandboxStopped as stop:
            grade.run, grade.run_detail = stop.kind, _cell_detail(stop.detail, run.current)
        except Exception as err:  # noqa: BLE001 - the grader's own failure costs this grade only
            grade.run, grade.run_detail = "grader error", f"{type(err).__name__}: {str(err)[:300]}"
    if sandbox.peak_tree_bytes:
        grade.peak_memory_mb = sandbox.peak_tree_bytes / 2**20
    _finish(run)


def _cell_detail(detail: str, cell: int | None) -> str:
    return f"{detail} (in cell {cell})" if cell is not None else detail


def _finish(run: _Run) -> None:
    """Say why exercises were not graded."""
    grade, by_number = run.grade, run.by_number
    exercise_at = {e.index: number for number, e in exercise_cells(run.notebook).items()}
    if run.current is not None and run.current in exercise_at:
        exercise = by_number.get(exercise_at[run.current])
        if exercise and exercise.status == NOT_RUN:
            exercise.status, exercise.message = FAILED, f"{grade.run}: {grade.run_detail}"
    for exercise in by_number.values():
        if exercise.status == NOT_RUN:
            exercise.message = f"not reached ({grade.run}: {grade.run_detail})"


def _run_cells(sandbox: Sandbox, run: _Run, deadline: float) -> None:
    by_number = run.by_number
    exercise_at = {e.index: number for number, e in exercise_cells(run.notebook).items()}
    for index, cell in enumerate(run.notebook.cells):
        if cell.cell_type != "code":
            continue
        run.current = index
        reply, _ = sandbox.request({"op": "run_cell", "source": str(cell.source)}, deadline=deadline)
        error = _cell_error(reply)
        number = exercise_at.get(index)
        if number is None or number not in by_number:
            if error:
                run.grade.cell_errors.append(printable(f"cell {index}: {error[0]}: {error[1][:200]}"))
            continue
        exercise = run.exercises.get(number)
        if error and error[0] != "IncorrectAnswer":
            by_number[number].status = FAILED
            by_number[number].message = printable(f"the exercise cell raised {error[0]}: {error[1][:300]}")
            continue
        if exercise is None:
            by_number[number].status, by_number[number].message = FAILED, "this exercise has no check"
            continue
        with _time_limit(deadline, run.settings):  # the check's own work counts too
            answer = _answer(sandbox, exercise.answer_name, deadline)
            result = exercise.evaluate(answer)  # the course's check, here: SandboxStopped passes through
        by_number[number].status = STATUS_OF_CHECK.get(result.status.value, FAILED)
        by_number[number].message = result.message
    run.current = None


@contextlib.contextmanager
def _time_limit(deadline: float, settings: GradingSettings):
    """Stop a check that runs past the notebook's time limit (e.g. rebuilding a model whose file
    declares thousands of layers): a SIGALRM raises SandboxStopped in the grader's main thread.
    Elsewhere (another thread, Windows) only the sandbox's replies have a deadline."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def stop(signum, frame):
        raise SandboxStopped("timeout", f"the time limit of {settings.time_limit:g} s ran out "
                                        "while the grader checked an answer")  # fmt: skip

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, max(0.01, deadline - time.monotonic()))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _cell_error(reply: dict):
    error = reply.get("error")
    if reply.get("op") != "cell_done" or not (error is None or _is_pair_of_text(error)):
        raise SandboxStopped("protocol error", "the notebook's process sent a malformed cell report")
    return error


def _is_pair_of_text(value) -> bool:
    return type(value) is list and len(value) == 2 and all(type(v) is str for v in value)


def _answer(sandbox: Sandbox, name: str, deadline: float):
    """What the learner's notebook defines under ``name``, as the check is to see it."""
    reply, blobs = sandbox.request({"op": "describe", "name": name}, deadline=deadline)
    kind = reply.get("kind")
    if kind == "missing":
        return None
    if kind == "function":
        return NotebookFunction(sandbox, name, reply.get("parameters"), deadline)
    if kind == "value":
        with tempfile.TemporaryDirectory(dir=sandbox.workdir) as folder:
            try:
                return wire.Decoder(blobs, folder, tensors=True).decode(reply.get("value"))
            except wire.WireError as err:
                return wire.Unsendable("value", str(err))
    raise SandboxStopped("protocol error", "the notebook's process described a name wrongly")


class NotebookFunction:
    """The learner's function as the check sees it: each call crosses into the sandbox as data."""

    def __init__(self, sandbox: Sandbox, name: str, parameters, deadline: float) -> None:
        self.__name__ = self.__qualname__ = name
        self._sandbox, self._deadline = sandbox, deadline
        signature = _signature(parameters)
        if signature is not None:
            self.__signature__ = signature

    def __repr__(self) -> str:
        return f"<function {self.__name__} in the learner's notebook>"

    def __call__(self, *args, **kwargs):
        sandbox = self._sandbox
        with tempfile.TemporaryDirectory(dir=sandbox.workdir) as folder:
            encoder = wire.Encoder(folder)
            tree = encoder.encode_arguments([*args, kwargs])
            header = {"op": "call", "name": self.__name__, "seed": wire.current_seed(), "args": tree}
            reply, blobs = sandbox.request(header, encoder.blobs, deadline=self._deadline)
            try:
                return wire.receive_call(reply, blobs, args, folder)
            except wire.WireError as err:
                raise SandboxStopped("protocol error", f"the notebook's process answered a call wrongly ({err})") from None


def _signature(parameters):
    """The learner's function's parameters (names only), validated; None if they are odd."""
    if type(parameters) is not list or len(parameters) > 50:
        return None
    kinds = {kind.name: kind for kind in inspect._ParameterKind}
    try:
        return inspect.Signature([inspect.Parameter(name, kinds[kind]) for name, kind in parameters])
    except (TypeError, ValueError, KeyError):
        return None
