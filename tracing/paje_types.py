"""The vocabulary of our Paje traces: event numbers, types, values, containers, operations and their names.

:class:`tracing.paje_model.PajeModel` decides which of these a run produces; the writers print them
(:mod:`tracing.paje`) or turn them into rows (:mod:`tracing.csv_writer`). The names and colors are SimGrid's
MSG-era ones (see :mod:`tracing.paje_model`), and :data:`VM_STACKS` says how each VM state is drawn as a stack
of ``MSG_VM_STATE`` values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import ClassVar

from replay.lifecycle import VmState

__all__ = [
    "ACTOR_STATE_VALUES",
    "COMM_LINK_VALUE",
    "LOOPBACK",
    "MIGRATION_FORCED_VALUE",
    "MIGRATION_LINK_VALUE",
    "MIGRATION_STAGE_VALUES",
    "POWER_COLOR",
    "PSTATE_COLOR",
    "USED_COLOR",
    "VM_STACKS",
    "VM_STATE_VALUES",
    "Container",
    "CreateContainer",
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


Operation = (
    CreateContainer | DestroyContainer | SetVariable | PushState | PopState | StartLink | EndLink | NewEvent
)

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

LOOPBACK = "__loopback__"

#: The value of a migration link, as SimGrid's ``TRACE_msg_vm_change_host`` writes it.
MIGRATION_LINK_VALUE = "M"
#: The value of a communication link between actors.
COMM_LINK_VALUE = "comm"
