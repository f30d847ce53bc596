"""Checks for notebook 04, label scaling.

Expected values come from :class:`course_utils.scaling.LabelScaler` (unit-tested against
scikit-learn's ``StandardScaler``) and, for the deployable model, from running the pieces
separately.
"""

from __future__ import annotations

import numpy as np

from course_utils.checks import (
    Exercise,
    IncorrectAnswer,
    as_number_array,
    call_answer,
    describe_call,
    expect_close,
)
from course_utils.scaling import LabelScaler


def _check_standardise(answer) -> str:
    rng = np.random.default_rng(4)
    y_train = rng.uniform(150_000, 700_000, size=40)
    for y in (y_train, rng.uniform(100_000, 900_000, size=15), np.array([y_train.mean()])):
        call = describe_call(answer, (y_train, y), {})
        got = as_number_array(call_answer(answer, y_train.copy(), y.copy()), call)
        expected = LabelScaler().fit(y_train).transform(y).astype(np.float64)
        if got.shape != expected.shape:
            raise IncorrectAnswer(f"{call} returned shape {got.shape}, expected {expected.shape}.")
        if np.allclose(got, expected, rtol=1e-5, atol=1e-5):
            continue
        if y.size > 1 and np.allclose(got, (y - y.mean()) / y.std(), atol=1e-5):
            raise IncorrectAnswer(
                f"{call} used the mean and standard deviation of `y` itself. Take them from "
                "`y_train` only: the test labels must not shape the scaling (that is leakage)."
            )
        if np.allclose(got, (y - y_train.mean()) / y_train.std(ddof=1), rtol=1e-5):
            raise IncorrectAnswer(
                f"{call} divided by the sample standard deviation (ddof=1). Use np.std's "
                "default (ddof=0), as scikit-learn's StandardScaler and the course's "
                "LabelScaler do."
            )
        raise IncorrectAnswer(
            f"{call} returned {np.round(got[:3], 4)}..., expected {np.round(expected[:3], 4)}...: "
            "(y - mean of y_train) / standard deviation of y_train."
        )
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


def _check_unstandardise(answer) -> str:
    rng = np.random.default_rng(5)
    for mean, std in ((370_000.0, 110_000.0), (15.0, 8.5), (-2.0, 0.25)):
        z = rng.normal(size=12)
        call = describe_call(answer, (z, mean, std), {})
        got = as_number_array(call_answer(answer, z.copy(), mean, std), call)
        expected = z * std + mean
        if got.shape == expected.shape and np.allclose(got, expected, rtol=1e-9):
            continue
        if got.shape == expected.shape and np.allclose(got, (z - mean) / std):
            raise IncorrectAnswer(
                f"{call} applied the forward transform again. The inverse undoes it in "
                "reverse order: multiply by std first, then add the mean."
            )
        if got.shape == expected.shape and np.allclose(got, (z + mean) * std):
            raise IncorrectAnswer(
                f"{call} added the mean before multiplying. Undo the steps in reverse order: "
                "z * std + mean."
            )
        raise IncorrectAnswer(
            f"{call} returned {np.round(got.ravel()[:3], 3)}..., expected {np.round(expected[:3], 3)}...: "
            "z * std + mean, one value per entry of z."
        )
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


def _check_mae_in_units(answer) -> str:
    rng = np.random.default_rng(6)
    y_train = rng.uniform(150_000, 700_000, size=60)
    scaler = LabelScaler().fit(y_train)
    y_true = rng.uniform(150_000, 700_000, size=25)
    predictions_scaled = scaler.transform(y_true + rng.normal(0, 20_000, size=25))[:, None]
    call = describe_call(answer, (y_true, predictions_scaled, scaler), {})
    got = call_answer(answer, y_true.copy(), predictions_scaled.copy(), scaler)
    predicted = scaler.inverse_transform(predictions_scaled)[:, 0]
    expected = float(np.abs(predicted - y_true).mean())
    scaled_mae = float(np.abs(predictions_scaled[:, 0] - scaler.transform(y_true)).mean())
    broadcast = float(np.abs(predicted[:, None] - y_true[None, :]).mean())
    expect_close(
        got,
        expected,
        call=call,
        rel_tol=1e-4,
        mistakes={
            scaled_mae: "that is the MAE in standardised units; turn the predictions back into "
            "original units (scaler.inverse_transform) before comparing.",
            scaled_mae * scaler.scale_ + scaler.mean_: "an error is a difference: multiply a "
            "scaled error by the standard deviation, but never add the mean to it.",
            broadcast: "the predictions have shape (N, 1) and the labels (N,): subtracting "
            "them broadcasts to an (N, N) matrix. Flatten the predictions first ([:, 0]).",
        },
    )
    return f"MAE {expected:,.0f} in the labels' own units."


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


def _check_deployable(answer) -> str:
    import keras

    mean, variance = 250_000.0, 80_000.0**2
    inputs = keras.Input(shape=(4, 4, 3))
    core = keras.Model(
        inputs,
        keras.layers.Dense(1, kernel_initializer="ones")(
            keras.layers.GlobalAveragePooling2D()(inputs)
        ),
        name="core",
    )
    call = describe_call(answer, ("<core model>", mean, variance), {})
    model = call_answer(answer, core, mean, variance)
    if not isinstance(model, keras.Model):
        raise IncorrectAnswer(f"{call} returned {type(model).__name__}, not a keras.Model.")
    def run(network, images):  # eager calls: no tf.function tracing, no retracing warnings
        return np.asarray(keras.ops.convert_to_numpy(network(images)), dtype=np.float64).reshape(-1)

    pixels = np.random.default_rng(7).integers(0, 256, size=(5, 4, 4, 3)).astype("float32")
    core_on_unit = run(core, pixels / 255.0)
    expected = core_on_unit * np.sqrt(variance) + mean
    try:
        got = run(model, pixels)
    except Exception as err:
        raise IncorrectAnswer(
            f"{call}: calling the model on a batch of 4x4x3 images raised "
            f"{type(err).__name__}: {err}"
        ) from err
    if got.shape != expected.shape:
        raise IncorrectAnswer(f"{call}: the model outputs {got.shape[0]} values for 5 images.")
    if np.allclose(got, run(core, pixels) * np.sqrt(variance) + mean, rtol=1e-4):
        raise IncorrectAnswer(
            f"{call}: the model feeds raw 0-255 pixels to the core model, which was trained on "
            "0-1 inputs. Put keras.layers.Rescaling(1 / 255) in front of it."
        )
    if np.allclose(got, expected, rtol=1e-4):
        return "Pixels in, original units out: nothing is left for the caller to forget."
    if np.allclose(got, core_on_unit, rtol=1e-4):
        raise IncorrectAnswer(
            f"{call}: the outputs are still standardised. End with "
            "keras.layers.Normalization(mean=mean, variance=variance, invert=True)."
        )
    if np.allclose(got, (core_on_unit - mean) / np.sqrt(variance), rtol=1e-4):
        raise IncorrectAnswer(
            f"{call}: the Normalization layer standardises again instead of undoing it; pass "
            "invert=True so it computes z * std + mean."
        )
    raise IncorrectAnswer(
        f"{call} predicted {np.round(got[:3])}..., expected {np.round(expected[:3])}...: "
        "Rescaling(1 / 255), the core model, then Normalization(..., invert=True)."
    )


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
