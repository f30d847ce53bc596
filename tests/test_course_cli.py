"""course.py: the set-up is skipped when nothing changed, and bad use is explained."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def course(tmp_path, monkeypatch):
    """course.py loaded as a module, pointed at a scratch copy of its inputs."""
    spec = importlib.util.spec_from_file_location("course_cli", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in ("requirements.txt", "pyproject.toml"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(module, "STAMP", tmp_path / ".venv" / "course-setup.json")
    return module


def _working_venv(course, monkeypatch) -> None:
    """A stand-in .venv made by this Python, whose interpreter answers the version probe."""
    _fake_venv(course, ".".join(map(str, sys.version_info[:3])))
    monkeypatch.setattr(course, "probe_python", lambda command: tuple(sys.version_info[:3]))


def test_setup_is_skipped_when_the_stamp_matches(course, monkeypatch, capsys):
    _working_venv(course, monkeypatch)
    course.STAMP.write_text(json.dumps(course.setup_fingerprint(gpu=False)))
    monkeypatch.setattr(course, "run", lambda *a, **k: pytest.fail("set-up ran again"))
    course.setup()
    assert "up to date" in capsys.readouterr().out


def test_changed_requirements_trigger_a_new_install(course, monkeypatch):
    _working_venv(course, monkeypatch)
    course.STAMP.write_text(json.dumps(course.setup_fingerprint(gpu=False)))
    (course.ROOT / "requirements.txt").write_text("numpy==2.4.6\n")
    commands = []
    monkeypatch.setattr(course, "run", lambda command, **k: commands.append(command))
    course.setup()
    assert any("-r" in map(str, c) for c in commands)
    stamp, wanted = json.loads(course.STAMP.read_text()), course.setup_fingerprint(gpu=False)
    assert {key: stamp[key] for key in wanted} == wanted and stamp["interpreter"]


def test_gpu_install_is_remembered_by_a_plain_setup(course, monkeypatch, capsys):
    _working_venv(course, monkeypatch)
    course.STAMP.write_text(json.dumps(course.setup_fingerprint(gpu=True)))
    monkeypatch.setattr(course, "run", lambda *a, **k: pytest.fail("set-up ran again"))
    course.setup(gpu=False)
    assert "up to date" in capsys.readouterr().out


def test_setup_on_an_unsupported_python_names_the_supported_versions(course, monkeypatch, capsys):
    monkeypatch.setattr(course, "SUPPORTED_PYTHONS", ((3, 98), (3, 99)))
    with pytest.raises(SystemExit) as info:
        course.setup()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Python 3.98 or 3.99" in err and "python.org" in err


def _fake_python(folder: Path, name: str, version: str | None) -> Path:
    """An executable that answers course.py's version probe like a Python (or fails like a shim)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    body = f'echo "{version}"' if version else 'echo "pyenv: {name}: command not found" >&2; exit 127'
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell scripts stand in for Pythons")
def test_supported_pythons_are_found_on_path_and_in_pyenv_and_broken_shims_skipped(
    course, monkeypatch, tmp_path
):
    # Versions no real Python has, so the Python running this test is never among them.
    bin_dir = tmp_path / "bin"
    _fake_python(bin_dir, "python3.97", "3 97 4")
    _fake_python(bin_dir, "python3.98", None)  # a pyenv shim for a version not selected
    pyenv = tmp_path / "pyenv"
    real_398 = _fake_python(pyenv / "versions" / "3.98.1" / "bin", "python3.98", "3 98 1")
    _fake_python(pyenv / "versions" / "3.98.0" / "bin", "python3.98", "3 98 0")  # older patch
    _fake_python(pyenv / "versions" / "3.98.2t" / "bin", "python3.98", "3 98 2")  # free-threaded
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("PYENV_ROOT", str(pyenv))
    monkeypatch.setattr(course, "SUPPORTED_PYTHONS", ((3, 97), (3, 98)))
    found = course.find_supported_pythons()
    assert found == {(3, 97): ([str(bin_dir / "python3.97")], (3, 97, 4)), (3, 98): ([str(real_398)], (3, 98, 1))}


def test_an_unsupported_python_re_runs_course_py_under_a_supported_one(course, monkeypatch, capsys):
    monkeypatch.setattr(course, "SUPPORTED_PYTHONS", ((3, 98), (3, 99)))
    monkeypatch.delenv(course.REEXEC_VARIABLE, raising=False)
    found = {(3, 98): (["/opt/py398"], (3, 98, 0)), (3, 99): (["/opt/py399"], (3, 99, 2))}
    monkeypatch.setattr(course, "find_supported_pythons", lambda: found)
    monkeypatch.setattr(course, "IS_WINDOWS", False)
    started = []

    def fake_execve(path, command, env):
        started.append((path, command, env))
        raise SystemExit(0)

    monkeypatch.setattr(course.os, "execve", fake_execve)
    with pytest.raises(SystemExit):
        course.ensure_supported_python(["lab", "--no-browser"])
    path, command, env = started[0]
    assert path == "/opt/py399"  # the newest, as no .venv says otherwise
    assert command[1].endswith("course.py") and command[2:] == ["lab", "--no-browser"]
    assert env[course.REEXEC_VARIABLE] == "1"
    assert "Re-running under /opt/py399 (Python 3.99.2)" in capsys.readouterr().err


def test_re_running_prefers_the_python_that_made_the_venv(course, monkeypatch):
    monkeypatch.setattr(course, "SUPPORTED_PYTHONS", ((3, 98), (3, 99)))
    monkeypatch.delenv(course.REEXEC_VARIABLE, raising=False)
    found = {(3, 98): (["/opt/py398"], (3, 98, 0)), (3, 99): (["/opt/py399"], (3, 99, 2))}
    monkeypatch.setattr(course, "find_supported_pythons", lambda: found)
    monkeypatch.setattr(course, "venv_version", lambda: (3, 98))
    monkeypatch.setattr(course, "IS_WINDOWS", False)
    started = []
    monkeypatch.setattr(course.os, "execve", lambda path, *a: started.append(path) or sys.exit(0))
    with pytest.raises(SystemExit):
        course.ensure_supported_python(["test"])
    assert started == ["/opt/py398"]


def test_no_supported_python_anywhere_says_how_to_get_one(course, monkeypatch, capsys):
    monkeypatch.setattr(course, "SUPPORTED_PYTHONS", ((3, 98), (3, 99)))
    monkeypatch.delenv(course.REEXEC_VARIABLE, raising=False)
    monkeypatch.setattr(course, "find_supported_pythons", lambda: {})
    with pytest.raises(SystemExit) as info:
        course.ensure_supported_python(["lab"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "runs on Python 3.98 or 3.99" in err and "none of those was found" in err
    assert "brew install" in err and "apt install" in err


def test_a_re_run_that_lands_on_an_unsupported_python_stops_instead_of_looping(course, monkeypatch):
    monkeypatch.setattr(course, "SUPPORTED_PYTHONS", ((3, 99),))
    monkeypatch.setenv(course.REEXEC_VARIABLE, "1")
    monkeypatch.setattr(course, "find_supported_pythons", lambda: pytest.fail("searched again"))
    with pytest.raises(SystemExit) as info:
        course.ensure_supported_python(["lab"])
    assert info.value.code == 2


def _fake_venv(course, version: str) -> None:
    course.VENV.mkdir()
    (course.VENV / "pyvenv.cfg").write_text(f"home = /x/bin\nversion = {version}\n")
    course.venv_python().parent.mkdir(parents=True)
    course.venv_python().touch()


def test_a_venv_of_another_python_version_is_rebuilt_not_mixed(course, monkeypatch, capsys):
    _fake_venv(course, "3.9.18")
    (course.VENV / "leftover.txt").write_text("from the old venv")
    course.STAMP.write_text(json.dumps({**course.setup_fingerprint(gpu=False), "python": "3.9"}))
    steps = []

    def make_venv(command, **kwargs):
        steps.append(command)
        course.VENV.mkdir()
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(course.subprocess, "run", make_venv)
    monkeypatch.setattr(course, "run", lambda command, **k: steps.append(command))
    course.setup()
    assert not (course.VENV / "leftover.txt").exists()
    assert steps[0][1:3] == ["-m", "venv"]  # made anew with this Python
    assert "made with Python 3.9" in capsys.readouterr().out
    stamp = json.loads(course.STAMP.read_text())
    assert stamp["python"] == f"{sys.version_info[0]}.{sys.version_info[1]}" and stamp["interpreter"]


def test_a_venv_of_the_same_python_version_is_kept(course, monkeypatch):
    here = ".".join(map(str, sys.version_info[:3]))
    _fake_venv(course, here)
    monkeypatch.setattr(course, "probe_python", lambda command: tuple(sys.version_info[:3]))
    assert course.venv_made_by_another_python() is None


def test_a_venv_whose_python_no_longer_starts_is_rebuilt(course, monkeypatch):
    _fake_venv(course, ".".join(map(str, sys.version_info[:3])))
    monkeypatch.setattr(course, "probe_python", lambda command: None)
    assert "no longer starts" in course.venv_made_by_another_python()


def test_a_dot_venv_that_is_no_virtual_environment_is_never_deleted(course, capsys):
    course.VENV.mkdir()
    (course.VENV / "precious.txt").write_text("not ours")
    with pytest.raises(SystemExit):
        course.remove_venv(".venv was made with Python 3.9")
    assert (course.VENV / "precious.txt").exists()
    assert "will not delete it" in capsys.readouterr().err


def test_lab_passes_options_it_does_not_know_to_jupyterlab(course, monkeypatch):
    handed = []
    monkeypatch.setattr(course, "setup", lambda gpu=False: None)
    monkeypatch.setattr(course, "exec_in_venv", handed.append)
    course.main(["lab", "--no-browser", "--port", "9999", "--ServerApp.token=abc"])
    assert handed[0][-2:] == ["--no-browser", "--ServerApp.token=abc"]
    assert "--ServerApp.port=9999" in handed[0]


def test_other_commands_still_refuse_unknown_options(course, capsys):
    with pytest.raises(SystemExit) as info:
        course.main(["setup", "--no-browser"])
    assert info.value.code == 2
    assert "unrecognized arguments: --no-browser" in capsys.readouterr().err


def test_lock_refuses_to_write_pins_that_do_not_install_on_a_supported_python(course, monkeypatch, capsys):
    before = (course.ROOT / "requirements.txt").read_text()
    monkeypatch.setattr(course, "setup", lambda gpu=False: None)
    frozen = subprocess.CompletedProcess([], 0, stdout="soupsieve==4.1.2\n")
    monkeypatch.setattr(course.subprocess, "run", lambda *a, **k: frozen)
    checked = []

    def resolves_except_on_311(requirements, version):
        checked.append(version)
        assert "soupsieve==4.1.2" in Path(requirements).read_text()
        return "ERROR: No matching distribution found for soupsieve==4.1.2" if version == (3, 11) else None

    monkeypatch.setattr(course, "pins_resolve_on", resolves_except_on_311)
    with pytest.raises(SystemExit):
        course.lock()
    assert checked == list(course.SUPPORTED_PYTHONS)
    assert (course.ROOT / "requirements.txt").read_text() == before
    err = capsys.readouterr().err
    assert "left unchanged" in err and "Python 3.11:" in err and "soupsieve==4.1.2" in err

    monkeypatch.setattr(course, "pins_resolve_on", lambda requirements, version: None)
    course.lock()
    written = (course.ROOT / "requirements.txt").read_text()
    assert written == course.REQUIREMENTS_HEADER + "soupsieve==4.1.2\n"


def test_check_pythons_reports_each_other_python_and_fails_if_one_fails(course, monkeypatch, tmp_path):
    here = tuple(sys.version_info[:2])
    found = {here: ([sys.executable], tuple(sys.version_info[:3])), (3, 98): (["/opt/py398"], (3, 98, 1))}
    monkeypatch.setattr(course, "find_supported_pythons", lambda: found)
    outcome = {"python": "3.98.1", "command": "/opt/py398", "setup_seconds": 61.0,
               "test_seconds": 50.0, "summary": "400 passed in 49.0s", "passed": True}  # fmt: skip
    proved = []
    monkeypatch.setattr(course, "_prove_python", lambda command, version, workdir: proved.append(command) or dict(outcome))
    report = tmp_path / "report.json"
    course.check_pythons(report)
    assert proved == [["/opt/py398"]]  # not the running Python: the main suite covers it
    assert json.loads(report.read_text())["others"] == [outcome]

    monkeypatch.setattr(course, "_prove_python", lambda *a: {**outcome, "passed": False, "summary": "1 failed"})
    with pytest.raises(SystemExit) as info:
        course.check_pythons(report)
    assert info.value.code == 1
    assert json.loads(report.read_text())["others"][0]["passed"] is False


def test_the_counts_of_a_pytest_run_are_read_from_its_closing_line(course):
    output = "collected 9 items\n... 1 failed ...\n=== 1 failed, 1406 passed, 64 deselected, 3 warnings in 217.04s (0:03:37) ===\n"
    assert course._pytest_counts(output) == "1 failed, 1406 passed, 64 deselected"
    assert course._pytest_counts("ImportError while loading conftest\n") == ""


def test_the_header_of_the_main_run_reports_the_other_pythons(monkeypatch, tmp_path):
    import conftest

    report = tmp_path / "report.json"
    report.write_text(json.dumps({"main": "3.11.7", "others": [
        {"python": "3.12.1", "command": "x", "setup_seconds": 80, "test_seconds": 55, "summary": "400 passed", "passed": True}
    ]}))  # fmt: skip
    monkeypatch.setenv("COURSE_PYTHONS_REPORT", str(report))
    line = conftest._other_pythons_line()
    assert "3.12.1 passed (400 passed, set-up 80 s, tests 55 s)" in line
    report.write_text(json.dumps({"main": "3.11.7", "others": []}))
    assert conftest._other_pythons_line() == "other Pythons: none found besides 3.11.7"


def test_tensorflow_pin_is_read_from_requirements(course):
    assert course._pinned_version("tensorflow").startswith("2.21.")


def test_unknown_command_prints_usage():
    result = subprocess.run(
        [sys.executable, str(ROOT / "course.py"), "frobnicate"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr


def test_ci_runs_the_test_command_the_readme_gives():
    readme = (ROOT / "README.md").read_text()
    ci_lines = [
        line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]  # fmt: skip
    assert "```bash\npython3 course.py test\n```" in readme
    assert ci_lines[-1] == "exec python3 course.py test"


@pytest.mark.parametrize("command", ["grade", "benchmark"])
def test_instructor_commands_hand_their_arguments_to_the_venv(course, monkeypatch, command):
    handed = []
    monkeypatch.setattr(course, "setup", lambda gpu=False: None)
    monkeypatch.setattr(course, "exec_in_venv", handed.append)
    course.main([command, "--help-of-the-tool", "x.ipynb"])
    assert handed[0][-2:] == ["--help-of-the-tool", "x.ipynb"]
    if command == "grade":  # relative submission paths stay the caller's
        assert handed[0][:4] == ["-m", "course_tools.grading", "--base", str(Path.cwd())]
    else:
        assert handed[0][0].endswith("run_benchmarks.py")


@pytest.mark.parametrize(
    "cores, memory_gb, workers",
    [(1, 64, 1), (2, 24, 2), (16, 64, 4), (8, 7, 2), (4, 2, 1), (None, 8, 1)],
)
def test_test_workers_follow_the_cores_and_the_memory(course, monkeypatch, cores, memory_gb, workers):
    monkeypatch.setattr(course.os, "cpu_count", lambda: cores)
    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": int(memory_gb * 2**30 / 4096)}
    monkeypatch.setattr(course.os, "sysconf", pages.__getitem__)
    assert course.test_workers() == workers


def test_the_test_command_runs_files_side_by_side_unless_told_otherwise(course, monkeypatch):
    handed = []
    monkeypatch.setattr(course, "setup", lambda gpu=False: None)
    monkeypatch.setattr(course, "offline_prefix", lambda: None)
    monkeypatch.setattr(course, "exec_in_venv", handed.append)
    monkeypatch.setattr(course, "test_workers", lambda: 2)
    by_file = ["--dist", "loadfile", "--no-loadscope-reorder"]
    course.main(["test", "tests/test_metrics.py", "-x"])
    assert handed[-1] == ["-m", "pytest", "-n", "2", *by_file, "tests/test_metrics.py", "-x"]
    # one process
    for own_choice in (["-n", "0"], ["-n0"], ["--numprocesses=0"], ["-p", "no:xdist"], ["-pno:xdist"]):
        course.main(["test", *own_choice])
        assert handed[-1] == ["-m", "pytest", *own_choice], own_choice
    # the caller's number of workers, still one file per worker and the longest first
    for own_choice in (["-n", "3"], ["-n3"], ["--numprocesses=3"], ["--numprocesses", "3"]):
        course.main(["test", *own_choice])
        assert handed[-1] == ["-m", "pytest", *by_file, *own_choice], own_choice
    # the caller's own distribution
    course.main(["test", "--dist", "load"])
    assert handed[-1] == ["-m", "pytest", "-n", "2", "--dist", "load"]
    course.main(["test", "--nbval-lax"])  # an option that only starts with -n
    assert handed[-1][2:4] == ["-n", "2"]
    monkeypatch.setattr(course, "test_workers", lambda: 1)
    course.main(["test", "-x"])
    assert handed[-1] == ["-m", "pytest", "-x"]


def test_offline_namespace_can_be_switched_off_and_is_linux_only(course, monkeypatch):
    monkeypatch.setenv("COURSE_TEST_NETNS", "off")
    assert course.offline_prefix() is None
    monkeypatch.delenv("COURSE_TEST_NETNS")
    monkeypatch.setattr(course.sys, "platform", "darwin")
    assert course.offline_prefix() is None


def test_set_up_switches_nbgrader_off_in_the_learners_jupyterlab_and_keeps_other_settings(course):
    page_config = course.VENV / "etc" / "jupyter" / "labconfig" / "page_config.json"
    page_config.parent.mkdir(parents=True)
    page_config.write_text(json.dumps({"disabledExtensions": {"other": True}, "theme": "dark"}))
    course.hide_instructor_extensions()
    course.hide_instructor_extensions()  # again: the same files, nothing doubled
    server = json.loads(
        (course.VENV / "etc/jupyter/jupyter_server_config.d/zz-course-learner-lab.json").read_text()
    )
    assert server["ServerApp"]["jpserver_extensions"] == dict.fromkeys(
        course.NBGRADER_SERVER_EXTENSIONS, False
    )
    assert json.loads(page_config.read_text()) == {
        "disabledExtensions": {"other": True, "@jupyter/nbgrader": True}, "theme": "dark",
    }  # fmt: skip


@pytest.mark.integration
def test_the_installed_jupyter_reports_nbgrader_switched_off():
    # The set-up that runs the tests wrote the files above into the real .venv.
    jupyter = [sys.executable, "-m", "jupyter"]
    server = subprocess.run([*jupyter, "server", "extension", "list"], capture_output=True, text=True)
    listing = (server.stdout + server.stderr).splitlines()
    for name in ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"):
        line = next(line for line in listing if line.strip().startswith(name + " "))
        assert "disabled" in line, line
    lab = subprocess.run([*jupyter, "labextension", "list"], capture_output=True, text=True)
    line = next(line for line in (lab.stdout + lab.stderr).splitlines() if "@jupyter/nbgrader v" in line)
    assert "disabled" in line, line
