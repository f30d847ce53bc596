"""The shared building blocks of Keras exercise checks (course_utils.exercises._keras_checks)."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from course_utils.checks import IncorrectAnswer  # noqa: E402
from course_utils.exercises import _keras_checks as kc  # noqa: E402


def _dense_model(*layers, inputs=(4,)):
    return keras.Sequential([keras.Input(shape=inputs), *layers])


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: _dense_model(keras.layers.Dense(3, activation="softmax")), "softmax"),
        (lambda: _dense_model(keras.layers.Dense(3, activation=tf.nn.softmax)), "softmax"),
        (lambda: _dense_model(keras.layers.Dense(3, activation=keras.activations.softmax)), "softmax"),
        (lambda: _dense_model(keras.layers.Dense(3), keras.layers.Softmax()), "softmax"),
        (lambda: _dense_model(keras.layers.Dense(3), keras.layers.Activation("sigmoid")), "sigmoid"),
        (lambda: _dense_model(keras.layers.Dense(3, activation="sigmoid"), keras.layers.Dropout(0.1)), "sigmoid"),
        (lambda: _dense_model(keras.layers.Dense(1, activation="sigmoid"), keras.layers.Rescaling(100.0)), "sigmoid"),
        (lambda: _dense_model(keras.layers.Dense(1)), "linear"),
        (lambda: _dense_model(keras.layers.Dense(1, activation="relu")), "relu"),
        (lambda: _dense_model(keras.layers.Dense(1, activation=None)), "linear"),
        (lambda: _dense_model(_dense_model(keras.layers.Dense(2, activation="softmax"))), "softmax"),
    ],
)
def test_final_activation_is_found_whatever_the_spelling(make, expected):
    assert kc.final_activation(make()) == expected


def test_final_activation_of_a_functional_model_with_named_outputs():
    inputs = keras.Input(shape=(4,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = {
        "kind": keras.layers.Softmax(name="kind")(keras.layers.Dense(3)(hidden)),
        "size": keras.layers.Dense(1, name="size")(hidden),
    }
    model = keras.Model(inputs, outputs)
    assert kc.final_activation(model, "kind") == "softmax"
    assert kc.final_activation(model, "size") == "linear"
    with pytest.raises(ValueError, match="no output named"):
        kc.final_activation(model, "colour")


@pytest.mark.parametrize(
    "loss, name, from_logits",
    [
        ("mse", "mean_squared_error", False),
        ("mae", "mean_absolute_error", False),
        ("huber", "huber", False),
        ("sparse_categorical_crossentropy", "sparse_categorical_crossentropy", False),
        (keras.losses.SparseCategoricalCrossentropy(from_logits=True), "sparse_categorical_crossentropy", True),
        (keras.losses.CategoricalCrossentropy(), "categorical_crossentropy", False),
        (keras.losses.BinaryCrossentropy(from_logits=True), "binary_crossentropy", True),
        (keras.losses.Huber(delta=2.0), "huber", False),
        (keras.losses.MeanSquaredError(), "mean_squared_error", False),
        (keras.losses.mean_absolute_error, "mean_absolute_error", False),
        (keras.losses.sparse_categorical_crossentropy, "sparse_categorical_crossentropy", False),
    ],
)
def test_compiled_loss_reads_strings_objects_and_functions(loss, name, from_logits):
    model = _dense_model(keras.layers.Dense(3))
    model.compile(optimizer="adam", loss=loss)
    info = kc.compiled_loss(model)
    assert (info.name, info.from_logits) == (name, from_logits)


def test_compiled_loss_of_an_uncompiled_model_tells_the_learner_to_compile():
    with pytest.raises(IncorrectAnswer, match="not compiled"):
        kc.compiled_loss(_dense_model(keras.layers.Dense(1)))
    with pytest.raises(IncorrectAnswer, match="not compiled"):
        kc.optimizer_info(_dense_model(keras.layers.Dense(1)))


def test_compiled_loss_per_output_name():
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, {"a": keras.layers.Dense(2, name="a")(inputs), "b": keras.layers.Dense(1, name="b")(inputs)})
    model.compile(optimizer="adam", loss={"a": "sparse_categorical_crossentropy", "b": "mae"})
    losses = kc.compiled_loss(model)
    assert {k: v.name for k, v in losses.items()} == {"a": "sparse_categorical_crossentropy", "b": "mean_absolute_error"}


@pytest.mark.parametrize(
    "optimizer, name, rate",
    [
        ("adam", "Adam", 1e-3),
        (keras.optimizers.SGD(learning_rate=0.05), "SGD", 0.05),
        (keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.5)), "Adam", 0.01),
    ],
)
def test_optimizer_info_gives_class_and_learning_rate(optimizer, name, rate):
    model = _dense_model(keras.layers.Dense(1))
    model.compile(optimizer=optimizer, loss="mse")
    got_name, got_rate = kc.optimizer_info(model)
    assert got_name == name and got_rate == pytest.approx(rate, rel=1e-6)


def test_parameter_counts_split_trainable_and_frozen():
    inner = _dense_model(keras.layers.Dense(3), keras.layers.BatchNormalization())
    model = _dense_model(inner, keras.layers.Dense(2))
    assert kc.parameter_counts(model) == (4 * 3 + 3 + 2 * 3 + 3 * 2 + 2, 2 * 3)
    inner.trainable = False
    assert kc.parameter_counts(model) == (3 * 2 + 2, 4 * 3 + 3 + 4 * 3)


@pytest.mark.parametrize(
    "metrics, expected",
    [
        (["accuracy"], {"accuracy"}),
        ([keras.metrics.SparseCategoricalAccuracy()], {"accuracy"}),
        (["mae", keras.metrics.RootMeanSquaredError()], {"mean_absolute_error", "root_mean_squared_error"}),
        ([keras.metrics.MeanAbsoluteError()], {"mean_absolute_error"}),
        (["binary_accuracy"], {"binary_accuracy"}),
        (None, set()),
    ],
)
def test_metric_names_are_canonical(metrics, expected):
    model = _dense_model(keras.layers.Dense(3))
    model.compile(optimizer="adam", loss="mse", metrics=metrics)
    assert kc.metric_names(model) == expected


def test_trainable_changed_since_compile_sees_a_freeze_without_recompiling():
    model = _dense_model(keras.layers.Dense(3, name="a"), keras.layers.Dense(1, name="b"))
    model.compile(optimizer="adam", loss="mse")
    assert not kc.trainable_changed_since_compile(model)
    model.get_layer("a").trainable = False
    assert kc.trainable_changed_since_compile(model)
    model.compile(optimizer="adam", loss="mse")
    assert not kc.trainable_changed_since_compile(model)


def test_train_and_score_is_repeatable_and_learns():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype(int)

    def score(seed):
        keras.utils.set_random_seed(1)
        model = _dense_model(keras.layers.Dense(2, activation="softmax"))
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
        return kc.train_and_score(model, x[:150], y[:150], x[150:], y[150:], epochs=5, seed=seed)

    first = score(3)
    assert first == score(3) and first > 0.85


def test_train_and_score_reports_a_model_that_cannot_train_as_incorrect():
    model = _dense_model(keras.layers.Dense(1))
    model.compile(optimizer="adam", loss="mse")
    x = np.zeros((8, 5), "float32")  # the model wants 4 features
    with pytest.raises(IncorrectAnswer, match="training build"):
        kc.train_and_score(model, x, np.zeros(8), x, np.zeros(8), epochs=1, call="build()")
    with pytest.raises(ValueError, match="epochs"):
        kc.train_and_score(model, x, np.zeros(8), x, np.zeros(8), epochs=0)
    with pytest.raises(ValueError, match="score"):
        kc.train_and_score(model, x, np.zeros(8), x, np.zeros(8), epochs=1, score="f1")


def test_as_model_names_what_came_back():
    with pytest.raises(IncorrectAnswer, match="without `return model`"):
        kc.as_model(None, "build()")
    with pytest.raises(IncorrectAnswer, match="Wrap the layers"):
        kc.as_model(keras.layers.Dense(1), "build()")
    model = _dense_model(keras.layers.Dense(1))
    assert kc.as_model(model, "build()") is model


def test_all_layers_includes_nested_models():
    inner = _dense_model(keras.layers.Dense(3, name="inner_dense"))
    model = _dense_model(inner, keras.layers.Dense(1, name="outer_dense"))
    assert [layer.name for layer in kc.all_layers(model)] == [inner.name, "inner_dense", "outer_dense"]


def test_accuracy_and_mae_accept_integer_and_one_hot_labels():
    probabilities = np.array([[0.1, 0.9], [0.8, 0.2]])
    assert kc.accuracy(np.array([1, 1]), probabilities) == 0.5
    assert kc.accuracy(np.eye(2)[[1, 0]], probabilities) == 1.0
    assert kc.mean_absolute_error(np.array([1.0, 2.0]), np.array([[1.5], [2.0]])) == 0.25
