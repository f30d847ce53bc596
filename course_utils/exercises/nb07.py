"""Checks for notebook 07, multi-task heads.

Standardising the size target is notebook 04's exercise 1; this notebook uses it without asking
for it again.
"""

from __future__ import annotations

import numpy as np

from course_utils.checks import (
    Close,
    Exact,
    Exercise,
    IncorrectAnswer,
    Shown,
    call_answer,
    describe_call,
    short_repr,
)
from course_utils.exercises._keras_fit_checks import reference_function

# ------------------------------------------------------------------------------------------
# Exercise 2: the total loss Keras minimises
# ------------------------------------------------------------------------------------------


_TOTAL_LOSS_MISTAKES = [
    (lambda losses, weights: sum(losses.values()), "the weights are missing: multiply each loss by its weight."),
    (lambda losses, weights: sum(weights[n] * v for n, v in losses.items()) / len(losses),
     "Keras adds the weighted losses; it does not average them."),
    (lambda losses, weights: sum(w * v for w, v in zip(weights.values(), losses.values(), strict=True)),
     "match each loss with the weight of the same name, not by position."),
    (lambda losses, weights: sum(weights[n] * v for n, v in losses.items()) / sum(weights.values()),
     "Keras does not divide by the sum of the weights: the total is the plain weighted sum."),
    (lambda losses, weights: sum(weights.values()) * sum(losses.values()),
     "each loss is multiplied by its own weight, not by all of them: sum of weight[name] * loss[name]."),
    (lambda losses, weights: sum(losses.values()) / len(losses), "the weights are missing, and Keras adds, not averages."),
    (lambda losses, weights: sum(losses[n] + weights[n] for n in losses), "multiply each loss by its weight, do not add the weight."),
]  # fmt: skip


def _check_total_loss(answer) -> str:
    cases = [
        ({"shape": 1.1, "size": 300.0}, {"shape": 1.0, "size": 1.0}),
        ({"shape": 0.5, "size": 0.8}, {"shape": 1.0, "size": 0.25}),
        ({"shape": 2.0, "size": 4.0}, {"size": 0.5, "shape": 3.0}),
        ({"a": 1.0, "b": 2.0, "c": 3.0}, {"a": 0.0, "b": 1.0, "c": 2.0}),
        ({"only": np.float32(0.75)}, {"only": 2}),  # one output; a NumPy loss and an int weight
    ]
    Close(rel_tol=1e-6).check(
        answer, cases, lambda losses, weights: sum(weights[n] * float(v) for n, v in losses.items()),
        mistakes=_TOTAL_LOSS_MISTAKES,
    )  # fmt: skip
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
# Exercise 4: parameters, shared versus separate
# ------------------------------------------------------------------------------------------


def _reference_counts(backbone_params, feature_dim, head_units):
    heads = [(feature_dim + 1) * units for units in head_units]
    return backbone_params + sum(heads), sum(backbone_params + h for h in heads)


def _pair(got, call):
    if isinstance(got, (str, bytes)) or not isinstance(got, (tuple, list)) or len(got) != 2:
        raise IncorrectAnswer(f"{call} returned {short_repr(got)}; return a pair (shared, separate).")
    return tuple(got)


def _counts_with(backbone, feature_dim, head_units, *, head=None, backbones_shared=1, backbones_separate=None):
    head = head or (lambda d, u: (d + 1) * u)
    heads = [head(feature_dim, u) for u in head_units]
    shared = backbones_shared * backbone + sum(heads)
    separate = (len(head_units) if backbones_separate is None else backbones_separate) * backbone + sum(heads)
    return shared, separate


_PARAMETER_COUNT_MISTAKES = [
    (lambda b, d, units: _counts_with(b, d, units, head=lambda d, u: d * u),
     "each head unit has a bias too: (feature_dim + 1) * units."),
    (lambda b, d, units: _counts_with(b, d, units, head=lambda d, u: d * u + 1),
     "every unit of a head has its own bias: (feature_dim + 1) * units, not one bias per head."),
    (lambda b, d, units: _counts_with(b, d, units, backbones_shared=len(units)),
     "the shared model has the backbone once, however many heads sit on it."),
    (lambda b, d, units: _counts_with(b, d, units, backbones_separate=1),
     "separate models each have their own backbone."),
    (lambda b, d, units: _counts_with(b, d, units, backbones_separate=sum(units)),
     "separate models have one backbone per head (len(head_units)), not one per output unit."),
    (lambda b, d, units: _counts_with(b, d, units)[::-1],
     "the pair is the other way round: (shared, separate), the shared model first."),
    (lambda b, d, units: _counts_with(b, d, units, head=lambda d, u: d + u + 1),
     "a Dense head connects every feature to every unit: (feature_dim + 1) * units, not a sum."),
]  # fmt: skip


def _check_parameter_counts(answer) -> str:
    inputs = [(23_000, 64, (3, 1)), (72_752, 64, (10, 1)), (1_000, 8, (2, 2, 1)), (0, 4, (5,)),
              (500, 16, [4, 1])]  # fmt: skip
    Exact(convert=_pair).check(answer, inputs, lambda *args: _reference_counts(*args), mistakes=_PARAMETER_COUNT_MISTAKES)
    return "Every extra task costs a head, not a backbone."


exercise_4 = Exercise(
    4,
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
# Exercise 5: layers that feed no output
# ------------------------------------------------------------------------------------------


def _reference_dead(inputs_of, outputs):
    alive, stack = set(), list(outputs)
    while stack:
        name = stack.pop()
        if name not in alive:
            alive.add(name)
            stack.extend(inputs_of.get(name, ()))
    return set(inputs_of) - alive


def _name_set(got, call):
    if isinstance(got, (str, bytes)) or not hasattr(got, "__iter__"):
        raise IncorrectAnswer(f"{call} returned {short_repr(got)}; return a set of layer names.")
    got = list(got)
    if not all(isinstance(name, str) for name in got):
        raise IncorrectAnswer(f"{call} returned {short_repr(got)}; return a set of layer names (strings).")
    return set(got)


def _alive(inputs_of, outputs, *, depth=None, include_outputs=True):
    alive = set(outputs) if include_outputs else set()
    frontier, level = list(outputs), 0
    while frontier and (depth is None or level < depth):
        frontier = [i for name in frontier for i in inputs_of.get(name, ()) if i not in alive]
        alive.update(frontier)
        level += 1
    return alive


_FIXED_DEPTH = (
    "you went back a fixed number of steps from the outputs; keep following inputs_of until "
    "you reach the input, so the layers feeding those layers count as used too."
)
_DEAD_LAYER_MISTAKES = [
    (lambda inputs_of, outputs: {n for n in inputs_of if not any(n in v for v in inputs_of.values())} - set(outputs),
     "you returned only the layers nothing reads. A layer that feeds only dead layers is dead "
     "too: walk back from the outputs instead."),
    (lambda inputs_of, outputs: _alive(inputs_of, outputs),
     "those are the layers that DO feed an output; return the others, set(inputs_of) minus them."),
    (lambda inputs_of, outputs: set(inputs_of) - _alive(inputs_of, outputs, depth=1), _FIXED_DEPTH),
    (lambda inputs_of, outputs: set(inputs_of) - _alive(inputs_of, outputs, depth=2), _FIXED_DEPTH),
    (lambda inputs_of, outputs: set(inputs_of) - _alive(inputs_of, outputs, include_outputs=False),
     "the outputs themselves feed an output (they are it): start the walk with them in the set of used layers."),
    (lambda inputs_of, outputs: set(inputs_of) - _alive(inputs_of, outputs) - {n for n, v in inputs_of.items() if not v},
     "an input layer can be dead too (when nothing that reaches an output reads it)."),
]  # fmt: skip


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
        ({"x": [], "extra_input": [], "a": ["x"], "out": ["a"]}, ["out"]),
        ({"x": [], "image": [], "a": ["image"], "out": ["a"]}, ["out"]),
        ({}, []),  # an empty graph has no dead layers
    ]  # fmt: skip
    Exact(convert=_name_set).check(answer, graphs, _reference_dead, mistakes=_DEAD_LAYER_MISTAKES)
    return "Keras does the same walk, which is why an unused layer silently drops out of a model."


exercise_5 = Exercise(
    5,
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


# ------------------------------------------------------------------------------------------
# Exercises 1 and 3: two named heads on one backbone, compiled with dicts
# ------------------------------------------------------------------------------------------

_OUTPUTS = ("shape", "size")


def small_backbone():
    """A small shared backbone for the checks: 32 x 32 x 3 images to 8 features."""
    import keras

    return keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(4),
        keras.layers.GlobalAveragePooling2D(),
    ], name="backbone")  # fmt: skip


def _output_dict(model) -> dict:
    names = list(getattr(model, "output_names", None) or [])
    return dict(zip(names, model.outputs, strict=False))


def _check_two_heads(answer) -> str:
    import keras

    from course_utils.exercises._keras_checks import as_model, final_activation

    for num_classes in (3, 5):
        backbone = small_backbone()
        call = describe_call(answer, (Shown("<backbone>"), num_classes), {})
        keras.utils.set_random_seed(0)
        model = as_model(call_answer(answer, backbone, num_classes), call)
        outputs = _output_dict(model)
        if set(outputs) != set(_OUTPUTS):
            raise IncorrectAnswer(
                f"{call}: the model's outputs are named {sorted(outputs)}; Keras binds dict losses, "
                "metrics, loss_weights and targets by these names, so a dict loss keyed 'shape' and "
                "'size' would not bind. Name the output layers: Dense(..., name='shape') and "
                "Dense(1, name='size')."
            )
        shape_units, size_units = outputs["shape"].shape[-1], outputs["size"].shape[-1]
        if len(outputs["shape"].shape) != 2 or shape_units != num_classes:
            raise IncorrectAnswer(
                f"{call}: the 'shape' output has shape {tuple(outputs['shape'].shape)}, the wrong number "
                f"of output units: one probability per class, Dense(num_classes) ({num_classes} here)."
            )
        if len(outputs["size"].shape) != 2 or size_units != 1:
            raise IncorrectAnswer(
                f"{call}: the 'size' output has shape {tuple(outputs['size'].shape)}, the wrong number of "
                "output units: one number per image, Dense(1)."
            )
        if final_activation(model, "shape") != "softmax":
            raise IncorrectAnswer(
                f"{call}: the 'shape' head applies {final_activation(model, 'shape')}; it should give "
                "class probabilities: activation='softmax' (the notebook compiles it with "
                "sparse_categorical_crossentropy on probabilities)."
            )
        size_activation = final_activation(model, "size")
        if size_activation != "linear":
            raise IncorrectAnswer(
                f"{call}: the 'size' head applies {size_activation}, a bounded activation, but the "
                "standardised size is unbounded (negative for small shapes): leave it linear."
            )
        heads = (backbone.output_shape[-1] + 1) * (num_classes + 1)
        if model.count_params() > backbone.count_params() + heads:
            raise IncorrectAnswer(
                f"{call}: the model has {model.count_params():,} parameters, more than one backbone "
                f"({backbone.count_params():,}) and two Dense heads ({heads:,}): each head has its own "
                "layers in between or its own backbone. Call the backbone once and feed its features "
                "to both heads."
            )
        if model.count_params() < backbone.count_params() + heads:
            raise IncorrectAnswer(f"{call}: the model does not use the backbone it was given; call "
                                  "backbone(image) and put both heads on its output.")  # fmt: skip
    return "Both heads read the same features; the names are what dict losses bind to."


exercise_1 = Exercise(
    1,
    "one backbone, two named heads",
    answer_name="build_two_heads",
    checker=_check_two_heads,
    hint=(
        "image = keras.Input(shape=backbone.input_shape[1:]); features = backbone(image); then "
        "keras.Model(image, {'shape': keras.layers.Dense(num_classes, activation='softmax', "
        "name='shape')(features), 'size': keras.layers.Dense(1, name='size')(features)})."
    ),
    solution='''def build_two_heads(backbone, num_classes):
    """One backbone, a softmax head named "shape" and a linear head named "size"."""
    image = keras.Input(shape=backbone.input_shape[1:], name="image")
    features = backbone(image)
    shape = keras.layers.Dense(num_classes, activation="softmax", name="shape")(features)
    size = keras.layers.Dense(1, name="size")(features)
    return keras.Model(image, {"shape": shape, "size": size})''',
)


_LOSS_WEIGHTS = {"shape": 1.0, "size": 0.5}


def _check_compile_two_heads(answer) -> str:
    import keras

    from course_utils.exercises._keras_checks import as_model, compiled_loss, metric_names

    keras.utils.set_random_seed(0)
    model = reference_function(exercise_1)(small_backbone(), 3)
    weights = dict(_LOSS_WEIGHTS)
    call = describe_call(answer, (Shown("<two-headed model>"), weights), {})
    returned = call_answer(answer, model, dict(weights))
    returned = as_model(returned, call)
    losses = compiled_loss(returned)
    if not isinstance(losses, dict) or set(losses) != set(_OUTPUTS):
        raise IncorrectAnswer(
            f"{call}: compile with one loss per output, as a dict keyed by the output names: "
            "loss={'shape': 'sparse_categorical_crossentropy', 'size': 'mse'}."
        )
    shape_loss, size_loss = losses["shape"], losses["size"]
    regression = {"mean_squared_error", "mean_absolute_error", "huber", "log_cosh"}
    if shape_loss.name in regression and size_loss.name and "crossentropy" in size_loss.name:
        raise IncorrectAnswer(f"{call}: the two losses are swapped: 'shape' is the class output "
                              "(sparse_categorical_crossentropy), 'size' the number (mse).")  # fmt: skip
    if shape_loss.name == "categorical_crossentropy":
        raise IncorrectAnswer(f"{call}: categorical_crossentropy wants one-hot labels; the shape labels are "
                              "integers 0-2: 'sparse_categorical_crossentropy'.")  # fmt: skip
    if shape_loss.name != "sparse_categorical_crossentropy":
        raise IncorrectAnswer(f"{call}: the 'shape' output is a class: its loss is "
                              f"'sparse_categorical_crossentropy', not {shape_loss.name!r}.")  # fmt: skip
    if shape_loss.from_logits:
        raise IncorrectAnswer(f"{call}: the 'shape' head outputs softmax probabilities, but its loss has "
                              "from_logits=True, which applies softmax a second time.")  # fmt: skip
    if size_loss.name not in regression:
        raise IncorrectAnswer(f"{call}: the 'size' output is a number: give it a regression loss such as "
                              f"'mse', not {size_loss.name!r}.")  # fmt: skip
    given = returned._compile_config.config.get("loss_weights")
    if not isinstance(given, dict) or {k: float(v) for k, v in given.items()} != weights:
        raise IncorrectAnswer(
            f"{call}: the model was compiled with loss_weights={given!r}; pass the loss_weights it "
            f"is given ({weights}), so the notebook can trade the tasks."
        )
    found = metric_names(returned)
    if "accuracy" not in found or "mean_absolute_error" not in found:
        raise IncorrectAnswer(
            f"{call}: the metrics are {sorted(found)}; give each output its own, as a dict: "
            "metrics={'shape': ['accuracy'], 'size': ['mae']}."
        )
    rng = np.random.default_rng(3)
    images = rng.uniform(0, 1, size=(32, 32, 32, 3)).astype("float32")
    targets = {"shape": rng.integers(0, 3, size=32), "size": rng.normal(size=32).astype("float32")}
    try:
        history = returned.fit(images, targets, epochs=1, batch_size=16, verbose=0)
    except Exception as err:
        raise IncorrectAnswer(f"{call}: training on dict targets raised {type(err).__name__}: {str(err)[:200]}") from err
    if not np.isfinite(history.history["loss"][-1]):
        raise IncorrectAnswer(f"{call}: the loss is not a number after one epoch.")
    return "Losses, metrics and weights all bind to the outputs by name."


exercise_3 = Exercise(
    3,
    "compile two heads with dict losses, metrics and loss_weights",
    answer_name="compile_two_heads",
    checker=_check_compile_two_heads,
    hint=(
        "model.compile(optimizer=keras.optimizers.Adam(3e-3), loss={'shape': "
        "'sparse_categorical_crossentropy', 'size': 'mse'}, loss_weights=loss_weights, "
        "metrics={'shape': ['accuracy'], 'size': ['mae']}), then return model."
    ),
    solution='''def compile_two_heads(model, loss_weights):
    """Compile a model with outputs "shape" and "size": a loss and metrics per output, weighted."""
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss={"shape": "sparse_categorical_crossentropy", "size": "mse"},
        loss_weights=loss_weights,
        metrics={"shape": ["accuracy"], "size": ["mae"]},
    )
    return model''',
)
