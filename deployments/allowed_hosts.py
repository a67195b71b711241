"""The Host names every deployment answers: its defence against DNS rebinding.

A page on another site can point a name it controls at 127.0.0.1 and have a browser send the
server requests as if they came from that site; only the Host header still carries the foreign
name, so every deployment refuses a Host outside this list. The list: loopback, the address in
BIND_HOST when it is a concrete one (a wildcard bind names no host), and the comma-separated
names in ALLOWED_HOSTS (the names other machines reach the server by). The runner sets both
(bench/targets/bind.py); ports in the Host header are ignored. A name with a leading dot also admits
its subdomains, as Django and Werkzeug read it. Standard library only, so that every deployment
(the null target included) can import it without importing another.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

BIND_ENV = "BIND_HOST"
ALLOWED_HOSTS_ENV = "ALLOWED_HOSTS"
DEFAULT_BIND = "127.0.0.1"
# Both spellings of the IPv6 loopback: Django and Starlette keep the brackets, Streamlit not.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
WILDCARD_BINDS = ("", "0.0.0.0", "::", "[::]")
# host[:port], the host a name, an IPv4 address or a bracketed IPv6 address.
_HOST_HEADER = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::[0-9]{1,5})?", re.IGNORECASE)


def bind_address(environ: Mapping[str, str] = os.environ) -> str:
    """The address to listen on: BIND_HOST, loopback when it is unset or empty (an empty host
    would make gunicorn listen on every interface)."""
    return environ.get(BIND_ENV, "").strip() or DEFAULT_BIND


def allowed_hosts(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The Host names (lower case, no port) a server started with `environ` answers."""
    bind = environ.get(BIND_ENV, "").strip()
    named = environ.get(ALLOWED_HOSTS_ENV, "").split(",")
    hosts = [*LOOPBACK_HOSTS, *([] if bind in WILDCARD_BINDS else [bind]), *named]
    # A "*" would switch Django's, Starlette's and Streamlit's checks off: it is not a name.
    return list(dict.fromkeys(h.strip().lower() for h in hosts if h.strip() and "*" not in h))


def host_allowed(host: str | None, allowed: Iterable[str]) -> bool:
    """Whether a Host header's value names one of `allowed` (allowed_hosts()' form)."""
    match = _HOST_HEADER.fullmatch(host or "")
    if match is None:
        return False
    name = match[1].lower()
    return any(
        name == ref or (ref.startswith(".") and (name == ref[1:] or name.endswith(ref)))
        for ref in allowed
    )


def star_patterns(hosts: Iterable[str]) -> list[str]:
    """`hosts` as Starlette and Streamlit write them: their "*.example.com" admits only the
    subdomains, so a leading-dot name becomes the name and its "*." pattern."""
    patterns: list[str] = []
    for host in hosts:
        patterns += [host[1:], "*" + host] if host.startswith(".") else [host]
    return patterns
