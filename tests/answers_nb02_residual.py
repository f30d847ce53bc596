"""Answer table of notebook 02's exercise 10 (parameters of a residual block), read by
tests/test_exercise_answers.py.

Each wrong answer is written the way a learner might write it, apart from the check's own
mistake functions; the piece of text is what the check must say about it (and, for the named
mistakes, no other mistake's explanation).
"""

from __future__ import annotations

import numpy as np


def _conv(kernel, c_in, c_out, use_bias):
    return kernel * kernel * c_in * c_out + (c_out if use_bias else 0)


def _main(in_channels, filters, use_bias):
    """The two 3x3 convolutions and their BatchNormalization layers, counted right."""
    first, second = _conv(3, in_channels, filters, use_bias), _conv(3, filters, filters, use_bias)
    return first + second + 8 * filters


# --- named mistakes, one per explanation of the check ---------------------------------------


def _never_projects(in_channels, filters, stride, use_bias):
    # the shortcut is "just the input": no weights, whatever the shapes
    return (_conv(3, in_channels, filters, use_bias) + 4 * filters
            + _conv(3, filters, filters, use_bias) + 4 * filters)  # fmt: skip


def _projects_only_for_channels(in_channels, filters, stride, use_bias):
    total = _main(in_channels, filters, use_bias)
    if in_channels != filters:
        total += _conv(1, in_channels, filters, use_bias) + 4 * filters
    return total


def _always_projects(in_channels, filters, stride, use_bias):
    layers = [(3, in_channels), (3, filters), (1, in_channels)]  # the shortcut as a layer, always
    return sum(_conv(k, c, filters, use_bias) + 4 * filters for k, c in layers)


def _trainable_batchnorm_only(in_channels, filters, stride, use_bias):
    per_norm = 2 * filters  # gamma and beta
    total = _main(in_channels, filters, use_bias) - 8 * filters + 2 * per_norm
    if stride > 1 or in_channels != filters:
        total += _conv(1, in_channels, filters, use_bias) + per_norm
    return total


def _no_batchnorm(in_channels, filters, stride, use_bias):
    total = _conv(3, in_channels, filters, use_bias) + _conv(3, filters, filters, use_bias)
    if stride > 1 or in_channels != filters:
        total += _conv(1, in_channels, filters, use_bias)
    return total


def _biases_always(in_channels, filters, stride, use_bias):
    convs = [9 * in_channels * filters, 9 * filters * filters]
    if stride != 1 or in_channels != filters:
        convs.append(in_channels * filters)
    return sum(w + filters + 4 * filters for w in convs)  # a bias per filter in every convolution


def _biases_never(in_channels, filters, stride, use_bias):
    convs = [9 * in_channels * filters, 9 * filters * filters]
    if stride != 1 or in_channels != filters:
        convs.append(in_channels * filters)
    return sum(convs) + 4 * filters * len(convs)


def _second_conv_from_input(in_channels, filters, stride, use_bias):
    total = 2 * (_conv(3, in_channels, filters, use_bias) + 4 * filters)  # "two alike"
    if stride != 1 or in_channels != filters:
        total += _conv(1, in_channels, filters, use_bias) + 4 * filters
    return total


def _projection_3x3(in_channels, filters, stride, use_bias):
    total = _main(in_channels, filters, use_bias)
    if stride != 1 or in_channels != filters:
        total += _conv(3, in_channels, filters, use_bias) + 4 * filters
    return total


def _projection_without_norm(in_channels, filters, stride, use_bias):
    total = _main(in_channels, filters, use_bias)
    if stride != 1 or in_channels != filters:
        total += _conv(1, in_channels, filters, use_bias)
    return total


def _add_with_weights(in_channels, filters, stride, use_bias):
    total = _main(in_channels, filters, use_bias)
    if stride != 1 or in_channels != filters:
        total += _conv(1, in_channels, filters, use_bias) + 4 * filters
    return total + filters  # "the Add layer has a weight per channel"


def _projects_only_for_stride(in_channels, filters, stride, use_bias):
    total = _main(in_channels, filters, use_bias)
    if stride == 2:
        total += _conv(1, in_channels, filters, use_bias) + 4 * filters
    return total


def _projection_without_bias(in_channels, filters, stride, use_bias):
    total = _main(in_channels, filters, use_bias)
    if stride != 1 or in_channels != filters:
        total += _conv(1, in_channels, filters, False) + 4 * filters  # "a shortcut has no bias"
    return total


def _one_norm_per_block(in_channels, filters, stride, use_bias):
    total = _conv(3, in_channels, filters, use_bias) + _conv(3, filters, filters, use_bias)
    if stride != 1 or in_channels != filters:
        total += _conv(1, in_channels, filters, use_bias)
    return total + 4 * filters  # one BatchNormalization, after the Add


def _projection_from_filters(in_channels, filters, stride, use_bias):
    total = _main(in_channels, filters, use_bias)
    if stride != 1 or in_channels != filters:
        total += _conv(1, filters, filters, use_bias) + 4 * filters  # "1x1, to filters channels"
    return total


NAMED_MISTAKES = [
    ("nb02", 10, _projection_from_filters, "not filters * filters"),
    ("nb02", 10, _projects_only_for_stride, "a different number of channels (more or fewer)"),
    ("nb02", 10, _projection_without_bias, "the projection is a convolution like the other two"),
    ("nb02", 10, _one_norm_per_block, "not one for the whole block"),
    ("nb02", 10, _never_projects, "Add needs a 1x1 projection shortcut"),
    ("nb02", 10, _projects_only_for_channels, "even when the channel counts match"),
    ("nb02", 10, _always_projects, "the shortcut is the identity, which is not a layer"),
    ("nb02", 10, _trainable_batchnorm_only, "4 numbers per channel of a BatchNormalization layer"),
    ("nb02", 10, _no_batchnorm, "every convolution of the block is followed by a BatchNormalization"),
    ("nb02", 10, _biases_always, "with use_bias=False the convolutions have no biases"),
    ("nb02", 10, _biases_never, "with use_bias=True every convolution has one bias per filter"),
    ("nb02", 10, _second_conv_from_input, "the second 3x3 convolution reads the first one's output"),
    ("nb02", 10, _projection_3x3, "the projection is a 1x1 convolution"),
    ("nb02", 10, _projection_without_norm, "the projection shortcut has its own BatchNormalization"),
    ("nb02", 10, _add_with_weights, "Add has no weights"),
]  # fmt: skip


# --- right answers spelled unlike the reference ----------------------------------------------


def _layer_list(in_channels, filters, stride, use_bias):
    """A list of (kernel, channels in) per convolution, then one sum."""
    convs = [(3, in_channels), (3, filters)]
    if (stride, in_channels) != (1, filters):
        convs.append((1, in_channels))
    return sum(k * k * c * filters + filters * use_bias + 4 * filters for k, c in convs)


def _numpy_count(in_channels, filters, stride, use_bias):
    kernels = np.array([9 * in_channels, 9 * filters, in_channels], dtype=np.int64) * filters
    used = np.array([True, True, stride != 1 or in_channels != filters])
    per_layer = kernels + filters * int(use_bias) + 4 * filters
    return np.int64(per_layer[used].sum())


def _with_keras(in_channels, filters, stride, use_bias):
    """Build the block and let Keras count: a right answer, if not the lesson."""
    import keras

    inputs = keras.Input(shape=(8, 8, in_channels))
    y = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=use_bias)(inputs)
    y = keras.layers.ReLU()(keras.layers.BatchNormalization()(y))
    y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=use_bias)(y)
    y = keras.layers.BatchNormalization()(y)
    shortcut = inputs
    if stride != 1 or in_channels != filters:
        shortcut = keras.layers.Conv2D(filters, 1, strides=stride, use_bias=use_bias)(inputs)
        shortcut = keras.layers.BatchNormalization()(shortcut)
    return keras.Model(inputs, keras.layers.Add()([y, shortcut])).count_params()


OTHER_RIGHT_ANSWERS = [
    ("nb02", 10, _layer_list),
    ("nb02", 10, _numpy_count),
    ("nb02", 10, lambda c, f, s, b: float(_layer_list(c, f, s, b))),
    ("nb02", 10, _with_keras),
]


# --- our own wrong answers, written apart from the check's mistakes --------------------------

OWN_WRONG_ANSWERS = [
    # the projection only when the stride changes the size
    ("nb02", 10, lambda c, f, s, b: _layer_list(c, f, s, b) - (c * f + b * f + 4 * f) * (s == 1 and c != f),
     "a different number of channels (more or fewer)"),
    # trainable parameters only, with the biases right
    ("nb02", 10, lambda c, f, s, b: _layer_list(c, f, s, b) - 2 * f * (2 + (s != 1 or c != f)),
     "4 numbers per channel of a BatchNormalization layer"),
    # one BatchNormalization for the whole block, after the Add
    ("nb02", 10, lambda c, f, s, b: _layer_list(c, f, s, b) - 4 * f * (1 + (s != 1 or c != f)),
     "not one for the whole block"),
    # biases of the 3x3 convolutions only
    ("nb02", 10, lambda c, f, s, b: _layer_list(c, f, s, b) - b * f * (s != 1 or c != f),
     "the projection is a convolution like the other two"),
    # the projection drawn from the output channels to the output channels
    ("nb02", 10, lambda c, f, s, b: _layer_list(c, f, s, b) + (f - c) * f * (s != 1 or c != f),
     "not filters * filters"),
    # a bias per filter although use_bias=False, in the 3x3 convolutions and the projection alike
    ("nb02", 10, lambda c, f, s, b: _layer_list(c, f, s, True),
     "with use_bias=False the convolutions have no biases"),
    # the second convolution counted with in_channels, written as a loop
    ("nb02", 10, lambda c, f, s, b: sum(k * k * c * f + b * f + 4 * f
                                        for k in ([3, 3, 1] if (s != 1 or c != f) else [3, 3])),
     "the second 3x3 convolution reads the first one's output"),
    # the identity shortcut counted as a 1x1 convolution without normalisation
    ("nb02", 10, lambda c, f, s, b: _layer_list(c, f, s, b) + (c * f + b * f) * (s == 1 and c == f), None),
    # forgot the projection and counted its BatchNormalization only
    ("nb02", 10, lambda c, f, s, b: _layer_list(c, f, s, b) - (c * f + b * f) * (s != 1 or c != f), None),
]  # fmt: skip
