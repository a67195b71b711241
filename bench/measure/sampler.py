"""Sample the CPU time and memory of process trees through a load window."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class Sample:
    at: float  # time.time()
    cpu_s: float  # user + system seconds, summed over the tree
    rss_bytes: int
    threads: int
    processes: int


def sample_tree(processes: list[psutil.Process]) -> Sample:
    cpu = rss = threads = alive = 0
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            with proc.oneshot():
                if proc.status() == psutil.STATUS_ZOMBIE:  # dead, not yet reaped: not running
                    continue
                times = proc.cpu_times()
                cpu += times.user + times.system
                rss += proc.memory_info().rss
                threads += proc.num_threads()
            alive += 1
    return Sample(time.time(), cpu, rss, threads, alive)


class TreeSampler:
    """Samples a process tree every `interval_s` on a thread, until stopped."""

    def __init__(self, tree: Callable[[], list[psutil.Process]], interval_s: float = 0.5) -> None:
        self.tree = tree
        self.interval_s = interval_s
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append(sample_tree(self.tree()))
            self._stop.wait(self.interval_s)
        self.samples.append(sample_tree(self.tree()))

    def between(self, start: float, end: float) -> list[Sample]:
        return [s for s in self.samples if start <= s.at <= end]


def cpu_percent(samples: list[Sample]) -> float:
    """Mean CPU over the samples' span; 100 = one core busy the whole time."""
    if len(samples) < 2 or samples[-1].at <= samples[0].at:
        return float("nan")
    return 100 * (samples[-1].cpu_s - samples[0].cpu_s) / (samples[-1].at - samples[0].at)
