"""Evaluation metrics the notebooks compute themselves, so learners can read how they work.

Classification: :func:`confusion_matrix`, :func:`precision_recall_f1`,
:func:`classification_table`. Regression: :func:`regression_errors`. Rows of a confusion
matrix are true classes and columns predicted classes, as in scikit-learn, against which the
unit tests check every function.

Only NumPy is used: importing this module does not start TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils._validation import check_array, check_int

__all__ = [
    "confusion_matrix",
    "precision_recall_f1",
    "ClassScores",
    "classification_table",
    "regression_errors",
]


def _check_labels(values, name: str) -> np.ndarray:
    labels = check_array(
        values,
        name,
        ndim=1,
        finite=True,
        hint="Pass one integer class index per sample; for probabilities use .argmax(axis=1).",
    )
    if labels.dtype.kind == "f":
        if not np.all(labels == np.round(labels)):
            raise ValueError(
                f"{name} must hold whole-number class indices, got values such as "
                f"{labels[labels != np.round(labels)][0]!r}. For predicted probabilities use "
                "probabilities.argmax(axis=1)."
            )
    if labels.min() < 0:
        raise ValueError(f"{name} must hold class indices >= 0, got {labels.min()}.")
    return labels.astype(np.int64)


def _check_pair(y_true, y_pred, num_classes):
    y_true = _check_labels(y_true, "y_true")
    y_pred = _check_labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true has {y_true.shape[0]} labels but y_pred has {y_pred.shape[0]}; "
            "pass one prediction per true label."
        )
    largest = int(max(y_true.max(), y_pred.max()))
    if num_classes is None:
        num_classes = largest + 1
    else:
        num_classes = check_int(num_classes, "num_classes", minimum=1)
        if largest >= num_classes:
            raise ValueError(
                f"num_classes is {num_classes}, but the labels contain class {largest}. "
                f"Pass num_classes={largest + 1} or more."
            )
    return y_true, y_pred, num_classes


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """Count how often each true class was predicted as each class.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (N,)
        True and predicted class indices.
    num_classes : int, optional
        Number of classes; by default one more than the largest label seen. Pass it so a class
        that never occurs still gets its row and column.

    Returns
    -------
    ndarray of int64, shape (num_classes, num_classes)
        ``matrix[i, j]`` counts samples of true class ``i`` predicted as class ``j``; the
        diagonal holds the correct predictions, each row sums to the class's sample count.
    """
    y_true, y_pred, num_classes = _check_pair(y_true, y_pred, num_classes)
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


@dataclass(frozen=True)
class ClassScores:
    """Per-class precision, recall, F1 and support (number of true samples), as arrays."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray

    @property
    def macro_f1(self) -> float:
        """Unweighted mean F1 over classes: every class counts the same, however rare."""
        return float(self.f1.mean())

    @property
    def macro_recall(self) -> float:
        """Unweighted mean recall over classes, also called balanced accuracy."""
        return float(self.recall.mean())


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise division that gives 0 where the denominator is 0 (scikit-learn's choice)."""
    numerator = numerator.astype(np.float64)
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def precision_recall_f1(y_true, y_pred, num_classes: int | None = None) -> ClassScores:
    """Per-class precision, recall and F1 from true and predicted class indices.

    For class ``k``: precision is the share of samples predicted as ``k`` that are ``k``
    (column ``k`` of the confusion matrix), recall the share of true ``k`` samples that were
    found (row ``k``), F1 their harmonic mean. A ratio with nothing to divide by (a class never
    predicted, or never present) is reported as 0, as scikit-learn does.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (N,)
        True and predicted class indices.
    num_classes : int, optional
        Number of classes, as in :func:`confusion_matrix`.

    Returns
    -------
    ClassScores
        Arrays of length ``num_classes``, plus ``macro_f1`` and ``macro_recall``.
    """
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    correct = np.diag(matrix)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    precision = _safe_divide(correct, predicted)
    recall = _safe_divide(correct, actual)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return ClassScores(precision=precision, recall=recall, f1=f1, support=actual)


def classification_table(y_true, y_pred, class_names) -> str:
    """A text table of per-class precision, recall, F1 and support, and the accuracy.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (N,)
        True and predicted class indices.
    class_names : sequence of str
        One name per class, in label order.

    Returns
    -------
    str
        The table, ready to ``print``.
    """
    if isinstance(class_names, str) or not hasattr(class_names, "__len__"):
        raise TypeError(
            f"class_names must be a list with one name per class, got {class_names!r}."
        )
    names = [str(name) for name in class_names]
    scores = precision_recall_f1(y_true, y_pred, num_classes=len(names))
    width = max(10, *(len(name) for name in names))
    lines = [f"{'class':<{width}}  precision  recall     f1  support"]
    for k, name in enumerate(names):
        lines.append(
            f"{name:<{width}}  {scores.precision[k]:9.3f}  {scores.recall[k]:6.3f}  "
            f"{scores.f1[k]:5.3f}  {scores.support[k]:7d}"
        )
    y_true, y_pred, _ = _check_pair(y_true, y_pred, len(names))
    accuracy = float(np.mean(y_true == y_pred))
    lines.append(f"{'macro avg':<{width}}  {scores.precision.mean():9.3f}  "
                 f"{scores.macro_recall:6.3f}  {scores.macro_f1:5.3f}  {len(y_true):7d}")
    lines.append(f"{'accuracy':<{width}}  {accuracy:9.3f}")
    return "\n".join(lines)


def regression_errors(y_true, y_pred) -> dict[str, float]:
    """Mean absolute error and root-mean-square error, in the target's own units.

    Parameters
    ----------
    y_true, y_pred : array-like of float, shape (N,) or (N, 1)
        True and predicted values. A trailing axis of length 1 (as ``model.predict`` returns
        for a one-unit head) is dropped.

    Returns
    -------
    dict
        ``{"mae": ..., "rmse": ...}``. RMSE is at least MAE; the gap grows with large misses.
    """
    hint = "Pass one value per sample; model.predict(x)[:, 0] gives a flat array."
    y_true = check_array(y_true, "y_true", ndim=(1, 2), finite=True, hint=hint)
    y_pred = check_array(y_pred, "y_pred", ndim=(1, 2), finite=True, hint=hint)
    y_true, y_pred = (
        a[:, 0] if a.ndim == 2 and a.shape[1] == 1 else a for a in (y_true, y_pred)
    )
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise ValueError(f"{hint} Got shapes {y_true.shape} and {y_pred.shape}.")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true has {y_true.shape[0]} values but y_pred has {y_pred.shape[0]}; "
            "pass one prediction per true value."
        )
    errors = y_pred.astype(np.float64) - y_true.astype(np.float64)
    return {"mae": float(np.abs(errors).mean()), "rmse": float(np.sqrt(np.mean(errors**2)))}
