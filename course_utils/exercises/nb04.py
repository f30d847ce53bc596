"""Checks for notebook 04, label scaling.

Expected values come from :class:`course_utils.scaling.LabelScaler` (unit-tested against
scikit-learn's ``StandardScaler``) and, for the Keras exercises, from running the pieces
separately: the check of exercise 2 records what the learner's code passes to ``fit`` and
compares the returned model's answers with the trained model's own outputs turned back into
units; exercises 2 and 3 also save the model to a ``.keras`` file and load it back.
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
from course_utils.exercises import _keras_checks as kc
from course_utils.scaling import LabelScaler


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


exercise_1 = Exercise(
    1,
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


# --- exercise 2: train on standardised labels, answer in original units --------------------------

_N_TRAIN, _N_HELD_OUT = 192, 96
EPOCHS_2 = 12


def _fit_case():
    """Fixed small data: 8 features per sample, a price-like label, the held-out part dearer.

    The held-out inputs are shifted along the direction that raises the price, so statistics taken
    from all labels or from the held-out labels differ clearly from the training ones.
    """
    rng = np.random.default_rng(41)
    direction = rng.normal(size=8)
    direction /= np.linalg.norm(direction)
    x = rng.normal(size=(_N_TRAIN + _N_HELD_OUT, 8))
    x[_N_TRAIN:] += 0.8 * direction
    signal = x @ direction + 0.3 * np.tanh(x[:, 0] * x[:, 1])
    y = 360_000.0 + 90_000.0 * signal + rng.normal(0, 5_000, size=len(x))
    return x.astype("float32"), y.astype("float32")


def _recording_model(seed: int = 0):
    """A small compiled regressor that remembers what ``fit`` was given (a check's test model)."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input(shape=(8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)], name="regressor"
    )
    calls, fit = [], model.fit

    def recording_fit(x=None, y=None, *args, **kwargs):  # a plain Sequential still, so it saves and loads
        epochs = kwargs.get("epochs", args[1] if len(args) > 1 else 1)
        calls.append((_as_numpy(x), _as_numpy(y), epochs))
        return fit(x, y, *args, **kwargs)

    object.__setattr__(model, "fit", recording_fit)
    object.__setattr__(model, "_fit_calls", calls)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


def _as_numpy(values):
    """An array, a tensor (e.g. a Normalization layer's output) or None as a NumPy array (or None)."""
    import keras

    return None if values is None else np.asarray(keras.ops.convert_to_numpy(values))


def _standardised_with(y, reference):
    return (np.asarray(y, np.float64) - reference.mean()) / reference.std()


def _check_fit_on_standardised(answer) -> str:
    x, y = _fit_case()
    y_train, y_held_out = y[:_N_TRAIN], y[_N_TRAIN:]
    model = _recording_model()
    call = describe_call(answer, (Shown("<model>"), Shown("<x of shape (288, 8)>"), Shown("<y>"), _N_TRAIN, EPOCHS_2), {})
    returned = kc.as_model(call_answer(answer, model, x, y, _N_TRAIN, EPOCHS_2), call)
    if not model._fit_calls:
        raise IncorrectAnswer(f"{call} never called model.fit: train the model it gets on the standardised training labels.")
    fit_x, fit_y, epochs = model._fit_calls[0]
    if fit_x is None or fit_y is None or len(fit_x) != len(fit_y):
        raise IncorrectAnswer(f"{call}: call model.fit(inputs, standardised labels, epochs=epochs) with both arrays.")
    if len(fit_x) == len(x):
        raise IncorrectAnswer(
            f"{call} trained on all {len(x)} samples. Only the first num_train are for training; the "
            "rest are held out, to measure the model on data it never saw."
        )
    if len(fit_x) != _N_TRAIN:
        raise IncorrectAnswer(f"{call} trained on {len(fit_x)} samples; the training split is x[:num_train] ({_N_TRAIN}).")
    fit_y = np.asarray(fit_y, np.float64).reshape(len(fit_y), -1)[:, 0]
    close = ArrayClose(rtol=1e-3, atol=1e-3)
    if not close.same(fit_y, _standardised_with(y_train, y_train)):
        known = [
            (y_train, "the model was trained on the raw labels. Adapt a Normalization(axis=None) layer on "
             "the training labels and train on its output: the standardised labels."),
            (_standardised_with(y_train, y), "the labels were standardised with the statistics of ALL labels, "
             "held-out ones included: the test answers leaked into training. Adapt on y[:num_train] only."),
            (_standardised_with(y_train, y_held_out), "the labels were standardised with the statistics of the "
             "held-out labels; adapt the Normalization on the training labels y[:num_train]."),
            ((y_train - y_train.mean()) / y_train.var(), "the labels were divided by the variance; standardising "
             "divides by the standard deviation (Normalization does that for you)."),
        ]  # fmt: skip
        close.expect(fit_y, _standardised_with(y_train, y_train), call=f"{call}: the labels given to fit",
                     mistakes=known)  # fmt: skip
    if epochs != EPOCHS_2:
        raise IncorrectAnswer(f"{call} trained for {epochs!r} epochs; train for the `epochs` it is given ({EPOCHS_2}).")
    held_out = x[_N_TRAIN:]
    inner = kc.predict(model, held_out).reshape(-1)
    try:
        got = kc.predict(returned, held_out).reshape(-1)
    except Exception as err:
        raise IncorrectAnswer(f"{call}: calling the returned model on held-out inputs raised {type(err).__name__}: {err}") from err
    expected = inner * y_train.std() + y_train.mean()
    answers = ArrayClose(rtol=1e-4, atol=2.0)
    if not answers.same(got, expected):
        answers.expect(
            got, expected, call=f"{call}: the returned model, on held-out inputs,",
            mistakes=[
                (inner, "the returned model still answers in standardised units; put a "
                 "Normalization(axis=None, invert=True), adapted on the training labels, after the model."),
                ((inner - y_train.mean()) / y_train.std(), "the last Normalization standardises again; pass "
                 "invert=True so it computes z * std + mean."),
                (inner * y.std() + y.mean(), "the inverse uses the statistics of all labels; it must undo "
                 "exactly what was done to the training labels."),
                (inner * np.sqrt(y_train.std()) + y_train.mean(), "Normalization's variance= takes the variance "
                 "(the standard deviation squared); you passed the standard deviation."),
            ],
        )  # fmt: skip
    reloaded = _save_and_load(returned, call)
    again = kc.predict(reloaded, held_out).reshape(-1)
    if not answers.same(again, got):
        raise IncorrectAnswer(f"{call}: after save and load the model answers differently: keep every step in Keras layers.")
    mae = kc.mean_absolute_error(y_held_out, got)
    baseline = kc.mean_absolute_error(y_held_out, np.full_like(y_held_out, y_train.mean()))
    if not mae < 0.5 * baseline:  # the reference: about a fifth of the baseline (see the tests)
        raise IncorrectAnswer(
            f"{call}: the held-out MAE is {mae:,.0f}, not below half of always predicting the training mean "
            f"({baseline:,.0f})."
        )
    return f"Held-out MAE {mae:,.0f} in price units (always the training mean: {baseline:,.0f}), also after save and load."


def _save_and_load(model, call):
    """The model saved to a .keras file and loaded back, or IncorrectAnswer saying why it cannot be."""
    import tempfile
    import warnings
    from pathlib import Path

    import keras

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        try:
            with warnings.catch_warnings():  # Keras's own NumPy 2 deprecation notice when saving
                warnings.simplefilter("ignore", DeprecationWarning)
                model.save(path)
                return keras.models.load_model(path)
        except Exception as err:
            lambda_layer = any(type(layer).__name__ == "Lambda" for layer in kc.all_layers(model))
            raise IncorrectAnswer(
                f"{call}: the model could not be saved and loaded back ({type(err).__name__}: {str(err)[:200]})."
                + (f" {kc.LAMBDA_EXPLANATION}" if lambda_layer else "")
            ) from err


exercise_2 = Exercise(
    2,
    "train on standardised labels, answer in original units",
    answer_name="fit_on_standardised_labels",
    checker=_check_fit_on_standardised,
    hint=(
        "keras.layers.Normalization(axis=None) standardises one number per sample; .adapt() "
        "learns its mean and variance from the array you give it, so choose that array with care. "
        "A second Normalization with invert=True, adapted the same way, undoes the first one."
    ),
    solution='''def fit_on_standardised_labels(model, x, y, num_train, epochs):
    """Train `model` on standardised training labels; return it answering in original units."""
    x_train, y_train = x[:num_train], y[:num_train]
    normalizer = keras.layers.Normalization(axis=None)
    normalizer.adapt(y_train)
    model.fit(x_train, normalizer(y_train), epochs=epochs, batch_size=32, verbose=0)
    inverse = keras.layers.Normalization(axis=None, invert=True)
    inverse.adapt(y_train)
    return keras.Sequential([model, inverse])''',
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
    if type(model).__name__ == "Unsendable":  # could not cross into the grader: say why
        kc.as_model(model, call)
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
        reloaded = _save_and_load(model, call)
        if not comparison.same(run(reloaded, pixels), got):
            raise IncorrectAnswer(f"{call}: after save and load the model answers differently.")
        return "Pixels in, original units out, also after save and load: nothing is left for the caller to forget."
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


exercise_3 = Exercise(
    3,
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
