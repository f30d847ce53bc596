"""Checks for notebook 06, transfer learning with the course's pretrained backbone."""

from __future__ import annotations

import math

import numpy as np

from course_utils.checks import (
    Exercise,
    IncorrectAnswer,
    as_number_array,
    call_answer,
    describe_call,
    expect_equal,
    short_repr,
)

# ------------------------------------------------------------------------------------------
# Exercise 1: the same budget of gradient steps
# ------------------------------------------------------------------------------------------


def _reference_epochs(n_examples, batch_size, steps):
    return math.ceil(steps / math.ceil(n_examples / batch_size))


def _check_epochs_for_budget(answer) -> str:
    for n_examples, batch_size, steps in (
        (50, 32, 100), (100, 32, 100), (200, 32, 100), (500, 32, 100),
        (64, 32, 10), (65, 32, 10), (10, 32, 7), (1000, 100, 35), (3, 1, 3),
    ):  # fmt: skip
        args = (n_examples, batch_size, steps)
        steps_per_epoch = math.ceil(n_examples / batch_size)
        expect_equal(
            call_answer(answer, *args),
            _reference_epochs(*args),
            call=describe_call(answer, args, {}),
            mistakes={
                steps // steps_per_epoch: "rounding down gives fewer steps than the budget; "
                "round up so every size gets at least `steps` updates.",
                math.ceil(steps / (n_examples / batch_size)): "an epoch has "
                "ceil(n_examples / batch_size) steps: the last, smaller batch is a step too.",
                math.ceil(steps * batch_size / n_examples): "an epoch has "
                "ceil(n_examples / batch_size) steps: the last, smaller batch is a step too.",
                steps: "that is the number of steps, not epochs.",
            },
        )
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


def _check_layers_to_unfreeze(answer) -> str:
    for blocks, top in ((3, 1), (3, 2), (3, 0), (5, 2), (3, 3), (12, 1)):
        names = _backbone_layer_names(blocks)
        args = (list(names), top)
        call = describe_call(answer, (f"<{len(names)} layer names of {blocks} blocks>", top), {})
        got = call_answer(answer, *args)
        if isinstance(got, str) or not hasattr(got, "__iter__"):
            raise IncorrectAnswer(f"{call} returned {short_repr(got)}; return a list of layer names.")
        got = list(got)
        if not all(isinstance(name, str) for name in got):
            raise IncorrectAnswer(
                f"{call} returned {short_repr(got)}; return the layer names themselves "
                "(strings such as 'block3_conv1'), not indices or layers."
            )
        expected = _reference_top_blocks(names, top)
        if got == expected:
            continue
        if top and any(n.startswith("block1_") for n in got) and blocks > top:
            raise IncorrectAnswer(
                f"{call} returned layers of block 1. The *top* blocks are the last ones, "
                f"closest to the output: for {top} of {blocks} blocks, block{blocks - top + 1} "
                f"to block{blocks}."
            )
        if set(got) == set(expected):
            raise IncorrectAnswer(f"{call} returned the right names in another order; keep "
                                  "the order of layer_names.")  # fmt: skip
        missing = [n for n in expected if n not in got][:3]
        extra = [n for n in got if n not in expected][:3]
        raise IncorrectAnswer(
            f"{call}: expected {len(expected)} names, got {len(got)}. "
            + (f"Missing e.g. {missing}. " if missing else "")
            + (f"Not in the top blocks: {extra}. " if extra else "")
            + "Compare block numbers as numbers: 'block12' is not in block 1."
        )
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


def _check_batchnorm_inference(answer) -> str:
    rng = np.random.default_rng(6)
    for shape in ((4, 3), (2, 5, 5, 8), (1, 1)):
        channels = shape[-1]
        x = rng.normal(2.0, 3.0, size=shape)
        mean, variance = rng.normal(size=channels), rng.uniform(0.5, 4.0, size=channels)
        gamma, beta = rng.normal(1.0, 0.3, size=channels), rng.normal(size=channels)
        epsilon = 1e-3
        args = (x, mean, variance, gamma, beta, epsilon)
        call = describe_call(answer, (f"<x of shape {shape}>", "mean", "variance", "gamma", "beta", epsilon), {})
        got = as_number_array(call_answer(answer, *(np.copy(a) for a in args)), call)
        expected = _reference_batchnorm(*args)
        if got.shape != expected.shape:
            raise IncorrectAnswer(f"{call} returned shape {got.shape}, expected {expected.shape}.")
        if np.allclose(got, expected, rtol=1e-5, atol=1e-6):
            continue
        batch_axes = tuple(range(x.ndim - 1))
        batch_stats = gamma * (x - x.mean(batch_axes)) / np.sqrt(x.var(batch_axes) + epsilon) + beta
        if np.allclose(got, batch_stats, rtol=1e-5, atol=1e-6):
            raise IncorrectAnswer(
                f"{call} normalised with the batch's own mean and variance: that is training "
                "mode. Inference mode uses the moving_mean and moving_variance it is given."
            )
        if np.allclose(got, gamma * (x - mean) / (variance + epsilon) + beta, rtol=1e-5):
            raise IncorrectAnswer(f"{call} divided by the variance; divide by its square root "
                                  "(the standard deviation), sqrt(variance + epsilon).")  # fmt: skip
        if np.allclose(got, gamma * (x - mean) / np.sqrt(variance) + beta, rtol=1e-5):
            raise IncorrectAnswer(f"{call} left out epsilon: sqrt(variance + epsilon).")
        raise IncorrectAnswer(
            f"{call} differs from gamma * (x - mean) / sqrt(variance + epsilon) + beta by up "
            f"to {np.max(np.abs(got - expected)):.3g}."
        )
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


def _check_mobilenet_scaling(answer) -> str:
    rng = np.random.default_rng(9)
    for pixels in (
        np.array([0.0, 127.5, 255.0]),
        rng.integers(0, 256, size=(2, 4, 4, 3)).astype(np.float64),
        np.array([[51.0, 204.0]]),
    ):
        call = describe_call(answer, (pixels,), {})
        got = as_number_array(call_answer(answer, pixels.copy()), call)
        expected = pixels / 127.5 - 1.0
        if got.shape == expected.shape and np.allclose(got, expected, atol=1e-6):
            continue
        if got.shape == expected.shape and np.allclose(got, pixels / 255.0, atol=1e-6):
            raise IncorrectAnswer(
                f"{call} scaled to [0, 1]. MobileNetV2 was trained on pixels in [-1, 1]: "
                "0 must become -1 and 255 must become 1."
            )
        raise IncorrectAnswer(
            f"{call} returned {got.ravel()[:4]}..., expected {expected.ravel()[:4]}...: "
            "0 -> -1, 127.5 -> 0, 255 -> 1."
        )
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
