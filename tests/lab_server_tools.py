"""What the JupyterLab tests (test_lab_server.py, test_browser_e2e.py) share."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IS_POSIX = hasattr(os, "killpg")


def course_module():
    """course.py loaded as a module, so a test starts JupyterLab with its exact arguments."""
    spec = importlib.util.spec_from_file_location("course_cli_for_lab", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_server(server: subprocess.Popen) -> None:
    """Stop the server and anything it started (its own process group on POSIX)."""
    if server.poll() is not None:
        return
    if IS_POSIX:
        os.killpg(server.pid, signal.SIGTERM)
    else:
        server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL) if IS_POSIX else server.kill()
        server.wait(timeout=5)
