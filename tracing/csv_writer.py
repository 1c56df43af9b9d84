"""CSV traces for polars: one tidy table of what the Paje trace shows (:class:`CsvWriter`), and one row per
migration (:class:`MigrationsCsvWriter`).

:class:`CsvWriter` turns the operations of :class:`tracing.paje_model.PajeModel`, the same ones the Paje writer
prints, into the five kinds of rows ``pj_dump`` gives for a Paje file, in one set of columns::

    kind,container,type,start,end,duration,value,label,parent,start_container,end_container,key,depth

========= ============================================================================================
kind      one of ``container``, ``state``, ``variable``, ``link``, ``event``
container the container's name (for a link: the container holding it, the root)
type      the type's name (``HOST``, ``MSG_VM``, ``MSG_VM_STATE``, ``power_used``, ``MSG_VM_LINK`` ...)
start     seconds; ``end`` and ``duration`` too (an event has ``end = start`` and duration 0)
value     a variable's value (flop/s, byte/s); empty for the other kinds
label     a state's value, a link's value, an event's value; empty for containers and variables
parent    a container's parent container; empty for the root and the other kinds
start_container, end_container, key: a link's ends and key; empty for the other kinds
depth     a container's depth in the container tree (the root is 0), a state's imbrication level (0 at the
          bottom of the stack); empty for the other kinds
========= ============================================================================================

The rows follow Paje's semantics as PajeNG simulates them: a state lasts from its push to its pop (or to its
container's destruction), a variable's value from one set to the next (a second set at the same date replaces
the value), a container from its creation to its destruction. Rows are ordered by ``start``, then by the order
in which the operation opening them was emitted (a container before its variables), so the output is
deterministic. The root container, Paje's ``0``, is named after the platform's root zone (its name in SimGrid).

``polars.read_csv(path)`` reads the file with no options: numbers are written so that they parse as floats
(``0.0``, ``1e-05``), ``value`` is Float64, ``depth`` Int64, the text columns String (link keys are ``M<n>`` for
migrations and ``C<n>`` for communications, so that they never look like numbers). The table is kept in memory
until :meth:`close` sorts and writes it.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from typing import IO, Any

from replay import events
from replay.platform import Platform
from tracing.paje_model import PajeModel
from tracing.paje_types import (
    Container,
    CreateContainer,
    DefineType,
    DestroyContainer,
    EndLink,
    NewEvent,
    Operation,
    PopState,
    PushState,
    SetVariable,
    StartLink,
)
from tracing.schema import CSV_COLUMNS, MIGRATION_COLUMNS
from tracing.sink import FileSink

__all__ = ["CSV_COLUMNS", "MIGRATION_COLUMNS", "CsvWriter", "MigrationsCsvWriter"]


def _number(value: float) -> str:
    """A float as polars reads a float (``repr`` always has a point or an exponent)."""
    return repr(float(value))


@dataclass(eq=False, slots=True)
class _Open:
    """A living container: when and by which operation it was created, its open variables and state stacks."""

    seq: int
    start: float
    #: type alias -> [seq, start, value]
    variables: dict[int, list[Any]] = field(default_factory=dict)
    #: type alias -> stack of (seq, start, value name)
    states: dict[int, list[tuple[int, float, str]]] = field(default_factory=dict)


class CsvWriter(FileSink):
    """Write the run as one tidy CSV at ``path`` (atomically: see :mod:`tracing.sink`); see the module docstring.

    ``actors=True`` also records actors, as :class:`tracing.paje.PajeWriter` does with the same option.
    """

    def __init__(self, path: str | os.PathLike[str], platform: Platform, *, actors: bool = False) -> None:
        super().__init__(path)
        self.model = PajeModel(platform, actors=actors)
        #: finished rows: (start, seq, fields)
        self._rows: list[tuple[float, int, tuple[str, ...]]] = []
        self._open: dict[int, _Open] = {}
        self._links: dict[tuple[int, str], tuple[int, StartLink]] = {}
        self._seq = 0
        self._type_names = {paje_type.alias: paje_type.name for paje_type in self.model.types}

    # -- FileSink ------------------------------------------------------------------------------------------------
    def _begin(self, stream: IO[str]) -> None:
        self._open[self.model.root.alias] = _Open(-1, 0.0)
        self._apply(self.model.start())

    def _record(self, record: Any) -> None:
        ops = self.model.handle(record)
        if ops:
            self._apply(ops)

    def _end(self, stream: IO[str]) -> None:
        self._apply(self.model.finish())
        # The model destroyed every container but the root, which Paje ends with the trace.
        self._close_container(self.model.root, self.model.now)
        self._rows.sort(key=lambda row: (row[0], row[1]))
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(fields for _, _, fields in self._rows)

    # -- operations -> rows ---------------------------------------------------------------------------------------
    def _apply(self, ops: list[Operation]) -> None:
        for op in ops:
            seq = self._seq
            self._seq += 1
            match op:
                case DefineType(type=t):  # a type defined during the run (its values need no row)
                    self._type_names[t.alias] = t.name
                case CreateContainer(time=time, container=c):
                    self._open[c.alias] = _Open(seq, time)
                case DestroyContainer(time=time, container=c):
                    self._close_container(c, time)
                case SetVariable(time=time, container=c, type=t, value=value):
                    variables = self._open[c.alias].variables
                    current = variables.get(t.alias)
                    if current is not None and current[1] == time:
                        current[2] = value  # Paje: a second value at the same date replaces the first
                        continue
                    if current is not None:
                        self._variable_row(c, t.name, current, time)
                    variables[t.alias] = [seq, time, value]
                case PushState(time=time, container=c, type=t, value=v):
                    self._open[c.alias].states.setdefault(t.alias, []).append((seq, time, v.name))
                case PopState(time=time, container=c, type=t):
                    stack = self._open[c.alias].states[t.alias]
                    self._state_row(c, t.name, stack, time)
                case StartLink(time=time, type=t, key=key):
                    self._links[t.alias, key] = (seq, op)
                case EndLink(time=time, container=c, type=t, value=value, end=end, key=key):
                    opened, start = self._links.pop((t.alias, key))
                    fields = (
                        "link", c.name, t.name, _number(start.time), _number(time), _number(time - start.time), "",
                        value, "", start.start.name, end.name, key, "",
                    )
                    self._rows.append((start.time, opened, fields))
                case NewEvent(time=time, container=c, type=t, value=v):
                    fields = ("event", c.name, t.name, _number(time), _number(time), _number(0.0), "", v,
                              "", "", "", "", "")
                    self._rows.append((time, seq, fields))

    def _variable_row(self, c: Container, type_name: str, current: list[Any], end: float) -> None:
        seq, start, value = current
        fields = ("variable", c.name, type_name, _number(start), _number(end), _number(end - start),
                  _number(value), "", "", "", "", "", "")
        self._rows.append((start, seq, fields))

    def _state_row(self, c: Container, type_name: str, stack: list[tuple[int, float, str]], end: float) -> None:
        depth = len(stack) - 1
        seq, start, value = stack.pop()
        fields = ("state", c.name, type_name, _number(start), _number(end), _number(end - start), "", value, "",
                  "", "", "", str(depth))
        self._rows.append((start, seq, fields))

    def _close_container(self, c: Container, end: float) -> None:
        """End a container's variables and states, then the container itself (as PajeNG's destroy does)."""
        opened = self._open.pop(c.alias)
        for type_alias, current in opened.variables.items():
            self._variable_row(c, self._type_name(type_alias), current, end)
        for type_alias, stack in opened.states.items():
            while stack:
                self._state_row(c, self._type_name(type_alias), stack, end)
        parent = c.parent.name if c.parent is not None else ""
        fields = ("container", c.name, c.type.name, _number(opened.start), _number(end), _number(end - opened.start),
                  "", "", parent, "", "", "", str(c.depth))
        self._rows.append((opened.start, opened.seq, fields))

    def _type_name(self, alias: int) -> str:
        return self._type_names[alias]


class MigrationsCsvWriter(FileSink):
    """One row per migration, when it ends (``MigrationEnded``), at ``path`` (atomically)::

        vm,src,dst,start,end,duration,downtime,bytes_stage1,bytes_stage2,bytes_stage3,rounds,converged,error

    Times in seconds, bytes as whole numbers, ``converged`` as ``true``/``false`` (polars reads a Boolean),
    ``error`` empty for a migration that succeeded. Rows come in the order the migrations end.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(path)
        self._writer: Any = None

    def _begin(self, stream: IO[str]) -> None:
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(MIGRATION_COLUMNS)

    def _record(self, record: Any) -> None:
        if not isinstance(record, events.MigrationEnded):
            return
        r = record.report
        self._writer.writerow((
            r.vm, r.src, r.dst, _number(r.start), _number(r.end), _number(r.end - r.start), _number(r.downtime),
            _bytes(r.stage1), _bytes(r.stage2), _bytes(r.stage3), str(r.rounds), "true" if r.converged else "false",
            r.error,
        ))


def _bytes(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else _number(value)
