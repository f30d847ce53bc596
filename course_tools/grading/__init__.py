"""The course's own grader: run each submission in a sandbox, check every exercise outside it.

One module per job: :mod:`.release` (which release a submission answers, what changed),
:mod:`.sandbox` (the confined kernel), :mod:`.execution` (running it and evaluating each
exercise), :mod:`.reports` (CSV and Markdown), :mod:`.cli` (the command line); the limits are
one :class:`.settings.GradingSettings`.

Command line (also ``python3 course.py grade``)::

    python -m course_tools.grading SUBMISSION.ipynb [...] [--out grades] [--release PATH]
        [--time-limit 300] [--memory-limit-gb 8] [--tree-memory-limit-gb 4] [--trusted]

For each submission the grader

1. finds the released notebook it answers (``notebooks/NN_name.ipynb``, matched by file name:
   ``02_shape_arithmetic.ipynb`` or ``alice_02_shape_arithmetic.ipynb``; or ``--release``);
2. compares it with the release: the check line of every exercise cell and every other code
   cell must be unchanged (whitespace and ``checks.exercise_N.hint()`` / ``.solution()`` lines
   do not count); differences are flagged per exercise and per notebook;
3. runs it, cell by cell, in a sandbox (:mod:`.sandbox`: bubblewrap, an unprivileged user, no
   network, a read-only view of only the Python installation and the classroom release's
   ``course_utils``, which holds no checks and no solutions; a private, size-capped ``/tmp``;
   limits on time, memory of the whole process tree, processes and file size), continuing
   after errors;
4. right after each exercise cell runs, checks the exercise *here, in the grader*, with the
   course's own check: the check calls the learner's function through a narrow interface
   (:mod:`.wire`) whose arguments and results cross the boundary as data and are validated on
   arrival; the notebook's own check line, and anything it printed, patched or defined
   besides the function, play no part;
5. writes ``grades.csv`` (one row per student and exercise) and ``grades.md`` (a summary table
   and the details) into ``--out``, after each learner.

Where bubblewrap is missing, the grader refuses to grade unless told ``--trusted``. What the
sandbox guards against, and what it does not, is in the README's grading section.
"""

from course_tools.grading.execution import grade_notebook
from course_tools.grading.release import compare_with_release, find_release, student_name
from course_tools.grading.reports import write_reports
from course_tools.grading.results import ExerciseGrade, NotebookGrade
from course_tools.grading.sandbox import Sandbox, sandbox_capabilities
from course_tools.grading.settings import GradingSettings

__all__ = [
    "grade_notebook",
    "compare_with_release",
    "find_release",
    "student_name",
    "write_reports",
    "ExerciseGrade",
    "NotebookGrade",
    "Sandbox",
    "sandbox_capabilities",
    "GradingSettings",
]
