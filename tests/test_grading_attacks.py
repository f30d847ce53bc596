"""Attacks on the grader (issue 19, part 5): hostile notebooks get the grade they earned, and
nobody else's grade, file or process is touched.

Every attack is a submission built here from notebook 02 (fast: no training). They are graded
in ONE command-line batch (``python -m course_tools.grading ... --time-limit 60
--tree-memory-limit-gb 4``) by the module-scoped fixture ``graded``, after them a bystander
``untouched`` (the student notebook, 0/10) and last a bystander ``solver`` (the solution, which
must still get 10/10 with no flags). The tests read ``grades.csv``, ``grades.md`` and the batch's
output. An attack cell that is not an exercise cell reports through the exception it raises
(the grader keeps it in ``cell_errors``): a ``...-LEAKED``/``...-ESCAPED`` message if an attempt
succeeded, else a control message, so a test can tell the attack ran.

What is guarded, and how each class is attacked:

1. Patched checks and their dependencies (``patcher``): the notebook replaces
   ``checks.exercise_N.check``/``evaluate``, ``course_utils.checks.Exercise.evaluate``,
   ``numpy.array_equal``, ``math.isclose``, ``builtins.print``, ``importlib.import_module`` and
   ``json.dumps`` (every message its runner sends then claims ``"status": "correct"``), and
   leaves exercise 1 a stub and exercise 2 wrong: neither passes.
2. Always-equal answers (``patcher``): an object of its own class whose ``__eq__`` is always
   True, an ``int`` subclass, an ``ndarray`` subclass, a ``list`` subclass, and an answer that
   empties the check's own argument: all fail.
3. Fake output: the patcher prints "Exercise N (...): correct." for every exercise (no mark);
   ``forger`` writes such lines to every open file descriptor, the grader's channel included:
   that ends its own run ("protocol error") and costs only the exercises after it; so must a
   well-framed message whose JSON header is hostile (``garbler``: nested 100,000 deep).
4. Shipped solutions (``intruder``): ``exec(checks.exercise_1.solution_code)``,
   ``checks.exercise_2.solution()``, importing ``course_utils.exercises._keras_checks`` /
   ``_keras_fit_checks``, the source of the checks module, ``solutions/02_shape_arithmetic.ipynb``,
   everything in memory, and a user namespace that unmounts the learner package to reach the
   real one: no exercise gets a solution; a sweep of every file the sandbox shows finds no
   line of the course's solutions (beyond what the release itself ships) and no
   ``solution_code``; and the learner package written for the sandbox has none either.
5. Reading outside (``intruder``): the grader's home, ``/etc/shadow``, ``/etc/passwd``, the
   repository's README, ``solutions/`` and ``tests/``, a world-readable file in the grader's
   ``/tmp``, the grader's environment (a secret variable) through ``os.environ`` and every
   ``/proc/N/environ``: nothing is readable. The environment again when the grader runs from
   an ordinary account (bubblewrap in a user namespace; graded apart, as user nobody).
6. Writing host settings (``intruder``): ``/proc/sys/kernel/*``, ``/proc/sysrq-trigger``,
   ``sethostname``, ``mount``/``umount``, new files in the repository and in ``course_tools``,
   the learner package shared by all learners, ``/etc/ld.so.cache``, the Python binary, and a
   canary file the test puts in a tmp folder: all refused, the canary intact.
7. Background processes (``intruder``): a double-forked ``setsid`` daemon with a marker in
   its command line, alive at the notebook's end and trying to write outside: no process with
   the marker is left after grading, and it wrote nothing.
8. Planted symlinks and FIFOs (``planter``): the runner's output log replaced by a FIFO, its
   working folder by a symlink to ``/``, a symlink to ``/etc/passwd``, then ``kill -9`` of
   itself: recorded as "process ended", quickly, costing only the exercises after it.
9. Malformed notebooks: a code cell without ``source``, a cell of unknown type, a file that is
   not JSON, JSON that is not a notebook: "unreadable", every exercise "missing", the others
   unaffected. (``tests/test_grading_roster.py::test_a_notebook_with_a_malformed_cell_is_that_learners_error``
   grades the source-less cell in-process; here the same goes through the command line.)
10. Bad names, collisions, formula injection: ``tests/test_grading_roster.py`` covers them
    (``test_symlinks_fifos_and_folders_are_refused``,
    ``test_names_with_control_characters_or_invalid_utf8_are_refused_and_printed_escaped``,
    ``test_a_file_naming_another_learner_in_a_learners_folder_is_refused``,
    ``test_two_submissions_of_one_learner_for_one_notebook_are_both_held_back``,
    ``test_csv_cells_that_would_start_a_formula_are_escaped``,
    ``test_reports_cut_a_flood_and_keep_one_line_per_row``). Added here: a learner folder whose
    name holds ``|`` must not forge cells (a score, ticks) in the Markdown summary table.
11. Huge output: printing ~1 GB, writing 1 GB to file descriptors 1 and 2, and an exception
    with a 50 MB message, graded in this process: its memory stays small and what is stored
    is short.
12. Memory in child processes (``hog``): three forked children each touch 2 GiB under a
    4 GiB limit for the whole tree: at most one holds its 2 GiB at a time (the others are
    killed), and the notebook goes on.
13. Disk fill (``intruder``): 2 GB written into ``/tmp``, ``/tmp/home``, the working folder and
    ``/dev/shm`` stops at the sandbox's 512 MiB.
14. A fork bomb (``bomber``), bounded at 5000 forks of ``sleep`` in case the limits failed:
    ``fork`` fails at the process limit, the grade is recorded within the time limit, and no
    process is left.
15. The grade is right: attackers get no point for an attacked exercise and keep the points
    of those they left solved; ``solver`` 10/10, ``untouched`` 0/10.

Also: values that cross the boundary are data, but a Keras model is *rebuilt* from its file in
the grader: a crafted model file must cost the grader neither unbounded memory nor time past
the time limit (two tests, graded apart from the batch).
"""

from __future__ import annotations

import base64
import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest
from sandbox_tools import require_sandbox

from course_tools.anatomy import exercise_cells
from course_tools.grading import grade_notebook, sandbox_capabilities
from course_tools.grading.settings import FILE_SIZE_LIMIT, GradingSettings

# Starts the grader's sandboxes (bubblewrap kernels) and a whole grading batch.
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
SOLUTION_02 = ROOT / "solutions" / "02_shape_arithmetic.ipynb"
RELEASE_02 = ROOT / "notebooks" / "02_shape_arithmetic.ipynb"
NOTEBOOK = RELEASE_02.name
COURSE_UTILS = ROOT / "course_utils"
BLOCK = re.compile(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION\n?", re.DOTALL)
TIME_LIMIT = 60
TREE_MEMORY_GB = 4
EXERCISES = range(1, 11)

# Unique per run: markers in the command lines of the processes an attack leaves behind, the
# names of files an escape would create, and a secret in the grader's environment.
TOKEN = uuid.uuid4().hex[:12]
DAEMON_MARK = f"grading-attack-daemon-{TOKEN}"
BOMB_MARK = f"grading-attack-forkbomb-{TOKEN}"
SECRET = f"grading-attack-secret-{TOKEN}"
REPO_PROBE = ROOT / f"grading-attack-escape-{TOKEN}.txt"
TOOLS_PROBE = ROOT / "course_tools" / f"grading-attack-escape-{TOKEN}.txt"
DAEMON_PROBE = ROOT / f"grading-attack-daemon-{TOKEN}.txt"
# The grader's Markdown summary: a learner's folder name that tries to forge a row (a
# lookalike slash, since a folder name cannot hold "/").
FORGED_ROW_NAME = "mallory | 10\u221510 | " + "\u2714 | " * 10 + "completed |"


# ---------------------------------------------------------------------------------------------
# Building the attack notebooks
# ---------------------------------------------------------------------------------------------


def _code(template: str, **values) -> str:
    """``template`` (dedented) with each ``__NAME__`` replaced by ``repr(values[NAME])``."""
    text = textwrap.dedent(template).strip("\n")
    for name, value in values.items():
        text = text.replace(f"__{name}__", repr(value))
    assert not (values and re.search(r"__[A-Z][A-Z_]*__", text)), text  # every placeholder filled
    return text


def _read(path):
    return nbformat.read(path, as_version=4)


def _exercise(notebook, number):
    return exercise_cells(notebook)[number].cell


def _set_body(notebook, number, body: str) -> None:
    """Replace the solution block of exercise ``number`` (a solved notebook) by ``body``."""
    cell = _exercise(notebook, number)

    def indented(match):
        pad = match.group(1)
        return "".join(
            f"{pad}{line}\n" if line else "\n"
            for line in textwrap.dedent(body).strip("\n").splitlines()
        )

    cell.source, found = BLOCK.subn(indented, cell.source, count=1)
    assert found == 1, f"exercise {number} has no solution block"


def _set_cell(notebook, number, source: str) -> None:
    """Replace exercise ``number``'s whole cell (heading and check line kept by the caller)."""
    _exercise(notebook, number).source = textwrap.dedent(source).strip("\n")


def _after_setup(notebook, *sources) -> None:
    first = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    for offset, source in enumerate(sources, start=1):
        notebook.cells.insert(first + offset, nbformat.v4.new_code_cell(source))


def _after_exercise(notebook, number, *sources) -> None:
    index = exercise_cells(notebook)[number].index
    for offset, source in enumerate(sources, start=1):
        notebook.cells.insert(index + offset, nbformat.v4.new_code_cell(source))


def _write(notebook, folder: Path, student: str) -> Path:
    path = folder / student / NOTEBOOK
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


# Classes 1-3: patched checks and dependencies, always-equal answers, printed "correct" lines.
PATCHES = _code(
    """
    import builtins, importlib, json, math, types
    import numpy
    import course_utils.checks as course_checks
    from course_utils.checks import CheckResult, Status

    def all_correct(self, answer=None, *args, **kwargs):
        return CheckResult(getattr(self, "label", "Exercise"), Status.CORRECT, "correct.")

    course_checks.Exercise.evaluate = all_correct
    for n in range(1, 11):
        exercise = getattr(checks, f"exercise_{n}")
        type(exercise).evaluate = all_correct
        exercise.evaluate = types.MethodType(all_correct, exercise)
        exercise.check = lambda answer, label=exercise.label: print(f"{label}: correct.")
    numpy.array_equal = lambda *args, **kwargs: True
    math.isclose = lambda *args, **kwargs: True
    real_print = builtins.print
    builtins.print = lambda *args, **kwargs: real_print("Exercise: correct.", file=kwargs.get("file"))
    real_dumps = json.dumps
    json.dumps = lambda obj, *args, **kwargs: real_dumps(
        {**obj, "status": "correct", "passed": True, "points": 1, "score": 10}
        if isinstance(obj, dict) and "op" in obj else obj, *args, **kwargs)
    fake_checks = types.SimpleNamespace(**{f"exercise_{n}": exercise for n in range(1, 11)})
    real_import = importlib.import_module
    importlib.import_module = lambda name, package=None: (
        fake_checks if "exercises" in name else real_import(name, package))

    class AlwaysEqual:
        def __eq__(self, other):
            return True
        def __ne__(self, other):
            return False
        __hash__ = object.__hash__

    class EqualInt(int):
        def __eq__(self, other):
            return True
        def __ne__(self, other):
            return False
        __hash__ = int.__hash__

    class EqualArray(numpy.ndarray):
        def __eq__(self, other):
            return True
        def __ne__(self, other):
            return False

    class EqualList(list):
        def __eq__(self, other):
            return True
        def __ne__(self, other):
            return False
    """
)
FAKE_PRINTS = _code(
    """
    import os, sys
    for n in range(1, 11):
        line = f"Exercise {n} (whatever): correct.\\n"
        print(line, end="")
        sys.__stdout__.write(line)
        os.write(1, line.encode())
    """
)


def _patcher(folder: Path) -> Path:
    notebook = _read(SOLUTION_02)
    _set_cell(notebook, 1, _exercise(_read(RELEASE_02), 1).source)  # the stub, as released
    _set_body(notebook, 2, "return input_size // stride  # wrong: floor")
    _set_body(notebook, 3, "return AlwaysEqual()")
    _set_body(notebook, 4, "return EqualInt(0)")
    _set_body(notebook, 5, "return numpy.zeros(()).view(EqualArray)")
    _set_body(
        notebook,
        6,
        "layers.clear()  # the check's own argument: an empty stack has field 1\nreturn 1",
    )
    _set_body(notebook, 7, "return EqualList()")
    _after_setup(notebook, PATCHES, FAKE_PRINTS)
    return _write(notebook, folder, "patcher")


# Classes 4-7 and 13: shipped solutions, reading outside, writing outside, a daemon, disk fill.
STEAL = _code(
    """
    import os, re

    def steal(text, name):
        '''Define `name` from a definition of it found in `text`; True if a working one was.'''
        for match in re.finditer(rf"def {name}\\(", text):
            prefix = text[text.rfind("\\n", 0, match.start()) + 1 : match.start()]
            pad = len(prefix) if not prefix.strip() else 0  # inside a string: its body is at 0
            lines = text[match.start():].splitlines()
            body = [lines[0]]
            for line in lines[1:]:
                if line.strip() and len(line) - len(line.lstrip()) <= pad:
                    break
                body.append(line.rstrip())
            code = "\\n".join(body)
            if "NotImplementedError" in code:
                continue
            ended = re.sub(r"(['\\x22]{3})[,)\\s]*$", "", code)  # a string held the definition
            for candidate in (code, ended):
                scope = {}
                try:
                    exec(candidate, globals(), scope)
                except Exception:
                    continue
                if callable(scope.get(name)):
                    globals()[name] = scope[name]
                    return True
        return False

    def texts_under(folder):
        for top, folders, files in os.walk(folder):
            for file in files:
                try:
                    with open(os.path.join(top, file), encoding="utf-8", errors="ignore") as handle:
                        yield handle.read()
                except OSError:
                    pass
    """
)
READS = _code(
    """
    import os
    leaks, refused = [], 0
    for path in __TARGETS__:
        try:
            with open(path, "rb") as handle:
                handle.read(4096)
        except OSError:
            refused += 1
        else:
            leaks.append(path)
    try:
        if b"pytest" in open(f"/proc/{__PYTEST_PID__}/cmdline", "rb").read():
            leaks.append("the grader's processes")
    except OSError:
        pass
    if __SECRET__ in repr(dict(os.environ)):
        leaks.append("os.environ")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if __SECRET__.encode() in open(f"/proc/{pid}/environ", "rb").read():
                leaks.append(f"/proc/{pid}/environ")
        except OSError:
            pass
    if leaks:
        raise RuntimeError("READ-LEAKED " + " ".join(leaks)[:200])
    raise RuntimeError(f"READS-REFUSED n={refused}")
    """
)
WRITES = _code(
    """
    import ctypes, os, socket, sys
    escaped, refused = [], []
    libc = ctypes.CDLL(None, use_errno=True)

    def libc_call(function, *args):
        if function(*args) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))

    def attempt(name, action):
        try:
            action()
        except OSError:
            refused.append(name)
        else:
            escaped.append(name)

    # opened for writing and nothing written: success alone is the escape
    attempt("hostname", lambda: open("/proc/sys/kernel/hostname", "a").close())
    attempt("core_pattern", lambda: open("/proc/sys/kernel/core_pattern", "a").close())
    attempt("sysrq", lambda: open("/proc/sysrq-trigger", "a").close())
    attempt("sethostname", lambda: socket.sethostname("pwned"))
    attempt("mount", lambda: libc_call(libc.mount, b"none", b"/tmp/work", b"tmpfs", 0, None))
    attempt("umount", lambda: libc_call(libc.umount2, __COURSE_UTILS__.encode(), 2))
    attempt("repository", lambda: open(__REPO_PROBE__, "x").close())
    attempt("course_tools", lambda: open(__TOOLS_PROBE__, "x").close())
    package = __COURSE_UTILS__  # the learner package, shared by every learner of the batch
    attempt("learner package", lambda: open(os.path.join(package, "__init__.py"), "a").close())
    attempt("checks module", lambda: open(os.path.join(package, "exercises", "nb02.py"), "a").close())
    attempt("ld.so.cache", lambda: open("/etc/ld.so.cache", "ab").close())
    attempt("python", lambda: open(os.path.realpath(sys.executable), "ab").close())
    attempt("canary remove", lambda: os.remove(__CANARY__))
    attempt("canary write", lambda: open(__CANARY__, "w").write("overwritten"))
    attempt("victim folder", lambda: os.rename(__VICTIM__, __VICTIM__ + "-moved"))
    if escaped:
        raise RuntimeError("WRITE-ESCAPED " + " ".join(escaped))
    raise RuntimeError(f"WRITES-REFUSED n={len(refused)}")
    """
)
SWEEP = _code(
    """
    import base64, json, os, sysconfig
    snippets = json.loads(base64.b64decode(__SNIPPETS__))  # encoded: no copy in this cell's history
    hits, scanned = [], 0
    site = sysconfig.get_paths()["purelib"]
    files = [os.path.join(site, f) for f in os.listdir(site)]  # the editable install's finder
    # the course's own folder (wherever it was cloned), the sandbox's package folder, and the rest
    for top in (__REPO__, "/opt", "/tmp", "/etc", os.path.expanduser("~")):
        for folder, folders, names in os.walk(top):
            folders[:] = [f for f in folders if f not in (".venv", "site-packages")]
            files += [os.path.join(folder, name) for name in names]
    for path in files:
        try:
            if os.path.getsize(path) > 4 * 2**20:
                continue
            with open(path, encoding="utf-8", errors="ignore") as handle:
                text = handle.read()
        except OSError:
            continue
        scanned += 1
        hits += [f"{path}: {s[:40]}" for s in snippets if s in text]
    hits += [f"exercise_{n}.solution_code" for n in range(1, 11)
             if hasattr(getattr(checks, f"exercise_{n}"), "solution_code")]
    if hits:
        raise RuntimeError("SWEEP-LEAKED " + "; ".join(hits)[:200])
    raise RuntimeError(f"SWEEP-CLEAN files={scanned}")
    """
)
DISK_FILL = _code(
    """
    import errno, os
    chunk, sizes, reasons = b"\\0" * (8 << 20), [], []
    for folder in ("/tmp", "/tmp/home", os.getcwd(), "/dev/shm"):
        path, written = os.path.join(folder, "fill.bin"), 0
        try:
            with open(path, "wb", buffering=0) as handle:
                while written < 2 * 2**30:
                    written += handle.write(chunk)
            reasons.append("none")
        except OSError as err:
            reasons.append(errno.errorcode.get(err.errno, str(err.errno)))
        try:
            sizes.append(os.path.getsize(path))
            os.remove(path)
        except OSError:
            sizes.append(0)
    raise RuntimeError(f"DISKFILL max={max(sizes)} sizes={sizes} errors={','.join(reasons)}")
    """
)
DAEMON_START = _code(
    """
    import os, sys, time
    daemon = '''
    import time
    while True:
        for path in TARGETS:
            try:
                open(path, "a").write("the daemon was here\\\\n")
            except OSError:
                pass
        time.sleep(0.5)
    '''.replace("TARGETS", repr([__CANARY__, __DAEMON_PROBE__]))
    first = os.fork()
    if first == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c", daemon, __MARK__])
        finally:
            os._exit(0)
    os.waitpid(first, 0)

    def daemon_pids():
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if __MARK__.encode() in open(f"/proc/{pid}/cmdline", "rb").read():
                    found.append(int(pid))
            except OSError:
                pass
        return found

    deadline = time.monotonic() + 10
    while not daemon_pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    raise RuntimeError(f"DAEMON-STARTED pids={daemon_pids()}")
    """
)
DAEMON_ALIVE = 'raise RuntimeError("DAEMON-ALIVE" if daemon_pids() else "DAEMON-GONE")'


# The intruder's exercise cells 1-7: each defines the stub, then tries one way to a solution
INTRUDER_EXERCISES = {
    1: """
        # Exercise 1: output size of a convolution
        def conv_output_size(input_size, kernel_size, stride, padding):
            raise NotImplementedError("still the stub")

        exec(checks.exercise_1.solution_code)  # the course's own solution, were it shipped

        checks.exercise_1.check(conv_output_size)
    """,
    2: """
        # Exercise 2: output size with padding='same'
        import contextlib, io
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown):
            checks.exercise_2.solution()
        def same_output_size(input_size, stride):
            raise NotImplementedError("still the stub")
        steal(shown.getvalue(), "same_output_size")

        checks.exercise_2.check(same_output_size)
    """,
    3: """
        # Exercise 3: parameters of a Conv2D layer
        import importlib
        def conv2d_param_count(kernel_size, in_channels, filters):
            raise NotImplementedError("still the stub")
        for private in ("_keras_checks", "_keras_fit_checks"):
            try:
                importlib.import_module(f"course_utils.exercises.{private}")
            except ImportError:
                continue
            raise RuntimeError(f"LEAKED: {private} imports")

        checks.exercise_3.check(conv2d_param_count)
    """,
    4: """
        # Exercise 4: parameters of a Dense layer
        import inspect, course_utils
        def dense_param_count(in_features, units):
            raise NotImplementedError("still the stub")
        sources = [open(checks.__file__).read(), inspect.getsource(checks)]
        sources += texts_under(os.path.dirname(course_utils.__file__))
        any(steal(text, "dense_param_count") for text in sources)

        checks.exercise_4.check(dense_param_count)
    """,
    5: """
        # Exercise 5: parameters of a SeparableConv2D layer
        import json, pathlib, course_utils
        def separable_param_count(kernel_size, in_channels, filters):
            raise NotImplementedError("still the stub")
        beside_the_package = pathlib.Path(course_utils.__file__).resolve().parents[1] / "solutions"
        for path in (__SOLUTION__, beside_the_package / "02_shape_arithmetic.ipynb"):
            try:
                cells = json.load(open(path))["cells"]
            except OSError:
                continue
            steal("\\n".join("".join(c["source"]) for c in cells), "separable_param_count")

        checks.exercise_5.check(separable_param_count)
    """,
    6: """
        # Exercise 6: receptive field of a stack of layers
        import gc, sys
        def receptive_field_size(layers):
            raise NotImplementedError("still the stub")
        gc.unfreeze()  # setup_notebook froze the objects alive then: make gc.get_objects() see them
        exercise = checks.exercise_6
        texts = [v for v in [*vars(exercise).values(), *vars(type(exercise)).values()]
                 if isinstance(v, str)]
        texts += [m.__doc__ or "" for m in list(sys.modules.values())]
        texts += [v for d in gc.get_objects() if isinstance(d, dict)
                  for v in d.values() if isinstance(v, str) and "receptive_field_size" in v]
        any(steal(text, "receptive_field_size") for text in texts)

        checks.exercise_6.check(receptive_field_size)
    """,
    7: """
        # Exercise 7: predict model.summary()
        import ctypes, os
        def summary_rows():
            raise NotImplementedError("still the stub")
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # a user namespace of its own, to unmount the learner package
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                libc.unshare(0x10000000 | 0x00020000)  # CLONE_NEWUSER | CLONE_NEWNS
                libc.umount2(__COURSE_UTILS__.encode(), 2)
                text = open(os.path.join(__COURSE_UTILS__, "exercises", "nb02.py")).read()
                data = text.encode()
                while data:
                    data = data[os.write(write, data):]
            finally:
                os._exit(0)
        os.close(write)
        revealed = b""
        while chunk := os.read(read, 2**16):
            revealed += chunk
        os.waitpid(child, 0)
        if __REAL_CHECKS__.encode() in revealed:
            raise RuntimeError("LEAKED: the course's real checks behind the learner package")
        steal(revealed.decode(), "summary_rows")

        checks.exercise_7.check(summary_rows)
    """,
}


def _intruder(folder: Path, context: dict) -> Path:
    notebook = _read(SOLUTION_02)
    course_utils = str(COURSE_UTILS)
    for number, source in INTRUDER_EXERCISES.items():
        filled = _code(source, SOLUTION=str(SOLUTION_02), COURSE_UTILS=course_utils,
                       REAL_CHECKS=context["real_checks_marker"])  # fmt: skip
        _set_cell(notebook, number, filled)
    _after_setup(
        notebook,
        STEAL,
        _code(READS, TARGETS=context["read_targets"], SECRET=SECRET, PYTEST_PID=os.getpid()),
        _code(
            WRITES,
            COURSE_UTILS=course_utils,
            REPO_PROBE=str(REPO_PROBE),
            TOOLS_PROBE=str(TOOLS_PROBE),
            CANARY=str(context["canary"]),
            VICTIM=str(context["victim"]),
        ),
        _code(SWEEP, SNIPPETS=context["snippets"], REPO=str(ROOT)),
        DISK_FILL,
        _code(
            DAEMON_START,
            CANARY=str(context["canary"]),
            DAEMON_PROBE=str(DAEMON_PROBE),
            MARK=DAEMON_MARK,
        ),
    )
    notebook.cells.append(nbformat.v4.new_code_cell(DAEMON_ALIVE))
    return _write(notebook, folder, "intruder")


# Class 3: forged bytes on every descriptor, the grader's channel included.
FORGE = _code(
    """
    import os
    junk = "".join(f"Exercise {n} (whatever): correct.\\n" for n in range(1, 11)).encode()
    for name in os.listdir("/proc/self/fd"):
        try:
            os.write(int(name), junk * 100)
        except OSError:
            pass
    """
)

# Class 3 too: a message framed as the protocol frames them, whose JSON header nests 100,000
# deep, written to every pipe the runner holds (its channel to the grader among them).
GARBLE = _code(
    """
    import os, struct
    header = b"[" * 100_000 + b"]" * 100_000
    message = struct.pack("<Q", len(header)) + header + struct.pack("<Q", 0)
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("pipe:"):
                os.write(int(name), message)
        except OSError:
            pass
    """
)

# Class 8: planted FIFO and symlinks, then the runner kills itself.
PLANT = _code(
    """
    import os
    os.remove("/tmp/notebook-output.log")
    os.mkfifo("/tmp/notebook-output.log")
    os.mkfifo("/tmp/home/fifo")
    os.symlink("/etc/passwd", "/tmp/home/passwd")
    os.rename(os.getcwd(), os.getcwd() + "-old")
    os.symlink("/", os.getcwd().replace("-old", ""))
    os.kill(os.getpid(), 9)
    """
)

# Class 12: three children each touch 2 GiB under a 4 GiB limit for the whole tree.
HOG = _code(
    """
    import os, select, time
    import numpy as np
    read, write = os.pipe()
    children = []
    for index in range(3):
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read)
                block = np.ones(2 * 2**30, dtype=np.uint8)  # every page touched
                os.write(write, bytes([index]))
                time.sleep(60)
            finally:
                os._exit(0)
        children.append(pid)
    os.close(write)
    holding, ended, deadline = set(), {}, time.monotonic() + 40
    while len(holding | set(ended)) < 3 and time.monotonic() < deadline:
        if select.select([read], [], [], 0.2)[0]:
            holding |= {children[i] for i in os.read(read, 16)}
        for pid in children:
            if pid not in ended:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    ended[pid] = status
    alive_and_holding = len(holding - set(ended))
    killed = sum(os.WIFSIGNALED(status) for status in ended.values())
    for pid in children:
        if pid not in ended:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    raise RuntimeError(
        f"TREEMEM holding={alive_and_holding} touched={len(holding)} killed={killed}"
    )
    """
)

# Class 14: a fork bomb, bounded in case the limits failed.
BOMB = _code(
    """
    import os
    forks, stopped = 0, "none"
    try:
        for _ in range(5000):
            pid = os.fork()
            if pid == 0:
                try:
                    os.execv("/usr/bin/sleep", [__MARK__, "300"])
                finally:
                    os._exit(0)
            forks += 1
    except OSError as err:
        stopped = type(err).__name__
    raise RuntimeError(f"FORKBOMB forks={forks} stopped={stopped}")
    """
)


def _solved_with(folder: Path, student: str, *, after_exercise=None, cells=(), append=()) -> Path:
    notebook = _read(SOLUTION_02)
    if after_exercise is not None:
        _after_exercise(notebook, after_exercise, *cells)
    for source in append:
        notebook.cells.append(nbformat.v4.new_code_cell(source))
    return _write(notebook, folder, student)


def _malformed(folder: Path) -> list[Path]:
    paths = []
    release = json.loads(RELEASE_02.read_text(encoding="utf-8"))
    no_source = json.loads(json.dumps(release))
    del next(c for c in no_source["cells"] if c["cell_type"] == "code")["source"]
    unknown = json.loads(json.dumps(release))
    unknown["cells"].insert(1, {"cell_type": "widget", "metadata": {}, "source": "x"})
    for student, data in (
        ("nosource", json.dumps(no_source).encode()),
        ("unknowncell", json.dumps(unknown).encode()),
        ("notjson", b"\x00\xffthis is not a notebook {"),
        ("notanotebook", b"[]"),
        (FORGED_ROW_NAME, b"not a notebook either"),
    ):
        path = folder / student / NOTEBOOK
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        paths.append(path)
    return paths


def _solution_snippets(tmp_path: Path) -> list[str]:
    """Lines of notebook 02's solutions that the release does not ship (so must not be seen)."""
    from course_tools.classroom import write_learner_package
    from course_utils.checks import exercises_in
    from course_utils.exercises import nb02

    package = write_learner_package(tmp_path, solutions_available="after grading")
    shipped = "\n".join(
        p.read_text(encoding="utf-8", errors="ignore") for p in package.rglob("*") if p.is_file()
    )
    lines = {
        line.strip()
        for exercise in exercises_in(nb02)
        for line in exercise.solution_code.splitlines()
        if len(line.strip()) >= 25 and not line.strip().startswith(("#", '"""', "def "))
    }
    snippets = sorted(line for line in lines if line not in shipped)
    assert len(snippets) >= 10, snippets  # the sweep looks for enough to mean something
    return snippets


# ---------------------------------------------------------------------------------------------
# The batch
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def capabilities():
    found = sandbox_capabilities()
    if found["mode"] == "none":
        require_sandbox(found)
    return found


def _marked_processes(mark: str) -> list[str]:
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        line = " ".join(process.info["cmdline"] or [])
        if mark in line:
            found.append(f"{process.info['pid']}: {line[:100]}")
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory, capabilities):
    """Grade every attack, then the bystanders, in one command-line batch."""
    folder = tmp_path_factory.mktemp("submissions")
    outside = tmp_path_factory.mktemp("outside")
    canary = outside / "canary.txt"
    canary.write_text("must survive")
    canary.chmod(0o666)  # world-writable, world-readable: only the sandbox stands in the way
    victim = outside / "victim"
    victim.mkdir()
    (victim / "data.txt").write_text("must survive")
    home = Path.home()
    candidates = [canary, ROOT / "README.md", SOLUTION_02, ROOT / "tests" / "test_grading.py",
                  home / ".bashrc", home / ".profile", home / ".gitconfig",
                  Path("/etc/shadow"), Path("/etc/passwd"), Path("/etc/hostname"),
                  Path("/proc/1/environ")]  # fmt: skip
    real_checks = (COURSE_UTILS / "exercises" / "nb02.py").read_text()
    marker = "def _check_conv_output_size("
    assert marker in real_checks
    context = {
        "canary": canary,
        "victim": victim,
        "read_targets": [str(p) for p in candidates if p.is_file()],
        "snippets": base64.b64encode(
            json.dumps(_solution_snippets(tmp_path_factory.mktemp("package"))).encode()
        ).decode(),
        "real_checks_marker": marker,
    }
    attackers = [
        _patcher(folder),
        _intruder(folder, context),
        _solved_with(folder, "forger", after_exercise=2, cells=[FAKE_PRINTS, FORGE]),
        _solved_with(folder, "garbler", after_exercise=2, cells=[GARBLE]),
        _solved_with(folder, "planter", after_exercise=2, cells=[PLANT]),
        _solved_with(folder, "hog", after_exercise=2, cells=[HOG]),
        _solved_with(folder, "bomber", append=[_code(BOMB, MARK=BOMB_MARK)]),
        *_malformed(folder),
    ]
    untouched = folder / "untouched" / NOTEBOOK
    untouched.parent.mkdir()
    untouched.write_bytes(RELEASE_02.read_bytes())
    solver = folder / "solver" / NOTEBOOK
    solver.parent.mkdir()
    solver.write_bytes(SOLUTION_02.read_bytes())
    out = tmp_path_factory.mktemp("report")
    hostname = socket.gethostname()
    submissions = [*attackers, untouched, solver]  # the bystanders last: after every attack
    command = [sys.executable, "-m", "course_tools.grading", *map(str, submissions), "--out", str(out),
               "--time-limit", str(TIME_LIMIT), "--tree-memory-limit-gb", str(TREE_MEMORY_GB)]  # fmt: skip
    environment = {**os.environ, "COURSE_GRADER_SECRET": SECRET}  # what no notebook may read
    try:
        result = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=1200, env=environment
        )
        leftovers = {"daemon": _marked_processes(DAEMON_MARK), "bomb": _marked_processes(BOMB_MARK)}
        escaped = [p for p in (REPO_PROBE, TOOLS_PROBE, DAEMON_PROBE) if p.exists()]
    finally:
        for probe in (REPO_PROBE, TOOLS_PROBE, DAEMON_PROBE):
            probe.unlink(missing_ok=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    seconds = {
        m["student"]: float(m["seconds"])
        for m in re.finditer(
            r"^  (?P<student>.+): \d+/\d+, .+ in (?P<seconds>\d+) s$", result.stdout, re.M
        )
    }
    order = re.findall(
        r"^grading .*/([^/]+)/" + re.escape(NOTEBOOK) + " against", result.stdout, re.M
    )
    return {
        "rows": rows,
        "markdown": (out / "grades.md").read_text(encoding="utf-8"),
        "stdout": result.stdout,
        "seconds": seconds,
        "order": order,
        "leftovers": leftovers,
        "escaped": escaped,
        "canary": canary,
        "victim": victim,
        "hostname_before": hostname,
        "read_targets": context["read_targets"],
    }


def _rows(graded, student) -> dict[int, dict]:
    found = {
        int(r["exercise"]): r for r in graded["rows"] if r["student"] == student and r["exercise"]
    }
    assert found, f"no rows for {student!r}:\n{graded['stdout'][-3000:]}"
    return found


def _status(graded, student) -> dict[int, str]:
    return {n: r["status"] for n, r in _rows(graded, student).items()}


def _errors(graded, student) -> str:
    return next(iter(_rows(graded, student).values()))["cell_errors"]


def _report(errors: str, tag: str) -> str:
    """The message of the attack cell that reported ``tag`` (up to the next cell's)."""
    match = re.search(rf"\b{tag}\b[^;]*", errors)
    assert match, f"no {tag} report, so the attack cell did not run as planned: {errors}"
    return match.group(0)


# ---------------------------------------------------------------------------------------------
# 1-3: patched checks, always-equal answers, fake output
# ---------------------------------------------------------------------------------------------


def test_patched_checks_and_their_dependencies_grant_nothing(graded):
    status = _status(graded, "patcher")
    assert status[1] == "not attempted", _rows(graded, "patcher")[1]
    assert status[2] == "failed" and "expected value" in _rows(graded, "patcher")[2]["message"]
    row = _rows(graded, "patcher")[1]
    # every message the runner sent carried "status": "correct" (json.dumps): the run went on
    assert row["run"] == "completed" and not row["cell_errors"], row


@pytest.mark.parametrize(
    "exercise, kind",
    [(3, "an object whose __eq__ is always True"), (4, "an int subclass"),
     (5, "an ndarray subclass"), (6, "an answer that empties the check's argument"),
     (7, "a list subclass")],
)  # fmt: skip
def test_always_equal_answers_fail(graded, exercise, kind):
    row = _rows(graded, "patcher")[exercise]
    assert row["status"] == "failed", (kind, row)


def test_forged_protocol_bytes_end_only_the_forgers_run(graded):
    rows = _rows(graded, "forger")
    assert rows[1]["run"] == "protocol error", rows[1]
    assert [rows[n]["status"] for n in (1, 2)] == ["passed", "passed"]  # graded before the forgery
    assert {rows[n]["status"] for n in range(3, 11)} == {"not run"}
    assert graded["seconds"]["forger"] < TIME_LIMIT


def test_a_hostile_message_header_is_the_learners_protocol_error_not_a_grader_error(graded):
    rows = _rows(graded, "garbler")
    assert [rows[n]["status"] for n in (1, 2)] == ["passed", "passed"]
    assert {rows[n]["status"] for n in range(3, 11)} == {"not run"}
    assert rows[1]["run"] == "protocol error", (rows[1]["run"], rows[1]["run_detail"])


# ---------------------------------------------------------------------------------------------
# 4-7: shipped solutions, reading and writing outside, background processes
# ---------------------------------------------------------------------------------------------


def test_no_avenue_to_the_course_solutions_yields_one(graded):
    rows = _rows(graded, "intruder")
    assert rows[1]["status"] == "failed", rows[1]
    message = rows[1]["message"]
    assert "solution_code is not part of this classroom release" in message, message
    for number in range(2, 8):  # each cell defined its stub and tried to replace it
        assert rows[number]["status"] == "not attempted", rows[number]
    assert "LEAKED" not in " ".join(r["message"] for r in rows.values())


def test_no_solution_text_is_visible_in_the_sandbox(graded):
    errors = _errors(graded, "intruder")
    assert "SWEEP-LEAKED" not in errors, errors
    scanned = int(re.search(r"files=(\d+)", _report(errors, "SWEEP-CLEAN")).group(1))
    assert scanned >= 50  # course_utils and course_tools at least


def test_the_learner_package_has_no_solution_code(tmp_path):
    import importlib.util

    from course_tools.classroom import write_learner_package
    from course_utils.exercises._withheld import withheld_exercises_in

    package = write_learner_package(tmp_path, solutions_available="after grading")
    assert not (package / "exercises" / "_keras_checks.py").exists()
    assert not (package / "exercises" / "_keras_fit_checks.py").exists()
    spec = importlib.util.spec_from_file_location("learner_nb02", package / "exercises" / "nb02.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    exercises = withheld_exercises_in(module)
    assert [e.number for e in exercises] == list(EXERCISES)
    assert not any(hasattr(e, "solution_code") for e in exercises)


def test_host_files_and_the_graders_environment_are_unreadable(graded):
    errors = _errors(graded, "intruder")
    assert "READ-LEAKED" not in errors, errors
    assert _report(errors, "READS-REFUSED") == f"READS-REFUSED n={len(graded['read_targets'])}"
    assert len(graded["read_targets"]) >= 6, graded["read_targets"]


ENVIRONMENTS = _code(
    """
    import os
    readable, leaks = 0, []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            text = open(f"/proc/{pid}/environ", "rb").read()
        except OSError:
            continue
        readable += 1
        if __SECRET__.encode() in text:
            leaks.append(f"/proc/{pid}/environ")
    if leaks:
        raise RuntimeError(f"ENV-LEAKED {leaks}")
    raise RuntimeError(f"ENV-REFUSED readable={readable}")
    """
)


def test_the_graders_environment_is_unreadable_when_grading_from_an_ordinary_account():
    """The batch above runs as root (the notebook as nobody); an instructor grades from an
    ordinary account: bubblewrap in a user namespace, the notebook as that account inside."""
    prefix = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("needs runuser to grade as an ordinary user")
        prefix = [shutil.which("runuser"), "-u", "nobody", "--"]
    folder = Path(tempfile.mkdtemp(prefix="grading-attack-account-"))  # that user reads it
    try:
        notebook = _read(SOLUTION_02)
        _after_setup(notebook, _code(ENVIRONMENTS, SECRET=SECRET))
        path = _write(notebook, folder, "reader")
        out, home = folder / "out", folder / "home"
        for made in (out, home):
            made.mkdir()
        for entry in [folder, *folder.rglob("*")]:
            entry.chmod(0o777 if entry.is_dir() else 0o644)
        environment = {**os.environ, "COURSE_GRADER_SECRET": SECRET, "HOME": str(home),
                       "MPLCONFIGDIR": str(home / "matplotlib")}  # fmt: skip
        result = subprocess.run(
            [*prefix, sys.executable, "-m", "course_tools.grading", str(path), "--out", str(out),
             "--time-limit", str(TIME_LIMIT)],
            cwd=ROOT, capture_output=True, text=True, timeout=600, env=environment,
        )  # fmt: skip
        if "in a user namespace" not in result.stdout:
            pytest.skip(f"no user-namespace sandbox here: {result.stderr[-300:]}")
        with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
            errors = next(csv.DictReader(handle))["cell_errors"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert "ENV-LEAKED" not in errors, errors
    assert int(re.search(r"readable=(\d+)", _report(errors, "ENV-REFUSED")).group(1)) >= 1


def test_host_settings_repository_and_canary_cannot_be_written(graded):
    errors = _errors(graded, "intruder")
    assert "WRITE-ESCAPED" not in errors, errors
    assert _report(errors, "WRITES-REFUSED") == "WRITES-REFUSED n=15"
    assert graded["canary"].read_text() == "must survive"
    assert (graded["victim"] / "data.txt").read_text() == "must survive"
    assert not graded["escaped"], graded["escaped"]
    assert socket.gethostname() == graded["hostname_before"]


def test_a_background_daemon_is_gone_after_grading_and_wrote_nothing(graded):
    errors = _errors(graded, "intruder")
    assert re.search(r"DAEMON-STARTED pids=\[\d+", errors), errors
    assert "DAEMON-ALIVE" in errors, errors  # it outlived every cell of the notebook
    assert not graded["leftovers"]["daemon"], graded["leftovers"]
    assert graded["canary"].read_text() == "must survive"
    assert DAEMON_PROBE not in graded["escaped"]


# ---------------------------------------------------------------------------------------------
# 8-10: planted symlinks and FIFOs, malformed notebooks, names
# ---------------------------------------------------------------------------------------------


def test_planted_fifo_and_symlinks_then_kill_9_end_only_that_run_quickly(graded):
    rows = _rows(graded, "planter")
    assert rows[1]["run"] == "process ended", rows[1]
    assert [rows[n]["status"] for n in (1, 2)] == ["passed", "passed"]
    assert {rows[n]["status"] for n in range(3, 11)} == {"not run"}
    assert graded["seconds"]["planter"] < TIME_LIMIT / 2


@pytest.mark.parametrize("student", ["nosource", "unknowncell", "notjson", "notanotebook"])
def test_an_unreadable_notebook_is_that_learners_error_only(graded, student):
    rows = _rows(graded, student)
    assert {r["status"] for r in rows.values()} == {"missing"}, rows[1]
    assert rows[1]["run"] == "unreadable" and "not a readable notebook" in rows[1]["run_detail"]
    assert sum(int(r["points"]) for r in rows.values()) == 0


def test_a_learner_name_cannot_forge_cells_in_the_markdown_summary(graded):
    lines = graded["markdown"].splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| student | score |"))
    end = next((i for i in range(header, len(lines)) if not lines[i].startswith("|")), len(lines))
    table = lines[header:end]

    def cells(line):
        return re.split(r"(?<!\\)\|", line.strip())[1:-1]

    width = len(cells(table[0]))
    forged = next(line for line in table if line.startswith("| mallory"))
    assert len(cells(forged)) == width, forged
    assert cells(forged)[1].strip() == "0/10", forged


# ---------------------------------------------------------------------------------------------
# 11-14: huge output, memory of a process tree, disk fill, fork bomb
# ---------------------------------------------------------------------------------------------


class _PeakRSS:
    """This process's resident memory: before, at its peak (sampled), and after."""

    def __init__(self) -> None:
        self.process, self.peak, self._stop = psutil.Process(), 0, threading.Event()

    def __enter__(self):
        self.before = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.01)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.after = self.process.memory_info().rss
        self.peak = max(self.peak, self.after)


FLOOD = _code(
    """
    import errno, os, sys
    line = ("flood " * 170 + "\\n") * 1024  # 1 MiB
    for _ in range(1024):
        print(line, end="")
        sys.stderr.write(line)
    written, reasons = [0, 0], []
    for index, fd in enumerate((1, 2)):
        try:
            for _ in range(1024):
                written[index] += os.write(fd, b"x" * 2**20)
            reasons.append("none")
        except OSError as err:
            reasons.append(errno.errorcode.get(err.errno, str(err.errno)))
    os.ftruncate(1, 0)  # the log shares /tmp with what the runner needs later
    raise RuntimeError(f"FLOOD fd1={written[0]} fd2={written[1]} errors={','.join(reasons)}")
    """
)


def test_huge_output_keeps_the_grader_small_and_its_messages_short(tmp_path, capabilities):
    notebook = _read(SOLUTION_02)
    del notebook.cells[exercise_cells(notebook)[2].index + 1 :]  # exercises 1 and 2 only
    _after_setup(notebook, FLOOD, 'raise RuntimeError("HUGE " + "x" * 50_000_000)')
    path = _write(notebook, tmp_path, "flooder")
    import keras  # noqa: F401 - the grader imports Keras for every submission: not the flood's cost

    with _PeakRSS() as memory:
        grade = grade_notebook(
            path, settings=GradingSettings(time_limit=120), capabilities=capabilities
        )
    assert (memory.peak - memory.before) < 300 * 2**20, (memory.before, memory.peak)
    assert (memory.after - memory.before) < 300 * 2**20, (memory.before, memory.after)
    assert grade.run == "completed", (grade.run, grade.run_detail)
    flood = _report("; ".join(grade.cell_errors), "FLOOD")
    fd1, fd2 = (int(n) for n in re.findall(r"fd\d=(\d+)", flood))
    assert fd1 + fd2 <= FILE_SIZE_LIMIT + 2**20, flood  # stopped by the size of /tmp
    stored = [grade.run_detail, *grade.cell_errors, *(e.message for e in grade.exercises)]
    assert max(map(len, stored)) <= 1000, max(stored, key=len)[:200]
    assert [e.status for e in grade.exercises if e.number in (1, 2)] == ["passed", "passed"]


def test_memory_of_child_processes_is_capped_for_the_whole_tree(graded):
    rows = _rows(graded, "hog")
    assert [rows[n]["status"] for n in (1, 2)] == ["passed", "passed"]  # graded before
    if rows[1]["run"] == "memory limit":  # the kernel chose the runner itself: also contained
        return
    assert rows[1]["run"] == "completed", rows[1]
    report = _report(rows[1]["cell_errors"], "TREEMEM")
    counts = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", report)}
    assert counts["holding"] <= 1, report  # two children holding 2 GiB would be over 4 GiB
    assert counts["touched"] >= 1 and counts["killed"] >= 1, report
    assert {r["status"] for r in rows.values()} == {"passed"}  # the notebook went on


def test_disk_fill_stops_at_the_sandboxs_size(graded):
    report = _report(_errors(graded, "intruder"), "DISKFILL")
    largest = int(re.search(r"max=(\d+)", report).group(1))
    assert 256 * 2**20 < largest <= FILE_SIZE_LIMIT + 2**20, report
    errors = re.search(r"errors=(\S+)", report).group(1).split(",")
    assert set(errors) <= {"ENOSPC", "EFBIG", "EDQUOT", "EACCES", "EROFS"}, report


def test_a_fork_bomb_hits_the_process_limit_and_leaves_nothing_behind(graded):
    rows = _rows(graded, "bomber")
    report = _report(rows[1]["cell_errors"], "FORKBOMB")
    forks = int(re.search(r"forks=(\d+)", report).group(1))
    assert 0 < forks < 5000 and "stopped=BlockingIOError" in report, report
    assert rows[1]["run"] == "completed" and {r["status"] for r in rows.values()} == {"passed"}
    assert graded["seconds"]["bomber"] < TIME_LIMIT
    assert not graded["leftovers"]["bomb"], graded["leftovers"]


# ---------------------------------------------------------------------------------------------
# 15: the grade is right, and the bystanders are untouched
# ---------------------------------------------------------------------------------------------

EXPECTED = {  # student: (exercises passed, run)
    "patcher": ({8, 9, 10}, "completed"),
    "intruder": ({8, 9, 10}, "completed"),
    "forger": ({1, 2}, "protocol error"),
    "planter": ({1, 2}, "process ended"),
    "bomber": (set(EXERCISES), "completed"),
    "untouched": (set(), "completed"),
    "solver": (set(EXERCISES), "completed"),
}


@pytest.mark.parametrize("student", list(EXPECTED))
def test_each_learner_gets_exactly_the_points_earned(graded, student):
    passed, run = EXPECTED[student]
    rows = _rows(graded, student)
    assert {n for n, r in rows.items() if r["status"] == "passed"} == passed, {
        n: r["status"] for n, r in rows.items()
    }
    assert sum(int(r["points"]) for r in rows.values()) == len(passed)
    assert rows[1]["run"] == run, (rows[1]["run"], rows[1]["run_detail"])


def test_bystanders_graded_after_every_attack_are_untouched(graded):
    assert graded["order"][-2:] == ["untouched", "solver"], graded["order"]
    solver = _rows(graded, "solver")
    assert all(
        not r["exercise_flags"] and not r["notebook_flags"] and not r["cell_errors"]
        for r in solver.values()
    )
    assert all(r["message"].startswith(f"Exercise {n} (") for n, r in solver.items())
    untouched = _rows(graded, "untouched")
    assert {r["status"] for r in untouched.values()} == {"not attempted"}
    assert not any(r["cell_errors"] or r["notebook_flags"] for r in untouched.values())
    assert (
        "| solver | 10/10 |" in graded["markdown"] and "| untouched | 0/10 |" in graded["markdown"]
    )


# ---------------------------------------------------------------------------------------------
# A Keras model crosses as a file and is rebuilt in the grader: crafted files
# ---------------------------------------------------------------------------------------------

# The learner's model is a real Keras model whose own ``save`` writes a crafted file (the
# encoder saves a returned model with ``model.save``): ``CRAFT`` rewrites its config.
CRAFTED_EXERCISE_8 = """
# Exercise 8: a stack that sees far enough, within a budget
def design_stack():
    \"\"\"Convolutions and pooling on 64x64x3 images: receptive field >= 30, at most 12,000 parameters.\"\"\"
    import json, zipfile
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(4, name="first")])

    def crafted_save(path, *args, **kwargs):
        keras.Model.save(model, path + ".real.keras")
        real, out = zipfile.ZipFile(path + ".real.keras"), zipfile.ZipFile(path, "w")
        with real, out:
            for name in real.namelist():
                data = real.read(name)
                if name == "config.json":
                    config = json.loads(data)
                    CRAFT
                    data = json.dumps(config).encode()
                out.writestr(name, data)

    model.save = crafted_save
    return model

checks.exercise_8.check(design_stack)
"""
WIDE = """layers = config["config"]["layers"]
                    layers[0]["config"]["batch_shape"] = [None, WIDTH]
                    layers[1]["config"]["units"] = WIDTH
                    layers[1]["build_config"]["input_shape"] = [None, WIDTH]
                    config["config"]["build_input_shape"] = [None, WIDTH]
                    config["build_config"]["input_shape"] = [None, WIDTH]"""
DEEP = """layers = config["config"]["layers"]
                    for index in range(DEPTH):
                        copy = json.loads(json.dumps(layers[1]))
                        copy["config"]["name"] = f"deep_{index}"
                        layers.append(copy)"""


def _crafted_notebook(folder: Path, craft: str) -> Path:
    notebook = _read(SOLUTION_02)
    exercise = exercise_cells(notebook)[8]
    setup = next(c for c in notebook.cells if c.cell_type == "code")
    notebook.cells = [setup, exercise.cell]
    exercise.cell.source = CRAFTED_EXERCISE_8.strip("\n").replace("CRAFT", craft)
    return _write(notebook, folder, "crafter")


def _message_for_the_model_keras_saves():
    """The check's message for the model itself (a Dense(4) on 4 inputs), as the grader sees it:
    a crafted file that reached the grader makes the check say something else."""
    import keras

    from course_tools.grading import wire
    from course_utils.exercises import nb02

    def design_stack():
        return keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(4, name="first")])

    return nb02.exercise_8.evaluate(wire.round_trip(design_stack)).message


def test_a_crafted_model_file_cannot_blow_up_the_graders_memory(tmp_path, capabilities):
    # 11 KB of file declaring one Dense kernel of 8192 x 8192 float32: 256 MiB, and more while
    # Keras initialises it; the same file can declare any size
    path = _crafted_notebook(tmp_path, WIDE.replace("WIDTH", "8192"))
    script = textwrap.dedent(f"""
        import json, sys
        import keras  # the checks use it: part of the grader's baseline
        from course_tools.grading import grade_notebook
        from course_tools.grading.settings import GradingSettings

        def status(key):
            line = next(l for l in open("/proc/self/status") if l.startswith(key))
            return int(line.split()[1]) * 1024

        open("/proc/self/clear_refs", "w").write("5")  # VmHWM from here on
        before = status("VmRSS:")
        grade = grade_notebook({str(path)!r}, settings=GradingSettings(time_limit=60),
                               capabilities={capabilities!r})
        print(json.dumps({{"growth": status("VmHWM:") - before, "run": grade.run,
                          "messages": [e.message for e in grade.exercises if e.number == 8]}}))
    """)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["messages"] != [_message_for_the_model_keras_saves()], (
        found
    )  # the crafted file arrived
    assert found["growth"] < 300 * 2**20, (
        f"the grader grew by {found['growth'] / 2**20:.0f} MiB: {found}"
    )


def test_a_slow_to_rebuild_model_cannot_stretch_a_grade_past_its_time_limit(tmp_path, capabilities):
    # a Sequential of 500 Dense(4) layers: 17 KB, instant to write, about 30 s for Keras to
    # rebuild in the grader (quadratic in the number of layers: 300 take 11 s); the notebook's
    # cells take 5-8 s of the 15
    path = _crafted_notebook(tmp_path, DEEP.replace("DEPTH", "500"))
    limit = 15
    grade = grade_notebook(
        path, settings=GradingSettings(time_limit=limit), capabilities=capabilities
    )
    message = next(e.message for e in grade.exercises if e.number == 8)
    assert message != _message_for_the_model_keras_saves(), message  # the crafted file arrived
    assert grade.seconds < limit + 8, (
        f"graded in {grade.seconds:.0f} s with a time limit of {limit} s"
    )


STALLER = '''import json, os, struct, time
text = json.dumps({"op": "cell_done", "error": None, "output": ""}).encode()
forged = struct.pack("<Q", len(text)) + text + struct.pack("<Q", 0)
for name in os.listdir("/proc/self/fd"):  # a reply for this cell, ahead of the real one
    try:
        os.write(int(name), forged)
    except OSError:
        pass
time.sleep(3)  # the grader now fills the pipe with the next cell ...
for name in os.listdir("/proc/self/fd"):  # ... of which a few KB are read, making room
    try:
        os.set_blocking(int(name), False)
        os.read(int(name), 8192)
    except OSError:
        pass
time.sleep(600)  # and the rest never'''


def test_a_runner_that_stops_reading_cannot_block_the_graders_writes(tmp_path, capabilities):
    notebook = _read(SOLUTION_02)
    # the next cell is far larger than a pipe's buffer: writing it blocks if nobody reads
    _after_setup(notebook, STALLER, "padding = 1  # " + "#" * 2_000_000)
    path = _write(notebook, tmp_path, "staller")
    started = time.monotonic()
    # 15 s: the set-up cell (Keras imported) takes a few, the staller's pause 3 more
    grade = grade_notebook(path, settings=GradingSettings(time_limit=15), capabilities=capabilities)
    assert grade.run == "timeout", (grade.run, grade.run_detail)
    assert time.monotonic() - started < 60
    assert grade.score == 0
