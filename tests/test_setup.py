"""setup_notebook: reproducible random numbers, a version report, and clear argument errors."""

import os
import random
from pathlib import Path

import numpy as np
import pytest

from course_utils import setup_notebook
from course_utils.setup import PLOT_STYLE


def _draws():
    import keras

    return random.random(), np.random.rand(), float(keras.random.uniform(()).numpy())


def test_same_seed_gives_the_same_numbers_and_another_seed_does_not():
    setup_notebook(seed=7, verbose=False)
    first = _draws()
    setup_notebook(seed=7, verbose=False)
    assert _draws() == first
    setup_notebook(seed=8, verbose=False)
    assert _draws() != first


def test_report_names_versions_device_and_seed(capsys):
    import keras
    import tensorflow as tf

    report = setup_notebook(seed=3)
    assert capsys.readouterr().out.strip() == report
    assert f"TensorFlow {tf.__version__}" in report
    assert f"Keras {keras.__version__}" in report
    assert "CPU" in report or "GPU" in report
    assert report.endswith("seed 3")


def test_plot_style_and_quiet_tensorflow_are_applied():
    import matplotlib.pyplot as plt

    setup_notebook(seed=1, verbose=False)
    assert plt.rcParams["image.interpolation"] == PLOT_STYLE["image.interpolation"]
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] in {"2", "3"}


def test_setup_freezes_the_objects_alive_after_importing_tensorflow():
    # In a fresh process, as in a notebook's kernel: before, nothing is frozen; after, the
    # hundreds of thousands of objects that TensorFlow and Keras leave are, and a full
    # collection no longer walks them.
    import subprocess
    import sys

    probe = (
        "import gc; before = gc.get_freeze_count()\n"
        "from course_utils import setup_notebook; setup_notebook(verbose=False)\n"
        "import keras; frozen = gc.get_freeze_count(); tracked = len(gc.get_objects())\n"
        "kept = [[i] for i in range(1000)]; setup_notebook(verbose=False)  # a setup cell run again\n"
        "print(before, frozen, tracked, gc.get_freeze_count())"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1], timeout=300)
    before, frozen, tracked, after_again = map(int, result.stdout.split())
    # (Python 3.12 and later freeze a few hundred objects of their own at start-up.)
    assert frozen - before > 100_000 and frozen > 2 * tracked, (before, frozen, tracked)
    assert after_again - frozen < 1000  # the second call did not freeze the 1,000 lists made since


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"seed": -1}, ValueError, "seed must be at least 0, got -1"),
        ({"seed": 1.5}, TypeError, "seed must be a whole number, got 1.5"),
        ({"seed": True}, TypeError, "seed must be a whole number"),
        ({"seed": 1, "threads": 0}, ValueError, "threads must be at least 1, got 0"),
    ],
)
def test_bad_arguments_are_refused_before_anything_changes(kwargs, error, match):
    with pytest.raises(error, match=match):
        setup_notebook(**kwargs)


def test_changing_threads_after_tensorflow_started_says_to_restart_the_kernel():
    import tensorflow as tf

    tf.constant(1.0) + 1.0  # start the runtime
    with pytest.raises(RuntimeError, match="Restart the kernel"):
        setup_notebook(seed=1, threads=1, verbose=False)


def test_scale_defaults_to_one_and_multiplies_counts(monkeypatch):
    from course_utils import scaled

    monkeypatch.delenv("COURSE_SCALE", raising=False)
    assert scaled(15) == 15
    monkeypatch.setenv("COURSE_SCALE", "2.5")
    assert scaled(15) == 38
    assert "scale x2.5" in setup_notebook(seed=1, verbose=False)


@pytest.mark.parametrize(
    "value, match",
    [("0.5", "at least 1"), ("four", "must be a number such as 2 or 4, got 'four'"), ("nan", "finite")],
)
def test_bad_scale_is_refused_with_the_fix(monkeypatch, value, match):
    from course_utils import scaled

    monkeypatch.setenv("COURSE_SCALE", value)
    with pytest.raises(ValueError, match=match):
        scaled(10)
