"""The SLA metrics of a run with a policy in the loop, from its tidy CSV: the ``sla`` report
(:mod:`tracing.reports`), which gives the run summary's ``sla`` (:mod:`replay.policies.metrics`) again, per host
and per VM, so that a run can be judged, or judged again, from its CSV alone.

What the tidy table says (:mod:`tracing.paje_policy` writes it; only runs with ``--policy`` have it):

* ``requested``, a step function of every ``HOST`` the policy manages and every ``MSG_VM`` that ran: the CPU its
  executions ask (flop/s), 0 before its first row; ``power_used``, what they get.
* A host is *active* while its ``requested`` is above 0, *saturated* while it is at least (1 - 1e-9) x its
  capacity (the model's :data:`replay.policies.demand.SATURATED`): cores x the core speed of its power state
  (``pstate`` rows and the platform's speeds), or its ``speed`` once it has one, and 0 while it is ``off``
  (:mod:`tracing.capacity`, as utilization reads it). SLATAH is the mean over the hosts ever active of their
  saturated time / active time.
* A VM loses, during each of its migrations (from its ``migrate`` state's start to the migration's end), the
  integral of ``requested - power_used`` (at least 0 per migration); PDM is the mean over the VMs that requested
  work of lost / requested work. The end of a migration is the migrations CSV's when there is one (see
  :func:`tracing.migrations.migrations`); from the tidy CSV alone it is the move, so the few milliseconds of the
  acknowledgement are left out (they lose nothing unless the destination is saturated).
* SLAV = SLATAH x PDM; ``energy_kwh`` the integral of the ``power`` rows (:mod:`tracing.energy`; null without
  wattages) and ESV = energy_kwh x SLAV; migrations, downtimes (``stop-and-copy``) and decisions (``POLICY``
  events, :mod:`tracing.decisions`) are counted as the summary counts them.

Every sum is taken in date order (the same CSV gives the same bits); the summary adds in the model's order, so the
two agree to rounding. The summary's ``unserved_fraction`` (of the ``load`` demand) is not in the trace.
"""

from __future__ import annotations

import polars as pl

from replay.policies.demand import SATURATED
from replay.policies.metrics import JOULES_PER_KWH
from tracing.capacity import attach, off_periods, steps
from tracing.decisions import booting_query, decisions_query, hosts_on_query
from tracing.energy import energy_plan, human_energy
from tracing.migrations import migrations_plan
from tracing.paje_types import REQUESTED
from tracing.reports import Inputs, Plan, Shown
from tracing.tidy import run_end, sum_in_order
from tracing.utilization import _capacity_sources, _fingerprint, _run_platform

__all__ = ["HOST_COLUMNS", "NO_POLICY", "SLA_COLUMNS", "VM_COLUMNS", "sla_plan"]

#: the ``sla`` summary's columns and types (one row)
SLA_COLUMNS: dict[str, type[pl.DataType]] = {
    "slatah": pl.Float64, "pdm": pl.Float64, "slav": pl.Float64, "energy_kwh": pl.Float64, "esv": pl.Float64,
    "migrations": pl.Int64, "migrations_aborted": pl.Int64, "downtime_total": pl.Float64,
    "downtime_mean": pl.Float64, "downtime_max": pl.Float64, "placements": pl.Int64, "power_ons": pl.Int64,
    "power_offs": pl.Int64, "active_hosts": pl.Int64, "vms": pl.Int64,
}
#: ``sla_hosts``: per host the policy managed (it has ``requested`` rows) or acted on
HOST_COLUMNS: dict[str, type[pl.DataType]] = {
    "host": pl.String, "active_time": pl.Float64, "saturated_time": pl.Float64, "share": pl.Float64,
    "off_time": pl.Float64, "switch_offs": pl.Int64, "boots": pl.Int64, "boot_time": pl.Float64,
}
#: ``sla_vms``: per VM that requested CPU
VM_COLUMNS: dict[str, type[pl.DataType]] = {
    "vm": pl.String, "requested_work": pl.Float64, "migrations": pl.Int64, "migration_time": pl.Float64,
    "lost_work": pl.Float64, "share": pl.Float64,
}
#: ``sla_decisions``: how many decisions of each action, for each reason
COUNT_COLUMNS: dict[str, type[pl.DataType]] = {"action": pl.String, "reason": pl.String, "decisions": pl.Int64}
_ACTIONS = {"place": 0, "migrate": 1, "power_off": 2, "power_on": 3}
#: the note of an empty ``sla`` table
NO_POLICY = "none in this trace: no policy in the loop (replay run --policy writes requested and POLICY rows)"
_NO_VM_HOSTS = {"vm": pl.String, "host": pl.String, "c_start": pl.Float64, "c_end": pl.Float64}


# -- the queries ---------------------------------------------------------------------------------------------------
def _variable(lf: pl.LazyFrame, name: str, container_type: str) -> pl.LazyFrame:
    """The ``name`` rows of the containers of ``container_type``: ``name, start, end, duration, value``."""
    owners = (lf.filter((pl.col("kind") == "container") & (pl.col("type") == container_type))
              .select(pl.col("container")).unique())
    return (
        lf.filter((pl.col("kind") == "variable") & (pl.col("type") == name))
        .join(owners, on="container", how="semi")
        .select(pl.col("container").alias("name"), "start", "end", "duration", "value")
    )


def _queries(lf: pl.LazyFrame) -> dict[str, pl.LazyFrame]:
    return {
        "host_requested": _variable(lf, REQUESTED, "HOST"),
        "vm_requested": _variable(lf, REQUESTED, "MSG_VM"),
        "vm_served": _variable(lf, "power_used", "MSG_VM"),
        "decisions": decisions_query(lf),
        "hosts_on": hosts_on_query(lf),
        "booting": booting_query(lf),
        "steps": steps(lf),
        "offs": off_periods(lf),
        "fingerprint": _fingerprint(lf),
        "end": run_end(lf),
    }


# -- hosts ---------------------------------------------------------------------------------------------------------
def _hosts(frames: dict[str, pl.DataFrame], inputs: Inputs) -> pl.DataFrame:
    """Per host: active and saturated times (capacities at each date, :func:`tracing.capacity.attach`), off and
    boot times, switch-offs and boots."""
    caps, speeds = _capacity_sources(_run_platform(frames["fingerprint"], inputs.platform))
    series = frames["host_requested"].lazy().select(pl.lit("host").alias("kind"), pl.all())
    offs = frames["offs"].lazy()
    pieces = attach(series, caps, speeds=speeds, changes=frames["steps"].lazy(), offs=offs,
                    vm_hosts=pl.LazyFrame(schema=_NO_VM_HOSTS), vm_cores=None)
    active = pl.col("value") > 0
    saturated = active & (pl.col("value") >= SATURATED * pl.col("capacity"))
    times = pieces.group_by("name").agg(
        sum_in_order(pl.when(active).then(pl.col("duration")).otherwise(0.0), "start").alias("active_time"),
        # unknown capacity (no platform): unknown saturation
        pl.when(pl.col("capacity").filter(active).is_null().any()).then(None).otherwise(
            sum_in_order(pl.when(saturated).then(pl.col("duration")).otherwise(0.0), "start"))
        .alias("saturated_time"),
    )
    off = offs.filter(pl.col("kind") == "host").group_by("name").agg(
        sum_in_order(pl.col("end") - pl.col("start"), "start").alias("off_time"))
    boots = frames["booting"].lazy().group_by(pl.col("host").alias("name")).agg(
        pl.len().cast(pl.Int64).alias("boots"), sum_in_order(pl.col("end") - pl.col("start"), "start")
        .alias("boot_time"))
    switched = (frames["decisions"].lazy().filter(pl.col("action") == "power_off")
                .group_by(pl.col("host").alias("name")).agg(pl.len().cast(pl.Int64).alias("switch_offs")))
    named = pl.concat([frames["host_requested"].lazy().select("name"),
                       frames["decisions"].lazy().select(pl.col("host").alias("name")),
                       frames["booting"].lazy().select(pl.col("host").alias("name"))]).unique()
    return (
        named.join(times, on="name", how="left").join(off, on="name", how="left")
        .join(switched, on="name", how="left").join(boots, on="name", how="left")
        .with_columns(pl.col("active_time", "off_time", "boot_time").fill_null(0.0),
                      pl.col("switch_offs", "boots").fill_null(0),
                      pl.when(pl.col("active_time").fill_null(0.0) > 0).then(pl.col("saturated_time"))
                      .otherwise(pl.col("saturated_time").fill_null(0.0)).alias("saturated_time"))
        .with_columns(pl.when(pl.col("active_time") > 0).then(pl.col("saturated_time") / pl.col("active_time"))
                      .alias("share"))
        .rename({"name": "host"})
        .sort("host")
        .select(list(HOST_COLUMNS))
        .cast(HOST_COLUMNS)
        .collect()
    )


# -- VMs -----------------------------------------------------------------------------------------------------------
def _over_windows(rows: pl.LazyFrame, windows: pl.LazyFrame, alias: str) -> pl.LazyFrame:
    """The integral of each VM's step function ``rows`` over each of its ``windows`` (``vm, w_start, w_end``):
    ``vm, w_start, <alias>``."""
    overlap = pl.min_horizontal("end", "w_end") - pl.max_horizontal("start", "w_start")
    return (
        rows.rename({"name": "vm"}).join(windows, on="vm", how="inner")
        .filter((pl.col("start") < pl.col("w_end")) & (pl.col("end") > pl.col("w_start")))
        .group_by("vm", "w_start").agg(sum_in_order(pl.col("value") * overlap, "start").alias(alias))
    )


def _vms(frames: dict[str, pl.DataFrame], migrations: pl.DataFrame) -> pl.DataFrame:
    """Per VM that requested CPU: requested work, its migrations and what it lost during them."""
    requested, served = frames["vm_requested"].lazy(), frames["vm_served"].lazy()
    windows = migrations.lazy().select("vm", pl.col("start").alias("w_start"), pl.col("end").alias("w_end"))
    lost = (
        windows.join(_over_windows(requested, windows, "asked"), on=["vm", "w_start"], how="left")
        .join(_over_windows(served, windows, "got"), on=["vm", "w_start"], how="left")
        .with_columns(pl.max_horizontal(pl.col("asked").fill_null(0.0) - pl.col("got").fill_null(0.0), 0.0)
                      .alias("lost"))
        .group_by("vm").agg(pl.len().cast(pl.Int64).alias("migrations"),
                            sum_in_order(pl.col("w_end") - pl.col("w_start"), "w_start").alias("migration_time"),
                            sum_in_order(pl.col("lost"), "w_start").alias("lost_work"))
    )
    work = requested.group_by(pl.col("name").alias("vm")).agg(
        sum_in_order(pl.col("value") * pl.col("duration"), "start").alias("requested_work"))
    return (
        work.filter(pl.col("requested_work") > 0).join(lost, on="vm", how="left")
        .with_columns(pl.col("migrations").fill_null(0), pl.col("migration_time", "lost_work").fill_null(0.0))
        .with_columns((pl.col("lost_work") / pl.col("requested_work")).alias("share"))
        .sort("vm")
        .select(list(VM_COLUMNS))
        .cast(VM_COLUMNS)
        .collect()
    )


# -- the report ----------------------------------------------------------------------------------------------------
def _summary(hosts: pl.DataFrame, vms: pl.DataFrame, migrations: pl.DataFrame, decisions: pl.DataFrame,
             energy: pl.DataFrame) -> pl.DataFrame:
    active = hosts.filter(pl.col("active_time") > 0)
    shares = active["share"].to_list()
    slatah = None if None in shares else (sum(shares) / len(shares) if shares else 0.0)
    pdm = sum(vms["share"].to_list()) / vms.height if vms.height else 0.0
    slav = slatah * pdm if slatah is not None else None
    total = energy.filter(pl.col("kind") == "total")["joules"].to_list()
    energy_kwh = total[0] / JOULES_PER_KWH if total else None
    done = migrations.filter(pl.col("error").is_null() & pl.col("dst").is_not_null()).sort("start")
    downtimes = done["downtime"].fill_null(0.0).to_list()
    actions = decisions["action"].to_list()
    row = {
        "slatah": slatah, "pdm": pdm, "slav": slav, "energy_kwh": energy_kwh,
        "esv": energy_kwh * slav if energy_kwh is not None and slav is not None else None,
        "migrations": done.height, "migrations_aborted": migrations.height - done.height,
        "downtime_total": sum(downtimes, 0.0), "downtime_mean": sum(downtimes) / len(downtimes) if downtimes else 0.0,
        "downtime_max": max(downtimes, default=0.0), "placements": actions.count("place"),
        "power_ons": actions.count("power_on"), "power_offs": actions.count("power_off"),
        "active_hosts": active.height, "vms": vms.height,
    }
    return pl.DataFrame([row], schema=SLA_COLUMNS)


def _counts(decisions: pl.DataFrame) -> pl.DataFrame:
    order = pl.col("action").replace_strict(_ACTIONS, default=len(_ACTIONS), return_dtype=pl.Int64)
    return (
        decisions.group_by("action", "reason").agg(pl.len().cast(pl.Int64).alias("decisions"))
        .sort(order, "action", "reason", nulls_last=True)
        .cast(COUNT_COLUMNS)
    )


def sla_plan(trace: pl.LazyFrame, inputs: Inputs) -> Plan:
    """The ``sla`` report: ``sla`` (one row, the summary's metrics), ``sla_hosts``, ``sla_vms``,
    ``sla_decisions`` (counts by action and reason), ``decisions`` (each decision, :func:`tracing.decisions.
    decisions`) and ``hosts_on`` (:func:`tracing.decisions.hosts_on`, for the plots); all but ``hosts_on`` empty
    for a run without a policy."""
    migrations = migrations_plan(trace, inputs)
    queries = {**_queries(trace), "energy": energy_plan(trace, inputs).queries["energy"],
               **{f"migrations:{name}": query for name, query in migrations.queries.items()}}

    def finish(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        decisions = frames["decisions"]
        if frames["host_requested"].is_empty() and frames["vm_requested"].is_empty() and decisions.is_empty():
            return {"sla": pl.DataFrame(schema=SLA_COLUMNS), "sla_hosts": pl.DataFrame(schema=HOST_COLUMNS),
                    "sla_vms": pl.DataFrame(schema=VM_COLUMNS), "sla_decisions": pl.DataFrame(schema=COUNT_COLUMNS),
                    "decisions": decisions, "hosts_on": frames["hosts_on"]}
        found = {name.partition(":")[2]: frame for name, frame in frames.items() if name.startswith("migrations:")}
        assert migrations.finish is not None
        moved = migrations.finish(found)["migrations"]
        hosts, vms = _hosts(frames, inputs), _vms(frames, moved)
        return {"sla": _summary(hosts, vms, moved, decisions, frames["energy"]), "sla_hosts": hosts,
                "sla_vms": vms, "sla_decisions": _counts(decisions), "decisions": decisions,
                "hosts_on": frames["hosts_on"]}

    return Plan(queries, finish)


# -- for people ----------------------------------------------------------------------------------------------------
def _percent(value: float | None) -> str | None:
    return None if value is None else f"{value:.4%}"


def sla_table(frame: pl.DataFrame) -> Shown:
    """``sla`` for a person: one metric a line, shares in percent, energy in kWh (exact: ``--format csv``,
    ``json``)."""
    if frame.is_empty():
        return pl.DataFrame(schema={"metric": pl.String, "value": pl.String}), NO_POLICY
    row = frame.row(0, named=True)

    def number(value: float | None, fmt: str = ".6g") -> str | None:
        return None if value is None else format(value, fmt)

    lines = [
        ("SLATAH", _percent(row["slatah"])), ("PDM", _percent(row["pdm"])), ("SLAV", number(row["slav"], ".3g")),
        ("energy", human_energy(row["energy_kwh"] * JOULES_PER_KWH) if row["energy_kwh"] is not None else None),
        ("ESV", number(row["esv"], ".3g")),
        ("migrations", f"{row['migrations']} done, {row['migrations_aborted']} aborted"),
        ("downtime total, mean, max (s)", ", ".join(format(row[f"downtime_{k}"], ".6g") for k in ("total", "mean",
                                                                                                 "max"))),
        ("placements, power-ons, power-offs", f"{row['placements']}, {row['power_ons']}, {row['power_offs']}"),
        ("hosts active, VMs", f"{row['active_hosts']}, {row['vms']}"),
    ]
    table = pl.DataFrame(lines, schema={"metric": pl.String, "value": pl.String}, orient="row")
    note = "SLATAH: saturated time per active host; PDM: work lost while migrating; SLAV = SLATAH x PDM"
    if row["slatah"] is None:
        note += "; SLATAH unknown: give the run's --platform (host capacities)"
    return table, note


def sla_hosts_table(frame: pl.DataFrame) -> Shown:
    """``sla_hosts`` for a person: short headers, the saturated share in percent."""
    table = frame.with_columns(pl.col("share") * 100).rename({
        "active_time": "active", "saturated_time": "saturated", "share": "% saturated", "off_time": "off",
        "switch_offs": "switch-offs", "boot_time": "booting"})
    return table, "times in s; active: requested > 0; saturated: requested >= capacity; off includes booting"


def sla_vms_table(frame: pl.DataFrame) -> Shown:
    """``sla_vms`` for a person: work in flop, the share lost in percent."""
    table = frame.with_columns(pl.col("share") * 100).rename({
        "requested_work": "requested", "migration_time": "migrating", "lost_work": "lost", "share": "% lost"})
    return table, "work in flop, times in s; lost: requested but not served while it migrated"
