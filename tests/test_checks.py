"""The exercise-check framework: outcomes, messages, and guarding against misuse."""

import pytest

import numpy as np

from course_utils.checks import (
    ArrayClose,
    Close,
    Exact,
    Exercise,
    IncorrectAnswer,
    Shown,
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
            mistakes=[(2 * x, "you doubled instead of squaring")] if x else None,
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
    assert short_repr(np.zeros((3, 5))) == "<array of shape (3, 5)>"
    long_text = short_repr("x" * 500)
    assert len(long_text) == 60 and long_text.endswith("...")
    assert short_repr({"a": 1}) == "{'a': 1}"

    class Unprintable:
        def __repr__(self):
            raise RuntimeError("no repr")

    assert "Unprintable" in short_repr(Unprintable())


def test_short_repr_shows_numpy_numbers_as_a_learner_typed_them():
    assert short_repr((np.int64(2), np.int64(1))) == "(2, 1)"
    assert short_repr([np.float64(0.5), {np.int32(3): np.float32(1.5)}]) == "[0.5, {3: 1.5}]"
    assert short_repr(Shown("<x of shape (4, 3)>")) == "<x of shape (4, 3)>"
    with pytest.raises(IncorrectAnswer, match=r"returned \(2, 1\), but the expected value is \(2, 2\)"):
        expect_equal((np.int64(2), np.int64(1)), (2, 2), call="f()")


def test_mistakes_must_be_pairs_not_a_dict_that_would_drop_colliding_values():
    with pytest.raises(TypeError, match="not a dict"):
        expect_equal(31, 32, call="f()", mistakes={31: "forgot + 1"})
    with pytest.raises(TypeError, match="pair"):
        expect_equal(31, 32, call="f()", mistakes=[(31,)])


def test_a_value_two_mistakes_share_names_neither():
    mistakes = [(31, "you forgot the + 1"), (31, "padding goes on both sides"), (30, "no padding")]
    with pytest.raises(IncorrectAnswer) as info:
        expect_equal(31, 32, call="f()", mistakes=mistakes)
    assert "Likely mistake" not in str(info.value)
    with pytest.raises(IncorrectAnswer, match="Likely mistake: no padding"):
        expect_equal(30, 32, call="f()", mistakes=mistakes)


def _size(n, p):
    return n + 2 * p - 2


SIZE_MISTAKES = [
    (lambda n, p: n + 2 * p - 3, "the first window counts too: add 1"),
    (lambda n, p: n + p - 2, "padding goes on both sides"),
]


def _run_size(answer, inputs=((32, 1), (32, 2))):
    try:
        Exact().check(answer, inputs, _size, mistakes=SIZE_MISTAKES)
    except IncorrectAnswer as err:
        return str(err)
    return "correct"


def test_check_names_the_mistake_that_agrees_with_the_answer_on_every_input():
    # on (32, 1) both mistakes give 31; (32, 2) tells them apart
    def off_by_one(n, p):
        return n + 2 * p - 3

    def one_sided(n, p):
        return n + p - 2

    assert _run_size(off_by_one).endswith("Likely mistake: the first window counts too: add 1")
    assert _run_size(one_sided).endswith("Likely mistake: padding goes on both sides")
    assert "off_by_one(32, 1) returned 31, but the expected value is 32" in _run_size(off_by_one)
    # with only the input on which they agree, neither is named
    assert "Likely mistake" not in _run_size(off_by_one, inputs=((32, 1),))


def test_a_value_shared_by_chance_on_one_input_does_not_name_a_mistake():
    def other(n, p):  # 31 on (32, 1) like both mistakes, but 40 on (32, 2)
        return 31 if p == 1 else 40

    assert "Likely mistake" not in _run_size(other)
    assert _run_size(lambda n, p: _size(n, p)) == "correct"


def test_check_names_a_mistake_that_raises_like_the_answer():
    def reference(values):
        return sum(values) / max(len(values), 1)

    mistakes = [(lambda values: sum(values) / len(values), "an empty list has no mean: return 0")]

    def answer(values):
        return sum(values) / len(values)

    with pytest.raises(IncorrectAnswer) as info:
        Close().check(answer, [([1.0, 2.0],), ([],)], reference, mistakes=mistakes)
    assert "raised ZeroDivisionError" in str(info.value)
    assert str(info.value).endswith("Likely mistake: an empty list has no mean: return 0")


def test_check_tells_an_answer_that_changes_its_argument_in_place():
    def halve(x):
        x /= 2
        return x

    with pytest.raises(IncorrectAnswer, match="changed its argument `x` in place"):
        ArrayClose().check(halve, [(np.array([2.0, 4.0]),)], lambda x: x / 2)
    original = np.array([2.0, 4.0])
    ArrayClose().check(lambda x: x / 2, [(original,)], lambda x: x / 2)
    assert original.tolist() == [2.0, 4.0]


def test_array_check_reports_shape_then_the_first_wrong_value():
    def double(x):
        return np.append(x * 2, 0)

    with pytest.raises(IncorrectAnswer, match=r"array of shape \(3,\), expected shape \(2,\)"):
        ArrayClose().check(double, [(np.array([1.0, 2.0]),)], lambda x: x * 2)
    with pytest.raises(IncorrectAnswer, match=r"returned 2 at index 1, expected 4 \(1 of 2 values are wrong\)"):
        ArrayClose().check(lambda x: np.array([2.0, 2.0]), [(np.array([1.0, 2.0]),)], lambda x: x * 2)


def test_check_of_a_stub_is_not_attempted():
    def stub(x):
        raise NotImplementedError("Exercise 1")

    exercise = Exercise(1, "double", answer_name="double", hint="h", solution="s",
                        checker=lambda answer: Exact().check(answer, [(1,), (2,)], lambda x: 2 * x))  # fmt: skip
    assert exercise.evaluate(stub).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda: Close(rel_tol=-1), ValueError),
        (lambda: ArrayClose(atol="small"), ValueError),
        (lambda: ArrayClose(convert=3), TypeError),
        (lambda: Exact(convert="set"), TypeError),
        (lambda: Shown(3), TypeError),
        (lambda: Exact().check(abs, [], abs), ValueError),
        (lambda: Exact().check(abs, [(1,)], abs, mistakes=[(1, "a value, not a function")]), TypeError),
    ],
)
def test_comparisons_refuse_bad_arguments(make, error):
    with pytest.raises(error):
        make()
