"""Where a framework comes from and what it is made of, read from its installed files only.

The sources date each framework, name who maintains it, call Flask dependency-free and Streamlit
"purely based on python". The installed distribution answers part of that offline:
- created: the earliest year its own licence, authors or package header files state, with the
  words and the file (a year no installed file states is not guessed);
- maintainer: the Author/Maintainer fields of its metadata;
- required_distributions: the installed distributions its base requirements pull in, whole;
- files_by_language: its files and bytes by language (Python, JavaScript, CSS, HTML);
- app_files_by_language: the same for the deployment's own code files;
- framework_apis: the names of the framework our deployment's Python files use (`from flask
  import Flask`, `st.slider`), a stated proxy for how much of a framework one must learn.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

LANGUAGES = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".ts": "typescript",
    ".css": "css",
    ".html": "html",
    ".htm": "html",
}
# Files whose words date a project: licences, authors lists, notices (in the dist-info folder or
# at the top of the package), and the package's own __init__.py header.
# A licence of vendored code (Django's LICENSE.python) dates that code, not the project: only these
# names count, bare or as .txt/.md/.rst.
DATING_NAMES = ("LICENSE", "LICENCE", "AUTHORS", "COPYING", "NOTICE")
DATING_SUFFIXES = ("", ".TXT", ".MD", ".RST")
HEADER_BYTES = 4096
YEAR = r"((?:19|20)\d\d)"
# "originally created in late 2003", "Copyright 2010 Pallets", "Copyright (c) Streamlit Inc.
# (2018-2022)", "Copyright © 2011-present".
DATING_PATTERNS = (
    re.compile(rf"\bcreated\s+in\s+(?:(?:late|early|mid)\s+)?{YEAR}", re.IGNORECASE),
    re.compile(rf"\bcopyright\s*(?:\(c\)|©)?\s*(?:[^\n\d(]{{0,60}}\(\s*)?{YEAR}", re.IGNORECASE),
)
MAINTAINER_FIELDS = ("Maintainer", "Maintainer-email", "Author", "Author-email")


def provenance(
    distribution: str, app_files: Iterable[Path] = (), packages: Iterable[str] = ()
) -> dict[str, Any]:
    """The module docstring's figures for one installed distribution and a deployment's files;
    packages: the distribution's import names (Django: django)."""
    dist = metadata.distribution(distribution)
    files = list(app_files)
    return {
        "created": created(dist),
        "maintainer": maintainer(dist),
        "required_distributions": required_distributions(dist.metadata["Name"]),
        "files_by_language": by_language(_installed_files(dist)),
        "app_files_by_language": by_language(files),
        "framework_apis": framework_apis(files, tuple(packages)),
    }


def framework_apis(paths: Iterable[Path], packages: tuple[str, ...]) -> list[str]:
    """Dotted names from `packages` that the Python files import or reach through an imported
    name's attribute (`st.slider` -> streamlit.slider, `forms.Form` -> django.forms.Form), each
    once; a module used only as a namespace counts through the names it gives, not itself."""
    used: set[str] = set()
    for path in paths:
        if path.suffix == ".py":
            used |= _names_used(path, packages)
    return sorted(n for n in used if not any(m.startswith(n + ".") for m in used))


def _names_used(path: Path, packages: tuple[str, ...]) -> set[str]:
    try:
        tree = ast.parse(path.read_text(errors="replace"))
    except SyntaxError:
        return set()
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and _ours(node.module, packages):
            aliases.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
        elif isinstance(node, ast.Import):
            for a in node.names:
                if _ours(a.name, packages):
                    aliases[a.asname or a.name.split(".")[0]] = (
                        a.name if a.asname else a.name.split(".")[0]
                    )
    used = {dotted for dotted in aliases.values() if "." in dotted}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            used.add(f"{aliases[node.value.id]}.{node.attr}")
    return used


def _ours(module: str, packages: tuple[str, ...]) -> bool:
    return module.split(".")[0] in packages


def created(dist: metadata.Distribution) -> dict[str, Any]:
    """The earliest year the dating files state: {"year", "words", "file"}, or year None."""
    found: list[tuple[int, str, str]] = []
    for path in _dating_files(dist):
        text = path.read_text(errors="replace")[:HEADER_BYTES]
        for pattern in DATING_PATTERNS:
            for match in pattern.finditer(text):
                line = text[text.rfind("\n", 0, match.start()) + 1 :].split("\n", 1)[0]
                found.append((int(match.group(1)), line.strip(" #*"), _shown(dist, path)))
    if not found:
        return {"year": None, "words": None, "file": None}
    year, words, where = min(found)
    return {"year": year, "words": words, "file": where}


def _dating_files(dist: metadata.Distribution) -> list[Path]:
    paths = []
    for file in dist.files or ():
        name = Path(str(file))
        top_init = len(file.parts) == 2 and file.name == "__init__.py"
        in_meta = ".dist-info" in file.parts[0] or len(file.parts) <= 2
        dating = name.stem.upper() in DATING_NAMES and name.suffix.upper() in DATING_SUFFIXES
        if top_init or (in_meta and dating):
            path = Path(str(file.locate()))
            if path.is_file():
                paths.append(path)
    return sorted(paths)


def maintainer(dist: metadata.Distribution) -> dict[str, Any]:
    """Who the metadata says maintains or wrote the distribution, field by field."""
    fields = {f: dist.metadata[f] for f in MAINTAINER_FIELDS if dist.metadata.get(f)}
    where = next(
        (_shown(dist, Path(str(f.locate()))) for f in dist.files or () if f.name == "METADATA"),
        "METADATA",
    )
    return {"fields": fields, "file": where}


def required_distributions(name: str) -> list[str]:
    """Every installed distribution `name` needs without extras, transitively, sorted."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        try:
            requires = metadata.distribution(todo.pop()).requires or ()
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            needed = _base_requirement(requirement)
            if needed and needed not in seen:
                seen.add(needed)
                todo.append(needed)
    return sorted(seen - {canonicalize_name(name)})


def is_base_requirement(requirement: str) -> bool:
    """True for a requirement installed without extras, on this platform."""
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return False
    return req.marker is None or req.marker.evaluate({"extra": ""})


def _base_requirement(requirement: str) -> str | None:
    """The canonical name of a base requirement, or None for an extra's or another platform's."""
    return (
        canonicalize_name(Requirement(requirement).name)
        if is_base_requirement(requirement)
        else None
    )


def by_language(paths: Iterable[Path]) -> dict[str, dict[str, int]]:
    """{language: {"files", "bytes"}} for the files of a known language."""
    counts: dict[str, dict[str, int]] = {}
    for path in paths:
        language = LANGUAGES.get(path.suffix.lower())
        if language and path.is_file():
            entry = counts.setdefault(language, {"files": 0, "bytes": 0})
            entry["files"] += 1
            entry["bytes"] += path.stat().st_size
    return dict(sorted(counts.items()))


def _installed_files(dist: metadata.Distribution) -> list[Path]:
    return [Path(str(f.locate())) for f in dist.files or ()]


def _shown(dist: metadata.Distribution, path: Path) -> str:
    root = Path(str(dist.locate_file("")))
    try:
        return str(path.relative_to(root))
    except ValueError:
        return path.name
