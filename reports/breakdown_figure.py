"""The latency at one user taken apart, as a figure: one stacked bar per deployment (harness
floor, server and framework, model), each segment the median of its per-repetition values, and
the measured end-to-end median with its bracket drawn over the bar."""

from __future__ import annotations

import math

from reports import breakdown, figures, stats, text
from reports.inputs import StoredRun
from reports.tables import label

# Okabe-Ito, as the other figures: grey for the harness, which is no deployment's work.
SEGMENTS = (
    ("harness", "harness floor (null target)", "#999999"),
    ("server", "server + framework", "#0072B2"),
    ("model_time", "model (in-process predict)", "#E69F00"),
)
FITS = 0.07  # a segment narrower than this share of the axis gets no label inside it
OVERLAP_COLOUR = figures.BOUND_COLOUR


def breakdown_figure(stored: StoredRun, scenario: str = "api_single") -> figures.Figure | None:
    found = breakdown.breakdowns(stored, scenario)
    if not found:
        return None
    fig, (ax,) = figures._new(9, 0.6 * len(found) + 1.6)
    widest = max(_reach(b) for b in found) or 1.0
    for y, parts in enumerate(found):
        _bar(ax, y, parts, widest)
    ax.set_yticks(range(len(found)), [label(stored.info, b.deployment) for b in found])
    ax.invert_yaxis()
    ax.set_xlim(0, widest * 1.08)
    ax.set_xlabel("median latency at one user (ms)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.plot([], [], color="black", marker="|", linestyle="", markersize=12,
            label="end-to-end p50 (bar: its bracket)")  # fmt: skip
    handles, labels = ax.get_legend_handles_labels()
    # The segments in the order they stack, the end-to-end tick after them.
    order = sorted(range(len(labels)), key=lambda i: labels[i].startswith("end-to-end"))
    fig.legend([handles[i] for i in order], [labels[i] for i in order],
               loc="outside lower center", ncols=4, frameon=False, fontsize=9)  # fmt: skip
    return figures.Figure(
        id="fig-latency-breakdown",
        title=f"The latency at one user taken apart ({scenario})",
        caption=_caption(stored, found),
        alt="Horizontal stacked bars, one per deployment: the harness floor, the server and "
        "framework, and the model's in-process time, with the measured end-to-end median.",
        svg=figures._svg(fig, "fig-latency-breakdown"),
    )


def _reach(parts: breakdown.Breakdown) -> float:
    """How far right the bar, its end-to-end tick and its bracket go."""
    stacked = sum(max(getattr(parts, name).value, 0.0) for name, _, _ in SEGMENTS)
    ends = [parts.end_to_end.value, parts.end_to_end.high]
    return max([stacked, *(v for v in ends if not math.isnan(v))])


def _bar(ax, y: int, parts: breakdown.Breakdown, widest: float) -> None:
    """The three segments left to right; a negative server part gets no width (it cannot be
    stacked) but a red mark and its value, so that it is seen, not hidden."""
    left = 0.0
    for name, legend, colour in SEGMENTS:
        value = getattr(parts, name).value
        width = max(value, 0.0)
        ax.barh(y, width, left=left, color=colour, height=0.6, edgecolor="white",
                label=legend if y == 0 else "_nolegend_")  # fmt: skip
        if value < 0:
            ax.annotate(f"{_ms(value)} ms: floors overlap", (left, y), xytext=(3, 11),
                        textcoords="offset points", color=OVERLAP_COLOUR, fontsize=8)  # fmt: skip
            ax.plot([left], [y], marker="x", color=OVERLAP_COLOUR, markersize=9)
        elif width >= FITS * widest:
            ax.text(left + width / 2, y, _ms(value), ha="center", va="center",
                    fontsize=8, color="black" if name != "server" else "white")  # fmt: skip
        left += width
    _end_to_end(ax, y, parts.end_to_end)


def _end_to_end(ax, y: int, estimate: stats.Estimate) -> None:
    ax.plot([estimate.value] * 2, [y - 0.38, y + 0.38], color="black", linewidth=2)
    if estimate.has_interval:
        ax.plot([estimate.low, estimate.high], [y + 0.38] * 2, color="black", linewidth=1)


def _caption(stored: StoredRun, found: list[breakdown.Breakdown]) -> str:
    flagged = [b for b in found if b.negative or b.residual_flagged]
    counts = stats.median_brackets(b.end_to_end.n for b in found)
    caption = (
        "Each segment is the median over repetitions of one part, each repetition split on its "
        "own: harness floor = the null target's p50 in the same repetition; model = the "
        "in-process predict() median in the same repetition; server + framework = end-to-end "
        "minus both. The black tick is the end-to-end median"
        + (f", the line over it its bracket ({counts})" if counts else "")
        + ". Segments too narrow for their value are left unlabelled: the table below gives "
        "every figure."
    )
    if flagged:
        names = ", ".join(f"{label(stored.info, b.deployment)} ({_why(b)})" for b in flagged)
        caption += f" Flagged in the table: {names}."
    return caption


def _why(parts: breakdown.Breakdown) -> str:
    why = ["server + framework below zero: the floors overlap"] if parts.negative else []
    if parts.residual_flagged:
        why.append(f"the parts' medians miss the end-to-end median by over {parts.tolerance:.0%}")
    return "; ".join(why)


def _ms(value: float) -> str:
    """Every segment to about three significant digits, a whole 1 ms as 1.00 too."""
    return text.number(value, text.digits_for(value))
