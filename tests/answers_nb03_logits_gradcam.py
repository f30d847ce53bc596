"""Answer tables of notebook 03's exercises 7 (Grad-CAM) and 8 (cross-entropy from logits).

Read by test_exercise_answers.py.

The wrong answers are written as a learner would write them (TensorFlow ops, one variation of the
right answer each), apart from the check's own mistake functions; each must get its own
explanation. The right answers spelled unlike the reference must pass.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import scipy.special
import tensorflow as tf


def _grad_cam(model, images, class_index, layer_name, *, probability=False, relu=True, batch_weights=False,
              of_input=False, scale="image", last_layer=False, resize="bilinear", scale_first=False,
              elementwise=False, summed=False, keep_channel=False, absolute=False, as_tensor=False):  # fmt: skip
    """A learner's Grad-CAM; each keyword makes one mistake (or one harmless change)."""
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    if last_layer:
        convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
        layer_name = convolutions[-1].name
    if of_input:
        with tf.GradientTape() as tape:
            tape.watch(images)
            maps, logits = images, model(images)
            score = logits[:, class_index]
    else:
        outputs = [model.get_layer(layer_name).output, model.outputs[0]]
        grad_model = keras.Model(model.inputs[0], outputs)
        with tf.GradientTape() as tape:
            maps, logits = grad_model(images)
            scores = tf.nn.softmax(logits, axis=-1) if probability else logits
            score = scores[:, class_index]
    grads = tape.gradient(score, maps)
    if elementwise:
        cam = tf.reduce_sum(grads * maps, axis=-1)
    else:
        reduce = tf.reduce_sum if summed else tf.reduce_mean
        weights = reduce(grads, axis=(0, 1, 2) if batch_weights else (1, 2))
        weights = weights[None, None, None, :] if batch_weights else weights[:, None, None, :]
        cam = tf.reduce_sum(maps * weights, axis=-1)
    if absolute:
        cam = tf.abs(cam)
    elif relu:
        cam = tf.nn.relu(cam)

    def scaled(c):
        if scale is None:
            return c
        axes = None if scale == "batch" else (1, 2)
        peak = tf.reduce_max(c, axis=axes, keepdims=axes is not None)
        return tf.math.divide_no_nan(c, peak)

    if scale_first:
        cam = scaled(cam)
    if resize:
        cam = tf.image.resize(cam[..., tf.newaxis], images.shape[1:3], method=resize)
        cam = cam if keep_channel else cam[..., 0]
    if not scale_first:
        cam = scaled(cam)
    return cam if as_tensor else cam.numpy()


def _grad_cam_per_image(model, images, class_index, layer_name):
    """Right: one image at a time, NumPy after the tape."""
    outputs = [model.get_layer(layer_name).output, model.outputs[0]]
    grad_model = keras.Model(model.inputs[0], outputs)
    result = []
    for image in images:
        with tf.GradientTape() as tape:
            maps, logits = grad_model(image[np.newaxis])
            score = logits[0, class_index]
        grads = tape.gradient(score, maps).numpy()[0]
        maps = maps.numpy()[0]
        cam = np.maximum(maps @ grads.mean(axis=(0, 1)), 0)
        cam = tf.image.resize(cam[:, :, None], image.shape[:2]).numpy()[:, :, 0]
        result.append(cam / cam.max() if cam.max() > 0 else cam)
    return np.stack(result)


def _grad_cam_transposed_size(model, images, class_index, layer_name):
    height, width = images.shape[1:3]
    cam = _grad_cam(model, images, class_index, layer_name, resize=None)
    resized = tf.image.resize(cam[..., None], (width, height))[..., 0]
    peak = tf.reduce_max(resized, axis=(1, 2), keepdims=True)
    return tf.math.divide_no_nan(resized, peak).numpy()


NAMED_MISTAKES = [
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, probability=True), "softmax PROBABILITY"),
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, relu=False), "apply a ReLU to the weighted sum"),
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, batch_weights=True), "averaged over the images too"),
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, of_input=True), "gradient with respect to the input image"),
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, scale=None), "the maps are not scaled"),
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, scale="batch"), "largest value of the whole batch"),
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, last_layer=True), "whatever `layer_name` says"),
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, resize=None), "the maps have the layer's resolution"),
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, resize="nearest"), "nearest-neighbour"),
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, scale_first=True), "scaled the maps before resizing"),
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, elementwise=True), "that position's own gradients"),
]  # fmt: skip

OTHER_RIGHT_ANSWERS = [
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, summed=True)),  # a constant factor, gone after scaling
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, keep_channel=True)),  # (N, H, W, 1)
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, as_tensor=True)),  # a tf.Tensor
    ("nb03", 7, _grad_cam_per_image),
]  # fmt: skip

OWN_WRONG_ANSWERS = [
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, probability=True, summed=True), "softmax PROBABILITY"),
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, scale=None, summed=True), None),  # sum and no scaling
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, absolute=True), None),  # |map| instead of ReLU
    ("nb03", 7, _grad_cam_transposed_size, None),  # (width, height) to resize
    ("nb03", 7, lambda m, x, k, n: _grad_cam(m, x, k, n, relu=False, keep_channel=True), "apply a ReLU"),
]  # fmt: skip


# --- exercise 8: cross-entropy from logits --------------------------------------------------


def _ce_loop(logits, labels):
    """Right: one row at a time, with math."""
    losses = []
    for row, label in zip(logits, labels):
        largest = max(row)
        losses.append(largest + math.log(sum(math.exp(v - largest) for v in row)) - row[label])
    return losses


def _ce_probabilities(logits, labels):
    z = np.asarray(logits, dtype=np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p = p / p.sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(len(z)), labels])


def _ce_unstable(logits, labels):
    z = np.asarray(logits)
    return np.log(np.sum(np.exp(z), axis=1)) - z[np.arange(len(z)), labels]


def _ce_forgot_max(logits, labels):
    z = np.asarray(logits, dtype=np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    return np.log(np.exp(shifted).sum(axis=1)) - z[np.arange(len(z)), labels]


def _ce_keras_probabilities(logits, labels):
    probabilities = keras.ops.softmax(np.asarray(logits, dtype="float32"))
    stored = probabilities.numpy()  # probabilities as predict() returns them: no logits attached
    losses = keras.losses.sparse_categorical_crossentropy(np.asarray(labels), stored)
    return keras.ops.convert_to_numpy(losses)


def _ce_all_columns(logits, labels):
    z = np.asarray(logits, dtype=np.float64)
    return scipy.special.logsumexp(z, axis=1, keepdims=True) - z[:, labels]


NAMED_MISTAKES += [
    ("nb03", 8, _ce_probabilities, "formed the probabilities first"),
    ("nb03", 8, _ce_unstable, "overflows to inf"),
    ("nb03", 8, lambda z, y: -(scipy.special.logsumexp(z, axis=1) - np.asarray(z, float)[np.arange(len(z)), y]), "the sign is flipped"),
    ("nb03", 8, lambda z, y: float(np.mean(scipy.special.logsumexp(z, axis=1) - np.asarray(z, float)[np.arange(len(z)), y])),
     "mean over the rows"),
    ("nb03", 8, _ce_forgot_max, "did not add it back"),
    ("nb03", 8, _ce_keras_probabilities, "clipping the probability"),
    ("nb03", 8, _ce_all_columns, "every label's column for every row"),
]  # fmt: skip

OTHER_RIGHT_ANSWERS += [
    ("nb03", 8, _ce_loop),  # a list of Python floats
    ("nb03", 8, lambda z, y: scipy.special.logsumexp(z, axis=1) - np.asarray(z, float)[np.arange(len(z)), y]),
    ("nb03", 8, lambda z, y: keras.losses.sparse_categorical_crossentropy(np.asarray(y), np.asarray(z, "float32"), from_logits=True)),
    ("nb03", 8, lambda z, y: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=np.asarray(y), logits=np.asarray(z, "float64"))),
]  # fmt: skip

OWN_WRONG_ANSWERS += [
    ("nb03", 8, lambda z, y: -np.log(scipy.special.softmax(z, axis=1)[np.arange(len(z)), y]), "formed the probabilities first"),
    ("nb03", 8, lambda z, y: np.log(np.exp(np.asarray(z, np.float64)).sum(axis=1)) - np.asarray(z, np.float64)[np.arange(len(z)), y],
     "overflows to inf"),
    ("nb03", 8, lambda z, y: scipy.special.logsumexp(z, axis=1) - np.asarray(z, float).max(axis=1), None),  # largest, not the label's
    ("nb03", 8, lambda z, y: scipy.special.logsumexp(z, axis=1), None),  # forgot - z[label]
]  # fmt: skip
