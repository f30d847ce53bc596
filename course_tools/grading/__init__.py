"""The course's own grader: run each submission in a sandboxed kernel, report every exercise.

One module per job: :mod:`.release` (which release a submission answers, what changed),
:mod:`.sandbox` (the confined kernel), :mod:`.execution` (running it and evaluating each
exercise), :mod:`.reports` (CSV and Markdown), :mod:`.cli` (the command line); the limits are
one :class:`.settings.GradingSettings`.

Command line (also ``python3 course.py grade``)::

    python -m course_tools.grading SUBMISSION.ipynb [...] [--out grades] [--release PATH]
        [--time-limit 300] [--memory-limit-gb 8]

For each submission the grader

1. finds the released notebook it answers (``notebooks/NN_name.ipynb``, matched by file name:
   ``02_shape_arithmetic.ipynb`` or ``alice_02_shape_arithmetic.ipynb``; or ``--release``);
2. compares it with the release: the check line of every exercise cell and every other code
   cell must be unchanged (whitespace and ``checks.exercise_N.hint()`` / ``.solution()`` lines
   do not count); differences are flagged per exercise and per notebook;
3. copies it into a fresh temporary folder and executes it there, top to bottom, in a fresh
   ``python3`` kernel of the grader's own environment (the submission's kernelspec is ignored),
   continuing after errors, within a time limit for the whole notebook;
4. right after each exercise cell runs, evaluates the learner's function in the kernel with the
   exercise's own ``Exercise.evaluate`` (so an edited or deleted check line does not hide the
   answer), and records passed / failed (with the check's message) / not attempted;
5. writes ``grades.csv`` (one row per student and exercise) and ``grades.md`` (a summary table
   and the details) into ``--out``.

The kernel is confined (see ``_kernel_wrapper.py``): its working folder and ``HOME`` are the
temporary folder; it gets a minimal environment (no secrets of the grader's shell); its address
space is limited (``RLIMIT_AS``), as is the size of files it writes; on Linux it runs in an
empty network namespace, with every file system read-only except its folder, and in its own
PID namespace, when the system allows it (as root, or through unprivileged user namespaces);
as root the kernel has no capabilities, or runs as ``nobody`` where that user can run this
Python. So it cannot change or delete anything outside its folder, reach the network, or
signal other processes. A submission
that loops, exhausts memory, kills its kernel or breaks a cell costs only its own grade: the
reason is recorded and the grader goes on with the next one. The temporary folder is removed.

This is protection against accidents and careless code, not a security boundary against a
determined attacker (the kernel can still read world-readable files, such as solutions/ if
the grading machine has them: grade on a machine or account without them).
"""

from course_tools.grading.execution import grade_notebook
from course_tools.grading.release import compare_with_release, find_release, student_name
from course_tools.grading.reports import write_reports
from course_tools.grading.results import ExerciseGrade, NotebookGrade
from course_tools.grading.sandbox import WRAPPER, sandbox_capabilities
from course_tools.grading.settings import GradingSettings

__all__ = [
    "grade_notebook",
    "compare_with_release",
    "find_release",
    "student_name",
    "write_reports",
    "ExerciseGrade",
    "NotebookGrade",
    "WRAPPER",
    "sandbox_capabilities",
    "GradingSettings",
]
