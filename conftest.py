"""Test-suite configuration shared by the unit tests and the nbval notebook runs."""

from __future__ import annotations

import os
import platform
from collections import defaultdict
from importlib import metadata

# nbval's kernels inherit this environment. Without it TensorFlow's C++ log lines (start-up
# notes, and a spurious error on every Keras fit in TF 2.21) land on stderr, which nbval
# reports as unexpected output in compared cells.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

_REPORTED_PACKAGES = (
    "tensorflow", "keras", "numpy", "matplotlib", "scikit-learn", "pillow",
    "nbval", "pytest", "ipykernel", "jupyterlab", "nbformat", "nbclient", "hypothesis",
)  # fmt: skip
_notebook_seconds: dict[str, float] = defaultdict(float)


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
    ]


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        # setup of a notebook's first cell includes starting its kernel: count it too
        _notebook_seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook execution times (kernel start included)")
    for path, seconds in sorted(_notebook_seconds.items()):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
    total = sum(_notebook_seconds.values())
    terminalreporter.write_line(f"{total:7.1f} s  all notebooks")
