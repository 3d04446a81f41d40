"""The week's funnel as a small PNG: sent, delivered, read and failed for each of seven days.

matplotlib's object API on the Agg canvas (no pyplot, no GUI, safe off the main
thread); imported only when a chart is drawn.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from engine.stats import Totals

SERIES = (("Sent", "sent", "#4a6fa5"), ("Delivered", "delivered", "#6aa84f"), ("Read", "read", "#f1c232"))
FAILED = ("Failed", "failed", "#cc4125")


def week_chart(days: Sequence[tuple[str, Totals]], title: str) -> bytes:
    """A grouped bar chart, one group a day; PNG bytes (about 20 kB)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - slow import
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    figure = Figure(figsize=(6.4, 2.8), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    width = 0.2
    positions = range(len(days))
    highest = 0
    for index, (label, key, colour) in enumerate((*SERIES, FAILED)):
        values = [getattr(totals, key) for _, totals in days]
        highest = max(highest, *values)
        offsets = [p + (index - 1.5) * width for p in positions]
        axes.bar(offsets, values, width, label=label, color=colour)
    axes.set_ylim(0, max(highest, 1) * 1.3)  # room for the legend above the bars
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xticks(list(positions), [label for label, _ in days])
    axes.set_title(title, fontsize=10)
    axes.tick_params(labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(fontsize=7, frameon=False, ncols=4, loc="upper left")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
