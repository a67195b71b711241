"""Console scripts and server modules found through the running interpreter, not beside it."""

import dataclasses
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from bench import PROJECT_ROOT
from bench.checks.inspections.commands import cli_env
from bench.targets import scripts
from bench.targets.manifest import discover
from bench.targets.scripts import ScriptError, check_runnable, console_script, unrunnable
from bench.targets.stacks import StackError

SUBPROCESS_TIMEOUT_S = 60


def _scripts_dir(monkeypatch, folder: Path) -> None:
    real = sysconfig.get_path
    monkeypatch.setattr(
        scripts.sysconfig, "get_path", lambda name, *a, **k: str(folder) if name == "scripts"
        else real(name, *a, **k)
    )  # fmt: skip


def test_a_script_no_distribution_installs_is_a_one_line_error():
    with pytest.raises(ScriptError) as caught:
        console_script("no-such-script-zz")
    message = str(caught.value)
    assert "no-such-script-zz" in message and sys.executable in message
    assert "make setup" in message and "\n" not in message
    assert isinstance(caught.value, StackError)  # the CLI prints it as `error: ...`


def test_the_script_in_the_interpreters_scripts_folder_is_preferred(tmp_path, monkeypatch):
    fake = tmp_path / "flask"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    _scripts_dir(monkeypatch, tmp_path)
    assert console_script("flask") == [str(fake)]


def test_without_the_file_the_entry_point_runs_through_this_interpreter(tmp_path, monkeypatch):
    _scripts_dir(monkeypatch, tmp_path)
    argv = console_script("flask")
    assert argv[:2] == [sys.executable, "-c"] and argv[-1] == "flask"
    done = subprocess.run(
        [*argv, "--help"],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr
    assert "flask [OPTIONS] COMMAND" in done.stdout  # named as its script, not "-c"


def test_the_real_deployments_can_run_here():
    deployments = discover()
    assert unrunnable(deployments) == []
    check_runnable(deployments)


def test_a_deployment_whose_server_module_is_missing_is_refused():
    flask = next(d for d in discover() if d.name == "flask")
    broken = dataclasses.replace(
        flask,
        command=("{python}", "-m", "no_such_server_zz", "app"),
        configs={"default": dataclasses.replace(flask.configs["default"], command=None)},
    )
    with pytest.raises(ScriptError) as caught:
        check_runnable([broken])
    message = str(caught.value)
    assert 'the flask deployment runs "python -m no_such_server_zz"' in message
    assert sys.executable in message and "make setup" in message and "\n" not in message


def test_a_deployment_whose_framework_is_not_installed_is_refused():
    """Streamlit's command runs a script, not a module: its distribution is checked instead."""
    streamlit = next(d for d in discover() if d.name == "streamlit")
    missing = dataclasses.replace(streamlit, framework="no-such-framework-zz")
    [problem] = unrunnable([missing])
    assert "streamlit deployment needs the no-such-framework-zz distribution" in problem


def test_other_stacks_are_left_to_their_own_interpreter():
    variant = next(d for d in discover() if d.stack.name != "today")
    elsewhere = dataclasses.replace(variant, command=("{python}", "-m", "no_such_server_zz"))
    assert unrunnable([elsewhere]) == []


def test_a_missing_locust_is_refused(monkeypatch):
    real = scripts.importlib.util.find_spec
    monkeypatch.setattr(
        scripts.importlib.util, "find_spec", lambda m, *a: None if m == "locust" else real(m, *a)
    )
    with pytest.raises(ScriptError, match=r'load generator runs "python -m locust"'):
        check_runnable([])


SCAFFOLD_CODE = """\
import json
from bench.checks.inspections.distribution import installed
from bench.checks.inspections.scaffold import scaffold
print(json.dumps({name: scaffold(installed(name)) for name in ("flask", "django")}))
"""


def test_scaffold_runs_from_packages_on_pythonpath_with_no_scripts_beside_it(tmp_path):
    """As with `pip --target`: the packages are on PYTHONPATH, and no console script sits beside
    the interpreter (a link to the base interpreter in a folder of its own)."""
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    if base.parent == Path(sys.executable).parent.resolve():
        pytest.skip(f"{sys.executable} is not in a venv: no base interpreter to run it apart")
    interpreter = tmp_path / "bin" / "python3"
    interpreter.parent.mkdir()
    interpreter.symlink_to(base)
    env = cli_env() | {
        "PYTHONPATH": os.pathsep.join((sysconfig.get_paths()["purelib"], str(PROJECT_ROOT)))
    }
    done = subprocess.run(
        [str(interpreter), "-c", SCAFFOLD_CODE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    flask, django = found["flask"], found["django"]
    assert "`flask --help` (exit 0)" in flask["evidence"], flask
    assert "run" in flask["evidence"] and flask["command"] is None
    # Shown as the script a reader would type, whichever way it was run.
    assert django["command"] == "django-admin startproject demo <tmp>", django
    assert django["works"] is True, django["evidence"]
