"""Tests of course_utils.source_task: a balanced, reproducible set of distinct, visible patterns."""

import numpy as np
import pytest

from course_utils.source_task import PATTERN_NAMES, make_source_task


@pytest.fixture(scope="module")
def patterns():
    return make_source_task(400, seed=3)


def test_same_seed_gives_identical_sets_and_different_seeds_differ():
    a, b, c = make_source_task(30, seed=1), make_source_task(30, seed=1), make_source_task(30, seed=2)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, c.images)


def test_shapes_dtypes_ranges_and_balanced_classes(patterns):
    assert patterns.images.shape == (400, 32, 32, 3) and patterns.images.dtype == np.float32
    assert 0.0 <= patterns.images.min() and patterns.images.max() <= 1.0
    assert patterns.class_names == PATTERN_NAMES and len(PATTERN_NAMES) == 50
    assert len(set(PATTERN_NAMES)) == 50
    np.testing.assert_array_equal(np.bincount(patterns.labels, minlength=50), np.full(50, 8))
    assert len(make_source_task(7, seed=0)) == 7


def test_every_pattern_is_visible_and_leaves_background():
    """Each noise-free image has figure pixels and background pixels; a pattern drawn outside
    the image, or covering all of it, would make its class invisible."""
    clean = make_source_task(200, seed=4, noise=0.0)
    for image, label in zip(clean.images, clean.labels, strict=True):
        # Figure and background differ by >= 0.25 in brightness, more than the gradient adds.
        brightness = image.mean(axis=-1)
        share = np.mean(brightness > brightness.mean())
        assert 0.02 < share < 0.98, (PATTERN_NAMES[label], share)


def test_figure_and_background_brightness_differ_enough_to_see():
    clean = make_source_task(300, seed=5, noise=0.0)
    brightness = clean.images.mean(axis=-1)
    spread = np.percentile(brightness, 99, axis=(1, 2)) - np.percentile(brightness, 1, axis=(1, 2))
    # Blurred (enlarged) thin strokes lose some contrast, but stay visible.
    assert spread.min() >= 0.15, spread.min()


def test_classes_differ_in_their_average_pixel_layout():
    """Crude but real: a nearest-centroid classifier on edge maps beats chance (2%) clearly, so
    the labels carry information about the pixels (a shuffled-label bug would give ~2%)."""
    train, test = make_source_task(2000, seed=6), make_source_task(400, seed=7)

    def edges(images):
        grey = images.mean(axis=-1)
        gy, gx = np.gradient(grey, axis=(1, 2))
        magnitude = np.hypot(gx, gy)
        # Rotation-invariant summary: histogram of edge strengths per ring around the centre.
        rows, cols = np.indices(grey.shape[1:]) + 0.5
        ring = np.minimum((np.hypot(rows - 16, cols - 16) // 4).astype(int), 3)
        features = [magnitude[:, ring == r].mean(axis=1) for r in range(4)]
        features += [(magnitude > t).mean(axis=(1, 2)) for t in (0.05, 0.1, 0.2)]
        return np.stack(features, axis=1)

    f_train, f_test = edges(train.images), edges(test.images)
    mean, std = f_train.mean(0), f_train.std(0)
    f_train, f_test = (f_train - mean) / std, (f_test - mean) / std
    centroids = np.stack([f_train[train.labels == c].mean(0) for c in range(50)])
    predicted = np.argmin(((f_test[:, None] - centroids[None]) ** 2).sum(-1), axis=1)
    assert np.mean(predicted == test.labels) > 0.06
