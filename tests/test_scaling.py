"""Tests of course_utils.scaling.LabelScaler: correct arithmetic, and refusals that protect."""

import numpy as np
import pytest

from course_utils.scaling import LabelScaler, NotFittedError


@pytest.fixture
def prices():
    return np.random.default_rng(0).uniform(150_000, 700_000, size=500)


def test_transform_gives_mean_zero_and_unit_standard_deviation(prices):
    scaled = LabelScaler().fit_transform(prices)
    assert scaled.dtype == np.float32
    assert abs(float(scaled.mean())) < 1e-5
    assert float(scaled.std()) == pytest.approx(1.0, abs=1e-5)


def test_inverse_transform_recovers_the_original_units(prices):
    scaler = LabelScaler().fit(prices)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(prices)), prices, rtol=1e-6)
    assert scaler.inverse_transform([0.0])[0] == pytest.approx(prices.mean())
    assert scaler.inverse_transform([1.0])[0] == pytest.approx(prices.mean() + prices.std())


def test_matches_scikit_learn_standard_scaler(prices):
    from sklearn.preprocessing import StandardScaler

    ours = LabelScaler().fit(prices)
    theirs = StandardScaler().fit(prices[:, None])
    assert ours.mean_ == pytest.approx(theirs.mean_[0])
    assert ours.scale_ == pytest.approx(theirs.scale_[0])


def test_uses_only_the_labels_it_was_fitted_on(prices):
    scaler = LabelScaler().fit(prices[:100])
    assert scaler.mean_ == pytest.approx(prices[:100].mean())
    scaler.transform(prices)  # transforming other labels must not refit
    assert scaler.mean_ == pytest.approx(prices[:100].mean())


def test_keeps_the_shape_of_model_predictions(prices):
    scaler = LabelScaler().fit(prices)
    column = prices[:10, None]
    assert scaler.transform(column).shape == (10, 1)
    assert scaler.inverse_transform(scaler.transform(column)).shape == (10, 1)


def test_constant_target_maps_to_zero_and_back_without_dividing_by_zero():
    scaler = LabelScaler().fit(np.full(20, 42.0))
    assert scaler.scale_ == 1.0
    np.testing.assert_array_equal(scaler.transform([42.0, 42.0]), [0.0, 0.0])
    np.testing.assert_array_equal(scaler.inverse_transform([0.0]), [42.0])


@pytest.mark.parametrize("method", ["transform", "inverse_transform"])
def test_refuses_to_transform_before_fitting(method):
    with pytest.raises(NotFittedError, match=f"not fitted yet, so it cannot {method}.*fit"):
        getattr(LabelScaler(), method)([1.0, 2.0])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_refuses_nan_or_infinite_labels(bad):
    with pytest.raises(ValueError, match="1 NaN or infinite value"):
        LabelScaler().fit([1.0, bad, 3.0])
    scaler = LabelScaler().fit([1.0, 2.0])
    with pytest.raises(ValueError, match="NaN or infinite"):
        scaler.transform([bad])
    assert scaler.mean_ == 1.5  # a refused call changes nothing


@pytest.mark.parametrize(
    ("y", "error", "match"),
    [
        ([], ValueError, "y is empty"),
        (np.zeros((4, 2)), ValueError, r"shape \(4, 2\).*one scaler per target column"),
        (np.zeros((2, 2, 2)), ValueError, "1 or 2 dimensions"),
        (["a", "b"], TypeError, "must hold numbers"),
    ],
)
def test_refuses_labels_of_the_wrong_shape_or_type(y, error, match):
    with pytest.raises(error, match=match):
        LabelScaler().fit(y)


def test_repr_shows_whether_it_is_fitted():
    assert repr(LabelScaler()) == "LabelScaler(not fitted)"
    assert repr(LabelScaler().fit([1.0, 3.0])) == "LabelScaler(mean_=2, scale_=1)"
