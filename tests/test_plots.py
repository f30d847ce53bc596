"""Tests of course_utils.plots: what is drawn, and that bad input fails early and clearly."""

import os
import re

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils.plots import (  # noqa: E402
    MAX_IMAGES,
    plot_history,
    show_feature_maps,
    show_filters,
    show_images,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


@pytest.fixture(scope="module")
def sequential(keras):
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.MaxPooling2D(name="pool"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(2, name="out"),
        ],
        name="tiny",
    )


@pytest.fixture(scope="module")
def functional(keras):
    keras.utils.set_random_seed(1)
    inputs = keras.Input(shape=(6, 6, 3))
    x = keras.layers.Conv2D(5, 3, padding="same", name="rgb_conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(2, name="head")(x)
    return keras.Model(inputs, outputs, name="tiny_functional")


def drawn(fig):
    """The array drawn in each axes, in order."""
    return [np.asarray(ax.images[0].get_array()) for ax in fig.axes]


# --------------------------------------------------------------------------------------------
# show_images
# --------------------------------------------------------------------------------------------


def test_show_images_draws_each_image_in_its_own_axes():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(5, 6, 7)) * 10
    fig = show_images(images, ncols=3)

    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 5
    for ax, shown, image in zip(fig.axes, drawn(fig), images, strict=True):
        np.testing.assert_array_equal(shown, image)
        # grayscale floats are stretched per image
        assert ax.images[0].get_clim() == pytest.approx((image.min(), image.max()))
        assert ax.images[0].get_cmap().name == "gray"
        assert len(ax.get_xticks()) == 0 and len(ax.get_yticks()) == 0
    gridspec = fig.axes[0].get_subplotspec().get_gridspec()
    assert (gridspec.nrows, gridspec.ncols) == (2, 3)


def test_show_images_sets_titles_and_suptitle():
    images = np.zeros((3, 4, 4))
    fig = show_images(images, titles=[7, "cat", 2.5], suptitle="Digits")
    assert [ax.get_title() for ax in fig.axes] == ["7", "cat", "2.5"]
    assert fig.get_suptitle() == "Digits"


def test_show_images_accepts_numpy_labels_as_titles():
    fig = show_images(np.ones((2, 3, 3)), titles=np.array([4, 9]))
    assert [ax.get_title() for ax in fig.axes] == ["4", "9"]


def test_show_images_uses_one_row_when_fewer_images_than_ncols():
    fig = show_images(np.ones((2, 3, 3)), ncols=8)
    gridspec = fig.axes[0].get_subplotspec().get_gridspec()
    assert (gridspec.nrows, gridspec.ncols) == (1, 2)


def test_show_images_squeezes_single_channel():
    images = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4, 1)
    fig = show_images(images, cmap="viridis")
    for ax, shown, image in zip(fig.axes, drawn(fig), images, strict=True):
        assert shown.shape == (4, 4)
        np.testing.assert_array_equal(shown, image[..., 0])
        assert ax.images[0].get_cmap().name == "viridis"


def test_show_images_uint8_grayscale_uses_fixed_scale():
    images = np.full((1, 3, 3), 40, dtype=np.uint8)
    fig = show_images(images)
    assert fig.axes[0].images[0].get_clim() == (0, 255)


def test_show_images_rgb_uint8_is_drawn_in_colour_unchanged():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(2, 5, 5, 3), dtype=np.uint8)
    fig = show_images(images)
    for shown, image in zip(drawn(fig), images, strict=True):
        assert shown.shape == (5, 5, 3)
        np.testing.assert_array_equal(shown, image)


def test_show_images_rgb_float_is_clipped_to_unit_range():
    images = np.linspace(-0.3, 1.3, 2 * 2 * 2 * 3).reshape(2, 2, 2, 3)
    fig = show_images(images)
    for shown, image in zip(drawn(fig), images, strict=True):
        np.testing.assert_allclose(shown, np.clip(image, 0, 1), rtol=1e-6)


def test_show_images_rgb_float_on_0_255_scale_is_divided():
    images = np.linspace(0.0, 255.0, 2 * 2 * 2 * 3).reshape(2, 2, 2, 3)
    fig = show_images(images)
    for shown, image in zip(drawn(fig), images, strict=True):
        np.testing.assert_allclose(shown, image / 255.0, rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"images": np.zeros((4, 4))}, ValueError, r"3 or 4 dimensions.*\(4, 4\)"),
        ({"images": np.zeros((2, 4, 4, 4))}, ValueError, r"1 \(grayscale\) or 3 \(RGB\).*got 4"),
        ({"images": np.zeros((32, 32, 3))}, ValueError, r"\(32, 32, 3\).*single image"),
        ({"images": np.array([[["a"]]])}, TypeError, "must hold numbers, got dtype <U1"),
        ({"images": np.zeros((0, 4, 4))}, ValueError, r"images is empty \(shape \(0, 4, 4\)\)"),
        ({"images": np.full((1, 2, 2), np.nan)}, ValueError, "4 NaN or infinite"),
        ({"images": np.zeros((MAX_IMAGES + 1, 2, 2))}, ValueError, rf"{MAX_IMAGES + 1}.*images\[:32\]"),
        ({"titles": ["a", "b"]}, ValueError, "titles has 2 entries but there are 3 images"),
        ({"titles": "cat"}, TypeError, r"got 'cat'.*titles=\['cat'\]"),
        ({"ncols": 0}, ValueError, "ncols must be at least 1, got 0"),
        ({"ncols": 2.5}, TypeError, "ncols must be a whole number, got 2.5"),
        ({"cmap": "grae"}, ValueError, r"got 'grae'\. Did you mean .*'gray'"),
        ({"figsize_per_image": 0}, ValueError, "figsize_per_image must be at least 0.1, got 0"),
        ({"suptitle": 3}, TypeError, "suptitle must be a string or None, got 3"),
    ],
)
def test_show_images_rejects_bad_arguments(kwargs, error, match):
    arguments = {"images": np.zeros((3, 4, 4))} | kwargs
    with pytest.raises(error, match=match):
        show_images(**arguments)
    assert plt.get_fignums() == []  # failed before creating a figure


# --------------------------------------------------------------------------------------------
# show_filters
# --------------------------------------------------------------------------------------------


def test_show_filters_of_a_layer_draws_one_diverging_panel_per_filter(sequential, keras):
    layer = sequential.get_layer("conv")
    kernel = layer.kernel.numpy()
    fig = show_filters(layer)

    assert len(fig.axes) == layer.filters == kernel.shape[-1] == 4
    for i, (ax, shown) in enumerate(zip(fig.axes, drawn(fig), strict=True)):
        np.testing.assert_array_equal(shown, kernel[:, :, 0, i])
        vmin, vmax = ax.images[0].get_clim()
        assert vmin == pytest.approx(-vmax)
        assert vmax == pytest.approx(np.abs(kernel[:, :, 0, i]).max())
        assert ax.images[0].get_cmap().name == "RdBu_r"
        assert ax.get_title() == str(i)
    assert "'conv'" in fig.get_suptitle()
    assert "input channel 0 of 1" in fig.get_suptitle()


def test_show_filters_draws_the_chosen_channel_of_an_array():
    kernel = np.arange(3 * 3 * 2 * 6, dtype=np.float64).reshape(3, 3, 2, 6) - 50
    fig = show_filters(kernel, channel=1, ncols=4)
    assert len(fig.axes) == 6
    for i, shown in enumerate(drawn(fig)):
        np.testing.assert_array_equal(shown, kernel[:, :, 1, i])
    assert "input channel 1 of 2" in fig.get_suptitle()


def test_show_filters_handmade_zero_filter_does_not_fail():
    kernel = np.zeros((3, 3, 1, 2))
    kernel[:, :, 0, 1] = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]  # Sobel x
    fig = show_filters(kernel)
    assert fig.axes[0].images[0].get_clim() == (-1.0, 1.0)
    assert fig.axes[1].images[0].get_clim() == (-2.0, 2.0)


def test_show_filters_rgb_layer_is_drawn_in_colour_min_max_normalised(functional, keras):
    layer = functional.get_layer("rgb_conv")
    kernel = layer.kernel.numpy()
    fig = show_filters(layer)
    assert len(fig.axes) == 5
    for i, shown in enumerate(drawn(fig)):
        weights = kernel[:, :, :, i]
        expected = (weights - weights.min()) / (weights.max() - weights.min())
        assert shown.shape == (3, 3, 3)
        np.testing.assert_allclose(shown, expected, rtol=1e-6, atol=1e-7)
        assert shown.min() == pytest.approx(0) and shown.max() == pytest.approx(1)
    assert "RGB" in fig.get_suptitle()


def test_show_filters_rgb_with_channel_shows_that_channel(functional, keras):
    kernel = functional.get_layer("rgb_conv").kernel.numpy()
    fig = show_filters(kernel, channel=2)
    for i, shown in enumerate(drawn(fig)):
        np.testing.assert_array_equal(shown, kernel[:, :, 2, i])
    assert "input channel 2 of 3" in fig.get_suptitle()


def test_show_filters_rejects_non_conv_layer(sequential):
    with pytest.raises(TypeError, match="needs a Conv2D layer, got Dense layer 'out'"):
        show_filters(sequential.get_layer("out"))


def test_show_filters_rejects_unbuilt_layer(keras):
    with pytest.raises(ValueError, match="'unbuilt' is not built yet"):
        show_filters(keras.layers.Conv2D(2, 3, name="unbuilt"))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"kernel_or_layer": np.zeros((3, 3, 4))}, ValueError, r"4 dimensions.*\(3, 3, 4\)"),
        ({"channel": 2}, ValueError, "channel must be at most 1, got 2"),
        ({"channel": -1}, ValueError, "channel must be at least 0, got -1"),
        ({"ncols": 0}, ValueError, "ncols must be at least 1, got 0"),
        (
            {"kernel_or_layer": np.zeros((3, 3, 1, MAX_IMAGES + 1))},
            ValueError,
            rf"{MAX_IMAGES + 1} filters",
        ),
    ],
)
def test_show_filters_rejects_bad_arguments(kwargs, error, match):
    arguments = {"kernel_or_layer": np.ones((3, 3, 2, 4))} | kwargs
    with pytest.raises(error, match=match):
        show_filters(**arguments)
    assert plt.get_fignums() == []


# --------------------------------------------------------------------------------------------
# show_feature_maps
# --------------------------------------------------------------------------------------------


def sub_model_output(keras, model, layer_name, image):
    sub = keras.Model(model.inputs[0], model.get_layer(layer_name).output)
    return keras.ops.convert_to_numpy(sub(image[None].astype("float32")))[0]


@pytest.mark.parametrize("batched", [False, True])
def test_show_feature_maps_draws_the_layer_output(sequential, keras, batched):
    image = np.random.default_rng(2).random((8, 8, 1)).astype("float32")
    expected = sub_model_output(keras, sequential, "conv", image)
    fig = show_feature_maps(sequential, "conv", image[None] if batched else image)

    assert len(fig.axes) == expected.shape[-1] == 4
    for k, (ax, shown) in enumerate(zip(fig.axes, drawn(fig), strict=True)):
        assert shown.shape == (6, 6)
        np.testing.assert_allclose(shown, expected[..., k], rtol=1e-6)
        assert ax.get_title() == str(k)
    assert "'conv'" in fig.get_suptitle()


def test_show_feature_maps_limits_the_number_of_maps(sequential, keras):
    image = np.random.default_rng(3).random((8, 8, 1))
    expected = sub_model_output(keras, sequential, "pool", image)
    fig = show_feature_maps(sequential, "pool", image, max_maps=3)
    assert len(fig.axes) == 3
    for k, shown in enumerate(drawn(fig)):
        np.testing.assert_allclose(shown, expected[..., k], rtol=1e-6)
    assert "first 3 of 4" in fig.get_suptitle()


def test_show_feature_maps_works_on_functional_models(functional, keras):
    image = np.random.default_rng(4).random((6, 6, 3))
    expected = sub_model_output(keras, functional, "rgb_conv", image)
    fig = show_feature_maps(functional, "rgb_conv", image)
    assert len(fig.axes) == 5
    for k, shown in enumerate(drawn(fig)):
        np.testing.assert_allclose(shown, expected[..., k], rtol=1e-5, atol=1e-6)


def test_show_feature_maps_unknown_layer_lists_the_names(sequential):
    with pytest.raises(ValueError, match="'conv', 'pool', 'flat', 'out'; got 'conv1'"):
        show_feature_maps(sequential, "conv1", np.zeros((8, 8, 1)))


def test_show_feature_maps_rejects_a_layer_without_maps(sequential):
    with pytest.raises(ValueError, match=r"'flat' outputs shape \(None, 36\).*'conv', 'pool'"):
        show_feature_maps(sequential, "flat", np.zeros((8, 8, 1)))


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (np.zeros((9, 9, 1)), r"shape \(9, 9, 1\), but model 'tiny' expects .*\(8, 8, 1\)"),
        (np.zeros((8, 8, 3)), r"shape \(8, 8, 3\), but model 'tiny' expects .*\(8, 8, 1\)"),
        (np.zeros((8, 8)), r"\(8, 8\).*image\[\.\.\., None\]"),
        (np.zeros((2, 8, 8, 1)), r"batch of 2.*images\[0\]"),
    ],
)
def test_show_feature_maps_rejects_mismatched_images(sequential, image, match):
    with pytest.raises(ValueError, match=match):
        show_feature_maps(sequential, "conv", image)


def test_show_feature_maps_rejects_bad_arguments(sequential, keras):
    image = np.zeros((8, 8, 1))
    with pytest.raises(TypeError, match="model must be a keras.Model, got Conv2D"):
        show_feature_maps(sequential.get_layer("conv"), "conv", image)
    with pytest.raises(TypeError, match="layer_name must be .* got 0 of type int"):
        show_feature_maps(sequential, 0, image)
    with pytest.raises(ValueError, match="max_maps must be at least 1, got 0"):
        show_feature_maps(sequential, "conv", image, max_maps=0)
    with pytest.raises(ValueError, match="ncols must be at least 1, got -2"):
        show_feature_maps(sequential, "conv", image, ncols=-2)
    no_input = keras.Sequential([keras.layers.Conv2D(2, 3, name="c")], name="no_input")
    with pytest.raises(ValueError, match="'no_input' needs exactly one defined input"):
        show_feature_maps(no_input, "c", image)
    assert plt.get_fignums() == []


# --------------------------------------------------------------------------------------------
# plot_history
# --------------------------------------------------------------------------------------------

HISTORY = {
    "loss": [1.0, 0.6, 0.4],
    "accuracy": [0.5, 0.7, 0.8],
    "val_loss": [1.1, 0.8, 0.7],
    "val_accuracy": [0.45, 0.6, 0.65],
}


def test_plot_history_draws_training_and_validation_per_metric():
    fig = plot_history(HISTORY, title="Run 1")
    assert len(fig.axes) == 2
    for ax, metric in zip(fig.axes, ["loss", "accuracy"], strict=True):
        train, val = ax.get_lines()
        np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(train.get_ydata(), HISTORY[metric])
        np.testing.assert_array_equal(val.get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(val.get_ydata(), HISTORY[f"val_{metric}"])
        assert (train.get_label(), val.get_label()) == ("training", "validation")
        assert ax.get_xlabel() == "epoch"
        assert ax.get_title() == metric
    assert fig.get_suptitle() == "Run 1"


def test_plot_history_accepts_a_keras_history(keras):
    history = keras.callbacks.History()
    history.history = {"loss": [0.9, 0.5]}
    fig = plot_history(history)
    assert len(fig.axes) == 1
    (line,) = fig.axes[0].get_lines()  # no validation curve
    np.testing.assert_array_equal(line.get_xdata(), [1, 2])
    np.testing.assert_array_equal(line.get_ydata(), [0.9, 0.5])


@pytest.mark.parametrize("metrics", ["accuracy", ["accuracy"]])
def test_plot_history_plots_only_chosen_metrics(metrics):
    fig = plot_history(HISTORY, metrics=metrics)
    assert len(fig.axes) == 1
    assert fig.axes[0].get_title() == "accuracy"
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_ydata(), HISTORY["accuracy"])


@pytest.mark.parametrize(
    ("history", "kwargs", "error", "match"),
    [
        ({}, {}, ValueError, "history is empty"),
        ({"loss": []}, {}, ValueError, "history is empty"),
        ([0.5, 0.4], {}, TypeError, "got list"),
        (HISTORY, {"metrics": ["acc"]}, ValueError, "'loss', 'accuracy'; got 'acc'"),
        (HISTORY, {"metrics": "val_loss"}, ValueError, "got 'val_loss'"),
        (HISTORY, {"metrics": []}, ValueError, "metrics is empty"),
        (HISTORY, {"metrics": 3}, TypeError, "got 3 of type int"),
        (HISTORY, {"title": 1}, TypeError, "title must be a string or None, got 1"),
        (
            {"loss": [1, 2, 3, 4], "val_loss": [1, 2]},
            {},
            ValueError,
            re.escape("history['val_loss'] has 2 values but history['loss'] has 4"),
        ),
        ({"loss": ["a", "b"]}, {}, TypeError, re.escape("history['loss'] must hold numbers")),
    ],
)
def test_plot_history_rejects_bad_arguments(history, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_history(history, **kwargs)
    assert plt.get_fignums() == []
