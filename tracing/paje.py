"""Paje traces for ViTE and PajeNG: :class:`PajeWriter`.

The file starts with SimGrid 3.32's header, the 18 ``%EventDef`` blocks numbered 0 to 17 with their fields in
the order ``src/instr/instr_paje_header.cpp`` writes them in its default format (not ``tracing/basic``, no
sizes, no SMPI call locations). Then come the type and value definitions known from the platform, and the
events, each line ``<event number> <time> <type> <container> [fields]`` with integer aliases for types, values
and containers as SimGrid prints them, times and variable values with ``precision`` digits after the point
(SimGrid's ``tracing/precision``, 6 by default). The types only a run may need (a host going off) are defined
among the events, just before their first use, as SimGrid writes its own; an event value with a blank is
quoted. What is drawn (containers, states, variables, links, events) is decided by :mod:`tracing.paje_model`,
shared with the CSV writer; see its docstring for the mapping.

The file has no comment line: ViTE warns about every ``#`` line (SimGrid's two included), and a quote in one
makes it read on past the end of the line.

The model gives its operations in time order (stop-and-copy included: it has its own record), so they are
written as they come and timestamps never go back in the file. The same run gives the same bytes: aliases and
link keys are counted per writer, and nothing else (no date, no path) goes into the file.

Why not SimGrid's own VM tracing: SimGrid 3.32 cannot write these traces. Its ``tracing/vm`` option creates a
second container for every host (the VM callback also listens to host creation), so a run with
``--cfg=tracing:yes --cfg=tracing/vm:yes`` aborts while loading the platform with the TracingError
"container <first host> already present in all_containers_"; with ``tracing/uncategorized`` instead, creating a
VM aborts with "Only the Root container has no parent" (both seen with Debian's libsimgrid 3.32 on a small s4u
program migrating a VM; plain ``tracing:yes`` runs but records no VM at all). Its VM states were only ``start``
and ``suspend`` and it drew no migration. Our traces therefore follow the MSG-era ``TRACE_msg_vm_*`` semantics of
the 2013 hypervisor branch (``MSG_VM`` containers, ``MSG_VM_STATE`` pushes and pops, ``MSG_VM_LINK``
migrations), with the event definitions of 3.32.
"""

from __future__ import annotations

import os
from typing import IO, Any

from replay.platform import Platform
from tracing.paje_model import PajeModel
from tracing.paje_types import (
    CreateContainer,
    DefineType,
    DefineValue,
    DestroyContainer,
    EndLink,
    NewEvent,
    Operation,
    PajeEventType,
    PajeType,
    PajeValue,
    PopState,
    PushState,
    SetVariable,
    StartLink,
)
from tracing.sink import FileSink

__all__ = ["PAJE_HEADER", "PajeWriter", "format_operation"]

E = PajeEventType

#: (event, fields) of the 18 event definitions, as SimGrid 3.32 declares them (default, non-basic format).
_DEFINITIONS: tuple[tuple[PajeEventType, tuple[str, ...]], ...] = (
    (E.DefineContainerType, ("Alias string", "Type string", "Name string")),
    (E.DefineVariableType, ("Alias string", "Type string", "Name string", "Color color")),
    (E.DefineStateType, ("Alias string", "Type string", "Name string")),
    (E.DefineEventType, ("Alias string", "Type string", "Name string")),
    (E.DefineLinkType, ("Alias string", "Type string", "StartContainerType string", "EndContainerType string",
                        "Name string")),
    (E.DefineEntityValue, ("Alias string", "Type string", "Name string", "Color color")),
    (E.CreateContainer, ("Time date", "Alias string", "Type string", "Container string", "Name string")),
    (E.DestroyContainer, ("Time date", "Type string", "Name string")),
    (E.SetVariable, ("Time date", "Type string", "Container string", "Value double")),
    (E.AddVariable, ("Time date", "Type string", "Container string", "Value double")),
    (E.SubVariable, ("Time date", "Type string", "Container string", "Value double")),
    (E.SetState, ("Time date", "Type string", "Container string", "Value string")),
    (E.PushState, ("Time date", "Type string", "Container string", "Value string")),
    (E.PopState, ("Time date", "Type string", "Container string")),
    (E.ResetState, ("Time date", "Type string", "Container string")),
    (E.StartLink, ("Time date", "Type string", "Container string", "Value string", "StartContainer string",
                   "Key string")),
    (E.EndLink, ("Time date", "Type string", "Container string", "Value string", "EndContainer string",
                 "Key string")),
    (E.NewEvent, ("Time date", "Type string", "Container string", "Value string")),
)

#: The header: 18 ``%EventDef`` blocks, byte for byte as SimGrid 3.32 writes them.
PAJE_HEADER = "".join(
    f"%EventDef Paje{event.name} {event.value}\n" + "".join(f"%       {f}\n" for f in fields) + "%EndEventDef\n"
    for event, fields in _DEFINITIONS
)

_TYPE_EVENTS = {
    "container": E.DefineContainerType,
    "variable": E.DefineVariableType,
    "state": E.DefineStateType,
    "event": E.DefineEventType,
    "link": E.DefineLinkType,
}


def format_type(paje_type: PajeType) -> str:
    """The definition line of a type (``4 <alias> <parent> <start> <end> <name>`` for a link type)."""
    code = _TYPE_EVENTS[paje_type.kind]
    parent = paje_type.parent.alias if paje_type.parent is not None else 0
    if paje_type.kind == "link":
        assert paje_type.start is not None and paje_type.end is not None
        return f"{code} {paje_type.alias} {parent} {paje_type.start.alias} {paje_type.end.alias} {paje_type.name}"
    line = f"{code} {paje_type.alias} {parent} {paje_type.name}"
    if paje_type.kind == "variable":
        line += f' "{paje_type.color or "1 1 1"}"'
    return line


def format_value(value: PajeValue) -> str:
    return f'{E.DefineEntityValue} {value.alias} {value.type.alias} {value.name} "{value.color}"'


def format_operation(op: Operation, precision: int = 6) -> str:
    """One event line; ``precision`` digits after the point for times and variable values (``std::fixed``). A
    definition made during the run is its definition line (it has no date)."""
    match op:
        case DefineType(type=paje_type):
            return format_type(paje_type)
        case DefineValue(value=value):
            return format_value(value)
    time = f"{op.time:.{precision}f}"
    match op:
        case CreateContainer(container=c):
            assert c.parent is not None
            return f'{op.code} {time} {c.alias} {c.type.alias} {c.parent.alias} "{c.name}"'
        case DestroyContainer(container=c):
            return f"{op.code} {time} {c.type.alias} {c.alias}"
        case SetVariable(container=c, type=t, value=v):
            return f"{op.code} {time} {t.alias} {c.alias} {v:.{precision}f}"
        case PushState(container=c, type=t, value=v):
            return f"{op.code} {time} {t.alias} {c.alias} {v.alias}"
        case NewEvent(container=c, type=t, value=name):
            return f"{op.code} {time} {t.alias} {c.alias} {_field(name)}"
        case PopState(container=c, type=t):
            return f"{op.code} {time} {t.alias} {c.alias}"
        case StartLink(container=c, type=t, value=v, start=other, key=key) | EndLink(
            container=c, type=t, value=v, end=other, key=key
        ):
            return f"{op.code} {time} {t.alias} {c.alias} {v} {other.alias} {key}"
    raise TypeError(f"not a Paje operation: {op!r}")  # pragma: no cover


def _field(text: str) -> str:
    """A string field: quoted when it holds a blank (a cause: ``"host 'pm-2' went off at t=3 s"``), as is
    otherwise (``stage1``); the model has taken the double quotes out."""
    return f'"{text}"' if not text or any(char.isspace() for char in text) else text


class PajeWriter(FileSink):
    """Write the run as a Paje trace at ``path`` (atomically: see :mod:`tracing.sink`).

    ``precision`` is the number of digits after the point of times and values (SimGrid's ``tracing/precision``);
    ``actors=True`` also draws actors (``MSG_PROCESS`` containers, their states and communications).
    """

    def __init__(
        self, path: str | os.PathLike[str], platform: Platform, *, precision: int = 6, actors: bool = False
    ) -> None:
        if not 0 <= precision <= 17:
            raise ValueError(f"precision must be between 0 and 17 digits, got {precision}")
        super().__init__(path)
        self.precision = precision
        self.model = PajeModel(platform, actors=actors)
        self._stream: IO[str] | None = None

    def _begin(self, stream: IO[str]) -> None:
        self._stream = stream
        stream.write(PAJE_HEADER)
        values: dict[int, list[PajeValue]] = {}
        for value in self.model.values:
            values.setdefault(value.type.alias, []).append(value)
        for paje_type in self.model.types:
            if paje_type.parent is None:  # the root type "0" is Paje's own
                continue
            stream.write(format_type(paje_type) + "\n")
            for value in values.get(paje_type.alias, ()):
                stream.write(format_value(value) + "\n")
        self._write(self.model.start())

    def _record(self, record: Any) -> None:
        ops = self.model.handle(record)
        if ops:
            self._write(ops)

    def _end(self, stream: IO[str]) -> None:
        self._write(self.model.finish())

    def _write(self, ops: list[Operation]) -> None:
        stream, precision = self._stream, self.precision
        assert stream is not None
        if ops:
            stream.write("\n".join(format_operation(op, precision) for op in ops) + "\n")
