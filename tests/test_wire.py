"""Answers crossing the sandbox boundary as data (course_tools/grading/wire.py).

The grader runs each check in its own process and calls the learner's function in the sandbox
through the wire; ``wire.round_trip(f)`` is that path without the sandbox (the same encoders,
framing, decoders and call handling). Here:

* every exercise's reference solution passes its check through the wire, with the message it
  gets in the notebook; every named mistake of the answer tables is still named, and answers of
  the wrong kind are still refused with the check's own message: the grader decides as the
  notebook's check does;
* values are rebuilt only from data: a learner's class, an ``int`` whose ``==`` always says
  yes, an object array or a model with Python code in it arrive as placeholders no check
  accepts; malformed or oversized messages are refused;
* what a function does to its arguments, and which layer of a model an argument is, survive.
"""

from __future__ import annotations

import math
import tempfile

import numpy as np
import pytest
from test_exercise_answers import (
    ALL_EXERCISES,
    NAMED_MISTAKES,
    WRONG_KINDS,
    _exercise,
    naming_problems,
)

from course_tools.grading import wire
from course_utils.checks import Status


def _reference(exercise):
    from course_utils.exercises._keras_fit_checks import reference_function

    return reference_function(exercise)


def _crossed(value, *, datasets="recording"):
    """``value`` sent as the sandbox sends a result, and rebuilt as the grader rebuilds it."""
    folder = tempfile.mkdtemp()
    encoder = wire.Encoder(folder, datasets=datasets)
    tree = encoder.encode(value)
    header, blobs = wire.read_message(wire._reader(wire.pack({"v": tree}, encoder.blobs)))
    return wire.Decoder(blobs, folder, tensors=True).decode(header["v"])


# --- the grader decides as the notebook's check does ------------------------------------------


# The answer tables in full: as test_exercise_answers.py, left out of check-pythons.
@pytest.mark.slow
@pytest.mark.parametrize("module, exercise", ALL_EXERCISES, ids=[f"{m}-{e.number}" for m, e in ALL_EXERCISES])
def test_reference_solution_passes_through_the_wire_with_the_notebooks_message(module, exercise):
    reference = _reference(exercise)
    in_notebook = exercise.evaluate(reference)
    graded = exercise.evaluate(wire.round_trip(reference))
    assert graded.status is Status.CORRECT, graded.message
    assert graded.message == in_notebook.message


# The answer tables in full: as test_exercise_answers.py, left out of check-pythons.
@pytest.mark.slow
@pytest.mark.parametrize("module, number, answer, named", NAMED_MISTAKES,
                         ids=[f"{m}-{n}-{i}" for i, (m, n, *_) in enumerate(NAMED_MISTAKES)])  # fmt: skip
def test_named_mistake_is_still_named_through_the_wire(module, number, answer, named):
    others = {n for m, k, _, n in NAMED_MISTAKES if (m, k) == (module, number) and n != named}
    crossing = wire.round_trip(answer)
    crossing.__name__ = answer.__name__ = _exercise(module, number).answer_name
    problems = naming_problems(_exercise(module, number), crossing, named, others)
    assert not problems, problems


# A wrong kind of result crosses back the same way whatever the exercise (a constant), and each
# exercise's arguments cross as in its reference test above. So every exercise gets the two kinds
# that depend on it (nothing returned; its own first argument handed back), and every other kind
# is tried on the first exercise of each notebook. Left out of check-pythons, as above.
WRONG_KIND_CASES = [
    (module, exercise, kind)
    for module, exercise in ALL_EXERCISES
    for kind in WRONG_KINDS
    if kind in ("None (missing return)", "its first argument")
    or exercise is next(e for m, e in ALL_EXERCISES if m == module)
]


@pytest.mark.slow
@pytest.mark.parametrize("module, exercise, kind", WRONG_KIND_CASES,
                         ids=[f"{m}-{e.number}-{k}" for m, e, k in WRONG_KIND_CASES])  # fmt: skip
def test_answer_of_the_wrong_kind_is_refused_through_the_wire_as_in_the_notebook(module, exercise, kind):
    answer = WRONG_KINDS[kind]
    answer.__name__ = exercise.answer_name
    in_notebook = exercise.evaluate(answer)
    graded = exercise.evaluate(wire.round_trip(answer))
    assert graded.status is in_notebook.status is Status.INCORRECT
    if kind == "its first argument":  # a model or dataset shows as what crossed, e.g. a recording
        assert graded.message.startswith(exercise.label) and "could not compare" not in graded.message
    else:
        assert graded.message == in_notebook.message


def test_not_attempted_stays_not_attempted():
    _, exercise = ALL_EXERCISES[0]

    def stub(*args, **kwargs):
        raise NotImplementedError("write this")

    stub.__name__ = exercise.answer_name
    assert exercise.evaluate(wire.round_trip(stub)).status is Status.NOT_ATTEMPTED


# --- values are rebuilt from data only --------------------------------------------------------


def test_plain_values_arrive_as_they_left():
    value = {
        "ints": [0, -3, 10**30], "floats": (1.5, math.inf, -0.0), "text": "ünïcode",
        "set": {1, 2}, "frozen": frozenset({"a"}), "none": None, "flags": [True, False],
        ("tuple", "key"): np.float32(0.25), "int64": np.int64(7),
        "arrays": [np.arange(6, dtype=np.int16).reshape(2, 3), np.array(["a", "bc"]), np.zeros((0, 4))],
    }  # fmt: skip
    got = _crossed(value)
    assert got.keys() == value.keys()
    for key in ("ints", "floats", "text", "set", "frozen", "none", "flags"):
        assert got[key] == value[key] and type(got[key]) is type(value[key])
    assert math.isnan(_crossed(float("nan")))
    assert type(got[("tuple", "key")]) is np.float32 and got["int64"] == 7 and type(got["int64"]) is np.int64
    for sent, arrived in zip(value["arrays"], got["arrays"], strict=True):
        assert arrived.dtype == sent.dtype and np.array_equal(arrived, sent)


class _AlwaysEqual:
    def __eq__(self, other):
        return True


class _EqualInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class _EqualArray(np.ndarray):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value", [_AlwaysEqual(), _EqualInt(3), np.array([object()], dtype=object),
                                   lambda: 1, type("Mine", (), {})()],
                         ids=["always-equal object", "int subclass", "object array", "function", "own class"])  # fmt: skip
def test_objects_that_are_not_data_arrive_as_placeholders_no_check_accepts(value):
    got = _crossed(value)
    assert isinstance(got, wire.Unsendable)
    assert not (got == 3) and got != 3 and not callable(got) and not isinstance(got, (int, np.ndarray))
    assert "cannot" in repr(got)


def test_an_array_subclass_arrives_as_a_plain_array_without_its_equality():
    sent = np.arange(3).view(_EqualArray)
    got = _crossed(sent)
    assert type(got) is np.ndarray and np.array_equal(got, [0, 1, 2])
    assert not np.array_equal(got, [9, 9, 9])


def test_a_model_with_python_code_in_it_arrives_as_a_placeholder_naming_safe_mode():
    import keras

    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Lambda(lambda x: x * 2)])
    got = _crossed(model)
    assert isinstance(got, wire.Unsendable) and "safe mode" in repr(got)


def test_a_builtin_exception_keeps_its_type_and_others_keep_their_name():
    assert type(wire.rebuild_exception({"type": "ValueError", "message": "m"})) is ValueError
    assert type(wire.rebuild_exception({"type": "NotImplementedError", "message": ""})) is NotImplementedError
    mine = wire.rebuild_exception({"type": "IncorrectAnswer", "message": "forged"})
    assert type(mine).__name__ == "IncorrectAnswer" and isinstance(mine, wire.RaisedInNotebook)
    with pytest.raises(wire.WireError):
        wire.rebuild_exception({"type": 3, "message": "m"})


def _message(header: dict, blobs=()) -> bytes:
    return wire.pack(header, list(blobs))


@pytest.mark.parametrize(
    "data, error",
    [
        (wire._LENGTH.pack(wire.MAX_HEADER_BYTES + 1), "header"),
        (wire._LENGTH.pack(3) + b"{x}" + wire._LENGTH.pack(0), "not usable JSON"),
        (wire._LENGTH.pack(200_000) + b"[" * 100_000 + b"]" * 100_000 + wire._LENGTH.pack(0), "RecursionError"),
        (wire._LENGTH.pack(2) + b"[]" + wire._LENGTH.pack(0), "JSON object"),
        (wire._LENGTH.pack(2) + b"{}" + wire._LENGTH.pack(wire.MAX_BLOBS + 1), "blobs"),
        (wire._LENGTH.pack(2) + b"{}" + wire._LENGTH.pack(1) + wire._LENGTH.pack(wire.MAX_BLOB_BYTES + 1), "limit"),
        (_message({"op": "x"})[:-3], "ends early"),
    ],
    ids=["huge header", "not JSON", "nested past Python's limit", "not an object", "too many blobs",
         "huge blob", "cut short"],
)
def test_malformed_or_oversized_messages_are_refused(data, error):
    with pytest.raises(wire.WireError, match=error):
        wire.read_message(wire._reader(data))


@pytest.mark.parametrize(
    "tree",
    [
        {"t": "pickle", "v": "x"}, {"t": "array", "v": 5}, {"t": "int", "v": "1" * 5000},
        {"t": "const", "v": 3}, {"t": "course", "class": "os.system", "v": {"t": "dict", "v": []}},
        {"t": "dict", "v": [[{"t": "list", "v": []}, {"t": "const", "v": None}]]},
        {"t": "list", "v": [{"t": "list", "v": []}] * 3} | {"v": "not a list"},
    ],
    ids=["unknown kind", "missing blob", "huge int", "odd constant", "foreign class", "list key", "bad items"],
)
def test_forged_value_trees_are_refused(tree):
    with pytest.raises(wire.WireError):
        wire.Decoder([], tempfile.mkdtemp()).decode(tree)


def test_deeply_nested_values_are_refused_not_recursed_into():
    tree = {"t": "const", "v": None}
    for _ in range(wire.MAX_DEPTH + 5):
        tree = {"t": "list", "v": [tree]}
    with pytest.raises(wire.WireError, match="deeply"):
        wire.Decoder([], tempfile.mkdtemp()).decode(tree)


# --- what the call does to its arguments, and which layer an argument is ----------------------


def test_changes_to_array_list_and_dict_arguments_come_back():
    def changes_everything(array, items, table):
        array *= 2
        items.append(4)
        table["new"] = 1
        return None

    array, items, table = np.ones(3), [1, 2, 3], {"old": 0}
    wire.round_trip(changes_everything)(array, items, table)
    assert array.tolist() == [2, 2, 2] and items == [1, 2, 3, 4] and table == {"old": 0, "new": 1}


def test_a_backbone_given_with_its_model_is_the_layer_inside_that_model():
    import keras

    backbone = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, name="inner")], name="backbone")
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(backbone(inputs)))

    def freeze_and_report(model, backbone):
        backbone.trainable = False
        return [any(layer is backbone for layer in model.layers), len(model.trainable_weights)]

    assert wire.round_trip(freeze_and_report)(model, backbone) == [True, 2]
    # the change came back to the check's own backbone (a file keeps the flags of its layers)
    assert backbone.trainable_weights == [] and len(model.trainable_weights) == 2


def test_a_returned_dataset_arrives_as_a_recording_of_its_passes():
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(np.arange(10)).shuffle(10, seed=1).batch(4)
    got = _crossed(dataset)
    assert isinstance(got, wire.RecordedDataset)
    assert got.chain[-2:] == ["Shuffle", "Batch"] and int(got.cardinality()) == 3
    passes = [sorted(int(v) for batch in got for v in batch.numpy()) for _ in range(wire.RECORDED_PASSES)]
    assert passes == [list(range(10))] * wire.RECORDED_PASSES
    with pytest.raises(wire.WireError, match="passes"):
        iter(got)


def test_honest_but_unusual_results_cross_and_oversized_ones_become_one_placeholder():
    weights = dict(zip(np.unique([3, 1, 2]), np.array([0.5, 1.0, 2.0]), strict=True))  # NumPy keys
    got = _crossed(weights)
    assert got == {1: 0.5, 2: 1.0, 3: 2.0} and all(type(k) is np.int64 for k in got)
    assert _crossed({frozenset({1}): "a", (1, 2): "b"}) == {frozenset({1}): "a", (1, 2): "b"}
    too_many = _crossed(list(range(wire.MAX_NODES + 10)))
    too_deep = [[]]
    for _ in range(wire.MAX_DEPTH + 3):
        too_deep = [too_deep]
    for placeholder in (too_many, _crossed(too_deep)):
        assert isinstance(placeholder, wire.Unsendable) and "graded" in repr(placeholder)


def _keras_file(model) -> bytes:
    folder = tempfile.mkdtemp()
    path = f"{folder}/model.keras"
    model.save(path)
    with open(path, "rb") as handle:
        return handle.read()


def _edited(data: bytes, edit) -> bytes:
    import io
    import json
    import zipfile

    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "config.json":
                content = json.dumps(edit(json.loads(content))).encode()
            archive.writestr(item, content)
    return target.getvalue()


def test_model_files_are_vetted_before_anything_is_built():
    import keras

    honest = _keras_file(keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4, name="d")]))
    refused, weights = wire._vet_model(honest)
    assert refused is None and weights == 36

    def widen(config):
        config["config"]["layers"][1]["config"]["units"] = 5000
        return config

    def unmodule(config):
        del config["config"]["layers"][1]["module"]
        return config

    def deepen(config):
        config["config"]["layers"] += [config["config"]["layers"][1]] * (wire.MAX_MODEL_LAYERS + 1)
        return config

    for edit, reason in ((widen, "units of 5,000"), (unmodule, "module"), (deepen, "layers")):
        refused, _ = wire._vet_model(_edited(honest, edit))
        assert refused and reason in refused, refused
        folder = tempfile.mkdtemp()
        got = wire.Decoder([_edited(honest, edit)], folder).decode({"t": "keras_model", "v": 0})
        assert isinstance(got, wire.Unsendable) and reason in repr(got)
