"""Virtual machines: a host placed on a PM, with its lifecycle and SimGrid's two-level CPU sharing (VM_HL13).

Sharing is two solves, not special cases. On its PM a running VM is one variable of the PM's CPU with

* sharing penalty ``1 / min(n, cores)``, where ``n`` counts the executions running inside (0 when idle: an idle
  VM takes no share),
* bound ``min(min(n, cores) x PM core speed, user bound)``.

The rate this variable gets becomes the capacity of the VM's own CPU (a resource of layer 1), which the VM's
executions share as on any host, each bounded by one core. So a 1-vCPU VM with two tasks on a 1-core PM next
to a task on the PM gets half the PM, and each of its tasks a quarter.

States and operations follow the 2013 hypervisor model (the ``TRANSITIONS`` table below): ``shutdown`` powers
the VM off back to CREATED (it may be started again) and kills its actors; ``destroy`` removes it for good
(shutting it down first). ``save`` and ``restore`` freeze and thaw the VM; they take no time unless the PM has a
``disk_bandwidth`` property (a SimGrid bandwidth such as ``200MBps``), in which case the VM's RAM is written
(or read) as an activity on the PM's disk, shared with the other saves and restores of that PM. Starting a VM
checks memory only when its PM has a ``ramsize`` property: the RAM of the VMs resident on the PM (running,
migrating in, suspended, saving or restoring) plus the new one must fit, unless the PM property ``overcommit``
is ``true``.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from replay import events
from replay.cpu import cpu_resource
from replay.engine import Activity, Resource
from replay.errors import StateError
from replay.units import Bytes, BytesPerSecond, FlopsPerSecond, Seconds, parse_bandwidth, parse_size

if TYPE_CHECKING:
    from replay.simulation import ExecHost, Simulation

#: SimGrid's default VM memory: 1 GiB.
DEFAULT_RAMSIZE: Bytes = 1024.0 * 1024 * 1024


class VmState(enum.Enum):
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    MIGRATING = "MIGRATING"
    SUSPENDED = "SUSPENDED"
    SAVING = "SAVING"
    SAVED = "SAVED"
    RESTORING = "RESTORING"
    DESTROYED = "DESTROYED"


S = VmState
_ALIVE = frozenset(s for s in VmState if s is not S.DESTROYED)

#: operation -> (states it is legal in, state it leads to). Operations ending in ``_done`` are internal.
TRANSITIONS: dict[str, tuple[frozenset[VmState], VmState]] = {
    "start": (frozenset({S.CREATED}), S.RUNNING),
    "suspend": (frozenset({S.RUNNING}), S.SUSPENDED),
    "resume": (frozenset({S.SUSPENDED}), S.RUNNING),
    "save": (frozenset({S.RUNNING}), S.SAVING),
    "save_done": (frozenset({S.SAVING}), S.SAVED),
    "restore": (frozenset({S.SAVED}), S.RESTORING),
    "restore_done": (frozenset({S.RESTORING}), S.RUNNING),
    "migrate": (frozenset({S.RUNNING}), S.MIGRATING),
    "migrate_done": (frozenset({S.MIGRATING}), S.RUNNING),
    "shutdown": (_ALIVE - {S.CREATED}, S.CREATED),
    "destroy": (_ALIVE, S.DESTROYED),
}

#: states in which the VM holds memory on its PM
RESIDENT = frozenset({S.RUNNING, S.MIGRATING, S.SUSPENDED, S.SAVING, S.RESTORING})


@dataclass(frozen=True, slots=True)
class MigrationParams:
    """Live-migration parameters of a VM (DESIGN section 5); all but ``max_downtime`` default to 0 / off.

    ``working_set`` of ``None`` means 90 % of the RAM, as SimGrid's plugin sets it.
    """

    dp_intensity: float = 0.0
    working_set: Bytes | None = None
    mig_speed: BytesPerSecond = 0.0
    max_downtime: Seconds = 0.03
    devsize: Bytes = 0.0
    skip_stage1: bool = False
    skip_stage2: bool = False
    xfer_cpu_overhead: float = 0.0
    dpt_cpu_overhead: float = 0.0


class VirtualMachine:
    """A VM: an execution host whose CPU is what its PM gives it. Create it with ``Simulation.create_vm``."""

    def __init__(
        self,
        sim: Simulation,
        name: str,
        pm: ExecHost,
        *,
        cores: int = 1,
        ramsize: Bytes = DEFAULT_RAMSIZE,
        bound: FlopsPerSecond = math.inf,
        params: MigrationParams | None = None,
        properties: dict[str, str] | None = None,
    ) -> None:
        if cores < 1:
            raise ValueError(f"VM {name!r}: a VM needs at least one core, got {cores}")
        self.sim = sim
        self.name = name
        self.pm = pm
        self.cores = cores
        self.ramsize = ramsize
        self.user_bound = bound
        self.params = params or MigrationParams()
        self.properties = dict(properties or {})
        self.state = VmState.CREATED
        self.core_speed = pm.core_speed
        self.cpu: Resource = cpu_resource(name, 0.0, 1, layer=1)
        self.cpu.capacity = 0.0
        #: the VM's variable on its PM (exists while the VM is powered on)
        self.share: Activity | None = None
        #: executions running inside (not suspended): the ``n`` of the sharing rule
        self.active_execs: dict[Activity, None] = {}
        self.frozen = False
        #: the live migration under way, if any (see :mod:`replay.migration`)
        self.migration: Any = None
        #: the disk write or read under way (save / restore) and the request its issuer waits on
        self.io: tuple[Activity, Any] | None = None

    def __repr__(self) -> str:
        return f"VirtualMachine({self.name!r} on {self.pm.name!r}, {self.state.value})"

    @property
    def pm_name(self) -> str:
        """The physical host whose network position the VM has."""
        return self.pm.name

    @property
    def working_set(self) -> Bytes:
        ws = self.params.working_set
        return 0.9 * self.ramsize if ws is None else ws

    # -- the state machine -------------------------------------------------------------------------------------
    def check(self, operation: str) -> VmState:
        """The state ``operation`` leads to; a StateError naming the VM, the operation and the state if illegal."""
        legal, target = TRANSITIONS[operation]
        if self.state not in legal:
            allowed = ", ".join(sorted(s.value for s in legal))
            raise StateError(
                f"VM {self.name!r}: cannot {operation.replace('_', ' ')} in state {self.state.value} "
                f"(allowed in {allowed})"
            )
        return target

    def transition(self, operation: str) -> None:
        """Apply ``operation`` to the state (after :meth:`check`) and emit the change."""
        target = self.check(operation)
        old, self.state = self.state, target
        engine = self.sim.engine
        if engine.traced:
            engine.emit(
                events.VmStateChanged(engine.now, self.name, self.pm.name, old.value, target.value, operation)
            )

    # -- CPU sharing -------------------------------------------------------------------------------------------
    def power_on(self) -> None:
        """Create the VM's variable on its PM (at start, restore and after a move)."""
        engine = self.sim.engine
        self.share = Activity(
            f"{self.name}@{self.pm.name}", math.inf, ((self.pm.cpu, 1.0),), penalty=0.0, bound=0.0,
            on_rate=self._pass_rate,
        )
        engine.start(self.share)
        if self.frozen:
            engine.suspend(self.share)
        self.update_share()

    def power_off(self) -> None:
        if self.share is not None:
            self.sim.engine.cancel(self.share)
            self.share = None
        self.sim.engine.set_capacity(self.cpu, 0.0)

    def update_share(self) -> None:
        """Apply VM_HL13: penalty ``1 / min(n, cores)``, bound ``min(n, cores) x speed`` and the user bound."""
        if self.share is None:
            return
        n = min(len(self.active_execs), self.cores)
        engine = self.sim.engine
        engine.set_bound(self.share, min(n * self.pm.core_speed, self.user_bound))
        engine.set_penalty(self.share, 1.0 / n if n else 0.0)

    def _pass_rate(self, share: Activity) -> None:
        self.sim.engine.set_capacity(self.cpu, share.rate)

    def exec_started(self, activity: Activity) -> None:
        """A new execution runs inside: it counts for the share, and for dirty pages during a migration."""
        tracker = self.migration.tracker if self.migration is not None else None
        if tracker is not None:
            tracker.started(activity)
        self.exec_resumed(activity)

    def exec_ended(self, activity: Activity) -> None:
        """An execution completed or was cancelled."""
        tracker = self.migration.tracker if self.migration is not None else None
        if tracker is not None:
            tracker.ended(activity)
        self.exec_paused(activity)

    def exec_paused(self, activity: Activity) -> None:
        if activity in self.active_execs:
            del self.active_execs[activity]
            self.update_share()

    def exec_resumed(self, activity: Activity) -> None:
        self.active_execs[activity] = None
        self.update_share()

    def set_bound(self, bound: FlopsPerSecond) -> None:
        """Cap the VM's total CPU rate (``inf``: no cap)."""
        if self.state is VmState.DESTROYED:
            raise StateError(f"VM {self.name!r}: cannot set bound in state DESTROYED")
        if not bound > 0:
            raise ValueError(f"VM {self.name!r}: a bound must be positive, got {bound!r}")
        self.user_bound = bound
        self.update_share()

    # -- disk (save / restore) ---------------------------------------------------------------------------------
    def disk_bandwidth(self) -> BytesPerSecond | None:
        """The PM's ``disk_bandwidth`` property, if any."""
        value = self.sim.platform.hosts[self.pm.name].properties.get("disk_bandwidth")
        if value is None:
            return None
        return parse_bandwidth(value, context=f"host {self.pm.name!r} property disk_bandwidth: ")

    def memory_check(self) -> None:
        """Refuse to start when the PM's ``ramsize`` property would be exceeded (no check without it)."""
        props = self.sim.platform.hosts[self.pm.name].properties
        if "ramsize" not in props or props.get("overcommit", "").lower() in ("true", "yes", "1"):
            return
        capacity = parse_size(props["ramsize"], context=f"host {self.pm.name!r} property ramsize: ")
        used = sum(vm.ramsize for vm in self.sim.vms.values() if vm.pm is self.pm and vm.state in RESIDENT)
        if used + self.ramsize > capacity:
            raise StateError(
                f"VM {self.name!r}: cannot start on {self.pm.name!r}: memory shortage "
                f"({self.ramsize:.0f} B needed, {max(capacity - used, 0.0):.0f} B free of {capacity:.0f} B)"
            )
