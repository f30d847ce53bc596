"""Checks for notebook 05, fixing the failing slope model."""

from __future__ import annotations

import numpy as np

from course_utils.checks import (
    Exercise,
    IncorrectAnswer,
    call_answer,
    describe_call,
    expect_close,
    expect_equal,
)


def _as_float_array(got, call: str, shape: tuple) -> np.ndarray:
    try:
        array = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise IncorrectAnswer(f"{call} returned {got!r}, which is not an array of numbers.") from None
    if array.shape != shape:
        raise IncorrectAnswer(f"{call} returned an array of shape {array.shape}, expected {shape}.")
    return array


# ------------------------------------------------------------------------------------------
# Exercise 1: the plateau
# ------------------------------------------------------------------------------------------


def _check_plateau_loss(answer) -> str:
    rng = np.random.default_rng(5)
    cases = [
        np.array([10.0, 20.0, 30.0, 100.0]),
        np.array([0.0, 90.0, 180.0]),
        rng.uniform(0, 180, size=500),
        rng.normal(3.0, 2.0, size=50),
    ]
    for labels in cases:
        call = describe_call(answer, (labels,), {})
        expected = float(np.var(labels))
        mistakes = {
            float(np.var(labels, ddof=1)): "that is the sample variance (ddof=1); the mean "
            "squared error divides by N, so use np.var(labels) or np.mean((labels - c) ** 2).",
            float(np.std(labels)): "that is the standard deviation; mse is in squared units, "
            "so the plateau is its square, the variance.",
            float(np.mean(labels**2)): "that is the loss of always predicting 0; the best "
            "constant is the mean of the labels.",
            float(np.mean(np.abs(labels - np.median(labels)))): "that is the best mean "
            "absolute error (of the median); the model was trained with mean squared error.",
        }
        expect_close(
            call_answer(answer, labels.copy()), expected, call=call, rel_tol=1e-6, abs_tol=1e-9,
            mistakes={k: v for k, v in mistakes.items() if not np.isclose(k, expected)},
        )  # fmt: skip
    return "The best constant is the mean, and its loss is the labels' variance."


exercise_1 = Exercise(
    1,
    "the loss of the best constant prediction",
    answer_name="plateau_loss",
    checker=_check_plateau_loss,
    hint=(
        "Predicting the same number c for every image costs mean((labels - c)**2). Which c "
        "makes that smallest, and what is the loss there?"
    ),
    solution='''def plateau_loss(labels):
    """Mean squared error of the best constant prediction for these labels."""
    best_constant = np.mean(labels)
    return np.mean((labels - best_constant) ** 2)''',
)


# ------------------------------------------------------------------------------------------
# Exercise 2: the flatten-to-dense parameter count
# ------------------------------------------------------------------------------------------


def _reference_flatten_dense(image_size, kernel_size, filters, units):
    side = image_size - kernel_size + 1
    return (side * side * filters + 1) * units


def _check_flatten_dense_params(answer) -> str:
    for image_size, kernel_size, filters, units in (
        (32, 4, 4, 64),
        (100, 4, 4, 625),
        (10, 3, 2, 5),
        (28, 5, 8, 1),
    ):
        args = (image_size, kernel_size, filters, units)
        side = image_size - kernel_size + 1
        expect_equal(
            call_answer(answer, *args),
            _reference_flatten_dense(*args),
            call=describe_call(answer, args, {}),
            mistakes={
                side * side * filters * units: "you left out the biases: one per unit.",
                (image_size * image_size * filters + 1) * units: "a 'valid' convolution "
                "shrinks the image to image_size - kernel_size + 1 pixels per side.",
                (side * side + 1) * units: "Flatten keeps every filter's map: multiply by "
                "the number of filters.",
                ((image_size - kernel_size) ** 2 * filters + 1) * units: "the output side is "
                "image_size - kernel_size + 1, not image_size - kernel_size.",
            },
        )
    return "For the question's 100-pixel images that is 23,523,125 weights in one layer."


exercise_2 = Exercise(
    2,
    "parameters between Flatten and the first dense layer",
    answer_name="flatten_dense_params",
    checker=_check_flatten_dense_params,
    hint=(
        "A 'valid' k x k convolution leaves (image_size - k + 1) pixels per side, one map per "
        "filter. Flatten makes one long vector of all of them; a dense layer has one weight per "
        "input per unit, plus one bias per unit."
    ),
    solution='''def flatten_dense_params(image_size, kernel_size, filters, units):
    """Weights and biases of Dense(units) after Conv2D(filters, kernel_size) and Flatten."""
    side = image_size - kernel_size + 1
    flattened = side * side * filters
    return (flattened + 1) * units''',
)


# ------------------------------------------------------------------------------------------
# Exercise 3: circular error
# ------------------------------------------------------------------------------------------


def _reference_circular(predicted, true):
    d = np.mod(np.abs(np.asarray(predicted, float) - np.asarray(true, float)), 180.0)
    return np.minimum(d, 180.0 - d)


def _check_circular_error(answer) -> str:
    rng = np.random.default_rng(7)
    cases = [
        (np.array([179.0, 1.0, 90.0, 10.0]), np.array([1.0, 179.0, 0.0, 10.0])),
        (np.array([170.0, 45.0]), np.array([10.0, 135.0])),
        (rng.uniform(0, 180, size=100), rng.uniform(0, 180, size=100)),
        (np.array([-5.0, 185.0, 360.0]), np.array([175.0, 3.0, 0.5])),
    ]
    for predicted, true in cases:
        call = describe_call(answer, (predicted, true), {})
        expected = _reference_circular(predicted, true)
        got = _as_float_array(call_answer(answer, predicted.copy(), true.copy()), call, expected.shape)
        if np.allclose(got, expected, atol=1e-6):
            continue
        if np.allclose(got, np.abs(predicted - true)):
            raise IncorrectAnswer(
                f"{call} returned the plain difference |predicted - true|. Lines at 179 and 1 "
                "degrees are 2 degrees apart, not 178: take the shorter way round, "
                "min(|d|, 180 - |d|)."
            )
        d360 = np.mod(np.abs(predicted - true), 360.0)
        if np.allclose(got, np.minimum(d360, 360.0 - d360)):
            raise IncorrectAnswer(
                f"{call} used a period of 360 degrees. A line, unlike an arrow, repeats every "
                "180 degrees."
            )
        worst = int(np.argmax(np.abs(got - expected)))
        raise IncorrectAnswer(
            f"{call}: for predicted {predicted[worst]} and true {true[worst]} you returned "
            f"{got[worst]:.4g}, expected {expected[worst]:.4g}. Reduce the difference modulo "
            "180 first (it may be negative or larger than 180), then take min(d, 180 - d)."
        )
    return "Errors now lie between 0 and 90 degrees."


exercise_3 = Exercise(
    3,
    "circular error between line angles",
    answer_name="circular_error_deg",
    checker=_check_circular_error,
    hint=(
        "d = np.abs(predicted - true) % 180 lies in [0, 180). Going the other way round the "
        "circle is 180 - d. Return the smaller of the two with np.minimum."
    ),
    solution='''def circular_error_deg(predicted, true):
    """Distance in degrees between line angles, which repeat every 180 degrees."""
    d = np.abs(np.asarray(predicted) - np.asarray(true)) % 180
    return np.minimum(d, 180 - d)''',
)


# ------------------------------------------------------------------------------------------
# Exercise 4: encoding
# ------------------------------------------------------------------------------------------


def _check_encode(answer) -> str:
    angles_cases = [
        np.array([0.0, 45.0, 90.0, 135.0, 180.0]),
        np.array([10.0, 170.0]),
        np.random.default_rng(8).uniform(0, 180, size=64),
    ]
    for angles in angles_cases:
        call = describe_call(answer, (angles,), {})
        radians = np.deg2rad(angles)
        expected = np.stack([np.cos(2 * radians), np.sin(2 * radians)], axis=1)
        got = _as_float_array(call_answer(answer, angles.copy()), call, expected.shape)
        if np.allclose(got, expected, atol=1e-5):
            continue
        if np.allclose(got, np.stack([np.cos(radians), np.sin(radians)], axis=1), atol=1e-5):
            raise IncorrectAnswer(
                f"{call} encoded θ, not 2θ: then 0 and 180 degrees land on opposite points "
                "(1, 0) and (-1, 0), though they are the same line. Double the angle first."
            )
        if np.allclose(got, expected[:, ::-1], atol=1e-5):
            raise IncorrectAnswer(f"{call}: the columns are swapped; put cos 2θ first, then sin 2θ.")
        if np.allclose(got, np.stack([np.cos(2 * angles), np.sin(2 * angles)], axis=1), atol=1e-5):
            raise IncorrectAnswer(
                f"{call} passed degrees to np.cos and np.sin, which expect radians: use "
                "np.deg2rad first."
            )
        raise IncorrectAnswer(
            f"{call} returned {np.round(got[:2], 4).tolist()} for the first angles "
            f"{angles[:2].tolist()}, expected {np.round(expected[:2], 4).tolist()} = "
            "(cos 2θ, sin 2θ) with θ in radians."
        )
    return "0 and 180 degrees now map to the same point (1, 0)."


exercise_4 = Exercise(
    4,
    "encode a line angle as a point on the circle",
    answer_name="encode_angle",
    checker=_check_encode,
    hint=(
        "Convert degrees to radians with np.deg2rad, double, and stack cos and sin as two "
        "columns: np.stack([np.cos(r), np.sin(r)], axis=1)."
    ),
    solution='''def encode_angle(angles_deg):
    """(cos 2θ, sin 2θ) for each angle θ in degrees, shape (N, 2)."""
    doubled = 2 * np.deg2rad(angles_deg)
    return np.stack([np.cos(doubled), np.sin(doubled)], axis=1)''',
)


# ------------------------------------------------------------------------------------------
# Exercise 5: decoding
# ------------------------------------------------------------------------------------------


def _check_decode(answer) -> str:
    rng = np.random.default_rng(9)
    angles = np.concatenate([[0.0, 45.0, 90.0, 135.0, 179.5], rng.uniform(0, 180, size=60)])
    doubled = np.deg2rad(2 * angles)
    radius = rng.uniform(0.3, 2.0, size=angles.shape)  # a network's output is not unit length
    encoded = np.stack([radius * np.cos(doubled), radius * np.sin(doubled)], axis=1)
    call = describe_call(answer, (encoded,), {})
    got = _as_float_array(call_answer(answer, encoded.copy()), call, angles.shape)
    if np.all((got >= 0) & (got < 180)) and np.allclose(got, angles, atol=1e-5):
        return "atan2 uses the signs of both values, so all four quadrants come out right."
    if np.allclose(np.mod(got, 360), np.mod(2 * angles, 360), atol=1e-5):
        raise IncorrectAnswer(
            f"{call} returned 2θ. The point encodes the doubled angle: halve atan2's result."
        )
    if np.allclose(np.mod(got, 180), angles, atol=1e-5):
        raise IncorrectAnswer(
            f"{call} returned angles outside [0, 180), e.g. {got[np.argmin(got)]:.2f}. "
            "np.arctan2 returns -180..180 degrees, so half of it is -90..90: add 180 to "
            "negative results, or take % 180."
        )
    if np.allclose(np.mod(np.rad2deg(np.arctan(encoded[:, 1] / encoded[:, 0])) / 2, 180), np.mod(got, 180), atol=1e-5):
        raise IncorrectAnswer(
            f"{call} used np.arctan(sin / cos), which cannot tell (cos, sin) from (-cos, -sin). "
            "Use np.arctan2(sin, cos)."
        )
    worst = int(np.argmax(np.abs(got - angles)))
    raise IncorrectAnswer(
        f"{call}: for the point {np.round(encoded[worst], 4).tolist()} you returned "
        f"{got[worst]:.4g}, expected {angles[worst]:.4g} degrees: "
        "np.rad2deg(np.arctan2(sin, cos)) / 2, brought into [0, 180). Mind the order: "
        "arctan2 takes the sine first."
    )


exercise_5 = Exercise(
    5,
    "decode a point on the circle back to an angle",
    answer_name="decode_angle",
    checker=_check_decode,
    hint=(
        "np.arctan2(encoded[:, 1], encoded[:, 0]) gives 2θ in radians in (-π, π]. Convert to "
        "degrees, halve, and use % 180 to land in [0, 180)."
    ),
    solution='''def decode_angle(encoded):
    """Angles in degrees, in [0, 180), from rows (cos 2θ, sin 2θ) of any length."""
    doubled = np.rad2deg(np.arctan2(encoded[:, 1], encoded[:, 0]))
    return (doubled / 2) % 180''',
)
