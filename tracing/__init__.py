"""Observers of a run: trace writers that subscribe to the engine's records and never change the run.

* :mod:`tracing.sink`: the ``TraceSink`` protocol (open, emit, close, abort; a context manager), ``MemorySink``
  for tests, atomic file writing (``AtomicTextFile``, ``atomic_write_text``, ``atomic_path``), used by every
  output of the project.
* :mod:`tracing.paje_model`: the one translation of :mod:`replay.events` records into Paje operations
  (containers, states, variables, links, events), shared by the writers below so they never disagree; the
  operations and the names they use are in :mod:`tracing.paje_types`, hosts and links going off and their
  capacities in :mod:`tracing.paje_availability`, a policy's decisions and the CPU requested in
  :mod:`tracing.paje_policy`.
* :mod:`tracing.paje`: ``PajeWriter``, Paje traces that PajeNG and ViTE read (SimGrid 3.32's header).
* :mod:`tracing.csv_writer`: ``CsvWriter``, one tidy CSV for polars; ``MigrationsCsvWriter``, one row per
  migration; their columns and types are those of :mod:`tracing.schema`, which the analysis reads them with.

After a run, :mod:`tracing.analysis` analyses its CSVs in polars (the reports of :mod:`tracing.reports`, the
queries of :mod:`tracing.tidy`, :mod:`tracing.states`, :mod:`tracing.migrations`, :mod:`tracing.utilization` and
:mod:`tracing.capacity`, :mod:`tracing.energy`, :mod:`tracing.failures`, :mod:`tracing.decisions`,
:mod:`tracing.sla`) and :mod:`tracing.plots` draws them; neither is imported here, so that writing traces never
imports polars.

Attach a writer with ``sim.engine.subscribe(writer.emit)`` inside ``with writer:``. The simulator never imports
this package; the CLI is the one place that wires writers to a run. The names below are imported on first use
(PEP 562): a command that needs one module of this package (``tracing.reports`` to list ``--what`` choices,
``tracing.sink`` to write a file) does not load the writers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from replay.lazy import exports

if TYPE_CHECKING:
    from tracing.csv_writer import CsvWriter, MigrationsCsvWriter
    from tracing.paje import PajeWriter
    from tracing.paje_model import PajeModel
    from tracing.sink import AtomicTextFile, MemorySink, TraceSink, atomic_path, atomic_write_text

__all__ = [
    "AtomicTextFile",
    "CsvWriter",
    "MemorySink",
    "MigrationsCsvWriter",
    "PajeModel",
    "PajeWriter",
    "TraceSink",
    "atomic_path",
    "atomic_write_text",
]

#: Where each public name is defined.
_HOMES = {
    "CsvWriter": "tracing.csv_writer",
    "MigrationsCsvWriter": "tracing.csv_writer",
    "PajeWriter": "tracing.paje",
    "PajeModel": "tracing.paje_model",
    "AtomicTextFile": "tracing.sink",
    "MemorySink": "tracing.sink",
    "TraceSink": "tracing.sink",
    "atomic_path": "tracing.sink",
    "atomic_write_text": "tracing.sink",
}


__getattr__, __dir__ = exports(__name__, _HOMES)
