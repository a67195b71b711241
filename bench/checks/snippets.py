"""Code the sources print, kept verbatim, and what Python makes of it.

The article's "Hello World" is its whole demonstration that Flask needs "just several lines of
code". It is stored here exactly as printed (tests/test_reports_claims.py checks it against the
source) and compiled, never run: compiling says whether it is a program at all.
"""

from __future__ import annotations

from typing import Any

SNIPPETS: dict[str, str] = {
    "article_hello_world": (
        "from flask import Flask, render_template\n"
        "app = Flask(__name__)@app.route('/')\n"
        "def home():\n"
        'return: "Hello World!"\n'
        "if _name_=='_main_':\n"
        "app.run(debug=True)"
    ),
}


def compile_snippet(source: str) -> dict[str, Any]:
    """{"compiles": bool, "error": "<kind>: <message> (line N)" or None, "lines": N}."""
    lines = len(source.splitlines())
    try:
        compile(source, "<snippet>", "exec")
    except SyntaxError as exc:  # IndentationError is one
        return {
            "compiles": False,
            "error": f"{type(exc).__name__}: {exc.msg} (line {exc.lineno})",
            "lines": lines,
        }
    return {"compiles": True, "error": None, "lines": lines}


def compiled_snippets() -> dict[str, dict[str, Any]]:
    return {name: compile_snippet(source) for name, source in SNIPPETS.items()}
