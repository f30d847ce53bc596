"""Tests of course_utils.metrics, cross-checked against scikit-learn."""

import numpy as np
import pytest
from sklearn import metrics as sk

from course_utils.metrics import (
    classification_table,
    confusion_matrix,
    precision_recall_f1,
    regression_errors,
)


@pytest.fixture(params=[0, 1, 2])
def labels(request):
    rng = np.random.default_rng(request.param)
    y_true = rng.integers(0, 4, size=200)
    # a biased classifier: mostly right, often confusing class 3 with class 2
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 4, size=200))
    y_pred[(y_true == 3) & (rng.random(200) < 0.5)] = 2
    return y_true, y_pred


def test_confusion_matrix_matches_scikit_learn(labels):
    y_true, y_pred = labels
    np.testing.assert_array_equal(
        confusion_matrix(y_true, y_pred), sk.confusion_matrix(y_true, y_pred, labels=range(4))
    )


def test_confusion_matrix_rows_are_true_classes():
    matrix = confusion_matrix([0, 0, 0, 1], [1, 1, 0, 1], num_classes=2)
    np.testing.assert_array_equal(matrix, [[1, 2], [0, 1]])
    assert matrix.sum(axis=1).tolist() == [3, 1]  # row sums: samples per true class


def test_confusion_matrix_keeps_classes_that_never_occur():
    matrix = confusion_matrix([0, 1], [1, 0], num_classes=4)
    assert matrix.shape == (4, 4)
    assert matrix[2:].sum() == 0 and matrix[:, 2:].sum() == 0


def test_precision_recall_f1_match_scikit_learn(labels):
    y_true, y_pred = labels
    scores = precision_recall_f1(y_true, y_pred)
    p, r, f, s = sk.precision_recall_fscore_support(y_true, y_pred, labels=range(4), zero_division=0)
    np.testing.assert_allclose(scores.precision, p)
    np.testing.assert_allclose(scores.recall, r)
    np.testing.assert_allclose(scores.f1, f)
    np.testing.assert_array_equal(scores.support, s)
    assert scores.macro_f1 == pytest.approx(sk.f1_score(y_true, y_pred, average="macro"))
    assert scores.macro_recall == pytest.approx(sk.balanced_accuracy_score(y_true, y_pred))


def test_never_predicted_class_scores_zero_not_nan():
    scores = precision_recall_f1([0, 0, 1, 2], [0, 0, 0, 0], num_classes=3)
    assert np.all(np.isfinite(scores.precision)) and np.all(np.isfinite(scores.f1))
    np.testing.assert_allclose(scores.precision, [0.5, 0.0, 0.0])
    np.testing.assert_allclose(scores.recall, [1.0, 0.0, 0.0])
    p, r, f, _ = sk.precision_recall_fscore_support(
        [0, 0, 1, 2], [0, 0, 0, 0], labels=range(3), zero_division=0
    )
    np.testing.assert_allclose(scores.f1, f)


def test_accepts_float_labels_that_are_whole_numbers():
    np.testing.assert_array_equal(confusion_matrix([0.0, 1.0], [1.0, 1.0]), [[0, 1], [0, 1]])


@pytest.mark.parametrize(
    ("y_true", "y_pred", "kwargs", "error", "match"),
    [
        ([0, 1], [0, 1, 1], {}, ValueError, "y_true has 2 labels but y_pred has 3"),
        ([0, 1], [0.2, 0.9], {}, ValueError, r"whole-number class indices.*argmax"),
        ([[0.1, 0.9]], [1], {}, ValueError, "y_true must have 1 dimensions"),
        ([0, -1], [0, 1], {}, ValueError, "class indices >= 0, got -1"),
        ([0, 3], [0, 1], {"num_classes": 3}, ValueError, "contain class 3. Pass num_classes=4"),
        (["a", "b"], [0, 1], {}, TypeError, "y_true must hold numbers"),
        ([], [], {}, ValueError, "y_true is empty"),
    ],
)
def test_bad_labels_are_refused_with_a_clear_message(y_true, y_pred, kwargs, error, match):
    with pytest.raises(error, match=match):
        confusion_matrix(y_true, y_pred, **kwargs)


def test_classification_table_lists_every_class_and_the_accuracy():
    table = classification_table([0, 0, 1, 2], [0, 1, 1, 2], ["circle", "square", "triangle"])
    lines = table.splitlines()
    assert lines[1].split() == ["circle", "1.000", "0.500", "0.667", "2"]
    assert lines[2].split() == ["square", "0.500", "1.000", "0.667", "1"]
    assert lines[-1].split() == ["accuracy", "0.750"]
    with pytest.raises(TypeError, match="one name per class"):
        classification_table([0], [0], "circle")


def test_regression_errors_match_scikit_learn():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.normal(size=50), rng.normal(size=50)
    errors = regression_errors(y_true, y_pred)
    assert errors["mae"] == pytest.approx(sk.mean_absolute_error(y_true, y_pred))
    assert errors["rmse"] == pytest.approx(np.sqrt(sk.mean_squared_error(y_true, y_pred)))
    assert errors["rmse"] >= errors["mae"]


def test_regression_errors_accept_model_predict_shape():
    errors = regression_errors([1.0, 2.0, 4.0], np.array([[1.0], [3.0], [1.0]]))
    assert errors == {"mae": pytest.approx(4 / 3), "rmse": pytest.approx(np.sqrt(10 / 3))}


@pytest.mark.parametrize(
    ("y_pred", "match"),
    [
        ([1.0, 2.0], "y_true has 3 values but y_pred has 2"),
        ([1.0, np.nan, 2.0], "NaN or infinite"),
        (np.zeros((3, 2)), r"one value per sample.*\(3, 2\)"),
    ],
)
def test_regression_errors_refuse_bad_predictions(y_pred, match):
    with pytest.raises(ValueError, match=match):
        regression_errors([1.0, 2.0, 3.0], y_pred)
