"""Exercise checks in the style of Kaggle's learntools: ``check()``, ``hint()``, ``solution()``.

Every exercise asks the learner to write the body of a function. The student notebook ships
the function with a body that raises ``NotImplementedError``; the check calls the learner's
function on its own test inputs, so it tests the method, not one memorised number:

>>> exercise_1.check(conv_output_size)   # doctest: +SKIP
Exercise 1 (output size of a convolution): correct.

Three outcomes:

* correct: a line saying so is printed;
* not attempted (the function still raises ``NotImplementedError``): a line saying so is
  printed, nothing is raised, so a student notebook runs top to bottom;
* incorrect: :class:`IncorrectAnswer` is raised with a message that names the input, the
  expected value, what the function returned, and the likely mistake where one is known.
  In Jupyter it shows as that message alone, without a traceback.

Authors write a checker for each exercise: a function that receives the learner's answer,
calls it through :func:`call_answer`, and raises :class:`IncorrectAnswer` (usually via
:func:`expect_equal` or :func:`expect_close`) when something is wrong.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


class Status(enum.Enum):
    CORRECT = "correct"
    INCORRECT = "incorrect"
    NOT_ATTEMPTED = "not attempted"


@dataclass(frozen=True)
class CheckResult:
    """What :meth:`Exercise.evaluate` found; ``message`` is what the learner is shown."""

    exercise: str
    status: Status
    message: str

    @property
    def passed(self) -> bool:
        return self.status is Status.CORRECT


class IncorrectAnswer(AssertionError):
    """Raised for a wrong answer. Jupyter shows only the message (no traceback)."""

    def _render_traceback_(self):  # IPython's hook for custom exception display
        red, reset = "\x1b[31m", "\x1b[0m"
        return [f"{red}{line}{reset}" for line in str(self).splitlines()]


class _NotAttempted(Exception):
    """Internal signal: the learner's function still raises NotImplementedError."""


def call_answer(answer: Callable, *args, **kwargs):
    """Call the learner's function, turning its failures into check outcomes.

    ``NotImplementedError`` means the exercise is not attempted yet; any other exception
    becomes an :class:`IncorrectAnswer` that shows the call that failed.
    """
    try:
        return answer(*args, **kwargs)
    except NotImplementedError as err:
        raise _NotAttempted from err
    except Exception as err:
        raise IncorrectAnswer(
            f"Calling {describe_call(answer, args, kwargs)} raised "
            f"{type(err).__name__}: {err}"
        ) from err


def describe_call(answer: Callable, args: tuple, kwargs: Mapping) -> str:
    """Render a call as code, e.g. ``conv_output_size(32, 3, stride=2)``."""
    name = getattr(answer, "__name__", "your function")
    parts = [short_repr(a) for a in args] + [f"{k}={short_repr(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def short_repr(value: Any) -> str:
    """``value`` as at most 60 characters for a check's message, whatever the learner returned."""
    if isinstance(value, np.ndarray):
        return f"<array of shape {value.shape}>"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a learner's class may have a broken __repr__
        return f"<{type(value).__name__} object>"
    return text if len(text) <= 60 else text[:57] + "..."


def as_number_array(got: Any, call: str) -> np.ndarray:
    """``got`` as a float64 array, or :class:`IncorrectAnswer` naming ``call`` and what it returned."""
    if got is None:
        # np.asarray(None, dtype=float) is a silent NaN; None nearly always means a missing `return`.
        raise IncorrectAnswer(
            f"{call} returned None, which is not an array of numbers. Did the function end without `return`?"
        )
    try:
        return np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise IncorrectAnswer(f"{call} returned {got!r}, which is not an array of numbers.") from None


def expect_equal(
    got: Any,
    expected: Any,
    *,
    call: str,
    mistakes: Mapping[Any, str] | None = None,
) -> None:
    """Raise :class:`IncorrectAnswer` unless ``got == expected``.

    Parameters
    ----------
    call : str
        The call that produced ``got``, shown in the message.
    mistakes : mapping, optional
        Known wrong answers and the mistake each one reveals, e.g.
        ``{864: "you left out the 32 biases"}``.
    """
    if _equal(got, expected):
        return
    message = f"{call} returned {short_repr(got)}, but the expected value is {expected!r}."
    explanation = _known_mistake(got, mistakes)
    if explanation:
        message += f"\nLikely mistake: {explanation}"
    raise IncorrectAnswer(message)


def expect_close(
    got: Any,
    expected: float,
    *,
    call: str,
    rel_tol: float = 1e-6,
    abs_tol: float = 1e-9,
    mistakes: Mapping[float, str] | None = None,
) -> None:
    """Like :func:`expect_equal` for real numbers, within ``rel_tol`` / ``abs_tol``."""
    try:
        if isinstance(got, (str, bytes, bool)):  # float("1.0") works, but text is no number
            raise TypeError
        value = float(got)
    except (TypeError, ValueError):
        raise IncorrectAnswer(
            f"{call} returned {short_repr(got)}, which is not a number; expected about "
            f"{expected:.6g}."
        ) from None
    if math.isclose(value, expected, rel_tol=rel_tol, abs_tol=abs_tol):
        return
    message = f"{call} returned {value:.6g}, but the expected value is {expected:.6g}."
    for wrong, explanation in (mistakes or {}).items():
        if math.isclose(value, wrong, rel_tol=rel_tol, abs_tol=abs_tol):
            message += f"\nLikely mistake: {explanation}"
            break
    raise IncorrectAnswer(message)


def _equal(got: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(expected, (tuple, list)):
        return (
            isinstance(got, (tuple, list))
            and len(got) == len(expected)
            and all(_equal(g, e) for g, e in zip(got, expected, strict=True))
        )
    if isinstance(expected, (int, np.integer)) and isinstance(got, (int, np.integer, float)):
        return got == expected and float(got).is_integer()
    try:
        return bool(got == expected)
    except Exception:  # e.g. comparing arrays of different shapes
        return False


def _known_mistake(got: Any, mistakes: Mapping[Any, str] | None) -> str | None:
    for wrong, explanation in (mistakes or {}).items():
        if _equal(got, wrong):
            return explanation
    return None


class Exercise:
    """One exercise: its checker, a hint and the reference solution.

    Parameters
    ----------
    number : int
        The exercise's number within its notebook, as in the "# Exercise N:" heading.
    title : str
        A few words naming the exercise.
    answer_name : str
        The name of the function the learner writes, used in messages.
    checker : callable
        ``checker(answer)`` calls the answer through :func:`call_answer` and raises
        :class:`IncorrectAnswer` when something is wrong. It may return a short string
        that is appended to the "correct" message (e.g. the value the learner found).
    hint : str
        A nudge that does not give the answer away.
    solution : str
        The reference solution's code, exactly as in the solution notebook (tests compare).
    """

    def __init__(
        self,
        number: int,
        title: str,
        *,
        answer_name: str,
        checker: Callable[[Any], str | None],
        hint: str,
        solution: str,
    ) -> None:
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValueError(f"number must be a positive int, got {number!r}.")
        if not isinstance(answer_name, str) or not answer_name.isidentifier():
            raise ValueError(
                f"answer_name must be the name of the learner's function, such as "
                f"'conv_output_size', got {answer_name!r} for exercise {number}."
            )
        if not callable(checker):
            raise TypeError(f"checker must be callable, got {type(checker).__name__}.")
        for name, text in (("title", title), ("hint", hint), ("solution", solution)):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{name} must be a non-empty string for exercise {number}.")
        self.number = number
        self.title = title
        self.answer_name = answer_name
        self._checker = checker
        self._hint = hint.strip()
        self._solution = solution.strip()

    @property
    def label(self) -> str:
        return f"Exercise {self.number} ({self.title})"

    @property
    def solution_code(self) -> str:
        return self._solution

    def __repr__(self) -> str:
        return f"<{self.label}: call .check({self.answer_name}), .hint() or .solution()>"

    def evaluate(self, answer: Any) -> CheckResult:
        """Check ``answer`` and return the outcome without printing or raising."""
        if answer is None or answer is Ellipsis:
            return self._not_attempted()
        if not callable(answer):
            return CheckResult(
                self.label,
                Status.INCORRECT,
                f"{self.label} expects your function `{self.answer_name}` itself "
                f"(write `.check({self.answer_name})`, without calling it); got "
                f"{short_repr(answer)} of type {type(answer).__name__}.",
            )
        try:
            detail = self._checker(answer)
        except _NotAttempted:
            return self._not_attempted()
        except IncorrectAnswer as err:
            return CheckResult(self.label, Status.INCORRECT, f"{self.label}: {err}")
        except Exception as err:  # noqa: BLE001 - a result of an unforeseen kind must not crash the check
            return CheckResult(
                self.label,
                Status.INCORRECT,
                f"{self.label}: the check could not compare what `{self.answer_name}` returned "
                f"({type(err).__name__}: {err}). Compare its type and shape with the docstring "
                "and the example in the exercise.",
            )
        message = f"{self.label}: correct."
        if detail:
            message += f" {detail}"
        return CheckResult(self.label, Status.CORRECT, message)

    def _not_attempted(self) -> CheckResult:
        return CheckResult(
            self.label,
            Status.NOT_ATTEMPTED,
            f"{self.label}: not attempted yet. Replace `raise NotImplementedError(...)` in "
            f"`{self.answer_name}` with your code and run the cell again. "
            f"Stuck? Call .hint() on this exercise.",
        )

    def check(self, answer: Any) -> None:
        """Print whether ``answer`` is correct or not attempted; raise if it is wrong."""
        result = self.evaluate(answer)
        if result.status is Status.INCORRECT:
            raise IncorrectAnswer(
                f"{result.message}\nRun .hint() for a nudge or .solution() to see an answer."
            )
        print(result.message)

    def hint(self) -> None:
        """Print the hint."""
        print(f"Hint for {self.label}:\n{self._hint}")

    def solution(self) -> None:
        """Print the reference solution."""
        print(f"A solution to {self.label}:\n\n{self._solution}")


def exercises_in(namespace: Any) -> list[Exercise]:
    """All :class:`Exercise` objects defined in a module (or dict), ordered by number."""
    if isinstance(namespace, Mapping):
        values = namespace.values()
    elif hasattr(namespace, "__dict__"):
        values = vars(namespace).values()
    else:
        raise TypeError(
            f"exercises_in needs a module or a dict of exercises, got {namespace!r} of type "
            f"{type(namespace).__name__}, e.g. exercises_in(course_utils.exercises.nb01)."
        )
    found = sorted((v for v in values if isinstance(v, Exercise)), key=lambda e: e.number)
    numbers = [e.number for e in found]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"exercise numbers must be unique, got {numbers}.")
    return found
