"""Re-execute solution notebooks in place, recording a fingerprint of the code that ran."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat

from course_tools.student_notebooks import (
    METADATA_KEY,
    check_notebook,
    code_fingerprint,
    read_notebook,
)

__all__ = ["run_notebook", "execute_solution"]


def run_notebook(notebook: nbformat.NotebookNode, workdir, timeout: int = 600) -> float:
    """Run every cell of ``notebook`` in a fresh kernel started in ``workdir``; return the seconds.

    The outputs are stored in ``notebook`` itself; no file is written.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell raised.
    """
    from nbclient import NotebookClient

    notebook = check_notebook(notebook)
    if not isinstance(workdir, (str, Path)) or not Path(workdir).is_dir():
        raise NotADirectoryError(
            f"workdir must be an existing folder for the kernel to start in, got {workdir!r}; "
            "create it first (the notebook's own folder is the usual choice)."
        )
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    started = time.perf_counter()
    client.execute()
    return time.perf_counter() - started


def execute_solution(path: Path, timeout: int = 600) -> float:
    """Execute one solution notebook in place and return the seconds it took.

    The file is only rewritten when every cell ran, so a failure loses nothing.
    """
    from nbclient.exceptions import CellExecutionError

    notebook = read_notebook(path)
    try:
        seconds = run_notebook(notebook, Path(path).parent, timeout=timeout)
    except CellExecutionError as err:
        raise RuntimeError(f"{path} failed; the file was left unchanged.\n{err}") from None
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # timestamps would make every run a diff
    notebook.metadata[METADATA_KEY] = {"code_sha256": code_fingerprint(notebook)}
    nbformat.write(notebook, path)
    return seconds
