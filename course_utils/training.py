"""Cheap repeated trainings: one compiled model, restarted from given weights for every run.

Comparing configurations over several seeds means many short trainings. Building and compiling
a new Keras model for each one makes Keras trace a new training graph every time, which can
cost as much as the training itself. Instead a notebook compiles one model per architecture,
keeps the untrained weights each seed gives (:func:`initial_weights`), and puts the model back
to them, with a fresh optimiser, before every run (:func:`restart`).

>>> starts = initial_weights(build_model, seeds=(0, 1, 2))   # doctest: +SKIP
>>> model = build_model(); model.compile(optimizer="adam", loss="mse")   # doctest: +SKIP
>>> for seed in (0, 1, 2):   # doctest: +SKIP
...     restart(model, starts[seed], seed=seed)   # weights, optimiser, dropout/augmentation draws
...     keras.utils.set_random_seed(seed)   # the batch order
...     model.fit(x, y, epochs=3, verbose=0)

A model compiled with metrics gets :func:`build_training_state` once after ``compile``: the
first ``fit`` then traces its training step once instead of twice.

Random layers (``Dropout``, ``RandomFlip`` and the other augmentation layers) draw from a
``keras.random.SeedGenerator`` of their own, seeded when the layer is made. Its state is not
among ``model.weights`` and ``keras.utils.set_random_seed`` does not reset it, so without
``seed=`` a second run continues the first run's draws. :func:`reseed_random_layers` (what
``restart(..., seed=...)`` calls) sets every such state from one seed.

Keras is imported inside the functions, so importing this module does not start TensorFlow.
"""

from __future__ import annotations

import warnings

import numpy as np

from course_utils._validation import check_int

__all__ = ["build_training_state", "initial_weights", "reseed_random_layers", "restart"]


def initial_weights(build, seeds) -> dict[int, list[np.ndarray]]:
    """The untrained weights that each seed gives a freshly built model.

    Parameters
    ----------
    build : callable
        Called without arguments, returns a new built Keras model (for example
        ``lambda: keras.Sequential([...])`` with a ``keras.Input`` first).
    seeds : sequence of int
        Each is passed to ``keras.utils.set_random_seed`` before ``build()`` is called.

    Returns
    -------
    dict
        ``{seed: model.get_weights()}``, in the order of ``seeds``.
    """
    if not callable(build):
        raise TypeError(
            f"build must be a function that returns a new model, got {build!r}; pass for "
            "example lambda: slope_models.conv_model(32)."
        )
    if isinstance(seeds, str | bytes) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a list of whole numbers such as (0, 1, 2), got {seeds!r}.")
    seeds = [check_int(seed, "each seed", minimum=0, maximum=2**32 - 1) for seed in seeds]
    if not seeds:
        raise ValueError("seeds is empty; pass at least one seed, e.g. (0, 1, 2).")
    import keras

    weights = {}
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        model = build()
        if not hasattr(model, "get_weights"):
            raise TypeError(f"build() must return a Keras model, got {type(model).__name__}.")
        weights[seed] = model.get_weights()
    return weights


def _seed_states(model) -> list:
    """The state variables of every ``SeedGenerator`` of ``model``'s layers, nested ones included."""
    return [v for v in model.variables if v.name == "seed_generator_state"]


def reseed_random_layers(model, seed) -> int:
    """Set the random draws of every dropout and augmentation layer of ``model`` from ``seed``.

    Each such layer holds a ``keras.random.SeedGenerator`` whose state (a variable
    ``[seed, counter]``, among ``model.variables`` but not ``model.weights``) advances with every
    draw. This gives generator ``i`` the seed ``seed * 1009 + i`` (wrapped into int32 range) and
    counter 0, so two runs reseeded with the same seed draw the same masks and transformations
    and different seeds draw different ones. Layers shared by several models are reseeded too.

    Parameters
    ----------
    model : keras.Model
        A built model.
    seed : int
        0 to 2**32 - 1.

    Returns
    -------
    int
        How many seed generators were set (0 for a model without random layers).
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}.")
    seed = check_int(seed, "seed", minimum=0, maximum=2**32 - 1)
    states = _seed_states(model)
    for index, state in enumerate(states):
        value = (seed * 1009 + index) % (2**31 - 1)
        state.assign(np.array([value, 0], dtype=state.dtype))
    return len(states)


def restart(model, weights, seed=None) -> None:
    """Put a compiled model back to the start: these weights, and a fresh optimiser state.

    The optimiser's step counter and its slots (Adam's moments, momentum) are set to zero, so a
    learning-rate schedule starts again too; its learning rate is kept. An optimiser not built yet
    is built here, so that the first ``fit`` traces its step once (see
    :func:`build_training_state`, which also makes the metrics' variables). The model is not traced
    again, which is the point. With ``seed``, the dropout and augmentation layers are reseeded
    too (:func:`reseed_random_layers`), so a run repeats exactly, draw for draw; without it
    they continue from where the last run left them.

    Parameters
    ----------
    model : keras.Model
        A compiled model.
    weights : list of ndarray
        As returned by ``model.get_weights()`` (or by :func:`initial_weights`) for a model of
        the same architecture.
    seed : int, optional
        Reseed the model's random layers with it (see :func:`reseed_random_layers`).
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}.")
    if getattr(model, "optimizer", None) is None:
        raise ValueError("model is not compiled; call model.compile(...) once before restarting it.")
    if not isinstance(weights, list | tuple):
        raise TypeError(
            f"weights must be the list that model.get_weights() returns, got {type(weights).__name__}."
        )
    expected = [tuple(w.shape) for w in model.weights]
    given = [tuple(np.shape(w)) for w in weights]
    if given != expected:
        raise ValueError(
            f"weights do not fit this model: it has {len(expected)} weight arrays of shapes "
            f"{expected[:3]}..., got {len(given)} of shapes {given[:3]}...; pass the weights of a "
            "model with the same architecture."
        )
    if seed is not None:
        seed = check_int(seed, "seed", minimum=0, maximum=2**32 - 1)
    model.set_weights(weights)
    if seed is not None:
        reseed_random_layers(model, seed)
    if not model.optimizer.built:  # made now, the first fit traces its step once (see build_training_state)
        model.optimizer.build(model.trainable_variables)
    for variable in model.optimizer.variables:
        if variable.name != "learning_rate":  # the step counter and the slots
            variable.assign(keras.ops.zeros_like(variable))


def build_training_state(model, inputs, targets) -> None:
    """Create the variables that a compiled model's first ``fit`` would create, so it traces once.

    ``fit`` runs the training step as a TensorFlow graph, traced on the first call. When that first
    trace creates variables (the optimiser's slots, the metrics' totals), TensorFlow traces the
    step a second time to use them, so a freshly compiled model pays for two traces: up to a
    second or two on a CPU. This creates those variables first, eagerly, from the first examples
    of ``inputs`` and ``targets``, and the first ``fit`` then traces once. Nothing is learned:
    the weights and the optimiser's step counter do not change, and the metrics are reset.

    Parameters
    ----------
    model : keras.Model
        A compiled model.
    inputs, targets
        Training inputs and targets in the structure ``fit`` takes (arrays, or dicts of arrays
        keyed by output name, or lists of arrays); only their first two examples are used.
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}.")
    if getattr(model, "optimizer", None) is None:
        raise ValueError("model is not compiled; call model.compile(...) first, then build_training_state.")

    def first_examples(value, name):
        if isinstance(value, dict):
            return {key: first_examples(part, f"{name}[{key!r}]") for key, part in value.items()}
        if isinstance(value, list | tuple):  # one array per input or output
            return type(value)(first_examples(part, f"{name}[{i}]") for i, part in enumerate(value))
        if not hasattr(value, "shape") or not hasattr(value, "__getitem__"):
            raise TypeError(
                f"{name} must be an array (or a dict or list of arrays, one per input or output) "
                f"of examples, as passed to fit; got {type(value).__name__}."
            )
        return value[:2]

    x, y = first_examples(inputs, "inputs"), first_examples(targets, "targets")
    with warnings.catch_warnings():
        # Whatever Keras has to say about the model or its loss, fit says it again on real batches.
        warnings.simplefilter("ignore")
        predicted = model(x, training=False)  # first: a model built by its first call gets its weights here
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.compute_loss(x, y, predicted)
        model.compute_metrics(x, y, predicted, sample_weight=None)
    model.reset_metrics()
