"""Which server the installed Streamlit starts, read from its server modules' imports: uvicorn
and Starlette (ASGI) in today's releases, Tornado's own HTTP server in the 2022 stack's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.checks.inspections.distribution import installed
from bench.checks.inspections.source import (
    imported_modules,
    module_file,
    relative_path,
    tornado_importers,
)

STARLETTE_SERVER = "streamlit.web.server.starlette.starlette_server"


def streamlit_stack() -> dict[str, Any]:
    """The "server_stack" entry of a Streamlit deployment (inspections.json)."""
    server_py = _server_module()
    server_imports = sorted(
        m for m in (imported_modules(server_py) if server_py else ()) if ".server" in m
    )
    uses_starlette = any(m.startswith("streamlit.web.server.starlette") for m in server_imports)
    runs_uvicorn = _starlette_server_runs_uvicorn()
    tornado_imports = tornado_importers("streamlit")
    shown = _versions("streamlit", "starlette", "uvicorn", "tornado")
    asgi = uses_starlette and runs_uvicorn
    on_tornado = not asgi and _builds_tornado_application(server_py)
    uvicorn_note = "imports uvicorn and builds uvicorn.Server" if runs_uvicorn else "no uvicorn"
    if on_tornado:
        uvicorn_note += f"; {relative_path(server_py)} builds tornado.web.Application"
    server = f"uvicorn {shown['uvicorn']} + starlette {shown['starlette']}" if asgi else "unknown"
    return {
        "interface": "ASGI" if asgi else "Tornado" if on_tornado else None,
        "server": f"tornado {shown['tornado']}" if on_tornado else server,
        "tornado_used": bool(tornado_imports),
        "versions": shown,
        "evidence": (
            f"{relative_path(server_py) if server_py else 'streamlit.web.server.server'} imports "
            f"{', '.join(server_imports) or 'no server module'}; "
            f"streamlit/web/server/starlette/starlette_server.py: {uvicorn_note}; "
            f"tornado {shown['tornado']}, imported by "
            f"{', '.join(tornado_imports) or 'no streamlit module'}"
        ),
    }


def _server_module() -> Path | None:
    # The module moved under streamlit.web in 1.12; the 2022 stack's 1.6 has it at
    # streamlit.server.
    return module_file("streamlit.web.server.server") or module_file("streamlit.server.server")


def _starlette_server_runs_uvicorn() -> bool:
    path = module_file(STARLETTE_SERVER)
    return bool(
        path
        and "uvicorn" in imported_modules(path)
        and "uvicorn.Server(" in path.read_text(errors="replace")
    )


def _builds_tornado_application(server_py: Path | None) -> bool:
    # Before Starlette, Streamlit's server module built a tornado.web.Application and served it
    # with Tornado's own HTTP server.
    return bool(
        server_py
        and "tornado.web" in imported_modules(server_py)
        and "tornado.web.Application(" in server_py.read_text(errors="replace")
    )


def _versions(*names: str) -> dict[str, str]:
    """Installed version of each distribution, or "not installed"."""
    found = {name: installed(name) for name in names}
    return {name: dist.version if dist else "not installed" for name, dist in found.items()}
