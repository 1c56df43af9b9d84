"""Energy from the tidy table: the power each host and link drew over time, its integral and mean, and how much
of it went while the resource did nothing; the ``energy`` report (:mod:`tracing.reports`).

A platform with wattages (SimGrid's ``wattage_per_state`` on hosts, ``wattage_range`` on links; the model is
:mod:`replay.energy`) gives the tidy CSV a ``power`` variable, in watts, on each ``HOST`` and ``LINK`` container
that has them: a step function, each row a power held from ``start`` to ``end``. Its energy is the exact integral
of that function, the sum of watts x duration over its rows, added in date order: the engine's meter adds the
same products in the same order, so the report gives the run summary's ``energy`` (per host and link, to the
last bit; the total to rounding, being added in another order). When some host has several power states, every
host also has ``pstate``, the index of its current state (:func:`pstates`). A CSV without ``power`` rows comes
from a platform without wattages: :func:`energy` and :func:`power` are empty.

Idle and busy: a host is *busy* while its ``power_used`` (the CPU rate used, flop/s) is above 0, a link while its
``bandwidth_used`` (byte/s) is; *idle* otherwise. Power and usage do not always change together (a change of
power state changes the power and not the usage), so the split cuts each resource's time at every date where
either changes: on each piece both are constant, and its energy is watts x length, added in date order. Idle
and busy joules add up to the resource's joules to rounding (they add other products), as idle and busy times
add up to its time.
"""

from __future__ import annotations

import math

import polars as pl

from tracing.reports import Inputs, Plan, Shown
from tracing.tidy import Trace, as_lazy, collect, run_end, sum_in_order

__all__ = [
    "ENERGY_COLUMNS",
    "NO_WATTAGES",
    "POWER_COLUMNS",
    "PSTATE_COLUMNS",
    "energy",
    "energy_plan",
    "energy_table",
    "human_energy",
    "human_power",
    "power",
    "pstates",
]

#: The resources that may draw power: the kind of each container type.
_KINDS = {"HOST": "host", "LINK": "link"}
#: What says a resource is busy (above 0) or idle (0): its usage variable, by kind.
_USAGE = {"host": "power_used", "link": "bandwidth_used"}

#: :func:`energy`'s columns and types.
ENERGY_COLUMNS: dict[str, type[pl.DataType]] = {
    "kind": pl.String, "name": pl.String, "time": pl.Float64, "joules": pl.Float64, "mean_watts": pl.Float64,
    "idle_time": pl.Float64, "idle_joules": pl.Float64, "busy_time": pl.Float64, "busy_joules": pl.Float64,
}
#: :func:`power`'s columns (the step functions).
POWER_COLUMNS = ("kind", "name", "start", "end", "duration", "watts")
#: :func:`pstates`'s columns.
PSTATE_COLUMNS = ("host", "start", "end", "duration", "pstate")

#: The note of an empty ``energy`` table (``replay analyze`` says it under the table).
NO_WATTAGES = ("none in this trace: the platform of the run has no wattages (hosts' wattage_per_state, links' "
               "wattage_range)")


# -- the step functions --------------------------------------------------------------------------------------------
def _resources(lf: pl.LazyFrame) -> pl.LazyFrame:
    """``name, kind`` of the hosts and links of the trace (host or link, from their container type)."""
    return (
        lf.filter((pl.col("kind") == "container") & pl.col("type").is_in(list(_KINDS)))
        .select(pl.col("container").alias("name"),
                pl.col("type").replace_strict(_KINDS, return_dtype=pl.String).alias("kind"))
        .unique(subset="name", keep="first", maintain_order=True)
    )


def _steps(lf: pl.LazyFrame, *types: str) -> pl.LazyFrame:
    """The variable rows of ``types`` on hosts and links: ``kind, name, type, start, end, duration, value``."""
    rows = lf.filter((pl.col("kind") == "variable") & pl.col("type").is_in(list(types)))
    return (
        rows.select(pl.col("container").alias("name"), "type", "start", "end", "duration", "value")
        .join(_resources(lf), on="name", how="inner", maintain_order="left")
        .select("kind", "name", "type", "start", "end", "duration", "value")
    )


def _power(lf: pl.LazyFrame) -> pl.LazyFrame:
    return (
        _steps(lf, "power").select(*POWER_COLUMNS[:-1], pl.col("value").alias("watts"))
        .sort("kind", "name", "start")
    )


def _usage(lf: pl.LazyFrame) -> pl.LazyFrame:
    """``kind, name, start, used``: the usage variable of each host (``power_used``) and link."""
    rows = _steps(lf, *_USAGE.values())
    return (
        rows.filter(pl.col("type") == pl.col("kind").replace_strict(_USAGE, return_dtype=pl.String))
        .select("kind", "name", "start", pl.col("value").alias("used"))
        .sort("kind", "name", "start")
    )


def _pstates(lf: pl.LazyFrame) -> pl.LazyFrame:
    return (
        _steps(lf, "pstate").filter(pl.col("kind") == "host")
        .select(pl.col("name").alias("host"), "start", "end", "duration",
                pl.col("value").cast(pl.Int64).alias("pstate"))
        .sort("host", "start")
    )


def power(trace: Trace) -> pl.LazyFrame:
    """The power of every host and link with wattages, as step functions: ``kind`` (``host``, ``link``),
    ``name``, ``start``, ``end``, ``duration`` (seconds), ``watts``, one row per power held from ``start`` to
    ``end``, by kind, name and start. Empty for a platform without wattages."""
    return _power(as_lazy(trace))


def pstates(trace: Trace) -> pl.LazyFrame:
    """The power state of every host, as step functions: ``host, start, end, duration, pstate`` (the state's
    index in the host's ``wattage_per_state`` and speeds), by host and start. Empty unless some host of the
    platform has several power states (then every host has rows)."""
    return _pstates(as_lazy(trace))


# -- the integral ----------------------------------------------------------------------------------------------------
def _pieces(power_rows: pl.LazyFrame, usage: pl.LazyFrame) -> pl.LazyFrame:
    """Each resource's time cut at every date where its power or its usage changes: ``kind, name, at, length,
    watts, used``, both constant from ``at`` for ``length`` seconds (a resource with no usage row is idle)."""
    keys = ["kind", "name"]
    spans = power_rows.group_by(keys).agg(pl.col("start").min().alias("first"), pl.col("end").max().alias("last"))
    cuts = (
        pl.concat([power_rows.select(*keys, pl.col("start").alias("at")),
                   power_rows.select(*keys, pl.col("end").alias("at")),
                   usage.select(*keys, pl.col("start").alias("at"))])
        .unique().sort(*keys, "at")
        .with_columns(pl.col("at").shift(-1).over(keys).alias("until"))
        .join(spans, on=keys, how="inner")
        .filter(pl.col("until").is_not_null() & (pl.col("at") >= pl.col("first")) & (pl.col("until") <= pl.col("last")))
        .sort("at")
    )
    held = power_rows.select(*keys, pl.col("start").alias("p_start"), "watts").sort("p_start")
    used = usage.select(*keys, pl.col("start").alias("u_start"), "used").sort("u_start")
    return (
        cuts.join_asof(held, left_on="at", right_on="p_start", by=keys, strategy="backward", check_sortedness=False)
        .join_asof(used, left_on="at", right_on="u_start", by=keys, strategy="backward", check_sortedness=False)
        .select(*keys, "at", (pl.col("until") - pl.col("at")).alias("length"), "watts",
                pl.col("used").fill_null(0.0))
    )


def _energy(lf: pl.LazyFrame) -> pl.LazyFrame:
    keys = ["kind", "name"]
    power_rows = _power(lf)
    totals = power_rows.group_by(keys).agg(
        (pl.col("end").max() - pl.col("start").min()).alias("time"),
        sum_in_order(pl.col("watts") * pl.col("duration"), "start").alias("joules"),
        pl.col("watts").sort_by("start").first().alias("first_watts"),
    )
    busy = pl.col("used") > 0

    def part(value: pl.Expr, when: pl.Expr) -> pl.Expr:
        return sum_in_order(pl.when(when).then(value).otherwise(0.0), "at")

    length, joules = pl.col("length"), pl.col("watts") * pl.col("length")
    split = _pieces(power_rows, _usage(lf)).group_by(keys).agg(
        part(length, ~busy).alias("idle_time"), part(joules, ~busy).alias("idle_joules"),
        part(length, busy).alias("busy_time"), part(joules, busy).alias("busy_joules"),
    )
    rows = (
        totals.join(split, on=keys, how="left")
        .with_columns(pl.col("idle_time", "idle_joules", "busy_time", "busy_joules").fill_null(0.0),
                      # a run of no time: the power at its only date
                      pl.when(pl.col("time") > 0).then(pl.col("joules") / pl.col("time"))
                      .otherwise(pl.col("first_watts")).alias("mean_watts"))
        .sort(keys)
        .select(list(ENERGY_COLUMNS))
    )
    ordered = rows.with_row_index("row")
    total = (
        ordered.select(
            pl.len().alias("resources"),
            *(sum_in_order(pl.col(name), "row").alias(name)
              for name in ("joules", "mean_watts", "idle_joules", "busy_joules")),
        )
        .join(run_end(lf), how="cross")
        .filter(pl.col("resources") > 0)
        .select(
            pl.lit("total").alias("kind"), pl.lit(None, dtype=pl.String).alias("name"),
            pl.col("simulated_time").alias("time"), "joules",
            pl.when(pl.col("simulated_time") > 0).then(pl.col("joules") / pl.col("simulated_time"))
            .otherwise(pl.col("mean_watts")).alias("mean_watts"),
            pl.lit(None, dtype=pl.Float64).alias("idle_time"), "idle_joules",
            pl.lit(None, dtype=pl.Float64).alias("busy_time"), "busy_joules",
        )
    )
    return pl.concat([rows, total]).cast(ENERGY_COLUMNS)


def energy(trace: Trace) -> pl.DataFrame:
    """The energy of every host and link with wattages over the run, then their total: ``kind, name, time,
    joules, mean_watts, idle_time, idle_joules, busy_time, busy_joules``.

    One row per host (``kind`` host), then per link (link), by name: ``time`` (s) is how long its power is known
    (the whole run), ``joules`` the exact integral of its power (see the module docstring), ``mean_watts`` =
    joules / time; ``idle_*`` and ``busy_*`` are the time and energy while its usage (``power_used`` for a
    host, ``bandwidth_used`` for a link) was 0 and above 0. The last row, ``kind`` total (``name`` null), adds
    them up over the run (``time``: the run's length; its idle and busy times are null: times of different
    resources do not add). Empty, total included, for a platform without wattages.
    """
    return collect(_energy(as_lazy(trace)), trace)


# -- the report -------------------------------------------------------------------------------------------------------
def energy_plan(trace: pl.LazyFrame, inputs: Inputs) -> Plan:
    """The ``energy`` report: the ``energy`` summary, the ``power`` step functions and the hosts' ``pstates``."""
    return Plan({"energy": _energy(trace), "power": _power(trace), "pstates": _pstates(trace)})


def energy_table(frame: pl.DataFrame) -> Shown:
    """``energy`` for a person: energies in J, kJ or kWh and mean power in W or kW (:func:`human_energy`,
    :func:`human_power`), idle and busy times in seconds; the note says what idle means, or that the platform
    had no wattages."""
    if frame.is_empty():
        return frame.select("kind", "name"), NO_WATTAGES

    def shown(name: str, fmt) -> pl.Series:
        return pl.Series(name, [fmt(value) for value in frame[name]], dtype=pl.String)

    table = frame.select(
        "kind", "name",
        shown("joules", human_energy).alias("energy"), shown("mean_watts", human_power).alias("mean"),
        shown("idle_joules", human_energy).alias("idle"), shown("busy_joules", human_energy).alias("busy"),
        pl.col("idle_time").alias("idle time"), pl.col("busy_time").alias("busy time"),
    )
    return table, "idle: power_used 0 (hosts), bandwidth_used 0 (links); times in s; exact: --format csv, json"


# -- quantities for people ------------------------------------------------------------------------------------------
#: Energy units, by size: joules up to 1 kJ, kilojoules up to 1 kWh, then watt-hours with decimal prefixes.
_ENERGY_UNITS = ((1.0, "J"), (1e3, "kJ"), (3.6e6, "kWh"), (3.6e9, "MWh"), (3.6e12, "GWh"), (3.6e15, "TWh"))
_POWER_UNITS = ((1.0, "W"), (1e3, "kW"), (1e6, "MW"), (1e9, "GW"), (1e12, "TW"))


def _three_digits(value: float) -> str:
    """``value`` rounded to three significant digits, trailing zeros kept: 1.47, 12.5, 365, 0.500, 1500."""
    if value == 0:
        return "0"
    rounded = float(f"{value:.3g}")
    return f"{rounded:.{max(0, 2 - math.floor(math.log10(abs(rounded))))}f}"


def _in_units(value: float | None, units: tuple[tuple[float, str], ...]) -> str | None:
    """``value`` in the largest of ``units`` (scale, symbol) it reaches once rounded to three digits."""
    if value is None or not math.isfinite(value):
        return None if value is None else str(value)
    for index, (scale, symbol) in enumerate(units):
        shown = float(f"{value / scale:.3g}")
        following = units[index + 1][0] if index + 1 < len(units) else math.inf
        if abs(shown) * scale < following:
            return f"{_three_digits(value / scale)} {symbol}"
    raise AssertionError("unreachable")  # pragma: no cover


def human_energy(joules: float | None) -> str | None:
    """Joules as a table for people writes them, three significant digits: ``365 J``, ``12.5 kJ`` (up to 1 kWh:
    ``3590 kJ``), then ``1.00 kWh``, ``2.40 MWh``...; ``None`` stays ``None``."""
    return _in_units(joules, _ENERGY_UNITS)


def human_power(watts: float | None) -> str | None:
    """Watts as a table for people writes them, three significant digits: ``113 W``, ``1.25 kW``, ``3.00 MW``;
    ``None`` stays ``None``."""
    return _in_units(watts, _POWER_UNITS)
