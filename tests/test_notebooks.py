"""The committed notebooks: generated, executed, offline, and every exercise wired up.

nbval (collected from solutions/ and notebooks/) executes every notebook; these tests cover
what a notebook run cannot see: that notebooks/ is exactly what the generator makes, that
solution outputs are fresh, and that each exercise's stub reports "not attempted" while its
solution passes the check.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from course_tools.anatomy import BEGIN_MARKER, END_MARKER, EXERCISE_HEADING, find_exercise_cells
from course_tools.student_notebooks import METADATA_KEY, code_fingerprint, make_student_notebook
from course_utils.checks import Exercise, Status, exercises_in
from course_utils.exercises import checks_for

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
# Things that fetch data or weights at run time; the course must work offline.
DOWNLOAD_PATTERNS = re.compile(
    r"load_data\(|weights\s*=\s*['\"]imagenet|urlretrieve|urlopen|requests\.|get_file\(|"
    r"tensorflow_hub|hf_hub|fetch_openml|fetch_[a-z_]+\("
)


def _ids(paths):
    return [p.stem for p in paths]


def _read(path):
    return nbformat.read(path, as_version=4)


def _code_cells(notebook):
    return [c for c in notebook.cells if c.cell_type == "code"]


def test_course_has_its_first_notebooks():
    names = [p.stem[:2] for p in SOLUTIONS]
    assert {"01", "02"} <= set(names), f"solutions/ holds {names}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_student_notebook_is_exactly_what_the_generator_makes(path):
    committed = ROOT / "notebooks" / path.name
    assert committed.exists(), f"run `python3 course.py student-notebooks` to create {committed}"
    expected = make_student_notebook(_read(path), path.name)
    assert _read(committed) == expected, (
        f"{committed.relative_to(ROOT)} is out of date: run `python3 course.py student-notebooks`"
    )


def test_no_student_notebook_without_a_solution():
    orphans = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")} - {p.name for p in SOLUTIONS}
    assert not orphans


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_solution_outputs_are_fresh_from_one_top_to_bottom_run(path):
    notebook = _read(path)
    recorded = notebook.metadata.get(METADATA_KEY, {}).get("code_sha256")
    assert recorded == code_fingerprint(notebook), (
        f"{path.name}: code changed since it was executed; run "
        f"`python3 course.py execute-solutions {path.stem[:2]}`"
    )
    counts = [c.execution_count for c in _code_cells(notebook)]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: execution counts {counts}"
    errors = [
        i
        for i, c in enumerate(notebook.cells)
        if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)
    ]
    assert not errors, f"{path.name}: cells {errors} stored an error"


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_notebook_runs_on_the_standard_python3_kernel(path):
    # nbval starts the kernel named here; a learner's custom kernel name fails in CI.
    assert _read(path).metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_notebook_downloads_nothing(path):
    hits = [
        line.strip()
        for cell in _code_cells(_read(path))
        for line in cell.source.splitlines()
        if DOWNLOAD_PATTERNS.search(line)
    ]
    assert not hits, f"{path.name} fetches at run time: {hits}"


def _exercise_cells(notebook):
    """Yield (exercise attribute, answer name, definition code, cell) per exercise cell.

    Exercise cells start with "# Exercise N:" in both versions; only solutions have markers.
    """
    for exercise in find_exercise_cells(notebook):
        match = exercise.check
        assert match, f"exercise cell has no `checks.exercise_N.check(function)` line:\n{exercise.source}"
        yield match.group("attr"), match.group("answer"), exercise.definition, exercise.cell


def _exercise_module(path):
    return checks_for(path.name)


def _setup_namespace(notebook):
    """Run the notebook's first code cell (set-up and imports), as exercise code may use them."""
    namespace: dict = {}
    exec(_code_cells(notebook)[0].source, namespace)
    return namespace


def _pairs():
    return [(path, attr) for path in SOLUTIONS for attr, *_ in _exercise_cells(_read(path))]


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_every_exercise_in_the_module_appears_once_in_its_notebook(path):
    in_notebook = [attr for attr, *_ in _exercise_cells(_read(path))]
    module = _exercise_module(path)
    in_module = [f"exercise_{e.number}" for e in exercises_in(module)]
    assert in_notebook == in_module
    for attr in in_module:
        assert getattr(module, attr).number == int(attr.split("_")[1])
    if path.stem[:2] in {"01", "02"}:
        assert len(in_module) >= {"01": 4, "02": 6}[path.stem[:2]]


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_each_exercise_solution_passes_and_each_student_stub_reports_not_attempted(path):
    module = _exercise_module(path)
    solution, student = _read(path), _read(ROOT / "notebooks" / path.name)
    namespace = _setup_namespace(solution)
    student_cells = {attr: code for attr, _, code, _ in _exercise_cells(student)}
    for attr, answer_name, code, cell in _exercise_cells(solution):
        exercise: Exercise = getattr(module, attr)
        heading = EXERCISE_HEADING.match(cell.source.splitlines()[0])
        assert heading and heading.group(1) == f"Exercise {exercise.number}"
        assert exercise.answer_name == answer_name

        assert BEGIN_MARKER in code, f"{path.name} {attr}: no solution block to strip"
        exec(code, namespace)
        result = exercise.evaluate(namespace[answer_name])
        assert result.status is Status.CORRECT, result.message

        exec(student_cells[attr], namespace)
        with pytest.raises(NotImplementedError, match=f"Exercise {exercise.number}"):
            _call_with_dummy_arguments(namespace[answer_name])
        result = exercise.evaluate(namespace[answer_name])
        assert result.status is Status.NOT_ATTEMPTED, result.message


def _call_with_dummy_arguments(function):
    """The stub raises before touching its arguments, so any arguments will do."""
    import inspect

    parameters = inspect.signature(function).parameters.values()
    required = [p for p in parameters if p.default is p.empty and p.kind == p.POSITIONAL_OR_KEYWORD]
    function(*[None] * len(required))


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_exercise_solution_text_is_the_solution_notebooks_code(path):
    module = _exercise_module(path)
    for attr, _, code, _ in _exercise_cells(_read(path)):
        lines = code.strip().splitlines()[1:]  # drop the "# Exercise N:" heading
        shown = "\n".join(l for l in lines if l.strip() not in {BEGIN_MARKER, END_MARKER})
        assert getattr(module, attr).solution_code == shown.strip(), (
            f"{path.name} {attr}: .solution() would show different code from the notebook"
        )
