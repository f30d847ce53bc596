"""The course runs offline: the test suite's guard catches network access, and data scripts run
with the network cut off.

How the suite stays offline (see conftest.py and tests/offline_guard/sitecustomize.py): every
Python process it starts, nbval's notebook kernels included, refuses and logs any connection or
DNS look-up beyond this machine, and the test during which that happens fails. So the notebook
runs nbval already does are the offline runs, at no extra cost. These tests prove the guard
catches real attempts (also ones the code catches and hides), and, on Linux where a network
namespace can be made, that data scripts also run with the network really gone, which covers
C-level code the guard cannot see.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

# Starts servers, browsers, kernels or whole pytest runs: `course.py check-pythons` leaves it out.
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
GUARD_FILE = ROOT / "tests" / "offline_guard" / "sitecustomize.py"
DATA_SCRIPTS = sorted((ROOT / "data_scripts").glob("*.py"))

# How each data script is run offline: small but real work, output under {tmp}. A new script
# must be added here (a test says so), so every data script is exercised with the network off.
DATA_SCRIPT_ARGUMENTS = {
    "make_slope_dataset.py": ["--out", "{tmp}/slope", "--count", "6", "--quiet"],
    "benchmark_slope_generator.py": ["--count", "2"],
    "pretrain_backbone.py": ["--out", "{tmp}/backbone", "--images", "200", "--epochs", "1", "--quiet"],
}

# Brings the loopback interface up from Python (a new network namespace has it down), so the
# check does not depend on the `ip` tool. SIOCGIFFLAGS / SIOCSIFFLAGS, IFF_UP.
LOOPBACK_UP = textwrap.dedent(
    """
    import fcntl, socket, struct
    _s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    _req = struct.pack("16sH14s", b"lo", 0, b"")
    _flags = struct.unpack("16sH14s", fcntl.ioctl(_s, 0x8913, _req))[1]
    fcntl.ioctl(_s, 0x8914, struct.pack("16sH14s", b"lo", _flags | 1, b""))
    _s.close()
    """
)


def _guard_module():
    spec = importlib.util.spec_from_file_location("offline_guard_under_test", GUARD_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _env_with_log(log: Path) -> dict:
    """This session's environment (guard on PYTHONPATH), logging to ``log`` instead."""
    return {**os.environ, "COURSE_OFFLINE_LOG": str(log)}


def _read_log(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


# --------------------------------------------------------------------------------------------
# The guard
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host, local",
    [
        (None, True), ("", True), ("localhost", True), ("LOCALHOST", True), (b"localhost", True),
        ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
        ("0.0.0.0", True), ("::", True), ("::ffff:127.0.0.1", True), ("app.localhost", True),
        ("1.1.1.1", False), ("8.8.8.8", False), ("10.0.0.1", False), ("192.168.1.5", False),
        ("2606:4700::1111", False), ("::ffff:1.1.1.1", False), ("pypi.org", False),
        ("localhost.evil.com", False), ("<broadcast>", False), (12345, False),
    ],
)  # fmt: skip
def test_guard_tells_this_machine_from_the_network(host, local):
    assert _guard_module().is_local_host(host) is local


PROBE = textwrap.dedent(
    """
    import socket, sys, urllib.request
    refused = []
    attempts = [
        ("tcp", lambda: socket.create_connection(("1.1.1.1", 80), timeout=3)),
        ("tcp6", lambda: socket.socket(socket.AF_INET6).connect(("2606:4700::1111", 80))),
        ("connect_ex", lambda: socket.socket().connect_ex(("8.8.8.8", 53))),
        ("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53))),
        ("dns", lambda: socket.gethostbyname("pypi.org")),
        ("http", lambda: urllib.request.urlopen("https://pypi.org/simple/", timeout=3)),
    ]
    for name, attempt in attempts:
        try:
            attempt()
        except OSError as err:  # urllib wraps it in URLError
            assert "runs offline" in str(err), err
            refused.append(name)
    # this machine stays reachable: a loopback server, a loopback client, a Unix socket pair
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(("localhost", server.getsockname()[1]), timeout=3)
    client.close(); server.close()
    a, b = socket.socketpair(); a.close(); b.close()
    print(",".join(refused))
    """
)


def test_guard_refuses_and_logs_network_access_but_allows_loopback(tmp_path):
    log = tmp_path / "offline.jsonl"
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=_env_with_log(log),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["tcp,tcp6,connect_ex,udp,dns,http"]
    entries = _read_log(log)
    assert [e["event"] for e in entries] == [
        "socket.getaddrinfo",  # create_connection resolves first; refused before connecting
        "socket.connect",
        "socket.connect",
        "socket.sendto",
        "socket.gethostbyname",
        "socket.getaddrinfo",
    ]
    targets = " ".join(e["target"] for e in entries)
    for target in ("1.1.1.1", "2606:4700::1111", "8.8.8.8", "pypi.org"):
        assert target in targets
    assert "127.0.0.1" not in targets and "localhost" not in targets


def test_guard_is_off_outside_the_test_suite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "COURSE_OFFLINE_LOG"}
    code = "import sys; print(hasattr(sys, '_course_offline_guard'))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr


HIDDEN_ATTEMPT_TESTS = """
import socket

def test_hidden_attempt():
    try:
        socket.create_connection(("1.1.1.1", 443), timeout=1)
    except OSError:
        pass  # a quiet fallback: the guard's log still tells

def test_clean():
    assert 1 + 1 == 2
"""

LATE_ATTEMPT_CONFTEST = """
import socket

def pytest_sessionfinish(session):
    try:
        socket.getaddrinfo("late.example.org", 80)
    except OSError:
        pass
"""


@pytest.mark.parametrize(
    "workers, refused",
    [([], 3), (["-n", "2", "--dist", "loadfile"], 5)],  # the late hook runs in each worker too
    ids=["one process", "two xdist workers"],
)
def test_suite_fails_on_network_access_even_when_the_code_hides_the_error(tmp_path, workers, refused):
    """End to end, as `course.py test` runs: pytest + nbval + this repository's conftest.py,
    in one process and in pytest-xdist workers.

    A notebook cell and a unit test each try the network and swallow the error, and a hook
    tries it after the last test: the cell and the test fail, naming what they reached for,
    and so does the session.
    """
    cells = [
        new_code_cell("x = 1 + 1"),
        new_code_cell(
            "import urllib.request\n"
            "try:\n"
            "    urllib.request.urlopen('https://example.com/data.csv', timeout=3)\n"
            "except OSError as err:\n"
            "    print('no network, using a fallback')"
        ),
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, tmp_path / "reaches_out.ipynb")
    (tmp_path / "test_hidden.py").write_text(HIDDEN_ATTEMPT_TESTS)
    (tmp_path / "conftest.py").write_text(LATE_ATTEMPT_CONFTEST)
    env = {k: v for k, v in os.environ.items() if k != "COURSE_OFFLINE_LOG"}
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "conftest", "-c", str(ROOT / "pyproject.toml"),
            "--rootdir", str(ROOT), "--confcutdir", str(tmp_path), "-q", "-p", "no:randomly", *workers,
            str(tmp_path / "reaches_out.ipynb"), str(tmp_path / "test_hidden.py"),
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "2 failed, 2 passed" in out, out
    assert "FAILED ::Cell 1 - The offline guard" in out, out  # the cell that reached out
    assert "FAILED ::test_hidden_attempt - The offline guard" in out, out
    assert "example.com" in out and "1.1.1.1" in out, out
    assert "network access outside any test" in out and "late.example.org" in out, out
    assert f"offline guard: {refused} network access attempt(s) refused" in out, out


# --------------------------------------------------------------------------------------------
# Data scripts, with the network really cut off where the system allows it
# --------------------------------------------------------------------------------------------


@cache
def _namespace_prefix() -> tuple[str, ...] | None:
    """A command prefix that runs a program in a new network namespace, or None."""
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return None
    candidates = [("unshare", "--net", "--map-root-user")]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        candidates.append(("unshare", "--net"))
    for prefix in candidates:
        probe = subprocess.run([*prefix, sys.executable, "-c", LOOPBACK_UP], capture_output=True)
        if probe.returncode == 0:
            return prefix
    return None


def _offline_command(arguments: list[str]) -> list[str]:
    """Run a Python script in a network namespace with loopback only, where available."""
    prefix = _namespace_prefix()
    if prefix is None:
        return [sys.executable, *arguments]
    runner = LOOPBACK_UP + textwrap.dedent(
        """
        import os, runpy, sys
        sys.argv = sys.argv[1:]
        sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))  # as `python script`
        runpy.run_path(sys.argv[0], run_name="__main__")
        """
    )
    return [*prefix, sys.executable, "-c", runner, *arguments]


NAMESPACE_PROBE = textwrap.dedent(
    """
    import errno, socket, sys
    server = socket.create_server(("127.0.0.1", 0))
    socket.create_connection(server.getsockname(), timeout=3).close()
    try:
        socket.create_connection(("1.1.1.1", 80), timeout=3)
    except OSError as err:
        print("unreachable", errno.errorcode.get(err.errno, err.errno))
    else:
        print("CONNECTED")
    """
)


def test_network_namespace_cuts_off_connections_the_guard_cannot_see(tmp_path):
    if _namespace_prefix() is None:
        pytest.skip("no network namespaces here (needs Linux and unshare); the guard still runs")
    # Without the guard, so what refuses the connection is the namespace itself: the same would
    # hold for a connection made by C code.
    env = {k: v for k, v in os.environ.items() if k not in {"COURSE_OFFLINE_LOG", "PYTHONPATH"}}
    script = tmp_path / "probe.py"
    script.write_text(NAMESPACE_PROBE)
    result = subprocess.run(
        _offline_command([str(script)]), env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "unreachable", result.stdout


def test_the_whole_run_is_in_a_network_namespace_when_course_py_says_so():
    """`course.py test` runs the suite in a namespace with loopback only where Linux allows it;
    then every notebook kernel, data script and server of the run is offline, C code included."""
    if os.environ.get("COURSE_TEST_NETNS") != "on":
        pytest.skip("not started by `course.py test` in a network namespace")
    env = {k: v for k, v in os.environ.items() if k not in {"COURSE_OFFLINE_LOG", "PYTHONPATH"}}
    result = subprocess.run(
        [sys.executable, "-c", NAMESPACE_PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr  # loopback works: kernels can be reached
    assert result.stdout.split()[0] == "unreachable", result.stdout


def test_every_data_script_has_offline_arguments():
    missing = sorted({p.name for p in DATA_SCRIPTS} - set(DATA_SCRIPT_ARGUMENTS))
    assert not missing, (
        f"add {missing} to DATA_SCRIPT_ARGUMENTS in tests/test_offline.py (small arguments "
        "that still do real work), so the script is run with the network cut off"
    )
    stale = sorted(set(DATA_SCRIPT_ARGUMENTS) - {p.name for p in DATA_SCRIPTS})
    assert not stale, f"DATA_SCRIPT_ARGUMENTS names scripts that no longer exist: {stale}"


@pytest.mark.parametrize("script", DATA_SCRIPTS, ids=[p.stem for p in DATA_SCRIPTS])
def test_data_script_runs_with_the_network_cut_off(script, tmp_path):
    if script.name not in DATA_SCRIPT_ARGUMENTS:
        pytest.fail(f"no offline arguments for {script.name}; see the test above")
    arguments = [a.format(tmp=tmp_path) for a in DATA_SCRIPT_ARGUMENTS[script.name]]
    # The session's guard stays on, and its log is this session's: an attempt fails this test.
    result = subprocess.run(
        _offline_command([str(script), *arguments]),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{script.name} failed offline:\n{result.stderr[-3000:]}"
