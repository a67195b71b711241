"""Reading installed source files without importing them: where a module's file is, which
names it defines, which modules it imports, and whether a component spec is present."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path


def module_file(dotted: str) -> Path | None:
    """The file (or namespace folder) of a module, found on disk: nothing is imported."""
    top, *rest = dotted.split(".")
    try:
        spec = importlib.util.find_spec(top)  # a top-level name: finding it imports nothing
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if not rest:
        return Path(spec.origin) if spec.origin else None
    for location in spec.submodule_search_locations or ():
        base = Path(location).joinpath(*rest)
        if (base / "__init__.py").is_file():
            return base / "__init__.py"
        if base.with_suffix(".py").is_file():
            return base.with_suffix(".py")
        if base.is_dir():
            return base
    return None


def package_files(package: str) -> list[Path]:
    """Every .py file of an installed package (the module's own file for a plain module)."""
    path = module_file(package)
    if path is None or path.name != "__init__.py":
        return [path] if path and path.suffix == ".py" else []
    return sorted(path.parent.rglob("*.py"))


def relative_path(path: Path) -> str:
    """A path as it appears under its sys.path entry (site-packages), for evidence."""
    roots = [Path(r) for r in sys.path if r and path.is_relative_to(r)]
    return str(path.relative_to(max(roots, key=lambda r: len(r.parts)))) if roots else str(path)


@cache
def parsed_source(path: Path) -> ast.Module | None:
    """A source file's syntax tree, or None when it cannot be read or parsed."""
    try:
        return ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return None


def defined_names(dotted: str, depth: int = 0) -> set[str]:
    """Names a module defines or imports at its top level, following `import *` two levels."""
    path = module_file(dotted)
    tree = parsed_source(path) if path and path.suffix == ".py" else None
    if tree is None:
        return set()
    names: set[str] = set()
    for node in _top_level(tree.body):
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names |= _names_from(dotted, path, node, depth)
    return names


def _names_from(dotted: str, path: Path, node: ast.ImportFrom, depth: int) -> set[str]:
    """The names a `from ... import` binds; a star import is followed (to depth 2)."""
    names: set[str] = set()
    for alias in node.names:
        if alias.name != "*":
            names.add(alias.asname or alias.name)
        elif depth < 2:
            names |= defined_names(_absolute(dotted, path, node), depth + 1)
    return names


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run at import time, including those under if/try/with."""
    for node in body:
        yield node
        if isinstance(node, ast.If | ast.Try | ast.With):
            yield from _top_level(node.body)
            yield from _top_level(getattr(node, "orelse", []))
            yield from _top_level(getattr(node, "finalbody", []))
            for handler in getattr(node, "handlers", []):
                yield from _top_level(handler.body)


def _absolute(dotted: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = dotted.split(".") if path.name == "__init__.py" else dotted.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (imports inside functions too)."""
    tree = parsed_source(path)
    found: set[str] = set()
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def lookup(spec: str) -> str | None:
    """Evidence that a spec is present in the installed files, or None.

    A spec is "module" (the module exists), "module:Name" (the module defines or imports Name)
    or "module~text" (the module's source contains text)."""
    if "~" in spec:
        module, needle = spec.split("~", 1)
        path = module_file(module)
        if path and path.is_file() and needle in path.read_text(errors="replace"):
            return f"{module} contains {needle!r} ({relative_path(path)})"
        return None
    module, _, name = spec.partition(":")
    path = module_file(module)
    if path is None:
        return None
    if not name:
        return f"module {module} ({relative_path(path)})"
    if name in defined_names(module):
        return f"{module}.{name} ({relative_path(path)})"
    return None


def tornado_importers(package: str) -> list[str]:
    """The files of an installed package that import tornado at the start of a line."""
    pattern = re.compile(r"^\s*(from|import)\s+tornado\b", flags=re.MULTILINE)
    return [
        relative_path(path)
        for path in package_files(package)
        if pattern.search(path.read_text(errors="replace"))
    ]
