"""The learner's real JupyterLab, end to end, in a headless Chromium.

JupyterLab is started with the arguments `course.py lab` uses (127.0.0.1, token on, a free
port, no browser of its own), on a copy of the course's notebooks folder so nothing in the
repository is saved over. Chromium opens notebooks/02_shape_arithmetic.ipynb with the token,
runs Run > Run All Cells, waits until every code cell has an execution count and the kernel is
idle, and checks in the page that the plots rendered and that no cell outside the exercises
raised; then it saves the notebook and checks the saved file too. A screenshot is kept under
the test's tmp_path (its path is printed).

Needs Debian's `chromium` and `chromium-driver` (apt-get install -y chromium chromium-driver)
and the `selenium` package; skipped with the reason when one is missing (in CI,
where .ci/run installs them, a missing browser fails instead). Nothing is
downloaded at test time. Bounded to TIME_BUDGET seconds; server and browser are always stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from lab_server_tools import IS_POSIX, course_module, free_port, stop_server

# Starts servers, browsers, kernels or whole pytest runs: `course.py check-pythons` leaves it out.
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "02_shape_arithmetic.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TIME_BUDGET = 110  # seconds for the whole test
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-extensions", "--disable-default-apps",
    "--window-size=1400,1000",
)  # fmt: skip

BROWSER_MISSING = (
    "needs Debian's chromium and chromedriver: "
    "apt-get update && apt-get install -y chromium chromium-driver"
)


def _require_browser() -> None:
    """Skip on a learner's machine without Chromium; in CI (which installs it) fail instead."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser test, but it {BROWSER_MISSING} (see .ci/run)")
    pytest.skip(BROWSER_MISSING)


class Budget:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def wait_for(self, condition, what: str, poll: float = 0.5):
        while True:
            value = condition()
            if value:
                return value
            if self.left() <= 0:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(poll)






def _start_lab(tmp_path: Path, budget: Budget):
    """JupyterLab as `course.py lab` starts it, serving a copy of the notebooks folder."""
    course = course_module()
    served = tmp_path / "course"
    (served / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, served / "notebooks" / NOTEBOOK)
    config = tmp_path / "jupyter-config"
    settings = config / "lab" / "user-settings" / "@jupyterlab" / "docmanager-extension"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    runtime = tmp_path / "jupyter-runtime"
    port = free_port()
    arguments = course.lab_arguments(port, open_browser=False)
    # the same server, serving the copy, so nothing in the repository is saved over
    roots = [i for i, a in enumerate(arguments) if a.startswith("--ServerApp.root_dir=")]
    assert len(roots) == 1, arguments
    arguments[roots[0]] = f"--ServerApp.root_dir={served}"
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_CONFIG_DIR": str(config),  # a learner's own settings stay out
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),
    }
    env.pop("MPLBACKEND", None)  # the kernel's inline backend, as for a learner
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, *arguments], cwd=ROOT, env=env, stdout=log, stderr=log,
        start_new_session=IS_POSIX,
    )  # fmt: skip

    def started():
        if server.poll() is not None:
            raise AssertionError(f"JupyterLab exited: {(tmp_path / 'server.log').read_text()}")
        for path in runtime.glob("jpserver-*.json"):
            try:
                return json.loads(path.read_text())
            except json.JSONDecodeError:
                return None
        return None

    info = budget.wait_for(started, "JupyterLab to start", poll=0.2)
    assert info["port"] == port and len(info["token"]) >= 32
    return server, info, served




def _start_browser(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    service = Service(str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    return driver


# Reads the notebook as the page shows it: one entry per code cell.
PAGE_CELLS_JS = """
const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
if (!panel) { return null; }
const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
const cells = [...panel.querySelectorAll('.jp-Notebook .jp-CodeCell')].map(cell => {
  const prompt = cell.querySelector('.jp-InputArea-prompt');
  const editor = cell.querySelector('.jp-InputArea-editor');
  const errors = [...cell.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
    .map(e => e.textContent).filter(t => /Traceback|\\w+(Error|Exception)\\b/.test(t));
  return {
    prompt: prompt ? prompt.textContent.trim() : '',
    first_line: editor ? editor.textContent.split('\\n')[0] : '',
    images: [...cell.querySelectorAll('.jp-OutputArea-output img')]
      .filter(img => img.complete && img.naturalWidth > 0).length,
    errors: errors,
  };
});
return {status: indicator ? indicator.getAttribute('data-status') : null, cells: cells};
"""


def _click_menu(driver, menu: str, label: str) -> None:
    from selenium.webdriver.common.by import By

    for item in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item"):
        if item.text.strip() == menu:
            item.click()
            break
    else:
        raise AssertionError(f"no '{menu}' menu in the menu bar")
    for item in driver.find_elements(By.CSS_SELECTOR, ".lm-Menu-content .lm-Menu-itemLabel"):
        if item.text.strip() == label:
            item.click()
            return
    raise AssertionError(f"no '{label}' in the {menu} menu")


def test_learner_runs_all_cells_of_a_student_notebook_in_jupyterlab(tmp_path):
    _require_browser()
    pytest.importorskip("selenium", reason="pip install selenium (see requirements.txt)")
    budget = Budget(TIME_BUDGET)
    released = (ROOT / "notebooks" / NOTEBOOK).read_bytes()
    expected = nbformat.reads(released.decode("utf-8"), as_version=4)
    code_cells = [c for c in expected.cells if c.cell_type == "code"]
    screenshots = tmp_path / "screenshots"
    screenshots.mkdir()
    server = driver = None
    try:
        server, info, served = _start_lab(tmp_path, budget)
        driver = _start_browser(tmp_path)
        base = f"http://127.0.0.1:{info['port']}"
        driver.get(f"{base}/lab/tree/notebooks/{NOTEBOOK}?token={info['token']}")

        def page():
            return driver.execute_script(PAGE_CELLS_JS)

        budget.wait_for(
            lambda: (p := page()) and p["status"] == "idle" and len(p["cells"]) == len(code_cells),
            "the notebook to open with an idle kernel",
        )
        _click_menu(driver, "Run", "Run All Cells")
        budget.wait_for(
            lambda: (p := page())
            and p["status"] == "idle"
            and all(re.fullmatch(r"\[\d+\]:", c["prompt"]) for c in p["cells"]),
            "every code cell to run",
            poll=1,
        )
        shot = screenshots / "02_shape_arithmetic_after_run_all.png"
        driver.save_screenshot(str(shot))
        print(f"\nscreenshot: {shot}")
        state = page()
        cells = state["cells"]
        first_plot = driver.execute_script(
            "const img = document.querySelector('.jp-OutputArea-output img');"
            "if (img) { img.scrollIntoView({block: 'center'}); } return !!img;"
        )
        if first_plot:
            time.sleep(0.5)
            plot_shot = screenshots / "02_shape_arithmetic_first_plot.png"
            driver.save_screenshot(str(plot_shot))
            print(f"screenshot: {plot_shot}")

        counts = [int(c["prompt"][1:-2]) for c in cells]
        assert counts == list(range(1, len(code_cells) + 1)), counts
        raised = [c["first_line"] for c in cells if c["errors"]]
        assert all(line.startswith("# Exercise") for line in raised), raised
        assert not raised, f"a student notebook should raise nowhere: {raised}"
        plots = sum(c["images"] for c in cells)
        expected_plots = sum(
            "image/png" in o.get("data", {})
            for c in nbformat.read(ROOT / "solutions" / NOTEBOOK, as_version=4).cells
            if c.cell_type == "code"
            for o in c.outputs
        )
        assert plots >= max(1, expected_plots), (plots, expected_plots)

        # what the page holds, saved: the authoritative record of outputs
        _click_menu(driver, "File", "Save Notebook")
        saved_path = served / "notebooks" / NOTEBOOK
        saved = budget.wait_for(
            lambda: (nb := nbformat.read(saved_path, as_version=4))
            and all(c.execution_count for c in nb.cells if c.cell_type == "code")
            and nb,
            "the notebook to be saved",
        )
        errors = [
            c.source.splitlines()[0]
            for c in saved.cells
            if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)
        ]
        assert not errors, errors
        not_attempted = sum(
            "not attempted" in o.get("text", "")
            for c in saved.cells
            if c.cell_type == "code"
            for o in c.outputs
        )
        assert not_attempted == sum(c.source.startswith("# Exercise") for c in code_cells)
    except Exception:
        if driver is not None:
            failure = screenshots / "failure.png"
            driver.save_screenshot(str(failure))
            print(f"\nscreenshot of the failure: {failure}")
        raise
    finally:
        if driver is not None:
            driver.quit()
        if server is not None:
            stop_server(server)
    assert hashlib.sha256((ROOT / "notebooks" / NOTEBOOK).read_bytes()).digest() == (
        hashlib.sha256(released).digest()
    ), "the repository's notebook was changed"
