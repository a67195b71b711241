"""Throughput against the number of server workers: the scaling table and figure (with each
deployment's ideal linear line), and the parallel-efficiency table. A server with no worker
setting (Streamlit) scales by its number of sessions on one process, so its ceiling stands
beside the others instead."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reports import figures, stats, text
from reports.inputs import StoredRun
from reports.tables import (
    INTERACTION_NAMES,
    SATURATED_NOTE,
    Cell,
    Table,
    _est,
    _num,
    _users_cell,
    label,
    ordered,
)

ONE_PROCESS = "1 process, a thread per session"
IDEAL_LABEL = "ideal (linear)"
SHARES_CORES = "shares cores"
NONE = "\u2013"  # the cell of a ratio the run cannot state
# (deployment, scenario, users) -> [(workers, median over repetitions)], fewest workers first.
Series = dict[tuple[str, str, int], list[tuple[int, stats.Estimate]]]


@dataclass(frozen=True)
class ScalingPoint:
    """One worker count of one deployment at one level, against its 1-worker throughput."""

    deployment: str
    scenario: str
    users: int
    workers: int
    throughput: stats.Estimate
    speedup: float  # T(n) / T(1), medians; NaN where the run has no 1-worker figure
    efficiency: float  # T(n) / (n x T(1)), medians; NaN likewise
    saturated: bool


@dataclass(frozen=True)
class Ceiling:
    """A one-process server's highest median throughput over the levels of its main scenario."""

    deployment: str
    scenario: str
    users: int
    throughput: stats.Estimate
    saturated: bool


def _workers(run: Mapping[str, Any], deployment: str, config: str) -> int | None:
    """A workers_N pass -> N; a one-process server's default -> 0; a server with a worker
    setting: its default -> the count it runs (run.json default_workers), where the run measured
    no pass of that count (older runs did: then None, not plotted twice); the null target
    serves no model -> None."""
    info = (run.get("deployments") or {}).get(deployment, {})
    if info.get("role") == "calibration":
        return None
    scaling = info.get("scaling_configs") or []
    if config.startswith("workers_") and config in scaling:
        return int(config.removeprefix("workers_"))
    if config == "default" and not info.get("workers_env"):
        return 0
    default_workers = info.get("default_workers")
    if config == "default" and default_workers and f"workers_{default_workers}" not in scaling:
        return int(default_workers)
    return None


def server_cores(run: Mapping[str, Any]) -> int | None:
    """How many cores the server was pinned to (None where run.json does not say)."""
    return len((run.get("pinning") or {}).get("server_cores") or []) or None


def worker_series(stored: StoredRun, metric: str) -> Series:
    """The median of `metric` at each worker count, per deployment and level."""
    levels = stored.scaling
    order = ordered(stored.info)
    series: Series = {}
    for (deployment, config, scenario, users), frame in levels.groupby(stats.LEVEL_KEYS):
        workers = _workers(stored.info, deployment, config)
        if deployment not in order or workers is None:
            continue
        values = frame.loc[frame["metric"] == metric, "value"].tolist()
        key = (deployment, scenario, int(users))
        series.setdefault(key, []).append((workers, stats.median_ci(values)))
    return {key: sorted(points, key=lambda p: p[0]) for key, points in series.items()}


def one_worker(points: list[tuple[int, stats.Estimate]]) -> float:
    """T(1): the median throughput at one worker, NaN where the run has none."""
    return next((e.value for w, e in points if w == 1), math.nan)


def ideal_line(points: list[tuple[int, stats.Estimate]]) -> list[tuple[int, float]]:
    """Linear scaling from one worker: (n, n x T(1)) at each measured worker count."""
    base = one_worker(points)
    if math.isnan(base):
        return []
    return [(w, w * base) for w, _ in points if w >= 1]


def efficiency_points(stored: StoredRun) -> list[ScalingPoint]:
    """Speedup and parallel efficiency of every worker count, from the medians."""
    bound = stats.any_flag(stored.scaling)
    found = []
    for (deployment, scenario, users), points in worker_series(stored, "throughput").items():
        base = one_worker(points)
        for workers, estimate in points:
            if workers < 1:  # a one-process server: see ceilings()
                continue
            speedup = estimate.value / base if base > 0 else math.nan
            flagged = _flagged(stored.info, bound, (deployment, scenario, users), workers)
            found.append(ScalingPoint(deployment, scenario, users, workers, estimate,
                                      speedup, speedup / workers, flagged))  # fmt: skip
    return found


def _flagged(run: Mapping[str, Any], bound: set[tuple], level: tuple, workers: int) -> bool:
    """Whether the load generator was saturated at this worker count's level (`bound` names
    configs, the series worker counts)."""
    return any((d, s, u) == level and _workers(run, d, c) == workers for d, c, s, u in bound)


def one_process(run: Mapping[str, Any]) -> list[str]:
    """Deployments with no worker setting (no workers_env), the null target aside."""
    deployments = run.get("deployments") or {}
    return [
        name
        for name in ordered(run)
        if not deployments[name].get("workers_env")
        and deployments[name].get("role") != "calibration"
        and deployments[name].get("scenarios")
    ]


def ceilings(stored: StoredRun) -> list[Ceiling]:
    """Each one-process deployment's highest median throughput over the measured levels of its
    main scenario at its default configuration (only where the run measured worker scaling)."""
    if stored.scaling.empty:
        return []
    levels = stored.load_levels
    bound = stats.any_flag(levels)
    found = []
    for deployment in one_process(stored.info):
        scenario = stored.deployments[deployment]["scenarios"][0]
        rows = levels[(levels["deployment"] == deployment) & (levels["config"] == "default")
                      & (levels["scenario"] == scenario)]  # fmt: skip
        best = _best_level(stats.summarise(rows, "throughput"))
        if best is not None:
            users, estimate = best
            flagged = (deployment, "default", scenario, users) in bound
            found.append(Ceiling(deployment, scenario, users, estimate, flagged))
    return found


def _best_level(summary: Any) -> tuple[int, stats.Estimate] | None:
    summary = summary.dropna(subset=["median"])
    if summary.empty:
        return None
    row = summary.loc[summary["median"].astype(float).idxmax()]
    return int(row["users"]), stats.estimate_of(row)


def efficiency_table(stored: StoredRun) -> Table:
    points, tops = efficiency_points(stored), ceilings(stored)
    order = ordered(stored.info)
    cores = server_cores(stored.info)
    rows = [((order.index(p.deployment), p.users, p.workers), _point_cells(stored, p, cores))
            for p in points]  # fmt: skip
    rows += [((order.index(c.deployment), c.users, 0), _ceiling_cells(stored, c)) for c in tops]
    columns = ["Deployment", "Scenario", "Users", "Workers", "Throughput (/s)", "Speedup",
               "Parallel efficiency", "Cores"]  # fmt: skip
    notes = _efficiency_notes(stored, points, tops, cores)
    return Table(columns, [cells for _, cells in sorted(rows, key=lambda r: r[0])], notes=notes)


def _point_cells(stored: StoredRun, point: ScalingPoint, cores: int | None) -> list[Cell]:
    return [
        Cell(label(stored.info, point.deployment)),
        Cell(point.scenario),
        _users_cell(point.users, point.saturated),
        _num(point.workers),
        _est(point.throughput),
        *_ratio_cells(point),
        _cores_cell(point.workers, cores),
    ]


def _ratio_cells(point: ScalingPoint) -> list[Cell]:
    if math.isnan(point.speedup):
        note = "the run has no 1-worker figure for this deployment at this level"
        return [Cell(NONE, note=note, css="num muted"), Cell(NONE, note=note, css="num muted")]
    speedup = Cell(f"{text.number(point.speedup, 2)}{text.TIMES}", css="num")
    return [speedup, Cell(f"{point.efficiency:.0%}", css="num")]


def _cores_cell(workers: int, cores: int | None) -> Cell:
    if cores is None or workers <= cores:
        return Cell("")
    note = f"{text.plural(workers, 'worker')} on {text.plural(cores, 'pinned core')}"
    return Cell(SHARES_CORES, note=note, css="muted")


def _ceiling_cells(stored: StoredRun, ceiling: Ceiling) -> list[Cell]:
    unit = f"{INTERACTION_NAMES.get(ceiling.scenario, 'interactions')} per second"
    throughput = _est(ceiling.throughput)
    why = "no worker processes: it scales by its number of sessions on one process"
    return [
        Cell(label(stored.info, ceiling.deployment)),
        Cell(ceiling.scenario),
        _users_cell(ceiling.users, ceiling.saturated),
        Cell(f"one process: {text.plural(ceiling.users, 'session')}"),
        Cell(throughput.text, note=f"{unit}; {throughput.note}", css=throughput.css),
        Cell(NONE, note=why, css="num muted"),
        Cell(NONE, note=why, css="num muted"),
        Cell(""),
    ]


def _efficiency_notes(
    stored: StoredRun, points: list[ScalingPoint], tops: list[Ceiling], cores: int | None
) -> tuple[str, ...]:
    notes = [
        f"Speedup = T(n) ÷ T(1) and parallel efficiency = T(n) ÷ (n {text.TIMES} T(1)), where "
        "T(n) is the median throughput over repetitions at n server workers: both are ratios "
        "of medians over repetitions, not medians of per-repetition ratios, so they have no "
        "interval.",
        _cores_note(points, cores),
    ]
    missing = sorted({label(stored.info, p.deployment) for p in points if math.isnan(p.speedup)})
    if missing:
        notes.append(f"{NONE}: the run has no 1-worker figure for {', '.join(missing)} at that "
                     "level, so its speedup and efficiency cannot be stated.")  # fmt: skip
    notes += [_ceiling_note(stored, c) for c in tops]
    if any(p.saturated for p in points) or any(c.saturated for c in tops):
        notes.append(SATURATED_NOTE)
    return tuple(notes)


def _cores_note(points: list[ScalingPoint], cores: int | None) -> str:
    if cores is None:
        return (
            "This run does not record the server's pinned cores: worker counts past them "
            "cannot be marked."
        )
    beyond = sorted({p.workers for p in points if p.workers > cores})
    pinned = f"The server was pinned to {text.plural(cores, 'core')}"
    if not beyond:
        return f"{pinned}; every worker count here fits within them."
    same = "that core" if cores == 1 else "those cores"
    return (
        f"{pinned}: at {', '.join(map(str, beyond))} workers the workers share {same}, so "
        f"efficiency beyond {text.plural(cores, 'worker')} is not parallel efficiency but what "
        f"more processes get out of {same} (rows marked “{SHARES_CORES}”)."
    )


def _ceiling_note(stored: StoredRun, ceiling: Ceiling) -> str:
    name = label(stored.info, ceiling.deployment)
    unit = INTERACTION_NAMES.get(ceiling.scenario, "interactions")
    return (
        f"{name} has no worker processes: its scaling is its number of sessions on one process. "
        f"Its row is its highest median throughput ({unit} per second) over the measured levels "
        f"of {ceiling.scenario} at its default configuration, and the number of sessions it was "
        "reached at; it has no speedup or efficiency to state."
    )


def scaling_table(stored: StoredRun) -> Table:
    levels = stored.scaling
    rows = []
    order = ordered(stored.info)
    bound = stats.any_flag(levels)
    for (deployment, config, scenario, users), frame in levels.groupby(stats.LEVEL_KEYS):
        if deployment not in order:
            continue
        workers = _workers(stored.info, deployment, config)
        if workers is None:
            continue
        values = {m: f["value"].tolist() for m, f in frame.groupby("metric")}
        rows.append(((order.index(deployment), users, workers), [
            Cell(label(stored.info, deployment)),
            Cell(scenario),
            _users_cell(users, (deployment, config, scenario, users) in bound),
            Cell(str(workers) if workers else ONE_PROCESS),
            _est(stats.median_ci(values.get("throughput", []))),
            _est(stats.median_ci(values.get("latency_p50", []))),
            _num(stats.median_ci(values.get("server_cpu", [])).value, 0),
            _num(stats.median_ci(values.get("server_rss_mean", [])).value, 0),
        ]))  # fmt: skip
    cores = server_cores(stored.info)
    notes = (
        f"The server had {text.plural(cores, 'core') if cores else '? cores'}"
        " (pinned); worker counts beyond that share them.",
        *_no_worker_setting(stored, "it scales by its sessions, see the efficiency table."),
        SATURATED_NOTE,
    )
    columns = ["Deployment", "Scenario", "Users", "Workers", "Throughput (/s)", "p50 (ms)",
               "Server CPU (%)", "Server RSS (MiB)"]  # fmt: skip
    return Table(columns, [cells for _, cells in sorted(rows, key=lambda r: r[0])], notes=notes)


def scaling_figure(stored: StoredRun) -> figures.Figure | None:
    if stored.scaling[stored.scaling["metric"] == "throughput"].empty:
        return None
    fig, axes = figures._new(10, 3.8, panels=2)
    for ax, metric in zip(axes, ["throughput", "latency_p50"], strict=True):
        draw_series(ax, stored, metric)
        ax.set_xlabel("server workers")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(figures.METRIC_TITLES[metric], fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=8, frameon=False)
    return figures.Figure(
        id="fig-scaling",
        title="Throughput and median latency against server workers",
        caption=(
            "Each point is the median over repetitions at the plan's scaling level. Dashed: "
            "ideal linear scaling, each deployment's throughput at 1 worker times the number of "
            "workers. Worker processes beyond the server's pinned cores share those cores. "
            + " ".join(_no_worker_setting(stored, "its ceiling is in the efficiency table."))
        ),
        alt="Two line charts of throughput and median latency against the number of server "
        "worker processes, one line per deployment, with a dashed ideal linear line per "
        "deployment on the throughput chart.",
        svg=figures._svg(fig, "fig-scaling"),
    )


def _no_worker_setting(stored: StoredRun, then: str) -> list[str]:
    """A sentence on the deployments with no worker setting, or none where there is none."""
    names = [label(stored.info, d) for d in one_process(stored.info)]
    if not names or stored.scaling.empty:
        return []
    has = "has" if len(names) == 1 else "have"
    return [f"{', '.join(names)} {has} no worker setting (one process, a thread per session): "
            f"{then}"]  # fmt: skip


def draw_series(ax: Any, stored: StoredRun, metric: str) -> None:
    """One line per deployment and level on `ax`; on throughput, each one's ideal line too."""
    styles = figures._styles(stored.info)
    ideal_drawn = False
    for (deployment, _, users), points in worker_series(stored, metric).items():
        colour = styles.get(deployment, {}).get("color")
        ax.plot([max(w, 1) for w, _ in points], [e.value for _, e in points], marker="o",
                color=colour, label=f"{label(stored.info, deployment)}, {users} users")  # fmt: skip
        ideal = ideal_line(points) if metric == "throughput" else []
        if len(ideal) > 1:
            ax.plot([w for w, _ in ideal], [y for _, y in ideal], linestyle="--", alpha=0.6,
                    color=colour, label="_nolegend_")  # fmt: skip
            ideal_drawn = True
    if ideal_drawn:  # one neutral legend entry stands for every deployment's ideal line
        ax.plot([], [], linestyle="--", color="grey", label=IDEAL_LABEL)
