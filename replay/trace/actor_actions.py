"""The actions of actors: placement, computation, communication, waiting (SimGrid's replay format)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from replay.errors import StateError
from replay.process import AllOf, Request, Steps
from replay.trace.checks import TraceCheck
from replay.trace.grammar import Place, is_plain_number, number_text, shown, starts_with_number
from replay.trace.records import Action, Registry, ReplayContext
from replay.units import Bytes, Flops, FlopsPerSecond, Seconds

#: The actions of this module, in the order of the trace format's table.
ACTIONS = Registry()


@ACTIONS.declare
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

    def run(self, ctx: ReplayContext) -> Request | None:
        return ctx.sim.move_actor(ctx.actor, self.host) if self.host is not None else None

    def check(self, walk: TraceCheck) -> None:
        if self.host is not None:
            walk.place(self, self.host)

    def _args(self) -> tuple[str, ...]:
        return () if self.host is None else (self.host,)


@ACTIONS.declare
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

    def run(self, ctx: ReplayContext) -> Request:
        return ctx.actor.execute(self.flops, self.priority)

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


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class Send(_Outgoing):
    """Send ``size`` bytes to actor ``dst`` on mailbox ``<actor>_<dst>``; blocks until received."""

    keyword: ClassVar[str] = "send"

    def run(self, ctx: ReplayContext) -> Request:
        return self._post(ctx)


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class Recv(_Incoming):
    """Receive from actor ``src`` on mailbox ``<src>_<actor>``; blocks until the data is there."""

    keyword: ClassVar[str] = "recv"

    def run(self, ctx: ReplayContext) -> Request:
        return self._post(ctx)


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class Isend(_Outgoing):
    """Post a send of ``size`` bytes to ``dst`` and go on; completed by ``wait`` or ``waitall``."""

    keyword: ClassVar[str] = "isend"

    def run(self, ctx: ReplayContext) -> None:
        ctx.pending.append(self._post(ctx))


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class Irecv(_Incoming):
    """Post a receive from ``src`` and go on; completed by ``wait`` or ``waitall``."""

    keyword: ClassVar[str] = "irecv"

    def run(self, ctx: ReplayContext) -> None:
        ctx.pending.append(self._post(ctx))


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class Wait(Action):
    """Block until the actor's oldest pending request (FIFO) completes."""

    keyword: ClassVar[str] = "wait"

    def check(self, walk: TraceCheck) -> None:
        walk.wait(self, every=False)

    def run(self, ctx: ReplayContext) -> Request:
        if not ctx.pending:
            raise StateError("'wait' expects a pending isend or irecv, found none")
        return ctx.pending.popleft()


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class WaitAll(Action):
    """Block until every pending request of the actor completes."""

    keyword: ClassVar[str] = "waitall"

    def check(self, walk: TraceCheck) -> None:
        walk.wait(self, every=True)

    def run(self, ctx: ReplayContext) -> Request:
        requests = list(ctx.pending)
        ctx.pending.clear()
        return AllOf(requests)


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class Sleep(Action):
    """Do nothing for ``duration`` seconds of simulated time."""

    keyword: ClassVar[str] = "sleep"
    usage: ClassVar[str] = "<seconds>"
    duration: Seconds

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        return cls(p.quantity(args[0], "time", "duration"), **p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> Request:
        return ctx.actor.sleep(self.duration)

    def _args(self) -> tuple[str, ...]:
        return (number_text(self.duration),)


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class Load(Action):
    """Ask ``fraction`` (0 to 1) of the capacity of the actor's VM (its vCPUs x core speed) or host for
    ``duration`` seconds, whatever it gets: demand-driven, what is not served is lost. Ends at the end of the
    interval; its value is the flops served.

    With a unit (``1175Mf``) the first argument is ``rate``, an absolute demand in flop/s for the whole VM, spread
    over its vCPUs: a dataset's MIPS, which mean the same whatever PM the VM runs on (``fraction`` is then 0)."""

    keyword: ClassVar[str] = "load"
    usage: ClassVar[str] = "<fraction|rate> <seconds>"
    fraction: float
    duration: Seconds
    rate: FlopsPerSecond | None = None

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        duration = p.quantity(args[1], "time", "duration")
        if not is_plain_number(args[0]) and starts_with_number(args[0]):
            rate = p.quantity(args[0], "speed", "rate")
            return cls(0.0, duration, rate, **p.origin)  # type: ignore[arg-type]
        if not is_plain_number(args[0]):
            raise p.error(f"bad fraction in 'load': expected a number from 0 to 1 or a rate with a unit (1175Mf), "
                          f"found {shown(args[0])}")
        fraction = p.number(args[0], "fraction")
        p.checked(fraction, 0.0 <= fraction <= 1.0, "fraction", "a number from 0 to 1", args[0])
        return cls(fraction, duration, **p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> Steps:
        if self.rate is not None:
            served = yield ctx.actor.load_rate(self.rate, self.duration)
        else:
            served = yield ctx.actor.load(self.fraction, self.duration)
        return served

    def _args(self) -> tuple[str, ...]:
        first = number_text(self.fraction) if self.rate is None else f"{number_text(self.rate)}f"
        return (first, number_text(self.duration))


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class Finalize(Action):
    """No-op kept for SimGrid (SMPI) traces."""

    keyword: ClassVar[str] = "finalize"

    def run(self, ctx: ReplayContext) -> None:
        return None
