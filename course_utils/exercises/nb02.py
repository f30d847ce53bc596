"""Checks for notebook 02, shape and parameter arithmetic.

Expected values come from :mod:`course_utils.arithmetic`, whose formulas the unit tests check
against real Keras layers, and, for the model-summary exercise, from Keras itself.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils import arithmetic
from course_utils.checks import (
    Exact,
    Exercise,
    IncorrectAnswer,
    Shown,
    call_answer,
    describe_call,
    expect_equal,
    short_repr,
)

_CONV_OUTPUT_MISTAKES = [
    (lambda n, k, s, p: (n + 2 * p - k) / s + 1,
     "divide with // (floor): a window that does not fit is not used."),
    (lambda n, k, s, p: math.ceil((n + 2 * p - k) / s) + 1,
     "round down, not up: a window that would stick out past the padding is not used."),
    (lambda n, k, s, p: round((n + 2 * p - k) / s) + 1,
     "round() goes to the nearest whole number; a window that does not fit is never used, "
     "so always round down (//)."),
    (lambda n, k, s, p: (n + 2 * p - k) // s, "the first window position counts too: add 1."),
    (lambda n, k, s, p: (n + 2 * p - k + 1) // s,
     "the + 1 goes after the division: it counts the first window, which is not strided."),
    (lambda n, k, s, p: (n + p - k) // s + 1, "padding is added on both sides: + 2 * padding."),
    (lambda n, k, s, p: (n - k) // s + 1, "you left out the padding."),
    (lambda n, k, s, p: (n - 2 * p - k) // s + 1, "padding adds to the input: + 2 * padding, not - 2 * padding."),
    (lambda n, k, s, p: (n + 2 * p) // s, "a window needs kernel_size pixels to fit: take kernel_size off before dividing."),
    (lambda n, k, s, p: (n + 2 * p - s) // k + 1,
     "kernel_size and stride are the other way round: subtract the kernel size, divide by the stride."),
]  # fmt: skip


def _check_conv_output_size(answer) -> str:
    Exact().check(
        answer,
        [(32, 3, 1, 1), (32, 3, 2, 1), (28, 5, 1, 0), (227, 11, 4, 0), (7, 3, 2, 0),
         (10, 4, 3, 2), (15, 2, 4, 3), (9, 3, 3, 1)],
        lambda n, k, s, p: arithmetic.conv_output_size(n, k, stride=s, padding=p),
        mistakes=_CONV_OUTPUT_MISTAKES,
    )  # fmt: skip
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


_SAME_OUTPUT_MISTAKES = [
    (lambda n, s: n // s, "that is floor; 'same' keeps a partial last window, so round up (ceil)."),
    (lambda n, s: n, "with stride > 1, 'same' does not keep the size: it divides it by the stride."),
    (lambda n, s: n / s,
     "n / s is a fraction when the stride does not divide the size; the number of outputs is "
     "a whole number: round up, math.ceil(input_size / stride)."),
    (lambda n, s: round(n / s), "round() goes to the nearest number; 'same' always rounds up (ceil)."),
    (lambda n, s: n // s + 1,
     "n // s + 1 is one too many when the stride divides the size exactly; round up with "
     "math.ceil(n / s) (or -(-n // s))."),
    (lambda n, s: (n + 1) // s,
     "the whole-number way to round up is (n + s - 1) // s; (n + 1) // s only works for stride 2."),
]


def _check_same_output_size(answer) -> str:
    Exact().check(
        answer,
        [(32, 1), (32, 2), (31, 2), (7, 3), (224, 4), (5, 5), (1, 2), (32, 3)],
        lambda n, s: math.ceil(n / s),
        mistakes=_SAME_OUTPUT_MISTAKES,
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


_CONV2D_PARAM_MISTAKES = [
    (lambda k, c, f: k * k * c * f, "you left out the biases, one per filter."),
    (lambda k, c, f: k * k * f + f, "each filter spans every input channel: multiply by in_channels."),
    (lambda k, c, f: k * c * f + f, "the kernel is k x k: k * k weights per input channel."),
    (lambda k, c, f: k * k * c * f + c,
     "there is one bias per filter (output channel), not per input channel."),
    (lambda k, c, f: k * k * c * f + 1, "each of the filters has its own bias, not one for the whole layer."),
    (lambda k, c, f: (k * k * c + 1) * f + f, "you counted the biases twice: (k * k * in_channels + 1) * filters has them already."),
    (lambda k, c, f: (k * k + c) * f + f, "multiply the k * k window by the number of input channels, do not add them."),
    (lambda k, c, f: (k * k + 1) * c * f,
     "a filter has one bias in total, not one per input channel: + filters, not + in_channels * filters."),
]


def _check_conv2d_params(answer) -> str:
    Exact().check(
        answer,
        [(3, 3, 32), (1, 64, 32), (3, 64, 128), (5, 1, 6), (7, 3, 64), (3, 16, 8)],
        lambda k, c, f: arithmetic.conv2d_params(k, c, f),
        mistakes=_CONV2D_PARAM_MISTAKES,
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


_DENSE_PARAM_MISTAKES = [
    (lambda n, u: n * u, "you left out the biases, one per unit."),
    (lambda n, u: n * u + n, "there is one bias per unit (output), not per input feature."),
    (lambda n, u: n * u + 1, "each unit has its own bias, not one for the whole layer."),
    (lambda n, u: (n + 1) * (u + 1), "only the units have biases: (in_features + 1) * units."),
    (lambda n, u: n + u, "every input connects to every unit: multiply, in_features * units weights."),
]


def _check_dense_params(answer) -> str:
    Exact().check(
        answer,
        [(64 * 64 * 3, 32), (784, 10), (1, 1), (128, 256), (5, 3)],
        lambda n, u: arithmetic.dense_params(n, u),
        mistakes=_DENSE_PARAM_MISTAKES,
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


_SEPARABLE_PARAM_MISTAKES = [
    (lambda k, c, f: k * k * c * f + f,
     "that is a standard Conv2D; split it into a depthwise step (one k x k kernel per input "
     "channel) and a 1x1 pointwise step."),
    (lambda k, c, f: k * k * c + c + c * f + f,
     "SeparableConv2D has a single bias vector, after the pointwise step; the depthwise step has none."),
    (lambda k, c, f: k * k * c + c * f, "you left out the pointwise biases, one per filter."),
    (lambda k, c, f: c * f + f,
     "that is only the pointwise 1x1 step; add the depthwise step's k * k weights per input channel."),
    (lambda k, c, f: k * k * c * f + c * f + f,
     "the depthwise step has one k x k kernel per input channel, not per filter: k * k * in_channels."),
    (lambda k, c, f: k * c + c * f + f, "the depthwise kernel is k x k: k * k weights per input channel."),
    (lambda k, c, f: k * k * c + c * f + c, "the pointwise step has one bias per filter (output channel), not per input channel."),
    (lambda k, c, f: k * k + c * f + f,
     "the depthwise step has one k x k kernel for each input channel: k * k * in_channels weights."),
]  # fmt: skip


def _check_separable_params(answer) -> str:
    Exact().check(
        answer,
        [(3, 64, 128), (3, 32, 64), (5, 16, 16), (1, 8, 4), (3, 2, 5)],
        lambda k, c, f: arithmetic.separable_conv2d_params(k, c, f),
        mistakes=_SEPARABLE_PARAM_MISTAKES,
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


def _reference_receptive_field(layers):
    return arithmetic.receptive_field([tuple(layer) for layer in layers])[-1].receptive_field if layers else 1


def _field_loop(layers, *, start=1, widen=lambda k: k - 1, jump_of=lambda k, s: s, jump_first=False):
    field, jump = start, 1
    for k, s in layers:
        if jump_first:
            jump *= jump_of(k, s)
        field += widen(k) * jump
        if not jump_first:
            jump *= jump_of(k, s)
    return field


def _field_backwards_forwards(layers):
    field = 1
    for k, s in layers:
        field = field * s + (k - 1)
    return field


def _field_from_first_layer(layers):
    field, jump = layers[0][0], layers[0][1]
    for k, s in layers[1:]:
        field += (k - 1) * jump
        jump *= s
    return field


_RECEPTIVE_FIELD_MISTAKES = [
    (lambda layers: _field_loop(layers, jump_of=lambda k, s: 1),
     "that ignores the strides: after a stride-s layer, each further pixel of kernel spans s "
     "times more input pixels (the jump grows)."),
    (lambda layers: _field_loop(layers, jump_first=True),
     "a layer's own stride does not widen its own window: add (k - 1) * jump first, then "
     "multiply the jump by the stride."),
    (lambda layers: _field_loop(layers, widen=lambda k: k),
     "each layer widens the field by kernel_size - 1 jumps, not kernel_size: its window "
     "shares one position with the field so far."),
    (lambda layers: _field_loop(layers, start=0),
     "start from a field of 1 pixel (what the input itself sees), not 0."),
    (lambda layers: _field_loop(layers, jump_of=lambda k, s: k),
     "the jump is multiplied by each layer's stride, not its kernel size."),
    (lambda layers: _field_backwards_forwards(layers),
     "field = field * stride + (kernel_size - 1) is the formula for walking from the output back "
     "to the input; going forwards, keep the jump: field += (k - 1) * jump, then jump *= stride."),
    (lambda layers: 1 + sum((k - 1) * s for k, s in layers),
     "a layer widens the field by (k - 1) times the jump, the product of the strides of the "
     "layers BEFORE it, not by its own stride."),
    (lambda layers: _field_loop(layers[:-1]) if layers else 1,
     "the last layer widens the field too: loop over every layer."),
    (_field_from_first_layer,
     "an empty stack of layers sees 1 pixel: start from field 1 and jump 1 and loop over every "
     "layer, instead of starting from layers[0]."),
]


def _check_receptive_field(answer) -> str:
    stacks = [
        [(3, 1)],
        [(3, 1), (3, 1)],
        [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)],
        [(7, 2), (3, 2), (3, 1)],
        [(5, 1), (2, 2), (5, 1)],
        [[3, 2], [3, 2]],  # layers given as lists work the same
        [],  # no layers: a pixel sees itself
    ]
    Exact().check(
        answer, [(stack,) for stack in stacks], _reference_receptive_field, mistakes=_RECEPTIVE_FIELD_MISTAKES
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


# Per layer of build_summary_model: the likely wrong (output shape, parameter count) and why.
_SUMMARY_SHAPE_MISTAKES = {
    "Conv2D": [
        ((30, 30, 16), "padding='same' keeps the height and width (32 x 32); only 'valid' loses kernel_size - 1."),
        ((16, 16, 32), "this Conv2D has the default padding='valid': it loses kernel_size - 1 = 2 "
         "pixels, 16 -> 14."),
    ],
    "MaxPooling2D": [
        ((32, 32, 16), "MaxPooling2D(2) halves the height and width: 32 -> 16."),
        ((16, 16, 32), "pooling keeps the number of channels (16); only the next Conv2D changes it."),
    ],
    "BatchNormalization": [((16, 16, 32), "the previous Conv2D ('valid', 3x3) left 14 x 14; "
                            "BatchNormalization keeps the shape.")],
    "SeparableConv2D": [
        ((14, 14, 64), "strides=2 halves the height and width: 'same' gives ceil(14 / 2) = 7."),
        ((6, 6, 64), "with padding='same' the size is ceil(14 / 2) = 7; (14 - 3) // 2 + 1 = 6 is "
         "the 'valid' formula."),
        ((7, 7, 32), "a separable convolution outputs `filters` channels (64), like Conv2D."),
    ],
    "GlobalAveragePooling2D": [
        ((1, 1, 64), "GlobalAveragePooling2D drops the height and width axes: one number per channel, (64,)."),
        ((7, 7, 64), "GlobalAveragePooling2D averages over the height and width: (64,)."),
        ((7 * 7 * 64,), "GlobalAveragePooling2D is not Flatten: it averages each channel, leaving 64 numbers."),
    ],
    "Dense": [],
}  # fmt: skip
_SUMMARY_PARAM_MISTAKES = {
    "Conv2D": [
        (3 * 3 * 3 * 16, "you left out the biases of the first Conv2D: + 16."),
        (3 * 3 * 16 * 32, "you left out the biases of the second Conv2D: + 32."),
        (3 * 3 * 16 + 16, "each of the 16 filters spans all 3 input channels: 3 * 3 * 3 * 16 + 16."),
        (3 * 3 * 32 + 32, "each of the 32 filters spans all 16 input channels: 3 * 3 * 16 * 32 + 32."),
    ],
    "MaxPooling2D": [],
    "BatchNormalization": [
        (2 * 32, "BatchNormalization has 4 parameters per channel: gamma and beta (trainable) "
         "and the moving mean and variance (not trainable, but counted by model.summary())."),
        (4, "BatchNormalization has 4 parameters per channel, 4 * 32 in all."),
    ],
    "SeparableConv2D": [
        (3 * 3 * 32 + 32 + 32 * 64 + 64, "the depthwise step of SeparableConv2D has no bias; "
         "only the pointwise step has one per filter."),
        (3 * 3 * 32 * 64 + 64, "that is a standard Conv2D's count; SeparableConv2D has "
         "3 * 3 * 32 (depthwise) + 32 * 64 + 64 (pointwise)."),
        (3 * 3 * 32 + 32 * 64, "you left out the pointwise biases of SeparableConv2D: + 64."),
        (3 * 3 * 32 * 64 + 32 * 64 + 64, "the depthwise step has one 3 x 3 kernel per input "
         "channel (3 * 3 * 32), not one per filter."),
    ],
    "GlobalAveragePooling2D": [],
    "Dense": [
        (7 * 7 * 64 * 10 + 10, "the Dense layer sees the 64 numbers GlobalAveragePooling2D "
         "leaves, not a flattened 7 x 7 x 64 map: 64 * 10 + 10."),
        (64 * 10, "you left out the Dense layer's 10 biases."),
    ],
}  # fmt: skip


def _shape_tuple(shape, call):
    try:
        return tuple(int(n) if n is not None else None for n in shape)
    except TypeError:
        raise IncorrectAnswer(f"{call} is {short_repr(shape)}; write a shape as a tuple such as (32, 32, 16).") from None


def _check_summary_rows(answer) -> str:
    model = build_summary_model()
    expected = [
        (tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers
    ]
    rows = call_answer(answer)
    call = describe_call(answer, (), {})
    if isinstance(rows, (list, tuple)) and len(rows) == len(expected) + 1:
        raise IncorrectAnswer(
            f"{call} returned {len(rows)} rows; expected {len(expected)}, one per layer. "
            "keras.Input is not a layer and has no row in model.summary()."
        )
    if not isinstance(rows, (list, tuple)) or len(rows) != len(expected):
        raise IncorrectAnswer(
            f"{call} should return a list of {len(expected)} (output_shape, params) pairs, one "
            f"per layer; got {short_repr(rows)}."
        )
    for index, (row, (shape, params), layer) in enumerate(
        zip(rows, expected, model.layers, strict=True), start=1
    ):
        if not isinstance(row, (list, tuple)) or len(row) != 2:
            raise IncorrectAnswer(f"row {index} should be a pair (output_shape, params), got {short_repr(row)}.")
        kind = type(layer).__name__
        got_shape = _shape_tuple(row[0], f"row {index} ({kind}) output shape")
        if got_shape == (None, *shape):
            raise IncorrectAnswer(
                f"row {index} ({kind}): output shape {got_shape}, expected {shape}. Leave out the "
                "batch axis (None): the rows hold the shape of one example."
            )
        expect_equal(
            got_shape, shape, call=f"row {index} ({kind}) output shape",
            mistakes=[(wrong, text) for wrong, text in _SUMMARY_SHAPE_MISTAKES[kind] if wrong != shape],
        )  # fmt: skip
        expect_equal(
            row[1], params, call=f"row {index} ({kind}) parameter count",
            mistakes=[(wrong, text) for wrong, text in _SUMMARY_PARAM_MISTAKES[kind] if wrong != params],
        )  # fmt: skip
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


# ------------------------------------------------------------------------------------------
# Keras exercises: a stack designed to a receptive field under a budget; a separable block.
# ------------------------------------------------------------------------------------------

FIELD_GOAL, PARAM_BUDGET, STACK_INPUT = 30, 12_000, (64, 64, 3)
_WINDOW_LAYERS = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D")


def stack_receptive_field(model) -> int:
    """Receptive field (pixels, along the height) of the model's last sliding-window layer."""
    from course_utils.exercises import _keras_checks as kc

    steps = []
    for layer in kc.all_layers(model):
        kind = type(layer).__name__
        if kind not in _WINDOW_LAYERS:
            continue
        config = layer.get_config()
        if kind.endswith("Pooling2D"):
            size = config["pool_size"][0]
            stride = (config.get("strides") or config["pool_size"])[0]
            steps.append((size, stride, 1))
        else:
            steps.append((config["kernel_size"][0], config["strides"][0], config["dilation_rate"][0]))
    found = arithmetic.receptive_field(steps)
    return found[-1].receptive_field if found else 1


def _check_design_stack(answer) -> str:
    import keras

    from course_utils.exercises import _keras_checks as kc

    call = describe_call(answer, (), {})
    model = kc.as_model(call_answer(answer), call)
    if tuple(model.input_shape) != (None, *STACK_INPUT):
        raise IncorrectAnswer(f"{call}: the input shape is {model.input_shape}; start with keras.Input(shape={STACK_INPUT}).")
    kinds = [type(layer).__name__ for layer in kc.all_layers(model)]
    if {"Flatten", "Dense"} & set(kinds):
        raise IncorrectAnswer(
            f"{call}: the stack has {sorted({'Flatten', 'Dense'} & set(kinds))}; a feature extractor here is "
            "convolutions and pooling only (a Dense layer sees every pixel and spends parameters on it)."
        )
    field = stack_receptive_field(model)
    params = model.count_params()
    if field < FIELD_GOAL and all(layer_stride == 1 for layer_stride in _strides(model)):
        raise IncorrectAnswer(
            f"{call}: the receptive field is {field} pixels; every layer has stride 1, so each adds only "
            f"kernel_size - 1. Pooling or strides multiply what later layers add: reach {FIELD_GOAL}."
        )
    if field < FIELD_GOAL:
        raise IncorrectAnswer(f"{call}: the receptive field is {field} pixels; the goal is at least {FIELD_GOAL}.")
    big = [layer for layer in kc.all_layers(model) if type(layer).__name__ == "Conv2D" and layer.get_config()["kernel_size"][0] >= 7]
    if params > PARAM_BUDGET and big:
        raise IncorrectAnswer(
            f"{call}: {params:,} parameters, over the budget of {PARAM_BUDGET:,}: a {big[0].get_config()['kernel_size'][0]}x"
            f"{big[0].get_config()['kernel_size'][0]} kernel costs k * k * C_in * C_out. Stacked 3x3 layers with "
            "pooling reach as far for far fewer weights."
        )
    if params > PARAM_BUDGET:
        raise IncorrectAnswer(
            f"{call}: {params:,} parameters, over the budget of {PARAM_BUDGET:,}. Fewer filters (a layer costs "
            "3 * 3 * C_in * C_out + C_out), or separable convolutions."
        )
    if len(model.output_shape) != 4 or model.output_shape[-1] < 8:
        raise IncorrectAnswer(f"{call}: the output is {model.output_shape}; end with feature maps of at least 8 channels.")
    del keras
    return f"Receptive field {field} pixels with {params:,} parameters."


def _strides(model):
    from course_utils.exercises import _keras_checks as kc

    for layer in kc.all_layers(model):
        kind = type(layer).__name__
        if kind in _WINDOW_LAYERS:
            config = layer.get_config()
            yield (config.get("strides") or config.get("pool_size"))[0]


exercise_8 = Exercise(
    8,
    "a stack that sees far enough, within a budget",
    answer_name="design_stack",
    checker=_check_design_stack,
    hint=(
        "Plan with the table of section 4 before you write Keras: r += (k - 1) * j, j *= s. "
        "Which layers make j grow, and what do they cost? Then count each convolution's parameters "
        "as in exercise 3 and keep the total under the budget."
    ),
    solution='''def design_stack():
    """Convolutions and pooling on 64x64x3 images: receptive field >= 30, at most 12,000 parameters."""
    return keras.Sequential(
        [
            keras.Input(shape=(64, 64, 3)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        ]
    )''',
)


def build_conv_block():
    """The block of exercise 9: two 3x3 convolutions, 32 -> 64 -> 64 channels, on 16x16 maps."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(16, 16, 32)),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
        ],
        name="conv_block",
    )


def _check_separable_block(answer) -> str:
    from course_utils.exercises import _keras_checks as kc

    block = build_conv_block()
    call = describe_call(answer, (Shown("<conv_block>"),), {})
    got = call_answer(answer, block)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise IncorrectAnswer(f"{call} should return a pair (separable model, predicted saving); got {short_repr(got)}.")
    model, saving = kc.as_model(got[0], call), got[1]
    convs = [layer for layer in kc.all_layers(block) if type(layer).__name__ == "Conv2D"]
    mine = [layer for layer in kc.all_layers(model) if type(layer).__name__ in ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")]
    kinds = [type(layer).__name__ for layer in mine]
    if "Conv2D" in kinds:
        raise IncorrectAnswer(f"{call}: the model still has Conv2D layers ({kinds}); replace each by a SeparableConv2D.")
    if kinds and set(kinds) == {"DepthwiseConv2D"}:
        raise IncorrectAnswer(
            f"{call}: DepthwiseConv2D alone filters each channel but never mixes them, and keeps the channel "
            "count; SeparableConv2D adds the 1x1 pointwise step that does both."
        )
    if len(mine) != len(convs):
        raise IncorrectAnswer(f"{call}: the block has {len(convs)} convolutions; the separable version has {len(mine)}.")
    if tuple(model.input_shape) != tuple(block.input_shape):
        raise IncorrectAnswer(f"{call}: the input shape is {model.input_shape}; keep the block's {block.input_shape}.")
    for index, (old, new) in enumerate(zip(convs, mine, strict=True), start=1):
        a, b = old.get_config(), new.get_config()
        for key in ("filters", "kernel_size", "strides", "padding"):
            if tuple(np.atleast_1d(a[key])) != tuple(np.atleast_1d(b[key])):
                raise IncorrectAnswer(
                    f"{call}: convolution {index} has {key}={b[key]!r}, the block's has {a[key]!r}; a separable "
                    "version keeps everything but the way the kernel is factored."
                )
        if kc._activation_name(new.activation) != kc._activation_name(old.activation):
            raise IncorrectAnswer(f"{call}: convolution {index} lost its activation ({kc._activation_name(old.activation)}).")
    if tuple(model.output_shape) != tuple(block.output_shape):
        raise IncorrectAnswer(f"{call}: the output shape is {model.output_shape}, the block's is {block.output_shape}.")
    expected = block.count_params() - model.count_params()
    with_depthwise_bias = expected - sum(int(old.kernel.shape[2]) for old in convs)  # one bias per input channel
    expect_equal(
        saving, expected, call=f"{call}: the predicted saving",
        mistakes=[
            (model.count_params(), "that is the separable version's own count; the saving is the block's count minus it."),
            (round(block.count_params() / model.count_params(), 2),
             "that is a ratio; the saving is a difference in parameters: block minus separable."),
            (with_depthwise_bias, "the depthwise step has no bias: SeparableConv2D has one bias per filter only."),
            (-expected, "the saving is the block's count minus the separable one's, a positive number."),
        ],
    )  # fmt: skip
    return f"{block.count_params():,} -> {model.count_params():,} parameters: {expected:,} saved, as summary() confirms."


exercise_9 = Exercise(
    9,
    "the separable version of a block, and its saving",
    answer_name="separable_block",
    checker=_check_separable_block,
    hint=(
        "Walk block.layers and read each layer's settings with layer.get_config(); build a "
        "SeparableConv2D with the same filters, kernel_size, strides, padding and activation. Count "
        "each version with the formulas of exercises 3 and 5, before calling count_params()."
    ),
    solution='''def separable_block(block):
    """(the block with each Conv2D made separable, parameters saved predicted by formula)."""
    layers, saving, channels = [keras.Input(shape=block.input_shape[1:])], 0, block.input_shape[-1]
    for conv in block.layers:
        c = conv.get_config()
        layers.append(
            keras.layers.SeparableConv2D(
                c["filters"], c["kernel_size"], strides=c["strides"], padding=c["padding"],
                activation=c["activation"],
            )
        )
        k, filters = c["kernel_size"][0], c["filters"]
        standard = k * k * channels * filters + filters
        separable = k * k * channels + channels * filters + filters
        saving += standard - separable
        channels = filters
    return keras.Sequential(layers), saving''',
)


# ------------------------------------------------------------------------------------------
# Exercise 10: the parameters of a residual block, with or without a projection shortcut.
# ------------------------------------------------------------------------------------------


def _residual_count(c, f, s, b, *, project=None, norm=4, biases=None, second_in=None, projection_kernel=1,
                    projection_norm=True, projection_bias=True, add_weights=0, one_norm=False):  # fmt: skip
    """The block's count with one step of the reasoning changed (the keywords): the mistakes."""
    bias = f if (b if biases is None else biases) else 0
    needs = (s != 1 or c != f) if project is None else project(c, f, s)
    total = 3 * 3 * c * f + bias + norm * f
    total += 3 * 3 * (f if second_in is None else second_in(c, f)) * f + bias + norm * f
    if needs:
        total += projection_kernel**2 * c * f + (bias if projection_bias else 0)
        total += norm * f if projection_norm else 0
    if one_norm:  # one BatchNormalization for the whole block instead of one per convolution
        total -= norm * f * (1 + needs)
    return total + add_weights * f


_RESIDUAL_MISTAKES = [
    (lambda c, f, s, b: _residual_count(c, f, s, b, project=lambda c, f, s: False),
     "when the block changes the channels or has a stride, the input no longer has the output's shape "
     "and Add needs a 1x1 projection shortcut: count its weights too."),
    (lambda c, f, s, b: _residual_count(c, f, s, b, project=lambda c, f, s: c != f),
     "a stride changes the height and width as well: with stride 2 the shortcut is a 1x1 projection "
     "with stride 2 even when the channel counts match."),
    (lambda c, f, s, b: _residual_count(c, f, s, b, project=lambda c, f, s: s != 1),
     "an output with a different number of channels (more or fewer) than the input also needs "
     "the projection: Add cannot sum tensors with different channel counts."),
    (lambda c, f, s, b: _residual_count(c, f, s, b, project=lambda c, f, s: True),
     "when the input already has the output's shape (stride 1, as many channels in as out) the "
     "shortcut is the identity, which is not a layer and has no weights."),
    (lambda c, f, s, b: _residual_count(c, f, s, b, norm=2),
     "count_params() counts 4 numbers per channel of a BatchNormalization layer: gamma and beta, "
     "and the moving mean and variance (not trainable, but weights all the same)."),
    (lambda c, f, s, b: _residual_count(c, f, s, b, norm=0),
     "every convolution of the block is followed by a BatchNormalization layer with 4 * filters weights."),
    (lambda c, f, s, b: _residual_count(c, f, s, b, biases=True),
     "with use_bias=False the convolutions have no biases: BatchNormalization's beta does their job."),
    (lambda c, f, s, b: _residual_count(c, f, s, b, biases=False),
     "with use_bias=True every convolution has one bias per filter, the projection's included."),
    (lambda c, f, s, b: _residual_count(c, f, s, b, second_in=lambda c, f: c),
     "the second 3x3 convolution reads the first one's output: it has `filters` input channels, "
     "not in_channels."),
    (lambda c, f, s, b: _residual_count(c, f, s, b, projection_kernel=3),
     "the projection is a 1x1 convolution: in_channels * filters weights, not 3 * 3 * in_channels * filters."),
    (lambda c, f, s, b: _residual_count(c, f, s, b, projection_kernel=0) + (f * f if (s != 1 or c != f) else 0),
     "the projection reads the block's input: in_channels * filters weights, not filters * filters."),
    (lambda c, f, s, b: _residual_count(c, f, s, b, projection_norm=False),
     "the projection shortcut has its own BatchNormalization layer: 4 * filters more weights."),
    (lambda c, f, s, b: _residual_count(c, f, s, b, projection_bias=False),
     "the projection is a convolution like the other two: with use_bias=True it has `filters` biases too."),
    (lambda c, f, s, b: _residual_count(c, f, s, b, one_norm=True),
     "each convolution has its own BatchNormalization (two, or three with a projection), not one "
     "for the whole block."),
    (lambda c, f, s, b: _residual_count(c, f, s, b, add_weights=1),
     "Add has no weights: it sums the two branches element by element, like the identity shortcut."),
]  # fmt: skip


def _check_residual_block_params(answer) -> str:
    Exact().check(
        answer,
        [(64, 64, 1, False), (64, 128, 2, False), (32, 32, 2, False), (16, 32, 1, True),
         (64, 64, 1, True), (3, 16, 1, False), (8, 8, 2, True), (128, 64, 1, False)],
        lambda c, f, s, b: arithmetic.residual_block_params(c, f, stride=s, use_bias=b),
        mistakes=_RESIDUAL_MISTAKES,
    )  # fmt: skip
    identity = arithmetic.residual_block_params(64, 64)
    projected = arithmetic.residual_block_params(64, 128, stride=2)
    shortcut = 64 * 128 + 4 * 128
    return (
        f"64 -> 64 with the identity: {identity:,} parameters; 64 -> 128 with stride 2: "
        f"{projected:,}, {shortcut:,} of them in the projection shortcut."
    )


exercise_10 = Exercise(
    10,
    "parameters of a residual block",
    answer_name="residual_block_param_count",
    checker=_check_residual_block_params,
    hint=(
        "Count layer by layer: two 3x3 convolutions (the first from in_channels, the second from "
        "filters channels), each followed by BatchNormalization (4 * filters). The shortcut has "
        "weights only when stride != 1 or in_channels != filters: then it is a 1x1 convolution "
        "plus its own BatchNormalization. use_bias=True adds `filters` to every convolution; Add "
        "and ReLU have none."
    ),
    solution='''def residual_block_param_count(in_channels, filters, stride, use_bias):
    """Parameters of the residual block of section 7, as count_params() counts them."""
    bias = filters if use_bias else 0
    batch_norm = 4 * filters  # gamma, beta, moving mean, moving variance
    total = 3 * 3 * in_channels * filters + bias + batch_norm  # first 3x3 convolution
    total += 3 * 3 * filters * filters + bias + batch_norm  # second 3x3 convolution
    if stride != 1 or in_channels != filters:  # Add needs equal shapes: a 1x1 projection
        total += in_channels * filters + bias + batch_norm
    return total''',
)
