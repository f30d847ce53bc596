"""Plots for evaluating models: confusion matrices, predicted versus true, residuals.

Like :mod:`course_utils.plots`, every function checks its arguments before drawing and returns
the Matplotlib figure; write ``_ = plot_confusion_matrix(...)`` in a notebook.
"""

from __future__ import annotations

import numpy as np

from course_utils._validation import check_array

__all__ = ["plot_confusion_matrix", "plot_predicted_vs_true", "plot_residuals"]


def _check_text(value, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {value!r} of type {type(value).__name__}.")
    return value


def plot_confusion_matrix(matrix, class_names, title: str = "Confusion matrix"):
    """Draw a confusion matrix as a heat map, with the count in every cell.

    Colours show each row's share (recall per true class), so a rare class's mistakes are as
    visible as a common one's; the numbers are the raw counts.

    Parameters
    ----------
    matrix : array-like of int, shape (K, K)
        Rows are true classes, columns predicted ones (see
        :func:`course_utils.metrics.confusion_matrix`).
    class_names : sequence of str
        K names, in label order.
    title : str, default="Confusion matrix"

    Returns
    -------
    matplotlib.figure.Figure
        One axes; ``ax.images[0]`` holds the row-normalised matrix, ``ax.texts`` the counts.
    """
    import matplotlib.pyplot as plt

    matrix = check_array(
        matrix, "matrix", ndim=2, finite=True, hint="Pass metrics.confusion_matrix(y, pred)."
    )
    if matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square (K, K), got shape {matrix.shape}.")
    if np.any(matrix < 0):
        raise ValueError("matrix holds negative counts; pass a confusion matrix of counts.")
    if isinstance(class_names, str) or not hasattr(class_names, "__len__"):
        raise TypeError(f"class_names must be a list of names, got {class_names!r}.")
    if len(class_names) != matrix.shape[0]:
        raise ValueError(
            f"class_names has {len(class_names)} names but the matrix has {matrix.shape[0]} "
            "classes; pass one name per row."
        )
    title = _check_text(title, "title")

    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    size = 1.2 + 0.9 * matrix.shape[0]
    fig, ax = plt.subplots(figsize=(size + 1.0, size), layout="constrained")
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.grid(False)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            colour = "white" if shares[i, j] > 0.5 else "black"
            ax.text(j, i, f"{matrix[i, j]:g}", ha="center", va="center", color=colour)
    ticks = np.arange(matrix.shape[0])
    ax.set_xticks(ticks, [str(n) for n in class_names], rotation=30, ha="right")
    ax.set_yticks(ticks, [str(n) for n in class_names])
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    fig.colorbar(image, ax=ax, label="share of the true class")
    return fig


def _check_regression_pair(y_true, y_pred):
    hint = "Pass one value per sample, e.g. model.predict(x)[:, 0]."
    y_true = check_array(y_true, "y_true", ndim=(1, 2), finite=True, hint=hint).reshape(-1)
    y_pred = check_array(y_pred, "y_pred", ndim=(1, 2), finite=True, hint=hint).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true has {y_true.size} values but y_pred has {y_pred.size}; {hint}"
        )
    return y_true.astype(np.float64), y_pred.astype(np.float64)


def plot_predicted_vs_true(y_true, y_pred, units: str = "", title: str | None = None):
    """Scatter predictions against true values, with the line of perfect predictions.

    Parameters
    ----------
    y_true, y_pred : array-like of float, shape (N,) or (N, 1)
    units : str, optional
        The target's units for the axis labels, e.g. ``"% of image"``.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axes; its first collection is the scatter, its first line the diagonal y = x.
    """
    import matplotlib.pyplot as plt

    y_true, y_pred = _check_regression_pair(y_true, y_pred)
    units = _check_text(units, "units")
    suffix = f" ({units})" if units else ""
    fig, ax = plt.subplots(figsize=(4.6, 4.2), layout="constrained")
    low = min(y_true.min(), y_pred.min())
    high = max(y_true.max(), y_pred.max())
    ax.plot([low, high], [low, high], color="0.3", linestyle="--", label="perfect")
    ax.scatter(y_true, y_pred, s=8, alpha=0.5, label="test images")
    ax.set(xlabel=f"true{suffix}", ylabel=f"predicted{suffix}")
    if title is not None:
        ax.set_title(_check_text(title, "title"))
    ax.legend(loc="upper left")
    return fig


def plot_residuals(y_true, y_pred, units: str = "", title: str | None = None):
    """Plot residuals (prediction minus truth) against the prediction, and their histogram.

    The residuals are plotted against the *prediction*, not the true value. Even the best
    possible predictor, the conditional mean ``E[y | x]``, has residuals that slope downwards
    against the true value: ``y`` is the prediction plus noise, so the largest true values are
    partly those with large positive noise, under-predicted by construction (regression to the
    mean). Against the prediction, that predictor's residuals average 0 at every value, so a
    slope or a curve there is a bias the model could still remove (for example predictions that
    are too spread out or not spread out enough), and a funnel means errors grow with the size
    of the prediction.

    Parameters
    ----------
    y_true, y_pred : array-like of float, shape (N,) or (N, 1)
    units : str, optional
        The target's units for the axis labels.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: residuals versus prediction (its first collection, points
        ``(prediction, prediction - truth)``), and their histogram.
    """
    import matplotlib.pyplot as plt

    y_true, y_pred = _check_regression_pair(y_true, y_pred)
    units = _check_text(units, "units")
    suffix = f" ({units})" if units else ""
    residuals = y_pred - y_true
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.0, 3.4), layout="constrained")
    left.scatter(y_pred, residuals, s=8, alpha=0.5)
    left.axhline(0.0, color="0.3", linestyle="--")
    left.set(xlabel=f"predicted{suffix}", ylabel=f"prediction - true{suffix}")
    right.hist(residuals, bins=30)
    right.axvline(0.0, color="0.3", linestyle="--")
    right.set(xlabel=f"prediction - true{suffix}", ylabel="images")
    if title is not None:
        fig.suptitle(_check_text(title, "title"))
    return fig
