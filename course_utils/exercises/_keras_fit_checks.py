"""Helpers of notebooks 05-07's Keras exercises that ``_keras_checks`` does not cover.

* :func:`answer_or_reference` - the learner's function where it passes its check, else the
  exercise's reference solution, so a notebook can go on with what the learner built and a
  student notebook still runs top to bottom.
* :func:`name_one_mistake` - the one explanation whose wrong function agrees with the answer on
  every input of a check, for results that the :class:`~course_utils.checks.Comparison` classes
  cannot compare (dicts of numbers per layer, models).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from course_utils.checks import Exercise, Status


def reference_function(exercise: Exercise) -> Callable:
    """The exercise's reference solution as a function (its code run with np, math, keras, tf)."""
    import math

    import keras
    import numpy as np
    import tensorflow as tf

    namespace: dict[str, Any] = {"np": np, "math": math, "keras": keras, "tf": tf}
    exec(exercise.solution_code, namespace)  # noqa: S102 - the course's own solution text
    return namespace[exercise.answer_name]


def answer_or_reference(exercise: Exercise, answer: Callable) -> Callable:
    """``answer`` if it passes ``exercise``'s check, else the reference solution.

    Prints which one the notebook goes on with, so a learner whose exercise is not done (or not
    yet right) sees that the cells below use the course's solution.
    """
    if not isinstance(exercise, Exercise):
        raise TypeError(f"exercise must be an Exercise such as checks.exercise_2, got {type(exercise).__name__}.")
    result = exercise.evaluate(answer)
    if result.status is Status.CORRECT:
        print(f"The cells below use your `{exercise.answer_name}`.")
        return answer
    reason = "is not done yet" if result.status is Status.NOT_ATTEMPTED else "does not pass its check yet"
    print(f"Exercise {exercise.number} {reason}: the cells below use the course's `{exercise.answer_name}`.")
    return reference_function(exercise)


def name_one_mistake(results: Sequence, cases: Sequence, mistakes, same: Callable[[Any, Any], bool]) -> str | None:
    """The explanation of the one mistake whose wrong function gives ``results`` on all ``cases``.

    Parameters
    ----------
    results : sequence
        What the answer gave on each case.
    cases : sequence of tuples
        The arguments of each case.
    mistakes : list of (wrong function, explanation) pairs
    same : callable
        ``same(result, wrong)`` compares two results.
    """
    found = set()
    for wrong_function, explanation in mistakes:
        try:
            if all(same(got, wrong_function(*case)) for got, case in zip(results, cases, strict=True)):
                found.add(explanation)
        except Exception:  # noqa: BLE001,S112 - a wrong function that fails here matches nothing
            continue
    return found.pop() if len(found) == 1 else None


def fit_and_predict(model, x_train, y_train, x_val, *, epochs: int, batch_size: int, seed: int, call: str):
    """Train ``model`` briefly from a fixed seed, then its outputs on ``x_val`` (one eager call).

    Unlike ``model.predict``, the eager call traces no graph: no retracing warnings in a
    notebook that has predicted with many models before, and no tracing time.
    """
    import keras
    import numpy as np

    from course_utils.checks import IncorrectAnswer

    keras.utils.set_random_seed(seed)
    try:
        model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0)
        outputs = model(x_val, training=False)
    except Exception as err:
        raise IncorrectAnswer(
            f"training {call} on the check's data raised {type(err).__name__}: {str(err)[:300]}"
        ) from err
    if isinstance(outputs, dict):
        return {name: np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64) for name, value in outputs.items()}
    if isinstance(outputs, (list, tuple)):
        return [np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64) for value in outputs]
    return np.asarray(keras.ops.convert_to_numpy(outputs), dtype=np.float64)
