"""Time the grader on a class: N submissions of notebook 02, graded in one command-line run.

    .venv/bin/python benchmarks/grade_class.py [--learners 30] [--course PATH ...]

The class is a third solved copies, a third untouched copies and a third with one wrong answer
each (built from solutions/ and notebooks/ of this course). Each ``--course`` is a course folder
whose grader is timed on the same class (for instance a checkout of an older commit: its
``course_tools`` is put first on ``PYTHONPATH``); the default is this course. Prints the total
time and the time per submission of each, and the scores, so a faster grader that grades
wrongly shows.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "02_shape_arithmetic.ipynb"
BLOCK = re.compile(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION\n?", re.DOTALL)


def make_class(folder: Path, learners: int) -> list[Path]:
    solved = nbformat.read(ROOT / "solutions" / NOTEBOOK, as_version=4)
    untouched = nbformat.read(ROOT / "notebooks" / NOTEBOOK, as_version=4)
    wrong = nbformat.read(ROOT / "solutions" / NOTEBOOK, as_version=4)
    for cell in wrong.cells:
        if cell.source.startswith("# Exercise 1:"):
            cell.source = BLOCK.sub(r"\1return input_size - kernel_size\n", cell.source, count=1)
    paths = []
    for index in range(learners):
        notebook = (solved, untouched, wrong)[index % 3]
        path = folder / f"learner{index:02d}" / NOTEBOOK
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
        paths.append(path)
    return paths


def grade(course: Path, submissions: list[Path], out: Path) -> tuple[float, Counter]:
    env = {**os.environ, "PYTHONPATH": str(course)}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "course_tools.grading", *map(str, submissions), "--out", str(out),
         "--release", str(course / "notebooks" / NOTEBOOK)],
        cwd=course, env=env, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"grading with {course} failed:\n{result.stdout}\n{result.stderr}")
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        scores = Counter()
        for row in csv.DictReader(handle):
            scores[row["student"]] += int(row["points"] or 0)
    return seconds, Counter(scores.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--course", type=Path, action="append", help="a course folder (default: this one)")
    args = parser.parse_args()
    if args.learners < 1:
        parser.error(f"--learners must be at least 1, got {args.learners}")
    courses = [c.resolve() for c in (args.course or [ROOT])]
    with tempfile.TemporaryDirectory(prefix="grade-class-") as folder:
        submissions = make_class(Path(folder) / "class", args.learners)
        print(f"{args.learners} submissions of {NOTEBOOK}; {os.cpu_count()} cores")
        for course in courses:
            seconds, scores = grade(course, submissions, Path(folder) / f"out-{course.name}")
            spread = ", ".join(f"{n} learners {s}/10" for s, n in sorted(scores.items()))
            print(f"{course}: {seconds:.0f} s in all, {seconds / args.learners:.1f} s per submission ({spread})")


if __name__ == "__main__":
    main()
