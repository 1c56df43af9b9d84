"""What every importer shares: the options, the time window, one VM as an importer sees it, which VMs are
kept, and what an import reports (the dataset interface is :mod:`replay.workloads.dataset`)."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from replay.errors import WorkloadError

Placement = Literal["round-robin", "first-fit", "auto"]
PLACEMENTS: tuple[Placement, ...] = ("round-robin", "first-fit", "auto")

GIB = 1 << 30
PERIOD = 300.0
"""The sampling period of PlanetLab, Azure and Bitbrains, in seconds."""


@dataclass(frozen=True, slots=True)
class VmType:
    """A VM type of the CloudSim studies: a CPU capacity in MIPS (or MHz; ``--speed`` turns it into flop/s), one
    core, ``ram`` bytes."""

    mips: float
    ram: float


@dataclass(frozen=True, slots=True)
class Window:
    """The part of the dataset imported: ``[start, end)`` in seconds of the dataset's time axis (see
    :meth:`Dataset.origin`); the trace's date 0 is ``start``."""

    start: float = 0.0
    end: float = math.inf

    def clip(self, start: float, end: float) -> tuple[float, float] | None:
        """``[start, end)`` cut to the window, or None when nothing of it is inside."""
        low, high = float(max(start, self.start)), float(min(end, self.end))
        return (low, high) if high > low else None


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """The options of ``replay import`` that every format shares (see ``docs/workloads.md``).

    ``start`` and ``duration`` are seconds from the dataset's origin; ``speed`` is the flop/s of one MHz (or one
    MIPS of ``vm_types``): given, a sample's demand is absolute and becomes a fraction of the VM's capacity on its
    PM, or, with ``place`` ``auto`` (no PM yet), a rate in flop/s; ``ram`` is the memory of a VM whose dataset
    gives none; ``pms`` a glob of the hosts that are PMs; ``vm_options`` the ``key=value`` options (checked)
    appended to every ``vm_create``.
    """

    place: Placement = "round-robin"
    vms: int | None = None
    seed: int | None = None
    start: float = 0.0
    duration: float | None = None
    speed: float | None = None
    ram: float = float(GIB)
    vm_types: tuple[VmType, ...] = ()
    pms: str = "*"
    vm_options: tuple[str, ...] = ()

    @property
    def rates(self) -> bool:
        """Whether loads are written as absolute rates (``load <flop/s>f``): absolute demands without a PM."""
        return self.speed is not None and self.place == "auto"

    def window(self, origin: float) -> Window:
        start = origin + self.start
        return Window(start, math.inf if self.duration is None else start + self.duration)


@dataclass(slots=True, eq=False)
class VmInfo:
    """One VM of the dataset as the importer sees it.

    ``index`` is its rank in the dataset's order (files by name, rows in order), ``source`` its original id,
    ``key`` what its format needs to read its samples again (a file, a row's value). ``start`` and ``end`` are
    its life in dataset seconds, already cut to the window. ``name``, ``pm`` (``auto`` with ``--place auto``),
    ``host`` (where its actor lives outside the VM: its PM, or the first PM with ``auto``) and ``pm_speed`` (the
    flop/s of one core of its PM; None with ``auto``) are set once it is kept and placed; ``mips`` by a VM type.
    """

    index: int
    source: str
    start: float
    end: float
    cores: int
    ram: float
    key: object = None
    value: float = 0.0
    name: str = ""
    pm: str = ""
    host: str = ""
    pm_speed: float | None = None
    mips: float | None = None

    @property
    def actor(self) -> str:
        return f"d-{self.name}"


@dataclass(slots=True)
class ImportReport:
    """What an import did, for the table ``replay import`` prints; ``vms_seen`` is None when the first ``--vms``
    VMs were kept without reading on."""

    format: str
    vms_seen: int | None = None
    vms: int = 0
    pms_used: int = 0
    samples: int = 0
    loads: int = 0
    capped: int = 0
    #: whether the loads are rates in flop/s (capped at the VM's capacity), not fractions (capped at 1)
    rates: bool = False
    end: float = 0.0
    skipped: Counter[str] = field(default_factory=Counter)


def select(vms: Iterable[VmInfo], count: int | None, seed: int | None, report: ImportReport) -> list[VmInfo]:
    """The VMs kept, in dataset order: all, the first ``count``, or (with ``seed``) a uniform sample of ``count``
    drawn while streaming (reservoir sampling: the same seed and dataset give the same VMs)."""
    if count is None:
        kept = list(vms)
        report.vms_seen = len(kept)
        return kept
    if seed is None:
        kept = []
        for vm in vms:
            kept.append(vm)
            if len(kept) == count:
                break  # the rest is not read
        if len(kept) < count:
            report.vms_seen = len(kept)
        return kept
    rng = random.Random(seed)
    reservoir: list[VmInfo] = []
    seen = 0
    for seen, vm in enumerate(vms, start=1):
        if len(reservoir) < count:
            reservoir.append(vm)
        else:
            slot = rng.randrange(seen)
            if slot < count:
                reservoir[slot] = vm
    report.vms_seen = seen
    return sorted(reservoir, key=lambda vm: vm.index)


def name_vms(vms: Sequence[VmInfo], types: Sequence[VmType]) -> None:
    """Name the kept VMs ``vm-0``, ``vm-1`` ... in dataset order, and give them the VM types round-robin."""
    for rank, vm in enumerate(vms):
        vm.name = f"vm-{rank}"
        if types:
            kind = types[rank % len(types)]
            vm.cores, vm.ram, vm.mips = 1, kind.ram, kind.mips


def absolute(vm: VmInfo, flops: float) -> float:
    """A demand of ``flops`` flop/s as a fraction of the VM's capacity on its PM (vCPUs x the PM's core speed)."""
    assert vm.pm_speed is not None, "absolute demands need a placed VM"
    return flops / (vm.cores * vm.pm_speed)


def placed(vm: VmInfo) -> bool:
    """Whether the VM has a PM (and an absolute demand becomes a fraction of its capacity there), not ``auto``."""
    return vm.pm_speed is not None


def need(condition: bool, message: str) -> None:
    """An option that does not fit: a :class:`WorkloadError` saying so."""
    if not condition:
        raise WorkloadError(message)
