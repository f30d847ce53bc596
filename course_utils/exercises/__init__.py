"""Exercise checks, one module per notebook: ``nb01`` for 01_cnn_basics, and so on.

In a notebook: ``from course_utils.exercises import nb01 as checks``, then
``checks.exercise_1.check(my_function)``, ``checks.exercise_1.hint()``,
``checks.exercise_1.solution()``.

:data:`CHECKS_OF_NOTEBOOK` is the one registry of which module checks which notebook; the
grader, the nbgrader export and the tests look a notebook's checks up here (a test fails when a
solution notebook has no entry, or its set-up cell imports another module).
"""

from __future__ import annotations

import importlib
from pathlib import PurePath
from types import ModuleType

__all__ = ["CHECKS_OF_NOTEBOOK", "checks_module_name", "checks_for"]

CHECKS_OF_NOTEBOOK = {
    "01_cnn_basics": "nb01",
    "02_shape_arithmetic": "nb02",
    "03_heads": "nb03",
    "04_label_scaling": "nb04",
    "05_slope_model": "nb05",
    "06_transfer_learning": "nb06",
    "07_multitask_heads": "nb07",
}


def checks_module_name(notebook) -> str:
    """The full name of the module that checks ``notebook`` (a path, file name or stem).

    Raises
    ------
    LookupError
        If the registry has no entry for that notebook.
    """
    if not isinstance(notebook, (str, PurePath)):
        raise TypeError(
            f"notebook must be a notebook's path, file name or stem such as '01_cnn_basics', "
            f"got {notebook!r} of type {type(notebook).__name__}."
        )
    stem = PurePath(notebook).stem if str(notebook).endswith(".ipynb") else PurePath(notebook).name
    if stem not in CHECKS_OF_NOTEBOOK:
        raise LookupError(
            f"no checks are registered for the notebook {stem!r}; the course's notebooks are "
            f"{', '.join(CHECKS_OF_NOTEBOOK)}. A new notebook needs its row in "
            "course_utils/exercises/__init__.py (see CONTRIBUTING.md, 'Add a notebook')."
        )
    return f"{__name__}.{CHECKS_OF_NOTEBOOK[stem]}"


def checks_for(notebook) -> ModuleType:
    """The module of checks of ``notebook`` (a path, file name or stem), imported."""
    return importlib.import_module(checks_module_name(notebook))
