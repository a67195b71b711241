"""`python serve.py [-m LAUNCHER] run app.py [options]`: Streamlit bound to $BIND_HOST,
answering only the allowed hosts (deployments/allowed_hosts.py).

Streamlit checks the Host header only against server.allowedHosts, on its websocket handshake
(the one way into the app), and accepts any Host while that list is empty, its default.
config.toml cannot build the list from the environment, and app.py runs inside a session, after
the handshake: so this sets server.address and server.allowedHosts through the environment
variables Streamlit's command line reads (an explicit flag still wins), then runs that command
line, or LAUNCHER, a module that runs it (the diagnostic configurations' patched one).

A Streamlit without server.allowedHosts (1.6, the 2022 stack) gets the same check and settings
from compat_2022.py first.
"""

import os
import runpy
import sys
from collections.abc import Mapping

from deployments.allowed_hosts import allowed_hosts, bind_address, star_patterns
from deployments.streamlit_app import compat_2022


def streamlit_env(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The Streamlit settings a server started with `environ` gets, as environment variables."""
    return {
        "STREAMLIT_SERVER_ADDRESS": bind_address(environ),
        # Streamlit's command line (click) splits a list setting's variable at whitespace.
        "STREAMLIT_SERVER_ALLOWED_HOSTS": " ".join(star_patterns(allowed_hosts(environ))),
    }


def main(argv: list[str]) -> None:
    launcher, args = (argv[1], argv[2:]) if argv[:1] == ["-m"] else ("streamlit", argv)
    os.environ.update(streamlit_env(os.environ))
    if compat_2022.needed():
        compat_2022.apply(os.environ)
    sys.argv = [launcher, *args]
    runpy.run_module(launcher, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
