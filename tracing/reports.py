"""The reports a run's CSV can give, declared once each in a registry: what ``replay analyze`` prints and what
:func:`tracing.analysis.report` computes.

A :class:`Report` says everything about one report side by side: its name (``--what``), the tidy rows it needs
(so that the CSV is read once, keeping only those), the frames it gives (the first is its summary table), the
function that plans its queries, and, for a person, the title of its summary table and how that table is shaped
(which columns are shown, with a note on what was left out). :func:`tracing.analysis.report` and
``replay analyze`` only iterate over :data:`REPORTS`, so adding a report is one :func:`register` call::

    register(Report(
        name="energy",
        needs=("HOST", "power_used"),
        frames=("energy", "power"),
        plan=energy_plan,                # (trace, inputs) -> Plan: lazy frames, and what to make of them
        title="Energy per host (J)",
        table=energy_table,              # summary frame -> (frame for a person, note)
    ))

The planning and shaping functions of the reports below are named ``"module:function"`` (:class:`Lazy`) and
imported when a report is computed: listing the reports, which the command line does to offer ``--what``
choices whatever the command, never imports polars (``replay run`` stays as fast to start as before).
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tracing.schema import AVAILABILITY_TYPES, ENERGY_VARIABLES, FAILURE_TYPES, POLICY_TYPES, VARIABLES

if TYPE_CHECKING:
    import polars as pl

    from replay.platform import Platform

__all__ = [
    "REPORTS", "Detail", "Inputs", "Lazy", "Plan", "Report", "Shown", "chosen", "human", "listed", "register",
    "summaries", "tables",
]

PathArg = str | os.PathLike[str]
#: A summary frame shaped for a person, and a note on what was left out ("" for none).
Shown = tuple["pl.DataFrame", str]


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a report may read besides the tidy rows: the tidy CSV's path, the migrations CSV asked for (a path,
    ``False`` for none, ``None`` to look beside the tidy CSV), the platform of the run (for capacities) and the
    cores of its VMs by name (for theirs; the tidy CSV does not have them)."""

    trace_csv: PathArg
    migrations_csv: PathArg | bool | None = None
    platform: Platform | PathArg | None = None
    vm_cores: Mapping[str, int] | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """A report's lazy queries, collected together with every other report's (one pass over the rows), and
    ``finish``, which turns the collected frames into the report's frames (``None``: they are the report's)."""

    queries: Mapping[str, pl.LazyFrame]
    finish: Callable[[dict[str, pl.DataFrame]], dict[str, pl.DataFrame]] | None = None


@dataclass(frozen=True, slots=True)
class Detail:
    """A frame of a report that ``replay analyze`` prints after its summary (as a table, a CSV section, a JSON
    key), with its title and how a person reads it (``table``, as :attr:`Report.table`)."""

    frame: str
    title: str
    table: Callable[[pl.DataFrame], Shown] | None = None

    def shown(self, frame: pl.DataFrame) -> Shown:
        return self.table(frame) if self.table is not None else (frame, "")


@dataclass(frozen=True, slots=True)
class Report:
    """One report: see the module docstring. ``title`` is ``None`` for a report that is only a frame for other
    code (``moves``, for the plots): ``"all"`` and ``replay analyze`` leave it out. ``table`` is ``None`` for a
    summary shown as it is."""

    name: str
    #: the ``type`` of the tidy rows it reads (the root container, the run's length, is always kept)
    needs: tuple[str, ...]
    #: the frames it gives, in order; the first is its summary table
    frames: tuple[str, ...]
    plan: Callable[[pl.LazyFrame, Inputs], Plan]
    title: str | None = None
    table: Callable[[pl.DataFrame], Shown] | None = None
    #: frames printed after the summary, when it is not empty (most reports have one table: none)
    details: tuple[Detail, ...] = ()

    @property
    def summary(self) -> str:
        """The name of its summary frame (what ``replay analyze`` prints)."""
        return self.frames[0]

    @property
    def listed(self) -> bool:
        """Whether it is one of ``"all"``, an analysis for people (it has a title)."""
        return self.title is not None

    def shown(self, frame: pl.DataFrame) -> Shown:
        """The summary ``frame`` as a person reads it in a terminal, with a note."""
        return self.table(frame) if self.table is not None else (frame, "")


@dataclass(frozen=True, slots=True)
class Lazy:
    """The function ``target`` (``"module:function"``), imported when it is called."""

    target: str

    def __call__(self, *args: Any) -> Any:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)(*args)


#: Every report, by name, in the order they are computed and printed.
REPORTS: dict[str, Report] = {}


def register(report: Report) -> Report:
    """Add ``report`` to :data:`REPORTS` (after the others); a name may be taken once, and ``all`` never."""
    if report.name in REPORTS or report.name == "all":
        raise ValueError(f"report name {report.name!r} is taken")
    if not report.frames:
        raise ValueError(f"report {report.name!r} gives no frame")
    REPORTS[report.name] = report
    return report


def listed() -> list[Report]:
    """The reports of ``"all"``, those ``replay analyze`` offers, in order."""
    return [report for report in REPORTS.values() if report.listed]


def chosen(what: str | Iterable[str]) -> list[Report]:
    """The reports named by ``what`` (a name, names, or ``"all"``: the :func:`listed` reports), in the order
    given, each once."""
    names = [report.name for report in listed()] if what == "all" else [what] if isinstance(what, str) else list(what)
    for name in names:
        if name not in REPORTS:
            hidden = [other for other, report in REPORTS.items() if not report.listed]
            raise ValueError(f"unknown report {name!r}: expected {', '.join(['all', *hidden])} or one of "
                             f"{', '.join(report.name for report in listed())}")
    return [REPORTS[name] for name in dict.fromkeys(names)]


def summaries(frames: Mapping[str, pl.DataFrame]) -> list[tuple[Report, pl.DataFrame]]:
    """The listed reports whose summary is among ``frames`` (as :func:`tracing.analysis.report` returns them),
    each with that summary frame, in the registry's order."""
    return [(report, frames[report.summary]) for report in listed() if report.summary in frames]


def tables(frames: Mapping[str, pl.DataFrame]) -> list[tuple[str, str, pl.DataFrame, Callable[[pl.DataFrame], Shown]]]:
    """What ``replay analyze`` prints of ``frames``: ``(name, title, frame, shown)`` for each listed report's
    summary, followed by its :attr:`Report.details` when the summary has rows."""
    found: list[tuple[str, str, pl.DataFrame, Callable[[pl.DataFrame], Shown]]] = []
    for report, frame in summaries(frames):
        found.append((report.summary, report.title or report.summary, frame, report.shown))
        if not frame.is_empty():
            found.extend((detail.frame, detail.title, frames[detail.frame], detail.shown)
                         for detail in report.details if detail.frame in frames)
    return found


# -- quantities for people -----------------------------------------------------------------------------------------
_DECIMAL = ("", "k", "M", "G", "T", "P", "E", "Z", "Y")
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
#: the units of the summary frames, and how a table writes them
_SYMBOLS = {"flop/s": "f/s", "byte/s": "B/s"}


def _significant(value: float) -> str:
    """``value`` with three significant digits, trailing zeros kept: 1.47, 12.5, 125, 0.500."""
    if value == 0:
        return "0"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:.{digits}f}"


def human(value: float | None, unit: str) -> str | None:
    """``value`` in ``unit`` as a table for people writes it (csv and json give exact numbers).

    Rates (``flop/s``, ``byte/s``) get three significant digits and a decimal prefix: ``1.47 Gf/s``,
    ``125 MB/s``; sizes (``bytes``) two decimals and a binary prefix, as SimGrid writes RAM: ``1.00 GiB``,
    ``12.90 MiB``, ``512 B``. ``None`` stays ``None`` (unknown).
    """
    if value is None:
        return None
    if unit == "bytes":
        for prefix in _BINARY:
            if abs(value) < 1024 or prefix == _BINARY[-1]:
                return f"{value:.0f} B" if prefix == "B" else f"{value:.2f} {prefix}"
            value /= 1024
    symbol = _SYMBOLS.get(unit)
    if symbol is None:
        raise ValueError(f"unknown unit {unit!r}: expected bytes, {', '.join(_SYMBOLS)}")
    rounded = float(f"{value:.3g}")
    for prefix in _DECIMAL:
        if abs(rounded) < 1000 or prefix == _DECIMAL[-1]:
            return f"{_significant(rounded)} {prefix}{symbol}"
        rounded = float(f"{rounded / 1000:.3g}")
    raise AssertionError("unreachable")  # pragma: no cover


# -- the reports ---------------------------------------------------------------------------------------------------
register(Report(
    name="migrations",
    needs=("MSG_VM", "MSG_VM_STATE", "MSG_VM_LINK", "MSG_VM_MIGRATION"),
    frames=("migrations",),
    plan=Lazy("tracing.migrations:migrations_plan"),
    title="Migrations (s)",
    table=Lazy("tracing.migrations:migrations_table"),
))
register(Report(
    name="states",
    needs=("MSG_VM", "MSG_VM_STATE"),
    frames=("state_times", "vm_states"),
    plan=Lazy("tracing.states:vm_states_plan"),
    title="Time per VM state (s)",
    table=Lazy("tracing.states:state_times_table"),
))
register(Report(
    name="utilization",
    needs=("HOST", "MSG_VM", *VARIABLES, *AVAILABILITY_TYPES),
    frames=("mean_utilization", "utilization"),
    plan=Lazy("tracing.utilization:utilization_plan"),
    title="Mean utilization over the run",
    table=Lazy("tracing.utilization:mean_utilization_table"),
))
register(Report(
    name="actors",
    needs=("MSG_PROCESS", "MSG_PROCESS_STATE"),
    frames=("actor_activity", "actor_states"),
    plan=Lazy("tracing.states:actors_plan"),
    title="Actor activity (s)",
    table=Lazy("tracing.states:actor_activity_table"),
))
register(Report(
    name="energy",
    needs=("HOST", "LINK", *ENERGY_VARIABLES, "power_used", "bandwidth_used"),
    frames=("energy", "power", "pstates"),
    plan=Lazy("tracing.energy:energy_plan"),
    title="Energy over the run",
    table=Lazy("tracing.energy:energy_table"),
))
register(Report(
    name="moves",
    needs=("MSG_VM", "MSG_VM_LINK"),
    frames=("moves",),
    plan=Lazy("tracing.migrations:moves_plan"),
))
register(Report(
    name="off_periods",
    needs=("HOST_STATE", "LINK_STATE"),
    frames=("off_periods",),
    plan=Lazy("tracing.capacity:off_periods_plan"),
))
register(Report(
    name="failures",
    needs=(*FAILURE_TYPES, "MSG_VM", "MSG_VM_STATE", "MSG_VM_LINK", "MSG_VM_MIGRATION", "MSG_PROCESS",
           "MSG_PROCESS_STATE"),
    frames=("failures", "outages", "lost"),
    plan=Lazy("tracing.failures:failures_plan"),
    title="Hosts and links that went off",
    table=Lazy("tracing.failures:failures_table"),
    details=(Detail("outages", "Outages (s)", Lazy("tracing.failures:outages_table")),
             Detail("lost", "Lost with them: VMs, actors, migrations", Lazy("tracing.failures:lost_table"))),
))
register(Report(
    name="sla",
    needs=(*POLICY_TYPES, "HOST", "MSG_VM", "LINK", "power_used", "bandwidth_used", *ENERGY_VARIABLES,
           *AVAILABILITY_TYPES, "MSG_VM_STATE", "MSG_VM_LINK", "MSG_VM_MIGRATION"),
    frames=("sla", "sla_hosts", "sla_vms", "sla_decisions", "decisions", "hosts_on"),
    plan=Lazy("tracing.sla:sla_plan"),
    title="SLA of the policy in the loop",
    table=Lazy("tracing.sla:sla_table"),
    details=(Detail("sla_hosts", "Hosts: active, saturated (SLATAH), off", Lazy("tracing.sla:sla_hosts_table")),
             Detail("sla_vms", "VMs: work lost to migrations (PDM)", Lazy("tracing.sla:sla_vms_table")),
             Detail("sla_decisions", "Decisions by action and reason")),
))
