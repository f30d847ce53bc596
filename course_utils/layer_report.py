"""The course's hand arithmetic next to what Keras built, layer by layer.

:func:`layer_report` predicts every layer's output shape and parameter count with the formulas
of :mod:`course_utils.arithmetic` and puts them beside Keras's own numbers;
:func:`show_layer_report` prints that as a table. Notebook 02 uses it to check a whole model's
``model.summary()`` at once. Keras is imported inside the functions, so importing this module
does not start TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from course_utils import arithmetic

__all__ = ["LayerReportRow", "format_layer_report", "layer_report", "show_layer_report"]

NOT_COVERED = "not covered by the course's formulas"


@dataclass(frozen=True)
class LayerReportRow:
    """One layer of :func:`layer_report`: the course's prediction next to Keras's numbers.

    ``predicted_shape`` and ``predicted_params`` are ``None`` (and ``agrees`` is ``None``)
    for layers the course's formulas do not cover; ``note`` then says why.
    """

    name: str
    layer_type: str
    predicted_shape: tuple | None
    keras_shape: tuple | None
    predicted_params: int | None
    keras_params: int | None
    agrees: bool | None
    note: str = ""


class _NotCovered(Exception):
    """Raised by a predictor when the layer's settings are outside the course's formulas."""


def _spatial(input_shape, what):
    if len(input_shape) != 4:
        raise _NotCovered(f"{what} on a rank-{len(input_shape)} input is {NOT_COVERED}")
    return input_shape[1], input_shape[2]


def _require_channels_last(config):
    if config.get("data_format", "channels_last") != "channels_last":
        raise _NotCovered(
            f"data_format={config['data_format']!r} is {NOT_COVERED} (they use channels_last)"
        )


def _known_channels(input_shape):
    channels = input_shape[-1]
    if channels is None:
        raise _NotCovered("the input's channel count is unknown")
    return channels


def _conv_spatial(layer, config, input_shape, *, keras_refuses_dilated_strides):
    """Spatial output dims of a Conv2D-like layer, keeping unknown (None) dims unknown."""
    _require_channels_last(config)
    kernel, strides, dilation = config["kernel_size"], config["strides"], config["dilation_rate"]
    if keras_refuses_dilated_strides and max(strides) > 1 and max(dilation) > 1:
        raise _NotCovered("strides > 1 with dilation_rate > 1 (Keras refuses this)")
    return [
        None
        if size is None
        else arithmetic.window_output_size(
            size, kernel[axis], strides[axis], config["padding"], dilation[axis]
        )
        for axis, size in enumerate(_spatial(input_shape, type(layer).__name__))
    ]


def _no_adapters(layer):
    if getattr(layer, "lora_enabled", False):
        raise _NotCovered(f"LoRA adapters are {NOT_COVERED}")
    if getattr(layer, "quantization_mode", None):
        raise _NotCovered(f"quantised layers are {NOT_COVERED}")


def _predict_input(layer, config, input_shape):
    return tuple(config["batch_shape"]), 0


def _predict_conv2d(layer, config, input_shape):
    _no_adapters(layer)
    if config.get("groups", 1) != 1:
        raise _NotCovered(f"grouped convolution (groups={config['groups']}) is {NOT_COVERED}")
    dims = _conv_spatial(layer, config, input_shape, keras_refuses_dilated_strides=True)
    params = arithmetic.conv2d_params(
        tuple(config["kernel_size"]),
        _known_channels(input_shape),
        config["filters"],
        use_bias=config["use_bias"],
    )
    return (input_shape[0], *dims, config["filters"]), params


def _predict_depthwise(layer, config, input_shape):
    _no_adapters(layer)
    # Keras builds DepthwiseConv2D with strides > 1 and dilation > 1; the formula still holds.
    dims = _conv_spatial(layer, config, input_shape, keras_refuses_dilated_strides=False)
    channels = _known_channels(input_shape)
    multiplier = config["depth_multiplier"]
    params = arithmetic.depthwise_conv2d_params(
        tuple(config["kernel_size"]), channels, multiplier, use_bias=config["use_bias"]
    )
    return (input_shape[0], *dims, channels * multiplier), params


def _predict_separable(layer, config, input_shape):
    _no_adapters(layer)
    dims = _conv_spatial(layer, config, input_shape, keras_refuses_dilated_strides=False)
    params = arithmetic.separable_conv2d_params(
        tuple(config["kernel_size"]),
        _known_channels(input_shape),
        config["filters"],
        config["depth_multiplier"],
        use_bias=config["use_bias"],
    )
    return (input_shape[0], *dims, config["filters"]), params


def _predict_dense(layer, config, input_shape):
    _no_adapters(layer)
    params = arithmetic.dense_params(
        _known_channels(input_shape), config["units"], config["use_bias"]
    )
    return (*input_shape[:-1], config["units"]), params


def _predict_batchnorm(layer, config, input_shape):
    if config.get("renorm", False):
        raise _NotCovered(f"batch renormalisation is {NOT_COVERED}")
    axis = config["axis"]
    if not isinstance(axis, int):
        raise _NotCovered(f"normalising over several axes ({axis!r}) is {NOT_COVERED}")
    channels = input_shape[axis]
    if channels is None:
        raise _NotCovered("the normalised axis has unknown size")
    params = arithmetic.batchnorm_params(channels, center=config["center"], scale=config["scale"])
    return tuple(input_shape), params


def _predict_pooling(layer, config, input_shape):
    _require_channels_last(config)
    pool, strides = config["pool_size"], config["strides"] or config["pool_size"]
    padding = config["padding"]
    dims = [
        None
        if size is None
        else arithmetic.pool_output_size(size, pool[axis], strides[axis], padding)
        for axis, size in enumerate(_spatial(input_shape, type(layer).__name__))
    ]
    return (input_shape[0], *dims, input_shape[3]), arithmetic.pooling_params()


def _predict_global_pooling(layer, config, input_shape):
    _require_channels_last(config)
    _spatial(input_shape, type(layer).__name__)
    if config.get("keepdims", False):
        return (input_shape[0], 1, 1, input_shape[3]), arithmetic.pooling_params()
    return (input_shape[0], input_shape[3]), arithmetic.pooling_params()


def _predict_flatten(layer, config, input_shape):
    rest = input_shape[1:]
    size = None if any(d is None for d in rest) else math.prod(rest)
    return (input_shape[0], size), 0


def _predict_zero_padding(layer, config, input_shape):
    _require_channels_last(config)
    (top, bottom), (left, right) = config["padding"]
    height, width = _spatial(input_shape, "ZeroPadding2D")
    height = None if height is None else height + top + bottom
    width = None if width is None else width + left + right
    return (input_shape[0], height, width, input_shape[3]), 0


def _predict_reshape(layer, config, input_shape):
    target = list(config["target_shape"])
    if any(d is None for d in input_shape[1:]):
        raise _NotCovered("reshaping an input with unknown sizes is " + NOT_COVERED)
    total = math.prod(input_shape[1:])
    if -1 in target:
        known = math.prod(d for d in target if d != -1)
        target[target.index(-1)] = total // known
    return (input_shape[0], *target), 0


def _predict_same_shape(layer, config, input_shape):
    return tuple(input_shape), 0


def _predict_add(layer, config, input_shapes):
    if len({tuple(s) for s in input_shapes}) != 1:
        raise _NotCovered("adding tensors of different shapes (broadcasting) is " + NOT_COVERED)
    return tuple(input_shapes[0]), 0


def _predict_concatenate(layer, config, input_shapes):
    axis = config["axis"]
    rank = len(input_shapes[0])
    axis = axis % rank
    sizes = [s[axis] for s in input_shapes]
    out = list(input_shapes[0])
    out[axis] = None if any(s is None for s in sizes) else sum(sizes)
    return tuple(out), 0


def _predictors(keras):
    """Map each covered Keras layer class (matched exactly, not subclasses) to its predictor."""
    layers = keras.layers
    table = {
        layers.InputLayer: _predict_input,
        layers.Conv2D: _predict_conv2d,
        layers.DepthwiseConv2D: _predict_depthwise,
        layers.SeparableConv2D: _predict_separable,
        layers.Dense: _predict_dense,
        layers.BatchNormalization: _predict_batchnorm,
        layers.MaxPooling2D: _predict_pooling,
        layers.AveragePooling2D: _predict_pooling,
        layers.GlobalAveragePooling2D: _predict_global_pooling,
        layers.GlobalMaxPooling2D: _predict_global_pooling,
        layers.Flatten: _predict_flatten,
        layers.ZeroPadding2D: _predict_zero_padding,
        layers.Reshape: _predict_reshape,
        layers.Add: _predict_add,
        layers.Concatenate: _predict_concatenate,
    }
    # Layers that change values but neither the shape nor hold weights.
    for name in (
        "Activation",
        "ReLU",
        "LeakyReLU",
        "ELU",
        "Softmax",
        "Dropout",
        "SpatialDropout2D",
        "Rescaling",
        "RandomFlip",
        "RandomRotation",
        "RandomZoom",
        "RandomTranslation",
        "RandomContrast",
    ):
        table[getattr(layers, name)] = _predict_same_shape
    return table


_MULTI_INPUT = (_predict_add, _predict_concatenate)


def _as_shape(tensor_shape) -> tuple:
    return tuple(None if d is None else int(d) for d in tensor_shape)


def _keras_side(layer):
    """Keras's own input shape(s), output shape and parameter count for ``layer``."""
    inputs, outputs = layer.input, layer.output
    if isinstance(inputs, (list, tuple)):
        # An InputLayer has no inputs (an empty list); merge layers such as Add have several.
        input_shape = [_as_shape(t.shape) for t in inputs] if inputs else None
    else:
        input_shape = _as_shape(inputs.shape)
    if isinstance(outputs, (list, tuple)):
        output_shape = None  # several outputs: not something the course's formulas cover
    else:
        output_shape = _as_shape(outputs.shape)
    return input_shape, output_shape, int(layer.count_params())


def _report_row(layer, predictors) -> LayerReportRow:
    name, layer_type = layer.name, type(layer).__name__
    try:
        input_shape, keras_shape, keras_params = _keras_side(layer)
    except (AttributeError, ValueError) as err:
        note = f"Keras records no input/output for this layer ({err})"
        return LayerReportRow(name, layer_type, None, None, None, None, None, note)

    def not_covered(note):
        return LayerReportRow(name, layer_type, None, keras_shape, None, keras_params, None, note)

    predictor = predictors.get(type(layer))
    if predictor is None or keras_shape is None:
        return not_covered(NOT_COVERED)
    if predictor is _predict_input:
        wanted_kind = type(None)
    else:
        wanted_kind = list if predictor in _MULTI_INPUT else tuple
    if not isinstance(input_shape, wanted_kind):
        return not_covered(NOT_COVERED)
    try:
        predicted_shape, predicted_params = predictor(layer, layer.get_config(), input_shape)
    except _NotCovered as err:
        return not_covered(str(err))
    except (TypeError, ValueError) as err:  # settings the formulas refuse: say so, never guess
        return not_covered(f"{NOT_COVERED}: {err}")
    agrees = predicted_shape == keras_shape and predicted_params == keras_params
    return LayerReportRow(
        name, layer_type, predicted_shape, keras_shape, predicted_params, keras_params, agrees
    )


def _check_built_model(model, keras):
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"model must be a keras.Model (Sequential or functional), got an object of type "
            f"{type(model).__name__}."
        )
    if not model.built:
        raise ValueError(
            f"model {model.name!r} is not built yet, so its layers have no shapes. "
            "Call model.build(...) or define it with keras.Input, e.g. "
            "keras.Sequential([keras.Input(shape=(32, 32, 3)), ...])."
        )


def layer_report(model) -> list[LayerReportRow]:
    """Predict every layer's output shape and parameter count and compare with Keras.

    For each layer the prediction uses only the layer's configuration (``get_config()``)
    and the input shape Keras recorded for it, through the functions of this module. Keras's
    side is ``layer.output.shape`` and ``layer.count_params()``, the numbers
    ``model.summary()`` prints.

    Covered layers (matched by exact class): ``InputLayer``, ``Conv2D``, ``DepthwiseConv2D``,
    ``SeparableConv2D``, ``Dense`` (on inputs of any rank: it acts on the last axis),
    ``BatchNormalization``, ``MaxPooling2D``, ``AveragePooling2D``,
    ``GlobalAveragePooling2D``, ``GlobalMaxPooling2D``, ``Flatten``, ``ZeroPadding2D``,
    ``Reshape``, ``Add`` (equal shapes), ``Concatenate`` and the shape-preserving,
    weight-free ``Activation``, ``ReLU``, ``LeakyReLU``, ``ELU``, ``Softmax``, ``Dropout``,
    ``SpatialDropout2D``, ``Rescaling`` and ``RandomFlip``/``Rotation``/``Zoom``/
    ``Translation``/``Contrast``. Any other layer, or a covered one with settings outside
    the formulas (``channels_first``, grouped convolution, LoRA, ...), gets ``None``
    predictions, ``agrees=None`` and a note, rather than a guess.

    Parameters
    ----------
    model : keras.Model
        A built Sequential or functional model. Nested models appear as one uncovered row.

    Returns
    -------
    list of LayerReportRow
        One row per entry of ``model.layers``, in order (a Sequential model lists no
        ``InputLayer``; a functional model does).

    Raises
    ------
    TypeError
        If ``model`` is not a ``keras.Model``.
    ValueError
        If the model is not built.

    Example
    -------
    >>> import keras
    >>> model = keras.Sequential([keras.Input(shape=(32, 32, 3)), keras.layers.Conv2D(32, 3)])
    >>> [(row.predicted_params, row.keras_params, row.agrees) for row in layer_report(model)]
    [(896, 896, True)]
    """
    import keras

    _check_built_model(model, keras)
    predictors = _predictors(keras)
    return [_report_row(layer, predictors) for layer in model.layers]


def _format_shape(shape) -> str:
    if shape is None:
        return "-"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _format_count(count) -> str:
    return "-" if count is None else f"{count:,}"


def format_layer_report(rows) -> str:
    """Render :func:`layer_report` rows as a plain-text, fixed-width table.

    The text depends only on the rows (ASCII, no terminal width, no colours), so notebooks
    can store and compare it. Disagreements are marked ``NO <--`` in the last column and
    counted on the final line; uncovered layers show ``-`` and their note.

    Parameters
    ----------
    rows : sequence of LayerReportRow

    Returns
    -------
    str

    Example
    -------
    >>> row = LayerReportRow("conv", "Conv2D", (None, 30, 30, 32), (None, 30, 30, 32),
    ...                      896, 896, True)
    >>> print(format_layer_report([row]))  # doctest: +NORMALIZE_WHITESPACE
    Layer (type)    Predicted shape     Keras shape         Predicted params  Keras params  Agrees
    ---------------------------------------------------------------------------------------------
    conv (Conv2D)   (None, 30, 30, 32)  (None, 30, 30, 32)               896           896  yes
    ---------------------------------------------------------------------------------------------
    Disagreements: 0 of 1 checked layers.
    """
    if isinstance(rows, (str, LayerReportRow)) or not isinstance(rows, Sequence):
        raise TypeError(
            f"rows must be a list of LayerReportRow, as returned by layer_report(model); got "
            f"{type(rows).__name__}."
        )
    for i, row in enumerate(rows):
        if not isinstance(row, LayerReportRow):
            raise TypeError(
                f"rows[{i}] must be a LayerReportRow, got {row!r} of type {type(row).__name__}."
            )

    header = (
        "Layer (type)",
        "Predicted shape",
        "Keras shape",
        "Predicted params",
        "Keras params",
        "Agrees",
    )
    verdicts = {True: "yes", False: "NO <--", None: "-"}
    body = [
        (
            f"{row.name} ({row.layer_type})",
            _format_shape(row.predicted_shape),
            _format_shape(row.keras_shape),
            _format_count(row.predicted_params),
            _format_count(row.keras_params),
            verdicts[row.agrees] + (f"  {row.note}" if row.note else ""),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(5)]
    right_aligned = (False, False, False, True, True)

    def render(cells):
        parts = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(cells[:5], widths, right_aligned, strict=True)
        ]
        return ("  ".join(parts) + "  " + cells[5]).rstrip()

    title = render(header)
    rule = "-" * len(title)
    lines = [title, rule, *(render(cells) for cells in body), rule]

    checked = [row for row in rows if row.agrees is not None]
    wrong = sum(1 for row in checked if row.agrees is False)
    uncovered = len(rows) - len(checked)
    summary = f"Disagreements: {wrong} of {len(checked)} checked layers."
    if uncovered:
        summary += f" Not covered by the course's formulas: {uncovered}."
    lines.append(summary)
    return "\n".join(lines)


def show_layer_report(model) -> list[LayerReportRow]:
    """Print :func:`format_layer_report` of :func:`layer_report` and return the rows.

    Example
    -------
    >>> import keras
    >>> model = keras.Sequential([keras.Input(shape=(8, 8, 1)),
    ...                           keras.layers.MaxPooling2D(name="pool")])
    >>> rows = show_layer_report(model)  # doctest: +NORMALIZE_WHITESPACE
    Layer (type)         Predicted shape  Keras shape      Predicted params  Keras params  Agrees
    ---------------------------------------------------------------------------------------------
    pool (MaxPooling2D)  (None, 4, 4, 1)  (None, 4, 4, 1)                 0             0  yes
    ---------------------------------------------------------------------------------------------
    Disagreements: 0 of 1 checked layers.
    """
    rows = layer_report(model)
    print(format_layer_report(rows))
    return rows
