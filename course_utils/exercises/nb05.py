"""Checks for notebook 05, fixing the failing slope model."""

from __future__ import annotations

import numpy as np

from course_utils.checks import (
    ArrayClose,
    Close,
    Exercise,
    IncorrectAnswer,
    Shown,
    _with_mistake,
    call_answer,
    describe_call,
    short_repr,
)
from course_utils.exercises._keras_fit_checks import answer_or_reference, name_one_mistake  # noqa: F401 - the notebook uses answer_or_reference


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
# Exercise 2: gradient norms per layer, with tf.GradientTape
# ------------------------------------------------------------------------------------------


def _gradient_models():
    """Two small test models with fixed weights, biases and nonlinearities, and their data."""
    import keras

    keras.utils.set_random_seed(12)
    conv = keras.Sequential(
        [
            keras.Input(shape=(6, 6, 1)),
            keras.layers.Conv2D(3, 3, activation="relu", name="conv"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(4, activation="sigmoid", name="hidden"),
            keras.layers.Dense(1, name="output"),
        ]
    )
    for layer in conv.layers:  # biases that are not zero, so a bias's gradient differs from none
        if getattr(layer, "bias", None) is not None:
            layer.bias.assign(np.linspace(-0.3, 0.4, layer.bias.shape[0]).astype("float32"))
    inputs = keras.Input(shape=(5,))
    hidden = keras.layers.Dense(3, activation="tanh", name="first")(inputs)
    dense = keras.Model(inputs, keras.layers.Dense(1, name="last")(hidden))
    rng = np.random.default_rng(13)
    return [
        (conv, rng.uniform(0, 1, size=(8, 6, 6, 1)).astype("float32"), rng.uniform(20, 160, size=8).astype("float32")),
        (dense, rng.normal(size=(6, 5)).astype("float32"), [float(v) for v in rng.uniform(-3, 5, size=6)]),
    ]


def _kernel_norms(model, images, labels, *, loss="mse", broadcast=False, gradient_of=None, with_bias=False,
                  norm=None):  # fmt: skip
    """Per layer with a kernel: a norm of the gradient of a loss (the reference and its mistakes)."""
    import tensorflow as tf

    labels = np.asarray(labels, dtype="float32")
    if not broadcast:
        labels = labels.reshape(-1, 1)
    layers = [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]
    with tf.GradientTape() as tape:
        predictions = model(images, training=True)
        if gradient_of == "outputs":
            value = tf.reduce_sum(predictions)
        elif loss == "mae":
            value = tf.reduce_mean(tf.abs(predictions - labels))
        elif loss == "sum":
            value = tf.reduce_sum((predictions - labels) ** 2)
        else:
            value = tf.reduce_mean((predictions - labels) ** 2)
    variables = [layer.kernel for layer in layers] + [layer.bias for layer in layers]
    gradients = tape.gradient(value, variables)
    kernels, biases = gradients[: len(layers)], gradients[len(layers) :]
    result = {}
    for layer, kernel_gradient, bias_gradient in zip(layers, kernels, biases, strict=True):
        g = kernel_gradient.numpy().astype(np.float64)
        if gradient_of == "weights":
            g = layer.kernel.numpy().astype(np.float64)
        if with_bias:
            g = np.concatenate([g.ravel(), bias_gradient.numpy().ravel()])
        result[layer.name] = float(norm(g) if norm else np.sqrt(np.sum(g**2)))
    return result


_GRADIENT_MISTAKES = [
    (lambda m, x, y: _kernel_norms(m, x, y, broadcast=True),
     "the model's predictions have shape (N, 1) and the labels (N,): predictions - labels "
     "broadcasts to an (N, N) matrix. Reshape the labels to (N, 1) first."),
    (lambda m, x, y: _kernel_norms(m, x, y, gradient_of="weights"),
     "that is the norm of each kernel itself, not of the loss's gradient with respect to it: "
     "record the loss under tf.GradientTape and call tape.gradient(loss, kernels)."),
    (lambda m, x, y: _kernel_norms(m, x, y, loss="sum"),
     "you summed the squared errors; the mean squared error averages them (keras.ops.mean), "
     "as model.fit's loss does."),
    (lambda m, x, y: _kernel_norms(m, x, y, with_bias=True),
     "you took the norm over the kernel and the bias together; the exercise asks for the kernel "
     "(layer.kernel) alone."),
    (lambda m, x, y: _kernel_norms(m, x, y, norm=lambda g: np.sum(g**2)),
     "that is the squared norm; tf.norm (or np.linalg.norm) takes the square root of the sum of squares."),
    (lambda m, x, y: _kernel_norms(m, x, y, norm=lambda g: np.mean(np.abs(g))),
     "that is the mean absolute gradient; the norm is the square root of the sum of squares (tf.norm)."),
    (lambda m, x, y: _kernel_norms(m, x, y, gradient_of="outputs"),
     "you took the gradient of the model's outputs, not of the loss: compute the mean squared "
     "error between predictions and labels inside the tape and differentiate that."),
    (lambda m, x, y: _kernel_norms(m, x, y, loss="mae"),
     "that is the gradient of the mean absolute error; the model was trained with the mean "
     "squared error, mean((predictions - labels) ** 2)."),
]  # fmt: skip


def _as_norms(got, call: str, names: list[str]) -> dict[str, float]:
    if not isinstance(got, dict):
        raise IncorrectAnswer(
            f"{call} returned {short_repr(got)}; return a dict {{layer name: norm}}, one entry per "
            f"layer with a kernel, e.g. {{{', '.join(repr(n) + ': ...' for n in names)}}}."
        )
    if set(got) != set(names):
        raise IncorrectAnswer(
            f"{call} returned a dict with keys {sorted(map(str, got))}; expected one entry per layer "
            f"that has a kernel (layer.kernel), named by layer.name: {names}."
        )
    values = {}
    for name in names:
        try:
            value = got[name]
            value = float(value.numpy() if hasattr(value, "numpy") else value)
        except (TypeError, ValueError):
            raise IncorrectAnswer(
                f"{call} returned {short_repr(got[name])} for {name!r}, which is not one number; "
                "take the norm of the whole gradient (tf.norm(gradient))."
            ) from None
        values[name] = value
    return values


def _norms_close(got: dict, expected: dict) -> bool:
    return all(np.isclose(got[n], expected[n], rtol=1e-3, atol=1e-6) for n in expected)


def _check_gradient_norms(answer) -> str:
    cases = _gradient_cases()
    failures, results = [], []
    for model, images, labels in cases:
        shown = (Shown(f"<model {model.name}>"), Shown(f"<images of shape {images.shape}>"),
                 Shown(f"<{len(labels)} labels>"))  # fmt: skip
        call = describe_call(answer, shown, {})
        expected = _kernel_norms(model, images, labels)
        got = call_answer(answer, model, images.copy(), list(labels) if isinstance(labels, list) else labels.copy())
        got = _as_norms(got, call, list(expected))
        results.append(got)
        if not _norms_close(got, expected):
            wrong = next(n for n in expected if not np.isclose(got[n], expected[n], rtol=1e-3, atol=1e-6))
            failures.append(f"{call} returned {got[wrong]:.6g} for layer {wrong!r}, expected {expected[wrong]:.6g}.")
    if failures:
        named = name_one_mistake(results, cases, _GRADIENT_MISTAKES, _norms_close)
        raise IncorrectAnswer(_with_mistake(failures[0], named))
    return "The notebook's diagnosis below uses your function."


_GRADIENT_CASES: list = []


def _gradient_cases():
    if not _GRADIENT_CASES:
        _GRADIENT_CASES.extend(_gradient_models())
    return _GRADIENT_CASES


exercise_2 = Exercise(
    2,
    "gradient norm per layer with tf.GradientTape",
    answer_name="kernel_gradient_norms",
    checker=_check_gradient_norms,
    hint=(
        "Inside `with tf.GradientTape() as tape:` call the model on the images (training=True) "
        "and compute the mean squared error against the labels, reshaped to (N, 1). Then "
        "tape.gradient(loss, [layer.kernel for ...]) gives one gradient per kernel; tf.norm "
        "turns each into one number."
    ),
    solution='''def kernel_gradient_norms(model, images, labels):
    """{layer name: norm of the gradient of the mean squared error with respect to its kernel}."""
    layers = [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]
    labels = np.reshape(labels, (-1, 1))
    with tf.GradientTape() as tape:
        loss = keras.ops.mean((model(images, training=True) - labels) ** 2)
    gradients = tape.gradient(loss, [layer.kernel for layer in layers])
    return {layer.name: float(tf.norm(g)) for layer, g in zip(layers, gradients)}''',
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


# ------------------------------------------------------------------------------------------
# Exercise 6: repair the question's model
# ------------------------------------------------------------------------------------------

REPAIR_IMAGE_SIZE = 32
REPAIR_EPOCHS, REPAIR_BATCH, REPAIR_TRAIN, REPAIR_VAL = 2, 30, 1500, 300
REPAIR_THRESHOLD = 6.0  # degrees of circular error on the check's held-out images
_REPAIR_DATA: list = []


def _repair_data():
    """Fixed small training and held-out sets for the repair check, made once."""
    if not _REPAIR_DATA:
        from course_utils import slope_data

        x, y = slope_data.make_slope_images(REPAIR_TRAIN, image_size=REPAIR_IMAGE_SIZE, seed=100)
        x_val, y_val = slope_data.make_slope_images(REPAIR_VAL, image_size=REPAIR_IMAGE_SIZE, seed=101)
        _REPAIR_DATA.extend([x.astype("float32"), _encode(y).astype("float32"), x_val.astype("float32"), y_val])
    return _REPAIR_DATA


def _circular_score(true_angles, predictions) -> float:
    predictions = np.asarray(predictions, dtype=np.float64)
    if predictions.ndim != 2 or predictions.shape[1] != 2 or not np.all(np.isfinite(predictions)):
        return float("inf")
    return float(_reference_circular(_decode(predictions), true_angles).mean())


_BOUNDED_OUTPUTS = {"sigmoid", "softmax", "relu", "softplus", "exponential", "elu", "selu", "gelu"}
_REGRESSION_LOSSES = {"mean_squared_error", "mean_absolute_error", "huber", "log_cosh"}
_SATURATING = {"sigmoid", "hard_sigmoid", "tanh"}


def _hidden_activations(model) -> set[str]:
    """Activation names of every layer except the last one (the output's)."""
    from course_utils.exercises._keras_checks import _activation_of_layer, all_layers

    names = set()
    layers = [layer for layer in all_layers(model) if not hasattr(layer, "layers")]
    for layer in layers[:-1]:
        name = _activation_of_layer(layer, None)
        if name:
            names.add(name)
    return names


def _check_repaired_model(answer, seed: int = 0) -> str:
    import keras

    from course_utils.exercises._keras_checks import (
        all_layers,
        as_model,
        compiled_loss,
        final_activation,
        optimizer_info,
        train_and_score,
    )

    size = REPAIR_IMAGE_SIZE
    call = describe_call(answer, (size,), {})
    keras.utils.set_random_seed(seed)
    try:
        model = as_model(call_answer(answer, size), call)
    except IncorrectAnswer as err:
        if "ndim" in str(err) or "incompatible" in str(err):
            raise IncorrectAnswer(
                f"{err}\nLikely mistake: a layer got input of the wrong rank. Start with "
                "keras.Input(shape=(image_size, image_size, 1)): Conv2D needs height, width and channels."
            ) from None
        raise
    if tuple(model.input_shape) != (None, size, size, 1):
        raise IncorrectAnswer(
            f"{call}: the model's input shape is {model.input_shape}; start it with "
            f"keras.Input(shape=(image_size, image_size, 1)): grey images with one channel."
        )
    if len(model.output_shape) != 2 or model.output_shape[-1] != 2:
        raise IncorrectAnswer(
            f"{call}: the output shape is {model.output_shape}, the wrong number of output units. "
            "The model must predict two numbers per image, (cos 2θ, sin 2θ): end with Dense(2). "
            "(One unit is the plain angle, with its blind spot at 0 / 180 degrees.)"
        )
    output_activation = final_activation(model)
    if output_activation in _BOUNDED_OUTPUTS:
        raise IncorrectAnswer(
            f"{call}: the output layer applies {output_activation}, whose values cannot go below "
            "0 (or sum to 1), but cos 2θ and sin 2θ range over [-1, 1]: leave the last Dense "
            "layer linear (no activation)."
        )
    saturating = _hidden_activations(model) & _SATURATING
    if saturating:
        raise IncorrectAnswer(
            f"{call}: the hidden layers still use {', '.join(sorted(saturating))}. Sections 3 and "
            "4 showed those units saturate and pass almost no gradient down: use activation='relu'."
        )
    loss = compiled_loss(model)
    if loss.name not in _REGRESSION_LOSSES:
        raise IncorrectAnswer(
            f"{call}: the model is compiled with the loss {loss.name!r}; two real numbers are a "
            "regression target: use loss='mean_squared_error' (as the notebook does)."
        )
    x, targets, x_val, y_val = _repair_data()
    error = train_and_score(model, x, targets, x_val, y_val, epochs=REPAIR_EPOCHS, batch_size=REPAIR_BATCH,
                            seed=seed, score=_circular_score, call=call)  # fmt: skip
    steps = REPAIR_EPOCHS * (REPAIR_TRAIN // REPAIR_BATCH)
    if error < REPAIR_THRESHOLD:
        return (
            f"After {steps} steps of batch {REPAIR_BATCH}, circular error {error:.1f} deg on "
            f"{REPAIR_VAL} held-out images (the check asks for less than {REPAIR_THRESHOLD:g})."
        )
    shown = "the loss became NaN" if not np.isfinite(error) else f"circular error {error:.1f} deg"
    message = (
        f"{call}: after {steps} steps of batch {REPAIR_BATCH} on {REPAIR_TRAIN} images, {shown} on "
        f"{REPAIR_VAL} held-out images; the check asks for less than {REPAIR_THRESHOLD:g} (a "
        "constant answer scores about 45)."
    )
    kinds = {type(layer).__name__ for layer in all_layers(model)}
    if not kinds & {"Rescaling", "Normalization", "BatchNormalization", "LayerNormalization"}:
        explanation = (
            "the model feeds raw 0-255 pixels to the first layer, and with ReLU the activations "
            "and gradients are huge. Scale inside the model: keras.layers.Rescaling(-1 / 255, "
            "offset=1) (ink in [0, 1]) right after keras.Input."
        )
    elif optimizer_info(model)[0] == "SGD":
        explanation = (
            "SGD at this learning rate moves the weights too little in this budget (section 4: "
            "Adam helped on every seed): compile with keras.optimizers.Adam(3e-3)."
        )
    else:
        explanation = None
    raise IncorrectAnswer(_with_mistake(message, explanation))


exercise_6 = Exercise(
    6,
    "repair the question's model",
    answer_name="repair_question_model",
    checker=_check_repaired_model,
    hint=(
        "Keep the question's layers, and apply what sections 4 to 6 found: a Rescaling layer "
        "after keras.Input so the network sees ink in [0, 1], activation='relu' in the hidden "
        "layers, a linear Dense(2) output for (cos 2θ, sin 2θ), and compile with "
        "keras.optimizers.Adam(3e-3) and the mean squared error."
    ),
    solution='''def repair_question_model(image_size):
    """The question's model, repaired: compiled, raw 0-255 images in, (cos 2θ, sin 2θ) out."""
    model = keras.Sequential(
        [
            keras.Input(shape=(image_size, image_size, 1)),
            keras.layers.Rescaling(-1 / 255, offset=1.0),  # ink in [0, 1]
            keras.layers.Conv2D(4, 4, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense((image_size // 4) ** 2, activation="relu"),
            keras.layers.Dense(1000, activation="relu"),
            keras.layers.Dense(50, activation="relu"),
            keras.layers.Dense(2),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mean_squared_error")
    return model''',
)
