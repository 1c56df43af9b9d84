"""The catalogue of what can be traced: small frozen records, each emitted when its docstring says.

The model emits these through :meth:`replay.engine.Engine.emit`; tracers (``tracing/``) subscribe with
:meth:`replay.engine.Engine.subscribe` and never change the run. Models build a record only when somebody listens
(``engine.traced``), so a run without tracers pays one attribute check per would-be record. This module is a
leaf: it imports nothing of the project.

Times are simulated seconds. Names are those of the platform (hosts, links), of VMs, actors and mailboxes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActorStarted:
    """When an actor's code first runs, on ``host`` (a PM or a VM)."""

    time: float
    actor: str
    host: str


@dataclass(frozen=True, slots=True)
class ActorEnded:
    """When an actor's code returns (``killed``: when a VM shutdown or destroy ended it)."""

    time: float
    actor: str
    host: str
    killed: bool = False


@dataclass(frozen=True, slots=True)
class ExecStarted:
    """When an execution starts taking its share of ``host``'s CPU."""

    time: float
    actor: str
    host: str
    flops: float


@dataclass(frozen=True, slots=True)
class ExecEnded:
    """When an execution has computed all its flops."""

    time: float
    actor: str
    host: str
    flops: float


@dataclass(frozen=True, slots=True)
class CommStarted:
    """When a send and a receive have matched and the transfer (latency first) begins."""

    time: float
    mailbox: str
    src: str
    dst: str
    size: float
    sender: str
    receiver: str


@dataclass(frozen=True, slots=True)
class CommEnded:
    """When the last byte of a transfer has arrived."""

    time: float
    mailbox: str
    src: str
    dst: str
    size: float
    sender: str
    receiver: str


@dataclass(frozen=True, slots=True)
class VmCreated:
    """When a VM is created on ``pm`` (state CREATED)."""

    time: float
    vm: str
    pm: str
    cores: int
    ramsize: float


@dataclass(frozen=True, slots=True)
class VmStateChanged:
    """Whenever a VM changes state; ``operation`` is what caused it (start, suspend, save_done, ...)."""

    time: float
    vm: str
    pm: str
    old: str
    new: str
    operation: str


@dataclass(frozen=True, slots=True)
class VmMoved:
    """When a migrating VM leaves ``src`` for ``dst`` (at the end of stop-and-copy)."""

    time: float
    vm: str
    src: str
    dst: str


@dataclass(frozen=True, slots=True)
class VmDestroyed:
    """When a VM is destroyed (it disappears from the platform)."""

    time: float
    vm: str
    pm: str


@dataclass(frozen=True, slots=True)
class MigrationStarted:
    """When a live migration of ``vm`` from ``src`` to ``dst`` begins (``key`` is unique per migration)."""

    time: float
    vm: str
    src: str
    dst: str
    key: str


@dataclass(frozen=True, slots=True)
class MigrationStage:
    """When a migration stage (1, 2 or 3) or a stage-2 round ends, with the bytes it sent."""

    time: float
    vm: str
    key: str
    stage: int
    round: int
    bytes: float
    duration: float


@dataclass(frozen=True, slots=True)
class MigrationEnded:
    """When a migration ends: successfully (``error`` empty) or aborted (``error`` says why)."""

    time: float
    vm: str
    src: str
    dst: str
    key: str
    start: float
    downtime: float
    stage1: float
    stage2: float
    stage3: float
    rounds: int
    converged: bool
    error: str = ""


@dataclass(frozen=True, slots=True)
class ResourceUsed:
    """When the rate used on a host CPU, a VM CPU or a link changes (flop/s or byte/s; ``kind``: host, vm, link)."""

    time: float
    kind: str
    name: str
    value: float


@dataclass(frozen=True, slots=True)
class RunEnded:
    """Once, when the simulation is over."""

    time: float
