"""Classroom releases: what learners receive for an assignment, without the answers.

The self-study course ships its answers on purpose: ``checks.exercise_N.solution()`` prints
one, and the checks in ``course_utils/exercises/`` compute the expected results with reference
code that is an answer in all but name. A classroom release leaves all of that out:

* :func:`write_exercise_modules` rewrites the ``exercises`` package of a copied ``course_utils``:
  each notebook's checks module becomes a generated one whose ``exercise_N`` are
  :class:`~course_utils.exercises._withheld.GradedLater` (same numbers, titles, function names
  and hints; no checks, no solutions), and the private helper modules are deleted;
* :func:`write_learner_package` copies the course's ``course_utils`` and applies it (the grader
  gives this package to the learner's kernel, so grading runs on what learners had);
* :func:`write_release` writes the folder learners receive: the student notebooks, that
  package, the data scripts and what set-up needs, and never ``solutions/`` or the tests.

Command line: ``python3 course.py release --out DIR --solutions-available TEXT`` (or
``python -m course_tools.classroom``).
"""

from __future__ import annotations

import argparse
import ast
import builtins
import datetime
import importlib
import inspect
import shutil
import sys
import textwrap
from pathlib import Path
from types import ModuleType

from course_tools.anatomy import BEGIN_MARKER
from course_tools.layout import REPOSITORY
from course_utils.checks import Exercise
from course_utils.exercises import CHECKS_OF_NOTEBOOK

__all__ = [
    "exercise_module_source",
    "release_note",
    "write_exercise_modules",
    "write_learner_package",
    "write_release",
    "main",
]

PACKAGE = "course_utils"
WITHHELD_MODULE = "course_utils.exercises._withheld"
# Names a checks module offers notebooks besides its exercises, and what a release offers
# instead. tests/test_classroom_release.py fails when a notebook uses a `checks.` name that a
# release does not provide, so a new one is added here on purpose, never copied by accident.
WITHHELD_REPLACEMENTS = ("answer_or_reference",)  # same name in _withheld, no solution behind it
# Public functions that build what an exercise is about (the notebook shows the same code), not
# an answer: copied as they are. Each must be self-contained (checked when the module is made).
SHARED_HELPERS = {
    "nb02": ("build_summary_model",),  # notebook 02 compares its model with this one
    "nb06": ("maps_backbone",),  # notebook 06 offers it to try the exercises on
}
# What learners receive besides the generated package: what set-up and the notebooks need.
RELEASED_FOLDERS = ("notebooks", "data_scripts")
RELEASED_FILES = ("README.md", "environment.yml", "pyproject.toml", "course.py", ".gitignore")
RELEASED_PATTERNS = ("requirements*.txt", "constraints*.txt", "*.lock")
RELEASE_NOTE = "RELEASE_NOTE.md"
_SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


def _check_solutions_available(text) -> str:
    """The text, stripped, or a ValueError that says what to pass."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(
            "solutions_available must say when learners get the solutions, e.g. 'after the "
            "deadline, 15 December' (--solutions-available on the command line); got "
            f"{text!r}."
        )
    return " ".join(text.split())  # one line: it is shown inside sentences


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry)
    else:
        entry.unlink()


def _as_path(value, name: str) -> Path:
    if not isinstance(value, (str, Path)):
        raise TypeError(f"{name} must be a folder path, got {value!r} of type {type(value).__name__}.")
    return Path(value)


# --- the generated checks modules -------------------------------------------------------------


def _free_names(source: str) -> set[str]:
    """Names a function's source reads without defining (scope-blind, so it errs on "defined")."""
    bound, loaded = set(dir(builtins)), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [a for a in (arguments.vararg, arguments.kwarg) if a]
            bound |= {a.arg for a in every}
            if not isinstance(node, ast.Lambda):
                bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return loaded - bound


def _shared_helper_source(module: ModuleType, name: str) -> str:
    """The source of a shared helper, refused if it reads anything else of its module."""
    source = inspect.getsource(getattr(module, name))
    outside = _free_names(source)
    if outside:
        raise ValueError(
            f"{module.__name__}.{name} is copied into classroom releases, so it must import what "
            f"it uses inside its body; it reads {sorted(outside)} from its module. Move those "
            "imports into the function (or stop sharing it in course_tools/classroom.py)."
        )
    return source.rstrip()


def _literal(text: str, indent: str) -> str:
    """``repr(text)``, split over lines of at most ~90 characters (implicit concatenation)."""
    pieces = textwrap.wrap(
        text, 72, drop_whitespace=False, replace_whitespace=False, break_on_hyphens=False
    )
    if len(pieces) < 2 or "".join(pieces) != text:
        return repr(text)
    return "(\n" + "".join(f"{indent}    {piece!r}\n" for piece in pieces) + f"{indent})"


def _exercises_by_name(module: ModuleType) -> list[tuple[str, Exercise]]:
    found = sorted(
        ((name, value) for name, value in vars(module).items() if isinstance(value, Exercise)),
        key=lambda pair: pair[1].number,
    )
    if not found:
        raise ValueError(f"{module.__name__} defines no Exercise: nothing to release.")
    return found


def exercise_module_source(module: ModuleType, solutions_available: str) -> str:
    """The source of the release's version of ``module``: only what notebooks use of it.

    Parameters
    ----------
    module : module
        A registered checks module of the course, e.g. ``course_utils.exercises.nb02``.
    solutions_available : str
        When learners get the solutions, e.g. ``"after the deadline, 15 December"``.
    """
    text = _check_solutions_available(solutions_available)
    short = module.__name__.rsplit(".", 1)[-1]
    replacements = [name for name in WITHHELD_REPLACEMENTS if hasattr(module, name)]
    exercises = _exercises_by_name(module)
    helpers = SHARED_HELPERS.get(short, ())
    exported = [name for name, _ in exercises] + replacements + list(helpers)
    lines = [
        f"# Generated by course_tools.classroom from course_utils/exercises/{short}.py for a",
        "# classroom release. It holds no checks and no solutions: the exercises are checked when",
        "# the assignment is graded. Do not edit; make a new release instead.",
        f'"""The exercises of {module.__name__}, checked when the assignment is graded."""',
        "",
        "from __future__ import annotations",
        "",
        f"from {WITHHELD_MODULE} import {', '.join(['GradedLater', *replacements])}",
        "",
        f"__all__ = {exported!r}",
        "",
        f"SOLUTIONS_AVAILABLE = {text!r}",
    ]
    for name, exercise in exercises:
        # The hint text has no public accessor; Exercise keeps it stripped in `_hint`.
        lines += [
            "",
            f"{name} = GradedLater(",
            f"    {exercise.number},",
            f"    {_literal(exercise.title, '    ')},",
            f"    answer_name={exercise.answer_name!r},",
            f"    hint={_literal(exercise._hint, '    ')},",
            "    solutions_available=SOLUTIONS_AVAILABLE,",
            ")",
        ]
    for helper in helpers:
        lines += ["", "", f"# Copied from {short}.py: it builds what an exercise is about; no answer.",
                  _shared_helper_source(module, helper)]  # fmt: skip
    source = "\n".join(lines) + "\n"
    compile(source, f"<release of {module.__name__}>", "exec")  # a generator bug fails here
    return source


def write_exercise_modules(package_dir: Path, *, solutions_available: str) -> None:
    """Rewrite ``package_dir/exercises/`` of a copied ``course_utils`` for a classroom release.

    Each registered checks module becomes a generated one (:func:`exercise_module_source`);
    every other module of the package except the registry (``__init__.py``) and ``_withheld.py``
    is deleted, since the private helpers hold reference computations.

    Parameters
    ----------
    package_dir : path-like
        A copy of this course's ``course_utils`` folder (see :func:`write_learner_package`).
    solutions_available : str
        When learners get the solutions, e.g. ``"after the deadline, 15 December"``.

    Raises
    ------
    ValueError
        If ``solutions_available`` is empty, or ``package_dir`` is not a copy of the
        ``course_utils`` this process imports (its checks could not be read here).
    """
    text = _check_solutions_available(solutions_available)
    exercises_dir = _as_path(package_dir, "package_dir") / "exercises"
    wanted = {"__init__.py", "_withheld.py"} | {f"{m}.py" for m in CHECKS_OF_NOTEBOOK.values()}
    missing = sorted(name for name in wanted if not (exercises_dir / name).is_file())
    if missing:
        raise ValueError(
            f"{exercises_dir} lacks {', '.join(missing)}: package_dir must be a copy of the "
            "course's course_utils folder; write_learner_package makes one."
        )
    sources = {}
    for module_name in CHECKS_OF_NOTEBOOK.values():
        real = importlib.import_module(f"{PACKAGE}.exercises.{module_name}")
        copy = exercises_dir / f"{module_name}.py"
        # The generated module describes the imported module's exercises: they must be the copy's.
        if Path(real.__file__).read_bytes() != copy.read_bytes():
            raise ValueError(
                f"{copy} differs from {real.__file__}, the module this process imports; copy the "
                "course_utils of this course (write_learner_package) before writing a release."
            )
        sources[copy] = exercise_module_source(real, text)
    for entry in exercises_dir.iterdir():  # helpers, caches and anything unregistered go
        if entry.name not in wanted:
            _remove(entry)
    for path, source in sources.items():
        path.write_text(source, encoding="utf-8")


def write_learner_package(destination: Path, *, solutions_available: str) -> Path:
    """Copy the course's ``course_utils`` to ``destination/course_utils``, without the answers.

    Imports no TensorFlow (the checks modules import it lazily), so it takes well under a
    second: the grader calls it for every run.

    Parameters
    ----------
    destination : path-like
        The folder to write into; created if needed. It must not hold a ``course_utils`` yet.
    solutions_available : str
        When learners get the solutions, e.g. ``"after the deadline, 15 December"``.

    Returns
    -------
    Path
        The package folder, ``destination/course_utils``.
    """
    text = _check_solutions_available(solutions_available)
    package = _as_path(destination, "destination") / PACKAGE
    if package.exists():
        raise FileExistsError(
            f"{package} already exists; write the learner package into a folder without a "
            f"{PACKAGE}, or delete {package} first."
        )
    shutil.copytree(REPOSITORY.root / PACKAGE, package, ignore=_SKIPPED)
    write_exercise_modules(package, solutions_available=text)
    return package


# --- the release folder -----------------------------------------------------------------------


def release_note(solutions_available: str, made_on: datetime.date) -> str:
    """The note at the top of a release's README and in its RELEASE_NOTE.md (Markdown)."""
    paragraphs = [
        f"**Classroom release** made on {made_on.isoformat()}: the course's student notebooks, "
        "without the course's checks and solutions.",
        "`checks.exercise_N.check(your_function)` tells you whether an exercise is written yet; "
        "whether it is right is checked when the assignment is graded. `.hint()` gives the usual "
        f"hints. The solutions will be available {solutions_available}.",
        "Set up and open the course with `python3 course.py lab`. The maintainers' commands "
        "(`test`, `grade`, `execute-solutions`, ...) need the full course and do not work here.",
    ]
    return "\n>\n".join(f"> {p}" for p in paragraphs) + "\n"


def _refuse_unusable_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(
            f"{out} is not an empty folder. A classroom release is written into a new or empty "
            "folder, so that nothing else (an older release, the solutions) is handed out with "
            f"it: pass another --out, or delete {out} first."
        )
    resolved, root = out.resolve(), REPOSITORY.root
    inside = [root / name for name in (*RELEASED_FOLDERS, PACKAGE)]
    if resolved == root or any(resolved.is_relative_to(folder) for folder in inside):
        raise ValueError(
            f"{out} is the course folder or inside a folder the release copies; pass a folder "
            f"outside them, e.g. --out {root.parent / 'classroom-release'}."
        )


def _refuse_solved_notebooks(notebooks: Path) -> None:
    """A student notebook that still holds a solution block must never be handed out."""
    for path in sorted(notebooks.glob("*.ipynb")):
        if BEGIN_MARKER in path.read_text(encoding="utf-8"):
            raise ValueError(
                f"{path} contains '{BEGIN_MARKER}': it is not a student notebook. Regenerate "
                "notebooks/ with `python3 course.py student-notebooks`, then release again."
            )


def write_release(out: Path, *, solutions_available: str) -> Path:
    """Write the folder learners receive for an assignment, without the answers.

    It holds the student notebooks, the learner package of :func:`write_learner_package`, the
    data scripts, and what ``python3 course.py setup`` and ``lab`` need (``course.py``,
    ``pyproject.toml``, the requirements, ``environment.yml``, the README with a release note
    on top, and ``RELEASE_NOTE.md``). Never ``solutions/``, ``tests/``, ``course_tools/``,
    ``.ci/`` or ``benchmarks/``.

    Parameters
    ----------
    out : path-like
        A new or empty folder.
    solutions_available : str
        When learners get the solutions, e.g. ``"after the deadline, 15 December"``.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    FileExistsError
        If ``out`` exists and is not an empty folder.
    ValueError
        If ``solutions_available`` is empty, ``out`` is inside the course's released folders,
        or a notebook in ``notebooks/`` still holds a solution block.
    """
    text = _check_solutions_available(solutions_available)
    out = _as_path(out, "out")
    _refuse_unusable_out(out)
    root = REPOSITORY.root
    _refuse_solved_notebooks(REPOSITORY.notebooks)
    out.mkdir(parents=True, exist_ok=True)
    try:
        for folder in RELEASED_FOLDERS:
            shutil.copytree(root / folder, out / folder, ignore=_SKIPPED)
        files = [root / name for name in RELEASED_FILES if (root / name).is_file()]
        files += [path for pattern in RELEASED_PATTERNS for path in sorted(root.glob(pattern))]
        for path in files:
            shutil.copy2(path, out / path.name)
        write_learner_package(out, solutions_available=text)
        note = release_note(text, datetime.date.today())
        readme = out / "README.md"
        readme.write_text(note + "\n" + readme.read_text(encoding="utf-8"), encoding="utf-8")
        (out / RELEASE_NOTE).write_text("# Classroom release\n\n" + note, encoding="utf-8")
    except BaseException:
        # `out` was empty: leave it so, not half a release that a second run would refuse.
        for entry in out.iterdir():
            _remove(entry)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.classroom",
        description="Write a classroom release: the student notebooks and a course_utils "
        "without checks or solutions, for learners to receive.",
    )
    parser.add_argument("--out", type=Path, required=True, help="a new or empty folder")
    parser.add_argument(
        "--solutions-available", required=True, metavar="TEXT",
        help="when learners get the solutions, e.g. 'after the deadline, 15 December'",
    )  # fmt: skip
    parser.add_argument("--base", type=Path, default=Path.cwd(), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # course.py runs this from the course folder; a relative --out is the caller's (--base)
    try:
        out = write_release(args.base / args.out, solutions_available=args.solutions_available)
    except (ValueError, FileExistsError) as err:
        parser.error(str(err))
    notebooks = len(list((out / "notebooks").glob("*.ipynb")))
    print(f"wrote a classroom release of {notebooks} notebooks to {out}; hand it out, and keep "
          "solutions/ back. Grade the returned notebooks with `python3 course.py grade`.")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
