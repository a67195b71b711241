"""The checks a plan profile passes before anything starts: the main keys' types, as read from
plan.toml, and the values of the Plan built from them (bench/run/plan.py)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.targets.manifest import SCENARIOS
from shared_model.model import MODEL_NAMES

if TYPE_CHECKING:
    from bench.run.plan import Plan

# A profile's keys that hold tables.
TABLE_KEYS = (
    "slo", "model_variants", "scaling", "stacks", "crosscheck", "scenario_min_interactions",
    "work", "browser", "scenario_window_s",
)  # fmt: skip


class PlanError(ValueError):
    pass


def type_problems(data: Any) -> list[str]:
    """Wrong types of the main keys, named: caught here, they would otherwise surface as a
    confusing error or a silent change (1.5 users read as 1, a config name split into letters)."""
    if not isinstance(data, dict):
        return [f"must be a table, as [profiles.NAME], not {data!r}"]
    problems = [
        f"{key} must be a list of whole numbers, not {data[key]!r}"
        for key in ("levels", "diagnostic_levels")
        if key in data and not (isinstance(data[key], list) and all(is_int(n) for n in data[key]))
    ]
    problems += [
        f"{key} must be a whole number, not {data[key]!r}"
        for key in ("repetitions", "cold_starts", "window_min_interactions", "aside_repetitions")
        if key in data and not is_int(data[key])
    ]
    problems += [
        f"{key} must be a finite number of seconds, not {data[key]!r}"
        for key in ("window_s", "warmup_s", "window_min_s", "steady_tolerance")
        if key in data
        and not ((is_int(data[key]) or isinstance(data[key], float)) and math.isfinite(data[key]))
    ]
    configs = data.get("configs", "all")
    if configs != "all" and not (
        isinstance(configs, list) and all(isinstance(c, str) for c in configs)
    ):
        problems.append(f'configs must be "all" or a list of config names, not {configs!r}')
    if data.get("probe_configs", "all") not in ("all", "measured"):
        problems.append(f'probe_configs must be "all" or "measured", not {data["probe_configs"]!r}')
    if not isinstance(data.get("tampered_model_probe", True), bool):
        value = data["tampered_model_probe"]
        problems.append(f"tampered_model_probe must be true or false, not {value!r}")
    problems += [
        f"{key} must be a table, as [profiles.NAME.{key}]"
        for key in TABLE_KEYS
        if key in data and not isinstance(data[key], dict)
    ]
    stacks = data.get("stacks", {})
    if isinstance(stacks, dict) and not all(isinstance(s, dict) for s in stacks.values()):
        problems.append("stacks must be tables, as [profiles.NAME.stacks.STACK]")
    return problems


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check(plan: Plan, path: Path) -> None:
    problems = []
    if not plan.levels or any(n < 1 for n in plan.levels):
        problems.append(f"levels must be one or more positive user counts, not {list(plan.levels)}")
    if plan.window_s <= 0 or plan.warmup_s < 0:
        problems.append("window_s must be > 0 and warmup_s >= 0")
    try:
        plan.window_rule()
    except ValueError as exc:
        problems.append(f"the window rule: {exc}")
    if plan.repetitions < 1 or plan.cold_starts < 0:
        problems.append("repetitions must be >= 1 and cold_starts >= 0")
    if plan.aside_repetitions is not None and not 1 <= plan.aside_repetitions <= plan.repetitions:
        problems.append("aside_repetitions must be between 1 and repetitions")
    if plan.slo and (
        not plan.slo.bounds_ms
        or set(plan.slo.bounds_ms) != set(plan.slo.start_rates)
        or min((*plan.slo.bounds_ms.values(), *plan.slo.start_rates.values())) <= 0
    ):
        problems.append("slo: bounds_ms and start_rates need the same scenarios, all > 0")
    cross = plan.crosscheck
    if cross and (cross.window_s < 1 or cross.warmup_s < 0 or cross.repetitions < 1):
        problems.append("crosscheck: window_s >= 1 (wrk counts whole seconds), repetitions >= 1")
    variants = plan.model_variants
    if variants and any(n < 1 for n in variants.levels):
        problems.append("model_variants: levels must be positive user counts")
    if variants and variants.min_interactions is not None and variants.min_interactions < 1:
        problems.append("model_variants: min_interactions must be at least 1")
    unknown = set(variants.models if variants else ()) - set(MODEL_NAMES)
    if unknown:
        problems.append(f"model_variants: unknown models {sorted(unknown)}; known: {MODEL_NAMES}")
    if (
        plan.scaling
        and plan.scaling.workers is not None
        and min(plan.scaling.workers, default=0) < 1
    ):
        problems.append('scaling: workers must be positive counts or "cores"')
    work = plan.work
    if work and (
        not work.levels or min(work.levels) < 1 or not set(work.scenarios) <= set(SCENARIOS)
    ):
        problems.append(f"work: levels must be positive, scenarios among {list(SCENARIOS)}")
    browser = plan.browser
    if browser and (not browser.sessions or min(browser.sessions) < 1 or browser.interactions < 1):
        problems.append("browser: sessions and interactions must be positive")
    for name, stack in plan.stacks.items():
        if not stack.levels or min(stack.levels) < 1 or "default" not in stack.configs:
            problems.append(f"stacks.{name}: levels must be positive and configs hold 'default'")
        if stack.scenarios is not None and not set(stack.scenarios) <= set(SCENARIOS):
            problems.append(f"stacks.{name}: scenarios must be among {list(SCENARIOS)}")
    for scenario, count in plan.scenario_min_interactions.items():
        if scenario not in SCENARIOS or count < 0:
            problems.append(
                f"scenario_min_interactions: {scenario} = {count}: scenarios among "
                f"{list(SCENARIOS)}, counts >= 0"
            )
    for scenario, seconds in plan.scenario_window_s.items():
        if scenario not in SCENARIOS or not 0 < seconds < math.inf:
            problems.append(
                f"scenario_window_s: {scenario} = {seconds}: scenarios among "
                f"{list(SCENARIOS)}, a finite number of seconds > 0"
            )
    if problems:
        raise PlanError(f"{path}: profile {plan.profile!r}: " + "; ".join(problems))
