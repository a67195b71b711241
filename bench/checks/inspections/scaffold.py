"""The framework's project-creation command: does its CLI have one, and does it work when run
in an empty temporary folder?"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import tempfile
from pathlib import Path
from typing import Any

from bench.checks.inspections.commands import run_bounded
from bench.checks.inspections.distribution import Installed
from bench.targets.scripts import console_script

# Subcommands of a framework's CLI that create a project, and how to run each one
# non-interactively in an empty folder ({dir}); "n" answers a "run it now?" prompt.
CREATE_COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "startproject": (("startproject", "demo", "{dir}"), ""),
    "init": (("init", "{dir}"), "n\n"),
    "new": ((), ""),
    "create": ((), ""),
}


def subcommands(help_text: str) -> list[str]:
    """Subcommand names from a CLI's help: click's "Commands:" or django-admin's list."""
    names: list[str] = []
    in_list = False
    for line in help_text.splitlines():
        if re.match(r"^\s*(Available subcommands|Commands):\s*$", line):
            in_list = True
        elif in_list and line.startswith((" ", "\t")) and line.strip():
            names.append(line.split()[0])
        elif in_list and line.strip() and not line.startswith("[") and names:
            in_list = False
    return names


def scaffold(dist: Installed) -> dict[str, Any]:
    """Run the framework's CLI: does it have a project-creation command, and does it work?"""
    scripts = sorted(
        e.name
        for e in metadata.distribution(dist.name).entry_points
        if e.group == "console_scripts"
    )
    if not scripts:
        return scaffold_result(None, False, 0, f"{dist.name} installs no command-line script")
    notes = []
    with tempfile.TemporaryDirectory(prefix="bench-scaffold-") as tmp:
        for script in scripts:
            code, output = run_bounded([*console_script(script), "--help"], Path(tmp))
            commands = subcommands(output)
            creating = [c for c in CREATE_COMMANDS if c in commands]
            if creating:
                return _create(script, creating[0], Path(tmp))
            notes.append(
                f"`{script} --help` (exit {code}) lists {', '.join(commands) or 'no commands'}"
            )
    return scaffold_result(None, False, 0, "; ".join(notes) + ": none creates a project")


def _create(script: str, command: str, tmp: Path) -> dict[str, Any]:
    args, answer = CREATE_COMMANDS[command]
    if not args:
        return scaffold_result(
            f"{script} {command}",
            False,
            0,
            f"`{script} --help` lists {command!r}; not run: no known non-interactive invocation",
        )
    target = tmp / "project"
    target.mkdir()
    argv = [script, *(a.format(dir=target) for a in args)]
    code, output = run_bounded([*console_script(script), *argv[1:]], tmp, stdin=answer)
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    shown = " ".join(a.replace(str(target), "<tmp>") for a in argv)
    evidence = (
        f"`{shown}`{f' answering {answer.strip()!r} to its prompt' if answer else ''} "
        f"exited {code} and created {len(files)} file(s): {', '.join(files) or 'none'}"
    )
    if code != 0:
        evidence += f". Output: {output.strip()[-300:]}"
    return scaffold_result(shown, code == 0 and bool(files), len(files), evidence)


def scaffold_result(command: str | None, works: bool, files: int, evidence: str) -> dict[str, Any]:
    """The "scaffold" entry of inspections.json."""
    return {"command": command, "works": works, "files_created": files, "evidence": evidence}
