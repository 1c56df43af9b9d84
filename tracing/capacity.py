"""Capacities over time, for utilization: what each host, VM, link and disk could carry at each date, from the
platform and from what the trace says changed (:mod:`tracing.utilization` divides the usage by it).

A platform gives the capacities at the start (:func:`tracing.utilization.capacities`: a host's cores x core
speed, a link's bandwidth, a disk's ``disk_bandwidth``) and each host's speed in every power state
(:func:`host_speeds`). The tidy table says what changed, as step functions:

* ``pstate`` (a ``HOST``'s power state, when some host has several): its capacity becomes cores x the speed of
  that state;
* ``speed`` (a ``HOST`` whose availability changes, a ``speed_file``): its capacity, all cores, from that row on
  (the trace sets it again at each change of power state);
* ``bandwidth`` (a ``LINK`` whose bandwidth changes, a ``bandwidth_file``): its capacity;
* ``HOST_STATE`` and ``LINK_STATE`` rows ``off`` (:func:`off_periods`): the resource is off, its capacity 0;
  a host's disk is off with it.

A VM's capacity is its cores x the core speed of its PM at each date, so it follows the PM's changes too. Usage
rows are cut at every date where a capacity changes (:func:`cut`), so that each piece has one value and one
capacity; a row that no change crosses is left as it is, so a run without changes gives the rows it gave before.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from replay.platform import Platform
from tracing.paje_types import HOST_STATE, LINK_STATE
from tracing.reports import Inputs, Plan

__all__ = ["attach", "cut", "host_speeds", "off_periods", "off_periods_plan", "steps"]

_OFF_KINDS = {HOST_STATE: "host", LINK_STATE: "link"}
_SPEEDS = {"host": pl.String, "pstate": pl.Int64, "core_speed": pl.Float64, "cores": pl.Float64}
_KEYS = ["kind", "name"]


def host_speeds(platform: Platform) -> pl.DataFrame:
    """The speed of one core of every host in each of its power states: ``host, pstate, core_speed, cores``
    (a host with one speed has one row, state 0)."""
    rows = [(host.name, index, speed, float(host.cores))
            for host in platform.hosts.values() for index, speed in enumerate(host.pstate_speeds or (host.speed,))]
    return pl.DataFrame(rows, schema=_SPEEDS, orient="row")


def off_periods(lf: pl.LazyFrame) -> pl.LazyFrame:
    """When each host and link was off: ``kind`` (host, link), ``name``, ``start``, ``end`` (an ``off`` state
    row; one still off at the end of the run ends there), by kind, name and start."""
    return (
        lf.filter((pl.col("kind") == "state") & pl.col("type").is_in(list(_OFF_KINDS)) & (pl.col("label") == "off"))
        .select(pl.col("type").replace_strict(_OFF_KINDS, return_dtype=pl.String).alias("kind"),
                pl.col("container").alias("name"), "start", "end")
        .sort("kind", "name", "start")
    )


def off_periods_plan(trace: pl.LazyFrame, inputs: Inputs) -> Plan:
    """The ``off_periods`` frame (for the plots): :func:`off_periods`."""
    return Plan({"off_periods": off_periods(trace)})


def steps(lf: pl.LazyFrame) -> pl.LazyFrame:
    """The capacity variables' rows: ``kind`` (host for ``pstate`` and ``speed``, link for ``bandwidth``),
    ``name``, ``type``, ``at`` (the row's start), ``value``."""
    kinds = {"pstate": "host", "speed": "host", "bandwidth": "link"}
    return (
        lf.filter((pl.col("kind") == "variable") & pl.col("type").is_in(list(kinds)))
        .select(pl.col("type").replace_strict(kinds, return_dtype=pl.String).alias("kind"),
                pl.col("container").alias("name"), "type", pl.col("start").alias("at"), "value")
    )


def cut(series: pl.LazyFrame, cuts: pl.LazyFrame) -> pl.LazyFrame:
    """``series`` (``kind, name, start, end, duration, ...``) with each row cut at the dates of ``cuts``
    (``kind, name, at``) strictly inside it; a row not cut keeps its fields, duration included."""
    # numbered in an order of all the fields, which both uses of the rows below see alike (rows equal in all of
    # them are interchangeable), whatever order the query computing ``series`` gives them
    rows = series.sort(series.collect_schema().names()).with_row_index("_row")
    inside = (
        rows.select("_row", *_KEYS, "start", "end").join(cuts, on=_KEYS, how="inner")
        .filter((pl.col("at") > pl.col("start")) & (pl.col("at") < pl.col("end")))
        .select("_row", "at").unique()
    )
    bounds = (
        pl.concat([rows.select("_row", pl.col("start").alias("at")), inside])
        .sort("_row", "at")
        .with_columns(pl.col("at").shift(-1).over("_row").alias("_until"), pl.len().over("_row").alias("_pieces"))
    )
    split = pl.col("_pieces") > 1
    return (
        bounds.join(rows, on="_row", how="inner")
        .with_columns(pl.col("at").alias("start"), pl.coalesce("_until", "end").alias("end"))
        .with_columns(pl.when(split).then(pl.col("end") - pl.col("start")).otherwise(pl.col("duration"))
                      .alias("duration"))
        .sort("_row", "start")
        .drop("_row", "at", "_until", "_pieces")
    )


def _asof(frame: pl.LazyFrame, changes: pl.LazyFrame, by: str | list[str], on: str) -> pl.LazyFrame:
    """``frame`` with the columns of the last of ``changes`` (by ``by``, dated ``at``) at or before ``on``."""
    return frame.sort(on).join_asof(changes.sort("at"), left_on=on, right_on="at", by=by, strategy="backward",
                                    check_sortedness=False).drop("at")


def attach(series: pl.LazyFrame, caps: pl.DataFrame | None, *, speeds: pl.DataFrame | None, changes: pl.LazyFrame,
           offs: pl.LazyFrame, vm_hosts: pl.LazyFrame, vm_cores: Mapping[str, int] | None) -> pl.LazyFrame:
    """``series`` (``kind, name, start, end, duration, value``) cut where capacities change, with ``capacity``
    (at each piece's date; 0 while off), ``fraction`` (value / capacity; null while off, for a capacity of 0
    and where it is unknown) and ``up`` (false while off).

    ``caps``: the capacities at the start (``kind, name, capacity`` and, for VMs, hosts' ``core_speed``);
    ``speeds``: :func:`host_speeds` (None: ``pstate`` rows are not read); ``changes``: :func:`steps`; ``offs``:
    :func:`off_periods`; ``vm_hosts``: ``vm, host, c_start, c_end`` (each ``MSG_VM`` container);
    ``vm_cores``: the VMs' cores by name (None: VMs have no capacity unless ``caps`` names them).
    """
    if caps is None:
        caps = pl.DataFrame(schema={"kind": pl.String, "name": pl.String, "capacity": pl.Float64})
    cores = _host_cores(caps, speeds)
    variables = changes.filter(pl.col("type") != "pstate").select(*_KEYS, "at", pl.col("value").alias("v_capacity"))
    pstates = _pstate_speeds(changes, speeds)
    host_changes = pl.concat([variables.filter(pl.col("kind") == "host"), pstates.select(*_KEYS, "at")],
                             how="diagonal").select(pl.col("name").alias("host"), "at")
    off_cuts = pl.concat([offs.select(*_KEYS, pl.col("start").alias("at")),
                          offs.select(*_KEYS, pl.col("end").alias("at"))])
    vm_cuts = (
        vm_hosts.join(host_changes, on="host", how="inner")
        .filter((pl.col("at") > pl.col("c_start")) & (pl.col("at") < pl.col("c_end")))
        .select(pl.lit("vm").alias("kind"), pl.col("vm").alias("name"), "at")
    )
    cuts = pl.concat([variables.select(*_KEYS, "at"), pstates.select(*_KEYS, "at"), off_cuts, _disks(off_cuts),
                      vm_cuts]).unique()
    named = caps.select("kind", "name", pl.col("capacity").cast(pl.Float64)).unique(_KEYS, keep="last")
    frame = cut(series, cuts).join(named.lazy(), on=_KEYS, how="left", maintain_order="left")
    # hosts and links: the last speed or bandwidth, else the power state's speed, else the platform's
    frame = _asof(frame, variables, _KEYS, "start")
    frame = _asof(frame, pstates.select(*_KEYS, "at", "p_core"), _KEYS, "start")
    frame = frame.join(cores.lazy().select(pl.lit("host").alias("kind"), pl.col("host").alias("name"), "cores"),
                       on=_KEYS, how="left")
    frame = frame.with_columns(pl.coalesce("v_capacity", pl.col("p_core") * pl.col("cores"), "capacity")
                               .alias("capacity")).drop("v_capacity", "p_core", "cores")
    if vm_cores and "core_speed" in caps.columns:
        frame = _vm_capacity(frame, caps, cores, variables, pstates, vm_hosts, vm_cores)
    frame = _asof(frame, _off_switches(offs), _KEYS, "start").with_columns(pl.col("off").fill_null(False))
    up = ~pl.col("off")
    return frame.with_columns(
        up.alias("up"),
        pl.when(up).then(pl.col("capacity")).otherwise(0.0).alias("capacity"),
        pl.when(up & (pl.col("capacity") > 0)).then(pl.col("value") / pl.col("capacity")).alias("fraction"),
    ).drop("off")


def _host_cores(caps: pl.DataFrame, speeds: pl.DataFrame | None) -> pl.DataFrame:
    """``host, cores`` (Float64): the platform's, else worked out from ``caps`` (capacity / core speed)."""
    if speeds is not None:
        return speeds.select("host", "cores").unique("host", keep="first")
    if "core_speed" not in caps.columns:
        return pl.DataFrame(schema={"host": pl.String, "cores": pl.Float64})
    return caps.filter(pl.col("kind") == "host").select(
        pl.col("name").alias("host"), (pl.col("capacity") / pl.col("core_speed")).round().cast(pl.Float64)
        .alias("cores"))


def _pstate_speeds(changes: pl.LazyFrame, speeds: pl.DataFrame | None) -> pl.LazyFrame:
    """``kind, name, at, p_core``: each change of power state, with the speed of one core in the new state."""
    rows = changes.filter(pl.col("type") == "pstate")
    if speeds is None:
        return rows.select(*_KEYS, "at", pl.lit(None, dtype=pl.Float64).alias("p_core")).filter(pl.lit(False))
    table = speeds.lazy().select(pl.col("host").alias("name"), "pstate", pl.col("core_speed").alias("p_core"))
    return (
        rows.with_columns(pl.col("value").cast(pl.Int64).alias("pstate"))
        .join(table, on=["name", "pstate"], how="inner")
        .select(*_KEYS, "at", "p_core")
    )


def _disks(off_cuts: pl.LazyFrame) -> pl.LazyFrame:
    """The dates a host goes off or on, for its disk."""
    return off_cuts.filter(pl.col("kind") == "host").with_columns(pl.lit("disk").alias("kind"))


def _off_switches(offs: pl.LazyFrame) -> pl.LazyFrame:
    """``kind, name, at, off``: true when an off period starts, false when it ends; a host's disk with it."""
    switches = pl.concat([offs.select(*_KEYS, pl.col("start").alias("at"), pl.lit(True).alias("off")),
                          offs.select(*_KEYS, pl.col("end").alias("at"), pl.lit(False).alias("off"))])
    both = pl.concat([switches, switches.filter(pl.col("kind") == "host").with_columns(pl.lit("disk").alias("kind"))])
    return both.sort("at", "off")  # at one date, an end before a start: the start holds


def _vm_capacity(frame: pl.LazyFrame, caps: pl.DataFrame, cores: pl.DataFrame, variables: pl.LazyFrame,
                 pstates: pl.LazyFrame, vm_hosts: pl.LazyFrame, vm_cores: Mapping[str, int]) -> pl.LazyFrame:
    """A VM's capacity where ``caps`` does not name it: its cores x the core speed of the PM it was on at each
    piece's date (the ``MSG_VM`` container then alive): the PM's speed / cores, else its power state's speed,
    else its speed in the platform."""
    speeds = caps.filter(pl.col("kind") == "host").select(pl.col("name").alias("host"),
                                                          pl.col("core_speed").cast(pl.Float64))
    sizes = pl.LazyFrame({"name": list(vm_cores), "vm_cores": list(vm_cores.values())},
                         schema={"name": pl.String, "vm_cores": pl.Float64})
    placed = vm_hosts.select(pl.col("vm").alias("name"), "host", pl.col("c_start").alias("at"))
    host_speed = variables.filter(pl.col("kind") == "host").select(pl.col("name").alias("host"), "at",
                                                                   pl.col("v_capacity").alias("h_capacity"))
    host_pstate = pstates.select(pl.col("name").alias("host"), "at", pl.col("p_core").alias("h_core"))
    vms = frame.filter(pl.col("kind") == "vm").join(sizes, on="name", how="inner")
    vms = _asof(vms, placed, "name", "start")
    vms = _asof(_asof(vms, host_speed, "host", "start"), host_pstate, "host", "start")
    vms = vms.join(speeds.lazy(), on="host", how="left").join(cores.lazy(), on="host", how="left")
    core = pl.coalesce(pl.col("h_capacity") / pl.col("cores"), "h_core", "core_speed")
    vms = vms.with_columns(pl.coalesce("capacity", pl.col("vm_cores") * core).alias("capacity")).select(
        frame.collect_schema().names())
    return pl.concat([frame.filter((pl.col("kind") != "vm") | ~pl.col("name").is_in(list(vm_cores))), vms])
