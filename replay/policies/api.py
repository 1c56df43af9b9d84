"""What a policy sees and what it decides: the read-only view of the data center and the decisions.

A policy is a :class:`Policy` subclass. The loop (:mod:`replay.policies.loop`) calls it at its decision points
with a fresh :class:`View`: every ``interval`` seconds (:meth:`Policy.tick`), when a VM starts running
(:meth:`Policy.vm_started`), when a host's utilization rises above ``overload`` between ticks
(:meth:`Policy.host_overloaded`), and to place each ``vm_create <vm> auto`` (:meth:`Policy.place`). It returns
decisions, which the loop applies through the same VM and host operations as a trace (same checks, same errors,
same tracing), one after the other, in the order given.

Utilization is *requested* CPU over capacity, as in CloudSim's power package: what the executions inside ask
(a ``load`` its fraction of the vCPUs, a ``compute`` one full core each), not what the sharing gives them, so it
may exceed 1 on an overloaded host. Histories hold one value per tick, oldest first, the last
:data:`HISTORY_LENGTH` ticks (CloudSim's length); a VM's history follows it when it migrates, and a host's is the
sum of the histories of the VMs on it now, as CloudSim computes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from replay.platform.elements import PowerRange
from replay.units import Bytes, FlopsPerSecond, Seconds, Watts

#: the ticks of history a view keeps per VM (CloudSim's ``PowerHostUtilizationHistory``)
HISTORY_LENGTH = 30


@dataclass(frozen=True, slots=True)
class VmView:
    """A VM as the policy sees it. ``requested`` is in flop/s; ``history`` in flop/s per tick, oldest first."""

    name: str
    host: str
    state: str
    cores: int
    ram: Bytes
    core_speed: FlopsPerSecond
    requested: FlopsPerSecond
    history: np.ndarray
    #: the destination of its migration in flight ("" when it does not migrate)
    migrating_to: str = ""

    @property
    def capacity(self) -> FlopsPerSecond:
        return self.cores * self.core_speed

    @property
    def utilization(self) -> float:
        """Requested CPU over the VM's capacity (its vCPUs at its PM's core speed)."""
        return self.requested / self.capacity if self.capacity > 0 else 0.0

    @property
    def migrating(self) -> bool:
        return bool(self.migrating_to)


@dataclass(frozen=True, slots=True)
class HostView:
    """A PM as the policy sees it. ``vms`` are the VMs it holds (a VM migrating here counts on both ends, as its
    room is taken on both); ``requested`` is what its VMs and executions ask now, in flop/s; ``history`` its
    utilization at the last ticks (the VMs on it now), oldest first."""

    name: str
    on: bool
    booting: bool
    cores: int
    core_speed: FlopsPerSecond
    ram: Bytes
    vms: tuple[str, ...]
    used_cores: int
    used_ram: Bytes
    requested: FlopsPerSecond
    history: np.ndarray
    #: actors living on the host (one never switches a host with actors off)
    actors: int
    #: whether the loop may switch it off when empty (no actor ever started there)
    may_power_off: bool
    power_range: PowerRange | None
    wattage_off: Watts
    boot_delay: Seconds

    @property
    def capacity(self) -> FlopsPerSecond:
        return self.cores * self.core_speed

    @property
    def utilization(self) -> float:
        return self.requested / self.capacity if self.capacity > 0 else (math.inf if self.requested else 0.0)

    @property
    def free_cores(self) -> int:
        return self.cores - self.used_cores

    @property
    def free_ram(self) -> Bytes:
        return self.ram - self.used_ram

    @property
    def empty(self) -> bool:
        return not self.vms and not self.actors

    def fits(self, cores: int, ram: Bytes) -> bool:
        """Whether a VM of ``cores`` vCPUs and ``ram`` bytes has room here (cores, then RAM)."""
        return self.free_cores >= cores and self.free_ram >= ram

    def power(self, utilization: float) -> Watts:
        """The watts it would draw on at ``utilization`` (SimGrid's host model, clamped to 1); 0 without wattages."""
        if self.power_range is None:
            return 0.0
        return self.power_range.at(min(max(utilization, 0.0), 1.0))


@dataclass(frozen=True, slots=True)
class HostTable:
    """Every managed PM as columns (one row per host, platform order), for policies that work on arrays.

    ``ram`` is ``inf`` for a host without ``ramsize``; ``used_cores``, ``used_ram`` and ``vm_count`` count the
    VMs it holds, those migrating here and those placed while it boots; ``arriving`` is what the VMs migrating
    here request (flop/s; ``requested`` counts only those on it). The power columns are SimGrid's range of its
    current power state (all 0 without wattages, ``powered`` False)."""

    names: tuple[str, ...]
    cores: np.ndarray
    core_speed: np.ndarray
    ram: np.ndarray
    used_cores: np.ndarray
    used_ram: np.ndarray
    vm_count: np.ndarray
    requested: np.ndarray
    arriving: np.ndarray
    on: np.ndarray
    booting: np.ndarray
    actors: np.ndarray
    may_power_off: np.ndarray
    powered: np.ndarray
    idle: np.ndarray
    epsilon: np.ndarray
    all_cores: np.ndarray
    wattage_off: np.ndarray
    boot_delay: np.ndarray

    @property
    def capacity(self) -> np.ndarray:
        return self.cores * self.core_speed


@dataclass(frozen=True, slots=True)
class VmTable:
    """Every living VM on a managed PM as columns. ``host`` and ``migrating_to`` are row numbers of the
    :class:`HostTable` (-1: none); ``history`` holds :data:`HISTORY_LENGTH` requested flop/s per VM, oldest
    first, zeros before its first tick (its last ``samples`` values are its own)."""

    names: tuple[str, ...]
    state: tuple[str, ...]
    host: np.ndarray
    migrating_to: np.ndarray
    cores: np.ndarray
    ram: np.ndarray
    core_speed: np.ndarray
    requested: np.ndarray
    history: np.ndarray
    samples: np.ndarray


@dataclass(frozen=True, slots=True)
class VmRequest:
    """A ``vm_create <vm> auto`` to place."""

    name: str
    cores: int
    ram: Bytes


class View:
    """The data center at a decision point: the PMs the policy manages (platform order), the living VMs on them
    and the migrations in flight, as objects (``hosts``, ``vms``: mappings by name, made when first read) or as
    columns (``host_table``, ``vm_table``). A view is valid during the call it is given to."""

    def __init__(self, now: Seconds, interval: Seconds, host_table: HostTable,
                 vm_table: Callable[[], VmTable]) -> None:
        self.now = now
        self.interval = interval
        self.host_table = host_table
        self._vm_table = vm_table
        self._vms: VmTable | None = None
        self._hosts: dict[str, HostView] | None = None
        self._vm_views: dict[str, VmView] | None = None
        self._host_history: np.ndarray | None = None

    @property
    def vm_table(self) -> VmTable:
        if self._vms is None:
            self._vms = self._vm_table()
        return self._vms

    def host_history(self) -> np.ndarray:
        """Each host's utilization at the last ticks (rows of :data:`HISTORY_LENGTH`, oldest first): the sum of
        the histories of the VMs on it now, over its capacity, as CloudSim computes it."""
        if self._host_history is None:
            vms, hosts = self.vm_table, self.host_table
            total = np.zeros((len(hosts.names), HISTORY_LENGTH))
            np.add.at(total, vms.host, vms.history)
            capacity = hosts.capacity
            with np.errstate(divide="ignore", invalid="ignore"):
                self._host_history = np.where(capacity[:, None] > 0, total / capacity[:, None], 0.0)
        return self._host_history

    @property
    def vms(self) -> Mapping[str, VmView]:
        if self._vm_views is None:
            table, names = self.vm_table, self.host_table.names
            self._vm_views = {}
            for row, name in enumerate(table.names):
                samples = int(table.samples[row])
                history = table.history[row, HISTORY_LENGTH - samples:] if samples else np.zeros(0)
                dst = int(table.migrating_to[row])
                self._vm_views[name] = VmView(name, names[table.host[row]], table.state[row], int(table.cores[row]),
                                              float(table.ram[row]), float(table.core_speed[row]),
                                              float(table.requested[row]), history, names[dst] if dst >= 0 else "")
        return self._vm_views

    @property
    def hosts(self) -> Mapping[str, HostView]:
        if self._hosts is None:
            t, vms = self.host_table, self.vm_table
            held: list[list[str]] = [[] for _ in t.names]
            for row, name in enumerate(vms.names):
                held[vms.host[row]].append(name)
                if vms.migrating_to[row] >= 0:
                    held[vms.migrating_to[row]].append(name)
            history = self.host_history()
            self._hosts = {}
            for row, name in enumerate(t.names):
                power = (PowerRange(float(t.idle[row]), float(t.epsilon[row]), float(t.all_cores[row]))
                         if t.powered[row] else None)
                samples = max((self.vms[vm].history.size for vm in held[row] if self.vms[vm].host == name),
                              default=0)
                self._hosts[name] = HostView(
                    name, bool(t.on[row]), bool(t.booting[row]), int(t.cores[row]), float(t.core_speed[row]),
                    float(t.ram[row]), tuple(held[row]), int(t.used_cores[row]), float(t.used_ram[row]),
                    float(t.requested[row]), history[row, HISTORY_LENGTH - samples:] if samples else np.zeros(0),
                    int(t.actors[row]), bool(t.may_power_off[row]), power, float(t.wattage_off[row]),
                    float(t.boot_delay[row]))
        return self._hosts

    def vms_on(self, host: str) -> list[VmView]:
        return [self.vms[name] for name in self.hosts[host].vms if name in self.vms]


@dataclass(frozen=True, slots=True)
class Migrate:
    """Live-migrate ``vm`` to ``dst`` (switched on first if it is off)."""

    vm: str
    dst: str
    reason: str


@dataclass(frozen=True, slots=True)
class PowerOff:
    """Switch the empty host ``host`` off."""

    host: str
    reason: str = "empty"


@dataclass(frozen=True, slots=True)
class PowerOn:
    """Switch the host ``host`` on (it boots for its ``boot_delay``)."""

    host: str
    reason: str = "needed"


Decision = Migrate | PowerOff | PowerOn


class Policy:
    """The base of every policy: decides nothing until a subclass says otherwise.

    Class attributes a subclass may set: ``interval`` (seconds between ticks; 0: no tick), ``overload`` (a
    utilization above which :meth:`host_overloaded` is called between ticks; None: never), ``switch_off``
    (whether the loop switches off the hosts left empty, those where no actor ever started, and switches them on
    when a placement or a migration needs them). ``OPTIONS`` maps the options ``--policy NAME:key=value`` may
    set to their readers (:mod:`replay.policies.options`); their values are given to ``__init__`` by keyword.
    """

    name: ClassVar[str] = "policy"
    OPTIONS: ClassVar[Mapping[str, object]] = {}
    interval: Seconds = 300.0
    overload: float | None = None
    switch_off: bool = False

    def place(self, view: View, vm: VmRequest) -> str | None:
        """The PM for ``vm`` (switched on first if it is off), or None when none has room."""
        raise NotImplementedError(f"policy {self.name!r} does not place VMs: name the PM in the trace")

    def tick(self, view: View) -> Iterable[Decision]:
        return ()

    def vm_started(self, view: View, vm: VmView) -> Iterable[Decision]:
        return ()

    def host_overloaded(self, view: View, host: HostView) -> Iterable[Decision]:
        return ()
