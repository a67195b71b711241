"""Where the servers this harness starts listen: 127.0.0.1 unless the command line says so.

Every deployment reads its listening address from BIND_HOST (deployments/gunicorn.conf.py,
deployments/fastapi_app/serve.py) and the extra Host names it accepts from ALLOWED_HOSTS. Both
are set here, for every server start, from `--bind` and `--allowed-hosts` alone: a value left
in the shell (after the three-host steps, say) would otherwise put every later run's servers on
all interfaces without a word in the run's record.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from deployments.allowed_hosts import ALLOWED_HOSTS_ENV, BIND_ENV
from deployments.allowed_hosts import DEFAULT_BIND as LOOPBACK

WILDCARD = "0.0.0.0"
# A host name or an IP literal as a Host header carries it; a leading dot is Django's
# "this domain and its subdomains". No wildcard: "*" would switch the check off.
_HOST_NAME = re.compile(r"\.?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")


@dataclass(frozen=True)
class Bind:
    """The address the servers listen on, and the Host names they accept beyond their own."""

    address: str = LOOPBACK
    allowed_hosts: tuple[str, ...] = ()

    @property
    def loopback(self) -> bool:
        return ipaddress.ip_address(self.address).is_loopback

    @property
    def connect_host(self) -> str:
        """Where this machine reaches the server: the wildcard also listens on loopback."""
        return LOOPBACK if self.address == WILDCARD else self.address

    def env(self) -> dict[str, str]:
        """BIND_HOST and ALLOWED_HOSTS for a server's environment (the latter only if given)."""
        env = {BIND_ENV: self.address}
        if self.allowed_hosts:
            env[ALLOWED_HOSTS_ENV] = ",".join(self.allowed_hosts)
        return env

    def record(self) -> dict[str, Any]:
        """What run.json keeps of it."""
        return {
            "address": self.address,
            "loopback": self.loopback,
            "allowed_hosts": list(self.allowed_hosts),
        }

    def warning(self) -> str | None:
        if self.loopback:
            return None
        where = "every interface" if self.address == WILDCARD else self.address
        return (
            f"warning: the servers listen on {where} ({self.address}), not loopback: other "
            "hosts on the network can reach them"
        )


def parse_address(text: str) -> str:
    """An argparse type: an IPv4 literal (gunicorn.conf.py joins BIND_HOST and PORT with ':',
    which an IPv6 address would make ambiguous)."""
    try:
        return str(ipaddress.IPv4Address(text.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"an IPv4 address such as {LOOPBACK} or {WILDCARD}, not {text!r}"
        ) from None


def parse_allowed_hosts(text: str) -> tuple[str, ...]:
    """An argparse type: a comma-separated list of host names or IP addresses."""
    hosts = tuple(h.strip() for h in text.split(",") if h.strip())
    bad = [h for h in hosts if not _HOST_NAME.fullmatch(h)]
    if bad or not hosts:
        raise argparse.ArgumentTypeError(
            f"a comma-separated list of host names or addresses (no wildcard), not {text!r}"
        )
    return hosts


_current = Bind()


def current() -> Bind:
    """The bind of the servers started now (loopback unless a command chose otherwise)."""
    return _current


@contextlib.contextmanager
def binding(bind: Bind) -> Iterator[None]:
    """Start every server inside at `bind`. Process-wide rather than passed to each start: the
    runner starts servers from many places, and none of them may fall back to another value."""
    global _current
    before, _current = _current, bind
    try:
        yield
    finally:
        _current = before


def ignored_inherited(bind: Bind, environ: Mapping[str, str] = os.environ) -> list[str]:
    """One line for each of BIND_HOST and ALLOWED_HOSTS set in `environ` that the servers will
    not get (they get `bind`'s values instead)."""
    chosen = bind.env()
    return [
        f"note: {name}={environ[name]!r} in the environment is ignored; the servers get "
        + (f"{name}={chosen[name]!r}" if name in chosen else f"no {name}")
        + f" ({'--bind' if name == BIND_ENV else '--allowed-hosts'} sets it)"
        for name in (BIND_ENV, ALLOWED_HOSTS_ENV)
        if name in environ and environ[name] != chosen.get(name)
    ]


def add_arguments(parser: argparse.ArgumentParser, for_run: bool = False) -> None:
    """--bind and --allowed-hosts, for a command that starts servers."""
    only = f"; {LOOPBACK} or {WILDCARD}, as the runner's probes connect over loopback"
    parser.add_argument(
        "--bind",
        type=parse_address,
        default=None,
        metavar="ADDR",
        help=f"address the servers listen on (default {LOOPBACK}; a BIND_HOST in the "
        "environment is ignored)" + (only if for_run else ""),
    )
    parser.add_argument(
        "--allowed-hosts",
        type=parse_allowed_hosts,
        default=(),
        metavar="HOST,...",
        help="Host names the servers accept besides 127.0.0.1, localhost, ::1 and the bind "
        "address (their ALLOWED_HOSTS): the names other hosts reach them by",
    )


def from_args(args: argparse.Namespace) -> Bind:
    """The Bind a command's --bind and --allowed-hosts ask for (loopback for a command
    without them)."""
    return Bind(getattr(args, "bind", None) or LOOPBACK, getattr(args, "allowed_hosts", ()))


def run_bind_problem(args: argparse.Namespace) -> str | None:
    """Why `bench run` cannot take these options, or None."""
    if getattr(args, "target", None) and (args.bind or args.allowed_hosts):
        return "--bind and --allowed-hosts are for servers the run starts, not for --target"
    if args.bind not in (None, LOOPBACK, WILDCARD):
        return (
            f"run --bind takes {LOOPBACK} or {WILDCARD}: the runner reaches its servers over "
            "loopback"
        )
    return None


def lines_to_say(bind: Bind, environ: Mapping[str, str] = os.environ) -> list[str]:
    """What a command that starts servers says once before it starts them (and a run also
    keeps in run.json's notes)."""
    return [*ignored_inherited(bind, environ), *filter(None, [bind.warning()])]
