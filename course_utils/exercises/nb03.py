"""Checks for notebook 03, classification versus regression heads.

Expected values come from :mod:`course_utils.metrics` (whose unit tests cross-check it with
scikit-learn) and from the formulas the notebook states; the class-weight check compares with
scikit-learn's ``compute_class_weight`` directly.
"""

from __future__ import annotations

import numpy as np

from course_utils import metrics
from course_utils.checks import (
    Exercise,
    IncorrectAnswer,
    as_number_array,
    call_answer,
    describe_call,
    expect_close,
)


def _label_cases():
    rng = np.random.default_rng(3)
    yield np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3
    yield rng.integers(0, 4, size=50), rng.integers(0, 4, size=50), 4
    # class 2 never occurs and is never predicted: its row and column must still be there
    yield np.array([0, 1, 1, 0]), np.array([1, 1, 0, 0]), 3


def _check_confusion_counts(answer) -> str:
    for y_true, y_pred, k in _label_cases():
        call = describe_call(answer, (y_true, y_pred, k), {})
        got = as_number_array(call_answer(answer, y_true.copy(), y_pred.copy(), k), call)
        expected = metrics.confusion_matrix(y_true, y_pred, num_classes=k)
        if got.shape != expected.shape:
            raise IncorrectAnswer(
                f"{call} returned shape {got.shape}, expected {expected.shape}: one row and "
                "one column per class, even for a class that never occurs."
            )
        if np.array_equal(got, expected.T) and not np.array_equal(expected, expected.T):
            raise IncorrectAnswer(
                f"{call} is transposed: rows are the TRUE classes, columns the PREDICTED "
                "ones (matrix[true, predicted] += 1)."
            )
        if not np.array_equal(got, expected):
            raise IncorrectAnswer(f"{call} returned\n{got.astype(int)}\nexpected\n{expected}")
    return "Rows are true classes, columns predictions; the diagonal counts the hits."


exercise_1 = Exercise(
    1,
    "confusion matrix",
    answer_name="confusion_counts",
    checker=_check_confusion_counts,
    hint=(
        "Start from np.zeros((num_classes, num_classes), dtype=int) and add 1 at "
        "[true, predicted] for every sample (a loop over zip(y_true, y_pred) is fine)."
    ),
    solution='''def confusion_counts(y_true, y_pred, num_classes):
    """Matrix whose entry [i, j] counts samples of true class i predicted as class j."""
    matrix = np.zeros((num_classes, num_classes), dtype=int)
    for true, predicted in zip(y_true, y_pred):
        matrix[true, predicted] += 1
    return matrix''',
)


def _check_precision_recall(answer) -> str:
    for y_true, y_pred, k in _label_cases():
        matrix = metrics.confusion_matrix(y_true, y_pred, num_classes=k)
        call = describe_call(answer, (matrix,), {})
        got = call_answer(answer, matrix.copy())
        if not isinstance(got, tuple) or len(got) != 2:
            raise IncorrectAnswer(f"{call} must return a pair (precision, recall), got {got!r}.")
        precision, recall = (as_number_array(g, call) for g in got)
        scores = metrics.precision_recall_f1(y_true, y_pred, num_classes=k)
        if np.allclose(precision, scores.recall) and np.allclose(recall, scores.precision) and not (
            np.allclose(scores.precision, scores.recall)
        ):
            raise IncorrectAnswer(
                f"{call}: precision and recall are swapped. Precision divides the hits by the "
                "column sums (everything PREDICTED as the class), recall by the row sums "
                "(everything that truly IS the class)."
            )
        if np.any(~np.isfinite(precision)) or np.any(~np.isfinite(recall)):
            raise IncorrectAnswer(
                f"{call} returned NaN or inf for a class that is never predicted or never "
                "occurs; report 0 there, as scikit-learn does."
            )
        for name, got_values, expected in (
            ("precision", precision, scores.precision),
            ("recall", recall, scores.recall),
        ):
            if got_values.shape != expected.shape or not np.allclose(got_values, expected):
                raise IncorrectAnswer(
                    f"{call} returned {name} {np.round(got_values, 3)}, expected "
                    f"{np.round(expected, 3)}."
                )
    return "Precision reads columns, recall reads rows."


exercise_2 = Exercise(
    2,
    "precision and recall from a confusion matrix",
    answer_name="precision_recall",
    checker=_check_precision_recall,
    hint=(
        "The hits are np.diag(matrix). Precision: hits / matrix.sum(axis=0) (column sums); "
        "recall: hits / matrix.sum(axis=1) (row sums). Where a sum is 0, report 0: "
        "np.divide(a, b, out=np.zeros(len(a)), where=b > 0)."
    ),
    solution='''def precision_recall(matrix):
    """Per-class precision and recall from a confusion matrix (rows true, columns predicted)."""
    hits = np.diag(matrix).astype(float)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros(len(hits)), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros(len(hits)), where=actual > 0)
    return precision, recall''',
)


def _reference_huber(errors: np.ndarray, delta: float) -> np.ndarray:
    small = np.abs(errors) <= delta
    return np.where(small, 0.5 * errors**2, delta * (np.abs(errors) - 0.5 * delta))


def _check_huber(answer) -> str:
    errors = np.array([-7.0, -2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 1.5, 3.0, 12.0])
    for delta in (1.0, 2.0, 0.5):
        call = describe_call(answer, (errors, delta), {})
        got = as_number_array(call_answer(answer, errors.copy(), delta), call)
        expected = _reference_huber(errors, delta)
        if got.shape != expected.shape:
            raise IncorrectAnswer(
                f"{call} returned shape {got.shape}; return one loss per error, shape "
                f"{expected.shape}."
            )
        if np.allclose(got, np.where(np.abs(errors) <= delta, errors**2, expected)):
            raise IncorrectAnswer(
                f"{call}: the quadratic part is 0.5 * error**2, not error**2 (the 0.5 makes "
                "both pieces meet smoothly at |error| = delta)."
            )
        if np.allclose(got, np.where(np.abs(errors) <= delta, expected, delta * np.abs(errors))):
            raise IncorrectAnswer(
                f"{call}: the linear part is delta * (|error| - 0.5 * delta); without the "
                "- 0.5 * delta the two pieces do not meet at |error| = delta."
            )
        for i in np.flatnonzero(~np.isclose(got, expected)):
            raise IncorrectAnswer(
                f"{call}: for error {errors[i]} you give {got[i]:.4g}, expected "
                f"{expected[i]:.4g}."
            )
    return "Quadratic near zero, linear beyond delta: mse's precision, mae's robustness."


exercise_3 = Exercise(
    3,
    "the Huber loss",
    answer_name="huber",
    checker=_check_huber,
    hint=(
        "Where np.abs(errors) <= delta the loss is 0.5 * errors**2, elsewhere "
        "delta * (np.abs(errors) - 0.5 * delta). np.where(condition, a, b) picks per element."
    ),
    solution='''def huber(errors, delta):
    """Huber loss of each error: quadratic up to |error| = delta, linear beyond."""
    absolute = np.abs(errors)
    return np.where(absolute <= delta, 0.5 * errors**2, delta * (absolute - 0.5 * delta))''',
)


def _check_class_weights(answer) -> str:
    from sklearn.utils.class_weight import compute_class_weight

    rng = np.random.default_rng(5)
    cases = [
        np.array([0] * 90 + [1] * 6 + [2] * 4),
        rng.choice(4, size=200, p=[0.7, 0.1, 0.1, 0.1]),
        np.array([0, 1, 2] * 10),
    ]
    for labels in cases:
        k = int(labels.max()) + 1
        call = describe_call(answer, (labels, k), {})
        got = call_answer(answer, labels.copy(), k)
        if not isinstance(got, dict):
            raise IncorrectAnswer(
                f"{call} returned {type(got).__name__}; Keras's class_weight= wants a dict "
                "{class index: weight}."
            )
        expected = compute_class_weight("balanced", classes=np.arange(k), y=labels)
        if sorted(got) != list(range(k)):
            raise IncorrectAnswer(f"{call} has keys {sorted(got)}; expected 0 to {k - 1}.")
        for c in range(k):
            count = int(np.sum(labels == c))
            expect_close(
                got[c],
                float(expected[c]),
                call=f"{call}[{c}]",
                rel_tol=1e-6,
                mistakes={
                    1 / count: "divide the number of samples by num_classes * count, so "
                    "a balanced set gets weight 1 for every class.",
                    len(labels) / count: "divide by num_classes * count, not count alone: "
                    "a balanced set should get weight 1.",
                },
            )
    return "Each class then contributes the same total weight to the loss."


exercise_4 = Exercise(
    4,
    "balanced class weights",
    answer_name="balanced_class_weights",
    checker=_check_class_weights,
    hint=(
        "Count each class with np.bincount(labels, minlength=num_classes). A class's weight is "
        "len(labels) / (num_classes * its count): 1 for every class when they are balanced."
    ),
    solution='''def balanced_class_weights(labels, num_classes):
    """{class: weight} making every class count equally in the loss."""
    counts = np.bincount(labels, minlength=num_classes)
    return {k: len(labels) / (num_classes * counts[k]) for k in range(num_classes)}''',
)
