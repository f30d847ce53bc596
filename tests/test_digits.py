"""Tests of course_utils.digits: scikit-learn's digits as backbone-sized images, few-shot subsets."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from course_utils._drawing import upsample_bilinear
from course_utils.digits import few_shot_indices, load_digit_images


@pytest.fixture(scope="module")
def digit_set():
    return load_digit_images()


def test_images_are_rgb_grey_in_unit_range_and_labels_match_sklearn(digit_set):
    raw = load_digits()
    assert digit_set.images.shape == (1797, 32, 32, 3) and digit_set.images.dtype == np.float32
    assert digit_set.images.min() >= 0 and digit_set.images.max() <= 1
    np.testing.assert_array_equal(digit_set.images[..., 0], digit_set.images[..., 2])
    np.testing.assert_array_equal(digit_set.labels, raw.target)


def test_size_8_is_the_original_scaled_to_unit_range():
    original = load_digit_images(8)
    np.testing.assert_allclose(original.images[..., 0], load_digits().images / 16, atol=1e-7)


def test_enlarging_keeps_each_image_where_it_was(digit_set):
    """Block-averaging the 32 x 32 image back to 8 x 8 gives (a slightly blurred) original:
    much closer to it than to the original shifted by one pixel."""
    raw = load_digits().images / 16
    shrunk = digit_set.images[..., 0].reshape(-1, 8, 4, 8, 4).mean(axis=(2, 4))
    error = np.abs(shrunk - raw).mean()
    shifted_error = np.abs(shrunk - np.roll(raw, 1, axis=2)).mean()
    assert error < 0.08 and error < shifted_error / 2, (error, shifted_error)


def test_upsample_bilinear_is_exact_on_constants_and_linear_ramps():
    constant = np.full((2, 4, 4), 0.7)
    np.testing.assert_allclose(upsample_bilinear(constant, 16), 0.7)
    ramp = np.tile(np.arange(4.0), (1, 4, 1))
    out = upsample_bilinear(ramp, 8)[0, 0]
    # Between the first and last input pixel centres the ramp is reproduced exactly.
    np.testing.assert_allclose(np.diff(out[1:-1]), 0.5)


def test_few_shot_indices_are_balanced_nested_and_reproducible():
    labels = np.repeat(np.arange(10), 30)
    five, ten = few_shot_indices(labels, 5, seed=3), few_shot_indices(labels, 10, seed=3)
    np.testing.assert_array_equal(np.bincount(labels[five]), np.full(10, 5))
    assert set(five) <= set(ten)
    np.testing.assert_array_equal(five, few_shot_indices(labels, 5, seed=3))
    assert not np.array_equal(five, few_shot_indices(labels, 5, seed=4))
