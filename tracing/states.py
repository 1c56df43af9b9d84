"""VM and actor states from the tidy table: state stacks, what is visible of them, and the time spent in each;
the ``states`` and ``actors`` reports (:mod:`tracing.reports`).

A container's ``MSG_VM_STATE`` (or ``MSG_PROCESS_STATE``) rows are a *stack*: a state row lasts from its push to
its pop, with its ``depth`` in the stack. What a person sees is the top of the stack, :func:`visible`: intervals
that never overlap, whose durations add up to the time the VM was running, suspended, saved, migrating..., so
that a VM suspended from 2 s to 5 s spends 3 s in ``suspend`` and not a second less in ``start``. The PM a VM is
on at time t is the ``parent`` of its container alive at t (a migration destroys it and creates it again under
the destination PM).
"""

from __future__ import annotations

import polars as pl

from tracing.paje_types import ACTOR_STATE_VALUES, VM_STATE_VALUES
from tracing.reports import Inputs, Plan, Shown
from tracing.tidy import Trace, as_lazy, collect, containers, sum_in_order

__all__ = ["actor_activity", "actor_states", "state_rows", "state_times", "visible", "vm_states"]


def state_rows(lf: pl.LazyFrame, container_type: str, state_type: str, key: str) -> pl.LazyFrame:
    """The state rows of ``state_type``, each with the host its container was in: key, state, start, end,
    duration, host, depth (sorted by start)."""
    rows = (
        lf.filter((pl.col("kind") == "state") & (pl.col("type") == state_type))
        .select(pl.col("container").alias(key), pl.col("label").alias("state"), "start", "end", "depth")
        .sort("start", key, "depth")
    )
    placed = rows.join_asof(
        containers(lf, container_type, key).select(key, "host", "c_start"),
        left_on="start", right_on="c_start", by=key, strategy="backward", check_sortedness=False,
    )
    return placed.select(key, "state", "start", "end", (pl.col("end") - pl.col("start")).alias("duration"),
                         "host", "depth")


def visible(rows: pl.LazyFrame, key: str) -> pl.LazyFrame:
    """The top of each state stack: non-overlapping intervals (key, state, start, end, duration, host).

    A row at depth d is visible where none of its children (rows at depth d + 1 pushed while it was on top)
    is: its interval minus theirs. The parent of a child is the last row one level down, of the same key,
    pushed at or before it (of two pushed at the same date, the longer, which was pushed last). Consecutive
    pieces of one state on one host are merged.
    """
    rows = rows.sort("start", "end", key).with_row_index("id")
    parents = rows.select(key, pl.col("depth").alias("p_depth"), pl.col("id").alias("pid"),
                          pl.col("start").alias("p_start"))
    children = (
        rows.filter(pl.col("depth") > 0)
        .with_columns((pl.col("depth") - 1).alias("p_depth"))
        .join_asof(parents, left_on="start", right_on="p_start", by=[key, "p_depth"], strategy="backward",
                   check_sortedness=False)
        .filter(pl.col("pid").is_not_null())
        .select("pid", pl.col("start").alias("k_start"), pl.col("end").alias("k_end"))
        .sort("pid", "k_start")
        .with_columns(pl.col("k_end").shift(1).over("pid").alias("k_prev_end"))
    )
    owner = rows.select(pl.col("id").alias("pid"), key, "state", "host", "start", "end")
    # gaps before each child, and after the last one
    before = children.join(owner, on="pid").select(
        key, "state", "host", pl.coalesce("k_prev_end", "start").alias("start"), pl.col("k_start").alias("end"),
    )
    last = children.group_by("pid").agg(pl.col("k_end").max().alias("k_last"))
    after = last.join(owner, on="pid").select(key, "state", "host", pl.col("k_last").alias("start"), "end")
    alone = owner.join(last, on="pid", how="anti").select(key, "state", "host", "start", "end")
    pieces = (
        pl.concat([before, after, alone])
        .filter(pl.col("end") > pl.col("start"))
        .sort(key, "start")
    )
    same = (
        (pl.col("state") == pl.col("state").shift(1).over(key))
        & (pl.col("host").eq_missing(pl.col("host").shift(1).over(key)))
        & (pl.col("start") == pl.col("end").shift(1).over(key))
    )
    merged = (
        pieces.with_columns((~same.fill_null(False)).cast(pl.UInt32).cum_sum().over(key).alias("run"))
        .group_by(key, "run")
        .agg(pl.col("state").first(), pl.col("start").min(), pl.col("end").max(), pl.col("host").first())
    )
    return merged.select(key, "state", "start", "end", (pl.col("end") - pl.col("start")).alias("duration"),
                         "host").sort("start", key)


def vm_states(trace: Trace, *, nested: bool = False) -> pl.LazyFrame:
    """VM state intervals: ``vm, state, start, end, duration, host`` (the PM the VM was on), by start.

    By default the visible state (the top of the ``MSG_VM_STATE`` stack): intervals of one VM never overlap.
    ``nested=True`` gives the stack's rows as the trace has them, with their ``depth`` (a ``start`` row then
    covers the ``suspend`` or ``migrate`` pushed on top of it).
    """
    rows = state_rows(as_lazy(trace), "MSG_VM", "MSG_VM_STATE", "vm")
    return rows if nested else visible(rows, "vm")


def _state_times(lf: pl.LazyFrame) -> pl.LazyFrame:
    lifetime = (
        containers(lf, "MSG_VM", "vm").group_by("vm")
        .agg(sum_in_order(pl.col("c_end") - pl.col("c_start"), "c_start").alias("lifetime"))
    )
    order = pl.DataFrame({"state": list(VM_STATE_VALUES), "order": range(len(VM_STATE_VALUES))}).lazy()
    return (
        visible(state_rows(lf, "MSG_VM", "MSG_VM_STATE", "vm"), "vm")
        .group_by("vm", "state").agg(sum_in_order(pl.col("duration"), "start").alias("time"))
        .join(lifetime, on="vm", how="left")
        .with_columns((pl.col("time") / pl.col("lifetime")).alias("share"))
        .join(order, on="state", how="left")
        .sort("vm", "order", "state")
        .select("vm", "state", "time", "share")
    )


def state_times(trace: Trace) -> pl.DataFrame:
    """Time spent per visible state per VM: ``vm, state, time, share`` (share of the VM's lifetime, from its
    creation to its destruction or the end of the run; the rest is time in no state: created, or shut down)."""
    return collect(_state_times(as_lazy(trace)), trace)




def vm_states_plan(trace: pl.LazyFrame, inputs: Inputs) -> Plan:
    """The ``states`` report: ``state_times`` and the visible ``vm_states``."""
    return Plan({"state_times": _state_times(trace), "vm_states": vm_states(trace)})


def state_times_table(frame: pl.DataFrame) -> Shown:
    """``state_times`` for a person: one row per VM, one column per state it was in (seconds)."""
    states = [state for state in (*VM_STATE_VALUES, *sorted(set(frame["state"]) - set(VM_STATE_VALUES)))
              if state in set(frame["state"])]
    vms = frame.select("vm").unique(maintain_order=True)
    table = vms.with_columns(
        *(pl.lit(None, dtype=pl.Float64).alias(state) for state in states)
    ) if frame.is_empty() else frame.pivot(on="state", index="vm", values="time").select("vm", *states)
    return table.fill_null(0.0), "seconds in each visible state"


# -- actors ------------------------------------------------------------------------------------------------------------
def actor_states(trace: Trace, *, nested: bool = False) -> pl.LazyFrame:
    """Actor state intervals: ``actor, state, start, end, duration, host`` (the host or VM it runs on).

    States are ``task_execute``, ``send`` and ``receive``; visible ones (the top of the stack) by default, the
    trace's rows with their ``depth`` with ``nested=True``. Empty for a trace written without actors.
    """
    rows = state_rows(as_lazy(trace), "MSG_PROCESS", "MSG_PROCESS_STATE", "actor")
    return rows if nested else visible(rows, "actor")


def _actor_activity(lf: pl.LazyFrame) -> pl.LazyFrame:
    lives = (
        containers(lf, "MSG_PROCESS", "actor").sort("actor", "c_start").group_by("actor", maintain_order=True)
        .agg(pl.col("host").first(), pl.col("c_start").min().alias("start"), pl.col("c_end").max().alias("end"),
             sum_in_order(pl.col("c_end") - pl.col("c_start"), "c_start").alias("lifetime"))
    )
    busy = visible(state_rows(lf, "MSG_PROCESS", "MSG_PROCESS_STATE", "actor"), "actor").group_by("actor").agg(
        sum_in_order(pl.when(pl.col("state") == state).then(pl.col("duration")).otherwise(0.0), "start")
        .alias(state) for state in ACTOR_STATE_VALUES
    )
    states = list(ACTOR_STATE_VALUES)
    return (
        lives.join(busy, on="actor", how="left")
        .with_columns(pl.col(states).fill_null(0.0))
        .with_columns((pl.col("lifetime") - pl.sum_horizontal(states)).clip(lower_bound=0.0).alias("idle"))
        .sort("start", "actor")
        .select("actor", "host", "start", "end", *states, "idle")
    )


def actor_activity(trace: Trace) -> pl.DataFrame:
    """One row per actor: ``actor, host, start, end, task_execute, send, receive, idle`` (seconds; the states'
    visible time, and the rest of its life). ``end`` is the summary's per-actor ``end``. Empty for a trace
    written without actors."""
    return collect(_actor_activity(as_lazy(trace)), trace)




def actors_plan(trace: pl.LazyFrame, inputs: Inputs) -> Plan:
    """The ``actors`` report: ``actor_activity`` and the visible ``actor_states``."""
    return Plan({"actor_activity": _actor_activity(trace), "actor_states": actor_states(trace)})


def actor_activity_table(frame: pl.DataFrame) -> Shown:
    """``actor_activity`` for a person: as it is."""
    return frame, "seconds"
