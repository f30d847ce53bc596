"""What the grader tests share: the sandbox this machine can make, or a skip (a failure in CI)."""

from __future__ import annotations

import os

import pytest

from course_tools.grading import sandbox_capabilities


def require_sandbox(capabilities: dict | None = None) -> dict:
    """``capabilities`` (probed when omitted) if bubblewrap can run here; else skip, or fail in
    CI, whose .ci/run installs it."""
    found = sandbox_capabilities() if capabilities is None else capabilities
    if found["mode"] == "none":
        message = f"no sandbox on this machine: {found['reason']}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI must grade in the sandbox: .ci/run installs bubblewrap)")
        pytest.skip(message)
    return found
