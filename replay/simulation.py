"""A simulation: a platform, the engine, the CPU and network models, VMs, and the actors that drive them.

This is the facade users and the replay layer program against::

    sim = Simulation(load_platform("platform.xml"))
    vm = sim.create_vm("VM0", "Fafard", cores=2)
    sim.add_actor("boss", "Tremblay", boss)     # boss may start, suspend, migrate ... VM0
    sim.add_actor("worker", "VM0", worker)     # waits until VM0 runs
    end = sim.run()                            # raises DeadlockError if some actor waits forever

Actors run in a deterministic order: those woken at the same date run in the order they were woken, each until
it yields something not yet done. New activities start at the current date and the engine re-solves before the
clock moves on. A suspended actor (its VM suspended, saved, or in the stop-and-copy of a migration) has its
current computation or transfer frozen and is not woken until it is resumed (a sleep goes on, as in SimGrid: one
that ends meanwhile wakes the actor at the resume); a killed actor (its VM shut down) stops at once.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable
from typing import Any

from replay import events
from replay.actors import Actor, ActorFunction, Comm, Exec, Mailbox, Request, Sleep, Wait
from replay.cpu import cpu_resource, execution
from replay.engine import Activity, Engine, Resource
from replay.errors import DeadlockError, LookupFailure, SimulationError, StateError
from replay.migration import Migration, MigrationOptions, MigrationReport, check_migration
from replay.network import Network, NetworkModel
from replay.platform import Platform, default_platform
from replay.units import Bytes, BytesPerSecond, Flops, FlopsPerSecond, Seconds
from replay.vm import DEFAULT_RAMSIZE, MigrationParams, VirtualMachine, VmState


class ExecHost:
    """A physical host as a place where actors run and computations take place (a VM is the other kind)."""

    __slots__ = ("core_speed", "cores", "cpu", "name")

    def __init__(self, name: str, cpu: Resource, core_speed: FlopsPerSecond, cores: int) -> None:
        self.name = name
        self.cpu = cpu
        self.core_speed = core_speed
        self.cores = cores

    def __repr__(self) -> str:
        return f"ExecHost({self.name!r})"

    @property
    def pm_name(self) -> str:
        return self.name

    # Hooks for VMs, which count their running executions and track dirty pages; nothing to do on a PM.
    def exec_started(self, activity: Activity) -> None:
        pass

    def exec_ended(self, activity: Activity) -> None:
        pass

    def exec_paused(self, activity: Activity) -> None:
        pass

    def exec_resumed(self, activity: Activity) -> None:
        pass


Host = ExecHost | VirtualMachine


class Simulation:
    """Everything one run needs; see the module docstring."""

    def __init__(
        self,
        platform: Platform | None = None,
        *,
        network_model: str | NetworkModel = "LV08",
        migration: MigrationOptions | None = None,
    ) -> None:
        self.platform = platform if platform is not None else default_platform()
        self.migration_options = migration or MigrationOptions()
        #: the reports of the migrations that ended (successfully or not), in the order they ended
        self.migrations: list[MigrationReport] = []
        self._keys = itertools.count()
        self.engine = Engine()
        self.network = Network(self.platform, network_model)
        self.actors: dict[str, Actor] = {}
        self.vms: dict[str, VirtualMachine] = {}
        self.mailboxes: dict[str, Mailbox] = {}
        self._hosts: dict[str, ExecHost] = {}
        self._ready: deque[tuple[Actor, Request | None]] = deque()
        #: actors waiting for a VM (by name) to run, each with what to do when it does
        self._waiting_for_vm: dict[str, list[tuple[Actor, Callable[[VirtualMachine], None]]]] = {}
        self._disks: dict[str, Resource] = {}
        #: actors by the host they run on (so that freezing a VM does not scan every actor)
        self._residents: dict[Host, dict[Actor, None]] = {}
        self.engine.after_events(self._run_ready)

    # -- hosts and VMs -------------------------------------------------------------------------------------
    def host(self, name: str) -> Host:
        """The physical host or the VM called ``name``."""
        vm = self.vms.get(name)
        if vm is not None and vm.state is not VmState.DESTROYED:
            return vm
        return self.pm(name)

    def pm(self, name: str) -> ExecHost:
        """The physical host called ``name``."""
        found = self._hosts.get(name)
        if found is None:
            spec = self.platform.hosts.get(name)
            if spec is None:
                if name in self.vms:
                    raise LookupFailure(f"VM {name!r} was destroyed")
                raise LookupFailure(f"unknown host {name!r}: neither a host of {self.platform.source} nor a VM")
            cpu = cpu_resource(name, spec.speed, spec.cores)
            found = self._hosts[name] = ExecHost(name, cpu, spec.speed, spec.cores)
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
        pm: str | ExecHost,
        *,
        cores: int = 1,
        ramsize: Bytes = DEFAULT_RAMSIZE,
        bound: FlopsPerSecond = math.inf,
        params: MigrationParams | None = None,
        properties: dict[str, str] | None = None,
    ) -> VirtualMachine:
        """Create a VM (state CREATED) on ``pm``; names are unique among hosts and living VMs."""
        if name in self.platform.hosts or (name in self.vms and self.vms[name].state is not VmState.DESTROYED):
            raise StateError(f"cannot create VM {name!r}: a host or VM of that name already exists")
        where = self.pm(pm) if isinstance(pm, str) else pm
        vm = VirtualMachine(
            self, name, where, cores=cores, ramsize=ramsize, bound=bound, params=params, properties=properties
        )
        self.vms[name] = vm
        if self.engine.traced:
            self.engine.emit(events.VmCreated(self.engine.now, name, where.name, cores, ramsize))
        return vm

    def start_vm(self, vm: VirtualMachine) -> None:
        vm.check("start")
        vm.memory_check()
        vm.transition("start")
        vm.power_on()
        self._release_waiters(vm)

    def suspend_vm(self, vm: VirtualMachine, issuer: Actor | None = None) -> None:
        vm.check("suspend")
        if issuer is not None and issuer.host is vm:
            raise StateError(f"VM {vm.name!r}: actor {issuer.name!r} cannot suspend the VM it runs in")
        vm.transition("suspend")
        self.freeze_vm(vm)

    def resume_vm(self, vm: VirtualMachine) -> None:
        vm.transition("resume")
        self.thaw_vm(vm)

    def save_vm(self, vm: VirtualMachine, issuer: Actor | None = None) -> Request:
        """Freeze the VM and write its RAM to the PM's disk (instant without a ``disk_bandwidth``)."""
        vm.check("save")
        if issuer is not None and issuer.host is vm:
            raise StateError(f"VM {vm.name!r}: actor {issuer.name!r} cannot save the VM it runs in")
        vm.transition("save")
        self.freeze_vm(vm)

        def saved() -> None:
            vm.transition("save_done")
            vm.power_off()

        return self._disk_io(vm, "save", saved)

    def restore_vm(self, vm: VirtualMachine) -> Request:
        """Read the VM's RAM back from the PM's disk, then let it run again."""
        vm.check("restore")
        vm.memory_check()
        vm.transition("restore")

        def restored() -> None:
            vm.transition("restore_done")
            vm.power_on()
            self.thaw_vm(vm)

        return self._disk_io(vm, "restore", restored)

    def _disk_io(self, vm: VirtualMachine, what: str, then: Callable[[], None]) -> Request:
        request = Wait(f"{what} of VM {vm.name!r}")
        bandwidth = vm.disk_bandwidth()

        def done(_: Activity | None = None) -> None:
            if vm.state in (VmState.SAVING, VmState.RESTORING):
                then()
                request.finish(None)

        if bandwidth is None:
            done()
        else:
            disk = self._disk(vm.pm, bandwidth)
            activity = Activity(f"{what}:{vm.name}", vm.ramsize, ((disk, 1.0),), on_done=done)
            vm.io = (activity, request)
            self.engine.start(activity)
        return request

    def _disk(self, pm: ExecHost, bandwidth: BytesPerSecond) -> Resource:
        """The PM's disk, shared by the saves and restores of its VMs."""
        disk = self._disks.get(pm.name)
        if disk is None:
            disk = self._disks[pm.name] = Resource(f"{pm.name}:disk", bandwidth, kind="disk")
        return disk

    def shutdown_vm(self, vm: VirtualMachine, issuer: Actor | None = None) -> None:
        """Power the VM off (back to CREATED): its actors are killed, a migration or save under way fails."""
        vm.check("shutdown")
        if issuer is not None and issuer.host is vm:
            raise StateError(f"VM {vm.name!r}: actor {issuer.name!r} cannot shut down the VM it runs in")
        self._abort_vm_work(vm, "shut down")
        for actor in self.actors_on(vm):
            self.kill_actor(actor)
        for activity in list(vm.cpu.activities):  # executions started asynchronously
            self.engine.cancel(activity)
            vm.exec_ended(activity)
        vm.transition("shutdown")
        vm.frozen = False
        vm.power_off()

    def destroy_vm(self, vm: VirtualMachine, issuer: Actor | None = None) -> None:
        """Remove the VM for good (shutting it down first if needed)."""
        vm.check("destroy")
        if vm.state is not VmState.CREATED:
            self.shutdown_vm(vm, issuer)
        vm.transition("destroy")
        for actor, _ in self._waiting_for_vm.pop(vm.name, []):
            self.kill_actor(actor)
        if self.engine.traced:
            self.engine.emit(events.VmDestroyed(self.engine.now, vm.name, vm.pm.name))

    def migrate_vm(self, vm: VirtualMachine, dst: str | ExecHost, issuer: Actor | None = None) -> Request:
        """Live-migrate ``vm`` to ``dst`` (see :mod:`replay.migration`); the request ends with the migration."""
        where = self.pm(dst) if isinstance(dst, str) else dst
        check_migration(vm, where)
        vm.transition("migrate")
        migration = Migration(self, vm, where, issuer, self.migration_options)
        vm.migration = migration
        return migration.start()

    def next_key(self) -> int:
        """A number unique in this simulation (migrations are keyed by it, deterministically)."""
        return next(self._keys)

    def move_vm(self, vm: VirtualMachine, dst: ExecHost) -> None:
        """Place ``vm`` on ``dst`` at once: its share moves to the new PM, its executions go on inside it."""
        src = vm.pm
        vm.power_off()
        vm.pm = dst
        vm.core_speed = dst.core_speed
        vm.power_on()
        if self.engine.traced:
            self.engine.emit(events.VmMoved(self.engine.now, vm.name, src.name, dst.name))

    def _abort_vm_work(self, vm: VirtualMachine, why: str) -> None:
        if vm.io is not None:
            activity, request = vm.io
            vm.io = None
            if not request.done:
                self.engine.cancel(activity)
                request.fail(StateError(f"VM {vm.name!r} was {why} during the {request.what}"))
        if vm.migration is not None:
            vm.migration.abort(f"VM {vm.name!r} was {why} during its migration")

    def actors_on(self, host: Host) -> list[Actor]:
        """The actors running on ``host`` (started and not finished), in the order they were created."""
        return list(self._residents.get(host, ()))

    def freeze_vm(self, vm: VirtualMachine) -> None:
        """Stop everything in the VM: its share of the PM and its actors' current activities."""
        vm.frozen = True
        if vm.share is not None:
            self.engine.suspend(vm.share)
        for actor in self.actors_on(vm):
            self.suspend_actor(actor)

    def thaw_vm(self, vm: VirtualMachine) -> None:
        vm.frozen = False
        if vm.share is not None:
            self.engine.resume(vm.share)
        for actor in self.actors_on(vm):
            self.resume_actor(actor)
        self._release_waiters(vm)

    def _release_waiters(self, vm: VirtualMachine) -> None:
        """Let in the actors waiting for ``vm`` to run (placed on it, or moving to it)."""
        if _runs(vm):
            for _, on_run in self._waiting_for_vm.pop(vm.name, []):
                on_run(vm)

    def move_actor(self, actor: Actor, name: str) -> Request:
        """Move ``actor`` to the host or VM ``name``; a VM that does not run (or exist) yet is waited for."""
        request = Wait(f"VM {name!r} to run")

        def arrive(host: Host) -> None:
            self._residents.get(actor.host, {}).pop(actor, None)
            actor.host = host
            self._residents.setdefault(host, {})[actor] = None
            request.finish(None)

        try:
            host: Host | None = self.host(name)
        except LookupFailure:
            host = None  # a VM created later
        if host is None or (isinstance(host, VirtualMachine) and not _runs(host)):
            self._waiting_for_vm.setdefault(name, []).append((actor, arrive))
        else:
            arrive(host)
        return request

    # -- actors --------------------------------------------------------------------------------------------
    def add_actor(
        self,
        name: str,
        host: str | Host,
        function: ActorFunction,
        *args: Any,
        start_time: Seconds = 0.0,
        wait_for_vm: bool = False,
    ) -> Actor:
        """Create an actor running ``function(actor, *args)`` on ``host`` from ``start_time`` on.

        On a VM that is not running yet, the actor starts when the VM does. With ``wait_for_vm``, ``host`` may
        also name a VM not created yet: the actor then starts when a VM of that name starts.
        """
        if name in self.actors:
            raise StateError(f"an actor called {name!r} already exists")
        where: Host | None
        if isinstance(host, str):
            try:
                where = self.host(host)
            except LookupFailure:
                if not wait_for_vm:
                    raise
                where = None
        else:
            where = host
        actor = Actor(self, name, where, function, args)
        actor.placement = host if isinstance(host, str) else host.name
        self.actors[name] = actor
        if start_time > self.engine.now:
            self.engine.schedule(start_time - self.engine.now, lambda: self._launch(actor))
        else:
            self._launch(actor)
        return actor

    def _launch(self, actor: Actor) -> None:
        host = actor.host
        if host is None or (isinstance(host, VirtualMachine) and not _runs(host)):

            def place(vm: VirtualMachine) -> None:
                actor.host = vm
                self._wake(actor, None)

            self._waiting_for_vm.setdefault(actor.placement, []).append((actor, place))
        else:
            self._wake(actor, None)

    def run(self, until: Seconds | None = None) -> Seconds:
        """Run until nothing can happen any more (or until ``until``); return the simulated clock."""
        end = self.engine.run(until)
        if until is None:
            blocked = [a for a in self.actors.values() if not a.finished]
            if blocked:
                lines = [f"{a.context}{a.name} on {a.placement} waits on {_waits_on(self, a)}" for a in blocked]
                raise DeadlockError(
                    f"deadlock at t={end:.6f} s: {len(blocked)} actor(s) wait forever: " + "; ".join(lines)
                )
            if self.engine.traced:
                self.engine.emit(events.RunEnded(end))
        return end

    def _wake(self, actor: Actor, request: Request | None) -> None:
        if actor.killed:
            return
        if actor.suspended:
            actor.deferred = request
            return
        self._ready.append((actor, request))

    def _run_ready(self) -> None:
        ready = self._ready
        engine = self.engine
        while ready:
            actor, request = ready.popleft()
            if actor.killed:
                continue
            generator = actor._generator
            try:
                if generator is None:
                    self._residents.setdefault(actor.host, {})[actor] = None
                    if getattr(actor.host, "frozen", False):  # its VM was frozen before it could start
                        actor.suspended = True
                        continue
                    actor.start_time = engine.now
                    if engine.traced:
                        engine.emit(events.ActorStarted(engine.now, actor.name, actor.host.name))
                    generator = actor._generator = actor.function(actor, *actor.args)
                    step = next(generator)
                elif request is not None and request.error is not None:
                    step = generator.throw(request.error)
                else:
                    step = generator.send(None if request is None else request.value)
            except StopIteration:
                self._end_actor(actor)
                continue
            if not isinstance(step, Request):
                raise TypeError(f"actor {actor.name!r} yielded {step!r}; actors must yield requests")
            actor.waiting = step
            step.then(_resumer(self, actor))

    def _end_actor(self, actor: Actor, *, killed: bool = False) -> None:
        self._residents.get(actor.host, {}).pop(actor, None)
        actor.end_time = self.engine.now
        actor.waiting = None
        actor.killed = killed
        if self.engine.traced:
            self.engine.emit(events.ActorEnded(self.engine.now, actor.name, actor.host.name, killed))

    def suspend_actor(self, actor: Actor) -> None:
        """Freeze the actor's current activity; wake-ups are held until :meth:`resume_actor`."""
        if actor.suspended or actor.finished:
            return
        actor.suspended = True
        self._pause(actor.waiting, actor)

    def resume_actor(self, actor: Actor) -> None:
        if not actor.suspended or actor.finished:
            return
        actor.suspended = False
        self._unpause(actor.waiting, actor)
        if actor.deferred is not None:
            request, actor.deferred = actor.deferred, None
            self._ready.append((actor, request))
        elif actor._generator is None and actor.waiting is None:
            self._ready.append((actor, None))

    def _pause(self, request: Request | None, actor: Actor) -> None:
        engine = self.engine
        if isinstance(request, Exec) and not request.done:
            engine.suspend(request.activity)
            request.host.exec_paused(request.activity)
        elif isinstance(request, Comm) and request.activity is not None and not request.done:
            engine.suspend(request.activity)

    def _unpause(self, request: Request | None, actor: Actor) -> None:
        engine = self.engine
        if isinstance(request, Exec) and not request.done:
            engine.resume(request.activity)
            request.host.exec_resumed(request.activity)
        elif isinstance(request, Comm) and request.activity is not None and not request.done:
            others = (request.sender, request.receiver)
            if not any(other is not None and other is not actor and other.suspended for other in others):
                engine.resume(request.activity)

    def kill_actor(self, actor: Actor) -> None:
        """End the actor now: its activity is cancelled; a peer of its communication gets an error."""
        if actor.finished:
            return
        request = actor.waiting
        if isinstance(request, Exec) and not request.done:
            self.engine.cancel(request.activity)
            request.host.exec_ended(request.activity)
        elif isinstance(request, Sleep) and request.timer is not None:
            request.timer.cancel()
        elif isinstance(request, Comm) and not request.done:
            if request.activity is not None:
                self.engine.cancel(request.activity)
            box = self.mailboxes.get(request.mailbox)
            if box is not None:
                for queue in (box.sends, box.receives):
                    if request in queue:
                        queue.remove(request)
            request.fail(SimulationError(f"the peer of a communication on mailbox {request.mailbox!r} was killed"))
        if actor._generator is not None:
            actor._generator.close()
        self._end_actor(actor, killed=True)

    # -- activities (called through Actor) ------------------------------------------------------------------
    def start_exec(
        self,
        host: Host,
        flops: Flops,
        *,
        priority: float = 1.0,
        bound: FlopsPerSecond = math.inf,
        name: str = "exec",
    ) -> Exec:
        if not flops >= 0 or math.isinf(flops):
            raise ValueError(f"an amount of flops must be finite and non-negative, got {flops!r}")
        activity = execution(name, host.cpu, host.core_speed, flops, priority=priority, bound=bound)
        request = Exec(host, activity)
        engine = self.engine

        def done(act: Activity) -> None:
            request.host.exec_ended(act)
            if engine.traced:
                engine.emit(events.ExecEnded(engine.now, name, request.host.name, flops))
            request.finish(act.amount)

        activity.on_done = done
        if engine.traced:
            engine.emit(events.ExecStarted(engine.now, name, host.name, flops))
        engine.start(activity)
        host.exec_started(activity)
        return request

    def start_sleep(self, duration: Seconds) -> Sleep:
        if not duration >= 0:
            raise ValueError(f"a sleep duration must be non-negative, got {duration!r}")
        request = Sleep(duration)
        request.timer = self.engine.schedule(duration, request.finish)
        return request

    def mailbox(self, name: str) -> Mailbox:
        box = self.mailboxes.get(name)
        if box is None:
            box = self.mailboxes[name] = Mailbox(name)
        return box

    def post_send(self, actor: Actor, mailbox: str, size: Bytes, payload: Any, rate: BytesPerSecond) -> Comm:
        box = self.mailbox(mailbox)
        if box.receives:
            comm = box.receives.popleft()
            comm.size, comm.payload, comm.rate = size, payload, rate
        else:
            comm = Comm(mailbox, size, payload, rate)
            box.sends.append(comm)
        comm.sender = actor
        if comm.receiver is not None:
            self._start_transfer(comm)
        return comm

    def post_recv(self, actor: Actor, mailbox: str) -> Comm:
        box = self.mailbox(mailbox)
        comm = box.sends.popleft() if box.sends else None
        if comm is None:
            comm = Comm(mailbox, 0.0, None, math.inf)
            box.receives.append(comm)
        comm.receiver = actor
        if comm.sender is not None:
            self._start_transfer(comm)
        return comm

    def transfer(
        self, src: str, dst: str, size: Bytes, *, rate: BytesPerSecond = math.inf, name: str = "transfer",
        on_done: Callable[[Activity], None] | None = None,
    ) -> Activity:
        """Start a transfer of ``size`` bytes between two physical hosts (latency first); return its activity."""
        shape = self.network.shape(src, dst)
        activity = Activity(
            name, size, shape.uses, penalty=shape.penalty, bound=min(shape.bound, rate), on_done=on_done
        )
        engine = self.engine
        if shape.latency > 0:
            engine.schedule(shape.latency, lambda: None if activity.done else engine.start(activity))
        else:
            engine.start(activity)
        return activity

    def _start_transfer(self, comm: Comm) -> None:
        sender, receiver = comm.sender, comm.receiver
        assert sender is not None and receiver is not None
        src, dst = sender.host.pm_name, receiver.host.pm_name
        value = comm.payload if comm.payload is not None else comm.size
        engine = self.engine
        record = None
        if engine.traced:
            record = (comm.mailbox, src, dst, comm.size, sender.name, receiver.name)
            engine.emit(events.CommStarted(engine.now, *record))

        def done(_: Activity) -> None:
            if record is not None:
                engine.emit(events.CommEnded(engine.now, *record))
            comm.finish(value)

        comm.activity = self.transfer(src, dst, comm.size, rate=comm.rate, name=comm.mailbox, on_done=done)
        if sender.suspended or receiver.suspended:
            engine.suspend(comm.activity)


def _runs(vm: VirtualMachine) -> bool:
    return vm.state in (VmState.RUNNING, VmState.MIGRATING) and not vm.frozen


def _resumer(sim: Simulation, actor: Actor) -> Callable[[Request], None]:
    return lambda request: sim._wake(actor, request)


def _waits_on(sim: Simulation, actor: Actor) -> str:
    if actor._generator is None:
        host = actor.host
        if host is None:
            return f"VM {actor.placement!r}, which was never created"
        if isinstance(host, VirtualMachine):
            return f"the start of VM {host.name!r} (state {host.state.value})"
        return "its start"
    return actor.waiting.describe() if actor.waiting is not None else "nothing"
