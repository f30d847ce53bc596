"""Tests of course_utils.training: a restarted model trains exactly like a fresh start."""

import numpy as np
import pytest

from course_utils.training import build_training_state, initial_weights, reseed_random_layers, restart

keras = pytest.importorskip("keras")


def _build():
    return keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1)])


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def test_initial_weights_are_reproducible_per_seed_and_differ_between_seeds():
    first, again = initial_weights(_build, (0, 1)), initial_weights(_build, [0, 1])
    assert list(first) == [0, 1]
    for a, b in zip(first[0], again[0], strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0][0], first[1][0])


def test_a_restarted_model_repeats_its_training_exactly_and_resets_the_optimiser():
    x, y = _data()
    starts = initial_weights(_build, (0,))
    model = _build()
    schedule = keras.optimizers.schedules.CosineDecay(0.01, 8)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    trained = []
    for _ in range(2):
        restart(model, starts[0])
        assert int(model.optimizer.iterations.numpy()) == 0  # the schedule starts again
        keras.utils.set_random_seed(0)
        model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        trained.append(model.get_weights())
    for a, b in zip(*trained, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not np.allclose(trained[0][0], starts[0][0])  # it did train


def test_restart_keeps_a_constant_learning_rate():
    model = _build()
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    model.fit(*_data(), epochs=1, verbose=0)
    restart(model, model.get_weights())
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.05)


def _random_build():
    augment = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomTranslation(0.3, 0.3)])
    return keras.Sequential(
        [keras.Input(shape=(6, 6, 1)), augment, keras.layers.Flatten(), keras.layers.Dropout(0.5), keras.layers.Dense(1)]
    )


def _random_run(model, start, seed):
    """Draws of the random layers, then a short training run; (draws, trained weights)."""
    restart(model, start, seed=seed)
    x = np.arange(8 * 36, dtype="float32").reshape(8, 6, 6, 1)
    draws = [keras.ops.convert_to_numpy(model.layers[0](x, training=True)) for _ in range(2)]
    dropped = keras.ops.convert_to_numpy(model.layers[2](np.ones((8, 36), "float32"), training=True))
    keras.utils.set_random_seed(seed)
    model.fit(x, x.sum(axis=(1, 2)), epochs=2, batch_size=4, verbose=0)
    return [*draws, dropped], model.get_weights()


def test_set_random_seed_alone_does_not_repeat_the_draws_of_random_layers():
    model = _random_build()
    x = np.ones((4, 6, 6, 1), "float32") * np.arange(6, dtype="float32")[:, None]
    keras.utils.set_random_seed(0)
    first = keras.ops.convert_to_numpy(model.layers[0](x, training=True))
    keras.utils.set_random_seed(0)
    second = keras.ops.convert_to_numpy(model.layers[0](x, training=True))
    assert not np.array_equal(first, second)  # the layer's own generator moved on


def test_restart_with_a_seed_repeats_augmentation_and_dropout_draw_for_draw():
    model = _random_build()
    model.compile(optimizer="adam", loss="mse")
    start = model.get_weights()
    draws_a, weights_a = _random_run(model, start, seed=3)
    draws_b, weights_b = _random_run(model, start, seed=3)  # the same seed after another run
    draws_c, _ = _random_run(model, start, seed=4)
    for a, b in zip(draws_a + weights_a, draws_b + weights_b, strict=True):
        np.testing.assert_array_equal(a, b)
    assert all(not np.array_equal(a, c) for a, c in zip(draws_a, draws_c, strict=True))
    assert not np.array_equal(draws_a[0], draws_a[1])  # draws still differ from call to call


def test_reseed_sets_every_generator_of_nested_layers_and_refuses_bad_input():
    model = _random_build()
    assert reseed_random_layers(model, 7) == 3  # flip, translation, dropout
    states = [keras.ops.convert_to_numpy(v) for v in model.variables if v.name == "seed_generator_state"]
    assert len({int(s[0]) for s in states}) == 3 and all(int(s[1]) == 0 for s in states)
    assert reseed_random_layers(_build(), 7) == 0
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        reseed_random_layers("model", 0)
    with pytest.raises(ValueError, match="seed must be at least 0"):
        reseed_random_layers(model, -1)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(TypeError, match="seed must be a whole number"):
        restart(model, model.get_weights(), seed=0.5)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: initial_weights("model", (0,)), TypeError, "build must be a function"),
        (lambda: initial_weights(_build, "012"), TypeError, "seeds must be a list"),
        (lambda: initial_weights(_build, 3), TypeError, "seeds must be a list"),
        (lambda: initial_weights(_build, ()), ValueError, "seeds is empty"),
        (lambda: initial_weights(_build, (0, -1)), ValueError, "each seed must be at least 0"),
        (lambda: initial_weights(_build, (0.5,)), TypeError, "each seed must be a whole number"),
        (lambda: initial_weights(lambda: None, (0,)), TypeError, "must return a Keras model"),
        (lambda: restart("model", []), TypeError, "model must be a keras.Model"),
        (lambda: restart(_build(), _build().get_weights()), ValueError, "not compiled"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_restart_refuses_weights_of_another_model():
    model = _build()
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(TypeError, match="the list that model.get_weights"):
        restart(model, np.zeros(3))
    other = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="do not fit this model"):
        restart(model, other.get_weights())


def _count_train_traces(model, x, y):
    """How many times fit traced the one-step training function."""
    from tensorflow.python.eager.polymorphic_function import tracing_compilation

    names, original = [], tracing_compilation._create_concrete_function

    def recording(*args, **kwargs):
        function = original(*args, **kwargs)
        names.append(str(function.name))
        return function

    tracing_compilation._create_concrete_function = recording
    try:
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    finally:
        tracing_compilation._create_concrete_function = original
    return sum("one_step_on_data" in name for name in names)


def _two_headed(seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(4,))
    hidden = keras.layers.BatchNormalization()(keras.layers.Dense(3, activation="relu")(inputs))
    model = keras.Model(inputs, {"sum": keras.layers.Dense(1, name="sum")(hidden),
                                 "sign": keras.layers.Dense(2, activation="softmax", name="sign")(hidden)})
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss={"sum": "mse", "sign": "sparse_categorical_crossentropy"},
                  metrics={"sum": ["mae"], "sign": ["accuracy"]})
    return model


def test_build_training_state_leaves_fit_one_trace_and_changes_no_number():
    x, y = _data()
    targets = {"sum": y, "sign": (y[:, 0] > 0).astype("int64")}
    fresh, prepared = _two_headed(0), _two_headed(0)
    before = prepared.get_weights()
    build_training_state(prepared, x, targets)
    for a, b in zip(before, prepared.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # nothing learned, batch-norm statistics included
    assert int(prepared.optimizer.iterations.numpy()) == 0
    totals = [keras.ops.convert_to_numpy(v) for m in prepared.metrics for v in m.variables]
    assert totals and all(np.all(t == 0) for t in totals)  # the metrics start from nothing
    keras.utils.set_random_seed(1)
    assert _count_train_traces(fresh, x, targets) == 2  # TensorFlow's trace to create variables, then the real one
    keras.utils.set_random_seed(1)
    assert _count_train_traces(prepared, x, targets) == 1
    for a, b in zip(fresh.get_weights(), prepared.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fresh.get_metrics_result()["sign_accuracy"], prepared.get_metrics_result()["sign_accuracy"])


def test_restart_builds_the_optimiser_so_a_model_without_metrics_traces_once():
    x, y = _data()
    model = _build()
    model.compile(optimizer="adam", loss="mse")
    restart(model, model.get_weights())
    assert model.optimizer.built and _count_train_traces(model, x, y) == 1


def test_build_training_state_builds_a_model_that_its_first_call_builds_and_takes_lists():
    x, y = _data()
    unbuilt = keras.Sequential([keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1)])  # no Input
    unbuilt.compile(optimizer="adam", loss="mse", metrics=["mae"])
    build_training_state(unbuilt, x, y)
    assert _count_train_traces(unbuilt, x, y) == 1  # and the optimiser knows every weight
    inputs = keras.Input(shape=(4,))
    listed = keras.Model(inputs, [keras.layers.Dense(1)(inputs), keras.layers.Dense(1)(inputs)])
    listed.compile(optimizer="adam", loss=["mse", "mae"], metrics=[["mae"], ["mse"]])
    build_training_state(listed, x, [y, -y])
    assert _count_train_traces(listed, x, [y, -y]) == 1


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: build_training_state("model", *_data()), TypeError, "model must be a keras.Model"),
        (lambda: build_training_state(_build(), *_data()), ValueError, "not compiled"),
        (lambda: build_training_state(_two_headed(0), [[1, 2, 3, 4]], _data()[1]), TypeError, r"inputs\[0\]\[0\] must be an array"),
        (lambda: build_training_state(_two_headed(0), "x", _data()[1]), TypeError, "inputs must be an array"),
        (lambda: build_training_state(_two_headed(0), _data()[0], {"sum": 3.0}), TypeError, r"targets\['sum'\] must be"),
    ],
)
def test_build_training_state_refuses_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
