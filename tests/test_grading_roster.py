"""One bad file costs one grade: learner names from paths, refusals, and reports that a learner's
text cannot break (formula injection, huge messages, forged lines)."""

from __future__ import annotations

import csv
import os
import sys

import nbformat
import pytest

from course_tools.grading.execution import grade_notebook
from course_tools.grading.reports import MESSAGE_LIMIT, csv_safe, write_reports
from course_tools.grading.results import ExerciseGrade, NotebookGrade
from course_tools.grading.roster import make_roster, printable
from course_tools.layout import REPOSITORY

RELEASE_NAME = "02_shape_arithmetic.ipynb"
RELEASE = REPOSITORY.notebooks / RELEASE_NAME
NO_SANDBOX = {"mode": "none", "reason": "not needed: an unreadable notebook never runs"}


def _file(path, text="{}"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _reasons(refusals):
    return {r.path.rsplit("/", 2)[-2] + "/" + r.path.rsplit("/", 1)[-1]: r.reason for r in refusals}


def test_learners_come_from_their_folder_or_their_prefix(tmp_path):
    alice = _file(tmp_path / "alice" / RELEASE_NAME)
    bob = _file(tmp_path / "flat" / f"bob_{RELEASE_NAME}")
    carol = _file(tmp_path / "flat" / f"carol_{RELEASE_NAME}")
    submissions, refusals = make_roster([alice, bob, carol])
    assert not refusals
    assert [(s.student, s.path, s.release) for s in submissions] == [
        ("alice", alice, RELEASE), ("bob", bob, RELEASE), ("carol", carol, RELEASE),
    ]  # fmt: skip


def test_a_file_naming_another_learner_in_a_learners_folder_is_refused(tmp_path):
    own = _file(tmp_path / "bob" / RELEASE_NAME)
    forged = _file(tmp_path / "bob" / f"alice_{RELEASE_NAME}")
    submissions, refusals = make_roster([own, forged])
    assert [s.student for s in submissions] == ["bob"]
    assert "one learner per folder" in _reasons(refusals)[f"bob/alice_{RELEASE_NAME}"]


def test_two_submissions_of_one_learner_for_one_notebook_are_both_held_back(tmp_path):
    first = _file(tmp_path / "alice" / RELEASE_NAME)
    second = _file(tmp_path / "flat" / f"alice_{RELEASE_NAME}")
    other = _file(tmp_path / "flat" / f"dave_{RELEASE_NAME}")
    submissions, refusals = make_roster([first, second, other])
    assert [s.student for s in submissions] == ["dave"]
    assert len(refusals) == 2 and all("2 submissions of 'alice'" in r.reason for r in refusals)


@pytest.mark.skipif(os.name == "nt", reason="symlinks and FIFOs need a POSIX system")
def test_symlinks_fifos_and_folders_are_refused(tmp_path):
    real = _file(tmp_path / "elsewhere" / "secret.ipynb")
    link = tmp_path / "mallory" / RELEASE_NAME
    link.parent.mkdir()
    link.symlink_to(real)
    (tmp_path / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    _file(tmp_path / "elsewhere" / RELEASE_NAME)
    fifo = tmp_path / "fifo" / RELEASE_NAME
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    folder = tmp_path / "folder" / RELEASE_NAME
    folder.mkdir(parents=True)
    submissions, refusals = make_roster([link, tmp_path / "linked" / RELEASE_NAME, fifo, folder])
    assert not submissions
    reasons = _reasons(refusals)
    assert "symbolic link" in reasons[f"mallory/{RELEASE_NAME}"]
    assert "symbolic link" in reasons[f"linked/{RELEASE_NAME}"]
    assert "not a regular file" in reasons[f"fifo/{RELEASE_NAME}"]
    assert "not a regular file" in reasons[f"folder/{RELEASE_NAME}"]


@pytest.mark.skipif(sys.platform != "linux", reason="byte file names are a POSIX matter")
def test_names_with_control_characters_or_invalid_utf8_are_refused_and_printed_escaped(tmp_path):
    newline = _file(tmp_path / f"eve\nalice_{RELEASE_NAME}")
    raw = os.fsencode(tmp_path) + b"/\xff\xfe_" + RELEASE_NAME.encode()
    with open(raw, "w") as handle:
        handle.write("{}")
    submissions, refusals = make_roster([newline, os.fsdecode(raw)])
    assert not submissions
    assert all("\n" not in r.path and "\n" not in r.reason for r in refusals)
    assert "control characters" in refusals[0].reason and "\\n" in refusals[0].path
    assert "not valid UTF-8" in refusals[1].reason and "\\udcff" in refusals[1].path
    assert printable("a\tb") == "a\\tb"


def test_a_missing_file_and_an_unknown_notebook_are_refusals_not_a_crash(tmp_path):
    good = _file(tmp_path / "alice" / RELEASE_NAME)
    submissions, refusals = make_roster([good, tmp_path / "nothing.ipynb", _file(tmp_path / "x.ipynb")])
    assert [s.student for s in submissions] == ["alice"]
    assert "cannot be read" in refusals[0].reason
    assert "cannot tell which released notebook" in refusals[1].reason


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\t=1"])
def test_csv_cells_that_would_start_a_formula_are_escaped(text):
    assert csv_safe(text) == "'" + text
    assert csv_safe("plain text") == "plain text" and csv_safe(3) == 3


def test_reports_cut_a_flood_and_keep_one_line_per_row(tmp_path):
    flood = "=HYPERLINK(x)\n| forged | 9/9 |\n" + "x" * 20_000_000
    grade = NotebookGrade(student="alice", submission="alice/02.ipynb", release=RELEASE_NAME,
                          exercises=[ExerciseGrade(1, "t", status="failed", message=flood)],
                          run="completed", run_detail=flood, flags=[flood])  # fmt: skip
    csv_path, md_path = write_reports([grade], tmp_path)
    assert csv_path.stat().st_size < 20 * MESSAGE_LIMIT and md_path.stat().st_size < 20 * MESSAGE_LIMIT
    with open(csv_path, newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["message"].startswith("'=HYPERLINK") and "characters cut" in row["message"]
    assert "\n| forged | 9/9 |" not in md_path.read_text()


def test_a_notebook_with_a_malformed_cell_is_that_learners_error(tmp_path):
    notebook = nbformat.read(RELEASE, as_version=4)
    del notebook.cells[2]["source"]
    path = tmp_path / "alice" / RELEASE_NAME
    path.parent.mkdir()
    with open(path, "w") as handle:
        nbformat.write(notebook, handle, version=4)  # written as is: nbformat does not validate here
    grade = grade_notebook(path, RELEASE, capabilities=NO_SANDBOX, trusted=True)
    assert grade.run == "unreadable" and grade.score == 0
    assert all(e.status == "missing" for e in grade.exercises)
