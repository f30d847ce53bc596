"""Checks for notebook 06, transfer learning with the course's pretrained backbone."""

from __future__ import annotations

import math

import numpy as np

from course_utils.checks import (
    ArrayClose,
    Exact,
    Exercise,
    IncorrectAnswer,
    Shown,
    call_answer,
    describe_call,
    short_repr,
)
from course_utils.exercises._keras_fit_checks import (  # noqa: F401
    answer_or_reference,
    fit_and_predict,
    reference_function,
)

# ------------------------------------------------------------------------------------------
# Exercise 1: the same budget of gradient steps
# ------------------------------------------------------------------------------------------


def _reference_epochs(n_examples, batch_size, steps):
    return math.ceil(steps / math.ceil(n_examples / batch_size))


def _steps_per_epoch(n, b):
    return math.ceil(n / b)


_EPOCHS_MISTAKES = [
    (lambda n, b, s: s // _steps_per_epoch(n, b),
     "rounding down gives fewer steps than the budget; round up so every size gets at least `steps` updates."),
    (lambda n, b, s: s / _steps_per_epoch(n, b),
     "steps / steps_per_epoch is a fraction; Keras runs whole epochs: round up with math.ceil."),
    (lambda n, b, s: math.ceil(s / (n // b)),
     "n_examples // batch_size drops the last, smaller batch, but it is a step too: an "
     "epoch has ceil(n_examples / batch_size) steps."),
    (lambda n, b, s: math.ceil(s * b / n),
     "steps * batch_size / n_examples counts an epoch as a fractional number of batches; an "
     "epoch has a whole number of steps, ceil(n_examples / batch_size), the last batch being smaller."),
    (lambda n, b, s: s, "that is the number of steps, not epochs."),
    (lambda n, b, s: round(s / _steps_per_epoch(n, b)),
     "round() goes to the nearest whole number, which can fall short of the budget; round up with math.ceil."),
    (lambda n, b, s: s // _steps_per_epoch(n, b) + 1,
     "steps // steps_per_epoch + 1 is one epoch too many when the steps divide evenly; use math.ceil."),
    (lambda n, b, s: math.ceil(s / (n // b + 1)),
     "n // batch_size + 1 is one step too many when the batch size divides n_examples; use "
     "math.ceil(n_examples / batch_size)."),
    (lambda n, b, s: math.ceil(s / _steps_per_epoch(n, b)) + 1,
     "math.ceil already rounds up to enough epochs; adding 1 gives one epoch more than the budget needs."),
    (lambda n, b, s: math.ceil(s / b),
     "an epoch is a pass over all n_examples: divide the steps by the steps per epoch, "
     "ceil(n_examples / batch_size), not by the batch size."),
]  # fmt: skip


def _check_epochs_for_budget(answer) -> str:
    Exact().check(
        answer,
        [(50, 32, 100), (100, 32, 100), (200, 32, 100), (500, 32, 100), (64, 32, 10), (65, 32, 10),
         (10, 32, 7), (1000, 100, 35), (3, 1, 3), (96, 32, 9)],
        _reference_epochs,
        mistakes=_EPOCHS_MISTAKES,
    )  # fmt: skip
    return "50 images need 50 epochs for 100 steps of 32; 500 images need 7."


exercise_1 = Exercise(
    1,
    "epochs that give every training set the same number of steps",
    answer_name="epochs_for_budget",
    checker=_check_epochs_for_budget,
    hint=(
        "One epoch is one pass over the data in batches: ceil(n_examples / batch_size) steps, "
        "the last batch possibly smaller. How many epochs reach at least `steps` steps?"
    ),
    solution='''def epochs_for_budget(n_examples, batch_size, steps):
    """Fewest epochs of batch_size that make at least `steps` gradient steps."""
    steps_per_epoch = math.ceil(n_examples / batch_size)
    return math.ceil(steps / steps_per_epoch)''',
)


# ------------------------------------------------------------------------------------------
# Exercise 2: which layers fine-tuning unfreezes
# ------------------------------------------------------------------------------------------


def _backbone_layer_names(blocks: int) -> list[str]:
    names = ["images"]
    for block in range(1, blocks + 1):
        for i in (1, 2):
            names += [f"block{block}_conv{i}", f"block{block}_bn{i}", f"block{block}_relu{i}"]
        names.append(f"block{block}_pool")
    return names + ["features"]


def _reference_top_blocks(layer_names, top_blocks):
    blocks = sorted(
        {int(n.split("_")[0][5:]) for n in layer_names if n.startswith("block") and "_" in n}
    )
    chosen = set(blocks[len(blocks) - top_blocks :]) if top_blocks else set()
    return [
        n for n in layer_names
        if n.startswith("block") and "_" in n and int(n.split("_")[0][5:]) in chosen
    ]  # fmt: skip


def _names_list(got, call):
    if isinstance(got, (str, bytes)) or not hasattr(got, "__iter__"):
        raise IncorrectAnswer(f"{call} returned {short_repr(got)}; return a list of layer names.")
    got = list(got)
    if not all(isinstance(name, str) for name in got):
        raise IncorrectAnswer(
            f"{call} returned {short_repr(got)}; return the layer names themselves "
            "(strings such as 'block3_conv1'), not indices or layers."
        )
    return got


def _top_with(layer_names, top_blocks, *, block_of=None, choose=None):
    """The top blocks' layers, with a learner's way of reading block numbers and choosing them."""
    block_of = block_of or (lambda n: int(n.split("_")[0][5:]) if n.startswith("block") else None)
    blocks = sorted({block_of(n) for n in layer_names if block_of(n) is not None})
    chosen = set(choose(blocks, top_blocks) if choose else blocks[len(blocks) - top_blocks :])
    return [n for n in layer_names if block_of(n) in chosen]


_FIXED_BLOCK_SIZE = (
    "blocks need not have the same number of layers: find each layer's block from its name, "
    "do not count a fixed number of layers."
)
_TOP_BLOCKS_MISTAKES = [
    (lambda names, top: _top_with(names, top, choose=lambda blocks, t: blocks[:t]),
     "you took the first blocks. The *top* blocks are the last ones, closest to the output."),
    (lambda names, top: _top_with(names, top, block_of=lambda n: n.split("_")[0][5:] if n.startswith("block") else None),
     "you compared block numbers as text, where 'block12' sorts before 'block2'; compare them "
     "as numbers: int(...)."),
    (lambda names, top: _top_with(names, top, block_of=lambda n: int(n[5]) if n.startswith("block") else None),
     "name[5] is only the first digit: 'block12' is block 12, not block 1. Take everything "
     "between 'block' and '_': int(name.split('_')[0][5:])."),
    (lambda names, top: _top_with(names, top, choose=lambda blocks, t: blocks[-t:]),
     "blocks[-top_blocks:] is the whole list when top_blocks is 0 (-0 is 0); use "
     "blocks[len(blocks) - top_blocks:], or handle 0 separately."),
    (lambda names, top: _top_with(names, top, choose=lambda blocks, t: blocks[len(blocks) - t - 1 :]),
     "you took one block too many: the last top_blocks blocks are blocks[len(blocks) - top_blocks:]."),
    (lambda names, top: [n for n in names if not n.startswith("block") or n in _top_with(names, top)],
     "'images' and 'features' belong to no block; return only layers of the top blocks."),
    (lambda names, top: [n for n in names if n.startswith("block")][-7 * top:] if top else [], _FIXED_BLOCK_SIZE),
    (lambda names, top: (lambda b: b[len(b) - 7 * top :] if top else [])([n for n in names if n.startswith("block")]),
     _FIXED_BLOCK_SIZE),
    (lambda names, top: [n for n in _top_with(names, top) if "pool" not in n],
     "the pooling layer belongs to its block too: return every layer whose name starts with a top block."),
    (lambda names, top: list(names)[-top:] if top else [],
     "top_blocks counts blocks, not layers: take every layer of the last top_blocks blocks."),
    (lambda names, top: [n for n in names if n.startswith(f"block{top}")],
     "top_blocks is how many blocks to take from the top, not a block number."),
    (lambda names, top: _top_with(names, top, choose=lambda blocks, t: [b for b in blocks if b > 3 - t]),
     "the backbone does not always have 3 blocks: find the largest block number from the names."),
    (lambda names, top: sorted(_top_with(names, top)), "keep the order of layer_names."),
    (lambda names, top: list(set(_top_with(names, top))), "keep the order of layer_names."),
]  # fmt: skip


def _block_count(names) -> int:
    return len({n.split("_")[0] for n in names if n.startswith("block")})


def _check_layers_to_unfreeze(answer) -> str:
    inputs = [(_backbone_layer_names(blocks), top) for blocks, top in ((3, 1), (3, 2), (3, 0), (5, 2), (3, 3), (12, 1), (12, 10))]
    inputs.append((tuple(_backbone_layer_names(12)), 3))  # a tuple of names works the same
    # blocks of different lengths, as in a real backbone, with another name between blocks
    uneven = ["input", "block1_conv1", "block1_relu1", "block1_pool", "block2_conv1", "block2_bn1",
              "block2_relu1", "block2_conv2", "block2_bn2", "block2_relu2", "dropout", "block3_conv1",
              "block3_relu1", "block4_conv1", "block4_bn1", "block4_relu1", "block4_pool", "head"]  # fmt: skip
    inputs += [(uneven, 1), (uneven, 2), (uneven, 3)]
    Exact(convert=_names_list).check(
        answer, inputs, _reference_top_blocks, mistakes=_TOP_BLOCKS_MISTAKES,
        shown=lambda names, top: (Shown(f"<{len(names)} layer names of {_block_count(names)} blocks>"), top),
    )  # fmt: skip
    return "Unfreeze the top block only: it holds the most task-specific features."


exercise_2 = Exercise(
    2,
    "the layers of the top blocks",
    answer_name="layers_in_top_blocks",
    checker=_check_layers_to_unfreeze,
    hint=(
        "Layer names look like 'block3_conv1'. name.split('_')[0] is 'block3', and [5:] of "
        "that is '3'. Find the largest block number, then keep the names whose block number is "
        "among the last top_blocks; 'images' and 'features' belong to no block."
    ),
    solution='''def layers_in_top_blocks(layer_names, top_blocks):
    """Names of the layers in the last `top_blocks` blocks, in their original order."""
    def block_of(name):
        return int(name.split("_")[0][5:]) if name.startswith("block") else None

    blocks = sorted({block_of(n) for n in layer_names if block_of(n) is not None})
    top = set(blocks[len(blocks) - top_blocks:]) if top_blocks > 0 else set()
    return [n for n in layer_names if block_of(n) in top]''',
)


# ------------------------------------------------------------------------------------------
# Exercises 3 and 4: the two phases of transfer learning as Keras code
# ------------------------------------------------------------------------------------------

CLASSES = 10
TOP_BLOCK = [f"block3_{kind}{i}" for kind in ("conv", "bn", "relu") for i in (1, 2)] + ["block3_pool"]
HEAD_TRAIN, HEAD_VAL, HEAD_EPOCHS, HEAD_THRESHOLD = 200, 300, 4, 0.25
_DIGITS: list = []


def _digit_data():
    """Varied digits for the checks (their own seed): 200 to train, 300 held out."""
    if not _DIGITS:
        from course_utils import digits

        data = digits.load_digit_images(varied=True, seed=1)
        _DIGITS.extend([data.images[:HEAD_TRAIN], data.labels[:HEAD_TRAIN],
                        data.images[1000:1000 + HEAD_VAL], data.labels[1000:1000 + HEAD_VAL]])  # fmt: skip
    return _DIGITS


def maps_backbone(trainable: bool = False):
    """The course's pretrained backbone without its global pooling: 4 x 4 x 64 feature maps.

    Like a ``keras.applications`` model with ``include_top=False`` and no ``pooling``.
    """
    import keras

    from course_utils import backbone

    pretrained = backbone.load_pretrained_backbone(trainable=trainable)
    return keras.Model(pretrained.input, pretrained.get_layer("block3_pool").output, name="backbone")


def _params(weights) -> int:
    return sum(int(np.prod(w.shape)) for w in weights)


def _bn_layers(backbone):
    return [layer for layer in backbone.layers if type(layer).__name__ == "BatchNormalization"]


_BN_TRAINING_MODE = (
    "the top block's BatchNormalization layers are trainable. In Keras 3 the training=True of "
    "fit reaches them even through backbone(inputs, training=False), so they normalise with "
    "each batch's statistics and move the pretrained moving means. Keep them frozen (a frozen "
    "BatchNormalization layer runs in inference mode): unfreeze only the other layers of the top block."
)


def _check_classifier_loss(model, call) -> None:
    """Softmax with from_logits=False, or logits with from_logits=True; integer labels."""
    from course_utils.exercises._keras_checks import compiled_loss, final_activation

    activation = final_activation(model)
    loss = compiled_loss(model)
    if isinstance(loss, dict):
        raise IncorrectAnswer(f"{call}: compile one loss, not one per output name.")
    if loss.name == "categorical_crossentropy":
        raise IncorrectAnswer(
            f"{call}: categorical_crossentropy wants one-hot labels, but the digit labels are "
            "integers 0-9: use loss='sparse_categorical_crossentropy'."
        )
    if loss.name != "sparse_categorical_crossentropy":
        raise IncorrectAnswer(
            f"{call}: compile with loss='sparse_categorical_crossentropy' (ten classes, integer "
            f"labels); found loss {loss.name!r}."
        )
    if activation == "softmax" and loss.from_logits:
        raise IncorrectAnswer(
            f"{call}: the last layer applies softmax, but the loss has from_logits=True, so it "
            "applies softmax a second time. Leave from_logits False (or drop the softmax)."
        )
    if activation == "linear" and not loss.from_logits:
        raise IncorrectAnswer(
            f"{call}: the last layer outputs logits (no activation), but the loss expects "
            "probabilities (from_logits=False). Use activation='softmax', or from_logits=True."
        )
    if activation not in ("softmax", "linear"):
        raise IncorrectAnswer(
            f"{call}: the last layer applies {activation}; ten exclusive classes want "
            "activation='softmax' (probabilities that sum to 1)."
        )


def _check_build_classifier(answer, seed: int = 0) -> str:
    import keras

    from course_utils.exercises._keras_checks import as_model, find_layer, parameter_counts

    base = maps_backbone(trainable=True)  # the learner must freeze it
    call = describe_call(answer, (Shown("<backbone>"), CLASSES), {})
    keras.utils.set_random_seed(seed)
    model = as_model(call_answer(answer, base, CLASSES), call)
    if tuple(model.input_shape) != (None, 32, 32, 3):
        raise IncorrectAnswer(f"{call}: the model's input shape is {model.input_shape}; take the backbone's, "
                              "keras.Input(shape=backbone.input_shape[1:]).")  # fmt: skip
    if len(model.output_shape) != 2:
        raise IncorrectAnswer(
            f"{call}: the output shape is {model.output_shape}: the Dense layer was applied to every "
            "position of the feature maps. Pool them first: GlobalAveragePooling2D()."
        )
    if model.output_shape[-1] != CLASSES:
        raise IncorrectAnswer(
            f"{call}: the output shape is {model.output_shape}, the wrong number of output units: "
            "one per class, Dense(num_classes)."
        )
    inside = find_layer(model, base)  # base itself, or its copy in a model that crossed into the grader
    if inside is None:
        raise IncorrectAnswer(f"{call}: the model does not contain the backbone it was given; call "
                              "backbone(inputs, training=False) inside it.")  # fmt: skip
    if inside.trainable_weights:
        raise IncorrectAnswer(
            f"{call}: the backbone is not frozen: {_params(inside.trainable_weights):,} of its "
            "parameters would be trained. Set backbone.trainable = False before compiling."
        )
    head_layers = [layer for layer in model.layers if layer is not inside and not hasattr(layer, "layers")]
    if any(type(layer).__name__ == "Flatten" for layer in head_layers):
        trainable, _ = parameter_counts(model)
        raise IncorrectAnswer(
            f"{call}: the head flattens the 4 x 4 x 64 maps ({trainable:,} trainable parameters); "
            "the task asks for global average pooling, one number per channel: "
            "GlobalAveragePooling2D() instead of Flatten()."
        )
    _check_classifier_loss(model, call)
    x, y, x_val, y_val = _digit_data()
    outputs = fit_and_predict(model, x, y, x_val, epochs=HEAD_EPOCHS, batch_size=32, seed=seed, call=call)
    accuracy = float(np.mean(np.argmax(outputs, axis=1) == y_val)) if np.ndim(outputs) == 2 else 0.0
    if accuracy < HEAD_THRESHOLD:
        raise IncorrectAnswer(
            f"{call}: after {HEAD_EPOCHS} epochs on {HEAD_TRAIN} digits the accuracy on {HEAD_VAL} "
            f"held-out digits is {accuracy:.2f}; the check asks for at least {HEAD_THRESHOLD} (chance "
            "is 0.1). Compile with keras.optimizers.Adam(1e-2), as section 3's heads."
        )
    trainable, frozen = parameter_counts(model)
    return (f"{trainable:,} trainable and {frozen:,} frozen parameters; held-out accuracy {accuracy:.2f} "
            f"after {HEAD_EPOCHS} epochs on {HEAD_TRAIN} digits.")  # fmt: skip


exercise_3 = Exercise(
    3,
    "a frozen backbone with a new head",
    answer_name="build_classifier",
    checker=_check_build_classifier,
    hint=(
        "Set backbone.trainable = False. Then inputs = keras.Input(shape=backbone.input_shape[1:]), "
        "features = backbone(inputs, training=False), a GlobalAveragePooling2D and a Dense layer "
        "with softmax; keras.Model(inputs, outputs). Compile with keras.optimizers.Adam(1e-2), "
        "loss='sparse_categorical_crossentropy', metrics=['accuracy']."
    ),
    solution='''def build_classifier(backbone, num_classes):
    """A compiled classifier: the frozen backbone in inference mode, pooling, a softmax head."""
    backbone.trainable = False
    inputs = keras.Input(shape=backbone.input_shape[1:])
    features = backbone(inputs, training=False)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(pooled)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model''',
)


def _check_fine_tuning(answer, seed: int = 0) -> str:
    import keras

    from course_utils.exercises._keras_checks import (
        as_model,
        find_layer,
        optimizer_info,
        parameter_counts,
        trainable_changed_since_compile,
    )

    x, y, _, _ = _digit_data()
    base = maps_backbone()
    keras.utils.set_random_seed(seed)
    model = reference_function(exercise_3)(base, CLASSES)  # an exercise-3 model, as the learner's would be
    learning_rate = 1e-4
    call = describe_call(answer, (Shown("<phase-1 model>"), Shown("<backbone>"), Shown("<TOP_BLOCK>"),
                                  learning_rate), {})  # fmt: skip
    returned = as_model(call_answer(answer, model, base, list(TOP_BLOCK), learning_rate), call)
    head = 64 * CLASSES + CLASSES
    top = _params([w for layer in base.layers if layer.name in TOP_BLOCK for w in layer.trainable_weights
                   if type(layer).__name__ != "BatchNormalization"])  # fmt: skip
    top_with_bn = top + _params([w for layer in _bn_layers(base) if layer.name in TOP_BLOCK
                                 for w in (layer.gamma, layer.beta)])  # fmt: skip
    trainable, _ = parameter_counts(returned)
    if trainable == head:
        raise IncorrectAnswer(
            f"{call}: only the head's {head} parameters are trainable: the top block is still frozen. "
            "Set backbone.trainable = True, then trainable = True for the layers named in "
            "top_layers and False for the others."
        )
    if trainable > top_with_bn + head:
        raise IncorrectAnswer(
            f"{call}: {trainable:,} parameters are trainable, more than the top block and the head "
            f"({top_with_bn + head:,}): you unfroze the whole backbone. Freeze every layer whose name "
            "is not in top_layers."
        )
    if trainable == top_with_bn + head:
        raise IncorrectAnswer(f"{call}: {_BN_TRAINING_MODE}")
    if trainable != top + head:
        raise IncorrectAnswer(
            f"{call}: {trainable:,} parameters are trainable; the top block's convolutions and the "
            f"head have {top + head:,}. Unfreeze exactly the layers named in top_layers, except "
            "BatchNormalization."
        )
    if trainable_changed_since_compile(returned):
        raise IncorrectAnswer(
            f"{call}: trainable was changed after the model was compiled, without compiling again. "
            "Keras builds its training step at compile time, so fit would go on training the old "
            "set of weights: call model.compile(...) after changing trainable."
        )
    kind, rate = optimizer_info(returned)
    if not np.isclose(rate, learning_rate, rtol=1e-3):
        raise IncorrectAnswer(
            f"{call}: the optimizer's learning rate is {rate:g}; fine-tuning recompiles with the "
            f"lower rate it is given, keras.optimizers.Adam(learning_rate) ({learning_rate:g} here), "
            "so the pretrained filters are adjusted, not overwritten."
        )
    _check_classifier_loss(returned, call)
    inside = find_layer(returned, base)  # base itself, or its copy when the model crossed into the grader
    if inside is None:
        raise IncorrectAnswer(f"{call}: the returned model does not contain the backbone it was given; "
                              "return the model you were given, with the backbone inside it.")  # fmt: skip
    layers = _bn_layers(inside)
    moving = [layer.moving_mean.numpy().copy() for layer in layers]
    first = inside.get_layer("block1_conv1").kernel.numpy().copy()
    top_kernel = inside.get_layer("block3_conv2").kernel.numpy().copy()
    keras.utils.set_random_seed(seed)
    returned.fit(x[:32], y[:32], epochs=1, batch_size=32, verbose=0)
    if any(not np.allclose(layer.moving_mean.numpy(), m) for layer, m in zip(layers, moving, strict=True)):
        raise IncorrectAnswer(f"{call}: one training step changed the backbone's moving means: {_BN_TRAINING_MODE}")
    if not np.array_equal(inside.get_layer("block1_conv1").kernel.numpy(), first):
        raise IncorrectAnswer(f"{call}: one training step changed block 1; only the top block may change.")
    if np.array_equal(inside.get_layer("block3_conv2").kernel.numpy(), top_kernel):
        raise IncorrectAnswer(f"{call}: one training step left the top block unchanged; it must be trained.")
    return f"{kind} at {rate:g}; {trainable:,} trainable parameters; one step trains the top block and nothing below it."


exercise_4 = Exercise(
    4,
    "unfreeze the top block and recompile",
    answer_name="start_fine_tuning",
    checker=_check_fine_tuning,
    hint=(
        "backbone.trainable = True, then for each layer of the backbone: trainable if its name is "
        "in top_layers and it is not a keras.layers.BatchNormalization. Changing trainable needs a "
        "new compile: model.compile(optimizer=keras.optimizers.Adam(learning_rate), "
        "loss='sparse_categorical_crossentropy', metrics=['accuracy'])."
    ),
    solution='''def start_fine_tuning(model, backbone, top_layers, learning_rate):
    """Phase 2: unfreeze the top layers (BatchNormalization stays frozen), recompile at a lower rate."""
    backbone.trainable = True
    for layer in backbone.layers:
        is_batch_norm = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = layer.name in top_layers and not is_batch_norm  # BN stays in inference mode
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model''',
)


# ------------------------------------------------------------------------------------------
# Exercise 5: batch normalisation in inference mode
# ------------------------------------------------------------------------------------------


def _reference_batchnorm(x, mean, variance, gamma, beta, epsilon):
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta


def _batch_statistics(x, mean, variance, gamma, beta, epsilon):
    axes = tuple(range(x.ndim - 1))
    return gamma * (x - x.mean(axes)) / np.sqrt(x.var(axes) + epsilon) + beta


_BATCHNORM_MISTAKES = [
    (_batch_statistics,
     "you normalised with the batch's own mean and variance: that is training mode. Inference "
     "mode uses the moving_mean and moving_variance it is given."),
    (lambda x, m, v, g, b, e: g * (x - m) / (v + e) + b,
     "you divided by the variance; divide by its square root (the standard deviation), sqrt(variance + epsilon)."),
    (lambda x, m, v, g, b, e: g * (x - m) / np.sqrt(v) + b, "you left out epsilon: sqrt(variance + epsilon)."),
    (lambda x, m, v, g, b, e: g * (x - m) / (np.sqrt(v) + e) + b,
     "epsilon goes inside the square root: sqrt(variance + epsilon), not sqrt(variance) + epsilon."),
    (lambda x, m, v, g, b, e: b * (x - m) / np.sqrt(v + e) + g,
     "gamma and beta are swapped: gamma scales (multiplies), beta shifts (is added)."),
    (lambda x, m, v, g, b, e: g * ((x - m) / np.sqrt(v + e) + b),
     "add beta after scaling by gamma: gamma * normalised + beta."),
    (lambda x, m, v, g, b, e: g * (x - m) / np.sqrt(v + e) - b, "add beta, do not subtract it."),
    (lambda x, m, v, g, b, e: (g * x - m) / np.sqrt(v + e) + b,
     "subtract the mean from x before scaling: gamma * (x - mean) / sqrt(variance + epsilon) + beta."),
    (lambda x, m, v, g, b, e: g * (x - m) * np.sqrt(v + e) + b,
     "divide by sqrt(variance + epsilon), do not multiply: normalising shrinks a wide channel."),
    (lambda x, m, v, g, b, e: (x - m) / np.sqrt(v + e),
     "you left out gamma and beta, the learned scale and shift: gamma * normalised + beta."),
]  # fmt: skip


def _check_batchnorm_inference(answer) -> str:
    rng = np.random.default_rng(6)
    inputs = []
    for shape, epsilon in (((4, 3), 1e-3), ((2, 5, 5, 8), 0.1), ((1, 1), 1e-3)):
        channels = shape[-1]
        x = rng.normal(2.0, 3.0, size=shape)
        mean, variance = rng.normal(size=channels), rng.uniform(0.5, 4.0, size=channels)
        gamma, beta = rng.normal(1.0, 0.3, size=channels), rng.normal(size=channels)
        inputs.append((x, mean, variance, gamma, beta, epsilon))
    ArrayClose(rtol=1e-5, atol=1e-6).check(
        answer, inputs, _reference_batchnorm, mistakes=_BATCHNORM_MISTAKES,
        shown=lambda x, *rest: (Shown(f"<x of shape {x.shape}>"), *map(Shown, ("mean", "variance", "gamma", "beta")),
                                rest[-1]),
        note="Expected gamma * (x - mean) / sqrt(variance + epsilon) + beta, per channel.",
    )  # fmt: skip
    return "That is exactly what a frozen BatchNormalization layer computes."


exercise_5 = Exercise(
    5,
    "batch normalisation in inference mode",
    answer_name="batchnorm_inference",
    checker=_check_batchnorm_inference,
    hint=(
        "Per channel (the last axis, which NumPy broadcasting lines up for you): subtract the "
        "moving mean, divide by sqrt(moving variance + epsilon), multiply by gamma, add beta."
    ),
    solution='''def batchnorm_inference(x, moving_mean, moving_variance, gamma, beta, epsilon):
    """What BatchNormalization computes with training=False, per channel (last axis)."""
    normalised = (x - moving_mean) / np.sqrt(moving_variance + epsilon)
    return gamma * normalised + beta''',
)


# ------------------------------------------------------------------------------------------
# Exercise 6: MobileNetV2's input scaling
# ------------------------------------------------------------------------------------------


_LIST_PIXELS = (
    "a list has no arithmetic and no .astype; turn the input into an array first: "
    "np.asarray(pixels, dtype='float64')."
)
_NOT_128 = "use 127.5, not 128: 255 must become exactly 1 and 0 exactly -1."
_MOBILENET_MISTAKES = [
    (lambda p: np.asarray(p, dtype=np.float64) / 255.0,
     "you scaled to [0, 1]. MobileNetV2 was trained on pixels in [-1, 1]: 0 must become -1 "
     "and 255 must become 1."),
    (lambda p: np.asarray(p, dtype=np.float64) / 127.5,
     "dividing by 127.5 gives [0, 2]; subtract 1 to land in [-1, 1]."),
    (lambda p: (np.asarray(p, dtype=np.float64) - 127.5) / 255.0,
     "(pixels - 127.5) / 255 lands in [-0.5, 0.5]; divide by 127.5 instead."),
    (lambda p: np.asarray(p, dtype=np.float64) / 127.5 + 1.0, "subtract 1 after dividing, do not add it."),
    (lambda p: np.asarray(p) // 127.5 - 1.0,
     "// is floor division: it throws away the fraction. Divide with /."),
    (lambda p: p * 2 / 255 - 1,
     "on uint8 pixels (the kind an image file gives you) pixels * 2 overflows: 200 * 2 wraps "
     "round to 144. Convert to float first: np.asarray(pixels, dtype='float64')."),
    (lambda p: np.asarray(p, dtype=np.float64) / 128.0 - 1.0, _NOT_128),
    (lambda p: (np.asarray(p, dtype=np.float64) - 128.0) / 128.0, _NOT_128),
    (lambda p: (np.asarray(p) - 128) / 128, _NOT_128),
    (lambda p: 1.0 - np.asarray(p, dtype=np.float64) / 127.5, "the sign is flipped: 0 must become -1 and 255 must become 1."),
    (lambda p: p.astype(np.float64) / 127.5 - 1.0, _LIST_PIXELS),
    (lambda p: p / 127.5 - 1.0, _LIST_PIXELS),
]  # fmt: skip


def _check_mobilenet_scaling(answer) -> str:
    rng = np.random.default_rng(9)
    inputs = [
        (np.array([0.0, 127.5, 255.0]),),
        (rng.integers(0, 256, size=(2, 4, 4, 3)).astype(np.float64),),
        (np.array([[51.0, 204.0]]),),
        (rng.integers(0, 256, size=(2, 3, 3, 3)).astype(np.uint8),),  # pixels as read from a file
        ([[0, 255], [200, 51]],),  # a list of pixel values
        (255,),  # a single pixel
    ]
    ArrayClose(atol=1e-6).check(
        answer, inputs, lambda pixels: np.asarray(pixels, dtype=np.float64) / 127.5 - 1.0,
        mistakes=_MOBILENET_MISTAKES,
        shown=lambda p: (p if isinstance(p, (int, list)) else Shown(f"<array of shape {p.shape}, dtype {p.dtype}>"),),
        note="Expected 0 -> -1, 127.5 -> 0, 255 -> 1.",
    )  # fmt: skip
    return "Same as keras.applications.mobilenet_v2.preprocess_input."


exercise_6 = Exercise(
    6,
    "MobileNetV2's input scaling",
    answer_name="scale_for_mobilenet",
    checker=_check_mobilenet_scaling,
    hint="A straight line through (0, -1) and (255, 1): divide by 127.5, then subtract 1.",
    solution='''def scale_for_mobilenet(pixels):
    """Pixels in [0, 255] to the [-1, 1] range MobileNetV2 expects."""
    return np.asarray(pixels, dtype="float64") / 127.5 - 1.0''',
)
