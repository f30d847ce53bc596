"""Instructor and maintainer tooling of the course; notebooks never import it.

The learner's package is :mod:`course_utils` (what a notebook imports and a learner may read).
This package sits above it and may import it, never the other way round:

* :mod:`course_tools.layout` - where a course's solutions, notebooks and README are;
* :mod:`course_tools.anatomy` - what an exercise cell looks like (markers, heading, check line),
  defined once for the generator, the grader, the nbgrader export and the tests;
* :mod:`course_tools.student_notebooks` - make ``notebooks/`` from ``solutions/``;
* :mod:`course_tools.execution` - re-execute solution notebooks and record their fingerprint;
* :mod:`course_tools.nbgrader_export` - an nbgrader source folder made from the solutions;
* :mod:`course_tools.grading` - the course's own grader, one module per job.

Command lines (through ``course.py``): ``python -m course_tools.notebooks``,
``python -m course_tools.grading`` and ``python -m course_tools.nbgrader_export``.
"""
