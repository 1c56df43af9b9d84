"""A picture of a sweep: a metric (``--y``) against a variable or option (``--x``), one line per value of another
(``--hue``), from the results file.

Text columns written with SimGrid's units (``10ms``, ``1GBps``) are placed by value (:func:`numeric`), their
ticks labelled as written; an axis whose values are all positive and span two decades or more is logarithmic.
Where several points share an x (and hue) value, because other columns vary too, the line goes through their
mean and a band spans their minimum and maximum (the title says so). Error rows and null values are left out
(the title counts the error rows). Drawn and written as :mod:`tracing.plots` draws (matplotlib's default style,
the Agg canvas, no date in the file: the same table gives the same bytes) and writes (atomically, by
:func:`save_figure`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from replay.errors import did_you_mean
from replay.sweep.spec import text_of
from tracing.drawing import load_matplotlib
from tracing.errors import AnalysisError
from tracing.plots import save_figure
from tracing.sweep_results import numeric, read_results

__all__ = ["plot_results"]

#: the unit of an axis, by quantity kind (:data:`tracing.sweep_results.UNIT_KINDS`) or by metric column
UNITS = {"time": "s", "size": "B", "bandwidth": "B/s", "speed": "flop/s", "flops": "flop", "power": "W",
         "energy": "J", "simulated_time": "s", "downtime_total": "s", "downtime_max": "s", "energy_j": "J",
         "wall_time": "s", "sla_downtime_total": "s", "sla_downtime_mean": "s", "sla_downtime_max": "s",
         "sla_energy_kwh": "kWh"}
#: at most this many distinct x values get a tick each, labelled as written
MAX_TICKS = 12


def plot_results(results: str | os.PathLike[str], output: str | os.PathLike[str], *, x: str, y: str,
                 hue: str | None = None, size: tuple[float, float] = (8.0, 5.0), dpi: float = 100) -> Path:
    """Draw ``y`` against ``x`` (one line per value of ``hue``) from the results file into ``output`` (.png, .svg
    or .pdf); return its path."""
    table = read_results(results)
    for option, name in (("--x", x), ("--y", y), ("--hue", hue)):
        if name is not None and name not in table.columns:
            raise AnalysisError(f"{option}: expected a column of {results} ({', '.join(table.columns)}), found "
                                f"{name!r}{did_you_mean(name, table.columns)}")
    errors = table.filter(pl.col("status") != "ok").height
    ok = table.filter((pl.col("status") == "ok") & pl.col(x).is_not_null() & pl.col(y).is_not_null())
    if ok.is_empty():
        raise AnalysisError(f"{results}: expected points with status ok and values of {x} and {y}, found none")
    try:
        ys, y_kind = numeric(ok[y])
    except ValueError as error:
        raise AnalysisError(f"--y {y}: expected a column of numbers, found text ({error})") from None
    xs, x_kind, labels = _axis(ok[x])
    groups = _groups(ok, hue)
    mpl = load_matplotlib()
    fig = mpl.figure.Figure(figsize=size, dpi=dpi)
    mpl.backends.backend_agg.FigureCanvasAgg(fig)
    with mpl.style.context("default"):
        ax = fig.add_subplot()
        lines = [(label, _line([xs[i] for i in rows], [ys[i] for i in rows])) for label, rows in groups]
        aggregated = any(low != high for _, line in lines for _, _, low, high in line)
        for label, line in lines:
            drawn = ax.plot([p[0] for p in line], [p[1] for p in line], marker="o", lw=1.5, label=label)
            if aggregated:
                ax.fill_between([p[0] for p in line], [p[2] for p in line], [p[3] for p in line], alpha=0.15,
                                color=drawn[0].get_color(), lw=0)
        _x_axis(ax, xs, x_kind, labels)
        if _decades([y for _, line in lines for _, y, _, _ in line]):
            ax.set_yscale("log")
        ax.set_xlabel(_label(x, x_kind))
        ax.set_ylabel(_label(y, y_kind))
        ax.grid(color=(0.85, 0.85, 0.85), lw=0.6)
        ax.set_axisbelow(True)
        if hue is not None:
            ax.legend(title=hue, fontsize=9, title_fontsize=9)
        notes = [f"{y} against {x}" + (f", by {hue}" if hue else "")]
        if aggregated:
            notes.append("mean of the points sharing a value, band from min to max")
        if errors:
            notes.append(f"{errors} error point{'s' if errors > 1 else ''} left out")
        ax.set_title("; ".join(notes), fontsize=10)
        fig.tight_layout()
    return save_figure(fig, output, dpi=dpi)


def _axis(column: pl.Series) -> tuple[list[float], str | None, dict[float, str] | None]:
    """The x positions: values (text with units by value), or the rank of each distinct text in point order;
    with the labels of the ticks when the column is text."""
    try:
        values, kind = numeric(column)
    except ValueError:
        order = list(dict.fromkeys(column.to_list()))
        return [float(order.index(value)) for value in column.to_list()], "text", {
            float(i): str(value) for i, value in enumerate(order)}
    labels = None
    if column.dtype == pl.String:
        labels = {value: text for value, text in zip(values, column.to_list(), strict=True) if value is not None}
    return [float(value) for value in values if value is not None], kind, labels


def _groups(table: pl.DataFrame, hue: str | None) -> list[tuple[str | None, list[int]]]:
    """The rows of each line, lines in the order of their hue values (by value when they are numbers)."""
    if hue is None:
        return [(None, list(range(table.height)))]
    values = table[hue].to_list()
    distinct = list(dict.fromkeys(values))
    try:
        numbers, _ = numeric(pl.Series(hue, distinct, dtype=table[hue].dtype))
        distinct = [value for _, value in sorted(zip(numbers, distinct, strict=True),
                                                 key=lambda pair: (pair[0] is None, pair[0] or 0.0))]
    except ValueError:
        pass
    return [("null" if value is None else text_of(value), [i for i, v in enumerate(values) if v == value])
            for value in distinct]


def _line(xs: Sequence[float], ys: Sequence[float | None]) -> list[tuple[float, float, float, float]]:
    """(x, mean, min, max) of the y values of each x, by x."""
    by_x: dict[float, list[float]] = {}
    for x, y in zip(xs, ys, strict=True):
        if y is not None:
            by_x.setdefault(x, []).append(y)
    return [(x, sum(v) / len(v), min(v), max(v)) for x, v in sorted(by_x.items())]


def _x_axis(ax: Any, xs: Sequence[float], kind: str | None, labels: dict[float, str] | None) -> None:
    distinct = sorted(set(xs))
    if kind != "text" and _decades(distinct):
        ax.set_xscale("log")
    if labels is not None and len(distinct) <= MAX_TICKS:
        ax.set_xticks(distinct, [labels[value] for value in distinct])
        ax.minorticks_off()


def _decades(values: Sequence[float]) -> bool:
    """Whether values, all positive, span two decades or more: an axis for them is logarithmic."""
    return bool(values) and min(values) > 0 and max(values) / min(values) >= 100


def _label(column: str, kind: str | None) -> str:
    unit = UNITS.get(kind or "") or UNITS.get(column)
    return f"{column} ({unit})" if unit else column
