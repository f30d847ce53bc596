"""Where a classifier looks: Grad-CAM, input-gradient saliency, and a map's share inside a mask.

* :func:`logits_model` - a flat copy of a chain classifier whose last layer outputs logits
  (the same weights, without the final softmax or sigmoid; any other final activation is
  refused);
* :func:`grad_cam` - Grad-CAM heat maps from one convolutional layer, upsampled to the images;
* :func:`input_saliency` - the size of the class logit's gradient with respect to each pixel;
* :func:`share_inside` - the share of each map's mass that lies inside a mask;
* :func:`show_overlays` - images with their heat maps laid over them (and the masks' outlines).

Grad-CAM (Selvaraju et al., 2017) weighs the feature maps of a convolutional layer by how much
the class score grows with each of them: the gradient of the class logit with respect to the
maps, averaged over the positions, gives one weight per channel; the weighted sum of the maps,
with negative values cut (ReLU), is the heat map. It has the resolution of that layer's maps.

>>> maps = grad_cam(model, images, class_index=2, layer_name="last_conv")  # doctest: +SKIP

TensorFlow and Keras are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import numpy as np

from course_utils._validation import check_array, check_int, check_number

__all__ = ["grad_cam", "input_saliency", "logits_model", "share_inside", "show_overlays"]

def _squashing_functions() -> dict:
    """The softmax and sigmoid functions a layer may hold as its activation, by name."""
    import keras
    import tensorflow as tf

    return {
        "softmax": (keras.activations.softmax, keras.ops.softmax, tf.nn.softmax),
        "sigmoid": (keras.activations.sigmoid, keras.ops.sigmoid, tf.nn.sigmoid),
    }


def _squashing_name(operation) -> str | None:
    """'softmax' or 'sigmoid' if ``operation`` (a layer or op) ends in one, else None.

    A ``Softmax`` layer or op, a ``keras.ops.sigmoid`` op, and a layer whose ``activation`` is
    the softmax or sigmoid function (Keras's or TensorFlow's: ``tf.nn.softmax`` is named
    ``softmax_v2``, so the function itself is compared, not its name).
    """
    kind = type(operation).__name__
    if kind in ("Softmax", "Sigmoid"):
        return kind.lower()
    activation = getattr(operation, "activation", None)
    for name, functions in _squashing_functions().items():
        if any(activation is function for function in functions):
            return name
    return None


def _output_operations(model) -> list:
    """The layer or op that makes each output of ``model``, looking inside nested models."""
    import keras

    found = []
    for tensor in model.outputs:
        operation = tensor._keras_history.operation
        if isinstance(operation, keras.Model):
            found.extend(_output_operations(operation))
        else:
            found.append(operation)
    return found


def _check_model(model, name: str = "model"):
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(
            f"{name} must be a keras.Model, got {type(model).__name__}. "
            "Pass the trained model itself."
        )
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs or len(inputs) != 1:
        raise ValueError(
            f"{name} {model.name!r} needs exactly one defined input. Start a Sequential model with "
            "keras.Input(shape=...), or build it with the functional API."
        )
    return inputs[0]


def _check_images(images, model_input) -> np.ndarray:
    images = check_array(
        images, "images", ndim=4, finite=True,
        hint="Pass a batch shaped (N, height, width, channels); for one image use images[:1].",
    )  # fmt: skip
    expected = tuple(model_input.shape[1:])
    if any(e is not None and e != s for e, s in zip(expected, images.shape[1:], strict=True)):
        shown = tuple("any" if e is None else e for e in expected)
        raise ValueError(
            f"images have shape {images.shape[1:]} each, but the model expects {shown}. "
            "Pass images shaped like its input."
        )
    return images.astype(np.float32)


def _check_class_index(class_index, count: int, classes: int) -> np.ndarray:
    """``class_index`` as one int64 per image, each in [0, classes)."""
    hint = f"Pass one class index (0 to {classes - 1}) for all images, or one per image."
    if isinstance(class_index, bool | float | str) or class_index is None:
        raise TypeError(
            f"class_index must be a whole number or an array of them, got {class_index!r}. {hint}"
        )
    index = np.asarray(class_index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"class_index must hold whole numbers, got dtype {index.dtype}. {hint}")
    if index.ndim == 0:
        index = np.full(count, int(index))
    if index.shape != (count,):
        raise ValueError(
            f"class_index has shape {index.shape}, but there are {count} images. {hint}"
        )
    if index.min() < 0 or index.max() >= classes:
        raise ValueError(
            f"class_index must lie in 0 to {classes - 1}, got values from {index.min()} to "
            f"{index.max()}."
        )
    return index.astype(np.int64)


def _class_count(model) -> int:
    shape = tuple(model.output_shape) if not isinstance(model.output_shape, list) else None
    if shape is None or len(shape) != 2 or shape[-1] is None:
        raise ValueError(
            f"model {model.name!r} must output one score per class, shape (batch, classes); "
            f"its output shape is {model.output_shape}."
        )
    return int(shape[-1])


def _refuse_squashed(model) -> None:
    """Refuse a model whose output is a softmax or sigmoid: the maps must come from the logits."""
    for operation in _output_operations(model):
        squashing = _squashing_name(operation)
        if squashing is not None:
            raise ValueError(
                f"model {model.name!r} ends in {squashing} (its output layer {operation.name!r}); "
                "Grad-CAM and saliency take the gradient of the class LOGIT. Pass "
                "logits_model(model), a copy without the final softmax or sigmoid."
            )


def _flat_layers(model) -> list:
    import keras

    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Sequential):
            layers.extend(_flat_layers(layer))
        elif isinstance(layer, keras.Model):
            raise ValueError(
                "logits_model flattens Sequential models only; "
                f"{layer.name!r} is a functional model. "
                "Build the copy by hand: keras.Model(inputs, logits)."
            )
        else:
            layers.append(layer)
    return layers


def logits_model(model, name: str = "logits"):
    """A flat copy of a chain classifier, with the same weights, that outputs logits.

    Nested ``Sequential`` models (a backbone) are flattened, so every layer has one input and
    one output and ``get_layer(name).output`` works. Only a final softmax or sigmoid is taken
    away: a last layer whose activation is softmax or sigmoid gets no activation, and a trailing
    ``Softmax`` layer (or ``Activation("softmax")`` / ``Activation("sigmoid")``) is left out. A
    last layer with no activation is kept as it is (its outputs already are logits); any other
    final activation (``relu``, ``tanh``...) is refused, since its outputs are not logits and
    removing it would change the model. The copy does not share weights with ``model``:
    training ``model`` later does not change it.

    Parameters
    ----------
    model : keras.Sequential
        A trained chain of layers, e.g. ``Sequential([backbone, Dense(K, activation="softmax")])``,
        started with ``keras.Input``.
    name : str, default="logits"
        Name of the copy.

    Returns
    -------
    keras.Sequential
        Input, the same layers (same names and weights) but a trailing softmax or sigmoid layer,
        and a last layer without activation.

    Raises
    ------
    TypeError
        If ``model`` is not a ``keras.Sequential``.
    ValueError
        If a nested model is functional, or the last layer (after a trailing softmax or sigmoid
        layer is left out) has no ``activation`` or one other than softmax, sigmoid or linear.
    """
    import keras

    if not isinstance(model, keras.Sequential):
        raise TypeError(
            f"model must be a keras.Sequential chain of layers, got {type(model).__name__}. For a "
            "functional model, build keras.Model(inputs, logits) from its layers yourself."
        )
    model_input = _check_model(model)
    layers = _flat_layers(model)
    if layers and isinstance(layers[-1], keras.layers.Softmax | keras.layers.Activation):
        if _squashing_name(layers[-1]) is None:
            raise ValueError(
                f"{model.name!r} ends in the layer {layers[-1].name!r}, an Activation that is "
                "not softmax or sigmoid; its outputs are not logits. logits_model removes only a "
                "final softmax or sigmoid."
            )
        layers = layers[:-1]  # the logits are what went into the trailing softmax or sigmoid
    if not layers or not hasattr(layers[-1], "activation"):
        raise ValueError(
            f"the last layer of {model.name!r} must be a layer with an activation (e.g. Dense), "
            "got "
            f"{type(layers[-1]).__name__ if layers else 'no layer'}."
        )
    last_activation = layers[-1].activation
    is_linear = last_activation is None or last_activation is keras.activations.linear
    if _squashing_name(layers[-1]) is None and not is_linear:
        shown = getattr(last_activation, "__name__", repr(last_activation))
        raise ValueError(
            f"the last layer {layers[-1].name!r} of {model.name!r} has the activation {shown!r}, "
            "so its outputs are not logits; logits_model removes only a final softmax or "
            "sigmoid. Build the logits model by hand if that is what you want."
        )
    copies = []
    for i, layer in enumerate(layers):
        config = layer.get_config()
        if i == len(layers) - 1:
            config["activation"] = "linear"
        copies.append(type(layer).from_config(config))
    copy = keras.Sequential([keras.Input(shape=tuple(model_input.shape[1:]))] + copies, name=name)
    for original, duplicate in zip(layers, copies, strict=True):
        duplicate.set_weights(original.get_weights())
    return copy


def _feature_layer_output(model, layer_name: str):
    if not isinstance(layer_name, str):
        raise TypeError(f"layer_name must be a layer's name as a string, got {layer_name!r}.")
    names = [layer.name for layer in model.layers]
    if layer_name not in names:
        raise ValueError(
            f"model {model.name!r} has no layer {layer_name!r}; its layers are {names}. A nested "
            "model's layers are not reachable: pass logits_model(model), which is flat."
        )
    output = model.get_layer(layer_name).output
    if len(output.shape) != 4:
        maps = [
            layer.name
            for layer in model.layers
            if len(getattr(layer, "output", np.zeros(0)).shape) == 4
        ]
        raise ValueError(
            f"layer {layer_name!r} outputs shape {tuple(output.shape)}, not feature maps "
            "(batch, height, "
            f"width, channels). Choose a convolution or pooling layer: {maps}."
        )
    return output


def _normalise(maps: np.ndarray) -> np.ndarray:
    """Each map divided by its maximum; a map that is zero everywhere stays zero."""
    peak = maps.max(axis=(1, 2), keepdims=True)
    return np.divide(maps, peak, out=np.zeros_like(maps), where=peak > 0).astype(np.float32)


def grad_cam(model, images, class_index, layer_name: str, *, upsample: bool = True) -> np.ndarray:
    """Grad-CAM heat maps of one class, from the feature maps of one layer.

    For each image: ``A`` = the layer's feature maps (h, w, channels), ``g`` = the gradient of
    the class logit with respect to ``A``; channel weights ``w_c`` = mean of ``g`` over the
    h x w positions; map = ReLU(sum over c of ``w_c * A_c``), resized to the image with
    bilinear interpolation (``tf.image.resize``) and divided by its maximum.

    Parameters
    ----------
    model : keras.Model
        A classifier whose output is the class logits (no softmax), with one defined input and
        the layer ``layer_name`` reachable by ``model.get_layer`` (see :func:`logits_model`).
    images : array-like of shape (N, H, W, C)
    class_index : int or array-like of N ints
        The class to explain, for all images or one per image (e.g. the predicted classes).
    layer_name : str
        A layer with 4-D output, usually the last convolution.
    upsample : bool, default=True
        Resize the maps to the images' H x W. With False, the maps keep the layer's resolution.

    Returns
    -------
    ndarray of shape (N, H, W) (or (N, h, w)), float32
        Values in [0, 1], each map's maximum 1 (a map that ReLU cut to zero everywhere stays 0).
    """
    import keras
    import tensorflow as tf

    model_input = _check_model(model)
    images = _check_images(images, model_input)
    _refuse_squashed(model)
    index = _check_class_index(class_index, len(images), _class_count(model))
    if not isinstance(upsample, bool):
        raise TypeError(f"upsample must be True or False, got {upsample!r}.")
    maps_output = _feature_layer_output(model, layer_name)
    grad_model = keras.Model(model.inputs[0], [maps_output, model.outputs[0]])
    batch = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        maps, logits = grad_model(batch, training=False)
        score = tf.gather(logits, index, axis=1, batch_dims=1)  # each image's own class logit
    gradients = tape.gradient(score, maps)  # images do not mix: d(sum of scores)/d maps of image i
    weights = tf.reduce_mean(gradients, axis=(1, 2))  # (N, channels)
    cam = tf.nn.relu(tf.einsum("nhwc,nc->nhw", maps, weights))
    if upsample:
        cam = tf.image.resize(cam[..., None], images.shape[1:3], method="bilinear")[..., 0]
    return _normalise(cam.numpy())


def input_saliency(model, images, class_index) -> np.ndarray:
    """Plain gradient saliency: how strongly each pixel moves the class logit.

    The absolute gradient of the class logit with respect to the input, the largest over the
    colour channels, divided by each image's maximum (Simonyan et al., 2014).

    Parameters
    ----------
    model : keras.Model
        A classifier whose output is the class logits (no softmax), with one defined input.
    images : array-like of shape (N, H, W, C)
    class_index : int or array-like of N ints

    Returns
    -------
    ndarray of shape (N, H, W), float32
        Values in [0, 1], each map's maximum 1.
    """
    import tensorflow as tf

    model_input = _check_model(model)
    images = _check_images(images, model_input)
    _refuse_squashed(model)
    index = _check_class_index(class_index, len(images), _class_count(model))
    batch = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(batch)
        score = tf.gather(model(batch, training=False), index, axis=1, batch_dims=1)
    gradients = tape.gradient(score, batch)
    return _normalise(np.abs(gradients.numpy()).max(axis=-1))


def share_inside(heatmaps, masks) -> np.ndarray:
    """The share of each heat map's mass that lies inside its mask.

    A uniform map gives the share of the image the mask covers; a map that falls entirely on
    the object gives 1.

    Parameters
    ----------
    heatmaps : array-like of shape (N, H, W), values >= 0
    masks : array-like of bool, shape (N, H, W)

    Returns
    -------
    ndarray of shape (N,), float64
        ``sum(map * mask) / sum(map)`` per image; NaN for a map that is zero everywhere.
    """
    heatmaps = check_array(
        heatmaps, "heatmaps", ndim=3, finite=True, hint="Pass maps shaped (N, H, W)."
    )
    masks = check_array(
        masks, "masks", ndim=3, hint="Pass boolean masks shaped (N, H, W), e.g. ShapeSet.masks."
    )
    if masks.dtype != bool:
        raise TypeError(
            f"masks must be boolean (True inside the object), got dtype {masks.dtype}. "
            "Use mask > 0."
        )
    if heatmaps.shape != masks.shape:
        raise ValueError(
            f"heatmaps have shape {heatmaps.shape} but masks {masks.shape}; they must match. "
            "Upsample the maps to the image size first."
        )
    if heatmaps.min() < 0:
        raise ValueError(
            f"heatmaps must be >= 0, got a minimum of {heatmaps.min():g}; pass np.abs(...) or a "
            "ReLU'd map."
        )
    total = heatmaps.sum(axis=(1, 2), dtype=np.float64)
    inside = (heatmaps * masks).sum(axis=(1, 2), dtype=np.float64)
    return np.divide(inside, total, out=np.full(len(total), np.nan), where=total > 0)


def show_overlays(images, heatmaps, masks=None, titles=None, *, ncols: int = 6, alpha: float = 0.5):
    """Show images with a heat map laid over each (and the outline of each mask).

    Parameters
    ----------
    images : array-like of shape (N, H, W, 3) or (N, H, W), values in [0, 1]
    heatmaps : array-like of shape (N, H, W), values in [0, 1]
        E.g. what :func:`grad_cam` or :func:`input_saliency` return.
    masks : array-like of bool, shape (N, H, W), optional
        Drawn as a white outline.
    titles : sequence of str, optional
        One per image.
    ncols : int, default=6
    alpha : float, default=0.5
        Opacity of the heat map (0: image only, 1: map only).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per image, ``fig.axes[i]`` showing image ``i``.
    """
    from course_utils.plots import _check_titles, _hide_ticks, _image_grid

    images = check_array(images, "images", ndim=(3, 4), finite=True)
    heatmaps = check_array(heatmaps, "heatmaps", ndim=3, finite=True)
    if heatmaps.shape != images.shape[:3]:
        raise ValueError(
            f"heatmaps have shape {heatmaps.shape} but the images {images.shape[:3]} (N, H, W); "
            "upsample the maps to the images first."
        )
    if masks is not None:
        masks = check_array(masks, "masks", ndim=3)
        if masks.shape != heatmaps.shape:
            raise ValueError(
                f"masks have shape {masks.shape}, the heat maps {heatmaps.shape}; they must match."
            )
    ncols = check_int(ncols, "ncols", minimum=1, hint="It is the number of images per row.")
    alpha = check_number(alpha, "alpha", minimum=0.0, maximum=1.0)
    titles = _check_titles(titles, len(images))
    fig, axes = _image_grid(len(images), ncols, 1.6, None)
    for i, ax in enumerate(axes[: len(images)]):
        image = images[i]
        ax.imshow(np.clip(image, 0, 1), cmap=None if image.ndim == 3 else "gray")
        ax.imshow(heatmaps[i], cmap="jet", alpha=alpha, vmin=0, vmax=1)
        if masks is not None:
            ax.contour(masks[i].astype(float), levels=[0.5], colors="white", linewidths=0.8)
        if titles:
            ax.set_title(titles[i], fontsize="small")
        _hide_ticks(ax)
    return fig
