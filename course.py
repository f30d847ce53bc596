#!/usr/bin/env python3
"""Set up, open, test and maintain the course. Needs Python 3.11, 3.12 or 3.13 and the package index.

    python3 course.py lab        set up (if needed) and open the course in JupyterLab
                                 (--scale 4: four times the data and epochs, a fuller run;
                                 options it does not know, such as --no-browser, go to JupyterLab)
    python3 course.py test       set up (if needed) and run the whole test suite

On Windows, type `py` instead of `python3`. Started by another Python, course.py re-runs itself
under a supported one it finds on the machine, or says how to get one.

Instructors and maintainers also have:

    python3 course.py release --out DIR --solutions-available TEXT
                                          write what learners receive for an assignment: the
                                          student notebooks and course_utils without checks or
                                          solutions
    python3 course.py grade SUBMISSIONS...  run each submission in a sandbox and grade it with
                                          the course's checks (--out grades; needs bubblewrap)
    python3 course.py nbgrader-export     write an nbgrader course folder (--out nbgrader-course)
    python3 course.py benchmark           time every notebook, its memory and throughput

    python3 course.py setup               only set up (add --gpu for an NVIDIA GPU on Linux)
    python3 course.py execute-solutions   re-run solutions/ and store fresh outputs, then
                                          regenerate notebooks/ (optionally name notebooks)
    python3 course.py student-notebooks   regenerate notebooks/ from solutions/
    python3 course.py lock                rewrite requirements.txt from the current .venv, once
                                          the pins resolve on every supported Python
    python3 course.py check-pythons       set up a copy of the course under each other
                                          supported Python found here and run its smoke tests

Set-up makes a virtual environment in .venv/, installs the pinned versions of
requirements.txt and this repository's packages (`course_utils`, `course_tools`) in editable mode. It remembers
what it installed and with which Python, so running it again is quick and changes nothing,
and switching to another Python rebuilds .venv instead of mixing versions.

This file uses the standard library only, because it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / "course-setup.json"
# TensorFlow 2.21 publishes wheels for these; CI proves each one it finds (check-pythons).
SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13))
IS_WINDOWS = os.name == "nt"
# Set when course.py re-runs itself under a supported Python, so it can never loop.
REEXEC_VARIABLE = "COURSE_PY_REEXECUTED"
# What check-pythons runs under each other Python: the unit tests and the first two notebooks.
# Left out: tests that start servers, browsers or whole runs (integration), single slow ones,
# and the tables of learners' answers (test_exercise_answers.py: ~1,000 cases, many training a
# model, about two minutes, and the same on every Python; the checks' own unit tests stay in).
SMOKE_TEST_ARGS = [
    "-m", "not integration and not slow", "--ignore=tests/test_exercise_answers.py",
    "tests", "solutions/01_cnn_basics.ipynb", "solutions/02_shape_arithmetic.ipynb",
]  # fmt: skip
REQUIREMENTS_HEADER = (
    "# Exact versions the course is tested with (Linux x86_64; Python 3.11, 3.12 and 3.13);"
    " course.py installs these.\n"
    "# Regenerate after changing pyproject.toml ranges: python3 course.py lock"
    " (it first checks that the pins resolve on every supported Python).\n"
)


def version_text(version) -> str:
    return ".".join(str(part) for part in version)


def supported_text() -> str:
    names = [version_text(v) for v in SUPPORTED_PYTHONS]
    return ", ".join(names[:-1]) + " or " + names[-1]


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if IS_WINDOWS else "bin/python")


def fail(message: str) -> None:
    print(f"course.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def run(command: list[str], **kwargs) -> None:
    print("+ " + " ".join(str(part) for part in command), flush=True)
    result = subprocess.run([str(part) for part in command], cwd=ROOT, **kwargs)
    if result.returncode != 0:
        fail(f"this step failed with exit code {result.returncode}; see its output above.")


# --- which Python ----------------------------------------------------------------------------

_VERSION_PROBE = "import sys; print(*sys.version_info[:3])"


def probe_python(command: list[str]) -> tuple[int, int, int] | None:
    """The version of the Python that ``command`` starts, or None if it does not start one.

    A name on PATH is not proof: pyenv's shims, for example, exist for every installed
    version but fail for those not selected.
    """
    try:
        result = subprocess.run(
            [*command, "-c", _VERSION_PROBE], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    parts = result.stdout.split()
    if result.returncode != 0 or len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return (int(parts[0]), int(parts[1]), int(parts[2]))


def _pyenv_pythons(major: int, minor: int) -> list[Path]:
    """pyenv's installs of ``major.minor``, newest patch release first."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found = []
    for path in (root / "versions").glob(f"{major}.{minor}.*/bin/python{major}.{minor}"):
        patch = path.parent.parent.name.split(".")[2]
        if patch.isdigit():  # skip pre-releases and free-threaded builds such as 3.13.0t
            found.append((int(patch), path))
    return [path for _, path in sorted(found, reverse=True)]


def python_candidates() -> list[tuple[tuple[int, int] | None, list[str]]]:
    """(expected version or None, command) pairs that may start a supported Python here."""
    candidates: list[tuple[tuple[int, int] | None, list[str]]] = []
    for major, minor in reversed(SUPPORTED_PYTHONS):
        if IS_WINDOWS and shutil.which("py"):
            candidates.append(((major, minor), ["py", f"-{major}.{minor}"]))
        on_path = shutil.which(f"python{major}.{minor}")
        if on_path:
            candidates.append(((major, minor), [on_path]))
        candidates += [((major, minor), [str(path)]) for path in _pyenv_pythons(major, minor)]
    for name in ("python3", "python"):
        on_path = shutil.which(name)
        if on_path:
            candidates.append((None, [on_path]))
    return candidates


def find_supported_pythons() -> dict[tuple[int, int], tuple[list[str], tuple[int, int, int]]]:
    """One working command per supported ``(major, minor)`` found here, with its full version."""
    found: dict[tuple[int, int], tuple[list[str], tuple[int, int, int]]] = {}
    if sys.version_info[:2] in SUPPORTED_PYTHONS:
        found[sys.version_info[:2]] = ([sys.executable], tuple(sys.version_info[:3]))
    for expected, command in python_candidates():
        if expected in found:
            continue
        version = probe_python(command)
        if version is not None and version[:2] in SUPPORTED_PYTHONS and version[:2] not in found:
            found[version[:2]] = (command, version)
    return found


def how_to_get_python() -> str:
    return (
        "Install one, then run course.py with it: from python.org (Windows and macOS; then "
        "`py course.py ...`), `brew install python@3.13` (macOS), your Linux distribution's "
        "package (for example `sudo apt install python3.12 python3.12-venv`), or "
        "`pyenv install 3.13`."
    )


def ensure_supported_python(argv: list[str]) -> None:
    """Return on a supported Python; otherwise re-run course.py under one, or explain."""
    if sys.version_info[:2] in SUPPORTED_PYTHONS:
        os.environ.pop(REEXEC_VARIABLE, None)  # not for the tools this run starts
        return
    here = version_text(sys.version_info[:3])
    if os.environ.get(REEXEC_VARIABLE):
        fail(f"course.py was re-run to get a supported Python, but this is Python {here}.")
    found = find_supported_pythons()
    if not found:
        fail(
            f"the course runs on Python {supported_text()}, but this is Python {here} and "
            f"none of those was found on this machine. {how_to_get_python()}"
        )
    # Prefer the Python .venv was built with, so that it is not rebuilt.
    minor = venv_version()
    if minor not in found:
        minor = max(found)
    command, version = found[minor]
    print(
        f"course.py: this is Python {here}; the course runs on Python {supported_text()}. "
        f"Re-running under {' '.join(command)} (Python {version_text(version)}).",
        file=sys.stderr,
        flush=True,
    )
    full_command = [*command, str(Path(__file__).resolve()), *argv]
    env = {**os.environ, REEXEC_VARIABLE: "1"}
    if IS_WINDOWS:  # os.execv does not hand over the console on Windows
        raise SystemExit(subprocess.call(full_command, env=env))
    os.execve(full_command[0], full_command, env)


# --- set-up ----------------------------------------------------------------------------------


def venv_config() -> dict[str, str]:
    """The keys of .venv/pyvenv.cfg (``version``, ``executable``, ...); empty without a .venv."""
    config = VENV / "pyvenv.cfg"
    if not config.is_file():
        return {}
    pairs = (line.partition("=") for line in config.read_text(errors="replace").splitlines())
    return {key.strip(): value.strip() for key, sep, value in pairs if sep}


def venv_version() -> tuple[int, int] | None:
    """``(major, minor)`` of the Python that .venv was made with, or None without a .venv."""
    config = venv_config()
    match = re.match(r"(\d+)\.(\d+)", config.get("version") or config.get("version_info") or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def setup_fingerprint(gpu: bool) -> dict:
    """What a finished set-up depends on: the pins, the Python version and the GPU option."""
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return {"inputs_sha256": digest.hexdigest(), "python": version_text(sys.version_info[:2]), "gpu": gpu}


def _read_stamp() -> dict | None:
    try:
        stamp = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def venv_made_by_another_python() -> str | None:
    """Why .venv cannot serve this Python, or None when it can (or does not exist yet).

    Another 3.x.y of the same 3.x can share it (the venv keeps using the Python it was made
    with); another minor version cannot, and neither can a venv whose Python was removed.
    """
    if not VENV.exists():
        return None
    here = f"Python {version_text(sys.version_info[:3])} ({os.path.realpath(sys.executable)})"
    built = venv_version()
    if built is not None and built != sys.version_info[:2]:
        return f".venv was made with Python {version_text(built)}; this is {here}"
    if venv_python().exists() and probe_python([str(venv_python())]) is None:
        return ".venv's Python no longer starts (was the Python it was made with removed?)"
    return None


def remove_venv(reason: str) -> None:
    if not (VENV / "pyvenv.cfg").is_file():
        fail(
            f"{reason}, and {VENV} does not look like a virtual environment (no pyvenv.cfg), "
            "so course.py will not delete it. Move or delete it yourself, then run this again."
        )
    print(f"course.py: {reason}: rebuilding .venv for this Python.", flush=True)
    shutil.rmtree(VENV)


# nbgrader, the instructors' classroom route, adds grading menus and server endpoints to JupyterLab;
# the learner's JupyterLab goes without them (an instructor re-enables them with
# `jupyter server extension enable ...` and `jupyter labextension enable @jupyter/nbgrader`).
NBGRADER_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)
NBGRADER_LAB_EXTENSION = "@jupyter/nbgrader"


def hide_instructor_extensions() -> None:
    """Switch nbgrader's JupyterLab parts off in .venv (config files Jupyter reads last)."""
    etc = VENV / "etc" / "jupyter"
    server = etc / "jupyter_server_config.d" / "zz-course-learner-lab.json"
    server.parent.mkdir(parents=True, exist_ok=True)
    disabled = dict.fromkeys(NBGRADER_SERVER_EXTENSIONS, False)
    server.write_text(json.dumps({"ServerApp": {"jpserver_extensions": disabled}}, indent=2))
    page_config = etc / "labconfig" / "page_config.json"
    page_config.parent.mkdir(parents=True, exist_ok=True)
    try:
        settings = json.loads(page_config.read_text()) if page_config.exists() else {}
    except json.JSONDecodeError:
        settings = {}
    settings.setdefault("disabledExtensions", {})[NBGRADER_LAB_EXTENSION] = True
    page_config.write_text(json.dumps(settings, indent=2))


def setup(gpu: bool = False) -> None:
    """Create .venv and install everything, unless the stamp says it is already done."""
    if sys.version_info[:2] not in SUPPORTED_PYTHONS:  # main() re-runs course.py before this
        fail(
            f"the course runs on Python {supported_text()}, but this is Python "
            f"{version_text(sys.version_info[:3])}. {how_to_get_python()}"
        )
    reason = venv_made_by_another_python()
    if reason:
        remove_venv(reason)
    wanted = setup_fingerprint(gpu)
    if STAMP.exists() and venv_python().exists():
        done = {key: value for key, value in (_read_stamp() or {}).items() if key in wanted}
        if done == wanted or (not gpu and done == {**wanted, "gpu": True}):
            print("Set-up is up to date (.venv).", flush=True)
            return
    started = time.perf_counter()
    if not venv_python().exists():
        created = subprocess.run([sys.executable, "-m", "venv", str(VENV)], cwd=ROOT)
        if created.returncode != 0:
            hint = ""
            if sys.platform.startswith("linux"):
                minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
                hint = f" On Debian and Ubuntu, `sudo apt install python{minor}-venv` adds it."
            fail(f"Python could not create the virtual environment .venv (see above).{hint}")
    # The stamp goes first so an interrupted install is redone on the next run.
    STAMP.unlink(missing_ok=True)
    pip = [venv_python(), "-m", "pip", "install", "--disable-pip-version-check"]
    run([*pip, "--quiet", "-r", "requirements.txt"])
    run([*pip, "--quiet", "--no-deps", "--no-build-isolation", "-e", "."])
    if gpu:
        version = _pinned_version("tensorflow")
        run([*pip, f"tensorflow[and-cuda]=={version}"])
    hide_instructor_extensions()
    # The interpreter is recorded for people reading the stamp; the venv keeps using it.
    interpreter = venv_config().get("executable") or os.path.realpath(sys.executable)
    STAMP.write_text(json.dumps({**wanted, "interpreter": interpreter}, indent=2))
    print(f"Set-up finished in {time.perf_counter() - started:.0f} s.", flush=True)


def _pinned_version(package: str) -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.lower().startswith(f"{package}=="):
            return line.split("==", 1)[1].strip()
    fail(f"requirements.txt does not pin {package}.")
    return ""  # unreachable, for type checkers


def course_env() -> dict:
    env = dict(os.environ)
    # TensorFlow's C++ start-up lines are noise for learners and break nbval's output capture.
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def exec_in_venv(args: list[str], prefix: list[str] | None = None, shown: str = "") -> None:
    """Replace this process with the venv's Python (keeps Ctrl-C and exit codes intact)."""
    command = [*(prefix or []), str(venv_python()), *args]
    print("+ " + (shown or " ".join(command)), flush=True)
    os.chdir(ROOT)
    if IS_WINDOWS:  # os.execv does not hand over the console on Windows
        raise SystemExit(subprocess.call(command, env=course_env()))
    os.execve(command[0], command, course_env())


# Runs first inside a new network namespace: bring up its loopback (down at creation), so
# notebook kernels, JupyterLab and the browser can still talk to each other on this machine.
LOOPBACK_UP = """
import fcntl, os, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
request = struct.pack("16sH14s", b"lo", 0, b"")
flags = struct.unpack("16sH14s", fcntl.ioctl(s, 0x8913, request))[1]  # SIOCGIFFLAGS
fcntl.ioctl(s, 0x8914, struct.pack("16sH14s", b"lo", flags | 1, b""))  # SIOCSIFFLAGS: IFF_UP
s.close()
"""
RUN_AFTER_LOOPBACK_UP = LOOPBACK_UP + "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"


TEST_WORKER_MEMORY_GB = 3  # a test worker and the notebook kernel it runs, at their peak
MAX_TEST_WORKERS = 4


def test_workers() -> int:
    """How many pytest-xdist workers ``course.py test`` starts: one per core, at most
    MAX_TEST_WORKERS, and no more than the memory holds (TEST_WORKER_MEMORY_GB each)."""
    cores = os.cpu_count() or 1
    try:
        memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): trust the cores
        memory_gb = cores * TEST_WORKER_MEMORY_GB
    return max(1, min(cores, MAX_TEST_WORKERS, int(memory_gb // TEST_WORKER_MEMORY_GB)))


def worker_args(pytest_args: list[str]) -> list[str]:
    """The xdist arguments ``course.py test`` adds: ``-n N --dist loadfile --no-loadscope-reorder``.

    Most tests and notebooks keep one core busy, so running files side by side shortens the
    suite. ``loadfile`` keeps each file (a notebook's cells, a module's shared fixtures) whole in
    one worker: xdist's default would spread a notebook's cells over workers, each starting a
    kernel of its own. Files are handed out in collection order, which conftest.py sets to the
    longest first; xdist's own order (most tests first) left long files of few tests, such as
    the browser test, to the end, with the other worker idle.

    The caller's own ``-n`` (or ``--numprocesses``) replaces N; ``-n 0``, ``-p no:xdist``, or
    one worker on this machine, runs in one process; the caller's own ``--dist`` is kept as it is.
    """
    args = list(pytest_args)
    if any(a == "no:xdist" or a == "-pno:xdist" for a in args):
        return []
    workers = None
    for index, arg in enumerate(args):
        if arg in ("-n", "--numprocesses") and index + 1 < len(args):
            workers = args[index + 1]
        elif arg.startswith("--numprocesses="):
            workers = arg.split("=", 1)[1]
        elif arg.startswith("-n") and not arg.startswith("--") and len(arg) > 2:
            workers = arg[2:]
    if workers == "0" or (workers is None and test_workers() == 1):
        return []
    chose_dist = any(a == "--dist" or a.startswith("--dist=") for a in args)
    return ([] if workers is not None else ["-n", str(test_workers())]) + (
        [] if chose_dist else ["--dist", "loadfile", "--no-loadscope-reorder"]
    )


def offline_prefix() -> list[str] | None:
    """``unshare`` arguments that cut the test run off the network, or None where impossible.

    On Linux the suite runs in a new network namespace that has only loopback (through an
    unprivileged user namespace, so no root is needed): whatever a notebook, a library or
    TensorFlow's C++ code tries, nothing leaves the machine. Elsewhere, or where user
    namespaces are disabled, the in-process offline guard of the tests still applies.
    Set COURSE_TEST_NETNS=off to run the suite without the namespace.
    """
    if not sys.platform.startswith("linux") or os.environ.get("COURSE_TEST_NETNS") == "off":
        return None
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    # root needs no user namespace for a network namespace; inside one, root could not become
    # another user (the grader's sandbox runs learners' notebooks as nobody)
    prefix = [unshare, "--net", "--"] if os.geteuid() == 0 else [unshare, "--net", "--map-root-user", "--"]
    probe = subprocess.run(
        [*prefix, str(venv_python()), "-c", LOOPBACK_UP], capture_output=True, timeout=60
    )
    return prefix if probe.returncode == 0 else None


def lab_arguments(port: int = 8888, open_browser: bool = True) -> list[str]:
    """The venv Python's arguments that start JupyterLab for the course.

    It listens on 127.0.0.1 only and keeps Jupyter's token authentication (the token is
    printed at start-up). tests/test_lab_server.py starts the server through this function.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        fail(f"--port must be a whole number from 1 to 65535, got {port!r}; e.g. --port 8888.")
    arguments = [
        "-m", "jupyter", "lab",
        "--ServerApp.ip=127.0.0.1",  # reachable from this machine only
        f"--ServerApp.port={port}",
        f"--ServerApp.root_dir={ROOT}",
        "--LabApp.default_url=/lab/tree/notebooks",
    ]  # fmt: skip
    if not open_browser:
        arguments.append("--ServerApp.open_browser=False")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Jupyter refuses to start as root (common in containers) unless told it is intended.
        arguments.append("--ServerApp.allow_root=True")
    return arguments


# --- maintenance -----------------------------------------------------------------------------


def pins_resolve_on(requirements: Path, version: tuple[int, int]) -> str | None:
    """None if every pin of ``requirements`` installs on ``version``, else pip's complaint.

    pip resolves for the oldest patch release of that version (``3.11.0``), so a pin that
    needs a newer one (soupsieve 3.0.2 and later need 3.11.5; Debian 12 ships 3.11.2) is caught.
    Nothing is installed: ``--dry-run`` into a scratch target.
    """
    with tempfile.TemporaryDirectory(prefix="course-lock-") as scratch:
        result = subprocess.run(
            [
                str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check",
                "--dry-run", "--quiet", "--ignore-installed", "--only-binary=:all:",
                "--target", scratch, "--python-version", f"{version_text(version)}.0",
                "-r", str(requirements),
            ],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
    if result.returncode == 0:
        return None
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    return "\n".join(errors) or result.stderr.strip()[-2000:] or f"pip exited {result.returncode}"


def lock() -> None:
    """Rewrite requirements.txt from .venv, once its pins resolve on every supported Python."""
    setup()
    frozen = subprocess.run(
        [str(venv_python()), "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="course-lock-") as scratch:
        candidate = Path(scratch) / "requirements.txt"
        candidate.write_text(REQUIREMENTS_HEADER + frozen)
        problems = []
        for version in SUPPORTED_PYTHONS:
            print(f"Checking that the pins resolve on Python {version_text(version)} ...", flush=True)
            complaint = pins_resolve_on(candidate, version)
            if complaint:
                problems.append(f"Python {version_text(version)}:\n{complaint}")
        if problems:
            fail(
                "requirements.txt was left unchanged: the versions in .venv do not all install "
                "on every supported Python.\n" + "\n".join(problems) + "\nInstall versions that "
                "support them into .venv (or narrow the ranges in pyproject.toml), then lock again."
            )
        shutil.copyfile(candidate, ROOT / "requirements.txt")
    print("requirements.txt rewritten; run the test suite before committing it.")


def _copy_ignore(folder: str, names: list[str]) -> set[str]:
    """What a copy of the course for another Python leaves out: what git ignores, and .git."""
    skipped = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints"}
    ignored = {name for name in names if name in skipped or name.endswith(".egg-info")}
    if Path(folder).resolve() == ROOT:
        ignored |= {name for name in names if name in ("build", "data")}
    return ignored


def _prove_python(
    command: list[str], version: tuple[int, int, int], workdir: Path
) -> dict:
    """Set up a fresh copy of the course under one Python and run its smoke tests there."""
    name = f"python{version_text(version[:2])}"
    copy = workdir / name
    shutil.copytree(ROOT, copy, ignore=_copy_ignore)
    log_path = workdir / f"{name}.log"
    outcome = {"python": version_text(version), "command": " ".join(command), "log": str(log_path)}
    env = {key: value for key, value in os.environ.items() if key != REEXEC_VARIABLE}
    with open(log_path, "w") as log:
        started = time.perf_counter()
        setup_run = subprocess.run(
            [*command, str(copy / "course.py"), "setup"],
            cwd=copy, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        outcome["setup_seconds"] = round(time.perf_counter() - started, 1)
        if setup_run.returncode != 0:
            outcome.update(passed=False, summary=f"set-up failed (exit {setup_run.returncode})")
            return outcome
        started = time.perf_counter()
        test_run = subprocess.run(
            [*command, str(copy / "course.py"), "test", *SMOKE_TEST_ARGS],
            cwd=copy, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        outcome["test_seconds"] = round(time.perf_counter() - started, 1)
    outcome["passed"] = test_run.returncode == 0
    counts = _pytest_counts(Path(log_path).read_text(errors="replace"))
    outcome["summary"] = counts or f"pytest exited {test_run.returncode}"
    return outcome


def _pytest_counts(output: str) -> str:
    """``"1406 passed, 2 failed"`` from pytest's closing line in ``output``; "" without one."""
    closing = [line for line in output.splitlines() if re.match(r"^=+ .*\bin [\d.]+s", line)]
    if not closing:
        return ""
    counts = re.findall(r"(\d+) (passed|failed|errors?|skipped|deselected)", closing[-1])
    return ", ".join(f"{number} {word}" for number, word in counts)


def check_pythons(report: Path | None) -> None:
    """Prove every other supported Python found here: a fresh set-up, unit tests, 01 and 02.

    Each runs in its own copy of the course (so this .venv is untouched), all at once: their
    set-ups mostly wait for pip. ``report`` receives the outcome as JSON, which conftest.py
    prints in the header of the main test run.
    """
    found = find_supported_pythons()
    others = {minor: found[minor] for minor in sorted(found) if minor != sys.version_info[:2]}
    here = version_text(sys.version_info[:3])
    outcomes: list[dict] = []
    if not others:
        print(f"check-pythons: no supported Python besides {here} found on this machine.")
    else:
        names = ", ".join(version_text(v) for _, v in others.values())
        print(f"check-pythons: proving Python {names} besides {here} (set-up, {' '.join(SMOKE_TEST_ARGS)}) ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="course-pythons-") as scratch:
            with ThreadPoolExecutor(max_workers=len(others)) as pool:
                futures = [
                    pool.submit(_prove_python, command, version, Path(scratch))
                    for command, version in others.values()
                ]
                outcomes = [future.result() for future in futures]
            for outcome in outcomes:
                if not outcome["passed"] and outcome.get("log"):  # show why before it is removed
                    tail = Path(outcome["log"]).read_text(errors="replace").splitlines()[-60:]
                    print(f"--- last lines of the Python {outcome['python']} run ---")
                    print("\n".join(tail))
    for outcome in outcomes:
        outcome.pop("log", None)
        print(
            f"  Python {outcome['python']} ({outcome['command']}): set-up "
            f"{outcome['setup_seconds']:.0f} s; tests: {outcome['summary']}"
            + (f" ({outcome['test_seconds']:.0f} s)" if "test_seconds" in outcome else "")
            + ("" if outcome["passed"] else "  FAILED"),
            flush=True,
        )
    if report is not None:
        report.write_text(json.dumps({"main": here, "others": outcomes}, indent=2))
    if not all(outcome["passed"] for outcome in outcomes):
        raise SystemExit(1)


PASS_THROUGH_COMMANDS = ("test", "grade", "nbgrader-export", "benchmark")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="course.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p_setup = sub.add_parser("setup", help="create .venv and install the pinned dependencies")
    p_setup.add_argument("--gpu", action="store_true", help="also install CUDA libraries (Linux)")
    p_lab = sub.add_parser(
        "lab",
        help="set up, then open the course in JupyterLab",
        description="Options not listed here (e.g. --no-browser) are passed on to JupyterLab.",
        allow_abbrev=False,  # so a JupyterLab option is never taken for a prefix of ours
    )
    p_lab.add_argument("--port", type=int, default=8888)
    p_lab.add_argument(
        "--scale",
        type=float,
        default=None,
        help="scale data and epochs up for a fuller run, e.g. --scale 4 (sets COURSE_SCALE)",
    )
    p_test = sub.add_parser("test", help="set up, then run the whole test suite")
    p_test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra pytest arguments")
    p_exec = sub.add_parser("execute-solutions", help="re-run solutions/, keep outputs")
    p_exec.add_argument("notebooks", nargs="*", help="names such as 01 or 01_cnn_basics")
    sub.add_parser("student-notebooks", help="regenerate notebooks/ from solutions/")
    sub.add_parser("lock", help="check the pins of .venv on every supported Python, then write them")
    p_pythons = sub.add_parser(
        "check-pythons", help="prove each other supported Python found here (used by CI)"
    )
    p_pythons.add_argument("--report", type=Path, help="also write the outcome here as JSON")
    p_grade = sub.add_parser(
        "grade",
        help="set up, then run and grade submitted notebooks",
        description="Arguments go to `python -m course_tools.grading`; see its --help.",
    )
    p_grade.add_argument("grade_args", nargs=argparse.REMAINDER, help="submissions and options")
    p_nbgrader = sub.add_parser(
        "nbgrader-export",
        help="set up, then write an nbgrader course folder made from the solutions",
        description="Arguments go to `python -m course_tools.nbgrader_export`; see its --help.",
    )
    p_nbgrader.add_argument("export_args", nargs=argparse.REMAINDER, help="notebooks and --out")
    p_release = sub.add_parser(
        "release",
        help="set up, then write a classroom release: the student notebooks without solutions",
        description="Runs `python -m course_tools.classroom`: the student notebooks and a "
        "course_utils without checks or solutions, for learners to receive.",
    )
    p_release.add_argument("--out", required=True, help="a new or empty folder")
    p_release.add_argument(
        "--solutions-available", required=True, metavar="TEXT",
        help="when learners get the solutions, e.g. 'after the deadline, 15 December'",
    )  # fmt: skip
    p_bench = sub.add_parser("benchmark", help="set up, then measure the course on this machine")
    p_bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="benchmark options")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in PASS_THROUGH_COMMANDS:
        # Everything after these commands belongs to the tool they run, options first or not
        # (argparse's REMAINDER drops a leading option such as `test -x`).
        args = argparse.Namespace(command=argv[0], tool_args=argv[1:])
    else:
        args, unknown = parser.parse_known_args(argv)
        if unknown and args.command != "lab":
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.tool_args = unknown
    ensure_supported_python(argv)

    if args.command == "setup":
        setup(gpu=args.gpu)
    elif args.command == "lab":
        if args.scale is not None:
            if not args.scale >= 1 or args.scale == float("inf"):
                fail(f"--scale must be a number of at least 1, got {args.scale}; e.g. --scale 4.")
            os.environ["COURSE_SCALE"] = f"{args.scale:g}"  # read by course_utils.scaled()
        arguments = lab_arguments(args.port) + args.tool_args  # checks the port first
        setup()
        exec_in_venv(arguments)
    elif args.command == "test":
        setup()
        prefix = offline_prefix()
        pytest_args = ["-m", "pytest", *worker_args(args.tool_args), *args.tool_args]
        if prefix is None:
            print("No network namespace here: the tests' in-process offline guard applies.")
            exec_in_venv(pytest_args)
        else:
            os.environ["COURSE_TEST_NETNS"] = "on"  # conftest.py reports it, test_offline checks it
            shown = f"{' '.join(prefix[:-1])} (loopback only): {venv_python()} {' '.join(pytest_args)}"
            exec_in_venv(["-c", RUN_AFTER_LOOPBACK_UP, *pytest_args], prefix, shown)
    elif args.command == "execute-solutions":
        setup()
        exec_in_venv(["-m", "course_tools.notebooks", "execute", *args.notebooks])
    elif args.command == "student-notebooks":
        setup()
        exec_in_venv(["-m", "course_tools.notebooks", "students"])
    elif args.command == "grade":
        setup()
        # Relative paths are the caller's: exec_in_venv changes to the course folder.
        exec_in_venv(["-m", "course_tools.grading", "--base", os.getcwd(), *args.tool_args])
    elif args.command == "nbgrader-export":
        setup()
        exec_in_venv(["-m", "course_tools.nbgrader_export", "--base", os.getcwd(), *args.tool_args])
    elif args.command == "release":
        setup()
        # Relative paths are the caller's: exec_in_venv changes to the course folder.
        exec_in_venv(["-m", "course_tools.classroom", "--base", os.getcwd(), f"--out={args.out}",
                      f"--solutions-available={args.solutions_available}"])  # fmt: skip
    elif args.command == "benchmark":
        setup()
        exec_in_venv([str(ROOT / "benchmarks" / "run_benchmarks.py"), *args.tool_args])
    elif args.command == "lock":
        lock()
    elif args.command == "check-pythons":
        check_pythons(args.report)

if __name__ == "__main__":
    main()
