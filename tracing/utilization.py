"""Utilization from the tidy table: the usage of hosts, VMs, links and disks over time, its time-weighted
mean, as a fraction of capacity when the capacities are known; the ``utilization`` report (:mod:`tracing.reports`).

The ``power_used`` variable of hosts and VMs (flop/s), ``bandwidth_used`` of links and ``disk_used`` of hosts with
a disk (byte/s) are step functions: each row is a value held from ``start`` to ``end``. Capacities come from a
platform: :func:`capacities` (host: cores x core speed, link: bandwidth, disk: the ``disk_bandwidth`` property),
or a frame of your own with columns ``kind, name, capacity``.

Capacities change during a run (:mod:`tracing.capacity`): a host's with its power state (``pstate``) and its
availability (``speed``), a link's with its ``bandwidth``; a host or link that is off has none, and its time off
is left out of its means (``time`` is how long it was up). Rows are cut where a capacity changes, and each value
is divided by the capacity at its date. A VM's capacity is its cores x the core speed of the PM it is on, so it
changes when the VM moves to a PM of another speed, or its PM's speed changes. The PM at each date is the
``parent`` of the VM's ``MSG_VM`` container; the cores are not in the tidy table (its rows are those of the Paje
trace, which says where a VM is, not how big it is): they come from the action trace that created the VMs
(:func:`vm_cores`, ``replay analyze --trace``), or a mapping of your own. Without them, VMs have no fraction.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping

import polars as pl

from replay.platform import Platform, default_platform, load_platform
from replay.trace import iter_actions
from replay.trace.vm_actions import VmCreate
from replay.units import parse_bandwidth
from tracing.capacity import attach, host_speeds, off_periods, steps
from tracing.reports import Inputs, Plan, Shown, human
from tracing.schema import VARIABLES
from tracing.tidy import PathArg, Trace, as_lazy, collect, containers, run_end, sum_in_order

__all__ = ["capacities", "capacities_for", "mean_utilization", "utilization", "vm_cores"]

log = logging.getLogger("tracing.analysis")

_UNITS = {"host": "flop/s", "vm": "flop/s", "link": "byte/s", "disk": "byte/s"}
_KIND_ORDER = ("host", "vm", "link", "disk")
#: the columns of :func:`utilization`
_SERIES = ("kind", "name", "start", "end", "duration", "value", "capacity", "fraction")
_CAPACITIES = {"kind": pl.String, "name": pl.String, "capacity": pl.Float64, "core_speed": pl.Float64}
#: a VM's cores by name
VmCores = Mapping[str, int]


def capacities(platform: Platform | PathArg | None = None) -> pl.DataFrame:
    """The capacities of a platform's resources: ``kind, name, capacity, core_speed``.

    ``host``: cores x core speed (flop/s, initial power state), and its ``core_speed``, which makes the
    capacity of the VMs on it; ``link``: bandwidth (byte/s; under LV08 a link carries at most 0.97 of it);
    ``disk``: a host's ``disk_bandwidth`` property (byte/s), for hosts that have one (``core_speed`` is null
    but for hosts). ``platform`` is a loaded platform, a platform file, or ``None`` for the embedded default
    platform. VMs are not in the platform: their capacity is worked out from their cores (see
    :func:`utilization`), or append rows ``("vm", name, capacity, None)`` for them.
    """
    if platform is None:
        platform = default_platform()
    elif not isinstance(platform, Platform):
        platform = load_platform(platform)
    rows: list[tuple[str, str, float, float | None]] = []
    for host in platform.hosts.values():
        rows.append(("host", host.name, host.cores * host.speed, host.speed))
    for link in platform.links.values():
        if link is not platform.loopback and link.name != "__loopback__":
            rows.append(("link", link.name, link.bandwidth, None))
    for host in platform.hosts.values():
        disk = host.properties.get("disk_bandwidth")
        if disk is not None:
            bandwidth = parse_bandwidth(disk, context=f"host {host.name!r} disk_bandwidth: ")
            rows.append(("disk", host.name, bandwidth, None))
    return pl.DataFrame(rows, schema=_CAPACITIES, orient="row")


def vm_cores(traces: PathArg | Iterable[PathArg]) -> dict[str, int]:
    """The cores of the VMs the action traces ``traces`` create (their ``vm_create`` lines), by VM name.

    A name created twice with different cores is left out, with a warning (which VM is which cannot be told
    from the tidy table); a trace that does not parse raises its :class:`replay.errors.TraceSyntaxError`.
    """
    paths = [traces] if isinstance(traces, str | os.PathLike) else list(traces)
    found: dict[str, int] = {}
    where: dict[str, str] = {}
    ambiguous: set[str] = set()
    for path in paths:
        for action in iter_actions(path):
            if not isinstance(action, VmCreate):
                continue
            cores = action.config.cores
            if found.setdefault(action.vm, cores) != cores and action.vm not in ambiguous:
                ambiguous.add(action.vm)
                log.warning("%s:%d: VM %r is created with %d cores, and with %d at %s: its capacity is unknown",
                            action.path, action.line, action.vm, cores, found[action.vm], where[action.vm])
            where.setdefault(action.vm, f"{action.path}:{action.line}")
    return {vm: cores for vm, cores in found.items() if vm not in ambiguous}


def _fingerprint(lf: pl.LazyFrame) -> pl.LazyFrame:
    """The root container's name and the hosts of the trace (to tell which platform it was made on)."""
    return lf.filter(
        (pl.col("kind") == "container") & ((pl.col("depth") == 0) | (pl.col("type") == "HOST"))
    ).select("container", "depth").unique().sort("depth", "container")


def _run_platform(fingerprint: pl.DataFrame, platform: Platform | PathArg | None) -> Platform | None:
    """The platform of the run: ``platform`` (loaded), else the embedded one if the trace was made on it."""
    if platform is not None:
        return platform if isinstance(platform, Platform) else load_platform(platform)
    default = default_platform()
    roots = fingerprint.filter(pl.col("depth") == 0)["container"].to_list()
    hosts = set(fingerprint.filter(pl.col("depth") > 0)["container"].to_list())
    if roots == [default.root.id] and hosts and hosts <= set(default.hosts):
        return default
    return None


def _platform_capacities(fingerprint: pl.DataFrame, platform: Platform | PathArg | None) -> pl.DataFrame | None:
    run_platform = _run_platform(fingerprint, platform)
    return capacities(run_platform) if run_platform is not None else None


def capacities_for(trace: Trace, platform: Platform | PathArg | None = None) -> pl.DataFrame | None:
    """The capacities to use for ``trace``: those of ``platform`` when given; else those of the embedded
    default platform if the trace was made on it (its root container is the default platform's root zone and
    all its hosts are the default platform's), else ``None`` (utilization then has no fraction)."""
    return _platform_capacities(collect(_fingerprint(as_lazy(trace)), trace), platform)


def _capacity_sources(
    caps: pl.DataFrame | Platform | PathArg | None,
) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """The capacities at the start and the hosts' speeds per power state (only from a platform)."""
    if caps is None or isinstance(caps, pl.DataFrame):
        return caps, None
    platform = caps if isinstance(caps, Platform) else load_platform(caps)
    return capacities(platform), host_speeds(platform)


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


def _vm_hosts(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Where each VM was: ``vm, host, c_start, c_end`` (one row per ``MSG_VM`` container, by start)."""
    return containers(lf, "MSG_VM", "vm").select("vm", "host", "c_start", "c_end")


def _sources(lf: pl.LazyFrame) -> dict[str, pl.LazyFrame]:
    """What the capacities over time read from the rows ``lf``: the changes, the off periods, the VMs' PMs."""
    return {"steps": steps(lf), "offs": off_periods(lf), "vm_hosts": _vm_hosts(lf)}


def _with_capacity(series: pl.LazyFrame, sources: Mapping[str, pl.LazyFrame], caps: pl.DataFrame | None,
                   speeds: pl.DataFrame | None, cores: VmCores | None) -> pl.LazyFrame:
    """``series`` (rows of :func:`_utilization`) cut where a capacity changes, with the capacity at each
    piece's date, ``fraction`` and ``up`` (:func:`tracing.capacity.attach`; ``sources``: :func:`_sources`)."""
    return attach(series, caps, speeds=speeds, changes=sources["steps"], offs=sources["offs"],
                  vm_hosts=sources["vm_hosts"], vm_cores=cores)


def utilization(trace: Trace, *, kind: str | Iterable[str] | None = None,
                capacities: pl.DataFrame | Platform | PathArg | None = None,
                vm_cores: VmCores | None = None) -> pl.LazyFrame:
    """Resource usage over time, as step functions: ``kind, name, start, end, duration, value, capacity,
    fraction``, one row per value held from ``start`` to ``end``, by kind, name and start.

    ``kind``: ``host`` and ``vm`` (``power_used``, flop/s), ``link`` (``bandwidth_used``), ``disk``
    (``disk_used``, byte/s); all by default. ``capacities``: a frame ``kind, name, capacity`` (see
    :func:`capacities`; with its ``core_speed`` column, VMs get a capacity from ``vm_cores``) or a platform
    (or its file); ``vm_cores``: the cores of the VMs by name (:func:`vm_cores` reads them from an action
    trace). Rows are cut where a capacity changes (:mod:`tracing.capacity`): ``capacity`` is the capacity at the
    row's date (a VM's, cores x the core speed of the PM it was on then; 0 while off), ``fraction`` = value /
    capacity, null where the capacity is unknown or 0 (off). Power states are read with a platform (not with a
    frame of capacities, which knows none).
    """
    lf = as_lazy(trace)
    frame = _utilization(lf)
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        frame = frame.filter(pl.col("kind").is_in(kinds))
    frame = _with_capacity(frame, _sources(lf), *_capacity_sources(capacities), vm_cores)
    return _sort_kinds(frame, "name", "start", "end").select(_SERIES)


def _sort_kinds(frame: pl.LazyFrame, *by: str) -> pl.LazyFrame:
    order = pl.DataFrame({"kind": list(_KIND_ORDER), "k_order": range(len(_KIND_ORDER))}).lazy()
    return frame.join(order, on="kind", how="left").sort("k_order", *by, maintain_order=True).drop("k_order")


def _down_times(offs: pl.LazyFrame) -> pl.LazyFrame:
    """``kind, name, down``: how long each host (and its disk) and link was off."""
    down = offs.group_by("kind", "name").agg(sum_in_order(pl.col("end") - pl.col("start"), "start").alias("down"))
    return pl.concat([down, down.filter(pl.col("kind") == "host").with_columns(pl.lit("disk").alias("kind"))])


def _mean_utilization(series: pl.LazyFrame, end: pl.LazyFrame, offs: pl.LazyFrame) -> pl.LazyFrame:
    """The summary of ``series`` (:func:`_with_capacity`'s rows) over a run ending as ``end`` says, without
    the periods ``offs`` (:func:`tracing.capacity.off_periods`) when resources were off."""
    timed = pl.col("duration") > 0
    up = pl.col("up")
    capacity = pl.col("capacity").filter(timed & up)
    while_up = pl.when(up).then(pl.col("duration")).otherwise(0.0)
    means = (
        series.group_by("kind", "name")
        .agg(
            sum_in_order(while_up, "start").alias("lived"),
            sum_in_order(pl.col("value") * pl.col("duration"), "start").alias("integral"),
            pl.col("value").filter(timed).max().fill_null(0.0).alias("peak"),
            sum_in_order((pl.col("fraction") * pl.col("duration")).fill_null(0.0), "start").alias("shares"),
            pl.col("fraction").filter(timed).max().fill_null(0.0).alias("peak_fraction"),
            capacity.is_null().any().alias("unknown"),
            capacity.min().alias("low"),
            capacity.max().alias("high"),
            sum_in_order((pl.col("capacity") * while_up).fill_null(0.0), "start").alias("capacities"),
            pl.col("capacity").filter(up).max().alias("any_capacity"),
            # up with nothing to give (a speed ratio of 0): no fraction for that time
            sum_in_order(pl.when(up & (pl.col("capacity") == 0)).then(pl.col("duration")).otherwise(0.0), "start")
            .alias("stalled"),
        )
        .join(end, how="cross")
        .join(_down_times(offs), on=["kind", "name"], how="left")
        .with_columns(
            # a VM exists from its creation to its destruction; the platform's resources for the whole run (a
            # disk's variable is only set at its first use: 0 before), but while they were off
            pl.when(pl.col("kind") == "vm").then(pl.col("lived"))
            .when(pl.col("down").is_null()).then(pl.col("simulated_time"))
            .otherwise(pl.col("simulated_time") - pl.col("down")).alias("time")
        )
        .with_columns(
            pl.when(pl.col("time") > 0).then(pl.col("integral") / pl.col("time")).otherwise(0.0).alias("mean"),
            pl.col("kind").replace_strict(_UNITS, default=None).alias("unit"),
            # a capacity that changed (a VM moved to a PM of another speed, a power state): its time-weighted mean
            pl.when(pl.col("unknown")).then(None)
            .when(pl.col("low") == pl.col("high")).then(pl.col("high"))
            .when(pl.col("lived") > 0).then(pl.col("capacities") / pl.col("lived"))
            .otherwise(pl.col("any_capacity")).alias("capacity"),
            (pl.col("time") - pl.col("stalled")).alias("measured"),
        )
        .with_columns(
            pl.when(pl.col("capacity").is_null()).then(None)
            .when(pl.col("measured") > 0).then(pl.col("shares") / pl.col("measured")).otherwise(0.0)
            .alias("fraction"),
            pl.when(pl.col("capacity").is_not_null()).then(pl.col("peak_fraction")).alias("peak_fraction"),
        )
    )
    return _sort_kinds(means, "name").select("kind", "name", "unit", "time", "mean", "peak", "capacity", "fraction",
                                            "peak_fraction")


def mean_utilization(trace: Trace, *, capacities: pl.DataFrame | Platform | PathArg | None = None,
                     vm_cores: VmCores | None = None) -> pl.DataFrame:
    """Time-weighted usage of every host, VM, link and disk: ``kind, name, unit, time, mean, peak, capacity,
    fraction, peak_fraction``.

    ``mean`` = (sum of value x duration) / ``time``, where ``time`` is how long the resource existed and was up
    (the whole run for hosts and links but the time they were off, from creation to destruction for a VM);
    ``peak`` is the highest value held
    for a positive time. ``fraction`` is the time-weighted mean of value / capacity, each value divided by the
    capacity at its date, and ``peak_fraction`` the highest of them (null when the capacity is unknown: see
    :func:`utilization`; a time with a capacity of 0 while up, a speed ratio of 0, is left out of it);
    ``capacity`` is the capacity, or its time-weighted mean while up if it changed (a VM that moved to a PM of
    another core speed, a power state). A host computing on one of its 4 cores for the whole run has fraction
    0.25.
    """
    lf = as_lazy(trace)
    sources = _sources(lf)
    series = _with_capacity(_utilization(lf), sources, *_capacity_sources(capacities), vm_cores)
    return collect(_mean_utilization(series, run_end(lf), sources["offs"]), trace)


# -- the report -------------------------------------------------------------------------------------------------------
def utilization_plan(trace: pl.LazyFrame, inputs: Inputs) -> Plan:
    """The ``utilization`` report: ``mean_utilization`` and the ``utilization`` step functions, with the
    capacities of the platform of the run (:func:`capacities_for`) and the VMs' cores of ``inputs``."""
    queries = {
        "utilization": _utilization(trace),
        "end": run_end(trace),
        "fingerprint": _fingerprint(trace),
        **_sources(trace),
    }

    def finish(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        run_platform = _run_platform(frames["fingerprint"], inputs.platform)
        caps, speeds = _capacity_sources(run_platform)
        sources = {name: frames[name].lazy() for name in _sources(trace)}
        series = _with_capacity(frames["utilization"].lazy(), sources, caps, speeds, inputs.vm_cores)
        means, rows = pl.collect_all([_mean_utilization(series, frames["end"].lazy(), sources["offs"]),
                                      _sort_kinds(series, "name", "start", "end").select(_SERIES)])
        return {"mean_utilization": means, "utilization": rows}

    return Plan(queries, finish)


def mean_utilization_table(frame: pl.DataFrame) -> Shown:
    """``mean_utilization`` for a person: the resources used at some point, rates in human units (``1.47
    Gf/s``, ``125 MB/s``), fractions in percent."""
    used = frame.filter(pl.col("peak") > 0)
    table = used.select(
        "kind", "name",
        *(pl.Series(name, [human(value, unit) for value, unit in zip(used[name], used["unit"], strict=True)],
                    dtype=pl.String) for name in ("mean", "peak")),
        (pl.col("fraction") * 100).alias("mean %"), (pl.col("peak_fraction") * 100).alias("peak %"),
    )
    if table["mean %"].null_count() == table.height:
        table = table.drop("mean %", "peak %")
    idle = frame.height - used.height
    return table, f"{idle} resources idle all run left out" if idle else ""
