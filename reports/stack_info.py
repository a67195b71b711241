"""What each stack is: its record in run.json (name, cut-off, lock, interpreter), the framework
and server versions each deployment was served with, and every exception to its date cut-off
with its reason and the version installed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench.store.rules import CALIBRATION_ROLE
from reports.inputs import StoredRun
from reports.scale import floor_rows
from reports.stacks import (
    TODAY,
    base_of,
    older,
    package_version,
    stack_label,
    stack_names,
    stack_of,
    stack_packages,
    stack_record,
)
from reports.tables import Cell, Table, key_package_names, label, ordered

NOT_INSTALLED = "not installed"


def stacks_table(run: Mapping[str, Any]) -> Table:
    """One row per stack the run served from, as its record says."""
    rows = []
    for stack in stack_names(run):
        record = stack_record(run, stack)
        exceptions = record.get("exceptions") or []
        rows.append(
            [
                Cell(stack),
                Cell(stack_label(run, stack)),
                Cell(str(record.get("released_by") or "-"), css="" if record else "muted"),
                Cell(str(record.get("lock") or "-")),
                Cell(str(record.get("python") or "-"), css="muted"),
                Cell(str(len(stack_packages(run, stack))), css="num"),
                Cell(str(len(exceptions)), css="num"),
            ]
        )
    columns = [
        "Stack",
        "Label",
        "Released by",
        "Lock",
        "Interpreter",
        "Distributions",
        "Exceptions to the cut-off",
    ]
    return Table(columns, rows)


def versions_table(run: Mapping[str, Any]) -> Table:
    """Each deployment's framework and server, with the version each stack served it with (from
    run.json's deployments), one column pair per stack."""
    stacks = stack_names(run)
    deployments = run.get("deployments") or {}
    by_base: dict[str, dict[str, dict[str, Any]]] = {}
    for name in ordered(run):
        info = deployments[name]
        by_base.setdefault(base_of(name, info), {})[stack_of(info)] = info
    rows = []
    for base, on in by_base.items():
        if len(on) < 2:
            continue  # served from one stack only: the coverage table lists it
        rows.append(
            [
                Cell(label(run, base) if base in deployments else base),
                *(
                    cell
                    for s in stacks
                    for cell in (
                        _versioned(on.get(s), "framework"),
                        _versioned(on.get(s), "server"),
                    )
                ),
            ]
        )
    columns = ["Deployment"]
    for s in stacks:
        columns += [f"Framework, {stack_label(run, s)}", f"Server, {stack_label(run, s)}"]
    notes = (
        "Versions as run.json records them for each deployment: read from the installed "
        "distributions of the stack it was served from.",
    )
    return Table(columns, rows, notes=notes)


def _versioned(info: Mapping[str, Any] | None, what: str) -> Cell:
    if info is None:
        return Cell("not served", css="muted")
    name = str(info.get(what) or "?")
    return Cell(f"{name} {info.get(f'{what}_version') or '?'}")


def key_packages_table(run: Mapping[str, Any]) -> Table:
    """The distributions that matter for reading the figures, as each stack installed them."""
    stacks = stack_names(run)
    # Locust runs in today's environment for every stack (see the note).
    wanted = [p for p in key_package_names(run) if p != "locust"]
    rows = []
    for name in wanted:
        versions = versions_on(run, name)
        if not any(versions.values()):
            continue
        same = len(set(versions.values())) == 1
        rows.append(
            [
                Cell(name),
                *(
                    Cell(versions[s] or NOT_INSTALLED, css="" if versions[s] else "muted")
                    for s in stacks
                ),
                Cell("same" if same else "differs", css="muted" if same else ""),
            ]
        )
    columns = ["Distribution", *(stack_label(run, s) for s in stacks), "On the stacks"]
    notes = (
        "Locust, the runner and this report run in today's environment for every stack; only "
        "the servers run from a stack's own.",
    )
    return Table(columns, rows, notes=notes)


def exceptions_table(run: Mapping[str, Any], stack: str) -> Table:
    """Every exception to a stack's date cut-off: the package, the version its lock pins and
    the one installed (run.json), and the reason its pyproject.toml gives."""
    record = stack_record(run, stack)
    packages = stack_packages(run, stack)
    rows = []
    for item in record.get("exceptions") or []:
        name = str(item.get("package", ""))
        locked = str(item.get("version") or "")
        installed = package_version(packages, name)
        mismatch = bool(installed and locked and installed != locked)
        rows.append(
            [
                Cell(name),
                Cell(locked or "-", css="num"),
                Cell(
                    installed or NOT_INSTALLED,
                    note="differs from the lock" if mismatch else "",
                    css="num bad" if mismatch or not installed else "num",
                ),
                Cell(str(item.get("reason", ""))),
            ]
        )
    columns = ["Package", "Locked", "Installed", "Why it is not of the cut-off"]
    label_ = stack_label(run, stack)
    cut = record.get("released_by")
    caption = f"Exceptions to the {label_} stack's cut-off" + (f" ({cut})" if cut else "")
    return Table(columns, rows, caption=caption)


def shared_parts(stored: StoredRun) -> list[str]:
    """Sentences on what every stack's view shares with today's: the calibration deployment and
    the in-process floor, each named only when the run has it."""
    lines = []
    calibration = [
        label(stored.info, n)
        for n, d in stored.deployments.items()
        if d.get("role") == CALIBRATION_ROLE and stack_of(d) == TODAY
    ]
    if calibration:
        lines.append(
            f"{', '.join(calibration)}: served from today's stack only, and kept in every "
            "stack's view. It calibrates the load generator, and the load generator (Locust, in "
            "today's environment) is the same for every stack, so one ceiling serves them all."
        )
    if not floor_rows(stored).empty:
        lines.append(
            "The in-process floor (the model's own predict() time) is measured once, in today's "
            "environment, and kept in every stack's view. " + _model_libraries(stored.info)
        )
    return lines


MODEL_LIBRARIES = ("scikit-learn", "numpy", "scipy", "skops")


def versions_on(run: Mapping[str, Any], name: str) -> dict[str, str | None]:
    """stack -> the version of a distribution it installed (None: not installed or unknown)."""
    return {s: package_version(stack_packages(run, s), name) for s in stack_names(run)}


def _model_libraries(run: Mapping[str, Any]) -> str:
    """Whether the model's libraries are the same versions on every stack, as recorded: only
    then does today's floor stand for every stack's model call."""
    differ, unknown = [], []
    for name in MODEL_LIBRARIES:
        versions = versions_on(run, name)
        if None in versions.values():
            unknown.append(name)
        elif len(set(versions.values())) > 1:
            differ.append(f"{name} " + " / ".join(f"{v} ({s})" for s, v in versions.items()))
    if differ:
        return (
            f"The model's libraries differ between the stacks ({'; '.join(differ)}): the floor "
            "is that of today's model call only."
        )
    known = [n for n in MODEL_LIBRARIES if n not in unknown]
    if not known:
        return "The model's library versions are not recorded for every stack."
    missing = f" ({', '.join(unknown)} not recorded on every stack)" if unknown else ""
    # Say that the exceptions give the reason only where every other stack records them so.
    excepted = all(
        set(known)
        <= {str(e.get("package", "")) for e in stack_record(run, s).get("exceptions") or []}
        for s in older(stack_names(run))
    )
    why = " (the exceptions below say why)" if excepted else ""
    return (
        f"The model's libraries ({', '.join(known)}) are the same versions on every stack"
        f"{missing}, so it stands for each stack's model call{why}."
    )
