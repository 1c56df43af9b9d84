"""Requested CPU, and the integrals behind the SLA metrics: active and saturated time per PM, requested, served
and migration-lost work per VM.

What a VM *requests* is what its executions ask: a ``load`` its bound (its fraction of a vCPU), any other
execution one full core, the sum capped at its vCPUs and its user bound; a VM that does not run (created,
suspended, saved) requests nothing, while a VM frozen for stop-and-copy still requests what its paused
executions ask, as its users still want it. A PM requests what its own executions ask plus what its VMs request.

The integrals are exact: the requested and served rates only change when the sharing problem of a CPU is
re-solved, and the monitor is told of every re-solve (:meth:`replay.engine.Engine.meter`), so it adds
``rate x duration`` at each change, as the energy meter does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from replay.engine import Resource
from replay.events import DemandChanged, ResourceKind
from replay.hosts import PhysicalHost
from replay.lifecycle import VmState
from replay.simulation import Simulation
from replay.units import Flops, FlopsPerSecond, Seconds
from replay.vm import VirtualMachine

#: a PM is saturated when it requests at least this share of its capacity (rounding aside)
SATURATED = 1.0 - 1e-9

_ASKING = (VmState.RUNNING, VmState.MIGRATING)


def vm_requested(vm: VirtualMachine) -> FlopsPerSecond:
    """What ``vm`` asks now (see the module docstring)."""
    if vm.state not in _ASKING:
        return 0.0
    speed = vm.core_speed
    asked = 0.0
    for activity in vm.cpu.activities:  # a plain loop: this runs at every re-solve of every VM
        bound = activity.bound
        asked += bound if bound < speed else speed
    return min(asked, vm.cores * speed, vm.user_bound)


def pm_requested(pm: PhysicalHost, vm_rates: Callable[[VirtualMachine], float] = vm_requested) -> FlopsPerSecond:
    """What ``pm`` asks now: its VMs (each as ``vm_rates`` says), and its own executions."""
    total = 0.0
    shares = 0
    for guest in pm.guests:
        total += vm_rates(guest)  # type: ignore[arg-type] - a PM's guests are VMs
        shares += guest.share is not None  # type: ignore[attr-defined]
    if len(pm.cpu.activities) > shares:
        speed = pm.core_speed
        vms = {guest.share for guest in pm.guests if isinstance(guest, VirtualMachine)}
        total += sum((min(a.bound, speed) for a in pm.cpu.activities if a not in vms), 0.0)
    return total


@dataclass(slots=True)
class PmGauge:
    """A PM's requested rate and capacity since ``since``; its active and saturated seconds until then."""

    requested: FlopsPerSecond
    capacity: FlopsPerSecond
    since: Seconds
    active: Seconds = 0.0
    saturated: Seconds = 0.0
    #: whether it had executions of its own at its last refresh (their end must refresh it again), and how many
    #: activities its CPU had then
    own: bool = False
    activities: int = 0

    def advance(self, now: Seconds) -> None:
        if self.requested > 0.0:
            span = now - self.since
            self.active += span
            if self.requested >= SATURATED * self.capacity:
                self.saturated += span
        self.since = now


@dataclass(slots=True)
class VmGauge:
    """A VM's requested and served rates since ``since``; the work requested, served and lost to migrations until
    then. Only what it is served while it migrates matters (for the PDM), so ``served`` is 0 otherwise."""

    requested: FlopsPerSecond
    served: FlopsPerSecond
    since: Seconds
    requested_work: Flops = 0.0
    lost_to_migrations: Flops = 0.0
    #: while it migrates: the work requested and served since its migration began
    migrating: bool = False
    window_requested: Flops = 0.0
    window_served: Flops = 0.0

    def advance(self, now: Seconds) -> None:
        span = now - self.since
        self.requested_work += self.requested * span
        if self.migrating:
            self.window_requested += self.requested * span
            self.window_served += self.served * span
        self.since = now


class DemandMonitor:
    """Keeps the gauges of the PMs ``pms`` and of every VM that runs; tells ``changed(pm)`` each time a PM's
    requested rate may have changed."""

    def __init__(self, sim: Simulation, pms: Iterable[PhysicalHost],
                 changed: Callable[[PhysicalHost], None] | None = None) -> None:
        self.sim = sim
        self.engine = sim.engine
        self.changed = changed
        self.pms: dict[str, PmGauge] = {}
        self.vms: dict[VirtualMachine, VmGauge] = {}
        #: each PM's requested rate, in the order of ``pms`` (as of the last re-solve)
        self.requested = np.zeros(0)
        self._rank: dict[str, int] = {}
        #: the PMs whose requested rate may have changed at this date, brought up to date after the re-solves
        self._stale: dict[PhysicalHost, None] = {}
        for pm in pms:
            self._rank[pm.name] = len(self.pms)
            self.pms[pm.name] = PmGauge(pm_requested(pm), _capacity(pm), self.engine.now)
            self.engine.meter(pm.cpu, lambda _, pm=pm: self._pm_resolved(pm))
        self.requested = np.array([gauge.requested for gauge in self.pms.values()])
        self.engine.after_events(self._refresh)
        sim.vm_started.append(self._watch)
        sim.migration_started.append(lambda vm, dst: self._migration_began(vm))
        sim.migration_ended.append(lambda report: self._migration_over(sim.vms[report.vm]))

    def _watch(self, vm: VirtualMachine) -> None:
        """Meter ``vm`` from its first run on."""
        if vm in self.vms:
            return
        gauge = self.vms[vm] = VmGauge(0.0, 0.0, self.engine.now)

        def resolved(_: Resource) -> None:
            requested = vm_requested(vm)
            served = _served(vm) if gauge.migrating else 0.0
            if requested == gauge.requested and served == gauge.served:
                return
            gauge.advance(self.engine.now)
            if requested != gauge.requested:
                if self.engine.traced:
                    self.engine.emit(DemandChanged(self.engine.now, ResourceKind.VM, vm.name, requested))
                self._stale[vm.pm] = None
            gauge.requested = requested
            gauge.served = served

        self.engine.meter(vm.cpu, resolved)
        self.engine.touch(vm.cpu)

    def _pm_resolved(self, pm: PhysicalHost) -> None:
        """A PM's CPU was re-solved: what it requests changes with its capacity, the VMs that arrive or leave and
        its own executions (a VM whose request changes says so itself), so only then is it refreshed."""
        gauge = self.pms[pm.name]
        if (pm.cpu.capacity != gauge.capacity or len(pm.cpu.activities) != gauge.activities or gauge.own
                or len(pm.cpu.activities) > len(pm.guests)):
            self._stale[pm] = None

    def _refresh(self) -> None:
        """After the re-solves of a date (all at the same date, so the integrals lose nothing by waiting)."""
        if self._stale:
            stale, self._stale = self._stale, {}
            for pm in stale:
                self._pm_changed(pm)

    def _pm_changed(self, pm: PhysicalHost) -> None:
        gauge = self.pms.get(pm.name)
        if gauge is None:
            return
        gauge.advance(self.engine.now)
        requested = pm_requested(pm, self._vm_rate)
        gauge.own = len(pm.cpu.activities) > len(pm.guests)
        gauge.activities = len(pm.cpu.activities)
        if requested != gauge.requested and self.engine.traced:
            self.engine.emit(DemandChanged(self.engine.now, ResourceKind.HOST, pm.name, requested))
        gauge.requested = requested
        self.requested[self._rank[pm.name]] = requested
        gauge.capacity = _capacity(pm)
        if self.changed is not None:
            self.changed(pm)

    def _vm_rate(self, vm: VirtualMachine) -> FlopsPerSecond:
        """A VM's requested rate as of its last re-solve (each VM re-solved tells its PM again)."""
        gauge = self.vms.get(vm)
        return gauge.requested if gauge is not None else 0.0

    def _migration_began(self, vm: VirtualMachine) -> None:
        gauge = self.vms.get(vm)
        if gauge is not None:  # what it is served counts from now on, until the migration is over
            gauge.advance(self.engine.now)
            gauge.migrating = True
            gauge.window_requested = gauge.window_served = 0.0
            gauge.served = _served(vm)

    def _migration_over(self, vm: VirtualMachine) -> None:
        gauge = self.vms.get(vm)
        if gauge is not None and gauge.migrating:
            gauge.advance(self.engine.now)
            gauge.lost_to_migrations += max(gauge.window_requested - gauge.window_served, 0.0)
            gauge.migrating = False
            gauge.served = 0.0

    def finish(self, now: Seconds) -> None:
        """Bring every integral to ``now`` (the end of the run)."""
        for pm_gauge in self.pms.values():
            pm_gauge.advance(now)
        for vm_gauge in self.vms.values():
            vm_gauge.advance(now)


def _served(vm: VirtualMachine) -> FlopsPerSecond:
    return sum((activity.rate for activity in vm.cpu.activities), 0.0)


def _capacity(pm: PhysicalHost) -> FlopsPerSecond:
    return pm.cores * pm.core_speed if pm.on else 0.0
