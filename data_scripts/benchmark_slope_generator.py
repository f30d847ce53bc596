#!/usr/bin/env python3
"""Time the question's matplotlib image generator against course_utils.slope_data.

The question (notebook 05's seed) drew every image with its own matplotlib figure: two
Rectangle patches, a scatter of 50 dots, savefig at dpi 20, then read the PNG files back into
a NumPy array. That pipeline is re-implemented here faithfully, for this comparison only.

Timed, for the same number of 100x100 images:

1. the question: PNG files with matplotlib, then read back into an array (what it trains on);
2. the course, in memory: ``make_slope_images`` straight into an array (what notebook 05 does);
3. the course, to files: the same images written as PNG files (what the data script does).

The headline ratio is 1 / 2, the time to get a training array; 1 / 3 is printed too. Both
file-writing routes pay the same file-system cost per PNG, which bounds that second ratio.

    python data_scripts/benchmark_slope_generator.py --count 200
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
        "`python3.11 course.py setup`, then `.venv/bin/python data_scripts/benchmark_slope_generator.py ...`."
    ) from None


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


def question_pipeline(this_many: int, prefix: str):
    """The question's route to a training array: write PNG files, then read them back."""
    import glob

    import numpy as np
    from PIL import Image

    question_generator(this_many, prefix)
    pngs = glob.glob(f"{prefix}sample*png")
    return np.array([np.array(Image.open(png)) for png in pngs]).astype(np.float32)


def course_in_memory(this_many: int, seed: int = 0):
    """The course's route: draw straight into an array."""
    return slope_data.make_slope_images(this_many, image_size=100, seed=seed)


def course_to_files(this_many: int, prefix: str, seed: int = 0) -> None:
    """The course's generator, writing the same number of 100x100 PNG files."""
    from PIL import Image

    images, angles = slope_data.make_slope_images(this_many, image_size=100, seed=seed)
    for i in range(this_many):
        name = slope_data.file_name_for(i, float(angles[i]), prefix=prefix)
        Image.fromarray(images[i, ..., 0]).save(name, compress_level=1)


def _timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="images per generator (default: 200)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error(f"--count must be at least 1, got {args.count}; e.g. --count 200.")

    with tempfile.TemporaryDirectory() as tmp:
        for sub in ("warm", "question", "course"):
            (Path(tmp) / sub).mkdir()
        # warm-up: imports and first-figure costs are not what we compare
        question_pipeline(2, f"{tmp}/warm/q_")
        course_in_memory(2)
        course_to_files(2, f"{tmp}/warm/c_")
        question = _timed(question_pipeline, args.count, f"{tmp}/question/")
        in_memory = _timed(course_in_memory, args.count)
        to_files = _timed(course_to_files, args.count, f"{tmp}/course/")
    n = args.count
    print(f"{n} images of 100x100 pixels on {os.cpu_count()} CPU core(s)")
    print(f"  question, matplotlib PNGs read back: {question:7.2f} s ({1000 * question / n:6.2f} ms each)")
    print(f"  course, in memory (notebook 05):     {in_memory:7.2f} s ({1000 * in_memory / n:6.2f} ms each)")
    print(f"  course, PNG files (data script):     {to_files:7.2f} s ({1000 * to_files / n:6.2f} ms each)")
    print(f"speed-up to a training array: {question / in_memory:.1f}x")
    print(f"speed-up writing PNG files:   {question / to_files:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
