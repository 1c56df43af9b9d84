"""The actions of a trace: each declared once, with its keyword, grammar, record, handler and static check.

An action is a frozen record class that says everything about itself::

    @BUILTIN.declare
    @dataclass(frozen=True, slots=True)
    class Sleep(Action):
        '''Do nothing for ``duration`` seconds of simulated time.'''

        keyword: ClassVar[str] = "sleep"           # the trace's word
        usage: ClassVar[str] = "<seconds>"         # its arguments (and so its arity)
        duration: Seconds                          # the record's fields

        @classmethod
        def parse(cls, p, args):                   # the grammar: tokens -> record
            return cls(p.quantity(args[0], "time", "duration"), **p.origin)

        def run(self, ctx):                        # the handler: record -> API calls
            yield ctx.actor.sleep(self.duration)

``check(walk)`` adds the static check (:mod:`replay.trace.checks`) and ``_args`` writes the record back as a line.
A :class:`Registry` maps keywords to declared actions: :data:`BUILTIN` holds the actions below, and a copy of it
with the user's own declarations extends the language (``BUILTIN.copy()``, then ``@registry.declare``).

===========================================  ===================  =================================================
line                                         record               fields (units)
===========================================  ===================  =================================================
``<a> init [host]``                          :class:`Init`        host (None: placed by the deployment)
``<a> compute <flops> [priority]``           :class:`Compute`     flops (``1e9``, ``1Gf``); priority > 0, default 1
``<a> send <dst> <bytes>``                   :class:`Send`        dst, size (bytes: ``1e6``, ``1MB``, ``1GiB``)
``<a> recv <src>``                           :class:`Recv`        src
``<a> isend <dst> <bytes>``                  :class:`Isend`       dst, size (bytes)
``<a> irecv <src>``                          :class:`Irecv`       src
``<a> wait``                                 :class:`Wait`        (completes the oldest pending request)
``<a> waitall``                              :class:`WaitAll`     (completes every pending request)
``<a> sleep <seconds>``                      :class:`Sleep`       duration (s: ``1.5``, ``30ms``)
``<a> finalize``                             :class:`Finalize`    (no-op, SimGrid compatibility)
``<a> set_pstate <host> <pstate>``           :class:`SetPstate`   host, pstate (whole number from 0)
``<a> vm_create <vm> <pm> [key=value ...]``  :class:`VmCreate`    vm, pm, config (a :class:`~replay.vm.VmConfig`)
``<a> vm_start <vm>``                        :class:`VmStart`     vm
``<a> vm_suspend <vm>``                      :class:`VmSuspend`   vm
``<a> vm_resume <vm>``                       :class:`VmResume`    vm
``<a> vm_save <vm>``                         :class:`VmSave`      vm
``<a> vm_restore <vm>``                      :class:`VmRestore`   vm
``<a> vm_shutdown <vm>``                     :class:`VmShutdown`  vm
``<a> vm_destroy <vm>``                      :class:`VmDestroy`   vm
``<a> vm_migrate <vm> <dst_pm>``             :class:`VmMigrate`   vm, dst
``<a> vm_set_bound <vm> <flops/s>``          :class:`VmSetBound`  vm, bound (flop/s: ``2Gf``; 0 = None, no bound)
===========================================  ===================  =================================================

``vm_create`` options, each at most once, are the fields of :class:`~replay.vm.VmConfig` (which holds their
defaults): ``cores`` integer >= 1; ``ram`` size (the config's ``ramsize``); ``dp_intensity`` fraction in [0, 1];
``working_set`` size <= ram; ``mig_speed`` bandwidth, ``125MBps`` or ``1Gbps``; ``max_downtime`` time > 0;
``bound`` speed (0 = no bound, as SimGrid's solver treats a non-positive bound); ``devsize`` size;
``skip_stage1``, ``skip_stage2`` yes/no/true/false/1/0; ``xfer_cpu_overhead``, ``dpt_cpu_overhead`` flops per
byte >= 0. Quantities take SimGrid's units by kind (see :mod:`replay.units`); a bare number is in the base unit
(flops, bytes, seconds, bytes/s, flop/s). Negative, infinite and NaN amounts are errors.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from replay.actors import Actor
from replay.errors import StateError, TraceSyntaxError, where
from replay.lifecycle import VmOperation
from replay.process import AllOf, Request, Steps
from replay.simulation import Simulation
from replay.trace.checks import TraceCheck
from replay.trace.grammar import Place, arity, did_you_mean, expects, number_text, shown, tokens
from replay.units import Bytes, Flops, FlopsPerSecond, Seconds
from replay.vm import VmConfig

Op = VmOperation


@dataclass
class ReplayContext:
    """What a handler may use: the simulation, the actor, and the actor's pending asynchronous requests."""

    sim: Simulation
    actor: Actor
    pending: deque[Request] = field(default_factory=deque)


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """One line of a trace: what ``actor`` does next. ``path`` and ``line`` say where it was read.

    Equality and hashing ignore the place: two records are equal when they ask for the same thing.
    """

    keyword: ClassVar[str] = ""
    usage: ClassVar[str] = ""
    actor: str
    path: str = field(default="<memory>", compare=False)
    line: int = field(default=0, compare=False)

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        """The record of a line whose arguments are ``args`` (their count already matches ``usage``)."""
        return cls(**p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> Steps | None:
        """Do the action: call the API, and yield the requests the actor blocks on (None: nothing to wait for)."""
        raise NotImplementedError(f"action {self.keyword!r} declares no run()")

    def check(self, walk: TraceCheck) -> None:
        """Ask ``walk`` about the names and VM states this action needs (nothing by default)."""

    def to_line(self) -> str:
        """The trace line that parses back to this record (quantities in base units)."""
        return " ".join((self.actor, self.keyword, *self._args()))

    def _args(self) -> tuple[str, ...]:
        return ()


class Registry:
    """The actions a trace may use, by keyword, in the order they were declared."""

    def __init__(self, actions: Iterable[type[Action]] = ()) -> None:
        self._actions: dict[str, type[Action]] = {}
        self._arity: dict[str, tuple[int, int | None]] = {}
        for action in actions:
            self.declare(action)

    def declare(self, action: type[Action]) -> type[Action]:
        """Add ``action`` (usable as a class decorator); its keyword must be new here."""
        if not action.keyword or action.keyword in self._actions:
            raise ValueError(f"cannot declare action {action.__name__}: keyword {action.keyword!r} is empty or taken")
        self._arity[action.keyword] = arity(action.usage)
        self._actions[action.keyword] = action
        return action

    def copy(self) -> Registry:
        """A registry with the same actions, to extend without changing this one."""
        return Registry(self._actions.values())

    def __contains__(self, keyword: object) -> bool:
        return keyword in self._actions

    def __getitem__(self, keyword: str) -> type[Action]:
        return self._actions[keyword]

    def __iter__(self) -> Iterator[type[Action]]:
        return iter(self._actions.values())

    def parse_line(self, text: str, path: str, line: int) -> Action | None:
        """Parse one line of a trace; None for a blank or comment line. Raises :class:`TraceSyntaxError`."""
        words = tokens(text, path, line)
        if words is None:
            return None
        actor, keyword, args = words[0], words[1], words[2:]
        action = self._actions.get(keyword)
        if action is None:
            hint = did_you_mean(keyword, list(self._actions))
            if not hint and actor in self._actions:
                hint = "; a line starts with the actor's name: <actor> <action> [args...]"
            raise TraceSyntaxError(
                f"{where(path, line)}unknown action {shown(keyword)}; expected one of {', '.join(self._actions)}{hint}"
            )
        place = Place(path, line, actor, keyword)
        lo, hi = self._arity[keyword]
        if len(args) < lo or (hi is not None and len(args) > hi):
            hint = "; '#' starts a comment only at the start of a line" if any(a.startswith("#") for a in args) else ""
            raise place.error(f"'{keyword}' {expects(action.usage)}, found {len(args)}{hint}")
        return action.parse(place, args)


#: The actions of SimGrid's replay format and ours (the table of the module docstring).
BUILTIN = Registry()


# -- actors and communications ---------------------------------------------------------------------------------
@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class Init(Action):
    """Place the actor on ``host`` (a PM or VM); with no host, the deployment decides.

    As a first action it only places the actor (the replayer does it before the actor starts); later in a
    trace it moves the actor there, waiting for a VM to run.
    """

    keyword: ClassVar[str] = "init"
    usage: ClassVar[str] = "[host]"
    host: str | None = None

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        return cls(args[0] if args else None, **p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> Steps:
        if self.host is not None:
            yield ctx.sim.move_actor(ctx.actor, self.host)

    def check(self, walk: TraceCheck) -> None:
        if self.host is not None:
            walk.place(self, self.host)

    def _args(self) -> tuple[str, ...]:
        return () if self.host is None else (self.host,)


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class Compute(Action):
    """Execute ``flops`` on the actor's host; ``priority`` is the share weight (our extension, > 0)."""

    keyword: ClassVar[str] = "compute"
    usage: ClassVar[str] = "<flops> [priority]"
    flops: Flops
    priority: float = 1.0

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        flops = p.quantity(args[0], "flops", "number of flops")
        priority = 1.0
        if len(args) > 1:
            priority = p.number(args[1], "priority")
            p.checked(priority, priority > 0, "priority", "a number > 0", args[1])
        return cls(flops, priority, **p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> Steps:
        yield ctx.actor.execute(self.flops, self.priority)

    def _args(self) -> tuple[str, ...]:
        flops = number_text(self.flops)
        return (flops,) if self.priority == 1.0 else (flops, number_text(self.priority))


@dataclass(frozen=True, slots=True)
class _Outgoing(Action):
    """A message of ``size`` bytes to actor ``dst``, on mailbox ``<actor>_<dst>``."""

    usage: ClassVar[str] = "<dst> <bytes>"
    dst: str
    size: Bytes

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        return cls(args[0], p.quantity(args[1], "size", "number of bytes"), **p.origin)  # type: ignore[arg-type]

    @property
    def mailbox(self) -> str:
        return f"{self.actor}_{self.dst}"

    def check(self, walk: TraceCheck) -> None:
        walk.peer(self, "dst", self.dst)
        walk.message(self, self.mailbox, send=True, blocking=isinstance(self, Send))

    def _post(self, ctx: ReplayContext) -> Request:
        return ctx.actor.send(self.mailbox, self.size)

    def _args(self) -> tuple[str, ...]:
        return (self.dst, number_text(self.size))


@dataclass(frozen=True, slots=True)
class _Incoming(Action):
    """A message from actor ``src``, on mailbox ``<src>_<actor>``."""

    usage: ClassVar[str] = "<src>"
    src: str

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        return cls(args[0], **p.origin)  # type: ignore[arg-type]

    @property
    def mailbox(self) -> str:
        return f"{self.src}_{self.actor}"

    def check(self, walk: TraceCheck) -> None:
        walk.peer(self, "src", self.src)
        walk.message(self, self.mailbox, send=False, blocking=isinstance(self, Recv))

    def _post(self, ctx: ReplayContext) -> Request:
        return ctx.actor.recv(self.mailbox)

    def _args(self) -> tuple[str, ...]:
        return (self.src,)


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class Send(_Outgoing):
    """Send ``size`` bytes to actor ``dst`` on mailbox ``<actor>_<dst>``; blocks until received."""

    keyword: ClassVar[str] = "send"

    def run(self, ctx: ReplayContext) -> Steps:
        yield self._post(ctx)


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class Recv(_Incoming):
    """Receive from actor ``src`` on mailbox ``<src>_<actor>``; blocks until the data is there."""

    keyword: ClassVar[str] = "recv"

    def run(self, ctx: ReplayContext) -> Steps:
        yield self._post(ctx)


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class Isend(_Outgoing):
    """Post a send of ``size`` bytes to ``dst`` and go on; completed by ``wait`` or ``waitall``."""

    keyword: ClassVar[str] = "isend"

    def run(self, ctx: ReplayContext) -> None:
        ctx.pending.append(self._post(ctx))


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class Irecv(_Incoming):
    """Post a receive from ``src`` and go on; completed by ``wait`` or ``waitall``."""

    keyword: ClassVar[str] = "irecv"

    def run(self, ctx: ReplayContext) -> None:
        ctx.pending.append(self._post(ctx))


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class Wait(Action):
    """Block until the actor's oldest pending request (FIFO) completes."""

    keyword: ClassVar[str] = "wait"

    def check(self, walk: TraceCheck) -> None:
        walk.wait(self, every=False)

    def run(self, ctx: ReplayContext) -> Steps:
        if not ctx.pending:
            raise StateError("'wait' expects a pending isend or irecv, found none")
        yield ctx.pending.popleft()


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class WaitAll(Action):
    """Block until every pending request of the actor completes."""

    keyword: ClassVar[str] = "waitall"

    def check(self, walk: TraceCheck) -> None:
        walk.wait(self, every=True)

    def run(self, ctx: ReplayContext) -> Steps:
        requests = list(ctx.pending)
        ctx.pending.clear()
        yield AllOf(requests)


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class Sleep(Action):
    """Do nothing for ``duration`` seconds of simulated time."""

    keyword: ClassVar[str] = "sleep"
    usage: ClassVar[str] = "<seconds>"
    duration: Seconds

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        return cls(p.quantity(args[0], "time", "duration"), **p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> Steps:
        yield ctx.actor.sleep(self.duration)

    def _args(self) -> tuple[str, ...]:
        return (number_text(self.duration),)


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class Finalize(Action):
    """No-op kept for SimGrid (SMPI) traces."""

    keyword: ClassVar[str] = "finalize"

    def run(self, ctx: ReplayContext) -> None:
        return None


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class SetPstate(Action):
    """Switch host ``host`` to its power state ``pstate`` (SimGrid's ``Host::set_pstate``): the speed of its cores,
    for everything running on it and in its VMs, and the watts it draws."""

    keyword: ClassVar[str] = "set_pstate"
    usage: ClassVar[str] = "<host> <pstate>"
    host: str
    pstate: int

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        return cls(args[0], p.index(args[1], "pstate"), **p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.pm(self.host).set_pstate(self.pstate)

    def check(self, walk: TraceCheck) -> None:
        walk.power_state(self, self.host, self.pstate)

    def _args(self) -> tuple[str, ...]:
        return (self.host, str(self.pstate))


# -- VMs ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class VmAction(Action):
    """Base of the actions on one VM; ``operations`` are the state changes it makes, in a static walk."""

    usage: ClassVar[str] = "<vm>"
    operations: ClassVar[tuple[VmOperation, ...]] = ()
    vm: str

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        return cls(args[0], **p.origin)  # type: ignore[arg-type]

    def check(self, walk: TraceCheck) -> None:
        walk.vm(self, self.vm, self.operations)

    def _args(self) -> tuple[str, ...]:
        return (self.vm,)


def _vm_options() -> dict[str, tuple[str, Callable[[Place, str, str], Any]]]:
    """``vm_create`` option -> (the :class:`VmConfig` field it sets, the reader of its value)."""

    def size(p: Place, key: str, text: str) -> float:
        return p.quantity(text, "size", key)

    def downtime(p: Place, key: str, text: str) -> float:
        value = p.quantity(text, "time", key)
        return p.checked(value, value > 0, key, "a duration > 0", text)

    def fraction(p: Place, key: str, text: str) -> float:
        value = p.number(text, key)
        return p.checked(value, 0.0 <= value <= 1.0, key, "a fraction in [0, 1]", text)

    def overhead(p: Place, key: str, text: str) -> float:
        value = p.number(text, key)
        return p.checked(value, value >= 0, key, "flops per byte >= 0", text)

    return {
        "cores": ("cores", lambda p, key, text: p.count(text, key)),
        "ram": ("ramsize", size),
        "dp_intensity": ("dp_intensity", fraction),
        "working_set": ("working_set", size),
        "mig_speed": ("mig_speed", lambda p, key, text: p.quantity(text, "bandwidth", key)),
        "max_downtime": ("max_downtime", downtime),
        "bound": ("bound", lambda p, key, text: p.quantity(text, "speed", key) or math.inf),
        "devsize": ("devsize", size),
        "skip_stage1": ("skip_stage1", lambda p, key, text: p.boolean(text, key)),
        "skip_stage2": ("skip_stage2", lambda p, key, text: p.boolean(text, key)),
        "xfer_cpu_overhead": ("xfer_cpu_overhead", overhead),
        "dpt_cpu_overhead": ("dpt_cpu_overhead", overhead),
    }


_VM_OPTIONS = _vm_options()
_DEFAULT_CONFIG = VmConfig()


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class VmCreate(VmAction):
    """Create VM ``vm`` on PM ``pm`` (not started), made as ``config`` says."""

    keyword: ClassVar[str] = "vm_create"
    usage: ClassVar[str] = "<vm> <pm> [key=value ...]"
    pm: str
    config: VmConfig = _DEFAULT_CONFIG

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        vm, pm, *pairs = args
        names = ", ".join(_VM_OPTIONS)
        given: dict[str, str] = {}
        values: dict[str, Any] = {}
        for pair in pairs:
            key, eq, text = pair.partition("=")
            if not eq or not key:
                raise p.error(f"expected a vm_create option key=value with key one of {names}, found {shown(pair)}")
            option = _VM_OPTIONS.get(key)
            if option is None:
                raise p.error(f"unknown vm_create option {shown(key)}; expected one of {names}"
                              f"{did_you_mean(key, list(_VM_OPTIONS))}")
            if key in given:
                raise p.error(f"expected each vm_create option at most once, found {shown(pair)} after "
                              f"{shown(given[key])}")
            given[key] = pair
            name, read = option
            values[name] = read(p, key, text)
        ram = values.get("ramsize", _DEFAULT_CONFIG.ramsize)
        working_set = values.get("working_set")
        if working_set is not None and working_set > ram:
            raise p.error(
                f"bad working_set in 'vm_create': expected at most ram ({number_text(ram)} bytes), "
                f"found {shown(given['working_set'].partition('=')[2])} ({number_text(working_set)} bytes)"
            )
        try:
            config = VmConfig(**values) if values else _DEFAULT_CONFIG
        except ValueError as error:
            raise p.error(f"bad options in 'vm_create': {error}") from None
        return cls(vm, pm, config, **p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.create_vm(self.vm, self.pm, self.config)

    def check(self, walk: TraceCheck) -> None:
        walk.platform_host(self, self.pm, "pm")
        walk.created(self, self.vm, self.pm)

    def _args(self) -> tuple[str, ...]:
        options = []
        for key, (name, _) in _VM_OPTIONS.items():
            value = getattr(self.config, name)
            if value is None or value == getattr(_DEFAULT_CONFIG, name):
                continue
            if isinstance(value, bool):
                options.append(f"{key}=yes")
            elif isinstance(value, int):
                options.append(f"{key}={value}")
            else:
                options.append(f"{key}={number_text(value)}")
        return (self.vm, self.pm, *options)


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class VmStart(VmAction):
    """Start a created VM on its PM."""

    keyword: ClassVar[str] = "vm_start"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.START,)

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.vm(self.vm).start()


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class VmSuspend(VmAction):
    """Suspend a running VM: its activities keep their remaining work and take no share."""

    keyword: ClassVar[str] = "vm_suspend"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.SUSPEND,)

    def check(self, walk: TraceCheck) -> None:
        walk.vm(self, self.vm, self.operations)
        walk.from_outside(self, self.vm, "suspend")

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.vm(self.vm).suspend(ctx.actor)


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class VmResume(VmAction):
    """Resume a suspended VM."""

    keyword: ClassVar[str] = "vm_resume"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.RESUME,)

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.vm(self.vm).resume()


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class VmSave(VmAction):
    """Save a running VM's state (2013 API); blocks the actor until the RAM is written."""

    keyword: ClassVar[str] = "vm_save"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.SAVE, Op.SAVE_DONE)

    def check(self, walk: TraceCheck) -> None:
        walk.vm(self, self.vm, self.operations)
        walk.from_outside(self, self.vm, "save")

    def run(self, ctx: ReplayContext) -> Steps:
        yield ctx.sim.vm(self.vm).save(ctx.actor)


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class VmRestore(VmAction):
    """Restore a saved VM (2013 API); blocks the actor until the RAM is read back."""

    keyword: ClassVar[str] = "vm_restore"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.RESTORE, Op.RESTORE_DONE)

    def run(self, ctx: ReplayContext) -> Steps:
        yield ctx.sim.vm(self.vm).restore()


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class VmShutdown(VmAction):
    """Shut a VM down, killing its actors."""

    keyword: ClassVar[str] = "vm_shutdown"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.SHUTDOWN,)

    def check(self, walk: TraceCheck) -> None:
        walk.vm(self, self.vm, self.operations)
        walk.from_outside(self, self.vm, "shut down")

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.vm(self.vm).shutdown(ctx.actor)


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class VmDestroy(VmAction):
    """Destroy a VM."""

    keyword: ClassVar[str] = "vm_destroy"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.DESTROY,)

    def check(self, walk: TraceCheck) -> None:
        walk.vm(self, self.vm, self.operations)
        walk.from_outside(self, self.vm, "destroy")

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.vm(self.vm).destroy(ctx.actor)


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class VmMigrate(VmAction):
    """Live-migrate ``vm`` to PM ``dst``; blocks the actor until the migration ends."""

    keyword: ClassVar[str] = "vm_migrate"
    usage: ClassVar[str] = "<vm> <dst_pm>"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.MIGRATE, Op.MIGRATE_DONE)
    dst: str

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        return cls(args[0], args[1], **p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> Steps:
        yield ctx.sim.migrate_vm(ctx.sim.vm(self.vm), self.dst, ctx.actor)

    def check(self, walk: TraceCheck) -> None:
        walk.platform_host(self, self.dst, "dst_pm")
        walk.vm(self, self.vm, self.operations)
        walk.moved(self, self.vm, self.dst)

    def _args(self) -> tuple[str, ...]:
        return (self.vm, self.dst)


@BUILTIN.declare
@dataclass(frozen=True, slots=True)
class VmSetBound(VmAction):
    """Cap the VM's CPU rate at ``bound`` flop/s; None (written 0) removes the cap."""

    keyword: ClassVar[str] = "vm_set_bound"
    usage: ClassVar[str] = "<vm> <flops/s>"
    bound: FlopsPerSecond | None

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        return cls(args[0], p.quantity(args[1], "speed", "bound") or None, **p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.vm(self.vm).set_bound(self.bound if self.bound else math.inf)

    def _args(self) -> tuple[str, ...]:
        return (self.vm, "0" if self.bound is None else number_text(self.bound))

