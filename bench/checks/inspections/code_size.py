"""The code a deployment needs: the files its manifest's code_files globs match, and their lines
of code by class (Python, configuration, templates). The runner stores code_size() as rows of
results.csv (results.CODE_SIZE)."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

from bench import PROJECT_ROOT
from bench.targets.manifest import MANIFEST_NAME, Deployment

SHARED_MODEL_DIR = PROJECT_ROOT / "shared_model"
# Which matched files are configuration and which are templates.
CONFIG_SUFFIXES = (".toml", ".cfg", ".ini", ".yaml", ".yml")
CONFIG_NAMES = ("gunicorn.conf.py", "settings.py")
TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2")


class CodeSizeError(ValueError):
    """A manifest's code_files cannot be counted: a pattern matches no file."""


def code_files(deployment: Deployment) -> list[Path]:
    """The files the manifest's code_files globs match, relative to the deployment's folder.

    Never counted: anything under shared_model/ (the model code every deployment shares),
    the manifest itself, and __pycache__. A pattern that matches no file is an error
    (CodeSizeError), so that a typo in a manifest cannot pass for a deployment with no code.
    """
    found: set[Path] = set()
    for pattern in deployment.code_files:
        matches = {p for p in _matches(deployment.folder, pattern) if _countable(p)}
        if not matches:
            raise CodeSizeError(
                f"{deployment.name}: code_files pattern {pattern!r} matches no countable file "
                f"under {deployment.folder} (shared_model/, {MANIFEST_NAME} and __pycache__ "
                "are never counted); fix the pattern in its manifest"
            )
        found |= matches
    return sorted(found)


def _matches(folder: Path, pattern: str) -> set[Path]:
    """The files (resolved) a glob matches under folder, hidden ones included."""
    return {
        Path(p).resolve()
        for p in glob.glob(str(folder / pattern), recursive=True, include_hidden=True)
        if Path(p).is_file()
    }


def _countable(path: Path) -> bool:
    return (
        not path.is_relative_to(SHARED_MODEL_DIR)
        and path.name != MANIFEST_NAME
        and "__pycache__" not in path.parts
    )


def code_size(deployment: Deployment) -> dict[str, float]:
    """Lines of code a deployment needs, over the files its manifest lists (code_files()).

    Every file is put in exactly one class, so the three line counts add up to the total:
      config_lines    configuration: files named *.toml, *.cfg, *.ini, *.yaml, *.yml, and the
                      Python files gunicorn.conf.py and settings.py (Django's settings);
                      counted as pygount's source lines (code and string-only lines; not
                      comments, docstrings, blank lines or lines holding only brackets)
      template_lines  templates: *.html, *.htm, *.jinja, *.jinja2, *.j2; every non-blank line
      sloc            everything else (the Python code): pygount's source lines, as above
      files           the number of files counted, of all three classes
    Deterministic: the same files give the same counts.
    """
    counts = {"sloc": 0.0, "files": 0.0, "config_lines": 0.0, "template_lines": 0.0}
    for path in code_files(deployment):
        counts["files"] += 1
        kind = _file_kind(path)
        if kind == "template_lines":
            text = path.read_text(errors="replace")
            counts[kind] += sum(1 for line in text.splitlines() if line.strip())
        else:
            analysis = _pygount().SourceAnalysis.from_file(str(path), deployment.name)
            counts[kind] += analysis.source_count
    return counts


def _pygount() -> Any:
    # Imported when code is counted, which happens in today's environment only: another stack's
    # interpreter runs inspect_package() (which does not count code) and lacks pygount.
    import pygount

    return pygount


def _file_kind(path: Path) -> str:
    if path.suffix in TEMPLATE_SUFFIXES:
        return "template_lines"
    if path.suffix in CONFIG_SUFFIXES or path.name in CONFIG_NAMES:
        return "config_lines"
    return "sloc"
