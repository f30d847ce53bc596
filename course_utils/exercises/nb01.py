"""Checks for notebook 01, CNN basics."""

from __future__ import annotations

import numpy as np

from course_utils.checks import (
    ArrayClose,
    Exact,
    Exercise,
    IncorrectAnswer,
    Shown,
    call_answer,
    describe_call,
    short_repr,
)
from course_utils.exercises import _keras_checks as kc


def _reference_cross_correlate(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    image, kernel = np.asarray(image, dtype=np.float64), np.asarray(kernel, dtype=np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    return np.einsum("ijkl,kl->ij", windows, kernel)


def _correlate_with(image, kernel, combine, out_shape=None, dtype=np.float64):
    """A loop-based cross-correlation whose patch-and-kernel step is ``combine``."""
    kh, kw = kernel.shape
    out_h, out_w = out_shape or (image.shape[0] - kh + 1, image.shape[1] - kw + 1)
    output = np.zeros((out_h, out_w), dtype=dtype)
    for i in range(out_h):
        for j in range(out_w):
            output[i, j] = combine(image[i : i + kh, j : j + kw], kernel)
    return output


def _padded_same(image, kernel):
    kh, kw = kernel.shape
    padded = np.pad(np.asarray(image, dtype=np.float64), ((kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2)))
    return _reference_cross_correlate(padded, kernel)


def _swapped_kernel_sides(image, kernel):
    kw, kh = kernel.shape  # the mistake: height and width the wrong way round
    output = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(output.shape[0]):
        for j in range(output.shape[1]):
            output[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return output


_CROSS_CORRELATION_MISTAKES = [
    (lambda image, kernel: _reference_cross_correlate(image, kernel[::-1, ::-1]),
     "you flipped the kernel. That is the textbook convolution; Keras's Conv2D (like every "
     "deep-learning library) computes cross-correlation: no flip."),
    (lambda image, kernel: _reference_cross_correlate(image, kernel[::-1]),
     "kernel[::-1] turns the kernel upside down (and only that); cross-correlation uses the "
     "kernel as it is: no flip."),
    (_padded_same,
     "you padded the image to keep its size. A 'valid' result uses no padding: it has shape "
     "(H - kh + 1, W - kw + 1)."),
    (lambda image, kernel: _reference_cross_correlate(np.pad(np.asarray(image, dtype=np.float64), 1), kernel),
     "you padded the image to keep its size. A 'valid' result uses no padding: it has shape "
     "(H - kh + 1, W - kw + 1)."),
    (lambda image, kernel: _reference_cross_correlate(image, kernel).T,
     "the output is transposed: output[i, j] is the patch starting at row i, column j, so the "
     "result has H - kh + 1 rows and W - kw + 1 columns."),
    (lambda image, kernel: np.trunc(_reference_cross_correlate(image, kernel)),
     "the result was turned into whole numbers (astype(int), or an integer output array), "
     "cutting off the fractions; keep floats."),
    (lambda image, kernel: _reference_cross_correlate(image, kernel)[:-1, :-1],
     "your loops stop one position early: there are H - kh + 1 window positions down and "
     "W - kw + 1 across (range(H - kh + 1))."),
    (_swapped_kernel_sides,
     "kernel.shape is (height, width): kh, kw = kernel.shape, with kh going down the rows."),
    (lambda image, kernel: _correlate_with(image, kernel, lambda patch, k: np.sum(patch)),
     "you summed the patch without weighting it: multiply it by the kernel, element by "
     "element, then sum."),
    (lambda image, kernel: _correlate_with(image, kernel, lambda patch, k: np.mean(patch * k)),
     "you averaged patch * kernel; an output pixel is its sum (np.sum, not np.mean)."),
    (lambda image, kernel: _correlate_with(image, kernel, lambda patch, k: np.sum(patch @ k)),
     "patch @ kernel is a matrix product; the filter multiplies element by element: "
     "np.sum(patch * kernel)."),
    (lambda image, kernel: _correlate_with(
        image, kernel, lambda patch, k: np.sum(patch * k), dtype=np.asarray(image).dtype),
     "your output array has the image's integer type (np.zeros_like(image) or "
     "image.dtype), so the fractions are cut off. Create it as floats: np.zeros((out_h, out_w))."),
]  # fmt: skip


def _check_cross_correlate(answer) -> str:
    rng = np.random.default_rng(1)
    inputs = [
        (rng.normal(size=(6, 7)), np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])),
        (rng.normal(size=(5, 5)), rng.normal(size=(2, 3))),
        (rng.normal(size=(4, 4)), np.ones((1, 1)) * 3.0),
        # an image as it comes from a file: integer pixels, here with a blurring kernel
        (rng.integers(0, 10, size=(5, 6)).astype(np.uint8), np.full((2, 2), 0.25)),
    ]
    ArrayClose(atol=1e-8).check(
        answer, inputs, _reference_cross_correlate, mistakes=_CROSS_CORRELATION_MISTAKES,
        note="Output pixel (i, j) is the sum of the kh x kw patch starting there times the kernel.",
    )  # fmt: skip
    return "Every output pixel is a dot product of the kernel with one patch of the input."


exercise_1 = Exercise(
    1,
    "2-D cross-correlation",
    answer_name="cross_correlate",
    checker=_check_cross_correlate,
    hint=(
        "The output has shape (H - kh + 1, W - kw + 1). Output pixel (i, j) is "
        "np.sum(image[i:i + kh, j:j + kw] * kernel). Two nested loops are fine."
    ),
    solution='''def cross_correlate(image, kernel):
    """'valid' 2-D cross-correlation of a single-channel image with a kernel."""
    kh, kw = kernel.shape
    out_h, out_w = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    output = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            output[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return output''',
)


def _pool_with(feature_map, size, reduce, *, step=None, out_shape=None):
    """Pooling in loops: windows of ``size`` every ``step`` pixels, each reduced by ``reduce``."""
    step = size if step is None else step
    out_h, out_w = out_shape or (feature_map.shape[0] // size, feature_map.shape[1] // size)
    output = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            output[i, j] = reduce(feature_map[i * step : i * step + size, j * step : j * step + size])
    return output


def _reference_max_pool(feature_map, size):
    return _pool_with(np.asarray(feature_map, dtype=np.float64), size, np.max)


_MAX_POOL_MISTAKES = [
    (lambda f, s: _pool_with(f, s, np.mean), "you averaged each window; max pooling keeps the largest value."),
    (lambda f, s: _pool_with(f, s, np.min), "you kept each window's smallest value; max pooling keeps the largest."),
    (lambda f, s: _pool_with(f, s, np.median), "you took each window's median; max pooling keeps the largest value."),
    (lambda f, s: _pool_with(f, s, np.sum), "you summed each window; max pooling keeps the largest value."),
    (lambda f, s: _pool_with(f, s, np.max, out_shape=(-(-f.shape[0] // s), -(-f.shape[1] // s))),
     "you kept the partial windows at the edges. Keras's default 'valid' pooling drops rows "
     "and columns that do not fill a whole window: H // size by W // size outputs."),
    (lambda f, s: _pool_with(f, s, np.max, step=1, out_shape=(f.shape[0] - s + 1, f.shape[1] - s + 1)),
     "you slid the window one pixel at a time. Pooling windows do not overlap: they move "
     "size pixels at a time, giving H // size by W // size outputs."),
    (lambda f, s: _pool_with(f, s, np.max, step=1),
     "window (i, j) starts at row i * size and column j * size, not at (i, j)."),
    (lambda f, s: _pool_with(f, s, np.max).T,
     "the output is transposed: output[i, j] is the window in row block i, column block j."),
    (lambda f, s: f[: f.shape[0] // s * s, : f.shape[1] // s * s].reshape(f.shape[0] // s, f.shape[1] // s, s, s)
     .max(axis=(2, 3)),
     "reshape(h, w, size, size) mixes pixels of different windows; a window's rows and columns "
     "are axes 1 and 3 of reshape(h, size, w, size)."),
    (lambda f, s: _pool_with(f, 2, np.max),
     "you used a window of 2 whatever `size` is; use the size argument."),
]  # fmt: skip


def _check_max_pool(answer) -> str:
    rng = np.random.default_rng(2)
    inputs = [(rng.normal(size=shape), size) for shape, size in (((4, 6), 2), ((7, 5), 2), ((9, 9), 3))]
    inputs.append((rng.integers(0, 256, size=(4, 4)).astype(np.uint8), 2))  # integer pixels
    ArrayClose().check(
        answer, inputs, _reference_max_pool, mistakes=_MAX_POOL_MISTAKES,
        shown=lambda f, s: (Shown(f"<array of shape {f.shape}, dtype {f.dtype}>"), s),
        note="Each output is the maximum of one non-overlapping size x size window.",
    )  # fmt: skip
    return "Non-overlapping windows, one maximum each."


exercise_2 = Exercise(
    2,
    "max pooling",
    answer_name="max_pool",
    checker=_check_max_pool,
    hint=(
        "The output has shape (H // size, W // size). Output (i, j) is the max of "
        "feature_map[i*size:(i+1)*size, j*size:(j+1)*size]."
    ),
    solution='''def max_pool(feature_map, size):
    """Non-overlapping max pooling with a size x size window ('valid' padding)."""
    out_h, out_w = feature_map.shape[0] // size, feature_map.shape[1] // size
    output = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = feature_map[i * size : (i + 1) * size, j * size : (j + 1) * size]
            output[i, j] = window.max()
    return output''',
)


_NOT_MULTIPLICATIVE = "receptive fields grow additively with stride 1, not multiplicatively."
_STACKED_FIELD_MISTAKES = [
    (lambda layers, k: layers * k,
     "each layer adds kernel_size - 1 pixels, not kernel_size: neighbouring windows overlap."),
    (lambda layers, k: k**layers, _NOT_MULTIPLICATIVE),
    (lambda layers, k: (k - 1) ** layers + 1, _NOT_MULTIPLICATIVE),
    (lambda layers, k: layers * (k - 1),
     "start from 1: a single pixel sees 1 pixel, and each layer adds kernel_size - 1."),
    (lambda layers, k: 1 + (layers - 1) * (k - 1),
     "every one of the num_layers layers adds kernel_size - 1, the first one too."),
    (lambda layers, k: k + layers * (k - 1),
     "you counted the first layer twice: begin with 1 pixel, not with kernel_size, before "
     "adding kernel_size - 1 per layer."),
    (lambda layers, k: 1 + 2 * layers, "that holds for 3x3 kernels only; use kernel_size: 1 + num_layers * (kernel_size - 1)."),
    (lambda layers, k: 1 + k * (layers - 1),
     "the arguments are the other way round: num_layers first, then kernel_size."),
]


def _check_stacked_receptive_field(answer) -> str:
    Exact().check(
        answer,
        [(1, 3), (2, 3), (3, 3), (4, 5), (10, 3), (2, 1)],
        lambda layers, kernel: 1 + layers * (kernel - 1),
        mistakes=_STACKED_FIELD_MISTAKES,
    )
    return "Three stacked 3x3 layers see 7x7 pixels, with fewer weights than one 7x7 layer."


exercise_3 = Exercise(
    3,
    "receptive field of stacked convolutions",
    answer_name="stacked_receptive_field",
    checker=_check_stacked_receptive_field,
    hint=(
        "One k x k layer sees k pixels across. Each further stride-1 layer widens the view "
        "by k - 1 pixels (one window's width minus the pixel it shares with its neighbour)."
    ),
    solution='''def stacked_receptive_field(num_layers, kernel_size):
    """Width in pixels that one output of num_layers stacked stride-1 convolutions sees."""
    return 1 + num_layers * (kernel_size - 1)''',
)


_SPARSE_CROSSENTROPY = {"sparse_categorical_crossentropy"}
_CROSSENTROPY = {"categorical_crossentropy"}


def _check_build_digit_classifier(answer) -> str:
    import keras

    call = describe_call(answer, (), {})
    try:
        model = call_answer(answer)
    except IncorrectAnswer as err:
        if "ndim" in str(err) or "incompatible" in str(err):
            raise IncorrectAnswer(
                f"{err}\nLikely mistake: a layer got input of the wrong rank. Start with "
                "keras.Input(shape=(8, 8, 1)): Conv2D needs height, width and channels."
            ) from None
        raise
    if type(model).__name__ == "Unsendable":  # could not cross into the grader: say why
        kc.as_model(model, call)
    if not isinstance(model, keras.Model):
        raise IncorrectAnswer(
            f"{call} returned {type(model).__name__}, not a keras.Model."
            + (" Did the function end without `return model`? (model.compile(...) returns None: "
               "compile first, then return the model.)" if model is None else "")
        )
    if tuple(model.input_shape) != (None, 8, 8, 1):
        raise IncorrectAnswer(
            f"{call}: the model's input shape is {model.input_shape}; start it with "
            "keras.Input(shape=(8, 8, 1)), one channel of 8 x 8 pixels."
        )
    if len(model.output_shape) > 2 and model.output_shape[-1] == 10:
        raise IncorrectAnswer(
            f"{call}: the output shape is {model.output_shape}: Dense works on the last axis only, "
            "so it gave ten numbers per pixel. Put Flatten() (or GlobalAveragePooling2D()) before "
            "the last Dense layer."
        )
    if tuple(model.output_shape) != (None, 10):
        raise IncorrectAnswer(
            f"{call}: the output shape is {model.output_shape}; end with Dense(10, "
            "activation='softmax'), one probability per digit."
        )
    conv_layers = [layer for layer in kc.all_layers(model) if isinstance(layer, keras.layers.Conv2D)]
    if not conv_layers:
        raise IncorrectAnswer(
            f"{call}: the model has no Conv2D layer, so it is not a convolutional network; put "
            "one (or more) before Flatten."
        )
    images = np.random.default_rng(11).integers(0, 17, size=(4, 8, 8, 1)).astype("float32")
    outputs = np.asarray(keras.ops.convert_to_numpy(model(images, training=False)), dtype=np.float64)
    if not (np.all(outputs >= -1e-6) and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-4)):
        raise IncorrectAnswer(
            f"{call}: the ten outputs are not probabilities (they do not sum to 1). Use "
            "activation='softmax' on the last layer (or a Softmax layer after it)."
        )
    if model.count_params() > 20_000:
        raise IncorrectAnswer(
            f"{call}: the model has {model.count_params():,} parameters; stay under 20,000 "
            "(1,797 small images do not need more, and it keeps training fast)."
        )
    if not getattr(model, "compiled", False) or getattr(model, "loss", None) is None:
        raise IncorrectAnswer(
            f"{call} returned a model that is not compiled: call model.compile(optimizer='adam', "
            "loss='sparse_categorical_crossentropy', metrics=['accuracy']) before returning it."
        )
    loss = kc.describe_loss(model.loss)
    loss_name, from_logits = loss.name, loss.from_logits
    if loss_name in _CROSSENTROPY:
        raise IncorrectAnswer(
            f"{call}: categorical_crossentropy wants one-hot labels, but the digit labels are "
            "integers 0-9: use loss='sparse_categorical_crossentropy'."
        )
    if loss_name not in _SPARSE_CROSSENTROPY:
        raise IncorrectAnswer(
            f"{call}: compile the model with loss='sparse_categorical_crossentropy' (a "
            f"classifier of integer labels 0-9); found loss {(model.loss if isinstance(model.loss, str) else loss_name)!r}."
        )
    if from_logits:
        raise IncorrectAnswer(
            f"{call}: the loss has from_logits=True, but the model already outputs softmax "
            "probabilities; the loss would apply softmax a second time. Leave from_logits False."
        )
    return f"{len(conv_layers)} convolution layer(s), {model.count_params():,} parameters."


exercise_4 = Exercise(
    4,
    "a digit classifier of your own",
    answer_name="build_digit_classifier",
    checker=_check_build_digit_classifier,
    hint=(
        "keras.Sequential([keras.Input(shape=(8, 8, 1)), a Conv2D with padding='same', a "
        "pooling layer, Flatten(), Dense(10, activation='softmax')]), then "
        "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
        "metrics=['accuracy'])."
    ),
    solution='''def build_digit_classifier():
    """A compiled CNN for 8x8x1 digit images with ten softmax outputs."""
    model = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            keras.layers.Rescaling(1 / 16),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model''',
)


# ------------------------------------------------------------------------------------------
# Keras exercises: a Conv2D set by hand; the digit CNN of a written spec, trained.
# ------------------------------------------------------------------------------------------


def _edge_images():
    """8x8 one-channel test images: flat, a dark-to-bright vertical step, its mirror, a horizontal step."""
    flat = np.full((8, 8), 0.7)
    rising = np.zeros((8, 8))
    rising[:, 4:] = 1.0  # dark on the left, bright on the right
    falling = 1.0 - rising
    horizontal = rising.T  # dark on top, bright below
    return np.stack([flat, rising, falling, horizontal])[..., np.newaxis].astype("float32")


def _edge_responses(answer, layer, call):
    """The layer's response to the four test images, cropped to the 6x6 'valid' interior."""
    import keras

    if isinstance(layer, keras.Model):
        convs = [item for item in kc.all_layers(layer) if isinstance(item, keras.layers.Conv2D)]
        if len(convs) != 1:
            raise IncorrectAnswer(f"{call} returned a model with {len(convs)} Conv2D layers; return the one Conv2D layer.")
    elif not isinstance(layer, keras.layers.Conv2D):
        raise IncorrectAnswer(
            f"{call} returned {type(layer).__name__}; return the keras.layers.Conv2D layer whose kernel you set."
            + (" Did the function end without `return layer`?" if layer is None else "")
        )
    try:
        maps = np.asarray(keras.ops.convert_to_numpy(layer(_edge_images())), dtype=np.float64)
    except Exception as err:
        raise IncorrectAnswer(
            f"{call}: calling the layer on 8x8 images with one channel raised {type(err).__name__}: {str(err)[:200]}"
            "\nLikely mistake: build it for one input channel: layer.build((None, None, None, 1)) (or an 8x8x1 input)."
        ) from err
    if maps.ndim != 4 or maps.shape[-1] != 1:
        raise IncorrectAnswer(f"{call}: the layer gives {maps.shape[-1] if maps.ndim == 4 else maps.shape} maps; "
                              "one filter (Conv2D(1, 3)) gives one edge map.")  # fmt: skip
    if maps.shape[1:3] == (8, 8):
        maps = maps[:, 1:-1, 1:-1]
    if maps.shape[1:3] != (6, 6):
        raise IncorrectAnswer(f"{call}: the maps are {maps.shape[1]}x{maps.shape[2]}; use a 3x3 kernel with stride 1.")
    return maps[..., 0]


def _check_edge_detector(answer) -> str:
    call = describe_call(answer, (), {})
    flat, rising, falling, horizontal = _edge_responses(answer, call_answer(answer), call)
    tolerance = 1e-4 * max(1.0, np.abs(rising).max())
    edge_columns = [2, 3]  # windows that straddle the step between columns 3 and 4 of the image
    if np.abs(flat).max() > tolerance:
        level = float(np.mean(flat))
        if np.ptp(flat) < tolerance and np.abs(rising[:, [0, 5]] - level).max() < tolerance:
            raise IncorrectAnswer(
                f"{call}: the layer answers {level:.3g} on a flat image, everywhere: that is the bias. An edge "
                "detector answers 0 where nothing changes: use_bias=False, or set the bias to 0."
            )
        raise IncorrectAnswer(
            f"{call}: the layer answers up to {np.abs(flat).max():.3g} on a flat grey image. Its kernel must "
            "sum to 0 (each row: -1, 0, 1 or -1, 0, 2 ...), so that a region without change gives 0."
        )
    if np.abs(rising).max() <= tolerance and np.abs(horizontal).max() > tolerance:
        raise IncorrectAnswer(
            f"{call}: the layer responds to the horizontal edge and not to the vertical one: the kernel is "
            "transposed. kernel[row, column]: the sign must change from the left column to the right one."
        )
    if np.abs(horizontal).max() > tolerance:
        raise IncorrectAnswer(f"{call}: the layer also responds to a horizontal edge; a vertical-edge detector must not.")
    if rising[:, edge_columns].min() < -tolerance and falling[:, edge_columns].max() > tolerance:
        raise IncorrectAnswer(
            f"{call}: the layer responds negatively where the image turns from dark to bright (left to "
            "right): the notebook's Sobel x does that (cross-correlation does not flip the kernel). Negate it: "
            "negative weights on the left column, positive on the right."
        )
    if not (rising[:, edge_columns].min() > tolerance and np.abs(np.delete(rising, edge_columns, axis=1)).max() <= tolerance):
        raise IncorrectAnswer(f"{call}: the layer does not answer positively exactly along the dark-to-bright edge.")
    return f"Edge response {rising[:, edge_columns].max():.3g} on the step, 0 on flat and horizontal regions."


exercise_5 = Exercise(
    5,
    "a vertical-edge detector set by hand",
    answer_name="vertical_edge_layer",
    checker=_check_edge_detector,
    hint=(
        "Build the layer for one channel first (layer.build((None, None, None, 1))), then "
        "layer.set_weights([kernel]) with kernel of shape (3, 3, 1, 1): (height, width, in_channels, "
        "filters). Think about where the dark and the bright pixels sit under the window, and which "
        "sign each column's weights need."
    ),
    solution='''def vertical_edge_layer():
    """A Conv2D with one 3x3 filter that answers positively where dark turns bright to the right."""
    layer = keras.layers.Conv2D(1, 3, use_bias=False)
    layer.build((None, None, None, 1))
    kernel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype="float32")
    layer.set_weights([kernel[:, :, np.newaxis, np.newaxis]])
    return layer''',
)


_SPEC = [  # (layer type, what the spec fixes)
    ("Rescaling", {}),
    ("Conv2D", {"filters": 16, "kernel_size": (3, 3), "padding": "same", "activation": "relu"}),
    ("MaxPooling2D", {}),
    ("Conv2D", {"filters": 32, "kernel_size": (3, 3), "padding": "same", "activation": "relu"}),
    ("GlobalAveragePooling2D", {}),
    ("Dense", {"units": 10}),
]
EPOCHS_6 = 12


def _spec_layers(model):
    """The model's layers without the Input, Dropout and a final Softmax/Activation layer."""
    layers = [layer for layer in kc.all_layers(model) if not hasattr(layer, "layers")]
    layers = [layer for layer in layers if type(layer).__name__ not in ("InputLayer", "Dropout")]
    if layers and type(layers[-1]).__name__ in ("Softmax", "Activation"):
        layers = layers[:-1]
    return layers


def _digit_split():
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images[..., np.newaxis].astype("float32")
    labels = digits.target
    order = np.random.default_rng(0).permutation(len(labels))
    train, held_out = order[:900], order[900:1400]
    return images[train], labels[train], images[held_out], labels[held_out]


def _check_spec_cnn(answer) -> str:
    import keras

    call = describe_call(answer, (), {})
    keras.utils.set_random_seed(0)  # the same initial weights at every check
    model = kc.as_model(call_answer(answer), call)
    if tuple(model.input_shape) != (None, 8, 8, 1):
        raise IncorrectAnswer(f"{call}: the input shape is {model.input_shape}; start with keras.Input(shape=(8, 8, 1)).")
    layers = _spec_layers(model)
    kinds = [type(layer).__name__ for layer in layers]
    if "Flatten" in kinds and "GlobalAveragePooling2D" not in kinds:
        raise IncorrectAnswer(
            f"{call}: the spec asks for GlobalAveragePooling2D before the head, and the model uses Flatten: "
            "global pooling keeps one number per channel (32), whatever the image size, instead of every position."
        )
    if kinds and kinds[0] != "Rescaling":
        raise IncorrectAnswer(f"{call}: the spec starts with Rescaling(1 / 16), so the 0-16 pixels reach the network as 0-1.")
    if kinds.count("MaxPooling2D") != 1:
        raise IncorrectAnswer(f"{call}: the spec has one MaxPooling2D(2) between the two convolutions; the model has "
                              f"{kinds.count('MaxPooling2D')}.")  # fmt: skip
    if kinds != [kind for kind, _ in _SPEC]:
        raise IncorrectAnswer(f"{call}: the layers are {kinds}; the spec is {[kind for kind, _ in _SPEC]}.")
    for index, (layer, (kind, fixed)) in enumerate(zip(layers, _SPEC, strict=True), start=1):
        config = layer.get_config()
        for key, value in fixed.items():
            got = tuple(config[key]) if isinstance(config[key], list) else config[key]
            if key == "activation":
                got = kc._activation_name(layer.activation)
            if got != value:
                raise IncorrectAnswer(f"{call}: layer {index} ({kind}) has {key}={got!r}; the spec says {value!r}.")
    scale = layers[0].get_config()["scale"]
    if not np.isclose(float(scale), 1 / 16):
        raise IncorrectAnswer(f"{call}: Rescaling has scale {scale:.4g}; the pixels go from 0 to 16, so the scale is 1 / 16.")
    activation = kc.final_activation(model)
    loss = kc.compiled_loss(model)
    if activation == "sigmoid":
        raise IncorrectAnswer(
            f"{call}: the output ends in sigmoid, which scores each digit on its own; one digit per image "
            "needs softmax, so the ten probabilities compete and sum to 1."
        )
    if loss.name == "categorical_crossentropy":
        raise IncorrectAnswer(
            f"{call}: categorical_crossentropy wants one-hot labels, but the digit labels are integers 0-9: "
            "use sparse_categorical_crossentropy."
        )
    if loss.name != "sparse_categorical_crossentropy":
        raise IncorrectAnswer(f"{call}: compile with loss='sparse_categorical_crossentropy'; found {loss.name!r}.")
    if activation == "softmax" and loss.from_logits:
        raise IncorrectAnswer(
            f"{call}: the output is softmax but the loss has from_logits=True, so softmax is applied twice; "
            "keep from_logits=False with a softmax output."
        )
    if activation == "linear" and not loss.from_logits:
        raise IncorrectAnswer(
            f"{call}: the output has no activation (logits), but the loss expects probabilities; add "
            "activation='softmax' or pass from_logits=True."
        )
    name, rate = kc.optimizer_info(model)
    if name != "Adam" or not np.isclose(rate, 0.01):
        raise IncorrectAnswer(f"{call}: the model is compiled with {name} at learning rate {rate:g}; the spec says Adam(0.01).")
    x_train, y_train, x_val, y_val = _digit_split()
    accuracy = kc.train_and_score(model, x_train, y_train, x_val, y_val, epochs=EPOCHS_6, batch_size=64, seed=0, call=call)
    if accuracy < 0.75:  # the reference: 0.87 to 0.90 over five seeds
        raise IncorrectAnswer(
            f"{call}: after {EPOCHS_6} epochs on 900 digits the held-out accuracy is {accuracy:.3f}, below 0.75."
        )
    return f"Built to spec; held-out accuracy {accuracy:.3f} on 500 digits after {EPOCHS_6} epochs."


exercise_6 = Exercise(
    6,
    "the digit CNN of a written spec, trained",
    answer_name="build_spec_cnn",
    checker=_check_spec_cnn,
    hint=(
        "Write the spec's layers one per line inside keras.Sequential, after keras.Input(shape=(8, 8, 1)). "
        "Global average pooling is its own layer in keras.layers. The labels are integers 0-9: "
        "pick the loss whose name says 'sparse'."
    ),
    solution='''def build_spec_cnn():
    """The digit CNN of the spec, compiled with Adam(0.01) for integer labels."""
    model = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            keras.layers.Rescaling(1 / 16),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model''',
)


# ------------------------------------------------------------------------------------------
# Exercise 7: the training and validation input pipelines (section 8).
# ------------------------------------------------------------------------------------------

_PIPE_TRAIN, _PIPE_VAL, _PIPE_BATCH = 24, 12, 6
_VAL_IDS_FROM = 100  # the check's labels are image ids: 0-23 training, 100-111 validation
_MAX_ELEMENTS = 200  # a guard against endless pipelines


def _pipeline_data():
    """The check's unbatched (image, id) datasets and their images, and a brightness augmenter."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(7)
    train_images = rng.uniform(0.3, 0.7, size=(_PIPE_TRAIN, 5, 5, 1)).astype("float32")
    val_images = rng.uniform(0.3, 0.7, size=(_PIPE_VAL, 5, 5, 1)).astype("float32")
    train_ids = np.arange(_PIPE_TRAIN, dtype="int64")
    val_ids = np.arange(_VAL_IDS_FROM, _VAL_IDS_FROM + _PIPE_VAL, dtype="int64")
    originals = dict(zip(train_ids.tolist(), train_images, strict=True)) | dict(
        zip(val_ids.tolist(), val_images, strict=True)
    )
    train_ds = tf.data.Dataset.from_tensor_slices((train_images, train_ids))
    val_ds = tf.data.Dataset.from_tensor_slices((val_images, val_ids))
    augment = keras.Sequential([keras.layers.RandomBrightness(0.5, value_range=(0, 1))], name="augment")
    return train_ds, val_ds, augment, originals


def _chain(dataset) -> list[str]:
    """The dataset's steps from the source to the end, e.g. ['TensorSlice', 'Cache', 'Shuffle', ...].

    Read from tf.data's Python classes (their ``_input_dataset``), so only the steps the checks
    need are looked for (Cache, Shuffle, Batch, Prefetch), each anywhere in the chain; steps
    such as ``with_options`` or ``map`` after a prefetch are allowed.
    """
    if isinstance(getattr(dataset, "chain", None), list):  # recorded in the sandbox when graded
        return list(dataset.chain)
    names = []
    while dataset is not None and len(names) < 50:
        names.append(type(dataset).__name__.strip("_").removesuffix("Dataset").replace("Parallel", ""))
        dataset = getattr(dataset, "_input_dataset", None)
    return names[::-1]


def _is_dataset(value) -> bool:
    """A tf.data dataset, or (when graded) the grader's recording of passes over one."""
    import tensorflow as tf

    return isinstance(value, tf.data.Dataset) or type(value).__name__ == "RecordedDataset"


def _epoch(dataset, call: str, which: str):
    """One pass: a list of batches, each (images as float64 array, ids as int list)."""
    batches = []
    try:
        for count, element in enumerate(dataset):
            if count >= _MAX_ELEMENTS:
                raise IncorrectAnswer(f"{call}: the {which} pipeline does not end; leave out repeat().")
            if not isinstance(element, tuple) or len(element) != 2:
                raise IncorrectAnswer(
                    f"{call}: the {which} pipeline gives elements that are not (images, labels) pairs; "
                    "keep the label next to each image (map(lambda x, y: (augment(x), y)))."
                )
            images, ids = (np.asarray(part.numpy()) for part in element)
            batches.append((images.astype(np.float64), ids.reshape(-1).astype(int).tolist()))
    except IncorrectAnswer:
        raise
    except Exception as err:  # noqa: BLE001 - the learner's pipeline fails while it runs
        raise IncorrectAnswer(
            f"{call}: reading the {which} pipeline raised {type(err).__name__}: {str(err)[:200]}"
        ) from err
    return batches


def _per_id(batches) -> dict[int, np.ndarray]:
    return {i: image for images, ids in batches for i, image in zip(ids, images.reshape(len(ids), -1), strict=True)}


def _order(batches) -> list[int]:
    return [i for _, ids in batches for i in ids]


_PIPE_EXPLAIN = {
    "swapped": "the two pipelines are the wrong way round: return (training pipeline, validation pipeline).",
    "val_augmented": (
        "the validation images are augmented. Validation must score the model on images as they "
        "are: augment the training pipeline only (section 8 measures what augmenting validation "
        "does to the score)."
    ),
    "val_shuffled": (
        "the validation pipeline shuffles. The score does not depend on the order, and a fixed "
        "order lets you match predictions with files: batch it, do not shuffle it."
    ),
    "not_augmented": (
        "the training images come out unchanged: map the augmentation over the training "
        "pipeline, calling augment(x) (or augment(x, training=True)), not augment(x, training=False)."
    ),
    "cached_after_augment": (
        "the training images are augmented the same way every epoch: cache() after the "
        "augmentation stores one set of 'random' images and replays it. Cache first, then "
        "shuffle, batch and augment."
    ),
    "no_shuffle": "the training pipeline never shuffles: add shuffle(buffer) after cache().",
    "shuffle_before_cache": (
        "the training images come in the same order every epoch: cache() after shuffle() stores "
        "the first epoch's order and replays it. Put cache() before shuffle()."
    ),
    "shuffle_fixed": (
        "the training order is the same every epoch: a shuffle buffer of 1 or "
        "reshuffle_each_iteration=False. Use a buffer as large as the training set."
    ),
    "shuffle_after_batch": (
        "the same images always travel together in one batch; only the batches' order changes: "
        "you shuffled after batch(), which shuffles whole batches. Shuffle the images, then batch."
    ),
    "no_cache": (
        "the training pipeline has no cache(), so every epoch reads and decodes every file again. "
        "Cache it first, before the random steps."
    ),
    "no_prefetch": (
        "the training pipeline has no prefetch(tf.data.AUTOTUNE) after batch(), so the model "
        "waits while the next batch is prepared."
    ),
}


def _check_pipelines(answer) -> str:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    train_ds, val_ds, augment, originals = _pipeline_data()
    call = describe_call(answer, (Shown("<train_ds>"), Shown("<val_ds>"), Shown("<augment>"), _PIPE_BATCH), {})
    result = call_answer(answer, train_ds, val_ds, augment, _PIPE_BATCH)
    if not (isinstance(result, tuple | list) and len(result) == 2
            and all(_is_dataset(d) for d in result)):  # fmt: skip
        raise IncorrectAnswer(
            f"{call} returned {short_repr(result)}; return two tf.data.Dataset objects: "
            "(training pipeline, validation pipeline)."
        )
    train, val = result

    def explain(key: str, detail: str = "") -> IncorrectAnswer:
        return IncorrectAnswer(f"{call}: {detail}\nLikely mistake: {_PIPE_EXPLAIN[key]}")

    for which, dataset in (("training", train), ("validation", val)):
        if int(dataset.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
            raise IncorrectAnswer(
                f"{call}: the {which} pipeline repeats forever; leave out repeat(): fit's epochs repeat it."
            )
    val_passes = [_epoch(val, call, "validation") for _ in range(2)]
    train_epochs = [_epoch(train, call, "training") for _ in range(3)]
    val_order, train_orders = _order(val_passes[0]), [_order(e) for e in train_epochs]
    if sorted(val_order) == list(range(_PIPE_TRAIN)) and sorted(train_orders[0]) == [
        _VAL_IDS_FROM + i for i in range(_PIPE_VAL)
    ]:
        raise explain("swapped", "the first pipeline holds the validation images.")
    for which, orders in (("validation", [val_order, _order(val_passes[1])]), ("training", train_orders)):
        expected = sorted(_PIPE_VAL_IDS if which == "validation" else _PIPE_TRAIN_IDS)
        for order in orders:
            if sorted(order) != expected:
                raise IncorrectAnswer(
                    f"{call}: one pass over the {which} pipeline gave {len(order)} images "
                    f"({len(set(order))} different ones); it must give each of its {len(expected)} "
                    "images exactly once per epoch (no take(), skip(), repeat() or drop_remainder)."
                )
    for which, passes in (("validation", val_passes), ("training", train_epochs)):
        shapes = [images.shape for images, _ in passes[0]]
        if any(len(shape) != 4 for shape in shapes):
            raise IncorrectAnswer(
                f"{call}: the {which} pipeline gives single images of shape {shapes[0]}; batch it: "
                f".batch(batch_size)."
            )
        sizes = [shape[0] for shape in shapes]
        if max(sizes) != _PIPE_BATCH:
            raise IncorrectAnswer(
                f"{call}: the {which} pipeline gives batches of {max(sizes)} images; use the "
                f"batch_size argument ({_PIPE_BATCH} here)."
            )
    val_images = _per_id(val_passes[0])
    if any(not np.allclose(val_images[i], originals[i].reshape(-1), atol=1e-6) for i in val_images):
        raise explain("val_augmented", "the validation pipeline does not give the validation images unchanged.")
    if val_order != _order(val_passes[1]) or val_order != sorted(val_order):
        raise explain("val_shuffled", "two passes over the validation pipeline give the images in different orders.")
    epochs_images = [_per_id(e) for e in train_epochs]
    changed = [not np.allclose(epochs_images[0][i], originals[i].reshape(-1), atol=1e-6) for i in epochs_images[0]]
    if sum(changed) < len(changed) // 2:
        raise explain("not_augmented", f"{len(changed) - sum(changed)} of {len(changed)} training images are unchanged.")
    same = [np.allclose(epochs_images[0][i], epochs_images[1][i], atol=1e-6) for i in epochs_images[0]]
    if sum(same) > len(same) // 2:
        raise explain("cached_after_augment", "each training image is the same in epochs 1 and 2.")
    steps = _chain(train)
    if train_orders[0] == train_orders[1] == train_orders[2]:
        if "Shuffle" not in steps:
            raise explain("no_shuffle", "the training images come in the same order every epoch.")
        if "Cache" in steps and steps.index("Shuffle") < steps.index("Cache"):
            raise explain("shuffle_before_cache", "the order of epoch 1 comes back in epochs 2 and 3.")
        raise explain("shuffle_fixed", "the order of epoch 1 comes back in epochs 2 and 3.")
    partitions = [{frozenset(ids) for _, ids in epoch} for epoch in train_epochs]
    if partitions[0] == partitions[1] == partitions[2]:
        raise explain("shuffle_after_batch", "every epoch's batches hold the same groups of images.")
    if "Cache" not in steps:
        raise explain("no_cache", f"the training pipeline's steps are {steps}.")
    batch_at = max((i for i, step in enumerate(steps) if step.startswith("Batch")), default=-1)
    if "Prefetch" not in steps[batch_at + 1 :]:
        raise explain("no_prefetch", f"the training pipeline's steps are {steps}.")
    return (
        "Validation: fixed order, images as they are. Training: cached, shuffled image by image "
        "and augmented afresh every epoch, prefetched after batching."
    )


_PIPE_TRAIN_IDS = list(range(_PIPE_TRAIN))
_PIPE_VAL_IDS = [_VAL_IDS_FROM + i for i in range(_PIPE_VAL)]


exercise_7 = Exercise(
    7,
    "the training and validation input pipelines",
    answer_name="make_pipelines",
    checker=_check_pipelines,
    hint=(
        "Training: cache() first (it stores what comes before it), then shuffle the single images, "
        "batch, augment with map(lambda x, y: (augment(x), y)), and end with "
        "prefetch(tf.data.AUTOTUNE). Validation: batch and prefetch; nothing random."
    ),
    solution='''def make_pipelines(train_ds, val_ds, augment, batch_size):
    """Training and validation pipelines from unbatched (image, label) datasets."""
    train = (
        train_ds.cache()
        .shuffle(1000)
        .batch(batch_size)
        .map(lambda x, y: (augment(x), y), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    val = val_ds.batch(batch_size).cache().prefetch(tf.data.AUTOTUNE)
    return train, val''',
)


# ------------------------------------------------------------------------------------------
# Exercise 8: early stopping that keeps the best epoch (section 9).
# ------------------------------------------------------------------------------------------

# A scripted run: (training loss, validation loss, validation accuracy) per epoch. The validation
# loss is lowest at epoch 3; with patience 3 training stops after epoch 6.
_ES_SCRIPT = [
    (1.00, 1.00, 0.40), (0.80, 0.80, 0.50), (0.60, 0.70, 0.55), (0.45, 0.75, 0.60), (0.35, 0.72, 0.62),
    (0.25, 0.71, 0.64), (0.15, 0.90, 0.58), (0.10, 1.00, 0.56), (0.05, 1.10, 0.55), (0.03, 1.20, 0.54),
]  # fmt: skip
_ES_RIGHT = (6, 3)  # (last epoch run, epoch whose weights the model ends with)


def _scripted_run(callback):
    """Feed the callback the scripted epochs on a one-weight model; (last epoch, restored epoch).

    Before epoch e's logs arrive, the model's weight is set to e, so the weight it ends with
    names the epoch whose weights were kept.
    """
    import keras

    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer="sgd", loss="mse", metrics=["accuracy"])
    model.stop_training = False
    callback.set_model(model)
    callback.on_train_begin()
    last = 0
    for epoch, (loss, val_loss, val_accuracy) in enumerate(_ES_SCRIPT):
        last = epoch + 1
        model.set_weights([np.full((1, 1), float(last), dtype="float32")])
        logs = {"loss": loss, "accuracy": 1 - loss / 2, "val_loss": val_loss, "val_accuracy": val_accuracy}
        callback.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback.on_train_end()
    return last, int(round(float(model.get_weights()[0][0, 0])))


def _check_early_stopping(answer) -> str:
    import keras

    call = describe_call(answer, (), {})
    callback = call_answer(answer)
    if isinstance(callback, type):
        raise IncorrectAnswer(
            f"{call} returned the class {callback.__name__}, not a callback: call it, "
            "keras.callbacks.EarlyStopping(...), with the settings the task asks for."
        )
    if not isinstance(callback, keras.callbacks.EarlyStopping):
        raise IncorrectAnswer(
            f"{call} returned {short_repr(callback)} ({type(callback).__name__}); return a "
            "keras.callbacks.EarlyStopping(...) object, as the task asks."
        )
    monitor, mode = callback.monitor, callback.mode
    if not monitor.startswith("val_"):
        raise IncorrectAnswer(
            f"{call}: the callback monitors {monitor!r}.\nLikely mistake: it monitors a training "
            f"metric ({monitor!r}), which keeps improving while the model overfits, so it never "
            "stops; monitor 'val_loss', the validation loss."
        )
    if monitor != "val_loss":
        raise IncorrectAnswer(
            f"{call}: the callback monitors {monitor!r}.\nLikely mistake: the task asks for the "
            "validation loss: monitor='val_loss' (it is also the default)."
        )
    try:
        last, restored = _scripted_run(callback)
    except Exception as err:  # noqa: BLE001 - a setting Keras refuses while running
        raise IncorrectAnswer(f"{call}: running the callback raised {type(err).__name__}: {str(err)[:200]}") from err
    if (last, restored) == _ES_RIGHT:
        return (
            f"On a scripted run whose validation loss is lowest at epoch {_ES_RIGHT[1]}, it stopped "
            f"after epoch {_ES_RIGHT[0]} and put back the weights of epoch {_ES_RIGHT[1]}."
        )
    seen = (
        f"On a scripted run whose validation loss is lowest at epoch {_ES_RIGHT[1]} and never lower "
        f"after it, it stopped after epoch {last} and ended with the weights of epoch "
        f"{restored}; expected: stop after epoch {_ES_RIGHT[0]}, weights of epoch {_ES_RIGHT[1]}."
    )
    if mode == "max":
        explanation = (
            "mode='max' treats a higher validation loss as better; leave mode='auto' (or 'min') "
            "for a loss."
        )
    elif not callback.restore_best_weights:
        explanation = (
            "without restore_best_weights=True the model keeps the weights of the last epoch, "
            "after the validation loss has gone up again."
        )
    elif callback.patience != 3:
        explanation = (
            f"patience={callback.patience}: it waits that many epochs without a new low before "
            "stopping; the task asks for 3."
        )
    else:
        explanation = None
    message = f"{call}: {seen}"
    raise IncorrectAnswer(f"{message}\nLikely mistake: {explanation}" if explanation else message)


exercise_8 = Exercise(
    8,
    "early stopping that keeps the best epoch",
    answer_name="make_early_stopping",
    checker=_check_early_stopping,
    hint=(
        "keras.callbacks.EarlyStopping takes what to watch (monitor=...), how many epochs without "
        "improvement to wait (patience=...), and whether to put back the best weights at the end "
        "(restore_best_weights=...)."
    ),
    solution='''def make_early_stopping():
    """Stop when the validation loss has not improved for 3 epochs; keep the best epoch's weights."""
    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)''',
)
