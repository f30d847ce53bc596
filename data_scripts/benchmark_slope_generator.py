#!/usr/bin/env python3
"""Time the question's matplotlib image generator against the course's slope data generator.

The question (notebook 05's seed) drew every image with its own matplotlib figure: two
Rectangle patches, a scatter of 50 dots, savefig at dpi 20, then read the PNG files back into
a NumPy array. That generator is re-implemented here faithfully, for this comparison only.

Timed, for the same number of 100x100 images, one run each after a warm-up:

1. writing the data set as PNG files: the question's generator against the course's data script
   (``make_slope_dataset.write_dataset``: atomic writes, checksums, manifest) as it runs by
   default, one process per CPU core, and with one process. The issue's budget, at least 20
   times faster, is checked on the default and reported;
2. getting a training array: the question's PNG files read back, against
   ``make_slope_images`` drawing straight into an array (what notebook 05 does).

    python data_scripts/benchmark_slope_generator.py --count 1000

It reports whether the budget is met; it does not fail, like the rest of the benchmark.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

try:
    from course_utils import slope_data
except ModuleNotFoundError as error:  # course_utils and numpy come with the course's venv
    raise SystemExit(
        f"{error}. Run this script with the course's environment: "
        "`python3 course.py setup`, then `.venv/bin/python data_scripts/benchmark_slope_generator.py ...`."
    ) from None


#: The issue's requirement: the data script at least this many times faster than the question's.
SPEED_UP_BUDGET = 20


def question_generator(this_many: int, prefix: str, lim: int = 10, seed: int = 0) -> None:
    """The question's generate_data, unchanged apart from a seeded generator and no tqdm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Rectangle

    rng = np.random.default_rng(seed)
    for i in range(this_many):
        plt.figure(figsize=(5, 5))
        plt.xlim([-lim, lim])
        plt.ylim([-lim, lim])
        angle = rng.uniform(low=0, high=180)
        plt.gca().add_patch(Rectangle((0, 0), lim - 1, 1, angle=angle, facecolor="k"))
        plt.gca().add_patch(Rectangle((0, 0), -lim + 1, 1, angle=angle, facecolor="k"))
        xs = rng.uniform(low=-lim, high=lim, size=50)
        ys = rng.uniform(low=-lim, high=lim, size=50)
        plt.scatter(xs, ys, s=100, c="k")
        plt.gca().set_aspect("equal")
        plt.gca().get_yaxis().set_visible(False)
        plt.gca().get_xaxis().set_visible(False)
        plt.savefig(f"{prefix}sample{i:04}_angle_{int(angle * 100):05}.png", dpi=20)
        plt.close()


def read_back(prefix: str):
    """The question's second step: its PNG files into one float array."""
    import glob

    import numpy as np
    from PIL import Image

    pngs = sorted(glob.glob(f"{prefix}sample*png"))
    return np.array([np.array(Image.open(png)) for png in pngs]).astype(np.float32)


def course_in_memory(this_many: int, seed: int = 0):
    """The course's route to a training array: draw straight into it."""
    return slope_data.make_slope_images(this_many, image_size=100, seed=seed)


def course_data_script(this_many: int, folder: Path, workers: int, seed: int = 0) -> None:
    """The course's data script writing the same number of 100x100 PNG files, manifest included."""
    from make_slope_dataset import write_dataset  # this folder's data script

    write_dataset(folder, this_many, image_size=100, dots=slope_data.DEFAULT_DOTS, seed=seed,
                  progress=False, workers=workers)  # fmt: skip


def _timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--count", type=int, default=1000,
        help="images per generator (default: 1000, the data script's default data set)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error(f"--count must be at least 1, got {args.count}; e.g. --count 200.")

    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        for sub in ("warm", "question", "course", "course_1", "course_warm"):
            (Path(tmp) / sub).mkdir()
        # warm-up: imports and first-figure costs are not what we compare
        question_generator(2, f"{tmp}/warm/q_")
        read_back(f"{tmp}/warm/q_")
        course_in_memory(2)
        course_data_script(2, Path(tmp) / "course_warm", workers=1)
        question_files = _timed(question_generator, args.count, f"{tmp}/question/")
        question_read = _timed(read_back, f"{tmp}/question/")
        course_files = _timed(course_data_script, args.count, Path(tmp) / "course", cores)
        course_files_1 = _timed(course_data_script, args.count, Path(tmp) / "course_1", 1)
        in_memory = _timed(course_in_memory, args.count)
    n = args.count
    question_array = question_files + question_read
    files_ratio, array_ratio = question_files / course_files, question_array / in_memory
    print(f"{n} images of 100x100 pixels on {cores} CPU core(s)")
    for label, seconds in (
        ("PNG files:", None),
        ("question, matplotlib figures", question_files),
        ("course, data script (default options)", course_files),
        ("course, data script (--workers 1)", course_files_1),
        ("a training array:", None),
        ("question, PNG files read back", question_array),
        ("course, drawn in memory (notebook 05)", in_memory),
    ):
        if seconds is None:
            print(label)
        else:
            print(f"  {label + ':':<40}{seconds:7.2f} s ({1000 * seconds / n:6.2f} ms each)")
    verdict = "ok" if files_ratio >= SPEED_UP_BUDGET else "BELOW BUDGET"
    print(f"speed-up writing PNG files:   {files_ratio:.1f}x (budget: at least {SPEED_UP_BUDGET}x: {verdict}); "
          f"{question_files / course_files_1:.1f}x with one process")
    print(f"speed-up to a training array: {array_ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
