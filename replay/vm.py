"""Virtual machines: a host placed on a PM, owning its lifecycle and SimGrid's two-level CPU sharing (VM_HL13).

Sharing is two solves, not special cases. On its PM a running VM is one variable of the PM's CPU with

* sharing penalty ``1 / min(n, cores)``, where ``n`` counts the executions running inside (0 when idle: an idle
  VM takes no share),
* bound ``min(min(n, cores) x PM core speed, user bound)``.

The rate this variable gets becomes the capacity of the VM's own CPU (a resource of layer 1), which the VM's
executions share as on any host, each bounded by one core. So a 1-vCPU VM with two tasks on a 1-core PM next
to a task on the PM gets half the PM, and each of its tasks a quarter.

The VM owns its state (:mod:`replay.lifecycle`): every operation is a method here, checked against the
transition table and traced in :meth:`VirtualMachine.transition`. ``shutdown`` powers the VM off back to CREATED
(it may be started again) and kills its residents; ``destroy`` removes it for good (shutting it down first).
``save`` and ``restore`` freeze and thaw the VM; they take no time unless the PM has a disk bandwidth, in which
case the VM's RAM is written (or read) as an activity on the PM's disk, shared with the other saves and restores
of that PM. Starting a VM checks memory only when its PM has a RAM size: the RAM of the VMs resident on the PM
(running, migrating in, suspended, saving or restoring) plus the new one must fit, unless the PM allows
overcommit.

A live migration (:mod:`replay.migration`) drives the VM through a narrow interface: :meth:`begin_migration`,
dirty-page tracking (:meth:`start_dirty_tracking`, :meth:`lookup_dirty_flops`, :meth:`stop_dirty_tracking`, as
SimGrid's ``sg_vm_*_dirty_page_tracking``), :meth:`freeze`, :meth:`move_to`, :meth:`thaw` and
:meth:`end_migration`. The VM knows the migration only as something it can abort.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from replay import events
from replay.cpu import cpu_resource
from replay.engine import Activity, Engine
from replay.errors import ActivityFailed, StateError
from replay.hosts import ComputeHost, PhysicalHost
from replay.lifecycle import RESIDENT, VmOperation, VmState, next_state
from replay.process import Request, Wait
from replay.units import Bytes, BytesPerSecond, FlopsPerSecond, Seconds

Op = VmOperation


@dataclass(frozen=True, slots=True)
class VmConfig:
    """What a VM is made of: the one definition of every VM parameter and its default.

    ``ramsize`` defaults to 1 GiB (SimGrid's s4u default, 1024 bytes, is a placeholder that makes migrations
    free); ``bound`` caps the VM's CPU (``inf``: none). The live-migration parameters: ``dp_intensity`` (fraction
    of ``mig_speed`` dirtied per second of full-speed computation), ``working_set`` (the dirty-page cap; None:
    90 % of the RAM, as SimGrid's plugin assumes), ``mig_speed`` (bytes/s, 0: uncapped), ``max_downtime`` (the
    tolerated downtime, 30 ms as in SimGrid); and the 2013 model's ``devsize`` (device state, bytes),
    ``skip_stage1``, ``skip_stage2``, ``xfer_cpu_overhead`` and ``dpt_cpu_overhead`` (flops per byte received,
    per byte dirtied), all 0 / off by default.
    """

    cores: int = 1
    ramsize: Bytes = float(1 << 30)
    bound: FlopsPerSecond = math.inf
    dp_intensity: float = 0.0
    working_set: Bytes | None = None
    mig_speed: BytesPerSecond = 0.0
    max_downtime: Seconds = 0.03
    devsize: Bytes = 0.0
    skip_stage1: bool = False
    skip_stage2: bool = False
    xfer_cpu_overhead: float = 0.0
    dpt_cpu_overhead: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.cores, int) or self.cores < 1:
            raise ValueError(f"a VM needs at least one core, got {self.cores}")
        if not self.bound > 0:
            raise ValueError(f"a bound must be positive, got {self.bound!r}")
        if not self.max_downtime > 0:
            raise ValueError(f"max_downtime must be positive, got {self.max_downtime!r}")
        if not 0.0 <= self.dp_intensity <= 1.0:
            raise ValueError(f"dp_intensity must be in [0, 1], got {self.dp_intensity!r}")
        for name in ("ramsize", "mig_speed", "devsize", "xfer_cpu_overhead", "dpt_cpu_overhead"):
            value = getattr(self, name)
            if not 0.0 <= value < math.inf:
                raise ValueError(f"{name} must be finite and non-negative, got {value!r}")
        if self.working_set is not None and not 0.0 <= self.working_set <= self.ramsize:
            raise ValueError(f"working_set must be between 0 and ramsize, got {self.working_set!r}")
        # the overheads of a migration must be amounts a computation can have
        if not self.xfer_cpu_overhead * (self.ramsize + self.devsize) < math.inf:
            raise ValueError(f"xfer_cpu_overhead {self.xfer_cpu_overhead!r} x the bytes of a migration overflows")
        if not self.dpt_cpu_overhead * self.dirty_cap < math.inf:
            raise ValueError(f"dpt_cpu_overhead {self.dpt_cpu_overhead!r} x the working set overflows")

    @property
    def dirty_cap(self) -> Bytes:
        """The most bytes that can be dirtied between two lookups: ``working_set``, else 90 % of the RAM."""
        return 0.9 * self.ramsize if self.working_set is None else self.working_set


class VmListener(Protocol):
    """Told when a VM can take actors and when it is gone (the actor scheduler places actors on VMs)."""

    def vm_runs(self, vm: VirtualMachine) -> None: ...

    def vm_destroyed(self, vm: VirtualMachine) -> None: ...


class Abortable(Protocol):
    """Work under way on a VM that must stop when the VM is shut down or lost (its migration)."""

    def abort(self, message: str, *, lost: bool = False) -> None:
        """Stop; the issuer gets an error, or (``lost``: the VM went down with its PM) the report."""
        ...


class VirtualMachine(ComputeHost):
    """A VM: an execution host whose CPU is what its PM gives it. Create it with ``Simulation.create_vm``."""

    __slots__ = ("_dirty", "_frozen", "_io", "_listener", "_pm", "_properties", "config", "lost", "migration",
                 "share", "state", "user_bound")

    def __init__(
        self,
        engine: Engine,
        name: str,
        pm: PhysicalHost,
        config: VmConfig,
        *,
        listener: VmListener,
        properties: dict[str, str] | None = None,
    ) -> None:
        super().__init__(engine, name, cpu_resource(name, 0.0, 1, layer=1), pm.core_speed, config.cores)
        self._pm = pm
        self.config = config
        self.user_bound = config.bound
        self._properties = dict(properties) if properties else None
        self.state = VmState.CREATED
        self._listener = listener
        self._frozen = False
        #: the VM's variable on its PM (exists while the VM is powered on)
        self.share: Activity | None = None
        #: the live migration under way, if any
        self.migration: Abortable | None = None
        #: the disk write or read under way (save / restore) and the request its issuer waits on
        self._io: tuple[Activity, Wait] | None = None
        self._dirty: _DirtyPages | None = None
        #: why the VM was lost, if its PM went off under it
        self.lost = ""
        pm.guests[self] = None
        if engine.traced:
            engine.emit(events.VmCreated(engine.now, name, pm.name, config.cores, config.ramsize))

    def __repr__(self) -> str:
        return f"VirtualMachine({self.name!r} on {self.pm.name!r}, {self.state.value})"

    @property
    def pm(self) -> PhysicalHost:
        """The physical host the VM is on."""
        return self._pm

    @property
    def properties(self) -> dict[str, str]:
        """The VM's properties (made on first use: most VMs have none)."""
        if self._properties is None:
            self._properties = {}
        return self._properties

    @property
    def ramsize(self) -> Bytes:
        return self.config.ramsize

    @property
    def resident(self) -> bool:
        """Whether the VM holds memory on its PM."""
        return self.state in RESIDENT

    @property
    def frozen(self) -> bool:
        return self._frozen

    @property
    def runs(self) -> bool:
        return self.state in (VmState.RUNNING, VmState.MIGRATING) and not self._frozen

    def describe_start(self) -> str:
        return f"the start of VM {self.name!r} (state {self.state.value})"

    # -- the state machine -------------------------------------------------------------------------------------
    def check(self, operation: VmOperation) -> VmState:
        """The state ``operation`` leads to; a StateError naming the VM, the operation and the state if illegal
        (an :class:`ActivityFailed` if the VM was lost to a failure: that is an outcome of the run, not a
        mistake of the trace)."""
        if self.lost and self.state is VmState.DESTROYED:
            raise ActivityFailed(f"VM {self.name!r}: cannot {operation.value}: {self.lost}")
        return next_state(self.name, self.state, operation)

    def transition(self, operation: VmOperation) -> None:
        """Apply ``operation`` to the state and emit the change."""
        target = self.check(operation)
        old, self.state = self.state, target
        engine = self.engine
        if engine.traced:
            engine.emit(events.VmStateChanged(engine.now, self.name, self.pm.name, old, target, operation))

    def _refuse_issuer(self, issuer: Any, what: str) -> None:
        """An actor cannot suspend, save or shut down the VM it runs in: it would never come back."""
        if issuer is not None and issuer.host is self:
            raise StateError(f"VM {self.name!r}: actor {issuer.name!r} cannot {what} the VM it runs in")

    # -- the lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Power the VM on (CREATED to RUNNING): its actors start."""
        self.check(Op.START)
        if not self._pm.on:  # SimGrid's VmFailureException: the issuer fails
            raise ActivityFailed(f"VM {self.name!r}: cannot start on {self._pm.name!r}: the host is off")
        self._memory_check()
        self.transition(Op.START)
        self._power_on()
        self._listener.vm_runs(self)

    def suspend(self, issuer: Any = None) -> None:
        """Freeze everything inside; ``issuer`` is the actor asking (it may not run in the VM)."""
        self.check(Op.SUSPEND)
        self._refuse_issuer(issuer, "suspend")
        self.transition(Op.SUSPEND)
        self.freeze()

    def resume(self) -> None:
        self.transition(Op.RESUME)
        self.thaw()

    def save(self, issuer: Any = None) -> Request:
        """Freeze the VM and write its RAM to the PM's disk (instant without a disk bandwidth)."""
        self.check(Op.SAVE)
        self._refuse_issuer(issuer, "save")
        self.transition(Op.SAVE)
        self.freeze()

        def saved() -> None:
            self.transition(Op.SAVE_DONE)
            self._power_off()

        return self._disk_io("save", saved)

    def restore(self) -> Request:
        """Read the VM's RAM back from the PM's disk, then let it run again."""
        self.check(Op.RESTORE)
        self._memory_check()
        self.transition(Op.RESTORE)

        def restored() -> None:
            self.transition(Op.RESTORE_DONE)
            self._power_on()
            self.thaw()

        return self._disk_io("restore", restored)

    def shutdown(self, issuer: Any = None) -> None:
        """Power the VM off (back to CREATED): its actors are killed, a migration or save under way fails."""
        self.check(Op.SHUTDOWN)
        self._refuse_issuer(issuer, "shut down")
        self._abort_work("shut down")
        self._empty(f"VM {self.name!r} was shut down")
        self.transition(Op.SHUTDOWN)
        self._frozen = False
        self._power_off()

    def destroy(self, issuer: Any = None) -> None:
        """Remove the VM for good (shutting it down first if needed); a VM lost to a failure already is."""
        if self.lost and self.state is VmState.DESTROYED:
            return
        self.check(Op.DESTROY)
        if self.state is not VmState.CREATED:
            self.shutdown(issuer)
        self.transition(Op.DESTROY)
        self._remove()

    def pm_failed(self, cause: str) -> None:
        """Its PM went off: the VM is lost (DESTROYED), its actors killed, a migration or save under way ended."""
        if self.state is VmState.DESTROYED:
            return
        lost = f"VM {self.name!r} was lost: {cause}"
        self.lost = f"it was lost: {cause}"
        self._abort_work("lost", failure=lost)
        self._empty(lost)
        self._frozen = False
        self._power_off()
        self.transition(Op.DESTROY)
        self._remove()

    def _empty(self, cause: str) -> None:
        """Kill the actors inside for ``cause``, and stop the executions left (started asynchronously)."""
        for resident in list(self.residents):
            resident.kill(cause)
        for activity in list(self.cpu.activities):
            self.engine.cancel(activity)
            self.exec_ended(activity)

    def _remove(self) -> None:
        """The VM is DESTROYED: it leaves its PM, and actors waiting for it learn it is gone."""
        self._pm.guests.pop(self, None)
        self._listener.vm_destroyed(self)
        engine = self.engine
        if engine.traced:
            engine.emit(events.VmDestroyed(engine.now, self.name, self.pm.name))

    def set_bound(self, bound: FlopsPerSecond) -> None:
        """Cap the VM's total CPU rate (``inf``: no cap)."""
        if self.state is VmState.DESTROYED:
            raise StateError(f"VM {self.name!r}: cannot set bound in state DESTROYED")
        if not bound > 0:
            raise ValueError(f"VM {self.name!r}: a bound must be positive, got {bound!r}")
        self.user_bound = bound
        self._update_share()

    def _memory_check(self) -> None:
        """Refuse to run when the PM's memory would be exceeded (no check without a RAM size)."""
        fits, free, capacity = self._pm.ram_free(self.ramsize)
        if not fits:
            raise StateError(
                f"VM {self.name!r}: cannot start on {self.pm.name!r}: memory shortage "
                f"({self.ramsize:.0f} B needed, {free:.0f} B free of {capacity:.0f} B)"
            )

    def _disk_io(self, what: str, then: Callable[[], None]) -> Request:
        request = Wait(f"{what} of VM {self.name!r}")

        def done(_: Activity | None = None) -> None:
            if self.state in (VmState.SAVING, VmState.RESTORING):
                then()
                request.finish(None)

        if self._pm.disk_bandwidth is None:
            done()
        else:
            activity = Activity(f"{what}:{self.name}", self.ramsize, ((self._pm.disk, 1.0),), on_done=done)
            self._io = (activity, request)
            self.engine.start(activity)
        return request

    def _abort_work(self, why: str, *, failure: str = "") -> None:
        """End a save, restore or migration under way: the VM was shut down (``why``), or lost to a ``failure``
        (then the issuer of a save or restore gets an :class:`ActivityFailed`, that of a migration its report)."""
        if self._io is not None:
            activity, request = self._io
            self._io = None
            if not request.done:
                self.engine.cancel(activity)
                message = f"VM {self.name!r} was {why} during the {request.what}"
                request.fail(ActivityFailed(f"{message}: {failure}") if failure else StateError(message))
        if self.migration is not None:
            migration, self.migration = self.migration, None
            self._dirty = None
            message = f"VM {self.name!r} was {why} during its migration"
            migration.abort(failure or message, lost=bool(failure))

    # -- freezing and moving (the lifecycle's and the migration's) ----------------------------------------------
    def freeze(self) -> None:
        """Stop everything in the VM: its share of the PM and its residents' current activities."""
        self._frozen = True
        if self.share is not None:
            self.engine.suspend(self.share)
        for resident in list(self.residents):
            resident.suspend()

    def thaw(self) -> None:
        """Let everything in the VM go on; actors waiting for it to run come in."""
        self._frozen = False
        if self.share is not None:
            self.engine.resume(self.share)
        for resident in list(self.residents):
            resident.resume()
        if self.runs:
            self._listener.vm_runs(self)

    def move_to(self, dst: PhysicalHost) -> None:
        """Place the VM on ``dst`` at once: its share moves to the new PM, its executions go on inside it."""
        src = self._pm
        self._power_off()
        src.guests.pop(self, None)
        self._pm = dst
        dst.guests[self] = None
        self.core_speed = dst.core_speed
        self._power_on()
        engine = self.engine
        if engine.traced:
            engine.emit(events.VmMoved(engine.now, self.name, src.name, dst.name))

    # -- the migration's interface -----------------------------------------------------------------------------
    def check_migration(self, dst: PhysicalHost) -> None:
        """The errors SimGrid raises before a migration of this VM to ``dst`` starts."""
        if self.migration is not None:
            raise StateError(f"VM {self.name!r}: cannot migrate: it is already migrating")
        self.check(Op.MIGRATE)
        if dst is self._pm:
            raise StateError(f"VM {self.name!r}: cannot migrate to {dst.name!r}: it is already there")
        if not dst.on:  # SimGrid's VmFailureException: the issuer fails
            raise ActivityFailed(f"VM {self.name!r}: cannot migrate to {dst.name!r}: the host is off")

    def begin_migration(self, migration: Abortable) -> None:
        """RUNNING to MIGRATING, with ``migration`` as the work to abort if the VM is shut down meanwhile."""
        self.transition(Op.MIGRATE)
        self.migration = migration

    def end_migration(self) -> None:
        """The migration is over, moved or not: the VM runs (again) on its PM."""
        self.migration = None
        self._dirty = None
        if self.state is VmState.MIGRATING:
            if self._frozen:
                self.thaw()
            self.transition(Op.MIGRATE_DONE)

    def start_dirty_tracking(self) -> None:
        """Count the flops computed inside from now on (each page they dirty must be sent again)."""
        self._dirty = _DirtyPages(self.engine, self.cpu.activities)

    def lookup_dirty_flops(self) -> float:
        """Flops computed inside since tracking started or since the previous lookup."""
        assert self._dirty is not None, f"VM {self.name!r}: dirty-page tracking is off"
        return self._dirty.lookup()

    def stop_dirty_tracking(self) -> None:
        self._dirty = None

    # -- CPU sharing -------------------------------------------------------------------------------------------
    def _power_on(self) -> None:
        """Create the VM's variable on its PM (at start, restore and after a move)."""
        engine = self.engine
        self.share = Activity(
            f"{self.name}@{self.pm.name}", math.inf, self.pm.on_cpu, penalty=0.0, bound=0.0, on_rate=_pass_rate
        )
        self.share.meta = self
        engine.start(self.share)
        if self._frozen:
            engine.suspend(self.share)
        self._update_share()

    def _power_off(self) -> None:
        if self.share is not None:
            self.engine.cancel(self.share)
            self.share = None
        self.engine.set_capacity(self.cpu, 0.0)

    def _update_share(self) -> None:
        """Apply VM_HL13: penalty ``1 / min(n, cores)``, bound ``min(n, cores) x speed`` and the user bound."""
        if self.share is None:
            return
        n = self.running_execs()
        engine = self.engine
        speed = self.pm.core_speed
        # n = 1, the common case, makes no new float (the share keeps its bound and penalty: 48 bytes a VM)
        engine.set_bound(self.share, min(speed if n == 1 else n * speed, self.user_bound))
        engine.set_penalty(self.share, 1.0 if n == 1 else 1.0 / n if n else 0.0)

    def pm_speed_changed(self) -> None:
        """The PM's core speed changed: the vCPUs follow, and the share's bound with them."""
        self.set_core_speed(self._pm.core_speed)
        self._update_share()

    def exec_started(self, activity: Activity) -> None:
        if self._dirty is not None:
            self._dirty.started(activity)
        self.exec_resumed(activity)

    def exec_ended(self, activity: Activity) -> None:
        if self._dirty is not None:
            self._dirty.ended(activity)
        self.exec_paused(activity)

    def exec_paused(self, activity: Activity) -> None:
        self._update_share()

    def exec_resumed(self, activity: Activity) -> None:
        self._update_share()

    def running_execs(self) -> int:
        """The ``n`` of the sharing rule, counted up to the vCPUs: the executions running inside, not suspended
        (the activities of the VM's CPU, which are its executions; counted rather than kept in a set of their
        own, which would cost every VM 224 bytes)."""
        n = 0
        cores = self.cores
        for activity in self.cpu.activities:
            if not activity.suspended:
                n += 1
                if n == cores:
                    break
        return n


def _pass_rate(share: Activity) -> None:
    """A VM share's ``on_rate``: the rate its PM gives the VM is the capacity of the VM's CPU. One function for
    every VM (its ``meta``), rather than a bound method (64 bytes) per VM."""
    vm: VirtualMachine = share.meta
    vm.engine.set_capacity(vm.cpu, share.rate)


class _DirtyPages:
    """Counts the flops the VM's executions compute between two lookups (SimGrid's dirty-page tracking)."""

    def __init__(self, engine: Engine, running: Iterable[Activity]) -> None:
        self.engine = engine
        self.seen: dict[Activity, float] = {a: engine.remaining(a) for a in running}
        self.by_ended = 0.0

    def started(self, activity: Activity) -> None:
        self.seen[activity] = activity.amount

    def ended(self, activity: Activity) -> None:
        """An execution completed (or was cancelled) since the last lookup: keep what it computed."""
        if activity in self.seen:
            self.by_ended += self.seen.pop(activity) - activity.remaining

    def lookup(self) -> float:
        total = self.by_ended
        for activity in self.seen:
            now = self.engine.remaining(activity)
            total += self.seen[activity] - now
            self.seen[activity] = now
        self.by_ended = 0.0
        return total
