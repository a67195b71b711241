"""One installed distribution, read from its metadata: name, version, licence, requirements,
extras and the other installed distributions that require it. Nothing is imported."""

from __future__ import annotations

import contextlib
import importlib.metadata as metadata
from dataclasses import dataclass
from functools import cache
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from bench.checks.provenance import is_base_requirement


@dataclass(frozen=True)
class Installed:
    """One installed distribution as its metadata describes it."""

    name: str
    version: str
    meta: Any  # email.message.Message-like
    packages: tuple[str, ...]  # top-level import names
    requires: tuple[str, ...]  # base requirements (no extras), as written
    required_packages: tuple[str, ...]  # import names of the installed base requirements


@cache
def _import_names() -> dict[str, tuple[str, ...]]:
    """Canonical distribution name -> the top-level modules it installs."""
    names: dict[str, list[str]] = {}
    for module, dists in metadata.packages_distributions().items():
        for dist in dists:
            names.setdefault(canonicalize_name(dist), []).append(module)
    return {dist: tuple(sorted(mods)) for dist, mods in names.items()}


def installed(name: str) -> Installed | None:
    """The installed distribution of that name, or None when it is not installed."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    requires = tuple(r for r in dist.requires or () if is_base_requirement(r))
    required = tuple(
        module
        for r in requires
        for module in _import_names().get(canonicalize_name(Requirement(r).name), ())
    )
    return Installed(
        name=dist.metadata["Name"],
        version=dist.version,
        meta=dist.metadata,
        packages=_import_names().get(canonicalize_name(name), (name.replace("-", "_"),)),
        requires=requires,
        required_packages=required,
    )


def version_shown(name: str) -> str:
    """ "NAME VERSION" of an installed distribution, or "NAME (not installed)"."""
    dist = installed(name)
    return f"{name} {dist.version if dist else '(not installed)'}"


def license_of(dist: Installed) -> tuple[str | None, str]:
    """(license, where it was read): License-Expression, then License, then Trove classifiers."""
    if expression := dist.meta.get("License-Expression"):
        return expression.strip(), "License-Expression"
    text = (dist.meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 80:
        return text, "License"
    trove = [
        c.split("::")[-1].strip()
        for c in dist.meta.get_all("Classifier") or ()
        if c.startswith("License ::")
    ]
    if trove:
        return "; ".join(trove), "Trove classifiers"
    if text:  # a whole licence text pasted into the field: name its first line
        return text.splitlines()[0].strip(), "License (first line of the full text)"
    return None, "no License-Expression, License or License classifier in the metadata"


def extras_of(dist: Installed) -> dict[str, dict[str, Any]]:
    """Each extra of the distribution, its requirements and whether they are all installed."""
    return {
        extra: {
            "requires": sorted(names := _extra_requirements(dist.name, extra)),
            "installed": all(installed(name) is not None for name in names),
        }
        for extra in dist.meta.get_all("Provides-Extra") or ()
    }


def _extra_requirements(dist_name: str, extra: str, seen: frozenset = frozenset()) -> set[str]:
    """Distribution names an extra pulls in; "streamlit[all]" is expanded into its extras."""
    names: set[str] = set()
    for text in metadata.requires(dist_name) or ():
        with contextlib.suppress(InvalidRequirement):
            req = Requirement(text)
            if not req.marker or is_base_requirement(text):
                continue
            if not req.marker.evaluate({"extra": extra}):
                continue
            if canonicalize_name(req.name) != canonicalize_name(dist_name):
                names.add(req.name)
            for inner in req.extras - seen - {extra}:
                names |= _extra_requirements(dist_name, inner, seen | {extra, inner})
    return names


def dependents_of(dist: Installed) -> list[str]:
    """Other installed distributions that require the framework (Flask-WTF, locust, ...)."""
    target = canonicalize_name(dist.name)
    found = set()
    for other in metadata.distributions():
        if canonicalize_name(other.metadata["Name"]) == target:
            continue  # its own extras ("streamlit[all]") name it
        for requirement in other.requires or ():
            with contextlib.suppress(InvalidRequirement):
                if canonicalize_name(Requirement(requirement).name) == target:
                    found.add(f"{other.metadata['Name']} {other.version}")
    return sorted(found, key=str.lower)
