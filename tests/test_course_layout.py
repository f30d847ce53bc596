"""The course's layout holds together: every notebook has its checks, its README rows and its
place in the benchmark; the learner's package never imports the tooling; modules stay small.

These are the checks behind CONTRIBUTING.md's "Add a notebook" checklist: a new solution
notebook that misses a step fails here with the step named.
"""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
import re
import types
from pathlib import Path

import nbformat
import pytest

import course_utils.exercises as exercises_package
from course_tools.layout import REPOSITORY
from course_utils.exercises import CHECKS_OF_NOTEBOOK, checks_for

ROOT = REPOSITORY.root
SOLUTIONS = REPOSITORY.solution_notebooks()
README = REPOSITORY.readme.read_text(encoding="utf-8")
SETUP_IMPORT = re.compile(r"^from course_utils\.exercises import (\w+) as checks$", re.MULTILINE)


def _ids(paths):
    return [p.stem for p in paths]


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_notebook_is_registered_with_the_checks_module_its_set_up_cell_imports(path):
    assert path.stem in CHECKS_OF_NOTEBOOK, (
        f"{path.name} has no row in CHECKS_OF_NOTEBOOK (course_utils/exercises/__init__.py)"
    )
    module = checks_for(path.name)  # imports it
    first_code = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    imported = SETUP_IMPORT.findall(first_code.source)
    assert imported == [module.__name__.rsplit(".", 1)[1]], (
        f"{path.name}'s set-up cell must import `from {module.__name__.rsplit('.', 1)[0]} import "
        f"{module.__name__.rsplit('.', 1)[1]} as checks`, found {imported}"
    )


def test_registry_and_exercise_modules_match_the_notebooks_one_to_one():
    assert sorted(CHECKS_OF_NOTEBOOK) == [p.stem for p in SOLUTIONS]
    modules = sorted(
        info.name for info in pkgutil.iter_modules(exercises_package.__path__)
        if not info.name.startswith("_")
    )  # fmt: skip
    assert sorted(CHECKS_OF_NOTEBOOK.values()) == modules


def test_registry_names_an_unknown_notebook_with_the_fix():
    with pytest.raises(LookupError, match="CONTRIBUTING.md"):
        checks_for("08_new_topic.ipynb")
    with pytest.raises(TypeError, match="notebook's path"):
        checks_for(8)


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_readme_course_map_links_the_notebook(path):
    row = re.compile(rf"^\| {path.stem[:2]} \| \[[^\]]+\]\(notebooks/{re.escape(path.name)}\) \| .+ \|$", re.M)
    assert row.search(README), f"README.md's course map has no row for {path.name}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_readme_timing_table_has_the_notebook(path):
    section = README[README.index("| notebook | scale 1 |") :]
    section = section[: section.index("\n\n")]
    assert re.search(rf"^\| {path.stem[:2]} [^|]+\| \d+ s \|", section, re.M), (
        f"README.md's timing table has no row for {path.stem[:2]}: run "
        f"`python3 course.py benchmark --notebooks {path.stem[:2]}` and add it"
    )


def _benchmark_script(name: str):
    """A script of benchmarks/ loaded as a module (the folder is no package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_measures_every_solution_notebook():
    benchmark = _benchmark_script("run_benchmarks")
    assert benchmark.select_notebooks() == SOLUTIONS
    assert benchmark.select_notebooks(["02"]) == [REPOSITORY.solutions / "02_shape_arithmetic.ipynb"]
    with pytest.raises(ValueError, match="no solution notebook starts with 99"):
        benchmark.select_notebooks(["99"])


def test_benchmark_table_judges_each_notebook_and_the_total_against_the_budgets():
    benchmark = _benchmark_script("run_benchmarks")

    def row(name, seconds, memory):
        return {"notebook": name, "seconds": seconds, "peak_memory_mb": memory, "main_model": None,
                "images_per_second": None, "error": None}  # fmt: skip

    rows = [row(p.stem, 20.0, 900) for p in SOLUTIONS]
    table = benchmark.format_table(rows, None, None)
    assert table.count("| ok |") == len(SOLUTIONS)
    assert f"| all {len(SOLUTIONS)} | {20.0 * len(SOLUTIONS)} |" in table and "ok (budget 150 s)" in table
    rows[0]["seconds"], rows[1]["peak_memory_mb"] = 31.0, 1600  # one too slow, one too big
    rows[2]["seconds"] = 80.0  # and the seven together over 150 s
    table = benchmark.format_table(rows, None, None)
    assert table.count("OVER BUDGET") == 4, table
    assert "OVER BUDGET (budget 150 s)" in table
    assert "| all 2 | 51.0 | | | | | | - |" in benchmark.format_table(rows[:2], None, None)  # no total budget
    # where the time goes: listed for the notebooks over budget only
    slowest = [{"cell": 39, "seconds": 12.0, "source": "suspects = (...)"}]
    for r in rows:
        r["slowest_cells"] = slowest
    table = benchmark.format_table(rows, None, None)
    listed = [line for line in table.splitlines() if line.startswith("* ")]
    assert listed == [f"* {rows[i]['notebook']}: cell 39 12.0 s `suspects = (...)`" for i in (0, 1, 2)], table
    assert "where the time goes" not in benchmark.format_table(rows[3:], None, None)


def test_benchmark_times_each_cell_under_its_number_in_the_file(tmp_path):
    """The benchmark injects two cells into its copy; the cell numbers it reports are the file's."""
    benchmark = _benchmark_script("run_benchmarks")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# a notebook"),
        nbformat.v4.new_code_cell("import time"),  # the set-up cell
        nbformat.v4.new_code_cell("time.sleep(0.01)"),
        nbformat.v4.new_code_cell("time.sleep(1.5)"),
        nbformat.v4.new_code_cell("raise ValueError('stop here')"),
    ]
    path = tmp_path / "99_probe.ipynb"
    nbformat.write(notebook, path)
    row = benchmark.measure_notebook(path)
    assert row["error"].startswith("cell 4: ValueError: stop here"), row
    assert row["slowest_cells"][0]["cell"] == 3 and row["slowest_cells"][0]["source"] == "time.sleep(1.5)", row
    assert 1.5 <= row["slowest_cells"][0]["seconds"] < row["seconds"], row
    # the run stopped before the fit report: no seconds in fit rather than a made-up 0
    assert row["fits"] == 0 and row["fit_seconds"] is None and row["start_seconds"] > 0, row
    assert f"| 99_probe | {row['seconds']} | {row['start_seconds']} | - |" in benchmark.format_table([row], None, None)


def test_compile_options_table_compares_each_setting_with_the_default(capsys):
    options = _benchmark_script("compile_options")

    def result(ms, xla=False):
        return {"ms_per_step": ms, "first_fit_seconds": 2.0, "xla": xla}

    measured = {
        "course default": dict.fromkeys(options.MODELS, result(10.0)),
        "1 thread": dict.fromkeys(options.MODELS, {**result(12.0), "ms_per_step_range": [10.0, 14.0]}),
        "no determinism": dict.fromkeys(options.MODELS, result(20.0)),
        "XLA (no determinism)": {**dict.fromkeys(options.MODELS, result(5.0, xla=True)),
                                 options.MODELS[0]: result(10.0, xla=False)},
    }  # fmt: skip
    rows = [line for line in options.format_table(measured).splitlines() if line.startswith(f"| {options.MODELS[0]}")]
    assert rows == [f"| {options.MODELS[0]} | 10.0 ms [10.0-10.0] (2.0 s) | 12.0 ms [10.0-14.0] (2.0 s), x1.20 "
                    "| 20.0 ms [20.0-20.0] (2.0 s), x2.00 | 10.0 ms [10.0-10.0] (2.0 s), x0.50, XLA refused |"]
    # XLA is set against its control, the same process without XLA, not against the default
    assert "5.0 ms [5.0-5.0] (2.0 s), x0.25 |" in options.format_table(measured)
    for option in ("--repeats", "--rounds"):
        with pytest.raises(SystemExit):
            options.main([option, "0"])
        assert f"{option} must be at least 1, got 0" in capsys.readouterr().err


def test_compile_options_rounds_give_the_median_the_range_and_xla_only_if_every_round_used_it():
    options = _benchmark_script("compile_options")
    rounds = [{"m": {"ms_per_step": ms, "first_fit_seconds": first, "xla": xla}}
              for ms, first, xla in ((3.0, 1.0, True), (9.0, 2.0, False), (4.0, 5.0, True))]  # fmt: skip
    assert options.combine_rounds(rounds) == {
        "m": {"ms_per_step": 4.0, "ms_per_step_range": [3.0, 9.0], "first_fit_seconds": 2.0, "xla": False}
    }


def test_compile_options_says_which_setting_failed(monkeypatch):
    options = _benchmark_script("compile_options")
    failed = types.SimpleNamespace(returncode=1, stdout="", stderr="ImportError: no tensorflow")
    monkeypatch.setattr(options.subprocess, "run", lambda *args, **kwargs: failed)
    with pytest.raises(RuntimeError, match=r"the '1 thread' run failed \(exit 1\):\nImportError: no tensorflow"):
        options.measure(repeats=1, rounds=1, settings=("1 thread",))


def test_slope_tradeoff_table_judges_the_worst_seed_and_refuses_bad_seeds(capsys):
    tradeoff = _benchmark_script("slope_tradeoff")

    def row(name, worst_validation, worst_test):
        return {"recipe": name, "steps": 600, "seconds_per_seed": 2.0, "validation_mean": 0.3,
                "validation_worst": worst_validation, "test_mean": 0.3, "test_worst": worst_test,
                "seeds": [0, 1, 2, 3, 4]}  # fmt: skip

    table = tradeoff.format_table([row("meets", 0.45, 0.49), row("test over", 0.4, 0.51), row("val over", 0.5, 0.3)])
    verdicts = [line.rsplit("|", 2)[-2].strip() for line in table.splitlines() if line.startswith("| ") and "recipe" not in line]
    assert verdicts == ["yes", "no", "no"], table
    # the recipe marked as the notebook's is the one notebook 05 trains with
    marked = [recipe for name, recipe in tradeoff.RECIPES.items() if "notebook 05" in name]
    source = (REPOSITORY.solutions / "05_slope_model.ipynb").read_text(encoding="utf-8")
    passes, batch = re.search(r"TARGET_EPOCHS, TARGET_BATCH = scaled\((\d+)\), (\d+)", source).groups()
    peak, warmup = re.search(r"TARGET_PEAK_RATE, TARGET_WARMUP = ([\d.e-]+), target_steps // (\d+)", source).groups()
    assert marked == [(int(passes), int(batch), float(peak), 1 / int(warmup))], marked
    for bad in (["--seeds", "-1"], ["--seeds", "1", "1"]):
        with pytest.raises(SystemExit):
            tradeoff.main(bad)
        assert "--seeds must be distinct whole numbers" in capsys.readouterr().err


# --- the import graph: learner package at the bottom, tooling above it --------------------------


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


LEARNER_MODULES = sorted((ROOT / "course_utils").rglob("*.py"))
TOOLING_MODULES = sorted((ROOT / "course_tools").rglob("*.py"))


@pytest.mark.parametrize("path", LEARNER_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_learner_package_never_imports_the_tooling(path):
    tooling = {name for name in _imported_modules(path) if name.split(".")[0] == "course_tools"}
    assert not tooling, f"{path.relative_to(ROOT)} imports {tooling}: notebooks must not need the tooling"


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_notebooks_never_import_the_tooling(path):
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert "course_tools" not in code


# Modules over ~400 lines, each with the reason it stays one module. A new long module needs
# a reason here, or a split.
LONG_MODULES = {
    "course_utils/attribution.py": "Grad-CAM, saliency, the share-inside-a-mask measure and their "
    "overlay, with the checks that refuse a model ending in probabilities",
    "course_utils/arithmetic.py": "the hand formulas of notebook 02, each with the derivation and "
    "argument checks a learner reads next to it",
    "course_utils/layer_report.py": "one small predictor per Keras layer type, all feeding one table",
    "course_utils/checks.py": "the exercise framework learners read in one place: Exercise, the "
    "comparisons and how a named mistake is chosen",
    "course_utils/plots.py": "one small function per kind of figure the notebooks draw",
    "course_utils/slope_data.py": "the slope data set: drawing, files, manifest and loading, each "
    "short, used together by notebook 05 and its data script",
    "course_utils/exercises/_keras_checks.py": "what the Keras exercises of several notebooks "
    "check about a model: layers, activations, losses, metrics, optimizer, trainable state",
    "course_tools/grading/wire.py": "one codec for everything that crosses the sandbox boundary: "
    "each kind's encoder and validating decoder side by side, so the two cannot drift apart",
}
EXERCISE_MODULE_REASON = "one notebook's checks: each exercise's reference, named mistakes, hint and solution"
MAX_LINES = 400


@pytest.mark.parametrize(
    "path", LEARNER_MODULES + TOOLING_MODULES, ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_module_is_long_without_a_reason(path):
    name = path.relative_to(ROOT).as_posix()
    lines = len(path.read_text(encoding="utf-8").splitlines())
    if name.startswith("course_utils/exercises/nb"):
        reason = EXERCISE_MODULE_REASON
    else:
        reason = LONG_MODULES.get(name)
    assert lines <= MAX_LINES or reason, f"{name} has {lines} lines: split it or give a reason"


def test_every_long_module_reason_is_still_needed():
    for name in LONG_MODULES:
        lines = len((ROOT / name).read_text(encoding="utf-8").splitlines())
        assert lines > MAX_LINES, f"{name} has {lines} lines now: drop its entry in LONG_MODULES"


def test_the_suite_hands_out_its_longest_files_first_and_names_only_files_that_exist():
    import conftest

    missing = [path for path in conftest.SLOW_FILE_SECONDS if not (ROOT / path).is_file()]
    assert not missing, f"{missing} are gone: rename or remove them in conftest.SLOW_FILE_SECONDS"

    class Item:
        def __init__(self, nodeid):
            self.nodeid = nodeid

    collected = [
        "tests/test_metrics.py::test_a", "tests/test_browser_e2e.py::test_learner",
        "solutions/05_slope_model.ipynb::Cell 0", "solutions/05_slope_model.ipynb::Cell 1",
        "tests/test_metrics.py::test_b",
    ]  # fmt: skip
    class Config:  # an xdist worker's
        workerinput = {}

    items = [Item(nodeid) for nodeid in collected]
    conftest.pytest_collection_modifyitems(None, Config(), items)
    assert [item.nodeid for item in items] == [collected[2], collected[3], collected[1], collected[0], collected[4]]
    conftest.pytest_collection_modifyitems(None, object(), items := [Item(nodeid) for nodeid in collected])
    assert [item.nodeid for item in items] == collected  # one process: testpaths order


def test_the_file_timeline_follows_each_worker_and_lists_the_slowest_files_as_the_table_wants():
    import conftest

    def report(nodeid, when, duration, worker=None):
        node = types.SimpleNamespace(gateway=types.SimpleNamespace(id=worker)) if worker else None
        return types.SimpleNamespace(nodeid=nodeid, when=when, duration=duration, node=node)

    spans = {}
    for now, rep in [
        (2.0, report("tests/test_wire.py::a", "setup", 2.0, "gw0")),
        (14.0, report("tests/test_wire.py::a", "call", 12.0, "gw0")),
        (15.0, report("tests/test_metrics.py::b", "call", 1.0, "gw1")),
        (16.0, report("tests/test_metrics.py::c", "call", 1.0, "gw1")),
        (27.0, report("tests/test_offline.py::d", "call", 11.0)),  # one process: no worker
    ]:
        conftest.record_file_span(spans, rep, now)
    assert spans["gw0", "tests/test_wire.py"] == [0.0, 14.0, 14.0, 1]
    assert spans["gw1", "tests/test_metrics.py"] == [14.0, 16.0, 2.0, 2]
    lines = conftest.file_timeline_lines(spans)
    assert lines[0] == "gw0: 1 files, last one ends at 14 s" and "main: 1 files, last one ends at 27 s" in lines
    assert lines[-3:] == ['    "tests/test_wire.py": 14,', '    "tests/test_offline.py": 11,', "}"]
