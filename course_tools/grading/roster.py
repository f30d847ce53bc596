"""Who submitted what: learner names from submission paths, with every doubtful case refused.

Two layouts are understood (mixing them in one batch is fine):

* one folder per learner, files keeping the release's name: ``alice/02_shape_arithmetic.ipynb``
  (the learner is the folder);
* one folder for all, the learner's name before the release's: ``alice_02_shape_arithmetic.ipynb``.

Refused, each with a reason naming the file and the fix, and never graded under any name:

* a symbolic link (file or folder): it could point at someone else's work or anywhere;
* anything that is not a regular file (a folder, a FIFO, a device);
* a file or folder name that is not valid UTF-8 or holds control characters (a newline could
  forge a line in the reports);
* a file naming another learner inside a learner's folder (``bob/alice_02_...ipynb`` next to
  ``bob/02_...ipynb``): one learner per folder;
* two files for the same learner and notebook: neither is graded until one is removed.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from course_tools.grading.release import find_release
from course_tools.layout import REPOSITORY, CourseLayout

__all__ = ["Submission", "Refusal", "make_roster", "printable"]


@dataclass(frozen=True)
class Submission:
    """One submission to grade."""

    student: str
    path: Path
    release: Path


@dataclass(frozen=True)
class Refusal:
    """A path that is not graded, and why."""

    path: str  # printable: control characters and undecodable bytes escaped
    reason: str


MAX_SUBMISSION_BYTES = 50 * 2**20  # a course notebook with its outputs has under 2 MB


def printable(path) -> str:
    """``path`` as text that is safe to print or write into a report (one line, escaped)."""
    text = os.fsdecode(path) if not isinstance(path, str) else path
    return "".join(
        ch if ch.isprintable() and not 0xDC80 <= ord(ch) <= 0xDCFF else ascii(ch)[1:-1]
        for ch in text
    )


def _bad_name(name: str) -> str | None:
    if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in name):
        return "is not valid UTF-8"
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in name):
        return "contains control characters (a newline, a tab, an escape, ...)"
    return None


def _refuse_path(path: Path) -> str | None:
    for part in (path.name, path.parent.name):
        problem = _bad_name(part)
        if problem:
            return f"the name {printable(part)!r} {problem}: rename it"
    try:
        if path.is_symlink() or path.parent.is_symlink():
            return "is a symbolic link (or inside one): put the real file there instead"
        status = os.lstat(path)
    except OSError as err:
        return f"cannot be read ({err.strerror})"
    if not stat.S_ISREG(status.st_mode):
        return "is not a regular file"
    if status.st_size > MAX_SUBMISSION_BYTES:
        return (f"has {status.st_size / 2**20:.0f} MB, more than the {MAX_SUBMISSION_BYTES / 2**20:.0f} MB "
                "a notebook may have: clear its outputs (Edit > Clear Outputs of All Cells) and hand it in again")  # fmt: skip
    return None


def _student(path: Path, release: Path) -> str:
    if path.name == release.name:
        return path.parent.name
    rest = path.stem.replace(release.stem, "").strip("_- .")
    return rest or path.stem


def make_roster(paths, release=None, layout: CourseLayout = REPOSITORY):
    """Match each path to its learner and release; return ``(submissions, refusals)``.

    Parameters
    ----------
    paths : iterable of path-like
        The submitted ``.ipynb`` files.
    release : path-like, optional
        The released notebook every submission answers; found by file name when omitted.
    layout : CourseLayout
        Where the released notebooks are.
    """
    candidates, refusals = [], []
    for raw in paths:
        path = Path(raw)
        problem = _refuse_path(path)
        if problem is None:
            try:
                found = find_release(path, release, layout)
            except ValueError as err:
                problem = str(err)
        if problem:
            refusals.append(Refusal(printable(path), problem))
            continue
        candidates.append(Submission(_student(path, found), path, found))

    # one learner per folder: a folder holding a release-named file belongs to that learner
    owners = {s.path.parent: s.student for s in candidates if s.path.name == s.release.name}
    kept = []
    for submission in candidates:
        owner = owners.get(submission.path.parent)
        if owner is not None and submission.student != owner:
            refusals.append(Refusal(
                printable(submission.path),
                f"names the learner {printable(submission.student)!r} but lies in the folder of "
                f"{printable(owner)!r}: one learner per folder; move it to its own folder",
            ))  # fmt: skip
        else:
            kept.append(submission)

    by_key: dict[tuple[str, str], list[Submission]] = {}
    for submission in kept:
        by_key.setdefault((submission.student, submission.release.name), []).append(submission)
    submissions = []
    for (student, release_name), group in by_key.items():
        if len(group) == 1:
            submissions.append(group[0])
            continue
        others = ", ".join(printable(s.path) for s in group)
        for submission in group:
            refusals.append(Refusal(
                printable(submission.path),
                f"is one of {len(group)} submissions of {printable(student)!r} for {release_name} "
                f"({others}): keep one and grade again",
            ))  # fmt: skip
    return submissions, refusals
