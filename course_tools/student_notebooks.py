"""Make the learner's notebooks (``notebooks/``) from the solution notebooks (``solutions/``).

Every code block between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (the nbgrader markers)
becomes a stub that raises ``NotImplementedError`` naming the exercise, and all outputs are
cleared. Conventions enforced, with an error naming the notebook and cell otherwise:

* a cell with a solution block starts with a comment ``# Exercise N: title``;
* the block sits inside a function body (indented), so the student notebook still runs top
  to bottom and the exercise's check reports "not attempted" instead of crashing.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import nbformat

from course_tools.anatomy import BEGIN_MARKER, END_MARKER, EXERCISE_HEADING
from course_tools.layout import REPOSITORY, CourseLayout

__all__ = [
    "METADATA_KEY",
    "NotebookFormatError",
    "read_notebook",
    "check_notebook",
    "replace_solution_blocks",
    "make_student_notebook",
    "code_fingerprint",
    "write_student_notebooks",
]

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
            f"{', '.join(p.name for p in REPOSITORY.solution_notebooks()) or 'nothing'}."
        )
    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:  # NotJSONError, schema errors, bad encodings, ...
        raise NotebookFormatError(
            f"{path} is not a readable Jupyter notebook ({type(err).__name__}: "
            f"{str(err)[:200]}). It may be damaged or half-written: restore it, e.g. with "
            f"`git checkout -- {path.name}` in its folder, or re-save it from JupyterLab."
        ) from None


def check_notebook(notebook, name: str = "notebook") -> nbformat.NotebookNode:
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
    student = copy.deepcopy(check_notebook(solution, "solution"))
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
    notebook = check_notebook(notebook)
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
    layout: CourseLayout = REPOSITORY, *, force: bool = False, names=()
) -> list[Path]:
    """Regenerate the student notebooks; return the files that changed.

    ``names`` (numbers or stems, as for :meth:`CourseLayout.select`) limits it to those
    notebooks, so re-executing one solution leaves the others' student versions alone; all are
    regenerated when it is empty. A student notebook that has outputs has been run by someone,
    maybe with their answers in it: it is only overwritten with ``force=True``, so a learner's
    work is never lost silently.
    """
    if not isinstance(layout, CourseLayout):
        raise TypeError(
            f"layout must be a CourseLayout, got {type(layout).__name__}; e.g. "
            "CourseLayout(Path('my-course'))."
        )
    solutions_dir, notebooks_dir = layout.solutions, layout.notebooks
    sources = layout.select(names) if names else layout.solution_notebooks()
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
