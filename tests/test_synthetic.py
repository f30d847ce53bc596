"""Tests of course_utils.synthetic: reproducible sets whose recorded properties match the pixels."""

import numpy as np
import pytest

from course_utils.synthetic import (
    PRICE_BASE,
    PRICE_PER_PERCENT,
    PRICE_SHAPE_PREMIUM,
    SHAPE_NAMES,
    make_shapes,
    shape_prices,
    to_uint8,
)


@pytest.fixture(scope="module")
def shapes():
    return make_shapes(300, seed=5)


def test_same_seed_gives_identical_sets_and_different_seeds_differ():
    a, b, c = make_shapes(20, seed=3), make_shapes(20, seed=3), make_shapes(20, seed=4)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, c.images)


def test_shapes_dtypes_and_value_ranges(shapes):
    assert shapes.images.shape == (300, 32, 32, 3)
    assert shapes.images.dtype == np.float32
    assert 0.0 <= shapes.images.min() and shapes.images.max() <= 1.0
    assert shapes.labels.dtype == np.int64 and set(np.unique(shapes.labels)) == {0, 1, 2}
    assert len(shapes) == 300
    assert shapes.class_names == SHAPE_NAMES == ("circle", "square", "triangle")


def test_recorded_area_matches_the_pixels_that_differ_from_the_background():
    clean = make_shapes(40, seed=6, noise=0.0)
    for i in range(len(clean)):
        image = clean.images[i]
        background = image[0, 0]  # corners are never covered: shapes keep a margin
        differs = np.any(np.abs(image - background) > 1e-6, axis=-1)
        assert differs.sum() == clean.areas[i]
    np.testing.assert_allclose(clean.coverage, 100 * clean.areas / 32**2, rtol=1e-6)


def test_shape_area_follows_its_geometry():
    clean = make_shapes(600, seed=7, noise=0.0)
    side = 2 * clean.half_widths
    expected = {0: np.pi / 4 * side**2, 1: side**2, 2: side**2 / 2}
    for label, area in expected.items():
        mask = clean.labels == label
        ratio = clean.areas[mask] / area[mask]
        assert 0.85 < np.median(ratio) < 1.15, (SHAPE_NAMES[label], np.median(ratio))


def test_brightness_is_the_image_mean(shapes):
    np.testing.assert_allclose(shapes.brightness, shapes.images.mean(axis=(1, 2, 3)), rtol=1e-5)


def test_noise_changes_pixels_but_not_the_recorded_properties():
    noisy, clean = make_shapes(10, seed=8, noise=0.1), make_shapes(10, seed=8, noise=0.0)
    np.testing.assert_array_equal(noisy.labels, clean.labels)
    np.testing.assert_array_equal(noisy.areas, clean.areas)
    assert 0.05 < np.abs(noisy.images - clean.images).mean() < 0.1


def test_class_weights_skew_the_class_frequencies():
    skewed = make_shapes(2000, seed=9, class_weights=(0.9, 0.05, 0.05))
    shares = np.bincount(skewed.labels, minlength=3) / 2000
    np.testing.assert_allclose(shares, [0.9, 0.05, 0.05], atol=0.02)
    only_squares = make_shapes(50, seed=9, class_weights=[0, 1, 0])
    assert np.all(only_squares.labels == 1)


def test_image_size_is_respected():
    assert make_shapes(3, image_size=48, seed=0).images.shape == (3, 48, 48, 3)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 0}, ValueError, "n must be at least 1, got 0"),
        ({"n": 2.5}, TypeError, "n must be a whole number, got 2.5"),
        ({"image_size": 8}, ValueError, "image_size must be at least 16, got 8"),
        ({"seed": -1}, ValueError, "seed must be at least 0"),
        ({"noise": 0.9}, ValueError, "noise must be at most 0.5"),
        ({"class_weights": (1, 1)}, ValueError, "class_weights has 2 entries, but there are 3"),
        ({"class_weights": (1, -1, 1)}, ValueError, "non-negative"),
        ({"class_weights": (0, 0, 0)}, ValueError, "not all 0"),
        ({"class_weights": "skewed"}, TypeError, "class_weights must hold numbers"),
    ],
)
def test_make_shapes_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_shapes(**({"n": 5} | kwargs))


def test_prices_follow_the_documented_formula(shapes):
    prices = shape_prices(shapes)
    expected = (
        PRICE_BASE
        + PRICE_PER_PERCENT * shapes.coverage
        + np.asarray(PRICE_SHAPE_PREMIUM)[shapes.labels]
    )
    np.testing.assert_allclose(prices, expected, rtol=1e-6)
    assert prices.dtype == np.float32
    assert 100_000 < prices.min() and prices.max() < 1_000_000  # "hundreds of thousands"


def test_prices_refuse_anything_but_a_shape_set(shapes):
    with pytest.raises(TypeError, match="ShapeSet that make_shapes returns, got ndarray"):
        shape_prices(shapes.images)


def test_to_uint8_maps_0_1_onto_0_255_and_refuses_other_scales(shapes):
    pixels = to_uint8(shapes.images)
    assert pixels.dtype == np.uint8 and pixels.shape == shapes.images.shape
    np.testing.assert_allclose(pixels / 255.0, shapes.images, atol=0.5 / 255 + 1e-6)
    np.testing.assert_array_equal(to_uint8(np.array([0.0, 0.5, 1.0])), [0, 128, 255])
    with pytest.raises(ValueError, match="values from 0 to 255"):
        to_uint8(np.array([0.0, 255.0]))


def test_masks_mark_exactly_the_pixels_each_shape_covers():
    clean = make_shapes(40, seed=6, noise=0.0)
    assert clean.masks.shape == (40, 32, 32) and clean.masks.dtype == bool
    np.testing.assert_array_equal(clean.masks.sum(axis=(1, 2)), clean.areas)
    for i in range(len(clean)):
        background = clean.images[i, 0, 0]  # corners are never covered
        differs = np.any(np.abs(clean.images[i] - background) > 1e-6, axis=-1)
        np.testing.assert_array_equal(clean.masks[i], differs)


def test_masks_do_not_depend_on_the_noise():
    noisy, clean = make_shapes(10, seed=8, noise=0.1), make_shapes(10, seed=8, noise=0.0)
    np.testing.assert_array_equal(noisy.masks, clean.masks)


def test_shape_set_requires_its_masks():
    import dataclasses

    from course_utils.synthetic import ShapeSet

    fields = dataclasses.fields(ShapeSet)
    masks = next(f for f in fields if f.name == "masks")
    assert masks.default is dataclasses.MISSING, "masks must be a required field"
    assert [f.name for f in fields][-2:] == ["masks", "class_names"]
