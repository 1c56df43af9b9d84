"""What the pictures of a run share: matplotlib, loaded only when a picture is drawn, and the order and listing of
names. :mod:`tracing.plots` (VM states, utilization; the figures) and :mod:`tracing.power_plot` (power) use it.

matplotlib is an optional extra (``pip install '.[plot]'``): without it :func:`load_matplotlib` raises
:class:`tracing.errors.PlotUnavailable`, one line saying how to install it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tracing.errors import PlotUnavailable

__all__ = ["INSTALL_HINT", "MIN_PANEL_POINTS", "OFF_STYLE", "listing", "load_matplotlib", "natural_key", "shade_off"]

INSTALL_HINT = "install the plot extra: pip install '.[plot]'"
#: The height a panel (a host's utilization, a host's or link's power) needs, in points; fewer panels are drawn
#: when they would be lower, and one lower than twice this has only two ticks on its y axis.
MIN_PANEL_POINTS = 30.0
#: How a host's off periods are drawn over its Gantt rows and its utilization panel: hatched, in the near black
#: of the Paje trace's ``off``, over whatever is under them.
OFF_STYLE: dict[str, Any] = {"facecolor": "none", "edgecolor": (0.15, 0.15, 0.15), "hatch": "////", "lw": 0.0}


def load_matplotlib() -> Any:
    """The matplotlib package with the modules the pictures use, or :class:`PlotUnavailable`."""
    try:
        import matplotlib
        import matplotlib.backends.backend_agg
        import matplotlib.figure
        import matplotlib.lines
        import matplotlib.patches
        import matplotlib.style
        import matplotlib.ticker
    except ImportError:
        raise PlotUnavailable(f"plotting needs matplotlib, which is not installed: {INSTALL_HINT}") from None
    return matplotlib


def natural_key(name: str) -> tuple:
    """A sort key putting ``pm-2`` before ``pm-10``."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part)


def listing(names: Sequence[str], limit: int = 10) -> str:
    """``names`` for a note under a picture: the first ``limit``, and how many more."""
    shown = ", ".join(names[:limit])
    return f"{shown} and {len(names) - limit} more" if len(names) > limit else shown


def shade_off(ax: Any, spans: Sequence[tuple[float, float]], low: float | None = None,
              high: float | None = None) -> int:
    """Hatch the periods ``spans`` (start, end, seconds) on ``ax``: the whole height, or from ``low`` to
    ``high`` in data units; periods of no time are left out. Returns how many were drawn."""
    drawn = 0
    for start, end in spans:
        if end <= start:
            continue
        if low is None or high is None:
            ax.axvspan(start, end, zorder=4, **OFF_STYLE)
        else:
            ax.broken_barh([(start, end - start)], (low, high - low), zorder=4, **OFF_STYLE)
        drawn += 1
    return drawn


def style_panel(ax: Any, label: str, span: float, last: bool) -> None:
    """The look every time panel shares: its name at the left, the run's time span, a light grid, and the time
    axis's labels on the last panel only."""
    ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10, fontweight="bold")
    ax.set_xlim(0.0, span * 1.01)
    ax.grid(axis="both", color=(0.85, 0.85, 0.85), lw=0.6, zorder=0)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", labelsize=8)
    if not last:
        ax.tick_params(axis="x", labelbottom=False)
