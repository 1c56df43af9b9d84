"""The policy in the loop: calls a :class:`~replay.policies.api.Policy` at its decision points and applies what it
decides through the model's own operations.

Decision points run after the events of their date, once every rate is up to date (an engine after-events hook
that waits until the engine is settled): a tick at a date where loads change sees the new loads, whatever the
order of the timers, and the requested rates the monitor keeps are current. The tick is a background timer: it
does not keep a run going by itself. Every decision applied is a :class:`~replay.events.PolicyDecision`
record, so the Paje and CSV traces say why a VM moved.

The loop keeps the columns of the view up to date as things happen (the room each VM takes, from its creation
to its end, on both ends of its migrations), so that a view costs a few array copies, not a walk over the data
center; the objects of a view are made only if the policy reads them.

Power management (a policy's ``switch_off``): a managed host left empty (no VM, no actor, nothing arriving) is
switched off after the events of the date; a host where an actor started is never switched off, since its
actors may come back to it. A placement or a migration to an off host switches it on, and waits for it to boot.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from replay import events
from replay.errors import ActivityFailed, LookupFailure, PolicyError, StateError
from replay.hosts import PhysicalHost
from replay.lifecycle import VmState
from replay.policies.api import (
    HISTORY_LENGTH,
    Decision,
    HostTable,
    Migrate,
    Policy,
    PowerOff,
    PowerOn,
    View,
    VmRequest,
    VmTable,
)
from replay.policies.demand import DemandMonitor
from replay.process import Request, Wait
from replay.simulation import Simulation
from replay.vm import VirtualMachine, VmConfig

_ASKING = (VmState.RUNNING, VmState.MIGRATING)


class PolicyLoop:
    """Runs ``policy`` (called ``label`` in the traces) on the PMs ``hosts`` of ``sim``."""

    def __init__(self, sim: Simulation, policy: Policy, label: str, hosts: Iterable[str]) -> None:
        self.sim = sim
        self.engine = sim.engine
        self.policy = policy
        self.label = label
        self.pms = [sim.pm(name) for name in hosts]
        self.rank = {pm.name: rank for rank, pm in enumerate(self.pms)}
        self.monitor = DemandMonitor(sim, self.pms, self._pm_changed)
        self.counts = {"place": 0, "migrate": 0, "power_off": 0, "power_on": 0}
        count = len(self.pms)
        self.used_cores = np.zeros(count)
        self.used_ram = np.zeros(count)
        self.vm_count = np.zeros(count, dtype=np.int64)
        #: each living VM on a managed host: its row in the history
        self.rows: dict[VirtualMachine, int] = {}
        self.history = np.zeros((16, HISTORY_LENGTH))
        self.samples = np.zeros(16, dtype=np.int64)
        self._free_rows: list[int] = list(range(15, -1, -1))
        #: migrations in flight (or waiting for their destination to boot): VM -> destination
        self.in_flight: dict[VirtualMachine, PhysicalHost] = {}
        #: room held on booting hosts for the VMs placed there: host -> [(cores, ram)]
        self.held: dict[str, list[tuple[int, float]]] = {}
        self._static = _static_columns(self.pms)
        #: whether no managed host can change its power state's wattages (one range each)
        self._fixed_power = all(len(pm.spec.wattages) <= 1 for pm in self.pms)
        self._homes: set[str] | None = None
        self._due = False
        self._maybe_empty: dict[PhysicalHost, None] = dict.fromkeys(self.pms)
        self._started: list[VirtualMachine] = []
        self._overloaded: dict[PhysicalHost, bool] = {}
        self._busy = False
        sim.placer = self._place
        sim.vm_created.append(self._created)
        sim.vm_gone.append(self._gone)
        sim.migration_started.append(self._migration_began)
        sim.migration_ended.append(self._migration_over)
        if _overrides(policy, "vm_started"):
            sim.vm_started.append(self._started.append)
        self.engine.after_events(self._decide)
        if policy.interval > 0:
            self.engine.schedule(policy.interval, self._tick, background=True)

    # -- decision points ---------------------------------------------------------------------------------------
    def _tick(self) -> None:
        self._due = True
        self.engine.schedule(self.policy.interval, self._tick, background=True)

    def _decide(self) -> None:
        """After the events of a date, rates settled: the tick, the VMs started, the hosts overloaded, the hosts
        left empty."""
        if self._busy or not self.engine.settled:
            return
        self._busy = True
        try:
            if self._due:
                self._due = False
                self._sample()
                self._apply(self.policy.tick(self.view()))
                self._maybe_empty.update(dict.fromkeys(self.pms))
            while self._started:
                vm = self._started.pop(0)
                if vm.state in _ASKING and vm in self.rows:
                    view = self.view()
                    self._apply(self.policy.vm_started(view, view.vms[vm.name]))
            for pm, pending in list(self._overloaded.items()):
                if pending:
                    self._overloaded[pm] = False
                    view = self.view()
                    self._apply(self.policy.host_overloaded(view, view.hosts[pm.name]))
            if self.policy.switch_off:
                for pm in self._maybe_empty:
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
        if not (gauge.capacity > 0 and gauge.requested > threshold * gauge.capacity):
            self._overloaded.pop(pm, None)
        elif pm not in self._overloaded:
            self._overloaded[pm] = True

    def _sample(self) -> None:
        """Each running VM's requested CPU joins its history (the oldest value leaves)."""
        gauges = self.monitor.vms
        rows: list[int] = []
        values: list[float] = []
        for vm, row in self.rows.items():
            if vm.state in _ASKING:
                rows.append(row)
                values.append(gauges[vm].requested if vm in gauges else 0.0)
        if rows:
            history = self.history
            history[rows, :-1] = history[rows, 1:]
            history[rows, -1] = values
            self.samples[rows] = np.minimum(self.samples[rows] + 1, HISTORY_LENGTH)

    # -- the view ----------------------------------------------------------------------------------------------
    def view(self) -> View:
        """The data center now, as the policy sees it."""
        homes = self._home_hosts()
        pms = self.pms
        arriving = np.zeros(len(pms))
        gauges = self.monitor.vms
        for vm, dst in self.in_flight.items():
            rank = self.rank.get(dst.name)
            if rank is not None and vm in gauges:
                arriving[rank] += gauges[vm].requested
        on = np.array([pm.on for pm in pms])
        table = HostTable(
            used_cores=self.used_cores.copy(),
            used_ram=self.used_ram.copy(),
            vm_count=self.vm_count.copy(),
            requested=np.where(on, self.monitor.requested, 0.0),
            arriving=arriving,
            on=on,
            booting=np.array([pm.booting for pm in pms]),
            actors=np.array([len(pm.residents) for pm in pms]),
            may_power_off=np.array([pm.name not in homes for pm in pms]),
            core_speed=np.array([pm.core_speed for pm in pms]),
            **(self._static if self._fixed_power else _static_columns(pms)),
        )
        return View(self.engine.now, self.policy.interval, table, self._vm_table)

    def _vm_table(self) -> VmTable:
        vms = list(self.rows)
        rows = list(self.rows.values())
        gauges = self.monitor.vms
        return VmTable(
            names=tuple(vm.name for vm in vms),
            state=tuple(vm.state.value for vm in vms),
            host=np.array([self.rank[vm.pm.name] for vm in vms], dtype=np.int64),
            migrating_to=np.array([self.rank.get(self.in_flight[vm].name, -1) if vm in self.in_flight else -1
                                   for vm in vms], dtype=np.int64),
            cores=np.array([vm.cores for vm in vms], dtype=np.int64),
            ram=np.array([vm.ramsize for vm in vms], dtype=float),
            core_speed=np.array([vm.core_speed for vm in vms], dtype=float),
            requested=np.array([gauges[vm].requested if vm in gauges else 0.0 for vm in vms], dtype=float),
            history=self.history[rows].reshape(len(rows), HISTORY_LENGTH),
            samples=self.samples[rows],
        )

    def _home_hosts(self) -> set[str]:
        if self._homes is None:
            self._homes = {actor.placement for actor in self.sim.actors.values()}
        return self._homes

    # -- the room VMs take -------------------------------------------------------------------------------------
    def _take(self, pm: PhysicalHost, cores: int, ram: float, sign: int = 1) -> None:
        rank = self.rank.get(pm.name)
        if rank is not None:
            self.used_cores[rank] += sign * cores
            self.used_ram[rank] += sign * ram
            self.vm_count[rank] += sign

    def _created(self, vm: VirtualMachine) -> None:
        if vm.pm.name not in self.rank:
            return
        self._take(vm.pm, vm.cores, vm.ramsize)
        if not self._free_rows:
            grown = len(self.samples)
            self.history = np.vstack([self.history, np.zeros((grown, HISTORY_LENGTH))])
            self.samples = np.concatenate([self.samples, np.zeros(grown, dtype=np.int64)])
            self._free_rows = list(range(2 * grown - 1, grown - 1, -1))
        self.rows[vm] = self._free_rows.pop()

    def _gone(self, vm: VirtualMachine) -> None:
        row = self.rows.pop(vm, None)
        if row is None:
            return
        self._take(vm.pm, vm.cores, vm.ramsize, -1)
        self.history[row] = 0.0
        self.samples[row] = 0
        self._free_rows.append(row)
        dst = self.in_flight.pop(vm, None)
        if dst is not None:
            self._take(dst, vm.cores, vm.ramsize, -1)
        self._maybe_empty[vm.pm] = None

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
        if vm in self.in_flight:
            raise self._refused(decision, StateError(f"VM {vm.name!r} is already migrating"))

        def go() -> None:
            try:
                vm.check_migration(dst)
            except (StateError, ActivityFailed) as error:
                raise self._refused(decision, error) from None
            self._record("migrate", vm.name, vm.pm.name, dst.name, decision.reason)
            self.sim.migrate_vm(vm, dst)

        if dst.on:
            go()
            return
        # its room on the destination is held while the destination boots
        self.in_flight[vm] = dst
        self._take(dst, vm.cores, vm.ramsize)

        def booted(_: Request) -> None:
            if self.in_flight.pop(vm, None) is not None:
                self._take(dst, vm.cores, vm.ramsize, -1)
                go()

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
        booted = self.sim.power_on(pm.name)
        booted.then(lambda _: self._maybe_empty.setdefault(pm))  # if what needed it is gone meanwhile
        return booted

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
        room = (config.cores, config.ramsize)
        self.held.setdefault(pm.name, []).append(room)
        self._take(pm, *room)

        def booted(_: Request) -> None:
            self.held[pm.name].remove(room)
            self._take(pm, *room, -1)
            done.finish(self.sim.create_vm(name, pm, config, properties=properties))

        self._power_on(pm, "needed").then(booted)
        return done

    # -- migrations --------------------------------------------------------------------------------------------
    def _migration_began(self, vm: VirtualMachine, dst: PhysicalHost) -> None:
        if vm in self.rows:
            self.in_flight[vm] = dst
            self._take(dst, vm.cores, vm.ramsize)

    def _migration_over(self, report: events.MigrationReport) -> None:
        vm = self.sim.vms[report.vm]
        dst = self.in_flight.pop(vm, None)
        if dst is None:
            return
        source = self.sim.pm(report.src)
        self._take(source if report.status == "done" else dst, vm.cores, vm.ramsize, -1)
        self._maybe_empty[source] = None
        self._maybe_empty[dst] = None  # booted for a migration that aborted


def _static_columns(pms: list[PhysicalHost]) -> dict[str, object]:
    """The columns of the host table that do not change during a run."""
    ranges = [pm.spec.wattages[pm.pstate] if pm.spec.wattages else None for pm in pms]
    return {
        "names": tuple(pm.name for pm in pms),
        "cores": np.array([pm.cores for pm in pms], dtype=np.int64),
        "ram": np.array([pm.spec.ramsize if pm.spec.ramsize is not None and not pm.spec.overcommit else np.inf
                         for pm in pms], dtype=float),
        "powered": np.array([r is not None for r in ranges]),
        "idle": np.array([r.idle if r else 0.0 for r in ranges]),
        "epsilon": np.array([r.epsilon if r else 0.0 for r in ranges]),
        "all_cores": np.array([r.all_cores if r else 0.0 for r in ranges]),
        "wattage_off": np.array([pm.spec.wattage_off if r else 0.0 for pm, r in zip(pms, ranges, strict=True)]),
        "boot_delay": np.array([pm.spec.boot_delay for pm in pms]),
    }


def _overrides(policy: Policy, method: str) -> bool:
    return getattr(type(policy), method) is not getattr(Policy, method)
