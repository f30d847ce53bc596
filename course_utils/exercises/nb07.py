"""Checks for notebook 07, multi-task heads."""

from __future__ import annotations

import numpy as np

from course_utils.checks import (
    Exercise,
    IncorrectAnswer,
    as_number_array,
    call_answer,
    describe_call,
    expect_close,
    expect_equal,
    short_repr,
)

# ------------------------------------------------------------------------------------------
# Exercise 1: standardise with the training set's statistics
# ------------------------------------------------------------------------------------------


def _check_standardise(answer) -> str:
    rng = np.random.default_rng(3)
    cases = [
        (np.array([10.0, 20.0, 30.0]), np.array([10.0, 20.0, 30.0])),
        (np.array([2.0, 4.0, 6.0, 8.0]), np.array([5.0, 100.0])),
        (rng.uniform(2, 40, size=200), rng.uniform(2, 40, size=50)),
    ]
    for train, values in cases:
        call = describe_call(answer, (values, train), {})
        got = as_number_array(call_answer(answer, values.copy(), train.copy()), call)
        expected = (values - train.mean()) / train.std()
        if got.shape != expected.shape:
            raise IncorrectAnswer(
                f"{call} returned shape {got.shape}, expected {expected.shape}: one standardised "
                "number per entry of `values`."
            )
        if np.allclose(got, expected, atol=1e-9):
            continue
        if values.size > 1 and np.allclose(got, (values - values.mean()) / values.std()):
            raise IncorrectAnswer(
                f"{call} used the statistics of `values` itself. Test and new images must be "
                "scaled with the training set's mean and standard deviation, or the same size "
                "would map to different numbers in different sets."
            )
        if np.allclose(got, (values - train.mean()) / train.std(ddof=1)):
            raise IncorrectAnswer(f"{call} used the sample standard deviation (ddof=1); "
                                  "use np.std(train_values), as Keras's Normalization does.")  # fmt: skip
        raise IncorrectAnswer(
            f"{call} returned {got.ravel()[:3]}..., expected {expected.ravel()[:3]}...: "
            "(values - mean of train_values) / standard deviation of train_values."
        )
    return "Training statistics only: the test set stays unseen."


exercise_1 = Exercise(
    1,
    "standardise a target with the training set's statistics",
    answer_name="standardise",
    checker=_check_standardise,
    hint="Compute the mean and standard deviation of train_values, then apply them to values.",
    solution='''def standardise(values, train_values):
    """Values on the scale of the training targets: mean 0, standard deviation 1 there."""
    return (values - np.mean(train_values)) / np.std(train_values)''',
)


# ------------------------------------------------------------------------------------------
# Exercise 2: the total loss Keras minimises
# ------------------------------------------------------------------------------------------


def _check_total_loss(answer) -> str:
    cases = [
        ({"shape": 1.1, "size": 300.0}, {"shape": 1.0, "size": 1.0}),
        ({"shape": 0.5, "size": 0.8}, {"shape": 1.0, "size": 0.25}),
        ({"shape": 2.0, "size": 4.0}, {"size": 0.5, "shape": 3.0}),
        ({"a": 1.0, "b": 2.0, "c": 3.0}, {"a": 0.0, "b": 1.0, "c": 2.0}),
    ]
    for losses, weights in cases:
        call = describe_call(answer, (losses, weights), {})
        expected = sum(weights[name] * value for name, value in losses.items())
        mistakes = {
            sum(losses.values()): "the weights are missing: multiply each loss by its weight.",
            expected / len(losses): "Keras adds the weighted losses; it does not average them.",
            sum(w * v for w, v in zip(weights.values(), losses.values(), strict=True)):
            "match each loss with the weight of the same name, not by position.",
        }
        got = call_answer(answer, dict(losses), dict(weights))
        expect_close(got, expected, call=call, rel_tol=1e-9,
                     mistakes={k: v for k, v in mistakes.items() if not np.isclose(k, expected)})  # fmt: skip
    return "With unscaled sizes, the total is almost all size loss."


exercise_2 = Exercise(
    2,
    "the weighted total loss",
    answer_name="total_loss",
    checker=_check_total_loss,
    hint="Sum over the outputs of loss_weights[name] * losses[name].",
    solution='''def total_loss(losses, loss_weights):
    """The number Keras minimises: each output's loss times its weight, summed."""
    return sum(loss_weights[name] * value for name, value in losses.items())''',
)


# ------------------------------------------------------------------------------------------
# Exercise 3: parameters, shared versus separate
# ------------------------------------------------------------------------------------------


def _reference_counts(backbone_params, feature_dim, head_units):
    heads = [(feature_dim + 1) * units for units in head_units]
    return backbone_params + sum(heads), sum(backbone_params + h for h in heads)


def _check_parameter_counts(answer) -> str:
    for args in ((23_000, 64, (3, 1)), (72_752, 64, (10, 1)), (1_000, 8, (2, 2, 1)), (0, 4, (5,))):
        call = describe_call(answer, args, {})
        got = call_answer(answer, *args)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise IncorrectAnswer(f"{call} returned {short_repr(got)}; return a pair (shared, separate).")
        shared, separate = _reference_counts(*args)
        backbone_params, feature_dim, head_units = args
        no_bias_shared = backbone_params + sum(feature_dim * u for u in head_units)
        expect_equal(got[0], shared, call=f"{call}[0] (one shared backbone)", mistakes={
            no_bias_shared: "each head unit has a bias too: (feature_dim + 1) * units.",
            backbone_params * len(head_units) + shared - backbone_params: "the shared model has "
            "the backbone once, however many heads sit on it.",
        })  # fmt: skip
        expect_equal(got[1], separate, call=f"{call}[1] (one model per task)", mistakes={
            shared: "separate models each have their own backbone.",
        })  # fmt: skip
    return "Every extra task costs a head, not a backbone."


exercise_3 = Exercise(
    3,
    "parameters of one shared model and of separate models",
    answer_name="parameter_counts",
    checker=_check_parameter_counts,
    hint=(
        "A Dense head with `units` outputs on `feature_dim` features has (feature_dim + 1) * "
        "units parameters. Shared: one backbone plus all heads. Separate: a backbone per head."
    ),
    solution='''def parameter_counts(backbone_params, feature_dim, head_units):
    """(one backbone shared by all heads, one backbone per head): parameter totals."""
    heads = [(feature_dim + 1) * units for units in head_units]
    shared = backbone_params + sum(heads)
    separate = sum(backbone_params + head for head in heads)
    return shared, separate''',
)


# ------------------------------------------------------------------------------------------
# Exercise 4: layers that feed no output
# ------------------------------------------------------------------------------------------


def _reference_dead(inputs_of, outputs):
    alive, stack = set(), list(outputs)
    while stack:
        name = stack.pop()
        if name not in alive:
            alive.add(name)
            stack.extend(inputs_of.get(name, ()))
    return set(inputs_of) - alive


def _check_dead_layers(answer) -> str:
    graphs = [
        # The seed's model: two branches, and a concatenation that nothing uses.
        ({"image": [], "conv_a": ["image"], "flat_a": ["conv_a"], "class_output": ["flat_a"],
          "conv_b": ["image"], "flat_b": ["conv_b"], "regression_output": ["flat_b"],
          "concatenate": ["class_output", "regression_output"]},
         ["class_output", "regression_output"]),
        ({"x": [], "a": ["x"], "b": ["a"], "c": ["a"], "d": ["c"]}, ["b"]),
        ({"x": [], "a": ["x"], "b": ["a"]}, ["b"]),
        ({"x": [], "a": ["x"], "b": ["x"], "m": ["a", "b"], "out": ["m"], "spare": ["b"],
          "spare2": ["spare"]}, ["out"]),
    ]  # fmt: skip
    for inputs_of, outputs in graphs:
        call = describe_call(answer, (inputs_of, outputs), {})
        got = call_answer(answer, {k: list(v) for k, v in inputs_of.items()}, list(outputs))
        if isinstance(got, str) or not hasattr(got, "__iter__"):
            raise IncorrectAnswer(f"{call} returned {short_repr(got)}; return a set of layer names.")
        got = list(got)
        if not all(isinstance(name, str) for name in got):
            raise IncorrectAnswer(
                f"{call} returned {short_repr(got)}; return a set of layer names (strings)."
            )
        got, expected = set(got), _reference_dead(inputs_of, outputs)
        if got == expected:
            continue
        if got == {n for n in inputs_of if not any(n in v for v in inputs_of.values())} - set(outputs):
            raise IncorrectAnswer(
                f"{call} returned only the layers nothing reads ({sorted(got)}). A layer that "
                "feeds only dead layers is dead too: walk back from the outputs instead."
            )
        raise IncorrectAnswer(
            f"{call} returned {sorted(got)}, expected {sorted(expected)}. Start at the outputs, "
            "follow inputs_of back to the input, and report every layer you never reached."
        )
    return "Keras does the same walk, which is why an unused layer silently drops out of a model."


exercise_4 = Exercise(
    4,
    "layers that feed no output",
    answer_name="layers_feeding_no_output",
    checker=_check_dead_layers,
    hint=(
        "Keep a set of layers that matter, starting with the outputs. Repeatedly add the inputs "
        "of every layer in it. The layers of inputs_of that never get in are the dead ones."
    ),
    solution='''def layers_feeding_no_output(inputs_of, outputs):
    """Names of layers from which no path leads to any of the outputs."""
    needed, to_visit = set(), list(outputs)
    while to_visit:
        name = to_visit.pop()
        if name not in needed:
            needed.add(name)
            to_visit.extend(inputs_of.get(name, []))
    return set(inputs_of) - needed''',
)
