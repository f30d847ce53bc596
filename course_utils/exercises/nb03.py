"""Checks for notebook 03, classification versus regression heads.

Expected values come from :mod:`course_utils.metrics` (whose unit tests cross-check it with
scikit-learn) and from the formulas the notebook states; the class-weight check compares with
scikit-learn's ``compute_class_weight`` directly.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils import metrics
from course_utils.checks import (
    ArrayClose,
    Exercise,
    IncorrectAnswer,
    Shown,
    as_number_array,
    call_answer,
    describe_call,
    short_repr,
)
from course_utils.exercises import _keras_checks as kc


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


# ------------------------------------------------------------------------------------------
# Keras exercises: the head, its activation, loss and metrics; a regression head on a
# classifier's backbone, trained.
# ------------------------------------------------------------------------------------------

_TASKS = ("classes", "labels", "score", "quantity")
_CLASS_LOSSES = {"sparse_categorical_crossentropy"}
_LABEL_LOSSES = {"binary_crossentropy", "binary_focal_crossentropy"}
_REGRESSION_LOSSES = {"mean_squared_error", "mean_absolute_error", "huber", "log_cosh"}
_REGRESSION_METRICS = {"mean_absolute_error", "root_mean_squared_error", "mean_squared_error"}


def _test_backbone(seed: int = 3):
    """A tiny backbone for the checks: 8x8x1 images to 4 features, fixed weights."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
        ],
        name="test_backbone",
    )


def _head_problems(model, task, num_outputs, call) -> str | None:
    """Why ``model`` is not the right head for ``task``, or None."""
    if tuple(model.input_shape) != (None, 8, 8, 1):
        return (
            f"{call}: the model's input shape is {model.input_shape}, not the backbone's (None, 8, 8, 1). "
            "Put the head on top of the backbone: keras.Sequential([backbone, head layer])."
        )
    if isinstance(model.output_shape, dict) or len(model.output_shape) != 2:
        return f"{call}: the output shape is {model.output_shape}; a head gives (None, units): one row of numbers per image."
    units = model.output_shape[-1]
    activation = kc.final_activation(model)
    loss = kc.compiled_loss(model)
    if isinstance(loss, dict):
        return f"{call}: the model has one output; give compile one loss, not a dict."
    metrics = kc.metric_names(model)
    return _HEAD_RULES[task](units, activation, loss, metrics, num_outputs, call)


def _logits_consistent(activation, loss, call, kind):
    if activation == "softmax" and loss.from_logits:
        return (
            f"{call}: the output already goes through softmax, but the loss has from_logits=True, so "
            "it applies softmax a second time. Either keep softmax and from_logits=False, or drop the "
            "activation (logits) and keep from_logits=True."
        )
    if activation == "sigmoid" and loss.from_logits:
        return (
            f"{call}: the output already goes through sigmoid, but the loss has from_logits=True, so it "
            "applies sigmoid a second time. Keep sigmoid with from_logits=False, or output logits with from_logits=True."
        )
    if activation == "linear" and not loss.from_logits:
        return (
            f"{call}: the outputs are logits (no activation), but the loss expects {kind} "
            "(from_logits=False). Add the activation, or pass from_logits=True to the loss."
        )
    return None


def _rule_classes(units, activation, loss, metrics, k, call):
    if loss.name == "categorical_crossentropy":
        return (
            f"{call}: categorical_crossentropy wants one-hot labels, but these labels are class "
            "indices 0 to num_outputs - 1: use sparse_categorical_crossentropy (or one-hot the labels)."
        )
    if units != k:
        return f"{call}: the head has {units} output units; one-of-{k} classes needs {k}, one score per class."
    if activation == "sigmoid":
        return (
            f"{call}: sigmoid scores each class on its own, so the scores need not sum to 1; for exactly one "
            "class per image use softmax (the classes compete)."
        )
    if loss.name in _LABEL_LOSSES:
        return f"{call}: binary_crossentropy treats each class as a separate yes/no; one-of-k classes use sparse_categorical_crossentropy."
    if loss.name not in _CLASS_LOSSES:
        return f"{call}: for class indices use loss sparse_categorical_crossentropy; found {loss.name!r}."
    problem = _logits_consistent(activation, loss, call, "probabilities")
    if problem:
        return problem
    if activation not in ("softmax", "linear"):
        return f"{call}: the head ends in {activation}; one-of-k classes end in softmax."
    if "accuracy" not in metrics:
        return f"{call}: compile with metrics=['accuracy'] for classes (the share of images whose top class is right)."
    return None


def _rule_labels(units, activation, loss, metrics, k, call):
    if units != k:
        return f"{call}: the head has {units} output units; {k} labels need {k}, one yes/no score per label."
    if loss.name in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
        return (
            f"{call}: {loss.name} assumes exactly one label per image; several labels per image "
            "are k separate yes/no questions: binary_crossentropy."
        )
    if activation == "softmax":
        return (
            f"{call}: softmax makes the labels compete (their scores sum to 1), so two labels cannot both be "
            "likely; several labels per image need sigmoid, one independent probability each."
        )
    if loss.name not in _LABEL_LOSSES:
        return f"{call}: several labels per image need loss binary_crossentropy; found {loss.name!r}."
    problem = _logits_consistent(activation, loss, call, "probabilities")
    if problem:
        return problem
    if activation not in ("sigmoid", "linear"):
        return f"{call}: the head ends in {activation}; several labels per image end in sigmoid."
    if not metrics & {"accuracy", "binary_accuracy", "auc", "precision", "recall"}:
        return f"{call}: give a classification metric such as metrics=['binary_accuracy']."
    return None


def _regression_common(units, loss, metrics, k, call):
    if units != k:
        return f"{call}: the head has {units} output units; this target needs {k}."
    if loss.name in _CLASS_LOSSES | _LABEL_LOSSES | {"categorical_crossentropy"}:
        return (
            f"{call}: {loss.name} is a classification loss; a number is compared with a regression "
            "loss: mse, mae or Huber."
        )
    if loss.name not in _REGRESSION_LOSSES:
        return f"{call}: use a regression loss (mse, mae or Huber); found {loss.name!r}."
    if metrics & {"accuracy", "binary_accuracy"}:
        return (
            f"{call}: accuracy counts exact matches, meaningless for a real number; report "
            "metrics=['mae'] (or RMSE) instead."
        )
    if not metrics & _REGRESSION_METRICS:
        return f"{call}: compile with metrics=['mae'], the typical miss in the target's own units."
    return None


def _rule_score(units, activation, loss, metrics, k, call):
    if loss.name == "binary_crossentropy" and units == k:  # fits a score in [0, 1] as well as mse does
        loss = kc.LossInfo("mean_squared_error", False, loss.loss) if activation == "sigmoid" and not loss.from_logits else loss
        if loss.name == "binary_crossentropy":
            problem = _logits_consistent(activation, loss, call, "scores in [0, 1]")
            if problem:
                return problem
            loss = kc.LossInfo("mean_squared_error", False, loss.loss)
            activation = "sigmoid"  # logits with from_logits=True: the loss applies the sigmoid
    problem = _regression_common(units, loss, metrics, k, call)
    if problem:
        return problem
    if activation == "softmax":
        return f"{call}: softmax over the outputs makes them sum to 1 (a single unit is always exactly 1); a score in [0, 1] ends in sigmoid."
    if activation != "sigmoid":
        return (
            f"{call}: the head ends in {activation}, which can leave [0, 1]; a score bounded by 0 and 1 "
            "ends in sigmoid, so no prediction is impossible."
        )
    return None


def _rule_quantity(units, activation, loss, metrics, k, call):
    problem = _regression_common(units, loss, metrics, k, call)
    if problem:
        return problem
    if activation in ("sigmoid", "softmax", "tanh"):
        return (
            f"{call}: {activation} bounds the output, but the quantity is unbounded: it could never "
            "predict a large value. Leave the activation out (linear)."
        )
    if activation == "relu":
        return f"{call}: relu cuts every negative prediction to 0 (and stops its gradient); an unbounded quantity ends with no activation."
    if activation != "linear":
        return f"{call}: the head ends in {activation}; an unbounded quantity ends with no activation (linear)."
    return None


_HEAD_RULES = {"classes": _rule_classes, "labels": _rule_labels, "score": _rule_score, "quantity": _rule_quantity}
_HEAD_CASES = [("classes", 5), ("labels", 4), ("score", 1), ("quantity", 1), ("quantity", 3)]


def _check_head_model(answer) -> str:
    import keras

    backbone = _test_backbone()
    images = np.random.default_rng(8).uniform(0, 1, size=(6, 8, 8, 1)).astype("float32")
    for task, k in _HEAD_CASES:
        call = describe_call(answer, (Shown("<backbone>"), task, k), {})
        model = kc.as_model(call_answer(answer, backbone, task, k), call)
        problem = _head_problems(model, task, k, call)
        if problem:
            raise IncorrectAnswer(problem)
        outputs = kc.predict(model, images)
        if outputs.shape != (len(images), k):
            raise IncorrectAnswer(f"{call}: on 6 images the model returned shape {outputs.shape}, expected (6, {k}).")
        if kc.final_activation(model) == "softmax" and not np.allclose(outputs.sum(axis=1), 1, atol=1e-4):
            raise IncorrectAnswer(f"{call}: the softmax outputs do not sum to 1 per image.")
        if kc.find_layer(model, backbone) is None and kc.find_layer(model, backbone.layers[0]) is None:
            raise IncorrectAnswer(f"{call}: the model does not use the backbone it was given; put the head on `backbone`.")
    del keras
    return "Classes: softmax; labels: sigmoid; a bounded score: sigmoid; a quantity: linear, each with its loss."


exercise_5 = Exercise(
    5,
    "the head, activation, loss and metrics for four targets",
    answer_name="build_head_model",
    checker=_check_head_model,
    hint=(
        "Ask two questions per task: what range can the target take (one-of-k, independent yes/no "
        "per label, between 0 and 1, any real number), and what labels does the loss get (class "
        "indices, 0/1 per label, numbers)? The range picks the activation, the labels pick the loss. "
        "If you leave out the activation, the loss must know: from_logits=True."
    ),
    solution='''def build_head_model(backbone, task, num_outputs):
    """backbone + a head for `task`, compiled with a loss and metrics that fit it."""
    activation, loss, metrics = {
        "classes": ("softmax", "sparse_categorical_crossentropy", ["accuracy"]),
        "labels": ("sigmoid", "binary_crossentropy", ["binary_accuracy"]),
        "score": ("sigmoid", "mse", ["mae"]),
        "quantity": (None, "mse", ["mae"]),
    }[task]
    model = keras.Sequential([backbone, keras.layers.Dense(num_outputs, activation=activation)])
    model.compile(optimizer="adam", loss=loss, metrics=metrics)
    return model''',
)


def _swap_data():
    """Fixed small data for exercise 6: 6 features, a target that the backbone's features explain."""
    rng = np.random.default_rng(21)
    x = rng.normal(size=(384, 6)).astype("float32")
    return x


def _test_classifier():
    """A 'trained' classifier: a backbone of 16 ReLU features and a softmax head over 3 classes."""
    import keras

    keras.utils.set_random_seed(5)
    backbone = keras.Sequential(
        [keras.Input(shape=(6,)), keras.layers.Dense(16, activation="relu", name="features")], name="backbone"
    )
    classifier = keras.Sequential([backbone, keras.layers.Dense(3, activation="softmax", name="class")], name="classifier")
    classifier.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return classifier


def _swap_target(backbone, x):
    """Coverage-like target: 30 + a fixed mix of the backbone's features, plus noise."""
    features = kc.predict(backbone, x)
    rng = np.random.default_rng(22)
    mix = rng.normal(size=features.shape[1])
    signal = features @ mix
    signal = (signal - signal.mean()) / signal.std()
    return (30.0 + 0.5 * signal + rng.normal(0, 0.05, size=len(x))).astype("float32")


EPOCHS_6 = 25  # 400 steps of 16 samples: the reference reaches far below the threshold


def _check_regression_head(answer) -> str:
    import keras

    classifier = _test_classifier()
    backbone = classifier.layers[0]
    x = _swap_data()
    y = _swap_target(backbone, x)
    x_train, y_train, x_val, y_val = x[:256], y[:256], x[256:], y[256:]
    before = [w.copy() for w in backbone.get_weights()]
    mean = float(y_train.mean())
    call = describe_call(answer, (Shown("<classifier>"), round(mean, 2)), {})
    keras.utils.set_random_seed(0)  # the head's initial weights, the same wherever the answer runs
    model = kc.as_model(call_answer(answer, classifier, mean), call)
    if kc.find_layer(model, classifier.get_layer("class")) is not None:
        raise IncorrectAnswer(
            f"{call}: the new head sits on the classifier's class probabilities. Take the backbone "
            "(classifier.layers[0]) and put the new head on its features instead."
        )
    if kc.find_layer(model, backbone) is None:
        raise IncorrectAnswer(
            f"{call}: the model does not reuse the classifier's backbone (classifier.layers[0]); "
            "a new, untrained backbone would throw away what the classifier learned."
        )
    if tuple(model.output_shape) != (None, 1):
        raise IncorrectAnswer(f"{call}: the output shape is {model.output_shape}; one number per image needs Dense(1).")
    activation = kc.final_activation(model)
    if activation == "softmax":
        raise IncorrectAnswer(
            f"{call}: the head kept softmax. Over a single unit softmax is always exactly 1; a "
            "regression head has no activation."
        )
    if activation in ("sigmoid", "tanh", "relu"):
        raise IncorrectAnswer(
            f"{call}: the head ends in {activation}, which bounds or cuts the output; the coverage is "
            "a plain number: Dense(1) with no activation."
        )
    loss = kc.compiled_loss(model)
    problem = _regression_common(1, loss, kc.metric_names(model), 1, call)
    if problem:
        raise IncorrectAnswer(problem)
    trainable, _ = kc.parameter_counts(model)
    if trainable != 16 + 1:
        raise IncorrectAnswer(
            f"{call}: the model has {trainable:,} trainable parameters; with the backbone frozen only "
            "the head's 16 weights and 1 bias train. Set backbone.trainable = False before compiling."
        )
    name, rate = kc.optimizer_info(model)
    if name != "Adam" or not math.isclose(rate, 3e-3, rel_tol=1e-4):
        raise IncorrectAnswer(
            f"{call}: the model is compiled with {name} at learning rate {rate:g}; the task asks for "
            "keras.optimizers.Adam(3e-3)."
        )
    head_bias = model.layers[-1].get_weights()[-1] if model.layers[-1].get_weights() else None
    if head_bias is not None and abs(float(np.ravel(head_bias)[0]) - mean) > 1e-3 * max(1.0, abs(mean)):
        raise IncorrectAnswer(
            f"{call}: the head's bias starts at {float(np.ravel(head_bias)[0]):g}, not at target_mean "
            f"({mean:g}): bias_initializer=keras.initializers.Constant(target_mean)."
        )
    baseline = kc.mean_absolute_error(y_val, np.full_like(y_val, mean))
    mae = kc.train_and_score(model, x_train, y_train, x_val, y_val, epochs=EPOCHS_6, batch_size=16, seed=0, score="mae", call=call)
    if any(not np.array_equal(a, b) for a, b in zip(before, backbone.get_weights(), strict=True)):
        raise IncorrectAnswer(f"{call}: training changed the backbone's weights; freeze it (backbone.trainable = False).")
    if not mae < 0.75 * baseline:  # the reference: 0.36 to 0.54 of the baseline over five seeds
        raise IncorrectAnswer(
            f"{call}: after {EPOCHS_6} epochs on the check's data the validation MAE is {mae:.3f}, not below "
            f"three quarters of always predicting the mean ({baseline:.3f})."
        )
    del keras
    return f"Frozen backbone, linear head: validation MAE {mae:.3f} against {baseline:.3f} for the mean."


exercise_6 = Exercise(
    6,
    "a regression head on a trained classifier's backbone",
    answer_name="regression_model",
    checker=_check_regression_head,
    hint=(
        "The classifier is keras.Sequential([backbone, head]): its first layer is the backbone. A layer "
        "stops training when its `trainable` is False, and compile must come after that. One unbounded "
        "number needs one unit and no activation; keras.initializers.Constant sets a starting bias."
    ),
    solution='''def regression_model(classifier, target_mean):
    """The classifier's backbone, frozen, under a new linear head for one number."""
    backbone = classifier.layers[0]
    backbone.trainable = False
    head = keras.layers.Dense(1, bias_initializer=keras.initializers.Constant(target_mean))
    model = keras.Sequential([backbone, head])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse", metrics=["mae"])
    return model''',
)


# ------------------------------------------------------------------------------------------
# Exercise 7: Grad-CAM with tf.GradientTape
# ------------------------------------------------------------------------------------------


def _grad_cam_models():
    """Two small logit models with biases and nonlinearities, weights from a fixed NumPy seed."""
    import keras

    rng = np.random.default_rng(31)
    chain = keras.Sequential(
        [
            keras.Input(shape=(10, 10, 3)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv_b"),
            keras.layers.Flatten(),
            keras.layers.Dense(3, name="logits"),
        ],
        name="chain",
    )
    inputs = keras.Input(shape=(12, 8, 2))  # not square: height and width must not be swapped
    features = keras.layers.Conv2D(5, 3, activation="tanh", name="features")(inputs)
    top = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="top")(features)
    pooled = keras.layers.Flatten()(keras.layers.AveragePooling2D(2)(top))
    scores = keras.layers.Dense(4, name="scores")(pooled)
    functional = keras.Model(inputs, scores, name="functional")
    for model in (chain, functional):
        shapes = [tuple(w.shape) for w in model.weights]
        model.set_weights([rng.normal(0.0, 0.6, size=shape).astype("float32") for shape in shapes])
    return chain, functional


_GRAD_CAM_CASES: list = []


def _grad_cam_cases():
    """(model, images, class_index, layer_name): each layer of each model, several classes."""
    if not _GRAD_CAM_CASES:
        chain, functional = _grad_cam_models()
        rng = np.random.default_rng(32)
        chain_images = rng.uniform(0, 1, size=(5, 10, 10, 3)).astype("float32")
        functional_images = rng.uniform(-1, 1, size=(4, 12, 8, 2)).astype("float32")
        _GRAD_CAM_CASES.extend([
            (chain, chain_images, 0, "conv_b"),
            (chain, chain_images, 2, "conv_a"),
            (functional, functional_images, 1, "top"),
            (functional, functional_images, 3, "features"),
            (chain, chain_images[:1], 1, "conv_b"),  # a batch of one image
        ])  # fmt: skip
    return _GRAD_CAM_CASES


def _reference_grad_cam(model, images, class_index, layer_name, *, score="logit", relu=True, pool="space",
                        source="layer", normalise="image", resize="bilinear", order="resize_first",
                        weights="pooled"):  # fmt: skip
    """Grad-CAM as the exercise defines it (the defaults), and each mistake as a variation."""
    import keras
    import tensorflow as tf

    images = np.asarray(images, dtype="float32")
    batch = tf.convert_to_tensor(images)
    if source == "input":
        with tf.GradientTape() as tape:
            tape.watch(batch)
            maps, logits = batch, model(batch, training=False)
            value = logits[:, class_index]
    else:
        name = [layer.name for layer in model.layers if "conv" in type(layer).__name__.lower()][-1]
        name = layer_name if source == "layer" else name
        grad_model = keras.Model(model.inputs[0], [model.get_layer(name).output, model.outputs[0]])
        with tf.GradientTape() as tape:
            maps, logits = grad_model(batch, training=False)
            scores = tf.nn.softmax(logits) if score == "probability" else logits
            value = scores[:, class_index]
    gradients = tape.gradient(value, maps).numpy().astype(np.float64)
    maps = np.asarray(maps, dtype=np.float64)
    if weights == "elementwise":
        cam = np.sum(gradients * maps, axis=-1)
    else:
        channel_weights = gradients.mean(axis=(0, 1, 2) if pool == "batch" else (1, 2))
        cam = np.einsum("nhwc,...c->nhw", maps, channel_weights) if pool == "batch" else np.einsum(
            "nhwc,nc->nhw", maps, channel_weights)  # fmt: skip
    if relu:
        cam = np.maximum(cam, 0.0)

    def scaled(values):
        if normalise == "none":
            return values
        axes = (0, 1, 2) if normalise == "batch" else (1, 2)
        peak = values.max(axis=axes, keepdims=True)
        return np.divide(values, peak, out=np.zeros_like(values), where=peak > 0)

    if order == "normalise_first":
        cam = scaled(cam)
    if resize:
        size = images.shape[1:3]
        resized = tf.image.resize(cam[..., None].astype("float32"), size, method=resize)
        cam = resized.numpy()[..., 0].astype(np.float64)
    return cam if order == "normalise_first" else scaled(cam)


_GRAD_CAM_MISTAKES = [
    (lambda m, x, k, n: _reference_grad_cam(m, x, k, n, score="probability"),
     "you took the gradient of the softmax PROBABILITY of the class; Grad-CAM differentiates the class "
     "LOGIT (the model's output here). The probability also falls when other classes rise, which mixes "
     "their evidence into the map."),
    (lambda m, x, k, n: _reference_grad_cam(m, x, k, n, relu=False),
     "the map has negative values: apply a ReLU to the weighted sum of the feature maps, keeping only "
     "the positions that speak FOR the class."),
    (lambda m, x, k, n: _reference_grad_cam(m, x, k, n, pool="batch"),
     "the channel weights were averaged over the images too (axis=(0, 1, 2)); each image gets its own "
     "weights, the mean of ITS gradients over the positions only: axis=(1, 2)."),
    (lambda m, x, k, n: _reference_grad_cam(m, x, k, n, source="input"),
     "you took the gradient with respect to the input image; Grad-CAM uses the feature maps of the "
     "layer `layer_name` (their gradient and the maps themselves)."),
    (lambda m, x, k, n: _reference_grad_cam(m, x, k, n, normalise="none"),
     "the maps are not scaled: divide each map by its own maximum (leave a map that is zero "
     "everywhere at zero), so that every map's largest value is 1."),
    (lambda m, x, k, n: _reference_grad_cam(m, x, k, n, normalise="batch"),
     "you divided by the largest value of the whole batch; divide each map by its OWN maximum."),
    (lambda m, x, k, n: _reference_grad_cam(m, x, k, n, source="last"),
     "the maps come from the last convolution whatever `layer_name` says; use "
     "model.get_layer(layer_name).output."),
    (lambda m, x, k, n: _reference_grad_cam(m, x, k, n, resize=None),
     "the maps have the layer's resolution; resize them to the images' height and width with "
     "tf.image.resize(maps[..., None], images.shape[1:3])[..., 0]."),
    (lambda m, x, k, n: _reference_grad_cam(m, x, k, n, resize="nearest"),
     "the maps were resized with nearest-neighbour; use the bilinear default of tf.image.resize."),
    (lambda m, x, k, n: _reference_grad_cam(m, x, k, n, order="normalise_first"),
     "you scaled the maps before resizing them; resize first, then divide by the maximum, so that "
     "every returned map's largest value is exactly 1."),
    (lambda m, x, k, n: _reference_grad_cam(m, x, k, n, weights="elementwise"),
     "you multiplied each position's feature values by that position's own gradients; Grad-CAM first "
     "averages the gradients over all positions into one weight per channel."),
]  # fmt: skip


def _as_maps(got, call: str) -> np.ndarray:
    maps = as_number_array(got, call)
    if maps.ndim == 4 and maps.shape[-1] == 1:  # what tf.image.resize returns, before [..., 0]
        maps = maps[..., 0]
    return maps


def _maps_close(got, expected) -> bool:
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=1e-3, atol=2e-4))


def _check_grad_cam(answer) -> str:
    from course_utils.exercises._keras_fit_checks import name_one_mistake

    cases = _grad_cam_cases()
    failures, results = [], []
    for model, images, class_index, layer_name in cases:
        shown = (
            Shown(f"<model {model.name!r}>"),
            Shown(f"<images of shape {images.shape}>"),
            class_index,
            layer_name,
        )
        call = describe_call(answer, shown, {})
        expected = _reference_grad_cam(model, images, class_index, layer_name)
        got = call_answer(answer, model, images.copy(), class_index, layer_name)
        try:
            got = _as_maps(got, call)
        except IncorrectAnswer as err:
            raise IncorrectAnswer(
                f"{err} Return an array of maps shaped (N, H, W), here {expected.shape}."
            ) from None
        results.append(got)
        if got.shape != expected.shape:
            failures.append(
                f"{call} returned an array of shape {got.shape}, expected {expected.shape} "
                "(one map per image, the images' size)."
            )
        elif not _maps_close(got, expected):
            wrong = ~np.isclose(got, expected, rtol=1e-3, atol=2e-4)
            at = tuple(int(i) for i in np.argwhere(wrong)[0])
            failures.append(
                f"{call} returned {got[at]:.4g} at {at}, expected {expected[at]:.4g} "
                f"({int(wrong.sum())} of {got.size} values differ)."
            )
    if failures:
        named = name_one_mistake(results, cases, _GRAD_CAM_MISTAKES, _maps_close)
        raise IncorrectAnswer(failures[0] + (f"\nLikely mistake: {named}" if named else ""))
    return (
        "Gradients of the class logit, averaged over the positions, weigh the maps; "
        "ReLU, resize, scale."
    )


exercise_7 = Exercise(
    7,
    "Grad-CAM with tf.GradientTape",
    answer_name="grad_cam",
    checker=_check_grad_cam,
    hint=(
        "keras.Model(model.inputs[0], [model.get_layer(layer_name).output, model.outputs[0]]) "
        "returns the feature maps and the logits in one call. Call it under tf.GradientTape, take "
        "logits[:, class_index], and tape.gradient(score, maps) has the maps' shape (N, h, w, "
        "channels). Average it over axes 1 and 2, weigh the maps' channels with it, sum over the "
        "channels, ReLU, tf.image.resize to the images' size, then divide each map by its maximum. "
        "(Summing the gradients instead of averaging them gives the same maps after that last "
        "step.)"
    ),
    solution='''def grad_cam(model, images, class_index, layer_name):
    """Grad-CAM maps (N, H, W) of class `class_index` from `layer_name`, each with maximum 1."""
    outputs = [model.get_layer(layer_name).output, model.outputs[0]]
    grad_model = keras.Model(model.inputs[0], outputs)
    with tf.GradientTape() as tape:
        maps, logits = grad_model(images, training=False)
        score = logits[:, class_index]
    gradients = tape.gradient(score, maps)
    weights = keras.ops.mean(gradients, axis=(1, 2))  # one weight per image and channel
    cam = keras.ops.relu(keras.ops.einsum("nhwc,nc->nhw", maps, weights))
    cam = tf.image.resize(cam[..., None], images.shape[1:3])[..., 0]
    peak = keras.ops.max(cam, axis=(1, 2), keepdims=True)
    scaled = keras.ops.where(peak > 0, cam / keras.ops.maximum(peak, 1e-12), 0.0)
    return keras.ops.convert_to_numpy(scaled)''',
)


# ------------------------------------------------------------------------------------------
# Exercise 8: cross-entropy from logits
# ------------------------------------------------------------------------------------------


def _rows(z) -> np.ndarray:
    return np.arange(len(z))


def _log_sum_exp(z: np.ndarray) -> np.ndarray:
    largest = z.max(axis=1, keepdims=True)
    return largest[:, 0] + np.log(np.exp(z - largest).sum(axis=1))


def _reference_cross_entropy(logits, labels) -> np.ndarray:
    z, y = np.asarray(logits, dtype=np.float64), np.asarray(labels, dtype=np.int64)
    return _log_sum_exp(z) - z[_rows(z), y]


def _stable_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _as_float(z):
    return np.asarray(z, dtype=np.float64)


_PROBABILITIES_FIRST = (
    "you formed the probabilities first and took their log: where a probability underflows to 0 "
    "(a confidently wrong row) the loss becomes inf. Compute log(sum(exp(z))) - z[label] from "
    "the logits."
)
_OVERFLOW = (
    "np.exp of a large logit overflows to inf (e**1000, or e**120 in float32). Subtract each row's "
    "largest logit m before np.exp, and add it back: m + log(sum(exp(z - m)))."
)
_CROSS_ENTROPY_MISTAKES = [
    (lambda z, y: -np.log(_stable_softmax(_as_float(z))[_rows(z), np.asarray(y)]), _PROBABILITIES_FIRST),
    (lambda z, y: -np.log(_stable_softmax(np.asarray(z))[_rows(z), np.asarray(y)]), _PROBABILITIES_FIRST),  # in float32
    (lambda z, y: -np.log((np.exp(_as_float(z)) / np.exp(_as_float(z)).sum(axis=1, keepdims=True))[_rows(z), np.asarray(y)]),
     _PROBABILITIES_FIRST),
    (lambda z, y: np.log(np.exp(np.asarray(z)).sum(axis=1)) - np.asarray(z)[_rows(z), np.asarray(y)], _OVERFLOW),
    (lambda z, y: np.log(np.exp(_as_float(z)).sum(axis=1)) - _as_float(z)[_rows(z), np.asarray(y)], _OVERFLOW),
    (lambda z, y: _as_float(z)[_rows(z), np.asarray(y)] - _log_sum_exp(_as_float(z)),
     "the sign is flipped: the loss is log(sum(exp(z))) - z[label], which is never negative."),
    (lambda z, y: np.mean(_reference_cross_entropy(z, y)),
     "you returned the mean over the rows; return one loss per row (Keras averages them later)."),
    (lambda z, y: np.log(np.exp(_as_float(z) - _as_float(z).max(axis=1, keepdims=True)).sum(axis=1)) - _as_float(z)[_rows(z), np.asarray(y)],
     "you subtracted each row's largest logit m inside the exp but did not add it back: "
     "log(sum(exp(z))) = m + log(sum(exp(z - m)))."),
    (lambda z, y: -np.log(np.clip(_stable_softmax(_as_float(z))[_rows(z), np.asarray(y)], 1e-7, 1 - 1e-7)),
     "clipping the probability (as Keras does for from_logits=False) caps the loss at 16.1 and hides "
     "how wrong a row is; compute it from the logits, without probabilities."),
    (lambda z, y: _log_sum_exp(_as_float(z))[:, None] - _as_float(z)[:, np.asarray(y)],
     "logits[:, labels] takes every label's column for every row (an N x N array); pick one entry per "
     "row with logits[np.arange(len(logits)), labels]."),
]  # fmt: skip


def _check_cross_entropy(answer) -> str:
    rng = np.random.default_rng(41)
    inputs = [
        (rng.normal(0, 2, size=(5, 3)), rng.integers(0, 3, size=5)),
        (
            np.array([[0.0, 120.0, -5.0], [0.0, 120.0, -5.0], [2.0, 1.0, 0.5]], dtype=np.float32),
            np.array([0, 1, 2]),
        ),
        (np.array([[0.0, -800.0], [3.0, 1.0]]), np.array([1, 0])),  # e**-800 underflows
        (np.array([[1000.0, 0.0, -1000.0]]), np.array([2])),  # one row; e**1000 overflows
        ([[0.5, -0.5, 2.0, 1.0]], [3]),  # plain Python lists
    ]
    ArrayClose(rtol=1e-5, atol=1e-6).check(
        answer, inputs, _reference_cross_entropy, mistakes=_CROSS_ENTROPY_MISTAKES,
        note="Per row: log(sum(exp(z))) - z[label], with the row's largest logit taken out before np.exp.",
    )  # fmt: skip
    return "Finite for any logits: the loss of a confidently wrong row is as large as it should be."


exercise_8 = Exercise(
    8,
    "cross-entropy from logits",
    answer_name="cross_entropy_from_logits",
    checker=_check_cross_entropy,
    hint=(
        "-log softmax(z)[y] = log(sum(exp(z))) - z[y]. To keep np.exp from overflowing, take each "
        "row's largest logit m = z.max(axis=1, keepdims=True): log(sum(exp(z))) = "
        "m + log(sum(exp(z - m))). z[np.arange(len(z)), labels] picks one logit per row."
    ),
    solution='''def cross_entropy_from_logits(logits, labels):
    """-log softmax(logits)[i, labels[i]] for every row i, without forming probabilities."""
    z = np.asarray(logits, dtype=np.float64)
    largest = z.max(axis=1, keepdims=True)
    log_sum_exp = largest[:, 0] + np.log(np.exp(z - largest).sum(axis=1))
    return log_sum_exp - z[np.arange(len(z)), labels]''',
)
