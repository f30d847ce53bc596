"""Grade submitted student notebooks: run each one in a sandboxed kernel, report every exercise.

Command line (also ``python3 course.py grade``)::

    python -m course_utils.grading SUBMISSION.ipynb [...] [--out grades] [--release PATH]
        [--time-limit 300] [--memory-limit-gb 8]

For each submission the grader

1. finds the released notebook it answers (``notebooks/NN_name.ipynb``, matched by file name:
   ``02_shape_arithmetic.ipynb`` or ``alice_02_shape_arithmetic.ipynb``; or ``--release``);
2. compares it with the release: the check line of every exercise cell and every other code
   cell must be unchanged (whitespace and ``checks.exercise_N.hint()`` / ``.solution()`` lines
   do not count); differences are flagged per exercise and per notebook;
3. copies it into a fresh temporary folder and executes it there, top to bottom, in a fresh
   ``python3`` kernel of the grader's own environment (the submission's kernelspec is ignored),
   continuing after errors, within a time limit for the whole notebook;
4. right after each exercise cell runs, evaluates the learner's function in the kernel with the
   exercise's own ``Exercise.evaluate`` (so an edited or deleted check line does not hide the
   answer), and records passed / failed (with the check's message) / not attempted;
5. writes ``grades.csv`` (one row per student and exercise) and ``grades.md`` (a summary table
   and the details) into ``--out``.

The kernel is confined (see ``_grading_kernel.py``): its working folder and ``HOME`` are the
temporary folder; it gets a minimal environment (no secrets of the grader's shell); its address
space is limited (``RLIMIT_AS``), as is the size of files it writes; on Linux it runs in an
empty network namespace, with every file system read-only except its folder, and in its own
PID namespace, when the system allows it (as root, or through unprivileged user namespaces);
as root the kernel has no capabilities, or runs as ``nobody`` where that user can run this
Python. So it cannot change or delete anything outside its folder, reach the network, or
signal other processes. A submission
that loops, exhausts memory, kills its kernel or breaks a cell costs only its own grade: the
reason is recorded and the grader goes on with the next one. The temporary folder is removed.

This is protection against accidents and careless code, not a security boundary against a
determined attacker (the kernel can still read world-readable files, such as solutions/ if
the grading machine has them: grade on a machine or account without them).
"""

from __future__ import annotations

import argparse
import csv
import difflib
import importlib
import json
import math
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_utils.notebook_tools import EXERCISE_HEADING, NOTEBOOKS_DIR

CHECK_CALL = re.compile(r"^(\w+)\.(exercise_(\d+))\.check\((\w+)\)\s*$", re.MULTILINE)
HELP_CALL = re.compile(r"^#?\s*\w+\.exercise_\d+\.(hint|solution)\(\)\s*$")
WRAPPER = Path(__file__).with_name("_grading_kernel.py")
DEFAULT_TIME_LIMIT = 300.0  # seconds per notebook; the design budget is 60 s
DEFAULT_MEMORY_GB = 8.0  # address space; TensorFlow alone reserves about 3 GB of it
FILE_SIZE_LIMIT = 512 * 2**20  # largest file a submission may write
# Variables a kernel needs; everything else (tokens, credentials, PYTHONPATH) stays behind.
PASSED_ENV = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TF_CPP_MIN_LOG_LEVEL")

PASSED, FAILED, NOT_ATTEMPTED, NOT_RUN, MISSING = (
    "passed", "failed", "not attempted", "not run", "missing",
)  # fmt: skip
_STATUS_OF_CHECK = {"correct": PASSED, "incorrect": FAILED, "not attempted": NOT_ATTEMPTED}


@dataclass
class ExerciseGrade:
    number: int
    title: str
    status: str = NOT_RUN
    message: str = ""
    flags: list[str] = field(default_factory=list)

    @property
    def points(self) -> int:
        return int(self.status == PASSED)


@dataclass
class NotebookGrade:
    student: str
    submission: str
    release: str
    exercises: list[ExerciseGrade] = field(default_factory=list)
    run: str = "not run"  # completed, timeout, kernel died, ...
    run_detail: str = ""
    cell_errors: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # changes outside exercise cells
    seconds: float = 0.0
    sandbox: str = ""

    @property
    def score(self) -> int:
        return sum(e.points for e in self.exercises)


# --------------------------------------------------------------------------- notebook anatomy
def _normalise(source: str) -> str:
    lines = [line for line in source.splitlines() if not HELP_CALL.match(line.strip())]
    return " ".join(" ".join(lines).split())


def exercise_cells(notebook) -> dict[int, tuple[int, nbformat.NotebookNode]]:
    """Exercise number -> (cell index, cell), found exactly as tests/test_notebooks.py does."""
    found = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or not EXERCISE_HEADING.match(cell.source):
            continue
        number = int(re.match(r"#\s*Exercise\s+(\d+)", cell.source, re.IGNORECASE).group(1))
        found.setdefault(number, (index, cell))
    return found


def _check_line(cell) -> str | None:
    match = CHECK_CALL.search(cell.source)
    return _normalise(match.group(0)) if match else None


def compare_with_release(submission, release) -> tuple[dict[int, list[str]], list[str]]:
    """Differences that matter for grading: per exercise number, and for the other code cells."""
    released, submitted = exercise_cells(release), exercise_cells(submission)
    per_exercise: dict[int, list[str]] = {}
    for number, (_, cell) in released.items():
        flags = per_exercise.setdefault(number, [])
        if number not in submitted:
            flags.append("exercise cell deleted")
            continue
        got = submitted[number][1]
        expected_line = _check_line(cell)
        got_line = _check_line(got)
        if got_line is None:
            flags.append("check line removed")
        elif got_line != expected_line:
            flags.append(f"check line changed to `{got_line}`")
        others = [
            line.strip()
            for line in got.source.splitlines()
            if "checks" in line and not CHECK_CALL.match(line.strip())
            and not HELP_CALL.match(line.strip()) and not line.strip().startswith("#")
        ]  # fmt: skip
        if others:
            flags.append(f"exercise cell uses `checks` beyond its check line: `{others[0]}`")
    for number in sorted(set(submitted) - set(released)):
        per_exercise.setdefault(number, []).append("exercise not in the release")

    def plain(notebook):
        exercise_indices = {index for index, _ in exercise_cells(notebook).values()}
        return [
            (index, cell)
            for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and index not in exercise_indices
        ]

    # empty cells and cells of hint() / solution() calls only are nobody's business
    old = [(i, c) for i, c in plain(release) if _normalise(c.source)]
    new = [(i, c) for i, c in plain(submission) if _normalise(c.source)]
    matcher = difflib.SequenceMatcher(
        a=[_normalise(c.source) for _, c in old], b=[_normalise(c.source) for _, c in new],
        autojunk=False,
    )  # fmt: skip
    notebook_flags = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            for index, cell in old[i1:i2]:
                verb = "changed" if tag == "replace" else "deleted"
                notebook_flags.append(f"code cell {index} {verb} ({_first_line(cell.source)})")
        if tag in ("replace", "insert"):
            added = [index for index, _ in new[j1:j2]]
            if tag == "insert" or len(added) > i2 - i1:
                notebook_flags.append(f"code cells added by the learner: {added}")
    return per_exercise, notebook_flags


def _first_line(source: str) -> str:
    line = next((line.strip() for line in source.splitlines() if line.strip()), "empty")
    return line if len(line) <= 60 else line[:57] + "..."


def find_release(submission: Path, release: Path | None = None) -> Path:
    """The released notebook a submission answers (see the module docstring)."""
    if release is not None:
        return Path(release)
    candidates = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    exact = [p for p in candidates if p.name == submission.name]
    if exact:
        return exact[0]
    inside = [p for p in candidates if p.stem in submission.stem]
    if len(inside) == 1:
        return inside[0]
    raise ValueError(
        f"cannot tell which released notebook {submission} answers: its name should contain "
        f"one of {', '.join(p.stem for p in candidates)}; or pass --release notebooks/NN_name.ipynb."
    )


def student_name(submission: Path, release: Path) -> str:
    """The folder name for ``alice/02_x.ipynb``; the rest of the name for ``alice_02_x.ipynb``."""
    if submission.name == release.name:
        return submission.resolve().parent.name
    rest = submission.stem.replace(release.stem, "").strip("_- .")
    return rest or submission.stem


def _exercise_module(release: Path):
    try:
        return importlib.import_module(f"course_utils.exercises.nb{release.stem[:2]}")
    except ImportError:
        return None


# --------------------------------------------------------------------------- the sandbox
_PROBE = """
import errno, json, os, socket, sys
found = {"uid": os.getuid(), "pid1": os.getpid() == 1}
try:
    probe = socket.socket()
    probe.settimeout(3)
    probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere
    found["network"] = "open"
except OSError as err:
    found["network"] = "isolated" if err.errno == errno.ENETUNREACH else "open"
try:
    open(sys.argv[1], "w").close()
    found["files"] = "writable"
except OSError:
    found["files"] = "protected"
with open(sys.argv[2], "w") as handle:
    handle.write("ok")
print(json.dumps(found))
"""


def sandbox_capabilities() -> dict:
    """Probe which confinement works here; return wrapper options and a description.

    Tried in order: namespaces plus user ``nobody`` (as root), namespaces alone, plain limits.
    The first that can run this Python, write in its folder and nothing else, is used.
    """
    import subprocess

    if os.name == "nt":  # no wrapper on Windows: a plain kernel in its own folder
        return {"options": [], "network": False, "files": False, "user": None,
                "processes": False}  # fmt: skip
    attempts = []
    if sys.platform.startswith("linux"):
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            import pwd

            try:
                entry = pwd.getpwnam("nobody")
                attempts.append(["--isolate", f"--user={entry.pw_uid}:{entry.pw_gid}"])
            except KeyError:
                pass
        attempts.append(["--isolate"])
    attempts.append([])
    for options in attempts:
        with tempfile.TemporaryDirectory(prefix="course-grade-probe-") as folder:
            writable = Path(folder) / "work"
            writable.mkdir()
            user = [o for o in options if o.startswith("--user=")]
            if user:
                uid, gid = (int(x) for x in user[0].split("=")[1].split(":"))
                try:
                    for path in (folder, writable):
                        os.chown(path, uid, gid)
                except OSError:  # e.g. inside a user namespace that does not map that user
                    continue
            extra = ["--writable", str(writable)] if "--isolate" in options else []
            command = [sys.executable, str(WRAPPER), *options, *extra, "--", sys.executable,
                       "-c", _PROBE, str(Path(folder) / "outside"), str(writable / "inside")]  # fmt: skip
            try:
                result = subprocess.run(
                    command, capture_output=True, text=True, timeout=60, env=_base_env()
                )
                found = json.loads(result.stdout.strip().splitlines()[-1])
            except (subprocess.TimeoutExpired, IndexError, json.JSONDecodeError):
                continue
            if result.returncode != 0 or "isolation failed" in result.stderr:
                continue
            if "--isolate" in options and found["files"] != "protected":
                continue
        return {
            "options": options,
            "network": found["network"] == "isolated",
            "files": found["files"] == "protected",
            "user": found["uid"],
            "processes": found["pid1"],
        }
    raise RuntimeError("this Python cannot start a grading kernel at all")


def _describe_sandbox(capabilities: dict, memory_bytes: int) -> str:
    parts = [f"address space {memory_bytes / 2**30:.1f} GiB", "own folder and HOME"]
    parts.append("no network" if capabilities["network"] else "network NOT isolated")
    parts.append(
        "rest of the file system read-only"
        if capabilities["files"]
        else "files outside its folder NOT protected"
    )
    if capabilities.get("processes"):
        parts.append("sees only its own processes")
    user = capabilities["user"]
    if user is not None:
        no_caps = user == 0 and "--isolate" in capabilities["options"]
        parts.append(f"uid {user}" + (" (root without capabilities)" if no_caps else ""))
    return ", ".join(parts)


def _kernel_manager_class():
    from jupyter_client.manager import AsyncKernelManager

    class SandboxedKernelManager(AsyncKernelManager):
        """The grader's own python3 kernel, started through the confining wrapper."""

        wrapper_options: list[str] = []

        def format_kernel_cmd(self, extra_arguments=None):
            connection_file = os.path.realpath(self.connection_file)
            kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file]
            if os.name == "nt":
                return kernel
            return [
                sys.executable, str(WRAPPER), *self.wrapper_options,
                "--chown", connection_file, "--", *kernel,
            ]  # fmt: skip

    return SandboxedKernelManager


def _kill_tree(pid: int | None) -> None:
    if not pid:
        return
    import psutil

    try:
        parent = psutil.Process(pid)
        processes = [*parent.children(recursive=True), parent]
    except psutil.Error:
        return
    for process in processes:
        try:
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(processes, timeout=5)


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


def grade_notebook(
    submission,
    release=None,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_gb: float = DEFAULT_MEMORY_GB,
    student: str | None = None,
    capabilities: dict | None = None,
) -> NotebookGrade:
    """Grade one submitted notebook; never raises for anything the submission does."""
    submission = Path(submission)
    release = find_release(submission, release)
    released = nbformat.read(release, as_version=4)
    module = _exercise_module(release)
    titles = {e.number: e.title for e in _module_exercises(module)}
    answer_names = {e.number: e.answer_name for e in _module_exercises(module)}
    for number, (_, cell) in exercise_cells(released).items():
        titles.setdefault(number, cell.source.splitlines()[0].split(":", 1)[-1].strip())
    grade = NotebookGrade(
        student=student or student_name(submission, release),
        submission=str(submission),
        release=release.name,
        exercises=[ExerciseGrade(n, titles[n]) for n in sorted(titles)],
    )
    by_number = {e.number: e for e in grade.exercises}
    capabilities = sandbox_capabilities() if capabilities is None else capabilities
    memory_bytes = int(memory_gb * 2**30)
    grade.sandbox = _describe_sandbox(capabilities, memory_bytes)

    try:
        notebook = nbformat.read(submission, as_version=4)
        if not isinstance(notebook.get("cells"), list):
            raise ValueError("no cells")
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

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="course-grade-") as folder:
        _execute(notebook, submission, Path(folder), grade, by_number, module, answer_names,
                 time_limit, memory_bytes, capabilities)  # fmt: skip
    grade.seconds = time.monotonic() - started
    return grade


def _module_exercises(module):
    if module is None:
        return []
    from course_utils.checks import exercises_in

    return exercises_in(module)


def _execute(notebook, submission, root, grade, by_number, module, answer_names, time_limit,
             memory_bytes, capabilities) -> None:  # fmt: skip
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    work, home, run = root / "work", root / "home", root / "run"
    for folder in (work, home, run, home / "tmp"):
        folder.mkdir()
    shutil.copyfile(submission, work / submission.name)
    user = [o for o in capabilities["options"] if o.startswith("--user=")]
    if user:
        uid, gid = (int(x) for x in user[0].split("=")[1].split(":"))
        for path in [root, *root.rglob("*")]:
            os.chown(path, uid, gid)
    env = _base_env()
    env.update(
        HOME=str(home), TMPDIR=str(home / "tmp"), JUPYTER_RUNTIME_DIR=str(run),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"), IPYTHONDIR=str(home / ".ipython"),
        MPLCONFIGDIR=str(home / ".matplotlib"), XDG_CACHE_HOME=str(home / ".cache"),
        PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1",
    )  # fmt: skip
    for cell in notebook.cells:  # a fresh run: no stored outputs, no tags that skip cells
        cell.metadata.pop("tags", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None

    manager_class = _kernel_manager_class()
    km = manager_class(
        transport="tcp" if os.name == "nt" else "ipc",  # Unix sockets work without a network
        connection_file=str(run / "kernel.json"),
    )
    km.wrapper_options = [
        f"--memory-bytes={memory_bytes}", f"--file-bytes={FILE_SIZE_LIMIT}",
        *capabilities["options"], "--writable", str(root),
    ]  # fmt: skip
    client = NotebookClient(
        notebook, km=km, kernel_name="python3", allow_errors=True, shutdown_kernel="immediate",
        startup_timeout=max(10, int(time_limit)), resources={"metadata": {"path": str(work)}},
        record_timing=False,
    )  # fmt: skip
    deadline = time.monotonic() + time_limit
    exercise_at = {index: number for number, (index, _) in exercise_cells(notebook).items()}
    module_name = module.__name__ if module is not None else None
    log_path = root / "kernel.log"
    state = {"current": None}
    kernel_pid = None
    with open(log_path, "wb") as log:
        try:
            with client.setup_kernel(env=env, stdout=log, stderr=log):
                kernel_pid = km.provisioner.pid
                try:
                    grade.run = "completed"
                    _run_cells(client, notebook, grade, by_number, module_name, answer_names,
                               deadline, state)  # fmt: skip
                finally:  # the kernel and everything it started, before the shutdown
                    _kill_tree(kernel_pid)
        except CellTimeoutError:
            grade.run = "timeout"
            grade.run_detail = (
                f"the time limit of {time_limit:g} s ran out in cell {state['current']}"
            )
        except DeadKernelError:
            grade.run = "kernel died"
            grade.run_detail = (
                f"the kernel died in cell {state['current']} (memory limit "
                f"{memory_bytes / 2**30:.1f} GiB, a crash, or the code ended the process)"
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
    current = state["current"]
    if current is not None and current in exercise_at:
        exercise = by_number.get(exercise_at[current])
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


def _base_env() -> dict:
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def _run_cells(client, notebook, grade, by_number, module_name, answer_names, deadline, state):
    exercise_at = {index: number for number, (index, _) in exercise_cells(notebook).items()}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        state["current"] = index
        _set_remaining(client, deadline)
        client.execute_cell(cell, index)
        number = exercise_at.get(index)
        if number is None:
            error = _error_of(cell)
            if error:
                grade.cell_errors.append(f"cell {index}: {error[0]}: {error[1][:200]}")
            continue
        if number not in by_number:
            continue
        evaluation = None
        if module_name and number in answer_names:
            marker = f"@@grade-{secrets.token_hex(8)}@@"
            probe = nbformat.v4.new_code_cell(
                _evaluation_code(module_name, number, answer_names[number], marker)
            )
            _set_remaining(client, deadline)
            client.execute_cell(probe, index, store_history=False)
            for line in _outputs_text(probe).splitlines():
                if line.startswith(marker):
                    evaluation = json.loads(line[len(marker) :])
        _record_exercise(by_number[number], cell, evaluation)
    state["current"] = None


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
        exercise.status = _STATUS_OF_CHECK.get(evaluation["status"], FAILED)
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


# --------------------------------------------------------------------------- reports
CSV_FIELDS = (
    "student", "notebook", "exercise", "title", "status", "points", "message",
    "exercise_flags", "run", "run_detail", "notebook_flags", "cell_errors", "submission",
)  # fmt: skip


def write_reports(grades: list[NotebookGrade], out_dir) -> tuple[Path, Path]:
    """Write ``grades.csv`` and ``grades.md`` into ``out_dir``; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out_dir / "grades.csv", out_dir / "grades.md"
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for grade in grades:
            for exercise in grade.exercises:
                writer.writerow({
                    "student": grade.student, "notebook": grade.release,
                    "exercise": exercise.number, "title": exercise.title,
                    "status": exercise.status, "points": exercise.points,
                    "message": exercise.message, "exercise_flags": "; ".join(exercise.flags),
                    "run": grade.run, "run_detail": grade.run_detail,
                    "notebook_flags": "; ".join(grade.flags),
                    "cell_errors": "; ".join(grade.cell_errors), "submission": grade.submission,
                })  # fmt: skip
    md_path.write_text(_markdown(grades), encoding="utf-8")
    return csv_path, md_path


_SYMBOL = {PASSED: "✔", FAILED: "✘", NOT_ATTEMPTED: "–", NOT_RUN: "⏹", MISSING: "∅"}


def _markdown(grades: list[NotebookGrade]) -> str:
    lines = ["# Grades", ""]
    lines.append(
        f"{_SYMBOL[PASSED]} passed, {_SYMBOL[FAILED]} failed, {_SYMBOL[NOT_ATTEMPTED]} not "
        f"attempted, {_SYMBOL[NOT_RUN]} not reached, {_SYMBOL[MISSING]} cell missing; "
        "`!` marks an exercise whose check was edited or removed."
    )
    for release in sorted({g.release for g in grades}):
        group = [g for g in grades if g.release == release]
        numbers = sorted({e.number for g in group for e in g.exercises})
        lines += ["", f"## {release}", ""]
        lines.append(
            "| student | score | " + " | ".join(f"Ex {n}" for n in numbers) + " | run | changes |"
        )
        lines.append("|---|---|" + "---|" * len(numbers) + "---|---|")
        for g in sorted(group, key=lambda g: g.student):
            marks = {e.number: _SYMBOL[e.status] + ("!" if e.flags else "") for e in g.exercises}
            changes = len(g.flags) + sum(bool(e.flags) for e in g.exercises)
            lines.append(
                f"| {g.student} | {g.score}/{len(g.exercises)} | "
                + " | ".join(marks.get(n, "") for n in numbers)
                + f" | {g.run} | {changes or ''} |"
            )
    lines += ["", "## Details", ""]
    for g in sorted(grades, key=lambda g: (g.release, g.student)):
        lines.append(f"### {g.student}: {g.release} ({g.score}/{len(g.exercises)})")
        lines.append("")
        lines.append(f"- submission: `{g.submission}`; ran in {g.seconds:.0f} s: {g.run}"
                     + (f" ({g.run_detail})" if g.run_detail else ""))  # fmt: skip
        lines.append(f"- sandbox: {g.sandbox}")
        for flag in g.flags:
            lines.append(f"- changed: {flag}")
        for error in g.cell_errors:
            lines.append(f"- error outside the exercises: {_one_line(error)}")
        for e in g.exercises:
            text = f"- Exercise {e.number} ({e.title}): **{e.status}**"
            if e.status != PASSED and e.message:
                text += f": {_one_line(e.message)}"
            if e.flags:
                text += f" — **check edited**: {'; '.join(e.flags)}"
            lines.append(text)
        lines.append("")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return " ".join(text.split()).replace("|", "\\|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.grading", description=__doc__.split("\n\n")[0],
    )  # fmt: skip
    parser.add_argument("submissions", nargs="+", type=Path, help="submitted .ipynb files")
    parser.add_argument("--out", type=Path, default=Path("grades"), help="report folder")
    parser.add_argument("--release", type=Path, help="the released notebook (default: by name)")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT,
                        help="seconds per notebook (default %(default)g)")  # fmt: skip
    parser.add_argument("--memory-limit-gb", type=float, default=DEFAULT_MEMORY_GB,
                        help="address space per kernel in GiB (default %(default)g)")  # fmt: skip
    parser.add_argument("--base", type=Path, default=Path.cwd(), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # course.py runs this from the course folder; relative paths are the caller's (--base)
    args.submissions = [args.base / p for p in args.submissions]
    args.out = args.base / args.out
    args.release = args.base / args.release if args.release else None
    if args.time_limit <= 0 or args.memory_limit_gb <= 0:
        parser.error("--time-limit and --memory-limit-gb must be positive")
    missing = [str(p) for p in args.submissions if not p.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    try:
        pairs = [(p, find_release(p, args.release)) for p in args.submissions]
    except ValueError as err:
        parser.error(str(err))
    capabilities = sandbox_capabilities()
    grades = []
    for submission, release in pairs:
        print(f"grading {submission} against {release.name} ...", flush=True)
        grade = grade_notebook(submission, release, time_limit=args.time_limit,
                               memory_gb=args.memory_limit_gb, capabilities=capabilities)  # fmt: skip
        print(f"  {grade.student}: {grade.score}/{len(grade.exercises)}, {grade.run} "
              f"in {grade.seconds:.0f} s", flush=True)  # fmt: skip
        grades.append(grade)
    csv_path, md_path = write_reports(grades, args.out)
    print(f"sandbox: {grades[0].sandbox}")
    print(f"wrote {csv_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
