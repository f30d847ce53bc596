"""The confined kernel: which confinement this system allows, and the kernel manager using it."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

__all__ = [
    "WRAPPER",
    "PASSED_ENV",
    "sandbox_capabilities",
    "describe_sandbox",
    "kernel_manager_class",
    "kill_tree",
    "base_env",
]

WRAPPER = Path(__file__).with_name("_kernel_wrapper.py")
# Variables a kernel needs; everything else (tokens, credentials, PYTHONPATH) stays behind.
PASSED_ENV = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TF_CPP_MIN_LOG_LEVEL")

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
                    command, capture_output=True, text=True, timeout=60, env=base_env()
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


def describe_sandbox(capabilities: dict, memory_bytes: int) -> str:
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


def kernel_manager_class():
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


def kill_tree(pid: int | None) -> None:
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


def base_env() -> dict:
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env
