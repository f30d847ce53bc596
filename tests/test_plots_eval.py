"""Tests of course_utils.plots_eval: what is drawn, and that bad input fails before drawing."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils.plots_eval import (  # noqa: E402
    plot_confusion_matrix,
    plot_predicted_vs_true,
    plot_residuals,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


MATRIX = np.array([[8, 2, 0], [1, 1, 0], [0, 0, 0]])
NAMES = ["circle", "square", "triangle"]


def test_confusion_matrix_colours_row_shares_and_writes_counts():
    fig = plot_confusion_matrix(MATRIX, NAMES, title="test")
    ax = fig.axes[0]
    shown = np.asarray(ax.images[0].get_array())
    np.testing.assert_allclose(shown, [[0.8, 0.2, 0], [0.5, 0.5, 0], [0, 0, 0]])  # empty row: 0
    assert [t.get_text() for t in ax.texts] == [str(v) for v in MATRIX.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == NAMES
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert ax.get_title() == "test"


@pytest.mark.parametrize(
    ("matrix", "names", "error", "match"),
    [
        (np.zeros((2, 3)), NAMES[:2], ValueError, r"square \(K, K\), got shape \(2, 3\)"),
        (MATRIX, NAMES[:2], ValueError, "class_names has 2 names but the matrix has 3"),
        (MATRIX, "circle", TypeError, "class_names must be a list"),
        (-MATRIX, NAMES, ValueError, "negative counts"),
    ],
)
def test_confusion_matrix_rejects_bad_input_before_drawing(matrix, names, error, match):
    with pytest.raises(error, match=match):
        plot_confusion_matrix(matrix, names)
    assert plt.get_fignums() == []


def test_predicted_vs_true_draws_points_and_the_diagonal():
    y_true, y_pred = np.array([1.0, 2.0, 3.0]), np.array([[1.5], [2.0], [2.5]])
    fig = plot_predicted_vs_true(y_true, y_pred, units="%")
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [[1, 1.5], [2, 2], [3, 2.5]])
    diagonal = ax.get_lines()[0]
    np.testing.assert_allclose(diagonal.get_xdata(), diagonal.get_ydata())
    assert ax.get_xlabel() == "true (%)" and ax.get_ylabel() == "predicted (%)"


def test_residuals_are_prediction_minus_truth_plotted_against_the_prediction():
    y_true, y_pred = np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.5])
    fig = plot_residuals(y_true, y_pred, units="%", title="r")
    left, right = fig.axes
    np.testing.assert_allclose(left.collections[0].get_offsets(), [[1.5, 0.5], [2, 0], [2.5, -0.5]])
    assert left.get_xlabel() == "predicted (%)" and left.get_ylabel() == "prediction - true (%)"
    assert sum(patch.get_height() for patch in right.patches) == 3
    assert fig.get_suptitle() == "r"


def test_residuals_of_the_ideal_predictor_show_no_slope():
    # y = E[y | x] + noise, and the ideal prediction E[y | x]: its residuals slope by about
    # -Var(noise) / Var(y) = -0.5 against the true value (regression to the mean), and by 0
    # against the prediction, which is what the plot shows.
    rng = np.random.default_rng(0)
    ideal = rng.normal(0.0, 1.0, 20_000)
    y_true = ideal + rng.normal(0.0, 1.0, ideal.size)
    fig = plot_residuals(y_true, ideal)
    shown_x, shown_residual = fig.axes[0].collections[0].get_offsets().T
    assert abs(np.polyfit(shown_x, shown_residual, 1)[0]) < 0.03
    assert np.polyfit(y_true, ideal - y_true, 1)[0] < -0.45  # what plotting against truth showed


@pytest.mark.parametrize("plot", [plot_predicted_vs_true, plot_residuals])
def test_regression_plots_reject_mismatched_or_bad_input(plot):
    with pytest.raises(ValueError, match="y_true has 3 values but y_pred has 2"):
        plot([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="NaN or infinite"):
        plot([1.0, 2.0], [1.0, np.inf])
    with pytest.raises(TypeError, match="units must be a string"):
        plot([1.0, 2.0], [1.0, 2.0], units=5)
    assert plt.get_fignums() == []
