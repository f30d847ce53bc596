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

Authors write a checker for each exercise: a function that receives the learner's answer and
raises :class:`IncorrectAnswer` when something is wrong. Most checkers hand the work to a
:class:`Comparison` (:class:`Exact`, :class:`Close` or :class:`ArrayClose`):

>>> Exact().check(answer, inputs, reference, mistakes=[(wrong_function, "explanation"), ...])  # doctest: +SKIP

runs the answer on every input (on copies, telling an answer that changes its arguments),
compares with the reference, and names the known mistake whose wrong function agrees with the
answer on every input. Known mistakes are (wrong function or value, explanation) pairs, never a
dict keyed by the wrong value: two mistakes giving the same value on some input then cannot
overwrite each other, and a value they share names neither. :func:`expect_equal` and
:func:`expect_close` compare one value.
"""

from __future__ import annotations

import copy
import enum
import inspect
import math
import warnings
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


class Shown:
    """An argument as a message shows it, e.g. ``Shown("<x of shape (4, 3)>")`` for a big array."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"Shown needs the text to show, got {type(text).__name__}.")
        self.text = text

    def __repr__(self) -> str:
        return self.text


def short_repr(value: Any) -> str:
    """``value`` as at most 60 characters for a check's message, whatever the learner returned.

    NumPy scalars show as the plain numbers a learner typed: ``(2, 1)``, not
    ``(np.int64(2), np.int64(1))``.
    """
    if isinstance(value, np.ndarray):
        return f"<array of shape {value.shape}>"
    try:
        text = repr(_plain(value))
    except Exception:  # noqa: BLE001 - a learner's class may have a broken __repr__
        return f"<{type(value).__name__} object>"
    return text if len(text) <= 60 else text[:57] + "..."


def _plain(value: Any) -> Any:
    """NumPy scalars inside tuples, lists, sets and dicts as Python numbers, for messages."""
    if isinstance(value, np.generic):
        return value.item()
    if type(value) in (tuple, list, set, frozenset):
        return type(value)(_plain(v) for v in value)
    if type(value) is dict:
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


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
        raise IncorrectAnswer(f"{call} returned {short_repr(got)}, which is not an array of numbers.") from None


# ------------------------------------------------------------------------------------------
# Named mistakes
# ------------------------------------------------------------------------------------------
#
# A known mistake is a pair (wrong value, explanation), never a dict entry keyed by the wrong
# value: two mistakes that give the same value on some input would overwrite each other in a
# dict, and the learner would be told about the wrong one. A value that several mistakes share
# names none of them. Checks that run several inputs go further (see `Comparison.check`): each
# mistake is a wrong function of the inputs, and the mistake named is the one whose wrong
# function agrees with the answer on every input, so inputs on which two mistakes coincide do
# not matter as long as some input tells them apart.


def _mistake_pairs(mistakes: Any) -> tuple[tuple[Any, str], ...]:
    if mistakes is None:
        return ()
    if isinstance(mistakes, Mapping):
        raise TypeError(
            "mistakes must be a list of (wrong value, explanation) pairs, not a dict: a dict keeps "
            "one explanation per value, so two mistakes giving the same value would overwrite "
            "each other."
        )
    pairs = tuple(mistakes)
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[1], str) and pair[1]):
            raise TypeError(
                f"each mistake must be a pair (wrong value, explanation text), got {pair!r:.80}."
            )
    return pairs


def _only_explanation(got: Any, pairs, same: Callable[[Any, Any], bool]) -> str | None:
    """The explanation of the mistakes that give ``got``, if they all give the same one."""
    found = {explanation for wrong, explanation in pairs if _safe_same(same, got, wrong)}
    return found.pop() if len(found) == 1 else None


def _safe_same(same, a, b) -> bool:
    try:
        return bool(same(a, b))
    except Exception:  # noqa: BLE001 - e.g. arrays of different shapes
        return False


def _with_mistake(message: str, explanation: str | None) -> str:
    return f"{message}\nLikely mistake: {explanation}" if explanation else message


def expect_equal(got: Any, expected: Any, *, call: str, mistakes=None) -> None:
    """Raise :class:`IncorrectAnswer` unless ``got == expected``.

    Parameters
    ----------
    call : str
        The call that produced ``got``, shown in the message.
    mistakes : list of (value, str) pairs, optional
        Known wrong answers and the mistake each one reveals, e.g.
        ``[(864, "you left out the 32 biases")]``. A value that two different explanations
        share names neither.
    """
    Exact().expect(got, expected, call=call, mistakes=mistakes)


def expect_close(
    got: Any,
    expected: float,
    *,
    call: str,
    rel_tol: float = 1e-6,
    abs_tol: float = 1e-9,
    mistakes=None,
) -> None:
    """Like :func:`expect_equal` for real numbers, within ``rel_tol`` / ``abs_tol``."""
    Close(rel_tol=rel_tol, abs_tol=abs_tol).expect(got, expected, call=call, mistakes=mistakes)


def _equal(got: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(expected, (tuple, list)):
        return (
            isinstance(got, (tuple, list))
            and len(got) == len(expected)
            and all(_equal(g, e) for g, e in zip(got, expected, strict=True))
        )
    if isinstance(expected, (int, np.integer)) and isinstance(got, (int, np.integer, float, np.floating)):
        return bool(got == expected) and float(got).is_integer()
    try:
        return bool(got == expected)
    except Exception:  # e.g. comparing arrays of different shapes
        return False


@dataclass(frozen=True)
class _Raised:
    """A wrong function raised this exception type: the mistake raises on that input too."""

    error: type


@dataclass(frozen=True)
class _Outcome:
    """What the answer did on one input of a check."""

    args: tuple
    call: str
    expected: Any
    ok: bool
    message: str | None  # why the answer is wrong on this input
    raw: Any = None  # what the answer returned
    got: Any = None  # the same, converted for comparing
    error: BaseException | None = None  # what the answer raised
    unconvertible: bool = False  # the answer returned something of the wrong kind


@dataclass(frozen=True)
class _Trial:
    """One input of a check: whether the answer was right and which mistakes it matched."""

    ok: bool
    message: str | None  # why the answer is wrong on this input
    matched: frozenset  # explanations whose wrong function gave what the answer gave
    neutral: frozenset  # explanations whose wrong function gives the right value here


class Comparison:
    """How a check compares the answer's results with the expected ones, and runs its inputs.

    Subclasses define :meth:`convert` (the answer's result as something comparable, or
    :class:`IncorrectAnswer` for a result of the wrong kind), :meth:`same` and :meth:`failure`
    (the message for a wrong result). :meth:`check` runs an answer on a list of inputs.
    """

    def convert(self, got: Any, call: str) -> Any:
        return got

    def same(self, got: Any, expected: Any) -> bool:
        return _equal(got, expected)

    def failure(self, call: str, got: Any, expected: Any) -> str:
        return f"{call} returned {short_repr(got)}, but the expected value is {short_repr(expected)}."

    def expect(self, got: Any, expected: Any, *, call: str, mistakes=None, note: str = "") -> None:
        """Raise :class:`IncorrectAnswer` unless ``got`` is the same as ``expected``.

        ``mistakes`` is a list of (wrong value, explanation) pairs; the explanation of the
        wrong values ``got`` matches is shown, unless they disagree (then none is).
        """
        pairs = _mistake_pairs(mistakes)
        try:
            value = self.convert(got, call)
        except IncorrectAnswer as err:
            raise IncorrectAnswer(f"{err} The expected value is {_show_expected(expected)}.") from None
        if _safe_same(self.same, value, expected):
            return
        message = self.failure(call, value, expected) + (f" {note}" if note else "")
        raise IncorrectAnswer(_with_mistake(message, _only_explanation(value, pairs, self.same)))

    def check(
        self,
        answer: Callable,
        inputs,
        reference: Callable,
        *,
        mistakes=(),
        shown: Callable | None = None,
        note: str = "",
    ) -> None:
        """Run ``answer`` on every tuple of arguments in ``inputs``; raise if any result is wrong.

        Parameters
        ----------
        inputs : iterable of tuples
            The arguments of each call. The answer gets copies; an answer that changes them is
            told so, naming the argument.
        reference : callable
            ``reference(*args)`` is the expected result.
        mistakes : list of (callable, str) pairs
            Each known mistake written as a wrong function of the same arguments, with the
            explanation a learner who made it is shown. Several functions may share one
            explanation (one mistake, spelled in several ways). A wrong function that raises
            on an input matches an answer that raises the same kind of exception there.
        shown : callable, optional
            ``shown(*args)`` gives the arguments as shown in messages (e.g. a short description
            of a large array).
        note : str
            Appended to the message of a wrong result (e.g. the formula to use).

        The message names the first input with a wrong result, and the mistake whose wrong
        function agrees with the answer on every input (see :func:`_name_mistake`), so inputs on
        which two mistakes give the same value do not matter as long as another tells them apart.
        """
        pairs = tuple(mistakes)
        for pair in pairs:
            if not (
                isinstance(pair, tuple) and len(pair) == 2 and callable(pair[0]) and isinstance(pair[1], str)
            ):
                raise TypeError(
                    f"each mistake must be a pair (wrong function, explanation text), got {pair!r:.80}."
                )
        inputs = [tuple(args) for args in inputs]
        if not inputs:
            raise ValueError("a check needs at least one input.")
        outcomes = [self._outcome(answer, args, reference, shown, note) for args in inputs]
        if any(o.message is _NOT_ATTEMPTED for o in outcomes):
            raise _NotAttempted
        failures = [o for o in outcomes if not o.ok]
        if failures:  # only now run the mistakes: a right answer costs no more than its own calls
            trials = [self._trial(o, pairs) for o in outcomes]
            raise IncorrectAnswer(_with_mistake(failures[0].message, _name_mistake(trials)))

    def _outcome(self, answer, args, reference, shown, note) -> _Outcome:
        """Call the answer on copies of ``args`` and judge its result."""
        call = describe_call(answer, shown(*args) if shown else args, {})
        expected = reference(*args)
        copies = _copy(args)
        try:
            raw = call_answer(answer, *copies)
        except _NotAttempted:
            return _Outcome(args, call, expected, False, _NOT_ATTEMPTED)
        except IncorrectAnswer as err:
            return _Outcome(args, call, expected, False, str(err), error=err.__cause__)
        changed = [
            i for i, (a, c) in enumerate(zip(args, copies, strict=True)) if a is not c and not _same_input(a, c)
        ]
        if changed:
            raise IncorrectAnswer(
                f"{call} changed its argument {_argument_name(answer, changed[0])} in place. A "
                "function like this must leave its inputs as they were (the caller still needs "
                "them): work on a copy, e.g. `x = x / 2` instead of `x /= 2`, or `list(x)` before "
                "changing a list."
            )
        try:
            got = self.convert(raw, call)
        except IncorrectAnswer as err:
            message = f"{err} The expected value is {_show_expected(expected)}."
            return _Outcome(args, call, expected, False, message, raw=raw, unconvertible=True)
        if _safe_same(self.same, got, expected):
            return _Outcome(args, call, expected, True, None, raw=raw, got=got)
        message = self.failure(call, got, expected) + (f" {note}" if note else "")
        return _Outcome(args, call, expected, False, message, raw=raw, got=got)

    def _trial(self, outcome: _Outcome, pairs) -> _Trial:
        """Which known mistakes give what the answer gave on this input."""
        matched, neutral = set(), set()
        for wrong_function, explanation in pairs:
            wrong = _wrong_value(wrong_function, outcome.args)
            if outcome.error is not None:  # the answer raised: so must the mistake
                if isinstance(wrong, _Raised) and isinstance(outcome.error, wrong.error):
                    matched.add(explanation)
                continue
            if outcome.unconvertible:  # a result of the wrong kind: the mistake returns the same
                if _safe_same(_equal_or_identical, outcome.raw, wrong):
                    matched.add(explanation)
                continue
            if isinstance(wrong, _Raised):
                continue
            try:  # a wrong function returns what a learner's would: compare it the same way
                wrong = self.convert(wrong, outcome.call)
            except IncorrectAnswer:
                pass
            if _safe_same(self.same, wrong, outcome.expected):
                neutral.add(explanation)
            elif _safe_same(self.same, outcome.got, wrong):
                matched.add(explanation)
        return _Trial(outcome.ok, outcome.message, frozenset(matched), frozenset(neutral - matched))


_NOT_ATTEMPTED = "<not attempted>"


def _argument_name(answer: Callable, index: int) -> str:
    """The name of the answer's positional parameter ``index`` in backticks, or "number N"."""
    try:
        names = [p.name for p in inspect.signature(answer).parameters.values()]
        return f"`{names[index]}`"
    except (TypeError, ValueError, IndexError):
        return f"number {index + 1}"


def _show_expected(expected: Any) -> str:
    if isinstance(expected, float):
        return f"about {expected:.6g}"
    return short_repr(expected)


def _wrong_value(wrong_function: Callable, args: tuple) -> Any:
    """What the mistake gives on ``args``, quietly: its warnings are not the learner's."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return wrong_function(*_copy(args))
    except Exception as err:  # noqa: BLE001 - the mistake raises on this input
        return _Raised(type(err))


def _copy(args: tuple) -> tuple:
    """Deep copies of the arguments, or the arguments themselves where they cannot be copied."""
    return tuple(_copy_one(a) for a in args)


def _copy_one(value: Any) -> Any:
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - e.g. a Keras model; such arguments are passed as they are
        return value


def _equal_or_identical(a: Any, b: Any) -> bool:
    return a is b or _equal(a, b)


def _same_input(before: Any, after: Any) -> bool:
    if isinstance(before, np.ndarray) or isinstance(after, np.ndarray):
        return (
            isinstance(after, np.ndarray)
            and isinstance(before, np.ndarray)
            and before.dtype == after.dtype
            and np.array_equal(before, after, equal_nan=True)
        )
    if isinstance(before, (list, tuple)):
        return (
            type(before) is type(after)
            and len(before) == len(after)
            and all(_same_input(b, a) for b, a in zip(before, after, strict=True))
        )
    if isinstance(before, dict):
        return (
            isinstance(after, dict)
            and before.keys() == after.keys()
            and all(_same_input(before[k], after[k]) for k in before)
        )
    if type(before).__eq__ is object.__eq__:  # an object compared by identity: compare its state
        state = getattr(before, "__dict__", None)
        return state is None or _same_input(state, getattr(after, "__dict__", None))
    try:
        return bool(before == after)
    except Exception:  # noqa: BLE001 - an object without a usable ==
        return True


def _name_mistake(trials: list[_Trial]) -> str | None:
    """The explanation to show, or None when the answer's results point at no single mistake.

    A mistake is named when its wrong function agrees with the answer on every input (wrong
    where the answer is wrong, harmless where it is right), or, failing that, gives what the
    answer gave on every input where the answer is wrong. A value that a mistake shares with
    the answer by chance on one input never names it: that would send the learner after the
    wrong idea.
    """
    failing = [t for t in trials if not t.ok]
    seen = sorted({e for t in failing for e in t.matched})

    def agrees(explanation: str, trial: _Trial) -> bool:
        if explanation in trial.neutral:
            return trial.ok  # this mistake is harmless on this input
        return explanation in trial.matched

    for candidates in (
        [e for e in seen if all(agrees(e, t) for t in trials)],
        [e for e in seen if all(e in t.matched for t in failing)],
    ):
        if len(candidates) == 1:
            return candidates[0]
    return None


class Exact(Comparison):
    """Results must equal the expected ones: integers, tuples, strings (``16.0`` counts as 16).

    Parameters
    ----------
    convert : callable, optional
        ``convert(got, call)`` turns the answer's result into what is compared (raising
        :class:`IncorrectAnswer` for a result of the wrong kind), e.g. a list of names into a set.
    """

    def __init__(self, convert: Callable[[Any, str], Any] | None = None) -> None:
        if convert is not None and not callable(convert):
            raise TypeError(f"convert must be callable, got {type(convert).__name__}.")
        self._convert = convert

    def convert(self, got: Any, call: str) -> Any:
        return self._convert(got, call) if self._convert else got


class Close(Comparison):
    """Results must be real numbers within ``rel_tol`` / ``abs_tol`` of the expected ones."""

    def __init__(self, *, rel_tol: float = 1e-6, abs_tol: float = 1e-9) -> None:
        for name, tol in (("rel_tol", rel_tol), ("abs_tol", abs_tol)):
            if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {tol!r}.")
        self.rel_tol, self.abs_tol = rel_tol, abs_tol

    def convert(self, got: Any, call: str) -> float:
        try:
            if isinstance(got, (str, bytes, bool)):  # float("1.0") works, but text is no number
                raise TypeError
            return float(got)
        except (TypeError, ValueError):
            raise IncorrectAnswer(f"{call} returned {short_repr(got)}, which is not a number.") from None

    def same(self, got: Any, expected: Any) -> bool:
        return math.isclose(float(got), float(expected), rel_tol=self.rel_tol, abs_tol=self.abs_tol)

    def failure(self, call: str, got: Any, expected: Any) -> str:
        return f"{call} returned {got:.6g}, but the expected value is {float(expected):.6g}."


class ArrayClose(Comparison):
    """Results must be arrays of the expected shape, equal within ``rtol`` / ``atol``.

    Parameters
    ----------
    convert : callable, optional
        ``convert(got, call)`` gives the array to compare (default :func:`as_number_array`).
    """

    def __init__(
        self,
        *,
        rtol: float = 1e-5,
        atol: float = 1e-8,
        convert: Callable[[Any, str], np.ndarray] | None = None,
    ) -> None:
        for name, tol in (("rtol", rtol), ("atol", atol)):
            if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {tol!r}.")
        if convert is not None and not callable(convert):
            raise TypeError(f"convert must be callable, got {type(convert).__name__}.")
        self.rtol, self.atol, self._convert = rtol, atol, convert

    def convert(self, got: Any, call: str) -> np.ndarray:
        return self._convert(got, call) if self._convert else as_number_array(got, call)

    def same(self, got: Any, expected: Any) -> bool:
        got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        return got.shape == expected.shape and bool(
            np.allclose(got, expected, rtol=self.rtol, atol=self.atol, equal_nan=True)
        )

    def failure(self, call: str, got: Any, expected: Any) -> str:
        got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        if got.shape != expected.shape:
            return f"{call} returned an array of shape {got.shape}, expected shape {expected.shape}."
        wrong = ~np.isclose(got, expected, rtol=self.rtol, atol=self.atol)
        index = tuple(int(i) for i in np.argwhere(wrong)[0]) if got.ndim else ()
        where = f" at index {index[0] if len(index) == 1 else index}" if index else ""
        return (
            f"{call} returned {got[index]:.6g}{where}, expected {expected[index]:.6g} "
            f"({int(wrong.sum())} of {wrong.size} values are wrong)."
        )



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
