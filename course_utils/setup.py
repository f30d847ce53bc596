"""The one call every notebook makes first: seeds, determinism, threads, plot style, versions."""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import random
import sys

import numpy as np

from course_utils._validation import check_int, check_number

#: Environment variable holding the learner's scale factor (see :func:`scaled`).
SCALE_VARIABLE = "COURSE_SCALE"

# Matplotlib defaults shared by all notebooks: small figures that fit a laptop screen,
# nearest-neighbour interpolation so 8x8 digits look like pixels rather than blurs.
PLOT_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 80,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.interpolation": "nearest",
    "image.cmap": "gray",
}


def setup_notebook(seed: int = 42, threads: int | None = None, verbose: bool = True) -> str:
    """Make a notebook reproducible and quiet, and report what it runs on.

    Call this in the first code cell, before anything builds a TensorFlow op.

    Parameters
    ----------
    seed : int, default=42
        Seed for Python's ``random``, NumPy and TensorFlow (through
        ``keras.utils.set_random_seed``).
    threads : int or None, default=None
        Number of CPU threads TensorFlow may use inside and between ops. ``None`` keeps
        TensorFlow's default (all cores).
    verbose : bool, default=True
        Print the one-line version report.

    Returns
    -------
    str
        The version report, e.g. ``"Python 3.11.7 | TensorFlow 2.21.0 | Keras 3.15.1 | ..."``.

    Notes
    -----
    Op determinism makes repeated runs give the same numbers on the same machine; different
    CPUs or thread counts may still differ in the last digits, which is why notebooks assert
    headline results with a tolerance rather than exact values.
    """
    check_int(
        seed,
        "seed",
        minimum=0,
        maximum=2**32 - 1,  # NumPy's legacy seeding accepts no more
        hint="Pass a whole number such as setup_notebook(seed=42).",
    )
    if not isinstance(verbose, bool):
        raise TypeError(f"verbose must be True or False, got {verbose!r}.")
    if threads is not None:
        check_int(threads, "threads", minimum=1, hint="Pass None to use every core.")

    # Must be set before TensorFlow is imported. Level 3 also hides a spurious C++ "error"
    # that TF 2.21 logs on every Keras fit ("NodeDef mentions attribute
    # use_unbounded_threadpool"); real failures still raise Python exceptions.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("PYTHONHASHSEED", str(seed))

    with _native_stderr_silenced(enabled="tensorflow" not in sys.modules):
        import tensorflow as tf
    import keras
    import matplotlib
    import matplotlib.pyplot as plt

    if threads is not None:
        _set_tensorflow_threads(tf, threads)
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    plt.rcParams.update(PLOT_STYLE)
    _freeze_import_time_objects()

    gpus = tf.config.list_physical_devices("GPU")
    device = f"GPU x{len(gpus)}" if gpus else f"CPU ({os.cpu_count()} cores)"
    scale = course_scale()
    report = (
        f"Python {platform.python_version()} | TensorFlow {tf.__version__} | "
        f"Keras {keras.__version__} | NumPy {np.__version__} | "
        f"Matplotlib {matplotlib.__version__} | {device} | seed {seed}"
        + (f" | scale x{scale:g}" if scale != 1 else "")
    )
    if verbose:
        print(report, file=sys.stdout)
    return report


_frozen = False


def _freeze_import_time_objects() -> None:
    """Once per process: collect, then freeze what is alive (mostly TensorFlow and Keras).

    ``setup_notebook`` calls it in a notebook's kernel, and the test session after collection.

    The half million objects that importing TensorFlow and Keras leaves live for the whole
    session; frozen, Python's cycle collector no longer walks them on every full collection
    while models are built and trained (in one run of notebook 05 without this, a single full
    collection took 18 s). Only the first call freezes: a setup cell run again must not make the
    models and arrays of the cells before it impossible to free. Frozen objects no longer appear in
    ``gc.get_objects()``.
    """
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True


def course_scale() -> float:
    """The learner's scale factor for data and epochs: ``COURSE_SCALE``, default 1.

    The default runs every notebook within its time budget on a 2-core laptop CPU. A learner
    with time to spare starts JupyterLab with ``python3 course.py lab --scale 4`` (or sets
    ``COURSE_SCALE=4``) for a fuller run. Values below 1 are refused: the default is already
    the smallest run whose results the notebooks assert.
    """
    raw = os.environ.get(SCALE_VARIABLE, "1")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(
            f"{SCALE_VARIABLE} must be a number such as 2 or 4, got {raw!r}. Unset it for the "
            "default run."
        ) from None
    return check_number(
        value,
        SCALE_VARIABLE,
        minimum=1,
        hint="It scales data and epochs up from the default run; unset it for the default.",
    )


def scaled(count: int) -> int:
    """``count`` (epochs, images, ...) multiplied by the learner's scale factor, rounded.

    >>> scaled(15)  # with COURSE_SCALE unset   # doctest: +SKIP
    15
    """
    check_int(count, "count", minimum=1)
    return max(1, round(count * course_scale()))


@contextlib.contextmanager
def _native_stderr_silenced(enabled: bool = True):
    """Hide what C++ code writes to file descriptor 2 while TensorFlow loads.

    TensorFlow 2.21 logs oneDNN and CUDA notes through absl before ``TF_CPP_MIN_LOG_LEVEL``
    takes effect. Python exceptions are unaffected: they are shown after the block.
    """
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _set_tensorflow_threads(tf, threads: int) -> None:
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError as err:  # TensorFlow refuses once its runtime has started
        raise RuntimeError(
            "TensorFlow has already started, so its thread count can no longer change. "
            "Restart the kernel and call setup_notebook(threads=...) in the first cell."
        ) from err
