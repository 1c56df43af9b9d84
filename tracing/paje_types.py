"""The vocabulary of our Paje traces: event numbers, types, values, containers, operations and their names.

:class:`tracing.paje_model.PajeModel` decides which of these a run produces; the writers print them
(:mod:`tracing.paje`) or turn them into rows (:mod:`tracing.csv_writer`). The names and colors are SimGrid's
MSG-era ones (see :mod:`tracing.paje_model`), and :data:`VM_STACKS` says how each VM state is drawn as a stack
of ``MSG_VM_STATE`` values. :class:`Definitions` holds a trace's types and values: those the platform implies,
written before the first event, and those only a run reveals (a host going off), defined at their first use by
:class:`DefineType` and :class:`DefineValue` operations, as SimGrid itself defines a type when it first needs it.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass, field
from typing import ClassVar

from replay.lifecycle import VmState
from tracing.schema import ACTOR_END, HOST_OFF, HOST_STATE, LINK_OFF, LINK_STATE, POLICY, REQUESTED

__all__ = [
    "ACTOR_END",
    "ACTOR_STATE_VALUES",
    "BOOTING_VALUES",
    "CAPACITY_COLOR",
    "COMM_LINK_VALUE",
    "HOST_OFF",
    "HOST_STATE",
    "LATENCY_COLOR",
    "LINK_OFF",
    "LINK_STATE",
    "LOOPBACK",
    "MIGRATION_FORCED_VALUE",
    "MIGRATION_LINK_VALUE",
    "MIGRATION_STAGE_VALUES",
    "OFF_VALUES",
    "POLICY",
    "POWER_COLOR",
    "PSTATE_COLOR",
    "REQUESTED",
    "REQUESTED_COLOR",
    "USED_COLOR",
    "VM_STACKS",
    "VM_STATE_VALUES",
    "Container",
    "CreateContainer",
    "DefineType",
    "DefineValue",
    "Definitions",
    "DestroyContainer",
    "EndLink",
    "NewEvent",
    "Operation",
    "PajeEventType",
    "PajeType",
    "PajeValue",
    "PopState",
    "PushState",
    "SetVariable",
    "StartLink",
    "clean",
    "retarget",
]


class PajeEventType(enum.IntEnum):
    """The 18 Paje event definitions, numbered as SimGrid 3.32 numbers them (``instr_paje_events.hpp``)."""

    DefineContainerType = 0
    DefineVariableType = 1
    DefineStateType = 2
    DefineEventType = 3
    DefineLinkType = 4
    DefineEntityValue = 5
    CreateContainer = 6
    DestroyContainer = 7
    SetVariable = 8
    AddVariable = 9
    SubVariable = 10
    SetState = 11
    PushState = 12
    PopState = 13
    ResetState = 14
    StartLink = 15
    EndLink = 16
    NewEvent = 17


# -- types, values, containers --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, eq=False)
class PajeType:
    """A Paje type: ``kind`` is container, variable, state, event or link; links also have start and end types."""

    alias: int
    kind: str
    name: str
    parent: PajeType | None
    color: str = ""
    start: PajeType | None = None
    end: PajeType | None = None


@dataclass(frozen=True, slots=True, eq=False)
class PajeValue:
    """A named value of a state or event type (an entity value), with its RGB color in [0, 1]."""

    alias: int
    type: PajeType
    name: str
    color: str


@dataclass(eq=False, slots=True)
class Container:
    """A Paje container; ``depth`` is 0 for the root; ``children`` are the living ones, in creation order."""

    alias: int
    name: str
    type: PajeType
    parent: Container | None
    depth: int
    children: dict[int, Container] = field(default_factory=dict)


# -- operations -------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CreateContainer:
    time: float
    container: Container
    code: ClassVar[int] = PajeEventType.CreateContainer


@dataclass(frozen=True, slots=True)
class DestroyContainer:
    time: float
    container: Container
    code: ClassVar[int] = PajeEventType.DestroyContainer


@dataclass(frozen=True, slots=True)
class SetVariable:
    time: float
    container: Container
    type: PajeType
    value: float
    code: ClassVar[int] = PajeEventType.SetVariable


@dataclass(frozen=True, slots=True)
class PushState:
    time: float
    container: Container
    type: PajeType
    value: PajeValue
    code: ClassVar[int] = PajeEventType.PushState


@dataclass(frozen=True, slots=True)
class PopState:
    time: float
    container: Container
    type: PajeType
    code: ClassVar[int] = PajeEventType.PopState


@dataclass(frozen=True, slots=True)
class StartLink:
    """A link leaves ``start``; ``container`` is where the link lives (the root for ours)."""

    time: float
    container: Container
    type: PajeType
    value: str
    start: Container
    key: str
    code: ClassVar[int] = PajeEventType.StartLink


@dataclass(frozen=True, slots=True)
class EndLink:
    time: float
    container: Container
    type: PajeType
    value: str
    end: Container
    key: str
    code: ClassVar[int] = PajeEventType.EndLink


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A point event; its value is a plain string (ViTE takes no entity values for event types)."""

    time: float
    container: Container
    type: PajeType
    value: str
    code: ClassVar[int] = PajeEventType.NewEvent


@dataclass(frozen=True, slots=True)
class DefineType:
    """A type defined during the run, just before its first use (``time`` is when; Paje's line has no date)."""

    time: float
    type: PajeType


@dataclass(frozen=True, slots=True)
class DefineValue:
    """A value of a type defined during the run, right after its type."""

    time: float
    value: PajeValue


Operation = (
    CreateContainer | DestroyContainer | SetVariable | PushState | PopState | StartLink | EndLink | NewEvent
    | DefineType | DefineValue
)


# -- definitions ------------------------------------------------------------------------------------------------
class Definitions:
    """The types and values of one trace, with their aliases: types and values share one counter (the root type
    is 0), as SimGrid prints them.

    :meth:`define` gives the definitions known before the run (``types`` and ``values``, in the order a file
    declares them); :meth:`late` those a run may or may not need (a host's ``HOST_STATE`` once some host goes
    off), defined once, at their first use, as :class:`DefineType` and :class:`DefineValue` operations, so that
    a run that never needs them gives the trace it gave before they existed, byte for byte.
    """

    def __init__(self) -> None:
        self.types: list[PajeType] = []
        self.values: list[PajeValue] = []
        self._ids = itertools.count()
        self._values: dict[tuple[int, str], PajeValue] = {}
        self._late: dict[tuple[int, str], PajeType] = {}

    def define(self, kind: str, name: str, parent: PajeType | None, color: str = "",
               start: PajeType | None = None, end: PajeType | None = None) -> PajeType:
        paje_type = PajeType(next(self._ids), kind, name, parent, color, start, end)
        self.types.append(paje_type)
        return paje_type

    def define_values(self, paje_type: PajeType, values: dict[str, str]) -> list[PajeValue]:
        defined = []
        for name, color in values.items():
            value = PajeValue(next(self._ids), paje_type, name, color)
            self.values.append(value)
            self._values[paje_type.alias, name] = value
            defined.append(value)
        return defined

    def value(self, paje_type: PajeType, name: str) -> PajeValue:
        return self._values[paje_type.alias, name]

    def late(self, kind: str, name: str, parent: PajeType, time: float, ops: list[Operation], *, color: str = "",
             values: dict[str, str] | None = None) -> PajeType:
        """The type ``name`` under ``parent``; the first call defines it (and its ``values``), appending the
        definitions to ``ops``."""
        paje_type = self._late.get((parent.alias, name))
        if paje_type is None:
            paje_type = self._late[parent.alias, name] = self.define(kind, name, parent, color)
            ops.append(DefineType(time, paje_type))
            ops.extend(DefineValue(time, value) for value in self.define_values(paje_type, values or {}))
        return paje_type

    def late_value(self, paje_type: PajeType, name: str, color: str, time: float, ops: list[Operation]) -> PajeValue:
        """The value ``name`` of ``paje_type``; the first call defines it (a :class:`DefineValue` in ``ops``), so
        that a type defined before the value was needed (``HOST_STATE`` of a failure, then ``booting``) gets it
        without changing the traces that never need it."""
        value = self._values.get((paje_type.alias, name))
        if value is None:
            [value] = self.define_values(paje_type, {name: color})
            ops.append(DefineValue(time, value))
        return value


def retarget(
    ops: list[Operation], time: float, container: Container, state_type: PajeType, stack: list[PajeValue],
    wanted: tuple[str, ...], definitions: Definitions,
) -> None:
    """Pop ``stack`` down to its longest prefix matching ``wanted``, then push the rest of ``wanted``."""
    keep = 0
    while keep < len(stack) and keep < len(wanted) and stack[keep].name == wanted[keep]:
        keep += 1
    while len(stack) > keep:
        stack.pop()
        ops.append(PopState(time, container, state_type))
    for name in wanted[keep:]:
        value = definitions.value(state_type, name)
        stack.append(value)
        ops.append(PushState(time, container, state_type, value))


def clean(name: str) -> str:
    """A name as a Paje field can hold it: no double quote, no line break."""
    return name.replace('"', "'").replace("\n", " ").replace("\r", " ")

# -- the vocabulary ---------------------------------------------------------------------------------------------
#: The ``MSG_VM_STATE`` stack (bottom first) shown for each VM state.
VM_STACKS: dict[VmState, tuple[str, ...]] = {
    VmState.CREATED: (),
    VmState.RUNNING: ("start",),
    VmState.SUSPENDED: ("start", "suspend"),
    VmState.SAVING: ("start", "save", "saving"),
    VmState.SAVED: ("start", "save"),
    VmState.RESTORING: ("start", "save", "restoring"),
    VmState.MIGRATING: ("start", "migrate"),
    VmState.DESTROYED: (),
}

#: Values of ``MSG_VM_STATE`` and their colors: the seed's three (start blue, suspend red, save green), then ours.
VM_STATE_VALUES: dict[str, str] = {
    "start": "0 0 1",
    "suspend": "1 0 0",
    "save": "0 1 0",
    "saving": "0.6 1 0.6",
    "restoring": "0 0.5 0",
    "migrate": "1 0.5 0",
    "stop-and-copy": "0.6 0 0.6",
}

#: Values of the ``MSG_VM_MIGRATION`` point events (the end of a stage, or of a stage-2 round).
MIGRATION_STAGE_VALUES = ("stage1", "stage2", "stage3")
#: The ``MSG_VM_MIGRATION`` point event of a migration that did not converge (its stop-and-copy was forced:
#: ``MigrationReport.converged`` is false), at the migration's end, when its report says so.
MIGRATION_FORCED_VALUE = "forced"

#: Values of ``MSG_PROCESS_STATE`` we use, with the MSG-era colors.
ACTOR_STATE_VALUES: dict[str, str] = {"task_execute": "0 1 1", "send": "0 0 1", "receive": "1 0 0"}

#: Color of the ``*_used`` variable types (SimGrid's).
USED_COLOR = "0.5 0.5 0.5"

#: Color of the ``power`` variable (watts) of hosts and links, and of ``pstate``.
POWER_COLOR = "0.9 0.4 0.1"
PSTATE_COLOR = "0.4 0.4 0.9"

#: Availability (defined at their first use: see :class:`Definitions`). ``HOST_STATE`` on a ``HOST`` and
#: ``LINK_STATE`` on a ``LINK`` hold the value ``off`` (black, unlike any other state) while it is off, nothing
#: while it is on; a ``HOST_OFF`` or ``LINK_OFF`` point event, when it goes off, has the cause as its value. These
#: type names, ``POLICY``, ``REQUESTED`` and ``ACTOR_END`` are those of the tidy CSV too, defined in
#: :mod:`tracing.schema` (which the command line reads without this module).
OFF_VALUES: dict[str, str] = {"off": "0 0 0"}
#: The ``speed`` (flop/s, all cores) of a ``HOST`` and the ``bandwidth`` (byte/s) of a ``LINK`` whose capacity
#: changes (SimGrid's names), and the ``latency`` (s) of a ``LINK``, with their colors.
CAPACITY_COLOR = "0.2 0.6 0.2"
LATENCY_COLOR = "0.6 0.6 0.2"
#: A policy in the loop (``replay run --policy``, defined at their first use): a ``POLICY`` point event on a
#: ``HOST`` for each decision applied, valued with what and why (``migrate vm3 pm-0 -> pm-5 (overload)``);
#: ``booting`` on top of a host's ``off`` in ``HOST_STATE`` while it boots (amber, between ``off`` and running);
#: the ``requested`` variable (flop/s) of a ``HOST`` or ``MSG_VM``: the CPU its executions ask, which
#: ``power_used`` (what they get) may fall short of.
BOOTING_VALUES: dict[str, str] = {"booting": "1 0.75 0"}
REQUESTED_COLOR = "0.8 0.2 0.2"

LOOPBACK = "__loopback__"

#: The value of a migration link, as SimGrid's ``TRACE_msg_vm_change_host`` writes it.
MIGRATION_LINK_VALUE = "M"
#: The value of a communication link between actors.
COMM_LINK_VALUE = "comm"
