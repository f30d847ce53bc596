"""Measure the course on this machine and print a table; also write it to benchmarks/results/.

    python3 course.py benchmark                 # everything
    python3 course.py benchmark --skip-setup    # without the clean-clone set-up timing
    python3 course.py benchmark --notebooks 01 05

What it measures, one run each (numbers vary by a few percent between runs):

* each solution notebook's execution time, kernel start included, and the kernel's peak
  memory (peak resident set size), against the budgets of 30 s and 1.5 GB each and 150 s
  for the seven together;
* training throughput of each notebook's main model: every ``Model.fit`` in the notebook is
  timed (by a cell injected into the in-memory copy; the file is not touched) and the fit that
  saw the most images is reported, in images per second;
* set-up time from a clean clone (``git clone`` + ``python3 course.py setup``), and the
  time of a second, up-to-date set-up;
* the slope data generator against the question's matplotlib generator, on the same number
  of images (``data_scripts/benchmark_slope_generator.py``, which checks its 20x budget)
  with the data script itself, as it runs by default;
* notebook 05's slope model: error against training time for its recipe and its neighbours,
  on five seeds (``benchmarks/slope_tradeoff.py``; ``--skip-slope`` leaves it out);
* where each notebook's time goes: kernel start plus the set-up cell (imports), the seconds
  inside ``Model.fit`` (tracing included), and for a notebook over budget its slowest cells;
* XLA and thread settings against the course's defaults on three of its models
  (``benchmarks/compile_options.py``; ``--skip-compile-options`` leaves it out).

The time budgets are checked and reported here, not asserted in the test suite, so a slow or
busy machine never makes the tests flaky.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
TIME_BUDGET_S = 30.0
TOTAL_TIME_BUDGET_S = 150.0  # the seven solution notebooks one after another
MEMORY_BUDGET_MB = 1536.0
FIT_LOG_MARKER = "COURSE_BENCHMARK_FITS="
SLOWEST_CELLS = 3  # per notebook, in the "where the time goes" lines

# Injected after the set-up cell: wraps keras.Model.fit to time each call and count images.
FIT_TIMER_CELL = """
import time as _bench_time
import keras as _bench_keras

_bench_fits = []
_bench_original_fit = _bench_keras.Model.fit


def _bench_batch_size(x, kwargs):
    if hasattr(x, "element_spec"):  # a tf.data.Dataset: look at one batch
        first = next(iter(x))
        first = first[0] if isinstance(first, tuple) else first
        first = next(iter(first.values())) if isinstance(first, dict) else first
        return int(first.shape[0])
    return int(kwargs.get("batch_size") or 32)


def _bench_timed_fit(self, x=None, *args, **kwargs):
    start = _bench_time.perf_counter()
    history = _bench_original_fit(self, x, *args, **kwargs)
    seconds = _bench_time.perf_counter() - start
    steps = history.params.get("steps") or 0
    images = steps * len(history.epoch) * _bench_batch_size(x, kwargs)
    _bench_fits.append({"model": self.name, "seconds": seconds, "images": images})
    return history


_bench_keras.Model.fit = _bench_timed_fit
"""
FIT_REPORT_CELL = f"import json as _bench_json\nprint('{FIT_LOG_MARKER}' + _bench_json.dumps(_bench_fits))"


class PeakMemory:
    """Peak resident memory of one process: /proc VmHWM on Linux, else polled with psutil."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.polled_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        import psutil

        try:
            process = psutil.Process(self.pid)
            while not self._stop.wait(0.05):
                self.polled_peak = max(self.polled_peak, process.memory_info().rss)
        except psutil.Error:
            return

    def peak_mb(self) -> float:
        self._stop.set()
        status = Path(f"/proc/{self.pid}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return self.polled_peak / 2**20


def measure_notebook(path: Path) -> dict:
    """Execute a copy of one solution notebook; return time, peak memory and throughput."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    code_indices = [i for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    timer_index = code_indices[0] + 1
    notebook.cells.insert(timer_index, nbformat.v4.new_code_cell(FIT_TIMER_CELL))
    notebook.cells.append(nbformat.v4.new_code_cell(FIT_REPORT_CELL))
    with tempfile.TemporaryDirectory() as workdir:
        client = NotebookClient(
            notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": workdir}}
        )
        started = time.perf_counter()
        error = None
        cell_seconds = []  # (index of the cell in the file, seconds, its first line)
        injected = {timer_index: "the injected fit timer", len(notebook.cells) - 1: "the injected fit report"}
        with client.setup_kernel():
            kernel_seconds = time.perf_counter() - started
            memory = PeakMemory(client.km.provisioner.pid)
            for index, cell in enumerate(notebook.cells):
                in_file = index - 1 if index > timer_index else index  # the cell's number in the file
                cell_started = time.perf_counter()
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as failure:
                    # Report it and go on with the other notebooks: a benchmark is a survey.
                    where = injected.get(index, f"cell {in_file}")
                    error = f"{where}: {failure.ename}: {failure.evalue}".strip()
                    break
                if index in injected:
                    continue  # not the notebook's own
                first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
                cell_seconds.append((in_file, time.perf_counter() - cell_started, first_line))
            seconds = time.perf_counter() - started
            peak_mb = memory.peak_mb()
    fits = []
    for output in notebook.cells[-1].outputs:
        for line in output.get("text", "").splitlines():
            if line.startswith(FIT_LOG_MARKER):
                fits = json.loads(line[len(FIT_LOG_MARKER) :])
    main_fit = max(fits, key=lambda f: f["images"], default=None)
    setup_cell = next((s for i, s, _ in cell_seconds if i == code_indices[0]), 0.0)
    slowest = sorted(cell_seconds, key=lambda row: row[1], reverse=True)[:SLOWEST_CELLS]
    return {
        "notebook": path.stem,
        "error": error,
        "seconds": round(seconds, 1),
        "peak_memory_mb": round(peak_mb),
        "start_seconds": round(kernel_seconds + setup_cell, 1),
        "fit_seconds": round(sum(f["seconds"] for f in fits), 1) if error is None else None,
        "slowest_cells": [{"cell": i, "seconds": round(s, 1), "source": line[:70]} for i, s, line in slowest],
        "fits": len(fits),
        "main_model": main_fit["model"] if main_fit else None,
        "images_per_second": round(main_fit["images"] / main_fit["seconds"])
        if main_fit and main_fit["seconds"] > 0
        else None,
    }


def measure_setup() -> dict:
    """Clone the committed repository and time a fresh set-up, then an up-to-date one."""
    with tempfile.TemporaryDirectory() as scratch:
        clone = Path(scratch) / "course"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "course.py", "setup"],
                cwd=clone,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            timings.append(round(time.perf_counter() - started, 1))
    return {"fresh_setup_seconds": timings[0], "repeat_setup_seconds": timings[1]}


def measure_generator(count: int) -> str | None:
    """Run the slope generator race (the data script prints its own table and ratio)."""
    script = ROOT / "data_scripts" / "benchmark_slope_generator.py"
    if not script.exists():
        return None
    result = subprocess.run(
        [sys.executable, str(script), "--count", str(count)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def _verdict(ok: bool) -> str:
    return "ok" if ok else "OVER BUDGET"


def _or_dash(value) -> str:
    return "-" if value is None else str(value)


def _within_budget(row: dict) -> bool:
    return row["seconds"] <= TIME_BUDGET_S and row["peak_memory_mb"] <= MEMORY_BUDGET_MB


def format_table(notebooks: list[dict], setup: dict | None, generator: str | None) -> str:
    lines = [
        "| notebook | time (s) | kernel + setup cell (s) | in fit (s) | peak memory (MB) "
        "| main model | images/s | budget |",
        "|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for row in notebooks:
        note = _verdict(_within_budget(row))
        if row.get("error"):
            note = f"FAILED at {row['error']}"
        lines.append(
            f"| {row['notebook']} | {row['seconds']} | {row.get('start_seconds', '-')} | "
            f"{_or_dash(row.get('fit_seconds'))} | {row['peak_memory_mb']} | "
            f"{row['main_model'] or '-'} | {row['images_per_second'] or '-'} | {note} |"
        )
    if len(notebooks) > 1:
        total = round(sum(row["seconds"] for row in notebooks), 1)
        budget = TOTAL_TIME_BUDGET_S if len(notebooks) == len(select_notebooks()) else None
        lines.append(
            f"| all {len(notebooks)} | {total} | | | | | | "
            + (_verdict(total <= budget) + f" (budget {budget:g} s)" if budget else "-")
            + " |"
        )
    over = [row for row in notebooks if not _within_budget(row) and row.get("slowest_cells")]
    if over:
        lines += ["", "where the time goes in the notebooks over budget (cell numbers as in the file):"]
        for row in over:
            cells = "; ".join(
                f"cell {c['cell']} {c['seconds']} s `{c['source']}`" for c in row["slowest_cells"]
            )
            lines.append(f"* {row['notebook']}: {cells}")
    if setup:
        lines.append("")
        lines.append(
            f"set-up from a clean clone: {setup['fresh_setup_seconds']} s; "
            f"again when up to date: {setup['repeat_setup_seconds']} s"
        )
    if generator:
        lines += ["", "slope generator race (data_scripts/benchmark_slope_generator.py):", generator]
    return "\n".join(lines)


def select_notebooks(prefixes=None) -> list[Path]:
    """The solution notebooks to measure: every one in solutions/, or those starting with a prefix."""
    paths = sorted((ROOT / "solutions").glob("*.ipynb"))
    if prefixes:
        paths = [p for p in paths if any(p.stem.startswith(prefix) for prefix in prefixes)]
        if not paths:
            raise ValueError(f"no solution notebook starts with {' or '.join(prefixes)}")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--notebooks", nargs="*", help="prefixes such as 01 05 (default: all)")
    parser.add_argument("--skip-setup", action="store_true", help="skip the clean-clone set-up")
    parser.add_argument("--skip-slope", action="store_true", help="skip the slope model's trade-off")
    parser.add_argument(
        "--skip-compile-options", action="store_true", help="skip XLA and threads against the defaults"
    )
    parser.add_argument(
        "--generator-count", type=int, default=1000,
        help="images for the generator race (default: 1000, the data script's default data set)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.generator_count < 1:
        parser.error(f"--generator-count must be at least 1, got {args.generator_count}")

    try:
        paths = select_notebooks(args.notebooks)
    except ValueError as err:
        parser.error(str(err))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    notebooks = []
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        notebooks.append(measure_notebook(path))
    setup = None if args.skip_setup else measure_setup()
    generator = measure_generator(args.generator_count)
    slope = None
    if not args.skip_slope:
        import slope_tradeoff  # beside this script, which Python puts first on the path
        print("training the slope model's recipes ...", flush=True)
        slope = slope_tradeoff.measure(tuple(range(5)))
    compile_options = None
    if not args.skip_compile_options:
        import compile_options as compile_options_script  # beside this script

        print("timing XLA and thread settings ...", flush=True)
        try:
            compile_options = compile_options_script.measure(repeats=3)
        except RuntimeError as failure:  # report it with the rest: a benchmark is a survey
            compile_options = {"error": str(failure)}

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    machine += f", COURSE_SCALE={os.environ.get('COURSE_SCALE', '1')}"
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
    table = format_table(notebooks, setup, generator)
    if slope:
        table += "\n\nnotebook 05's slope model, error against training time:\n\n"
        table += slope_tradeoff.format_table(slope)
    if compile_options:
        table += "\n\nXLA and threads against the course's defaults (benchmarks/compile_options.py):\n\n"
        if "error" in compile_options:
            table += f"FAILED: {compile_options['error']}"
        else:
            table += compile_options_script.format_table(compile_options)
    print(f"\nBenchmark on {machine}, {stamp}\n\n{table}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {"machine": machine, "when": stamp, "notebooks": notebooks, "setup": setup,
              "generator": generator, "slope_tradeoff": slope, "compile_options": compile_options}  # fmt: skip
    (RESULTS / f"benchmark-{stamp}.json").write_text(json.dumps(record, indent=2))
    (RESULTS / f"benchmark-{stamp}.md").write_text(f"Benchmark on {machine}, {stamp}\n\n{table}\n")
    print(f"\nwritten to {(RESULTS / f'benchmark-{stamp}.md').relative_to(ROOT)} and .json")
    failed = any(row["error"] for row in notebooks) or (compile_options or {}).get("error")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
