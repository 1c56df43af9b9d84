"""What a policy in the loop did, from the tidy table: its decisions, and how many hosts were on over time; read
by the ``sla`` report (:mod:`tracing.sla`) and the ``hosts`` plot (:mod:`tracing.hosts_plot`).

* A decision is a ``POLICY`` event on a ``HOST`` (:mod:`tracing.paje_policy`), labelled ``<action> <subject>
  (<reason>)``: ``place vm3 on pm-2 (placement)``, ``migrate vm3 pm-0 -> pm-5 (overload)`` (on the source),
  ``power_off pm-4 (empty)``, ``power_on pm-4 (needed)``. The action is the first word, the reason the text
  after the first `` (`` (names come from trace tokens and platform ids, which hold no `` (``).
* A host is off while a ``HOST_STATE`` row ``off`` lasts (a failure or a policy's switch-off: the
  :mod:`tracing.failures` report tells them apart by cause), and boots while a ``booting`` row, on top of its
  ``off``, lasts; it counts as on otherwise.
"""

from __future__ import annotations

import polars as pl

from tracing.capacity import off_periods
from tracing.paje_types import BOOTING_VALUES, HOST_STATE, POLICY
from tracing.tidy import Trace, as_lazy, collect, run_end

__all__ = [
    "DECISION_COLUMNS", "HOSTS_ON_COLUMNS", "booting", "booting_query", "decisions", "decisions_query", "hosts_on",
    "hosts_on_query",
]

#: :func:`decisions`'s columns and types.
DECISION_COLUMNS: dict[str, type[pl.DataType]] = {
    "time": pl.Float64, "host": pl.String, "action": pl.String, "vm": pl.String, "dst": pl.String,
    "reason": pl.String, "label": pl.String,
}
#: :func:`hosts_on`'s columns and types.
HOSTS_ON_COLUMNS: dict[str, type[pl.DataType]] = {
    "start": pl.Float64, "end": pl.Float64, "on": pl.Int64, "booting": pl.Int64, "hosts": pl.Int64,
}
_BOOTING = next(iter(BOOTING_VALUES))
#: the subject of a label: a VM first for place and migrate, a migration's destination after its arrow
_VM = r"^(?:place|migrate) (\S+) "
_DST = r"^migrate \S+ .*?-> (.*?) \("


def decisions_query(lf: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`decisions` of the rows ``lf``, to collect with other queries."""
    label = pl.col("label")
    return (
        lf.filter((pl.col("kind") == "event") & (pl.col("type") == POLICY))
        .with_row_index("_row")
        .select(
            pl.col("start").alias("time"), pl.col("container").alias("host"),
            label.str.extract(r"^(\S+)").alias("action"), label.str.extract(_VM).alias("vm"),
            label.str.extract(_DST).alias("dst"), label.str.extract(r"^.*? \((.*)\)$").alias("reason"), "label",
            "_row",
        )
        .sort("time", "_row")
        .drop("_row")
        .cast(DECISION_COLUMNS)
    )


def decisions(trace: Trace) -> pl.DataFrame:
    """The policy's decisions, in the order they were applied: ``time, host`` (placed on, migrated from,
    switched), ``action`` (``place``, ``migrate``, ``power_off``, ``power_on``), ``vm`` (place, migrate),
    ``dst`` (migrate), ``reason``, ``label`` (the event's text). Empty for a run without a policy."""
    return collect(decisions_query(as_lazy(trace)), trace)


def booting_query(lf: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`booting` of the rows ``lf``."""
    return (
        lf.filter((pl.col("kind") == "state") & (pl.col("type") == HOST_STATE) & (pl.col("label") == _BOOTING))
        .select(pl.col("container").alias("host"), "start", "end")
        .sort("host", "start")
    )


def booting(trace: Trace) -> pl.DataFrame:
    """When hosts booted: ``host, start, end`` (a ``booting`` row: from the policy's power-on to the host being
    on), by host and start."""
    return collect(booting_query(as_lazy(trace)), trace)


def hosts_on_query(lf: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`hosts_on` of the rows ``lf``."""
    hosts = (
        lf.filter((pl.col("kind") == "container") & (pl.col("type") == "HOST"))
        .select(pl.col("container").n_unique().cast(pl.Int64).alias("hosts"))
    )
    offs = off_periods(lf).filter(pl.col("kind") == "host")
    boots = booting_query(lf)
    zero = pl.lit(0, dtype=pl.Int64)
    changes = pl.concat([
        offs.select("start", pl.lit(-1, dtype=pl.Int64).alias("on"), zero.alias("booting")),
        offs.select(pl.col("end").alias("start"), pl.lit(1, dtype=pl.Int64).alias("on"), zero.alias("booting")),
        boots.select("start", zero.alias("on"), pl.lit(1, dtype=pl.Int64).alias("booting")),
        boots.select(pl.col("end").alias("start"), zero.alias("on"), pl.lit(-1, dtype=pl.Int64).alias("booting")),
        run_end(lf).select(pl.lit(0.0).alias("start"), zero.alias("on"), zero.alias("booting")),
    ])
    end = run_end(lf)
    return (
        changes.group_by("start").agg(pl.col("on").sum(), pl.col("booting").sum())
        .join(end, how="cross").join(hosts, how="cross")
        .filter((pl.col("start") < pl.col("simulated_time")) | (pl.col("start") == 0.0))  # nothing after the end
        .sort("start")  # after the joins, which keep no order
        .with_columns(
            (pl.col("hosts") + pl.col("on").cum_sum()).alias("on"), pl.col("booting").cum_sum().alias("booting"),
            pl.col("start").shift(-1).fill_null(pl.col("simulated_time")).alias("end"),
        )
        .select(list(HOSTS_ON_COLUMNS))
        .cast(HOSTS_ON_COLUMNS)
    )


def hosts_on(trace: Trace) -> pl.DataFrame:
    """How many hosts were on over the run, as a step function: ``start, end, on, booting, hosts``, one row per
    constant piece, from 0 to the run's end. ``on`` counts the ``HOST`` containers not ``off``, ``booting`` those
    booting (they are off), ``hosts`` all of them. A run of no time has one row, from 0 to 0."""
    return collect(hosts_on_query(as_lazy(trace)), trace)
