"""How many hosts were on, and what they drew, over a run: ``replay plot --what hosts``, the picture of a
consolidation (what a policy in the loop saves is hosts switched off).

* **Hosts on** (:func:`draw_hosts_on`): the number of hosts on as a step line (:func:`tracing.decisions.hosts_on`:
  those not ``off``), with the hosts booting stacked on it in the Paje trace's ``booting`` amber and the number of
  hosts as a dotted line; each ``power_off`` decision of the policy is a red down-triangle on the line at its
  date, each ``power_on`` a green up-triangle (:func:`tracing.decisions.decisions`).
* **Power** (on a platform with wattages): the stacked power of :mod:`tracing.power_plot` below, its total the
  black line, a layer for each of the hosts that drew the most, with the switches as thin vertical lines (up to
  :data:`MAX_SWITCH_LINES`), so that each switch-off shows as a step down of the total.

A run without a policy draws its hosts on (all of them, but those that failed) and no mark. Drawing is
deterministic (see :mod:`tracing.plots`).
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

import polars as pl

from tracing.drawing import listing, load_matplotlib, natural_key, style_panel
from tracing.paje_types import BOOTING_VALUES
from tracing.power_plot import MAX_STACK_HOSTS, draw_power_stack, ranked

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["MAX_SWITCH_LINES", "draw_hosts_on", "hosts_figure"]

#: Up to this many switches are also drawn as vertical lines across the power panel; more are only marked.
MAX_SWITCH_LINES = 40
_ON = (0.27, 0.51, 0.71)
_BOOTING = tuple(float(part) for part in next(iter(BOOTING_VALUES.values())).split())
_SWITCHES = {"power_off": ("v", (0.75, 0.1, 0.1), "switched off (policy)"),
             "power_on": ("^", (0.1, 0.55, 0.2), "switched on (policy)")}
_ALL = (0.45, 0.45, 0.45)


def _steps(rows: pl.DataFrame, span: float) -> tuple[list[float], list[int], list[int]]:
    """The step function's dates, hosts on and booting, held to ``span``."""
    starts, on, booting = rows["start"].to_list(), rows["on"].to_list(), rows["booting"].to_list()
    if starts and starts[-1] < span:
        return [*starts, span], [*on, on[-1]], [*booting, booting[-1]]
    return starts, on, booting


def _switches(decisions: pl.DataFrame) -> pl.DataFrame:
    return decisions.filter(pl.col("action").is_in(list(_SWITCHES))).select("time", "host", "action")


def draw_hosts_on(ax: Axes, hosts_on: pl.DataFrame, decisions: pl.DataFrame, *, end: float, last: bool = True,
                  title: str | None = None) -> None:
    """Draw ``hosts_on`` (:func:`tracing.decisions.hosts_on`'s rows) over [0, ``end``] on ``ax``, with the
    power-offs and power-ons of ``decisions`` (:func:`tracing.decisions.decisions`'s rows) marked on the line."""
    mpl = load_matplotlib()
    span = max(end, 1e-9)
    rows = hosts_on.sort("start")
    xs, on, booting = _steps(rows, span)
    total = int(rows["hosts"].max() or 0) if rows.height else 0
    ax.fill_between(xs, on, step="post", color=_ON, alpha=0.25, lw=0, zorder=2)
    ax.step(xs, on, where="post", color=_ON, lw=1.4, zorder=3, label="hosts on")
    if any(booting):
        ax.fill_between(xs, on, [a + b for a, b in zip(on, booting, strict=True)], step="post", color=_BOOTING,
                        alpha=0.9, lw=0, zorder=2, label="booting")
    ax.axhline(total, color=_ALL, lw=0.9, ls=":", zorder=1, label=f"{total} hosts")
    for action, (marker, color, label) in _SWITCHES.items():
        times = _switches(decisions).filter(pl.col("action") == action)["time"].to_list()
        if times:
            # on the line just after the date (a host switched off is off then; one switched on boots)
            ys = [on[max(bisect.bisect_right(xs, time) - 1, 0)] for time in times]
            ax.plot(times, ys, ls="none", marker=marker, ms=7, color=color, mec="white", mew=0.6, zorder=5,
                    label=f"{label}: {len(times)}", clip_on=False)
    ax.set_ylim(0.0, max(total, 1) * 1.12)
    ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True, nbins=5))
    ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=7, frameon=False, handlelength=1.2)
    style_panel(ax, "hosts", span, last)
    if last:
        ax.set_xlabel("simulated time (s)")
    if title:
        ax.set_title(title, loc="left", fontsize=11)


def _switch_lines(ax: Axes, decisions: pl.DataFrame) -> None:
    """Thin vertical lines at the policy's switches, in their marks' colours (up to :data:`MAX_SWITCH_LINES`)."""
    switches = _switches(decisions)
    if switches.height > MAX_SWITCH_LINES:
        return
    for time, _, action in switches.rows():
        ax.axvline(time, color=_SWITCHES[action][1], lw=0.7, alpha=0.6, zorder=4)


def hosts_figure(fig: Figure, frames: dict[str, pl.DataFrame], margins: dict[str, Any], *, end: float,
                 name: str) -> list[str]:
    """The ``hosts`` figure in ``fig``: hosts on above the total power when the run has some (``frames``: the
    ``sla`` and ``energy`` reports' frames). Returns the notes to write under it."""
    hosts_on, decisions, power = frames["hosts_on"], frames["decisions"], frames["power"]
    switched = _switches(decisions)
    offs = switched.filter(pl.col("action") == "power_off")["host"].unique().to_list()
    title = f"Hosts on \u2014 {name}"
    if switched.height:
        title += f": {switched.height} switches by the policy"
    if power.is_empty():
        ax = fig.add_subplot(fig.add_gridspec(1, 1, **margins)[0])
        draw_hosts_on(ax, hosts_on, decisions, end=end, title=title)
    else:
        grid = fig.add_gridspec(2, 1, height_ratios=[0.45, 0.55], hspace=0.25, **margins)
        ax = fig.add_subplot(grid[0])
        draw_hosts_on(ax, hosts_on, decisions, end=end, last=False, title=title)
        power_ax = fig.add_subplot(grid[1], sharex=ax)
        hosts = sorted(ranked(frames["energy"], "host")[:MAX_STACK_HOSTS], key=natural_key)
        draw_power_stack(power_ax, power, frames["energy"], hosts=hosts, end=end, title="Power drawn, stacked")
        _switch_lines(power_ax, decisions)
        power_ax.set_xlabel("simulated time (s)")
    return [f"switched off by the policy: {listing(sorted(offs, key=natural_key))}"] if offs else []
