"""Which cores the server gets, which the load generator gets, and how many Locust processes
those carry.

By default the cores this process may use are split into disjoint halves (the server the lower
half, the load generator the upper), so that neither steals the other's CPU; --server-cores and
--loadgen-cores choose them instead. Every function here takes its core list as an argument, so
that the rules are tested for any machine, not only the one the tests run on.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass

AUTO = "auto"
# Locust's distributed mode runs one worker per load-generator core: a single process is one
# Python thread and cannot use more than one core, whatever it is given.
AUTO_RULE = (
    "auto: one Locust process where the load generator has one core (more processes on one "
    "core only add the master's cost); with more cores, a master and one worker per core"
)


class CoreError(ValueError):
    """Cores that cannot be used as asked (not available to this process, or shared)."""


@dataclass(frozen=True)
class CoreSplit:
    server: tuple[int, ...]
    loadgen: tuple[int, ...]
    chosen: str  # how: "halves of the N cores available" or the options given

    @property
    def shared(self) -> bool:
        return bool(set(self.server) & set(self.loadgen))

    def record(self) -> dict[str, object]:
        """run.json's "pinning" (less its method)."""
        return {"server_cores": list(self.server), "loadgen_cores": list(self.loadgen),
                "chosen": self.chosen}  # fmt: skip


def available_cores() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def core_list(text: str) -> list[int]:
    """'0-3' or '0,2' (or both: '0-1,4') as a sorted list of core numbers."""
    cores: set[int] = set()
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            first, dash, last = part.partition("-")
            if int(first) < 0:
                raise ValueError(part)
            cores.update(range(int(first), int(last if dash else first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected cores such as 0-3 or 0,2, not {text!r}"
        ) from None
    if not cores:
        raise argparse.ArgumentTypeError(f"no core in {text!r}")
    return sorted(cores)


def split_cores(cores: Sequence[int] | None = None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Server cores and load-generator cores: disjoint halves (the server gets the smaller
    half of an odd count). On a single-core machine both share the core (the run records it)."""
    split = choose_cores(list(cores or available_cores()))
    return split.server, split.loadgen


def choose_cores(
    available: Sequence[int],
    server: Sequence[int] | None = None,
    loadgen: Sequence[int] | None = None,
) -> CoreSplit:
    """The server's and the load generator's cores among `available`: the halves, or those
    given; one given alone leaves the other every core it does not take."""
    available = sorted(available)
    if not available:
        raise CoreError("this process may use no core at all")
    for name, cores in (("--server-cores", server), ("--loadgen-cores", loadgen)):
        if cores is not None and (missing := sorted(set(cores) - set(available))):
            raise CoreError(
                f"{name} {_text(cores)}: core(s) {_text(missing)} are not available to this "
                f"process (it may use {_text(available)})"
            )
    if server is None and loadgen is None:
        return _halves(available)
    server = sorted(server or set(available) - set(loadgen or ()))
    loadgen = sorted(loadgen or set(available) - set(server))
    if not server or not loadgen:
        taken = "--server-cores" if not loadgen else "--loadgen-cores"
        raise CoreError(f"{taken} takes every core: give the other side its cores too")
    if shared := sorted(set(server) & set(loadgen)):
        raise CoreError(
            f"the server and the load generator would share core(s) {_text(shared)}: each "
            "would then steal the other's CPU; give them disjoint cores"
        )
    return CoreSplit(tuple(server), tuple(loadgen), f"server {_text(server)}, load generator "
                     f"{_text(loadgen)} (as given)")  # fmt: skip


def _halves(available: list[int]) -> CoreSplit:
    if len(available) < 2:
        return CoreSplit(tuple(available), tuple(available), "the only core, shared")
    half = len(available) // 2
    return CoreSplit(
        tuple(available[:half]), tuple(available[half:]),
        f"halves of the {len(available)} cores available",
    )  # fmt: skip


def locust_worker_count(requested: int | str, loadgen_cores: Sequence[int]) -> int:
    """Local Locust workers for `requested` (a count, or AUTO): 0 means one process, N a
    master and N workers."""
    if requested == AUTO:
        return len(loadgen_cores) if len(loadgen_cores) >= 2 else 0
    count = int(requested)
    if count < 0:
        raise CoreError(f"--locust-workers must be 0 or more, or {AUTO}, not {requested}")
    return count


def workers_option(text: str) -> int | str:
    """--locust-workers: a count, or AUTO."""
    if text == AUTO:
        return AUTO
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a count or {AUTO}, not {text!r}") from None
    if count < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, or {AUTO}, not {text}")
    return count


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--server-cores and --loadgen-cores, for every command that pins a server and a load."""
    for side, what in (("server", "the servers"), ("loadgen", "the load generator")):
        parser.add_argument(
            f"--{side}-cores", type=core_list, metavar="LIST", default=None,
            help=f"cores for {what}, e.g. 0-7 or 0,2 (default: the "
            f"{'lower' if side == 'server' else 'upper'} half of the cores available; one "
            "given alone leaves the other side the rest)",
        )  # fmt: skip


def from_args(args: argparse.Namespace) -> CoreSplit:
    """The split the options ask for, checked against the cores this process may use."""
    return choose_cores(
        available_cores(), getattr(args, "server_cores", None), getattr(args, "loadgen_cores", None)
    )


def _text(cores: Sequence[int]) -> str:
    return ",".join(map(str, sorted(cores)))
