"""The report's figures: pure functions from the stored run to inline SVG (crisp at any zoom,
its text real text a reader can search and copy).

Each point is the median over repetitions, its error bars the bracket of reports/intervals.py
(the caption names it and its real coverage). Points where the load generator was saturated are
circled in red, not dropped.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display here

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter

from bench.store.table import LEVEL_METRICS
from reports import stats
from reports.inputs import StoredRun
from reports.stacks import TODAY, base_of, stack_of
from reports.tables import INTERACTION_NAMES, SCENARIO_TITLES, label, ordered

DPI = 110
# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
SUBJECT_COLOURS = {"flask": "#0072B2", "streamlit": "#D55E00", "django": "#009E73"}
OTHER_COLOURS = ("#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#666666")
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D")
BOUND_COLOUR = "#C00000"
METRIC_TITLES = {
    "throughput": "Throughput",
    "latency_p50": "Latency p50",
    "latency_p90": "Latency p90",
    "latency_p99": "Latency p99",
    "server_cpu": "Server CPU",
    "server_rss_mean": "Server memory (RSS, mean)",
}


@dataclass(frozen=True)
class Figure:
    id: str
    title: str
    caption: str
    alt: str
    svg: str  # an <svg> element, to be placed in the page as it is


# Before the <svg> element: the XML declaration and DOCTYPE, which an HTML page must not hold.
SVG_PROLOGUE = re.compile(r"\A.*?(?=<svg)", re.DOTALL)
# An id, or a reference to one, inside an SVG.
SVG_ID = re.compile(r"""(\bid="|url\(#|href="#)([A-Za-z_][\w.-]*)""")
# The metadata keys matplotlib writes unless told not to (a date would change every build).
SVG_METADATA = dict.fromkeys(("Date", "Creator", "Format", "Type"))


def _svg(fig: MplFigure, figure_id: str) -> str:
    """The figure as an inline <svg> element. Its text stays text (svg.fonttype "none"), and
    its ids are prefixed with the figure's id (and its clip paths' hashes salted with it), so
    that figures sharing a page share no id and a rebuild gives the same markup."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": figure_id}):
        fig.savefig(buffer, format="svg", dpi=DPI, metadata=SVG_METADATA)
    svg = SVG_PROLOGUE.sub("", buffer.getvalue(), count=1)
    # matplotlib numbers its elements (figure_1, patch_1, ...) the same in every figure.
    return SVG_ID.sub(lambda m: f"{m.group(1)}{figure_id}-{m.group(2)}", svg)


def _new(width: float, height: float, panels: int = 1, rows: int = 1) -> tuple[MplFigure, list]:
    fig = MplFigure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(rows, panels, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def _styles(run: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A colour per deployment, the same in every figure."""
    styles, spare = {}, iter(OTHER_COLOURS * 4)
    for name in ordered(run):
        info = run["deployments"][name]
        colour = (
            SUBJECT_COLOURS.get(info.get("framework", ""))
            if info.get("role", "subject") == ("subject")
            else None
        )
        base = base_of(name, info)
        if stack_of(info) != TODAY and base in styles:
            # A variant on another stack keeps its deployment's colour; hollow markers tell it
            # from today's in the line figures.
            styles[name] = {"color": styles[base]["color"], "markerfacecolor": "white"}
        else:
            styles[name] = {"color": colour or next(spare)}
    return styles


def _config_index(run: Mapping[str, Any], deployment: str, config: str) -> int:
    configs = list((run["deployments"].get(deployment) or {}).get("configs") or {})
    return configs.index(config) if config in configs else len(configs)


def _unit(metric: str) -> str:
    unit = LEVEL_METRICS.get(metric, "")
    return "per second" if unit == "1/s" else unit


def _users_axis(ax: Axes, users: Sequence[int]) -> None:
    users = sorted(set(users))
    if users and users[-1] / max(users[0], 1) >= 4:
        ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(users))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(ScalarFormatter())
    if len(users) == 1:
        ax.set_xlim(users[0] - 1, users[0] + 1)
    ax.set_xlabel("concurrent users")


def _value_axis(ax: Axes, values: Sequence[float], allow_log: bool = False) -> None:
    """A linear axis from zero; a logarithmic one where frameworks that differ by orders of
    magnitude share a panel (allow_log), so that the smaller stays readable."""
    positive = [v for v in values if v > 0 and np.isfinite(v)]
    if allow_log and positive and max(positive) / min(positive) > 10:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_ylim(bottom=0)
    ax.grid(True, which="major", alpha=0.3)


def _plot_metric(
    ax: Axes,
    stored: StoredRun,
    levels: pd.DataFrame,
    metric: str,
    styles: Mapping[str, Mapping[str, Any]],
    series_label: str = "{deployment} · {config}",
) -> list[float]:
    """One line per deployment and configuration: median, interval bars, saturated points."""
    summary = stats.summarise(levels, metric)
    bound = stats.any_flag(levels)
    plotted: list[float] = []
    order = ordered(stored.info)
    groups = sorted(
        summary.groupby(["deployment", "config", "scenario"], sort=False),
        key=lambda g: (order.index(g[0][0]), _config_index(stored.info, g[0][0], g[0][1])),
    )
    for (deployment, config, scenario), frame in groups:
        frame = frame.sort_values("users")
        index = _config_index(stored.info, deployment, config)
        name = series_label.format(
            deployment=label(stored.info, deployment), config=config, scenario=scenario
        )
        y = frame["median"].to_numpy(dtype=float)
        low = np.where(np.isnan(frame["low"]), y, frame["low"])
        high = np.where(np.isnan(frame["high"]), y, frame["high"])
        # Floating-point noise can put an interval end a hair inside the median: clip at 0.
        errors = np.clip([y - low, high - y], 0, None)
        ax.errorbar(
            frame["users"],
            y,
            yerr=errors,
            label=name,
            capsize=3,
            linewidth=1.6,
            linestyle=LINESTYLES[index % 4],
            marker=MARKERS[index % 4],
            markersize=5,
            **styles[deployment],
        )
        flagged = [(deployment, config, scenario, int(u)) in bound for u in frame["users"]]
        if any(flagged):
            ax.scatter(
                frame["users"][flagged],
                y[flagged],
                s=170,
                facecolors="none",
                edgecolors=BOUND_COLOUR,
                linewidths=1.6,
                zorder=5,
            )
        plotted.extend(y.tolist())
    return plotted


def _legend(fig: MplFigure, axes: list[Axes], bound: bool) -> None:
    handles, labels = axes[0].get_legend_handles_labels()
    if bound:
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markersize=11,
                markerfacecolor="none",
                markeredgecolor=BOUND_COLOUR,
            )
        )
        labels.append("load generator saturated")
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=min(5, len(labels)),
        frameon=False,
        fontsize=9,
    )


def scenario_figure(stored: StoredRun, scenario: str) -> Figure | None:
    """Throughput and latency p50/p90/p99 against users for one scenario."""
    levels = stored.load_levels
    levels = levels[levels["scenario"] == scenario]
    if levels.empty:
        return None
    styles = _styles(stored.info)
    metrics = ["throughput", "latency_p50", "latency_p90", "latency_p99"]
    fig, axes = _new(12, 3.6, panels=4)
    for ax, metric in zip(axes, metrics, strict=True):
        values = _plot_metric(ax, stored, levels, metric, styles)
        _users_axis(ax, levels["users"].unique().tolist())
        _value_axis(ax, values)
        unit = INTERACTION_NAMES.get(scenario, "interactions") if metric == "throughput" else ""
        ax.set_title(
            f"{METRIC_TITLES[metric]} ({unit + '/s' if unit else _unit(metric)})", fontsize=10
        )
    _legend(fig, axes, bool(stats.any_flag(levels)))
    title = SCENARIO_TITLES.get(scenario, scenario)
    return Figure(
        id=f"fig-{scenario}",
        title=f"{scenario}: {title}",
        caption=(
            f"{title}: throughput and latency percentiles against concurrent users, one line per "
            "deployment and server configuration. Points: median over repetitions; bars: "
            f"{_bars(stats.summarise(levels, 'throughput')['n'])}."
        ),
        alt=f"Four line charts for scenario {scenario}: throughput, p50, p90 and p99 latency "
        "against concurrent users, one line per deployment and configuration.",
        svg=_svg(fig, f"fig-{scenario}"),
    )


def interaction_figure(stored: StoredRun) -> Figure | None:
    """The like-for-like interaction: one form submission (Flask, Django) against one Streamlit
    rerun after a submitted form, every configuration."""
    levels = stored.load_levels
    levels = levels[levels["scenario"].isin(["form", "ui_session"])]
    if levels["scenario"].nunique() < 2:
        return None
    styles = _styles(stored.info)
    fig, axes = _new(10, 3.8, panels=2)
    for ax, metric in zip(axes, ["throughput", "latency_p50"], strict=True):
        values = _plot_metric(
            ax, stored, levels, metric, styles, series_label="{deployment} · {config} ({scenario})"
        )
        _users_axis(ax, levels["users"].unique().tolist())
        _value_axis(ax, values, allow_log=True)
        unit = "interactions/s" if metric == "throughput" else "ms"
        ax.set_title(f"{METRIC_TITLES[metric]} ({unit})", fontsize=10)
    _legend(fig, axes, bool(stats.any_flag(levels)))
    return Figure(
        id="fig-interaction",
        title="Like for like: one form submission vs one Streamlit rerun",
        caption=(
            "One interaction is a POST of the HTML form (Flask, Django: scenario form) or a "
            "rerun of the Streamlit app after a submitted form (scenario ui_session). The "
            "frameworks do different work per interaction (a server-rendered page against "
            "Streamlit's script rerun and websocket deltas); this is the closest comparison "
            "the three allow. Logarithmic axes where values span orders of magnitude."
        ),
        alt="Two line charts comparing form submissions of Flask and Django with Streamlit "
        "reruns: throughput and median latency against concurrent users.",
        svg=_svg(fig, "fig-interaction"),
    )


def resources_figure(stored: StoredRun) -> Figure | None:
    """Server CPU and memory under load, per scenario."""
    levels = stored.load_levels
    scenarios = [s for s in SCENARIO_TITLES if s in set(levels["scenario"])]
    if not scenarios:
        return None
    styles = _styles(stored.info)
    fig, axes = _new(3.1 * len(scenarios), 5.6, panels=len(scenarios), rows=2)
    for column, scenario in enumerate(scenarios):
        subset = levels[levels["scenario"] == scenario]
        for row, metric in enumerate(["server_cpu", "server_rss_mean"]):
            ax = axes[row * len(scenarios) + column]
            values = _plot_metric(ax, stored, subset, metric, styles)
            _users_axis(ax, subset["users"].unique().tolist())
            ax.set_ylim(bottom=0, top=max([*values, 1]) * 1.15)
            ax.grid(True, alpha=0.3)
            short = "CPU" if metric == "server_cpu" else "RSS"
            ax.set_title(f"{scenario}: {short} ({_unit(metric)})", fontsize=9)
    # One legend entry per line across every panel.
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(text, handle)
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="outside lower center",
        ncols=min(4, len(handles)),
        frameon=False,
        fontsize=9,
    )
    return Figure(
        id="fig-resources",
        title="Server CPU and memory under load",
        caption=(
            "Mean CPU of the server's whole process tree over each window (100 % = one core "
            "busy) and its mean resident memory (RSS, all processes: gunicorn's master and "
            "workers, or Streamlit's one process)."
        ),
        alt="Line charts of server CPU percent and resident memory against concurrent users, "
        "one column per scenario.",
        svg=_svg(fig, "fig-resources"),
    )


def _bars(counts: Iterable[int]) -> str:
    """What the bars are at these repetition counts, with their real coverage."""
    return stats.median_brackets(counts) or f"none (fewer than {stats.MIN_N_FOR_CI} repetitions)"


def cold_start_figure(stored: StoredRun) -> Figure | None:
    cold = stored.cold_starts
    if cold.empty:
        return None
    styles = _styles(stored.info)
    groups = [
        (name, config, frame["value"].to_numpy(dtype=float))
        for name in ordered(stored.info)
        for config, frame in cold[cold["deployment"] == name].groupby("config", sort=False)
    ]
    fig, (ax,) = _new(8, 0.55 * len(groups) + 1.2)
    for y, (name, _, values) in enumerate(groups):
        estimate = stats.median_ci(values.tolist())
        colour = styles[name]["color"]
        ax.scatter(values, [y] * len(values), color=colour, alpha=0.6, s=28)
        ax.plot([estimate.value] * 2, [y - 0.3, y + 0.3], color=colour, linewidth=2.5)
        if estimate.has_interval:
            ax.plot([estimate.low, estimate.high], [y, y], color=colour, linewidth=1)
    ax.set_yticks(range(len(groups)), [f"{label(stored.info, n)} · {c}" for n, c, _ in groups])
    ax.invert_yaxis()
    ax.set_xlim(left=0)
    ax.set_xlabel("seconds from start to first healthy answer")
    ax.grid(True, axis="x", alpha=0.3)
    return Figure(
        id="fig-cold-start",
        title="Cold start",
        caption="Each dot is one start of the deployment; the bar is the median; "
        f"the thin line: {_bars(g[2].size for g in groups)}.",
        alt="Dot plot of cold start times in seconds per deployment.",
        svg=_svg(fig, "fig-cold-start"),
    )


def code_size_figure(stored: StoredRun) -> Figure | None:
    code = stored.code_size
    if code.empty:
        return None
    styles = _styles(stored.info)
    names = [n for n in ordered(stored.info) if n in set(code["deployment"])]
    metrics = [
        m for m in ("sloc", "files", "config_lines", "template_lines") if m in set(code["metric"])
    ]
    fig, axes = _new(2.8 * len(metrics), 0.45 * len(names) + 1.4, panels=len(metrics))
    for ax, metric in zip(axes, metrics, strict=True):
        values = [
            float(code.loc[(code["deployment"] == n) & (code["metric"] == metric), "value"].sum())
            for n in names
        ]
        ax.barh(range(len(names)), values, color=[styles[n]["color"] for n in names])
        for y, value in enumerate(values):
            ax.annotate(
                f"{value:g}",
                (value, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
            )
        ax.set_yticks(range(len(names)), [label(stored.info, n) for n in names])
        ax.invert_yaxis()
        ax.set_xlim(0, max([*values, 1]) * 1.25)
        ax.set_title(metric.replace("_", " "), fontsize=10)
        if ax is not axes[0]:
            ax.set_yticklabels([])
    return Figure(
        id="fig-code-size",
        title="Code size of the deployments",
        caption="Counted by the runner over each manifest's code_files: source lines (SLOC), "
        "files, configuration lines and template lines. The three deployments do the same job "
        "with the same shared model code.",
        alt="Horizontal bar charts of source lines, files, configuration and template lines per "
        "deployment.",
        svg=_svg(fig, "fig-code-size"),
    )
