"""The catalogue of what can be traced: small frozen records, each emitted when its docstring says.

The model emits these through :meth:`replay.engine.Engine.emit`; tracers (``tracing/``) subscribe with
:meth:`replay.engine.Engine.subscribe` and never change the run. Models build a record only when somebody listens
(``engine.traced``), so a run without tracers pays one attribute check per would-be record. This module is a
leaf but for the VM state enums of :mod:`replay.lifecycle`, itself a leaf.

Times are simulated seconds. Names are those of the platform (hosts, links), of VMs, actors and mailboxes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from replay.lifecycle import VmOperation, VmState


class ResourceKind(enum.Enum):
    """What a resource of the sharing problem stands for, as :class:`ResourceUsed` reports it."""

    HOST = "host"  #: the CPU of a PM (flop/s); its name is the host's
    VM = "vm"  #: the CPU of a VM, what its PM gives it (flop/s); its name is the VM's
    LINK = "link"  #: one direction of a network link (byte/s); its name is the link's
    DISK = "disk"  #: the disk of a PM, for saves and restores (byte/s); its name is the host's


@dataclass(frozen=True, slots=True)
class ActorStarted:
    """When an actor's code first runs, on ``host`` (a PM or a VM)."""

    time: float
    actor: str
    host: str


@dataclass(frozen=True, slots=True)
class ActorEnded:
    """When an actor ends: its code returned (``status`` ``done``), it was killed (``killed``: by a VM shutdown or
    destroy, its host going off, its kill_time) or an activity of its failed (``failed``: a transfer whose link or
    peer's host went off); ``cause`` says why, empty when done."""

    time: float
    actor: str
    host: str
    killed: bool = False
    status: str = "done"
    cause: str = ""


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
    """Whenever a VM changes state; ``operation`` is what caused it."""

    time: float
    vm: str
    pm: str
    old: VmState
    new: VmState
    operation: VmOperation


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
class StopAndCopyStarted:
    """When a migration's stop-and-copy begins: the VM has just been frozen, its last dirty pages are to be sent."""

    time: float
    vm: str
    key: str


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """The metrics of one migration: what the issuer's request gives back and what the summary lists.

    ``downtime`` is the stop-and-copy transfer (the VM runs again before the acknowledgement that ends the
    migration); bytes are whole numbers per stage; ``error`` is empty for a migration that succeeded.
    """

    vm: str
    src: str
    dst: str
    key: str
    start: float
    end: float
    downtime: float
    stage1: int
    stage2: int
    stage3: int
    rounds: int
    converged: bool
    error: str = ""

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def status(self) -> str:
        """``done``, or ``aborted`` (``error`` says why: its destination or route failed, its VM was shut down,
        SimGrid's timeout came); an aborted migration leaves its VM running on its source, or lost with it."""
        return "aborted" if self.error else "done"

    @property
    def bytes(self) -> dict[str, int]:
        """Bytes sent per stage, keyed ``stage1``, ``stage2``, ``stage3``."""
        return {"stage1": self.stage1, "stage2": self.stage2, "stage3": self.stage3}

    def as_dict(self) -> dict[str, Any]:
        """The summary's form (JSON-ready): ``status``, and the ``cause`` of an aborted migration."""
        summary = {
            "vm": self.vm,
            "src": self.src,
            "dst": self.dst,
            "start": self.start,
            "end": self.end,
            "duration": self.duration,
            "downtime": self.downtime,
            "bytes": self.bytes,
            "rounds": self.rounds,
            "converged": self.converged,
            "status": self.status,
        }
        if self.error:
            summary["cause"] = self.error
        return summary


@dataclass(frozen=True, slots=True)
class MigrationEnded:
    """When a migration ends, successfully or not (its report's ``error`` says why)."""

    time: float
    report: MigrationReport


@dataclass(frozen=True, slots=True)
class PstateChanged:
    """When a host switches to power state ``pstate``, where each core computes ``speed`` flop/s."""

    time: float
    host: str
    pstate: int
    speed: float


@dataclass(frozen=True, slots=True)
class HostStateChanged:
    """When a host goes off (``on`` false: its actors are killed, its VMs destroyed) or comes back on (empty), by a
    ``host_off``/``host_on`` action, a ``state_file`` profile or a random failure."""

    time: float
    host: str
    on: bool
    cause: str = ""


@dataclass(frozen=True, slots=True)
class HostBooting:
    """When a policy switches an off host on: it boots until ``until`` (its ``boot_delay`` later), drawing its
    ``wattage_boot``, and is then on (a :class:`HostStateChanged`)."""

    time: float
    host: str
    until: float


@dataclass(frozen=True, slots=True)
class DemandChanged:
    """In a run with a policy: when the CPU requested by a PM (``kind`` host) or a VM (``kind`` vm) changes, in
    flop/s (what its executions ask, :mod:`replay.policies.demand`; ``ResourceUsed`` says what they get)."""

    time: float
    kind: ResourceKind
    name: str
    requested: float


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """A decision of the policy in the loop (``replay run --policy``), when it is applied: ``action`` is
    ``place``, ``migrate``, ``power_off`` or ``power_on``; ``vm`` the VM placed or migrated (empty for a power
    decision); ``host`` the PM placed on, migrated from or switched; ``dst`` the destination of a migration;
    ``reason`` why (``placement``, ``overload``, ``underload``, ``empty``, ``needed``, or the policy's own word)."""

    time: float
    policy: str
    action: str
    vm: str
    host: str
    dst: str
    reason: str


@dataclass(frozen=True, slots=True)
class LinkStateChanged:
    """When a link goes off (``on`` false: the transfers crossing it fail) or comes back on."""

    time: float
    link: str
    on: bool
    cause: str = ""


@dataclass(frozen=True, slots=True)
class HostSpeedChanged:
    """When a host's availability changes (a ``speed_file`` profile): each core now computes ``speed`` flop/s,
    ``ratio`` times the speed of its power state."""

    time: float
    host: str
    ratio: float
    speed: float


@dataclass(frozen=True, slots=True)
class LinkChanged:
    """When a link's bandwidth (byte/s) or latency (s) changes (``bandwidth_file``, ``latency_file``); both are
    given, the new and the unchanged one."""

    time: float
    link: str
    bandwidth: float
    latency: float


@dataclass(frozen=True, slots=True)
class PowerChanged:
    """When the power drawn by a host or a link with wattages changes (watts; ``kind``: host or link)."""

    time: float
    kind: ResourceKind
    name: str
    watts: float


@dataclass(frozen=True, slots=True)
class ResourceUsed:
    """When the rate used on a resource changes (flop/s for CPUs, byte/s for links and disks)."""

    time: float
    kind: ResourceKind
    name: str
    value: float


@dataclass(frozen=True, slots=True)
class RunEnded:
    """Once, when the simulation is over."""

    time: float
