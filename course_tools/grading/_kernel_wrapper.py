"""Launch wrapper for the kernels of :mod:`course_tools.grading` (run as a script, not imported).

    python _grading_kernel.py [--memory-bytes N] [--file-bytes N] [--isolate-network]
                              [--user UID:GID] -- KERNEL COMMAND ...

It confines the process, then replaces itself with the kernel command (``os.execv``), so the
limits hold for the kernel and everything it starts:

* ``--memory-bytes``: ``RLIMIT_AS``, the address space; an allocation beyond it fails with
  ``MemoryError`` (or kills a C++ library that does not expect it);
* ``--file-bytes``: ``RLIMIT_FSIZE``, the largest file the kernel may write;
* ``--isolate``: Linux namespaces, when the system allows them (as root, or unprivileged
  through a user namespace): a new, empty network namespace (no network at all; the grader
  talks to the kernel over Unix sockets, which do not need one) and a private mount namespace
  in which every file system is read-only except the grading folder (``--writable``) and a
  fresh /dev/shm; and a new PID namespace, in which the kernel is process 1 and sees and can
  signal only its own processes. Started as root, the kernel also loses every capability;
* ``--user``: drop to this user and group (only when started as root).

Standard library only, and no package import: it runs before the kernel exists.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import signal
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME = 16384, 1 << 18, 1 << 21
# statvfs f_flag bits -> the mount flags a read-only remount must keep (locked in a user ns)
_KEPT_FLAGS = {1: MS_RDONLY, 2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: MS_NOATIME,
               2048: MS_NODIRATIME, 4096: MS_RELATIME}  # fmt: skip
PR_CAPBSET_DROP = 24

_libc = ctypes.CDLL(None, use_errno=True)


def _call(name: str, *args) -> None:
    if getattr(_libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}{args[:2]}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags: int, data=None) -> None:
    encode = lambda text: None if text is None else os.fsencode(text)  # noqa: E731
    _call("mount", encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags),
          encode(data))  # fmt: skip


def _mount_points() -> list[str]:
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as info:
        for line in info:
            field = line.split()[4]
            points.append(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field))
    return points


def isolate(writable: list[str]) -> None:
    """New network and mount namespaces; all read-only but ``writable``, /proc and /dev/shm."""
    root = os.geteuid() == 0
    uid, gid = os.getuid(), os.getgid()
    _call("unshare", CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID | (0 if root else CLONE_NEWUSER))
    if not root:  # map ourselves so files keep their owner inside the namespace
        with open("/proc/self/setgroups", "w") as handle:
            handle.write("deny")
        with open("/proc/self/uid_map", "w") as handle:
            handle.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as handle:
            handle.write(f"{gid} {gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    keep = [os.path.realpath(path) for path in writable]
    for path in keep:
        _mount(path, path, None, MS_BIND | MS_REC)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=256m,mode=1777")
    skip = [*keep, "/dev/shm"]
    for point in sorted(set(_mount_points()), key=len):
        if any(point == s or point.startswith(s.rstrip("/") + "/") for s in skip):
            continue
        try:
            flags = os.statvfs(point).f_flag
        except OSError:
            continue
        kept = sum(ms for st, ms in _KEPT_FLAGS.items() if flags & st)
        try:
            _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept)
        except OSError:
            if point == "/":
                raise
    if root:  # no capabilities after exec: no remounting, no overriding file permissions
        for capability in range(64):
            _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)


def set_limits(memory_bytes: int, file_bytes: int) -> None:
    """Resource limits where the platform has them (not on Windows; macOS ignores RLIMIT_AS)."""
    try:
        import resource
    except ImportError:
        return
    limits = [(resource.RLIMIT_CORE, 0)]
    if memory_bytes > 0:
        limits.append((resource.RLIMIT_AS, memory_bytes))
    if file_bytes > 0:
        limits.append((resource.RLIMIT_FSIZE, file_bytes))
    for which, value in limits:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError) as err:
            print(f"grading kernel: could not set limit {which}: {err}", file=sys.stderr)


def become_init_of_the_pid_namespace() -> None:
    """Fork: the child, PID 1 of the new PID namespace, returns; this process waits for it.

    The kernel then sees (and can signal) only its own processes. This process stays as its
    parent, passes on the signals it gets (an interrupt reaches the child directly, through
    the process group) and exits with the child's exit code.
    """
    child = os.fork()
    if child == 0:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(number, lambda received, frame: os.kill(child, received))
    _, status = os.waitpid(child, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        raise SystemExit("usage: _grading_kernel.py [options] -- KERNEL COMMAND ...")
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="_grading_kernel.py")
    parser.add_argument("--memory-bytes", type=int, default=0)
    parser.add_argument("--file-bytes", type=int, default=0)
    parser.add_argument("--isolate", action="store_true")
    parser.add_argument("--writable", action="append", default=[])
    parser.add_argument("--user", default="")
    parser.add_argument("--chown", action="append", default=[], help="files to hand to --user")
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :]

    set_limits(args.memory_bytes, args.file_bytes)
    if args.isolate:
        try:
            isolate(args.writable)
            os.chdir(os.getcwd())  # the old working folder is on the read-only mount below
            become_init_of_the_pid_namespace()
        except OSError as err:  # the grader probes beforehand and reports what it got
            print(f"grading kernel: isolation failed: {err}", file=sys.stderr)
    if args.user:
        uid, gid = (int(part) for part in args.user.split(":"))
        for path in args.chown:
            os.chown(path, uid, gid)
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
