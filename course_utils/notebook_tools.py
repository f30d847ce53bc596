"""Maintainer tools: make the student notebooks from the solutions, and re-execute solutions.

``solutions/`` holds the complete notebooks, executed, with outputs. ``notebooks/`` is made
from them: every code block between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (the
nbgrader markers) becomes a stub that raises ``NotImplementedError`` naming the exercise, and
all outputs are cleared.

Conventions the tools enforce, with an error naming the notebook and cell otherwise:

* a cell with a solution block starts with a comment ``# Exercise N: title``;
* the block sits inside a function body (indented), so the student notebook still runs top
  to bottom and the exercise's check reports "not attempted" instead of crashing.

Command line (through ``course.py``)::

    python -m course_utils.notebook_tools students [--force]
    python -m course_utils.notebook_tools execute [NAME ...]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import re
import sys
import time
from pathlib import Path

import nbformat

BEGIN_MARKER = "### BEGIN SOLUTION"
END_MARKER = "### END SOLUTION"
EXERCISE_HEADING = re.compile(r"^#\s*(Exercise\s+\d+)\s*:", re.IGNORECASE)
REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = REPO_ROOT / "solutions"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
# Metadata key under which `execute` records a hash of the code it ran.
METADATA_KEY = "course"


class NotebookFormatError(ValueError):
    """A solution notebook breaks one of the conventions above."""


def read_notebook(path) -> nbformat.NotebookNode:
    """Read a notebook file, with an error naming the file and the fix if it is unreadable."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist or is not a file. Check the name; solutions/ holds "
            f"{', '.join(p.name for p in sorted(SOLUTIONS_DIR.glob('*.ipynb'))) or 'nothing'}."
        )
    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:  # NotJSONError, schema errors, bad encodings, ...
        raise NotebookFormatError(
            f"{path} is not a readable Jupyter notebook ({type(err).__name__}: "
            f"{str(err)[:200]}). It may be damaged or half-written: restore it, e.g. with "
            f"`git checkout -- {path.name}` in its folder, or re-save it from JupyterLab."
        ) from None


def _check_notebook(notebook, name: str = "notebook") -> nbformat.NotebookNode:
    if isinstance(notebook, dict) and not isinstance(notebook, nbformat.NotebookNode):
        notebook = nbformat.from_dict(notebook)
    if (
        not isinstance(notebook, nbformat.NotebookNode)
        or not isinstance(notebook.get("cells"), list)
        or not isinstance(notebook.get("metadata"), dict)
    ):
        raise TypeError(
            f"{name} must be a notebook as read by nbformat.read(path, as_version=4), got "
            f"{type(notebook).__name__}."
        )
    return notebook


def replace_solution_blocks(source: str, where: str = "cell") -> tuple[str, int]:
    """Replace each solution block in one cell's source by a stub.

    Parameters
    ----------
    source : str
        The cell's code.
    where : str
        Names the cell in error messages, e.g. ``"solutions/02.ipynb, cell 14"``.

    Returns
    -------
    (str, int)
        The new source and the number of blocks replaced.
    """
    if not isinstance(source, str):
        raise TypeError(
            f"{where}: the cell source must be a string, got {type(source).__name__}; pass "
            "cell.source of a notebook read with nbformat."
        )
    lines = source.splitlines()
    if not any(line.strip() == BEGIN_MARKER for line in lines):
        if any(line.strip() == END_MARKER for line in lines):
            raise NotebookFormatError(f"{where}: '{END_MARKER}' without a '{BEGIN_MARKER}'.")
        return source, 0
    heading = EXERCISE_HEADING.match(lines[0].strip()) if lines else None
    if heading is None:
        raise NotebookFormatError(
            f"{where}: a cell with a solution block must start with a comment like "
            f"'# Exercise 3: output size of a convolution', so the stub can name it."
        )
    exercise = heading.group(1)
    out: list[str] = []
    blocks = 0
    inside = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped == BEGIN_MARKER:
            if inside:
                raise NotebookFormatError(f"{where}, line {number}: nested '{BEGIN_MARKER}'.")
            indent = line[: len(line) - len(line.lstrip())]
            if not indent:
                raise NotebookFormatError(
                    f"{where}, line {number}: the solution block must be inside a function "
                    "body (indented), so the student notebook still runs and the check can "
                    "report 'not attempted'."
                )
            out.append(f"{indent}# YOUR CODE HERE")
            out.append(
                f'{indent}raise NotImplementedError("{exercise}: replace this line with your '
                'code, then run the cell.")'
            )
            inside = True
            blocks += 1
        elif stripped == END_MARKER:
            if not inside:
                raise NotebookFormatError(f"{where}, line {number}: '{END_MARKER}' without begin.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise NotebookFormatError(f"{where}: '{BEGIN_MARKER}' is never closed by '{END_MARKER}'.")
    return "\n".join(out), blocks


def make_student_notebook(solution: nbformat.NotebookNode, name: str = "notebook"):
    """Return the student version of a solution notebook (the input is not changed)."""
    student = copy.deepcopy(_check_notebook(solution, "solution"))
    student.metadata.pop(METADATA_KEY, None)
    for index, cell in enumerate(student.cells):
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        cell.source, _ = replace_solution_blocks(cell.source, f"{name}, cell {index}")
        cell.outputs = []
        cell.execution_count = None
    return student


def code_fingerprint(notebook: nbformat.NotebookNode) -> str:
    """SHA-256 of all code cells' sources: tells whether code changed since execution."""
    notebook = _check_notebook(notebook)
    digest = hashlib.sha256()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            digest.update(cell.source.encode("utf-8") + b"\0")
    return digest.hexdigest()


def _as_file_text(notebook: nbformat.NotebookNode) -> str:
    """The exact text ``nbformat.write`` puts in a file."""
    text = nbformat.writes(notebook)
    return text if text.endswith("\n") else text + "\n"


def _is_untouched_student_notebook(path: Path) -> bool:
    """True if the file has no outputs, i.e. no learner has run it (safe to overwrite)."""
    notebook = read_notebook(path)
    return all(
        not cell.get("outputs") and cell.get("execution_count") is None
        for cell in notebook.cells
        if cell.cell_type == "code"
    )


def write_student_notebooks(
    solutions_dir: Path = SOLUTIONS_DIR,
    notebooks_dir: Path = NOTEBOOKS_DIR,
    force: bool = False,
) -> list[Path]:
    """Regenerate every student notebook; return the files that changed.

    A student notebook that has outputs has been run by someone, maybe with their answers in
    it: it is only overwritten with ``force=True``, so a learner's work is never lost silently.
    """
    sources = sorted(Path(solutions_dir).glob("*.ipynb"))
    if not sources:
        raise FileNotFoundError(
            f"no notebooks found in {solutions_dir}. Run the command from the course folder, "
            "whose solutions/ holds the NN_name.ipynb solution notebooks."
        )
    if Path(notebooks_dir).exists() and not Path(notebooks_dir).is_dir():
        raise NotADirectoryError(
            f"{notebooks_dir} is a file, but the student notebooks go into a folder of that "
            "name. Move the file away and run the command again."
        )
    Path(notebooks_dir).mkdir(parents=True, exist_ok=True)
    planned = []
    for source in sources:
        student = make_student_notebook(read_notebook(source), source.name)
        target = Path(notebooks_dir) / source.name
        text = _as_file_text(student)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        if target.exists() and not force and not _is_untouched_student_notebook(target):
            raise FileExistsError(
                f"{target} has outputs, so someone has worked in it. Move it away (your "
                "answers are in it) or pass --force to overwrite it."
            )
        planned.append((target, text))
    for target, text in planned:
        target.write_text(text, encoding="utf-8")
    return [target for target, _ in planned]


def run_notebook(notebook: nbformat.NotebookNode, workdir, timeout: int = 600) -> float:
    """Run every cell of ``notebook`` in a fresh kernel started in ``workdir``; return the seconds.

    The outputs are stored in ``notebook`` itself; no file is written.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell raised.
    """
    from nbclient import NotebookClient

    notebook = _check_notebook(notebook)
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


def _select(names: list[str]) -> list[Path]:
    available = sorted(SOLUTIONS_DIR.glob("*.ipynb"))
    if not names:
        return available
    chosen = []
    for name in names:
        matches = [p for p in available if p.stem == name or p.stem.startswith(f"{name}_")]
        if len(matches) != 1:
            listing = ", ".join(p.stem for p in available)
            raise SystemExit(f"no single solution notebook matches {name!r}; choose from {listing}")
        chosen.extend(matches)
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.notebook_tools")
    sub = parser.add_subparsers(dest="command", required=True)
    p_students = sub.add_parser("students", help="regenerate notebooks/ from solutions/")
    p_students.add_argument("--force", action="store_true", help="overwrite notebooks with outputs")
    p_execute = sub.add_parser("execute", help="re-execute solutions, then regenerate students")
    p_execute.add_argument("names", nargs="*", help="e.g. 01 or 01_cnn_basics; default: all")
    args = parser.parse_args(argv)

    if args.command == "execute":
        for path in _select(args.names):
            print(f"executing {path.relative_to(REPO_ROOT)} ...", flush=True)
            print(f"  done in {execute_solution(path):.1f} s", flush=True)
    changed = write_student_notebooks(force=getattr(args, "force", False))
    for path in changed:
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    if not changed:
        print("student notebooks already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
