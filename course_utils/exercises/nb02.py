"""Checks for notebook 02, shape and parameter arithmetic.

Expected values come from :mod:`course_utils.arithmetic`, whose formulas the unit tests check
against real Keras layers, and, for the model-summary exercise, from Keras itself.
"""

from __future__ import annotations

import math

from course_utils import arithmetic
from course_utils.checks import Exercise, IncorrectAnswer, call_answer, describe_call, expect_equal


def _check_cases(answer, cases, expected_of, mistakes_of):
    for args in cases:
        expect_equal(
            call_answer(answer, *args),
            expected_of(*args),
            call=describe_call(answer, args, {}),
            mistakes=mistakes_of(*args),
        )


def _check_conv_output_size(answer) -> str:
    cases = [(32, 3, 1, 1), (32, 3, 2, 1), (28, 5, 1, 0), (227, 11, 4, 0), (7, 3, 2, 0), (10, 4, 3, 2)]

    def mistakes(n, k, s, p):
        return {
            (n + 2 * p - k) / s + 1: "divide with // (floor): a window that does not fit is not used.",
            (n + 2 * p - k) // s: "the first window position counts too: add 1.",
            (n + p - k) // s + 1: "padding is added on both sides: 2 * padding.",
            (n - k) // s + 1: "you left out the padding.",
        }

    _check_cases(
        answer,
        cases,
        lambda n, k, s, p: arithmetic.conv_output_size(n, k, stride=s, padding=p),
        mistakes,
    )
    return "O = floor((W + 2P - K) / S) + 1."


exercise_1 = Exercise(
    1,
    "output size of a convolution",
    answer_name="conv_output_size",
    checker=_check_conv_output_size,
    hint=(
        "Pad the input: it is now W + 2P wide. Count the positions where a K-wide window fits "
        "when it moves S pixels at a time: the first one, plus floor((W + 2P - K) / S) more."
    ),
    solution='''def conv_output_size(input_size, kernel_size, stride, padding):
    """Output width of a convolution with explicit zero padding on each side."""
    return (input_size + 2 * padding - kernel_size) // stride + 1''',
)


def _check_same_output_size(answer) -> str:
    cases = [(32, 1), (32, 2), (31, 2), (7, 3), (224, 4), (5, 5), (1, 2)]
    _check_cases(
        answer,
        cases,
        lambda n, s: math.ceil(n / s),
        lambda n, s: {
            n // s: "that is floor; 'same' keeps a partial last window, so round up (ceil).",
            n: "with stride > 1, 'same' does not keep the size: it divides it by the stride.",
        },
    )
    return "'same' gives ceil(W / S), whatever the kernel size."


exercise_2 = Exercise(
    2,
    "output size with padding='same'",
    answer_name="same_output_size",
    checker=_check_same_output_size,
    hint=(
        "Keras pads just enough that the number of window positions is the number of strides "
        "that start inside the input: W / S, rounded up. The kernel size does not matter."
    ),
    solution='''def same_output_size(input_size, stride):
    """Output width of a Keras convolution or pooling layer with padding="same"."""
    return math.ceil(input_size / stride)''',
)


def _check_conv2d_params(answer) -> str:
    cases = [(3, 3, 32), (1, 64, 32), (3, 64, 128), (5, 1, 6), (7, 3, 64)]
    _check_cases(
        answer,
        cases,
        lambda k, c, f: arithmetic.conv2d_params(k, c, f),
        lambda k, c, f: {
            k * k * c * f: f"you left out the {f} biases, one per filter.",
            k * k * f + f: "each filter spans every input channel: multiply by in_channels.",
            k * c * f + f: "the kernel is k x k: k * k weights per input channel.",
        },
    )
    return "Conv2D(32, 3) on RGB has 3*3*3*32 + 32 = 896 parameters."


exercise_3 = Exercise(
    3,
    "parameters of a Conv2D layer",
    answer_name="conv2d_param_count",
    checker=_check_conv2d_params,
    hint=(
        "Each of the `filters` kernels has kernel_size x kernel_size x in_channels weights, "
        "and each filter has one bias."
    ),
    solution='''def conv2d_param_count(kernel_size, in_channels, filters):
    """Weights and biases of a square-kernel Conv2D layer."""
    return kernel_size * kernel_size * in_channels * filters + filters''',
)


def _check_dense_params(answer) -> str:
    cases = [(64 * 64 * 3, 32), (784, 10), (1, 1), (128, 256)]
    _check_cases(
        answer,
        cases,
        lambda n, u: arithmetic.dense_params(n, u),
        lambda n, u: {n * u: f"you left out the {u} biases, one per unit."},
    )
    return "Dense(32) on a flattened 64x64x3 image: 393,216 weights + 32 biases = 393,248."


exercise_4 = Exercise(
    4,
    "parameters of a Dense layer",
    answer_name="dense_param_count",
    checker=_check_dense_params,
    hint="One weight per (input, unit) pair, plus one bias per unit.",
    solution='''def dense_param_count(in_features, units):
    """Weights and biases of a Dense layer."""
    return in_features * units + units''',
)


def _check_separable_params(answer) -> str:
    cases = [(3, 64, 128), (3, 32, 64), (5, 16, 16), (1, 8, 4)]
    _check_cases(
        answer,
        cases,
        lambda k, c, f: arithmetic.separable_conv2d_params(k, c, f),
        lambda k, c, f: {
            k * k * c * f + f: "that is a standard Conv2D; split it into a depthwise step "
            "(one k x k kernel per input channel) and a 1x1 pointwise step.",
            k * k * c + c + c * f + f: "SeparableConv2D has a single bias vector, after the "
            "pointwise step; the depthwise step has none.",
            k * k * c + c * f: f"you left out the {f} pointwise biases.",
        },
    )
    return "3x3 separable 64->128: 576 + 8,192 + 128 = 8,896, versus 73,856 for Conv2D."


exercise_5 = Exercise(
    5,
    "parameters of a SeparableConv2D layer",
    answer_name="separable_param_count",
    checker=_check_separable_params,
    hint=(
        "Depthwise step: one kernel_size x kernel_size kernel per input channel, no bias. "
        "Pointwise step: a 1x1 convolution from in_channels to filters, with biases."
    ),
    solution='''def separable_param_count(kernel_size, in_channels, filters):
    """Parameters of SeparableConv2D (depth_multiplier=1, one bias per output filter)."""
    depthwise = kernel_size * kernel_size * in_channels
    pointwise = in_channels * filters + filters
    return depthwise + pointwise''',
)


def _check_receptive_field(answer) -> str:
    stacks = [
        [(3, 1)],
        [(3, 1), (3, 1)],
        [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)],
        [(7, 2), (3, 2), (3, 1)],
        [(5, 1), (2, 2), (5, 1)],
    ]
    for stack in stacks:
        expected = arithmetic.receptive_field(stack)[-1].receptive_field
        additive = 1 + sum(k - 1 for k, _ in stack)
        expect_equal(
            call_answer(answer, list(stack)),
            expected,
            call=describe_call(answer, (stack,), {}),
            mistakes={
                additive: "that ignores the strides: after a stride-s layer, each further "
                "pixel of kernel spans s times more input pixels (the jump grows)."
            }
            if additive != expected
            else None,
        )
    return "Strides and pooling multiply the jump, so later layers see much further."


exercise_6 = Exercise(
    6,
    "receptive field of a stack of layers",
    answer_name="receptive_field_size",
    checker=_check_receptive_field,
    hint=(
        "Keep two numbers: the receptive field r (start 1) and the jump j, the distance in input "
        "pixels between neighbouring outputs (start 1). For each (k, s): r += (k - 1) * j, "
        "then j *= s."
    ),
    solution='''def receptive_field_size(layers):
    """Receptive field (in input pixels) after a stack of (kernel_size, stride) layers."""
    field, jump = 1, 1
    for kernel_size, stride in layers:
        field += (kernel_size - 1) * jump
        jump *= stride
    return field''',
)


def build_summary_model():
    """The model of exercise 7, built here so the check compares with Keras itself."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.SeparableConv2D(64, 3, strides=2, padding="same"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def _check_summary_rows(answer) -> str:
    model = build_summary_model()
    expected = [
        (tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers
    ]
    rows = call_answer(answer)
    call = describe_call(answer, (), {})
    if not isinstance(rows, (list, tuple)) or len(rows) != len(expected):
        raise IncorrectAnswer(
            f"{call} should return a list of {len(expected)} (output_shape, params) pairs, one "
            f"per layer; got {rows!r:.80}."
        )
    for index, (row, (shape, params), layer) in enumerate(
        zip(rows, expected, model.layers, strict=True), start=1
    ):
        if not isinstance(row, (list, tuple)) or len(row) != 2:
            raise IncorrectAnswer(f"row {index} should be a pair (output_shape, params), got {row!r}.")
        got_shape, got_params = row
        kind = type(layer).__name__
        if tuple(got_shape) != shape:
            raise IncorrectAnswer(
                f"row {index} ({kind}): output shape {tuple(got_shape)}, expected {shape} "
                "(without the batch axis)."
            )
        expect_equal(got_params, params, call=f"row {index} ({kind}) parameter count")
    total = sum(p for _, p in expected)
    return f"All {len(expected)} rows match model.summary(): {total:,} parameters in total."


exercise_7 = Exercise(
    7,
    "predict model.summary()",
    answer_name="summary_rows",
    checker=_check_summary_rows,
    hint=(
        "Go layer by layer and carry the shape along. 'same' keeps H and W (divided by the "
        "stride), 'valid' loses kernel_size - 1, pooling divides by 2, global pooling keeps only "
        "the channels. BatchNormalization has 4 parameters per channel (2 of them trainable)."
    ),
    solution='''def summary_rows():
    """(output shape without the batch axis, parameter count) for each layer, in order."""
    return [
        ((32, 32, 16), 3 * 3 * 3 * 16 + 16),
        ((16, 16, 16), 0),
        ((14, 14, 32), 3 * 3 * 16 * 32 + 32),
        ((14, 14, 32), 4 * 32),
        ((7, 7, 64), 3 * 3 * 32 + 32 * 64 + 64),
        ((64,), 0),
        ((10,), 64 * 10 + 10),
    ]''',
)
