"""Checks for notebook 03, classification versus regression heads.

Expected values come from :mod:`course_utils.metrics` (whose unit tests cross-check it with
scikit-learn) and from the formulas the notebook states; the class-weight check compares with
scikit-learn's ``compute_class_weight`` directly.
"""

from __future__ import annotations

import numpy as np

from course_utils import metrics
from course_utils.checks import (
    ArrayClose,
    Exercise,
    IncorrectAnswer,
    as_number_array,
    short_repr,
)


def _label_cases():
    rng = np.random.default_rng(3)
    yield np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3
    yield rng.integers(0, 4, size=50), rng.integers(0, 4, size=50), 4
    # class 2 never occurs and is never predicted: its row and column must still be there
    yield np.array([0, 1, 1, 0]), np.array([1, 1, 0, 0]), 3


def _confusion(y_true, y_pred, k):
    """The confusion matrix, also of no samples at all (metrics.confusion_matrix refuses those)."""
    if len(y_true) == 0:
        return np.zeros((k, k), dtype=int)
    return metrics.confusion_matrix(np.asarray(y_true), np.asarray(y_pred), num_classes=k)


def _confusion_fancy_indexing(y_true, y_pred, k):
    matrix = np.zeros((k, k), dtype=int)
    matrix[np.asarray(y_true), np.asarray(y_pred)] += 1
    return matrix


def _confusion_bincount(y_true, y_pred, k):
    return np.bincount(np.asarray(y_true) * k + np.asarray(y_pred)).reshape(k, k)


_FRACTIONS = "you divided by a total; the matrix holds counts, not fractions."
_CONFUSION_MISTAKES = [
    (lambda t, p, k: _confusion(t, p, k).T,
     "the matrix is transposed: rows are the TRUE classes, columns the PREDICTED ones "
     "(matrix[true, predicted] += 1)."),
    (_confusion_fancy_indexing,
     "matrix[y_true, y_pred] += 1 with whole arrays adds 1 only once per distinct (true, "
     "predicted) pair, however often it occurs. Loop over the samples, or use "
     "np.add.at(matrix, (y_true, y_pred), 1)."),
    (lambda t, p, k: _confusion(t, p, max(int(np.max(t)), int(np.max(p))) + 1),
     "you sized the matrix from the labels you saw; it needs num_classes rows and columns, "
     "even for a class that never occurs."),
    (lambda t, p, k: _confusion(t, p, k) / np.maximum(_confusion(t, p, k).sum(axis=1, keepdims=True), 1), _FRACTIONS),
    (lambda t, p, k: _confusion(t, p, k) / len(t), _FRACTIONS),
    (lambda t, p, k: np.histogram2d(t, p, bins=k)[0],
     "np.histogram2d(y_true, y_pred, bins=num_classes) spreads the bins over the range of the "
     "labels it sees; pass range=[[0, num_classes], [0, num_classes]], or count with a loop."),
    (_confusion_bincount,
     "np.bincount stops at the largest value it sees; pass minlength=num_classes**2 so "
     "the reshape to (num_classes, num_classes) always works."),
]  # fmt: skip


def _check_confusion_counts(answer) -> str:
    cases = list(_label_cases())
    cases.append(([2, 0, 2, 1, 2], [2, 0, 1, 1, 2], 3))  # plain Python lists of labels
    cases.append((np.array([], dtype=int), np.array([], dtype=int), 2))  # no samples yet: all zeros
    ArrayClose(rtol=0, atol=0).check(
        answer, cases, _confusion, mistakes=_CONFUSION_MISTAKES,
        note="Entry [i, j] counts the samples of true class i predicted as class j.",
    )  # fmt: skip
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


def _pair_of_arrays(got, call):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise IncorrectAnswer(f"{call} must return a pair (precision, recall), got {short_repr(got)}.")
    precision, recall = (as_number_array(g, call) for g in got)
    if precision.shape != recall.shape:
        raise IncorrectAnswer(
            f"{call} returned precision of shape {precision.shape} and recall of shape "
            f"{recall.shape}; both have one value per class."
        )
    return np.stack([precision, recall])


def _precision_recall(matrix):
    matrix = np.asarray(matrix, dtype=np.float64)
    hits, predicted, actual = np.diag(matrix), matrix.sum(axis=0), matrix.sum(axis=1)
    return (
        np.divide(hits, predicted, out=np.zeros(len(hits)), where=predicted > 0),
        np.divide(hits, actual, out=np.zeros(len(hits)), where=actual > 0),
    )


def _precision_recall_plain_division(matrix):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.diag(matrix) / matrix.sum(axis=0), np.diag(matrix) / matrix.sum(axis=1)


_PRECISION_RECALL_MISTAKES = [
    (lambda m: _precision_recall(m)[::-1],
     "precision and recall are swapped. Precision divides the hits by the column sums "
     "(everything PREDICTED as the class), recall by the row sums (everything that truly IS the class)."),
    (_precision_recall_plain_division,
     "you returned NaN for a class that is never predicted or never occurs (0 / 0); report 0 "
     "there, as scikit-learn does: np.divide(..., out=np.zeros(...), where=sums > 0)."),
    (lambda m: (np.diag(m) / m.sum(),) * 2,
     "you divided the hits by the number of all samples; precision divides by the column "
     "sums, recall by the row sums."),
    (lambda m: (np.diag(m) // np.maximum(m.sum(axis=0), 1), np.diag(m) // np.maximum(m.sum(axis=1), 1)),
     "// is floor division, which turns every fraction below 1 into 0; divide with /."),
    (lambda m: (np.diag(m) / (m.sum(axis=0) + 1), np.diag(m) / (m.sum(axis=1) + 1)),
     "adding 1 to the sums avoids 0 / 0 but changes every value; divide by the sums themselves "
     "and report 0 where a sum is 0."),
    (lambda m: (_precision_recall(m)[0],) * 2,
     "you returned precision twice; recall divides the hits by the row sums."),
    (lambda m: (np.trace(m) / m.sum(),) * 2,
     "you returned one number (the accuracy) for each; precision and recall have one value per class."),
    (lambda m: tuple(float(np.mean(v)) for v in _precision_recall(m)),
     "you averaged over the classes; return one precision and one recall per class."),
]  # fmt: skip


def _check_precision_recall(answer) -> str:
    matrices = [_confusion(t, p, k) for t, p, k in _label_cases()]
    ArrayClose(convert=_pair_of_arrays).check(
        answer, [(m,) for m in matrices], lambda m: np.stack(_precision_recall(m)),
        mistakes=_PRECISION_RECALL_MISTAKES,
        note="(Row 0 is precision, row 1 recall.) Precision: hits / column sums; recall: hits / row sums.",
    )  # fmt: skip
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


_ONE_NUMBER = "you returned one number (a mean or a sum); return one loss per error (Keras averages them later)."
_HUBER_MISTAKES = [
    (lambda e, d: np.where(np.abs(e) <= d, e**2, _reference_huber(e, d)),
     "the quadratic part is 0.5 * error**2, not error**2 (the 0.5 makes both pieces meet "
     "smoothly at |error| = delta)."),
    (lambda e, d: np.where(np.abs(e) <= d, _reference_huber(e, d), d * np.abs(e)),
     "the linear part is delta * (|error| - 0.5 * delta); without the - 0.5 * delta the two "
     "pieces do not meet at |error| = delta."),
    (lambda e, d: np.where(np.abs(e) <= d, _reference_huber(e, d), np.abs(e) - 0.5 * d),
     "the linear part is multiplied by delta: delta * (|error| - 0.5 * delta)."),
    (lambda e, d: np.where(np.abs(e) <= d, 0.5 * e**2, d * (e - 0.5 * d)),
     "the linear part uses |error|; with the signed error a large negative error gets a "
     "negative loss."),
    (lambda e, d: np.where(e <= d, 0.5 * e**2, d * (np.abs(e) - 0.5 * d)),
     "compare |error| with delta, not the error itself: a large negative error belongs to "
     "the linear part too."),
    (lambda e, d: 0.5 * e**2, "beyond |error| = delta the loss grows linearly, not quadratically."),
    (lambda e, d: np.where(np.abs(e) <= d, _reference_huber(e, d), d * (np.abs(e) - d)),
     "the linear part subtracts 0.5 * delta, not delta: delta * (|error| - 0.5 * delta)."),
    (lambda e, d: np.where(np.abs(e) <= d, _reference_huber(e, d), np.abs(e)),
     "the linear part is delta * (|error| - 0.5 * delta), not |error|: it must meet the "
     "quadratic part at |error| = delta."),
    (lambda e, d: np.where(np.abs(e) <= d, d * (np.abs(e) - 0.5 * d), 0.5 * e**2),
     "the two pieces are swapped: quadratic for SMALL errors (|error| <= delta), linear beyond."),
    (lambda e, d: np.where(np.abs(e) <= d, 0.5 * e**2, d * np.abs(e) - 0.5 * d),
     "mind the parentheses: delta * (|error| - 0.5 * delta) subtracts 0.5 * delta**2."),
    (lambda e, d: np.mean(_reference_huber(e, d)), _ONE_NUMBER),
    (lambda e, d: np.sum(_reference_huber(e, d)), _ONE_NUMBER),
]  # fmt: skip


def _check_huber(answer) -> str:
    errors = np.array([-7.0, -2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 1.5, 3.0, 12.0])
    inputs = [(errors, delta) for delta in (1.0, 2.0, 0.5)]
    inputs.append((np.array([-4, -1, 0, 2, 5]), 2))  # whole-number errors
    ArrayClose().check(
        answer, inputs, lambda e, d: _reference_huber(np.asarray(e, dtype=np.float64), d),
        mistakes=_HUBER_MISTAKES,
        note="Where |error| <= delta: 0.5 * error**2; elsewhere delta * (|error| - 0.5 * delta).",
    )  # fmt: skip
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


def _weights_dict_as_array(got, call):
    if not isinstance(got, dict):
        raise IncorrectAnswer(
            f"{call} returned {type(got).__name__}; Keras's class_weight= wants a dict "
            "{class index: weight}."
        )
    keys = sorted(got, key=lambda k: (not isinstance(k, (int, np.integer)), str(k)))
    if any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) for k in keys) or (
        [int(k) for k in keys] != list(range(len(keys)))
    ):
        raise IncorrectAnswer(
            f"{call} has keys {short_repr(keys)}; the keys are the class indices 0, 1, ..., num_classes - 1 (ints)."
        )
    return as_number_array([got[k] for k in keys], call)


def _balanced(labels, k):
    counts = np.bincount(labels, minlength=k)
    return len(labels) / (k * counts)


_CLASS_WEIGHT_MISTAKES = [
    (lambda y, k: {c: 1 / n for c, n in enumerate(np.bincount(y, minlength=k))},
     "divide the number of samples by num_classes * count, so a balanced set gets weight 1 "
     "for every class (not 1 / count)."),
    (lambda y, k: {c: len(y) / n for c, n in enumerate(np.bincount(y, minlength=k))},
     "divide by num_classes * count, not count alone: a balanced set should get weight 1."),
    (lambda y, k: {c: k * n / len(y) for c, n in enumerate(np.bincount(y, minlength=k))},
     "the fraction is upside down: a rare class needs a LARGE weight, "
     "len(labels) / (num_classes * count)."),
    (lambda y, k: {c: np.bincount(y).max() / n for c, n in enumerate(np.bincount(y, minlength=k))},
     "relative to the largest class is another scheme; 'balanced' weights are "
     "len(labels) / (num_classes * count), so they average 1 over the samples."),
    (lambda y, k: {c: 1 - n / len(y) for c, n in enumerate(np.bincount(y, minlength=k))},
     "1 - frequency is another scheme, too gentle for rare classes; 'balanced' weights are "
     "len(labels) / (num_classes * count)."),
    (lambda y, k: dict(enumerate(np.sqrt(_balanced(y, k)))),
     "the square root softens the weights (another scheme); 'balanced' weights are "
     "len(labels) / (num_classes * count) itself."),
    (lambda y, k: dict(enumerate(_balanced(y, k) / _balanced(y, k).sum())),
     "the weights need not sum to 1: 'balanced' weights are len(labels) / (num_classes * "
     "count), 1 for every class of a balanced set."),
    (lambda y, k: list(_balanced(y, k)),
     "Keras's class_weight= wants a dict {class index: weight}, not a list."),
]  # fmt: skip


def _check_class_weights(answer) -> str:
    rng = np.random.default_rng(5)
    cases = [
        np.array([0] * 90 + [1] * 6 + [2] * 4),
        rng.choice(4, size=200, p=[0.7, 0.1, 0.1, 0.1]),
        np.array([0, 1, 2] * 10),
        np.array([1, 0, 1, 1, 0, 1, 1, 1]),
    ]
    from sklearn.utils.class_weight import compute_class_weight

    ArrayClose(rtol=1e-6, convert=_weights_dict_as_array).check(
        answer, [(labels, int(labels.max()) + 1) for labels in cases],
        lambda labels, k: compute_class_weight("balanced", classes=np.arange(k), y=labels),
        mistakes=_CLASS_WEIGHT_MISTAKES,
        note="(Weights listed by class.) A class's weight is len(labels) / (num_classes * its count).",
    )  # fmt: skip
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
