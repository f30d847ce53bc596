"""Tests of course_utils.arithmetic: worked numbers, agreement with Keras, properties, errors."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import dataclasses  # noqa: E402
import doctest  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402

import keras  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from course_utils import arithmetic  # noqa: E402
from course_utils.arithmetic import (  # noqa: E402
    ReceptiveFieldStep,
    batchnorm_params,
    conv2d_params,
    conv_output_size,
    dense_params,
    depthwise_conv2d_params,
    pool_output_size,
    pooling_params,
    receptive_field,
    residual_block_params,
    separable_conv2d_params,
    window_output_size,
)

layers = keras.layers
SEED = 20240611
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, derandomize=True)


# ============================================================================================
# Worked numbers from the course material
# ============================================================================================


def test_32x32_3x3_padding_1_stride_1_keeps_size_32():
    assert conv_output_size(32, 3, stride=1, padding=1) == 32


def test_32x32_3x3_padding_1_stride_2_halves_to_16():
    assert conv_output_size(32, 3, stride=2, padding=1) == 16


def test_conv2d_3x3_from_3_to_32_channels_has_896_params():
    assert conv2d_params(3, in_channels=3, filters=32) == 896  # 3*3*3*32 + 32


def test_dense_on_flattened_64x64x3_to_32_units_weights_and_biases():
    # The source material quotes 393,216: that is the weights alone, without the 32 biases.
    assert dense_params(64 * 64 * 3, 32, use_bias=False) == 393_216
    assert dense_params(64 * 64 * 3, 32) == 393_248


def test_1x1_conv_64_to_32_channels_has_2080_params():
    assert conv2d_params(1, in_channels=64, filters=32) == 2_080
    assert conv2d_params((1, 1), in_channels=64, filters=32) == 2_080


def test_3x3_conv_64_to_128_standard_versus_separable():
    assert conv2d_params(3, in_channels=64, filters=128) == 73_856
    assert separable_conv2d_params(3, in_channels=64, filters=128) == 8_896


def test_batchnorm_counts_all_four_vectors_by_default_and_two_trainable():
    assert batchnorm_params(32) == 128
    assert batchnorm_params(32, trainable_only=True) == 64
    assert batchnorm_params(32, center=False) == 96
    assert batchnorm_params(32, trainable_only=True, scale=False, center=False) == 0


def test_pooling_has_no_parameters_and_halves_with_default_stride():
    assert pooling_params() == 0
    assert pool_output_size(32, 2) == 16
    assert pool_output_size(7, 2) == 3
    assert pool_output_size(7, 2, padding="same") == 4


def test_depthwise_params():
    assert depthwise_conv2d_params(3, in_channels=64) == 640
    assert depthwise_conv2d_params((3, 5), in_channels=4, depth_multiplier=2, use_bias=False) == 120


def test_receptive_field_of_two_3x3_convs_is_5_and_pooling_doubles_the_jump():
    steps = receptive_field([(3, 1), (3, 1), (2, 2), (3, 1)])
    assert [s.receptive_field for s in steps] == [3, 5, 6, 10]
    assert [s.jump for s in steps] == [1, 1, 2, 2]
    assert steps[0] == ReceptiveFieldStep(0, 3, 1, 1, 3, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        steps[0].jump = 5


def test_receptive_field_with_dilation():
    # A 3x3 kernel with dilation 2 spans 5 pixels.
    assert receptive_field([(3, 1, 2)])[0].receptive_field == 5
    assert [s.receptive_field for s in receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)])] == [
        3,
        7,
        15,
    ]
    assert receptive_field([]) == []


def test_module_import_does_not_import_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys, course_utils.arithmetic; "
        "print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_docstring_examples_run():
    results = doctest.testmod(arithmetic, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert results.attempted > 10
    assert results.failed == 0


# ============================================================================================
# Agreement with real Keras layers over random configurations
# ============================================================================================


class Tally:
    """Counts configurations compared with Keras and those Keras refused."""

    def __init__(self, family):
        self.family = family
        self.tested = 0
        self.refused = 0
        self.mismatches = []

    def check(self, config, predicted, actual):
        self.tested += 1
        if predicted != actual:
            self.mismatches.append((config, predicted, actual))

    def assert_ok(self, minimum_tested):
        assert not self.mismatches, (
            f"{self.family}: {len(self.mismatches)} mismatches, first ones (config, predicted, "
            f"keras): {self.mismatches[:3]}"
        )
        total = self.tested + self.refused
        assert self.tested >= minimum_tested, (self.family, self.tested, self.refused)
        assert self.refused <= 0.2 * total, (
            f"{self.family}: Keras refused {self.refused} of {total} configurations; "
            "the generator tests too little."
        )


def keras_build(make_layer, input_shape):
    """Build a layer on keras.Input(shape=input_shape); ``None`` if Keras refuses it."""
    try:
        layer = make_layer()
        output = layer(keras.Input(shape=input_shape))
    except ValueError:
        return None
    return tuple(output.shape), layer.count_params(), layer


def predicted_or_refused(predict):
    try:
        return predict()
    except ValueError:
        return None


def _pair(rng, low, high):
    first = rng.randint(low, high)
    return (first, first) if rng.random() < 0.5 else (first, rng.randint(low, high))


def _random_stride_and_dilation(rng):
    mode = rng.random()
    if mode < 0.45:
        return (1, 1), (1, 1)
    if mode < 0.75:
        return _pair(rng, 1, 3), (1, 1)
    if mode < 0.97:
        return (1, 1), _pair(rng, 1, 3)
    return _pair(rng, 2, 3), _pair(rng, 2, 3)  # Keras's Conv2D refuses these


def test_conv2d_agrees_with_keras_on_random_configurations():
    rng = random.Random(SEED)
    tally = Tally("Conv2D")
    for _ in range(160):
        h, w, c = rng.randint(1, 20), rng.randint(1, 20), rng.randint(1, 6)
        filters = rng.randint(1, 8)
        kernel = (1, 1) if rng.random() < 0.15 else _pair(rng, 1, 5)
        strides, dilation = _random_stride_and_dilation(rng)
        padding = rng.choice(["valid", "same"])
        use_bias = rng.random() < 0.8
        config = dict(
            filters=filters, kernel_size=kernel, strides=strides, dilation_rate=dilation,
            padding=padding, use_bias=use_bias,
        )
        built = keras_build(lambda config=config: layers.Conv2D(**config), (h, w, c))
        predicted = predicted_or_refused(
            lambda: (
                (
                    None,
                    conv_output_size(h, kernel[0], strides[0], padding, dilation[0]),
                    conv_output_size(w, kernel[1], strides[1], padding, dilation[1]),
                    filters,
                ),
                conv2d_params(kernel, c, filters, use_bias=use_bias),
            )
        )
        if built is None:
            tally.refused += 1
            assert predicted is None, f"Keras refused {config} on {(h, w, c)}, we did not"
            continue
        tally.check((config, (h, w, c)), predicted, built[:2])
    tally.assert_ok(minimum_tested=130)


@pytest.mark.parametrize("separable", [False, True], ids=["DepthwiseConv2D", "SeparableConv2D"])
def test_depthwise_and_separable_agree_with_keras_on_random_configurations(separable):
    rng = random.Random(SEED + separable)
    tally = Tally("SeparableConv2D" if separable else "DepthwiseConv2D")
    for _ in range(70):
        h, w, c = rng.randint(3, 16), rng.randint(3, 16), rng.randint(1, 6)
        kernel = _pair(rng, 1, 5)
        strides, dilation = _random_stride_and_dilation(rng)  # both > 1 allowed: Keras builds it
        padding = rng.choice(["valid", "same"])
        multiplier = rng.randint(1, 3)
        use_bias = rng.random() < 0.8
        config = dict(
            kernel_size=kernel, strides=strides, dilation_rate=dilation, padding=padding,
            depth_multiplier=multiplier, use_bias=use_bias,
        )
        if separable:
            filters = rng.randint(1, 8)
            config["filters"] = filters
            channels_out = filters

            def params():
                return separable_conv2d_params(kernel, c, filters, multiplier, use_bias=use_bias)

            make = lambda config=config: layers.SeparableConv2D(**config)  # noqa: E731
        else:
            channels_out = c * multiplier

            def params():
                return depthwise_conv2d_params(kernel, c, multiplier, use_bias=use_bias)

            make = lambda config=config: layers.DepthwiseConv2D(**config)  # noqa: E731
        built = keras_build(make, (h, w, c))
        predicted = predicted_or_refused(
            lambda: (
                (
                    None,
                    window_output_size(h, kernel[0], strides[0], padding, dilation[0]),
                    window_output_size(w, kernel[1], strides[1], padding, dilation[1]),
                    channels_out,
                ),
                params(),
            )
        )
        if built is None:
            tally.refused += 1
            assert predicted is None, f"Keras refused {config} on {(h, w, c)}, we did not"
            continue
        tally.check((config, (h, w, c)), predicted, built[:2])
    tally.assert_ok(minimum_tested=56)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_window_output_size_with_stride_and_dilation_agrees_with_depthwise_conv2d(padding):
    # Conv2D refuses strides > 1 with dilation > 1; DepthwiseConv2D builds it, and layer_report
    # predicts it with window_output_size.
    cases = [(17, 3, 2, 2), (16, 3, 3, 2), (20, 2, 2, 3), (9, 3, 2, 3)]
    for size, kernel, stride, dilation in cases:
        layer = layers.DepthwiseConv2D(kernel, strides=stride, dilation_rate=dilation, padding=padding)
        keras_size = layer.compute_output_shape((None, size, size, 2))[1]
        assert window_output_size(size, kernel, stride, padding, dilation) == keras_size
    with pytest.raises(ValueError, match="stride=2 together with dilation=2"):
        conv_output_size(17, 3, 2, padding, 2)


def test_window_output_size_equals_conv_output_size_where_conv2d_allows_it():
    for size in range(1, 20):
        for kernel in range(1, 6):
            for stride, dilation in [(1, 1), (2, 1), (3, 1), (1, 2), (1, 3)]:
                for padding in ("valid", "same", 0, 1, 2):
                    args = (size, kernel, stride, padding, dilation)
                    expected = predicted_or_refused(lambda args=args: conv_output_size(*args))
                    got = predicted_or_refused(lambda args=args: window_output_size(*args))
                    assert got == expected, args


def test_dense_agrees_with_keras_on_random_configurations():
    rng = random.Random(SEED + 2)
    tally = Tally("Dense")
    for _ in range(50):
        rank = rng.choice([1, 2, 3])  # Dense acts on the last axis of any input
        shape = tuple(rng.randint(1, 12) for _ in range(rank))
        units, use_bias = rng.randint(1, 16), rng.random() < 0.8
        built = keras_build(lambda: layers.Dense(units, use_bias=use_bias), shape)
        predicted = ((None, *shape[:-1], units), dense_params(shape[-1], units, use_bias))
        assert built is not None
        tally.check((shape, units, use_bias), predicted, built[:2])
    tally.assert_ok(minimum_tested=50)


def test_batchnorm_agrees_with_keras_on_random_configurations():
    rng = random.Random(SEED + 3)
    tally = Tally("BatchNormalization")
    for _ in range(30):
        shape = (rng.randint(1, 8), rng.randint(1, 8), rng.randint(1, 16))
        center, scale = rng.random() < 0.8, rng.random() < 0.8
        built = keras_build(lambda: layers.BatchNormalization(center=center, scale=scale), shape)
        assert built is not None
        layer = built[2]
        trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
        predicted = (
            (None, *shape),
            batchnorm_params(shape[-1], center=center, scale=scale),
            batchnorm_params(shape[-1], trainable_only=True, center=center, scale=scale),
        )
        tally.check((shape, center, scale), predicted, (*built[:2], trainable))
    tally.assert_ok(minimum_tested=30)


@pytest.mark.parametrize("pool_class", ["MaxPooling2D", "AveragePooling2D"])
def test_pooling_agrees_with_keras_on_random_configurations(pool_class):
    rng = random.Random(SEED + len(pool_class))
    tally = Tally(pool_class)
    for _ in range(50):
        h, w, c = rng.randint(1, 20), rng.randint(1, 20), rng.randint(1, 4)
        pool = _pair(rng, 1, 4)
        strides = None if rng.random() < 0.4 else _pair(rng, 1, 4)
        padding = rng.choice(["valid", "same"])
        config = dict(pool_size=pool, strides=strides, padding=padding)
        built = keras_build(
            lambda config=config: getattr(layers, pool_class)(**config), (h, w, c)
        )
        predicted = predicted_or_refused(
            lambda: (
                (
                    None,
                    pool_output_size(h, pool[0], strides and strides[0], padding),
                    pool_output_size(w, pool[1], strides and strides[1], padding),
                    c,
                ),
                pooling_params(),
            )
        )
        if built is None:
            tally.refused += 1
            assert predicted is None, f"Keras refused {config} on {(h, w, c)}, we did not"
            continue
        tally.check((config, (h, w, c)), predicted, built[:2])
    tally.assert_ok(minimum_tested=40)


# ============================================================================================
# Properties (hypothesis)
# ============================================================================================

sizes = st.integers(1, 300)
kernels = st.integers(1, 15)
strides_ = st.integers(1, 8)
dilations = st.integers(1, 5)
paddings = st.integers(0, 10)


@PROPERTY_SETTINGS
@given(w=sizes, k=kernels, s=strides_, k2=kernels)
def test_same_padding_is_ceil_w_over_s_and_ignores_the_kernel(w, k, s, k2):
    out = conv_output_size(w, k, stride=s, padding="same")
    assert out == math.ceil(w / s)
    assert out == conv_output_size(w, k2, stride=s, padding="same")
    assert pool_output_size(w, k, strides=s, padding="same") == out


@PROPERTY_SETTINGS
@given(w=sizes, k=kernels, s=strides_, p=paddings, d=dilations)
def test_explicit_padding_follows_the_textbook_formula(w, k, s, p, d):
    if s > 1:
        d = 1
    effective = d * (k - 1) + 1
    if effective > w + 2 * p:
        with pytest.raises(ValueError, match=str(effective)):
            conv_output_size(w, k, stride=s, padding=p, dilation=d)
    else:
        expected = math.floor((w - effective + 2 * p) / s) + 1
        assert conv_output_size(w, k, stride=s, padding=p, dilation=d) == expected
        assert expected >= 1
        if p == 0:
            assert conv_output_size(w, k, stride=s, padding="valid", dilation=d) == expected


@PROPERTY_SETTINGS
@given(w=sizes, k=kernels, dk=st.integers(0, 10), s=strides_, p=paddings)
def test_output_never_grows_with_a_larger_kernel(w, k, dk, s, p):
    try:
        larger = conv_output_size(w, k + dk, stride=s, padding=p)
    except ValueError:
        return  # the larger kernel no longer fits: nothing to compare
    assert larger <= conv_output_size(w, k, stride=s, padding=p)


@PROPERTY_SETTINGS
@given(
    w=sizes,
    k=kernels,
    s=strides_,
    ds=st.integers(0, 8),
    padding=st.sampled_from(["valid", "same", 1]),
)
def test_output_never_grows_with_a_larger_stride(w, k, s, ds, padding):
    try:
        smaller_stride = conv_output_size(w, k, stride=s, padding=padding)
    except ValueError:
        return
    assert conv_output_size(w, k, stride=s + ds, padding=padding) <= smaller_stride


@PROPERTY_SETTINGS
@given(w=sizes, k=kernels, s=st.none() | strides_)
def test_valid_pooling_formula_and_default_stride(w, k, s):
    if k > w:
        with pytest.raises(ValueError, match=f"pool_size {k} is larger than the input size {w}"):
            pool_output_size(w, k, strides=s)
        return
    stride = k if s is None else s
    assert pool_output_size(w, k, strides=s) == (w - k) // stride + 1


layer_tuples = st.lists(
    st.tuples(kernels, strides_, dilations) | st.tuples(kernels, strides_), max_size=12
)


@PROPERTY_SETTINGS
@given(spec=layer_tuples)
def test_receptive_field_grows_monotonically_and_jump_is_the_stride_product(spec):
    steps = receptive_field(spec)
    assert len(steps) == len(spec)
    fields = [1] + [step.receptive_field for step in steps]
    assert all(a <= b for a, b in zip(fields, fields[1:]))
    for i, step in enumerate(steps):
        assert step.layer_index == i
        assert step.jump == math.prod(layer[1] for layer in spec[: i + 1])
        assert step.dilation == (spec[i][2] if len(spec[i]) == 3 else 1)


@PROPERTY_SETTINGS
@given(spec=st.lists(st.tuples(kernels, st.just(1)), min_size=1, max_size=12))
def test_stride_1_receptive_field_adds_kernel_minus_one_per_layer(spec):
    assert receptive_field(spec)[-1].receptive_field == 1 + sum(k - 1 for k, _ in spec)


@PROPERTY_SETTINGS
@given(kh=kernels, kw=kernels, c=st.integers(1, 64), f=st.integers(1, 64), m=st.integers(1, 4))
def test_parameter_counts_are_consistent(kh, kw, c, f, m):
    # Biases: one per output channel.
    assert conv2d_params((kh, kw), c, f) - conv2d_params((kh, kw), c, f, use_bias=False) == f
    # A 1x1 convolution is a Dense layer applied at every pixel.
    assert conv2d_params(1, c, f) == dense_params(c, f)
    # Separable = depthwise (without bias) + 1x1 conv from C*M channels to f filters.
    assert separable_conv2d_params((kh, kw), c, f, m) == (
        depthwise_conv2d_params((kh, kw), c, m, use_bias=False) + conv2d_params(1, c * m, f)
    )


# ============================================================================================
# Bad input: the right exception, naming the bad value
# ============================================================================================


@pytest.mark.parametrize("stride", [0, -1])
def test_zero_or_negative_stride_is_refused(stride):
    with pytest.raises(ValueError, match=rf"stride must be at least 1, got {stride}\b"):
        conv_output_size(32, 3, stride=stride)
    with pytest.raises(ValueError, match=rf"strides must be at least 1, got {stride}\b"):
        pool_output_size(32, 2, strides=stride)


def test_kernel_larger_than_padded_input_names_both_sizes_and_the_fix():
    with pytest.raises(ValueError, match=r'kernel size 7 .* padded input size 6 .*padding="same"'):
        conv_output_size(4, 7, padding=1)
    with pytest.raises(ValueError, match=r"effective kernel size 9 \(kernel_size 5 dilated by 2\)"):
        conv_output_size(8, 5, dilation=2)
    with pytest.raises(ValueError, match=r"pool_size 3 is larger than the input size 2"):
        pool_output_size(2, 3)


def test_stride_with_dilation_is_refused_like_keras():
    with pytest.raises(ValueError, match=r"stride=2 together with dilation=3"):
        conv_output_size(32, 3, stride=2, dilation=3)


@pytest.mark.parametrize("padding", ["full", "SAME", "causal"])
def test_unknown_padding_is_refused(padding):
    message = rf"padding must be one of 'valid', 'same'; got '{padding}'"
    with pytest.raises(ValueError, match=message):
        conv_output_size(32, 3, padding=padding)
    with pytest.raises(ValueError, match=rf"got '{padding}'"):
        pool_output_size(32, 2, padding=padding)


def test_negative_explicit_padding_is_refused():
    with pytest.raises(ValueError, match=r"padding must be at least 0, got -1"):
        conv_output_size(32, 3, padding=-1)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"input_size": True}, "True"),
        ({"input_size": 32.0}, "32.0"),
        ({"kernel_size": 3.5}, "3.5"),
        ({"stride": False}, "False"),
        ({"padding": 1.0}, "1.0"),
        ({"dilation": "2"}, "'2'"),
    ],
)
def test_bool_float_or_string_sizes_are_refused(kwargs, bad):
    arguments = {"input_size": 32, "kernel_size": 3, **kwargs}
    name = next(iter(kwargs))
    with pytest.raises(TypeError, match=rf"{name} must be a whole number, got {bad}"):
        conv_output_size(**arguments)


def test_zero_sizes_are_refused():
    with pytest.raises(ValueError, match="input_size must be at least 1, got 0"):
        conv_output_size(0, 3)
    with pytest.raises(ValueError, match="kernel_size must be at least 1, got 0"):
        conv_output_size(8, 0)
    with pytest.raises(ValueError, match="filters must be at least 1, got 0"):
        conv2d_params(3, 3, 0)
    with pytest.raises(ValueError, match="channels must be at least 1, got 0"):
        batchnorm_params(0)


def test_bad_parameter_count_arguments():
    message = r"kernel_size must be an int or a \(height, width\) pair, got \(3, 3, 3\)"
    with pytest.raises(ValueError, match=message):
        conv2d_params((3, 3, 3), 3, 8)
    with pytest.raises(TypeError, match=r"kernel_size\[1\] must be a whole number, got 3.0"):
        separable_conv2d_params((3, 3.0), 3, 8)
    with pytest.raises(TypeError, match="use_bias must be True or False, got 'yes'"):
        dense_params(10, 2, use_bias="yes")
    with pytest.raises(TypeError, match="trainable_only must be True or False, got 1"):
        batchnorm_params(8, trainable_only=1)
    with pytest.raises(ValueError, match="depth_multiplier must be at least 1, got 0"):
        depthwise_conv2d_params(3, 8, depth_multiplier=0)


@pytest.mark.parametrize(
    ("layers_arg", "error", "match"),
    [
        ([(3,)], ValueError, r"layers\[0\] must have 2 or 3 entries, got \(3,\) of length 1"),
        ([(3, 1), (3, 1, 1, 1)], ValueError, r"layers\[1\] .* got \(3, 1, 1, 1\) of length 4"),
        ([(3, 1), 3], TypeError, r"layers\[1\] must be a tuple, got 3"),
        ([(3, 0)], ValueError, r"layers\[0\] stride must be at least 1, got 0"),
        ([(3.0, 1)], TypeError, r"layers\[0\] kernel_size must be a whole number, got 3.0"),
        ([(3, 1, 0)], ValueError, r"layers\[0\] dilation must be at least 1, got 0"),
        ("3,1", TypeError, r"layers must be a list .* got '3,1'"),
        (None, TypeError, r"got None"),
    ],
)
def test_receptive_field_refuses_malformed_layers(layers_arg, error, match):
    with pytest.raises(error, match=match):
        receptive_field(layers_arg)


# ============================================================================================
# Residual blocks (notebook 02, section 7)
# ============================================================================================


def _keras_residual_block(height, in_channels, filters, stride, use_bias):
    """The block residual_block_params describes, built with Keras's functional API."""
    inputs = keras.Input(shape=(height, height, in_channels))

    def conv(x, kernel_size, strides):
        conv_layer = keras.layers.Conv2D(
            filters, kernel_size, strides=strides, padding="same", use_bias=use_bias
        )
        return keras.layers.BatchNormalization()(conv_layer(x))

    main = keras.layers.ReLU()(conv(inputs, 3, stride))
    main = conv(main, 3, 1)
    shortcut = inputs if stride == 1 and in_channels == filters else conv(inputs, 1, stride)
    outputs = keras.layers.ReLU()(keras.layers.Add()([main, shortcut]))
    return keras.Model(inputs, outputs)


def test_residual_block_params_identity_and_projection_by_hand():
    # identity: 2 x (3*3*64*64) + 2 x (4*64)
    assert residual_block_params(64, 64) == 2 * 3 * 3 * 64 * 64 + 2 * 4 * 64 == 74_240
    # projection: 3*3*64*128 + 3*3*128*128 + 1*1*64*128 + 3 x (4*128)
    assert residual_block_params(64, 128, stride=2) == 73_728 + 147_456 + 8_192 + 1_536
    # a stride alone needs the projection too, even with as many channels in as out
    projection = 32 * 32 + 4 * 32
    assert residual_block_params(32, 32, stride=2) == residual_block_params(32, 32) + projection
    # biases: one per filter in each convolution, 2 or 3 of them
    assert residual_block_params(16, 16, use_bias=True) - residual_block_params(16, 16) == 2 * 16
    assert residual_block_params(16, 32, use_bias=True) - residual_block_params(16, 32) == 3 * 32


def test_residual_block_params_agrees_with_keras_on_random_configurations():
    rng = random.Random(SEED)
    configurations = [(64, 64, 1, False), (64, 128, 2, False), (32, 32, 2, True)]
    for _ in range(12):
        channels = (rng.randint(1, 24), rng.randint(1, 24))
        configurations.append((*channels, rng.choice((1, 1, 2, 3)), rng.random() < 0.5))
    configurations += [(8, 8, 1, False)]  # make sure the identity case is among them
    for config in configurations:
        model = _keras_residual_block(12, *config)
        predicted = residual_block_params(*config)
        assert predicted == model.count_params(), (config, predicted, model.count_params())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"in_channels": 0, "filters": 8}, ValueError, "in_channels must be at least 1"),
        ({"in_channels": 8, "filters": 2.5}, TypeError, "filters must be a whole number"),
        ({"in_channels": 8, "filters": 8, "stride": 0}, ValueError, "stride must be at least 1"),
        ({"in_channels": 8, "filters": 8, "use_bias": "no"}, TypeError, "use_bias must be True or"),
        ({"in_channels": 8, "filters": 8, "batch_norm": True}, TypeError, "unexpected keyword"),
    ],
)
def test_residual_block_params_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        residual_block_params(**kwargs)
