"""The policy in the loop: calls a :class:`~replay.policies.api.Policy` at its decision points and applies what it
decides through the model's own operations.

Decision points run after the events of their date (an engine after-events hook, after the actors of that date
have run), so that a tick at a date where loads change sees the new loads, whatever the order of the timers.
The tick is a background timer: it does not keep a run going by itself. Every decision applied is a
:class:`~replay.events.PolicyDecision` record, so the Paje and CSV traces say why a VM moved.

Power management (a policy's ``switch_off``): a managed host left empty (no VM, no actor, nothing arriving) is
switched off after the events of the date; a host where an actor started is never switched off, since its
actors may come back to it. A placement or a migration to an off host switches it on, and waits for it to boot.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np

from replay import events
from replay.errors import ActivityFailed, LookupFailure, PolicyError, StateError
from replay.hosts import PhysicalHost
from replay.lifecycle import VmState
from replay.policies.api import (
    HISTORY_LENGTH,
    Decision,
    HostView,
    Migrate,
    Policy,
    PowerOff,
    PowerOn,
    View,
    VmRequest,
    VmView,
)
from replay.policies.demand import DemandMonitor, pm_requested, vm_requested
from replay.process import Request, Wait
from replay.simulation import Simulation
from replay.vm import VirtualMachine, VmConfig


class PolicyLoop:
    """Runs ``policy`` (called ``label`` in the traces) on the PMs ``hosts`` of ``sim``."""

    def __init__(self, sim: Simulation, policy: Policy, label: str, hosts: Iterable[str]) -> None:
        self.sim = sim
        self.engine = sim.engine
        self.policy = policy
        self.label = label
        self.pms: dict[str, PhysicalHost] = {name: sim.pm(name) for name in hosts}
        self.monitor = DemandMonitor(sim, self.pms.values(), self._pm_changed)
        #: requested flop/s of each VM at the last ticks, oldest first
        self.history: dict[VirtualMachine, deque[float]] = {}
        #: migrations in flight: VM -> destination
        self.in_flight: dict[VirtualMachine, PhysicalHost] = {}
        #: room held on booting hosts for the VMs placed there: host -> [(cores, ram)]
        self.held: dict[str, list[tuple[int, float]]] = {}
        self.counts = {"place": 0, "migrate": 0, "power_off": 0, "power_on": 0}
        self._homes: set[str] | None = None
        self._due = False
        self._maybe_empty: dict[PhysicalHost, None] = {}
        self._started: list[VirtualMachine] = []
        self._overloaded: dict[PhysicalHost, bool] = {}
        self._busy = False
        sim.placer = self._place
        sim.migration_started.append(self._migration_began)
        sim.migration_ended.append(self._migration_over)
        sim.vm_gone.append(lambda vm: self._maybe_empty.setdefault(vm.pm))
        if _overrides(policy, "vm_started"):
            sim.vm_started.append(self._started.append)
        self.engine.after_events(self._decide)
        self._maybe_empty.update(dict.fromkeys(self.pms.values()))
        if policy.interval > 0:
            self.engine.schedule(policy.interval, self._tick, background=True)

    # -- decision points ---------------------------------------------------------------------------------------
    def _tick(self) -> None:
        self._due = True
        self.engine.schedule(self.policy.interval, self._tick, background=True)

    def _decide(self) -> None:
        """After the events of a date: the tick, the VMs started, the hosts overloaded, the hosts left empty."""
        if self._busy:
            return
        self._busy = True
        try:
            if self._due:
                self._due = False
                self._sample()
                self._apply(self.policy.tick(self.view()))
                self._maybe_empty.update(dict.fromkeys(self.pms.values()))
            while self._started:
                vm = self._started.pop(0)
                if vm.state in (VmState.RUNNING, VmState.MIGRATING) and vm.pm.name in self.pms:
                    view = self.view()
                    self._apply(self.policy.vm_started(view, view.vms[vm.name]))
            for pm, pending in list(self._overloaded.items()):
                if pending:
                    self._overloaded[pm] = False
                    view = self.view()
                    self._apply(self.policy.host_overloaded(view, view.hosts[pm.name]))
            if self.policy.switch_off and self._maybe_empty:
                for pm in list(self._maybe_empty):
                    if self._may_switch_off(pm):
                        self._apply([PowerOff(pm.name)])
            self._maybe_empty.clear()
        finally:
            self._busy = False

    def _pm_changed(self, pm: PhysicalHost) -> None:
        """Between ticks: a host rising above the policy's ``overload`` is handed to it after the events."""
        threshold = self.policy.overload
        if threshold is None:
            return
        gauge = self.monitor.pms[pm.name]
        above = gauge.capacity > 0 and gauge.requested > threshold * gauge.capacity
        if not above:
            self._overloaded.pop(pm, None)
        elif pm not in self._overloaded:
            self._overloaded[pm] = True

    def _sample(self) -> None:
        for vm in self.sim.vms.values():
            if vm.state in (VmState.RUNNING, VmState.MIGRATING):
                self.history.setdefault(vm, deque(maxlen=HISTORY_LENGTH)).append(vm_requested(vm))

    # -- the view ----------------------------------------------------------------------------------------------
    def view(self) -> View:
        """The data center now, as the policy sees it."""
        vms: dict[str, VmView] = {}
        on_host: dict[str, list[VirtualMachine]] = {name: [] for name in self.pms}
        for vm in self.sim.vms.values():
            if vm.state is VmState.DESTROYED or vm.pm.name not in self.pms:
                continue
            dst = self.in_flight.get(vm)
            on_host[vm.pm.name].append(vm)
            if dst is not None and dst.name in on_host:
                on_host[dst.name].append(vm)
            history = np.array(self.history.get(vm, ()), dtype=float)
            history.flags.writeable = False
            vms[vm.name] = VmView(vm.name, vm.pm.name, vm.state.value, vm.cores, vm.ramsize, vm.core_speed,
                                  vm_requested(vm), history, dst.name if dst is not None else "")
        hosts = {name: self._host_view(pm, on_host[name], vms) for name, pm in self.pms.items()}
        return View(self.engine.now, hosts, vms, self.policy.interval)

    def _host_view(self, pm: PhysicalHost, guests: list[VirtualMachine], vms: dict[str, VmView]) -> HostView:
        held = self.held.get(pm.name, [])
        capacity = pm.cores * pm.core_speed
        longest = max((len(vms[vm.name].history) for vm in guests if vm.pm is pm), default=0)
        history = np.zeros(longest)
        for vm in guests:
            if vm.pm is pm:
                values = vms[vm.name].history
                history[longest - len(values):] += values
        history = history / capacity if capacity > 0 else history
        history.flags.writeable = False
        spec = pm.spec
        homes = self._home_hosts()
        return HostView(
            pm.name, pm.on, pm.booting, pm.cores, pm.core_speed,
            spec.ramsize if spec.ramsize is not None and not spec.overcommit else float("inf"),
            tuple(vm.name for vm in guests),
            sum(vm.cores for vm in guests) + sum(cores for cores, _ in held),
            sum(vm.ramsize for vm in guests) + sum(ram for _, ram in held),
            pm_requested(pm) if pm.on else 0.0,
            history,
            len(pm.residents),
            pm.name not in homes,
            spec.wattages[pm.pstate] if spec.wattages else None,
            spec.wattage_off,
            spec.boot_delay,
        )

    def _home_hosts(self) -> set[str]:
        if self._homes is None:
            self._homes = {actor.placement for actor in self.sim.actors.values()}
        return self._homes

    # -- decisions ---------------------------------------------------------------------------------------------
    def _apply(self, decisions: Iterable[Decision] | None) -> None:
        for decision in decisions or ():
            if isinstance(decision, Migrate):
                self._migrate(decision)
            elif isinstance(decision, PowerOff):
                self._power_off(decision)
            elif isinstance(decision, PowerOn):
                self._power_on(self._pm(decision.host, decision), decision.reason)
            else:
                raise PolicyError(f"policy {self.label!r} at t={self.engine.now:g} s: expected Migrate, PowerOff or "
                                  f"PowerOn decisions, found {decision!r}")

    def _pm(self, name: str, decision: object) -> PhysicalHost:
        try:
            return self.sim.pm(name)
        except LookupFailure as error:
            raise self._refused(decision, error) from None

    def _refused(self, decision: object, error: Exception) -> PolicyError:
        return PolicyError(f"policy {self.label!r} at t={self.engine.now:g} s: {decision}: {error}")

    def _record(self, action: str, vm: str, host: str, dst: str, reason: str) -> None:
        self.counts[action] += 1
        if self.engine.traced:
            self.engine.emit(events.PolicyDecision(self.engine.now, self.label, action, vm, host, dst, reason))

    def _migrate(self, decision: Migrate) -> None:
        try:
            vm = self.sim.vm(decision.vm)
        except LookupFailure as error:
            raise self._refused(decision, error) from None
        dst = self._pm(decision.dst, decision)

        def go() -> None:
            try:
                vm.check_migration(dst)
            except (StateError, ActivityFailed) as error:
                raise self._refused(decision, error) from None
            self._record("migrate", vm.name, vm.pm.name, dst.name, decision.reason)
            self.sim.migrate_vm(vm, dst)

        def booted(_: Request) -> None:
            self.in_flight.pop(vm, None)
            go()

        if dst.on:
            go()
        else:  # the VM's room on its destination is held while it boots
            self.in_flight[vm] = dst
            self._power_on(dst, "needed").then(booted)

    def _power_off(self, decision: PowerOff) -> None:
        pm = self._pm(decision.host, decision)
        if not pm.on:
            return
        if not self._may_switch_off(pm):
            raise self._refused(decision, StateError(f"host {pm.name!r} is not empty, or actors started there"))
        self._record("power_off", "", pm.name, "", decision.reason)
        self.sim.power_off(pm.name, f"switched off by policy {self.label} ({decision.reason})")

    def _power_on(self, pm: PhysicalHost, reason: str) -> Request:
        if not pm.on and not pm.booting:
            self._record("power_on", "", pm.name, "", reason)
        return self.sim.power_on(pm.name)

    def _may_switch_off(self, pm: PhysicalHost) -> bool:
        return (pm.on and not pm.guests and not pm.residents and not self.held.get(pm.name)
                and pm not in self.in_flight.values() and pm.name not in self._home_hosts())

    # -- placement ---------------------------------------------------------------------------------------------
    def _place(self, name: str, config: VmConfig, properties: dict[str, str] | None) -> Request:
        request = VmRequest(name, config.cores, config.ramsize)
        try:
            choice = self.policy.place(self.view(), request)
        except NotImplementedError as error:
            raise PolicyError(f"vm_create {name} auto: {error}") from None
        if choice is None:
            raise ActivityFailed(f"policy {self.label!r} found no PM with room for VM {name!r} ({config.cores} "
                                 f"core(s), {config.ramsize:g} bytes of RAM) at t={self.engine.now:g} s")
        pm = self._pm(choice, f"place {name}")
        self._record("place", name, pm.name, "", "placement")
        done = Wait(f"the placement of VM {name!r}")
        if pm.on:
            done.finish(self.sim.create_vm(name, pm, config, properties=properties))
            return done
        held = self.held.setdefault(pm.name, [])
        held.append((config.cores, config.ramsize))

        def booted(_: Request) -> None:
            held.remove((config.cores, config.ramsize))
            done.finish(self.sim.create_vm(name, pm, config, properties=properties))

        self._power_on(pm, "needed").then(booted)
        return done

    # -- migrations --------------------------------------------------------------------------------------------
    def _migration_began(self, vm: VirtualMachine, dst: PhysicalHost) -> None:
        self.in_flight[vm] = dst

    def _migration_over(self, report: events.MigrationReport) -> None:
        vm = self.sim.vms[report.vm]
        self.in_flight.pop(vm, None)
        source = self.sim.pm(report.src)
        self._maybe_empty[source] = None


def _overrides(policy: Policy, method: str) -> bool:
    return getattr(type(policy), method) is not getattr(Policy, method)

