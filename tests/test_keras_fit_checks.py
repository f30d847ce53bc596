"""course_utils.exercises._keras_fit_checks: what notebooks 05-07 go on with, and one named mistake."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import Exact, Exercise, IncorrectAnswer
from course_utils.exercises import _keras_fit_checks as fit_checks


def _double_exercise() -> Exercise:
    def checker(answer):
        Exact().check(answer, [(1,), (3,)], lambda x: 2 * x, mistakes=[(lambda x: x + 2, "added 2")])

    return Exercise(
        9,
        "double",
        answer_name="double",
        checker=checker,
        hint="Twice the number.",
        solution="def double(x):\n    return 2 * x",
    )


def test_a_passing_answer_is_what_the_notebook_goes_on_with(capsys):
    def double(x):
        return x * 2

    assert fit_checks.answer_or_reference(_double_exercise(), double) is double
    assert "use your `double`" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, said",
    [
        (lambda x: _raise_not_implemented(), "is not done yet"),
        (lambda x: x + 2, "does not pass its check yet"),
    ],
    ids=["not attempted", "wrong"],
)
def test_otherwise_the_reference_solution_takes_over_and_says_so(answer, said, capsys):
    answer.__name__ = "double"
    chosen = fit_checks.answer_or_reference(_double_exercise(), answer)
    assert chosen is not answer and chosen(21) == 42
    out = capsys.readouterr().out
    assert said in out and "the course's `double`" in out


def _raise_not_implemented():
    raise NotImplementedError


def test_answer_or_reference_refuses_something_that_is_not_an_exercise():
    with pytest.raises(TypeError, match="must be an Exercise"):
        fit_checks.answer_or_reference("exercise_2", lambda x: x)


def test_one_mistake_is_named_only_when_it_alone_fits_every_case():
    cases = [(1,), (3,)]
    mistakes = [(lambda x: x + 2, "added 2"), (lambda x: x * 3, "tripled"), (lambda x: 1 / 0, "breaks")]
    same = lambda a, b: a == b  # noqa: E731
    assert fit_checks.name_one_mistake([3, 5], cases, mistakes, same) == "added 2"
    assert fit_checks.name_one_mistake([3, 7], cases, mistakes, same) is None  # none fits every case
    both = [*mistakes, (lambda x: x + 2.0, "added 2.0")]
    assert fit_checks.name_one_mistake([3, 5], cases, both, same) is None  # two fit: name neither


def test_fit_and_predict_returns_float_arrays_and_turns_a_failing_fit_into_a_check_message():
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.ones((8, 2), dtype="float32")
    out = fit_checks.fit_and_predict(model, x, np.zeros(8), x[:3], epochs=1, batch_size=4, seed=0, call="m")
    assert out.dtype == np.float64 and out.shape == (3, 1)

    uncompiled = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(IncorrectAnswer, match="training your model on the check's data raised"):
        fit_checks.fit_and_predict(
            uncompiled, x, np.zeros(8), x, epochs=1, batch_size=4, seed=0, call="your model"
        )
