"""Plans are data: profiles in bench/plan.toml, checked before anything starts."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.load.spec import WindowRule
from bench.run.plan_checks import PlanError, check, type_problems
from bench.store.rules import samples_needed
from bench.targets.manifest import Deployment
from bench.targets.stacks import TODAY

PLAN_PATH = Path(__file__).resolve().parent.parent / "plan.toml"


@dataclass(frozen=True)
class SloSearch:
    """Open-loop search for the highest arrival rate whose p99 latency stays under a bound."""

    bounds_ms: dict[str, float]  # closed-loop scenario -> p99 bound; searched for these only
    start_rates: dict[str, float]  # scenario -> first rate tried (interactions/s)
    window_s: float
    warmup_s: float
    max_steps: int
    configs: tuple[str, ...] = ("default",)
    # Interactions a trial needs for its p99 to count (default: what the report requires of any
    # p99, bench/store/rules.py); the window grows at low rates to hold them.
    min_interactions: dict[str, int] = field(default_factory=dict)
    # The deployment roles (manifest `role`) searched. The null target's ("calibration") is the
    # load generator's open-loop ceiling: the rate past which it falls behind its schedule.
    roles: tuple[str, ...] = ("subject", "reference")

    def trial_minimum(self, scenario: str) -> int:
        return self.min_interactions.get(scenario, samples_needed("latency_p99"))


@dataclass(frozen=True)
class ModelVariants:
    """Extra passes with other variants of the shared model, interleaved with the main one."""

    models: tuple[str, ...]
    scenarios: tuple[str, ...]
    levels: tuple[int, ...]
    configs: tuple[str, ...] = ("default",)
    # The interactions each of their windows holds (None: the scenario's own rule); the report
    # reads a variant's p50 alone, which 100 state with its p90.
    min_interactions: int | None = None


@dataclass(frozen=True)
class Scaling:
    """Extra passes over server worker counts (deployments whose manifest has workers_env)."""

    workers: tuple[int, ...] | None  # None: 1, 2, 4, ... up to the server's cores
    scenario: str
    levels: tuple[int, ...]

    def counts(self, server_cores: int) -> tuple[int, ...]:
        if self.workers is not None:
            return self.workers
        counts = {server_cores, *(2**k for k in range(server_cores.bit_length()))}
        return tuple(sorted(c for c in counts if c <= server_cores))


@dataclass(frozen=True)
class StackPlan:
    """What a deployment served from another stack (bench/targets/stacks.py) is measured at:
    its main passes for these configs and scenarios at these levels, never model-variant or
    scaling passes; cold starts and the SLO search only where flagged."""

    levels: tuple[int, ...]
    configs: tuple[str, ...] = ("default",)
    cold_starts: bool = True
    slo: bool = False
    # The scenarios its passes load (None: every scenario its manifest lists).
    scenarios: tuple[str, ...] | None = None


@dataclass(frozen=True)
class WorkPasses:
    """Where the work configurations (manifest `work = true`: project defaults, equal work, the
    plain-Django API, keep-alive) are measured: only what their comparisons need."""

    levels: tuple[int, ...]
    scenarios: tuple[str, ...]


@dataclass(frozen=True)
class BrowserTiming:
    """Real browsers beside the protocol client on the websocket deployments (bench/checks/
    browser_timing.py), at verification: each number of sessions, each doing `interactions`."""

    sessions: tuple[int, ...]
    interactions: int


@dataclass(frozen=True)
class WrkCrosscheck:
    """wrk against the REST scenario on the same warm servers, right after Locust's load, in
    the first `repetitions` repetitions (bench/run/crosscheck.py compares the two)."""

    window_s: float
    warmup_s: float
    repetitions: int
    configs: tuple[str, ...] = ("default",)


@dataclass(frozen=True)
class Plan:
    profile: str
    levels: tuple[int, ...]
    window_s: float  # the longest a recorded window lasts (bench.load.spec.WindowRule.max_s)
    warmup_s: float
    repetitions: int
    cold_starts: int
    configs: tuple[str, ...] | None  # None: every config a manifest declares
    # Diagnostic configs (see manifests) run only at these levels; () leaves them out.
    diagnostic_levels: tuple[int, ...] = ()
    # Probe every non-diagnostic config a manifest declares, or only those this plan measures.
    probe_all_configs: bool = True
    # Start each deployment once more on a tampered model artifact (it must refuse it).
    tampered_model_probe: bool = True
    slo: SloSearch | None = None
    model_variants: ModelVariants | None = None
    scaling: Scaling | None = None
    crosscheck: WrkCrosscheck | None = None
    work: WorkPasses | None = None  # None: no work configuration is measured
    browser: BrowserTiming | None = None  # None: no browser is timed
    # Stack name -> how its deployments are measured; today's stack is measured by the rest.
    stacks: dict[str, StackPlan] = field(default_factory=dict)
    # The rest of the window rule (bench.load.spec.WindowRule): the shortest window, the
    # interactions it must hold (default: enough for a p99), how steady it must be.
    window_min_s: float = 2.0
    window_min_interactions: int = field(default_factory=lambda: samples_needed("latency_p99"))
    # Scenario -> the interactions its windows must hold instead (a scenario whose windows would
    # otherwise run to window_s without reaching the default, e.g. a few Streamlit reruns a second).
    scenario_min_interactions: dict[str, int] = field(default_factory=dict)
    # Scenario -> its longest window instead of window_s (one that reaches its interactions
    # only slowly, and would otherwise miss them on a slower machine).
    scenario_window_s: dict[str, float] = field(default_factory=dict)
    steady_tolerance: float = 0.10
    # The repetitions that also measure the passes aside (diagnostic configs, model variants,
    # worker counts): the first this many; None: all of them.
    aside_repetitions: int | None = None

    def measures_aside(self, rep: int) -> bool:
        return self.aside_repetitions is None or rep <= self.aside_repetitions

    def window_rule(self, scenario: str | None = None, variant: bool = False) -> WindowRule:
        """`variant`: the window of a model-variant pass (its own minimum, if smaller)."""
        needed = self.scenario_min_interactions.get(scenario or "", self.window_min_interactions)
        variants = self.model_variants
        if variant and variants is not None and variants.min_interactions is not None:
            needed = min(needed, variants.min_interactions)
        longest = self.scenario_window_s.get(scenario or "", self.window_s)
        return WindowRule(
            min_s=min(self.window_min_s, longest),
            max_s=longest,
            min_interactions=needed,
            steady_tolerance=self.steady_tolerance,
        )

    def measures(self, deployment: Deployment) -> bool:
        """Whether a run of this plan measures the deployment unless told which to measure."""
        return deployment.stack.name == TODAY or deployment.stack.name in self.stacks

    def stack_plan(self, deployment: Deployment) -> StackPlan | None:
        """None for today's stack; for another, its table, or (a deployment named on the command
        line from a stack the plan does not name) its default config at the plan's levels."""
        if deployment.stack.name == TODAY:
            return None
        return self.stacks.get(deployment.stack.name, StackPlan(self.levels))

    def searches_slo(self, deployment: Deployment) -> bool:
        other = self.stack_plan(deployment)
        if self.slo is None or deployment.role not in self.slo.roles:
            return False
        return other is None or other.slo

    def cold_starts_of(self, deployment: Deployment) -> int:
        other = self.stack_plan(deployment)
        return self.cold_starts if other is None or other.cold_starts else 0

    def configs_for(self, deployment: Deployment) -> list[str]:
        if (other := self.stack_plan(deployment)) is not None:
            return [c for c in other.configs if c in deployment.configs]
        return [
            name
            for name, config in deployment.configs.items()
            if (self.configs is None or name in self.configs)
            and (not config.diagnostic or self.diagnostic_levels)
            and (not config.work or self.work is not None)
        ]

    def probe_configs_for(self, deployment: Deployment) -> list[str]:
        # Another stack's variants are probed in every configuration too: the concurrency claims
        # compare a framework's configurations, on each stack.
        measured = self.configs_for(deployment)
        chosen = deployment.configs if self.probe_all_configs else measured
        # A work configuration is checked only where it is measured: it serves no one else.
        return [
            name
            for name in chosen
            if not deployment.configs[name].diagnostic
            and (not deployment.configs[name].work or name in measured)
        ]

    def scenarios_for(self, deployment: Deployment, config: str = "default") -> tuple[str, ...]:
        other = self.stack_plan(deployment)
        if deployment.configs[config].work and self.work is not None:
            return tuple(s for s in deployment.scenarios if s in self.work.scenarios)
        if other is None or other.scenarios is None:
            return deployment.scenarios
        return tuple(s for s in deployment.scenarios if s in other.scenarios)

    def levels_for(self, deployment: Deployment, config: str) -> tuple[int, ...]:
        if (other := self.stack_plan(deployment)) is not None:
            return other.levels
        if deployment.configs[config].work and self.work is not None:
            return self.work.levels
        return self.diagnostic_levels if deployment.configs[config].diagnostic else self.levels

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_plan(profile: str, path: Path = PLAN_PATH) -> Plan:
    try:
        profiles = tomllib.loads(path.read_text())["profiles"]
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PlanError(f"{path}: cannot read plan profiles: {exc}") from exc
    except KeyError:
        raise PlanError(f"{path}: no [profiles.NAME] table") from None
    if not isinstance(profiles, dict):
        raise PlanError(f"{path}: profiles must be tables, as [profiles.NAME]")
    if profile not in profiles:
        raise PlanError(f"{path}: no profile {profile!r}; it has {sorted(profiles)}")
    data = profiles[profile]
    problems = type_problems(data)
    if problems:
        raise PlanError(f"{path}: profile {profile!r}: " + "; ".join(problems))
    try:
        plan = Plan(
            profile=profile,
            levels=tuple(int(n) for n in data["levels"]),
            window_s=float(data["window_s"]),
            warmup_s=float(data.get("warmup_s", 0)),
            repetitions=int(data.get("repetitions", 1)),
            cold_starts=int(data.get("cold_starts", 1)),
            configs=None if data.get("configs", "all") == "all" else tuple(data["configs"]),
            diagnostic_levels=tuple(int(n) for n in data.get("diagnostic_levels", ())),
            probe_all_configs=data.get("probe_configs", "all") == "all",
            tampered_model_probe=bool(data.get("tampered_model_probe", True)),
            slo=_slo(data["slo"]) if "slo" in data else None,
            model_variants=_variants(data["model_variants"]) if "model_variants" in data else None,
            scaling=_scaling(data["scaling"]) if "scaling" in data else None,
            crosscheck=_crosscheck(data["crosscheck"]) if "crosscheck" in data else None,
            work=_work(data["work"]) if "work" in data else None,
            browser=_browser(data["browser"]) if "browser" in data else None,
            stacks={str(k): _stack(v) for k, v in data.get("stacks", {}).items()},
            scenario_min_interactions={
                str(k): int(v) for k, v in data.get("scenario_min_interactions", {}).items()
            },
            scenario_window_s={
                str(k): float(v) for k, v in data.get("scenario_window_s", {}).items()
            },
            **_window(data),
        )
    except KeyError as exc:
        raise PlanError(f"{path}: profile {profile!r}: missing required key {exc}") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise PlanError(f"{path}: profile {profile!r}: a value of the wrong type: {exc}") from exc
    check(plan, path)
    return plan


def _window(data: dict[str, Any]) -> dict[str, Any]:
    """The window rule's optional keys, as given."""
    keys = {
        "window_min_s": float,
        "window_min_interactions": int,
        "steady_tolerance": float,
        "aside_repetitions": int,
    }
    return {key: kind(data[key]) for key, kind in keys.items() if key in data}


def _slo(data: dict[str, Any]) -> SloSearch:
    return SloSearch(
        bounds_ms={str(k): float(v) for k, v in data["bounds_ms"].items()},
        start_rates={str(k): float(v) for k, v in data["start_rates"].items()},
        window_s=float(data["window_s"]),
        warmup_s=float(data.get("warmup_s", 0)),
        max_steps=int(data.get("max_steps", 8)),
        configs=tuple(str(c) for c in data.get("configs", ("default",))),
        roles=tuple(str(r) for r in data.get("roles", ("subject", "reference"))),
        min_interactions={str(k): int(v) for k, v in data.get("min_interactions", {}).items()},
    )


def _variants(data: dict[str, Any]) -> ModelVariants:
    return ModelVariants(
        models=tuple(str(m) for m in data["models"]),
        scenarios=tuple(str(s) for s in data["scenarios"]),
        levels=tuple(int(n) for n in data["levels"]),
        configs=tuple(str(c) for c in data.get("configs", ("default",))),
        min_interactions=int(data["min_interactions"]) if "min_interactions" in data else None,
    )


def _scaling(data: dict[str, Any]) -> Scaling:
    workers = data.get("workers", "cores")
    return Scaling(
        workers=None if workers == "cores" else tuple(int(n) for n in workers),
        scenario=str(data["scenario"]),
        levels=tuple(int(n) for n in data["levels"]),
    )


def _crosscheck(data: dict[str, Any]) -> WrkCrosscheck:
    return WrkCrosscheck(
        window_s=float(data["window_s"]),
        warmup_s=float(data.get("warmup_s", 1)),
        repetitions=int(data.get("repetitions", 1)),
        configs=tuple(str(c) for c in data.get("configs", ("default",))),
    )


def _work(data: dict[str, Any]) -> WorkPasses:
    return WorkPasses(
        levels=tuple(int(n) for n in data["levels"]),
        scenarios=tuple(str(s) for s in data["scenarios"]),
    )


def _browser(data: dict[str, Any]) -> BrowserTiming:
    return BrowserTiming(
        sessions=tuple(int(n) for n in data["sessions"]), interactions=int(data["interactions"])
    )


def _stack(data: dict[str, Any]) -> StackPlan:
    unknown = set(data) - {"levels", "configs", "cold_starts", "slo", "scenarios"}
    if unknown:
        raise ValueError(f"unknown stack key(s) {sorted(unknown)}")
    flags = {k: data[k] for k in ("cold_starts", "slo") if k in data}
    if not all(isinstance(v, bool) for v in flags.values()):
        raise ValueError(f"cold_starts and slo must be true or false, not {flags}")
    return StackPlan(
        levels=tuple(int(n) for n in data["levels"]),
        configs=tuple(str(c) for c in data.get("configs", ("default",))),
        scenarios=tuple(str(s) for s in data["scenarios"]) if "scenarios" in data else None,
        **flags,
    )
