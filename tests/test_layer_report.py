"""Tests of course_utils.layer_report: the course's formulas next to Keras, layer by layer."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import dataclasses  # noqa: E402
import doctest  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import keras  # noqa: E402
import pytest  # noqa: E402

from course_utils import arithmetic  # noqa: E402
from course_utils import layer_report as layer_report_module  # noqa: E402
from course_utils.arithmetic import batchnorm_params  # noqa: E402
from course_utils.layer_report import (  # noqa: E402
    NOT_COVERED,
    LayerReportRow,
    format_layer_report,
    layer_report,
    show_layer_report,
)

layers = keras.layers
SEED = 20240611


def test_module_import_does_not_import_tensorflow():
    code = (
        "import sys, course_utils.layer_report; "
        "print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_docstring_examples_run():
    results = doctest.testmod(layer_report_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert results.attempted >= 3
    assert results.failed == 0


# ============================================================================================
# layer_report on whole models
# ============================================================================================


def small_cnn():
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(name="pool1"),
            layers.Conv2D(16, 3, name="conv2"),
            layers.BatchNormalization(name="bn"),
            layers.ReLU(name="relu"),
            layers.GlobalAveragePooling2D(name="gap"),
            layers.Dropout(0.3, name="drop"),
            layers.Dense(10, activation="softmax", name="out"),
        ],
        name="small_cnn",
    )


def every_layer_model():
    """A functional model with every layer type layer_report covers."""
    inputs = keras.Input(shape=(33, 30, 3), name="image")
    x = layers.Rescaling(1 / 255, name="rescale")(inputs)
    x = layers.RandomFlip(name="flip")(x)
    x = layers.RandomRotation(0.1, name="rotate")(x)
    x = layers.RandomZoom(0.1, name="zoom")(x)
    x = layers.RandomTranslation(0.1, 0.1, name="translate")(x)
    x = layers.RandomContrast(0.1, name="contrast")(x)
    x = layers.ZeroPadding2D(((1, 2), (0, 3)), name="pad")(x)
    x = layers.Conv2D(8, (3, 5), strides=(2, 1), name="conv_strided")(x)
    x = layers.Conv2D(8, 3, dilation_rate=2, padding="same", name="conv_dilated")(x)
    x = layers.Conv2D(4, 1, use_bias=False, name="conv_1x1")(x)
    x = layers.BatchNormalization(center=False, name="bn")(x)
    x = layers.Activation("relu", name="act")(x)
    x = layers.ReLU(name="relu")(x)
    a = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="depthwise")(x)
    b = layers.SeparableConv2D(8, 3, padding="same", name="separable")(x)
    x = layers.Add(name="add")([a, b])
    x = layers.Concatenate(name="concat")([x, b])
    x = layers.LeakyReLU(name="leaky")(x)
    x = layers.ELU(name="elu")(x)
    x = layers.SpatialDropout2D(0.1, name="sdrop")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="maxpool")(x)
    x = layers.AveragePooling2D(2, name="avgpool")(x)
    gap = layers.GlobalAveragePooling2D(name="gap")(x)
    gmp = layers.GlobalMaxPooling2D(keepdims=True, name="gmp")(x)
    flat = layers.Flatten(name="flatten")(gmp)
    seq = layers.Reshape((-1, 4), name="reshape")(x)
    seq = layers.Dense(5, name="dense_3d")(seq)
    out = layers.Dense(3, name="dense")(layers.Dropout(0.2, name="drop")(gap))
    out = layers.Softmax(name="softmax")(out)
    return keras.Model(inputs, [out, flat, seq], name="every_layer")


def test_layer_report_sequential_all_rows_agree():
    rows = layer_report(small_cnn())
    assert [row.name for row in rows] == [
        "conv1", "pool1", "conv2", "bn", "relu", "gap", "drop", "out",
    ]
    assert all(row.agrees is True for row in rows), format_layer_report(rows)
    conv1 = rows[0]
    assert conv1.predicted_shape == conv1.keras_shape == (None, 28, 28, 8)
    assert conv1.predicted_params == conv1.keras_params == 80
    assert rows[3].keras_params == batchnorm_params(16)


def test_layer_report_sequential_built_with_model_build():
    model = keras.Sequential([layers.Conv2D(4, 3, strides=2), layers.Flatten(), layers.Dense(2)])
    model.build((None, 9, 9, 2))
    rows = layer_report(model)
    assert [row.predicted_shape for row in rows] == [(None, 4, 4, 4), (None, 64), (None, 2)]
    assert all(row.agrees for row in rows)


def test_layer_report_functional_model_with_every_supported_layer_type():
    rows = layer_report(every_layer_model())
    assert all(row.agrees is True for row in rows), format_layer_report(rows)
    covered = {row.layer_type for row in rows}
    assert covered >= {
        "InputLayer", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense",
        "BatchNormalization", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
        "GlobalMaxPooling2D", "Flatten", "Dropout", "Activation", "ReLU", "ELU", "LeakyReLU",
        "ZeroPadding2D", "Rescaling", "Reshape", "Add", "Concatenate", "Softmax",
    }
    by_name = {row.name: row for row in rows}
    assert by_name["pad"].predicted_shape == (None, 36, 33, 3)
    assert by_name["conv_strided"].predicted_shape == (None, 17, 29, 8)
    assert by_name["dense_3d"].predicted_shape[-1] == 5
    assert "not covered" not in format_layer_report(rows)
    assert format_layer_report(rows).endswith(f"Disagreements: 0 of {len(rows)} checked layers.")


def test_layer_report_gives_no_guess_for_unsupported_layers():
    inputs = keras.Input(shape=(8, 8, 3), name="image")
    x = layers.Lambda(lambda t: t * 2.0, name="double")(inputs)
    x = layers.Reshape((8, 24), name="rows")(x)
    x = layers.LSTM(4, name="lstm")(x)
    c = layers.Conv2D(2, 3, data_format="channels_first", name="conv_cf")(inputs)
    g = layers.Conv2D(3, 3, groups=3, name="grouped")(inputs)
    model = keras.Model(inputs, [x, c, g])
    rows = {row.name: row for row in layer_report(model)}
    for name in ("double", "lstm", "conv_cf", "grouped"):
        row = rows[name]
        assert row.predicted_shape is None and row.predicted_params is None, row
        assert row.agrees is None
        assert "not covered by the course's formulas" in row.note
        assert row.keras_shape is not None and row.keras_params is not None
    assert rows["lstm"].keras_params == 4 * 4 * (24 + 4 + 1)
    assert "channels_first" in rows["conv_cf"].note
    assert "groups=3" in rows["grouped"].note
    assert rows["image"].agrees is True and rows["rows"].agrees is True
    text = format_layer_report(list(rows.values()))
    assert text.splitlines()[-1] == (
        "Disagreements: 0 of 2 checked layers. Not covered by the course's formulas: 4."
    )


def test_layer_report_refuses_an_unbuilt_model():
    model = keras.Sequential([layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"not built.*model\.build\(\.\.\.\).*keras\.Input"):
        layer_report(model)


def test_layer_report_refuses_a_non_model():
    with pytest.raises(TypeError, match="keras.Model.*Conv2D"):
        layer_report(layers.Conv2D(4, 3))


def test_layer_report_flags_a_wrong_formula(monkeypatch):
    # Pretend the course's Conv2D formula forgot the biases: the report must catch it.
    monkeypatch.setattr(
        arithmetic,
        "conv2d_params",
        lambda kernel_size, in_channels, filters, use_bias=True: (
            math.prod(kernel_size) * in_channels * filters
        ),
    )
    rows = layer_report(small_cnn())
    wrong = [row for row in rows if row.agrees is False]
    assert [row.name for row in wrong] == ["conv1", "conv2"]
    assert wrong[0].predicted_params == 72 and wrong[0].keras_params == 80
    text = format_layer_report(rows)
    marked = [line for line in text.splitlines() if "NO <--" in line]
    assert [line.split()[0] for line in marked] == ["conv1", "conv2"]
    assert text.splitlines()[-1] == "Disagreements: 2 of 8 checked layers."


def test_format_layer_report_marks_and_counts_manual_disagreements():
    good = LayerReportRow("c", "Conv2D", (None, 4, 4, 2), (None, 4, 4, 2), 20, 20, True)
    bad_shape = dataclasses.replace(good, name="d", predicted_shape=(None, 5, 5, 2), agrees=False)
    uncovered = LayerReportRow("l", "Lambda", None, (None, 3), None, 0, None, "not covered")
    text = format_layer_report([good, bad_shape, uncovered])
    assert text == "\n".join(
        [
            "Layer (type)  Predicted shape  Keras shape      Predicted params  Keras params  Agrees",
            "--------------------------------------------------------------------------------------",
            "c (Conv2D)    (None, 4, 4, 2)  (None, 4, 4, 2)                20            20  yes",
            "d (Conv2D)    (None, 5, 5, 2)  (None, 4, 4, 2)                20            20  NO <--",
            "l (Lambda)    -                (None, 3)                       -             0  -  not covered",
            "--------------------------------------------------------------------------------------",
            "Disagreements: 1 of 2 checked layers. Not covered by the course's formulas: 1.",
        ]
    )
    assert format_layer_report([]).splitlines()[-1] == "Disagreements: 0 of 0 checked layers."


def test_format_layer_report_uses_thousands_separators():
    row = LayerReportRow("big", "Dense", (None, 32), (None, 32), 393_248, 393_248, True)
    assert "393,248" in format_layer_report([row])


def test_format_layer_report_refuses_other_objects():
    with pytest.raises(TypeError, match="rows must be a list of LayerReportRow"):
        format_layer_report("conv")
    with pytest.raises(TypeError, match=r"rows\[1\] must be a LayerReportRow, got 3"):
        format_layer_report([LayerReportRow("a", "Dense", None, None, None, None, None), 3])


def test_show_layer_report_prints_stable_text_and_returns_rows(capsys):
    model = keras.Sequential(
        [keras.Input(shape=(8, 8, 1)), layers.Conv2D(2, 3, name="c"), layers.Flatten(name="f")]
    )
    rows = show_layer_report(model)
    assert len(rows) == 2 and all(row.agrees for row in rows)
    assert capsys.readouterr().out == (
        "Layer (type)  Predicted shape  Keras shape      Predicted params  Keras params  Agrees\n"
        "--------------------------------------------------------------------------------------\n"
        "c (Conv2D)    (None, 6, 6, 2)  (None, 6, 6, 2)                20            20  yes\n"
        "f (Flatten)   (None, 72)       (None, 72)                      0             0  yes\n"
        "--------------------------------------------------------------------------------------\n"
        "Disagreements: 0 of 2 checked layers.\n"
    )


# ============================================================================================
# Residual blocks (notebook 02, section 7)
# ============================================================================================


def _residual_block(height, in_channels, filters, stride, use_bias):
    """ResNet's basic block, built with Keras's functional API."""
    inputs = keras.Input(shape=(height, height, in_channels))

    def conv(x, kernel_size, strides):
        x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=use_bias)(x)
        return layers.BatchNormalization()(x)

    main = conv(layers.ReLU()(conv(inputs, 3, stride)), 3, 1)
    shortcut = inputs if stride == 1 and in_channels == filters else conv(inputs, 1, stride)
    return keras.Model(inputs, layers.ReLU()(layers.Add()([main, shortcut])))


def test_layer_report_agrees_on_residual_blocks():
    rng = random.Random(SEED)
    configurations = [(64, 64, 1, False), (64, 128, 2, False), (32, 32, 2, True), (8, 8, 1, False)]
    for _ in range(6):
        channels = (rng.randint(1, 24), rng.randint(1, 24))
        configurations.append((*channels, rng.choice((1, 2, 3)), rng.random() < 0.5))
    for config in configurations:
        model = _residual_block(12, *config)
        rows = layer_report(model)
        assert all(row.agrees for row in rows), (config, format_layer_report(rows))
        assert sum(row.predicted_params for row in rows) == model.count_params()
        assert sum(row.predicted_params for row in rows) == arithmetic.residual_block_params(*config)


def test_not_covered_text_is_the_one_the_notes_use():
    assert NOT_COVERED == "not covered by the course's formulas"
