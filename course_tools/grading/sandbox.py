"""The learner's process: started in bubblewrap (:mod:`.bubblewrap`), talked to through a pipe,
watched, stopped.

:class:`Sandbox` runs :mod:`._inside` confined, with a private ``/tmp`` of capped size (the only
writable place, also ``HOME``), per-process limits (address space, file size, processes),
and limits on the whole process tree: a control group where the grader may make one
(:mod:`.cgroup`), else a watchdog that sums the tree's memory ten times a second. Every read
and write has a deadline, every message a size cap, and a timer kills the process shortly after
the deadline whatever the grader is doing; anything the process does wrong ends this submission
only.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from course_tools.grading import wire
from course_tools.grading.bubblewrap import (
    BWRAP_MISSING,
    NOBODY,
    bwrap_command,
    describe_sandbox,
    runner_package,
    sandbox_capabilities,
    sandbox_env,
)
from course_tools.grading.cgroup import make_tree_limits
from course_tools.grading.settings import GradingSettings

# sandbox_capabilities, describe_sandbox and BWRAP_MISSING are re-exported for the grader
__all__ = ["Sandbox", "SandboxStopped", "sandbox_capabilities", "describe_sandbox", "BWRAP_MISSING"]


class SandboxStopped(BaseException):
    """The learner's process is gone or broke the channel; ``kind`` and ``detail`` say why.

    A ``BaseException``, so that a check running the learner's function does not take it for
    an exception the function raised: it ends the grading of this submission.
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail


class Sandbox:
    """One learner's process for one submission (use as a context manager)."""

    def __init__(self, capabilities: dict, settings: GradingSettings, learner_package: Path | None) -> None:
        self.capabilities, self.settings, self.package = capabilities, settings, learner_package
        self.process: subprocess.Popen | None = None
        self.stopped: SandboxStopped | None = None
        self._stderr = b""
        self.workdir = tempfile.mkdtemp(prefix="course-grade-")
        self.peak_tree_bytes = 0
        self._killer: threading.Timer | None = None
        self._runner = runner_package(Path(self.workdir) / "runner")
        self._tree = make_tree_limits(settings.tree_memory_bytes, settings.max_processes)
        self.tree_description = (
            f"{settings.tree_memory_gb:g} GiB and {settings.max_processes} processes for the whole "
            + ("process tree (control group)" if self._tree else "process tree (watched by the grader)")
        )

    # -- lifetime ------------------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self, deadline: float) -> None:
        mode = self.capabilities["mode"]
        runner = [sys.executable, "-m", "course_tools.grading._inside",
                  f"--memory-bytes={self.settings.memory_bytes}", f"--file-bytes={self.settings.file_bytes}",
                  f"--max-processes={self.settings.max_processes + self._own_processes()}"]  # fmt: skip
        if mode == "none":  # the learner package and the runner first on the path, as in bwrap
            env = {**sandbox_env(), "HOME": os.path.join(self.workdir, "home"), "TMPDIR": self.workdir,
                   "MPLCONFIGDIR": os.path.join(self.workdir, "home", ".matplotlib"),
                   "PYTHONPATH": os.pathsep.join(str(p.parent) for p in (self._runner, self.package) if p)}  # fmt: skip
            command, cwd = runner, self.workdir
        else:  # bubblewrap itself gets no more of the grader's environment than the notebook
            env, cwd = {"PATH": os.defpath, "LANG": "C.UTF-8"}, "/"
            command = bwrap_command(mode, self.settings, self.package, self._runner) + runner
            if mode == "bwrap-root":
                command.append(f"--drop-to={NOBODY[0]}:{NOBODY[1]}")
        if self._tree is not None:  # join the control group in a shell, not in a forked Python
            command = self._tree.join_command() + command
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, cwd=cwd, start_new_session=True, close_fds=True,
        )  # fmt: skip
        os.set_blocking(self.process.stdin.fileno(), False)  # writes must not block past a deadline
        # whatever the grader is stuck in, the process is gone shortly after the deadline
        self._killer = threading.Timer(max(0.0, deadline - time.monotonic()) + 5.0, self._kill)
        self._killer.daemon = True
        self._killer.start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        if self._tree is None:
            threading.Thread(target=self._watch_memory, daemon=True).start()
        header, _ = self._receive(deadline)
        if header.get("op") != "ready":
            self._stop("protocol error", "the sandbox did not start as expected")

    def _own_processes(self) -> int:
        """Processes (threads included) of the user the limit will count, if it is not nobody."""
        if self.capabilities["mode"] == "bwrap-root" or not hasattr(os, "getuid"):
            return 0
        import psutil

        uid = os.getuid()
        return sum(p.info["num_threads"] or 1 for p in psutil.process_iter(["uids", "num_threads"])
                   if p.info["uids"] and p.info["uids"].real == uid)  # fmt: skip

    def _kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, 9)
            except OSError:
                pass

    def close(self) -> None:
        if self._killer is not None:
            self._killer.cancel()
        process = self.process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, 9)
            except OSError:
                pass
        if process is not None:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for stream in (process.stdin, process.stdout, process.stderr):
                try:
                    stream.close()
                except OSError:
                    pass
        if self._tree is not None:
            self.peak_tree_bytes = max(self.peak_tree_bytes, self._tree.peak_bytes() or 0)
            self._tree.remove()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- watching --------------------------------------------------------------------------------

    def _drain_stderr(self) -> None:
        """Keep the last 8 KB the process wrote to stderr before it moved its output away."""
        stream = self.process.stderr
        try:
            while chunk := stream.read1(65536):
                self._stderr = (self._stderr + chunk)[-8192:]
        except (OSError, ValueError):
            pass

    def _watch_memory(self) -> None:
        import psutil

        limit = self.settings.tree_memory_bytes
        while self.process is not None and self.process.poll() is None:
            try:
                root = psutil.Process(self.process.pid)
                total = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
            except psutil.Error:
                total = 0
            self.peak_tree_bytes = max(self.peak_tree_bytes, total)
            if total > limit:
                self.stopped = SandboxStopped(
                    "memory limit", f"the notebook's processes used {total / 2**30:.1f} GiB together, "
                    f"over the {self.settings.tree_memory_gb:g} GiB limit")  # fmt: skip
                try:
                    os.killpg(self.process.pid, 9)
                except OSError:
                    pass
                return
            time.sleep(0.1)

    def _stop(self, kind: str, detail: str):
        if self.stopped is None:
            if kind == "process ended" and self._tree is not None and self._tree.oom_killed():
                kind, detail = "memory limit", (
                    f"the notebook's processes went over the {self.settings.tree_memory_gb:g} GiB "
                    "limit together and were killed")  # fmt: skip
            self.stopped = SandboxStopped(kind, detail)
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, 9)
            except OSError:
                pass
        raise self.stopped

    def early_output(self) -> str:
        return self._stderr.decode("utf-8", "replace").strip()[-3000:]

    # -- the channel -----------------------------------------------------------------------------

    def _send(self, header: dict, blobs, deadline: float) -> None:
        if self.stopped is not None:
            raise self.stopped
        data = memoryview(wire.pack(header, list(blobs)))
        fd = self.process.stdin.fileno()
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._stop("timeout", f"the time limit of {self.settings.time_limit:g} s ran out")
            _, ready, _ = select.select([], [fd], [], min(remaining, 0.5))
            if not ready:
                if self.process.poll() is not None:
                    self._ended()
                continue
            try:
                written = os.write(fd, data[: 1 << 16])  # non-blocking: may write only part
            except BlockingIOError:
                continue
            except OSError:
                self._ended()
            data = data[written:]

    def _receive(self, deadline: float) -> tuple[dict, list[bytes]]:
        fd = self.process.stdout.fileno()

        def read_exact(n: int) -> bytes:
            parts, left = [], n
            while left:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._stop("timeout", f"the time limit of {self.settings.time_limit:g} s ran out")
                ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
                if self.stopped is not None:
                    self._stop(self.stopped.kind, self.stopped.detail)
                if not ready:
                    continue
                chunk = os.read(fd, min(left, 1 << 20))
                if not chunk:
                    self._ended()
                parts.append(chunk)
                left -= len(chunk)
            return b"".join(parts)

        try:
            return wire.read_message(read_exact)
        except wire.WireError as err:
            self._stop("protocol error", f"the notebook's process sent a malformed message ({err})")

    def _ended(self):
        code = self.process.wait(timeout=10) if self.process else None
        detail = f"the notebook's process ended (exit status {code})"
        early = self.early_output()
        if early:
            detail += f": {early}"
        self._stop("process ended", detail)

    def request(self, header: dict, blobs=(), deadline: float = 0.0) -> tuple[dict, list[bytes]]:
        """Send one message and read the reply; anything odd stops this submission's run."""
        try:
            self._send(header, blobs, deadline)
            return self._receive(deadline)
        except SandboxStopped:
            raise
        except Exception as err:  # noqa: BLE001 - never an exception a check could take for the answer's
            self._stop("protocol error", f"the channel to the notebook's process broke: "
                                         f"{type(err).__name__}: {str(err)[:200]}")  # fmt: skip
