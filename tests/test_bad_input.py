"""Bad input to course_utils' public functions: a clear error at once, never a wrong answer.

Each case checks three things: the exception type, a message that names the problem and says
how to fix it, and that it is raised by course_utils itself (the last frame of the traceback is
in course_utils), so a learner never reads a deep TensorFlow, NumPy or nbformat stack trace.
Modules still being written by others (synthetic, metrics, scaling, plots_eval, slope_*) have
their own tests; this file covers setup, checks, plots, arithmetic, the notebook tools, and the
transfer-learning modules backbone, digits and source_task.
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_tools import execution, student_notebooks
from course_tools.layout import CourseLayout
from course_utils import (
    arithmetic,
    backbone,
    checks,
    digits,
    layer_report,
    plots,
    setup,
    source_task,
)

COURSE_UTILS = Path(arithmetic.__file__).resolve().parent
COURSE_TOOLS = Path(student_notebooks.__file__).resolve().parent
NAN, INF = float("nan"), float("inf")


def _raised_by_course_utils(info: pytest.ExceptionInfo) -> bool:
    """True if our own code raised it (the learner package or the tooling), not a library."""
    raised_in = Path(str(info.traceback[-1].path)).resolve()
    return raised_in.is_relative_to(COURSE_UTILS) or raised_in.is_relative_to(COURSE_TOOLS)


def _expect(call, error, *fragments):
    """Call, expect ``error`` raised by course_utils with every regex fragment in its message."""
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment.lower() in message.lower(), f"{fragment!r} not in: {message}"
    assert _raised_by_course_utils(info), f"raised outside course_utils:\n{info.traceback}"
    return message


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------------------------
# arithmetic: any junk in any whole-number argument is refused, naming the argument
# --------------------------------------------------------------------------------------------

# (function, valid keyword arguments): each argument is replaced by junk in turn.
ARITHMETIC_CALLS = [
    (arithmetic.conv_output_size, {"input_size": 32, "kernel_size": 3, "stride": 1, "dilation": 1}),
    (arithmetic.window_output_size, {"input_size": 32, "kernel_size": 3, "stride": 2, "dilation": 2}),
    (arithmetic.pool_output_size, {"input_size": 32, "pool_size": 2, "strides": 2}),
    (arithmetic.conv2d_params, {"kernel_size": 3, "in_channels": 3, "filters": 8}),
    (arithmetic.depthwise_conv2d_params, {"kernel_size": 3, "in_channels": 3, "depth_multiplier": 1}),
    (arithmetic.separable_conv2d_params, {"kernel_size": 3, "in_channels": 3, "filters": 8, "depth_multiplier": 1}),
    (arithmetic.dense_params, {"in_features": 10, "units": 4}),
    (arithmetic.batchnorm_params, {"channels": 16}),
    (arithmetic.residual_block_params, {"in_channels": 16, "filters": 32, "stride": 2}),
]  # fmt: skip
ARGUMENT_SLOTS = [(f, kwargs, name) for f, kwargs in ARITHMETIC_CALLS for name in kwargs]

junk = (
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(max_value=0)
    | st.text(max_size=5)
    | st.lists(st.integers(-3, 3), max_size=4)
    | st.just(np.float64(3.0))
    | st.just(np.array([3, 3]))
    | st.just(object())
)


@pytest.mark.parametrize(
    "function, kwargs, name",
    ARGUMENT_SLOTS,
    ids=[f"{f.__name__}-{name}" for f, _, name in ARGUMENT_SLOTS],
)
@settings(max_examples=40, deadline=None, derandomize=True)
@given(bad=junk)
def test_arithmetic_refuses_junk_in_every_argument_and_names_it(function, kwargs, name, bad):
    if name == "kernel_size" and isinstance(bad, list) and len(bad) == 2 and min(bad) >= 1:
        return  # a (height, width) pair is valid
    if name == "strides" and bad is None:
        return  # None means "same as pool_size"
    with pytest.raises((TypeError, ValueError)) as info:
        function(**{**kwargs, name: bad})
    assert type(info.value) in (TypeError, ValueError), type(info.value)
    assert name in str(info.value), str(info.value)
    assert _raised_by_course_utils(info)


@pytest.mark.parametrize(
    "call, error, fragments",
    [
        (lambda: arithmetic.conv_output_size(32, 3, padding=NAN), TypeError, ["padding", '"same"']),
        (lambda: arithmetic.conv_output_size(32, 3, padding=None), TypeError, ["padding", '"valid"']),
        (lambda: arithmetic.conv_output_size(32, 3, padding=(1, 1)), TypeError, ["padding", "whole number"]),
        (lambda: arithmetic.pool_output_size(32, 2, padding=1), ValueError, ["padding", "ZeroPadding2D"]),
        (lambda: arithmetic.batchnorm_params(3, center="yes"), TypeError, ["center", "True or False"]),
        (lambda: arithmetic.receptive_field(None), TypeError, ["layers", "tuples"]),
        (lambda: arithmetic.receptive_field([(NAN, 1)]), TypeError, ["layers[0] kernel_size"]),
        (lambda: arithmetic.receptive_field(np.array([[3, 1]])), TypeError, ["layers must be a list"]),
        (lambda: layer_report.layer_report(None), TypeError, ["keras.Model"]),
        (lambda: layer_report.layer_report("model.keras"), TypeError, ["keras.Model", "str"]),
        (lambda: layer_report.show_layer_report(3), TypeError, ["keras.Model"]),
        (lambda: layer_report.format_layer_report(None), TypeError, ["layer_report(model)"]),
    ],
)  # fmt: skip
def test_arithmetic_refuses_other_bad_arguments(call, error, fragments):
    _expect(call, error, *fragments)


# --------------------------------------------------------------------------------------------
# setup_notebook
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, fragments",
    [
        ({"seed": 2**32}, ValueError, ["seed must be at most 4294967295", "seed=42"]),
        ({"seed": NAN}, TypeError, ["seed must be a whole number", "seed=42"]),
        ({"seed": "42"}, TypeError, ["seed must be a whole number", "'42'"]),
        ({"seed": None}, TypeError, ["seed must be a whole number"]),
        ({"seed": 1, "threads": "2"}, TypeError, ["threads", "None to use every core"]),
        ({"seed": 1, "threads": -1}, ValueError, ["threads must be at least 1"]),
        ({"seed": 1, "verbose": "no"}, TypeError, ["verbose must be True or False"]),
    ],
)
def test_setup_notebook_refuses_bad_arguments(kwargs, error, fragments):
    _expect(lambda: setup.setup_notebook(**kwargs), error, *fragments)


@pytest.mark.parametrize(
    "value, fragments",
    [
        ("fast", ["COURSE_SCALE must be a number", "'fast'", "Unset it"]),
        ("", ["COURSE_SCALE must be a number"]),
        ("0.5", ["COURSE_SCALE must be at least 1"]),
        ("-2", ["COURSE_SCALE must be at least 1"]),
        ("nan", ["COURSE_SCALE must be finite"]),
        ("inf", ["COURSE_SCALE must be finite"]),
    ],
)
def test_a_bad_course_scale_is_named_with_the_fix(monkeypatch, value, fragments):
    monkeypatch.setenv("COURSE_SCALE", value)
    _expect(lambda: setup.course_scale(), ValueError, *fragments)
    _expect(lambda: setup.scaled(10), ValueError, *fragments)


@pytest.mark.parametrize(
    "count, error", [(0, ValueError), (-5, ValueError), (2.5, TypeError), ("10", TypeError), (None, TypeError)]
)
def test_scaled_refuses_counts_that_are_not_positive_whole_numbers(monkeypatch, count, error):
    monkeypatch.delenv("COURSE_SCALE", raising=False)
    _expect(lambda: setup.scaled(count), error, "count")


# --------------------------------------------------------------------------------------------
# checks: misuse by learners and by exercise authors
# --------------------------------------------------------------------------------------------


def _exercise(**overrides):
    arguments = dict(answer_name="f", checker=lambda answer: None, hint="h", solution="s")
    arguments.update(overrides)
    number = arguments.pop("number", 1)
    return checks.Exercise(number, "title", **arguments)


@pytest.mark.parametrize(
    "call, error, fragments",
    [
        (lambda: _exercise(number=True), ValueError, ["number must be a positive int"]),
        (lambda: _exercise(number="1"), ValueError, ["number must be a positive int"]),
        (lambda: _exercise(answer_name=None), ValueError, ["answer_name", "conv_output_size"]),
        (lambda: _exercise(answer_name="my function"), ValueError, ["answer_name"]),
        (lambda: _exercise(solution=""), ValueError, ["solution must be a non-empty string"]),
        (lambda: checks.exercises_in(None), TypeError, ["module or a dict", "nb01"]),
        (lambda: checks.exercises_in(3), TypeError, ["module or a dict"]),
    ],
)
def test_exercise_framework_refuses_misuse(call, error, fragments):
    _expect(call, error, *fragments)


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (lambda: NAN, "returned nan"),
        (lambda: INF, "returned inf"),
        (lambda: "896", "returned '896'"),
        (lambda: None, "returned None"),
        (lambda: np.array([896, 896]), "array of shape (2,)"),
    ],
)
def test_check_reports_nan_inf_and_wrong_types_as_incorrect_not_correct(answer, fragment):
    def checker(function):
        checks.expect_equal(checks.call_answer(function), 896, call="count()")

    result = _exercise(checker=checker).evaluate(answer)
    assert result.status is checks.Status.INCORRECT
    assert fragment in result.message and "expected value is 896" in result.message


@pytest.mark.parametrize("got", [NAN, INF, -INF, "1.0", None, [1.0]])
def test_expect_close_never_accepts_nan_inf_or_non_numbers(got):
    with pytest.raises(checks.IncorrectAnswer, match="expected"):
        checks.expect_close(got, 1.0, call="f()")


@pytest.mark.parametrize("got", ["a lot", None, [1.0, "x"], {"a": 1}, [[1.0], [2.0, 3.0]]])
def test_as_number_array_names_the_call_and_what_it_returned(got):
    with pytest.raises(checks.IncorrectAnswer, match=r"f\(2\) returned .*not an array of numbers"):
        checks.as_number_array(got, call="f(2)")


# --------------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------------

IMAGES = np.zeros((3, 4, 4))


@pytest.mark.parametrize(
    "call, error, fragments",
    [
        (lambda: plots.show_images(None), TypeError, ["images must be an array", "(N, H, W)"]),
        (lambda: plots.show_images("digits.png"), TypeError, ["'digits.png'", "load the file"]),
        (lambda: plots.show_images(Path("x.png")), TypeError, ["load the file"]),
        (lambda: plots.show_images(["a.png", "b.png"]), TypeError, ["must hold numbers"]),
        (lambda: plots.show_images([np.zeros((4, 4)), np.zeros((2, 2))]), TypeError, ["could not be turned into an array"]),
        (lambda: plots.show_images(np.full((2, 4, 4), INF)), ValueError, ["32 NaN or infinite"]),
        (lambda: plots.show_images(np.zeros((2, 0, 4))), ValueError, ["empty"]),
        (lambda: plots.show_images(np.zeros((2, 4, 4), complex)), TypeError, ["must hold numbers"]),
        (lambda: plots.show_images(np.zeros((1, 2, 4, 4, 1))), ValueError, ["3 or 4 dimensions"]),
        (lambda: plots.show_images(IMAGES, cmap=None), TypeError, ["colormap name"]),
        (lambda: plots.show_images(IMAGES, figsize_per_image=NAN), ValueError, ["finite", "inches"]),
        (lambda: plots.show_filters(None), TypeError, ["kernel_or_layer must be an array"]),
        (lambda: plots.show_filters(np.full((3, 3, 1, 2), NAN)), ValueError, ["NaN", "layer.kernel"]),
        (lambda: plots.show_filters(np.zeros((3, 3, 1, 0))), ValueError, ["empty"]),
        (lambda: plots.show_filters(np.zeros((3, 3, 1, 2)), channel=1.0), TypeError, ["channel must be a whole number"]),
        (lambda: plots.plot_history(None), TypeError, ["History that model.fit returns"]),
        (lambda: plots.plot_history({1: [0.5]}), TypeError, ["metric names", "history.history"]),
        (lambda: plots.plot_history({"val_loss": [0.5]}), ValueError, ["only validation curves"]),
        (lambda: plots.plot_history({"loss": [NAN, NAN]}), ValueError, ["only NaN", "learning rate"]),
        (lambda: plots.plot_history({"loss": [1.0], "val_loss": [INF]}), ValueError, ["val_loss", "only NaN"]),
        (lambda: plots.plot_history({"loss": 0.5}), ValueError, ["1 dimensions"]),
        (lambda: plots.plot_history({"loss": [[0.5]]}), ValueError, ["1 dimensions"]),
    ],
)  # fmt: skip
def test_plots_refuse_bad_input_before_drawing(call, error, fragments):
    _expect(call, error, *fragments)
    assert plt.get_fignums() == []


def test_plot_history_draws_a_diverged_run_but_says_where_and_what_to_do():
    with pytest.warns(UserWarning, match=r"history\['loss'\] has 2 NaN or infinite value\(s\), the first at epoch 3.*learning rate"):
        fig = plots.plot_history({"loss": [1.0, 0.5, NAN, INF]})
    assert len(fig.axes) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plots.plot_history({"loss": [1.0, 0.5]})  # finite curves: no warning


@pytest.fixture(scope="module")
def tiny_model():
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(6, 6, 1)),
            keras.layers.Conv2D(2, 3, name="conv"),
            keras.layers.Flatten(name="flat"),
        ]
    )


@pytest.mark.parametrize(
    "image, error, fragments",
    [
        (None, TypeError, ["image must be an array"]),
        ("photo.png", TypeError, ["load the file"]),
        (np.full((6, 6, 1), NAN), ValueError, ["NaN"]),
        (np.zeros((6, 6)), ValueError, ["image[..., None]"]),
        (np.zeros((6, 6, 3)), ValueError, ["expects images of shape (6, 6, 1)"]),
        (np.zeros((2, 6, 6, 1)), ValueError, ["batch of 2", "images[:1]"]),
        (np.zeros((0, 6, 6, 1)), ValueError, ["empty"]),
    ],
)
def test_show_feature_maps_refuses_bad_images_before_running_the_model(
    tiny_model, image, error, fragments
):
    _expect(lambda: plots.show_feature_maps(tiny_model, "conv", image), error, *fragments)


# --------------------------------------------------------------------------------------------
# student_notebooks and execution (course_tools): missing, empty, corrupt files and folders
# --------------------------------------------------------------------------------------------


def _folder_with(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "solutions"
    folder.mkdir()
    (folder / "01_demo.ipynb").write_text(text)
    return folder


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "not a readable Jupyter notebook"),
        ("{not json", "not a readable Jupyter notebook"),
        ('{"cells": 3}', "not a readable Jupyter notebook"),
        ('{"nbformat": 4, "nbformat_minor": 5, "cells": [{"cell_type": "code"}]}', "not a readable"),
        ("\x00\x01\x02", "not a readable Jupyter notebook"),
    ],
    ids=["empty", "not-json", "wrong-schema", "cell-without-source", "binary"],
)
def test_damaged_solution_notebook_is_named_with_the_fix(tmp_path, text, fragment):
    folder = _folder_with(tmp_path, text)
    message = _expect(
        lambda: student_notebooks.write_student_notebooks(CourseLayout(tmp_path)),
        student_notebooks.NotebookFormatError,
        fragment,
        "01_demo.ipynb",
        "restore it",
    )
    assert "git checkout" in message
    assert not (tmp_path / "notebooks" / "01_demo.ipynb").exists()  # nothing half-written


def test_missing_empty_or_wrong_folders_are_explained(tmp_path):
    _expect(
        lambda: student_notebooks.write_student_notebooks(CourseLayout(tmp_path / "nope")),
        FileNotFoundError,
        "no notebooks found",
        "course folder",
    )
    (tmp_path / "empty" / "solutions").mkdir(parents=True)
    _expect(
        lambda: student_notebooks.write_student_notebooks(CourseLayout(tmp_path / "empty")),
        FileNotFoundError,
        "no notebooks found",
    )
    folder = _folder_with(tmp_path, nbformat.writes(nbformat.v4.new_notebook()))
    (tmp_path / "notebooks").write_text("a file where the folder should be")
    _expect(
        lambda: student_notebooks.write_student_notebooks(CourseLayout(tmp_path)),
        NotADirectoryError,
        "is a file",
        "Move the file away",
    )


def test_read_notebook_names_a_folder_or_a_missing_file(tmp_path):
    _expect(lambda: student_notebooks.read_notebook(tmp_path), FileNotFoundError, "is not a file")
    _expect(
        lambda: student_notebooks.read_notebook(tmp_path / "01.ipynb"),
        FileNotFoundError,
        "01.ipynb does not exist",
    )


def test_execute_solution_names_a_missing_or_damaged_file(tmp_path):
    _expect(
        lambda: execution.execute_solution(tmp_path / "missing.ipynb"),
        FileNotFoundError,
        "missing.ipynb does not exist",
        "solutions/ holds",
    )
    folder = _folder_with(tmp_path, "{")
    _expect(
        lambda: execution.execute_solution(folder / "01_demo.ipynb"),
        student_notebooks.NotebookFormatError,
        "01_demo.ipynb is not a readable Jupyter notebook",
    )


def test_run_notebook_refuses_a_non_notebook_and_a_missing_folder(tmp_path):
    _expect(lambda: execution.run_notebook("x = 1", tmp_path), TypeError, "must be a notebook")
    _expect(
        lambda: execution.run_notebook(nbformat.v4.new_notebook(), tmp_path / "nowhere"),
        NotADirectoryError,
        "existing folder",
        "nowhere",
    )


@pytest.mark.parametrize(
    "call, error, fragment",
    [
        (lambda: student_notebooks.replace_solution_blocks(None), TypeError, "must be a string"),
        (lambda: student_notebooks.replace_solution_blocks(b"x = 1"), TypeError, "cell.source"),
        (lambda: student_notebooks.make_student_notebook(None), TypeError, "nbformat.read"),
        (lambda: student_notebooks.make_student_notebook({"cells": []}), TypeError, "nbformat.read"),
        (lambda: student_notebooks.code_fingerprint("solutions/01.ipynb"), TypeError, "nbformat.read"),
        (lambda: student_notebooks.check_notebook([]), TypeError, "nbformat.read"),
    ],
)
def test_notebook_functions_refuse_things_that_are_not_notebooks(call, error, fragment):
    _expect(call, error, fragment)


def test_make_student_notebook_accepts_a_plain_dict_notebook():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    student = student_notebooks.make_student_notebook(dict(notebook))
    assert student.cells[0].source == "x = 1"


# --------------------------------------------------------------------------------------------
# transfer learning: source task, digits, backbone
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, fragments",
    [
        (lambda: source_task.make_source_task(0), ValueError, ["n must be at least 1"]),
        (lambda: source_task.make_source_task(10.5), TypeError, ["n must be a whole number"]),
        (lambda: source_task.make_source_task(10, image_size=8), ValueError, ["image_size", "32"]),
        (lambda: source_task.make_source_task(10, noise=-1), ValueError, ["noise"]),
        (lambda: source_task.make_source_task(10, seed=-2), ValueError, ["seed"]),
        (lambda: digits.load_digit_images(4), ValueError, ["image_size must be at least 8"]),
        (lambda: digits.load_digit_images("32"), TypeError, ["image_size must be a whole number"]),
        (lambda: digits.few_shot_indices([0, 0, 1, 1], 3), ValueError, ["per_class=3", "class 0"]),
        (lambda: digits.few_shot_indices([0, 1], 0), ValueError, ["per_class must be at least 1"]),
        (lambda: digits.few_shot_indices([0.5, 1], 1), ValueError, ["whole-number class labels"]),
        (lambda: digits.few_shot_indices("labels.csv", 1), TypeError, ["load the file"]),
        (lambda: digits.few_shot_indices([[0, 1]], 1), ValueError, ["labels"]),
        (lambda: backbone.build_backbone(image_size=8), ValueError, ["image_size", "32"]),
        (lambda: backbone.build_backbone(name=""), TypeError, ["name must be a non-empty string"]),
        (lambda: backbone.file_sha256(3), TypeError, ["file path"]),
        (lambda: backbone.file_sha256("no/such/file.keras"), FileNotFoundError, ["does not exist"]),
        (lambda: backbone.card_path("model.h5"), ValueError, [".keras", "patterns_backbone.keras"]),
        (lambda: backbone.load_backbone_card(42), TypeError, ["str or Path"]),
        (lambda: backbone.load_pretrained_backbone("x.weights.h5"), ValueError, [".keras"]),
        (lambda: backbone.load_pretrained_backbone(trainable="yes"), TypeError, ["True or False"]),
    ],
)
def test_transfer_learning_helpers_refuse_bad_arguments(call, error, fragments):
    _expect(call, error, *fragments)


def test_every_public_function_of_the_covered_modules_is_exercised_here():
    """A new public function must get bad-input cases in this file (or in its own tests)."""
    source = Path(__file__).read_text()
    modules = {"arithmetic": arithmetic, "layer_report": layer_report, "checks": checks,
               "student_notebooks": student_notebooks, "execution": execution,
               "plots": plots, "setup": setup, "backbone": backbone, "digits": digits,
               "source_task": source_task}  # fmt: skip
    # Exercised elsewhere with bad input: tests/test_checks.py, test_student_notebooks.py.
    # short_repr takes any value by design (it renders a learner's answer, whatever it is).
    elsewhere = {"call_answer", "describe_call", "expect_equal", "main", "pooling_params", "short_repr"}
    missing = []
    for module_name, module in modules.items():
        for name, obj in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(obj):
                continue
            if obj.__module__ != module.__name__ or name in elsewhere:
                continue
            in_table = any(obj is function for function, _ in ARITHMETIC_CALLS)
            if f"{module_name}.{name}(" not in source and not in_table:
                missing.append(f"{module_name}.{name}")
    assert not missing, f"no bad-input case for {missing}"
