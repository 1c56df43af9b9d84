"""Replay: one actor per trace actor, each running its actions in order. Nothing else lives here.

Each action carries its own handler (:meth:`replay.trace.Action.run`), so the replayer only places the actors,
feeds them their actions, and reports each one done. Actions of the user's own are declared on a copy of the
built-in registry and given to the trace source (:func:`replay.trace.open_trace`)::

    registry = BUILTIN.copy()

    @registry.declare
    @dataclass(frozen=True, slots=True)
    class Checkpoint(Action):
        keyword: ClassVar[str] = "checkpoint"

        def run(self, ctx):
            yield ctx.actor.sleep(1.0)

Where actors run: a deployment (``<actor host=.. function=..>``, the function being the actor's name; a first
``init <host-or-vm>`` then moves the actor there, waiting for a VM to run), else an ``init <host-or-vm>`` first
action, else the platform's hosts in the order the actors first appear. An actor
placed on a VM starts when the VM runs. Any error of the run is raised as the project's error type, prefixed
with the ``file:line:`` of the action that hit it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any

from replay.actors import Actor
from replay.errors import PlatformError, ReplayError, StateError
from replay.platform import ActorSpec
from replay.process import Request, Steps
from replay.simulation import Simulation
from replay.trace import Action, ReplayContext, TraceSource
from replay.trace.actor_actions import Init


@dataclass(frozen=True, slots=True)
class ActionDone:
    """Told to the replayer's listeners after each action: who, which (0-based, per actor), when."""

    actor: str
    seq: int
    action: Action
    start: float
    end: float
    #: what the action gave back, if anything (a ``load``: the flops served)
    value: Any = None


class Replayer:
    """Drives one actor per trace actor through :class:`~replay.simulation.Simulation`."""

    def __init__(self, sim: Simulation, source: TraceSource, *, deployment: Iterable[ActorSpec] = ()) -> None:
        self.sim = sim
        self.source = source
        self.listeners: list[Callable[[ActionDone], None]] = []
        self._deployment = deployment
        self.actions_done = 0
        #: the actions handed out so far to each actor that restarts (``on_failure="RESTART"``), to replay again
        self._tapes: dict[str, list[Action]] = {}
        #: first actions read before their actor ran (None: it has none)
        self._firsts: dict[str, Action | None] = {}

    def start(self) -> None:
        """Create every actor of the trace on its host; call once, then ``sim.run()``.

        An actor of the deployment reads its first action when it runs, not here: the actions are then read about
        in the order they are replayed, and a trace read lazily (:attr:`TraceSource.rereads`) holds few of them
        at a time, rather than every one up to the last actor's first.
        """
        hosts = list(self.sim.platform.hosts)
        if not hosts:
            raise PlatformError(f"{self.sim.platform.source}: expected at least one host to run actors on, found none")
        deployment = {spec.function: spec for spec in self._deployment}
        script = self._script  # one bound method for every actor
        for index, name in enumerate(self.source.actors()):
            spec = deployment.get(name)
            launch = None
            if spec is not None:  # it starts there; a first ``init`` then moves it (waiting for a VM to run)
                start_time = max(spec.start_time, 0.0)
                kill_time = spec.kill_time if spec.kill_time >= 0 else None
                host = spec.host
                where: Any = _Unread(self, name)
            else:
                start_time, kill_time = 0.0, None
                first = where = self._firsts[name] = self.source.next_action(name)
                if isinstance(first, Init):
                    # a first ``init`` of an actor without a deployment only places it (done here): it lasts from
                    # the launch until the actor can run (its VM started)
                    launch = start_time
                host = first.host if isinstance(first, Init) and first.host is not None else hosts[index % len(hosts)]
            restart = spec is not None and spec.on_failure == "RESTART"
            if restart:
                self._tapes[name] = []
            actor = self.sim.add_actor(
                name, host, script, *(() if launch is None else (launch,)), start_time=start_time, kill_time=kill_time,
                wait_for_vm=True, restart=restart,
            )
            if where is not None:  # until it runs an action, an actor is where its first one is
                actor.context = where

    def _script(self, actor: Actor, launch: float | None = None) -> Steps:
        """An actor's code: its actions, from its first (``launch``: the date it was launched, when its first
        action only placed it)."""
        return _Script(self, actor, self.nth_action(actor.name, 0), launch)

    def first_action(self, name: str) -> Action | None:
        """The first action of an actor that has not run yet (read now if it was not)."""
        if name not in self._firsts:
            self._firsts[name] = self.source.next_action(name)
        return self._firsts[name]

    def nth_action(self, name: str, seq: int) -> Action | None:
        """Action ``seq`` of an actor (None: it had them all); an actor that restarts reads them from its tape,
        which grows as it first reads them, so that it gets them all again each time."""
        tape = self._tapes.get(name)
        if tape is None:
            return self._read(name)
        if seq == len(tape):
            more = self._read(name)
            if more is None:
                return None
            tape.append(more)
        return tape[seq]

    def _read(self, name: str) -> Action | None:
        """The next action of an actor not handed to it yet."""
        if name in self._firsts:
            first = self._firsts.pop(name)
            if first is not None:
                return first
        return self.source.next_action(name)

    def report(self, actor: Actor, seq: int, action: Action, start: float, value: Any) -> None:
        """An action is done: count it and tell the listeners."""
        self.actions_done += 1
        if self.listeners:
            done = ActionDone(actor.name, seq, action, start, self.sim.engine.now, value)
            for listener in self.listeners:
                listener(done)


class _Script(ReplayContext, Generator[Request, Any, None]):
    """An actor's actions run one after the other: the generator its process drives, and the context its actions
    get.

    It does what ``for action in actions: value = yield from action.run(ctx)`` would, written out: a generator
    function's frame would live as long as its actor, some 350 bytes more per actor, and a run may have a
    million actors. An action's ``run`` gives a generator of requests (driven as ``yield from`` drives one), a
    request (waited for; the action gives back nothing) or None (nothing to wait for). An error of an action is
    raised as the project's error type (a ``ValueError`` as a :class:`StateError`), prefixed with its
    ``file:line:``.
    """

    __slots__ = ("_replayer", "action", "gi_running", "launch", "seq", "start", "steps")

    def __init__(self, replayer: Replayer, actor: Actor, first: Action | None, launch: float | None) -> None:
        super().__init__(replayer.sim, actor)
        self._replayer = replayer
        #: the action under way (None: all done), its rank and the date it started
        self.action = first
        self.seq = 0
        self.start = 0.0
        #: the date the actor was launched, when its first action only placed it (None: it did not)
        self.launch = launch
        #: what the action under way waits on: None (not started yet), a request, or the iterator of its steps
        self.steps: Any = None
        self.gi_running = False

    def send(self, value: Any) -> Request:
        return self._resume(value, None)

    def throw(self, error: Any, *_: Any) -> Request:
        return self._resume(None, error)

    def close(self) -> None:
        """Stop for good (the actor is killed): the steps of the action under way are closed."""
        steps, action = self.steps, self.action
        self.steps = self.action = None
        close = None if isinstance(steps, Request) else getattr(steps, "close", None)
        if close is not None and action is not None:
            try:
                close()
            except (ReplayError, ValueError) as error:
                raise _located(action, error) from None

    def _resume(self, value: Any, error: BaseException | None) -> Request:
        """Run on, from the request just done (its ``value`` or ``error``), until an action waits or none is left."""
        self.gi_running = True
        try:
            while (action := self.action) is not None:
                placing = False
                if self.steps is None:  # the action starts
                    placing = self.seq == 0 and self.launch is not None
                    self.start = self.launch if placing else self.sim.engine.now  # type: ignore[assignment]
                    self.actor.context = action
                try:
                    request, value = self._step(action, placing, value, error)
                except (ReplayError, ValueError) as failure:
                    raise _located(action, failure) from None
                if request is not None:
                    return request
                error = None
                self._ended(action, value)
                value = None
            raise StopIteration
        finally:
            self.gi_running = False

    def _step(self, action: Action, placing: bool, value: Any, error: BaseException | None
              ) -> tuple[Request | None, Any]:
        """Run ``action`` on: the request it now waits on, or None and what it gave back once done."""
        steps = self.steps
        if steps is None:  # it starts (unless it only placed the actor)
            steps = None if placing else action.run(self)
            if steps is None:
                return None, None
            self.steps = steps if isinstance(steps, Request) else iter(steps)
            if isinstance(steps, Request):
                return steps, None
            steps, value, error = self.steps, None, None
        elif isinstance(steps, Request):  # the request it waited on is done
            if error is not None:
                raise error
            return None, None
        try:
            if error is not None:
                throw = getattr(steps, "throw", None)
                if throw is None:
                    raise error
                return throw(error), None
            return (next(steps) if value is None else steps.send(value)), None
        except StopIteration as stop:
            return None, stop.value

    def _ended(self, action: Action, value: Any) -> None:
        """``action`` is done: report it and take the next one (none if the action killed its own actor)."""
        self.steps = None
        actor = self.actor
        if actor.finished:  # the action killed its own actor (a host_off of its host): not done
            self.action = None
            return
        replayer = self._replayer
        replayer.report(actor, self.seq, action, self.start, value)
        self.seq += 1
        self.action = replayer.nth_action(actor.name, self.seq)


def _located(action: Action, error: Exception) -> ReplayError:
    """``error`` of ``action`` as the project's error type, prefixed with the action's ``file:line:``."""
    if isinstance(error, ReplayError):
        return type(error)(f"{action.location}{error}")
    return StateError(f"{action.location}{error}")


class _Unread:
    """Where a deployed actor that has not run yet is: its first action, read only when a message asks (a deadlock
    report); a :class:`~replay.actors.Located`."""

    __slots__ = ("name", "replayer")

    def __init__(self, replayer: Replayer, name: str) -> None:
        self.replayer = replayer
        self.name = name

    @property
    def location(self) -> str:
        first = self.replayer.first_action(self.name)
        return first.location if first is not None else ""
