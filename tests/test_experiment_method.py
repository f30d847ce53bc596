"""Rule 3 of "Experiments a learner can trust": choices are made on a validation split.

The test set is touched once, for the final number. This module reads the code of every solution
notebook with :mod:`ast` (not with regular expressions, so formatting, line breaks and aliases do
not matter) and fails when a notebook

* passes test data as ``validation_data`` to a call (``model.fit``), which lets the test set steer
  training: early stopping, learning-rate schedules and "best epoch" checkpoints all read it;
* monitors a test metric in a callback (``EarlyStopping(monitor="test_loss")`` and the like);
* picks something by a test score: ``min``/``max``/``sorted`` with a ``key`` over test results, or
  ``argmin``/``argmax`` (NumPy, methods, pandas' ``idxmin``/``idxmax``) of a test result taken
  over the whole array rather than along an axis (``probabilities.argmax(axis=1)`` makes
  predictions, it chooses nothing), or an ``if`` on a test score that assigns something.

What counts as test data: any name with ``test`` (or ``compare``/``comparison``: the comparison
split of notebooks 01 and 06, on which nothing is chosen either) as one of its ``_``-separated
words (``x_test``, ``test``, ``skewed_test.images``, ``test_accuracy``, ``x_compare``), a subscript with such a string
key (``data["test"]``), and, following the code in order, every name assigned from an expression
that uses test data (``scores = model.evaluate(x_test, y_test)``), filled with it
(``results.append(test_mae)``, ``results[name] = test_mae``) or looping over it, and every
function whose body uses test data. ALL-CAPS names are constants (``N_TEST``), not data.

The checker has its own tests below: it must catch each kind of planted violation and pass code
that does the same things on a validation split.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))

SELECTING_BUILTINS = {"min", "max", "sorted"}
ARG_SELECTORS = {"argmin", "argmax", "nanargmin", "nanargmax", "idxmin", "idxmax"}
MONITORING_CALLBACKS = {"EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "BackupAndRestore"}
FILLING_METHODS = {"append", "extend", "update", "insert", "add", "setdefault", "__setitem__"}
_MAGIC_LINE = re.compile(r"^\s*[%!]")


@dataclass(frozen=True)
class Violation:
    """One place where test data steers a choice."""

    cell: int
    line: int
    kind: str
    code: str

    def __str__(self) -> str:
        return f"code cell {self.cell}, line {self.line}: {self.kind}: {self.code}"


# Words that mark held-out data nothing may be chosen by: the test set, and the comparison split
# of notebooks 01 and 06 (methods are compared on it after training; no epoch or setting is chosen).
HELD_OUT_WORDS = {"test", "compare", "comparison"}


def is_test_word(name: str) -> bool:
    """True for identifiers such as ``x_test``, ``test`` or ``x_compare``, not ``N_TEST`` or ``latest``."""
    if name.isupper():
        return False
    return not HELD_OUT_WORDS.isdisjoint(name.lower().split("_"))


def _base_name(node: ast.AST) -> str | None:
    """``results`` for ``results``, ``results["a"]``, ``results.best``, ``results["a"].x``."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Starred):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _target_names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Tuple | ast.List):
        return [name for element in target.elts for name in _target_names(element)]
    name = _base_name(target)
    return [name] if name else []


class _TestDataTracker:
    """Follows which names hold test data, statement by statement, across a notebook's cells."""

    def __init__(self) -> None:
        self.tainted: set[str] = set()
        self.violations: list[Violation] = []
        self.cell = 0
        self.source_lines: list[str] = []

    # --- what is test data -------------------------------------------------------------
    def uses_test_data(self, node: ast.AST | None) -> bool:
        if node is None:
            return False
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and (is_test_word(sub.id) or sub.id in self.tainted):
                return True
            if isinstance(sub, ast.Attribute) and is_test_word(sub.attr) and not sub.attr.isupper():
                # splits.test, data.x_test; not method names such as .test()
                parent = getattr(sub, "_parent", None)
                if not (isinstance(parent, ast.Call) and parent.func is sub):
                    return True
            if (
                isinstance(sub, ast.Subscript)
                and isinstance(sub.slice, ast.Constant)
                and isinstance(sub.slice.value, str)
                and is_test_word(sub.slice.value)
            ):
                return True
        return False

    def compares_test_scores(self, condition: ast.AST) -> bool:
        """An ordering comparison (<, <=, >, >=) with test data on one side."""
        ordering = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
        for node in ast.walk(condition):
            if isinstance(node, ast.Compare) and any(isinstance(op, ordering) for op in node.ops):
                if any(self.uses_test_data(side) for side in [node.left, *node.comparators]):
                    return True
        return False

    # --- walking statements in order -----------------------------------------------------
    def run_cell(self, index: int, source: str) -> None:
        self.cell = index
        cleaned = "\n".join("" if _MAGIC_LINE.match(line) else line for line in source.splitlines())
        self.source_lines = cleaned.splitlines()
        tree = ast.parse(cleaned)
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                child._parent = node  # type: ignore[attr-defined]
        self.run_block(tree.body)

    def run_block(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self.run_statement(statement)

    def run_statement(self, node: ast.stmt) -> None:
        self.check_calls(node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            # a function that reads test data returns test data
            if self.uses_test_data(node):
                self.tainted.add(node.name)
            else:
                self.tainted.discard(node.name)
            return
        if isinstance(node, ast.ClassDef):
            return
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            pairs = [(target, node.value) for target in targets]
            if (  # a, b = x_val, x_test: each name gets its own value
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Tuple | ast.List)
                and all(isinstance(t, ast.Tuple | ast.List) and len(t.elts) == len(node.value.elts) for t in targets)
                and not any(isinstance(e, ast.Starred) for e in node.value.elts)
            ):
                pairs = [(t, v) for target in targets for t, v in zip(target.elts, node.value.elts, strict=True)]
            for target, value in pairs:
                self.assign(target, value, augmented=isinstance(node, ast.AugAssign))
            return
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and func.attr in FILLING_METHODS:
                arguments = [*node.value.args, *(k.value for k in node.value.keywords)]
                if any(self.uses_test_data(a) for a in arguments):
                    name = _base_name(func.value)
                    if name:
                        self.tainted.add(name)
            return
        if isinstance(node, ast.For | ast.AsyncFor):
            if self.uses_test_data(node.iter):
                self.tainted.update(_target_names(node.target))
            else:
                self.tainted.difference_update(_target_names(node.target))  # rebound to clean data
            for _ in range(2):  # a second pass sees what the first pass tainted late in the body
                self.run_block(node.body)
            self.run_block(node.orelse)
            return
        if isinstance(node, ast.While):
            for _ in range(2):
                self.run_block(node.body)
            self.run_block(node.orelse)
            return
        if isinstance(node, ast.If):
            if self.compares_test_scores(node.test) and any(
                isinstance(s, ast.Assign | ast.AugAssign | ast.AnnAssign)
                for s in ast.walk(ast.Module(body=node.body, type_ignores=[]))
            ):
                self.report(node, "chooses by a test score (an `if` on test data that assigns)")
            self.run_block(node.body)
            self.run_block(node.orelse)
            return
        if isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if item.optional_vars is not None and self.uses_test_data(item.context_expr):
                    self.tainted.update(_target_names(item.optional_vars))
            self.run_block(node.body)
            return
        if isinstance(node, ast.Try):
            for block in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                self.run_block(block)

    def assign(self, target: ast.AST, value: ast.AST | None, augmented: bool) -> None:
        value_is_test = self.uses_test_data(value)
        whole_name = isinstance(target, ast.Name) and not augmented
        for name in _target_names(target):
            if value_is_test:
                self.tainted.add(name)
            elif whole_name:
                self.tainted.discard(name)  # rebound to clean data

    # --- the three kinds of violation ----------------------------------------------------
    def check_calls(self, statement: ast.stmt) -> None:
        nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.For, ast.While, ast.If, ast.With, ast.Try)
        nodes = [statement] if not isinstance(statement, nested) else self._headers(statement)
        for root in nodes:
            for node in ast.walk(root):
                if isinstance(node, ast.Call):
                    self.check_call(node)

    @staticmethod
    def _headers(statement: ast.stmt) -> list[ast.AST]:
        """The parts of a compound statement that are not statements run by run_block."""
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            # the body runs when called: check its calls now, with what is tainted now
            return [*statement.body, *statement.args.defaults, *statement.args.kw_defaults]
        if isinstance(statement, ast.For | ast.AsyncFor):
            return [statement.iter]
        if isinstance(statement, ast.While | ast.If):
            return [statement.test]
        if isinstance(statement, ast.With | ast.AsyncWith):
            return [item.context_expr for item in statement.items]
        return []

    def check_call(self, call: ast.Call) -> None:
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        if "validation_data" in keywords and self.uses_test_data(keywords["validation_data"]):
            self.report(call, "passes test data as validation_data")
        monitor = keywords.get("monitor")
        if (
            name in MONITORING_CALLBACKS
            and isinstance(monitor, ast.Constant)
            and isinstance(monitor.value, str)
            and "test" in monitor.value.lower()
        ):
            self.report(call, f"monitors a test metric ({monitor.value!r})")
        if isinstance(call.func, ast.Name) and name in SELECTING_BUILTINS and "key" in keywords:
            if any(self.uses_test_data(a) for a in [*call.args, keywords["key"]]):
                self.report(call, f"picks by a test score ({name} with a key)")
        if name in ARG_SELECTORS:
            if isinstance(call.func, ast.Attribute) and not call.args and _base_name(call.func.value) not in (
                "np",
                "numpy",
                "keras",
                "ops",
                "tf",
            ):
                subject, axis_given = call.func.value, "axis" in keywords
            else:
                subject = call.args[0] if call.args else None
                axis_given = "axis" in keywords or len(call.args) > 1
            if isinstance(call.func, ast.Attribute) and call.args and subject is call.args[0]:
                # T.argmax(1): a method whose positional argument is the axis
                if _base_name(call.func.value) not in ("np", "numpy", "keras", "ops", "tf"):
                    subject, axis_given = call.func.value, True
            if not axis_given and self.uses_test_data(subject):
                self.report(call, f"picks by a test score ({name} over test results)")

    def report(self, node: ast.AST, kind: str) -> None:
        line = getattr(node, "lineno", 1)
        code = self.source_lines[line - 1].strip() if line - 1 < len(self.source_lines) else ""
        self.violations.append(Violation(self.cell, line, kind, code))


def find_violations(cell_sources: list[str]) -> list[Violation]:
    """Every place in these code cells (run in order) where test data steers a choice."""
    tracker = _TestDataTracker()
    for index, source in enumerate(cell_sources):
        tracker.run_cell(index, source)
    return tracker.violations


def _code_cells(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


# --- the rule, for every solution notebook ---------------------------------------------------


def test_every_solution_notebook_is_checked():
    assert len(SOLUTIONS) == 7, [p.name for p in SOLUTIONS]


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_notebook_chooses_on_validation_and_touches_test_only_for_the_final_number(path):
    violations = find_violations(_code_cells(path))
    assert not violations, (
        f"{path.name} lets test data steer a choice (rule 3 of COURSE_DESIGN.md: choose on a "
        "validation split; use the test set once, for the final number):\n"
        + "\n".join(f"  {v}" for v in violations)
    )


# --- the checker itself ----------------------------------------------------------------------

PLANTED = {
    "test arrays as validation_data": (
        "model.fit(x_train, y_train, epochs=5,\n    validation_data=(x_test, y_test))",
        "passes test data as validation_data",
    ),
    "test set object as validation_data": (
        "history = model.fit(train.images, train.labels, validation_data=(test.images, test.labels))",
        "passes test data as validation_data",
    ),
    "test split from a dict": (
        "model.fit(xs, ys, validation_data=splits['test'])",
        "passes test data as validation_data",
    ),
    "renamed test arrays": (
        "x_check, y_check = x_test[:500], y_test[:500]\n"
        "model.fit(x, y, validation_data=(x_check, y_check))",
        "passes test data as validation_data",
    ),
    "test half of a parallel assignment": (
        "val_pixels, held_out = to_uint8(x_val), to_uint8(x_test)\n"
        "model.fit(x, y, validation_data=(held_out, y_val))",
        "passes test data as validation_data",
    ),
    "test arrays in a tf.data set": (
        "held_out = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(32)\n"
        "model.fit(train_ds, validation_data=held_out)",
        "passes test data as validation_data",
    ),
    "early stopping on a test metric": (
        "stop = keras.callbacks.EarlyStopping(monitor='test_loss', patience=2)",
        "monitors a test metric",
    ),
    "best learning rate by test score": (
        "scores = {}\n"
        "for lr in (1e-3, 3e-3):\n"
        "    model = build(lr)\n"
        "    model.fit(x_train, y_train, epochs=3)\n"
        "    scores[lr] = model.evaluate(x_test, y_test)[1]\n"
        "best_lr = max(scores, key=scores.get)",
        "picks by a test score (max with a key)",
    ),
    "best model by sorted test errors": (
        "results = []\n"
        "for name, model in models.items():\n"
        "    results.append((name, mae(y_test, model.predict(x_test))))\n"
        "best_name = sorted(results, key=lambda pair: pair[1])[0][0]",
        "picks by a test score (sorted with a key)",
    ),
    "best epoch by argmin of test losses": (
        "test_losses = [evaluate_on(x_test, y_test, w) for w in checkpoints]\n"
        "best_epoch = int(np.argmin(test_losses)) + 1",
        "picks by a test score (argmin over test results)",
    ),
    "argmax method on a test metric": (
        "accuracies = np.array([m.evaluate(x_test, y_test)[1] for m in candidates])\n"
        "chosen = candidates[accuracies.argmax()]",
        "picks by a test score (argmax over test results)",
    ),
    "a helper that evaluates on test": (
        "def score(model):\n"
        "    return model.evaluate(x_test, y_test, verbose=0)[1]\n\n"
        "best = max(candidates, key=score)",
        "picks by a test score (max with a key)",
    ),
    "a method picked on the comparison split": (
        "comparison_scores = {m: accuracy_of(models[m], x_compare, y_compare) for m in models}\n"
        "kept = max(comparison_scores, key=comparison_scores.get)",
        "picks by a test score (max with a key)",
    ),
    "an if on a test score": (
        "best_mae = float('inf')\n"
        "for weight in (0.1, 1.0):\n"
        "    test_mae = run(weight)\n"
        "    if test_mae < best_mae:\n"
        "        best_mae, best_weight = test_mae, weight",
        "chooses by a test score",
    ),
}


@pytest.mark.parametrize("case", PLANTED, ids=list(PLANTED))
def test_checker_catches_a_planted_violation(case):
    source, kind = PLANTED[case]
    violations = find_violations(["import numpy as np", source])
    assert violations, f"missed: {case}"
    assert any(kind in v.kind for v in violations), violations
    assert all(v.cell == 1 for v in violations)


CLEAN = {
    "validation arrays": "model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=5)",
    "validation split": "model.fit(x_train, y_train, validation_split=0.2, epochs=5)",
    "early stopping on validation loss": (
        "stop = keras.callbacks.EarlyStopping(monitor='val_loss', restore_best_weights=True)\n"
        "model.fit(x_train, y_train, validation_data=(x_val, y_val), callbacks=[stop])"
    ),
    "choice by validation score, test once": (
        "scores = {lr: run(lr).evaluate(x_val, y_val)[1] for lr in (1e-3, 3e-3)}\n"
        "best_lr = max(scores, key=scores.get)\n"
        "final = run(best_lr)\n"
        "test_loss, test_accuracy = final.evaluate(x_test, y_test)\n"
        "print(f'test accuracy {test_accuracy:.3f}')\n"
        "assert test_accuracy >= 0.9, test_accuracy"
    ),
    "class predictions on test": (
        "probabilities = model.predict(x_test)\n"
        "predicted_class = probabilities.argmax(axis=1)\n"
        "also = np.argmax(probabilities, axis=-1)\n"
        "again = probabilities.argmax(1)\n"
        "accuracy = np.mean(predicted_class == y_test)"
    ),
    "bounds on test results in asserts": (
        "results = {loss: mae(y_test, predictions[loss]) for loss in losses}\n"
        "assert max(results.values()) < 2.5, results\n"
        "assert min(results['mae'], results['huber']) < results['mse']"
    ),
    "worst test images, shown not chosen": (
        "errors = np.abs(model.predict(x_test)[:, 0] - y_test)\n"
        "worst = np.argsort(errors)[::-1][:8]\n"
        "show(x_test[worst])"
    ),
    "a name rebound to clean data": (
        "scores = evaluate(x_test, y_test)\n"
        "scores = {k: evaluate(x_val, y_val, k) for k in options}\n"
        "best = max(scores, key=scores.get)"
    ),
    "constants and words that merely contain 'test'": (
        "N_TEST = 1000\n"
        "latest = {k: v for k, v in history.items()}\n"
        "best = max(latest, key=latest.get)\n"
        "model.fit(x_val[:N_TEST], y_val[:N_TEST], validation_data=(x_val, y_val))"
    ),
    "parallel assignment keeps test and validation apart": (
        "val_pixels, test_pixels = to_uint8(x_val), to_uint8(x_test)\n"
        "model.fit(x, y, validation_data=(val_pixels, y_val))"
    ),
    "an if on a name that once held test data": (
        "for name, output in zip(names, model(x_test)):\n"
        "    print(name, output)\n"
        "for name, change in fixes.items():\n"
        "    if name != 'inputs' and len(name) > 3:\n"
        "        combined = change"
    ),
    "magics are ignored": "%matplotlib inline\n!echo hi\nmodel.fit(x, y, validation_data=(x_val, y_val))",
}


@pytest.mark.parametrize("case", CLEAN, ids=list(CLEAN))
def test_checker_passes_clean_code(case):
    assert find_violations(["import numpy as np", CLEAN[case]]) == []


def test_checker_follows_test_data_across_cells():
    cells = ["held_out = (x_test, y_test)", "print('something else')", "model.fit(x, y, validation_data=held_out)"]
    (violation,) = find_violations(cells)
    assert (violation.cell, violation.line) == (2, 1)
    assert "validation_data=held_out" in str(violation)


def test_is_test_word_reads_underscore_separated_words():
    assert all(map(is_test_word, ["x_test", "test", "skewed_test", "test_accuracy", "Test_set"]))
    assert all(map(is_test_word, ["x_compare", "comparison", "compare_features"]))  # the comparison split
    assert not any(map(is_test_word, ["N_TEST", "latest", "contest", "testing", "x_val"]))
