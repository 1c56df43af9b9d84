"""Power over time, drawn from the ``energy`` report (:mod:`tracing.energy`): ``replay plot --what power``, and the
stacked total under the other plots of ``--what all``.

* **Stack** (:func:`draw_power_stack`): the power of every host and link with wattages, stacked, so that the top
  is what the whole platform draws (a black line): one layer per host drawn on its own (in its panel's colour),
  then one for all the other hosts (light grey) and one for the links (dark grey). The title gives the energy and
  the mean power of the run.
* **Panels** (:func:`draw_power`): one per host or link, its power as a step function in watts from 0, its mean
  power and energy on the right; a host's changes of power state are dotted lines labelled ``P<n>`` (counted
  instead when there are more than :data:`MAX_PSTATE_LABELS`).
* **Many hosts.** The panels that fit (:func:`choose_panels`) go to the hosts that drew the most energy, up to a
  quarter of them to the links that did (links draw far less than hosts and would never make it); the others
  are in the stack's grey layers and listed under the figure. The stack always holds every host and link.

Hosts and links without wattages have no ``power`` variable, so no layer and no panel. Drawing is deterministic
(see :mod:`tracing.plots`): the same CSV gives the same layers, colours and order.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

from tracing.drawing import MIN_PANEL_POINTS, listing, load_matplotlib, natural_key, style_panel
from tracing.energy import human_energy, human_power
from tracing.tidy import sum_in_order

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "LINK_COLOR",
    "MAX_PSTATE_LABELS",
    "MAX_STACK_HOSTS",
    "OTHER_COLOR",
    "choose_panels",
    "draw_power",
    "draw_power_stack",
    "host_colors",
    "power_notes",
    "power_stack",
    "ranked",
]

#: The colour of the layer of the hosts without a panel, and of the links' layer and panels.
OTHER_COLOR = (0.78, 0.78, 0.78)
LINK_COLOR = (0.45, 0.45, 0.45)
_TOTAL_COLOR = (0.1, 0.1, 0.1)
#: A host panel labels its changes of power state up to this many; more are only counted.
MAX_PSTATE_LABELS = 6
#: Without panels (under ``--what all``), the stack gives a layer of its own to at most this many hosts.
MAX_STACK_HOSTS = 8
_ALPHA = 0.85


def ranked(energy: pl.DataFrame, kind: str) -> list[str]:
    """The names of the ``kind`` rows (``host``, ``link``) of ``energy`` (:func:`tracing.energy.energy`), those
    that drew the most joules first (ties in natural order)."""
    rows = energy.filter(pl.col("kind") == kind).select("name", "joules").rows()
    return [name for name, _ in sorted(rows, key=lambda row: (-row[1], natural_key(row[0])))]


def choose_panels(energy: pl.DataFrame, panels: int) -> tuple[list[str], list[str], list[str], list[str]]:
    """Which hosts and links get one of ``panels`` panels: ``(hosts, links, hosts left out, links left out)``,
    each in natural order. Links get up to a quarter of the panels (those that drew the most), hosts the rest
    (those that drew the most), and each kind the panels the other does not need."""
    hosts, links = ranked(energy, "host"), ranked(energy, "link")
    for_links = min(len(links), panels // 4)
    for_hosts = min(len(hosts), panels - for_links)
    for_links = min(len(links), panels - for_hosts)

    def order(names: list[str]) -> list[str]:
        return sorted(names, key=natural_key)

    return order(hosts[:for_hosts]), order(links[:for_links]), order(hosts[for_hosts:]), order(links[for_links:])


def host_colors(hosts: Sequence[str]) -> dict[str, tuple[float, ...]]:
    """A colour per host of ``hosts``, in order: matplotlib's ``tab10``, then the light shades of ``tab20``, but
    their greys (those of the other hosts and of the links)."""
    mpl = load_matplotlib()
    colors = [color for color in (*mpl.colormaps["tab10"].colors, *mpl.colormaps["tab20"].colors[1::2])
              if len(set(color)) > 1]
    return {host: tuple(colors[index % len(colors)]) for index, host in enumerate(hosts)}


def power_stack(power: pl.DataFrame, hosts: Sequence[str]) -> tuple[pl.DataFrame, list[str]]:
    """The layers of the stack: a frame ``time, 0, 1, ...`` (each layer's watts, held from its ``time`` to the
    next row's) and the layers' labels: one per host of ``hosts``, then ``<n> other hosts`` and ``<n> links``
    (the link's name when it is alone) when there are some. ``power``: :func:`tracing.energy.power`'s rows (those
    held for no time, the values taken at the run's last date, are left out).

    Each layer adds the changes of its resources' power at each date (in name order: the same rows give the
    same floats) and accumulates them over time.
    """
    power = power.filter(pl.col("duration") > 0)  # a value a resource takes at the run's last date is not drawn
    if power.is_empty():
        return pl.DataFrame(schema={"time": pl.Float64}), []
    own = {name: index for index, name in enumerate(hosts)}
    names = power.select("kind", "name").unique()
    others = names.filter((pl.col("kind") == "host") & ~pl.col("name").is_in(list(own))).height
    links = sorted(names.filter(pl.col("kind") == "link")["name"].to_list(), key=natural_key)
    labels = [*hosts]
    if others:
        labels.append(f"{others} other host{'s' if others > 1 else ''}")
    if links:
        labels.append(links[0] if len(links) == 1 else f"{len(links)} links")
    layer = (
        pl.when(pl.col("kind") == "link").then(pl.lit(len(hosts) + (1 if others else 0)))
        .otherwise(pl.col("name").replace_strict(own, default=len(hosts), return_dtype=pl.Int64))
    )
    steps = (
        power.sort("kind", "name", "start")
        .with_columns(layer.alias("layer"),
                      (pl.col("watts") - pl.col("watts").shift(1).over("kind", "name").fill_null(0.0)).alias("step"))
        .group_by("layer", "start").agg(sum_in_order(pl.col("step"), "name"))
        .sort("layer", "start")
    )
    wide = steps.pivot(on="layer", index="start", values="step", sort_columns=True).sort("start")
    layers = [str(index) for index in range(len(labels))]
    wide = wide.select(pl.col("start").alias("time"),
                       *(pl.col(name).fill_null(0.0).cum_sum() if name in wide.columns else pl.lit(0.0).alias(name)
                         for name in layers))
    return wide, labels


def draw_power_stack(ax: Axes, power: pl.DataFrame, energy: pl.DataFrame, *, hosts: Sequence[str], end: float,
                     title: str | None = None) -> None:
    """Draw the stacked power of ``power`` (:func:`tracing.energy.power`'s rows) over [0, ``end``] on ``ax``:
    a layer per host of ``hosts`` (the colours of :func:`host_colors`), the others and the links (see
    :func:`power_stack`), the total as a line; ``energy`` (:func:`tracing.energy.energy`) gives the title's
    energy and mean power."""
    mpl = load_matplotlib()
    span = max(end, 1e-9)
    stack, labels = power_stack(power, hosts)
    if not labels:
        ax.text(0.5, 0.5, "no power in this trace: the platform of the run has no wattages", transform=ax.transAxes,
                ha="center", va="center")
        ax.set_yticks([])
    else:
        colors = host_colors(hosts)
        links = bool(power.filter(pl.col("kind") == "link").height)
        others = len(labels) - len(hosts) - links
        fills = [*(colors[host] for host in hosts), *[OTHER_COLOR] * others, *[LINK_COLOR] * links]
        xs, ys = _steps_to(stack["time"].to_list(), [stack[str(i)].to_list() for i in range(len(labels))], span)
        ax.stackplot(xs, *ys, step="post", colors=fills, labels=labels, alpha=_ALPHA, lw=0, zorder=2)
        total = [sum(values) for values in zip(*ys, strict=True)]
        ax.step(xs, total, where="post", color=_TOTAL_COLOR, lw=1.0, zorder=3, label="total")
        ax.set_ylim(0.0, max(max(total, default=0.0) * 1.1, 1e-9))
        entries = len(labels) + 1
        fits = max(int(ax.get_position().height * ax.figure.get_figheight() * 72 / 11), 1)
        ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=7, frameon=False, alignment="left",
                  ncols=-(-entries // fits), handlelength=1.2, columnspacing=0.8)
    ax.set_xlim(0.0, span * 1.01)
    ax.yaxis.set_major_formatter(_watts_ticks(mpl))
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="both", color=(0.85, 0.85, 0.85), lw=0.6, zorder=0)
    ax.set_axisbelow(True)
    total_row = energy.filter(pl.col("kind") == "total")
    if title is not None and total_row.height:
        joules, mean = total_row.select("joules", "mean_watts").row(0)
        title = f"{title}: {human_energy(joules)}, mean {human_power(mean)}"
    if title:
        ax.set_title(title, loc="left", fontsize=11)


def _watts_ticks(mpl) -> object:
    """Tick labels in W, kW, MW ... (:func:`tracing.energy.human_power`, with no trailing zeros: 50 W, 1.5 kW)."""

    def label(value: float, _: object) -> str:
        number, unit = str(human_power(value)).split(" ")
        return f"{number.rstrip('0').rstrip('.') if '.' in number else number} {unit}"

    return mpl.ticker.FuncFormatter(label)


def _steps_to(times: list[float], layers: list[list[float]], span: float) -> tuple[list[float], list[list[float]]]:
    """Step functions held to ``span``: the last value repeated at ``span`` when the last date is before it."""
    if times and times[-1] < span:
        return [*times, span], [[*values, values[-1]] for values in layers]
    return times, layers


def draw_power(axes: Sequence[Axes], power: pl.DataFrame, energy: pl.DataFrame, pstates: pl.DataFrame, *,
               resources: Sequence[tuple[str, str]], end: float) -> None:
    """Draw the power of ``resources`` (``(kind, name)``, one per axes of ``axes``) from ``power``
    (:func:`tracing.energy.power`'s rows) as step plots in watts over [0, ``end``], with their mean power and
    energy (``energy``: :func:`tracing.energy.energy`) and their changes of power state (``pstates``)."""
    mpl = load_matplotlib()
    span = max(end, 1e-9)
    colors = host_colors([name for kind, name in resources if kind == "host"])
    totals = {(kind, name): (joules, mean) for kind, name, joules, mean in
              energy.select("kind", "name", "joules", "mean_watts").rows()}
    for index, (ax, (kind, name)) in enumerate(zip(axes, resources, strict=True)):
        rows = power.filter((pl.col("kind") == kind) & (pl.col("name") == name) & (pl.col("duration") > 0))
        rows = rows.sort("start")
        xs, (ys,) = _steps_to(rows["start"].to_list(), [rows["watts"].to_list()], span)
        color = colors.get(name, LINK_COLOR) if kind == "host" else LINK_COLOR
        ax.fill_between(xs, ys, step="post", color=color, alpha=0.3, lw=0, zorder=2)
        ax.step(xs, ys, where="post", color=color, lw=1.2, zorder=3)
        joules, mean = totals.get((kind, name), (None, None))
        ax.text(1.01, 0.5, f"mean {human_power(mean)}\n{human_energy(joules)}", transform=ax.transAxes, ha="left",
                va="center", fontsize=8)
        if kind == "host":
            _mark_pstates(ax, pstates.filter(pl.col("host") == name).sort("start"))
        ax.set_ylim(0.0, max(max(ys, default=0.0) * 1.15, 1e-9))
        small = ax.get_position().height * ax.figure.get_figheight() * 72 < 2 * MIN_PANEL_POINTS  # 0 and a peak
        ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(1 if small else 3))
        ax.yaxis.set_major_formatter(_watts_ticks(mpl))
        style_panel(ax, name, span, last=index == len(axes) - 1)
    if len(axes):
        axes[-1].set_xlabel("simulated time (s)")


def _mark_pstates(ax: Axes, states: pl.DataFrame) -> None:
    """Dotted lines at the changes of power state of ``states`` (a host's :func:`tracing.energy.pstates` rows, by
    start), labelled ``P<n>`` when there are at most :data:`MAX_PSTATE_LABELS`, else one label counting them."""
    values = states.select("start", "pstate").rows()
    changes = [(time, state) for (_, before), (time, state) in itertools.pairwise(values) if state != before]
    for time, state in changes:
        ax.axvline(time, color=_TOTAL_COLOR, lw=0.9, ls=":", zorder=4)
        if len(changes) <= MAX_PSTATE_LABELS:
            _label(ax, f"P{state}", time)
    if len(changes) > MAX_PSTATE_LABELS:
        _label(ax, f"{len(changes)} changes of power state", changes[0][0])


def _label(ax: Axes, text: str, time: float) -> None:
    ax.annotate(text, xy=(time, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3), textcoords="offset points",
                ha="left", va="top", fontsize=8, color=_TOTAL_COLOR, zorder=6,
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})


def power_notes(hidden_hosts: Sequence[str], hidden_links: Sequence[str]) -> list[str]:
    """What a note under the figure says of the hosts and links without a panel."""
    notes = []
    if hidden_hosts:
        notes.append(f"not shown ({len(hidden_hosts)} hosts drawing less, in the stack): " + listing(hidden_hosts))
    if hidden_links:
        notes.append(f"not shown ({len(hidden_links)} links drawing less): " + listing(hidden_links))
    return notes
