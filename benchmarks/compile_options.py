"""Would XLA, or another thread count, train the course's models faster on this CPU?

    python3 course.py benchmark                         # the whole benchmark prints this table too
    .venv/bin/python benchmarks/compile_options.py      # this table alone (--repeats 3)

The course trains with Keras's defaults on a CPU: no XLA (``jit_compile`` is ``"auto"``,
which Keras turns off on a machine without a GPU) and TensorFlow's own thread pools, with op
determinism on (``setup_notebook``). This script measures the alternatives on three models
that carry most of the course's training time, each in the batch size, optimiser and
``steps_per_execution`` its notebook uses:

* ``backbone (06)``: the pretrained backbone's architecture with a 10-class head, trained from
  scratch as notebook 06 does (batches of 32 RGB images of 32 x 32);
* ``slope conv (05)``: ``slope_models.conv_model(32, 2)``, notebook 05's final model (batch 15);
* ``question (05)``: the question's dense model with ReLU, as in notebook 05's repair runs
  (batch 30).

Each setting runs in a fresh Python process, because threads and determinism are fixed once
TensorFlow starts. In each, every model is compiled, trained one epoch (which also traces its
graph: "first fit" below) and then trained for further epochs, ``--repeats`` times, timed
inside the epochs (the steps, without ``fit``'s own set-up and teardown). The settings
take turns, ``--rounds`` times over (on a shared 2-core machine the same run can take 30% longer
from one minute to the next), and the table gives, per model and setting, the median over the
rounds of each process's median milliseconds per gradient step, the range over the rounds, and
the first fit's seconds.

Keras refuses ``jit_compile=True`` while op determinism is on (it warns and trains without
XLA), so the XLA setting turns determinism off, and "no determinism" is its control: the
same process without XLA. The script reports whether XLA was really used.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# name: (op determinism, jit_compile, threads; None keeps TensorFlow's default of all cores)
SETTINGS = {
    "course default": (True, False, None),
    "1 thread": (True, False, 1),
    "no determinism": (False, False, None),
    "XLA (no determinism)": (False, True, None),
}
# The arm each setting's time per step is divided by: itself minus the one thing it changes.
CONTROL_OF = {"XLA (no determinism)": "no determinism"}
MODELS = ("backbone (06)", "slope conv (05)", "question (05)")
TIMED_EPOCHS = 2
RESULT_MARKER = "COMPILE_OPTIONS_RESULT="


def _build(keras, name: str):
    """A compiled-ready model, its training data and batch size, and its steps_per_execution."""
    import numpy as np

    from course_utils import backbone, slope_models

    rng = np.random.default_rng(0)
    if name == "backbone (06)":
        head = keras.layers.Dense(10, activation="softmax")
        model = keras.Sequential([backbone.build_backbone(name="scratch"), head])
        x, y = rng.random((512, 32, 32, 3), dtype="float32"), rng.integers(0, 10, 512)
        return model, (x, y), 32, 16, keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy"
    images = rng.integers(0, 256, (3000, 32, 32, 1)).astype("uint8")
    if name == "slope conv (05)":
        model = slope_models.conv_model(32, 2)
        targets = rng.normal(size=(3000, 2)).astype("float32")
        return model, (images, targets), 15, 25, keras.optimizers.Adam(1e-3), "mean_squared_error"
    model = slope_models.question_model(32, "relu", scale_inputs=False)
    ink, targets = 1 - images.astype("float32") / 255, rng.normal(size=3000).astype("float32")
    return model, (ink, targets), 30, 20, keras.optimizers.SGD(0.01), "mean_squared_error"


def _epoch_clock(keras):
    """A callback that adds up the time inside epochs: the steps, without fit's set-up and teardown."""

    class EpochClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds += time.perf_counter() - self._started

    return EpochClock()


def measure_setting(setting: str, repeats: int) -> dict:
    """In this process: train every model under one setting; milliseconds per step and more."""
    determinism, jit, threads = SETTINGS[setting]
    import warnings

    from course_utils import setup

    if determinism:  # the notebooks' own set-up, with this setting's threads
        setup.setup_notebook(seed=0, threads=threads, verbose=False)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np
    import tensorflow as tf

    if not determinism:  # the same set-up by hand: setup_notebook always turns determinism on
        if threads is not None:
            setup._set_tensorflow_threads(tf, threads)
        keras.utils.set_random_seed(0)
        setup._freeze_import_time_objects()
    results = {}
    for name in MODELS:
        model, (x, y), batch, per_call, optimizer, loss = _build(keras, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras's warning when it refuses XLA; reported below
            model.compile(optimizer=optimizer, loss=loss, steps_per_execution=per_call, jit_compile=jit)
        started = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        first_fit = time.perf_counter() - started
        steps = TIMED_EPOCHS * int(np.ceil(len(x) / batch))
        timings = []
        for _ in range(repeats):
            clock = _epoch_clock(keras)
            model.fit(x, y, batch_size=batch, epochs=TIMED_EPOCHS, verbose=0, callbacks=[clock])
            timings.append(clock.seconds)
        results[name] = {
            "ms_per_step": round(1000 * float(np.median(timings)) / steps, 2),
            "first_fit_seconds": round(first_fit, 2),
            "xla": bool(model.jit_compile),
        }
    return results


def measure(repeats: int, rounds: int = 2, settings=tuple(SETTINGS)) -> dict:
    """Every setting in its own process, the settings taking turns: {setting: {model: result}}.

    A result holds the median and the range over the rounds of milliseconds per step, the
    median first fit, and whether XLA was used in every round.
    """
    runs = {setting: [] for setting in settings}
    for round_number in range(1, rounds + 1):
        for setting in settings:
            print(f"  compile options, round {round_number}: {setting} ...", file=sys.stderr, flush=True)
            completed = subprocess.run(
                [sys.executable, __file__, "--setting", setting, "--repeats", str(repeats)],
                capture_output=True, text=True, cwd=ROOT, check=False,
            )  # fmt: skip
            lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
            if completed.returncode != 0 or not lines:
                raise RuntimeError(
                    f"the {setting!r} run failed (exit {completed.returncode}):\n{completed.stderr[-2000:]}"
                )
            runs[setting].append(json.loads(lines[-1][len(RESULT_MARKER) :]))
    return {setting: combine_rounds(results) for setting, results in runs.items()}


def combine_rounds(results: list[dict]) -> dict:
    """One setting's processes, {model: result} each, as {model: median, range and XLA use}."""
    import statistics

    combined = {}
    for model in results[0]:
        steps = [r[model]["ms_per_step"] for r in results]
        combined[model] = {
            "ms_per_step": round(statistics.median(steps), 2),
            "ms_per_step_range": [min(steps), max(steps)],
            "first_fit_seconds": round(statistics.median(r[model]["first_fit_seconds"] for r in results), 2),
            "xla": all(r[model]["xla"] for r in results),
        }
    return combined


def format_table(measured: dict) -> str:
    """Milliseconds per step (and the first fit) per model and setting, with each against the default."""
    settings = list(measured)
    lines = [
        "| model | " + " | ".join(settings) + " |",
        "|---|" + "---:|" * len(settings),
    ]
    for model in MODELS:
        cells = []
        for setting in settings:
            result = measured[setting][model]
            low, high = result.get("ms_per_step_range", [result["ms_per_step"]] * 2)
            cell = f"{result['ms_per_step']:.1f} ms [{low:.1f}-{high:.1f}]"
            cell += f" ({result['first_fit_seconds']:.1f} s)"
            reference = measured.get(CONTROL_OF.get(setting, "course default"))
            if reference is not None and setting != "course default":
                cell += f", x{result['ms_per_step'] / reference[model]['ms_per_step']:.2f}"
            if SETTINGS.get(setting, (None, False))[1] and not result["xla"]:
                cell += ", XLA refused"
            cells.append(cell)
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    lines.append(
        "\nmilliseconds per gradient step after the first fit, median over the rounds [range]; in "
        "parentheses: the first fit's seconds, tracing included; xN: time per step against the course "
        "default, and XLA's against the same process without XLA (no determinism); below 1 is faster"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed fits per model and setting (default: 3)"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="processes per setting, the settings taking turns (default: 2)"
    )
    parser.add_argument("--setting", choices=list(SETTINGS), help=argparse.SUPPRESS)  # one process's share
    args = parser.parse_args(argv)
    for option in ("repeats", "rounds"):
        if getattr(args, option) < 1:
            parser.error(f"--{option} must be at least 1, got {getattr(args, option)}")
    if args.setting:
        print(RESULT_MARKER + json.dumps(measure_setting(args.setting, args.repeats)))
        return 0
    print(format_table(measure(args.repeats, args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
