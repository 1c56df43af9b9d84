"""Pictures of a run: a Gantt chart of VM states per PM with the migrations, and host utilization over time.

Both are drawn from the tidy CSV (:mod:`tracing.analysis` reads it, once) with matplotlib, an optional extra
(``pip install '.[plot]'``); without it every function here raises :class:`tracing.errors.PlotUnavailable`.

* **Gantt** (:func:`draw_gantt`): one row per VM and PM it was on, rows grouped under their PM (PMs in natural
  order: ``pm-2`` before ``pm-10``). Bars are the VM's visible state (the top of its ``MSG_VM_STATE`` stack,
  :func:`tracing.analysis.vm_states`) in the Paje colours of :data:`tracing.paje_model.VM_STATE_VALUES`
  (``start`` blue, ``suspend`` red, ``migrate`` orange, ``stop-and-copy`` purple ...). A state too short to
  see (stop-and-copy lasts milliseconds) is widened to :data:`MIN_BAR_FRACTION` of the time axis, ending at
  its true end. Each move is an arrow from the VM's row under its old PM to its row under the new one, at the
  move date (the end of stop-and-copy), labelled with the VM.
* **Utilization** (:func:`draw_utilization`): one panel per host that computed at all, its ``power_used`` as a
  step function, as a fraction of its capacity (cores x core speed) when the platform is known (see
  :func:`tracing.analysis.capacities_for`), in Gflop/s otherwise; the time-weighted mean is written on each
  panel, dotted lines mark the moves from or to the host, and the idle hosts are listed below.

Output is deterministic: the Agg canvas (the global pyplot backend is left alone), matplotlib's default style
whatever the user's matplotlibrc says, a fixed figure size and dpi, and no software or date in the PNG's
metadata, so the same CSV gives the same bytes (with the same matplotlib and FreeType). Files are written
atomically. The sizes are fixed (:data:`SIZES`, :data:`DPI`); for hundreds of VMs or hosts, ask
:func:`figure` for a bigger ``size``.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from tracing.analysis import report
from tracing.errors import AnalysisError, PlotUnavailable
from tracing.paje_types import VM_STATE_VALUES
from tracing.sink import atomic_path
from tracing.tidy import scan_trace

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from replay.platform import Platform

__all__ = [
    "DPI",
    "MIN_BAR_FRACTION",
    "PLOTS",
    "SIZES",
    "STATE_COLORS",
    "draw_gantt",
    "draw_utilization",
    "figure",
    "natural_key",
    "plot",
    "save_png",
]

PathArg = str | os.PathLike[str]

#: What :func:`plot` draws.
PLOTS = ("gantt", "utilization", "all")
#: Figure sizes in inches (width, height) for each plot; at :data:`DPI` dots per inch.
SIZES: dict[str, tuple[float, float]] = {"gantt": (12.0, 6.0), "utilization": (12.0, 6.0), "all": (12.0, 11.0)}
DPI = 100
#: A state bar is drawn at least this fraction of the time axis wide (so that a stop-and-copy shows).
MIN_BAR_FRACTION = 0.004
#: At most this many host panels; the busiest hosts (by mean usage) are shown.
MAX_HOST_PANELS = 12

INSTALL_HINT = "install the plot extra: pip install '.[plot]'"


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


def _matplotlib() -> Any:
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


# -- data ------------------------------------------------------------------------------------------------------------
def natural_key(name: str) -> tuple:
    """A sort key putting ``pm-2`` before ``pm-10``."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part)


def _rows(states: pl.DataFrame) -> list[tuple[str, str]]:
    """The Gantt rows: (PM, VM) pairs, PMs in natural order, VMs by the date they came to that PM."""
    if states.is_empty():
        return []
    first = states.group_by("host", "vm").agg(pl.col("start").min()).rows()
    return [(host, vm) for host, vm, _ in sorted(first, key=lambda r: (natural_key(r[0] or ""), r[2],
                                                                         natural_key(r[1])))]


def _layout(rows: list[tuple[str, str]], gap: float = 0.6) -> tuple[dict[tuple[str, str], float], dict[str, tuple]]:
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


# -- drawing ---------------------------------------------------------------------------------------------------------
def draw_gantt(ax: Axes, states: pl.DataFrame, moves: pl.DataFrame, *, end: float, title: str | None = None) -> None:
    """Draw the Gantt chart of ``states`` (``vm, state, start, end, host``: visible VM states) and ``moves``
    (``vm, src, dst, time``) on ``ax``, over [0, ``end``] seconds."""
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
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=9, frameon=False,
              title="VM state", title_fontsize=9, alignment="left")
    if not rows:
        ax.text(0.5, 0.5, "no VM in this trace", transform=ax.transAxes, ha="center", va="center")


def _host_series(series: pl.DataFrame) -> tuple[list[str], list[str], list[str], bool]:
    """Hosts to draw (the :data:`MAX_HOST_PANELS` busiest, in natural order), idle hosts, busy hosts left out,
    and whether their fractions are known."""
    hosts = series.filter(pl.col("kind") == "host")
    known = hosts.height > 0 and hosts["capacity"].null_count() == 0
    stats = hosts.group_by("name").agg(
        (pl.col("value") * pl.col("duration")).sum().alias("integral"), pl.col("value").max().alias("peak"))
    used = stats.filter(pl.col("peak") > 0).sort("integral", "name", descending=[True, False])["name"].to_list()
    idle = sorted(stats.filter(pl.col("peak") <= 0)["name"].to_list(), key=natural_key)
    shown = sorted(used[:MAX_HOST_PANELS], key=natural_key)
    return shown, idle, sorted(used[MAX_HOST_PANELS:], key=natural_key), known


def draw_utilization(axes: Sequence[Axes], series: pl.DataFrame, moves: pl.DataFrame, *, end: float,
                     hosts: Sequence[str], fractions: bool, title: str | None = None) -> None:
    """Draw the ``power_used`` of ``hosts`` (one per axes of ``axes``) from ``series`` (``kind, name, start,
    end, value, capacity, fraction``: :func:`tracing.analysis.utilization`) as step plots over [0, ``end``],
    as fractions of capacity if ``fractions``, else in Gflop/s; ``moves`` adds dotted lines at the moves."""
    mpl = _matplotlib()
    span = max(end, 1e-9)
    column = "fraction" if fractions else "value"
    scale = 1.0 if fractions else 1e-9
    for index, (ax, host) in enumerate(zip(axes, hosts, strict=True)):
        rows = series.filter((pl.col("kind") == "host") & (pl.col("name") == host)).sort("start")
        xs = [*rows["start"].to_list(), rows["end"][-1] if rows.height else span]
        ys = [v * scale for v in rows[column].to_list()]
        ys.append(ys[-1] if ys else 0.0)
        ax.fill_between(xs, ys, step="post", color=_FILL, alpha=0.35, lw=0, zorder=2)
        ax.step(xs, ys, where="post", color=_FILL, lw=1.2, zorder=3)
        durations = rows["duration"].to_list()
        total = sum(durations)
        mean = sum(y * d for y, d in zip(ys, durations, strict=False)) / span if total else 0.0
        label = f"mean {mean:.1%}" if fractions else f"mean {mean:.2f} Gflop/s"
        ax.text(1.01, 0.5, label, transform=ax.transAxes, ha="left", va="center", fontsize=9)
        last_label = -span
        level = 0
        for vm, src, dst, time in moves.select("vm", "src", "dst", "time").sort("time").rows():
            if host not in (src, dst):
                continue
            ax.axvline(time, color=_MOVE, lw=0.9, ls=":", zorder=4)
            level = level + 1 if time - last_label < span * 0.08 else 0  # close labels go one line lower
            last_label = time
            arrow = f"{vm} \u2192" if host == src else f"\u2192 {vm}"
            ax.annotate(arrow, xy=(time, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3 - 10 * (level % 3)),
                        textcoords="offset points", ha="left", va="top", fontsize=8, color=_MOVE, zorder=6,
                        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
        if fractions:
            ax.set_ylim(0.0, 1.05)
            ax.set_yticks([0.0, 0.5, 1.0])
            ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0, decimals=0))
        else:
            ax.set_ylim(0.0, max(max(ys, default=0.0) * 1.1, 1e-9))
        ax.set_ylabel(host, rotation=0, ha="right", va="center", fontsize=10, fontweight="bold")
        ax.set_xlim(0.0, span * 1.01)
        ax.grid(axis="both", color=(0.85, 0.85, 0.85), lw=0.6, zorder=0)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", labelsize=8)
        if index < len(hosts) - 1:
            ax.tick_params(axis="x", labelbottom=False)
    if len(axes):
        axes[-1].set_xlabel("simulated time (s)")
        if title:
            axes[0].set_title(title, loc="left", fontsize=11)


# -- figures ---------------------------------------------------------------------------------------------------------
def figure(trace_csv: PathArg, *, what: str = "all", migrations_csv: PathArg | bool | None = None,
           platform: Platform | PathArg | None = None, size: tuple[float, float] | None = None,
           dpi: int = DPI) -> Figure:
    """The figure of ``what`` (``gantt``, ``utilization`` or ``all``: both, stacked, sharing the time axis) for
    the tidy CSV ``trace_csv``; ``platform`` gives the hosts' capacities (see
    :func:`tracing.analysis.capacities_for`). The figure has the Agg canvas; save it with :func:`save_png`."""
    if what not in PLOTS:
        raise ValueError(f"unknown plot {what!r}: expected one of {', '.join(PLOTS)}")
    scan_trace(trace_csv)  # a file that is not ours is said so first, matplotlib or not
    mpl = _matplotlib()
    wanted = {"gantt": ["states"], "utilization": ["utilization"], "all": ["states", "utilization"]}[what]
    frames = report(trace_csv, what=[*wanted, "moves"], migrations_csv=migrations_csv, platform=platform)
    end = float(frames["run"]["simulated_time"].item())
    moves = frames["moves"]
    name = Path(trace_csv).name
    with mpl.style.context("default"):
        fig = mpl.figure.Figure(figsize=size or SIZES[what], dpi=dpi)
        mpl.backends.backend_agg.FigureCanvasAgg(fig)
        hosts: list[str] = []
        idle: list[str] = []
        hidden: list[str] = []
        fractions = False
        if "utilization" in wanted:
            hosts, idle, hidden, fractions = _host_series(frames["utilization"])
        panels = max(len(hosts), 1)
        if what == "all":
            rows = len(_rows(frames["vm_states"]))
            outer = fig.add_gridspec(2, 1, height_ratios=[max(rows + 1, 3), 2.2 * panels], hspace=0.12,
                                     left=0.12, right=0.83, top=0.95, bottom=0.07)
            gantt_ax = fig.add_subplot(outer[0])
            grid = outer[1].subgridspec(panels, 1, hspace=0.12)
            host_axes = [fig.add_subplot(grid[i], sharex=gantt_ax) for i in range(len(hosts))]
        elif what == "gantt":
            grid = fig.add_gridspec(1, 1, left=0.12, right=0.83, top=0.92, bottom=0.1)
            gantt_ax, host_axes = fig.add_subplot(grid[0]), []
        else:
            grid = fig.add_gridspec(panels, 1, hspace=0.12, left=0.12, right=0.83, top=0.92, bottom=0.12)
            gantt_ax, host_axes = None, [fig.add_subplot(grid[i]) for i in range(len(hosts))]
            for ax in host_axes[1:]:
                ax.sharex(host_axes[0])
        if gantt_ax is not None:
            draw_gantt(gantt_ax, frames["vm_states"], moves, end=end, title=f"VM states per PM \u2014 {name}")
            if what == "all":
                gantt_ax.tick_params(axis="x", labelbottom=False)
                gantt_ax.set_xlabel("")
        if "utilization" in wanted:
            title = ("Host CPU utilization (fraction of cores \u00d7 core speed)" if fractions
                     else "Host CPU usage in Gflop/s (capacities unknown without the platform)")
            draw_utilization(host_axes, frames["utilization"], moves, end=end, hosts=hosts, fractions=fractions,
                             title=f"{title} \u2014 {name}" if what == "utilization" else title)
            if not hosts:
                ax = fig.add_subplot(grid[-1])
                ax.text(0.5, 0.5, "no host computed in this trace", transform=ax.transAxes, ha="center")
                ax.set_axis_off()
            notes = []
            if idle:
                notes.append("idle all run: " + _listing(idle))
            if hidden:
                notes.append(f"not shown ({len(hidden)} less busy hosts): " + _listing(hidden))
            if notes:
                fig.text(0.12, 0.012, "; ".join(notes), fontsize=8, color=(0.3, 0.3, 0.3), ha="left",
                         va="bottom")
    return fig


def _listing(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return f"{shown} and {len(names) - limit} more" if len(names) > limit else shown


def _checked_output(path: PathArg) -> Path:
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise AnalysisError(f"{target}: expected a .png file name, found {target.suffix or 'no suffix'!r}")
    if not target.parent.is_dir():
        raise AnalysisError(f"{target}: expected an existing directory for the picture, found none at "
                            f"{target.parent}")
    return target


def save_png(fig: Figure, path: PathArg, *, dpi: int | None = None) -> Path:
    """Write ``fig`` as a PNG at ``path``, atomically, with no software name or date in its metadata (the same
    figure gives the same bytes)."""
    mpl = _matplotlib()
    target = _checked_output(path)
    buffer = io.BytesIO()
    with mpl.style.context("default"):
        fig.savefig(buffer, format="png", dpi=dpi or fig.dpi, metadata={"Software": None})
    with atomic_path(target) as temporary:
        temporary.write_bytes(buffer.getvalue())
    return target


def plot(trace_csv: PathArg, output: PathArg, *, what: str = "all", migrations_csv: PathArg | bool | None = None,
         platform: Platform | PathArg | None = None) -> Path:
    """Draw ``what`` (``gantt``, ``utilization``, ``all``) for the tidy CSV ``trace_csv`` into the PNG
    ``output`` (:func:`figure`, then :func:`save_png`); return its path."""
    target = _checked_output(output)  # before the work
    return save_png(figure(trace_csv, what=what, migrations_csv=migrations_csv, platform=platform), target)
