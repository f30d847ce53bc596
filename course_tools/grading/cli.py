"""Command line of the grader: ``python -m course_tools.grading`` (also ``python3 course.py grade``)."""

from __future__ import annotations

import argparse
from pathlib import Path

import course_tools.grading as package
from course_tools.grading.execution import grade_notebook
from course_tools.grading.release import find_release
from course_tools.grading.reports import write_reports
from course_tools.grading.sandbox import sandbox_capabilities
from course_tools.grading.settings import DEFAULT_MEMORY_GB, DEFAULT_TIME_LIMIT, GradingSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.grading", description=package.__doc__.split("\n\n")[0],
    )  # fmt: skip
    parser.add_argument("submissions", nargs="+", type=Path, help="submitted .ipynb files")
    parser.add_argument("--out", type=Path, default=Path("grades"), help="report folder")
    parser.add_argument("--release", type=Path, help="the released notebook (default: by name)")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT,
                        help="seconds per notebook (default %(default)g)")  # fmt: skip
    parser.add_argument("--memory-limit-gb", type=float, default=DEFAULT_MEMORY_GB,
                        help="address space per kernel in GiB (default %(default)g)")  # fmt: skip
    parser.add_argument("--base", type=Path, default=Path.cwd(), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # course.py runs this from the course folder; relative paths are the caller's (--base)
    args.submissions = [args.base / p for p in args.submissions]
    args.out = args.base / args.out
    args.release = args.base / args.release if args.release else None
    try:
        settings = GradingSettings(time_limit=args.time_limit, memory_gb=args.memory_limit_gb)
    except ValueError as err:
        parser.error(f"--time-limit and --memory-limit-gb must be positive ({err})")
    missing = [str(p) for p in args.submissions if not p.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    try:
        pairs = [(p, find_release(p, args.release)) for p in args.submissions]
    except ValueError as err:
        parser.error(str(err))
    capabilities = sandbox_capabilities()
    grades = []
    for submission, release in pairs:
        print(f"grading {submission} against {release.name} ...", flush=True)
        grade = grade_notebook(submission, release, settings=settings, capabilities=capabilities)
        print(f"  {grade.student}: {grade.score}/{len(grade.exercises)}, {grade.run} "
              f"in {grade.seconds:.0f} s", flush=True)  # fmt: skip
        grades.append(grade)
    csv_path, md_path = write_reports(grades, args.out)
    print(f"sandbox: {grades[0].sandbox}")
    print(f"wrote {csv_path} and {md_path}")
    return 0

