"""What a measured window is asked to do, and what it gives back: the engine's whole interface.

A LoadSpec describes one load run: one scenario against one target, stepped through its levels
(closed-loop users, or one open-loop arrival rate) by one load-generator process, each step held
for a warm-up and then for a window that ends by the WindowRule. bench/load/window.py runs it and
returns one WindowResult per step. The run, the soak, the SLO search and the wrk cross-check all
describe their load this way; nothing else starts a load generator.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.measure.metrics import Request, Window
from bench.measure.sampler import Sample

# The generators the engine drives. Locust speaks every protocol and logs every request; wrk
# speaks HTTP only and reports a summary (it is the independent cross-check of Locust).
LOCUST = "locust"
WRK = "wrk"


@dataclass(frozen=True)
class WindowRule:
    """When a step's recorded window ends.

    It ends at the first check (once a second) at which it has lasted `min_s`, holds
    `min_interactions` completed interactions (enough for the percentiles it reports:
    bench/store/rules.py), and is steady: its two halves completed numbers of
    interactions that differ by at most `steady_tolerance` of their mean, or by three standard
    deviations of a Poisson count when that is larger (a few hundred interactions cannot be
    closer by chance). It ends anyway at `max_s`, marked "capped"; a capped window states only
    the percentiles its interactions allow, and an unsteady one is flagged.
    """

    min_s: float
    max_s: float
    min_interactions: int = 0
    steady_tolerance: float = 0.10

    def __post_init__(self) -> None:
        if not (0 < self.min_s <= self.max_s and math.isfinite(self.max_s)):
            raise ValueError(f"a window needs 0 < min_s <= max_s, not {self.min_s}, {self.max_s}")
        if self.min_interactions < 0 or not 0 < self.steady_tolerance < 1:
            raise ValueError("min_interactions must be >= 0 and steady_tolerance in (0, 1)")

    @classmethod
    def fixed(cls, seconds: float) -> WindowRule:
        """A window of exactly `seconds` (the soak's minutes, wrk's runs)."""
        return cls(min_s=seconds, max_s=seconds)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class Workers:
    """Locust's distributed mode: `local` worker processes on the load generator's cores and
    `remote` ones on other hosts (python -m bench worker), which reach the master at
    `master_bind`:`master_port` and prove `secret`. All zero: one Locust process."""

    local: int = 0
    remote: int = 0
    master_bind: str = "127.0.0.1"
    master_port: int | None = None
    secret: str | None = None

    @property
    def distributed(self) -> bool:
        return bool(self.local or self.remote)


@dataclass(frozen=True)
class LoadSpec:
    """One load run: `scenario` (a locustfile of bench/load/scenarios/, or "wrk") at each of
    `steps` (users for a closed loop; with `rate`, one open-loop user sending `rate` per second)."""

    scenario: str
    base_url: str
    steps: tuple[int, ...]
    warmup_s: float
    rule: WindowRule
    cores: tuple[int, ...]
    payload_file: Path
    out_prefix: Path
    rate: float | None = None
    # A step's users may take this long to set up before its warm-up starts (a Streamlit
    # session's first run loads the model): the bound on a step that never gets going.
    setup_s: float = 60.0
    workers: Workers = field(default_factory=Workers)
    env: Mapping[str, str] = field(default_factory=dict)
    generator: str = LOCUST
    # False: only the first step warms up (the soak's consecutive windows at one level).
    warm_each_step: bool = True

    def __post_init__(self) -> None:
        if not self.steps or any(users < 1 for users in self.steps):
            raise ValueError(f"a load run needs one or more steps of >= 1 user, not {self.steps}")
        if self.warmup_s < 0:
            raise ValueError(f"the warm-up cannot be negative ({self.warmup_s})")
        if self.rate is not None and (self.steps != (1,) or not self.rate > 0):
            raise ValueError("an open-loop run is one step of one user at a positive rate")

    @property
    def longest_s(self) -> float:
        """The most the run can last when every step gets going: its bound."""
        per_step = self.setup_s + self.warmup_s + self.rule.max_s + 2.0
        return len(self.steps) * per_step + 10.0


@dataclass
class WindowResult:
    """One step's recorded window: its requests (each ended inside it, or was sent inside it and
    still in flight at its end: an open loop's unanswered ones count), the resource samples
    taken inside it, and how it ended."""

    step: int
    users: int
    window: Window
    ended: str  # "rule" (the WindowRule was met) or "capped" (max_s was reached)
    steady: bool
    requests: list[Request] = field(default_factory=list)
    server: list[Sample] = field(default_factory=list)
    loadgen: list[Sample] = field(default_factory=list)
    # A wrk run's own summary (no per-request records), or Locust's own counts of the window
    # (interactions, failures) as soon as it ended: metric -> value.
    summary: dict[str, float] = field(default_factory=dict)


@dataclass
class LoadResult:
    """Every step's window, in order, or why the run gave none past `windows`."""

    spec: LoadSpec
    windows: list[WindowResult] = field(default_factory=list)
    failure: str | None = None
    notes: list[str] = field(default_factory=list)
    # A distributed run's refused peer messages (bench/load/peer_auth.py): the run is INVALID.
    refused: list[dict[str, str]] = field(default_factory=list)
    # A signal stopped it: `windows` holds the steps that finished before.
    interrupted: bool = False
    wall_s: float = 0.0

    @property
    def failed(self) -> bool:
        return self.failure is not None


def steps_setting(spec: LoadSpec, boundaries: Path) -> dict[str, Any]:
    """What the Locust side reads (bench/load/scenarios/steps.py): the steps and the rule."""
    return {
        "steps": list(spec.steps),
        "warmup_s": spec.warmup_s,
        "warm_each_step": spec.warm_each_step,
        "setup_s": spec.setup_s,
        "rule": spec.rule.as_dict(),
        "boundaries": str(boundaries),
    }
