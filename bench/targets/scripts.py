"""Running installed command-line tools from whichever interpreter runs the harness.

The harness must work from any environment holding the locked packages: a venv, a system
install, or packages installed with `pip --target` on PYTHONPATH, where no console script sits
beside the interpreter. So a console script is found through the interpreter's own metadata, and
a server's `python -m MODULE` is checked to be importable before anything is started.
"""

from __future__ import annotations

import importlib.machinery
import importlib.metadata as metadata
import importlib.util
import shutil
import sys
import sysconfig
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.targets.stacks import TODAY, StackError

if TYPE_CHECKING:
    from bench.targets.manifest import Deployment

SETUP_HINT = "install the locked packages (make setup)"

# Runs console script argv[1] as its own wrapper would: sys.argv[0] is the script's name (so
# click's and argparse's help name it), the entry point's return value is the exit status, and
# the current folder is not importable (a wrapper's sys.path[0] is its own folder, not "").
LAUNCHER = """\
import sys
from importlib.metadata import entry_points
name = sys.argv[1]
if sys.path and sys.path[0] == "":
    del sys.path[0]
main = next(iter(entry_points(group="console_scripts", name=name))).load()
sys.argv = [name, *sys.argv[2:]]
sys.exit(main())
"""


class ScriptError(StackError):
    """A console script or a server's module is not installed for this interpreter."""


def console_script(name: str) -> list[str]:
    """The argv prefix that runs console script `name` of an installed distribution."""
    if not metadata.entry_points(group="console_scripts", name=name):
        raise ScriptError(
            f"no installed distribution provides the command {name!r} for {sys.executable}: "
            f"{SETUP_HINT}"
        )
    # The scripts folder this interpreter installs into, which need not be sys.executable's.
    installed = shutil.which(name, path=sysconfig.get_path("scripts"))
    if installed:
        return [installed]
    return [sys.executable, "-c", LAUNCHER, name]


def unrunnable(deployments: Sequence[Deployment]) -> list[str]:
    """Why each of these deployments served from today's stack, or Locust, cannot start here:
    its framework or server distribution is not installed, or a `{python} -m MODULE` command
    names a module this interpreter cannot import."""
    problems = [] if _importable("locust") else [_missing("the load generator", "locust")]
    for d in deployments:
        if d.stack.name != TODAY:
            continue  # served by its own stack's interpreter, whose existence is checked apart
        problems += [
            f"the {d.name} deployment needs the {name} distribution, which is not installed "
            f"for {sys.executable}: {SETUP_HINT}"
            for name in dict.fromkeys((d.framework, d.server))
            if not _installed(name)
        ]
        modules = dict.fromkeys(_module_of(c.command or d.command) for c in d.configs.values())
        problems += [
            _missing(f"the {d.name} deployment", m)
            for m in modules
            if m and not _importable(m, str(d.folder))
        ]
    return problems


def check_runnable(deployments: Sequence[Deployment]) -> None:
    """A one-line ScriptError, before anything starts, when unrunnable() finds a problem."""
    problems = unrunnable(deployments)
    if problems:
        raise ScriptError("; ".join(problems))


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def _module_of(command: Sequence[str]) -> str | None:
    """MODULE of a `{python} -m MODULE ...` command; None for any other command."""
    if len(command) >= 3 and command[0] == "{python}" and command[1] == "-m":
        return command[2]
    return None


def _importable(module: str, folder: str | None = None) -> bool:
    """Whether this interpreter can import `module`, or the deployment's folder (its process's
    working directory, first on its path under `-m`) holds it."""
    try:
        if importlib.util.find_spec(module) is not None:
            return True
    except (ImportError, ValueError):
        pass  # a parent package that is missing or broken: not importable from here
    top = module.partition(".")[0]
    return (
        folder is not None and importlib.machinery.PathFinder.find_spec(top, [folder]) is not None
    )


def _missing(who: str, module: str) -> str:
    return (
        f'{who} runs "python -m {module}", but {module} is not installed for {sys.executable}: '
        f"{SETUP_HINT}"
    )
