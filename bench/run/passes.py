"""What one repetition measures: every deployment in every way the plan asks for.

A pass is one way of serving one deployment: a manifest configuration (the framework's
defaults, a tuned setting, a diagnostic), the same with another model variant, or the same with
another worker count. Each repetition measures every pass, so all of them are interleaved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.run.plan import Plan
from bench.targets.manifest import Deployment
from shared_model.model import MODEL_NAME_ENV

CALIBRATION = "calibration"


@dataclass(frozen=True)
class Pass:
    deployment: Deployment
    config: str  # the manifest configuration the server starts with
    label: str  # the config name stored in the results (e.g. workers_2)
    model: str
    scenarios: tuple[str, ...]
    levels: tuple[int, ...]
    server_env: dict[str, str] = field(default_factory=dict)

    @property
    def levels_count(self) -> int:
        return len(self.scenarios) * len(self.levels)


def passes(plan: Plan, d: Deployment, main_model: str, server_cores: int) -> list[Pass]:
    """Every pass of deployment `d`, main configurations first."""
    found = [
        Pass(d, config, config, main_model, d.scenarios, plan.levels_for(d, config))
        for config in plan.configs_for(d)
    ]
    return found + variant_passes(plan, d) + scaling_passes(plan, d, main_model, server_cores)


def variant_passes(plan: Plan, d: Deployment) -> list[Pass]:
    variants = plan.model_variants
    # The null target serves no model; another stack's deployments get their main passes only.
    if variants is None or d.role == CALIBRATION or plan.stack_plan(d) is not None:
        return []
    scenarios = tuple(s for s in variants.scenarios if s in d.scenarios)
    if not scenarios:
        return []
    return [
        Pass(d, c, c, model, scenarios, variants.levels, {MODEL_NAME_ENV: model})
        for model in variants.models
        for c in variants.configs
        if c in d.configs and not d.configs[c].diagnostic
    ]


def scaling_passes(plan: Plan, d: Deployment, main_model: str, server_cores: int) -> list[Pass]:
    scaling = plan.scaling
    if scaling is None or d.workers_env is None or scaling.scenario not in d.scenarios:
        return []
    if d.role == CALIBRATION or plan.stack_plan(d) is not None:
        return []
    return [
        Pass(
            d,
            "default",
            worker_label(n),
            main_model,
            (scaling.scenario,),
            scaling.levels,
            {d.workers_env: str(n)},
        )
        for n in scaling.counts(server_cores)
    ]


def worker_label(workers: int) -> str:
    return f"workers_{workers}"
