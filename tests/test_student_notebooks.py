"""The solutions -> student notebooks generator, on small notebooks made here."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_tools.layout import CourseLayout
from course_tools.student_notebooks import (
    NotebookFormatError,
    code_fingerprint,
    make_student_notebook,
    replace_solution_blocks,
    write_student_notebooks,
)

EXERCISE_CELL = """# Exercise 2: output size
def conv_output_size(n, k):
    \"\"\"Docstring stays.\"\"\"
    ### BEGIN SOLUTION
    size = n - k + 1
    return size
    ### END SOLUTION

checks.exercise_2.check(conv_output_size)"""


def _solution_notebook():
    cells = [
        new_markdown_cell("# Title"),
        new_code_cell("x = 1", execution_count=1, outputs=[new_output("stream", text="hi\n")]),
        new_code_cell(EXERCISE_CELL, execution_count=2),
    ]
    cells[2].metadata["tags"] = ["exercise"]
    cells[2].metadata["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
    notebook = new_notebook(cells=cells)
    notebook.metadata["course"] = {"code_sha256": "abc"}
    return notebook


def test_solution_block_becomes_stub_naming_the_exercise_at_the_same_indent():
    student, blocks = replace_solution_blocks(EXERCISE_CELL)
    assert blocks == 1
    assert "size = n - k + 1" not in student
    assert "### BEGIN SOLUTION" not in student and "### END SOLUTION" not in student
    assert '    raise NotImplementedError("Exercise 2: replace this line' in student
    assert '"""Docstring stays."""' in student
    assert student.endswith("checks.exercise_2.check(conv_output_size)")


def test_generated_stub_really_raises_not_implemented_error():
    student, _ = replace_solution_blocks(EXERCISE_CELL)
    namespace = {}
    exec(student.replace("checks.exercise_2.check(conv_output_size)", ""), namespace)
    with pytest.raises(NotImplementedError, match="Exercise 2"):
        namespace["conv_output_size"](32, 3)


def test_cell_without_markers_is_unchanged():
    assert replace_solution_blocks("y = 2\nprint(y)") == ("y = 2\nprint(y)", 0)


@pytest.mark.parametrize(
    "source, message",
    [
        ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", "must start with"),
        ("# Exercise 1: t\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "inside a function"),
        ("# Exercise 1: t\ndef f():\n    ### BEGIN SOLUTION\n    return 1", "never closed"),
        ("# Exercise 1: t\ndef f():\n    return 1\n    ### END SOLUTION", "without a"),
        (
            "# Exercise 1: t\ndef f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n"
            "    ### END SOLUTION",
            "nested",
        ),
    ],
)
def test_malformed_solution_blocks_are_refused_with_the_cell_named(source, message):
    with pytest.raises(NotebookFormatError, match=message) as info:
        replace_solution_blocks(source, where="solutions/99.ipynb, cell 4")
    assert "solutions/99.ipynb, cell 4" in str(info.value)


def test_student_notebook_has_no_outputs_timestamps_or_fingerprint_and_keeps_tags():
    solution = _solution_notebook()
    student = make_student_notebook(solution)
    code_cells = [c for c in student.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code_cells)
    assert "execution" not in code_cells[1].metadata
    assert code_cells[1].metadata["tags"] == ["exercise"]
    assert "course" not in student.metadata
    # the solution notebook itself is left alone
    assert solution.cells[1].outputs and "size = n - k + 1" in solution.cells[2].source


def test_fingerprint_changes_with_code_but_not_with_outputs_or_markdown():
    notebook = _solution_notebook()
    before = code_fingerprint(notebook)
    notebook.cells[1].outputs = []
    notebook.cells[0].source = "# Another title"
    assert code_fingerprint(notebook) == before
    notebook.cells[1].source = "x = 2"
    assert code_fingerprint(notebook) != before


def test_write_student_notebooks_refuses_to_overwrite_a_learners_work(tmp_path):
    solutions, students = tmp_path / "solutions", tmp_path / "notebooks"
    solutions.mkdir()
    nbformat.write(_solution_notebook(), solutions / "01_demo.ipynb")

    assert [p.name for p in write_student_notebooks(CourseLayout(tmp_path))] == ["01_demo.ipynb"]
    assert write_student_notebooks(CourseLayout(tmp_path)) == []  # second run changes nothing

    worked = nbformat.read(students / "01_demo.ipynb", as_version=4)
    worked.cells[1].outputs = [new_output("stream", text="learner output\n")]
    worked.cells[1].execution_count = 1
    nbformat.write(worked, students / "01_demo.ipynb")
    with pytest.raises(FileExistsError, match="someone has worked in it"):
        write_student_notebooks(CourseLayout(tmp_path))
    assert "learner output" in (students / "01_demo.ipynb").read_text()
    assert write_student_notebooks(CourseLayout(tmp_path), force=True)


def test_write_student_notebooks_names_an_empty_solutions_folder(tmp_path):
    (tmp_path / "solutions").mkdir()
    with pytest.raises(FileNotFoundError, match="no notebooks found"):
        write_student_notebooks(CourseLayout(tmp_path))


def test_write_student_notebooks_can_regenerate_only_the_named_notebooks(tmp_path):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    for name in ("01_demo.ipynb", "02_other.ipynb"):
        nbformat.write(_solution_notebook(), solutions / name)
    layout = CourseLayout(tmp_path)
    assert [p.name for p in write_student_notebooks(layout, names=["02"])] == ["02_other.ipynb"]
    assert not (tmp_path / "notebooks" / "01_demo.ipynb").exists()
    assert [p.name for p in write_student_notebooks(layout)] == ["01_demo.ipynb"]
    with pytest.raises(ValueError, match="no single solution notebook matches '03'"):
        write_student_notebooks(layout, names=["03"])
