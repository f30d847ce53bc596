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


def test_input_saliency_agrees_with_finite_differences_on_a_smooth_tiny_model():
    rng = np.random.default_rng(3)
    model = keras.Sequential(
        [
            keras.Input(shape=(4, 4, 2)),
            keras.layers.Conv2D(3, 2, activation="tanh"),  # smooth: central differences are exact
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    model.set_weights([rng.normal(0, 0.7, size=w.shape).astype("float32") for w in model.weights])
    images = rng.uniform(0, 1, size=(2, 4, 4, 2)).astype("float32")
    classes = np.array([1, 0])
    step = 1e-2
    gradient = np.zeros(images.shape)
    for index in np.ndindex(*images.shape[1:]):
        up, down = images.copy(), images.copy()
        up[(slice(None), *index)] += step
        down[(slice(None), *index)] -= step
        rows = np.arange(len(images))
        change = model(up).numpy()[rows, classes] - model(down).numpy()[rows, classes]
        gradient[(slice(None), *index)] = change / (2 * step)
    expected = np.abs(gradient).max(axis=-1)
    expected /= expected.max(axis=(1, 2), keepdims=True)
    got = attribution.input_saliency(model, images, classes)
    np.testing.assert_allclose(got, expected, atol=2e-3)


def _chain(*head_layers, name="chain"):
    """Input, a convolution and a flatten, then the given head layers (fixed weights)."""
    rng = np.random.default_rng(4)
    model = keras.Sequential(
        [
            keras.Input(shape=(12, 12, 3)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.Flatten(),
            *head_layers,
        ],
        name=name,
    )
    model.set_weights([rng.normal(0, 0.5, size=w.shape).astype("float32") for w in model.weights])
    return model


@pytest.mark.parametrize(
    ("head", "squashing"),
    [
        ([keras.layers.Dense(3, activation=tf.nn.softmax)], "softmax"),  # named softmax_v2
        ([keras.layers.Dense(3, activation=tf.nn.sigmoid)], "sigmoid"),
        ([keras.layers.Dense(3, activation=keras.activations.softmax)], "softmax"),
        ([keras.layers.Dense(3), keras.layers.Softmax()], "softmax"),
        ([keras.layers.Dense(3), keras.layers.Activation("sigmoid")], "sigmoid"),
    ],
)
def test_a_final_softmax_or_sigmoid_is_refused_however_it_is_spelled(images, head, squashing):
    model = _chain(*head)
    with pytest.raises(ValueError, match=f"ends in {squashing}"):
        attribution.input_saliency(model, images, 0)


def test_an_activation_layer_that_is_not_a_squashing_is_not_refused(images):
    model = _chain(keras.layers.Dense(3), keras.layers.Activation("relu"))
    assert attribution.grad_cam(model, images, 0, "conv").shape == (4, 12, 12)


def test_a_functional_model_is_judged_by_its_output_not_its_last_listed_layer(images):
    inputs = keras.Input(shape=(12, 12, 3))
    maps = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    logits = keras.layers.Dense(3)(keras.layers.Flatten()(maps))
    by_op = keras.Model(inputs, keras.ops.softmax(logits))  # layers[-1] is the linear Dense
    assert by_op.layers[-1].activation is keras.activations.linear
    with pytest.raises(ValueError, match="ends in softmax"):
        attribution.grad_cam(by_op, images, 0, "conv")
    inner = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(logits), name="inner")
    outer_input = keras.Input(shape=(12, 12, 3))
    nested = keras.Model(outer_input, inner(outer_input), name="outer")  # the output is a model
    with pytest.raises(ValueError, match="ends in softmax"):
        attribution.input_saliency(nested, images, 0)


def test_logits_model_drops_a_trailing_softmax_layer(images):
    model = _chain(keras.layers.Dense(3, name="scores"), keras.layers.Softmax(name="probs"))
    copy = attribution.logits_model(model)
    assert [layer.name for layer in copy.layers][-1] == "scores"
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(keras.ops.softmax(copy(images))),
        keras.ops.convert_to_numpy(model(images)),
        atol=1e-6,
    )


@pytest.mark.parametrize("activation", [tf.nn.softmax, "softmax"])
def test_logits_model_removes_softmax_however_it_is_spelled(images, activation):
    model = _chain(keras.layers.Dense(3, activation=activation, name="class"))
    copy = attribution.logits_model(model)
    assert copy.layers[-1].activation is keras.activations.linear
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(keras.ops.softmax(copy(images))),
        keras.ops.convert_to_numpy(model(images)),
        atol=1e-6,
    )


def test_logits_model_keeps_a_model_that_already_outputs_logits(images):
    model = _chain(keras.layers.Dense(3, name="class"))
    copy = attribution.logits_model(model)
    np.testing.assert_allclose(copy(images).numpy(), model(images).numpy(), atol=1e-6)


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


def _functional_backbone():
    inputs = keras.Input(shape=(12, 12, 3))
    return keras.Model(inputs, keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inputs)), name="functional")


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
    (lambda m, c, x: attribution.logits_model(_chain(keras.layers.Dense(3, activation="relu"))), ValueError, "activation 'relu'"),
    (lambda m, c, x: attribution.logits_model(_chain(keras.layers.Dense(3), keras.layers.Activation("tanh"))), ValueError, "not softmax or sigmoid"),
    (lambda m, c, x: attribution.logits_model(_chain(keras.layers.Dense(3), keras.layers.Dropout(0.5))), ValueError, "must be a layer with an activation"),
    (lambda m, c, x: attribution.logits_model(_chain()), ValueError, "must be a layer with an activation"),
    (lambda m, c, x: attribution.logits_model(keras.Sequential([keras.Input((12, 12, 3)), _functional_backbone(), keras.layers.Dense(3)])), ValueError, "flattens Sequential models only"),
    (lambda m, c, x: attribution.input_saliency(m, x, 5), ValueError, "must lie in 0 to 2"),
    (lambda m, c, x: attribution.input_saliency(m, x, np.array([0.0, 1.0, 2.0, 1.0])), TypeError, "whole numbers"),
    (lambda m, c, x: attribution.input_saliency(m, x, [0, 1, 2]), ValueError, "there are 4 images"),
    (lambda m, c, x: attribution.show_overlays(x, np.ones((4, 12, 12)), np.ones((4, 12, 11), bool)), ValueError, "masks have shape"),
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
