"""Offline guard of the test suite: refuse and log every attempt to reach the network.

conftest.py puts this folder first on ``PYTHONPATH`` and names a log file in
``COURSE_OFFLINE_LOG``, so every Python process the suite starts imports this file at start-up
(``sitecustomize`` is imported by ``site``): nbval's notebook kernels, data scripts run as
subprocesses, JupyterLab. The pytest process itself installs it from conftest.py.

It installs an audit hook (PEP 578) on the ``socket.*`` events. A connection, datagram, DNS
look-up or reverse look-up aimed anywhere but this machine (loopback, unspecified address,
``localhost``, Unix sockets) is refused with :class:`NetworkBlockedError` (a
``ConnectionRefusedError``, so code sees what it would see offline) and appended to the log as
one JSON line. conftest.py fails the test during which a line appeared, and the session if a
line appears outside any test, so even code that catches the error and falls back is caught.

Limits: only Python-level socket calls raise audit events; C or C++ code that opens its own
sockets is not seen (tests/test_offline.py covers that with a network namespace where it can).
Standard library only: this runs before anything else in every process.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
import traceback

LOG_VARIABLE = "COURSE_OFFLINE_LOG"
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class NetworkBlockedError(ConnectionRefusedError):
    """Raised instead of a network access while the test suite runs."""


def is_local_host(host) -> bool:
    """True for loopback or unspecified addresses and for localhost names (or no host)."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    host = host.strip().strip("[]").lower()
    if host == "":
        return True
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False  # any other name needs DNS
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_loopback or address.is_unspecified


def _target_of(event: str, args: tuple):
    """Return the remote host the event aims at, or None when it stays on this machine."""
    import socket

    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock, address = args[0], args[1]
        if address is None:  # sendmsg on a connected socket: checked at connect
            return None
        if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
            return None  # Unix sockets, netlink and the like stay on this machine
        host = address[0] if isinstance(address, tuple) and address else address
        return None if is_local_host(host) else address
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
        host = args[0]
        return None if is_local_host(host) else host
    if event == "socket.getnameinfo":
        sockaddr = args[0]
        host = sockaddr[0] if isinstance(sockaddr, tuple) and sockaddr else sockaddr
        return None if is_local_host(host) else sockaddr
    return None


def install(log_path: str) -> None:
    """Install the guard in this process; attempts are logged to ``log_path``.

    Installing again only moves the log (an audit hook cannot be removed): a pytest-xdist
    worker starts with its controller's log from this file and switches to its own.
    """
    if getattr(sys, "_course_offline_guard", None):
        sys._course_offline_guard = log_path
        return
    sys._course_offline_guard = log_path
    busy = []

    def hook(event, args):
        if not event.startswith("socket.") or busy:
            return
        busy.append(True)
        try:
            target = _target_of(event, args)
            if target is None:
                return
            stack = traceback.format_stack(limit=8)[:-2]
            entry = {
                "pid": os.getpid(),
                "event": event,
                "target": repr(target),
                "argv": sys.argv[:3],
                "stack": "".join(stack[-4:]),
            }
            with open(sys._course_offline_guard, "a", encoding="utf-8") as log:
                log.write(json.dumps(entry) + "\n")
        finally:
            busy.pop()
        raise NetworkBlockedError(
            f"the course's test suite runs offline and refused {event} to {target!r}. "
            "Course code must not use the network: generate data with course_utils or "
            "data_scripts, or use files an installed package ships."
        )

    sys.addaudithook(hook)


def _chain_next_sitecustomize() -> None:
    """Run the sitecustomize this file shadows (some Python builds ship one)."""
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        folder = os.path.abspath(entry or os.getcwd())
        candidate = os.path.join(folder, "sitecustomize.py")
        if folder != here and os.path.isfile(candidate):
            with open(candidate, encoding="utf-8") as handle:
                code = compile(handle.read(), candidate, "exec")
            exec(code, {"__name__": "sitecustomize", "__file__": candidate})
            return


if os.environ.get(LOG_VARIABLE) and __name__ == "sitecustomize":
    install(os.environ[LOG_VARIABLE])
    _chain_next_sitecustomize()
