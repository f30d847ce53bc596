"""Checks for notebook 04, label scaling.

Expected values come from :class:`course_utils.scaling.LabelScaler` (unit-tested against
scikit-learn's ``StandardScaler``) and, for the deployable model, from running the pieces
separately.
"""

from __future__ import annotations

import numpy as np

from course_utils.checks import (
    ArrayClose,
    Close,
    Exercise,
    IncorrectAnswer,
    Shown,
    call_answer,
    describe_call,
)
from course_utils.exercises._standardise import standardise_mistakes
from course_utils.scaling import LabelScaler


_STANDARDISE_MISTAKES = standardise_mistakes(
    target="y", train="y_train", train_first=True,
    ddof_users="scikit-learn's StandardScaler and the course's LabelScaler"
)


def _check_standardise(answer) -> str:
    rng = np.random.default_rng(4)
    y_train = rng.uniform(150_000, 700_000, size=40)
    prices = rng.integers(100_000, 900_000, size=(2, 6))  # whole-number prices, as ints
    inputs = [
        (y_train, rng.uniform(100_000, 900_000, size=15)),
        (y_train, y_train.copy()),
        (y_train, np.array([y_train.mean()])),
        (prices[0], prices[1]),
    ]
    ArrayClose(rtol=1e-5, atol=1e-5).check(
        answer, inputs, lambda y_train, y: LabelScaler().fit(y_train).transform(y).astype(np.float64),
        mistakes=_STANDARDISE_MISTAKES,
        note="Expected (y - mean of y_train) / standard deviation of y_train.",
    )  # fmt: skip
    return "Training statistics only, applied to any labels."


exercise_1 = Exercise(
    1,
    "standardise with training statistics",
    answer_name="standardise",
    checker=_check_standardise,
    hint="Compute mean = y_train.mean() and std = y_train.std(), then return (y - mean) / std.",
    solution='''def standardise(y_train, y):
    """Standardise labels y with the mean and standard deviation of the training labels."""
    mean, std = y_train.mean(), y_train.std()
    return (y - mean) / std''',
)


_UNSTANDARDISE_MISTAKES = [
    (lambda z, mean, std: (z - mean) / std,
     "you applied the forward transform again. The inverse undoes it in reverse order: "
     "multiply by std first, then add the mean."),
    (lambda z, mean, std: (z + mean) * std,
     "you added the mean before multiplying. Undo the steps in reverse order: z * std + mean."),
    (lambda z, mean, std: z * std, "you left out the mean: z * std + mean."),
    (lambda z, mean, std: z + mean, "you left out the standard deviation: z * std + mean."),
    (lambda z, mean, std: z * std**2 + mean,
     "std is already the standard deviation; multiply by it, not by its square (the variance)."),
    (lambda z, mean, std: z / std + mean, "multiply by std, do not divide: standardising divided by it."),
    (lambda z, mean, std: z * std - mean, "add the mean back; standardising subtracted it."),
    (lambda z, mean, std: z * mean + std, "mean and std are the other way round: z * std + mean."),
    (lambda z, mean, std: (z - mean) * std,
     "undo the standardising: it subtracted the mean and divided by std, so multiply by std and ADD the mean."),
    (lambda z, mean, std: np.round(np.asarray(z) * std + mean), "do not round: the labels are real numbers."),
]


def _check_unstandardise(answer) -> str:
    rng = np.random.default_rng(5)
    inputs = [(rng.normal(size=12), mean, std) for mean, std in ((370_000.0, 110_000.0), (15.0, 8.5), (-2.0, 0.25))]
    inputs.append((0.5, 40.0, 4.0))  # one value on its own
    ArrayClose(rtol=1e-9, atol=1e-9).check(
        answer, inputs, lambda z, mean, std: np.asarray(z) * std + mean, mistakes=_UNSTANDARDISE_MISTAKES,
        note="Expected z * std + mean, one value per entry of z.",
    )  # fmt: skip
    return "z * std + mean turns the model's answers back into original units."


exercise_2 = Exercise(
    2,
    "back to original units",
    answer_name="unstandardise",
    checker=_check_unstandardise,
    hint="Standardising did (y - mean) / std. Solve that for y.",
    solution='''def unstandardise(z, mean, std):
    """Turn standardised values back into original units."""
    return z * std + mean''',
)


def _mae_case(seed):
    rng = np.random.default_rng(seed)
    y_train = rng.uniform(150_000, 700_000, size=60)
    scaler = LabelScaler().fit(y_train)
    y_true = rng.uniform(150_000, 700_000, size=25)
    predictions_scaled = scaler.transform(y_true + rng.normal(0, 20_000, size=25))[:, None]
    return y_true, predictions_scaled, scaler


def _mae(y_true, predictions_scaled, scaler):
    return float(np.abs(scaler.inverse_transform(predictions_scaled)[:, 0] - y_true).mean())


_MAE_MISTAKES = [
    (lambda y, p, scaler: np.abs(p[:, 0] - scaler.transform(y)).mean(),
     "that is the MAE in standardised units; turn the predictions back into original units "
     "(scaler.inverse_transform) before comparing."),
    (lambda y, p, scaler: np.abs(p[:, 0] - scaler.transform(y)).mean() * scaler.scale_ + scaler.mean_,
     "an error is a difference: multiply a scaled error by the standard deviation, but never add the mean to it."),
    (lambda y, p, scaler: np.abs(scaler.inverse_transform(p) - y).mean(),
     "the predictions have shape (N, 1) and the labels (N,): subtracting them broadcasts to "
     "an (N, N) matrix. Flatten the predictions first ([:, 0])."),
    (lambda y, p, scaler: np.sqrt(((scaler.inverse_transform(p)[:, 0] - y) ** 2).mean()),
     "that is the root mean squared error; the MAE averages the absolute errors."),
    (lambda y, p, scaler: ((scaler.inverse_transform(p)[:, 0] - y) ** 2).mean(),
     "that is the mean squared error; the MAE averages the absolute errors."),
    (lambda y, p, scaler: np.abs(scaler.inverse_transform(p)[:, 0] - y).sum(),
     "you summed the absolute errors; the MAE is their mean."),
    (lambda y, p, scaler: np.median(np.abs(scaler.inverse_transform(p)[:, 0] - y)),
     "that is the median absolute error; the MAE is the mean."),
    (lambda y, p, scaler: (scaler.inverse_transform(p)[:, 0] - y).mean(),
     "you averaged the signed errors, so over- and under-predictions cancel; take np.abs first."),
    (lambda y, p, scaler: np.abs(scaler.transform(p)[:, 0] - y).mean(),
     "scaler.transform standardises; the predictions are standardised already and need "
     "scaler.inverse_transform."),
    (lambda y, p, scaler: np.abs(scaler.inverse_transform(p)[:, 0] - scaler.inverse_transform(y)).mean(),
     "y_true is in original units already; only the predictions need inverse_transform."),
]  # fmt: skip


def _check_mae_in_units(answer) -> str:
    inputs = [_mae_case(6), _mae_case(16)]
    Close(rel_tol=1e-4).check(answer, inputs, _mae, mistakes=_MAE_MISTAKES)
    return f"MAE {_mae(*inputs[0]):,.0f} in the labels' own units."


exercise_3 = Exercise(
    3,
    "MAE in original units",
    answer_name="mae_in_original_units",
    checker=_check_mae_in_units,
    hint=(
        "scaler.inverse_transform(predictions_scaled) gives predictions in original units, "
        "shaped (N, 1) like the model's output; flatten with [:, 0], subtract y_true, and "
        "average the absolute values."
    ),
    solution='''def mae_in_original_units(y_true, predictions_scaled, scaler):
    """MAE of standardised model outputs, measured in the labels' original units."""
    predictions = scaler.inverse_transform(predictions_scaled)[:, 0]
    return np.abs(predictions - y_true).mean()''',
)


def _test_core():
    """A small trained-looking core: biases and a nonlinearity, so the order of steps shows.

    With a linear core without bias, core(x / 255) = core(x) / 255 and rescaling after the
    core would pass; here every wrong order gives its own numbers. ReLU rather than tanh: a
    saturating unit would give raw pixels and pixels times 255 the same output.
    """
    import keras

    inputs = keras.Input(shape=(4, 4, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    hidden = keras.layers.Dense(3, activation="relu", name="hidden")(pooled)
    output = keras.layers.Dense(1, name="output")(hidden)
    core = keras.Model(inputs, output, name="core")
    core.get_layer("hidden").set_weights(
        [np.array([[1.5, -2.0, 0.7], [-0.8, 1.1, 2.2], [0.4, 0.9, -1.3]], "float32"),
         np.array([0.3, -0.2, 0.1], "float32")]
    )  # fmt: skip
    core.get_layer("output").set_weights([np.array([[1.2], [-0.7], [0.9]], "float32"), np.array([0.25], "float32")])
    return core


def _check_deployable(answer) -> str:
    import keras

    mean, variance = 250_000.0, 80_000.0**2
    std = np.sqrt(variance)
    core = _test_core()
    call = describe_call(answer, (Shown("<core model>"), mean, variance), {})
    model = call_answer(answer, core, mean, variance)
    if not isinstance(model, keras.Model):
        raise IncorrectAnswer(
            f"{call} returned {type(model).__name__}, not a keras.Model."
            + (" Did the function end without `return`?" if model is None else "")
        )

    def run(network, images):  # eager calls: no tf.function tracing, no retracing warnings
        return np.asarray(keras.ops.convert_to_numpy(network(images)), dtype=np.float64).reshape(-1)

    pixels = np.random.default_rng(7).integers(0, 256, size=(5, 4, 4, 3)).astype("float32")
    core_on_unit = run(core, pixels / 255.0)
    expected = core_on_unit * std + mean
    try:
        got = run(model, pixels)
    except Exception as err:
        raise IncorrectAnswer(
            f"{call}: calling the model on a batch of 4x4x3 images raised "
            f"{type(err).__name__}: {err}"
        ) from err
    if got.shape != expected.shape:
        raise IncorrectAnswer(f"{call}: the model outputs {got.shape[0]} values for 5 images.")
    comparison = ArrayClose(rtol=1e-4, atol=1e-3)
    if comparison.same(got, expected):
        return "Pixels in, original units out: nothing is left for the caller to forget."
    mistakes = [
        (run(core, pixels) * std + mean,
         "the model feeds raw 0-255 pixels to the core model, which was trained on 0-1 inputs. "
         "Put keras.layers.Rescaling(1 / 255) in front of it."),
        (run(core, pixels) / 255.0 * std + mean,
         "the Rescaling layer comes after the core model, so the core sees raw 0-255 pixels. "
         "Rescale first: Rescaling(1 / 255), then the core, then the inverse Normalization."),
        (core_on_unit,
         "the outputs are still standardised. End with "
         "keras.layers.Normalization(mean=mean, variance=variance, invert=True)."),
        ((core_on_unit - mean) / std,
         "the Normalization layer standardises again instead of undoing it; pass invert=True "
         "so it computes z * std + mean."),
        (core_on_unit * np.sqrt(std) + mean,
         "Normalization's variance= takes the variance (std squared); you passed the standard deviation."),
        (run(core, pixels / 127.5 - 1.0) * std + mean,
         "the core was trained on pixels in [0, 1]: Rescaling(1 / 255), without an offset."),
        (run(core, pixels),
         "you returned the core model as it is; wrap it: Rescaling(1 / 255) before it and the "
         "inverse Normalization after it."),
        (run(core, pixels / 256.0) * std + mean, "Rescaling(1 / 255): pixel 255 must become exactly 1."),
        (run(core, pixels * 255.0) * std + mean, "Rescaling multiplies by its scale: Rescaling(1 / 255), not Rescaling(255)."),
        (core_on_unit * variance + mean,
         "the inverse multiplies by the standard deviation, sqrt(variance), not by the variance."),
    ]  # fmt: skip
    comparison.expect(
        got, expected, call=f"{call}, called on 5 images,", mistakes=mistakes,
        note="Expected Rescaling(1 / 255), the core model, then Normalization(..., invert=True).",
    )  # fmt: skip


exercise_4 = Exercise(
    4,
    "a model that takes raw pixels and returns original units",
    answer_name="build_deployable_model",
    checker=_check_deployable,
    hint=(
        "keras.Sequential([keras.Input(shape=core.input_shape[1:]), "
        "keras.layers.Rescaling(1 / 255), core, keras.layers.Normalization(mean=mean, "
        "variance=variance, invert=True)])."
    ),
    solution='''def build_deployable_model(core, mean, variance):
    """Wrap a model trained on 0-1 images and standardised labels: raw pixels in, units out."""
    return keras.Sequential(
        [
            keras.Input(shape=core.input_shape[1:]),
            keras.layers.Rescaling(1 / 255),
            core,
            keras.layers.Normalization(mean=mean, variance=variance, invert=True),
        ]
    )''',
)
