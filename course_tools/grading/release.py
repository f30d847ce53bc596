"""Which released notebook a submission answers, and what the learner changed in it."""

from __future__ import annotations

import difflib
from pathlib import Path

from course_tools.anatomy import CHECK_CALL, exercise_cells, is_help_call
from course_tools.layout import REPOSITORY, CourseLayout

__all__ = ["compare_with_release", "find_release", "student_name", "checks_module_of"]


def _normalise(source: str) -> str:
    lines = [line for line in source.splitlines() if not is_help_call(line)]
    return " ".join(" ".join(lines).split())


def _check_line(exercise) -> str | None:
    match = exercise.check
    return _normalise(match.group(0)) if match else None


def compare_with_release(submission, release) -> tuple[dict[int, list[str]], list[str]]:
    """Differences that matter for grading: per exercise number, and for the other code cells."""
    released, submitted = exercise_cells(release), exercise_cells(submission)
    per_exercise: dict[int, list[str]] = {}
    for number in released:
        flags = per_exercise.setdefault(number, [])
        if number not in submitted:
            flags.append("exercise cell deleted")
            continue
        got = submitted[number].cell
        expected_line = _check_line(released[number])
        got_line = _check_line(submitted[number])
        if got_line is None:
            flags.append("check line removed")
        elif got_line != expected_line:
            flags.append(f"check line changed to `{got_line}`")
        others = [
            line.strip()
            for line in got.source.splitlines()
            if "checks" in line and not CHECK_CALL.match(line.strip())
            and not is_help_call(line) and not line.strip().startswith("#")
        ]  # fmt: skip
        if others:
            flags.append(f"exercise cell uses `checks` beyond its check line: `{others[0]}`")
    for number in sorted(set(submitted) - set(released)):
        per_exercise.setdefault(number, []).append("exercise not in the release")

    def plain(notebook):
        exercise_indices = {exercise.index for exercise in exercise_cells(notebook).values()}
        return [
            (index, cell)
            for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and index not in exercise_indices
        ]

    # empty cells and cells of hint() / solution() calls only are nobody's business
    old = [(i, c) for i, c in plain(release) if _normalise(c.source)]
    new = [(i, c) for i, c in plain(submission) if _normalise(c.source)]
    matcher = difflib.SequenceMatcher(
        a=[_normalise(c.source) for _, c in old], b=[_normalise(c.source) for _, c in new],
        autojunk=False,
    )  # fmt: skip
    notebook_flags = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            for index, cell in old[i1:i2]:
                verb = "changed" if tag == "replace" else "deleted"
                notebook_flags.append(f"code cell {index} {verb} ({_first_line(cell.source)})")
        if tag in ("replace", "insert"):
            added = [index for index, _ in new[j1:j2]]
            if tag == "insert" or len(added) > i2 - i1:
                notebook_flags.append(f"code cells added by the learner: {added}")
    return per_exercise, notebook_flags


def _first_line(source: str) -> str:
    line = next((line.strip() for line in source.splitlines() if line.strip()), "empty")
    return line if len(line) <= 60 else line[:57] + "..."


def find_release(
    submission: Path, release: Path | None = None, layout: CourseLayout = REPOSITORY
) -> Path:
    """The released notebook a submission answers: ``release`` if given, else by file name.

    ``02_shape_arithmetic.ipynb`` and ``alice_02_shape_arithmetic.ipynb`` both answer
    ``notebooks/02_shape_arithmetic.ipynb`` of ``layout``.
    """
    if release is not None:
        return Path(release)
    candidates = sorted(layout.notebooks.glob("*.ipynb"))
    exact = [p for p in candidates if p.name == submission.name]
    if exact:
        return exact[0]
    inside = [p for p in candidates if p.stem in submission.stem]
    if len(inside) == 1:
        return inside[0]
    raise ValueError(
        f"cannot tell which released notebook {submission} answers: its name should contain "
        f"one of {', '.join(p.stem for p in candidates)}; or pass --release notebooks/NN_name.ipynb."
    )


def student_name(submission: Path, release: Path) -> str:
    """The folder name for ``alice/02_x.ipynb``; the rest of the name for ``alice_02_x.ipynb``."""
    if submission.name == release.name:
        return submission.resolve().parent.name
    rest = submission.stem.replace(release.stem, "").strip("_- .")
    return rest or submission.stem


def checks_module_of(release: Path):
    """The module of checks registered for a released notebook, or None if it has none."""
    from course_utils.exercises import checks_for

    try:
        return checks_for(Path(release).name)
    except LookupError:
        return None
