"""Shape and parameter arithmetic for CNN layers, with Keras's conventions.

Notebook 02 asks learners to predict every layer's output shape and parameter count by hand
and then check against ``model.summary()``. The functions here are those hand calculations,
written once, so that :mod:`course_utils.layer_report` can compare them with what Keras built.

All sizes are for one spatial dimension and ``channels_last`` images ``(batch, H, W, C)``,
the layout the course uses throughout. Importing this module does not import TensorFlow.

Formulas
--------
Output size of a convolution over one dimension of size ``W`` with kernel ``K``, stride
``S``, dilation ``D`` and zero padding ``P`` on each side::

    K_eff = D * (K - 1) + 1                  # the span the dilated kernel covers
    O     = floor((W + 2P - K_eff) / S) + 1  # padding="valid" is P = 0

``padding="same"`` in Keras pads just enough that ``O = ceil(W / S)``, whatever the kernel.
Pooling uses the same formulas with ``D = 1`` and the stride defaulting to the pool size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from course_utils._validation import check_choice, check_int

__all__ = [
    "ReceptiveFieldStep",
    "batchnorm_params",
    "conv2d_params",
    "conv_output_size",
    "dense_params",
    "depthwise_conv2d_params",
    "pool_output_size",
    "pooling_params",
    "receptive_field",
    "residual_block_params",
    "separable_conv2d_params",
    "window_output_size",
]

_PADDING_HINT = 'Use "valid", "same", or a whole number P >= 0 of zeros added on each side.'


# --------------------------------------------------------------------------------------------
# Argument checks specific to this module
# --------------------------------------------------------------------------------------------


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(
            f"{name} must be True or False, got {value!r} of type {type(value).__name__}."
        )
    return value


def _check_padding(padding, name: str = "padding"):
    """Return ``"valid"``, ``"same"`` or a non-negative ``int``."""
    if isinstance(padding, str):
        return check_choice(padding, name, ("valid", "same"), hint=_PADDING_HINT)
    return check_int(padding, name, minimum=0, hint=_PADDING_HINT)


def _check_kernel_pair(kernel_size, name: str = "kernel_size") -> tuple[int, int]:
    """Return ``(kh, kw)`` from an int or a pair of ints, all at least 1."""
    hint = "Pass an int such as 3 or a pair such as (3, 3)."
    if isinstance(kernel_size, (tuple, list)):
        if len(kernel_size) != 2:
            raise ValueError(
                f"{name} must be an int or a (height, width) pair, got {kernel_size!r} "
                f"of length {len(kernel_size)}. {hint}"
            )
        return (
            check_int(kernel_size[0], f"{name}[0]", minimum=1, hint=hint),
            check_int(kernel_size[1], f"{name}[1]", minimum=1, hint=hint),
        )
    size = check_int(kernel_size, name, minimum=1, hint=hint)
    return size, size


# --------------------------------------------------------------------------------------------
# Output sizes
# --------------------------------------------------------------------------------------------


def window_output_size(input_size, kernel_size, stride=1, padding="valid", dilation=1) -> int:
    """Output length of any sliding window along one spatial dimension: the formula alone.

    The formula of :func:`conv_output_size` without its Conv2D rule: any stride may go with any
    dilation, as in Keras's ``DepthwiseConv2D`` and ``SeparableConv2D``, which accept both
    together. :mod:`course_utils.layer_report` uses it for those layers.

    Parameters
    ----------
    input_size, kernel_size : int
        Input length ``W`` and kernel (or window) length ``K``, both at least 1.
    stride : int, default=1
        Step ``S`` between window positions, at least 1.
    padding : {"valid", "same"} or int, default="valid"
        As in :func:`conv_output_size`.
    dilation : int, default=1
        Dilation rate ``D``, at least 1.

    Returns
    -------
    int
        ``floor((W + 2P - K_eff) / S) + 1`` with ``K_eff = D * (K - 1) + 1``, or
        ``ceil(W / S)`` for ``"same"``.

    Raises
    ------
    ValueError
        If the effective kernel is longer than the padded input.

    Example
    -------
    >>> window_output_size(32, 3, stride=2, padding="same", dilation=2)  # Conv2D refuses this
    16
    """
    input_size = check_int(input_size, "input_size", minimum=1)
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    stride = check_int(stride, "stride", minimum=1, hint="Use stride=1 to visit every position.")
    padding = _check_padding(padding)
    dilation = check_int(dilation, "dilation", minimum=1, hint="Use dilation=1 for no dilation.")
    if padding == "same":
        return -(-input_size // stride)  # ceil(W / S) without floats
    pad = 0 if padding == "valid" else padding
    effective = dilation * (kernel_size - 1) + 1
    padded = input_size + 2 * pad
    if effective > padded:
        dilated = f" (kernel_size {kernel_size} dilated by {dilation})" if dilation > 1 else ""
        raise ValueError(
            f"The effective kernel size {effective}{dilated} is larger than the padded input "
            f"size {padded} (input_size {input_size} + 2 * padding {pad}), so no output "
            'position fits. Use padding="same" or a smaller kernel.'
        )
    return (padded - effective) // stride + 1


def conv_output_size(input_size, kernel_size, stride=1, padding="valid", dilation=1) -> int:
    """Output length of a convolution along one spatial dimension, as Keras computes it.

    Parameters
    ----------
    input_size : int
        Input length ``W`` (height or width), at least 1.
    kernel_size : int
        Kernel length ``K``, at least 1.
    stride : int, default=1
        Step ``S`` between kernel positions, at least 1.
    padding : {"valid", "same"} or int, default="valid"
        ``"valid"``: no padding. ``"same"``: Keras pads so that the output is
        ``ceil(W / S)``. An int ``P >= 0``: explicit zero padding of ``P`` on *each* side,
        the textbook formula (in Keras: a ``ZeroPadding2D(P)`` then a ``"valid"`` conv).
    dilation : int, default=1
        Dilation rate ``D``; the kernel then spans ``D * (K - 1) + 1`` input positions.

    Returns
    -------
    int
        ``floor((W + 2P - K_eff) / S) + 1`` with ``K_eff = D * (K - 1) + 1``, or
        ``ceil(W / S)`` for ``"same"``.

    Raises
    ------
    ValueError
        If ``stride > 1`` and ``dilation > 1`` together (Keras's ``Conv2D`` refuses this),
        or if the effective kernel is longer than the padded input.

    Example
    -------
    >>> conv_output_size(32, 3, stride=2, padding=1)
    16
    >>> conv_output_size(32, 5, stride=2, padding="same")
    16
    """
    input_size = check_int(input_size, "input_size", minimum=1)
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    stride = check_int(stride, "stride", minimum=1, hint="Use stride=1 to visit every position.")
    padding = _check_padding(padding)
    dilation = check_int(dilation, "dilation", minimum=1, hint="Use dilation=1 for no dilation.")
    if stride > 1 and dilation > 1:
        raise ValueError(
            f"stride={stride} together with dilation={dilation} is refused by Keras's Conv2D "
            "(strides > 1 is incompatible with dilation_rate > 1). Use stride=1 with "
            "dilation, or dilation=1 with stride."
        )
    return window_output_size(input_size, kernel_size, stride, padding, dilation)


def pool_output_size(input_size, pool_size, strides=None, padding="valid") -> int:
    """Output length of a max or average pooling layer along one spatial dimension.

    Parameters
    ----------
    input_size : int
        Input length ``W``, at least 1.
    pool_size : int
        Window length ``K``, at least 1.
    strides : int or None, default=None
        Step between windows. ``None`` means ``pool_size`` (non-overlapping windows), as in
        Keras.
    padding : {"valid", "same"}, default="valid"
        Keras's two pooling paddings: ``"valid"`` gives ``floor((W - K) / S) + 1``,
        ``"same"`` gives ``ceil(W / S)``.

    Returns
    -------
    int

    Example
    -------
    >>> pool_output_size(32, 2)
    16
    >>> pool_output_size(7, 3, strides=2, padding="same")
    4
    """
    input_size = check_int(input_size, "input_size", minimum=1)
    pool_size = check_int(pool_size, "pool_size", minimum=1)
    if strides is None:
        strides = pool_size
    else:
        strides = check_int(strides, "strides", minimum=1, hint="Pass None to use pool_size.")
    padding = check_choice(
        padding,
        "padding",
        ("valid", "same"),
        hint="Keras pooling layers accept only these; add a ZeroPadding2D layer for more.",
    )
    if padding == "valid" and pool_size > input_size:
        raise ValueError(
            f"pool_size {pool_size} is larger than the input size {input_size}, so no window "
            'fits. Use padding="same" or a smaller pool_size.'
        )
    return window_output_size(input_size, pool_size, strides, padding, 1)


# --------------------------------------------------------------------------------------------
# Parameter counts
# --------------------------------------------------------------------------------------------


def conv2d_params(kernel_size, in_channels, filters, use_bias=True) -> int:
    """Number of weights of a ``Conv2D`` layer: ``kh * kw * C_in * filters (+ filters)``.

    Each of the ``filters`` kernels has one ``kh x kw`` slice per input channel, plus one
    bias. A 1x1 convolution (``kernel_size=1``) is the special case ``C_in * filters``: it
    mixes channels at each pixel and sees no neighbours.

    Parameters
    ----------
    kernel_size : int or (int, int)
        Kernel height and width; an int means a square kernel.
    in_channels : int
        Channels of the input, ``C_in``.
    filters : int
        Number of kernels, which is the number of output channels.
    use_bias : bool, default=True

    Returns
    -------
    int

    Example
    -------
    >>> conv2d_params(3, in_channels=3, filters=32)
    896
    >>> conv2d_params(1, in_channels=64, filters=32)
    2080
    """
    kh, kw = _check_kernel_pair(kernel_size)
    in_channels = check_int(in_channels, "in_channels", minimum=1)
    filters = check_int(filters, "filters", minimum=1)
    use_bias = _check_bool(use_bias, "use_bias")
    return kh * kw * in_channels * filters + (filters if use_bias else 0)


def depthwise_conv2d_params(kernel_size, in_channels, depth_multiplier=1, use_bias=True) -> int:
    """Number of weights of a ``DepthwiseConv2D`` layer.

    Every input channel gets its own ``depth_multiplier`` kernels of size ``kh x kw``, and
    channels are never mixed: ``kh * kw * C_in * M`` weights plus ``C_in * M`` biases.

    Parameters
    ----------
    kernel_size : int or (int, int)
    in_channels : int
    depth_multiplier : int, default=1
        Output channels per input channel, ``M``.
    use_bias : bool, default=True

    Returns
    -------
    int

    Example
    -------
    >>> depthwise_conv2d_params(3, in_channels=64)
    640
    """
    kh, kw = _check_kernel_pair(kernel_size)
    in_channels = check_int(in_channels, "in_channels", minimum=1)
    depth_multiplier = check_int(depth_multiplier, "depth_multiplier", minimum=1)
    use_bias = _check_bool(use_bias, "use_bias")
    outputs = in_channels * depth_multiplier
    return kh * kw * outputs + (outputs if use_bias else 0)


def separable_conv2d_params(
    kernel_size, in_channels, filters, depth_multiplier=1, use_bias=True
) -> int:
    """Number of weights of a ``SeparableConv2D`` layer.

    A depthwise step (``kh * kw * C_in * M`` weights, no bias) followed by a 1x1 pointwise
    step (``C_in * M * filters`` weights) with one bias per filter, which is how Keras
    builds it.

    Parameters
    ----------
    kernel_size : int or (int, int)
    in_channels : int
    filters : int
    depth_multiplier : int, default=1
    use_bias : bool, default=True

    Returns
    -------
    int

    Example
    -------
    >>> separable_conv2d_params(3, in_channels=64, filters=128)  # Conv2D would need 73,856
    8896
    """
    kh, kw = _check_kernel_pair(kernel_size)
    in_channels = check_int(in_channels, "in_channels", minimum=1)
    filters = check_int(filters, "filters", minimum=1)
    depth_multiplier = check_int(depth_multiplier, "depth_multiplier", minimum=1)
    use_bias = _check_bool(use_bias, "use_bias")
    middle = in_channels * depth_multiplier
    return kh * kw * middle + middle * filters + (filters if use_bias else 0)


def dense_params(in_features, units, use_bias=True) -> int:
    """Number of weights of a ``Dense`` layer: ``in_features * units (+ units)``.

    On inputs with more than two axes Keras's ``Dense`` acts on the last axis only, so
    ``in_features`` is the size of that axis.

    Parameters
    ----------
    in_features : int
    units : int
    use_bias : bool, default=True

    Returns
    -------
    int

    Example
    -------
    >>> dense_params(64 * 64 * 3, 32, use_bias=False)  # weights only
    393216
    >>> dense_params(64 * 64 * 3, 32)  # plus the 32 biases
    393248
    """
    in_features = check_int(in_features, "in_features", minimum=1)
    units = check_int(units, "units", minimum=1)
    use_bias = _check_bool(use_bias, "use_bias")
    return in_features * units + (units if use_bias else 0)


def batchnorm_params(channels, trainable_only=False, *, center=True, scale=True) -> int:
    """Number of weights of a ``BatchNormalization`` layer over ``channels`` channels.

    Per channel Keras keeps ``gamma`` (if ``scale``) and ``beta`` (if ``center``), which are
    learned, and a moving mean and moving variance, which are updated during training but
    not by the optimiser (non-trainable). ``model.summary()`` and ``count_params()`` count
    all of them, hence the default.

    Parameters
    ----------
    channels : int
        Size of the normalised axis (the channels, for images).
    trainable_only : bool, default=False
        ``False``: all weights, ``4 * C`` by default, as ``count_params()`` reports.
        ``True``: only ``gamma`` and ``beta``, ``2 * C`` by default.
    center, scale : bool, default=True
        Keras's options to drop ``beta`` or ``gamma``.

    Returns
    -------
    int

    Example
    -------
    >>> batchnorm_params(32)
    128
    >>> batchnorm_params(32, trainable_only=True)
    64
    """
    channels = check_int(channels, "channels", minimum=1)
    trainable_only = _check_bool(trainable_only, "trainable_only")
    center = _check_bool(center, "center")
    scale = _check_bool(scale, "scale")
    trainable = channels * (int(center) + int(scale))
    return trainable if trainable_only else trainable + 2 * channels


def pooling_params() -> int:
    """Number of weights of any pooling layer: always 0.

    Max and average pooling (and their global versions) apply a fixed rule (take the
    maximum, take the mean) to each window; there is nothing to learn, so they add no
    parameters however large the window or the input.

    Example
    -------
    >>> pooling_params()
    0
    """
    return 0


def residual_block_params(in_channels, filters, stride=1, use_bias=False) -> int:
    """Number of weights of a basic residual block, as ``count_params()`` counts them.

    The block of ResNet-18/34: two 3x3 convolutions with ``filters`` filters (the first with
    ``stride``, both ``padding="same"``), each followed by ``BatchNormalization``; a shortcut;
    ``Add``; ReLU. The shortcut is the identity when the input already has the output's shape
    (``stride == 1`` and ``in_channels == filters``) and has no weights. Otherwise it is a 1x1
    *projection*: ``Conv2D(filters, 1, strides=stride)``, followed by its own
    ``BatchNormalization``. ``Add`` and ReLU have no weights.

    Parameters
    ----------
    in_channels : int
        Channels of the block's input.
    filters : int
        Channels of the block's output (and of both 3x3 convolutions).
    stride : int, default=1
        Stride of the first 3x3 convolution (and of the projection).
    use_bias : bool, default=False
        Whether the convolutions have biases. In front of ``BatchNormalization`` a bias is
        redundant (its ``beta`` shifts each channel after the mean is taken away), hence the
        default. Each ``BatchNormalization`` holds 4 weights per channel: ``gamma``, ``beta``
        and the non-trainable moving mean and variance.

    Returns
    -------
    int

    Example
    -------
    >>> residual_block_params(64, 64)  # identity shortcut
    74240
    >>> residual_block_params(64, 128, stride=2)  # 1x1 projection shortcut
    230912
    """
    in_channels = check_int(in_channels, "in_channels", minimum=1)
    filters = check_int(filters, "filters", minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    use_bias = _check_bool(use_bias, "use_bias")
    norm = batchnorm_params(filters)
    total = conv2d_params(3, in_channels, filters, use_bias) + norm
    total += conv2d_params(3, filters, filters, use_bias) + norm
    if stride != 1 or in_channels != filters:
        total += conv2d_params(1, in_channels, filters, use_bias) + norm
    return total


# --------------------------------------------------------------------------------------------
# Receptive field
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceptiveFieldStep:
    """One layer's contribution to the receptive field (one spatial dimension).

    Attributes
    ----------
    layer_index : int
        Position in the sequence given to :func:`receptive_field`, from 0.
    kernel_size, stride, dilation : int
        The layer's settings.
    receptive_field : int
        Input pixels one output unit of this layer sees.
    jump : int
        Distance in input pixels between neighbouring output units of this layer (the
        product of the strides so far).
    """

    layer_index: int
    kernel_size: int
    stride: int
    dilation: int
    receptive_field: int
    jump: int


def _check_rf_layer(index: int, layer) -> tuple[int, int, int]:
    shape_hint = "Give one (kernel_size, stride) or (kernel_size, stride, dilation) per layer."
    if isinstance(layer, str) or not isinstance(layer, Sequence):
        raise TypeError(
            f"layers[{index}] must be a tuple, got {layer!r} of type {type(layer).__name__}. "
            f"{shape_hint}"
        )
    if len(layer) not in (2, 3):
        raise ValueError(
            f"layers[{index}] must have 2 or 3 entries, got {tuple(layer)!r} of length "
            f"{len(layer)}. {shape_hint}"
        )
    kernel = check_int(layer[0], f"layers[{index}] kernel_size", minimum=1)
    stride = check_int(layer[1], f"layers[{index}] stride", minimum=1)
    dilation = check_int(layer[2], f"layers[{index}] dilation", minimum=1) if len(layer) == 3 else 1
    return kernel, stride, dilation


def receptive_field(layers) -> list[ReceptiveFieldStep]:
    """Receptive field and jump after each conv or pooling layer, along one dimension.

    Starting from one input pixel (``r = 1``, ``j = 1``), each layer with kernel ``k``,
    stride ``s`` and dilation ``d`` gives::

        k_eff = d * (k - 1) + 1
        r_out = r_in + (k_eff - 1) * j_in
        j_out = j_in * s

    Padding does not change the receptive field. Layers that do not slide a window (ReLU,
    batch norm, dropout) leave it unchanged and are simply left out.

    Parameters
    ----------
    layers : sequence of tuples
        One ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)`` per layer, in
        order; a pooling layer is ``(pool_size, strides)``. An empty sequence gives ``[]``.

    Returns
    -------
    list of ReceptiveFieldStep

    Example
    -------
    >>> [step.receptive_field for step in receptive_field([(3, 1), (3, 1), (2, 2), (3, 1)])]
    [3, 5, 6, 10]
    """
    if isinstance(layers, str) or not isinstance(layers, Sequence):
        raise TypeError(
            f"layers must be a list of (kernel_size, stride[, dilation]) tuples, got "
            f"{layers!r} of type {type(layers).__name__}."
        )
    checked = [_check_rf_layer(i, layer) for i, layer in enumerate(layers)]
    steps = []
    field, jump = 1, 1
    for index, (kernel, stride, dilation) in enumerate(checked):
        field += dilation * (kernel - 1) * jump
        jump *= stride
        steps.append(ReceptiveFieldStep(index, kernel, stride, dilation, field, jump))
    return steps
