"""Models and angle arithmetic of notebook 05 (course_utils.slope_models)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.slope_models import (
    circular_error,
    conv_model,
    decode_angles,
    encode_angles,
    question_model,
)


def test_encoding_maps_0_and_180_degrees_to_the_same_point():
    encoded = encode_angles(np.array([0.0, 180.0, 90.0, 45.0]))
    np.testing.assert_allclose(encoded[0], encoded[1], atol=1e-6)
    np.testing.assert_allclose(encoded[2], [-1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(encoded[3], [0.0, 1.0], atol=1e-6)
    assert encoded.dtype == np.float32 and encoded.shape == (4, 2)


def test_decode_inverts_encode_and_ignores_the_radius():
    angles = np.random.default_rng(0).uniform(0, 180, size=500)
    encoded = encode_angles(angles) * np.random.default_rng(1).uniform(0.2, 3, size=(500, 1))
    decoded = decode_angles(encoded)
    assert decoded.min() >= 0 and decoded.max() < 180
    assert circular_error(decoded, angles).max() < 1e-4


def test_circular_error_takes_the_short_way_round():
    np.testing.assert_allclose(
        circular_error(np.array([179.0, 1.0, 90.0, -5.0, 360.0]), np.array([1.0, 179.0, 0.0, 175.0, 0.5])),
        [2.0, 2.0, 90.0, 0.0, 0.5],
    )
    assert circular_error(np.array(170.0), np.array(10.0)) == pytest.approx(20.0)


# Property-based: the encoding and the circular error over arbitrary angles, not a few picked
# ones. Angles up to +-1e4 degrees (many turns); the float32 encoding keeps about 1e-3 degrees.
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)
angle_lists = st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=20).map(np.array)
ENCODING_PRECISION_DEG = 2e-3


@PROPERTY_SETTINGS
@given(angles=angle_lists, turns=st.integers(-5, 5))
def test_encoding_has_period_180_and_lies_on_the_unit_circle(angles, turns):
    encoded = encode_angles(angles)
    np.testing.assert_allclose(np.linalg.norm(encoded, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(encode_angles(angles + 180.0 * turns), encoded, atol=1e-4)


@PROPERTY_SETTINGS
@given(angles=angle_lists, radius=st.floats(1e-3, 1e3))
def test_decoding_recovers_the_line_angle_in_0_to_180(angles, radius):
    decoded = decode_angles(encode_angles(angles) * radius)
    assert np.all((decoded >= 0) & (decoded < 180))
    assert circular_error(decoded, angles).max() < ENCODING_PRECISION_DEG


@PROPERTY_SETTINGS
@given(a=angle_lists, data=st.data())
def test_circular_error_is_a_distance_between_lines(a, data):
    b = np.array(data.draw(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=a.size, max_size=a.size)))
    turns = data.draw(st.integers(-5, 5))
    error = circular_error(a, b)
    assert np.all((error >= 0) & (error <= 90))
    np.testing.assert_allclose(error, circular_error(b, a), atol=1e-9)  # symmetric
    np.testing.assert_allclose(circular_error(a + 180.0 * turns, b), error, atol=1e-6)  # period 180
    assert np.all(circular_error(a, a) == 0)
    # never more than the plain difference, and equal to it for angles close together
    assert np.all(error <= np.abs(a - b) + 1e-9)


def test_bad_arguments_are_refused_with_a_message():
    with pytest.raises(ValueError, match="2 columns"):
        decode_angles(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="one prediction per true angle"):
        circular_error(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="activation must be one of"):
        question_model(32, activation="tanh")
    with pytest.raises(ValueError, match="image_size must be at least 8"):
        conv_model(4)
    with pytest.raises(TypeError, match="scale_inputs must be True or False"):
        question_model(32, scale_inputs="yes")


def test_models_have_the_documented_shapes_and_parameter_counts():
    model = question_model(32)
    # the question's architecture: Conv2D(4, 4) -> 29*29*4 = 3364 -> 64 -> 1000 -> 50 -> 1
    assert model.output_shape == (None, 1)
    assert model.get_layer("dense_1").count_params() == (29 * 29 * 4 + 1) * 64
    assert model.count_params() == (16 * 4 + 4) + 3364 * 64 + 64 + 64 * 1000 + 1000 + 1000 * 50 + 50 + 51
    assert [layer.activation.__name__ for layer in model.layers[:-1] if hasattr(layer, "activation")] == [
        "sigmoid"
    ] * 4
    repaired = conv_model(32, outputs=2)
    assert repaired.output_shape == (None, 2)
    assert repaired.get_layer("flatten").output.shape[-1] == 4 * 4 * 32
    x = np.full((2, 32, 32, 1), 255, dtype=np.float32)
    # Rescaling turns white background into 0 ink
    ink = repaired.layers[0](x)
    assert float(np.abs(np.asarray(ink)).max()) == 0.0
