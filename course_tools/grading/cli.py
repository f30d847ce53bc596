"""Command line of the grader: ``python -m course_tools.grading`` (also ``python3 course.py grade``)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import course_tools.grading as package
from course_tools.grading.execution import grade_notebook, write_learner_files
from course_tools.grading.release import checks_module_of
from course_tools.grading.reports import write_reports
from course_tools.grading.results import FAILED, ExerciseGrade, NotebookGrade
from course_tools.grading.roster import make_roster, printable
from course_tools.grading.sandbox import sandbox_capabilities
from course_tools.grading.settings import (
    DEFAULT_MEMORY_GB,
    DEFAULT_TIME_LIMIT,
    DEFAULT_TREE_MEMORY_GB,
    GradingSettings,
)
from course_utils.checks import exercises_in


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
                        help="address space of each of a notebook's processes in GiB (default %(default)g)")  # fmt: skip
    parser.add_argument("--tree-memory-limit-gb", type=float, default=DEFAULT_TREE_MEMORY_GB,
                        help="memory of all a notebook's processes together in GiB (default %(default)g)")  # fmt: skip
    parser.add_argument("--trusted", action="store_true",
                        help="grade without a sandbox where bubblewrap is missing (only work you trust)")  # fmt: skip
    parser.add_argument("--base", type=Path, default=Path.cwd(), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # course.py runs this from the course folder; relative paths are the caller's (--base)
    args.submissions = [args.base / p for p in args.submissions]
    args.out = args.base / args.out
    args.release = args.base / args.release if args.release else None
    try:
        settings = GradingSettings(time_limit=args.time_limit, memory_gb=args.memory_limit_gb,
                                   tree_memory_gb=args.tree_memory_limit_gb)  # fmt: skip
    except ValueError as err:
        parser.error(f"--time-limit, --memory-limit-gb and --tree-memory-limit-gb must be positive ({err})")
    submissions, refusals = make_roster(args.submissions, args.release)
    for refusal in refusals:
        print(f"not graded: {refusal.path}: {refusal.reason}", file=sys.stderr, flush=True)
    if not submissions:
        parser.error("nothing to grade: " + "; ".join(
            f"{r.path}: " + ("no such file" if r.reason.startswith("cannot be read") else r.reason)
            for r in refusals))  # fmt: skip
    capabilities = sandbox_capabilities()
    if capabilities["mode"] == "none":
        if not args.trusted:
            parser.error(f"refusing to grade: {capabilities['reason']}")
        print(f"WARNING: grading without a sandbox (--trusted): {capabilities['reason']}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="course-grade-package-") as folder:
        # one learner package (the release's course_utils: no checks, no solutions) for all
        learner_package = write_learner_files(Path(folder))
        return _grade_all(submissions, refusals, settings, capabilities, learner_package, args)


def _grade_all(submissions, refusals, settings, capabilities, package, args) -> int:
    grades = []
    for submission in submissions:
        print(f"grading {printable(submission.path)} against {submission.release.name} ...", flush=True)
        try:
            grade = grade_notebook(submission.path, submission.release, settings=settings,
                                   student=submission.student, capabilities=capabilities,
                                   learner_package=package, trusted=args.trusted)  # fmt: skip
        except Exception as err:  # the grader's own failure on this file costs this grade only
            grade = grader_error(submission, err)
        print(f"  {grade.student}: {grade.score}/{len(grade.exercises)}, {grade.run} "
              f"in {grade.seconds:.0f} s", flush=True)  # fmt: skip
        grades.append(grade)
        # written after every learner, so an interrupted batch keeps what was graded
        csv_path, md_path = write_reports(grades, args.out, refusals)
    print(f"sandbox: {grades[0].sandbox}")
    print(f"wrote {csv_path} and {md_path}")
    return 0


def grader_error(submission, err: Exception) -> NotebookGrade:
    """The grade of a submission the grader itself failed on: every exercise failed, with why."""
    grade = NotebookGrade(student=submission.student, submission=printable(submission.path),
                          release=submission.release.name, run="grader error",
                          run_detail=f"{type(err).__name__}: {str(err)[:300]}")  # fmt: skip
    try:
        module = checks_module_of(submission.release)
        numbers = [(e.number, e.title) for e in exercises_in(module)] if module else []
    except Exception:
        numbers = []
    grade.exercises = [ExerciseGrade(n, title, status=FAILED, message="the grader failed on "
                                     "this file (see run detail)") for n, title in numbers]  # fmt: skip
    return grade
