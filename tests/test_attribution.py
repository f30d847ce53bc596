"""Tests of course_utils.attribution: Grad-CAM, saliency, a map's share inside a mask, overlays."""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from course_utils import attribution  # noqa: E402


@pytest.fixture(scope="module")
def classifier():
    """A small chain classifier ending in softmax, nested like notebook 03's, with fixed weights."""
    rng = np.random.default_rng(0)
    backbone = keras.Sequential(
        [
            keras.Input(shape=(12, 12, 3)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a"),
            keras.layers.MaxPooling2D(2, name="pool"),
            keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="conv_b"),
            keras.layers.Flatten(name="flatten"),  # named: other tests may have made a "flatten"
        ],
        name="backbone",
    )
    head = keras.layers.Dense(3, activation="softmax", name="class")
    model = keras.Sequential([backbone, head], name="clf")
    model.set_weights([rng.normal(0, 0.5, size=w.shape).astype("float32") for w in model.weights])
    return model


@pytest.fixture(scope="module")
def logits(classifier):
    return attribution.logits_model(classifier)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).uniform(0, 1, size=(4, 12, 12, 3)).astype("float32")


def test_logits_model_is_flat_and_its_softmax_gives_the_classifiers_probabilities(
    classifier, logits, images
):
    flattened = [layer.name for layer in classifier.layers[0].layers] + ["class"]
    assert [layer.name for layer in logits.layers] == flattened
    assert logits.layers[-1].activation.__name__ == "linear"
    assert not any(isinstance(layer, keras.Model) for layer in logits.layers)
    probabilities = keras.ops.convert_to_numpy(classifier(images))
    from_logits = keras.ops.convert_to_numpy(keras.ops.softmax(logits(images)))
    np.testing.assert_allclose(from_logits, probabilities, atol=1e-6)


def test_logits_model_is_a_copy_not_a_view(classifier, logits, images):
    before = keras.ops.convert_to_numpy(logits(images))
    weights = classifier.get_weights()
    classifier.set_weights([w + 1 for w in weights])
    try:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(logits(images)), before)
    finally:
        classifier.set_weights(weights)


def _grad_cam_by_hand(model, images, class_index, layer_name):
    """Grad-CAM spelled out step by step, one image at a time, independent of the helper."""
    sub = keras.Model(model.inputs[0], [model.get_layer(layer_name).output, model.outputs[0]])
    maps_all = []
    for image in images:
        with tf.GradientTape() as tape:
            maps, out = sub(image[None])
            score = out[0, class_index]
        grads = tape.gradient(score, maps).numpy()[0]
        maps = maps.numpy()[0]
        cam = np.zeros(maps.shape[:2])
        for c in range(maps.shape[-1]):
            cam += grads[..., c].mean() * maps[..., c]
        cam = tf.image.resize(np.maximum(cam, 0)[..., None], image.shape[:2]).numpy()[..., 0]
        maps_all.append(cam / cam.max() if cam.max() > 0 else cam)
    return np.stack(maps_all)


@pytest.mark.parametrize("layer_name", ["conv_a", "conv_b"])
def test_grad_cam_matches_the_formula_computed_by_hand(logits, images, layer_name):
    got = attribution.grad_cam(logits, images, 1, layer_name)
    assert got.shape == (4, 12, 12) and got.dtype == np.float32
    np.testing.assert_allclose(got, _grad_cam_by_hand(logits, images, 1, layer_name), atol=1e-5)


def test_grad_cam_takes_one_class_per_image_and_keeps_the_layer_resolution_on_request(
    logits, images
):
    classes = np.array([0, 1, 2, 1])
    got = attribution.grad_cam(logits, images, classes, "conv_b")
    for i, k in enumerate(classes):
        alone = attribution.grad_cam(logits, images[i : i + 1], int(k), "conv_b")[0]
        np.testing.assert_allclose(got[i], alone, atol=1e-6)
    coarse = attribution.grad_cam(logits, images, classes, "conv_b", upsample=False)
    assert coarse.shape == (4, 6, 6)
    peaks = got.max(axis=(1, 2))
    assert np.all((0 <= got) & (got <= 1)) and np.allclose(peaks[peaks > 0], 1)


def test_input_saliency_is_the_largest_absolute_input_gradient_scaled_to_one(logits, images):
    batch = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(batch)
        score = logits(batch)[:, 2]
    expected = np.abs(tape.gradient(score, batch).numpy()).max(axis=-1)
    expected /= expected.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(attribution.input_saliency(logits, images, 2), expected, atol=1e-6)


def test_share_inside_is_one_on_the_object_and_the_covered_share_for_a_uniform_map():
    masks = np.zeros((3, 4, 4), dtype=bool)
    masks[:, :2, :2] = True  # a quarter of each image
    on_object = masks.astype(float)
    uniform = np.ones((3, 4, 4))
    outside = 1.0 - on_object
    np.testing.assert_allclose(attribution.share_inside(on_object, masks), 1.0)
    np.testing.assert_allclose(attribution.share_inside(uniform, masks), 0.25)
    np.testing.assert_allclose(attribution.share_inside(outside, masks), 0.0)
    empty = attribution.share_inside(np.zeros((3, 4, 4)), masks)
    assert np.all(np.isnan(empty))


def test_show_overlays_draws_one_panel_per_image_with_the_mask_outline(images):
    maps = np.random.default_rng(2).uniform(0, 1, size=(4, 12, 12))
    masks = np.zeros((4, 12, 12), dtype=bool)
    masks[:, 3:8, 3:8] = True
    fig = attribution.show_overlays(images, maps, masks, titles=list("abcd"), ncols=2)
    assert len(fig.axes) == 4 and fig.axes[2].get_title() == "c"
    assert len(fig.axes[0].images) == 2 and fig.axes[0].collections  # image, map, contour
    plt.close(fig)


BAD_INPUT = [  # (call on (logits model, softmax classifier, images), error, piece of message)
    (lambda m, c, x: attribution.grad_cam("model", x, 0, "conv_b"), TypeError, "model must be a keras.Model"),
    (lambda m, c, x: attribution.grad_cam(c, x, 0, "conv_b"), ValueError, "ends in softmax"),
    (lambda m, c, x: attribution.grad_cam(m, x[0], 0, "conv_b"), ValueError, "must have 4 dimensions"),
    (lambda m, c, x: attribution.grad_cam(m, x[:, :8], 0, "conv_b"), ValueError, "but the model expects"),
    (lambda m, c, x: attribution.grad_cam(m, x, 3, "conv_b"), ValueError, "must lie in 0 to 2"),
    (lambda m, c, x: attribution.grad_cam(m, x, 1.0, "conv_b"), TypeError, "class_index must be a whole number"),
    (lambda m, c, x: attribution.grad_cam(m, x, [0, 1], "conv_b"), ValueError, "there are 4 images"),
    (lambda m, c, x: attribution.grad_cam(m, x, 0, "conv_z"), ValueError, "has no layer 'conv_z'"),
    (lambda m, c, x: attribution.grad_cam(m, x, 0, "flatten"), ValueError, "not feature maps"),
    (lambda m, c, x: attribution.grad_cam(m, x, 0, 3), TypeError, "layer_name must be"),
    (lambda m, c, x: attribution.grad_cam(m, x, 0, "conv_b", upsample="yes"), TypeError, "upsample must be"),
    (lambda m, c, x: attribution.input_saliency(c, x, 0), ValueError, "ends in softmax"),
    (lambda m, c, x: attribution.logits_model(m.layers[0].output), TypeError, "keras.Sequential"),
    (lambda m, c, x: attribution.share_inside(np.ones((2, 4, 4)), np.ones((2, 4, 4))), TypeError, "boolean"),
    (lambda m, c, x: attribution.share_inside(np.ones((2, 4, 4)), np.ones((2, 4, 5), bool)), ValueError, "must match"),
    (lambda m, c, x: attribution.share_inside(-np.ones((2, 4, 4)), np.ones((2, 4, 4), bool)), ValueError, ">= 0"),
    (lambda m, c, x: attribution.show_overlays(x, np.ones((4, 6, 6))), ValueError, "upsample the maps"),
    (lambda m, c, x: attribution.show_overlays(x, np.ones((4, 12, 12)), alpha=2), ValueError, "alpha must be at most 1"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "error", "match"), BAD_INPUT)
def test_bad_input_is_refused_with_a_message_that_names_it(
    logits, classifier, images, call, error, match
):
    with pytest.raises(error, match=match):
        call(logits, classifier, images)
