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


def test_setup_is_skipped_when_the_stamp_matches(course, monkeypatch, capsys):
    venv_python = course.venv_python()
    venv_python.parent.mkdir(parents=True)
    venv_python.touch()
    course.STAMP.write_text(json.dumps(course.setup_fingerprint(gpu=False)))
    monkeypatch.setattr(course, "run", lambda *a, **k: pytest.fail("set-up ran again"))
    course.setup()
    assert "up to date" in capsys.readouterr().out


def test_changed_requirements_trigger_a_new_install(course, monkeypatch):
    venv_python = course.venv_python()
    venv_python.parent.mkdir(parents=True)
    venv_python.touch()
    course.STAMP.write_text(json.dumps(course.setup_fingerprint(gpu=False)))
    (course.ROOT / "requirements.txt").write_text("numpy==2.4.6\n")
    commands = []
    monkeypatch.setattr(course, "run", lambda command, **k: commands.append(command))
    course.setup()
    assert any("-r" in map(str, c) for c in commands)
    assert json.loads(course.STAMP.read_text()) == course.setup_fingerprint(gpu=False)


def test_gpu_install_is_remembered_by_a_plain_setup(course, monkeypatch, capsys):
    venv_python = course.venv_python()
    venv_python.parent.mkdir(parents=True)
    venv_python.touch()
    course.STAMP.write_text(json.dumps(course.setup_fingerprint(gpu=True)))
    monkeypatch.setattr(course, "run", lambda *a, **k: pytest.fail("set-up ran again"))
    course.setup(gpu=False)
    assert "up to date" in capsys.readouterr().out


def test_wrong_python_version_is_refused_with_the_command_to_use(course, monkeypatch, capsys):
    monkeypatch.setattr(course, "REQUIRED_PYTHON", (3, 99))
    with pytest.raises(SystemExit) as info:
        course.setup()
    assert info.value.code == 2
    assert "python3.11 course.py" in capsys.readouterr().err


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
    assert "```bash\npython3.11 course.py test\n```" in readme
    assert ci_lines[-1] == "exec python3.11 course.py test"


@pytest.mark.parametrize("command", ["grade", "benchmark"])
def test_instructor_commands_hand_their_arguments_to_the_venv(course, monkeypatch, command):
    handed = []
    monkeypatch.setattr(course, "setup", lambda gpu=False: None)
    monkeypatch.setattr(course, "exec_in_venv", handed.append)
    course.main([command, "--help-of-the-tool", "x.ipynb"])
    assert handed[0][-2:] == ["--help-of-the-tool", "x.ipynb"]
    if command == "grade":  # relative submission paths stay the caller's
        assert handed[0][:4] == ["-m", "course_utils.grading", "--base", str(Path.cwd())]
    else:
        assert handed[0][0].endswith("run_benchmarks.py")


def test_offline_namespace_can_be_switched_off_and_is_linux_only(course, monkeypatch):
    monkeypatch.setenv("COURSE_TEST_NETNS", "off")
    assert course.offline_prefix() is None
    monkeypatch.delenv("COURSE_TEST_NETNS")
    monkeypatch.setattr(course.sys, "platform", "darwin")
    assert course.offline_prefix() is None
