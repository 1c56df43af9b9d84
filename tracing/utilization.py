"""Utilization from the tidy table: the usage of hosts, VMs, links and disks over time, its time-weighted
mean, as a fraction of capacity when the platform is known; the ``utilization`` report (:mod:`tracing.reports`).

The ``power_used`` variable of hosts and VMs (flop/s), ``bandwidth_used`` of links and ``disk_used`` of hosts with
a disk (byte/s) are step functions: each row is a value held from ``start`` to ``end``. Capacities come from a
platform: :func:`capacities` (host: cores x core speed, link: bandwidth, disk: the ``disk_bandwidth`` property),
or a frame of your own with columns ``kind, name, capacity``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from replay.platform import Platform, default_platform, load_platform
from replay.units import parse_bandwidth
from tracing.reports import Inputs, Plan, Shown
from tracing.schema import VARIABLES
from tracing.tidy import PathArg, Trace, as_lazy, collect, run_end, sum_in_order

__all__ = ["capacities", "capacities_for", "mean_utilization", "utilization"]

_UNITS = {"host": "flop/s", "vm": "flop/s", "link": "byte/s", "disk": "byte/s"}
_KIND_ORDER = ("host", "vm", "link", "disk")
#: the columns of :func:`utilization`
_SERIES = ("kind", "name", "start", "end", "duration", "value", "capacity", "fraction")
#: the fractions :func:`utilization` and :func:`mean_utilization` add: column -> the column divided by capacity
_VALUE_FRACTION = {"fraction": "value"}
_MEAN_FRACTIONS = {"fraction": "mean", "peak_fraction": "peak"}


def capacities(platform: Platform | PathArg | None = None) -> pl.DataFrame:
    """The capacities of a platform's resources: ``kind, name, capacity``.

    ``host``: cores x core speed (flop/s, initial power state); ``link``: bandwidth (byte/s; under LV08 a link
    carries at most 0.97 of it); ``disk``: a host's ``disk_bandwidth`` property (byte/s), for hosts that have
    one. ``platform`` is a loaded platform, a platform file, or ``None`` for the embedded default platform.
    VMs are not in the platform: append rows ``("vm", name, vcpus x PM core speed)`` for them if you like.
    """
    if platform is None:
        platform = default_platform()
    elif not isinstance(platform, Platform):
        platform = load_platform(platform)
    rows: list[tuple[str, str, float]] = []
    for host in platform.hosts.values():
        rows.append(("host", host.name, host.cores * host.speed))
    for link in platform.links.values():
        if link is not platform.loopback and link.name != "__loopback__":
            rows.append(("link", link.name, link.bandwidth))
    for host in platform.hosts.values():
        disk = host.properties.get("disk_bandwidth")
        if disk is not None:
            rows.append(("disk", host.name, parse_bandwidth(disk, context=f"host {host.name!r} disk_bandwidth: ")))
    return pl.DataFrame(rows, schema={"kind": pl.String, "name": pl.String, "capacity": pl.Float64}, orient="row")


def _fingerprint(lf: pl.LazyFrame) -> pl.LazyFrame:
    """The root container's name and the hosts of the trace (to tell which platform it was made on)."""
    return lf.filter(
        (pl.col("kind") == "container") & ((pl.col("depth") == 0) | (pl.col("type") == "HOST"))
    ).select("container", "depth").unique().sort("depth", "container")


def _platform_capacities(fingerprint: pl.DataFrame, platform: Platform | PathArg | None) -> pl.DataFrame | None:
    if platform is not None:
        return capacities(platform)
    default = default_platform()
    roots = fingerprint.filter(pl.col("depth") == 0)["container"].to_list()
    hosts = set(fingerprint.filter(pl.col("depth") > 0)["container"].to_list())
    if roots == [default.root.id] and hosts and hosts <= set(default.hosts):
        return capacities(default)
    return None


def capacities_for(trace: Trace, platform: Platform | PathArg | None = None) -> pl.DataFrame | None:
    """The capacities to use for ``trace``: those of ``platform`` when given; else those of the embedded
    default platform if the trace was made on it (its root container is the default platform's root zone and
    all its hosts are the default platform's), else ``None`` (utilization then has no fraction)."""
    return _platform_capacities(collect(_fingerprint(as_lazy(trace)), trace), platform)


def _capacity_frame(caps: pl.DataFrame | Platform | PathArg | None) -> pl.DataFrame | None:
    if caps is None or isinstance(caps, pl.DataFrame):
        return caps
    return capacities(caps)


def _utilization(lf: pl.LazyFrame) -> pl.LazyFrame:
    hosts = (
        lf.filter((pl.col("kind") == "container") & (pl.col("type") == "HOST"))
        .select(pl.col("container"), pl.lit(True).alias("is_host")).unique()
    )
    variables = lf.filter((pl.col("kind") == "variable") & pl.col("type").is_in(VARIABLES))
    kind = (
        pl.when(pl.col("type") == "bandwidth_used").then(pl.lit("link"))
        .when(pl.col("type") == "disk_used").then(pl.lit("disk"))
        .when(pl.col("is_host")).then(pl.lit("host"))
        .otherwise(pl.lit("vm"))
    )
    return (
        variables.join(hosts, on="container", how="left")
        .select(kind.alias("kind"), pl.col("container").alias("name"), "start", "end", "duration", "value")
    )


def _with_capacity(frame: pl.LazyFrame | pl.DataFrame, caps: pl.DataFrame | None, columns: Mapping[str, str]):
    """Join ``caps`` on (kind, name) and add ``fraction`` columns (value / capacity) as ``columns`` says."""
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    if caps is None:
        caps = pl.DataFrame(schema={"kind": pl.String, "name": pl.String, "capacity": pl.Float64})
    caps = caps.select("kind", "name", pl.col("capacity").cast(pl.Float64)).unique(["kind", "name"], keep="last")
    joined = lazy.join(caps.lazy(), on=["kind", "name"], how="left", maintain_order="left").with_columns(
        (pl.col(source) / pl.col("capacity")).alias(target) for target, source in columns.items()
    )
    return joined.collect() if isinstance(frame, pl.DataFrame) else joined


def utilization(trace: Trace, *, kind: str | Iterable[str] | None = None,
                capacities: pl.DataFrame | Platform | PathArg | None = None) -> pl.LazyFrame:
    """Resource usage over time, as step functions: ``kind, name, start, end, duration, value, capacity,
    fraction``, one row per value held from ``start`` to ``end``, by kind, name and start.

    ``kind``: ``host`` and ``vm`` (``power_used``, flop/s), ``link`` (``bandwidth_used``), ``disk``
    (``disk_used``, byte/s); all by default. ``capacities``: a frame ``kind, name, capacity`` (see
    :func:`capacities`) or a platform (or its file); ``fraction`` = value / capacity, null where the capacity
    is unknown (no ``capacities``: all null).
    """
    frame = _utilization(as_lazy(trace))
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        frame = frame.filter(pl.col("kind").is_in(kinds))
    frame = _with_capacity(frame, _capacity_frame(capacities), _VALUE_FRACTION)
    return _sort_kinds(frame, "name", "start", "end").select(_SERIES)


def _sort_kinds(frame: pl.LazyFrame, *by: str) -> pl.LazyFrame:
    order = pl.DataFrame({"kind": list(_KIND_ORDER), "k_order": range(len(_KIND_ORDER))}).lazy()
    return frame.join(order, on="kind", how="left").sort("k_order", *by, maintain_order=True).drop("k_order")


def _mean_utilization(lf: pl.LazyFrame) -> pl.LazyFrame:
    means = (
        _utilization(lf).group_by("kind", "name")
        .agg(
            sum_in_order(pl.col("duration"), "start").alias("lived"),
            sum_in_order(pl.col("value") * pl.col("duration"), "start").alias("integral"),
            pl.col("value").filter(pl.col("duration") > 0).max().fill_null(0.0).alias("peak"),
        )
        .join(run_end(lf), how="cross")
        .with_columns(
            # a VM exists from its creation to its destruction; the platform's resources for the whole run (a
            # disk's variable is only set at its first use: 0 before)
            pl.when(pl.col("kind") == "vm").then(pl.col("lived")).otherwise(pl.col("simulated_time")).alias("time")
        )
        .with_columns(
            pl.when(pl.col("time") > 0).then(pl.col("integral") / pl.col("time")).otherwise(0.0).alias("mean"),
            pl.col("kind").replace_strict(_UNITS, default=None).alias("unit"),
        )
    )
    return _sort_kinds(means, "name").select("kind", "name", "unit", "time", "mean", "peak")


def mean_utilization(trace: Trace, *, capacities: pl.DataFrame | Platform | PathArg | None = None) -> pl.DataFrame:
    """Time-weighted usage of every host, VM, link and disk: ``kind, name, unit, time, mean, peak, capacity,
    fraction, peak_fraction``.

    ``mean`` = (sum of value x duration) / ``time``, where ``time`` is how long the resource existed (the
    whole run for hosts and links, from creation to destruction for a VM); ``peak`` is the highest value held
    for a positive time; ``fraction`` and ``peak_fraction`` divide them by the capacity (null when unknown:
    see :func:`utilization`). A host computing on one of its 4 cores for the whole run has fraction 0.25.
    """
    frame = collect(_mean_utilization(as_lazy(trace)), trace)
    return _with_capacity(frame, _capacity_frame(capacities), _MEAN_FRACTIONS)


# -- the report -------------------------------------------------------------------------------------------------------
def utilization_plan(trace: pl.LazyFrame, inputs: Inputs) -> Plan:
    """The ``utilization`` report: ``mean_utilization`` and the ``utilization`` step functions, with the
    capacities of the platform of the run (:func:`capacities_for`)."""
    queries = {
        "mean_utilization": _mean_utilization(trace),
        "utilization": _sort_kinds(_utilization(trace), "name", "start", "end"),
        "fingerprint": _fingerprint(trace),
    }

    def finish(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        caps = _platform_capacities(frames["fingerprint"], inputs.platform)
        return {
            "mean_utilization": _with_capacity(frames["mean_utilization"], caps, _MEAN_FRACTIONS),
            "utilization": _with_capacity(frames["utilization"], caps, _VALUE_FRACTION).select(_SERIES),
        }

    return Plan(queries, finish)


def mean_utilization_table(frame: pl.DataFrame) -> Shown:
    """``mean_utilization`` for a person: the resources used at some point, with fractions in percent."""
    used = frame.filter(pl.col("peak") > 0)
    table = used.select(
        "kind", "name", "mean", "peak", "unit", (pl.col("fraction") * 100).alias("mean %"),
        (pl.col("peak_fraction") * 100).alias("peak %"),
    )
    if table["mean %"].null_count() == table.height:
        table = table.drop("mean %", "peak %")
    idle = frame.height - used.height
    return table, f"{idle} resources idle all run left out" if idle else ""


