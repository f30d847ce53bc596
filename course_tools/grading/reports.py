"""The grader's reports: ``grades.csv`` (one row per student and exercise) and ``grades.md``."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from course_tools.grading.results import (
    FAILED,
    MISSING,
    NOT_ATTEMPTED,
    NOT_RUN,
    PASSED,
    NotebookGrade,
)

__all__ = ["CSV_FIELDS", "MESSAGE_LIMIT", "write_reports", "csv_safe"]

MESSAGE_LIMIT = 1000  # characters of one message in a report; a check's message is far shorter

CSV_FIELDS = (
    "student", "notebook", "exercise", "title", "status", "points", "message",
    "exercise_flags", "run", "run_detail", "notebook_flags", "cell_errors", "submission",
)  # fmt: skip


def cut(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying so."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f" [... {len(text) - limit} characters cut]"


def csv_safe(value):
    """A CSV cell a spreadsheet shows as text: a leading ``=``, ``+``, ``-``, ``@``, tab or
    carriage return (which would start a formula) gets a ``'`` in front; long text is cut."""
    if not isinstance(value, str):
        return value
    value = cut(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def write_reports(grades: list[NotebookGrade], out_dir, refusals=()) -> tuple[Path, Path]:
    """Write ``grades.csv`` and ``grades.md`` into ``out_dir``; return their paths.

    ``refusals`` are the submissions :func:`~course_tools.grading.roster.make_roster` refused:
    a row each with status ``refused``, so no file goes missing silently.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out_dir / "grades.csv", out_dir / "grades.md"
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for grade in grades:
            for exercise in grade.exercises:
                writer.writerow({key: csv_safe(value) for key, value in {
                    "student": grade.student, "notebook": grade.release,
                    "exercise": exercise.number, "title": exercise.title,
                    "status": exercise.status, "points": exercise.points,
                    "message": exercise.message, "exercise_flags": "; ".join(exercise.flags),
                    "run": grade.run, "run_detail": grade.run_detail,
                    "notebook_flags": "; ".join(grade.flags),
                    "cell_errors": "; ".join(grade.cell_errors), "submission": grade.submission,
                }.items()})  # fmt: skip
        for refusal in refusals:
            writer.writerow({key: csv_safe(value) for key, value in {
                "student": "", "notebook": "", "exercise": "", "title": "", "status": "refused",
                "points": 0, "message": refusal.reason, "submission": refusal.path,
            }.items()})  # fmt: skip
    md_path.write_text(_markdown(grades, refusals), encoding="utf-8")
    return csv_path, md_path


_SYMBOL = {PASSED: "✔", FAILED: "✘", NOT_ATTEMPTED: "–", NOT_RUN: "⏹", MISSING: "∅"}


def _markdown(grades: list[NotebookGrade], refusals=()) -> str:
    lines = ["# Grades", ""]
    lines.append(
        f"{_SYMBOL[PASSED]} passed, {_SYMBOL[FAILED]} failed, {_SYMBOL[NOT_ATTEMPTED]} not "
        f"attempted, {_SYMBOL[NOT_RUN]} not reached, {_SYMBOL[MISSING]} cell missing; "
        "`!` marks an exercise whose check was edited or removed."
    )
    for release in sorted({g.release for g in grades}):
        group = [g for g in grades if g.release == release]
        numbers = sorted({e.number for g in group for e in g.exercises})
        lines += ["", f"## {release}", ""]
        lines.append(
            "| student | score | " + " | ".join(f"Ex {n}" for n in numbers) + " | run | changes |"
        )
        lines.append("|---|---|" + "---|" * len(numbers) + "---|---|")
        for g in sorted(group, key=lambda g: g.student):
            marks = {e.number: _SYMBOL[e.status] + ("!" if e.flags else "") for e in g.exercises}
            changes = len(g.flags) + sum(bool(e.flags) for e in g.exercises)
            lines.append(
                f"| {_one_line(g.student)} | {g.score}/{len(g.exercises)} | "
                + " | ".join(marks.get(n, "") for n in numbers)
                + f" | {_one_line(g.run)} | {changes or ''} |"
            )
    if refusals:
        lines += ["", "## Not graded", ""]
        lines += [f"- `{_one_line(r.path)}`: {_one_line(r.reason)}" for r in refusals]
    lines += ["", "## Details", ""]
    for g in sorted(grades, key=lambda g: (g.release, g.student)):
        lines.append(f"### {_one_line(g.student)}: {_one_line(g.release)} ({g.score}/{len(g.exercises)})")
        lines.append("")
        memory = f", peak memory {g.peak_memory_mb:,.0f} MB" if g.peak_memory_mb else ""
        lines.append(f"- submission: `{g.submission}`; ran in {g.seconds:.0f} s{memory}: {g.run}"
                     + (f" ({_one_line(g.run_detail)})" if g.run_detail else ""))  # fmt: skip
        lines.append(f"- sandbox: {g.sandbox}")
        for flag in g.flags:
            lines.append(f"- changed: {_one_line(flag)}")
        for error in g.cell_errors:
            lines.append(f"- error outside the exercises: {_one_line(error)}")
        for e in g.exercises:
            text = f"- Exercise {e.number} ({e.title}): **{e.status}**"
            if e.status != PASSED and e.message:
                text += f": {_one_line(e.message)}"
            if e.flags:
                text += f" — **check edited**: {_one_line('; '.join(e.flags))}"
            lines.append(text)
        lines.append("")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", cut(text))
    return " ".join(text.split()).replace("|", "\\|").replace("`", "'")
