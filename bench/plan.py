"""Plans are data: profiles in bench/plan.toml, checked before anything starts."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.manifest import Deployment

PLAN_PATH = Path(__file__).resolve().parent / "plan.toml"


class PlanError(ValueError):
    pass


@dataclass(frozen=True)
class Plan:
    profile: str
    levels: tuple[int, ...]
    window_s: float
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

    def configs_for(self, deployment: Deployment) -> list[str]:
        return [
            name
            for name, config in deployment.configs.items()
            if (self.configs is None or name in self.configs)
            and (not config.diagnostic or self.diagnostic_levels)
        ]

    def probe_configs_for(self, deployment: Deployment) -> list[str]:
        chosen = deployment.configs if self.probe_all_configs else self.configs_for(deployment)
        return [name for name in chosen if not deployment.configs[name].diagnostic]

    def levels_for(self, deployment: Deployment, config: str) -> tuple[int, ...]:
        return self.diagnostic_levels if deployment.configs[config].diagnostic else self.levels

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_plan(profile: str, path: Path = PLAN_PATH) -> Plan:
    try:
        profiles = tomllib.loads(path.read_text())["profiles"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise PlanError(f"{path}: cannot read plan profiles: {exc}") from exc
    if profile not in profiles:
        raise PlanError(f"{path}: no profile {profile!r}; it has {sorted(profiles)}")
    data = profiles[profile]
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
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanError(f"{path}: profile {profile!r}: {exc!r}") from exc
    _check(plan, path)
    return plan


def _check(plan: Plan, path: Path) -> None:
    problems = []
    if not plan.levels or any(n < 1 for n in plan.levels):
        problems.append("levels must be one or more positive user counts")
    if plan.window_s <= 0 or plan.warmup_s < 0:
        problems.append("window_s must be > 0 and warmup_s >= 0")
    if plan.repetitions < 1 or plan.cold_starts < 0:
        problems.append("repetitions must be >= 1 and cold_starts >= 0")
    if problems:
        raise PlanError(f"{path}: profile {plan.profile!r}: " + "; ".join(problems))
