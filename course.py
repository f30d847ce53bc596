#!/usr/bin/env python3
"""Set up, open, test and maintain the course. Needs only Python 3.11 and the package index.

    python3 course.py lab        set up (if needed) and open the course in JupyterLab
                                 (--scale 4: four times the data and epochs, a fuller run)
    python3 course.py test       set up (if needed) and run the whole test suite

Instructors and maintainers also have:

    python3 course.py grade SUBMISSIONS...  run and grade submitted notebooks (--out grades)
    python3 course.py benchmark           time every notebook, its memory and throughput

    python3 course.py setup               only set up (add --gpu for an NVIDIA GPU on Linux)
    python3 course.py execute-solutions   re-run solutions/ and store fresh outputs, then
                                          regenerate notebooks/ (optionally name notebooks)
    python3 course.py student-notebooks   regenerate notebooks/ from solutions/
    python3 course.py lock                rewrite requirements.txt from the current .venv

Set-up makes a virtual environment in .venv/, installs the pinned versions of
requirements.txt and this repository's `course_utils` package in editable mode. It remembers
what it installed, so running it again is quick and changes nothing.

This file uses the standard library only, because it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / "course-setup.json"
REQUIRED_PYTHON = (3, 11)
IS_WINDOWS = os.name == "nt"


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


def setup_fingerprint(gpu: bool) -> dict:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return {
        "inputs_sha256": digest.hexdigest(),
        "python": ".".join(map(str, sys.version_info[:3])),
        "gpu": gpu,
    }


def setup(gpu: bool = False) -> None:
    """Create .venv and install everything, unless the stamp says it is already done."""
    if sys.version_info[:2] != REQUIRED_PYTHON:
        fail(
            f"the course is tested on Python {REQUIRED_PYTHON[0]}.{REQUIRED_PYTHON[1]}, "
            f"but this is Python {sys.version.split()[0]}. Run it as "
            "`python3.11 course.py ...` (Windows: `py -3.11 course.py ...`)."
        )
    wanted = setup_fingerprint(gpu)
    if STAMP.exists() and venv_python().exists():
        done = json.loads(STAMP.read_text())
        if done == wanted or (not gpu and done == {**wanted, "gpu": True}):
            print("Set-up is up to date (.venv).", flush=True)
            return
    started = time.perf_counter()
    if not venv_python().exists():
        run([sys.executable, "-m", "venv", VENV])
    # The stamp goes first so an interrupted install is redone on the next run.
    STAMP.unlink(missing_ok=True)
    pip = [venv_python(), "-m", "pip", "install", "--disable-pip-version-check"]
    run([*pip, "--quiet", "-r", "requirements.txt"])
    run([*pip, "--quiet", "--no-deps", "--no-build-isolation", "-e", "."])
    if gpu:
        version = _pinned_version("tensorflow")
        run([*pip, f"tensorflow[and-cuda]=={version}"])
    STAMP.write_text(json.dumps(wanted, indent=2))
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
    prefix = [unshare, "--net", "--map-root-user", "--"]
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


PASS_THROUGH_COMMANDS = ("test", "grade", "benchmark")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="course.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p_setup = sub.add_parser("setup", help="create .venv and install the pinned dependencies")
    p_setup.add_argument("--gpu", action="store_true", help="also install CUDA libraries (Linux)")
    p_lab = sub.add_parser("lab", help="set up, then open the course in JupyterLab")
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
    sub.add_parser("lock", help="rewrite requirements.txt from .venv")
    p_grade = sub.add_parser(
        "grade",
        help="set up, then run and grade submitted notebooks",
        description="Arguments go to `python -m course_utils.grading`; see its --help.",
    )
    p_grade.add_argument("grade_args", nargs=argparse.REMAINDER, help="submissions and options")
    p_bench = sub.add_parser("benchmark", help="set up, then measure the course on this machine")
    p_bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="benchmark options")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in PASS_THROUGH_COMMANDS:
        # Everything after these commands belongs to the tool they run, options first or not
        # (argparse's REMAINDER drops a leading option such as `test -x`).
        args = argparse.Namespace(command=argv[0], tool_args=argv[1:])
    else:
        args = parser.parse_args(argv)

    if args.command == "setup":
        setup(gpu=args.gpu)
    elif args.command == "lab":
        if args.scale is not None:
            if not args.scale >= 1 or args.scale == float("inf"):
                fail(f"--scale must be a number of at least 1, got {args.scale}; e.g. --scale 4.")
            os.environ["COURSE_SCALE"] = f"{args.scale:g}"  # read by course_utils.scaled()
        arguments = lab_arguments(args.port)  # checks the port before the set-up runs
        setup()
        exec_in_venv(arguments)
    elif args.command == "test":
        setup()
        prefix = offline_prefix()
        if prefix is None:
            print("No network namespace here: the tests' in-process offline guard applies.")
            exec_in_venv(["-m", "pytest", *args.tool_args])
        os.environ["COURSE_TEST_NETNS"] = "on"  # conftest.py reports it, test_offline checks it
        pytest_args = ["-m", "pytest", *args.tool_args]
        shown = f"{' '.join(prefix[:-1])} (loopback only): {venv_python()} {' '.join(pytest_args)}"
        exec_in_venv(["-c", RUN_AFTER_LOOPBACK_UP, *pytest_args], prefix, shown)
    elif args.command == "execute-solutions":
        setup()
        exec_in_venv(["-m", "course_utils.notebook_tools", "execute", *args.notebooks])
    elif args.command == "student-notebooks":
        setup()
        exec_in_venv(["-m", "course_utils.notebook_tools", "students"])
    elif args.command == "grade":
        setup()
        # Relative paths are the caller's: exec_in_venv changes to the course folder.
        exec_in_venv(["-m", "course_utils.grading", "--base", os.getcwd(), *args.tool_args])
    elif args.command == "benchmark":
        setup()
        exec_in_venv([str(ROOT / "benchmarks" / "run_benchmarks.py"), *args.tool_args])
    elif args.command == "lock":
        setup()
        frozen = subprocess.run(
            [str(venv_python()), "-m", "pip", "freeze", "--exclude-editable"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        header = (ROOT / "requirements.txt").read_text().splitlines()[:2]
        (ROOT / "requirements.txt").write_text("\n".join(header) + "\n" + frozen)
        print("requirements.txt rewritten; run the test suite before committing it.")


if __name__ == "__main__":
    main()
