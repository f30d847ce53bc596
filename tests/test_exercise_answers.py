"""Every notebook's exercise checks, fed the answers learners really give.

tests/test_notebooks.py shows that each reference solution passes its check and each stub is
"not attempted". Here:

* answers of the wrong kind (None from a missing return, a string, an array of the wrong shape,
  ...) are reported as incorrect by the check's own message, never crash it;
* every named mistake, written as a wrong function, is refused with its own explanation and no
  other (at least four per exercise, found by walking the exercise modules);
* our own plausible wrong answers, written apart from the named mistakes, are all refused, and at
  least four in five are named;
* right answers spelled differently from the reference (vectorised, other formulas, a list for a
  pair, float32) pass.
"""

from __future__ import annotations

import importlib
import math
import pathlib
import pkgutil

import numpy as np
import pytest

import course_utils.exercises as exercises_package
from course_utils.checks import Exact, Exercise, Status, exercises_in

NOTEBOOK_MODULES = [
    f"{exercises_package.__name__}.{info.name}"
    for info in pkgutil.iter_modules(exercises_package.__path__)
    if not info.name.startswith("_")  # helpers shared by the notebooks' modules
]
ALL_EXERCISES = [
    (module.rsplit(".", 1)[1], exercise)
    for module in NOTEBOOK_MODULES
    for exercise in exercises_in(vars(importlib.import_module(module)))
]
# The wrong answers below divide by zero and so on, as learners' do: their NumPy warnings are
# expected here (the checks' own named mistakes run quietly, tested at the end of this file).
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")
# The message of Exercise.evaluate's last-resort handler; a check should never need it.
FALLBACK_MESSAGE = "the check could not compare"


def _exercise(module: str, number: int) -> Exercise:
    namespace = vars(importlib.import_module(f"course_utils.exercises.{module}"))
    return namespace[f"exercise_{number}"]


# --- wrong answers of the wrong kind ---------------------------------------------------------

WRONG_KINDS = {
    "None (missing return)": lambda *args, **kwargs: None,
    "a string": lambda *args, **kwargs: "42",
    "a bool": lambda *args, **kwargs: True,
    "NaN": lambda *args, **kwargs: float("nan"),
    "an empty list": lambda *args, **kwargs: [],
    "a one-element array": lambda *args, **kwargs: np.zeros(1),
    "a 2-D array": lambda *args, **kwargs: np.zeros((3, 5)),
    "a dict": lambda *args, **kwargs: {"a": 1},
    "a triple": lambda *args, **kwargs: (1, 2, 3),
    "its first argument": lambda *args, **kwargs: args[0] if args else None,
}


@pytest.mark.parametrize("kind", WRONG_KINDS)
@pytest.mark.parametrize(
    "module, exercise", ALL_EXERCISES, ids=[f"{m}-{e.number}" for m, e in ALL_EXERCISES]
)
def test_answer_of_the_wrong_kind_is_incorrect_with_the_checks_own_message(module, exercise, kind):
    answer = WRONG_KINDS[kind]
    answer.__name__ = exercise.answer_name
    result = exercise.evaluate(answer)
    assert result.status is Status.INCORRECT, result.message
    assert result.message.startswith(exercise.label)
    assert FALLBACK_MESSAGE not in result.message, result.message


def test_a_check_that_breaks_on_an_odd_answer_reports_it_instead_of_crashing():
    def checker(answer):
        return answer() + 1  # TypeError for a str, by design of this test

    exercise = Exercise(9, "odd", answer_name="odd", checker=checker, hint="h", solution="s")
    result = exercise.evaluate(lambda: "text")
    assert result.status is Status.INCORRECT
    assert FALLBACK_MESSAGE in result.message and "TypeError" in result.message


# --- every named mistake, written as a learner would, gets its own explanation ----------------
#
# For each exercise: wrong functions, each with a piece of the explanation it must get. The
# test asserts that the check says "incorrect", shows that explanation, and shows none of the
# explanations of the exercise's other mistakes: two named mistakes that the check's inputs
# cannot tell apart fail here.


def _loops_correlate(image, kernel, *, flip=False, pad=False, stop_early=False, combine=None, out=None):
    image = np.asarray(image)
    if flip:
        kernel = np.flip(kernel)
    kh, kw = kernel.shape
    if pad:
        image = np.pad(image.astype(float), ((kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2)))
    out_h, out_w = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    if stop_early:
        out_h, out_w = out_h - 1, out_w - 1
    output = np.zeros((out_h, out_w)) if out is None else out(image, (out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            patch = image[i : i + kh, j : j + kw]
            output[i, j] = combine(patch, kernel) if combine else np.sum(patch * kernel)
    return output


def _correlate_swapped_sides(image, kernel):
    kw, kh = kernel.shape
    output = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(output.shape[0]):
        for j in range(output.shape[1]):
            output[i, j] = (image[i : i + kh, j : j + kw] * kernel).sum()
    return output


def _pool(feature_map, size, *, reduce=np.max, step=None, ceil=False, start_at_index=False, window=None):
    window = window or size
    rows, cols = feature_map.shape
    if step == 1:
        out_h, out_w = rows - window + 1, cols - window + 1
    elif ceil:
        out_h, out_w = math.ceil(rows / window), math.ceil(cols / window)
    else:
        out_h, out_w = rows // window, cols // window
    output = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            r, c = (i, j) if (step == 1 or start_at_index) else (i * window, j * window)
            output[i, j] = reduce(feature_map[r : r + window, c : c + window])
    return output


def _digit_model(*layers, input_shape=(8, 8, 1), loss="sparse_categorical_crossentropy", compile=True):
    import keras

    model = keras.Sequential([keras.Input(shape=input_shape), *layers])
    if compile:
        model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


def _conv_block():
    import keras

    return [keras.layers.Conv2D(8, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(2),
            keras.layers.Flatten()]  # fmt: skip


def _dense(units=10, activation="softmax"):
    import keras

    return keras.layers.Dense(units, activation=activation)


def _summary_rows(**changes):
    rows = [
        ((32, 32, 16), 3 * 3 * 3 * 16 + 16),
        ((16, 16, 16), 0),
        ((14, 14, 32), 3 * 3 * 16 * 32 + 32),
        ((14, 14, 32), 4 * 32),
        ((7, 7, 64), 3 * 3 * 32 + 32 * 64 + 64),
        ((64,), 0),
        ((10,), 64 * 10 + 10),
    ]
    for key, value in changes.items():
        index, part = int(key[1]), key[2:]
        shape, params = rows[index - 1]
        rows[index - 1] = (value, params) if part == "shape" else (shape, value)
    return lambda: rows


def _field(layers, *, start=1, widen_by_kernel=False, jump_first=False, jump_by_kernel=False, no_jump=False):
    field, jump = start, 1
    for kernel_size, stride in layers:
        if jump_first:
            jump *= stride
        field += (kernel_size if widen_by_kernel else kernel_size - 1) * (1 if no_jump else jump)
        if not jump_first:
            jump *= kernel_size if jump_by_kernel else stride
    return field


def _field_from_first(layers):
    field, jump = layers[0][0], layers[0][1]
    for kernel_size, stride in layers[1:]:
        field += (kernel_size - 1) * jump
        jump *= stride
    return field


def _confusion_loop(y_true, y_pred, num_classes, *, transpose=False, size=None):
    size = size or num_classes
    matrix = np.zeros((size, size), dtype=int)
    for t, p in zip(y_true, y_pred):
        if transpose:
            matrix[p, t] += 1
        else:
            matrix[t, p] += 1
    return matrix


def _confusion_fancy(y_true, y_pred, num_classes):
    matrix = np.zeros((num_classes, num_classes), dtype=int)
    matrix[y_true, y_pred] += 1
    return matrix


def _pr(matrix, *, swap=False, nan=False, by_total=False, floor=False):
    hits = np.diag(matrix)
    cols, rows = matrix.sum(axis=0), matrix.sum(axis=1)
    if by_total:
        return hits / matrix.sum(), hits / matrix.sum()
    if floor:
        return hits // np.maximum(cols, 1), hits // np.maximum(rows, 1)
    if nan:
        with np.errstate(all="ignore"):
            precision, recall = hits / cols, hits / rows
    else:
        precision = np.array([h / c if c else 0.0 for h, c in zip(hits, cols)])
        recall = np.array([h / r if r else 0.0 for h, r in zip(hits, rows)])
    return (recall, precision) if swap else (precision, recall)


def _huber_loop(errors, delta, *, square=0.5, linear=None):
    out = []
    for e in errors:
        if abs(e) <= delta:
            out.append(square * e * e)
        else:
            out.append(linear(e, delta) if linear else delta * (abs(e) - 0.5 * delta))
    return np.array(out)


def _class_weights(labels, num_classes, weight):
    counts = np.bincount(labels, minlength=num_classes)
    return {c: weight(len(labels), num_classes, counts[c], counts) for c in range(num_classes)}


def _deployable(core, mean, variance, *, before=True, after=False, scale=1 / 255, offset=0.0,
                invert=True, norm=True, variance_given=None):  # fmt: skip
    import keras

    steps = [keras.Input(shape=core.input_shape[1:])]
    if before:
        steps.append(keras.layers.Rescaling(scale, offset=offset))
    steps.append(core)
    if after:
        steps.append(keras.layers.Rescaling(scale))
    if norm:
        steps.append(keras.layers.Normalization(
            mean=mean, variance=variance if variance_given is None else variance_given(variance), invert=invert))
    return keras.Sequential(steps)


def _decode(encoded, *, halve=True, wrap=True, degrees=True, arctan=False, swap=False, wrap_first=False):
    sin, cos = encoded[:, 1], encoded[:, 0]
    if swap:
        sin, cos = cos, sin
    doubled = np.arctan(sin / cos) if arctan else np.arctan2(sin, cos)
    if degrees:
        doubled = np.degrees(doubled)
    if wrap_first:
        return (doubled % 180) / 2
    angles = doubled / 2 if halve else doubled
    return angles % 180 if wrap else angles


def _block_number(name):
    return int(name.split("_")[0].replace("block", ""))


def _top(layer_names, top_blocks, *, first=False, as_text=False, first_digit=False, minus_zero=False,
         one_more=False, keep_others=False, ordered=None):  # fmt: skip
    def block(name):
        if not name.startswith("block"):
            return None
        if as_text:
            return name.split("_")[0][5:]
        if first_digit:
            return int(name[5])
        return _block_number(name)

    blocks = sorted({block(n) for n in layer_names if block(n) is not None})
    if first:
        chosen = blocks[:top_blocks]
    elif minus_zero:
        chosen = blocks[-top_blocks:]
    elif one_more:
        chosen = blocks[len(blocks) - top_blocks - 1 :]
    else:
        chosen = blocks[len(blocks) - top_blocks :]
    result = [n for n in layer_names if block(n) in chosen or (keep_others and block(n) is None)]
    return ordered(result) if ordered else result


def _dead(inputs_of, outputs, *, steps=None, skip_outputs=False, keep_inputs_alive=False):
    used = set() if skip_outputs else set(outputs)
    todo = [i for o in outputs for i in inputs_of.get(o, [])] if skip_outputs else list(outputs)
    if skip_outputs:
        used.update(todo)
    level = 0
    while todo and (steps is None or level < steps):
        nxt = []
        for name in todo:
            for parent in inputs_of.get(name, []):
                if parent not in used:
                    used.add(parent)
                    nxt.append(parent)
        todo, level = nxt, level + 1
    dead = set(inputs_of) - used
    if keep_inputs_alive:
        dead -= {n for n, parents in inputs_of.items() if not parents}
    return dead



def _correlate_vectorised(image, kernel, flip=False):
    k = kernel[::-1, ::-1] if flip else kernel
    windows = np.lib.stride_tricks.sliding_window_view(image, k.shape)
    return (windows * k).sum(axis=(2, 3))


def _correlate_transposed_loops(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[1] - kw + 1, image.shape[0] - kh + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[j : j + kh, i : i + kw] * kernel)
    return out


def _pool_reshape(f, size, reduce=np.max):
    h, w = f.shape[0] // size, f.shape[1] // size
    return reduce(f[: h * size, : w * size].reshape(h, size, w, size), axis=(1, 3))


def _pool_reshape_wrong_axes(f, size):
    h, w = f.shape[0] // size, f.shape[1] // size
    return f[: h * size, : w * size].reshape(h, w, size, size).max(axis=(2, 3))


def _same_size_loop(n, s):
    count, position = 0, 0
    while position < n - 1:  # stops one window short when the last one starts at n - 1
        count += 1
        position += s
    return count


def _receptive_field_product(layers):
    field = 1
    for k, s in layers:
        field = field * s + (k - 1)
    return field


def _receptive_field_reversed(layers):
    field = 1
    for k, s in reversed(layers):
        field = (field - 1) * s + k
    return field if layers else 1


def _confusion_np_histogram(y_true, y_pred, k):
    counts, _, _ = np.histogram2d(y_true, y_pred, bins=k)
    return counts


def _confusion_counter(y_true, y_pred, k):
    from collections import Counter

    pairs = Counter(zip(y_pred, y_true))
    return np.array([[pairs[(i, j)] for j in range(k)] for i in range(k)])


def _precision_recall_add_one(matrix):
    hits = np.diag(matrix)
    return hits / (matrix.sum(axis=0) + 1), hits / (matrix.sum(axis=1) + 1)


def _precision_recall_epsilon(matrix):
    hits = np.diag(matrix).astype(float)
    return hits / (matrix.sum(axis=1) + 1e-12), hits / (matrix.sum(axis=0) + 1e-12)


def _huber_pieces_swapped(errors, delta):
    a = np.abs(errors)
    return np.where(a <= delta, delta * (a - 0.5 * delta), 0.5 * errors**2)


def _huber_sum(errors, delta):
    return float(np.sum(np.where(np.abs(errors) <= delta, 0.5 * errors**2, delta * (np.abs(errors) - 0.5 * delta))))


def _unfreeze_count_layers(names, top):
    block_layers = [n for n in names if n.startswith("block")]
    return block_layers[len(block_layers) - 7 * top :] if top else []


def _unfreeze_last_names(names, top):
    return names[-top:] if top else []


def _dead_without_outputs_walk(inputs_of, outputs):
    used = set(outputs)
    for name in outputs:
        used.update(inputs_of[name])
    for name in list(used):
        used.update(inputs_of.get(name, []))
    return set(inputs_of) - used


def _dead_list_sorted(inputs_of, outputs):
    needed, todo = set(), list(outputs)
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(inputs_of.get(name, []))
    return sorted(set(inputs_of) - needed - {"x", "image"})


NAMED_MISTAKES = [
    # 01: 1 cross-correlation
    ("nb01", 1, lambda image, kernel: _loops_correlate(image, kernel, flip=True), "flipped the kernel"),
    ("nb01", 1, lambda image, kernel: _loops_correlate(image, kernel, pad=True), "padded the image"),
    ("nb01", 1, lambda image, kernel: _loops_correlate(image, kernel, stop_early=True), "stop one position early"),
    ("nb01", 1, _correlate_swapped_sides, "kh, kw = kernel.shape"),
    ("nb01", 1, lambda image, kernel: _loops_correlate(image, kernel, combine=lambda p, k: p.sum()), "without weighting"),
    ("nb01", 1, lambda image, kernel: _loops_correlate(image, kernel, combine=lambda p, k: (p * k).mean()), "np.sum, not np.mean"),
    ("nb01", 1, lambda image, kernel: _loops_correlate(image, kernel, combine=lambda p, k: np.sum(p @ k)), "matrix product"),
    ("nb01", 1, lambda image, kernel: _loops_correlate(image, kernel, out=lambda img, shape: np.zeros(shape, img.dtype)),
     "integer type"),
    ("nb01", 1, lambda image, kernel: _loops_correlate(image, kernel).T, "output is transposed"),
    ("nb01", 1, lambda image, kernel: _loops_correlate(image, kernel).astype(int), "whole numbers"),
    # 01: 2 max pooling
    ("nb01", 2, lambda f, size: _pool(f, size, reduce=np.mean), "averaged each window"),
    ("nb01", 2, lambda f, size: _pool(f, size, reduce=np.min), "smallest value"),
    ("nb01", 2, lambda f, size: _pool(f, size, ceil=True), "partial windows"),
    ("nb01", 2, lambda f, size: _pool(f, size, step=1), "one pixel at a time"),
    ("nb01", 2, lambda f, size: _pool(f, size, start_at_index=True), "starts at row i * size"),
    ("nb01", 2, lambda f, size: _pool(f, size, window=2), "a window of 2 whatever"),
    ("nb01", 2, lambda f, size: _pool(f, size).T, "output is transposed"),
    ("nb01", 2, lambda f, s: f[: f.shape[0] // s * s, : f.shape[1] // s * s].reshape(
        f.shape[0] // s, f.shape[1] // s, s, s).max(axis=(2, 3)), "mixes pixels of different windows"),
    # 01: 3 receptive field of stacked convolutions
    ("nb01", 3, lambda n, k: n * k, "not kernel_size: neighbouring"),
    ("nb01", 3, lambda n, k: k**n, "not multiplicatively"),
    ("nb01", 3, lambda n, k: n * (k - 1), "start from 1"),
    ("nb01", 3, lambda n, k: 1 + (n - 1) * (k - 1), "the first one too"),
    ("nb01", 3, lambda n, k: k + n * (k - 1), "counted the first layer twice"),
    ("nb01", 3, lambda n, k: 1 + k * (n - 1), "the other way round"),
    # 01: 4 a digit classifier
    ("nb01", 4, lambda: None, "without `return model`"),  # also what `return model.compile(...)` gives
    ("nb01", 4, lambda: _digit_model(*_conv_block(), _dense(), input_shape=(8, 8)), "keras.Input(shape=(8, 8, 1))"),
    ("nb01", 4, lambda: _digit_model(*_conv_block(), _dense(1)), "one probability per digit"),
    ("nb01", 4, lambda: _digit_model(__import__("keras").layers.Conv2D(8, 3, activation="relu"), _dense()),
     "Dense works on the last axis only"),
    ("nb01", 4, lambda: _digit_model(__import__("keras").layers.Flatten(), _dense()), "no Conv2D layer"),
    ("nb01", 4, lambda: _digit_model(*_conv_block(), _dense(activation=None)), "not probabilities"),
    ("nb01", 4, lambda: _digit_model(*_conv_block(), _dense(256, "relu"), _dense()), "stay under 20,000"),
    ("nb01", 4, lambda: _digit_model(*_conv_block(), _dense(), compile=False), "not compiled"),
    ("nb01", 4, lambda: _digit_model(*_conv_block(), _dense(), loss="categorical_crossentropy"), "one-hot"),
    ("nb01", 4, lambda: _digit_model(*_conv_block(), _dense(), loss="mse"), "found loss 'mse'"),
    ("nb01", 4, lambda: _digit_model(*_conv_block(), _dense(), loss=__import__("keras").losses.SparseCategoricalCrossentropy(
        from_logits=True)), "from_logits=True"),
    # 02: 1 conv output size
    ("nb02", 1, lambda n, k, s, p: (n + 2 * p - k) / s + 1, "divide with //"),
    ("nb02", 1, lambda n, k, s, p: math.ceil((n + 2 * p - k) / s) + 1, "round down, not up"),
    ("nb02", 1, lambda n, k, s, p: round((n + 2 * p - k) / s) + 1, "round() goes to the nearest"),
    ("nb02", 1, lambda n, k, s, p: (n + 2 * p - k) // s, "first window position counts"),
    ("nb02", 1, lambda n, k, s, p: (n + 2 * p - k + 1) // s, "goes after the division"),
    ("nb02", 1, lambda n, k, s, p: (n + p - k) // s + 1, "on both sides"),
    ("nb02", 1, lambda n, k, s, p: (n - k) // s + 1, "left out the padding"),
    ("nb02", 1, lambda n, k, s, p: (n + 2 * p - s) // k + 1, "the other way round"),
    ("nb02", 1, lambda n, k, s, p: (n - 2 * p - k) // s + 1, "padding adds to the input"),
    ("nb02", 1, lambda n, k, s, p: (n + 2 * p) // s, "needs kernel_size pixels"),
    # 02: 2 'same' output size
    ("nb02", 2, lambda n, s: n // s, "that is floor"),
    ("nb02", 2, lambda n, s: n, "does not keep the size"),
    ("nb02", 2, lambda n, s: n / s, "is a fraction"),
    ("nb02", 2, lambda n, s: round(n / s), "round() goes to the nearest"),
    ("nb02", 2, lambda n, s: int(n / s) + 1, "one too many"),
    ("nb02", 2, lambda n, s: (n + 1) // s, "(n + s - 1) // s"),
    # 02: 3 Conv2D parameters
    ("nb02", 3, lambda k, c, f: k * k * c * f, "left out the biases"),
    ("nb02", 3, lambda k, c, f: k * k * f + f, "multiply by in_channels"),
    ("nb02", 3, lambda k, c, f: k * c * f + f, "k * k weights"),
    ("nb02", 3, lambda k, c, f: k * k * c * f + c, "not per input channel"),
    ("nb02", 3, lambda k, c, f: k * k * c * f + 1, "not one for the whole layer"),
    ("nb02", 3, lambda k, c, f: (k * k + 1) * c * f, "one bias in total"),
    ("nb02", 3, lambda k, c, f: (k * k * c + 1) * f + f, "biases twice"),
    ("nb02", 3, lambda k, c, f: (k * k + c) * f + f, "do not add them"),
    # 02: 4 Dense parameters
    ("nb02", 4, lambda n, u: n * u, "left out the biases"),
    ("nb02", 4, lambda n, u: n * u + n, "not per input feature"),
    ("nb02", 4, lambda n, u: n * u + 1, "not one for the whole layer"),
    ("nb02", 4, lambda n, u: (n + 1) * (u + 1), "only the units have biases"),
    ("nb02", 4, lambda n, u: n + u, "multiply, in_features * units"),
    # 02: 5 SeparableConv2D parameters
    ("nb02", 5, lambda k, c, f: k * k * c * f + f, "that is a standard Conv2D"),
    ("nb02", 5, lambda k, c, f: k * k * c + c + c * f + f, "single bias vector"),
    ("nb02", 5, lambda k, c, f: k * k * c + c * f, "left out the pointwise biases"),
    ("nb02", 5, lambda k, c, f: c * f + f, "only the pointwise 1x1 step"),
    ("nb02", 5, lambda k, c, f: k * k * c * f + c * f + f, "not per filter"),
    ("nb02", 5, lambda k, c, f: k * c + c * f + f, "the depthwise kernel is k x k"),
    ("nb02", 5, lambda k, c, f: k * k * c + c * f + c, "pointwise step has one bias per filter"),
    ("nb02", 5, lambda k, c, f: k * k + c * f + f, "one k x k kernel for each input channel"),
    # 02: 6 receptive field of a stack
    ("nb02", 6, lambda layers: _field(layers, no_jump=True), "ignores the strides"),
    ("nb02", 6, lambda layers: _field(layers, jump_first=True), "does not widen its own window"),
    ("nb02", 6, lambda layers: _field(layers, widen_by_kernel=True), "kernel_size - 1 jumps"),
    ("nb02", 6, lambda layers: _field(layers, start=0), "not 0"),
    ("nb02", 6, lambda layers: _field(layers, jump_by_kernel=True), "not its kernel size"),
    ("nb02", 6, _field_from_first, "empty stack"),
    ("nb02", 6, lambda layers: _field_popping(layers), "in place"),
    # 02: 7 model.summary()
    ("nb02", 7, _summary_rows(r1params=3 * 3 * 3 * 16), "biases of the first Conv2D"),
    ("nb02", 7, _summary_rows(r1shape=(30, 30, 16)), "padding='same' keeps"),
    ("nb02", 7, _summary_rows(r2shape=(32, 32, 16)), "halves the height and width: 32 -> 16"),
    ("nb02", 7, _summary_rows(r2shape=(16, 16, 32)), "keeps the number of channels"),
    ("nb02", 7, _summary_rows(r3shape=(16, 16, 32)), "default padding='valid'"),
    ("nb02", 7, _summary_rows(r3params=3 * 3 * 16 * 32), "biases of the second Conv2D"),
    ("nb02", 7, _summary_rows(r4params=64), "trainable, but counted"),
    ("nb02", 7, _summary_rows(r5params=3 * 3 * 32 + 32 + 32 * 64 + 64), "depthwise step of SeparableConv2D has no bias"),
    ("nb02", 7, _summary_rows(r5params=3 * 3 * 32 * 64 + 64), "standard Conv2D's count"),
    ("nb02", 7, _summary_rows(r5shape=(14, 14, 64)), "strides=2 halves"),
    ("nb02", 7, _summary_rows(r5shape=(6, 6, 64)), "is the 'valid' formula"),
    ("nb02", 7, _summary_rows(r6shape=(1, 1, 64)), "drops the height and width axes"),
    ("nb02", 7, _summary_rows(r7params=7 * 7 * 64 * 10 + 10), "not a flattened 7 x 7 x 64"),
    ("nb02", 7, lambda: [((None, 32, 32, 16), 448)] + _summary_rows()()[1:], "batch axis"),
    ("nb02", 7, lambda: [((32, 32, 3), 0)] + _summary_rows()(), "keras.Input is not a layer"),
    # 03: 1 confusion matrix
    ("nb03", 1, lambda t, p, k: _confusion_loop(t, p, k, transpose=True), "transposed"),
    ("nb03", 1, _confusion_fancy, "np.add.at"),
    ("nb03", 1, lambda t, p, k: _confusion_loop(t, p, k, size=max(max(t), max(p)) + 1), "sized the matrix from the labels"),
    ("nb03", 1, lambda t, p, k: _confusion_loop(t, p, k) / _confusion_loop(t, p, k).sum(axis=1, keepdims=True).clip(1),
     "not fractions"),
    ("nb03", 1, lambda t, p, k: np.bincount(np.asarray(t) * k + np.asarray(p)).reshape(k, k), "minlength"),
    # 03: 2 precision and recall
    ("nb03", 2, lambda m: _pr(m, swap=True), "swapped"),
    ("nb03", 2, lambda m: _pr(m, nan=True), "returned NaN"),
    ("nb03", 2, lambda m: _pr(m, by_total=True), "number of all samples"),
    ("nb03", 2, lambda m: _pr(m, floor=True), "floor division"),
    ("nb03", 2, lambda m: (np.diag(m) / (m.sum(axis=0) + 1), np.diag(m) / (m.sum(axis=1) + 1)), "adding 1 to the sums"),
    ("nb03", 2, lambda m: (np.trace(m) / m.sum(), np.trace(m) / m.sum()), "the accuracy"),
    ("nb03", 2, lambda m: tuple(np.mean(v) for v in _pr(m)), "averaged over the classes"),
    # 03: 3 Huber
    ("nb03", 3, lambda e, d: _huber_loop(e, d, square=1.0), "not error**2"),
    ("nb03", 3, lambda e, d: _huber_loop(e, d, linear=lambda e, d: d * abs(e)), "without the - 0.5 * delta"),
    ("nb03", 3, lambda e, d: _huber_loop(e, d, linear=lambda e, d: abs(e) - 0.5 * d), "multiplied by delta"),
    ("nb03", 3, lambda e, d: _huber_loop(e, d, linear=lambda e, d: d * (e - 0.5 * d)), "negative loss"),
    ("nb03", 3, lambda e, d: np.where(e <= d, 0.5 * e**2, d * (np.abs(e) - 0.5 * d)), "not the error itself"),
    ("nb03", 3, lambda e, d: 0.5 * np.asarray(e) ** 2, "not quadratically"),
    ("nb03", 3, lambda e, d: _huber_loop(e, d).mean(), "one number (a mean or a sum)"),
    ("nb03", 3, lambda e, d: np.array([d * (abs(x) - d / 2) if abs(x) <= d else x * x / 2 for x in e]), "pieces are swapped"),
    ("nb03", 3, lambda e, d: _huber_loop(e, d, linear=lambda e, d: d * abs(e) - 0.5 * d), "mind the parentheses"),
    # 03: 4 class weights
    ("nb03", 4, lambda y, k: _class_weights(y, k, lambda n, k, c, counts: 1 / c), "not 1 / count"),
    ("nb03", 4, lambda y, k: _class_weights(y, k, lambda n, k, c, counts: n / c), "not count alone"),
    ("nb03", 4, lambda y, k: _class_weights(y, k, lambda n, k, c, counts: k * c / n), "upside down"),
    ("nb03", 4, lambda y, k: _class_weights(y, k, lambda n, k, c, counts: counts.max() / c), "largest class"),
    ("nb03", 4, lambda y, k: {c: w / sum(_class_weights(y, k, lambda n, k, c, _: n / (k * c)).values())
                              for c, w in _class_weights(y, k, lambda n, k, c, _: n / (k * c)).items()}, "sum to 1"),
    ("nb03", 4, lambda y, k: [len(y) / (k * c) for c in np.bincount(y, minlength=k)], "not a list"),
    # 04: 1 MAE in original units
    ("nb04", 1, lambda y, p, s: np.mean(np.abs(p[:, 0] - s.transform(y))), "standardised units"),
    ("nb04", 1, lambda y, p, s: np.mean(np.abs(p[:, 0] - s.transform(y))) * s.scale_ + s.mean_, "never add the mean"),
    ("nb04", 1, lambda y, p, s: np.mean(np.abs(s.inverse_transform(p) - y)), "broadcasts"),
    ("nb04", 1, lambda y, p, s: np.sqrt(np.mean((s.inverse_transform(p)[:, 0] - y) ** 2)), "root mean squared"),
    ("nb04", 1, lambda y, p, s: np.mean(s.inverse_transform(p)[:, 0] - y), "signed errors"),
    ("nb04", 1, lambda y, p, s: np.mean((s.inverse_transform(p)[:, 0] - y) ** 2), "that is the mean squared error"),
    ("nb04", 1, lambda y, p, s: np.median(np.abs(s.inverse_transform(p)[:, 0] - y)), "median absolute error"),
    ("nb04", 1, lambda y, p, s: np.mean(np.abs(s.transform(p)[:, 0] - y)), "scaler.transform standardises"),
    ("nb04", 1, lambda y, p, s: np.mean(np.abs(s.inverse_transform(p)[:, 0] - s.inverse_transform(y))),
     "original units already"),
    # 04: 3 deployable model
    ("nb04", 3, lambda core, mean, variance: _deployable(core, mean, variance, before=False), "feeds raw 0-255 pixels"),
    ("nb04", 3, lambda core, mean, variance: _deployable(core, mean, variance, before=False, after=True),
     "comes after the core model"),
    ("nb04", 3, lambda core, mean, variance: _deployable(core, mean, variance, norm=False), "still standardised"),
    ("nb04", 3, lambda core, mean, variance: _deployable(core, mean, variance, invert=False), "standardises again"),
    ("nb04", 3, lambda core, mean, variance: _deployable(core, mean, variance, variance_given=np.sqrt),
     "passed the standard deviation"),
    ("nb04", 3, lambda core, mean, variance: _deployable(core, mean, variance, scale=1 / 127.5, offset=-1.0),
     "without an offset"),
    ("nb04", 3, lambda core, mean, variance: _deployable(core, mean, variance, variance_given=np.square),
     "not by the variance"),
    ("nb04", 3, lambda core, mean, variance: None, "without `return`"),
    ("nb04", 3, lambda core, mean, variance: core, "the core model as it is"),
]  # fmt: skip


NAMED_MISTAKES += [
    # 05: 1 plateau loss
    ("nb05", 1, lambda y: np.var(y, ddof=1), "ddof=1"),
    ("nb05", 1, lambda y: np.std(y), "the standard deviation"),
    ("nb05", 1, lambda y: np.mean(np.asarray(y) ** 2), "always predicting 0"),
    ("nb05", 1, lambda y: np.mean(np.abs(y - np.median(y))), "best mean absolute error"),
    ("nb05", 1, lambda y: np.mean(y), "the best constant itself"),
    ("nb05", 1, lambda y: np.mean(y - np.mean(y)) ** 2, "square each difference"),
    ("nb05", 1, lambda y: np.mean((y - np.median(y)) ** 2), "not the median"),
    ("nb05", 1, lambda y: sum((v - np.mean(y)) ** 2 for v in y), "summed the squared errors"),
    ("nb05", 1, lambda y: np.mean(np.abs(y - np.mean(y))), "mean absolute deviation"),
    # 05: 3 circular error
    ("nb05", 3, lambda p, t: np.abs(np.asarray(p) - np.asarray(t)), "plain difference"),
    ("nb05", 3, lambda p, t: np.minimum(np.abs(np.subtract(p, t)) % 360, 360 - np.abs(np.subtract(p, t)) % 360),
     "period of 360"),
    ("nb05", 3, lambda p, t: np.minimum(np.abs(np.subtract(p, t)), 180 - np.abs(np.subtract(p, t))), "angles may lie outside"),
    ("nb05", 3, lambda p, t: np.abs(np.subtract(p, t)) % 90, "% 90 is not the distance"),
    ("nb05", 3, lambda p, t: np.minimum(np.abs(np.subtract(p, t)) % 180, np.pi - np.abs(np.subtract(p, t)) % 180),
     "not π - d"),
    ("nb05", 3, lambda p, t: np.minimum(np.subtract(p, t), 180 - np.subtract(p, t)), "take the absolute difference"),
    ("nb05", 3, lambda p, t: np.abs(np.subtract(p, t)) % 180, "can still be the long way round"),
    ("nb05", 3, lambda p, t: _in_place(p, lambda a: (a.__isub__(t), np.abs(a, out=a), a.__imod__(180)))
     if isinstance(p, np.ndarray) else np.minimum(np.abs(np.subtract(p, t)) % 180, 180 - np.abs(np.subtract(p, t)) % 180),
     "in place"),
    # 05: 4 encode
    ("nb05", 4, lambda a: np.stack([np.cos(np.radians(a)), np.sin(np.radians(a))], axis=1), "not 2θ"),
    ("nb05", 4, lambda a: np.column_stack([np.sin(2 * np.radians(a)), np.cos(2 * np.radians(a))]), "columns are swapped"),
    ("nb05", 4, lambda a: np.stack([np.cos(2 * np.asarray(a)), np.sin(2 * np.asarray(a))], axis=1), "expect radians"),
    ("nb05", 4, lambda a: np.array([np.cos(2 * np.radians(a)), np.sin(2 * np.radians(a))]), "one row (cos 2θ, sin 2θ) per angle"),
    ("nb05", 4, lambda a: np.stack([np.cos(np.radians(a) / 2), np.sin(np.radians(a) / 2)], axis=1), "do not halve"),
    ("nb05", 4, lambda a: np.stack([2 * np.cos(np.radians(a)), 2 * np.sin(np.radians(a))], axis=1), "not the result"),
    ("nb05", 4, lambda a: np.stack([np.cos(np.radians(2 * a)), np.sin(np.radians(2 * a))], axis=1), "repeats the list"),
    # 05: 5 decode
    ("nb05", 5, lambda e: np.degrees(np.arctan2(e[:, 1], e[:, 0])) % 360, "you returned 2θ"),
    ("nb05", 5, lambda e: _decode(e, wrap=False), "add 180 to negative"),
    ("nb05", 5, lambda e: _decode(e, arctan=True), "cannot tell"),
    ("nb05", 5, lambda e: _decode(e, swap=True), "takes the sine first"),
    ("nb05", 5, lambda e: _decode(e, degrees=False), "returns radians"),
    ("nb05", 5, lambda e: _decode(e, wrap_first=True), "halve first"),
    # 06: 1 epochs for a budget
    ("nb06", 1, lambda n, b, s: s // math.ceil(n / b), "rounding down"),
    ("nb06", 1, lambda n, b, s: s / math.ceil(n / b), "is a fraction"),
    ("nb06", 1, lambda n, b, s: math.ceil(s / (n // b)), "drops the last, smaller batch"),
    ("nb06", 1, lambda n, b, s: math.ceil(s * b / n), "fractional number of batches"),
    ("nb06", 1, lambda n, b, s: s, "not epochs"),
    ("nb06", 1, lambda n, b, s: s // math.ceil(n / b) + 1, "one epoch too many"),
    ("nb06", 1, lambda n, b, s: math.ceil(s / b), "not by the batch size"),
    ("nb06", 1, lambda n, b, s: round(s / math.ceil(n / b)), "round() goes to the nearest"),
    # 06: 2 top blocks
    ("nb06", 2, lambda names, top: _top(names, top, first=True), "took the first blocks"),
    ("nb06", 2, lambda names, top: _top(names, top, as_text=True), "as text"),
    ("nb06", 2, lambda names, top: _top(names, top, first_digit=True), "only the first digit"),
    ("nb06", 2, lambda names, top: _top(names, top, minus_zero=True), "-0 is 0"),
    ("nb06", 2, lambda names, top: _top(names, top, one_more=True), "one block too many"),
    ("nb06", 2, lambda names, top: _top(names, top, keep_others=True), "belong to no block"),
    ("nb06", 2, lambda names, top: _top(names, top, ordered=sorted), "keep the order"),
    ("nb06", 2, lambda names, top: [n for n in names if "_" in n and n.startswith("block")][-7 * top:] if top else [],
     "same number of layers"),
    # 06: 5 batch norm in inference mode
    ("nb06", 5, lambda x, m, v, g, b, e: g * (x - x.mean(axis=tuple(range(x.ndim - 1))))
     / np.sqrt(x.var(axis=tuple(range(x.ndim - 1))) + e) + b, "training mode"),
    ("nb06", 5, lambda x, m, v, g, b, e: g * (x - m) / (v + e) + b, "divided by the variance"),
    ("nb06", 5, lambda x, m, v, g, b, e: g * (x - m) / np.sqrt(v) + b, "left out epsilon"),
    ("nb06", 5, lambda x, m, v, g, b, e: g * (x - m) / (np.sqrt(v) + e) + b, "goes inside the square root"),
    ("nb06", 5, lambda x, m, v, g, b, e: b * (x - m) / np.sqrt(v + e) + g, "gamma and beta are swapped"),
    ("nb06", 5, lambda x, m, v, g, b, e: g * ((x - m) / np.sqrt(v + e) + b), "add beta after scaling"),
    ("nb06", 5, lambda x, m, v, g, b, e: (x - m) / np.sqrt(v + e), "left out gamma and beta"),
    ("nb06", 5, lambda x, m, v, g, b, e: g * (x - m) * np.sqrt(v + e) + b, "do not multiply"),
    # 06: 6 MobileNetV2 scaling
    ("nb06", 6, lambda pixels: np.asarray(pixels) / 255.0, "scaled to [0, 1]"),
    ("nb06", 6, lambda pixels: np.asarray(pixels) / 127.5, "gives [0, 2]"),
    ("nb06", 6, lambda pixels: (np.asarray(pixels) - 127.5) / 255, "[-0.5, 0.5]"),
    ("nb06", 6, lambda pixels: np.asarray(pixels) / 127.5 + 1, "do not add it"),
    ("nb06", 6, lambda pixels: np.asarray(pixels) // 127.5 - 1, "floor division"),
    ("nb06", 6, lambda pixels: pixels * 2 / 255 - 1, "overflows"),
    ("nb06", 6, lambda pixels: pixels / 127.5 - 1, "a list has no arithmetic"),
    ("nb06", 6, lambda pixels: 1 - np.asarray(pixels) / 127.5, "sign is flipped"),
    ("nb06", 6, lambda pixels: _in_place(pixels, lambda a: (a.__itruediv__(127.5), a.__isub__(1))), "in place"),
    # 07: 2 total loss
    ("nb07", 2, lambda losses, weights: sum(losses.values()), "weights are missing: multiply"),
    ("nb07", 2, lambda losses, weights: sum(weights[k] * losses[k] for k in losses) / len(losses), "does not average"),
    ("nb07", 2, lambda losses, weights: sum(w * v for w, v in zip(weights.values(), losses.values())), "same name"),
    ("nb07", 2, lambda losses, weights: sum(weights[k] * losses[k] for k in losses) / sum(weights.values()),
     "sum of the weights"),
    ("nb07", 2, lambda losses, weights: sum(weights.values()) * sum(losses.values()), "not by all of them"),
    ("nb07", 2, lambda losses, weights: np.mean(list(losses.values())), "adds, not averages"),
    ("nb07", 2, lambda losses, weights: sum(losses[k] + weights[k] for k in losses), "do not add the weight"),
    # 07: 4 parameter counts
    ("nb07", 4, lambda b, d, units: (b + sum(d * u for u in units), sum(b + d * u for u in units)), "has a bias too"),
    ("nb07", 4, lambda b, d, units: (b + sum(d * u + 1 for u in units), sum(b + d * u + 1 for u in units)),
     "not one bias per head"),
    ("nb07", 4, lambda b, d, units: (sum(b + (d + 1) * u for u in units),) * 2, "backbone once"),
    ("nb07", 4, lambda b, d, units: (b + sum((d + 1) * u for u in units),) * 2, "own backbone"),
    ("nb07", 4, lambda b, d, units: (sum(b + (d + 1) * u for u in units), b + sum((d + 1) * u for u in units)),
     "the shared model first"),
    ("nb07", 4, lambda b, d, units: (b + sum(d + 1 + u for u in units), sum(b + d + 1 + u for u in units)), "not a sum"),
    # 07: 5 dead layers
    ("nb07", 5, lambda inputs_of, outputs: {n for n in inputs_of if all(n not in v for v in inputs_of.values())}
     - set(outputs), "walk back from the outputs"),
    ("nb07", 5, lambda inputs_of, outputs: set(inputs_of) - _dead(inputs_of, outputs), "DO feed an output"),
    ("nb07", 5, lambda inputs_of, outputs: _dead(inputs_of, outputs, steps=1), "fixed number of steps"),
    ("nb07", 5, lambda inputs_of, outputs: _dead(inputs_of, outputs, skip_outputs=True), "outputs themselves"),
    ("nb07", 5, lambda inputs_of, outputs: _dead(inputs_of, outputs, keep_inputs_alive=True), "input layer can be dead"),
    ("nb07", 5, lambda inputs_of, outputs: _pop_walk(inputs_of, outputs), "in place"),
    # found by writing our own wrong answers (below): each has a named mistake of its own now
    ("nb01", 1, lambda image, kernel: _loops_correlate(image, kernel, combine=lambda p, k: np.sum(p * k[::-1])), "upside down"),
    ("nb01", 2, lambda f, s: _pool_loops(f, s, np.sum), "summed each window"),
    ("nb01", 3, lambda n, k: 2 * n + 1, "3x3 kernels only"),
    ("nb02", 6, lambda layers: 1 + sum((k - 1) * s for k, s in layers), "not by its own stride"),
    ("nb02", 7, _summary_rows(r5params=3 * 3 * 32 * 64 + 32 * 64 + 64), "not one per filter"),
    ("nb03", 3, lambda e, d: np.where(np.abs(e) <= d, 0.5 * e**2, d * (np.abs(e) - d)), "not delta:"),
    ("nb04", 1, lambda y, p, s: np.abs(s.inverse_transform(p)[:, 0] - y).sum(), "summed the absolute errors"),
    ("nb04", 3, lambda core, mean, variance: _deployable_layers(core, mean, variance, rescale=255.0), "not Rescaling(255)"),
    ("nb06", 2, lambda names, top: _top_by_number(names, top, skip_pool=True), "pooling layer belongs"),
    ("nb05", 4, lambda a: np.stack([np.cos(2 * np.radians(a)), np.sin(2 * np.radians(a))], axis=-1).ravel(), "one row (cos 2θ, sin 2θ) per angle"),
    ("nb06", 1, lambda n, b, s: math.ceil(s / math.ceil(n / b)) + 1, "already rounds up"),
    ("nb03", 4, lambda y, k: {c: 1 - n / len(y) for c, n in enumerate(np.bincount(y, minlength=k))}, "1 - frequency"),
    ("nb01", 2, lambda f, s: _pool_reshape(f, s, np.median), "median"),
    ("nb01", 3, lambda n, k: (k - 1) ** n + 1, "not multiplicatively"),
    ("nb02", 6, _receptive_field_product, "walking from the output back"),
    ("nb02", 6, lambda layers: _field(layers[:-1]) if layers else 1, "last layer widens"),
    ("nb03", 1, _confusion_np_histogram, "np.histogram2d"),
    ("nb03", 2, lambda m: [np.diag(m) / np.maximum(m.sum(axis=0), 1)] * 2, "precision twice"),
    ("nb03", 3, lambda e, d: np.where(np.abs(e) <= d, 0.5 * e**2, np.abs(e)), "not |error|"),
    ("nb03", 4, lambda y, k: {c: (len(y) / (k * n)) ** 0.5 for c, n in enumerate(np.bincount(y, minlength=k))}, "square root"),
    ("nb04", 3, lambda core, mean, variance: _deployable(core, mean, variance, scale=1 / 256), "exactly 1"),
    ("nb05", 3, lambda p, t: np.min([np.abs(np.subtract(p, t)) % 180, 180 - np.abs(np.subtract(p, t)) % 180]), "np.min reduces"),
    ("nb05", 5, lambda e: np.degrees(np.arctan2(e[:, 1], e[:, 0])) / 2 + 90, "adding 90"),
    ("nb05", 5, lambda e: np.abs(np.degrees(np.arctan2(e[:, 1], e[:, 0])) / 2), "abs mirrors"),
    ("nb05", 5, lambda e: np.degrees(np.arccos(e[:, 0])) / 2, "arccos"),
    ("nb06", 1, lambda n, b, s: -(-s // (n // b + 1)), "one step too many"),
    ("nb06", 2, _unfreeze_last_names, "counts blocks, not layers"),
    ("nb06", 2, lambda names, top: [n for n in names if n.startswith(f"block{top}")], "not a block number"),
    ("nb06", 2, lambda names, top: [n for n in names if n.startswith("block") and _block_number(n) > 3 - top],
     "always have 3 blocks"),
    ("nb06", 5, lambda x, m, v, g, b, e: g * (x - m) / np.sqrt(v + e) - b, "do not subtract it"),
    ("nb06", 5, lambda x, m, v, g, b, e: (g * x - m) / np.sqrt(v + e) + b, "before scaling"),
    ("nb06", 6, lambda pixels: (np.asarray(pixels) - 128) / 128, "not 128"),
    ("nb07", 4, lambda b, d, units: (b + sum((d + 1) * u for u in units), b * sum(units) + (d + 1) * sum(units)), "not one per output unit"),
    ("nb07", 5, _dead_without_outputs_walk, "fixed number of steps"),
]  # fmt: skip


# --- Keras exercises of notebook 03: heads for four targets, and a regression head ---------------

_HEAD_SPEC = {
    "classes": ("softmax", "sparse_categorical_crossentropy", ["accuracy"]),
    "labels": ("sigmoid", "binary_crossentropy", ["binary_accuracy"]),
    "score": ("sigmoid", "mse", ["mae"]),
    "quantity": (None, "mse", ["mae"]),
}


def _head(task_changes=None, *, units=None, functional=False, softmax_layer=False, new_input=False):
    """A build_head_model answer: the reference, with per-task changes (activation, loss, metrics)."""

    def build(backbone, task, num_outputs):
        import keras

        activation, loss, metrics = _HEAD_SPEC[task]
        if task_changes and task in task_changes:
            activation, loss, metrics = task_changes[task](activation, loss, metrics)
        count = units(task, num_outputs) if units else num_outputs
        if new_input:
            inputs = keras.Input(shape=(8, 8, 1))
            outputs = keras.layers.Dense(count, activation=activation)(keras.layers.Flatten()(inputs))
            model = keras.Model(inputs, outputs)
        elif functional:
            inputs = keras.Input(shape=(8, 8, 1))
            features = backbone(inputs)
            if softmax_layer and activation == "softmax":
                outputs = keras.layers.Softmax()(keras.layers.Dense(count)(features))
            else:
                outputs = keras.layers.Dense(count, activation=activation)(features)
            model = keras.Model(inputs, outputs)
        else:
            model = keras.Sequential([backbone, keras.layers.Dense(count, activation=activation)])
        model.compile(optimizer="adam", loss=loss, metrics=metrics)
        return model

    return build


def _loss_object(name, **options):
    import keras

    return {"sparse": keras.losses.SparseCategoricalCrossentropy, "binary": keras.losses.BinaryCrossentropy}[name](**options)


def _regression(*, take="backbone", activation=None, units=1, freeze=True, loss="mse", metrics=("mae",),
                optimizer=None, bias=True, functional=False):  # fmt: skip
    """A regression_model answer: the reference, with one thing changed."""

    def build(classifier, target_mean):
        import keras

        if take == "classifier":
            base = classifier
        elif take == "new":
            base = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(16, activation="relu")])
        else:
            base = classifier.layers[0]
        if freeze:
            base.trainable = False
        head = keras.layers.Dense(units, activation=activation,
                                  bias_initializer=keras.initializers.Constant(target_mean) if bias else "zeros")
        if functional:
            inputs = keras.Input(shape=(6,))
            model = keras.Model(inputs, head(base(inputs, training=False)))
        else:
            model = keras.Sequential([base, head])
        model.compile(optimizer=optimizer or keras.optimizers.Adam(3e-3), loss=loss, metrics=list(metrics))
        return model

    return build


NAMED_MISTAKES += [
    # 03: 5 heads for four targets
    ("nb03", 5, _head({"classes": lambda a, l, m: (a, _loss_object("sparse", from_logits=True), m)}),
     "applies softmax a second time"),
    ("nb03", 5, _head({"classes": lambda a, l, m: (None, l, m)}), "the outputs are logits (no activation)"),
    ("nb03", 5, _head({"classes": lambda a, l, m: ("sigmoid", l, m)}), "sigmoid scores each class on its own"),
    ("nb03", 5, _head({"classes": lambda a, l, m: (a, "categorical_crossentropy", m)}),
     "categorical_crossentropy wants one-hot labels"),
    ("nb03", 5, _head(units=lambda task, k: 1), "one score per class"),
    ("nb03", 5, _head({"labels": lambda a, l, m: ("softmax", l, m)}), "softmax makes the labels compete"),
    ("nb03", 5, _head({"labels": lambda a, l, m: ("softmax", "sparse_categorical_crossentropy", ["accuracy"])}),
     "assumes exactly one label per image"),
    ("nb03", 5, _head({"labels": lambda a, l, m: (a, _loss_object("binary", from_logits=True), m)}),
     "applies sigmoid a second time"),
    ("nb03", 5, _head({"score": lambda a, l, m: (None, l, m)}), "which can leave [0, 1]"),
    ("nb03", 5, _head({"quantity": lambda a, l, m: ("sigmoid", l, m)}), "bounds the output, but the quantity is unbounded"),
    ("nb03", 5, _head({"quantity": lambda a, l, m: ("relu", l, m)}), "relu cuts every negative prediction"),
    ("nb03", 5, _head({"quantity": lambda a, l, m: (a, l, ["accuracy"])}), "accuracy counts exact matches"),
    ("nb03", 5, _head({"quantity": lambda a, l, m: (a, "sparse_categorical_crossentropy", m)}), "is a classification loss"),
    ("nb03", 5, _head(new_input=True), "does not use the backbone it was given"),
    ("nb03", 5, lambda backbone, task, k: None, "without `return model`"),
    # 03: 6 a regression head on a classifier's backbone
    ("nb03", 6, _regression(take="classifier"), "sits on the classifier's class probabilities"),
    ("nb03", 6, _regression(take="new"), "does not reuse the classifier's backbone"),
    ("nb03", 6, _regression(activation="softmax"), "single unit softmax is always exactly 1"),
    ("nb03", 6, _regression(activation="sigmoid"), "which bounds or cuts the output"),
    ("nb03", 6, _regression(freeze=False), "only the head's 16 weights"),
    ("nb03", 6, _regression(metrics=("accuracy",)), "accuracy counts exact matches"),
    ("nb03", 6, _regression(loss="sparse_categorical_crossentropy"), "is a classification loss"),
    ("nb03", 6, _regression(optimizer="adam"), "the task asks for"),
    ("nb03", 6, _regression(bias=False), "bias starts at"),
    ("nb03", 6, _regression(units=3), "needs Dense(1)"),
]  # fmt: skip

OTHER_RIGHT_ANSWERS_KERAS = [
    ("nb03", 5, _head(functional=True, softmax_layer=True)),
    ("nb03", 5, _head({"classes": lambda a, l, m: (None, _loss_object("sparse", from_logits=True), m),
                       "labels": lambda a, l, m: (None, _loss_object("binary", from_logits=True), ["accuracy"]),
                       "score": lambda a, l, m: (__import__("tensorflow").nn.sigmoid, "binary_crossentropy", ["mae"]),
                       "quantity": lambda a, l, m: ("linear", __import__("keras").losses.Huber(), ["mae", "mse"])})),
    ("nb03", 5, _head({"classes": lambda a, l, m: (__import__("tensorflow").nn.softmax,
                                                   __import__("keras").losses.sparse_categorical_crossentropy,
                                                   [__import__("keras").metrics.SparseCategoricalAccuracy()]),
                       "quantity": lambda a, l, m: (None, "mae", [__import__("keras").metrics.RootMeanSquaredError()])})),
    ("nb03", 6, _regression(functional=True, loss="huber")),
    ("nb03", 6, _regression(loss=__import__("keras").losses.MeanAbsoluteError(), metrics=("mae", "mse"))),
]  # fmt: skip


# --- Keras exercises of notebooks 05-07 (issue 13) -----------------------------------------------

def _grad_norms(model, images, labels, *, loss="mse", reshape=True, of="loss", bias=False, norm=None):
    import tensorflow as tf

    layers = [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]
    y = np.reshape(labels, (-1, 1)) if reshape else np.asarray(labels)
    with tf.GradientTape(persistent=True) as tape:
        predictions = model(images, training=True)
        if of == "outputs":
            value = tf.reduce_sum(predictions)
        elif loss == "mae":
            value = tf.reduce_mean(tf.abs(predictions - y))
        elif loss == "sum":
            value = tf.reduce_sum(tf.square(predictions - y))
        else:
            value = tf.reduce_mean(tf.square(predictions - y))
    result = {}
    for layer in layers:
        g = tape.gradient(value, layer.kernel) if of != "weights" else layer.kernel
        if bias:
            g = tf.concat([tf.reshape(g, [-1]), tf.reshape(tape.gradient(value, layer.bias), [-1])], 0)
        result[layer.name] = float(norm(np.asarray(g)) if norm else tf.norm(g))
    return result


def _slope_model(*, hidden="relu", scale=True, units=2, out=None, loss="mean_squared_error", optimizer=None, size=None,
                 functional=False):
    import keras

    def build(image_size):
        shape = size or (image_size, image_size, 1)
        layers = [keras.layers.Rescaling(-1 / 255, offset=1.0)] if scale else []
        layers += [keras.layers.Conv2D(4, 4, activation=hidden), keras.layers.Flatten(),
                   keras.layers.Dense(64, activation=hidden), keras.layers.Dense(1000, activation=hidden),
                   keras.layers.Dense(50, activation=hidden), keras.layers.Dense(units, activation=out)]
        if functional:
            inputs = keras.Input(shape=shape)
            x = inputs
            for layer in layers:
                x = layer(x)
            model = keras.Model(inputs, x)
        else:
            model = keras.Sequential([keras.Input(shape=shape), *layers])
        model.compile(optimizer=optimizer() if optimizer else keras.optimizers.Adam(3e-3), loss=loss)
        return model

    return build


def _classifier(*, freeze=True, pool="avg", activation="softmax", loss="sparse_categorical_crossentropy", units=None,
                sequential=False, compile=True, learning_rate=1e-2):  # fmt: skip
    """A build_classifier answer: the reference with one thing changed."""

    def build(backbone, num_classes):
        import keras

        if freeze:
            backbone.trainable = False
        pooling = {"avg": keras.layers.GlobalAveragePooling2D, "max": keras.layers.GlobalMaxPooling2D,
                   "flatten": keras.layers.Flatten}[pool]  # fmt: skip
        dense = keras.layers.Dense(units or num_classes, activation=activation)
        if sequential:
            model = keras.Sequential([backbone, pooling(), dense])
        else:
            inputs = keras.Input(shape=backbone.input_shape[1:])
            model = keras.Model(inputs, dense(pooling()(backbone(inputs, training=False))))
        if compile:
            model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"])
        return model

    return build


def _fine_tuning(*, unfreeze_outer=True, skip_bn=True, only_top=True, recompile=True, rate=None, top=True):
    """A start_fine_tuning answer: the reference with one thing changed."""

    def tune(model, backbone, top_layers, learning_rate):
        import keras

        if unfreeze_outer:
            backbone.trainable = True
        for layer in backbone.layers:
            chosen = top and (layer.name in top_layers or not only_top)
            layer.trainable = chosen and not (skip_bn and isinstance(layer, keras.layers.BatchNormalization))
        if recompile:
            model.compile(optimizer=keras.optimizers.Adam(rate or learning_rate), loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])  # fmt: skip
        return model

    return tune


def _two_heads(*, names=("shape", "size"), units=None, size_units=1, shape_activation="softmax", size_activation=None,
               second_backbone=False, softmax_layer=False):  # fmt: skip
    """A build_two_heads answer: the reference with one thing changed."""

    def build(backbone, num_classes):
        import keras

        image = keras.Input(shape=backbone.input_shape[1:])
        features = backbone(image)
        other = keras.Sequential([keras.Input(shape=(32, 32, 3)), keras.layers.Conv2D(4, 3),
                                  keras.layers.GlobalAveragePooling2D()])(image) if second_backbone else features  # fmt: skip
        if softmax_layer:
            shape = keras.layers.Softmax(name=names[0])(keras.layers.Dense(units or num_classes)(features))
        else:
            shape = keras.layers.Dense(units or num_classes, activation=shape_activation, name=names[0])(features)
        size = keras.layers.Dense(size_units, activation=size_activation, name=names[1])(other)
        return keras.Model(image, {names[0]: shape, names[1]: size} if names[0] else [shape, size])

    return build


def _compile_heads(*, loss=None, weights="given", metrics=None, ret=True, as_list=False):
    """A compile_two_heads answer: the reference with one thing changed."""

    def compile_two_heads(model, loss_weights):
        import keras

        losses = loss or {"shape": "sparse_categorical_crossentropy", "size": "mse"}
        model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=losses,
                      loss_weights=loss_weights if weights == "given" else weights,
                      metrics=metrics or {"shape": ["accuracy"], "size": ["mae"]})  # fmt: skip
        return model if ret else None

    return compile_two_heads


NAMED_MISTAKES += [
    # 05: 2 gradient norm per layer
    ("nb05", 2, lambda m, x, y: _grad_norms(m, x, y, reshape=False), "broadcasts to an (N, N)"),
    ("nb05", 2, lambda m, x, y: _grad_norms(m, x, y, of="weights"), "norm of each kernel itself"),
    ("nb05", 2, lambda m, x, y: _grad_norms(m, x, y, loss="sum"), "summed the squared errors"),
    ("nb05", 2, lambda m, x, y: _grad_norms(m, x, y, bias=True), "kernel and the bias together"),
    ("nb05", 2, lambda m, x, y: _grad_norms(m, x, y, norm=lambda g: np.sum(g**2)), "that is the squared norm"),
    ("nb05", 2, lambda m, x, y: _grad_norms(m, x, y, norm=lambda g: np.abs(g).mean()), "mean absolute gradient"),
    ("nb05", 2, lambda m, x, y: _grad_norms(m, x, y, of="outputs"), "gradient of the model's outputs"),
    ("nb05", 2, lambda m, x, y: _grad_norms(m, x, y, loss="mae"), "gradient of the mean absolute error"),
    # 05: 6 repair the question's model
    ("nb05", 6, lambda image_size: None, "without `return model`"),
    ("nb05", 6, _slope_model(units=1), "wrong number of output units"),
    ("nb05", 6, _slope_model(out="sigmoid"), "cannot go below 0"),
    ("nb05", 6, _slope_model(hidden="sigmoid"), "saturate and pass almost no gradient"),
    ("nb05", 6, _slope_model(scale=False), "raw 0-255 pixels"),
    ("nb05", 6, _slope_model(loss="categorical_crossentropy"), "regression target"),
    ("nb05", 6, _slope_model(size=(32, 32)), "Conv2D needs height, width and channels"),
    ("nb05", 6, _slope_model(optimizer=lambda: __import__("keras").optimizers.SGD(0.001)), "SGD at this learning rate"),
    # 06: 3 a frozen backbone with a new head
    ("nb06", 3, lambda backbone, num_classes: None, "without `return model`"),
    ("nb06", 3, _classifier(freeze=False), "backbone is not frozen"),
    ("nb06", 3, _classifier(pool="flatten"), "GlobalAveragePooling2D() instead of Flatten()"),
    ("nb06", 3, _classifier(loss=__import__("keras").losses.SparseCategoricalCrossentropy(from_logits=True)),
     "applies softmax a second time"),
    ("nb06", 3, _classifier(activation=None), "outputs logits (no activation)"),
    ("nb06", 3, _classifier(units=1), "wrong number of output units"),
    ("nb06", 3, _classifier(loss="categorical_crossentropy"), "wants one-hot labels"),
    ("nb06", 3, _classifier(activation="sigmoid"), "ten exclusive classes"),
    ("nb06", 3, _classifier(compile=False), "not compiled"),
    ("nb06", 3, _classifier(learning_rate=1e-6), "held-out digits"),
    # 06: 4 unfreeze the top block and recompile
    ("nb06", 4, lambda model, backbone, top_layers, learning_rate: None, "without `return model`"),
    ("nb06", 4, _fine_tuning(recompile=False), "without compiling again"),
    ("nb06", 4, _fine_tuning(skip_bn=False), "BatchNormalization layers are trainable"),
    ("nb06", 4, _fine_tuning(only_top=False), "unfroze the whole backbone"),
    ("nb06", 4, _fine_tuning(only_top=False, top=False), "top block is still frozen"),
    ("nb06", 4, _fine_tuning(rate=1e-2), "lower rate it is given"),
    # 07: 1 one backbone, two named heads
    ("nb07", 1, lambda backbone, num_classes: None, "without `return model`"),
    ("nb07", 1, _two_heads(names=("dense_a", "dense_b")), "would not bind"),
    ("nb07", 1, _two_heads(units=3), "one probability per class"),
    ("nb07", 1, _two_heads(size_units=2), "one number per image"),
    ("nb07", 1, _two_heads(shape_activation=None), "it should give class probabilities"),
    ("nb07", 1, _two_heads(size_activation="sigmoid"), "a bounded activation"),
    ("nb07", 1, _two_heads(second_backbone=True), "Call the backbone once"),
    # 07: 3 compile with dict losses, metrics and loss_weights
    ("nb07", 3, _compile_heads(ret=False), "without `return model`"),
    ("nb07", 3, _compile_heads(loss={"shape": "mse", "size": "sparse_categorical_crossentropy"}), "losses are swapped"),
    ("nb07", 3, _compile_heads(loss={"shape": "categorical_crossentropy", "size": "mse"}), "wants one-hot labels"),
    ("nb07", 3, _compile_heads(loss={"shape": __import__("keras").losses.SparseCategoricalCrossentropy(from_logits=True),
                                     "size": "mse"}), "applies softmax a second time"),
    ("nb07", 3, _compile_heads(loss={"shape": "sparse_categorical_crossentropy", "size": "binary_crossentropy"}),
     "give it a regression loss"),
    ("nb07", 3, _compile_heads(loss="mse"), "one loss per output"),
    ("nb07", 3, _compile_heads(weights={"shape": 1.0, "size": 1.0}), "pass the loss_weights it"),
    ("nb07", 3, _compile_heads(metrics={"shape": ["accuracy"], "size": ["accuracy"]}), "give each output its own"),
    ("nb07", 3, _compile_heads(loss={"shape": "mse", "size": "mse"}), "its loss is"),
]  # fmt: skip


# --- Keras exercises of notebook 04: train on standardised labels; save and load ----------------


def _standardised_fit(*, stats="train", train_all=False, inverse="adapt", inverse_stats="train", fit=True,
                      epochs=None, numpy_labels=False, by_variance=False):  # fmt: skip
    """A fit_on_standardised_labels answer: the reference, with one thing changed."""

    def fit_on_standardised_labels(model, x, y, num_train, epochs_given):
        import keras

        x_train, y_train = (x, y) if train_all else (x[:num_train], y[:num_train])
        source = {"train": y[:num_train], "all": y, "held_out": y[num_train:], "raw": None}
        if stats == "raw":
            labels = y_train
        elif numpy_labels or by_variance:
            ref = source[stats]
            labels = (y_train - ref.mean()) / (ref.var() if by_variance else ref.std())
        else:
            normalizer = keras.layers.Normalization(axis=None)
            normalizer.adapt(source[stats])
            labels = normalizer(y_train)
        if fit:
            model.fit(x_train, labels, epochs=epochs or epochs_given, batch_size=32, verbose=0)
        ref = source[inverse_stats]
        if inverse == "none":
            return model
        if inverse == "adapt":
            layer = keras.layers.Normalization(axis=None, invert=True)
            layer.adapt(ref)
        elif inverse == "again":
            layer = keras.layers.Normalization(axis=None)
            layer.adapt(ref)
        elif inverse == "std_as_variance":
            layer = keras.layers.Normalization(axis=None, mean=float(ref.mean()), variance=float(ref.std()), invert=True)
        elif inverse == "values":
            layer = keras.layers.Normalization(axis=None, mean=float(ref.mean()), variance=float(ref.var()), invert=True)
        else:  # a Lambda layer with the arithmetic written out
            mean, std = float(ref.mean()), float(ref.std())
            layer = keras.layers.Lambda(lambda z: z * std + mean)
        inputs = keras.Input(shape=(8,))
        return keras.Model(inputs, layer(model(inputs))) if inverse == "values" else keras.Sequential([model, layer])

    return fit_on_standardised_labels


def _deployable_lambda(core, mean, variance):
    import keras

    return keras.Sequential([keras.Input(shape=core.input_shape[1:]), keras.layers.Lambda(lambda t: t / 255.0), core,
                             keras.layers.Normalization(mean=mean, variance=variance, invert=True)])  # fmt: skip


NAMED_MISTAKES += [
    # 04: 2 train on standardised labels
    ("nb04", 2, _standardised_fit(stats="raw"), "trained on the raw labels"),
    ("nb04", 2, _standardised_fit(stats="all", inverse_stats="all"), "test answers leaked into training"),
    ("nb04", 2, _standardised_fit(stats="held_out", inverse_stats="held_out"), "statistics of the held-out labels"),
    ("nb04", 2, _standardised_fit(by_variance=True), "divided by the variance"),
    ("nb04", 2, _standardised_fit(train_all=True), "trained on all 288 samples"),
    ("nb04", 2, _standardised_fit(fit=False), "never called model.fit"),
    ("nb04", 2, _standardised_fit(epochs=3), "train for the `epochs` it is given"),
    ("nb04", 2, _standardised_fit(inverse="none"), "still answers in standardised units"),
    ("nb04", 2, _standardised_fit(inverse="again"), "the last Normalization standardises again"),
    ("nb04", 2, _standardised_fit(inverse_stats="all"), "the inverse uses the statistics of all labels"),
    ("nb04", 2, _standardised_fit(inverse="std_as_variance"), "you passed the standard deviation"),
    ("nb04", 2, _standardised_fit(inverse="lambda"), "A Lambda layer holds Python code"),
    # 04: 3 deployable model, saved and loaded
    ("nb04", 3, _deployable_lambda, "A Lambda layer holds Python code"),
]  # fmt: skip

OTHER_RIGHT_ANSWERS_KERAS += [
    ("nb04", 2, _standardised_fit(numpy_labels=True, inverse="values")),
]


# --- Keras exercises of notebook 01: an edge detector set by hand; the digit CNN of a spec --------

_SOBEL_RISING = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]


def _edge_layer(kernel=_SOBEL_RISING, *, bias=None, channels=1, filters=1, same=False, wrap=False):
    """A vertical_edge_layer answer: a Conv2D built and set by hand."""

    def vertical_edge_layer():
        import keras

        k = np.asarray(kernel, dtype="float32")
        layer = keras.layers.Conv2D(filters, k.shape, padding="same" if same else "valid", use_bias=bias is not None)
        layer.build((None, None, None, channels))
        weights = np.tile(k[:, :, None, None], (1, 1, channels, filters))
        layer.set_weights([weights] if bias is None else [weights, np.full(filters, bias, "float32")])
        return keras.Sequential([keras.Input(shape=(8, 8, 1)), layer]) if wrap else layer

    return vertical_edge_layer


def _spec_cnn(*, pooling="GlobalAveragePooling2D", rescale=1 / 16, head="softmax", loss="sparse_categorical_crossentropy",
              from_logits=False, units=10, optimizer=None, max_pool=True, filters=16, functional=False):  # fmt: skip
    """A build_spec_cnn answer: the reference, with one thing changed."""

    def build_spec_cnn():
        import keras

        layers = [] if rescale is None else [keras.layers.Rescaling(rescale)]
        layers.append(keras.layers.Conv2D(filters, 3, padding="same", activation="relu"))
        if max_pool:
            layers.append(keras.layers.MaxPooling2D(2))
        layers.append(keras.layers.Conv2D(32, 3, padding="same", activation="relu"))
        layers.append(getattr(keras.layers, pooling)())
        if head == "softmax_layer":
            layers += [keras.layers.Dense(units), keras.layers.Softmax()]
        else:
            layers.append(keras.layers.Dense(units, activation=head))
        if functional:
            inputs = keras.Input(shape=(8, 8, 1))
            x = inputs
            for layer in layers:
                x = layer(x)
            model = keras.Model(inputs, x)
        else:
            model = keras.Sequential([keras.Input(shape=(8, 8, 1)), *layers])
        loss_object = {"sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
                       "categorical_crossentropy": keras.losses.CategoricalCrossentropy}[loss](from_logits=from_logits)
        model.compile(optimizer=optimizer or keras.optimizers.Adam(0.01), loss=loss_object, metrics=["accuracy"])
        return model

    return build_spec_cnn


NAMED_MISTAKES += [
    # 01: 5 a vertical-edge detector set by hand
    ("nb01", 5, _edge_layer([[1, 0, -1], [2, 0, -2], [1, 0, -1]]), "responds negatively where the image turns"),
    ("nb01", 5, _edge_layer([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]), "the kernel is transposed"),
    ("nb01", 5, _edge_layer([[0, 0, 1], [0, 0, 2], [0, 0, 1]]), "must sum to 0"),
    ("nb01", 5, _edge_layer(bias=0.5), "that is the bias"),
    ("nb01", 5, _edge_layer(channels=3), "build it for one input channel"),
    ("nb01", 5, _edge_layer(filters=2), "one filter (Conv2D(1, 3))"),
    ("nb01", 5, lambda: None, "without `return layer`"),
    # 01: 6 the digit CNN of a written spec
    ("nb01", 6, _spec_cnn(pooling="Flatten"), "the model uses Flatten"),
    ("nb01", 6, _spec_cnn(rescale=None), "starts with Rescaling(1 / 16)"),
    ("nb01", 6, _spec_cnn(rescale=1 / 255), "the scale is 1 / 16"),
    ("nb01", 6, _spec_cnn(head="sigmoid"), "scores each digit on its own"),
    ("nb01", 6, _spec_cnn(loss="categorical_crossentropy"), "wants one-hot labels"),
    ("nb01", 6, _spec_cnn(from_logits=True), "softmax is applied twice"),
    ("nb01", 6, _spec_cnn(head=None), "the output has no activation (logits)"),
    ("nb01", 6, _spec_cnn(units=1), "has units=1"),
    ("nb01", 6, _spec_cnn(optimizer="adam"), "the spec says Adam(0.01)"),
    ("nb01", 6, _spec_cnn(max_pool=False), "one MaxPooling2D(2) between"),
    ("nb01", 6, _spec_cnn(filters=8), "has filters=8"),
]  # fmt: skip

OTHER_RIGHT_ANSWERS_KERAS += [
    ("nb01", 5, _edge_layer(same=True, bias=0.0)),
    ("nb01", 5, _edge_layer([[-1, 0, 1]] * 3, wrap=True)),
    ("nb01", 6, _spec_cnn(head="softmax_layer", functional=True)),
    ("nb01", 6, _spec_cnn(head=None, from_logits=True)),
]


# --- Keras exercises of notebook 02: a stack to a receptive field; a separable block -------------


def _stack(*spec, input_shape=(64, 64, 3)):
    """A design_stack answer from a spec: ("c", filters, kernel), ("p",), ("flatten",), ("dense", units)."""

    def design_stack():
        import keras

        layers = [keras.Input(shape=input_shape)]
        for item in spec:
            if item[0] == "c":
                layers.append(keras.layers.Conv2D(item[1], item[2] if len(item) > 2 else 3, padding="same", activation="relu"))
            elif item[0] == "p":
                layers.append(keras.layers.MaxPooling2D(2))
            elif item[0] == "flatten":
                layers.append(keras.layers.Flatten())
            else:
                layers.append(keras.layers.Dense(item[1]))
        return keras.Sequential(layers)

    return design_stack


_GOOD_STACK = [("c", 16), ("p",), ("c", 16), ("p",), ("c", 16), ("p",), ("c", 16)]


def _separable(*, kind="SeparableConv2D", keep_strides=True, keep_activation=True, saving="formula", pair=True,
               functional=False):  # fmt: skip
    """A separable_block answer: the reference, with one thing changed."""

    def separable_block(block):
        import keras

        layers = []
        for conv in block.layers:
            c = conv.get_config()
            options = {"strides": c["strides"] if keep_strides else 1, "padding": c["padding"],
                       "activation": c["activation"] if keep_activation else None}  # fmt: skip
            if kind == "DepthwiseConv2D":
                layers.append(keras.layers.DepthwiseConv2D(c["kernel_size"], **options))
            else:
                layers.append(getattr(keras.layers, kind)(c["filters"], c["kernel_size"], **options))
        inputs = keras.Input(shape=block.input_shape[1:])
        if functional:
            x = inputs
            for layer in layers:
                x = layer(x)
            model = keras.Model(inputs, x)
        else:
            model = keras.Sequential([inputs, *layers])
        new, old = model.count_params(), block.count_params()
        value = {"formula": old - new, "own": new, "ratio": round(old / new, 2), "negative": new - old,
                 "depthwise_bias": old - new - sum(int(conv.kernel.shape[2]) for conv in block.layers),
                 "numpy": np.int64(old - new)}[saving]  # fmt: skip
        return (model, value) if pair else model

    return separable_block


NAMED_MISTAKES += [
    # 02: 8 a stack to a receptive field within a budget
    ("nb02", 8, _stack(("c", 8), ("c", 8), ("c", 8), ("c", 8), ("c", 8)), "every layer has stride 1"),
    ("nb02", 8, _stack(("c", 16), ("p",), ("c", 16)), "the goal is at least 30"),
    ("nb02", 8, _stack(("c", 32, 9), ("p",), ("c", 32, 9), ("p",), ("c", 16)), "kernel costs k * k * C_in * C_out"),
    ("nb02", 8, _stack(("c", 32), ("p",), ("c", 64), ("p",), ("c", 64), ("p",), ("c", 64)), "Fewer filters"),
    ("nb02", 8, _stack(*_GOOD_STACK, ("flatten",), ("dense", 10)), "convolutions and pooling only"),
    ("nb02", 8, _stack(*_GOOD_STACK, input_shape=(32, 32, 3)), "start with keras.Input(shape=(64, 64, 3))"),
    ("nb02", 8, _stack(*_GOOD_STACK[:-1], ("c", 4)), "at least 8 channels"),
    # 02: 9 the separable version of a block
    ("nb02", 9, _separable(kind="Conv2D"), "still has Conv2D"),
    ("nb02", 9, _separable(kind="DepthwiseConv2D"), "DepthwiseConv2D alone"),
    ("nb02", 9, _separable(keep_strides=False), "convolution 2 has strides"),
    ("nb02", 9, _separable(keep_activation=False), "lost its activation"),
    ("nb02", 9, _separable(saving="own"), "the separable version's own count"),
    ("nb02", 9, _separable(saving="ratio"), "that is a ratio"),
    ("nb02", 9, _separable(saving="depthwise_bias"), "the depthwise step has no bias"),
    ("nb02", 9, _separable(saving="negative"), "a positive number"),
    ("nb02", 9, _separable(pair=False), "should return a pair"),
]  # fmt: skip

OTHER_RIGHT_ANSWERS_KERAS += [
    ("nb02", 8, _stack(("c", 8), ("p",), ("c", 16), ("p",), ("c", 16), ("p",), ("c", 16), ("c", 16))),
    ("nb02", 9, _separable(functional=True, saving="numpy")),
]


# Tables of exercises added later sit beside this file in answers_<topic>.py modules (one per topic,
# so that work on two notebooks never edits the same table). Each may define NAMED_MISTAKES,
# OTHER_RIGHT_ANSWERS (right answers spelled unlike the reference) and OWN_WRONG_ANSWERS, with the
# same rows as here.
ANSWER_TABLE_MODULES = [
    importlib.import_module(path.stem) for path in sorted(pathlib.Path(__file__).parent.glob("answers_*.py"))
]


def _extra_rows(table: str) -> list:
    return [row for module in ANSWER_TABLE_MODULES for row in getattr(module, table, [])]


NAMED_MISTAKES += _extra_rows("NAMED_MISTAKES")


def _field_popping(layers):
    field, jump = 1, 1
    while layers:
        kernel_size, stride = layers.pop(0)  # empties the caller's list
        field += (kernel_size - 1) * jump
        jump *= stride
    return field


def _in_place(array, operation):
    operation(array)
    return array


def _pop_walk(inputs_of, outputs):
    used, todo = set(), list(outputs)
    while todo:
        name = todo.pop()
        used.add(name)
        while inputs_of.get(name):
            todo.append(inputs_of[name].pop())  # empties the caller's lists
    return set(inputs_of) - used


def _exercise_ids(entries):
    return [f"{m}-{n}-{i}" for i, (m, n, *_) in enumerate(entries)]


@pytest.mark.parametrize("module, number, answer, named", NAMED_MISTAKES, ids=_exercise_ids(NAMED_MISTAKES))
def test_named_mistake_gets_its_own_explanation_and_no_other(module, number, answer, named):
    others = {n for m, k, _, n in NAMED_MISTAKES if (m, k) == (module, number) and n != named}
    problems = naming_problems(_exercise(module, number), answer, named, others)
    assert not problems, problems


def naming_problems(exercise: Exercise, answer, named: str, others) -> list[str]:
    """What is wrong with how ``exercise`` reports the wrong ``answer``: [] when it is incorrect,
    shows the explanation containing ``named``, and shows none containing any of ``others``."""
    answer.__name__ = exercise.answer_name
    result = exercise.evaluate(answer)
    problems = []
    if result.status is not Status.INCORRECT:
        problems.append(f"{exercise.label} reported {result.status.value}: {result.message}")
    if named not in result.message:
        problems.append(f"{exercise.label} does not say {named!r}: {result.message}")
    problems += [f"{exercise.label} also says {o!r}: {result.message}" for o in others if o in result.message]
    return problems


def test_naming_problems_sees_two_mistakes_that_the_inputs_cannot_tell_apart():
    def checker(answer):  # on the only input, 2, x + x and x * x both give 4
        Exact().check(answer, [(2,)], lambda x: x ** 3,
                      mistakes=[(lambda x: x + x, "doubled"), (lambda x: x * x, "squared")])  # fmt: skip

    def cube(x):
        return x + x

    exercise = Exercise(1, "cube", answer_name="cube", checker=checker, hint="h", solution="s")
    message = "Exercise 1 (cube): cube(2) returned 4, but the expected value is 8."
    assert exercise.evaluate(cube).message == message  # neither mistake named on a shared value
    assert naming_problems(exercise, cube, "doubled", {"squared"}) == [
        f"{exercise.label} does not say 'doubled': {message}"
    ]
    assert not naming_problems(exercise, lambda x: x + 1, "cube(2) returned 3", {"doubled", "squared"})


def test_naming_problems_sees_a_wrong_answer_that_passes():
    exercise = Exercise(1, "cube", answer_name="cube", hint="h", solution="s",
                        checker=lambda answer: Exact().check(answer, [(1,)], lambda x: x ** 3))  # fmt: skip
    assert "reported correct" in naming_problems(exercise, lambda x: x * x, "squared", set())[0]


@pytest.mark.parametrize("module, exercise", ALL_EXERCISES, ids=[f"{m}-{e.number}" for m, e in ALL_EXERCISES])
def test_every_exercise_has_at_least_four_named_mistakes_with_distinct_explanations(module, exercise):
    named = {n for m, k, _, n in NAMED_MISTAKES if (m, k) == (module, exercise.number)}
    assert len(named) >= 4, f"{module} exercise {exercise.number}: {named}"
    # no explanation is a piece of another, so "no other explanation" can be tested
    assert not [(a, b) for a in named for b in named if a != b and a in b]


# --- our own wrong answers, written as learners would, apart from the named mistakes above -------
#
# Each with the piece of explanation that names its mistake, or None where no named mistake fits
# (then it must still be caught). Against the first version of these checks (which named a
# mistake on the first input where its value matched), 141 of these 143 were refused and 40 named
# with their own mistake, 30 with another one. Now all are refused, 116 are named and none with
# a wrong explanation; at least four in five must stay named (the share is printed with -s).


OWN_WRONG_ANSWERS = [
    ("nb01", 1, lambda image, kernel: _correlate_vectorised(image, kernel, flip=True), "flipped the kernel"),
    ("nb01", 1, lambda image, kernel: _correlate_vectorised(image, kernel).T, "output is transposed"),
    ("nb01", 1, _correlate_transposed_loops, "output is transposed"),
    ("nb01", 1, lambda image, kernel: _correlate_vectorised(image.astype(np.float32), kernel).astype(int), "whole numbers"),
    ("nb01", 1, lambda image, kernel: _correlate_vectorised(image, kernel) / kernel.size, "np.sum, not np.mean"),
    ("nb01", 1, lambda image, kernel: _correlate_vectorised(np.pad(image, 1), kernel), "padded the image"),
    ("nb01", 2, lambda f, s: _pool_reshape(f, s, np.mean), "averaged each window"),
    ("nb01", 2, _pool_reshape_wrong_axes, "mixes pixels of different windows"),
    ("nb01", 2, lambda f, s: _pool_reshape(f, s).T, "output is transposed"),
    ("nb01", 2, lambda f, s: _pool_reshape(f, s, np.median), "median"),
    ("nb01", 2, lambda f, s: np.array([[f[i:i + s, j:j + s].max() for j in range(f.shape[1] // s)]
                                        for i in range(f.shape[0] // s)]), "starts at row i * size"),
    ("nb01", 2, lambda f, s: np.array([[f[i:i + s, j:j + s].max() for j in range(0, f.shape[1], s)]
                                        for i in range(0, f.shape[0], s)]), "partial windows"),
    ("nb01", 3, lambda n, k: n * (k - 1), "start from 1"),
    ("nb01", 3, lambda n, k: 1 + n * k - n + 1, None),
    ("nb01", 3, lambda n, k: (k - 1) ** n + 1, "not multiplicatively"),
    ("nb01", 3, lambda n, k: k * n - 1, None),
    ("nb01", 3, lambda n, k: 1 + (k - 1) * n if n > 1 else k - 1, "start from 1"),
    ("nb01", 4, lambda: _digit_model(*_conv_block(), _dense(10, "sigmoid")), "not probabilities"),
    ("nb01", 4, lambda: _digit_model(*_conv_block(), _dense(10, "softmax"),
                                     loss="binary_crossentropy"), "found loss 'binary_crossentropy'"),
    ("nb01", 4, lambda: _digit_model(_dense(64, "relu"), __import__("keras").layers.Flatten(), _dense()), "no Conv2D"),
    ("nb01", 4, lambda: _digit_model(*_conv_block(), _dense(), input_shape=(64,)), "keras.Input(shape=(8, 8, 1))"),
    ("nb01", 4, lambda: _digit_model(*_conv_block(), _dense(), loss="categorical_crossentropy"), "one-hot"),
    ("nb02", 1, lambda n, k, s, p: (n + 2 * p - k) // s + 2, None),
    ("nb02", 1, lambda n, k, s, p: (n - 2 * p - k) // s + 1, "padding adds to the input"),
    ("nb02", 1, lambda n, k, s, p: (n + 2 * p) // s, "needs kernel_size pixels"),
    ("nb02", 1, lambda n, k, s, p: math.floor((n + p - k) / s) + 1, "on both sides"),
    ("nb02", 1, lambda n, k, s, p: (n - (k - 1) + p) // s + 1, None),
    ("nb02", 1, lambda n, k, s, p: (n + 2 * p - k) / s + 1 if p == "valid" else n / s, None),
    ("nb02", 2, lambda n, s: -(-n // s) if s > 1 else n - 1, None),
    ("nb02", 2, lambda n, s: math.floor(n / s), "that is floor"),
    ("nb02", 2, lambda n, s: (n + 1) // s, "(n + s - 1) // s"),
    ("nb02", 2, _same_size_loop, None),
    ("nb02", 3, lambda k, c, f: (k * k * c + 1) * f + f, "biases twice"),
    ("nb02", 3, lambda k, c, f: k * k * c * f + k * k * f, None),
    ("nb02", 3, lambda k, c, f: (k * k + c) * f + f, "do not add them"),
    ("nb02", 3, lambda k, c, f: k * k * c * f, "left out the biases"),
    ("nb02", 4, lambda n, u: n * u + u + 1, None),
    ("nb02", 4, lambda n, u: (n + 1) * u - 1, None),
    ("nb02", 4, lambda n, u: n * (u + 1), "not per input feature"),
    ("nb02", 4, lambda n, u: n * u, "left out the biases"),
    ("nb02", 5, lambda k, c, f: k * k * c + c * f + c, "pointwise step has one bias per filter"),
    ("nb02", 5, lambda k, c, f: k * k * c * f + c * f, None),
    ("nb02", 5, lambda k, c, f: (k * k + 1) * c + (c + 1) * f, "single bias vector"),
    ("nb02", 5, lambda k, c, f: k * k + c * f + f, "one k x k kernel for each input channel"),
    ("nb02", 6, _receptive_field_product, "walking from the output back"),
    ("nb02", 6, lambda layers: 1 + sum(k - 1 for k, s in layers) * max([s for k, s in layers] or [1]), None),
    ("nb02", 6, lambda layers: _field(layers, no_jump=True), "ignores the strides"),
    ("nb02", 6, lambda layers: _field(layers[:-1]) if layers else 1, "last layer widens"),
    ("nb02", 7, _summary_rows(r4params=32 * 2), "trainable, but counted"),
    ("nb02", 7, _summary_rows(r7params=64 * 10), "Dense layer's 10 biases"),
    ("nb02", 7, _summary_rows(r6shape=(7, 7, 64)), "averages over the height and width"),
    ("nb02", 7, _summary_rows(r2shape=(16, 16, 32)), "keeps the number of channels"),
    ("nb02", 7, _summary_rows(r5shape=(7, 7, 32)), "outputs `filters` channels"),
    ("nb02", 7, _summary_rows(r5params=3 * 3 * 32 + 32 * 64), "pointwise biases of SeparableConv2D"),
    ("nb02", 7, lambda: [(list(shape), params) for shape, params in _summary_rows(r1params=432)()], "first Conv2D"),
    ("nb03", 1, _confusion_np_histogram, "np.histogram2d"),
    ("nb03", 1, _confusion_counter, "transposed"),
    ("nb03", 1, lambda t, p, k: _confusion_loop(t, p, k) + np.eye(k, dtype=int), None),
    ("nb03", 1, lambda t, p, k: _confusion_loop(t, p, k, size=len(set(t) | set(p))), "sized the matrix from the labels"),
    ("nb03", 1, lambda t, p, k: _confusion_loop(t, p, k) / len(t), "not fractions"),
    ("nb03", 2, _precision_recall_add_one, "adding 1 to the sums"),
    ("nb03", 2, _precision_recall_epsilon, "swapped"),
    ("nb03", 2, lambda m: [np.diag(m) / np.maximum(m.sum(axis=0), 1)] * 2, "precision twice"),
    ("nb03", 2, lambda m: np.nan_to_num(np.diag(m) / m.sum(axis=0)), "a pair (precision, recall)"),
    ("nb03", 2, lambda m: {"precision": 0, "recall": 0}, "a pair (precision, recall)"),
    ("nb03", 3, _huber_pieces_swapped, "pieces are swapped"),
    ("nb03", 3, _huber_sum, "one number (a mean or a sum)"),
    ("nb03", 3, lambda e, d: np.where(np.abs(e) < d, 0.5 * e**2, d * np.abs(e) - 0.5 * d), None),  # two mistakes
    ("nb03", 3, lambda e, d: np.where(np.abs(e) <= d, 0.5 * e**2, d * (np.abs(e) - 0.5 * d)) / d, None),
    ("nb03", 3, lambda e, d: np.where(np.abs(e) <= d, 0.5 * e**2, np.abs(e)), "not |error|"),
    ("nb03", 4, lambda y, k: {c: 1 - n / len(y) for c, n in enumerate(np.bincount(y, minlength=k))}, "1 - frequency"),
    ("nb03", 4, lambda y, k: {str(c): len(y) / (k * n) for c, n in enumerate(np.bincount(y, minlength=k))},
     "class indices"),
    ("nb03", 4, lambda y, k: {c: len(y) / (k + n) for c, n in enumerate(np.bincount(y, minlength=k))}, None),
    ("nb03", 4, lambda y, k: {c: (len(y) / (k * n)) ** 0.5 for c, n in enumerate(np.bincount(y, minlength=k))}, "square root"),
    ("nb04", 1, lambda y, p, s: np.mean(np.abs(s.inverse_transform(p).ravel() - y)) / s.scale_, "standardised units"),
    ("nb04", 1, lambda y, p, s: np.median(np.abs(s.inverse_transform(p)[:, 0] - y)), "median absolute error"),
    ("nb04", 1, lambda y, p, s: np.abs(s.inverse_transform(p)[:, 0] - y), "not a number"),
    ("nb04", 1, lambda y, p, s: np.mean((s.inverse_transform(p)[:, 0] - y) ** 2), "that is the mean squared error"),
    ("nb04", 3, lambda core, mean, variance: _deployable(core, mean, variance, scale=1 / 256), "exactly 1"),
    ("nb04", 3, lambda core, mean, variance: _deployable(core, mean, variance, before=False, after=True,
                                                         invert=False), "standardises again"),
    ("nb04", 3, lambda core, mean, variance: core, "the core model as it is"),
    ("nb04", 3, lambda core, mean, variance: _deployable(core, mean, variance, before=False, norm=False),
     "the core model as it is"),
    ("nb05", 1, lambda y: np.var(y) * len(y), "summed the squared errors"),
    ("nb05", 1, lambda y: np.mean(np.abs(y - np.mean(y))), "mean absolute deviation"),
    ("nb05", 1, lambda y: np.mean((y - np.mean(y)) ** 2) ** 0.5, "the standard deviation"),
    ("nb05", 1, lambda y: np.sum((y - np.mean(y)) ** 2) / (len(y) - 1), "ddof=1"),
    ("nb05", 3, lambda p, t: np.abs(np.asarray(p) - np.asarray(t)) % 180, "can still be the long way round"),
    ("nb05", 3, lambda p, t: np.minimum(np.abs(np.subtract(p, t)), 360 - np.abs(np.subtract(p, t))), "period of 360"),
    ("nb05", 3, lambda p, t: np.min([np.abs(np.subtract(p, t)) % 180, 180 - np.abs(np.subtract(p, t)) % 180]), "np.min reduces"),
    ("nb05", 4, lambda a: np.stack([np.cos(2 * np.radians(a)), np.sin(np.radians(2 * a))], axis=1), "repeats the list"),
    ("nb05", 4, lambda a: np.stack([np.cos(np.radians(a)) ** 2, np.sin(np.radians(a)) ** 2], axis=1), None),
    ("nb05", 4, lambda a: np.stack([np.sin(2 * np.radians(a)), np.cos(2 * np.radians(a))], axis=1), "columns are swapped"),
    ("nb05", 4, lambda a: np.stack([np.cos(2 * np.radians(a)), np.sin(2 * np.radians(a))], axis=-1).ravel(), "one row (cos 2θ, sin 2θ) per angle"),
    ("nb05", 5, lambda e: np.degrees(np.arctan2(e[:, 1], e[:, 0])) / 2 + 90, "adding 90"),
    ("nb05", 5, lambda e: np.abs(np.degrees(np.arctan2(e[:, 1], e[:, 0])) / 2), "abs mirrors"),
    ("nb05", 5, lambda e: np.degrees(np.arccos(e[:, 0])) / 2, "arccos"),
    ("nb05", 5, lambda e: np.degrees(np.arctan2(e[:, 1], e[:, 0])), "you returned 2θ"),
    ("nb06", 1, lambda n, b, s: round(s / math.ceil(n / b)), "round() goes to the nearest"),
    ("nb06", 1, lambda n, b, s: math.ceil(s / math.ceil(n / b)) + 1, "already rounds up"),
    ("nb06", 1, lambda n, b, s: math.ceil(s / (n / b)), "fractional number of batches"),
    ("nb06", 1, lambda n, b, s: -(-s // (n // b + 1)), "one step too many"),
    ("nb06", 1, lambda n, b, s: int(s / math.ceil(n / b)), "rounding down"),
    ("nb06", 2, _unfreeze_count_layers, "same number of layers"),
    ("nb06", 2, _unfreeze_last_names, "counts blocks, not layers"),
    ("nb06", 2, lambda names, top: [n for n in names if n.startswith(f"block{top}")], "not a block number"),
    ("nb06", 2, lambda names, top: set(_top(names, top)), "keep the order"),
    ("nb06", 2, lambda names, top: [n for n in names if n[5:6].isdigit() and int(n[5:6]) > 3 - top], None),  # two mistakes
    ("nb06", 5, lambda x, m, v, g, b, e: g * (x - m) / np.sqrt(v + e) - b, "do not subtract it"),
    ("nb06", 5, lambda x, m, v, g, b, e: (g * x - m) / np.sqrt(v + e) + b, "before scaling"),
    ("nb06", 5, lambda x, m, v, g, b, e: g * (x - m) * np.sqrt(v + e) + b, "do not multiply"),
    ("nb06", 5, lambda x, m, v, g, b, e: g * (x - m) / np.sqrt(v + e**2) + b, None),
    ("nb06", 5, lambda x, m, v, g, b, e: g * (x - x.mean()) / np.sqrt(x.var() + e) + b, None),
    ("nb06", 6, lambda pixels: (np.asarray(pixels) - 128) / 128, "not 128"),
    ("nb06", 6, lambda pixels: np.asarray(pixels) / 128.0 - 1.0, "not 128"),
    ("nb06", 6, lambda pixels: pixels.astype(float) / 127.5 - 1, "a list has no arithmetic"),
    ("nb06", 6, lambda pixels: 1 - np.asarray(pixels) / 127.5, "sign is flipped"),
    ("nb07", 2, lambda losses, weights: sum(losses[k] + weights[k] for k in losses), "do not add the weight"),
    ("nb07", 2, lambda losses, weights: max(weights[k] * losses[k] for k in losses), None),
    ("nb07", 2, lambda losses, weights: sum(weights[k] * losses[k] for k in weights if k != "size"), None),
    ("nb07", 4, lambda b, d, units: (b + (d + 1) * sum(units), b * len(units) + (d + 1) * sum(units) + 1), None),
    ("nb07", 4, lambda b, d, units: (b + sum((d + 1) * u for u in units), b * sum(units) + (d + 1) * sum(units)), "not one per output unit"),
    ("nb07", 4, lambda b, d, units: b + sum((d + 1) * u for u in units), "return a pair"),
    ("nb07", 5, _dead_without_outputs_walk, "fixed number of steps"),
    ("nb07", 5, _dead_list_sorted, "input layer can be dead"),
    ("nb07", 5, lambda inputs_of, outputs: [n for n in inputs_of if n not in outputs and not inputs_of[n]], None),
    ("nb07", 5, lambda inputs_of, outputs: set(inputs_of) - set(outputs) - {p for v in inputs_of.values() for p in v},
     "walk back from the outputs"),
]  # fmt: skip


def _functional_digit_model(loss):
    import keras

    inputs = keras.Input(shape=(8, 8, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.Flatten()(keras.layers.MaxPooling2D(2)(x))
    outputs = keras.layers.Softmax()(keras.layers.Dense(10)(x))  # a Softmax layer, not activation=
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss=loss)
    return model


def _functional_deployable(core, mean, variance):
    import keras

    pixels = keras.Input(shape=(4, 4, 3))
    scaled = keras.layers.Rescaling(1.0 / 255.0)(pixels)
    return keras.Model(pixels, keras.layers.Normalization(mean=mean, variance=variance, invert=True)(core(scaled)))


OTHER_RIGHT_ANSWERS = [  # right answers spelled unlike the reference: a check must accept them
    ("nb01", 4, lambda: _functional_digit_model(__import__("keras").losses.SparseCategoricalCrossentropy())),
    ("nb01", 4, lambda: _functional_digit_model(__import__("keras").losses.sparse_categorical_crossentropy)),
    ("nb01", 4, lambda: _digit_model(*_conv_block(), _dense(activation=__import__("tensorflow").nn.softmax))),
    ("nb02", 1, lambda n, k, s, p: np.int64((n + 2 * p - k) // s + 1)),
    ("nb02", 1, lambda n, k, s, p: float((n + 2 * p - k) // s + 1)),
    ("nb02", 7, lambda: [(list(shape), np.int64(params)) for shape, params in _summary_rows()()]),
    ("nb03", 1, lambda t, p, k: np.histogram2d(t, p, bins=k, range=[[0, k], [0, k]])[0]),
    ("nb03", 4, lambda y, k: {np.int64(c): float(w) for c, w in enumerate(len(y) / (k * np.bincount(y, minlength=k)))}),
    ("nb04", 3, _functional_deployable),
    ("nb06", 2, lambda names, top: tuple(n for n in names if n.startswith("block") and _block_number(n) in
                                         sorted({_block_number(m) for m in names if m.startswith("block")})[::-1][:top])),
    ("nb07", 4, lambda b, d, units: (np.int64(b + sum((d + 1) * u for u in units)),
                                     np.int64(len(units) * b + sum((d + 1) * u for u in units)))),
    ("nb07", 5, lambda inputs_of, outputs: list(_dead(inputs_of, outputs))),
    ("nb02", 1, lambda n, k, s, p: int((n + 2 * p - k) / s + 1)),
    ("nb02", 6, _receptive_field_reversed),
    ("nb03", 4, lambda y, k: dict(enumerate(len(y) / (k * np.bincount(y))))),
    ("nb05", 3, lambda p, t: np.abs((np.asarray(p) - np.asarray(t) + 90) % 180 - 90)),
    ("nb05", 3, lambda p, t: 90 - np.abs(np.abs(np.subtract(p, t)) % 180 - 90)),
    ("nb05", 5, lambda e: np.degrees(np.arctan2(e[:, 1], e[:, 0]) / 2) % 180),
    ("nb06", 6, lambda pixels: 2 * (np.asarray(pixels) / 255) - 1),
    ("nb06", 6, lambda pixels: np.asarray(pixels, dtype=np.float32) / 127.5 - 1),
    ("nb07", 2, lambda losses, weights: sum(losses[k] * weights.get(k, 1) for k in losses)),
    ("nb07", 4, lambda b, d, units: [b + sum((d + 1) * u for u in units), len(units) * b + sum((d + 1) * u for u in units)]),
]  # fmt: skip


# Issue 13's Keras exercises of notebooks 05-07: our own wrong answers and right answers spelled otherwise.
OWN_WRONG_ANSWERS += [
    ("nb05", 2, lambda m, x, y: {k: v**2 for k, v in _grad_norms(m, x, y).items()}, "that is the squared norm"),
    ("nb05", 2, lambda m, x, y: {k: v * len(x) for k, v in _grad_norms(m, x, y).items()}, "summed the squared errors"),
    ("nb05", 2, lambda m, x, y: list(_grad_norms(m, x, y).values()), None),
    ("nb05", 2, lambda m, x, y: {k: v + 1 for k, v in _grad_norms(m, x, y).items()}, None),
    ("nb05", 6, _slope_model(out="softmax"), "cannot go below 0"),
    ("nb05", 6, _slope_model(hidden="tanh"), "saturate and pass almost no gradient"),
    ("nb05", 6, _slope_model(units=3), "wrong number of output units"),
    ("nb05", 6, _slope_model(scale=False, functional=True), "raw 0-255 pixels"),
    ("nb05", 6, _slope_model(loss="binary_crossentropy"), "regression target"),
    ("nb06", 3, _classifier(freeze=False, sequential=True), "backbone is not frozen"),
    ("nb06", 3, _classifier(activation="relu"), "ten exclusive classes"),
    ("nb06", 3, _classifier(units=11), "wrong number of output units"),
    ("nb06", 4, _fine_tuning(skip_bn=False, unfreeze_outer=False), "BatchNormalization layers are trainable"),
    ("nb06", 4, _fine_tuning(rate=1e-3), "lower rate it is given"),
    ("nb07", 1, _two_heads(names=(None, None)), "would not bind"),
    ("nb07", 1, _two_heads(size_activation="relu"), "a bounded activation"),
    ("nb07", 3, _compile_heads(weights=None), "pass the loss_weights it"),
    ("nb07", 3, _compile_heads(metrics=["accuracy"]), "give each output its own"),
]  # fmt: skip

OTHER_RIGHT_ANSWERS += [
    ("nb05", 2, lambda m, x, y: {k: np.float32(v) for k, v in _grad_norms(m, x, y).items()}),
    ("nb05", 6, _slope_model(functional=True, loss=__import__("keras").losses.MeanSquaredError())),
    ("nb05", 6, _slope_model(out="tanh", loss=__import__("keras").losses.mean_squared_error)),
    ("nb05", 6, _slope_model(optimizer=lambda: __import__("keras").optimizers.Adam())),
    ("nb06", 3, _classifier(sequential=True)),
    ("nb06", 3, _classifier(activation=None, loss=__import__("keras").losses.SparseCategoricalCrossentropy(from_logits=True))),
    ("nb06", 3, _classifier(activation=__import__("tensorflow").nn.softmax,
                            loss=__import__("keras").losses.sparse_categorical_crossentropy)),
    ("nb07", 1, _two_heads(softmax_layer=True)),
    ("nb07", 3, _compile_heads(loss={"shape": __import__("keras").losses.SparseCategoricalCrossentropy(),
                                     "size": __import__("keras").losses.MeanSquaredError()})),
    ("nb07", 3, _compile_heads(metrics={"shape": [__import__("keras").metrics.SparseCategoricalAccuracy()],
                                        "size": [__import__("keras").metrics.MeanAbsoluteError()]})),
]  # fmt: skip


def _loops_zeros_like(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros_like(image[: image.shape[0] - kh + 1, : image.shape[1] - kw + 1])
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def _pool_loops(feature_map, size, reduce):
    out = np.zeros((feature_map.shape[0] // size, feature_map.shape[1] // size))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = reduce(feature_map[i * size : (i + 1) * size, j * size : (j + 1) * size])
    return out


def _top_by_number(names, top, *, at_least=False, skip_pool=False):
    numbers = [_block_number(n) for n in names if n.startswith("block")]
    if not numbers or top == 0:
        return []
    last = max(numbers)
    keep = (lambda b: b >= last - top) if at_least else (lambda b: b > last - top)
    return [n for n in names if n.startswith("block") and keep(_block_number(n)) and not (skip_pool and "pool" in n)]


def _digit_big_conv():
    import keras

    return _digit_model(keras.layers.Conv2D(64, 3, padding="same", activation="relu"), keras.layers.Flatten(), _dense())


def _deployable_layers(core, mean, variance, *, rescale, invert=True):
    import keras

    return keras.Sequential([keras.Input(shape=core.input_shape[1:]), keras.layers.Rescaling(rescale), core,
                             keras.layers.Normalization(mean=mean, variance=variance, invert=invert)])  # fmt: skip


# Written after the checks had been tuned on OWN_WRONG_ANSWERS, then measured as they stood:
# all 55 refused, 35 named. The mistakes they showed were added after that (44 named now).
HELD_OUT_WRONG_ANSWERS = [
    ("nb01", 1, _loops_zeros_like, "integer type"),
    ("nb01", 1, lambda image, kernel: _loops_correlate(image, kernel, combine=lambda p, k: np.sum(p * k[::-1])), "upside down"),
    ("nb01", 2, lambda f, s: _pool_loops(f, s, np.sum), "summed each window"),
    ("nb01", 2, lambda f, s: np.full((f.shape[0] // s, f.shape[1] // s), np.max(f)), None),
    ("nb01", 3, lambda n, k: (k - 1) * n, "start from 1"),
    ("nb01", 3, lambda n, k: 2 * n + 1, "3x3 kernels only"),
    ("nb01", 4, _digit_big_conv, "stay under 20,000"),
    ("nb01", 4, lambda: _digit_model(*_conv_block(), _dense(activation="relu")), "not probabilities"),
    ("nb02", 1, lambda n, k, s, p: (n - k + 2 * p) / s + 1, "divide with //"),
    ("nb02", 1, lambda n, k, s, p: (n + p - k) // s + 1, "on both sides"),
    ("nb02", 2, lambda n, s: math.ceil(n / s) + 1, None),
    ("nb02", 2, lambda n, s: int(n / s), "that is floor"),
    ("nb02", 3, lambda k, c, f: k**2 * (c + 1) * f, None),
    ("nb02", 3, lambda k, c, f: k * k * f, None),
    ("nb02", 4, lambda n, u: n * u + 2 * u, None),
    ("nb02", 5, lambda k, c, f: k**2 * c + c * f + f + c, "single bias vector"),
    ("nb02", 5, lambda k, c, f: k**2 * c * f + c * f + f, "not per filter"),
    ("nb02", 6, lambda layers: _field(layers, jump_first=True), "does not widen its own window"),
    ("nb02", 6, lambda layers: 1 + sum((k - 1) * s for k, s in layers), "not by its own stride"),
    ("nb02", 7, _summary_rows(r4params=2 * 32), "trainable, but counted"),
    ("nb02", 7, _summary_rows(r5params=3 * 3 * 32 * 64 + 32 * 64 + 64), "not one per filter"),
    ("nb02", 7, _summary_rows(r7params=640), "Dense layer's 10 biases"),
    ("nb03", 1, lambda t, p, k: _confusion_np_add_at(p, t, k), "transposed"),
    ("nb03", 1, lambda t, p, k: _confusion_assign(t, p, k), "np.add.at"),
    ("nb03", 2, lambda m: tuple(np.divide(np.diag(m), m.sum(axis=a), out=np.zeros(len(m)), where=m.sum(axis=a) > 0)
                                for a in (1, 0)), "swapped"),
    ("nb03", 2, lambda m: (np.diag(m) / np.sum(m, axis=0), np.diag(m) / np.sum(m, axis=1)), "returned NaN"),
    ("nb03", 3, lambda e, d: np.where(np.abs(e) < d, 0.5 * e**2, d * (np.abs(e) - d)), None),  # two mistakes
    ("nb03", 3, lambda e, d: float(np.mean(np.where(np.abs(e) <= d, e**2 / 2, d * np.abs(e) - d**2 / 2))),
     "one number (a mean or a sum)"),
    ("nb03", 4, lambda y, k: {c: k / n for c, n in enumerate(np.bincount(y, minlength=k))}, None),
    ("nb03", 4, lambda y, k: {c: max(np.bincount(y)) / n for c, n in enumerate(np.bincount(y, minlength=k))}, "largest class"),
    ("nb04", 1, lambda y, p, s: np.mean(np.abs(p * s.scale_ + s.mean_ - y)), "broadcasts"),
    ("nb04", 1, lambda y, p, s: np.abs(s.inverse_transform(p)[:, 0] - y).sum(), "summed the absolute errors"),
    ("nb04", 3, lambda core, mean, variance: _deployable_layers(core, mean, variance, rescale=1 / 255, invert=False),
     "standardises again"),
    ("nb04", 3, lambda core, mean, variance: _deployable_layers(core, mean, variance, rescale=255.0), "not Rescaling(255)"),
    ("nb05", 1, lambda y: ((y - y.mean()) ** 2).sum() / (len(y) - 1), "ddof=1"),
    ("nb05", 1, lambda y: np.var(y) ** 0.5, "the standard deviation"),
    ("nb05", 3, lambda p, t: (lambda d: np.where(d > 90, 180 - d, d))(np.abs(np.asarray(p) - np.asarray(t))),
     "angles may lie outside"),
    ("nb05", 4, lambda a: np.stack([np.cos(2 * np.asarray(a)), np.sin(2 * np.asarray(a))], 1), "expect radians"),
    ("nb05", 5, lambda e: np.degrees(np.arctan2(e[:, 0], e[:, 1])) / 2 % 180, "takes the sine first"),
    ("nb06", 1, lambda n, b, s: s // (n // b) if n >= b else s, None),
    ("nb06", 1, lambda n, b, s: round(s * b / n), None),
    ("nb06", 2, lambda names, top: _top_by_number(names, top, at_least=True), "one block too many"),
    ("nb06", 2, lambda names, top: _top_by_number(names, top, skip_pool=True), "pooling layer belongs"),
    ("nb06", 5, lambda x, m, v, g, b, e: g * (x - m) / np.sqrt(v) + e + b, None),
    ("nb06", 6, lambda pixels: pixels / 127.5 - 1, "a list has no arithmetic"),
    ("nb07", 2, lambda losses, weights: float(np.dot(list(losses.values()), list(weights.values()))), "same name"),
    ("nb07", 4, lambda b, d, units: (b + d * sum(units), len(units) * b + d * sum(units)), "has a bias too"),
    ("nb07", 5, lambda inputs_of, outputs: set(inputs_of) - set(outputs) - {i for o in outputs for i in inputs_of[o]},
     "fixed number of steps"),
]  # fmt: skip

HELD_OUT_WRONG_ANSWERS += [  # the Keras exercises of issue 13, written after their checks, as they stood
    ("nb03", 5, _head({"classes": lambda a, l, m: (a, __import__("keras").losses.CategoricalCrossentropy(), m)}),
     "categorical_crossentropy wants one-hot labels"),
    ("nb03", 5, _head({"labels": lambda a, l, m: (None, l, m)}), "the outputs are logits (no activation)"),
    ("nb03", 5, _head({"score": lambda a, l, m: ("relu", l, m)}), "which can leave [0, 1]"),
    ("nb03", 5, _head({"quantity": lambda a, l, m: ("tanh", l, m)}), "bounds the output, but the quantity is unbounded"),
    ("nb03", 6, _regression(metrics=("accuracy", "mae")), "accuracy counts exact matches"),
    ("nb03", 6, _regression(optimizer=__import__("keras").optimizers.SGD(3e-3)), "the task asks for"),
    ("nb04", 2, _standardised_fit(stats="all"), "test answers leaked into training"),
    ("nb04", 2, _standardised_fit(epochs=1), "train for the `epochs` it is given"),
]  # fmt: skip

HELD_OUT_RIGHT_ANSWERS = [
    ("nb01", 3, lambda n, k: n * k - n + 1),
    ("nb01", 3, lambda n, k: k + (n - 1) * (k - 1)),
    ("nb02", 1, lambda n, k, s, p: math.ceil((n + 2 * p - k + 1) / s)),
    ("nb02", 2, lambda n, s: -(-n // s)),
    ("nb02", 3, lambda k, c, f: (k**2 * c + 1) * f),
    ("nb02", 4, lambda n, u: (n + 1) * u),
    ("nb02", 5, lambda k, c, f: k**2 * c + (c + 1) * f),
    ("nb03", 1, lambda t, p, k: _confusion_loop(t, p, k).astype(float)),
    ("nb03", 3, lambda e, d: np.where(np.abs(e) <= d, e**2 / 2, d * np.abs(e) - d**2 / 2)),
    ("nb03", 4, lambda y, k: {c: len(y) / n / k for c, n in enumerate(np.bincount(y, minlength=k))}),
    ("nb04", 1, lambda y, p, s: np.mean(np.abs(s.inverse_transform(p).squeeze() - y))),
    ("nb04", 3, lambda core, mean, variance: _deployable_layers(core, mean, variance, rescale=1.0 / 255)),
    ("nb05", 1, lambda y: np.mean((y - y.mean()) ** 2)),
    ("nb05", 3, lambda p, t: (lambda d: np.where(d > 90, 180 - d, d))(np.abs(np.asarray(p) - np.asarray(t)) % 180)),
    ("nb05", 4, lambda a: np.column_stack([np.cos(np.deg2rad(2 * np.asarray(a))), np.sin(np.deg2rad(2 * np.asarray(a)))])),
    ("nb05", 5, lambda e: np.degrees(np.arctan2(e[:, 1], e[:, 0])) / 2 % 180),
    ("nb05", 5, lambda e: (np.degrees(np.arctan2(e[:, 1], e[:, 0])) + 360) % 360 / 2),
    ("nb06", 1, lambda n, b, s: math.ceil(s / -(-n // b))),
    ("nb06", 2, _top_by_number),
    ("nb06", 5, lambda x, m, v, g, b, e: g * (x - m) * (v + e) ** -0.5 + b),
    ("nb06", 6, lambda pixels: (np.asarray(pixels, float) - 127.5) / 127.5),
    ("nb06", 6, lambda pixels: np.asarray(pixels) / 255 * 2 - 1),
    ("nb07", 2, lambda losses, weights: sum(v * weights.get(k, 1.0) for k, v in losses.items())),
    ("nb07", 4, lambda b, d, units: (b + sum(units) * (d + 1), len(units) * b + sum(units) * (d + 1))),
    ("nb07", 5, lambda inputs_of, outputs: set(inputs_of) - _reached(inputs_of, outputs)),
]  # fmt: skip


def _confusion_np_add_at(rows, columns, k):
    matrix = np.zeros((k, k), dtype=int)
    np.add.at(matrix, (np.asarray(rows, dtype=int), np.asarray(columns, dtype=int)), 1)
    return matrix


def _confusion_assign(y_true, y_pred, k):
    matrix = np.zeros((k, k), dtype=int)
    matrix[np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)] = 1
    return matrix


def _reached(inputs_of, names, seen=None):
    seen = set() if seen is None else seen
    for name in names:
        if name not in seen:
            seen.add(name)
            _reached(inputs_of, inputs_of.get(name, []), seen)
    return seen


def _run(module, number, answer):
    exercise = _exercise(module, number)
    answer.__name__ = exercise.answer_name
    return exercise.evaluate(answer)


OTHER_RIGHT_ANSWERS += _extra_rows("OTHER_RIGHT_ANSWERS")
OWN_WRONG_ANSWERS += _extra_rows("OWN_WRONG_ANSWERS")


@pytest.mark.parametrize(
    "module, number, answer",
    OTHER_RIGHT_ANSWERS + HELD_OUT_RIGHT_ANSWERS + OTHER_RIGHT_ANSWERS_KERAS,
    ids=_exercise_ids(OTHER_RIGHT_ANSWERS + HELD_OUT_RIGHT_ANSWERS + OTHER_RIGHT_ANSWERS_KERAS),
)
def test_right_answer_spelled_differently_passes(module, number, answer):
    result = _run(module, number, answer)
    assert result.status is Status.CORRECT, result.message


ALL_OWN_WRONG_ANSWERS = OWN_WRONG_ANSWERS + HELD_OUT_WRONG_ANSWERS


@pytest.mark.parametrize("module, number, answer, named", ALL_OWN_WRONG_ANSWERS, ids=_exercise_ids(ALL_OWN_WRONG_ANSWERS))
def test_own_wrong_answer_is_caught_and_named_where_a_mistake_fits(module, number, answer, named):
    result = _run(module, number, answer)
    assert result.status is Status.INCORRECT, result.message
    assert FALLBACK_MESSAGE not in result.message, result.message
    if named is not None:
        assert named in result.message, result.message
    else:  # no known mistake fits: better no explanation than one that sends the learner astray
        assert "Likely mistake" not in result.message, result.message


@pytest.mark.parametrize("answers", [OWN_WRONG_ANSWERS, HELD_OUT_WRONG_ANSWERS], ids=["own", "held-out"])
def test_at_least_four_in_five_of_our_own_wrong_answers_are_named(answers):
    # The test above shows that every answer with a piece of explanation gets it.
    named = [n for *_, n in answers if n is not None]
    share = len(named) / len(answers)
    print(f"wrong answers: {len(answers)}, named: {len(named)} ({share:.0%})")
    assert share >= 0.8, f"only {len(named)} of {len(answers)} named"


@pytest.mark.parametrize("module, exercise", ALL_EXERCISES, ids=[f"{m}-{e.number}" for m, e in ALL_EXERCISES])
def test_checking_the_reference_solution_prints_no_warning(module, exercise):
    # The check runs the named mistakes too (dividing by a zero standard deviation, ...): their
    # warnings must not reach the learner's notebook under a correct answer.
    import warnings

    import keras

    import tensorflow as tf

    namespace = {"np": np, "math": math, "keras": keras, "tf": tf}
    exec(exercise.solution_code, namespace)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = exercise.evaluate(namespace[exercise.answer_name])
    assert result.status is Status.CORRECT, result.message
    assert not caught, [str(w.message) for w in caught]
