"""Where work runs: the execution host that PMs and VMs both are, the physical host, and its executions.

A :class:`ComputeHost` has a CPU (a resource of the sharing problem), a core speed, the actors living on it (its
*residents*) and the executions running on it. A :class:`PhysicalHost` is a machine of the platform; a VM
(:mod:`replay.vm`) is the other kind, whose CPU is what its PM gives it. The host owns its executions: it starts
them, and a VM overrides the hooks below to count them (its share of the PM depends on how many run) and to
track the pages they dirty during a migration.

Residents are whatever lives on a host and must follow its fate, described by the :class:`Resident` protocol:
the actors of :mod:`replay.actors`, suspended when their VM freezes and killed when it shuts down. The host
knows them only through that protocol, so this module knows nothing of actors.
"""

from __future__ import annotations

import math
from typing import Protocol

from replay import events
from replay.cpu import cpu_resource, execution, on_cpu
from replay.engine import Activity, Engine, Resource
from replay.errors import ActivityFailed
from replay.events import ResourceKind
from replay.platform import Host
from replay.process import Request
from replay.units import Bytes, BytesPerSecond, Flops, FlopsPerSecond, Seconds

#: Residents a host keeps in a tuple; from this many on, in a dict (see ``ComputeHost.residents``).
FEW_RESIDENTS = 8


class Resident(Protocol):
    """Something living on a host (an actor): frozen, thawed and killed with it."""

    def suspend(self) -> None: ...

    def resume(self) -> None: ...

    def kill(self, cause: str) -> None: ...


class Guest(Protocol):
    """A VM as its PM sees it, for memory accounting."""

    name: str
    ramsize: Bytes

    @property
    def resident(self) -> bool:
        """Whether the VM holds memory on its PM now."""
        ...

    def pm_speed_changed(self) -> None:
        """Its PM's core speed changed (a power state): its own CPU follows."""
        ...

    def pm_failed(self, cause: str) -> None:
        """Its PM went off: the VM is destroyed, its actors killed."""
        ...


class ComputeHost:
    """A place where executions run and actors live (a PM or a VM).

    Slotted, as are its kinds: a run may hold a million VMs, and a ``__dict__`` would cost each one more.
    """

    __slots__ = ("core_speed", "cores", "cpu", "demand_flops", "engine", "name", "on_cpu", "residents",
                 "served_flops", "user_bounds")

    def __init__(self, engine: Engine, name: str, cpu: Resource, core_speed: FlopsPerSecond, cores: int) -> None:
        self.engine = engine
        self.name = name
        self.cpu = cpu
        #: what an execution here uses (:func:`~replay.cpu.on_cpu`), shared by all of them
        self.on_cpu = on_cpu(cpu)
        self.core_speed = core_speed
        self.cores = cores
        #: the actors living here (started and not finished), in the order they arrived: a tuple while they are few
        #: (48 bytes for one, where a dict costs 224 even for one, and a VM mostly holds one or two), a dict from
        #: ``FEW_RESIDENTS`` on, so that many come and go at no cost per resident (see :meth:`add_resident`)
        self.residents: tuple[Resident, ...] | dict[Resident, None] = ()
        #: the executions given a bound of their own (below a core's speed or not), kept for speed changes; made
        #: on first use (most hosts never see one)
        self.user_bounds: dict[Activity, FlopsPerSecond] | None = None
        #: what the ``load`` actions here asked and got, in flops (see :meth:`load`)
        self.demand_flops = 0.0
        self.served_flops = 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    @property
    def pm(self) -> PhysicalHost:
        """The physical host whose network position this host has."""
        raise NotImplementedError

    @property
    def runs(self) -> bool:
        """Whether actors can run here now."""
        return True

    @property
    def frozen(self) -> bool:
        """Whether everything here is stopped (a suspended or saved VM, a VM in stop-and-copy)."""
        return False

    def describe_start(self) -> str:
        """What an actor placed here waits for before it can start, for a deadlock report."""
        return "its start"

    def execute(
        self, flops: Flops, *, priority: float = 1.0, bound: FlopsPerSecond = math.inf, name: str = "exec"
    ) -> Exec:
        """Compute ``flops`` here, on one core at most; ``priority`` is SimGrid's share weight."""
        if not flops >= 0 or math.isinf(flops):
            raise ValueError(f"an amount of flops must be finite and non-negative, got {flops!r}")
        activity = execution(name, self.on_cpu, self.core_speed, flops, priority=priority, bound=bound,
                             on_done=_exec_done)
        if bound < math.inf:
            self.keep_bound(activity, bound)
        request = Exec(self, activity)
        activity.meta = request
        engine = self.engine
        if engine.traced:
            engine.emit(events.ExecStarted(engine.now, name, self.name, flops))
        engine.start(activity)
        self.exec_started(activity)
        return request

    def load(self, fraction: float, duration: Seconds, *, name: str = "load") -> Load:
        """Ask ``fraction`` of this host's capacity (its vCPUs, or cores, x its core speed) for ``duration``
        seconds, whatever it gets: one execution per vCPU, each bounded by ``fraction`` x the core speed, sharing
        the host as executions do; at the end of the interval they stop, and the request's value is the flops they
        computed (demand-driven, as CloudSim's utilization models: what is not served is lost)."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"a load is a fraction of the capacity, from 0 to 1, got {fraction!r}")
        _check_duration(duration)
        rate = fraction * self.core_speed
        return Load(self, rate, rate * self.cores * duration, duration, name)

    def load_rate(self, rate: FlopsPerSecond, duration: Seconds, *, name: str = "load") -> Load:
        """Ask ``rate`` flop/s for the whole host (a demand that does not depend on where a VM runs: a dataset's
        MIPS) for ``duration`` seconds: as :meth:`load`, one execution per vCPU, each bounded by ``rate / cores``
        and by a core's speed; the demand counted is ``rate x duration``, so what the cores cannot give is
        unserved."""
        if not 0.0 <= rate < math.inf:
            raise ValueError(f"a load's rate must be a finite number of flop/s >= 0, got {rate!r}")
        _check_duration(duration)
        return Load(self, rate / self.cores, rate * duration, duration, name, absolute=True)

    def set_core_speed(self, speed: FlopsPerSecond) -> None:
        """Each core now computes ``speed`` flop/s: every execution's bound follows (one core, or its own bound if
        lower), as SimGrid's ``CpuCas01::on_speed_change`` does."""
        self.core_speed = speed
        engine = self.engine
        user_bounds = self.user_bounds or {}
        for activity in self.cpu.activities:
            if activity.on_rate is None:  # an execution, not a VM's share of its PM
                engine.set_bound(activity, min(speed, user_bounds.get(activity, math.inf)))

    def add_resident(self, resident: Resident) -> None:
        """``resident`` lives here from now on (it keeps its place if it already did)."""
        residents = self.residents
        if type(residents) is tuple:
            if resident in residents:
                return
            if len(residents) < FEW_RESIDENTS:
                self.residents = (*residents, resident)
                return
            residents = self.residents = dict.fromkeys(residents)
        residents[resident] = None

    def remove_resident(self, resident: Resident) -> None:
        """``resident`` lives here no more (if it did)."""
        residents = self.residents
        if type(residents) is dict:
            residents.pop(resident, None)
        elif resident in residents:
            self.residents = tuple(other for other in residents if other is not resident)

    def keep_bound(self, activity: Activity, bound: FlopsPerSecond) -> None:
        """``activity``, an execution here, has a bound of its own (kept across speed changes)."""
        if self.user_bounds is None:
            self.user_bounds = {}
        self.user_bounds[activity] = bound

    def forget_bound(self, activity: Activity) -> None:
        """``activity`` runs here no more: forget its bound, if it had one."""
        if self.user_bounds:
            self.user_bounds.pop(activity, None)

    # -- hooks: what a VM does about its executions (nothing on a PM) -------------------------------------------
    def exec_started(self, activity: Activity) -> None:
        """A new execution runs here."""

    def exec_ended(self, activity: Activity) -> None:
        """An execution completed or was cancelled."""

    def exec_paused(self, activity: Activity) -> None:
        """An execution was suspended (its actor froze)."""

    def exec_resumed(self, activity: Activity) -> None:
        """A suspended execution runs again."""


def _exec_done(activity: Activity) -> None:
    """An execution's ``on_done``: one function for all, its request being the activity's ``meta`` (a bound
    method per execution would cost 64 bytes more). The request and the activity refer to each other: the done
    activity lets go of it, so that both are freed at once rather than by the next cyclic collection."""
    request: Exec = activity.meta
    activity.meta = None
    request.completed(activity)


def _check_duration(duration: Seconds) -> None:
    if not 0.0 <= duration < math.inf:
        raise ValueError(f"a load's duration must be a finite number of seconds >= 0, got {duration!r}")


class Exec(Request):
    """A computation on a host; its value is the number of flops computed."""

    __slots__ = ("activity", "host")

    def __init__(self, host: ComputeHost, activity: Activity) -> None:
        super().__init__()
        self.host = host
        self.activity = activity

    @property
    def name(self) -> str:
        """The name of the execution (its actor's): its activity's."""
        return self.activity.name

    def describe(self) -> str:
        return f"execute({self.activity.amount:g} flops) on {self.host.name}"

    def completed(self, activity: Activity) -> None:
        host, engine = self.host, self.host.engine
        host.forget_bound(activity)
        host.exec_ended(activity)
        if engine.traced:
            engine.emit(events.ExecEnded(engine.now, self.name, host.name, activity.amount))
        self.finish(activity.amount)

    def pause(self, waiter: object) -> None:
        if not self.done:
            self.host.engine.suspend(self.activity)
            self.host.exec_paused(self.activity)

    def unpause(self, waiter: object) -> None:
        if not self.done:
            self.host.engine.resume(self.activity)
            self.host.exec_resumed(self.activity)

    def cancel(self) -> None:
        if not self.done:
            self.host.engine.cancel(self.activity)
            self.host.forget_bound(self.activity)
            self.host.exec_ended(self.activity)


class Load(Request):
    """A ``load``: its executions (none for a rate of 0) and the timer that ends them; value: the flops served.

    ``rate`` is the bound of each execution (one per vCPU), ``demand`` the flops the whole load asks. Each
    execution may compute twice its share of the demand, so that none completes before the timer, whatever the
    rounding; an execution is bounded by its share of the demand per second, so it cannot do more anyway. The
    bound is a user bound of the host: a change of core speed keeps it (capped by the new speed), as SimGrid
    keeps an execution's bound.
    """

    __slots__ = ("absolute", "activities", "demand", "host", "rate", "started", "timer")

    def __init__(self, host: ComputeHost, rate: FlopsPerSecond, demand: Flops, duration: Seconds, name: str, *,
                 absolute: bool = False) -> None:
        super().__init__()
        self.host = host
        engine = host.engine
        self.started = engine.now
        self.rate = rate  # per vCPU
        self.demand = demand
        self.absolute = absolute
        self.activities: list[Activity] = []
        if self.rate > 0:
            for _ in range(host.cores):
                activity = execution(name, host.on_cpu, host.core_speed, 2.0 * self.rate * duration, bound=self.rate)
                host.keep_bound(activity, self.rate)
                engine.start(activity)
                host.exec_started(activity)
                self.activities.append(activity)
        self.timer = engine.schedule(duration, self._end)

    def describe(self) -> str:
        if self.absolute:
            return f"load({self.rate * self.host.cores:g} flop/s) on {self.host.name}"
        return f"load({self.rate / self.host.core_speed if self.host.core_speed else 0:g}) on {self.host.name}"

    def _stop(self) -> float:
        """Stop the executions; the flops they computed."""
        host, engine = self.host, self.host.engine
        served = 0.0
        for activity in self.activities:
            served += engine.done_work(activity)
            engine.cancel(activity)
            host.forget_bound(activity)
            host.exec_ended(activity)
        self.activities = []
        return served

    def _end(self) -> None:
        served = self._stop()
        self.host.demand_flops += self.demand
        self.host.served_flops += served
        self.finish(served)

    def cancel(self) -> None:
        """Its actor was killed: the load stops now; the demand counted is that of the time it lasted."""
        if self.done:
            return
        self.timer.cancel()
        host = self.host
        elapsed = host.engine.now - self.started
        duration = self.timer.time - self.started
        host.demand_flops += self.demand * (elapsed / duration if duration > 0 else 1.0)
        host.served_flops += self._stop()
        self.done = True


class PhysicalHost(ComputeHost):
    """A machine of the platform: its CPU, its disk (for saves and restores), its memory and the VMs on it."""

    __slots__ = ("_disk", "booting", "guests", "on", "pstate", "ratio", "spec")

    def __init__(self, engine: Engine, spec: Host) -> None:
        super().__init__(engine, spec.name, cpu_resource(spec.name, spec.speed, spec.cores), spec.speed, spec.cores)
        self.spec = spec
        #: the VMs placed here, in the order they arrived
        self.guests: dict[Guest, None] = {}
        self._disk: Resource | None = None
        #: the power state: its speed is ``spec.pstate_speeds[pstate]``
        self.pstate = spec.pstate
        #: the availability (a ``speed_file`` profile): each core computes ``ratio x`` its power state's speed
        self.ratio = 1.0
        #: False while the host is off (no actor, no VM, no execution; it draws ``wattage_off``)
        self.on = True
        #: True while it boots, off, after a policy switched it on (it draws ``wattage_boot``)
        self.booting = False

    @property
    def pstate_count(self) -> int:
        return max(len(self.spec.pstate_speeds), 1)

    @property
    def peak_speed(self) -> FlopsPerSecond:
        """The speed of one core in the current power state, availability aside (SimGrid's ``Host::get_speed``)."""
        return self.spec.pstate_speeds[self.pstate] if self.spec.pstate_speeds else self.spec.speed

    def set_pstate(self, index: int) -> None:
        """Switch to power state ``index`` (SimGrid's ``Host::set_pstate``): every core computes at that state's
        speed from now on, for the executions here and in the VMs here, and the host draws that state's watts."""
        if not 0 <= index < self.pstate_count:
            raise ValueError(f"host {self.name!r} has no power state {index}: it has {self.pstate_count}, numbered "
                             "from 0")
        self.pstate = index
        self._speed_changed()
        engine = self.engine
        if engine.traced:
            engine.emit(events.PstateChanged(engine.now, self.name, index, self.peak_speed))

    def set_ratio(self, ratio: float) -> None:
        """Each core now computes ``ratio`` x its power state's speed (a ``speed_file`` value, SimGrid's speed
        scale): for the executions here and in the VMs here; the watts follow the load, not the ratio."""
        if not ratio >= 0 or ratio == math.inf:
            raise ValueError(f"host {self.name!r}: a speed ratio must be a finite number >= 0, got {ratio!r}")
        self.ratio = ratio
        self._speed_changed()
        engine = self.engine
        if engine.traced:
            engine.emit(events.HostSpeedChanged(engine.now, self.name, ratio, self.core_speed))

    def _speed_changed(self) -> None:
        speed = self.peak_speed * self.ratio
        if self.on:
            self.engine.set_capacity(self.cpu, speed * self.cores)
        self.engine.touch(self.cpu)  # re-solved even at the same speed: an energy meter reads the new watts then
        self.set_core_speed(speed)
        for guest in self.guests:
            guest.pm_speed_changed()

    def turn_off(self, cause: str) -> None:
        """Go off (SimGrid's ``Host::turn_off``): the actors here are killed, the VMs here destroyed (their actors
        killed), the executions left fail; the host computes nothing until :meth:`turn_on`. ``cause`` says why."""
        if not self.on:
            return
        self.on = False
        for resident in list(self.residents):
            resident.kill(cause)
        for guest in list(self.guests):
            guest.pm_failed(cause)
        engine = self.engine
        for activity in list(self.cpu.activities):  # executions nobody waits on any more
            engine.cancel(activity)
            self.forget_bound(activity)
            if isinstance(activity.meta, Exec):
                activity.meta.fail(ActivityFailed(f"execution on {self.name!r} failed: {cause}"))
        engine.set_capacity(self.cpu, 0.0)
        engine.touch(self.cpu)
        if engine.traced:
            engine.emit(events.HostStateChanged(engine.now, self.name, False, cause))

    def boot(self) -> None:
        """Begin to boot (off until :meth:`turn_on`, drawing ``wattage_boot``): a policy switched it on."""
        if self.on or self.booting:
            return
        self.booting = True
        engine = self.engine
        engine.touch(self.cpu)  # an energy meter reads the boot watts
        if engine.traced:
            engine.emit(events.HostBooting(engine.now, self.name, engine.now + self.spec.boot_delay))

    def turn_on(self) -> None:
        """Come back on, empty (SimGrid's ``Host::turn_on``), at the speed of its power state and availability."""
        if self.on:
            return
        self.on = True
        self.booting = False
        engine = self.engine
        engine.set_capacity(self.cpu, self.core_speed * self.cores)
        engine.touch(self.cpu)
        if engine.traced:
            engine.emit(events.HostStateChanged(engine.now, self.name, True))

    @property
    def pm(self) -> PhysicalHost:
        return self

    @property
    def disk_bandwidth(self) -> BytesPerSecond | None:
        """The platform's ``disk_bandwidth`` of the host (None: saves and restores take no time)."""
        return self.spec.disk_bandwidth

    @property
    def disk(self) -> Resource:
        """The disk, shared by the saves and restores of the VMs here (only for a host with a disk bandwidth)."""
        if self._disk is None:
            bandwidth = self.spec.disk_bandwidth
            assert bandwidth is not None, f"host {self.name!r} has no disk_bandwidth"
            self._disk = Resource(self.name, bandwidth, kind=ResourceKind.DISK)
        return self._disk

    def ram_free(self, extra: Bytes) -> tuple[bool, Bytes, Bytes]:
        """Whether ``extra`` bytes more fit in memory; with the free bytes and the capacity (``inf``: no limit).

        Memory is checked only for a host with a ``ramsize``, and not when it allows ``overcommit``.
        """
        capacity = self.spec.ramsize
        if capacity is None or self.spec.overcommit:
            return True, math.inf, math.inf
        used = sum(guest.ramsize for guest in self.guests if guest.resident)
        return used + extra <= capacity, max(capacity - used, 0.0), capacity
