"""Models and angle arithmetic of notebook 05 (course_utils.slope_models)."""

from __future__ import annotations

import numpy as np
import pytest

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
