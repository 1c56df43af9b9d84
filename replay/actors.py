"""Actors: user code written as generators that yield the activities they wait for.

An actor is a generator function taking its :class:`Actor` handle::

    def pinger(actor):
        yield actor.send("ping_pong", 1e6)      # blocks until the matching recv has the data
        yield actor.execute(1e9)                # blocks until 1 Gflop is computed on the actor's host
        data = yield actor.recv("pong_ping")    # the value of a recv is what was sent

Every operation returns a :class:`Request` at once; yielding it blocks the actor until it is done and gives back
its value, so ``isend``/``irecv`` are the same calls kept for later (``yield actor.wait(req)`` or ``yield req``).
Communications follow SimGrid's rendezvous: a send and a receive on the same mailbox match in the order they were
posted, and the transfer starts only when both are there, between the sender's and the receiver's hosts.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any

from replay.engine import Activity, Timer
from replay.units import Bytes, BytesPerSecond, Flops, FlopsPerSecond, Seconds

if TYPE_CHECKING:
    from replay.simulation import Host, Simulation

ActorFunction = Callable[..., Generator["Request", Any, Any]]


class Request:
    """Something an actor can wait for; done once, with a value, or failed with an error raised in the waiter."""

    __slots__ = ("done", "error", "value", "waiters")

    def __init__(self) -> None:
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None
        self.waiters: list[Callable[[Request], None]] = []

    def describe(self) -> str:
        return type(self).__name__.lower()

    def then(self, callback: Callable[[Request], None]) -> None:
        """Call ``callback(self)`` when done (at once if it already is)."""
        if self.done:
            callback(self)
        else:
            self.waiters.append(callback)

    def finish(self, value: Any = None) -> None:
        if self.done:
            return
        self.done = True
        self.value = value
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            waiter(self)

    def fail(self, error: BaseException) -> None:
        """End the request with ``error``: every actor waiting on it gets the exception raised at its ``yield``."""
        if not self.done:
            self.error = error
            self.finish(None)


class Exec(Request):
    """A computation on the actor's host; its value is the number of flops computed."""

    __slots__ = ("activity", "host")

    def __init__(self, host: Host, activity: Activity) -> None:
        super().__init__()
        self.host = host
        self.activity = activity

    def describe(self) -> str:
        return f"execute({self.activity.amount:g} flops) on {self.host.name}"


class Sleep(Request):
    """A wait of ``duration`` simulated seconds (it goes on while its actor is suspended, as in SimGrid)."""

    __slots__ = ("duration", "timer")

    def __init__(self, duration: Seconds) -> None:
        super().__init__()
        self.duration = duration
        self.timer: Timer | None = None

    def describe(self) -> str:
        return f"sleep({self.duration:g} s)"


class Comm(Request):
    """One message on a mailbox, shared by the send and the receive that match; value: the payload."""

    __slots__ = ("activity", "mailbox", "payload", "rate", "receiver", "sender", "size")

    def __init__(self, mailbox: str, size: Bytes, payload: Any, rate: BytesPerSecond) -> None:
        super().__init__()
        self.mailbox = mailbox
        self.size = size
        self.payload = payload
        self.rate = rate
        self.sender: Actor | None = None
        self.receiver: Actor | None = None
        self.activity: Activity | None = None

    def describe(self) -> str:
        if self.receiver is None:
            return f"send({self.size:g} B) on mailbox {self.mailbox!r}: no receiver"
        if self.sender is None:
            return f"recv on mailbox {self.mailbox!r}: no sender"
        return f"transfer of {self.size:g} B on mailbox {self.mailbox!r}"


class Wait(Request):
    """Something outside the actor (a VM start, a save, a migration) that the actor blocks on."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def describe(self) -> str:
        return self.what


class AllOf(Request):
    """Done when every one of its requests is; value: their values in order."""

    __slots__ = ("parts",)

    def __init__(self, parts: Iterable[Request]) -> None:
        super().__init__()
        self.parts = tuple(parts)
        self._check(None)
        for part in self.parts:
            if not part.done:
                part.then(self._check)

    def _check(self, _: Request | None) -> None:
        if all(part.done for part in self.parts):
            self.finish([part.value for part in self.parts])

    def describe(self) -> str:
        waiting = [p.describe() for p in self.parts if not p.done]
        return "all of [" + "; ".join(waiting) + "]"


class AnyOf(Request):
    """Done when one of its requests is; value: the index of the first one done."""

    __slots__ = ("parts",)

    def __init__(self, parts: Iterable[Request]) -> None:
        super().__init__()
        self.parts = tuple(parts)
        for index, part in enumerate(self.parts):
            part.then(lambda _, i=index: self.finish(i))

    def describe(self) -> str:
        return "any of [" + "; ".join(p.describe() for p in self.parts) + "]"


class Mailbox:
    """A rendezvous point: pending sends and pending receives, matched first come, first served."""

    __slots__ = ("name", "receives", "sends")

    def __init__(self, name: str) -> None:
        self.name = name
        self.sends: deque[Comm] = deque()
        self.receives: deque[Comm] = deque()


class Actor:
    """The handle an actor's code uses to act; also the scheduler's record of the actor."""

    def __init__(
        self, sim: Simulation, name: str, host: Host | None, function: ActorFunction, args: tuple[Any, ...]
    ) -> None:
        self.sim = sim
        self.name = name
        #: where the actor runs (None until the VM it was placed on by name is created and started)
        self.host: Host = host  # type: ignore[assignment]
        #: the host or VM name it was placed on
        self.placement = host.name if host is not None else ""
        #: where the actor's code is, for error messages (the replayer sets the ``file:line: `` of its action)
        self.context = ""
        self.function = function
        self.args = args
        self.start_time: Seconds | None = None
        self.end_time: Seconds | None = None
        self.waiting: Request | None = None
        self.suspended = False
        self.killed = False
        #: a wake-up that arrived while suspended, delivered at resume
        self.deferred: Request | None = None
        self._generator: Generator[Request, Any, Any] | None = None

    def __repr__(self) -> str:
        return f"Actor({self.name!r} on {self.host.name!r})"

    @property
    def now(self) -> Seconds:
        """The simulated clock."""
        return self.sim.engine.now

    @property
    def finished(self) -> bool:
        return self.end_time is not None

    # -- computations --------------------------------------------------------------------------------------
    def execute(
        self, flops: Flops, priority: float = 1.0, *, bound: FlopsPerSecond = math.inf
    ) -> Exec:
        """Compute ``flops`` on the actor's host, on one core at most; ``priority`` is SimGrid's share weight."""
        return self.sim.start_exec(self.host, flops, priority=priority, bound=bound, name=self.name)

    exec_async = execute

    def sleep(self, duration: Seconds) -> Sleep:
        """Wait ``duration`` seconds of simulated time."""
        return self.sim.start_sleep(duration)

    def sleep_until(self, date: Seconds) -> Sleep:
        return self.sleep(max(0.0, date - self.now))

    # -- communications ------------------------------------------------------------------------------------
    def send(
        self, mailbox: str, size: Bytes, payload: Any = None, *, rate: BytesPerSecond = math.inf
    ) -> Comm:
        """Post ``size`` bytes on ``mailbox``; done when the receiver has them (a 0-byte message pays latency)."""
        if size < 0:
            raise ValueError(f"a message size must be non-negative, got {size!r}")
        return self.sim.post_send(self, mailbox, size, payload, rate)

    isend = send

    def recv(self, mailbox: str) -> Comm:
        """Receive the next message of ``mailbox``; the request's value is its payload (its size if none)."""
        return self.sim.post_recv(self, mailbox)

    irecv = recv

    # -- waiting -------------------------------------------------------------------------------------------
    @staticmethod
    def wait(request: Request) -> Request:
        """``yield actor.wait(r)`` is ``yield r``: spelled out for readers of SimGrid code."""
        return request

    @staticmethod
    def wait_all(requests: Iterable[Request]) -> AllOf:
        return AllOf(requests)

    @staticmethod
    def wait_any(requests: Iterable[Request]) -> AnyOf:
        return AnyOf(requests)
