"""What an exercise cell looks like: defined once, for every tool that reads notebooks.

An exercise cell of a solution notebook::

    # Exercise 3: a made-up example
    def double(x):
        ### BEGIN SOLUTION
        return 2 * x
        ### END SOLUTION

    checks.exercise_3.check(double)

* the first line is the heading ``# Exercise N: title``;
* the solution sits between nbgrader's markers, inside a function body;
* the last statement is the check line ``<module>.exercise_N.check(<answer name>)``.

``checks.exercise_N.hint()`` / ``.solution()`` lines are help calls: a learner may add or remove
them anywhere without it counting as a change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "BEGIN_MARKER",
    "END_MARKER",
    "EXERCISE_HEADING",
    "CHECK_CALL",
    "HELP_CALL",
    "ExerciseCell",
    "exercise_cells",
    "find_exercise_cells",
    "check_call",
    "is_help_call",
    "heading_title",
]

BEGIN_MARKER = "### BEGIN SOLUTION"
END_MARKER = "### END SOLUTION"
# group 1 (label): "Exercise 3"; group "number": 3
EXERCISE_HEADING = re.compile(r"^#\s*(?P<label>Exercise\s+(?P<number>\d+))\s*:", re.IGNORECASE)
CHECK_CALL = re.compile(
    r"^(?P<module>\w+)\.(?P<attr>exercise_(?P<number>\d+))\.check\((?P<answer>\w+)\)\s*$",
    re.MULTILINE,
)
HELP_CALL = re.compile(r"^#?\s*\w+\.exercise_\d+\.(hint|solution)\(\)\s*$")


@dataclass(frozen=True)
class ExerciseCell:
    """One exercise cell of a notebook."""

    number: int
    index: int  # position among all cells (markdown included)
    cell: object  # the nbformat cell

    @property
    def source(self) -> str:
        return self.cell.source

    @property
    def check(self) -> re.Match | None:
        """The check line's match (groups: module, attr, number, answer), or None if removed."""
        return check_call(self.cell.source)

    @property
    def definition(self) -> str:
        """The cell's code before its check line (all of it if the check line is gone)."""
        match = self.check
        return self.cell.source[: match.start()] if match else self.cell.source


def _heading(cell) -> re.Match | None:
    if cell.get("cell_type") != "code" or not isinstance(cell.get("source"), str):
        return None
    return EXERCISE_HEADING.match(cell.source)


def find_exercise_cells(notebook) -> list[ExerciseCell]:
    """Every exercise cell in notebook order, repeated numbers included."""
    found = []
    for index, cell in enumerate(notebook.cells):
        heading = _heading(cell)
        if heading:
            found.append(ExerciseCell(int(heading.group("number")), index, cell))
    return found


def exercise_cells(notebook) -> dict[int, ExerciseCell]:
    """Exercise number -> its cell; the first cell wins when a number repeats."""
    found: dict[int, ExerciseCell] = {}
    for exercise in find_exercise_cells(notebook):
        found.setdefault(exercise.number, exercise)
    return found


def check_call(source: str) -> re.Match | None:
    """The check line in a cell's code, or None."""
    return CHECK_CALL.search(source)


def is_help_call(line: str) -> bool:
    """True for a ``checks.exercise_N.hint()`` or ``.solution()`` line (commented or not)."""
    return bool(HELP_CALL.match(line.strip()))


def heading_title(source: str) -> str:
    """The title after ``# Exercise N:`` on a cell's first line."""
    first = source.splitlines()[0] if source else ""
    return first.split(":", 1)[-1].strip()
