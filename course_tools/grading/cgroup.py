"""Memory and process limits for a whole process tree, through a Linux control group.

Per-process limits (``RLIMIT_AS``) do not add up: three children may each use the limit. A
control group counts every process in it, and the kernel enforces its limits: past the memory
limit the group's processes are killed by the OOM killer, past the process limit ``fork``
fails. Only root can make one here (cgroup v1 hierarchies ``memory`` and ``pids``, or a
cgroup v2 tree with those controllers); elsewhere :func:`make_tree_limits` returns None and the
grader watches the tree's memory itself (see :mod:`.sandbox`).
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

__all__ = ["TreeLimits", "make_tree_limits"]

ROOT = Path("/sys/fs/cgroup")


class TreeLimits:
    """One control group per submission: ``join_command()``, ``oom_killed()``, ``remove()``."""

    def __init__(self, folders: list[Path], version: int) -> None:
        self.folders, self.version = folders, version

    def join_command(self) -> list[str]:
        """A prefix for a command line: a shell that moves itself into the group, then execs it.

        (Not ``preexec_fn``: forking a Python that has threads, as the grader does once
        TensorFlow runs, can deadlock the child.)
        """
        moves = " && ".join(f'echo $$ > "{folder / "cgroup.procs"}"' for folder in self.folders)
        return ["/bin/sh", "-c", f'{moves} && exec "$@"', "join-cgroup"]

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the group for memory."""
        for folder in self.folders:
            for name in ("memory.events", "memory.oom_control"):
                path = folder / name
                if path.exists():
                    for line in path.read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill" and value.strip() not in ("", "0"):
                            return True
        return False

    def peak_bytes(self) -> int | None:
        for folder in self.folders:
            for name in ("memory.max_usage_in_bytes", "memory.peak"):
                path = folder / name
                if path.exists():
                    try:
                        return int(path.read_text().split()[0])
                    except (ValueError, IndexError):
                        return None
        return None

    def remove(self) -> None:
        """Kill what is left in the group and remove it."""
        for folder in self.folders:
            for _ in range(50):
                try:
                    pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, 9)
                    except OSError:
                        pass
                time.sleep(0.05)
            try:
                folder.rmdir()
            except OSError:
                pass


def make_tree_limits(memory_bytes: int, max_processes: int) -> TreeLimits | None:
    """A new control group with these limits, or None where this process cannot make one."""
    if not (hasattr(os, "geteuid") and os.geteuid() == 0 and ROOT.is_dir()):
        return None
    name = f"course-grade-{secrets.token_hex(6)}"
    made: list[Path] = []
    try:
        if (ROOT / "cgroup.controllers").exists():  # cgroup v2: one tree
            controllers = (ROOT / "cgroup.controllers").read_text().split()
            if not {"memory", "pids"} <= set(controllers):
                return None
            subtree = (ROOT / "cgroup.subtree_control").read_text().split()
            for controller in ("memory", "pids"):
                if controller not in subtree:
                    (ROOT / "cgroup.subtree_control").write_text(f"+{controller}")
            folder = ROOT / name
            folder.mkdir()
            made.append(folder)
            (folder / "memory.max").write_text(str(memory_bytes))
            if (folder / "memory.swap.max").exists():
                (folder / "memory.swap.max").write_text("0")
            (folder / "pids.max").write_text(str(max_processes))
            return TreeLimits(made, 2)
        memory, pids = ROOT / "memory", ROOT / "pids"
        if not (memory.is_dir() and pids.is_dir()):
            return None
        for parent in (memory, pids):
            folder = parent / name
            folder.mkdir()
            made.append(folder)
        (memory / name / "memory.limit_in_bytes").write_text(str(memory_bytes))
        swap = memory / name / "memory.memsw.limit_in_bytes"
        if swap.exists():  # memory plus swap: no escape into swap
            swap.write_text(str(memory_bytes))
        (pids / name / "pids.max").write_text(str(max_processes))
        return TreeLimits(made, 1)
    except OSError:
        TreeLimits(made, 0).remove()
        return None
