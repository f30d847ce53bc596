"""Test-suite configuration shared by the unit tests and the nbval notebook runs."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import tempfile
import time
from collections import defaultdict
from importlib import metadata
from pathlib import Path

import pytest

# nbval's kernels inherit this environment. Without it TensorFlow's C++ log lines (start-up
# notes, and a spurious error on every Keras fit in TF 2.21) land on stderr, which nbval
# reports as unexpected output in compared cells.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

# Offline guard (tests/offline_guard/sitecustomize.py). Every Python process the suite starts
# (nbval's kernels, data scripts, JupyterLab) imports it through PYTHONPATH and refuses and
# logs any network access beyond this machine; this process installs it directly. Each test
# during which the log grows fails, naming the attempt, so the notebook runs nbval already does
# are the offline runs. A fresh log per session: a subprocess test of the guard uses its own.
OFFLINE_GUARD_DIR = Path(__file__).resolve().parent / "tests" / "offline_guard"
_guard_spec = importlib.util.spec_from_file_location(
    "course_offline_guard", OFFLINE_GUARD_DIR / "sitecustomize.py"
)
offline_guard = importlib.util.module_from_spec(_guard_spec)
_guard_spec.loader.exec_module(offline_guard)
_log_handle, OFFLINE_LOG = tempfile.mkstemp(prefix="course-offline-", suffix=".jsonl")
os.close(_log_handle)
os.environ[offline_guard.LOG_VARIABLE] = OFFLINE_LOG
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(OFFLINE_GUARD_DIR), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
)
offline_guard.install(OFFLINE_LOG)
_offline_reported = 0  # bytes of the log already attributed to a test
_offline_attempts: list[dict] = []
_worker_attempt_count = 0  # refused in pytest-xdist workers, which keep their own lists

_REPORTED_PACKAGES = (
    "tensorflow", "keras", "numpy", "matplotlib", "scikit-learn", "pillow",
    "nbval", "pytest", "ipykernel", "jupyterlab", "nbformat", "nbclient", "hypothesis",
)  # fmt: skip


def _other_pythons_line() -> str | None:
    """What `course.py check-pythons` proved before this run (CI sets COURSE_PYTHONS_REPORT)."""
    report = os.environ.get("COURSE_PYTHONS_REPORT")
    if not report:
        return None
    try:
        proved = json.loads(Path(report).read_text())
    except (OSError, ValueError) as err:
        return f"other Pythons: no report at {report} ({type(err).__name__})"
    if not proved.get("others"):
        return f"other Pythons: none found besides {proved.get('main')}"
    return "other Pythons, each a fresh set-up + unit tests + notebooks 01-02: " + "; ".join(
        f"{o['python']} {'passed' if o['passed'] else 'FAILED'} ({o['summary']}, "
        f"set-up {o['setup_seconds']:.0f} s, tests {o.get('test_seconds', 0):.0f} s)"
        for o in proved["others"]
    )


def pytest_report_header(config):
    versions = []
    for name in _REPORTED_PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return [
        f"course environment: Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPU cores",
        "versions: " + ", ".join(versions),
        "network: "
        + (
            "cut off (a network namespace with loopback only, made by course.py test)"
            if os.environ.get("COURSE_TEST_NETNS") == "on"
            else "not cut off; the in-process offline guard refuses connections"
        ),
        *filter(None, [_other_pythons_line()]),
    ]


# Seconds each of the slowest files took in one worker of a two-worker run of the suite on a
# 2-core machine (2026-11-30). They only order the files: course.py test hands them out longest
# first, so that both workers finish together instead of one waiting on a long file handed out
# last. A file missing here counts a tenth of a second per test.
SLOW_FILE_SECONDS = {
    "tests/test_wire.py": 99,
    "tests/test_grading_attacks.py": 97,
    "tests/test_grading.py": 87,
    "tests/test_exercise_answers.py": 79,
    "solutions/05_slope_model.ipynb": 57,
    "notebooks/05_slope_model.ipynb": 56,
    "solutions/06_transfer_learning.ipynb": 54,
    "notebooks/06_transfer_learning.ipynb": 50,
    "tests/test_determinism.py": 44,
    "notebooks/07_multitask_heads.ipynb": 42,
    "solutions/03_heads.ipynb": 39,
    "solutions/07_multitask_heads.ipynb": 38,
    "notebooks/03_heads.ipynb": 36,
    "solutions/01_cnn_basics.ipynb": 34,
    "tests/test_browser_e2e.py": 32,
    "notebooks/01_cnn_basics.ipynb": 31,
    "tests/test_nbgrader_route.py": 24,
    "tests/test_offline.py": 21,
    "notebooks/04_label_scaling.ipynb": 20,
    "solutions/04_label_scaling.ipynb": 19,
    "tests/test_backbone.py": 19,
    "tests/test_notebooks.py": 12,
}


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(session, config, items):
    # In the xdist workers, whose collection the controller hands out: longest files first, each
    # file's tests (a notebook's cells) kept in their order. A run in one process keeps testpaths order.
    if not hasattr(config, "workerinput"):
        return
    per_file = defaultdict(int)
    for item in items:
        per_file[file_of(item.nodeid)] += 1
    seconds = {path: SLOW_FILE_SECONDS.get(path, 0.1 * count) for path, count in per_file.items()}
    items.sort(key=lambda item: -seconds[file_of(item.nodeid)])


def pytest_collection_finish(session):
    # Collection imported TensorFlow, Keras and every test module: objects that live for the whole
    # run. Frozen, as setup_notebook does in a notebook's kernel, and once only: a test calling
    # setup_notebook later then freezes nothing of the tests before it.
    from course_utils.setup import _freeze_import_time_objects

    _freeze_import_time_objects()


def pytest_addoption(parser):
    parser.addoption(
        "--file-timeline", action="store_true",
        help="after the run, print when each test file started and ended in each worker, and the "
             "slowest files' seconds in the form of conftest.SLOW_FILE_SECONDS",
    )  # fmt: skip


# (worker, file) -> [first start, last end, seconds in its tests, tests], seconds since the first report
_file_spans: dict[tuple[str, str], list] = {}
_first_report_at: float | None = None


def record_file_span(spans, report, now: float) -> None:
    """Add one test report (setup, call or teardown) to its worker's span of its file."""
    gateway = getattr(getattr(report, "node", None), "gateway", None)  # set on xdist's controller
    worker = gateway.id if gateway is not None else "main"
    span = spans.setdefault((worker, file_of(report.nodeid)), [max(now - report.duration, 0.0), now, 0.0, 0])
    span[1] = now
    span[2] += report.duration
    span[3] += report.when == "call"


def file_timeline_lines(spans) -> list[str]:
    """Each worker's files in the order they ran, then the slowest as SLOW_FILE_SECONDS entries."""
    lines = []
    for worker in sorted({worker for worker, _ in spans}):
        rows = sorted((start, end, busy, tests, path) for (w, path), (start, end, busy, tests) in spans.items()
                      if w == worker)  # fmt: skip
        lines.append(f"{worker}: {len(rows)} files, last one ends at {max(row[1] for row in rows):.0f} s")
        lines += [f"  {start:7.1f} {end:7.1f} {busy:7.1f} s {tests:5d} tests  {path}" for start, end, busy, tests, path in rows]
    slowest = sorted(((busy, path) for (_, path), (_, _, busy, _) in spans.items() if busy >= 10), reverse=True)
    lines.append("SLOW_FILE_SECONDS = {")
    lines += [f'    "{path}": {busy:.0f},' for busy, path in slowest]
    lines.append("}")
    return lines


def pytest_runtest_logreport(report):
    global _first_report_at
    now = time.monotonic()
    if _first_report_at is None:
        _first_report_at = now - report.duration
    record_file_span(_file_spans, report, now - _first_report_at)


def pytest_terminal_summary(terminalreporter, config):
    late = getattr(config, "_offline_late", None)
    if late:
        terminalreporter.section("network access outside any test", red=True)
        terminalreporter.write_line(late)
    count = len(_offline_attempts) + _worker_attempt_count
    terminalreporter.write_line(
        f"offline guard: {count} network access attempt(s) refused"
        + ("" if count else "; the run stayed on this machine")
    )
    if config.getoption("file_timeline") and _file_spans:
        terminalreporter.section("test files per worker: start, end, seconds in tests (--file-timeline)")
        for line in file_timeline_lines(_file_spans):
            terminalreporter.write_line(line)
    # Summed over setup, call and teardown: a notebook's first cell's setup starts its kernel.
    notebook_seconds = defaultdict(float)
    for (_, path), (_, _, seconds, _) in _file_spans.items():
        if path.endswith(".ipynb"):
            notebook_seconds[path] += seconds
    if not notebook_seconds:
        return
    terminalreporter.section("notebook execution times (kernel start included)")
    for path, seconds in sorted(notebook_seconds.items()):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
    terminalreporter.write_line(f"{sum(notebook_seconds.values()):7.1f} s  all notebooks")


def _new_offline_attempts() -> list[dict]:
    global _offline_reported
    try:
        with open(OFFLINE_LOG, "rb") as log:
            log.seek(_offline_reported)
            data = log.read()
    except FileNotFoundError:
        return []
    complete = data[: data.rfind(b"\n") + 1]  # a line still being written waits
    _offline_reported += len(complete)
    found = [json.loads(line) for line in complete.splitlines() if line.strip()]
    _offline_attempts.extend(found)
    return found


def _describe_attempts(attempts: list[dict]) -> str:
    lines = ["The offline guard refused network access (the course must run offline):"]
    for entry in attempts:
        lines.append(
            f"  {entry['event']} to {entry['target']} by pid {entry['pid']} {entry['argv']}"
        )
        lines.extend("    " + line for line in entry["stack"].rstrip().splitlines())
    return "\n".join(lines)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    attempts = _new_offline_attempts()
    if attempts:
        # nbval waits for each cell to finish, so a kernel's attempt lands in its cell's report.
        report.outcome = "failed"
        report.longrepr = _describe_attempts(attempts)


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    attempts = _new_offline_attempts()  # made outside any test, e.g. while a kernel shut down
    late = [_describe_attempts(attempts)] if attempts else []
    late += getattr(config, "_offline_late_in_workers", [])
    if late:
        config._offline_late = "\n".join(late)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if hasattr(config, "workeroutput"):  # a pytest-xdist worker: the controller reports for it
        config.workeroutput["course_offline_attempts"] = len(_offline_attempts)
        config.workeroutput["course_offline_late"] = late[0] if attempts else None


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """A pytest-xdist worker finished (``course.py test`` runs the suite in several): count the
    attempts its guard refused, and fail the session for any it saw outside a test."""
    global _worker_attempt_count
    output = getattr(node, "workeroutput", None) or {}
    _worker_attempt_count += output.get("course_offline_attempts", 0)
    if output.get("course_offline_late"):
        late = getattr(node.config, "_offline_late_in_workers", [])
        node.config._offline_late_in_workers = [*late, output["course_offline_late"]]


def pytest_unconfigure(config):
    Path(OFFLINE_LOG).unlink(missing_ok=True)
