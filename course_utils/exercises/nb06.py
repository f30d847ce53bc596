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
    short_repr,
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
# Exercise 3: batch normalisation in inference mode
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


exercise_3 = Exercise(
    3,
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
# Exercise 4: MobileNetV2's input scaling
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


exercise_4 = Exercise(
    4,
    "MobileNetV2's input scaling",
    answer_name="scale_for_mobilenet",
    checker=_check_mobilenet_scaling,
    hint="A straight line through (0, -1) and (255, 1): divide by 127.5, then subtract 1.",
    solution='''def scale_for_mobilenet(pixels):
    """Pixels in [0, 255] to the [-1, 1] range MobileNetV2 expects."""
    return np.asarray(pixels, dtype="float64") / 127.5 - 1.0''',
)
