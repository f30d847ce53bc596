"""Values that cross the sandbox boundary as data: the learner's answers and the checks' inputs.

The grader never runs a check inside the learner's process. It calls the learner's function
through a narrow interface: the arguments go into the sandbox as data, the result comes back as
data, and the grader rebuilds it from that data alone, validating it on arrival. A notebook can
patch anything in its own process; all it can change is the data its function returns.

What can cross (anything else comes back as an :class:`Unsendable` placeholder, which no check
accepts):

* ``None``, bools, ints, floats (NaN and infinities too), strings, and lists, tuples, sets and
  dicts of these;
* NumPy scalars and arrays of numbers, bools or text (``.npy``, read with
  ``allow_pickle=False``);
* Keras models (a ``.keras`` file, loaded with ``safe_mode=True``: no Python code such as a
  ``Lambda`` layer's can come back) and single Keras layers (their config and weights);
* an ``EarlyStopping`` callback (its settings);
* ``tf.data`` datasets: into the sandbox as their elements; out of it as a *recording* of a few
  passes over them, with the names of their steps (:class:`RecordedDataset`);
* a few course objects whose state is plain data (:data:`COURSE_OBJECTS`).

A message is a JSON header and a list of binary blobs, each preceded by its length; every size
is capped (:data:`MAX_HEADER_BYTES`, :data:`MAX_BLOB_BYTES`, :data:`MAX_MESSAGE_BYTES`), and the
JSON tree's depth and size are capped too, so a hostile message costs the grader little.
"""

from __future__ import annotations

import builtins
import io
import json
import math
import os
import struct
import tempfile
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "Encoder",
    "Decoder",
    "WireError",
    "Unsendable",
    "RecordedDataset",
    "RaisedInNotebook",
    "pack",
    "read_message",
    "round_trip",
    "write_back",
    "current_seed",
    "set_seed",
    "COURSE_OBJECTS",
]

MAX_HEADER_BYTES = 8 * 2**20
MAX_BLOB_BYTES = 256 * 2**20
MAX_MESSAGE_BYTES = 512 * 2**20
MAX_BLOBS = 20_000  # one per array: a recorded dataset has a few thousand
MAX_DEPTH = 32
MAX_NODES = 200_000
MAX_TEXT = 1_000_000  # characters of one string
RECORDED_PASSES = 3  # passes over a returned dataset (a check compares epochs)
RECORDED_ELEMENTS = 200  # elements per pass; one more is read to tell an endless dataset
_LENGTH = struct.Struct("<Q")
_ARRAY_KINDS = "biufcU"  # bool, ints, floats, complex, text: never objects
# Course objects that travel as their attribute values (class path -> attribute names).
COURSE_OBJECTS = {"course_utils.scaling.LabelScaler": ("mean_", "scale_")}
_EARLY_STOPPING = ("monitor", "min_delta", "patience", "verbose", "mode", "baseline",
                   "restore_best_weights", "start_from_epoch")  # fmt: skip


class WireError(ValueError):
    """A message from the sandbox that is malformed or too large."""


class _TooLarge(Exception):
    """A value over the encoder's limits: it travels as one placeholder."""


class Unsendable:
    """Stands for a value that cannot leave the notebook (e.g. an object of the learner's class).

    It equals nothing but itself, is not a number and not callable, so every check refuses it,
    and its text says what it stands for.
    """

    def __init__(self, type_name: str, reason: str = "") -> None:
        self.type_name, self.reason = str(type_name)[:100], str(reason)[:300]

    def __repr__(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return f"<{self.type_name} object that cannot be graded{why}>"


class RaisedInNotebook(Exception):
    """An exception of a type the grader does not know, raised by the learner's function."""


class RecordedDataset:
    """What a ``tf.data`` dataset the learner returned gave on a few passes over it.

    Iterating gives the next recorded pass (elements as tensors, as a dataset's would be);
    ``chain`` lists its steps from source to end, e.g. ``['TensorSlice', 'Cache', 'Shuffle',
    'Batch', 'Map', 'Prefetch']``; ``cardinality()`` is what the dataset reported.
    """

    def __init__(self, chain: list[str], cardinality: int, passes: list[list]) -> None:
        self.chain, self._cardinality, self.passes, self._next = chain, cardinality, passes, 0

    def cardinality(self) -> int:
        return self._cardinality

    def __iter__(self):
        if self._next >= len(self.passes):
            raise WireError(f"only {len(self.passes)} passes over this dataset were recorded")
        elements = self.passes[self._next]
        self._next += 1
        return iter(elements)

    def __repr__(self) -> str:
        return f"<recorded dataset {' -> '.join(self.chain)}>"


def dataset_chain(dataset) -> list[str]:
    """A dataset's steps from its source to its end, read from tf.data's Python classes."""
    names = []
    while dataset is not None and len(names) < 50:
        names.append(type(dataset).__name__.strip("_").removesuffix("Dataset").replace("Parallel", ""))
        dataset = getattr(dataset, "_input_dataset", None)
    return names[::-1]


# ------------------------------------------------------------------------------------------
# Encoding
# ------------------------------------------------------------------------------------------


class Encoder:
    """Turns values into a JSON-able tree plus blobs.

    Parameters
    ----------
    workdir : str
        A folder for temporary model files.
    datasets : {"elements", "recording"}
        How a dataset travels: its elements (checks' inputs, into the sandbox) or a recording of
        passes over it (the learner's results, out of it).
    """

    def __init__(self, workdir: str, *, datasets: str = "elements") -> None:
        if datasets not in ("elements", "recording"):
            raise ValueError(f"datasets must be 'elements' or 'recording', got {datasets!r}.")
        self.workdir, self.datasets, self.blobs = workdir, datasets, []
        self._nodes, self._bytes = 0, 0
        self._keras_seen: dict[int, tuple[int, list[str]]] = {}  # id -> (model blob, layer path)
        self._keep: list = []  # objects whose ids are in _keras_seen stay alive meanwhile
        self._emitted: set[int] = set()  # model blobs already sent as a whole model

    def encode_arguments(self, values: list) -> dict:
        """Encode a call's arguments; a Keras layer inside another argument stays that layer.

        Models that contain other arguments are saved first, so an argument that is part of
        one (a backbone inside a classifier) arrives as a reference into it, not as a copy.
        """
        import sys

        if "keras" in sys.modules:
            keras = sys.modules["keras"]
            models = [v for v in values if isinstance(v, keras.Model)]
            for model in sorted(models, key=lambda m: -len(_all_layers(m))):
                if id(model) not in self._keras_seen:
                    try:
                        self._model_blob(model)
                    except Exception:  # noqa: BLE001,S110 - it then travels (or fails) on its own
                        pass
        return self.encode(list(values))

    def _model_node(self, model, blob: int, depth: int) -> dict:
        self._emitted.add(blob)
        node = {"t": "keras_model", "v": blob}
        if isinstance(getattr(model, "_fit_calls", None), list):
            node["record_fit"] = True  # a check's recording model: report its fit calls
        calls = getattr(model, "_course_fit_calls", None)
        if self.datasets == "recording" and isinstance(calls, list):
            node["fit_calls"] = self.encode(calls, depth + 1)
        # which layers were trainable when it was last compiled (a file only keeps the flags of
        # now, and Keras trains with those of the last compile)
        state = getattr(model, "_compiled_trainable_state", None)
        if isinstance(state, dict) and hasattr(model, "_flatten_layers"):
            node["compiled_trainable"] = [
                [type(layer).__name__, layer.name, None if layer not in state else bool(state[layer])]
                for layer in model._flatten_layers()
            ]
        return node

    def _model_blob(self, model) -> int:
        with tempfile.TemporaryDirectory(dir=self.workdir) as folder, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "saving a model that has not yet been built"
            path = os.path.join(folder, "model.keras")
            model.save(path)
            with open(path, "rb") as handle:
                blob = self._blob(handle.read())
        self._keras_seen[id(model)] = (blob, [])
        self._keep.append(model)
        for names, layer in _layer_paths(model):
            self._keras_seen.setdefault(id(layer), (blob, names))
        return blob

    def _blob(self, data: bytes) -> int:
        if len(data) > MAX_BLOB_BYTES:
            raise WireError(f"a value of {len(data) / 2**20:.0f} MB is larger than the "
                            f"{MAX_BLOB_BYTES / 2**20:.0f} MB one value may have")  # fmt: skip
        self._bytes += len(data)
        if self._bytes > MAX_MESSAGE_BYTES // 2 or len(self.blobs) >= MAX_BLOBS // 2:
            raise _TooLarge("it is too large to be graded")
        self.blobs.append(bytes(data))
        return len(self.blobs) - 1

    def encode(self, value: Any, depth: int = 0) -> dict:
        """The tree of ``value``; a value over the limits is one placeholder as a whole."""
        if depth == 0:
            self._nodes = 0
            try:
                tree = self._encode_node(value, 0)
            except (_TooLarge, RecursionError) as err:
                return _unsendable(value, str(err) or "it is nested too deeply")
            if len(json.dumps(tree)) > MAX_HEADER_BYTES // 2:
                return _unsendable(value, "its description is too large to send")
            return tree
        return self._encode_node(value, depth)

    def _encode_node(self, value: Any, depth: int) -> dict:
        self._nodes += 1
        if depth >= MAX_DEPTH or self._nodes > MAX_NODES:
            raise _TooLarge("it is nested too deeply or has too many parts to be graded")
        try:
            return self._encode(value, depth)
        except (_TooLarge, RecursionError):
            raise
        except WireError as err:
            return _unsendable(value, str(err))
        except Exception as err:  # noqa: BLE001 - e.g. a model that cannot be saved
            return _unsendable(value, f"{type(err).__name__}: {str(err)[:200]}")

    def _encode(self, value: Any, depth: int) -> dict:
        kind = type(value)
        if value is None or kind is bool:
            return {"t": "const", "v": value}
        if kind is int:
            return {"t": "int", "v": str(value)}
        if kind is float:
            return {"t": "float", "v": repr(value)}
        if kind is str:
            if len(value) > MAX_TEXT:
                raise WireError(f"a string of {len(value)} characters is too long")
            return {"t": "str", "v": value}
        if kind in (list, tuple, set, frozenset):
            items = sorted(value, key=repr) if kind in (set, frozenset) else value
            return {"t": kind.__name__, "v": [self.encode(v, depth + 1) for v in items]}
        if kind is dict:
            return {"t": "dict", "v": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                                       for k, v in value.items()]}  # fmt: skip
        if isinstance(value, np.generic) and value.dtype.kind in _ARRAY_KINDS:
            return {"t": "npscalar", "dtype": value.dtype.str, "v": self._blob(value.tobytes())}
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in _ARRAY_KINDS:
                raise WireError(f"an array of dtype {value.dtype} cannot be graded")
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(value), allow_pickle=False)
            return {"t": "array", "v": self._blob(buffer.getvalue())}
        return self._encode_library_object(value, depth)

    def _encode_library_object(self, value: Any, depth: int) -> dict:
        module = type(value).__module__ or ""
        path = f"{module}.{type(value).__qualname__}"
        if path in COURSE_OBJECTS:
            state = {name: getattr(value, name, None) for name in COURSE_OBJECTS[path]}
            return {"t": "course", "class": path, "v": self.encode(state, depth + 1)}
        if module.startswith(("keras", "tensorflow", "tf_keras")):
            import keras
            import tensorflow as tf

            if id(value) in self._keras_seen:  # the same object as one sent before
                blob, names = self._keras_seen[id(value)]
                if names or blob in self._emitted:
                    node = {"t": "keras_ref", "v": blob, "path": names}
                    calls = getattr(value, "_course_fit_calls", None)
                    if self.datasets == "recording" and isinstance(calls, list):
                        node["fit_calls"] = self.encode(calls, depth + 1)
                    return node
                return self._model_node(value, blob, depth)
            if isinstance(value, keras.Model):
                return self._model_node(value, self._model_blob(value), depth)
            if isinstance(value, keras.layers.Layer):
                config = json.dumps(keras.saving.serialize_keras_object(value))
                weights = [self.encode(np.asarray(w), depth + 1) for w in value.get_weights()]
                return {"t": "keras_layer", "config": config, "weights": weights}
            if type(value) is keras.callbacks.EarlyStopping:
                state = {name: getattr(value, name) for name in _EARLY_STOPPING}
                return {"t": "early_stopping", "v": self.encode(state, depth + 1)}
            if isinstance(value, tf.data.Dataset):
                return self._encode_dataset(value, depth)
            if isinstance(value, (tf.Tensor, tf.Variable)) or hasattr(value, "numpy"):
                return self._encode(np.asarray(value.numpy()), depth)
        raise WireError(f"an object of type {type(value).__name__} cannot leave the notebook")

    def _encode_dataset(self, dataset, depth: int) -> dict:
        if self.datasets == "elements":
            elements = [_to_numpy(e) for e in dataset.take(RECORDED_ELEMENTS + 1)]
            if len(elements) > RECORDED_ELEMENTS:
                raise WireError("a dataset given to the learner's function is too long")
            return {"t": "dataset_elements", "v": self.encode(elements, depth + 1),
                    "spec": _spec_text(dataset)}  # fmt: skip
        passes = []
        for _ in range(RECORDED_PASSES):
            elements = []
            for element in dataset:
                elements.append(_to_numpy(element))
                if len(elements) > RECORDED_ELEMENTS:
                    break
            passes.append(elements)
        return {"t": "dataset_recording", "chain": dataset_chain(dataset),
                "cardinality": int(dataset.cardinality()), "v": self.encode(passes, depth + 1)}  # fmt: skip


def _all_layers(model) -> list:
    return [layer for _, layer in _layer_paths(model)]


def _layer_paths(model, prefix=()) -> list:
    """(names from the model down to the layer, layer) for every layer, nested models too."""
    found = []
    for layer in getattr(model, "layers", []):
        names = [*prefix, layer.name]
        found.append((names, layer))
        if hasattr(layer, "layers") and len(found) < 5000:
            found.extend(_layer_paths(layer, names))
    return found


def _to_numpy(element):
    if isinstance(element, tuple):
        return tuple(_to_numpy(e) for e in element)
    if isinstance(element, dict):
        return {k: _to_numpy(v) for k, v in element.items()}
    return np.asarray(element.numpy()) if hasattr(element, "numpy") else element


def _spec_text(dataset) -> str:
    return str(dataset.element_spec)[:500]


def _unsendable(value: Any, reason: str) -> dict:
    return {"t": "unsendable", "type": type(value).__name__, "why": reason[:300]}


# ------------------------------------------------------------------------------------------
# Decoding: every node is validated; anything unexpected raises WireError
# ------------------------------------------------------------------------------------------


class Decoder:
    """Rebuilds values from a tree and blobs, validating each node.

    Parameters
    ----------
    blobs : list of bytes
    workdir : str
        A folder for temporary model files.
    tensors : bool
        Give dataset elements as tensors (in the grader, where checks read ``.numpy()``).
    """

    def __init__(self, blobs: list[bytes], workdir: str, *, tensors: bool = False) -> None:
        self.blobs, self.workdir, self.tensors = blobs, workdir, tensors
        self._nodes = 0
        self._models: dict[int, Any] = {}  # blob -> model: one object however often it is named
        self._vetted: dict[int, str | None] = {}
        self._weights = 0

    def _vet(self, index: Any) -> str | None:
        """Why the model in blob ``index`` must not be built; its weights count against the
        message's budget (twice one model's), so many models cannot add up either."""
        if index not in self._vetted:
            refused, weights = _vet_model(self._blob(index))
            self._weights += weights
            if refused is None and self._weights > 2 * MAX_MODEL_WEIGHTS:
                refused = "the models of this answer declare too many weights together"
            self._vetted[index] = refused
        return self._vetted[index]

    def _model(self, index: Any):
        blob = self._blob(index)
        if index not in self._models:
            self._models[index] = _load_model(blob, self.workdir)
        return self._models[index]

    def _blob(self, index: Any) -> bytes:
        if type(index) is not int or not 0 <= index < len(self.blobs):
            raise WireError(f"a value refers to blob {index!r}, which the message does not have")
        return self.blobs[index]

    def decode(self, node: Any, depth: int = 0) -> Any:
        self._nodes += 1
        if depth > MAX_DEPTH or self._nodes > MAX_NODES:
            raise WireError("the value is nested too deeply or too large")
        if type(node) is not dict or type(node.get("t")) is not str:
            raise WireError(f"expected a tagged value, got {str(node)[:80]}")
        decode = _DECODERS.get(node["t"])
        if decode is None:
            raise WireError(f"unknown kind of value {node['t'][:40]!r}")
        try:
            return decode(self, node, depth)
        except WireError:
            raise
        except Exception as err:  # noqa: BLE001 - any malformed node is the sender's error
            raise WireError(f"a {node['t'][:40]} value could not be read: {type(err).__name__}: "
                            f"{str(err)[:200]}") from err  # fmt: skip

    def _items(self, node, depth) -> list:
        items = node["v"]
        if type(items) is not list:
            raise WireError("a collection without a list of items")
        return [self.decode(v, depth + 1) for v in items]


def _decode_const(decoder, node, depth):
    if node["v"] not in (None, True, False) or type(node["v"]) not in (type(None), bool):
        raise WireError("a constant that is not None, True or False")
    return node["v"]


def _decode_int(decoder, node, depth):
    text = node["v"]
    if type(text) is not str or len(text) > 4300:  # Python's own limit for str -> int
        raise WireError("an int that is not a short decimal string")
    return int(text)


def _decode_float(decoder, node, depth):
    text = node["v"]
    if type(text) is not str or len(text) > 40:
        raise WireError("a float that is not a short string")
    return float(text)


def _decode_str(decoder, node, depth):
    if type(node["v"]) is not str or len(node["v"]) > MAX_TEXT:
        raise WireError("a string that is not a string, or too long")
    return node["v"]


def _decode_dict(decoder, node, depth):
    pairs = node["v"]
    if type(pairs) is not list or any(type(p) is not list or len(p) != 2 for p in pairs):
        raise WireError("a dict that is not a list of pairs")
    result = {}
    for key, value in pairs:
        key = decoder.decode(key, depth + 1)
        try:
            hash(key)
        except TypeError:
            raise WireError(f"a dict key of type {type(key).__name__}, which is not hashable") from None
        result[key] = decoder.decode(value, depth + 1)
    return result


def _decode_npscalar(decoder, node, depth):
    dtype = np.dtype(node["dtype"])
    if dtype.kind not in _ARRAY_KINDS:
        raise WireError(f"a scalar of dtype {dtype}")
    return np.frombuffer(decoder._blob(node["v"]), dtype=dtype, count=1)[0]


def _decode_array(decoder, node, depth):
    array = np.load(io.BytesIO(decoder._blob(node["v"])), allow_pickle=False)
    if array.dtype.kind not in _ARRAY_KINDS:
        raise WireError(f"an array of dtype {array.dtype}")
    return array


def _decode_course(decoder, node, depth):
    path = node["class"]
    if path not in COURSE_OBJECTS:
        raise WireError(f"{str(path)[:80]} is not a course object that may cross")
    module_name, class_name = path.rsplit(".", 1)
    import importlib

    cls = getattr(importlib.import_module(module_name), class_name)
    state = decoder.decode(node["v"], depth + 1)
    if type(state) is not dict or set(state) != set(COURSE_OBJECTS[path]):
        raise WireError(f"the state of a {class_name} must have exactly {COURSE_OBJECTS[path]}")
    if any(v is not None and type(v) not in (int, float, np.float64) for v in state.values()):
        raise WireError(f"the state of a {class_name} must be numbers")
    value = cls.__new__(cls)
    value.__dict__.update(state)
    return value


def _decode_keras_model(decoder, node, depth):
    refused = decoder._vet(node["v"])
    if refused:
        return Unsendable("Model", refused)
    try:
        model = decoder._model(node["v"])
    except WireError:
        raise
    except Exception as err:  # noqa: BLE001 - e.g. a Lambda layer, which safe mode refuses
        lambdas = "it has a Lambda layer; " if _has_lambda(decoder._blob(node["v"])) else ""
        return Unsendable("Model", f"{lambdas}safe mode refused it: {type(err).__name__}: {str(err)[:200]}")
    if node.get("record_fit") is True:
        _record_fit_calls(model)
    if "compiled_trainable" in node:
        recorded, layers = node["compiled_trainable"], list(model._flatten_layers())
        if type(recorded) is not list or len(recorded) != len(layers) or any(
            type(r) is not list or len(r) != 3 or type(r[0]) is not str or type(r[1]) is not str
            or type(r[2]) not in (bool, type(None)) for r in recorded
        ):
            raise WireError("a compile-time trainable state that does not match the model's layers")
        flags: dict = {}  # (class, name) -> flags in order: layer order differs after loading
        for kind, name, flag in recorded:
            flags.setdefault((kind, name), []).append(flag)
        state = {}
        for layer in layers:
            found = flags.get((type(layer).__name__, layer.name))
            if not found:
                raise WireError("a compile-time trainable state that does not match the model's layers")
            flag = found.pop(0)
            if not layer.weights:  # e.g. an InputLayer, whose flag a file does not keep
                state[layer] = layer.trainable
            elif flag is not None:
                state[layer] = flag
        object.__setattr__(model, "_compiled_trainable_state", state)
    if "fit_calls" in node:
        calls = decoder.decode(node["fit_calls"], depth + 1)
        if type(calls) is not list:
            raise WireError("fit calls that are not a list")
        object.__setattr__(model, "_course_fit_calls", calls)
    return model


MAX_MODEL_LAYERS = 300
MAX_MODEL_WEIGHTS = 32 * 2**20  # numbers (128 MB of float32): the course's largest has 2.3 M
_SIZE_KEYS = ("units", "filters", "input_dim", "output_dim", "num_heads", "key_dim", "value_dim",
              "depth_multiplier", "groups")  # fmt: skip


def _declared_weights(layer: dict, widest: int) -> int:
    """How many numbers a layer's config makes Keras allocate when it is built (an estimate for
    the weighted layer types; 0 for the others). Without a recorded input shape, the widest
    size in the model stands for its input width. Read from data, before anything is built."""
    config = layer.get("config") if isinstance(layer.get("config"), dict) else {}
    shape = (layer.get("build_config") or {}).get("input_shape") if isinstance(layer.get("build_config"), dict) else None
    last = shape[-1] if isinstance(shape, list) and shape and type(shape[-1]) is int else widest
    kernel = config.get("kernel_size", 1)
    area = math.prod(kernel) if isinstance(kernel, list) and all(type(k) is int for k in kernel) else (
        kernel if type(kernel) is int else 1)  # fmt: skip
    sizes = {key: config.get(key) for key in _SIZE_KEYS}
    numbers = {k: v if type(v) is int and v > 0 else 1 for k, v in sizes.items()}
    kind = str(layer.get("class_name", ""))
    if kind in ("Dense", "EinsumDense"):
        return numbers["units"] * (last + 1) if kind == "Dense" else widest * (last + 1)
    if kind.startswith(("Conv", "Conv1D", "Conv2D", "Conv3D")):
        return area * last * numbers["filters"] + numbers["filters"]
    if kind.startswith("Depthwise"):
        return area * last * numbers["depth_multiplier"]
    if kind.startswith("Separable"):
        return area * last * numbers["depth_multiplier"] + last * numbers["depth_multiplier"] * numbers["filters"]
    if kind == "Embedding":
        return numbers["input_dim"] * numbers["output_dim"]
    if kind in ("LSTM", "GRU", "SimpleRNN", "LSTMCell", "GRUCell", "SimpleRNNCell"):
        return 4 * numbers["units"] * (last + numbers["units"] + 1)
    if kind.startswith("ConvLSTM"):
        return 4 * area * numbers["filters"] * (last + numbers["filters"] + 1)
    if kind in ("MultiHeadAttention", "GroupQueryAttention"):
        return 4 * numbers["num_heads"] * max(numbers["key_dim"], numbers["value_dim"]) * (last + 1)
    return 4 * last if "Normalization" in kind else 0


MAX_CONFIG_INT = 4096  # units, filters, shapes, vocabulary: the course's largest is 512
MAX_CONFIG_FACTOR = 64  # sizes that multiply activations: up-sampling, repeats, strides, padding
_FACTOR_KEYS = ("size", "n", "strides", "dilation_rate", "padding", "cropping", "pool_size")
_FREE_KEYS = ("seed", "keras_history", "registered_name", "shared_object_id")  # ints here are not sizes


def _vet_config(config) -> tuple[str | None, int]:
    """Why a model or layer config must not be built, or None; and the weights it declares.

    Every object in it must name a ``keras`` module (no legacy objects without one), every
    number a size is capped (:data:`MAX_CONFIG_INT`, and :data:`MAX_CONFIG_FACTOR` for sizes
    that multiply activations), at most :data:`MAX_MODEL_LAYERS` layers and
    :data:`MAX_MODEL_WEIGHTS` weights are declared. Read as data, before anything is built.
    """
    layers, total, todo, widest = 0, 0, [(config, "")], 1
    weighted = []
    while todo:
        node, key = todo.pop()
        if key in _FREE_KEYS:
            continue
        if isinstance(node, dict):
            kind = node.get("class_name")
            if kind is not None:
                module = node.get("module")
                dunder = isinstance(kind, str) and kind.startswith("__") and kind.endswith("__")
                if not dunder and not (isinstance(module, str) and module.split(".")[0] == "keras"):
                    return f"its config has an object {str(kind)[:40]!r} of module {str(module)[:40]!r}", 0
                if not dunder and isinstance(node.get("config"), dict):
                    layers += 1
                    weighted.append(node)
                    if layers > MAX_MODEL_LAYERS:
                        return f"it declares more than {MAX_MODEL_LAYERS} layers", 0
            todo.extend((value, str(name)) for name, value in node.items())
        elif isinstance(node, list):
            todo.extend((value, key) for value in node)
        elif type(node) is int:
            limit = MAX_CONFIG_FACTOR if key in _FACTOR_KEYS else MAX_CONFIG_INT
            if node > limit:
                return f"it declares a {key or 'size'} of {node:,}, over the {limit:,} a graded model may have", 0
            if key in ("batch_shape", "input_shape", "shape", "units", "filters", "output_dim"):
                widest = max(widest, node)
    for layer in weighted:
        total += _declared_weights(layer, widest)
    if total > MAX_MODEL_WEIGHTS:
        return f"it declares about {total:,} weights, more than the {MAX_MODEL_WEIGHTS:,} a graded model may have", 0
    return None, total


def _vet_model(data: bytes) -> tuple[str | None, int]:
    """:func:`_vet_config` of a ``.keras`` file's config."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("config.json")
            if info.file_size > MAX_HEADER_BYTES:
                return f"its config has {info.file_size:,} bytes", 0
            config = json.loads(archive.read(info))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, RecursionError) as err:
        return f"it is not a readable .keras file ({type(err).__name__})", 0
    return _vet_config(config)


def _has_lambda(data: bytes) -> bool:
    """Whether a ``.keras`` file's config names a Lambda layer (read as JSON, never run)."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            config = archive.read("config.json")[:MAX_HEADER_BYTES]
    except (zipfile.BadZipFile, KeyError, OSError):
        return False
    return b'"class_name": "Lambda"' in config


def _decode_keras_ref(decoder, node, depth):
    refused = decoder._vet(node["v"])
    if refused:
        return Unsendable("Layer", refused)
    try:
        found = decoder._model(node["v"])
    except Exception as err:  # noqa: BLE001 - as for a whole model
        return Unsendable("Layer", f"its model cannot be loaded in safe mode: {type(err).__name__}")
    names = node["path"]
    if type(names) is not list or len(names) > 50 or any(type(n) is not str for n in names):
        raise WireError("a layer reference whose path is not a list of names")
    for name in names:
        found = found.get_layer(name)
    if "fit_calls" in node:
        calls = decoder.decode(node["fit_calls"], depth + 1)
        if type(calls) is not list:
            raise WireError("fit calls that are not a list")
        object.__setattr__(found, "_course_fit_calls", calls)
    return found


def _load_model(data: bytes, workdir: str):
    """A model from ``.keras`` bytes, in safe mode, as usable as the one that was saved.

    A loaded ``Sequential`` has each layer called several times (once per node), so
    ``layer.output`` and ``model.outputs`` belong to different graphs and a sub-model built
    from them (Grad-CAM's) has no gradient path: such a model is cloned into a single graph,
    with its weights and compile settings.
    """
    import keras

    with tempfile.TemporaryDirectory(dir=workdir) as folder:
        path = os.path.join(folder, "model.keras")
        with open(path, "wb") as handle:
            handle.write(data)
        with warnings.catch_warnings():  # e.g. an optimizer state saved before it was built
            warnings.simplefilter("ignore")
            model = keras.saving.load_model(path, safe_mode=True)
    if isinstance(model, keras.Sequential) and any(len(layer._inbound_nodes) > 1 for layer in model.layers):
        clone = keras.models.clone_model(model)
        _set_weights(clone, model.get_weights())
        if model.compiled:
            clone.compile_from_config(model.get_compile_config())
        model = clone
    return model


def _set_weights(model, weights) -> None:
    """``set_weights``, then let layers that derive state from weights (Normalization) renew it."""
    model.set_weights(weights)
    for layer in _all_layers(model):
        if hasattr(layer, "finalize_state") and getattr(layer, "built", False):
            try:
                layer.finalize_state()
            except Exception:  # noqa: BLE001,S110 - a layer without adapted state to renew
                pass


def _record_fit_calls(model) -> None:
    """Remember what ``fit`` is given, as a check's recording model does in the grader."""
    calls, fit = [], model.fit

    def recording_fit(x=None, y=None, *args, **kwargs):
        epochs = kwargs.get("epochs", args[1] if len(args) > 1 else 1)
        calls.append([None if x is None else np.asarray(x), None if y is None else np.asarray(y), epochs])
        return fit(x, y, *args, **kwargs)

    object.__setattr__(model, "fit", recording_fit)
    object.__setattr__(model, "_course_fit_calls", calls)


def _decode_keras_layer(decoder, node, depth):
    import keras

    config = node["config"]
    if type(config) is not str or len(config) > 1_000_000:
        raise WireError("a layer config that is not a JSON string")
    config = json.loads(config)
    refused, _ = _vet_config(config)
    if refused or not (isinstance(config, dict) and config.get("class_name") not in ("Functional", "Sequential", "Model")):
        return Unsendable("Layer", refused or "a model where one layer was expected")
    layer = keras.saving.deserialize_keras_object(config, safe_mode=True)
    if not isinstance(layer, keras.layers.Layer) or isinstance(layer, keras.Model):
        raise WireError("a layer config that does not make one layer")
    weights = [decoder.decode(w, depth + 1) for w in node["weights"]]
    if weights:
        layer.set_weights(weights)
    return layer


def _decode_early_stopping(decoder, node, depth):
    import keras

    state = decoder.decode(node["v"], depth + 1)
    if type(state) is not dict or set(state) != set(_EARLY_STOPPING):
        raise WireError("an EarlyStopping without exactly its settings")
    plain = (str, int, float, bool, type(None), np.floating, np.integer)
    if any(not isinstance(v, plain) for v in state.values()):
        raise WireError("an EarlyStopping setting that is not a plain value")
    return keras.callbacks.EarlyStopping(**state)


def _decode_dataset_elements(decoder, node, depth):
    import tensorflow as tf

    elements = decoder.decode(node["v"], depth + 1)
    if not elements:
        raise WireError("an empty dataset")
    first = elements[0]
    if isinstance(first, tuple):
        columns = tuple(np.stack([e[i] for e in elements]) for i in range(len(first)))
        return tf.data.Dataset.from_tensor_slices(columns)
    return tf.data.Dataset.from_tensor_slices(np.stack(elements))


def _decode_dataset_recording(decoder, node, depth):
    chain, cardinality = node["chain"], node["cardinality"]
    if type(chain) is not list or any(type(c) is not str or len(c) > 60 for c in chain) or len(chain) > 60:
        raise WireError("a dataset recording whose steps are not short names")
    if type(cardinality) is not int:
        raise WireError("a dataset recording whose cardinality is not an int")
    passes = decoder.decode(node["v"], depth + 1)
    if type(passes) is not list or any(type(p) is not list for p in passes):
        raise WireError("a dataset recording whose passes are not lists")
    if decoder.tensors:
        import tensorflow as tf

        def tensors(element):
            if isinstance(element, tuple):
                return tuple(tensors(e) for e in element)
            if isinstance(element, dict):
                return {k: tensors(v) for k, v in element.items()}
            return tf.convert_to_tensor(element)

        passes = [[tensors(e) for e in p] for p in passes]
    return RecordedDataset(chain, cardinality, passes)


def _decode_unsendable(decoder, node, depth):
    return Unsendable(str(node.get("type", "?")), str(node.get("why", "")))


_DECODERS: dict[str, Callable] = {
    "const": _decode_const, "int": _decode_int, "float": _decode_float, "str": _decode_str,
    "list": lambda d, n, depth: d._items(n, depth),
    "tuple": lambda d, n, depth: tuple(d._items(n, depth)),
    "set": lambda d, n, depth: set(d._items(n, depth)),
    "frozenset": lambda d, n, depth: frozenset(d._items(n, depth)),
    "dict": _decode_dict, "npscalar": _decode_npscalar, "array": _decode_array,
    "course": _decode_course, "keras_model": _decode_keras_model, "keras_ref": _decode_keras_ref,
    "keras_layer": _decode_keras_layer, "early_stopping": _decode_early_stopping,
    "dataset_elements": _decode_dataset_elements, "dataset_recording": _decode_dataset_recording,
    "unsendable": _decode_unsendable,
}  # fmt: skip


# ------------------------------------------------------------------------------------------
# Exceptions raised by the learner's function
# ------------------------------------------------------------------------------------------


def encode_exception(err: BaseException) -> dict:
    return {"type": type(err).__name__[:100], "message": str(err)[:2000]}


def rebuild_exception(found: Any) -> Exception:
    """A built-in exception type stays itself (checks match mistakes by type); others are named."""
    if type(found) is not dict or type(found.get("type")) is not str or type(found.get("message")) is not str:
        raise WireError("an exception report without a type name and a message")
    name, message = found["type"][:100], found["message"][:2000]
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception) and not issubclass(cls, OSError):
        try:
            return cls(message)
        except Exception:  # noqa: BLE001 - a built-in with another signature
            pass
    if not name.isidentifier():
        name = "Exception"
    return type(name, (RaisedInNotebook,), {})(message)


# ------------------------------------------------------------------------------------------
# Framing
# ------------------------------------------------------------------------------------------


def pack(header: dict, blobs: list[bytes] = ()) -> bytes:
    """One message: header length, JSON header, blob count, then each blob's length and bytes."""
    text = json.dumps(header, allow_nan=False).encode()
    parts = [_LENGTH.pack(len(text)), text, _LENGTH.pack(len(blobs))]
    for blob in blobs:
        parts += [_LENGTH.pack(len(blob)), blob]
    return b"".join(parts)


def read_message(read_exact: Callable[[int], bytes]) -> tuple[dict, list[bytes]]:
    """Read one message with ``read_exact(n)``; :class:`WireError` if it breaks a rule."""
    size = _LENGTH.unpack(read_exact(_LENGTH.size))[0]
    if size > MAX_HEADER_BYTES:
        raise WireError(f"a message header of {size} bytes is over the limit")
    try:
        header = json.loads(read_exact(size))
    except (ValueError, RecursionError) as err:  # not JSON, nested past Python's limit, huge ints
        raise WireError(f"a message header that is not usable JSON: {type(err).__name__}: {str(err)[:100]}") from None
    if type(header) is not dict:
        raise WireError("a message header that is not a JSON object")
    count = _LENGTH.unpack(read_exact(_LENGTH.size))[0]
    if count > MAX_BLOBS:
        raise WireError(f"a message with {count} blobs is over the limit of {MAX_BLOBS}")
    blobs, total = [], size
    for _ in range(count):
        length = _LENGTH.unpack(read_exact(_LENGTH.size))[0]
        total += length
        if length > MAX_BLOB_BYTES or total > MAX_MESSAGE_BYTES:
            raise WireError(f"a message of more than {min(total, MAX_MESSAGE_BYTES) / 2**20:.0f} MB "
                            "is over the limit")  # fmt: skip
        blobs.append(read_exact(length))
    return header, blobs


def write_back(originals, after) -> None:
    """Copy what the learner's function did to its arguments onto the grader's own copies.

    Checks must pass fresh objects (or copies): an argument kept between learners would carry
    one learner's changes into the next one's grading.

    Arrays, lists and dicts are changed in place (as the function changed its copies); other
    arguments are left as they are. A check that compares arguments before and after a call
    then sees an answer that changes its inputs.
    """
    if type(after) is not list or len(after) != len(originals):
        return
    for original, changed in zip(originals, after, strict=True):
        if isinstance(original, np.ndarray) and isinstance(changed, np.ndarray):
            if changed.shape == original.shape and original.flags.writeable:
                np.copyto(original, changed, casting="unsafe")
        elif type(original) is list and type(changed) is list:
            original[:] = changed
        elif type(original) is dict and type(changed) is dict:
            original.clear()
            original.update(changed)
        elif hasattr(original, "get_weights") and hasattr(changed, "get_weights"):
            _write_back_model(original, changed)


def _write_back_model(original, changed) -> None:
    """Weights, trainable flags and fit calls of a Keras argument the function changed."""
    before, after = original.get_weights(), changed.get_weights()
    if len(before) == len(after) and all(b.shape == a.shape for b, a in zip(before, after, strict=True)):
        _set_weights(original, after)
    layers_before, layers_after = _all_layers(original), _all_layers(changed)
    if [type(x).__name__ for x in layers_before] == [type(x).__name__ for x in layers_after]:
        # outermost first: setting a model's flag sets all its layers', then each gets its own
        original.trainable = bool(changed.trainable)
        for mine, theirs in zip(layers_before, layers_after, strict=True):
            mine.trainable = bool(theirs.trainable)
    calls = getattr(changed, "_course_fit_calls", None)
    if isinstance(getattr(original, "_fit_calls", None), list) and isinstance(calls, list):
        original._fit_calls.extend(tuple(call) for call in calls if type(call) is list and len(call) == 3)


def current_seed() -> int | None:
    """The seed a check last gave ``keras.utils.set_random_seed`` (None if Keras is not in use).

    The learner's function is called in the sandbox right after the same seed is set there, so
    its random initial weights are the ones it would draw in the learner's own notebook.
    """
    import sys

    if "keras" not in sys.modules:
        return None
    from keras.src.backend.common import global_state

    seed = global_state.get_global_attribute("global_random_seed")
    return seed if type(seed) is int else None


def set_seed(seed: int | None) -> None:
    if seed is not None:
        import keras

        keras.utils.set_random_seed(seed)


def answer_call(function: Callable, args: list, kwargs: dict, workdir: str) -> tuple[dict, list[bytes]]:
    """The sandbox's side of a call: run the learner's function, reply with data only.

    The reply holds the result (or the exception raised) and the arguments as they are after
    the call, in one message: a model both returned and given keeps one identity.
    """
    encoder = Encoder(workdir, datasets="recording")
    reply: dict = {"op": "called"}
    try:
        result = function(*args, **kwargs)
        reply["result"] = encoder.encode(result)
    except BaseException as err:  # noqa: BLE001 - every failure is the learner's answer
        reply["raised"] = encode_exception(err)
    reply["args_after"] = encoder.encode_arguments(list(args))
    return reply, encoder.blobs


def receive_call(reply: Any, blobs: list[bytes], args: tuple, workdir: str):
    """The grader's side of a call: write the arguments back, then raise or return as the function did.

    Raises
    ------
    WireError
        If the reply is malformed (the caller decides what that costs).
    """
    if type(reply) is not dict or reply.get("op") != "called" or ("raised" in reply) == ("result" in reply):
        raise WireError("a call's reply must hold either a result or an exception")
    decoder = Decoder(blobs, workdir, tensors=True)
    if "args_after" in reply:
        try:
            write_back(args, decoder.decode(reply["args_after"]))
        except WireError:
            pass  # the check's arguments stay as the check made them
    if "raised" in reply:
        raise rebuild_exception(reply["raised"])
    try:
        return decoder.decode(reply["result"])
    except WireError as err:  # a result that cannot be rebuilt is the answer's problem only
        return Unsendable("result", str(err))


def round_trip(answer: Callable, workdir: str | None = None) -> Callable:
    """``answer`` as the grader sees it: arguments and result each sent through the wire.

    For tests and for authors of checks: a check must give the same verdict on
    ``round_trip(f)`` as on ``f`` itself, or it would grade differently from how it checks.
    """
    folder = workdir or tempfile.gettempdir()

    def through_the_wire(*args, **kwargs):
        seed = current_seed()
        sent = Encoder(folder)
        tree = sent.encode_arguments([*args, kwargs])
        header, blobs = read_message(_reader(pack({"args": tree}, sent.blobs)))
        *call_args, call_kwargs = Decoder(blobs, folder).decode(header["args"])
        set_seed(seed)
        reply, reply_blobs = answer_call(answer, call_args, call_kwargs, folder)
        header, blobs = read_message(_reader(pack(reply, reply_blobs)))
        return receive_call(header, blobs, args, folder)

    through_the_wire.__name__ = getattr(answer, "__name__", "answer")
    try:
        import inspect

        through_the_wire.__signature__ = inspect.signature(answer)
    except (TypeError, ValueError):
        pass
    return through_the_wire


def _reader(data: bytes) -> Callable[[int], bytes]:
    view, position = memoryview(data), [0]

    def read_exact(n: int) -> bytes:
        start = position[0]
        if start + n > len(view):
            raise WireError("the message ends early")
        position[0] = start + n
        return bytes(view[start : start + n])

    return read_exact

