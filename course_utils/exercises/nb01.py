"""Checks for notebook 01, CNN basics."""

from __future__ import annotations

import numpy as np

from course_utils.checks import (
    Exercise,
    IncorrectAnswer,
    as_number_array,
    call_answer,
    describe_call,
    expect_equal,
)


def _reference_cross_correlate(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    return np.einsum("ijkl,kl->ij", windows, kernel)


def _check_cross_correlate(answer) -> str:
    rng = np.random.default_rng(1)
    cases = [
        (rng.normal(size=(6, 7)), np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])),
        (rng.normal(size=(5, 5)), rng.normal(size=(2, 3))),
        (rng.normal(size=(4, 4)), np.ones((1, 1)) * 3.0),
    ]
    for image, kernel in cases:
        call = describe_call(answer, (image, kernel), {})
        expected = _reference_cross_correlate(image, kernel)
        got = as_number_array(call_answer(answer, image.copy(), kernel.copy()), call)
        if got.shape != expected.shape:
            raise IncorrectAnswer(
                f"{call} returned shape {got.shape}; a 'valid' result has shape "
                f"{expected.shape} = (H - kh + 1, W - kw + 1)."
            )
        if np.allclose(got, _reference_cross_correlate(image, kernel[::-1, ::-1])) and not (
            np.allclose(kernel, kernel[::-1, ::-1])
        ):
            raise IncorrectAnswer(
                f"{call} flipped the kernel. That is the textbook convolution; Keras's Conv2D "
                "(like every deep-learning library) computes cross-correlation: no flip."
            )
        if not np.allclose(got, expected, atol=1e-8):
            worst = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
            raise IncorrectAnswer(
                f"{call} returned {got[worst]:.4f} at output position {worst}, expected "
                f"{expected[worst]:.4f}: the sum of the {kernel.shape} patch starting at that "
                "position times the kernel."
            )
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


def _check_max_pool(answer) -> str:
    rng = np.random.default_rng(2)
    for shape, size in (((4, 6), 2), ((7, 5), 2), ((9, 9), 3)):
        fmap = rng.normal(size=shape)
        call = describe_call(answer, (fmap, size), {})
        h, w = shape[0] // size, shape[1] // size
        blocks = fmap[: h * size, : w * size].reshape(h, size, w, size)
        expected = blocks.max(axis=(1, 3))
        got = as_number_array(call_answer(answer, fmap.copy(), size), call)
        if got.shape != expected.shape:
            raise IncorrectAnswer(
                f"{call} returned shape {got.shape}, expected {expected.shape}: "
                f"floor({shape[0]}/{size}) x floor({shape[1]}/{size}). Keras's default "
                "'valid' pooling drops rows and columns that do not fill a whole window."
            )
        if np.allclose(got, blocks.mean(axis=(1, 3))):
            raise IncorrectAnswer(f"{call} averaged each window; max pooling keeps the largest.")
        if not np.allclose(got, expected):
            raise IncorrectAnswer(
                f"{call} returned\n{np.round(got, 3)}\nexpected\n{np.round(expected, 3)}\n"
                "Each output is the maximum of one non-overlapping size x size window."
            )
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


def _check_stacked_receptive_field(answer) -> str:
    for layers, kernel in ((1, 3), (2, 3), (3, 3), (4, 5), (10, 3), (2, 1)):
        expect_equal(
            call_answer(answer, layers, kernel),
            1 + layers * (kernel - 1),
            call=describe_call(answer, (layers, kernel), {}),
            mistakes={
                layers * kernel: "each layer adds kernel_size - 1 pixels, not kernel_size: "
                "neighbouring windows overlap.",
                kernel**layers: "receptive fields grow additively with stride 1, not "
                "multiplicatively.",
            },
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


def _check_build_digit_classifier(answer) -> str:
    import keras

    model = call_answer(answer)
    call = describe_call(answer, (), {})
    if not isinstance(model, keras.Model):
        raise IncorrectAnswer(f"{call} returned {type(model).__name__}, not a keras.Model.")
    if tuple(model.input_shape) != (None, 8, 8, 1):
        raise IncorrectAnswer(
            f"{call}: the model's input shape is {model.input_shape}; start it with "
            "keras.Input(shape=(8, 8, 1))."
        )
    if tuple(model.output_shape) != (None, 10):
        raise IncorrectAnswer(
            f"{call}: the output shape is {model.output_shape}; end with Dense(10, "
            "activation='softmax'), one probability per digit."
        )
    conv_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not conv_layers:
        raise IncorrectAnswer(f"{call}: the model has no Conv2D layer.")
    activation = getattr(model.layers[-1], "activation", None)
    if getattr(activation, "__name__", None) != "softmax":
        raise IncorrectAnswer(
            f"{call}: the last layer's activation is {getattr(activation, '__name__', None)!r}; "
            "use 'softmax' so the ten outputs are class probabilities."
        )
    if model.count_params() > 20_000:
        raise IncorrectAnswer(
            f"{call}: the model has {model.count_params():,} parameters; stay under 20,000 "
            "(1,797 small images do not need more, and it keeps training fast)."
        )
    loss = getattr(model, "loss", None)
    loss_name = loss if isinstance(loss, str) else getattr(loss, "name", None)
    if loss_name not in {"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"}:
        raise IncorrectAnswer(
            f"{call}: compile the model with loss='sparse_categorical_crossentropy' (the "
            f"labels are integers 0-9); found loss {loss_name!r}."
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
