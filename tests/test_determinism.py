"""Same seed, same numbers: setup_notebook makes a notebook's training reproducible.

A short version of notebook 01's digit CNN (same data, layers, dropout, shuffling and
validation split; fewer samples and epochs) is trained twice after ``setup_notebook(seed=42)`` in this
process. Its headline numbers (per-epoch losses, test loss and accuracy, a checksum of the
weights) must agree to a relative tolerance of 1e-6; on the same machine and thread count they
are in fact identical. Two controls show the comparison can fail: another seed gives other
numbers, and so does a set-up whose seeding is switched off.

Then a whole notebook: 04 (seeded CNN trainings over several seeds, a scaler, a saved and reloaded model) executed
twice in fresh kernels must print the same numbers, to the same tolerance. Numbers from another
machine (another CPU, other vectorised kernels) may differ in the last digits, which is why the
notebooks assert thresholds rather than exact values.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from course_utils import setup_notebook

# Starts servers, browsers, kernels or whole pytest runs: `course.py check-pythons` leaves it out.
pytestmark = pytest.mark.integration

TOLERANCE = 1e-6  # relative; the stated reproducibility of a re-run on the same machine


def _headline_numbers(seed: int) -> np.ndarray:
    setup_notebook(seed=seed, verbose=False)
    import keras
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images[..., np.newaxis].astype("float32")[:900]
    labels = digits.target[:900]
    order = np.random.permutation(len(images))  # seeded by setup_notebook, like a notebook's
    images, labels = images[order], labels[order]
    model = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            keras.layers.Rescaling(1 / 16),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        images[:600], labels[:600], validation_split=0.15, epochs=2, batch_size=32, verbose=0
    )
    test_loss, test_accuracy = model.evaluate(images[600:], labels[600:], verbose=0)
    weights = sum(float(np.abs(w).sum()) for w in model.get_weights())
    return np.array(
        [*history.history["loss"], *history.history["val_loss"], test_loss, test_accuracy, weights]
    )


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return _headline_numbers(seed=42)


def test_training_twice_with_the_same_seed_gives_the_same_headline_numbers(reference):
    np.testing.assert_allclose(_headline_numbers(seed=42), reference, rtol=TOLERANCE, atol=0)


def test_another_seed_gives_other_numbers(reference):
    assert not np.allclose(_headline_numbers(seed=43), reference, rtol=TOLERANCE, atol=0)


def test_the_comparison_fails_when_seeding_is_switched_off(reference, monkeypatch):
    import random

    import keras

    for target, name in ((keras.utils, "set_random_seed"), (np.random, "seed"), (random, "seed")):
        monkeypatch.setattr(target, name, lambda *args, **kwargs: None)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(_headline_numbers(seed=42), reference, rtol=TOLERANCE, atol=0)


# --- a whole notebook, twice -----------------------------------------------------------------

NOTEBOOK = Path(__file__).resolve().parent.parent / "solutions" / "04_label_scaling.ipynb"
# Timings ("in 7.5 s", "(0.6 s)") legitimately differ between runs; every other number printed
# must not.
TIMING = re.compile(r"\d+(?:\.\d+)?\s*s\b")
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:e-?\d+)?")


def _printed_numbers(notebook_path: Path, workdir: Path) -> list[float]:
    from course_tools.execution import run_notebook
    from course_tools.student_notebooks import read_notebook

    notebook = read_notebook(notebook_path)
    workdir.mkdir()
    run_notebook(notebook, workdir, timeout=300)
    text = "\n".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream"
    )
    return [float(n.replace(",", "")) for n in NUMBER.findall(TIMING.sub("", text))]


def test_a_training_notebook_run_twice_prints_the_same_numbers(tmp_path):
    """Notebook 04 (seeded CNN trainings, a scaler, a saved model) in two fresh kernels.

    Every number it prints (errors in original units, scaler statistics, drift, predictions of the
    reloaded model; about 50) must agree to the same relative tolerance as above.
    """
    first = _printed_numbers(NOTEBOOK, tmp_path / "first")
    second = _printed_numbers(NOTEBOOK, tmp_path / "second")
    assert len(first) >= 30, f"expected the notebook's headline numbers, found {first}"
    np.testing.assert_allclose(second, first, rtol=TOLERANCE, atol=0)
