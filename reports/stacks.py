"""One view of a stored run per software stack, so that every table and evaluator written for one
stack reads each stack unchanged.

A run may serve a deployment from more than one stack (bench/targets/stacks.py): today's, and the
February 2022 one, whose variants are stored under their own names (`flask-2022`) with
`stack` and `base` in run.json. A stack's view keeps that stack's deployments under their base
names (`flask-2022` becomes `flask`), drops every other stack's, and keeps today's calibration
deployment (the null target): it calibrates the load generator, and the load generator is
today's for every stack (only the servers run from a stack's environment). Rows stored under a
name that is no deployment (the in-process floor, measured with the model's libraries, which
are the same versions on every stack) stay in every view.

A run stored before stacks existed has no `stack` per deployment and no `stacks` in run.json:
all of it is today's, and today's view of it is the run itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from bench.store.rules import CALIBRATION_ROLE
from reports.inputs import StoredRun

TODAY = "today"
# run.json's top-level key a view sets: which stack its deployments stand for.
VIEW_KEY = "stack"


def stack_of(info: Mapping[str, Any]) -> str:
    """The stack a deployment was served from (run.json deployments[name]); today's if unsaid."""
    return str(info.get("stack") or TODAY)


def base_of(name: str, info: Mapping[str, Any]) -> str:
    """The deployment a variant stands for ("flask" for "flask-2022"); itself if unsaid."""
    return str(info.get("base") or name)


def view_stack(run: Mapping[str, Any]) -> str:
    """The stack a (view of a) run stands for: a stored run as written is today's."""
    return str(run.get(VIEW_KEY) or TODAY)


def shown_order(stacks: Iterable[str]) -> list[str]:
    """The stacks in the order the report sets them side by side: oldest first, today last."""
    stacks = set(stacks)
    return [*sorted(stacks - {TODAY}), *([TODAY] if TODAY in stacks else [])]


def older(stacks: Iterable[str]) -> list[str]:
    """The stacks other than today's, in shown order."""
    return [s for s in shown_order(stacks) if s != TODAY]


def stack_names(run: Mapping[str, Any]) -> list[str]:
    """Every stack the run served a deployment from (today's always), in shown order."""
    found = {stack_of(info) for info in (run.get("deployments") or {}).values()}
    return shown_order({TODAY, *found})


def has_other_stacks(run: Mapping[str, Any]) -> bool:
    return len(stack_names(run)) > 1


def stack_record(run: Mapping[str, Any], stack: str) -> dict[str, Any]:
    """run.json's record of one stack ({} when the run predates stack records)."""
    found = (run.get("stacks") or {}).get(stack)
    return dict(found) if isinstance(found, Mapping) else {}


def stack_label(run: Mapping[str, Any], stack: str) -> str:
    """The record's label ("February 2022", "today"), else the stack's name."""
    return str(stack_record(run, stack).get("label") or stack)


def stack_title(run: Mapping[str, Any], stack: str) -> str:
    """The stack as a sentence names it: "the February 2022 stack", "today's stack"."""
    if stack == TODAY:
        return "today's stack"
    return f"the {stack_label(run, stack)} stack"


def stack_packages(run: Mapping[str, Any], stack: str) -> dict[str, str]:
    """The distributions a stack's deployments were served with. Today's are run.json's own
    "packages"; another stack's are its record's, and none are known when it has no record."""
    if stack == TODAY:
        return dict(run.get("packages") or {})
    return {str(k): str(v) for k, v in (stack_record(run, stack).get("packages") or {}).items()}


def package_version(packages: Mapping[str, str], name: str) -> str | None:
    """A distribution's version by its normalised name (PEP 503), or None if not installed."""
    wanted = _canonical(name)
    for found, version in packages.items():
        if _canonical(found) == wanted:
            return str(version)
    return None


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def same_stack(run: Mapping[str, Any], a: str, b: str) -> bool:
    deployments = run.get("deployments") or {}
    return stack_of(deployments.get(a) or {}) == stack_of(deployments.get(b) or {})


def names_in_view(run: Mapping[str, Any], stack: str) -> dict[str, str]:
    """Stored deployment name -> its name in the stack's view, for the deployments it keeps."""
    deployments = run.get("deployments") or {}
    names: dict[str, str] = {}
    for name, info in deployments.items():
        if stack_of(info) == stack:
            view_name = base_of(name, info)
            # Manifests give each stack one variant of a base; should a hand-written run.json
            # give two, the first stands for it rather than two merging into one name.
            if view_name not in names.values():
                names[name] = view_name
    # A stack without a calibration of its own is calibrated by today's (the same Locust).
    for name, info in deployments.items():
        calibration = info.get("role") == CALIBRATION_ROLE
        if calibration and stack_of(info) == TODAY and name not in names.values():
            names.setdefault(name, name)
    return names


def view(stored: StoredRun, stack: str = TODAY) -> StoredRun:
    """The run as `stack` alone served it, under base names (see the module docstring)."""
    names = names_in_view(stored.info, stack)
    known = set(stored.deployments)
    info = {
        **stored.info,
        VIEW_KEY: stack,
        "packages": stack_packages(stored.info, stack),
        "deployments": {names[n]: stored.deployments[n] for n in names},
    }
    inspections = dict(stored.inspections)
    for key in ("packages", "probes"):
        if isinstance(inspections.get(key), Mapping):
            inspections[key] = _rekeyed(inspections[key], names, known)
    return replace(
        stored,
        results=_renamed(stored.results, names, known),
        info=info,
        verify=_renamed(stored.verify, names, known),
        inspections=inspections,
    )


def views(stored: StoredRun) -> dict[str, StoredRun]:
    """Every stack's view, in shown order."""
    return {stack: view(stored, stack) for stack in stack_names(stored.info)}


def _rekeyed(
    by_deployment: Mapping[str, Any], names: Mapping[str, str], known: set[str]
) -> dict[str, Any]:
    kept = {names[k]: v for k, v in by_deployment.items() if k in names}
    # An entry under a name that is no deployment is not any stack's to drop.
    kept.update({k: v for k, v in by_deployment.items() if k not in known and k not in kept})
    return kept


def _renamed(frame: pd.DataFrame, names: Mapping[str, str], known: set[str]) -> pd.DataFrame:
    column = frame["deployment"]
    keep = column.isin(list(names)) | ~column.isin(list(known))
    out = frame[keep.to_numpy(dtype=bool)].copy()
    out["deployment"] = out["deployment"].map(lambda n: names.get(n, n))
    return out
