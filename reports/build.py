"""Build the report of one stored run: reports/output/<run-id>/index.html and its data files."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from bench.store.files import atomic_write_text
from bench.store.rules import WRK_DISAGREEMENT
from bench.store.runs import RunIdError, check_run_id, point_latest
from reports import (
    OUTPUT_DIR,
    PROJECT_ROOT,
    breakdown,
    breakdown_figure,
    browser_timing,
    claims,
    figures,
    glance,
    hardening,
    headline,
    inputs,
    perf_tables,
    reproduction,
    reproduction_text,
    run_tables,
    scale,
    scaling,
    soak,
    stack_claims,
    stack_section,
    stacks,
    stats,
    summary,
    tables,
    trust,
    work,
)
from reports.evaluators import display
from reports.verdicts import VERDICTS

TEMPLATES = Path(__file__).with_name("templates")
# Copied next to index.html so that its links work offline and the figures can be recomputed.
DATA_FILES = (
    "results.csv",
    "run.json",
    "verify.csv",
    "inspections.json",
    "crosscheck.csv",
    "crosscheck.json",
)
# The reproduction check's every line, beside the report when it was set against a reference.
REPRODUCTION_FILE = reproduction_text.JSON_FILE
STATUS_WARNINGS = {
    "partial": "This run is PARTIAL: some planned levels were not measured. Missing levels are "
    "absent from every figure and table, not zero.",
    "interrupted": "This run was INTERRUPTED before it finished. Only the levels that finished "
    "are shown; missing levels are absent, not zero.",
}


# How the Makefile selects each profile (make bench QUICK=1 is the quick profile).
BENCH_ARGS = {"quick": " QUICK=1", "full": ""}


@dataclass(frozen=True)
class Section:
    scenario: str
    title: str
    figure: figures.Figure | None
    table: tables.Table
    not_covered: list[str]


def build(
    run_dir: Path,
    output_root: Path = OUTPUT_DIR,
    reference: Path | None = None,
    shown_as: Path | None = None,
    compared: bool = True,
) -> Path:
    """Write the report of the run in run_dir; returns the path of its index.html. With a
    reference run (`reference`, else REFERENCE_DIR when it holds one; never the run itself) the
    report says whether this run reproduces it. shown_as: the folder the page names as the
    run's (default run_dir), inside the project as a relative path. compared=False: no
    reproduction section (the published reference itself)."""
    stored = inputs.load(run_dir)
    against = reproduction.default_reference(stored, reference) if compared else None
    registry = claims.load_registry()
    # Each stack's claims are checked on its own view; today's view of a run served from
    # today's stack alone is the run itself, so its verdicts are those it always had.
    views = stacks.views(stored)
    by_stack = stack_claims.check_stacks(registry, views)
    checked = by_stack[stacks.TODAY]
    comparison = None
    if against is not None:
        comparison = reproduction.compare_runs(stored, against, registry, by_stack)
    page = {**context(stored, registry, views, by_stack), **reproduction_text.section(comparison)}
    page["run_path"] = shown_path(shown_as or stored.path)
    html = render(page)
    out = output_folder(output_root, stored.run_id)
    out.mkdir(parents=True, exist_ok=True)
    for name in DATA_FILES:
        if (stored.path / name).exists():
            shutil.copyfile(stored.path / name, out / name)
    atomic_write_text(out / "claims.json", json.dumps(claims.as_records(checked), indent=2) + "\n")
    for stack, name in stack_section.claims_files(by_stack).items():
        records = claims.as_records(by_stack[stack])
        atomic_write_text(out / name, json.dumps(records, indent=2) + "\n")
    write_reproduction(out, comparison)
    atomic_write_text(out / "index.html", html)
    # Here `latest` is the report last built, whatever its run's status: someone asked for
    # this one, and an unfinished run says so at the top of its page. bench/results/latest,
    # which `make report` builds from, is the one that only a finished run moves.
    point_latest(output_root, out)
    return out / "index.html"


def shown_path(path: Path) -> str:
    """A run folder as the page names it: relative to the project when inside it, so that a
    page built on one machine names no folder of that machine."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def write_reproduction(out: Path, comparison: reproduction.Comparison | None) -> None:
    """reproduction.json beside the page, or none: a rebuild without a reference leaves no
    earlier comparison behind."""
    if comparison is None:
        (out / REPRODUCTION_FILE).unlink(missing_ok=True)
        return
    record = reproduction_text.as_record(comparison)
    atomic_write_text(out / REPRODUCTION_FILE, json.dumps(record, indent=2) + "\n")


def output_folder(output_root: Path, run_id: str) -> Path:
    """output_root/run_id, refused (RunError) unless run_id is one plain folder name: it comes
    from run.json, which need not have been written by the runner."""
    try:
        return output_root / check_run_id(run_id)
    except RunIdError as exc:
        raise inputs.RunError(str(exc)) from None


def render(page: dict[str, Any]) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt name fails the build, not the page
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("report.html.j2").render(**page)


def context(
    stored: inputs.StoredRun,
    registry: claims.Registry,
    views: dict[str, inputs.StoredRun],
    by_stack: dict[str, list[claims.Checked]],
) -> dict[str, Any]:
    """The page's context: `views` and `by_stack` are each stack's view of the run and its
    verdicts (build() computes them once); the claims table is today's."""
    info = stored.info
    bands = registry_bands(registry)
    checked = by_stack[stacks.TODAY]
    sections = [
        Section(
            scenario,
            tables.SCENARIO_TITLES[scenario],
            figures.scenario_figure(stored, scenario),
            perf_tables.scenario_table(stored, scenario),
            perf_tables.not_covered(stored, scenario),
        )
        for scenario in inputs.LOAD_SCENARIOS
    ]
    return {
        "run": info,
        "profile": info.get("profile") or "unknown",
        "plan": info.get("plan") or {},
        "git": {"commit": "", "dirty": False, **(info.get("git") or {})},
        "bench_args": BENCH_ARGS.get(str(info.get("profile")), f" # profile {info.get('profile')}"),
        "run_id": stored.run_id,
        "status": info.get("status", "unknown"),
        "status_warning": status_warning(info.get("status")),
        "problems": stored.problems,
        "summary_fastest": stack_section.per_stack_lines(stored, views, summary.fastest),
        "summary_interaction": " ".join(
            stack_section.per_stack_lines(stored, views, _interaction_lines)
        ),
        "summary_precision": summary.precision_line(stored),
        "summary_claims": summary.claims_lines(checked),
        "summary_contradicted": summary.contradicted(checked, info),
        "tally": claims.tally(checked),
        "verdicts": VERDICTS,
        "verdict_marks": glance.MARKS,
        "verdict_css": glance.CSS,
        "glance": glance.glance(registry, by_stack, info, stacks.has_other_stacks(info)),
        "registry": registry,
        "checked_groups": _grouped(registry, checked),
        "framework_names": {f: display(info, f) for f in registry.frameworks},
        "sections": sections,
        "headline_figure": headline.headline_figure(stored),
        "interaction_figure": figures.interaction_figure(stored),
        "ratio_table": perf_tables.ratio_table(stored, *bands),
        "resources_figure": figures.resources_figure(stored),
        "cold_start_figure": figures.cold_start_figure(stored),
        "cold_start_table": perf_tables.cold_start_table(stored),
        "diagnostics_table": perf_tables.diagnostics_table(stored),
        "work_table": work.work_table(stored),
        "work_framework_table": work.framework_table(stored),
        "work_notes": work.work_notes(stored),
        "wrk_disagreement": f"{WRK_DISAGREEMENT:.0%}",
        "security_table": run_tables.security_table(stored),
        "hostile_summary": hardening.hostile_summary(stored),
        "hostile_matrix": hardening.hostile_matrix(stored),
        "diagnostic_notes": perf_tables.diagnostic_notes(stored),
        "code_size_figure": figures.code_size_figure(stored),
        "code_size_table": run_tables.code_size_table(stored),
        "coverage_table": run_tables.coverage_table(stored),
        "failed_levels_table": run_tables.failed_levels_table(stored),
        "verify_failures_table": run_tables.verify_failures_table(stored),
        "verify_summary": run_tables.verify_summary(stored),
        "configs_table": run_tables.configs_table(stored),
        "plan_table": tables.key_value_table(info.get("plan") or {}),
        "machine_table": tables.key_value_table(info.get("machine") or {}),
        "model_table": tables.key_value_table(info.get("model") or {}),
        "packages_table": tables.key_value_table(tables.key_packages(info)),
        "all_packages_table": tables.key_value_table(info.get("packages") or {}),
        "pinning_table": tables.key_value_table(info.get("pinning") or {}),
        "stats_method": stats.METHOD_TEXT,
        "validity": trust.validity(stored),
        "headroom_table": trust.headroom_table(stored),
        "slo_table": trust.slo_table(stored),
        "crosscheck_table": trust.crosscheck_table(stored),
        "browser_table": browser_timing.browser_table(stored),
        "soak_table": soak.soak_table(stored.path.parent),
        "cov_summary": trust.cov_summary(stored),
        "floor_table": scale.floor_table(stored),
        "overhead_table": scale.overhead_table(stored),
        **latency_breakdown(stored),
        "scaling_table": scaling.scaling_table(stored),
        "scaling_figure": scaling.scaling_figure(stored),
        "efficiency_table": scaling.efficiency_table(stored),
        "data_files": [n for n in DATA_FILES if (stored.path / n).exists()],
        **stack_section.context(stored, registry, views, by_stack, bands),
    }


def latency_breakdown(stored: inputs.StoredRun) -> dict[str, Any]:
    """The latency at one user taken apart, only where the run has the null target there."""
    if not breakdown.available(stored):
        return {"breakdown_figure": None, "breakdown_table": None}
    return {
        "breakdown_figure": breakdown_figure.breakdown_figure(stored),
        "breakdown_table": breakdown.breakdown_table(stored),
    }


def _interaction_lines(stored: inputs.StoredRun) -> list[str]:
    line = summary.interaction_line(stored)
    return [line] if line else []


def status_warning(status: Any) -> str | None:
    if status == "complete":
        return None
    return STATUS_WARNINGS.get(
        str(status),
        f"This run's status is {status!r}, not complete: it may still have been running when "
        "this report was built. Missing levels are absent, not zero.",
    )


def registry_bands(registry: claims.Registry) -> tuple[float, float]:
    """The performance reading's bands, as the registry sets them for the performance claims."""
    for claim in registry.claims:
        if claim.evaluator == "performance":
            return float(claim.params["same_within"]), float(claim.params["slightly_up_to"])
    return 0.05, 0.30


def _grouped(
    registry: claims.Registry, checked: list[claims.Checked]
) -> list[tuple[str, list[claims.Checked]]]:
    return [(g, [c for c in checked if c.claim.group == g]) for g in registry.groups]
