"""A simulation: the facade that composes a platform, the engine, the CPU and network models, VMs and actors.

This is what users and the replay layer program against::

    sim = Simulation(load_platform("platform.xml"))
    vm = sim.create_vm("VM0", "Fafard", cores=2)
    vm.start()
    sim.add_actor("boss", "Tremblay", boss)     # boss may suspend, migrate ... VM0
    sim.add_actor("worker", "VM0", worker)     # waits until VM0 runs
    end = sim.run()                            # raises DeadlockError if some actor waits forever

It owns no behaviour of its own: hosts and VMs own their executions and lifecycle (:mod:`replay.hosts`,
:mod:`replay.vm`), the scheduler runs the actors (:mod:`replay.actors`), a migration is a process of its own
(:mod:`replay.migration`), and the engine owns the clock (:mod:`replay.engine`). The facade finds hosts and VMs by
name, creates VMs and migrations with the run's settings, and runs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from replay import events
from replay.actors import Actor, ActorFunction, Scheduler
from replay.availability import RandomFailures, follow_profiles
from replay.comms import Mailboxes
from replay.energy import EnergyMeter, metered
from replay.engine import Engine
from replay.errors import ClockError, DeadlockError, LookupFailure, StateError
from replay.hosts import ComputeHost, PhysicalHost
from replay.lifecycle import VmState
from replay.migration import Migration, MigrationOptions
from replay.network import Network, NetworkModel
from replay.platform import Platform, default_platform
from replay.process import Process, Request, Wait
from replay.units import Seconds
from replay.vm import VirtualMachine, VmConfig

#: a placement policy: (VM name, its config, its properties) -> a request done, its value the VM, once it exists
Placer = Callable[[str, VmConfig, dict[str, str] | None], Request]


class Simulation:
    """Everything one run needs; see the module docstring."""

    def __init__(
        self,
        platform: Platform | None = None,
        *,
        network_model: str | NetworkModel = "LV08",
        migration: MigrationOptions | None = None,
        random_failures: RandomFailures | None = None,
    ) -> None:
        self.platform = platform if platform is not None else default_platform()
        self.migration_options = migration or MigrationOptions()
        #: the reports of the migrations that ended (successfully or not), in the order they ended
        self.migrations: list[events.MigrationReport] = []
        self._keys = itertools.count()
        self.engine = Engine()
        self.network = Network(self.engine, self.platform, network_model)
        self.scheduler = Scheduler(self.engine, Mailboxes(self.network))
        #: every VM created, by name (a destroyed one stays until a new VM takes its name)
        self.vms: dict[str, VirtualMachine] = {}
        self._pms: dict[str, PhysicalHost] = {}
        #: the energy accounts, when some host or link of the platform has wattages (see :mod:`replay.energy`)
        self.energy: EnergyMeter | None = None
        if metered(self.platform):
            self.energy = EnergyMeter(self.engine)
            for name, spec in self.platform.hosts.items():
                if spec.wattages:
                    self.energy.watch_host(self.pm(name))
            for link in self.platform.links.values():
                if link.wattage_range is not None:
                    resource = self.network.link_resource(link)
                    self.energy.watch_link(link, resource, lambda r=resource: r not in self.network.links_off)
        #: told of each migration that starts (the VM, its destination) and ends (its report): the policy loop
        self.migration_started: list[Callable[[VirtualMachine, PhysicalHost], None]] = []
        self.migration_ended: list[Callable[[events.MigrationReport], None]] = []
        #: told of each VM created
        self.vm_created: list[Callable[[VirtualMachine], None]] = []
        #: told when a VM runs (start, resume, restore, the end of a move) and when one is destroyed or lost
        self.vm_started: list[Callable[[VirtualMachine], None]] = []
        self.vm_gone: list[Callable[[VirtualMachine], None]] = []
        #: chooses the PM of a ``vm_create <vm> auto`` (a placement policy; see :meth:`place_vm`)
        self.placer: Placer | None = None
        #: how many times a host or a link went off during the run (actors left waiting are then an outcome, not
        #: a deadlock: see :meth:`run`)
        self.outages = 0
        self._boots: dict[str, Wait] = {}
        self.engine.stalled = self._stalled
        follow_profiles(self)
        if random_failures is not None:
            random_failures.inject(self)

    @property
    def actors(self) -> dict[str, Actor]:
        """Every actor, by name, in the order they were added."""
        return self.scheduler.actors

    # -- hosts and VMs -------------------------------------------------------------------------------------
    def host(self, name: str) -> ComputeHost:
        """The physical host or the (living) VM called ``name``."""
        vm = self.vms.get(name)
        if vm is not None and vm.state is not VmState.DESTROYED:
            return vm
        return self.pm(name)

    def pm(self, name: str) -> PhysicalHost:
        """The physical host called ``name``."""
        found = self._pms.get(name)
        if found is None:
            spec = self.platform.hosts.get(name)
            if spec is None:
                if name in self.vms:
                    raise LookupFailure(f"VM {name!r} was destroyed")
                raise LookupFailure(f"unknown host {name!r}: neither a host of {self.platform.source} nor a VM")
            found = self._pms[name] = PhysicalHost(self.engine, spec)
        return found

    def vm(self, name: str) -> VirtualMachine:
        """The VM called ``name`` (destroyed ones included, so that operations on them say so)."""
        found = self.vms.get(name)
        if found is None:
            raise LookupFailure(f"unknown VM {name!r}")
        return found

    def create_vm(
        self,
        name: str,
        pm: str | PhysicalHost,
        config: VmConfig | None = None,
        *,
        properties: dict[str, str] | None = None,
        **fields: Any,
    ) -> VirtualMachine:
        """Create a VM (state CREATED) on ``pm``, made of ``config`` with ``fields`` of :class:`VmConfig` changed.

        Names are unique among hosts and living VMs.
        """
        if name in self.platform.hosts or (name in self.vms and self.vms[name].state is not VmState.DESTROYED):
            raise StateError(f"cannot create VM {name!r}: a host or VM of that name already exists")
        where = self.pm(pm) if isinstance(pm, str) else pm
        try:
            made = replace(config or VmConfig(), **fields) if fields else config or VmConfig()
        except ValueError as error:
            raise ValueError(f"VM {name!r}: {error}") from None
        vm = VirtualMachine(self.engine, name, where, made, listener=self, properties=properties)
        self.vms[name] = vm
        for hook in self.vm_created:
            hook(vm)
        return vm

    def vm_runs(self, vm: VirtualMachine) -> None:
        """A VM runs (started, resumed, restored, moved): its actors get in, then the hooks are told."""
        self.scheduler.vm_runs(vm)
        for hook in self.vm_started:
            hook(vm)

    def vm_destroyed(self, vm: VirtualMachine) -> None:
        self.scheduler.vm_destroyed(vm)
        for hook in self.vm_gone:
            hook(vm)

    def migrate_vm(self, vm: VirtualMachine, dst: str | PhysicalHost, issuer: Actor | None = None) -> Process:
        """Live-migrate ``vm`` to ``dst`` (see :mod:`replay.migration`); the process ends with the report.

        ``issuer``, the actor asking, receives the acknowledgement that ends the migration (none: ``dst`` does).
        """
        where = self.pm(dst) if isinstance(dst, str) else dst
        vm.check_migration(where)
        migration = Migration(
            vm,
            where,
            network=self.network,
            options=self.migration_options,
            key=str(next(self._keys)),
            ack_to=issuer.host if issuer is not None else None,
            on_end=self._migration_ended,
        )
        process = migration.start()
        for hook in self.migration_started:
            hook(vm, where)
        return process

    def _migration_ended(self, report: events.MigrationReport) -> None:
        self.migrations.append(report)
        for hook in self.migration_ended:
            hook(report)

    def place_vm(self, name: str, config: VmConfig | None = None, *, properties: dict[str, str] | None = None
                 ) -> Request:
        """Create VM ``name`` on the PM the placement policy chooses (``vm_create <vm> auto``). The request is
        done, its value the VM, once the VM exists: at once, or when the chosen PM has booted."""
        if self.placer is None:
            raise StateError(f"cannot create VM {name!r} on 'auto': that needs a placement policy "
                             "(replay run --policy)")
        if name in self.platform.hosts or (name in self.vms and self.vms[name].state is not VmState.DESTROYED):
            raise StateError(f"cannot create VM {name!r}: a host or VM of that name already exists")
        return self.placer(name, config or VmConfig(), properties)

    def demand(self) -> dict[str, float] | None:
        """What the ``load`` actions asked and got, in all (VMs and PMs): ``flops``, ``served`` and
        ``unserved_fraction``; None in a run without loads."""
        hosts = [*self._pms.values(), *self.vms.values()]
        asked = sum(host.demand_flops for host in hosts)
        if not asked and not any(host.served_flops for host in hosts):
            return None
        served = sum(host.served_flops for host in hosts)
        return {"flops": asked, "served": served, "unserved_fraction": 1.0 - served / asked if asked else 0.0}

    # -- failures ------------------------------------------------------------------------------------------
    def host_off(self, name: str, cause: str = "") -> None:
        """Turn the physical host ``name`` off (SimGrid's ``Host::turn_off``): its actors and those of its VMs are
        killed, its VMs lost, the transfers from or to it fail, a migration to it aborts (its VM stays on the
        source); nothing starts there until :meth:`host_on`. ``cause`` names what turned it off."""
        pm = self.pm(name)
        if not pm.on:
            return
        self.outages += 1
        self._go_off(pm, f"host {name!r} went off at t={self.engine.now:g} s" + (f" ({cause})" if cause else ""))

    def _go_off(self, pm: PhysicalHost, why: str) -> None:
        """What a host going off means, failure or decision: the host, then the transfers to or from it."""
        pm.turn_off(why)
        self.network.host_off(pm.name, why)

    def host_on(self, name: str) -> None:
        """Turn the physical host ``name`` back on, empty; its actors marked for restart start again."""
        pm = self.pm(name)
        if pm.on:
            return
        pm.turn_on()
        self.network.host_on(name)
        self.scheduler.host_on(pm)

    def power_on(self, name: str) -> Request:
        """Switch the physical host ``name`` on, as a policy does: it boots for its ``boot_delay`` (drawing its
        ``wattage_boot``), then is on, empty. The request is done when it is on (at once if it already is)."""
        pm = self.pm(name)
        request = Wait(f"the boot of host {name!r}")
        if pm.on:
            request.finish(pm)
            return request
        if pm.booting:
            self._boots[name].then(lambda done: request.finish(pm))
            return request
        pm.boot()
        self._boots[name] = request

        def booted() -> None:
            del self._boots[name]
            self.host_on(name)
            request.finish(pm)

        self.engine.schedule(pm.spec.boot_delay, booted)
        return request

    def power_off(self, name: str, cause: str) -> None:
        """Switch the physical host ``name`` off, as a policy does (a decision, not a failure): it must hold no
        VM and no actor."""
        pm = self.pm(name)
        if pm.guests or pm.residents:
            raise StateError(f"cannot switch host {name!r} off: it holds {len(pm.guests)} VM(s) and "
                             f"{len(pm.residents)} actor(s)")
        if pm.on:
            self._go_off(pm, cause)

    def link_off(self, name: str, cause: str = "") -> None:
        """Turn the link ``name`` off (both directions of a SPLITDUPLEX link, or ``<name>_UP``/``_DOWN`` alone):
        the transfers using it fail, and new ones over it too, until :meth:`link_on`."""
        links = self.platform.links_named(name)
        why = f"link {name!r} went off at t={self.engine.now:g} s" + (f" ({cause})" if cause else "")
        for link in links:
            if self.network.link_resource(link) in self.network.links_off:
                continue
            self.outages += 1
            self.network.link_off(link, why)
            if self.engine.traced:
                self.engine.emit(events.LinkStateChanged(self.engine.now, link.name, False, why))

    def link_on(self, name: str) -> None:
        for link in self.platform.links_named(name):
            if self.network.link_resource(link) not in self.network.links_off:
                continue
            self.network.link_on(link)
            if self.engine.traced:
                self.engine.emit(events.LinkStateChanged(self.engine.now, link.name, True))

    def _stalled(self) -> bool:
        """Whether some actor is alive and waits on a change that only a profile can bring: an execution or a
        transfer that gets nothing (a speed or bandwidth of 0), or an actor to restart on a host that is off.
        With no actor alive, the run is over, as in SimGrid."""
        if not self.scheduler.blocked():
            return False
        if self.scheduler.waiting_for_boot(self._pms):
            return True
        resources = [pm.cpu for pm in self._pms.values()] + list(self.network.links.values())
        resources += [vm.cpu for vm in self.vms.values()]
        return any(not activity.suspended and activity.amount < math.inf
                   for resource in resources for activity in resource.activities)

    # -- actors --------------------------------------------------------------------------------------------
    def add_actor(
        self,
        name: str,
        host: str | ComputeHost,
        function: ActorFunction,
        *args: Any,
        start_time: Seconds = 0.0,
        kill_time: Seconds | None = None,
        wait_for_vm: bool = False,
        restart: bool = False,
    ) -> Actor:
        """Create an actor running ``function(actor, *args)`` on ``host`` from ``start_time`` on (and killed at
        ``kill_time`` if it still runs then).

        On a VM that is not running yet, the actor starts when the VM does. With ``wait_for_vm``, ``host`` may
        also name a VM not created yet: the actor then starts when a VM of that name starts. With ``restart``,
        an actor on a physical host starts again, from its beginning, each time the host comes back on
        (SimGrid's ``on_failure="RESTART"``).
        """
        if name in self.actors:
            raise StateError(f"an actor called {name!r} already exists")
        where: ComputeHost | None
        if isinstance(host, str):
            try:
                where = self.host(host)
            except LookupFailure:
                if not wait_for_vm:
                    raise
                where = None
        else:
            where = host
        placement = host if isinstance(host, str) else host.name
        return self.scheduler.add(name, where, placement, function, args, start_time, kill_time, restart)

    def move_actor(self, actor: Actor, name: str) -> Request:
        """Move ``actor`` to the host or VM ``name``; a VM that does not run (or exist) yet is waited for."""
        try:
            host: ComputeHost | None = self.host(name)
        except LookupFailure:
            host = None  # a VM created later
        return self.scheduler.move(actor, name, host)

    # -- running -------------------------------------------------------------------------------------------
    def run(self, until: Seconds | None = None) -> Seconds:
        """Run until nothing can happen any more (or until ``until``); return the simulated clock.

        A :class:`~replay.errors.ClockError` of the engine is given the place of the action that asked for the
        work concerned (its actor's ``context``), when an actor waits on it.
        """
        try:
            end = self.engine.run(until)
        except ClockError as error:
            raise ClockError(f"{self._context_of(error.subject)}{error}", error.subject) from None
        if until is None:
            blocked = self.scheduler.blocked()
            if blocked and self.outages:  # stranded by a failure: an outcome of the run, not a mistake
                for actor in blocked:
                    actor.blocked = True
                    actor.cause = f"waits forever on {self._waits_on(actor)}"
                    self.scheduler.ended(actor)
            elif blocked:
                lines = [f"{a.context}{a.name} on {a.placement} waits on {self._waits_on(a)}" for a in blocked]
                raise DeadlockError(
                    f"deadlock at t={end:.6f} s: {len(lines)} actor(s) wait forever: " + "; ".join(lines)
                )
            if self.engine.traced:
                self.engine.emit(events.RunEnded(end))
        return end


    def _waits_on(self, actor: Actor) -> str:
        """What ``actor`` waits on; one placed on a VM created after it waits for that VM to start."""
        if actor.host is None and not actor.started and actor.placement in self.vms:
            return self.vms[actor.placement].describe_start()
        return actor.describe_wait()

    def _context_of(self, activity: object) -> str:
        """The ``file:line: `` of the action waiting on ``activity`` (an execution or a transfer), if any."""
        if activity is not None:
            for actor in self.actors.values():
                if getattr(actor.waiting, "activity", None) is activity:
                    return actor.context
        return ""



