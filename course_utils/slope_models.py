"""Models and angle arithmetic for notebook 05, fixing the failing slope model.

* :func:`question_model` is the model of the Stack Exchange question (seed 001), with the
  options the notebook's repair steps change one at a time;
* :func:`conv_model` is the repaired architecture: small convolution and pooling blocks and
  a small head;
* :func:`encode_angles` / :func:`decode_angles` map an angle of a line (period 180 degrees)
  to the point ``(cos 2θ, sin 2θ)`` on the unit circle and back;
* :func:`circular_error` is the distance between two line angles, at most 90 degrees.

Keras is imported inside the model builders, so importing this module does not start TensorFlow.
"""

from __future__ import annotations

import numpy as np

from course_utils._validation import check_array, check_choice, check_int

__all__ = [
    "ACTIVATIONS",
    "question_model",
    "conv_model",
    "encode_angles",
    "decode_angles",
    "circular_error",
]

ACTIVATIONS = ("sigmoid", "relu")


def _check_common(image_size, activation, scale_inputs):
    image_size = check_int(image_size, "image_size", minimum=8, hint="The images' side, e.g. 32.")
    check_choice(activation, "activation", ACTIVATIONS)
    if not isinstance(scale_inputs, bool):
        raise TypeError(f"scale_inputs must be True or False, got {scale_inputs!r}.")
    return image_size


def _input_layers(keras, image_size: int, scale_inputs: bool) -> list:
    layers = [keras.Input(shape=(image_size, image_size, 1), name="image")]
    if scale_inputs:
        # ink becomes 1 and the white background 0: inputs in [0, 1], mostly zero
        layers.append(keras.layers.Rescaling(-1 / 255, offset=1.0, name="ink"))
    return layers


def question_model(image_size: int, activation: str = "sigmoid", scale_inputs: bool = False):
    """The question's network, scaled to ``image_size`` pixels.

    ``Conv2D(4, 4)`` -> ``Flatten`` -> ``Dense((image_size / 4) ** 2)`` -> ``Dense(1000)`` ->
    ``Dense(50)`` -> ``Dense(1)``, every hidden layer with ``activation`` (the question used
    ``"sigmoid"`` and 100-pixel images, so its first dense layer had 100/4 * 100/4 = 625 units).

    Parameters
    ----------
    image_size : int
        Side of the square one-channel input images.
    activation : {"sigmoid", "relu"}, default="sigmoid"
    scale_inputs : bool, default=False
        Prepend a ``Rescaling`` layer that maps 0-255 grey values to ink in [0, 1]. The
        question fed raw 0-255 values.

    Returns
    -------
    keras.Sequential
        Uncompiled. Layer names: ``conv``, ``flatten``, ``dense_1``, ``dense_2``, ``dense_3``,
        ``output``.
    """
    image_size = _check_common(image_size, activation, scale_inputs)
    import keras

    first_dense = (image_size // 4) ** 2
    return keras.Sequential(
        [
            *_input_layers(keras, image_size, scale_inputs),
            keras.layers.Conv2D(4, 4, activation=activation, name="conv"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(first_dense, activation=activation, name="dense_1"),
            keras.layers.Dense(1000, activation=activation, name="dense_2"),
            keras.layers.Dense(50, activation=activation, name="dense_3"),
            keras.layers.Dense(1, name="output"),
        ],
        name="question_model",
    )


def conv_model(
    image_size: int,
    outputs: int = 1,
    activation: str = "relu",
    scale_inputs: bool = True,
    width: int = 16,
):
    """The repaired architecture: three conv + pool blocks and a small dense head.

    Parameters
    ----------
    image_size : int
        Side of the square one-channel input images.
    outputs : int, default=1
        Units of the linear output layer: 1 for an angle, 2 for ``(cos 2θ, sin 2θ)``.
    activation : {"relu", "sigmoid"}, default="relu"
    scale_inputs : bool, default=True
        Prepend ``Rescaling`` from 0-255 grey values to ink in [0, 1].
    width : int, default=16
        Filters of the first block; the next two have twice as many.

    Returns
    -------
    keras.Sequential
        Uncompiled. Layer names ``conv1``..``conv3``, ``pool1``..``pool3``, ``flatten``,
        ``dense``, ``output``.
    """
    image_size = _check_common(image_size, activation, scale_inputs)
    outputs = check_int(outputs, "outputs", minimum=1, hint="Use 1 for an angle, 2 for cos/sin.")
    width = check_int(width, "width", minimum=1)
    if image_size < 8:
        raise ValueError(f"image_size must be at least 8 for three 2x2 poolings, got {image_size}.")
    import keras

    layers = _input_layers(keras, image_size, scale_inputs)
    for block, filters in enumerate((width, 2 * width, 2 * width), start=1):
        layers += [
            keras.layers.Conv2D(filters, 3, padding="same", activation=activation, name=f"conv{block}"),
            keras.layers.MaxPooling2D(2, name=f"pool{block}"),
        ]
    layers += [
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(64, activation=activation, name="dense"),
        keras.layers.Dense(outputs, name="output"),
    ]
    return keras.Sequential(layers, name="conv_model")


def encode_angles(angles_deg) -> np.ndarray:
    """Map line angles in degrees to ``(cos 2θ, sin 2θ)``, shape ``(N, 2)``, float32.

    Doubling the angle makes 0 and 180 degrees (the same line) the same point.
    """
    angles = check_array(angles_deg, "angles_deg", ndim=1, finite=True)
    doubled = np.deg2rad(2.0 * angles.astype(np.float64))
    return np.stack([np.cos(doubled), np.sin(doubled)], axis=1).astype(np.float32)


def decode_angles(encoded) -> np.ndarray:
    """Invert :func:`encode_angles`: ``atan2(sin, cos) / 2`` in degrees, in [0, 180).

    The point need not lie on the unit circle (a network's output rarely does); only its
    direction counts.
    """
    encoded = check_array(
        encoded, "encoded", ndim=2, finite=True, hint="Pass the (N, 2) array of (cos, sin)."
    )
    if encoded.shape[1] != 2:
        raise ValueError(f"encoded must have 2 columns (cos 2θ, sin 2θ), got shape {encoded.shape}.")
    doubled = np.rad2deg(np.arctan2(encoded[:, 1], encoded[:, 0]).astype(np.float64))
    angles = np.mod(doubled / 2.0, 180.0)
    # np.mod(-1e-20, 180.0) rounds to 180.0 itself, which is 0 degrees: keep the range half-open.
    return np.where(angles >= 180.0, 0.0, angles)


def circular_error(predicted_deg, true_deg) -> np.ndarray:
    """Distance in degrees between line angles: ``min(|d|, 180 - |d|)`` with ``d`` taken mod 180."""
    predicted = check_array(predicted_deg, "predicted_deg", ndim=(0, 1), finite=True)
    true = check_array(true_deg, "true_deg", ndim=(0, 1), finite=True)
    if predicted.shape != true.shape:
        raise ValueError(
            f"predicted_deg has shape {predicted.shape} but true_deg has {true.shape}; pass one "
            "prediction per true angle."
        )
    d = np.mod(np.abs(predicted.astype(np.float64) - true), 180.0)
    return np.minimum(d, 180.0 - d)
