"""The software stacks a deployment is served from: today's, and older ones under stacks/<name>/.

Today's stack is the project's own environment (the harness's interpreter). An older stack is a
folder with its own pyproject.toml and uv.lock, installed by `make setup` into its own
environment; its [tool.ml-deploy-bench] table names it, dates it and gives the reason for every
exception to its date cut-off. A stack is one more dimension of a deployment: a manifest with a
[stacks.NAME] table is also served from that stack's interpreter (bench/targets/manifest.py). Only
the
servers run there; Locust, the runner and the report stay in today's environment.
"""

from __future__ import annotations

import functools
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import PROJECT_ROOT
from bench.cli.json_command import json_from

STACKS_DIR = PROJECT_ROOT / "stacks"
TODAY = "today"
TOOL_TABLE = "ml-deploy-bench"


class StackError(ValueError):
    """A stack's folder does not say what the harness needs, or its environment is missing."""


@dataclass(frozen=True)
class Stack:
    name: str
    label: str
    released_by: str = ""  # the date cut-off of its web stack; "" for today's
    environment: Path | None = None  # None: the harness's own interpreter
    port_offset: int = 0
    exceptions: dict[str, str] = field(default_factory=dict)  # package -> why it is not 2022's
    lock: Path | None = None

    @property
    def python(self) -> str:
        if self.environment is None:
            return sys.executable
        return str(self.environment / "bin" / "python")

    def check_installed(self) -> None:
        """A clear error, rather than a server that cannot start, when `make setup` was not run."""
        if not Path(self.python).is_file():
            raise StackError(
                f"the {self.name} stack's environment {self.environment} is missing "
                f"(no {self.python}): run `make setup`, which installs it from {self.lock}"
            )

    def packages(self) -> dict[str, str]:
        """Every distribution installed in the stack's environment: name (lower case) -> version,
        read by its own interpreter (today's: this process)."""
        if self.environment is None:
            return installed_here()
        self.check_installed()
        what = f"listing the {self.name} stack's packages"
        argv = [self.python, "-c", PACKAGES_SCRIPT]
        return json_from(argv, what, StackError, 60, cwd=PROJECT_ROOT)

    def locked_versions(self) -> dict[str, str]:
        if self.lock is None:
            return {}
        packages = tomllib.loads(self.lock.read_text()).get("package", [])
        return {p["name"]: p["version"] for p in packages if "version" in p}

    def as_record(self) -> dict[str, Any]:
        """What run.json stores of the stack: the report shows it without reading the lock."""
        locked = self.locked_versions()
        return {
            "name": self.name,
            "label": self.label,
            "released_by": self.released_by,
            "python": self.python,
            "lock": str(self.lock.relative_to(PROJECT_ROOT)) if self.lock else "",
            "exceptions": [
                {"package": name, "version": locked.get(name, ""), "reason": reason}
                for name, reason in self.exceptions.items()
            ],
        }


# The stack's interpreter runs installed_here() itself: bench.targets.stacks imports only the
# standard
# library, which every stack has.
PACKAGES_SCRIPT = "import json, bench.targets.stacks as s; print(json.dumps(s.installed_here()))"


def installed_here() -> dict[str, str]:
    """Every distribution this interpreter has installed: name (lower case) -> version."""
    from importlib.metadata import distributions

    return dict(sorted((d.metadata["Name"].lower(), d.version) for d in distributions()))


def stack_records(stacks: list[Stack], today_packages: dict[str, str]) -> dict[str, Any]:
    """run.json's "stacks": each stack served from, its record and, for a stack other than
    today's (whose packages are run.json's own "packages"), its installed packages."""
    named = {stack.name: stack for stack in stacks}
    return {
        name: stack.as_record()
        | ({} if name == TODAY else {"packages": stack_packages(stack, today_packages)})
        for name, stack in named.items()
    }


def stack_packages(stack: Stack, today_packages: dict[str, str]) -> dict[str, str]:
    """The packages a deployment on `stack` is served with (today's: those already listed)."""
    return today_packages if stack.name == TODAY else _packages_of(stack.name)


@functools.cache
def _packages_of(name: str) -> dict[str, str]:
    return discover_stacks()[name].packages()


def today() -> Stack:
    return Stack(name=TODAY, label="today", lock=PROJECT_ROOT / "uv.lock")


def discover_stacks(root: Path = STACKS_DIR) -> dict[str, Stack]:
    """Today's stack first, then every stack folder under root, by name."""
    found = {TODAY: today()}
    for project in sorted(root.glob("*/pyproject.toml")):
        stack = load_stack(project)
        if stack.name in found:
            raise StackError(f"{project}: a stack named {stack.name!r} already exists")
        found[stack.name] = stack
    return found


def load_stack(project: Path) -> Stack:
    try:
        data = tomllib.loads(project.read_text())
        tool = data["tool"][TOOL_TABLE]
        cutoffs = data["tool"]["uv"].get("exclude-newer-package", {})
        stack = Stack(
            name=str(tool["name"]),
            label=str(tool["label"]),
            released_by=str(tool["released_by"]),
            environment=PROJECT_ROOT / str(tool["environment"]),
            port_offset=int(tool["port_offset"]),
            exceptions={str(k): str(v) for k, v in tool.get("exceptions", {}).items()},
            lock=project.parent / "uv.lock",
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise StackError(f"{project}: cannot read [tool.{TOOL_TABLE}]: {exc!r}") from exc
    _check_exceptions(project, set(cutoffs), set(stack.exceptions))
    if stack.name == TODAY or not stack.name.isalnum():
        raise StackError(f"{project}: a stack's name is letters and digits, not {stack.name!r}")
    if stack.port_offset <= 0:
        raise StackError(f"{project}: port_offset must be positive, not {stack.port_offset}")
    return stack


def _check_exceptions(project: Path, cutoffs: set[str], reasons: set[str]) -> None:
    """Every exception to the date cut-off has its reason, and every reason its exception."""
    problems = []
    if cutoffs - reasons:
        problems.append(f"exceptions without a reason: {sorted(cutoffs - reasons)}")
    if reasons - cutoffs:
        problems.append(f"reasons for no exception: {sorted(reasons - cutoffs)}")
    if problems:
        raise StackError(
            f"{project}: {'; '.join(problems)} (tool.uv.exclude-newer-package and "
            f"tool.{TOOL_TABLE}.exceptions must name the same packages)"
        )
