"""The report's headline picture, right under Table I: the review's three frameworks at their
defaults on today's stack, as their users meet them (one form post against one Streamlit
rerun) and as an API (Flask and Django), throughput and median latency with their intervals."""

from __future__ import annotations

from reports import figures, stats
from reports.inputs import SUBJECT, StoredRun
from reports.stacks import TODAY, stack_of

PANELS = (
    (("form", "ui_session"), "throughput", "Interactions/s: form post or Streamlit rerun"),
    (("form", "ui_session"), "latency_p50", "Median latency (ms): form post or rerun"),
    (("api_single",), "throughput", "API requests/s (one row)"),
    (("api_single",), "latency_p50", "API median latency (ms)"),
)


def headline_figure(stored: StoredRun) -> figures.Figure | None:
    deployments = stored.deployments
    subjects = [
        name
        for name, info in deployments.items()
        if info.get("role", SUBJECT) == SUBJECT and stack_of(info) == TODAY
    ]
    levels = stored.load_levels
    levels = levels[levels["deployment"].isin(subjects) & (levels["config"] == "default")]
    if levels.empty:
        return None
    styles = figures._styles(stored.info)
    fig, axes = figures._new(11, 6.2, panels=2, rows=2)
    for ax, (scenarios, metric, title) in zip(axes, PANELS, strict=True):
        shown = levels[levels["scenario"].isin(scenarios)]
        values = figures._plot_metric(
            ax, stored, shown, metric, styles, series_label="{deployment} ({scenario})"
        )
        figures._users_axis(ax, levels["users"].unique().tolist())
        figures._value_axis(ax, values, allow_log=True)
        ax.set_title(title, fontsize=10)
    figures._legend(fig, axes, bool(stats.any_flag(levels)))
    return figures.Figure(
        id="fig-headline",
        title="The three frameworks at their defaults, as users and as an API",
        caption=(
            "Today's stack, each framework's default configuration. Top: one user interaction, "
            "a POST of the HTML form (Flask, Django) or a rerun of the Streamlit app after a "
            "submitted form; bottom: the JSON API (Streamlit has none). Points: median over "
            f"repetitions; bars: {figures._bars(stats.summarise(levels, 'throughput')['n'])}. "
            "Every configuration, and the references, are under Performance."
        ),
        alt="Four line charts against concurrent users: interactions per second and median "
        "latency of form posts (Flask, Django) and Streamlit reruns, and requests per second "
        "and median latency of the JSON API (Flask, Django).",
        svg=figures._svg(fig, "fig-headline"),
    )
