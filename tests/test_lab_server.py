"""`course.py lab` starts JupyterLab on 127.0.0.1 only, with token authentication on.

The server is started with the exact arguments course.py uses (``lab_arguments``), on a free
port and without a browser, then stopped; the whole test is bounded to about a minute.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from lab_server_tools import IS_POSIX, course_module, free_port, stop_server

# Starts servers, browsers, kernels or whole pytest runs: `course.py check-pythons` leaves it out.
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60  # seconds; the server usually answers within a few






def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port``, read from /proc/net (Linux)."""
    found = set()
    for name, width in (("tcp", 8), ("tcp6", 32)):
        table = Path("/proc/net") / name
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if int(port_hex, 16) != port or fields[3] != "0A":  # 0A = LISTEN
                continue
            raw = bytes.fromhex(address)
            # /proc/net stores each 32-bit word in host (little-endian) order
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(socket.inet_ntop(socket.AF_INET if width == 8 else socket.AF_INET6, words))
    return found


def _get(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_lab_arguments_bind_localhost_and_refuse_a_bad_port(capsys):
    course = course_module()
    arguments = course.lab_arguments(8888)
    assert "--ServerApp.ip=127.0.0.1" in arguments
    assert not any("token=" in a.lower() or "password" in a.lower() for a in arguments)
    assert "--ServerApp.open_browser=False" in course.lab_arguments(8888, open_browser=False)
    with pytest.raises(SystemExit):
        course.lab_arguments(70000)
    assert "--port must be a whole number from 1 to 65535" in capsys.readouterr().err


def test_lab_listens_on_localhost_only_and_requires_its_token(tmp_path):
    course = course_module()
    port = free_port()
    runtime = tmp_path / "runtime"
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),  # a learner's own config stays out
    }
    command = [sys.executable, *course.lab_arguments(port, open_browser=False)]
    with open(tmp_path / "server.log", "wb") as server_log:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=server_log,
            start_new_session=IS_POSIX,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        info = None
        while time.monotonic() < deadline and server.poll() is None:
            files = list(runtime.glob("jpserver-*.json"))
            if files:
                try:
                    info = json.loads(files[0].read_text())
                    break
                except json.JSONDecodeError:  # still being written
                    pass
            time.sleep(0.2)
        log = (tmp_path / "server.log").read_text(errors="replace")
        assert info is not None, f"JupyterLab did not start within {START_TIMEOUT} s:\n{log}"
        assert info["port"] == port
        token = info["token"]
        assert len(token) >= 32, "Jupyter's token authentication is off"

        base = f"http://127.0.0.1:{port}"
        assert _get(f"{base}/api/contents") in (401, 403)
        assert _get(f"{base}/api/contents", token="wrong" + token) in (401, 403)
        assert _get(f"{base}/api/contents", token=token) == 200
        assert _get(f"{base}/api/contents?token={token}") == 200
        # the course's landing page loads; the guard (PYTHONPATH) fails this test if the
        # server reaches for the network meanwhile
        assert _get(f"{base}/lab/tree/notebooks", token=token) == 200

        if Path("/proc/net/tcp").exists():
            addresses = _listening_addresses(port)
            assert addresses, f"nothing listens on port {port}"
            assert addresses <= {"127.0.0.1"}, f"JupyterLab listens on {addresses}"
    finally:
        stop_server(server)




@pytest.mark.parametrize(
    "argv, message",
    [
        (["lab", "--scale", "0.5"], "--scale must be a number of at least 1, got 0.5"),
        (["lab", "--scale", "nan"], "--scale must be a number of at least 1"),
        (["lab", "--port", "0"], "--port must be a whole number from 1 to 65535"),
    ],
)
def test_bad_lab_options_are_refused_before_set_up(argv, message, monkeypatch, capsys):
    course = course_module()
    monkeypatch.setattr(course, "setup", lambda **kwargs: pytest.fail("set-up ran"))
    with pytest.raises(SystemExit) as info:
        course.main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_lab_scale_is_handed_to_the_notebooks_through_course_scale(monkeypatch):
    course = course_module()
    started = []
    monkeypatch.setattr(course, "setup", lambda **kwargs: None)
    monkeypatch.setattr(course, "exec_in_venv", started.append)
    monkeypatch.setenv("COURSE_SCALE", "1")  # so monkeypatch restores the original afterwards
    course.main(["lab", "--scale", "4", "--port", "9999"])
    assert os.environ["COURSE_SCALE"] == "4"
    assert "--ServerApp.port=9999" in started[0]
