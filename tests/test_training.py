"""Tests of course_utils.training: a restarted model trains exactly like a fresh start."""

import numpy as np
import pytest

from course_utils.training import initial_weights, restart

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
