"""Checks for notebook 05, fixing the failing slope model."""

from __future__ import annotations

import numpy as np

from course_utils.checks import (
    ArrayClose,
    Close,
    Exact,
    Exercise,
)


# ------------------------------------------------------------------------------------------
# Exercise 1: the plateau
# ------------------------------------------------------------------------------------------


_PLATEAU_MISTAKES = [
    (lambda y: np.var(y, ddof=1),
     "that is the sample variance (ddof=1); the mean squared error divides by N, so use "
     "np.var(labels) or np.mean((labels - c) ** 2)."),
    (lambda y: np.std(y),
     "that is the standard deviation; mse is in squared units, so the plateau is its square, the variance."),
    (lambda y: np.mean(y**2),
     "that is the loss of always predicting 0; the best constant is the mean of the labels."),
    (lambda y: np.mean(np.abs(y - np.median(y))),
     "that is the best mean absolute error (of the median); the model was trained with mean squared error."),
    (lambda y: np.mean(y),
     "that is the best constant itself (the mean); the exercise asks for its loss, "
     "np.mean((labels - mean) ** 2)."),
    (lambda y: np.mean(y - np.mean(y)) ** 2,
     "square each difference before averaging: np.mean((labels - c) ** 2), not np.mean(labels - c) ** 2."),
    (lambda y: np.sum((y - np.mean(y)) ** 2),
     "you summed the squared errors; the mean squared error divides by N, the number of labels."),
    (lambda y: np.mean(np.abs(y - np.mean(y))),
     "that is the mean absolute deviation; the mse squares each difference: np.mean((labels - c) ** 2)."),
    (lambda y: np.mean((y - np.median(y)) ** 2),
     "the best constant for the squared error is the mean, not the median."),
]  # fmt: skip


def _check_plateau_loss(answer) -> str:
    rng = np.random.default_rng(5)
    cases = [
        np.array([10.0, 20.0, 30.0, 100.0]),
        np.array([0.0, 90.0, 180.0]),
        rng.uniform(0, 180, size=500),
        rng.normal(3.0, 2.0, size=50),
        np.array([3, 7, 8, 30]),  # whole-number angles, as ints
    ]
    Close(rel_tol=1e-6, abs_tol=1e-9).check(
        answer, [(labels,) for labels in cases], lambda labels: float(np.var(labels)), mistakes=_PLATEAU_MISTAKES
    )
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


def _with_side(formula):
    """A wrong count written in terms of the 'valid' output side, as the reference is."""
    return lambda n, k, f, u: formula(n - k + 1, n, k, f, u)


_FLATTEN_DENSE_MISTAKES = [
    (_with_side(lambda side, n, k, f, u: side * side * f * u), "you left out the biases: one per unit."),
    (_with_side(lambda side, n, k, f, u: (n * n * f + 1) * u),
     "a 'valid' convolution shrinks the image to image_size - kernel_size + 1 pixels per side."),
    (_with_side(lambda side, n, k, f, u: (side * side + 1) * u),
     "Flatten keeps every filter's map: multiply by the number of filters."),
    (_with_side(lambda side, n, k, f, u: ((n - k) ** 2 * f + 1) * u),
     "the output side is image_size - kernel_size + 1, not image_size - kernel_size."),
    (_with_side(lambda side, n, k, f, u: (side * f + 1) * u),
     "each feature map is side x side pixels: side * side * filters values reach the dense layer."),
    (_with_side(lambda side, n, k, f, u: (side * side * f + 1) * u + k * k * f + f),
     "the question is the dense layer alone; you added the convolution's own parameters."),
    (_with_side(lambda side, n, k, f, u: side * side * f * u + f),
     "the dense layer's biases are one per unit (+ units), not one per filter."),
    (_with_side(lambda side, n, k, f, u: ((n - k - 1) ** 2 * f + 1) * u),
     "a 'valid' convolution leaves image_size - kernel_size + 1 pixels per side (+ 1, not - 1)."),
    (_with_side(lambda side, n, k, f, u: side * side * f * u + side * side * f),
     "there is one bias per unit (units of them), not one per flattened input."),
]  # fmt: skip


def _check_flatten_dense_params(answer) -> str:
    Exact().check(
        answer,
        [(32, 4, 4, 64), (100, 4, 4, 625), (10, 3, 2, 5), (28, 5, 8, 1), (6, 2, 3, 7)],
        _reference_flatten_dense,
        mistakes=_FLATTEN_DENSE_MISTAKES,
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


def _min_other_way(d, period=180.0):
    return np.minimum(d, period - d)


_CIRCULAR_MISTAKES = [
    (lambda p, t: np.abs(np.asarray(p, float) - np.asarray(t, float)),
     "you returned the plain difference |predicted - true|. Lines at 179 and 1 degrees are 2 "
     "degrees apart, not 178: take the shorter way round, min(|d|, 180 - |d|)."),
    (lambda p, t: _min_other_way(np.mod(np.abs(np.asarray(p, float) - np.asarray(t, float)), 360.0), 360.0),
     "you used a period of 360 degrees. A line, unlike an arrow, repeats every 180 degrees."),
    (lambda p, t: _min_other_way(np.abs(np.asarray(p, float) - np.asarray(t, float))),
     "angles may lie outside [0, 180), so |d| can exceed 180: take d % 180 before min(d, 180 - d)."),
    (lambda p, t: np.mod(np.abs(np.asarray(p, float) - np.asarray(t, float)), 90.0),
     "% 90 is not the distance: a difference of 100 degrees is 80 degrees the other way "
     "round, not 10. Use d % 180, then min(d, 180 - d)."),
    (lambda p, t: _min_other_way(np.mod(np.abs(np.asarray(p, float) - np.asarray(t, float)), 180.0), np.pi),
     "the angles are in degrees: the other way round is 180 - d, not π - d."),
    (lambda p, t: np.mod(np.abs(np.asarray(p, float) - np.asarray(t, float)), 180.0),
     "after % 180 the difference can still be the long way round (178 for lines at 179 and 1 "
     "degrees): return min(d, 180 - d)."),
    (lambda p, t: np.min([np.abs(np.subtract(p, t)) % 180, 180 - np.abs(np.subtract(p, t)) % 180]),
     "np.min reduces everything to one number; np.minimum(d, 180 - d) compares element by element."),
    (lambda p, t: _min_other_way(np.asarray(p, float) - np.asarray(t, float)),
     "take the absolute difference (and % 180) first: with predicted < true, d is negative "
     "and min(d, 180 - d) returns it."),
]  # fmt: skip


def _check_circular_error(answer) -> str:
    rng = np.random.default_rng(7)
    cases = [
        (np.array([179.0, 1.0, 90.0, 10.0]), np.array([1.0, 179.0, 0.0, 10.0])),
        (np.array([170.0, 45.0]), np.array([10.0, 135.0])),
        (rng.uniform(0, 180, size=100), rng.uniform(0, 180, size=100)),
        (np.array([-5.0, 185.0, 360.0]), np.array([175.0, 3.0, 0.5])),
        ([120, 30], [10, 150]),  # lists of whole degrees
        (179.0, 1.0),  # a single pair of angles
    ]
    ArrayClose(atol=1e-6).check(
        answer, cases, _reference_circular, mistakes=_CIRCULAR_MISTAKES,
        note="Reduce the difference modulo 180 first (it may be negative or larger than 180), "
        "then take min(d, 180 - d).",
    )  # fmt: skip
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


def _encode(angles, factor=2.0, to_radians=np.deg2rad, axis=1):
    doubled = factor * to_radians(np.asarray(angles, dtype=np.float64))
    return np.stack([np.cos(doubled), np.sin(doubled)], axis=axis)


_LIST_TIMES_2 = "2 * a list repeats the list; turn the angles into an array first: np.asarray(angles_deg)."
_ONE_ROW_PER_ANGLE = (
    "the result must have shape (N, 2), one row (cos 2θ, sin 2θ) per angle: "
    "np.stack([...], axis=1)."
)
_ENCODE_MISTAKES = [
    (lambda a: _encode(a, factor=1.0),
     "you encoded θ, not 2θ: then 0 and 180 degrees land on opposite points (1, 0) and "
     "(-1, 0), though they are the same line. Double the angle first."),
    (lambda a: _encode(a)[:, ::-1], "the columns are swapped; put cos 2θ first, then sin 2θ."),
    (lambda a: _encode(a, to_radians=lambda x: x),
     "you passed degrees to np.cos and np.sin, which expect radians: use np.deg2rad first."),
    (lambda a: _encode(a, axis=0), _ONE_ROW_PER_ANGLE),
    (lambda a: _encode(a).ravel(), _ONE_ROW_PER_ANGLE),
    (lambda a: _encode(a, axis=0).ravel(), _ONE_ROW_PER_ANGLE),
    (lambda a: _encode(a, factor=0.5), "double the angle, do not halve it: 2θ."),
    (lambda a: _encode(a * 2, factor=1.0) if isinstance(a, list) else _encode(a), _LIST_TIMES_2),
    (lambda a: np.stack([np.cos(2 * np.deg2rad(a)), np.sin(np.deg2rad(2 * a))], axis=1), _LIST_TIMES_2),
    (lambda a: 2 * _encode(a, factor=1.0),
     "double the angle inside cos and sin (cos 2θ), not the result (2 cos θ)."),
]


def _check_encode(answer) -> str:
    angles_cases = [
        np.array([0.0, 45.0, 90.0, 135.0, 180.0]),
        np.array([10.0, 170.0]),
        np.random.default_rng(8).uniform(0, 180, size=64),
        [30, 60, 150],  # a list of whole degrees
    ]
    ArrayClose(atol=1e-5).check(
        answer, [(angles,) for angles in angles_cases], _encode, mistakes=_ENCODE_MISTAKES,
        note="Expected (cos 2θ, sin 2θ) per angle, θ in radians.",
    )  # fmt: skip
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


def _decode(encoded, *, halve=True, wrap=True, radians=False, atan=None):
    sin, cos = encoded[:, 1], encoded[:, 0]
    doubled = atan(sin, cos) if atan else np.arctan2(sin, cos)
    doubled = doubled if radians else np.rad2deg(doubled)
    angles = doubled / 2 if halve else doubled
    return angles % 180 if wrap else angles


def _decode_with_arccos(encoded):
    with np.errstate(invalid="ignore"):
        return np.rad2deg(np.arccos(encoded[:, 0])) / 2


def _decode_with_arctan(sin, cos):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.arctan(sin / cos)


_DECODE_MISTAKES = [
    (lambda e: _decode(e, halve=False), "you returned 2θ. The point encodes the doubled angle: halve atan2's result."),
    (lambda e: _decode(e, halve=False, wrap=False),
     "you returned 2θ. The point encodes the doubled angle: halve atan2's result."),
    (lambda e: _decode(e, halve=False, wrap=False) % 360,
     "you returned 2θ. The point encodes the doubled angle: halve atan2's result."),
    (lambda e: _decode(e, wrap=False),
     "np.arctan2 returns -180..180 degrees, so half of it is -90..90: add 180 to negative "
     "results, or take % 180, to land in [0, 180)."),
    (lambda e: _decode(e, atan=_decode_with_arctan),
     "np.arctan(sin / cos) cannot tell (cos, sin) from (-cos, -sin). Use np.arctan2(sin, cos)."),
    (lambda e: _decode(e, atan=lambda sin, cos: np.arctan2(cos, sin)),
     "np.arctan2 takes the sine first: np.arctan2(encoded[:, 1], encoded[:, 0])."),
    (lambda e: _decode(e, radians=True) % np.pi,
     "np.arctan2 returns radians; convert with np.rad2deg before halving."),
    (lambda e: _decode(e, radians=True), "np.arctan2 returns radians; convert with np.rad2deg before halving."),
    (lambda e: _decode(e, wrap=False) + 90,
     "adding 90 to every angle shifts the right ones too; add 180 only to negative results, or take % 180."),
    (lambda e: np.abs(_decode(e, wrap=False)),
     "abs mirrors a negative angle: -30 becomes 30, but that line is at 150 degrees. Add 180 "
     "to negative results, or take % 180."),
    (lambda e: _decode_with_arccos(e),
     "arccos sees only the cosine, so 2θ and -2θ look the same, and the network's point is "
     "not of length 1; use np.arctan2(sin, cos)."),
    (lambda e: (np.rad2deg(np.arctan2(e[:, 1], e[:, 0])) % 180) / 2,
     "halve first, then take % 180: (2θ % 180) / 2 squeezes every angle into [0, 90)."),
]  # fmt: skip


def _check_decode(answer) -> str:
    rng = np.random.default_rng(9)
    angles = np.concatenate([[0.0, 45.0, 90.0, 135.0, 179.5], rng.uniform(0, 180, size=60)])
    doubled = np.deg2rad(2 * angles)
    radius = rng.uniform(0.3, 2.0, size=angles.shape)  # a network's output is not unit length
    encoded = np.stack([radius * np.cos(doubled), radius * np.sin(doubled)], axis=1)
    one = np.array([[-0.5, -0.2]])  # a single prediction, in the third quadrant
    ArrayClose(atol=1e-5).check(
        answer, [(encoded,), (one,)], lambda e: _decode(np.asarray(e, dtype=np.float64)),
        mistakes=_DECODE_MISTAKES,
        note="Expected np.rad2deg(np.arctan2(sin, cos)) / 2, brought into [0, 180).",
    )  # fmt: skip
    return "atan2 uses the signs of both values, so all four quadrants come out right."


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
