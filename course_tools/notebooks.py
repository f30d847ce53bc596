"""Command line of the notebook tools (through ``course.py``)::

    python -m course_tools.notebooks students [--force]     # regenerate notebooks/
    python -m course_tools.notebooks execute [NAME ...]     # re-execute solutions, then regenerate
"""

from __future__ import annotations

import argparse
import sys

from course_tools.execution import execute_solution
from course_tools.layout import REPOSITORY
from course_tools.student_notebooks import write_student_notebooks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.notebooks")
    sub = parser.add_subparsers(dest="command", required=True)
    p_students = sub.add_parser("students", help="regenerate notebooks/ from solutions/")
    p_students.add_argument("--force", action="store_true", help="overwrite notebooks with outputs")
    p_execute = sub.add_parser("execute", help="re-execute solutions, then regenerate students")
    p_execute.add_argument("names", nargs="*", help="e.g. 01 or 01_cnn_basics; default: all")
    args = parser.parse_args(argv)

    layout = REPOSITORY
    if args.command == "execute":
        try:
            chosen = layout.select(args.names)
        except ValueError as err:
            parser.error(str(err))
        for path in chosen:
            print(f"executing {path.relative_to(layout.root)} ...", flush=True)
            print(f"  done in {execute_solution(path):.1f} s", flush=True)
    # after `execute 03`, only 03's student notebook is regenerated
    names = args.names if args.command == "execute" else ()
    changed = write_student_notebooks(layout, force=getattr(args, "force", False), names=names)
    for path in changed:
        print(f"wrote {path.relative_to(layout.root)}")
    if not changed:
        print("student notebooks already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
