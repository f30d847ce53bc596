"""Every notebook's exercise checks, fed the answers learners really give.

tests/test_notebooks.py shows that each reference solution passes its check and each stub is
"not attempted". Here: the classic mistakes must be named as such (the "likely mistake" that makes
a check worth more than a red cross), and answers of the wrong kind (None from a missing return, a
string, an array of the wrong shape, ...) must be reported as incorrect by the check's own
message, never crash it.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

from course_utils.checks import Exercise, Status, exercises_in

NOTEBOOK_MODULES = [f"course_utils.exercises.nb0{n}" for n in range(1, 8)]
ALL_EXERCISES = [
    (module.rsplit(".", 1)[1], exercise)
    for module in NOTEBOOK_MODULES
    for exercise in exercises_in(vars(importlib.import_module(module)))
]
# The message of Exercise.evaluate's last-resort handler; a check should never need it.
FALLBACK_MESSAGE = "the check could not compare"


def _exercise(module: str, number: int) -> Exercise:
    namespace = vars(importlib.import_module(f"course_utils.exercises.{module}"))
    return namespace[f"exercise_{number}"]


# --- wrong answers of the wrong kind ---------------------------------------------------------

WRONG_KINDS = {
    "None (missing return)": lambda *args, **kwargs: None,
    "a string": lambda *args, **kwargs: "42",
    "a bool": lambda *args, **kwargs: True,
    "NaN": lambda *args, **kwargs: float("nan"),
    "an empty list": lambda *args, **kwargs: [],
    "a one-element array": lambda *args, **kwargs: np.zeros(1),
    "a 2-D array": lambda *args, **kwargs: np.zeros((3, 5)),
    "a dict": lambda *args, **kwargs: {"a": 1},
    "a triple": lambda *args, **kwargs: (1, 2, 3),
    "its first argument": lambda *args, **kwargs: args[0] if args else None,
}


@pytest.mark.parametrize("kind", WRONG_KINDS)
@pytest.mark.parametrize(
    "module, exercise", ALL_EXERCISES, ids=[f"{m}-{e.number}" for m, e in ALL_EXERCISES]
)
def test_answer_of_the_wrong_kind_is_incorrect_with_the_checks_own_message(module, exercise, kind):
    answer = WRONG_KINDS[kind]
    answer.__name__ = exercise.answer_name
    result = exercise.evaluate(answer)
    assert result.status is Status.INCORRECT, result.message
    assert result.message.startswith(exercise.label)
    assert FALLBACK_MESSAGE not in result.message, result.message


def test_a_check_that_breaks_on_an_odd_answer_reports_it_instead_of_crashing():
    def checker(answer):
        return answer() + 1  # TypeError for a str, by design of this test

    exercise = Exercise(9, "odd", answer_name="odd", checker=checker, hint="h", solution="s")
    result = exercise.evaluate(lambda: "text")
    assert result.status is Status.INCORRECT
    assert FALLBACK_MESSAGE in result.message and "TypeError" in result.message


# --- the classic mistakes, named ---------------------------------------------------------------


def _flipped_cross_correlate(image, kernel):
    kernel = kernel[::-1, ::-1]
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    return np.einsum("ijkl,kl->ij", windows, kernel)


def _average_pool(feature_map, size):
    h, w = feature_map.shape[0] // size, feature_map.shape[1] // size
    return feature_map[: h * size, : w * size].reshape(h, size, w, size).mean(axis=(1, 3))


def _confusion_transposed(y_true, y_pred, num_classes):
    matrix = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(matrix, (np.asarray(y_pred), np.asarray(y_true)), 1)
    return matrix


def _huber_without_half(errors, delta):
    errors = np.abs(np.asarray(errors, dtype=float))
    return np.where(errors <= delta, errors**2, delta * (errors - 0.5 * delta))


def _top_blocks_from_the_bottom(layer_names, top_blocks):
    blocks = sorted({int(n.split("_")[0][5:]) for n in layer_names if n.startswith("block")})
    chosen = set(blocks[:top_blocks])
    return [n for n in layer_names if n.startswith("block") and int(n.split("_")[0][5:]) in chosen]


def _only_unread_layers(inputs_of, outputs):
    read = {name for inputs in inputs_of.values() for name in inputs}
    return {name for name in inputs_of if name not in read} - set(outputs)


CLASSIC_MISTAKES = [
    ("nb01", 1, _flipped_cross_correlate, "flipped the kernel"),
    ("nb01", 2, _average_pool, "averaged each window"),
    ("nb01", 3, lambda num_layers, kernel_size: num_layers * kernel_size, "kernel_size - 1"),
    ("nb02", 1, lambda n, k, s, p: (n - k) / s + 1 if p == "valid" else n / s, None),
    ("nb02", 3, lambda k, c_in, f: k * k * c_in * f, "bias"),
    ("nb03", 1, _confusion_transposed, "transposed"),
    ("nb03", 3, _huber_without_half, "0.5 * error**2"),
    ("nb04", 1, lambda y_train, y: (y - np.mean(y)) / np.std(y), "of `y` itself"),
    ("nb04", 2, lambda z, mean, std: (z - mean) / std, "forward transform again"),
    ("nb05", 1, lambda labels: float(np.mean(labels)), None),
    ("nb05", 3, lambda predicted, true: np.abs(np.asarray(predicted) - np.asarray(true)), "plain difference"),
    ("nb05", 4, lambda a: np.stack([np.cos(np.radians(a)), np.sin(np.radians(a))], axis=-1), "not 2θ"),
    ("nb05", 5, lambda e: np.degrees(np.arctan2(e[:, 1], e[:, 0])) % 360, "2θ"),
    ("nb06", 1, lambda n, b, s: s // math.ceil(n / b), "rounding down"),
    ("nb06", 1, lambda n, b, s: math.ceil(s * b / n), "last, smaller batch"),
    ("nb06", 2, _top_blocks_from_the_bottom, "block 1"),
    ("nb06", 3, lambda x, m, v, g, b, e: g * (x - x.mean(axis=tuple(range(x.ndim - 1))))
     / np.sqrt(x.var(axis=tuple(range(x.ndim - 1))) + e) + b, "training mode"),
    ("nb06", 3, lambda x, m, v, g, b, e: g * (x - m) / np.sqrt(v) + b, "left out epsilon"),
    ("nb06", 4, lambda pixels: np.asarray(pixels) / 255.0, "[-1, 1]"),
    ("nb07", 1, lambda values, train: (values - values.mean()) / values.std(), "statistics of `values`"),
    ("nb07", 1, lambda values, train: (values - train.mean()) / train.std(ddof=1), "ddof=1"),
    ("nb07", 2, lambda losses, weights: sum(losses.values()), "weights are missing"),
    ("nb07", 2, lambda losses, weights: sum(
        w * v for w, v in zip(weights.values(), losses.values(), strict=True)), "same name"),
    ("nb07", 3, lambda b, d, units: (b + sum(d * u for u in units), sum(b + d * u for u in units)), "bias"),
    ("nb07", 3, lambda b, d, units: (b + sum((d + 1) * u for u in units),) * 2, "own backbone"),
    ("nb07", 4, _only_unread_layers, "walk back from the outputs"),
]


@pytest.mark.parametrize(
    "module, number, answer, named",
    CLASSIC_MISTAKES,
    ids=[f"{m}-{n}-{i}" for i, (m, n, _, _) in enumerate(CLASSIC_MISTAKES)],
)
def test_classic_mistake_is_incorrect_and_named(module, number, answer, named):
    exercise = _exercise(module, number)
    answer.__name__ = exercise.answer_name
    result = exercise.evaluate(answer)
    assert result.status is Status.INCORRECT, result.message
    if named is not None:  # else: only that the expected value is stated
        assert named in result.message, result.message
    else:
        assert "expected" in result.message, result.message
