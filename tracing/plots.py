"""Pictures of a run: a Gantt chart of VM states per PM with the migrations, host utilization over time, and the
power hosts and links draw.

All are drawn from the tidy CSV (:mod:`tracing.analysis` reads it, once) with matplotlib, an optional extra
(``pip install '.[plot]'``); without it every function here raises :class:`tracing.errors.PlotUnavailable`.

* **Gantt** (:func:`draw_gantt`): one row per VM and PM it was on, rows grouped under their PM (PMs in natural
  order: ``pm-2`` before ``pm-10``). Bars are the VM's visible state (the top of its ``MSG_VM_STATE`` stack,
  :func:`tracing.analysis.vm_states`) in the Paje colours of :data:`tracing.paje_model.VM_STATE_VALUES`
  (``start`` blue, ``suspend`` red, ``migrate`` orange, ``stop-and-copy`` purple ...). A state too short to
  see (stop-and-copy lasts milliseconds) is widened to :data:`MIN_BAR_FRACTION` of the time axis, ending at
  its true end. Each move is an arrow from the VM's row under its old PM to its row under the new one, at the
  move date (the end of stop-and-copy), labelled with the VM.
* **Many VMs.** A row needs :data:`ROW_POINTS` of height for its label to be read; when the VMs' rows do not
  fit the figure, the Gantt chart shows those that fit, the most interesting first (:func:`ranked_vms`: the
  VMs that migrated, then those that spent the longest out of ``start``, then those that changed state most),
  says so in its title, and a panel above it counts the VMs in each state over time, all of them
  (:func:`draw_state_counts`). A person looking at thousands of VMs wants the few that did something and the
  shape of the rest; a taller figure (``size``) shows more rows.
* **Utilization** (:func:`draw_utilization`): one panel per host that computed at all, its ``power_used`` as a
  step function, as a fraction of its capacity (cores x core speed) when the platform is known (see
  :func:`tracing.analysis.capacities_for`), in Gflop/s otherwise; the time-weighted mean is written on each
  panel, dotted lines mark the moves from or to the host, and the idle hosts are listed below.
* **Power** (:mod:`tracing.power_plot`, on a platform with wattages): the power of all hosts and links stacked
  into the total, above a panel per host (and link) that drew the most, as many as fit, with their changes of
  power state. ``all`` shows the Gantt chart and the utilization as before and, when the run has power, the
  stack below them: it says what the placement shown above cost, in one panel, where power panels per host
  would repeat the utilization panels (a host's power is an affine function of its load in each power state)
  and take the room of the Gantt rows. A run without wattages gets the same ``all`` as ever.
* **Hosts** (:mod:`tracing.hosts_plot`): how many hosts were on, with a policy's switches, above the total power.

Output is deterministic: the Agg canvas (the global pyplot backend is left alone), matplotlib's default style
whatever the user's matplotlibrc says, the size and dpi asked for (:data:`SIZES` and :data:`DPI` by default),
no software or date in the file's metadata and fixed SVG ids, so the same CSV gives the same bytes (with the
same matplotlib and FreeType). :func:`save_figure` writes PNG, SVG or PDF, by the file's suffix, atomically.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from tracing.analysis import report
from tracing.drawing import MIN_PANEL_POINTS, OFF_STYLE, listing, natural_key, shade_off, style_panel
from tracing.drawing import load_matplotlib as _matplotlib
from tracing.errors import AnalysisError
from tracing.hosts_plot import hosts_figure
from tracing.paje_types import VM_STATE_VALUES
from tracing.power_plot import MAX_STACK_HOSTS, choose_panels, draw_power, draw_power_stack, power_notes, ranked
from tracing.sink import atomic_path
from tracing.tidy import scan_trace

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from replay.platform import Platform

__all__ = [
    "DPI",
    "FORMATS",
    "MAX_PIXELS",
    "MIN_BAR_FRACTION",
    "PLOTS",
    "ROW_POINTS",
    "SIZES",
    "STATE_COLORS",
    "draw_gantt",
    "draw_state_counts",
    "draw_utilization",
    "figure",
    "natural_key",
    "plot",
    "ranked_vms",
    "save_figure",
    "save_png",
    "state_counts",
]

PathArg = str | os.PathLike[str]

#: What :func:`plot` draws.
PLOTS = ("gantt", "utilization", "power", "hosts", "all")
#: The files :func:`save_figure` writes, by suffix.
FORMATS = (".png", ".svg", ".pdf")
#: Default figure sizes in inches (width, height) for each plot; at :data:`DPI` dots per inch.
SIZES: dict[str, tuple[float, float]] = {"gantt": (12.0, 6.0), "utilization": (12.0, 6.0), "power": (12.0, 8.0),
                                         "hosts": (12.0, 6.0), "all": (12.0, 11.0)}
DPI = 100
#: The most pixels a picture may have on a side (Agg draws at most 2^16).
MAX_PIXELS = 2**15
#: The height a Gantt row needs, in points (its 9-point label and some room): rows that do not fit are left out.
ROW_POINTS = 13.0
#: The space between two PMs' groups of rows, in rows.
GROUP_GAP = 0.6
#: A state bar is drawn at least this fraction of the time axis wide (so that a stop-and-copy shows).
MIN_BAR_FRACTION = 0.004
#: At most this many host panels; the busiest hosts (by mean usage) are shown.
MAX_HOST_PANELS = 12
#: A host panel labels each move from or to it up to this many; more are only counted.
MAX_MOVE_LABELS = 6

def _rgb(paje_color: str) -> tuple[float, float, float]:
    red, green, blue = (float(part) for part in paje_color.split())
    return red, green, blue


#: Colours of the VM states, those of the Paje trace (RGB in [0, 1]).
STATE_COLORS: dict[str, tuple[float, float, float]] = {name: _rgb(c) for name, c in VM_STATE_VALUES.items()}
#: How the legend names the states (Paje's names, and what they mean).
STATE_LABELS = {
    "start": "start (running)", "suspend": "suspend", "save": "save (saved)", "saving": "saving (to disk)",
    "restoring": "restoring", "migrate": "migrate (pre-copy)", "stop-and-copy": "stop-and-copy",
}
BAR_ALPHA = 0.85
_OTHER_STATE = (0.5, 0.5, 0.5)
_FILL = (0.27, 0.51, 0.71)
_MOVE = (0.1, 0.1, 0.1)


# -- data ------------------------------------------------------------------------------------------------------------
def _rows(states: pl.DataFrame) -> list[tuple[str, str]]:
    """The Gantt rows: (PM, VM) pairs, PMs in natural order, VMs by the date they came to that PM."""
    if states.is_empty():
        return []
    first = states.group_by("host", "vm").agg(pl.col("start").min()).rows()
    return [(host, vm) for host, vm, _ in sorted(first, key=lambda r: (natural_key(r[0] or ""), r[2],
                                                                         natural_key(r[1])))]


def _layout(rows: list[tuple[str, str]], gap: float = GROUP_GAP) -> tuple[dict[tuple[str, str], float],
                                                                          dict[str, tuple]]:
    """y of each row (top row 0, growing down) and, per PM, (first y, last y)."""
    ys: dict[tuple[str, str], float] = {}
    groups: dict[str, tuple[float, float]] = {}
    y = 0.0
    previous = None
    for host, vm in rows:
        if previous is not None and host != previous:
            y += gap
        ys[host, vm] = y
        low, _ = groups.get(host, (y, y))
        groups[host] = (low, y)
        previous = host
        y += 1.0
    return ys, groups


def _height(rows: list[tuple[str, str]]) -> float:
    """The height of ``rows`` in rows, with the gaps between PMs' groups."""
    return len(rows) + GROUP_GAP * max(len({host for host, _ in rows}) - 1, 0)


def ranked_vms(states: pl.DataFrame, moves: pl.DataFrame) -> list[str]:
    """The VMs of ``states`` (visible VM states), the most interesting first: those that moved (the most moves
    first), then those that spent the longest out of ``start`` (suspended, saved, migrating ...), then those
    that changed state most; the others by name, in natural order."""
    if states.is_empty():
        return []
    away = pl.when(pl.col("state") != "start").then(pl.col("end") - pl.col("start")).otherwise(0.0)
    per_vm = states.group_by("vm").agg(away.sum().alias("away"), pl.len().alias("changes"))
    moved = moves.group_by("vm").agg(pl.len().alias("moves"))
    table = per_vm.join(moved, on="vm", how="left").with_columns(pl.col("moves").fill_null(0))
    return [vm for vm, *_ in sorted(table.select("vm", "moves", "away", "changes").rows(),
                                     key=lambda r: (-r[1], -r[2], -r[3], natural_key(r[0])))]


def _chosen_rows(states: pl.DataFrame, moves: pl.DataFrame, room: float) -> list[tuple[str, str]]:
    """The Gantt rows that fit in ``room`` rows: all of them if they do, else those of the VMs of
    :func:`ranked_vms`, in its order, until the next would not fit (at least one VM)."""
    rows = _rows(states)
    if _height(rows) <= room:
        return rows
    by_vm: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        by_vm.setdefault(row[1], []).append(row)
    kept: list[tuple[str, str]] = []
    for vm in ranked_vms(states, moves):
        if kept and _height([*kept, *by_vm[vm]]) > room:
            break
        kept.extend(by_vm[vm])
    chosen = {vm for _, vm in kept}
    return [row for row in rows if row[1] in chosen]


def state_counts(states: pl.DataFrame) -> pl.DataFrame:
    """How many VMs are in each visible state over time: ``time`` and one column per state (in the order of
    :data:`STATE_COLORS`, then others), each count held from its ``time`` to the next row's."""
    names = [name for name in (*STATE_COLORS, *sorted(set(states["state"]) - set(STATE_COLORS)))
             if name in set(states["state"])]
    if not names:
        return pl.DataFrame(schema={"time": pl.Float64})
    steps = pl.concat([
        states.select(pl.col("start").alias("time"), "state", pl.lit(1, dtype=pl.Int64).alias("step")),
        states.select(pl.col("end").alias("time"), "state", pl.lit(-1, dtype=pl.Int64).alias("step")),
    ])
    wide = (
        steps.group_by("time", "state").agg(pl.col("step").sum())
        .pivot(on="state", index="time", values="step").sort("time")
    )
    return wide.select("time", *(pl.col(name).fill_null(0).cum_sum() for name in names))


# -- drawing ---------------------------------------------------------------------------------------------------------
def draw_gantt(ax: Axes, states: pl.DataFrame, moves: pl.DataFrame, *, end: float, title: str | None = None,
               offs: pl.DataFrame | None = None) -> None:
    """Draw the Gantt chart of ``states`` (``vm, state, start, end, host``: visible VM states) and ``moves``
    (``vm, src, dst, time``) on ``ax``, over [0, ``end``] seconds; ``offs`` (``kind, name, start, end``) hatches
    the periods each PM was off across its rows."""
    mpl = _matplotlib()
    rows = _rows(states)
    ys, groups = _layout(rows)
    span = max(end, 1e-9)
    min_width = span * MIN_BAR_FRACTION
    height = 0.62
    seen: list[str] = []
    for index, (low, high) in enumerate(sorted(groups.values())):
        if index % 2 == 0:
            ax.axhspan(low - 0.5, high + 0.5, color=(0.94, 0.94, 0.94), zorder=0, lw=0)
        if index:
            ax.axhline(low - 0.8, color=(0.6, 0.6, 0.6), lw=0.8, zorder=1)
    narrow: list[tuple[float, float, float, tuple]] = []
    for (host, vm, state), part in states.group_by("host", "vm", "state", maintain_order=True):
        y = ys[host, vm]
        color = STATE_COLORS.get(state, _OTHER_STATE)
        if state not in seen:
            seen.append(state)
        spans = []
        for start, stop in part.select("start", "end").rows():
            if stop - start >= min_width:
                spans.append((start, stop - start))
            else:
                narrow.append((y, max(stop - min_width, 0.0), min_width, color))
        if spans:
            ax.broken_barh(spans, (y - height / 2, height), facecolors=[color], edgecolor="none", zorder=2,
                           alpha=BAR_ALPHA)
    for y, start, width, color in narrow:
        ax.broken_barh([(start, width)], (y - height / 2, height), facecolors=[color], edgecolor="none", zorder=3)
    for vm, src, dst, time in moves.select("vm", "src", "dst", "time").rows():
        if (src, vm) not in ys or (dst, vm) not in ys:
            continue
        y0, y1 = ys[src, vm], ys[dst, vm]
        ax.annotate("", xy=(time, y1), xytext=(time, y0), zorder=5,
                    arrowprops={"arrowstyle": "-|>", "color": _MOVE, "lw": 1.4, "shrinkA": 0, "shrinkB": 3,
                                "mutation_scale": 12})
        # the label by the arrow's tail, between the VM's old row and the row above (or below) it
        ax.annotate(vm, xy=(time, y0 - 0.5 if y1 < y0 else y0 + 0.5), xytext=(4, 0), textcoords="offset points",
                    va="center", ha="left", fontsize=8, zorder=6,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": _MOVE, "lw": 0.5, "alpha": 0.9})
    hatched = sum(shade_off(ax, _spans(offs, host), low - 0.5, high + 0.5) for host, (low, high) in groups.items())
    ax.set_yticks([ys[row] for row in rows], [vm for _, vm in rows], fontsize=9)
    centers = {host: (low + high) / 2 for host, (low, high) in groups.items()}
    widest = max((len(vm) for _, vm in rows), default=4)
    ax.yaxis.remove_overlapping_locs = False  # a PM's label may sit at the height of one of its VMs
    ax.set_yticks(list(centers.values()), list(centers), minor=True, fontsize=10, fontweight="bold")
    ax.tick_params(axis="y", which="minor", length=0, pad=10 + widest * 6.2)
    ax.tick_params(axis="y", which="major", length=0)
    last = max(ys.values(), default=0.0)
    ax.set_ylim(last + 0.75, -0.75)
    ax.set_xlim(0.0, span * 1.01)
    ax.grid(axis="x", color=(0.8, 0.8, 0.8), lw=0.6, zorder=0)
    ax.set_axisbelow(True)
    ax.set_xlabel("simulated time (s)")
    if title:
        ax.set_title(title, loc="left", fontsize=11)
    handles = [mpl.patches.Patch(facecolor=STATE_COLORS.get(s, _OTHER_STATE), alpha=BAR_ALPHA,
                                 label=STATE_LABELS.get(s, s)) for s in seen]
    handles.append(mpl.lines.Line2D([], [], color=_MOVE, marker=">", lw=1.4, markersize=6, label="move (migration)"))
    if hatched:
        handles.append(mpl.patches.Patch(label="PM off", **OFF_STYLE))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=9, frameon=False,
              title="VM state", title_fontsize=9, alignment="left")
    if not rows:
        ax.text(0.5, 0.5, "no VM in this trace", transform=ax.transAxes, ha="center", va="center")


def _host_series(series: pl.DataFrame, limit: int = MAX_HOST_PANELS) -> tuple[list[str], list[str], list[str],
                                                                                bool]:
    """Hosts to draw (the ``limit`` busiest, in natural order), idle hosts, busy hosts left out, and whether
    their fractions are known."""
    hosts = series.filter(pl.col("kind") == "host")
    known = hosts.height > 0 and hosts["capacity"].null_count() == 0
    stats = hosts.group_by("name").agg(
        (pl.col("value") * pl.col("duration")).sum().alias("integral"), pl.col("value").max().alias("peak"))
    used = stats.filter(pl.col("peak") > 0).sort("integral", "name", descending=[True, False])["name"].to_list()
    idle = sorted(stats.filter(pl.col("peak") <= 0)["name"].to_list(), key=natural_key)
    shown = sorted(used[:limit], key=natural_key)
    return shown, idle, sorted(used[limit:], key=natural_key), known


def _spans(offs: pl.DataFrame | None, host: str) -> list[tuple[float, float]]:
    """The periods ``host`` was off, from ``offs`` (:func:`tracing.capacity.off_periods`)."""
    if offs is None:
        return []
    return offs.filter((pl.col("kind") == "host") & (pl.col("name") == host)).select("start", "end").rows()


def draw_utilization(axes: Sequence[Axes], series: pl.DataFrame, moves: pl.DataFrame, *, end: float,
                     hosts: Sequence[str], fractions: bool, title: str | None = None,
                     offs: pl.DataFrame | None = None) -> None:
    """Draw the ``power_used`` of ``hosts`` (one per axes of ``axes``) from ``series`` (``kind, name, start,
    end, value, capacity, fraction``: :func:`tracing.analysis.utilization`) as step plots over [0, ``end``],
    as fractions of capacity if ``fractions``, else in Gflop/s; ``moves`` adds dotted lines at the moves,
    ``offs`` hatches the periods a host was off (left out of its mean, as in :func:`mean_utilization`)."""
    mpl = _matplotlib()
    span = max(end, 1e-9)
    column = "fraction" if fractions else "value"
    scale = 1.0 if fractions else 1e-9
    for index, (ax, host) in enumerate(zip(axes, hosts, strict=True)):
        rows = series.filter((pl.col("kind") == "host") & (pl.col("name") == host)).sort("start")
        xs = [*rows["start"].to_list(), rows["end"][-1] if rows.height else span]
        ys = [v * scale for v in rows[column].fill_null(0.0).to_list()]  # off: no fraction
        ys.append(ys[-1] if ys else 0.0)
        ax.fill_between(xs, ys, step="post", color=_FILL, alpha=0.35, lw=0, zorder=2)
        ax.step(xs, ys, where="post", color=_FILL, lw=1.2, zorder=3)
        durations = rows["duration"].to_list()
        total = sum(durations)
        off = _spans(offs, host)
        down = sum(stop - start for start, stop in off)
        mean = sum(y * d for y, d in zip(ys, durations, strict=False)) / (span - down) if total and span > down else 0.0
        label = f"mean {mean:.1%}" if fractions else f"mean {mean:.2f} Gflop/s"
        if shade_off(ax, off):
            label += f"\noff {down:.3g} s"
        ax.text(1.01, 0.5, label, transform=ax.transAxes, ha="left", va="center", fontsize=9)
        _mark_moves(ax, host, moves, span)
        small = ax.get_position().height * ax.figure.get_figheight() * 72 < 2 * MIN_PANEL_POINTS
        if fractions:
            ax.set_ylim(0.0, 1.05)
            ax.set_yticks([0.0, 1.0] if small else [0.0, 0.5, 1.0])
            ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0, decimals=0))
        else:
            ax.set_ylim(0.0, max(max(ys, default=0.0) * 1.1, 1e-9))
        style_panel(ax, host, span, last=index == len(hosts) - 1)
    if len(axes):
        axes[-1].set_xlabel("simulated time (s)")
        if title:
            axes[0].set_title(title, loc="left", fontsize=11)


def _mark_moves(ax: Axes, host: str, moves: pl.DataFrame, span: float) -> None:
    """Dotted lines at the moves from or to ``host``, each labelled with its VM (``vm →`` leaving, ``→ vm``
    arriving) when there are at most :data:`MAX_MOVE_LABELS` of them, else one label counting them. A label
    goes on the first line down the panel that is free at its date."""
    mine = moves.filter((pl.col("src") == host) | (pl.col("dst") == host)).sort("time")
    labelled = mine.height <= MAX_MOVE_LABELS
    width = ax.get_position().width * ax.figure.get_figwidth() * 72  # points
    per_point = span * 1.01 / max(width, 1.0)
    free = [-span] * 4  # where each line's last label ends, in seconds
    for vm, src, _, time in mine.select("vm", "src", "dst", "time").rows():
        ax.axvline(time, color=_MOVE, lw=0.9, ls=":", zorder=4)
        if labelled:
            text = f"{vm} \u2192" if host == src else f"\u2192 {vm}"
            level = next((i for i, end in enumerate(free) if end <= time), free.index(min(free)))
            free[level] = time + (3 + 5.2 * len(text)) * per_point  # about 5 points a character at 8 points
            _move_label(ax, text, time, level)
    if not labelled:
        leaving = mine.filter(pl.col("src") == host).height
        counts = [f"{leaving} VMs \u2192" if leaving else "", f"\u2192 {mine.height - leaving} VMs"
                  if mine.height > leaving else ""]
        _move_label(ax, ", ".join(part for part in counts if part), mine["time"][0], 0)


def _move_label(ax: Axes, text: str, time: float, level: int) -> None:
    ax.annotate(text, xy=(time, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3 - 10 * level),
                textcoords="offset points", ha="left", va="top", fontsize=8, color=_MOVE, zorder=6,
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})


def draw_state_counts(ax: Axes, states: pl.DataFrame, *, end: float, title: str | None = None) -> None:
    """Draw how many VMs are in each visible state over [0, ``end``] seconds (``states``: as for
    :func:`draw_gantt`; :func:`state_counts`), stacked, in the states' colours."""
    counts = state_counts(states)
    names = counts.columns[1:]
    span = max(end, 1e-9)
    top = 1.0
    if counts.height and names:
        totals = counts.select(pl.sum_horizontal(names)).to_series()
        top = max(float(totals.max() or 0), 1.0)
        ax.stackplot(counts["time"].to_list(), *(counts[name].to_list() for name in names), step="post",
                     colors=[STATE_COLORS.get(name, _OTHER_STATE) for name in names], alpha=BAR_ALPHA, lw=0,
                     labels=[STATE_LABELS.get(name, name) for name in names], zorder=2)
        ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False, alignment="left")
    ax.set_xlim(0.0, span * 1.01)
    ax.set_ylim(0.0, top * 1.08)
    ax.set_ylabel("VMs", fontsize=9)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="both", color=(0.85, 0.85, 0.85), lw=0.6, zorder=0)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title, loc="left", fontsize=11)


# -- figures ---------------------------------------------------------------------------------------------------------
#: the room above and below a figure's plots, in inches (title; axis label and notes), by plot
_MARGINS = {"gantt": (0.48, 0.6), "utilization": (0.48, 0.72), "power": (0.48, 0.72), "hosts": (0.48, 0.72),
            "all": (0.55, 0.77)}
#: with too many VMs, the share of the Gantt area (counts panel and rows) given to the counts panel, at most
#: this many points
_COUNTS_SHARE = 0.25
_COUNTS_POINTS = 150.0
#: the largest share of the ``all`` figure the Gantt area may take; the host panels have the rest
_GANTT_SHARE_ALL = 0.6
#: the share of the ``power`` figure's plots given to the stack, above the panels
_STACK_SHARE = 0.36
#: the space between the stack and the panels of the ``power`` figure, and between two panels, as a fraction of
#: the height of an axes (matplotlib's ``hspace``)
_POWER_HSPACE = 0.2
_PANEL_HSPACE = 0.12
#: under ``all``, when the run has power: the share of the plots given to the stack, at most this many points
_STACK_SHARE_ALL = 0.2
_STACK_POINTS = 160.0


def _counts_share(points: float) -> float:
    """The share of a Gantt area ``points`` high given to the counts panel above the rows."""
    return min(_COUNTS_SHARE, _COUNTS_POINTS / max(points, 1.0))


def _room(points: float) -> float:
    """How many rows a Gantt axes ``points`` high holds (its y range has 0.75 of a row of margin at each end)."""
    return points / ROW_POINTS - 1.5


def _checked_size(size: tuple[float, float], dpi: float) -> None:
    width, height = size
    if not (width > 0 and height > 0 and dpi > 0):
        raise AnalysisError(f"expected a positive picture size and dpi, found {width:g} x {height:g} in at "
                            f"{dpi:g} dpi")
    if max(width, height) * dpi > MAX_PIXELS:
        raise AnalysisError(f"{width:g} x {height:g} in at {dpi:g} dpi: expected a picture of at most {MAX_PIXELS} "
                            f"pixels a side, found {width * dpi:.0f} x {height * dpi:.0f} pixels")


def figure(trace_csv: PathArg, *, what: str = "all", migrations_csv: PathArg | bool | None = None,
           platform: Platform | PathArg | None = None, size: tuple[float, float] | None = None,
           dpi: float = DPI) -> Figure:
    """The figure of ``what`` (``gantt``, ``utilization``, ``power``, ``hosts``, or ``all``: the Gantt chart and the
    utilization, stacked, sharing the time axis, and the stacked power below them when the run has some) for
    the tidy CSV ``trace_csv``, ``size`` inches (width, height; :data:`SIZES` by default) at ``dpi``;
    ``platform`` gives the hosts' capacities (see :func:`tracing.analysis.capacities_for`). A Gantt chart shows
    the rows that fit (see the module docstring). The figure has the Agg canvas; save it with
    :func:`save_figure`."""
    if what not in PLOTS:
        raise ValueError(f"unknown plot {what!r}: expected one of {', '.join(PLOTS)}")
    size = size or SIZES[what]
    _checked_size(size, dpi)
    scan_trace(trace_csv)  # a file that is not ours is said so first, matplotlib or not
    mpl = _matplotlib()
    wanted = {"gantt": ["states"], "utilization": ["utilization"], "power": ["energy"], "hosts": ["sla", "energy"],
              "all": ["states", "utilization", "energy"]}[what]
    frames = report(trace_csv, what=[*wanted, "moves", "off_periods"], migrations_csv=migrations_csv,
                    platform=platform)
    end = float(frames["run"]["simulated_time"].item())
    moves = frames["moves"]
    name = Path(trace_csv).name
    above, below = (min(inches / size[1], 0.25) for inches in _MARGINS[what])
    points = size[1] * 72 * (1 - above - below)  # the height of the plots
    with mpl.style.context("default"):
        fig = mpl.figure.Figure(figsize=size, dpi=dpi)
        mpl.backends.backend_agg.FigureCanvasAgg(fig)
        hosts: list[str] = []
        idle: list[str] = []
        hidden: list[str] = []
        fractions = False
        margins = {"left": 0.12, "right": 0.83, "top": 1 - above, "bottom": below}
        if what == "power":
            _power_figure(fig, frames, margins, points, end=end, name=name)
            return fig
        if what == "hosts":
            _notes(fig, hosts_figure(fig, frames, margins, end=end, name=name))
            return fig
        # all, on a run with power: the stack below the rest, which has what is left
        stacked = what == "all" and not frames["power"].is_empty()
        stack = min(_STACK_SHARE_ALL, _STACK_POINTS / max(points, 1.0)) if stacked else 0.0
        points *= 1 - stack
        states = frames.get("vm_states")
        share, rows, crowded = _areas(what, states, moves, frames.get("utilization"), points)
        if "utilization" in wanted:
            hosts, idle, hidden, fractions = _host_series(frames["utilization"], _panels(points * (1 - share)))
        panels = max(len(hosts), 1)
        counts_ax = None
        if what == "all":
            ratios = [share, 1 - share] if not stacked else [share * (1 - stack), (1 - share) * (1 - stack), stack]
            outer = fig.add_gridspec(len(ratios), 1, height_ratios=ratios, hspace=0.12, **margins)
            gantt_ax, counts_ax = _gantt_axes(fig, outer[0], points * share, crowded)
            grid = outer[1].subgridspec(panels, 1, hspace=0.12)
            host_axes = [fig.add_subplot(grid[i], sharex=gantt_ax) for i in range(len(hosts))]
        elif what == "gantt":
            grid = fig.add_gridspec(1, 1, **margins)
            (gantt_ax, counts_ax), host_axes = _gantt_axes(fig, grid[0], points, crowded), []
        else:
            grid = fig.add_gridspec(panels, 1, hspace=0.12, **margins)
            gantt_ax, host_axes = None, [fig.add_subplot(grid[i]) for i in range(len(hosts))]
            for ax in host_axes[1:]:
                ax.sharex(host_axes[0])
        if gantt_ax is not None and states is not None:
            title = f"VM states per PM \u2014 {name}"
            if counts_ax is not None:
                total = states["vm"].n_unique()
                draw_state_counts(counts_ax, states, end=end, title=f"{title}: the {total:,} VMs in each state")
                counts_ax.tick_params(axis="x", labelbottom=False)
                shown = len({vm for _, vm in rows})
                title = (f"{shown} of {total:,} VMs: those that migrated, then the longest out of start, then "
                         f"by name (a taller figure shows more)")
            chosen = {vm for _, vm in rows}
            draw_gantt(gantt_ax, states.filter(pl.col("vm").is_in(chosen)) if crowded else states, moves,
                       end=end, title=title, offs=frames["off_periods"])
            if crowded:
                gantt_ax.title.set_fontsize(10)
            if what == "all":
                gantt_ax.tick_params(axis="x", labelbottom=False)
                gantt_ax.set_xlabel("")
        if "utilization" in wanted:
            title = ("Host CPU utilization (fraction of cores \u00d7 core speed)" if fractions
                     else "Host CPU usage in Gflop/s (capacities unknown without the platform)")
            draw_utilization(host_axes, frames["utilization"], moves, end=end, hosts=hosts, fractions=fractions,
                             title=f"{title} \u2014 {name}" if what == "utilization" else title,
                             offs=frames["off_periods"])
            if not hosts:
                ax = fig.add_subplot(grid[-1])
                ax.text(0.5, 0.5, "no host computed in this trace", transform=ax.transAxes, ha="center")
                ax.set_axis_off()
            notes = []
            if idle:
                notes.append("idle all run: " + listing(idle))
            if hidden:
                notes.append(f"not shown ({len(hidden)} less busy hosts): " + listing(hidden))
            if stacked:
                if host_axes:
                    host_axes[-1].tick_params(axis="x", labelbottom=False)
                    host_axes[-1].set_xlabel("")
                _power_stack_below(fig, outer[2], frames, gantt_ax, end=end)
            _notes(fig, notes)
    return fig


def _notes(fig: Figure, notes: list[str]) -> None:
    """The notes under a figure (what it leaves out), on one line."""
    if notes:
        fig.text(0.12, 0.012, "; ".join(notes), fontsize=8, color=(0.3, 0.3, 0.3), ha="left", va="bottom")


def _power_figure(fig: Figure, frames: dict[str, pl.DataFrame], margins: dict[str, float], points: float, *,
                  end: float, name: str) -> None:
    """The ``power`` figure: the stack above one panel per host and link that fit (:mod:`tracing.power_plot`)."""
    energy, power, pstates = frames["energy"], frames["power"], frames["pstates"]
    # the panels' area: their share of the plots once the space between the stack and them is taken
    area = points * (1 - _STACK_SHARE) * 2 / (2 + _POWER_HSPACE)
    hosts, links, hidden_hosts, hidden_links = choose_panels(energy, _fitting(area, _PANEL_HSPACE))
    resources = [*(("host", host) for host in hosts), *(("link", link) for link in links)]
    title = f"Power drawn, stacked \u2014 {name}"
    if not resources:
        stack_ax = fig.add_subplot(fig.add_gridspec(1, 1, **margins)[0])
        draw_power_stack(stack_ax, power, energy, hosts=[], end=end, title=title)
        stack_ax.set_xlabel("simulated time (s)")
        return
    grid = fig.add_gridspec(2, 1, height_ratios=[_STACK_SHARE, 1 - _STACK_SHARE], hspace=_POWER_HSPACE, **margins)
    stack_ax = fig.add_subplot(grid[0])
    cells = grid[1].subgridspec(len(resources), 1, hspace=_PANEL_HSPACE)
    axes = [fig.add_subplot(cells[index], sharex=stack_ax) for index in range(len(resources))]
    draw_power_stack(stack_ax, power, energy, hosts=hosts, end=end, title=title)
    stack_ax.tick_params(axis="x", labelbottom=False)
    draw_power(axes, power, energy, pstates, resources=resources, end=end)
    axes[0].set_title("Power of each host and link (W): those that drew the most, as many as fit", loc="left",
                      fontsize=10)
    _notes(fig, power_notes(hidden_hosts, hidden_links))


def _power_stack_below(fig: Figure, area: Any, frames: dict[str, pl.DataFrame], above: Axes | None, *,
                       end: float) -> None:
    """Under ``all``: the stacked power in ``area``, a layer for each of the :data:`MAX_STACK_HOSTS` hosts that
    drew the most, sharing the time axis of ``above``."""
    ax = fig.add_subplot(area, sharex=above) if above is not None else fig.add_subplot(area)
    hosts = sorted(ranked(frames["energy"], "host")[:MAX_STACK_HOSTS], key=natural_key)
    draw_power_stack(ax, frames["power"], frames["energy"], hosts=hosts, end=end, title="Power drawn, stacked")
    ax.set_xlabel("simulated time (s)")


def _fitting(points: float, hspace: float) -> int:
    """How many panels at least :data:`MIN_PANEL_POINTS` high fit in ``points``, ``hspace`` (a fraction of a
    panel's height) apart: at most :data:`MAX_HOST_PANELS`, at least one."""
    return min(MAX_HOST_PANELS, max(int((points + hspace * MIN_PANEL_POINTS) / (MIN_PANEL_POINTS * (1 + hspace))), 1))


def _panels(points: float) -> int:
    """How many host panels fit in ``points`` of height."""
    return min(MAX_HOST_PANELS, max(int(points / MIN_PANEL_POINTS), 1))


def _areas(what: str, states: pl.DataFrame | None, moves: pl.DataFrame, series: pl.DataFrame | None,
           points: float) -> tuple[float, list[tuple[str, str]], bool]:
    """How the plots' ``points`` of height are shared: the Gantt area's share (all of it for ``gantt``, none for
    ``utilization``; for ``all``, as much as its rows need next to the host panels, 2.2 rows each, or
    :data:`_GANTT_SHARE_ALL` if they need more), the Gantt rows drawn, and whether some were left out (then the
    area also holds the counts panel)."""
    if states is None:
        return 0.0, [], False
    rows = _rows(states)
    share = 1.0
    if what == "all" and series is not None:
        busy = _host_series(series, _panels(points * (1 - _GANTT_SHARE_ALL)))[0]
        natural = max(_height(rows) + 1, 3)
        share = natural / (natural + 2.2 * max(len(busy), 1))
        if _room(points * share) < _height(rows):
            share = _GANTT_SHARE_ALL
    area = points * share
    if _room(area) >= _height(rows):
        return share, rows, False
    return share, _chosen_rows(states, moves, _room(area * (1 - _counts_share(area)))), True


def _gantt_axes(fig: Figure, area: Any, points: float, crowded: bool) -> tuple[Axes, Axes | None]:
    """The Gantt chart's axes in ``area`` (a grid cell ``points`` high), under a panel of state counts when
    ``crowded``, with room for the Gantt chart's title between them."""
    if not crowded:
        return fig.add_subplot(area), None
    space = min(0.3, 2 * 30.0 / max(points, 1.0))  # about 30 points, as a fraction of the mean axes height
    counts = _counts_share(points)
    cells = area.subgridspec(2, 1, height_ratios=[counts, 1 - counts], hspace=space)
    counts_ax = fig.add_subplot(cells[0])
    return fig.add_subplot(cells[1], sharex=counts_ax), counts_ax


def _checked_output(path: PathArg) -> Path:
    target = Path(path)
    if target.suffix.lower() not in FORMATS:
        raise AnalysisError(f"{target}: expected a .png file name (or .svg, .pdf), found "
                            f"{target.suffix or 'no suffix'!r}")
    if not target.parent.is_dir():
        raise AnalysisError(f"{target}: expected an existing directory for the picture, found none at "
                            f"{target.parent}")
    return target


#: what :func:`save_figure` leaves out of each format's metadata: the software (with its version) and dates
_METADATA: dict[str, dict[str, None]] = {
    "png": {"Software": None},
    "svg": {"Creator": None, "Date": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
}


def save_figure(fig: Figure, path: PathArg, *, dpi: float | None = None) -> Path:
    """Write ``fig`` at ``path`` as PNG, SVG or PDF (by its suffix), atomically, with no software name or date
    in its metadata and fixed SVG ids (the same figure gives the same bytes)."""
    mpl = _matplotlib()
    target = _checked_output(path)
    kind = target.suffix.lower().lstrip(".")
    buffer = io.BytesIO()
    with mpl.style.context("default"), mpl.rc_context({"svg.hashsalt": "vmreplay"}):
        fig.savefig(buffer, format=kind, dpi=dpi or fig.dpi, metadata=_METADATA[kind])
    with atomic_path(target) as temporary:
        temporary.write_bytes(buffer.getvalue())
    return target


#: the former name of :func:`save_figure`, which wrote PNGs only
save_png = save_figure


def plot(trace_csv: PathArg, output: PathArg, *, what: str = "all", migrations_csv: PathArg | bool | None = None,
         platform: Platform | PathArg | None = None, size: tuple[float, float] | None = None,
         dpi: float = DPI) -> Path:
    """Draw ``what`` (``gantt``, ``utilization``, ``power``, ``hosts``, ``all``) for the tidy CSV ``trace_csv`` into
    ``output`` (a .png, .svg or .pdf file), ``size`` inches at ``dpi`` (:func:`figure`, then :func:`save_figure`);
    return its path."""
    target = _checked_output(output)  # before the work
    fig = figure(trace_csv, what=what, migrations_csv=migrations_csv, platform=platform, size=size, dpi=dpi)
    return save_figure(fig, target)
