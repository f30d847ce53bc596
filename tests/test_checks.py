"""The exercise-check framework: outcomes, messages, and guarding against misuse."""

import pytest

from course_utils.checks import (
    Exercise,
    IncorrectAnswer,
    Status,
    call_answer,
    exercises_in,
    expect_close,
    expect_equal,
    short_repr,
)


def _check_square(answer):
    for x in (0, 3, -4):
        expect_equal(
            call_answer(answer, x),
            x * x,
            call=f"square({x})",
            mistakes={2 * x: "you doubled instead of squaring"} if x else None,
        )
    return "square(3) = 9."


SQUARE = Exercise(
    1,
    "squaring",
    answer_name="square",
    checker=_check_square,
    hint="Multiply x by itself.",
    solution="def square(x):\n    return x * x",
)


def square_right(x):
    return x * x


def square_doubled(x):
    return 2 * x


def square_stub(x):
    raise NotImplementedError("Exercise 1: replace this line with your code, then run the cell.")


def square_crashes(x):
    return x * undefined_name  # noqa: F821


def test_correct_answer_is_reported_correct_with_detail(capsys):
    SQUARE.check(square_right)
    assert capsys.readouterr().out.strip() == "Exercise 1 (squaring): correct. square(3) = 9."


def test_unattempted_stub_prints_not_attempted_and_does_not_raise(capsys):
    SQUARE.check(square_stub)
    out = capsys.readouterr().out
    assert "not attempted" in out
    assert "`square`" in out
    assert SQUARE.evaluate(square_stub).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize("placeholder", [None, Ellipsis])
def test_placeholder_values_count_as_not_attempted(placeholder):
    assert SQUARE.evaluate(placeholder).status is Status.NOT_ATTEMPTED


def test_wrong_answer_raises_with_expected_value_and_likely_mistake():
    with pytest.raises(IncorrectAnswer) as info:
        SQUARE.check(square_doubled)
    message = str(info.value)
    assert "square(3) returned 6, but the expected value is 9." in message
    assert "Likely mistake: you doubled instead of squaring" in message
    assert ".hint()" in message


def test_exception_inside_answer_is_reported_with_the_failing_call():
    result = SQUARE.evaluate(square_crashes)
    assert result.status is Status.INCORRECT
    assert "Calling square_crashes(0) raised NameError" in result.message


def test_passing_a_value_instead_of_the_function_is_explained():
    result = SQUARE.evaluate(9)
    assert result.status is Status.INCORRECT
    assert "expects your function `square` itself" in result.message
    assert "int" in result.message


def test_incorrect_answer_renders_without_traceback_in_ipython():
    lines = IncorrectAnswer("first line\nsecond line")._render_traceback_()
    assert len(lines) == 2
    assert "first line" in lines[0] and "second line" in lines[1]


def test_hint_and_solution_print_their_text(capsys):
    SQUARE.hint()
    SQUARE.solution()
    out = capsys.readouterr().out
    assert "Multiply x by itself." in out
    assert "def square(x):\n    return x * x" in out


def test_expect_equal_rejects_float_for_non_integer_and_bool_for_int():
    with pytest.raises(IncorrectAnswer):
        expect_equal(16.5, 16, call="f()")
    with pytest.raises(IncorrectAnswer):
        expect_equal(True, 1, call="f()")
    expect_equal(16.0, 16, call="f()")  # a whole float from `/` is still the right number
    expect_equal((32, 32, 8), (32, 32, 8), call="f()")
    with pytest.raises(IncorrectAnswer):
        expect_equal((32, 32), (32, 32, 8), call="f()")


def test_expect_close_uses_tolerance_and_names_non_numbers():
    expect_close(2700.0000001, 2700.0, call="f()")
    with pytest.raises(IncorrectAnswer, match="expected value is 2700"):
        expect_close(2699.0, 2700.0, call="f()")
    with pytest.raises(IncorrectAnswer, match="not a number"):
        expect_close([1], 2700.0, call="f()")


def test_exercise_definition_is_validated():
    with pytest.raises(ValueError, match="positive int"):
        Exercise(0, "t", answer_name="f", checker=_check_square, hint="h", solution="s")
    with pytest.raises(ValueError, match="hint must be a non-empty string"):
        Exercise(1, "t", answer_name="f", checker=_check_square, hint=" ", solution="s")
    with pytest.raises(TypeError, match="checker must be callable"):
        Exercise(1, "t", answer_name="f", checker="nope", hint="h", solution="s")


def test_exercises_in_orders_by_number_and_refuses_duplicates():
    second = Exercise(2, "t", answer_name="f", checker=_check_square, hint="h", solution="s")
    assert exercises_in({"b": second, "a": SQUARE, "other": 3}) == [SQUARE, second]
    with pytest.raises(ValueError, match="unique"):
        exercises_in({"a": SQUARE, "b": SQUARE})


def test_short_repr_renders_any_answer_briefly():
    import numpy as np

    assert short_repr(np.zeros((3, 5))) == "<array of shape (3, 5)>"
    long_text = short_repr("x" * 500)
    assert len(long_text) == 60 and long_text.endswith("...")
    assert short_repr({"a": 1}) == "{'a': 1}"

    class Unprintable:
        def __repr__(self):
            raise RuntimeError("no repr")

    assert "Unprintable" in short_repr(Unprintable())
