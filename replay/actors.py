"""Actors: user code written as generators that yield the requests they wait for, and their scheduler.

An actor is a generator function taking its :class:`Actor` handle::

    def pinger(actor):
        yield actor.send("ping_pong", 1e6)      # blocks until the matching recv has the data
        yield actor.execute(1e9)                # blocks until 1 Gflop is computed on the actor's host
        data = yield actor.recv("pong_ping")    # the value of a recv is what was sent

Every operation returns a request at once; yielding it blocks the actor until it is done and gives back its
value, so ``isend``/``irecv`` are the same calls kept for later (``yield actor.wait(req)`` or ``yield req``).
Communications follow SimGrid's rendezvous (:mod:`replay.comms`).

The :class:`Scheduler` runs every actor as a :class:`~replay.process.Process` with one wake policy: an actor whose
request is done is queued, and the queue runs once the events of the date have been handled, in the order the
actors were woken, each until it yields something not yet done. New activities start at the current date and
the engine re-solves before the clock moves on. An actor lives on a host (a PM or a VM) as one of its
residents: a VM freezes it (its current computation or transfer stops and it is not woken until thawed; a sleep
goes on, as in SimGrid: one that ends meanwhile wakes the actor at the resume) and kills it at shutdown. An actor
placed on a VM that does not run yet, or does not exist yet, starts when a VM of that name runs: the scheduler is
the VMs' listener for that.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from replay import events
from replay.comms import Comm, Mailboxes
from replay.engine import Engine, Timer
from replay.errors import ActivityFailed
from replay.hosts import ComputeHost, Exec, Load, PhysicalHost
from replay.process import AllOf, AnyOf, Process, Request, Sleep, Steps, Wait
from replay.units import Bytes, BytesPerSecond, Flops, FlopsPerSecond, Seconds

ActorFunction = Callable[..., Steps]


class Located(Protocol):
    """Where the actor's code is (a trace action), told only when a message asks."""

    @property
    def location(self) -> str:
        """``file:line: ``, the prefix of a message."""
        ...


class Actor(Process):
    """An actor: a process with a name and a host, the handle its code uses to act, and a host's resident.

    As a request, an actor is done when its code returns (others may wait for it, as SimGrid's ``join``).
    """

    __slots__ = (
        "_posted",
        "_where",
        "args",
        "blocked",
        "cause",
        "deferred",
        "end_time",
        "failed",
        "function",
        "host",
        "kill_timer",
        "killed",
        "placement",
        "restart",
        "restarts",
        "scheduler",
        "start_time",
        "suspended",
    )

    def __init__(
        self,
        scheduler: Scheduler,
        name: str,
        host: ComputeHost | None,
        placement: str,
        function: ActorFunction,
        args: tuple[Any, ...],
    ) -> None:
        super().__init__(name)
        self.scheduler = scheduler
        #: where the actor runs (None until the VM it was placed on by name is created and started)
        self.host: ComputeHost = host  # type: ignore[assignment]
        #: the host or VM name it was placed on
        self.placement = placement
        #: where its code is (see :attr:`context`)
        self._where: str | Located = ""
        self.function = function
        self.args = args
        self.start_time: Seconds | None = None
        self.end_time: Seconds | None = None
        self.suspended = False
        self.killed = False
        #: an activity of the actor failed (a transfer lost to a failure), and its code did not catch it
        self.failed = False
        #: the run ended while the actor waited on something a failure made impossible
        self.blocked = False
        #: why the actor was killed, failed or blocked (empty while it was not)
        self.cause = ""
        #: its communications not done yet (see :attr:`posted`; None until the first)
        self._posted: dict[Comm, None] | None = None
        #: started again each time its host comes back on (SimGrid's ``on_failure="RESTART"``)
        self.restart = False
        #: how many times it was started again
        self.restarts = 0
        #: the deployment's kill_time, pending
        self.kill_timer: Timer | None = None
        #: a wake-up that arrived while suspended, delivered at resume
        self.deferred: Request | None = None

    def __repr__(self) -> str:
        return f"Actor({self.name!r} on {self.placement!r})"

    @property
    def context(self) -> str:
        """Where the actor's code is, ``file:line: ``, for error messages: the replayer sets the action the actor
        runs (formatted only when a message needs it), or a string."""
        where = self._where
        return where if isinstance(where, str) else where.location

    @context.setter
    def context(self, where: str | Located) -> None:
        self._where = where

    @property
    def posted(self) -> dict[Comm, None]:
        """Its communications not done yet (cancelled when it ends, as SimGrid does); made on first use."""
        if self._posted is None:
            self._posted = {}
        return self._posted

    @property
    def now(self) -> Seconds:
        """The simulated clock."""
        return self.scheduler.engine.now

    @property
    def finished(self) -> bool:
        return self.end_time is not None

    @property
    def status(self) -> str:
        """``done`` (its code returned), ``killed``, ``failed`` or ``blocked`` (see :attr:`cause`), or ``running``
        (not finished)."""
        if self.killed:
            return "killed"
        if self.failed:
            return "failed"
        if self.blocked:
            return "blocked"
        return "done" if self.end_time is not None else "running"

    @property
    def started(self) -> bool:
        """Whether the actor's code runs (it may be blocked)."""
        return self.steps is not None

    # -- computations --------------------------------------------------------------------------------------
    def execute(self, flops: Flops, priority: float = 1.0, *, bound: FlopsPerSecond = math.inf) -> Exec:
        """Compute ``flops`` on the actor's host, on one core at most; ``priority`` is SimGrid's share weight."""
        return self.host.execute(flops, priority=priority, bound=bound, name=self.name)

    exec_async = execute

    def load(self, fraction: float, duration: Seconds) -> Load:
        """Ask ``fraction`` of the host's capacity for ``duration`` seconds, whatever it gets (see
        :meth:`ComputeHost.load`); the request's value is the flops served."""
        return self.host.load(fraction, duration, name=self.name)

    def load_rate(self, rate: FlopsPerSecond, duration: Seconds) -> Load:
        """Ask ``rate`` flop/s for the whole host for ``duration`` seconds, whatever it gets (see
        :meth:`ComputeHost.load_rate`); the request's value is the flops served."""
        return self.host.load_rate(rate, duration, name=self.name)

    def sleep(self, duration: Seconds) -> Sleep:
        """Wait ``duration`` seconds of simulated time."""
        return Sleep(self.scheduler.engine, duration)

    def sleep_until(self, date: Seconds) -> Sleep:
        return self.sleep(max(0.0, date - self.now))

    # -- communications ------------------------------------------------------------------------------------
    def send(
        self, mailbox: str, size: Bytes, payload: Any = None, *, rate: BytesPerSecond = math.inf,
        timeout: Seconds = math.inf,
    ) -> Comm:
        """Post ``size`` bytes on ``mailbox``; done when the receiver has them (a 0-byte message pays latency).
        Not done within ``timeout`` seconds, it fails with :class:`~replay.errors.ActivityTimeout`."""
        if size < 0:
            raise ValueError(f"a message size must be non-negative, got {size!r}")
        return self.scheduler.mailboxes.send(self, mailbox, size, payload, rate, timeout)

    isend = send

    def recv(self, mailbox: str, *, timeout: Seconds = math.inf) -> Comm:
        """Receive the next message of ``mailbox``; the request's value is its payload (its size if none)."""
        return self.scheduler.mailboxes.recv(self, mailbox, timeout)

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

    # -- as a resident of its host ----------------------------------------------------------------------------
    def suspend(self) -> None:
        """Freeze the actor's current activity; wake-ups are held until :meth:`resume`."""
        if self.suspended or self.finished:
            return
        self.suspended = True
        if self.waiting is not None:
            self.waiting.pause(self)

    def resume(self) -> None:
        if not self.suspended or self.finished:
            return
        self.suspended = False
        if self.waiting is not None:
            self.waiting.unpause(self)
        if self.deferred is not None:
            request, self.deferred = self.deferred, None
            self.scheduler.queue.append((self, request))
        elif self.steps is None:
            self.scheduler.queue.append((self, None))

    def wake(self, request: Request | None) -> None:
        """``request`` is done (None: the actor may start): queue the actor, or hold it while suspended."""
        if self.end_time is not None:
            return
        if self.suspended:
            self.deferred = request
            return
        self.scheduler.queue.append((self, request))

    def kill(self, cause: str) -> None:
        """End the actor now, because of ``cause``: its activity is cancelled; a peer of its communication gets
        an error."""
        if self.finished:
            return
        self.cause = cause
        if self.waiting is not None:
            self.waiting.cancel()
        if self.steps is None or not self.steps.gi_running:  # type: ignore[attr-defined]
            self.interrupt()
        # else its own code killed it (turning its host off): the scheduler stops that code when it yields
        self.scheduler.ended(self, killed=True)

    def describe_wait(self) -> str:
        """What the actor waits on, for a deadlock report."""
        if self.steps is None:
            if self.host is None:
                return f"VM {self.placement!r}, which was never created"
            return self.host.describe_start()
        return self.waiting.describe() if self.waiting is not None else "nothing"


class Scheduler:
    """Runs the actors of a simulation (see the module docstring); the listener of its VMs."""

    def __init__(self, engine: Engine, mailboxes: Mailboxes) -> None:
        self.engine = engine
        self.mailboxes = mailboxes
        self.actors: dict[str, Actor] = {}
        #: the actors to run once the events of the date are handled, with the request that woke each one
        self.queue: deque[tuple[Actor, Request | None]] = deque()
        #: actors waiting for a VM (by name) to run, each with what to do when it does
        self._waiting_for: dict[str, list[tuple[Actor, Callable[[ComputeHost], None]]]] = {}
        #: per PM, the actors to start again when it comes back on (name, kill_time), in the order they came
        self._boot: dict[str, list[tuple[str, Seconds | None]]] = {}
        engine.after_events(self._run_ready)

    def add(
        self,
        name: str,
        host: ComputeHost | None,
        placement: str,
        function: ActorFunction,
        args: tuple[Any, ...],
        start_time: Seconds,
        kill_time: Seconds | None = None,
        restart: bool = False,
    ) -> Actor:
        """Create an actor on ``host`` (None: the VM ``placement``, not created yet) from ``start_time`` on,
        killed at ``kill_time`` if it still runs then (SimGrid's deployment attribute; a date not after its start
        is ignored, as in SimGrid). With ``restart``, an actor on a PM starts again from its beginning each time
        the PM comes back on (SimGrid's ``on_failure="RESTART"``). The caller makes sure the name is new."""
        actor = Actor(self, name, host, placement, function, args)
        self.actors[name] = actor
        actor.restart = restart
        if restart and isinstance(host, PhysicalHost):
            self._boot.setdefault(host.name, []).append((name, kill_time))
        if start_time > self.engine.now:
            self.engine.schedule(start_time - self.engine.now, lambda: self._launch(actor, kill_time))
        else:
            self._launch(actor, kill_time)
        return actor

    def _launch(self, actor: Actor, kill_time: Seconds | None) -> None:
        now = self.engine.now
        if isinstance(actor.host, PhysicalHost) and not actor.host.on:  # SimGrid refuses to launch it there
            actor.cause = f"its host {actor.host.name!r} was off when it should have started"
            self.ended(actor, killed=True)
            return
        if kill_time is not None and kill_time > now:
            cause = f"its kill_time ({kill_time:g} s) came"
            actor.kill_timer = self.engine.schedule(kill_time - now, lambda: actor.kill(cause))
        host = actor.host
        if host is None or not host.runs:

            def place(vm: ComputeHost) -> None:
                actor.host = vm
                actor.wake(None)

            self._waiting_for.setdefault(actor.placement, []).append((actor, place))
        else:
            actor.wake(None)

    def move(self, actor: Actor, name: str, host: ComputeHost | None) -> Wait:
        """Move ``actor`` to ``host``, called ``name``; a VM that does not run (or exist) yet is waited for."""
        request = Wait(f"VM {name!r} to run")

        def arrive(there: ComputeHost) -> None:
            actor.host.remove_resident(actor)
            actor.host = there
            there.add_resident(actor)
            request.finish(None)

        if isinstance(host, PhysicalHost) and not host.on:
            actor.kill(f"it moved to host {name!r}, which is off")
        elif host is None or not host.runs:
            self._waiting_for.setdefault(name, []).append((actor, arrive))
        else:
            arrive(host)
        return request

    def waiting_for_boot(self, hosts: dict[str, PhysicalHost]) -> bool:
        """Whether some actor waits for a host that is off to come back on (SimGrid's watched hosts)."""
        return any(name in hosts and not hosts[name].on for name in self._boot)

    def host_on(self, host: PhysicalHost) -> None:
        """``host`` came back on: its actors marked for restart start again, from their beginning, under the
        same names (one still running elsewhere is left alone)."""
        for name, kill_time in self._boot.get(host.name, []):
            old = self.actors[name]
            if not old.finished:
                continue
            actor = Actor(self, name, host, host.name, old.function, old.args)
            actor.restart = True
            actor.restarts = old.restarts + 1
            self.actors[name] = actor
            self._launch(actor, kill_time)

    # -- the VMs' listener -------------------------------------------------------------------------------------
    def vm_runs(self, vm: ComputeHost) -> None:
        """Let in the actors waiting for ``vm`` to run (placed on it, or moving to it)."""
        if vm.runs:
            for _, on_run in self._waiting_for.pop(vm.name, []):
                on_run(vm)

    def vm_destroyed(self, vm: ComputeHost) -> None:
        """The actors still waiting for a VM that is gone will never run."""
        for actor, _ in self._waiting_for.pop(vm.name, []):
            actor.kill(f"VM {vm.name!r} was destroyed before the actor could run in it")

    # -- running ---------------------------------------------------------------------------------------------
    def _run_ready(self) -> None:
        ready = self.queue
        engine = self.engine
        while ready:
            actor, request = ready.popleft()
            if actor.end_time is not None:
                continue
            try:
                if actor.steps is None:
                    actor.host.add_resident(actor)
                    if actor.host.frozen:  # its VM was frozen before it could start
                        actor.suspended = True
                        continue
                    actor.start_time = engine.now
                    if engine.traced:
                        engine.emit(events.ActorStarted(engine.now, actor.name, actor.host.name))
                    actor.bind(actor.function(actor, *actor.args))
                    actor.step()
                else:
                    actor.step(request)
            except ActivityFailed as failure:  # its code did not catch it: the actor ends there
                if actor.end_time is None:
                    actor.cause = str(failure)
                    self.ended(actor, failed=True)
                actor.fail(failure)  # for whoever waits on the actor itself
                continue
            if actor.end_time is not None:  # it killed itself meanwhile: stop its code
                if actor.waiting is not None:
                    actor.waiting.cancel()
                actor.interrupt()
            elif actor.done:
                if isinstance(actor.error, ActivityFailed):  # given to an actor waiting for this one
                    actor.cause = str(actor.error)
                    self.ended(actor, failed=True)
                else:
                    self.ended(actor)

    def ended(self, actor: Actor, *, killed: bool = False, failed: bool = False) -> None:
        """The actor's code returned (or it was killed, or failed): it leaves its host."""
        host = actor.host
        if host is not None:
            host.remove_resident(actor)
        if actor.kill_timer is not None:  # an actor that is gone does not keep the clock going
            actor.kill_timer.cancel()
        actor.end_time = self.engine.now
        actor.killed = killed
        actor.failed = failed
        if actor._posted:  # the isends and irecvs it did not wait for
            for comm in list(actor._posted):
                comm.abandon(actor)
        if self.engine.traced:
            where = host.name if host is not None else actor.placement
            self.engine.emit(events.ActorEnded(self.engine.now, actor.name, where, killed, actor.status, actor.cause))

    def blocked(self) -> list[Actor]:
        """The actors that have not finished."""
        return [actor for actor in self.actors.values() if not actor.finished]
