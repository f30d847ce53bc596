"""Exercises of a classroom release: the checks and solutions are withheld until grading.

In the self-study course, ``checks.exercise_N`` is an :class:`~course_utils.checks.Exercise`:
it checks the learner's function against the course's reference and can show a solution. A
classroom release (``python3 course.py release``) hands learners an assignment without the
answers, and the reference computations inside the checks are answers too. So in a release
each ``checks.exercise_N`` is a :class:`GradedLater` instead:

* ``.check(my_function)`` says whether the exercise is attempted yet, never whether it is right:
  the verdict comes when the assignment is graded, with the course's own checks;
* ``.hint()`` prints the same hint as in the course;
* ``.solution()`` says when the solutions will be available, and prints no code.

:func:`answer_or_reference` replaces the course's helper of the same name: where the course
falls back on its own solution so that a notebook can go on, a release has none to fall back on.
"""

from __future__ import annotations

import ast
import enum
import inspect
import textwrap
from typing import Any

from course_utils.checks import CheckResult, Status, short_repr

__all__ = [
    "ExerciseNeeded",
    "GradedLater",
    "Withheld",
    "answer_or_reference",
    "is_unfinished_stub",
    "withheld_exercises_in",
]


class Withheld(enum.Enum):
    """The status of a written answer in a release: no verdict here, it comes at grading.

    Deliberately not a :class:`~course_utils.checks.Status`: nothing may mistake it for
    "correct" or "incorrect" (``CheckResult.passed`` is False for it).
    """

    CHECKED_WHEN_GRADED = "checked when graded"


class ExerciseNeeded(RuntimeError):
    """A later cell needs an exercise's function, and the release has no solution to lend."""

    def _render_traceback_(self):  # IPython's hook: show the message alone, as checks do
        red, reset = "\x1b[31m", "\x1b[0m"
        return [f"{red}{line}{reset}" for line in str(self).splitlines()]


def _text(value: Any, name: str, number: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string for exercise {number}, got {value!r}.")
    return value.strip()


class GradedLater:
    """An exercise whose check and solution are not part of this release.

    Parameters
    ----------
    number : int
        The exercise's number within its notebook, as in the "# Exercise N:" heading.
    title : str
        A few words naming the exercise (the same as in the course).
    answer_name : str
        The name of the function the learner writes.
    hint : str
        The course's hint, printed as the course prints it: hints are part of a release.
    solutions_available : str
        When learners get the solutions, e.g. ``"after the deadline, 15 December"``.
    """

    def __init__(
        self, number: int, title: str, *, answer_name: str, hint: str, solutions_available: str
    ) -> None:
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValueError(f"number must be a positive int, got {number!r}.")
        if not isinstance(answer_name, str) or not answer_name.isidentifier():
            raise ValueError(
                f"answer_name must be the name of the learner's function, such as "
                f"'conv_output_size', got {answer_name!r} for exercise {number}."
            )
        self.number = number
        self.title = _text(title, "title", number)
        self.answer_name = answer_name
        self._hint = _text(hint, "hint", number)
        self._available = _text(solutions_available, "solutions_available", number)

    @property
    def label(self) -> str:
        return f"Exercise {self.number} ({self.title})"

    @property
    def solution_code(self) -> str:
        # A property that raises, so that hasattr(exercise, "solution_code") is False too.
        raise AttributeError(
            f"{self.label}: solution_code is not part of this classroom release; the solutions "
            f"will be available {self._available}."
        )

    def __repr__(self) -> str:
        return (
            f"<{self.label}: call .check({self.answer_name}) or .hint(); "
            "checked when the assignment is graded>"
        )

    def evaluate(self, answer: Any) -> CheckResult:
        """Whether ``answer`` is attempted, without printing or raising (no verdict on it)."""
        if answer is None or answer is Ellipsis or (callable(answer) and is_unfinished_stub(answer)):
            # The same words as Exercise, so a learner (and the grader's reader of printed
            # outcomes) sees one "not attempted" line in both versions of the course.
            return CheckResult(
                self.label,
                Status.NOT_ATTEMPTED,
                f"{self.label}: not attempted yet. Replace `raise NotImplementedError(...)` in "
                f"`{self.answer_name}` with your code and run the cell again. "
                f"Stuck? Call .hint() on this exercise.",
            )
        if not callable(answer):
            return CheckResult(
                self.label,
                Status.INCORRECT,
                f"{self.label} expects your function `{self.answer_name}` itself "
                f"(write `.check({self.answer_name})`, without calling it); got "
                f"{short_repr(answer)} of type {type(answer).__name__}.",
            )
        return CheckResult(
            self.label,
            Withheld.CHECKED_WHEN_GRADED,
            f"{self.label}: `{self.answer_name}` is written. It will be checked when the "
            "assignment is graded: this classroom release does not include the checks.",
        )

    def check(self, answer: Any) -> None:
        """Print whether ``answer`` is attempted yet; never raises for a learner's answer."""
        print(self.evaluate(answer).message)

    def hint(self) -> None:
        """Print the hint."""
        print(f"Hint for {self.label}:\n{self._hint}")

    def solution(self) -> None:
        """Print when the solutions will be available (this release has none)."""
        print(
            f"The solution to {self.label} is not part of this classroom release: the solutions "
            f"will be available {self._available}. Stuck now? Call .hint() on this exercise."
        )


def withheld_exercises_in(namespace: Any) -> list[GradedLater]:
    """All :class:`GradedLater` objects of a module (or dict), ordered by number."""
    values = namespace.values() if isinstance(namespace, dict) else vars(namespace).values()
    return sorted((v for v in values if isinstance(v, GradedLater)), key=lambda e: e.number)


def is_unfinished_stub(function: Any) -> bool:
    """True if ``function``'s code still raises ``NotImplementedError`` before doing anything.

    Read from its source, never by calling it: a release has no test inputs to call it with,
    and made-up ones could do harm (train a model, fill the memory) or raise for other reasons.
    A function whose source cannot be read (defined in a string, a lambda, a callable object)
    counts as attempted: the grader decides.
    """
    try:
        source = textwrap.dedent(inspect.getsource(function))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return False
    name = getattr(function, "__name__", None)
    definition = next(
        (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name),
        None,
    )
    if definition is None:
        return False
    for statement in definition.body:
        if _raises_not_implemented(statement):
            return True  # reached before any return: the function always raises it
        if any(isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom)) for n in ast.walk(statement)):
            return False  # it may return before the raise: written, at least in part
    return False


def _raises_not_implemented(statement: ast.stmt) -> bool:
    if not isinstance(statement, ast.Raise) or statement.exc is None:
        return False
    raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def answer_or_reference(exercise: GradedLater, answer: Any):
    """``answer``, for the cells below an exercise that use it; it must be written first.

    The course's version falls back on its own solution for an unfinished exercise; a
    classroom release has no solution to fall back on, so an unfinished one stops here.

    Raises
    ------
    ExerciseNeeded
        If ``answer`` is missing or still the stub that raises ``NotImplementedError``.
    """
    if not isinstance(exercise, GradedLater):
        raise TypeError(
            f"exercise must be one of this notebook's exercises such as checks.exercise_2, got "
            f"{exercise!r} of type {type(exercise).__name__}."
        )
    result = exercise.evaluate(answer)
    if result.status is Status.NOT_ATTEMPTED:
        raise ExerciseNeeded(
            f"The cells below use your `{exercise.answer_name}`, and it is not written yet: finish "
            f"Exercise {exercise.number} ({exercise.title}) first, run its cell, then run this cell "
            "again. This classroom release has no course solution to continue with."
        )
    if result.status is Status.INCORRECT:  # not a function at all
        raise TypeError(result.message)
    print(
        f"The cells below use your `{exercise.answer_name}` (the course's solution is not part of "
        "this release; your function is checked when the assignment is graded)."
    )
    return answer
