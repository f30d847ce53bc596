"""Building blocks for checks whose answer is Keras code: look at the model, then run it.

The checks of every notebook use these to judge what a learner's model *does*, whatever way it
was written (``Sequential`` or the functional API, ``activation="softmax"``, a ``Softmax`` layer
or ``tf.nn.softmax``, a loss given as a string, an object or a function):

* :func:`as_model` - the answer as a ``keras.Model``, or :class:`IncorrectAnswer` saying what it is;
* :func:`all_layers` - every layer, those of nested models included;
* :func:`final_activation` - the name of the activation that makes an output ("softmax",
  "sigmoid", "linear", ...);
* :func:`compiled_loss` - the compiled loss as a :class:`LossInfo` (canonical name, ``from_logits``);
* :func:`optimizer_info` - the optimizer's class name and learning rate;
* :func:`parameter_counts` - trainable and non-trainable parameter counts;
* :func:`metric_names` - the canonical names of the compiled metrics;
* :func:`trainable_changed_since_compile` - whether ``trainable`` was changed after ``compile``;
* :func:`train_and_score` - train briefly on given arrays with a fixed seed, return a held-out
  metric.

Every function raises :class:`IncorrectAnswer` with a message for the learner when the model
lacks what it looks for (not compiled, no loss, ...), and ``TypeError`` / ``ValueError`` for a
misuse by a check's author. TensorFlow and Keras are imported inside the functions, so importing
this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from course_utils.checks import IncorrectAnswer

# Canonical loss names: the names of keras.losses' functions, whatever way the loss was given.
_LOSS_ALIASES = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "huber_loss": "huber",
    "meansquarederror": "mean_squared_error",
    "meanabsoluteerror": "mean_absolute_error",
    "sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
    "categoricalcrossentropy": "categorical_crossentropy",
    "binarycrossentropy": "binary_crossentropy",
}
# Layers that pass values through unchanged at inference: the activation is found before them.
_PASS_THROUGH = ("Dropout", "Flatten", "Reshape", "Identity", "InputLayer", "GaussianNoise", "SpatialDropout2D")


@dataclass(frozen=True)
class LossInfo:
    """A compiled loss as a check needs it.

    Attributes
    ----------
    name : str or None
        Canonical name, as the function in ``keras.losses`` is called
        (``"sparse_categorical_crossentropy"``, ``"mean_squared_error"``, ``"huber"``, ...);
        None for a custom loss without a recognisable name.
    from_logits : bool
        The loss's ``from_logits`` (False where the loss has no such option).
    loss : object
        The loss as the learner passed it to ``compile``.
    """

    name: str | None
    from_logits: bool
    loss: Any


LAMBDA_EXPLANATION = (
    "A Lambda layer holds Python code that a .keras file does not load safely: use Keras's own "
    "layers (Rescaling, Normalization)."
)


def as_model(value: Any, call: str):
    """``value`` if it is a ``keras.Model``, else :class:`IncorrectAnswer` naming what it is.

    ``call`` is the learner's call, shown in the message (e.g. ``"build_head(<backbone>, 3)"``).
    """
    import keras

    if isinstance(value, keras.Model):
        return value
    if type(value).__name__ == "Unsendable":  # the grader could not rebuild it (see course_tools)
        reason = getattr(value, "reason", "")
        extra = f" {LAMBDA_EXPLANATION}" if "Lambda" in reason else ""
        raise IncorrectAnswer(f"{call} returned a model that could not be loaded back safely ({reason}).{extra}")
    extra = ""
    if value is None:
        extra = (
            " Did the function end without `return model`? (model.compile(...) returns None: "
            "compile first, then return the model.)"
        )
    elif isinstance(value, keras.layers.Layer):
        extra = " Wrap the layers into a model: keras.Sequential([...]) or keras.Model(inputs, outputs)."
    raise IncorrectAnswer(f"{call} returned {type(value).__name__}, not a keras.Model.{extra}")


def all_layers(model) -> list:
    """The model's layers in order, each nested model followed by its own layers."""
    found = []
    for layer in model.layers:
        found.append(layer)
        if hasattr(layer, "layers"):
            found.extend(all_layers(layer))
    return found


def same_layer(layer, other) -> bool:
    """Whether ``layer`` is ``other``: the same object, or (when the model crossed into the
    grader as a file) a layer of the same class and name with the same weights."""
    if layer is other:
        return True
    if type(layer).__name__ != type(other).__name__ or layer.name != other.name:
        return False
    mine, theirs = layer.get_weights(), other.get_weights()
    return len(mine) == len(theirs) and all(
        a.shape == b.shape and np.array_equal(a, b) for a, b in zip(mine, theirs, strict=True)
    )


def find_layer(model, layer):
    """The layer of ``model`` (nested models included) that is ``layer`` (see :func:`same_layer`), or None."""
    return next((found for found in all_layers(model) if same_layer(found, layer)), None)


def _activation_name(function: Any) -> str:
    name = getattr(function, "__name__", None) or type(function).__name__
    name = name.lower()
    for known in ("softmax", "sigmoid", "linear", "relu", "tanh", "softplus", "exponential", "elu", "selu", "gelu"):
        if known in name:
            return known
    return name


def _producer(tensor):
    history = getattr(tensor, "_keras_history", None)
    return history.operation if history is not None else None


def _activation_of_layer(layer, inbound):
    """The activation name that ``layer`` applies last, or None to look at what feeds it."""
    kind = type(layer).__name__
    if kind == "Softmax":
        return "softmax"
    if kind in ("ReLU", "LeakyReLU", "ELU", "PReLU"):
        return "relu" if kind == "ReLU" else kind.lower()
    if hasattr(layer, "layers") and getattr(layer, "outputs", None):  # a nested model
        return final_activation(layer)
    if hasattr(layer, "activation") and layer.activation is not None:
        name = _activation_name(layer.activation)
        if kind == "Activation" and name == "linear":
            return None
        return name
    if kind in _PASS_THROUGH or inbound is not None and kind in ("Rescaling",):
        return None
    return "linear" if kind in ("Dense", "Conv2D", "EinsumDense") else kind


def final_activation(model, output: int | str = 0) -> str:
    """The name of the activation applied last to one of the model's outputs.

    Parameters
    ----------
    output : int or str
        The output's index or name (for models with several outputs).

    Returns
    -------
    str
        ``"softmax"``, ``"sigmoid"``, ``"linear"`` (no activation), ``"relu"``, ``"tanh"``, ...
        ``tf.nn.softmax`` and ``keras.activations.softmax`` both give ``"softmax"``; a
        ``Softmax`` or ``Activation("sigmoid")`` layer counts as the activation of the layer
        before it. Layers that leave values unchanged at inference (``Dropout``, ``Flatten``,
        ``Reshape``) are looked through; ``Rescaling`` after an activation is reported as that
        activation (a scaled sigmoid is still bounded). A layer of another kind is reported by
        its class name (e.g. ``"Normalization"``).
    """
    outputs = list(getattr(model, "outputs", None) or [])
    if not outputs:
        raise IncorrectAnswer("the model has no outputs yet; start it with keras.Input(shape=...).")
    names = list(getattr(model, "output_names", []) or [])
    if isinstance(output, str):
        if output not in names:
            raise ValueError(f"the model has no output named {output!r}; its outputs are {names}.")
        output = names.index(output)
    if not isinstance(output, int) or not 0 <= output < len(outputs):
        raise ValueError(f"output must be an index below {len(outputs)} or one of {names}, got {output!r}.")
    layer = _producer(outputs[output])
    for _ in range(100):  # walks back through pass-through layers; a cycle is impossible
        if layer is None:
            return "linear"
        inbound = None
        nodes = getattr(layer, "_inbound_nodes", None) or []
        if nodes and getattr(nodes[0], "input_tensors", None):
            inbound = _producer(nodes[0].input_tensors[0])
        name = _activation_of_layer(layer, inbound)
        if name is not None:
            return name
        layer = inbound
    return "linear"


def _canonical_loss_name(name: str | None) -> str | None:
    if not name:
        return None
    key = name.lower()
    return _LOSS_ALIASES.get(key, _LOSS_ALIASES.get(key.replace("_", ""), key))


def describe_loss(loss: Any) -> LossInfo:
    """A loss given as a string, a ``keras.losses`` object or a function, as a :class:`LossInfo`."""
    if isinstance(loss, str):
        import keras

        try:
            function = keras.losses.get(loss)
        except ValueError:
            return LossInfo(_canonical_loss_name(loss), False, loss)
        return LossInfo(_canonical_loss_name(getattr(function, "__name__", loss)), False, loss)
    config = {}
    if hasattr(loss, "get_config"):
        try:
            config = loss.get_config() or {}
        except Exception:  # noqa: BLE001 - a custom loss without a usable config
            config = {}
    function = getattr(loss, "fn", None)
    name = getattr(function, "__name__", None) or config.get("name") or getattr(loss, "name", None)
    name = name or getattr(loss, "__name__", None) or type(loss).__name__
    return LossInfo(_canonical_loss_name(name), bool(config.get("from_logits", False)), loss)


def compiled_loss(model) -> LossInfo | dict[str, LossInfo]:
    """The loss the model was compiled with: one :class:`LossInfo`, or a dict per output name.

    Raises :class:`IncorrectAnswer` for a model that is not compiled or has no loss.
    """
    if not getattr(model, "compiled", False) or getattr(model, "loss", None) is None:
        raise IncorrectAnswer(
            "the model is not compiled with a loss: call model.compile(optimizer=..., loss=..., "
            "metrics=[...]) before returning it."
        )
    loss = model.loss
    if isinstance(loss, dict):
        return {name: describe_loss(value) for name, value in loss.items()}
    if isinstance(loss, (list, tuple)):
        names = list(getattr(model, "output_names", []))
        return {name: describe_loss(value) for name, value in zip(names, loss, strict=False)}
    return describe_loss(loss)


def optimizer_info(model) -> tuple[str, float]:
    """(optimizer class name, learning rate as a float) of a compiled model.

    A learning-rate schedule is reported by its value at step 0.
    """
    import keras

    optimizer = getattr(model, "optimizer", None)
    if not getattr(model, "compiled", False) or optimizer is None:
        raise IncorrectAnswer("the model is not compiled: call model.compile(optimizer=..., loss=...).")
    rate = optimizer.learning_rate
    if isinstance(getattr(optimizer, "_learning_rate", None), keras.optimizers.schedules.LearningRateSchedule):
        rate = optimizer._learning_rate(0)
    value = rate.numpy() if hasattr(rate, "numpy") else rate
    return type(optimizer).__name__, float(np.asarray(value))


def parameter_counts(model) -> tuple[int, int]:
    """(trainable, non-trainable) parameter counts, as ``model.summary()`` shows them."""
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return trainable, frozen


_METRIC_ALIASES = {
    "acc": "accuracy",
    "sparse_categorical_accuracy": "accuracy",
    "categorical_accuracy": "accuracy",
    "mae": "mean_absolute_error",
    "mse": "mean_squared_error",
    "rmse": "root_mean_squared_error",
}


def metric_names(model) -> set[str]:
    """The canonical names of the metrics given to ``compile`` (for one output, or all outputs).

    ``"acc"``, ``"accuracy"``, ``SparseCategoricalAccuracy()`` and ``CategoricalAccuracy()`` all
    give ``"accuracy"``; binary accuracy stays ``"binary_accuracy"``; ``"mae"`` and
    ``MeanAbsoluteError()`` give ``"mean_absolute_error"``.
    """
    config = {}
    try:
        config = model.get_compile_config() or {}
    except Exception:  # noqa: BLE001 - not compiled
        config = {}
    given = config.get("metrics") if config else None
    if given is None:
        given = getattr(getattr(model, "_compile_metrics", None), "_user_metrics", None)
    found: set[str] = set()

    def visit(item):
        if item is None:
            return
        if isinstance(item, dict):
            if "class_name" in item and "config" in item:  # a serialised metric object
                visit(item["config"].get("name") or item["class_name"])
                return
            for value in item.values():
                visit(value)
        elif isinstance(item, (list, tuple)):
            for value in item:
                visit(value)
        else:
            name = item if isinstance(item, str) else getattr(item, "name", None) or getattr(item, "__name__", "")
            import re

            name = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() if name and name[0].isupper() else str(name).lower()
            found.add(_METRIC_ALIASES.get(name, name))

    visit(given)
    return found


def trainable_changed_since_compile(model) -> bool:
    """Whether some layer's ``trainable`` was changed after the model was last compiled.

    Keras builds its training step from the trainable weights when ``fit`` first runs after
    ``compile``; changing ``trainable`` later, without compiling again, is not seen by a model
    that has been trained before. Uses the state Keras records at ``compile``.
    """
    recorded = getattr(model, "_compiled_trainable_state", None)
    if recorded is None or not hasattr(model, "_flatten_layers"):
        return False
    current = {layer: layer.trainable for layer in model._flatten_layers()}
    return any(layer not in recorded or recorded[layer] != state for layer, state in current.items())


def accuracy(y_true, y_pred) -> float:
    """Share of rows whose largest output is the true class (integer or one-hot labels)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == y_pred.shape[-1] and y_pred.shape[-1] > 1:
        y_true = y_true.argmax(axis=-1)
    return float(np.mean(y_pred.argmax(axis=-1) == y_true.reshape(-1)))


def mean_absolute_error(y_true, y_pred) -> float:
    """Mean absolute error of predictions shaped like the labels or (N, 1)."""
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(np.abs(y_pred.reshape(y_true.shape) - y_true)))


_SCORES = {"accuracy": accuracy, "mae": mean_absolute_error}


def train_and_score(
    model,
    x_train,
    y_train,
    x_val,
    y_val,
    *,
    epochs: int,
    batch_size: int = 32,
    seed: int = 0,
    score: str | Callable = "accuracy",
    call: str = "the model",
) -> float:
    """Train ``model`` briefly with a fixed seed and return its score on held-out data.

    Parameters
    ----------
    model : keras.Model
        A compiled model (the learner's); it is trained in place.
    x_train, y_train, x_val, y_val : array-like
        Small fixed data: the check's budget is a few seconds on a 2-core CPU.
    epochs, batch_size : int
        The training budget.
    seed : int
        Passed to ``keras.utils.set_random_seed`` before training (batch order, dropout).
    score : {"accuracy", "mae"} or callable
        ``score(y_val, predictions)``; accuracy takes the arg-max of each row.
    call : str
        The learner's call, named in the message if training fails.

    Returns
    -------
    float
        The score on ``(x_val, y_val)``.
    """
    import keras

    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")
    scorer = _SCORES.get(score) if isinstance(score, str) else score
    if not callable(scorer):
        raise ValueError(f"score must be one of {sorted(_SCORES)} or a function, got {score!r}.")
    keras.utils.set_random_seed(seed)
    try:
        model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0)
        predictions = model.predict(x_val, verbose=0, batch_size=256)
    except Exception as err:
        raise IncorrectAnswer(
            f"training {call} on the check's data raised {type(err).__name__}: {str(err)[:300]}"
        ) from err
    if isinstance(predictions, dict):
        raise IncorrectAnswer(f"{call} has named outputs {sorted(predictions)}; this exercise wants a single output.")
    return float(scorer(y_val, np.asarray(predictions)))


def predict(model, x) -> np.ndarray:
    """The model's outputs on ``x`` as a float64 array (an eager call: no tracing)."""
    import keras

    return np.asarray(keras.ops.convert_to_numpy(model(np.asarray(x), training=False)), dtype=np.float64)
