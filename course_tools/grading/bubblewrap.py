"""How the grader confines a learner's process with bubblewrap: the command line, the probe.

:func:`sandbox_capabilities` finds how this machine can confine a process:

* ``bwrap`` as root: bubblewrap makes new PID, network, IPC and UTS namespaces and a new root
  holding only what a notebook needs, read-only (``/usr``, the Python installation, the
  course's learner package and the grader's runner); no capabilities; then the runner drops
  to user ``nobody`` before any learner code runs;
* ``bwrap`` unprivileged, in a user namespace of its own (an instructor's account): the same
  view; the process keeps the instructor's user id outside the namespace, but sees nothing
  else of the account (no home folder, no environment);
* nothing: the grader refuses untrusted work unless told ``--trusted``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from course_tools.grading.settings import GradingSettings

__all__ = ["sandbox_capabilities", "describe_sandbox", "bwrap_command", "runner_package", "sandbox_env",
           "NOBODY", "BWRAP_MISSING", "SANDBOX_PACKAGES"]  # fmt: skip

NOBODY = (65534, 65534)
SHM_BYTES = 64 * 2**20
SANDBOX_PACKAGES = "/opt/course"  # the learner package and the runner, first on the sandbox's path
BWRAP_MISSING = (
    "bubblewrap (bwrap) is not installed, so learners' notebooks cannot be confined: install it "
    "(Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install bubblewrap), or "
    "pass --trusted to grade without a sandbox work you trust (e.g. your own)."
)
_ENV_KEPT = ("LANG", "LC_ALL", "TZ")


def _bwrap() -> str | None:
    return shutil.which("bwrap")


def _readonly_paths() -> list[str]:
    """What the runner needs to read: the Python installation (the course's own packages are
    bound apart, as the learner package and the runner: see :func:`_bwrap_command`)."""
    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    import site

    for folder in site.getsitepackages():
        paths.add(os.path.realpath(folder))
    # /usr is bound as a whole; folders inside it need no binding of their own
    kept = sorted(p for p in paths if p and not (p + "/").startswith("/usr/") and os.path.isdir(p))
    return [p for p in kept if not any(p != q and p.startswith(q + "/") for q in kept)]


def runner_package(folder: Path) -> Path:
    """A ``course_tools`` holding only the runner and the codec, for the sandbox to see.

    The rest of ``course_tools`` (the grader, the generators) is the instructor's and stays out.
    """
    grading = folder / "course_tools" / "grading"
    grading.mkdir(parents=True)
    (folder / "course_tools" / "__init__.py").write_text('"""The runner of a graded notebook."""\n')
    (grading / "__init__.py").write_text("")
    here = Path(__file__).parent
    for name in ("_inside.py", "wire.py"):
        (grading / name).write_bytes((here / name).read_bytes())
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder / "course_tools"


def bwrap_command(mode: str, settings: GradingSettings, learner_package: Path | None,
                   runner: Path | None = None) -> list[str]:
    import course_tools
    import course_utils

    command = [_bwrap(), "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session"]  # fmt: skip
    if mode == "bwrap-root":
        command += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        command += ["--unshare-user"]
    command += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{name}"
        if os.path.islink(path):
            command += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            command += ["--ro-bind", path, path]
    for path in ("/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(path):
            command += ["--ro-bind", path, path]
    # the writable places first: the read-only binds below may lie inside /tmp (a course
    # cloned there), and a tmpfs mounted after them would hide them
    command += ["--proc", "/proc", "--dev", "/dev",
                # POSIX semaphores (multiprocessing's locks, which Keras's loaders use)
                "--size", str(SHM_BYTES), "--perms", "1777", "--tmpfs", "/dev/shm",
                "--size", str(int(settings.file_bytes)), "--perms", "1777", "--tmpfs", "/tmp"]  # fmt: skip
    made: set[str] = {"/tmp", "/dev", "/proc"}  # folders that exist now, with their own modes
    for path in _readonly_paths():
        command += _parents(path, made) + ["--ro-bind", path, path]
    if learner_package is not None:  # the release's course_utils, without answers, over the real one
        real = os.path.dirname(os.path.realpath(course_utils.__file__))
        command += _parents(real, made) + ["--ro-bind", str(learner_package), real]
    if runner is not None:  # course_tools: the runner and the codec only
        real = os.path.dirname(os.path.realpath(course_tools.__file__))
        command += _parents(real, made) + ["--ro-bind", str(runner), real]
    # the same two packages where the sandbox's PYTHONPATH points, whatever finder the venv has,
    # and the data scripts beside them (a notebook finds one next to course_utils)
    scripts = Path(learner_package).parent / "data_scripts" if learner_package is not None else None
    for package in (learner_package, runner, scripts if scripts and scripts.is_dir() else None):
        if package is not None:
            target = f"{SANDBOX_PACKAGES}/{Path(package).name}"
            command += _parents(target, made) + ["--ro-bind", str(package), target]
    # nothing else writable: bwrap's own root and /dev are tmpfs mounts otherwise
    command += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/tmp", "--clearenv"]
    for name, value in sandbox_env().items():
        command += ["--setenv", name, value]
    return command + ["--"]


def _parents(path: str, made: set[str]) -> list[str]:
    """Folders leading to ``path``, made traversable for the unprivileged user (bwrap makes
    them root-only otherwise)."""
    options = []
    parts = path.strip("/").split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        folder = "/" + "/".join(parts[:depth])
        if folder not in made and folder != "/usr" and not folder.startswith("/usr/"):
            made.add(folder)
            options += ["--perms", "0755", "--dir", folder]
    return options


def sandbox_env() -> dict[str, str]:
    env = {name: os.environ[name] for name in _ENV_KEPT if name in os.environ}
    env.update(
        PATH=f"{os.path.dirname(sys.executable)}:/usr/bin:/bin", HOME="/tmp/home", TMPDIR="/tmp",
        USER="learner", LOGNAME="learner", MPLBACKEND="Agg", MPLCONFIGDIR="/tmp/home/.matplotlib",
        PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1", TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONHASHSEED="0", PYTHONPATH=SANDBOX_PACKAGES,
    )  # fmt: skip
    return env


def sandbox_capabilities() -> dict:
    """How this machine can confine a learner's process: ``{"mode": ..., "reason": ...}``.

    ``mode`` is ``"bwrap-root"``, ``"bwrap-user"`` or ``"none"`` (then ``reason`` says why).
    """
    if os.name != "posix" or not sys.platform.startswith("linux"):
        return {"mode": "none", "reason": "the sandbox needs Linux (bubblewrap)"}
    if _bwrap() is None:
        return {"mode": "none", "reason": BWRAP_MISSING}
    # As root, the runner must also be able to become nobody: not so for a root that is only
    # root inside a user namespace (e.g. `unshare --map-root-user`), which then grades as an
    # ordinary account does.
    drop = f"import os; os.setgroups([]); os.setgid({NOBODY[1]}); os.setuid({NOBODY[0]}); print('ok')"
    modes = [("bwrap-root", drop)] if os.geteuid() == 0 else []
    modes.append(("bwrap-user", "print('ok')"))
    reason = ""
    for mode, code in modes:
        probe = [*bwrap_command(mode, GradingSettings(), None), sys.executable, "-c", code]
        try:
            result = subprocess.run(probe, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as err:
            reason = f"bubblewrap did not start: {err}"
            continue
        if result.returncode == 0 and result.stdout.strip() == "ok":
            return {"mode": mode, "reason": ""}
        reason = f"bubblewrap cannot make a sandbox here: {result.stderr.strip()[-300:]}"
    return {"mode": "none", "reason": reason}


def describe_sandbox(capabilities: dict, settings: GradingSettings, tree: str) -> str:
    mode = capabilities["mode"]
    if mode == "none":
        return "NO SANDBOX (--trusted): the notebook ran as the grader's own user"
    who = "as user nobody" if mode == "bwrap-root" else "in a user namespace of the grader's account"
    return (
        f"bubblewrap, {who}: no network, read-only view of the Python installation and the "
        f"course's learner package only, private /tmp of {settings.file_bytes / 2**20:.0f} MiB, "
        f"{settings.memory_gb:g} GiB address space per process, {tree}, "
        f"{settings.time_limit:g} s for the notebook"
    )
