"""Failures from the tidy table: what went off when and why, how available each host and link was, and what was
lost; the ``failures`` report (:mod:`tracing.reports`).

What the tidy table says (:mod:`tracing.paje_availability` writes it):

* A host or link off is a ``HOST_STATE`` or ``LINK_STATE`` state row ``off``, from the date it went off to the
  date it came back, or to the end of the run; a ``HOST_OFF`` or ``LINK_OFF`` event at the first date has the
  cause as its label (``host 'pm0' went off at t=2 s (host_off by admin)``: a trace action, a state profile, a
  random failure). A run where nothing went off has none of these rows, and the report is empty.
* A VM is *lost* when its PM goes off: its ``MSG_VM`` container ends at the very date its PM's ``off`` state
  begins (the model destroys it as the PM goes off; a VM destroyed by an action at that date would read as lost),
  unless a policy switched the PM off (``switched off by policy ...``): it only switches empty hosts off, after
  the events of the date, so a VM that ended then was destroyed before. Those switch-offs are outages like the
  others (the cause tells them apart).
* An actor that did not end ``done`` (traces written with ``replay run --actors``) has a ``MSG_PROCESS_END``
  event at its end, labelled ``<status>: <cause>``: ``killed`` (its host or VM went off, its VM was shut down,
  its ``kill_time``), ``failed`` (a transfer of its failed: a link or a peer's host went off; an operation on a
  VM that was lost) or ``blocked`` (it waited forever on something a failure took away).
* A migration that did not complete is in the migrations CSV with its ``error`` (see
  :func:`tracing.migrations.migrations`: from the tidy table alone, one that never moved its VM, cause unknown).

Unfinished work: what each VM and actor was doing when it was lost (the top of its state stack then, since when)
and the bytes an aborted migration had sent in its completed stages (migrations CSV). What an execution or a
transfer had left to do is not in the trace: a Paje state has no amount.
"""

from __future__ import annotations

import re

import polars as pl

from tracing.capacity import off_periods
from tracing.migrations import migrations_plan
from tracing.paje_types import ACTOR_END, HOST_OFF, LINK_OFF
from tracing.reports import Inputs, Plan, Shown, human
from tracing.tidy import Trace, as_lazy, collect_all, containers, run_end, sum_in_order

__all__ = ["FAILURE_COLUMNS", "LOST_COLUMNS", "NO_FAILURES", "OUTAGE_COLUMNS", "failures", "lost", "outages"]

#: :func:`failures`'s columns and types.
FAILURE_COLUMNS: dict[str, type[pl.DataType]] = {
    "kind": pl.String, "name": pl.String, "outages": pl.Int64, "down_time": pl.Float64, "availability": pl.Float64,
}
#: :func:`outages`'s columns and types.
OUTAGE_COLUMNS: dict[str, type[pl.DataType]] = {
    "kind": pl.String, "name": pl.String, "down": pl.Float64, "up": pl.Float64, "duration": pl.Float64,
    "cause": pl.String,
}
#: :func:`lost`'s columns and types.
LOST_COLUMNS: dict[str, type[pl.DataType]] = {
    "what": pl.String, "name": pl.String, "on": pl.String, "time": pl.Float64, "status": pl.String,
    "outage": pl.String, "doing": pl.String, "since": pl.Float64, "bytes_sent": pl.Int64, "cause": pl.String,
}
#: The note of an empty ``failures`` table.
NO_FAILURES = "none in this trace: no host or link went off during the run"
_WHAT_ORDER = {"vm": 0, "actor": 1, "migration": 2}
#: how the model words an outage in a cause (``host 'pm0' went off at t=2 s (host_off by admin)``: the name as
#: Python's ``repr`` writes it)
_WENT_OFF = re.compile(r"""(host|link) (['"])(.+?)\2 went off at t=\S+ s""")
_WHY = re.compile(_WENT_OFF.pattern + r" \((.*)\)$")
#: how the model words a policy's switch-off (``switched off by policy threshold (empty)``)
POLICY_SWITCH_OFF = "switched off by policy "


# -- outages -------------------------------------------------------------------------------------------------------
def _outages(lf: pl.LazyFrame) -> pl.LazyFrame:
    causes = (
        lf.filter((pl.col("kind") == "event") & pl.col("type").is_in([HOST_OFF, LINK_OFF]))
        .select(pl.when(pl.col("type") == HOST_OFF).then(pl.lit("host")).otherwise(pl.lit("link")).alias("kind"),
                pl.col("container").alias("name"), pl.col("start").alias("down"), pl.col("label").alias("cause"))
        .unique(["kind", "name", "down"], keep="first")
    )
    return (
        off_periods(lf).join(run_end(lf), how="cross")
        .select("kind", "name", pl.col("start").alias("down"),
                pl.when(pl.col("end") < pl.col("simulated_time")).then(pl.col("end")).alias("up"),
                (pl.col("end") - pl.col("start")).alias("duration"))
        .join(causes, on=["kind", "name", "down"], how="left")
        .sort("down", "kind", "name")
        .select(list(OUTAGE_COLUMNS))
    )


def _failures(lf: pl.LazyFrame) -> pl.LazyFrame:
    return (
        _outages(lf).group_by("kind", "name")
        .agg(pl.len().cast(pl.Int64).alias("outages"), sum_in_order(pl.col("duration"), "down").alias("down_time"))
        .join(run_end(lf), how="cross")
        .with_columns(pl.when(pl.col("simulated_time") > 0)
                      .then(1.0 - pl.col("down_time") / pl.col("simulated_time"))
                      .otherwise(1.0).alias("availability"))
        .sort("kind", "name")
        .select(list(FAILURE_COLUMNS))
    )


# -- what was lost -------------------------------------------------------------------------------------------------
def _top_state(lf: pl.LazyFrame, state_type: str, key: str) -> pl.LazyFrame:
    """The top of each container's state stack when it ended: ``key, c_end, doing, since`` (state rows ending
    there, the deepest)."""
    return (
        lf.filter((pl.col("kind") == "state") & (pl.col("type") == state_type))
        .select(pl.col("container").alias(key), pl.col("end").alias("c_end"), pl.col("label").alias("doing"),
                pl.col("start").alias("since"), "depth")
        .sort(key, "c_end", "depth", "since")
        .group_by(key, "c_end", maintain_order=True).last()
        .drop("depth")
    )


def _lost_vms(lf: pl.LazyFrame, outages: pl.LazyFrame) -> pl.LazyFrame:
    # a policy switches off empty hosts only: a VM destroyed at that date was not lost with it
    switched = pl.col("cause").fill_null("").str.starts_with(POLICY_SWITCH_OFF)
    hosts = outages.filter((pl.col("kind") == "host") & ~switched).select(pl.col("name").alias("host"),
                                                                          pl.col("down").alias("c_end"), "cause")
    return (
        containers(lf, "MSG_VM", "vm").join(hosts, on=["host", "c_end"], how="inner")
        .join(_top_state(lf, "MSG_VM_STATE", "vm"), on=["vm", "c_end"], how="left")
        .select(pl.lit("vm").alias("what"), pl.col("vm").alias("name"), pl.col("host").alias("on"),
                pl.col("c_end").alias("time"), pl.lit("lost").alias("status"), "cause", "doing", "since")
    )


def _lost_actors(lf: pl.LazyFrame) -> pl.LazyFrame:
    ends = (
        lf.filter((pl.col("kind") == "event") & (pl.col("type") == ACTOR_END))
        .select(pl.col("container").alias("actor"), pl.col("start").alias("c_end"),
                pl.col("label").str.splitn(": ", 2).alias("parts"))
        .select("actor", "c_end", pl.col("parts").struct.field("field_0").alias("status"),
                pl.col("parts").struct.field("field_1").alias("cause"))
    )
    return (
        containers(lf, "MSG_PROCESS", "actor").join(ends, on=["actor", "c_end"], how="inner")
        .join(_top_state(lf, "MSG_PROCESS_STATE", "actor"), on=["actor", "c_end"], how="left")
        .select(pl.lit("actor").alias("what"), pl.col("actor").alias("name"), pl.col("host").alias("on"),
                pl.col("c_end").alias("time"), "status", "cause", "doing", "since")
    )


def _aborted(migrations: pl.DataFrame) -> pl.DataFrame:
    """The migrations that did not complete: an ``error`` (migrations CSV), or no move (derived)."""
    sent = pl.sum_horizontal("bytes_stage1", "bytes_stage2", "bytes_stage3")
    bytes_sent = pl.when(pl.col("bytes_stage1").is_not_null()).then(sent).cast(pl.Int64)
    return migrations.filter(pl.col("error").is_not_null() | pl.col("dst").is_null()).select(
        pl.lit("migration").alias("what"), pl.col("vm").alias("name"), pl.col("src").alias("on"),
        pl.col("end").alias("time"), pl.lit("aborted").alias("status"), pl.col("error").alias("cause"),
        pl.lit("migrate").alias("doing"), pl.col("start").alias("since"), bytes_sent.alias("bytes_sent"),
    )


def _lost(parts: list[pl.DataFrame]) -> pl.DataFrame:
    frame = pl.concat([part.cast({name: dtype for name, dtype in LOST_COLUMNS.items() if name in part.columns})
                       for part in parts], how="diagonal")
    order = pl.col("what").replace_strict(_WHAT_ORDER, default=len(_WHAT_ORDER), return_dtype=pl.Int64)
    outage = pl.Series("outage", [_outage_named(cause) for cause in frame["cause"]], dtype=pl.String)
    return frame.with_columns(order.alias("_order"), outage).sort("time", "_order", "name").select(
        [pl.col(name).cast(dtype) for name, dtype in LOST_COLUMNS.items()])


def _outage_named(cause: str | None) -> str | None:
    """The last host or link going off that ``cause`` names (``host pm0``): what it was lost to."""
    found = _WENT_OFF.findall(cause or "")
    return f"{found[-1][0]} {found[-1][2]}" if found else None


# -- the report -------------------------------------------------------------------------------------------------------
def failures_plan(trace: pl.LazyFrame, inputs: Inputs) -> Plan:
    """The ``failures`` report: ``failures`` (per host and link that went off), ``outages`` and ``lost``."""
    outages = _outages(trace)
    migrations = migrations_plan(trace, inputs)
    queries = {"failures": _failures(trace), "outages": outages, "lost_vms": _lost_vms(trace, outages),
               "lost_actors": _lost_actors(trace),
               **{f"migrations:{name}": query for name, query in migrations.queries.items()}}

    def finish(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        moved = {name.removeprefix("migrations:"): frame for name, frame in frames.items()
                 if name.startswith("migrations:")}
        table = migrations.finish(moved)["migrations"] if migrations.finish is not None else moved["migrations"]
        lost = _lost([frames["lost_vms"], frames["lost_actors"], _aborted(table)])
        if frames["failures"].is_empty():
            lost = lost.clear()
        return {"failures": frames["failures"], "outages": frames["outages"], "lost": lost}

    return Plan(queries, finish)


def _report(trace: Trace) -> dict[str, pl.DataFrame]:
    given = isinstance(trace, pl.LazyFrame | pl.DataFrame)  # rows: no migrations CSV to look for beside them
    plan = failures_plan(as_lazy(trace), Inputs("" if given else trace, migrations_csv=False if given else None))
    collected = collect_all(list(plan.queries.values()), trace)
    assert plan.finish is not None
    return plan.finish(dict(zip(plan.queries, collected, strict=True)))


def failures(trace: Trace) -> pl.DataFrame:
    """Every host and link that went off during the run: ``kind`` (host, link), ``name``, ``outages`` (how
    many times), ``down_time`` (seconds off in all) and ``availability`` (the share of the run it was up), by
    kind and name. Empty when nothing went off."""
    return collect_all([_failures(as_lazy(trace))], trace)[0]


def outages(trace: Trace) -> pl.DataFrame:
    """One row per time a host or link went off: ``kind, name, down`` (when), ``up`` (when it came back; null
    if it was still off when the run ended), ``duration``, ``cause``, by date."""
    return collect_all([_outages(as_lazy(trace))], trace)[0]


def lost(trace: Trace) -> pl.DataFrame:
    """What did not finish in a run where something went off: ``what`` (vm, actor, migration), ``name``, ``on``
    (a VM's PM, an actor's host or VM, a migration's source), ``time``, ``status`` (a VM ``lost``; an actor
    ``killed``, ``failed`` or ``blocked``; a migration ``aborted``), ``outage`` (the host or link whose going off
    its cause names last, ``host pm0``; null for a cause that names none), ``doing`` and ``since`` (the state it
    was in when it ended, since when), ``bytes_sent`` (an aborted migration's, in its completed stages; from the
    migrations CSV beside a tidy CSV given by path), ``cause``, by time. See the module docstring."""
    return _report(trace)["lost"]


def failures_table(frame: pl.DataFrame) -> Shown:
    """``failures`` for a person: availability in percent."""
    if frame.is_empty():
        return frame.select("kind", "name"), NO_FAILURES
    table = frame.select("kind", "name", "outages", pl.col("down_time").alias("down (s)"),
                         (pl.col("availability") * 100).alias("available %"))
    return table, "not listed: never off"


def outages_table(frame: pl.DataFrame) -> Shown:
    """``outages`` for a person: the cause without what the row says already (``host_off by admin``, ``its
    state profile``, ``random failure, back at t=5.4 s``)."""
    why = [None if cause is None else (found.group(4) if (found := _WHY.search(cause)) else cause)
           for cause in frame["cause"]]
    shown = frame.with_columns(pl.Series("cause", why, dtype=pl.String))
    return shown, "up empty: still off when the run ended; exact: --format csv"


def lost_table(frame: pl.DataFrame) -> Shown:
    """``lost`` for a person: what each was lost to (the outage its cause names, else the cause, cut short),
    what it was doing and since when, bytes in binary units."""
    if frame.is_empty():
        return frame.select("what", "name"), "none in this trace: nothing was lost"
    why = [outage or (cause if cause is None or len(cause) <= 40 else cause[:39] + "…")
           for outage, cause in zip(frame["outage"], frame["cause"], strict=True)]
    table = frame.select(
        "time", "what", "name", "on", "status", pl.Series("after", why, dtype=pl.String), "doing", "since",
        pl.Series("sent", [human(value, "bytes") for value in frame["bytes_sent"]], dtype=pl.String))
    if table["sent"].null_count() == table.height:
        table = table.drop("sent")
    note = ("after: the outage its cause names; doing: its state when it ended, since when (the work it had left "
            "is not in the trace); sent: in completed stages; causes: --format csv; actors: replay run --actors")
    return table, note
