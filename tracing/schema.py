"""The two CSV tables of a run, defined once: their columns in order and the polars type of each.

:mod:`tracing.csv_writer` writes the header from :data:`TIDY` and :data:`MIGRATIONS`; the analysis reads the files
with the polars schema the same tables give (:meth:`CsvTable.polars_schema`), so the writer and the reader
cannot disagree on a column. The types are named as strings, resolved to polars types only when a schema is
asked for: writing a CSV (``replay run --csv``) never imports polars.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "ACTOR_END", "AVAILABILITY_TYPES", "AVAILABILITY_VARIABLES", "CSV_COLUMNS", "ENERGY_VARIABLES", "FAILURE_TYPES",
    "HOST_OFF", "HOST_STATE", "LINK_OFF", "LINK_STATE", "MIGRATIONS", "MIGRATION_COLUMNS", "POLICY", "POLICY_TYPES",
    "REQUESTED", "TIDY", "VARIABLES", "CsvTable",
]


@dataclass(frozen=True, slots=True)
class CsvTable:
    """A CSV table ``replay run`` writes: what a message calls it, the option that writes it, and its columns
    with the name of their polars type (``String``, ``Float64``, ``Int64``, ``Boolean``)."""

    what: str
    option: str
    types: Mapping[str, str]

    @property
    def columns(self) -> tuple[str, ...]:
        """The header, in order."""
        return tuple(self.types)

    def polars_schema(self) -> pl.Schema:
        """The columns with their polars types, to read the file without guessing (imports polars)."""
        import polars as pl

        return pl.Schema({name: getattr(pl, dtype) for name, dtype in self.types.items()})


#: The tidy CSV (``replay run --csv``): one row per container, state, variable value, link and event.
TIDY = CsvTable("a tidy trace CSV", "replay run --csv", {
    "kind": "String", "container": "String", "type": "String", "start": "Float64", "end": "Float64",
    "duration": "Float64", "value": "Float64", "label": "String", "parent": "String",
    "start_container": "String", "end_container": "String", "key": "String", "depth": "Int64",
})

#: The migrations CSV (``replay run --migrations``): one row per migration. Bytes are written as whole numbers
#: but typed as floats, so that a fractional count written by ``repr`` still reads.
MIGRATIONS = CsvTable("a migrations CSV", "replay run --migrations", {
    "vm": "String", "src": "String", "dst": "String", "start": "Float64", "end": "Float64",
    "duration": "Float64", "downtime": "Float64", "bytes_stage1": "Float64", "bytes_stage2": "Float64",
    "bytes_stage3": "Float64", "rounds": "Int64", "converged": "Boolean", "error": "String",
})

CSV_COLUMNS = TIDY.columns
MIGRATION_COLUMNS = MIGRATIONS.columns

#: The tidy table's step-function variables (the ``type`` of its ``variable`` rows): ``power_used`` of hosts and
#: VMs (flop/s), ``bandwidth_used`` of links and ``disk_used`` of hosts with a disk (byte/s).
VARIABLES = ("power_used", "bandwidth_used", "disk_used")

#: The tidy table's energy variables, step functions too, written only when the platform has wattages: ``power``
#: (watts) of each ``HOST`` with a ``wattage_per_state`` and each ``LINK`` with a ``wattage_range``, and ``pstate``
#: (the index of the current power state) of every ``HOST`` when some host has several power states. They are
#: not usages, so not in :data:`VARIABLES`; :mod:`tracing.energy` reads them.
ENERGY_VARIABLES = ("power", "pstate")

#: The tidy table's availability variables, written only for the hosts and links whose capacity changes (a
#: profile, or a change made from Python): ``speed`` of a ``HOST`` (flop/s, all cores: comparable with its
#: ``power_used``), ``bandwidth`` (byte/s) and ``latency`` (s) of a ``LINK``. Not usages either.
AVAILABILITY_VARIABLES = ("speed", "bandwidth", "latency")

#: The Paje types of availability, failures and policies (:mod:`tracing.paje_types` says what they hold), here so
#: that the reports (and ``replay analyze --what``'s choices, which every command lists) do not load the Paje
#: vocabulary: the ``off`` states of hosts and links, the point events of their going off, a policy's decisions,
#: the CPU requested, and the point event at the end of an actor that did not end ``done``.
HOST_STATE = "HOST_STATE"
LINK_STATE = "LINK_STATE"
HOST_OFF = "HOST_OFF"
LINK_OFF = "LINK_OFF"
POLICY = "POLICY"
REQUESTED = "requested"
ACTOR_END = "MSG_PROCESS_END"

#: The types that say a capacity changed or a resource was off, which utilization reads (with ``pstate``).
AVAILABILITY_TYPES = ("pstate", "speed", "bandwidth", HOST_STATE, LINK_STATE)

#: The types written only when something goes off or ends badly: the ``off`` states of hosts and links, the
#: events that give their causes, and the event at the end of an actor that did not end ``done``.
FAILURE_TYPES = (HOST_STATE, LINK_STATE, HOST_OFF, LINK_OFF, ACTOR_END)

#: The types written only in a run with a policy in the loop (``replay run --policy``): the ``requested``
#: variable of hosts and VMs (flop/s, what their executions ask) and the ``POLICY`` events (each decision, with
#: its reason); a host booting is a ``HOST_STATE`` row ``booting`` (over its ``off``).
POLICY_TYPES = (REQUESTED, POLICY)
