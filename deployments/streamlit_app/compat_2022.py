"""What serve.py adds to a Streamlit that lacks what 1.67 has: Streamlit 1.6, the 2022 stack.

Applied only when the running Streamlit has no server.allowedHosts option (decided by that
feature, not by a version number), so 1.67 runs untouched. Each piece gives 1.6 what 1.67 gets
from serve.py and config.toml, and nothing more:

- The Host check. 1.6 has no server.allowedHosts (it ignores STREAMLIT_SERVER_ALLOWED_HOSTS) and
  lets any Host through its websocket handshake, the one way into the app; a same-origin check
  does not help, as a DNS-rebinding page's Origin carries the same foreign name. So the
  handshake is refused with 403, as 1.67 refuses it, for a Host outside the same list 1.67 gets
  (deployments/allowed_hosts.py). Pages and health answer any Host, as on 1.67.
- No error details in the browser. config.toml's showErrorDetails = "none" is 1.67's word; 1.6
  reads the option as a bool, where the string "none" would be true. Its command line reads
  STREAMLIT_CLIENT_SHOW_ERROR_DETAILS, which beats config.toml (an explicit flag still wins).
- No PyPI look-up. 1.6 asks PyPI for a newer version on a share of its starts
  (streamlit.version.CHECK_PYPI_PROBABILITY); nothing may reach the network at run time, so
  the share is 0. (1.67 has no such check.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, MutableMapping
from typing import Any

from deployments.allowed_hosts import allowed_hosts, host_allowed

MISSING_OPTION = "server.allowedHosts"
ENV = {"STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "false"}


def needed() -> bool:
    """Whether the Streamlit installed here lacks server.allowedHosts (1.6 does, 1.67 not)."""
    from streamlit import config

    # The options Streamlit defines, before any config file is read (both versions have it).
    return MISSING_OPTION not in config._config_options_template


def apply(environ: MutableMapping[str, str] = os.environ) -> None:
    """Give this process's Streamlit 1.6 the Host check, settings and quiet of 1.67's deployment;
    before its command line runs."""
    environ.update(ENV)
    from streamlit import version

    version.CHECK_PYPI_PROBABILITY = 0.0  # should_show_new_version_notice() never asks PyPI
    refuse_foreign_hosts(allowed_hosts(environ))


def refuse_foreign_hosts(allowed: Iterable[str]) -> None:
    """Refuse 1.6's websocket handshake with 403 unless its Host is one of `allowed`."""
    import tornado.web
    from streamlit.server.server import _BrowserWebSocketHandler

    allowed = list(allowed)

    def prepare(handler: Any) -> None:
        # Tornado calls prepare() before the handler's get(), which does the upgrade: raising
        # here answers the handshake with the error. A missing Host is no name in the list.
        host = handler.request.headers.get("Host")
        if not host_allowed(host, allowed):
            raise tornado.web.HTTPError(403, "Host %r is not an allowed host", host)

    _BrowserWebSocketHandler.prepare = prepare
