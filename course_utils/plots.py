"""Plot helpers for the notebooks: image grids, conv filters, feature maps, learning curves.

Each function does one job, checks its arguments before drawing anything, and returns the
Matplotlib :class:`~matplotlib.figure.Figure` without calling ``plt.show()``: in Jupyter the
figure appears anyway, and tests or later cells can inspect it. Write ``_ = show_images(...)``
to keep the cell from also printing the figure's ``repr``.

Matplotlib and Keras are imported inside the functions, so ``import course_utils.plots`` stays
cheap and does not start TensorFlow.
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from course_utils._validation import check_array, check_choice, check_int, check_number

__all__ = ["show_images", "show_filters", "show_feature_maps", "plot_history"]

#: The most panels one grid draws. More become unreadable and slow; slice the batch instead.
MAX_IMAGES = 100

#: Float RGB images whose maximum exceeds this are taken to be on the 0-255 scale. It is above 1
#: so that a 0-1 image which overshoots slightly (bicubic resizing, augmentation) stays on 0-1.
RGB_255_THRESHOLD = 2.0


# --------------------------------------------------------------------------------------------
# Small private helpers
# --------------------------------------------------------------------------------------------


def _check_optional_text(value, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(
            f"{name} must be a string or None, got {value!r} of type {type(value).__name__}."
        )
    return value


def _check_cmap(cmap, name: str = "cmap"):
    """Return ``cmap`` if it is a Colormap or the name of a registered one."""
    import matplotlib
    from matplotlib.colors import Colormap

    if isinstance(cmap, Colormap):
        return cmap
    if not isinstance(cmap, str):
        raise TypeError(
            f"{name} must be a colormap name such as 'gray', got {cmap!r} of type "
            f"{type(cmap).__name__}."
        )
    if cmap not in matplotlib.colormaps:
        close = difflib.get_close_matches(cmap, list(matplotlib.colormaps), n=3)
        suggestion = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"{name} must be a Matplotlib colormap name, got {cmap!r}.{suggestion} "
            "Common choices: 'gray', 'viridis', 'RdBu_r'; list(matplotlib.colormaps) has them all."
        )
    return cmap


def _check_titles(titles, count: int, what: str = "image") -> list[str] | None:
    """Return one title string per panel, or None."""
    if titles is None:
        return None
    if isinstance(titles, str) or not isinstance(titles, Iterable):
        raise TypeError(
            f"titles must be a list with one title per {what}, got {titles!r} of type "
            f"{type(titles).__name__}. For a single {what} write titles=[{titles!r}]."
        )
    titles = list(titles)
    if len(titles) != count:
        raise ValueError(
            f"titles has {len(titles)} entries but there are {count} {what}s; "
            f"pass exactly one title per {what}."
        )
    return [str(t) for t in titles]


def _hide_ticks(ax) -> None:
    """Remove ticks and grid but keep a thin frame, so pale panels stay visible on white."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_linewidth(0.5)
        spine.set_color("0.6")


def _image_grid(count: int, ncols: int, size: float, suptitle: str | None):
    """Create a figure with ``count`` tick-less panels in rows of ``ncols``; return fig, axes."""
    import matplotlib.pyplot as plt

    ncols = min(ncols, count)
    nrows = math.ceil(count / ncols)
    extra = 0.4 if suptitle else 0.0
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(ncols * size, nrows * size + extra),
        squeeze=False,
        layout="constrained",
    )
    axes = list(axes.ravel())
    for ax in axes[count:]:
        ax.remove()
    for ax in axes[:count]:
        _hide_ticks(ax)
    if suptitle:
        fig.suptitle(suptitle)
    return fig, axes[:count]


def _display_range(image: np.ndarray, *, rgb: bool, is_255: bool):
    """Return the array to draw and the (vmin, vmax) for one image (None for RGB)."""
    if rgb:
        if image.dtype == np.uint8:
            return image, (None, None)
        if image.dtype.kind in "iu":
            return np.clip(image, 0, 255).astype(np.uint8), (None, None)
        image = image.astype(np.float32)
        if is_255:
            image = image / 255.0
        return np.clip(image, 0.0, 1.0), (None, None)
    if image.dtype == np.uint8:
        return image, (0, 255)
    if image.dtype.kind == "b":
        return image.astype(np.float32), (0.0, 1.0)
    return image, (float(image.min()), float(image.max()))


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def show_images(
    images,
    titles=None,
    ncols: int = 8,
    cmap="gray",
    figsize_per_image: float = 1.3,
    suptitle: str | None = None,
):
    """Show a batch of images in a grid.

    Parameters
    ----------
    images : array-like of shape (N, H, W), (N, H, W, 1) or (N, H, W, 3)
        The images. A single channel axis is dropped; three channels are drawn in colour.
        ``uint8`` grayscale images use the fixed 0-255 scale; other grayscale images are
        stretched from each image's own minimum to its maximum. RGB floats are clipped to
        [0, 1], unless the batch's maximum is above 2, in which case they are taken to be on
        the 0-255 scale and divided by 255 first.
    titles : sequence of str or numbers, optional
        One title per image, e.g. the labels ``y[:16]``.
    ncols : int, default=8
        Images per row (fewer if there are fewer images).
    cmap : str or Colormap, default="gray"
        Colormap for single-channel images; ignored for RGB.
    figsize_per_image : float, default=1.3
        Width and height of each panel in inches.
    suptitle : str, optional
        Title above the whole grid.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, one axes per image in reading order (``fig.axes[i]`` shows image ``i``).

    Raises
    ------
    ValueError
        If the batch has the wrong rank or channel count, is empty, holds NaN or more than
        ``MAX_IMAGES`` images, or ``titles`` has the wrong length.
    TypeError
        If the images are not numeric or an argument has the wrong type.

    Examples
    --------
    >>> fig = show_images(X[:16].reshape(-1, 8, 8), titles=y[:16])  # doctest: +SKIP
    """
    shape_hint = (
        "Pass a batch shaped (N, H, W), (N, H, W, 1) or (N, H, W, 3); "
        "for one image write show_images(image[None])."
    )
    images = check_array(images, "images", ndim=(3, 4), finite=True, hint=shape_hint)
    if images.ndim == 4 and images.shape[-1] not in (1, 3):
        raise ValueError(
            f"images must have 1 (grayscale) or 3 (RGB) channels in the last axis, got "
            f"{images.shape[-1]} (shape {images.shape}). If the channels come first, "
            "move them with np.moveaxis(images, 1, -1)."
        )
    if images.ndim == 3 and images.shape[-1] in (1, 3) and min(images.shape[:2]) > 4:
        raise ValueError(
            f"images has shape {images.shape}, which looks like a single image with "
            f"{images.shape[-1]} channel(s), not a batch. {shape_hint}"
        )
    count = images.shape[0]
    if count > MAX_IMAGES:
        raise ValueError(
            f"images holds {count} images, but show_images draws at most {MAX_IMAGES}. "
            "Slice the batch first, e.g. show_images(images[:32])."
        )
    titles = _check_titles(titles, count)
    ncols = check_int(ncols, "ncols", minimum=1, hint="It is the number of images per row.")
    cmap = _check_cmap(cmap)
    figsize_per_image = check_number(
        figsize_per_image, "figsize_per_image", minimum=0.1, hint="It is in inches, e.g. 1.3."
    )
    suptitle = _check_optional_text(suptitle, "suptitle")

    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    rgb = images.ndim == 4
    is_255 = bool(rgb and images.dtype.kind == "f" and images.max() > RGB_255_THRESHOLD)

    fig, axes = _image_grid(count, ncols, figsize_per_image, suptitle)
    for i, ax in enumerate(axes):
        shown, (vmin, vmax) = _display_range(images[i], rgb=rgb, is_255=is_255)
        ax.imshow(
            shown,
            cmap=None if rgb else cmap,
            vmin=vmin,
            vmax=vmax,
            interpolation="nearest",
        )
        if titles is not None:
            ax.set_title(titles[i], fontsize="small")
    return fig


def _kernel_from(kernel_or_layer) -> tuple[np.ndarray, str | None]:
    """Return the (kh, kw, in, out) kernel of a built Conv2D layer or array, and a name."""
    if not isinstance(kernel_or_layer, np.ndarray):
        import keras

        if isinstance(kernel_or_layer, keras.layers.Layer):
            layer = kernel_or_layer
            if not isinstance(layer, keras.layers.Conv2D):
                raise TypeError(
                    f"show_filters needs a Conv2D layer, got {type(layer).__name__} layer "
                    f"{layer.name!r}. Pick a convolution layer, e.g. "
                    "model.get_layer('conv1'), or pass a kernel array."
                )
            if not layer.built:
                raise ValueError(
                    f"Conv2D layer {layer.name!r} is not built yet, so it has no kernel. "
                    "Start the model with keras.Input(shape=...) or call it on a batch first."
                )
            kernel = np.asarray(layer.kernel.numpy())
            return kernel, layer.name
    kernel = check_array(
        kernel_or_layer,
        "kernel_or_layer",
        ndim=4,
        finite=True,
        hint="A Conv2D kernel is shaped (kernel_h, kernel_w, in_channels, out_channels); "
        "pass the layer itself or layer.kernel.",
    )
    return kernel, None


def show_filters(kernel_or_layer, ncols: int = 8, channel: int | None = None):
    """Show the filters (kernels) of a 2-D convolution, one panel per output channel.

    Parameters
    ----------
    kernel_or_layer : keras.layers.Conv2D or array-like of shape (kh, kw, in_channels, out_channels)
        A built Conv2D layer, or its kernel (hand-made filters are arrays of this shape).
    ncols : int, default=8
        Filters per row.
    channel : int, optional
        Which input channel of each filter to draw. By default, filters over three input
        channels (a first layer on RGB images) are drawn in colour, each min-max normalised
        to [0, 1]; otherwise input channel 0 is drawn. Single channels use the diverging
        colormap ``"RdBu_r"`` centred at 0 (red positive, blue negative, white 0), scaled
        per filter to ``[-max|w|, +max|w|]`` so each filter's pattern is visible.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per filter, ``fig.axes[i]`` showing filter ``i``; the figure's title names
        the input channel shown.

    Raises
    ------
    TypeError
        If given a layer that is not Conv2D.
    ValueError
        If the layer is not built, the array is not 4-D, ``channel`` is out of range, or there
        are more than ``MAX_IMAGES`` filters.
    """
    kernel, layer_name = _kernel_from(kernel_or_layer)
    ncols = check_int(ncols, "ncols", minimum=1, hint="It is the number of filters per row.")
    kh, kw, in_channels, out_channels = kernel.shape
    if channel is not None:
        channel = check_int(
            channel,
            "channel",
            minimum=0,
            maximum=in_channels - 1,
            hint=f"The filters have {in_channels} input channel(s), numbered from 0.",
        )
    if out_channels > MAX_IMAGES:
        raise ValueError(
            f"The kernel has {out_channels} filters, but show_filters draws at most "
            f"{MAX_IMAGES}. Pass a slice of the kernel, e.g. "
            "show_filters(layer.kernel.numpy()[..., :64])."
        )

    colour = in_channels == 3 and channel is None
    what = f"{layer_name!r}: " if layer_name else ""
    if colour:
        suptitle = f"{what}{out_channels} filters {kh}x{kw}, RGB (min-max normalised)"
    else:
        channel = 0 if channel is None else channel
        suptitle = (
            f"{what}{out_channels} filters {kh}x{kw}, input channel {channel} of {in_channels}"
        )

    fig, axes = _image_grid(out_channels, ncols, 1.1, suptitle)
    for i, ax in enumerate(axes):
        if colour:
            weights = kernel[:, :, :, i].astype(np.float64)
            low, high = weights.min(), weights.max()
            shown = (weights - low) / (high - low) if high > low else np.full_like(weights, 0.5)
            ax.imshow(shown, interpolation="nearest")
        else:
            weights = kernel[:, :, channel, i]
            limit = float(np.abs(weights).max()) or 1.0
            ax.imshow(weights, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_title(str(i), fontsize="small")
    return fig


def _output_rank(layer) -> int | None:
    try:
        return len(layer.output.shape)
    except (AttributeError, ValueError):
        return None


def _layer_output(model, layer_name: str):
    """Return the symbolic output of ``model``'s layer ``layer_name``, checked to be 4-D."""
    names = [layer.name for layer in model.layers]
    check_choice(layer_name, "layer_name", names, hint="Use one of the model's layer names.")
    try:
        output = model.get_layer(layer_name).output
    except (AttributeError, ValueError) as err:
        raise ValueError(
            f"Layer {layer_name!r} has no single output in this model ({err})."
        ) from err
    if len(output.shape) != 4:
        maps = [layer.name for layer in model.layers if _output_rank(layer) == 4]
        raise ValueError(
            f"Layer {layer_name!r} outputs shape {tuple(output.shape)}, not feature maps "
            "shaped (batch, height, width, channels). Choose a convolution or pooling layer: "
            f"{', '.join(repr(n) for n in maps) or 'the model has none'}."
        )
    return output


def show_feature_maps(model, layer_name: str, image, ncols: int = 8, max_maps: int = 32):
    """Show the feature maps that one layer of ``model`` produces for one image.

    Parameters
    ----------
    model : keras.Model
        A model with one defined input: a functional model, or a Sequential model that
        starts with ``keras.Input``.
    layer_name : str
        Name of a layer whose output is 4-D (batch, height, width, channels), e.g. a Conv2D or
        pooling layer. ``[layer.name for layer in model.layers]`` lists them.
    image : array-like of shape (H, W, C) or (1, H, W, C)
        The input image, shaped like one sample of the model's input.
    ncols : int, default=8
        Maps per row.
    max_maps : int, default=32
        Draw at most the first ``max_maps`` channels (at most ``MAX_IMAGES``).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per channel, ``fig.axes[k]`` showing channel ``k`` in the "viridis" colormap,
        stretched from that map's minimum to its maximum.

    Raises
    ------
    TypeError
        If ``model`` is not a Keras model or ``layer_name`` is not a string.
    ValueError
        If the layer does not exist (the error lists the names), its output is not 4-D, or the
        image's shape does not match the model's input.
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(
            f"model must be a keras.Model, got {type(model).__name__}. Pass the whole model "
            "and the layer's name, e.g. show_feature_maps(model, 'conv1', image)."
        )
    if not isinstance(layer_name, str):
        raise TypeError(
            f"layer_name must be the layer's name as a string, got {layer_name!r} of type "
            f"{type(layer_name).__name__}. Use e.g. model.layers[0].name."
        )
    ncols = check_int(ncols, "ncols", minimum=1, hint="It is the number of maps per row.")
    max_maps = check_int(max_maps, "max_maps", minimum=1, maximum=MAX_IMAGES)
    try:
        inputs = model.inputs
    except (AttributeError, ValueError) as err:
        inputs = None
        reason = f" ({err})"
    else:
        reason = ""
    if not inputs or len(inputs) != 1:
        raise ValueError(
            f"model {model.name!r} needs exactly one defined input to extract feature maps"
            f"{reason}. Start a Sequential model with keras.Input(shape=...), or build it "
            "with the functional API."
        )
    output = _layer_output(model, layer_name)

    image = check_array(
        image,
        "image",
        ndim=(3, 4),
        finite=True,
        hint="Pass one image shaped (H, W, C) or (1, H, W, C); for a grayscale (H, W) image "
        "add the channel axis with image[..., None].",
    )
    if image.ndim == 4:
        if image.shape[0] != 1:
            raise ValueError(
                f"image must be one image, got a batch of {image.shape[0]} (shape "
                f"{image.shape}). Pass images[0] or images[:1]."
            )
        image = image[0]
    expected = tuple(inputs[0].shape[1:])
    matches = len(expected) == image.ndim and all(
        e is None or e == s for e, s in zip(expected, image.shape, strict=False)
    )
    if not matches:
        shown = tuple("any" if e is None else e for e in expected)
        raise ValueError(
            f"image has shape {image.shape}, but model {model.name!r} expects images of "
            f"shape {shown}. Resize or reshape the image to match the model's input."
        )

    sub_model = keras.Model(inputs[0], output)
    batch = np.asarray(image[None], dtype=inputs[0].dtype)
    maps = keras.ops.convert_to_numpy(sub_model(batch, training=False))[0]
    total = maps.shape[-1]
    count = min(total, max_maps)
    shown = f"first {count} of {total}" if count < total else f"all {total}"
    return show_images(
        np.moveaxis(maps[..., :count], -1, 0),
        titles=list(range(count)),
        ncols=ncols,
        cmap="viridis",
        suptitle=f"{layer_name!r}: {shown} feature maps, {maps.shape[0]}x{maps.shape[1]}",
    )


def _history_dict(history) -> dict[str, np.ndarray]:
    """Return the metric curves of a History or dict as 1-D float arrays."""
    curves = getattr(history, "history", history)
    if not isinstance(curves, Mapping):
        raise TypeError(
            f"history must be the History that model.fit returns, or its .history dict, got "
            f"{type(history).__name__}."
        )
    if not curves or all(len(np.atleast_1d(v)) == 0 for v in curves.values()):
        raise ValueError(
            "history is empty: there is nothing to plot. Pass the result of "
            "history = model.fit(..., epochs=N) with N >= 1."
        )
    bad_keys = [key for key in curves if not isinstance(key, str)]
    if bad_keys:
        raise TypeError(
            f"history's keys must be metric names such as 'loss', got {bad_keys!r}. Pass "
            "history.history from model.fit, or a dict like {'loss': [...], 'val_loss': [...]}."
        )
    return {
        key: check_array(values, f"history[{key!r}]", ndim=1).astype(np.float64)
        for key, values in curves.items()
    }


def _check_finite_curve(key: str, values: np.ndarray) -> None:
    """Refuse a curve with nothing finite; warn (and plot the rest) if it has some NaN/inf."""
    finite = np.isfinite(values)
    if finite.all():
        return
    fix = (
        "Training diverged: lower the learning rate, scale inputs and labels (e.g. divide "
        "pixels by 255, standardise large regression targets), or add gradient clipping."
    )
    if not finite.any():
        raise ValueError(f"history[{key!r}] holds only NaN or infinite values. {fix}")
    first = int(np.argmin(finite)) + 1
    count = int(np.size(finite) - np.count_nonzero(finite))
    warnings.warn(
        f"history[{key!r}] has {count} NaN or infinite value(s), the first at epoch {first}; "
        f"they are not drawn. {fix}",
        UserWarning,
        stacklevel=3,
    )


def plot_history(history, metrics=None, title: str | None = None):
    """Plot training curves, one subplot per metric, with the validation curve alongside.

    Parameters
    ----------
    history : keras.callbacks.History or dict of str to list of float
        What ``model.fit`` returns, or its ``.history`` dict.
    metrics : str or sequence of str, optional
        Training metrics to plot, e.g. ``["loss", "accuracy"]``. By default every key that does
        not start with ``"val_"``. The matching ``"val_<metric>"`` curve is added when present.
    title : str, optional
        Title above all subplots.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per metric in order; on each, line 0 is training and line 1 (if any) is
        validation, plotted against epochs 1, 2, ..., N.

    Raises
    ------
    TypeError
        If ``history`` is neither a History nor a dict.
    ValueError
        If the history is empty, a metric is unknown (the error lists the available ones),
        a validation curve's length differs from its training curve's, or a curve holds no
        finite value at all.

    Warns
    -----
    UserWarning
        If a curve has some NaN or infinite values (a diverging run): the finite points are
        drawn and the warning names the first bad epoch and what to try.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    curves = _history_dict(history)
    available = [key for key in curves if not key.startswith("val_")]
    if not available:
        raise ValueError(
            f"history has only validation curves ({', '.join(map(repr, curves))}) and no "
            "training metric to pair them with. Pass the whole history.history of model.fit."
        )
    if metrics is None:
        metrics = available
    elif isinstance(metrics, str):
        metrics = [metrics]
    elif not isinstance(metrics, Sequence):
        raise TypeError(
            f"metrics must be a metric name or a list of them, got {metrics!r} of type "
            f"{type(metrics).__name__}."
        )
    if len(metrics) == 0:
        raise ValueError(
            f"metrics is empty; pass None to plot all of {', '.join(map(repr, available))}."
        )
    for metric in metrics:
        check_choice(
            metric,
            "metrics",
            available,
            hint="Validation curves ('val_...') are drawn with their training metric.",
        )
    title = _check_optional_text(title, "title")
    for metric in metrics:
        _check_finite_curve(metric, curves[metric])
        if f"val_{metric}" in curves:
            _check_finite_curve(f"val_{metric}", curves[f"val_{metric}"])
        val = curves.get(f"val_{metric}")
        if val is not None and len(val) != len(curves[metric]):
            raise ValueError(
                f"history['val_{metric}'] has {len(val)} values but history[{metric!r}] has "
                f"{len(curves[metric])}; plot_history needs one validation value per epoch "
                "(train with validation_freq=1)."
            )

    ncols = min(len(metrics), 3)
    nrows = math.ceil(len(metrics) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False, layout="constrained"
    )
    axes = list(axes.ravel())
    for ax in axes[len(metrics) :]:
        ax.remove()
    for ax, metric in zip(axes, metrics, strict=False):
        train = curves[metric]
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, marker="o", markersize=3, label="training")
        val = curves.get(f"val_{metric}")
        if val is not None:
            ax.plot(epochs, val, marker="o", markersize=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig
