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
# The worker count of a server whose workers_env is unset (deployments/gunicorn.conf.py and
# uvicorn read WEB_CONCURRENCY, default 1): the default configuration's own count.
DEFAULT_WORKERS = 1


@dataclass(frozen=True)
class Pass:
    deployment: Deployment
    config: str  # the manifest configuration the server starts with
    label: str  # the config name stored in the results (e.g. workers_2)
    model: str
    scenarios: tuple[str, ...]
    levels: tuple[int, ...]
    server_env: dict[str, str] = field(default_factory=dict)
    # Measured beside the main passes, to explain them (a diagnostic or work config, another
    # model variant, a worker count): the plan may give these fewer repetitions.
    aside: bool = False

    @property
    def levels_count(self) -> int:
        return len(self.scenarios) * len(self.levels)


def passes(plan: Plan, d: Deployment, main_model: str, server_cores: int) -> list[Pass]:
    """Every pass of deployment `d`, main configurations first."""
    found = [
        Pass(
            d, config, config, main_model, plan.scenarios_for(d, config),
            plan.levels_for(d, config),
            aside=d.configs[config].diagnostic or d.configs[config].work,
        )
        for config in plan.configs_for(d)
    ]  # fmt: skip
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
        Pass(d, c, c, model, scenarios, variants.levels, {MODEL_NAME_ENV: model}, aside=True)
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
    # The default pass measures DEFAULT_WORKERS at its own levels: no second pass for those.
    covered = "default" in plan.configs_for(d) and set(scaling.levels) <= set(plan.levels)
    return [
        Pass(
            d,
            "default",
            worker_label(n),
            main_model,
            (scaling.scenario,),
            scaling.levels,
            {d.workers_env: str(n)},
            aside=True,
        )
        for n in scaling.counts(server_cores)
        if not (covered and n == DEFAULT_WORKERS)
    ]


def worker_label(workers: int) -> str:
    return f"workers_{workers}"
