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

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from replay.actors import Actor
from replay.errors import PlatformError, ReplayError, StateError
from replay.platform import ActorSpec
from replay.process import Steps
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
        self.deployment = {spec.function: spec for spec in deployment}
        self.actions_done = 0
        #: the actions handed out so far to each actor that restarts (``on_failure="RESTART"``), to replay again
        self._tapes: dict[str, list[Action]] = {}

    def start(self) -> None:
        """Create every actor of the trace on its host; call once, then ``sim.run()``."""
        hosts = list(self.sim.platform.hosts)
        if not hosts:
            raise PlatformError(f"{self.sim.platform.source}: expected at least one host to run actors on, found none")
        for index, name in enumerate(self.source.actors()):
            first = self.source.next_action(name)
            spec = self.deployment.get(name)
            start_time = max(spec.start_time, 0.0) if spec is not None else 0.0
            kill_time = spec.kill_time if spec is not None and spec.kill_time >= 0 else None
            if spec is not None:  # it starts there; a first ``init`` then moves it (waiting for a VM to run)
                host = spec.host
            elif isinstance(first, Init) and first.host is not None:
                host = first.host
            else:
                host = hosts[index % len(hosts)]
            restart = spec is not None and spec.on_failure == "RESTART"
            if restart and first is not None:
                self._tapes[name] = [first]
            actor = self.sim.add_actor(
                name, host, self._body, first, start_time, start_time=start_time, kill_time=kill_time, wait_for_vm=True,
                restart=restart,
            )
            if first is not None:  # until it runs an action, an actor is where its first one is
                actor.context = f"{first.path}:{first.line}: "

    def _actions(self, name: str, first: Action | None) -> Iterator[Action]:
        """An actor's actions from its first; an actor that restarts gets them all again each time."""
        tape = self._tapes.get(name)
        if tape is None:
            action = first
            while action is not None:
                yield action
                action = self.source.next_action(name)
            return
        index = 0
        while True:
            if index == len(tape):
                more = self.source.next_action(name)
                if more is None:
                    return
                tape.append(more)
            yield tape[index]
            index += 1

    def _body(self, actor: Actor, first: Action | None, launch: float) -> Steps:
        ctx = ReplayContext(self.sim, actor)
        if actor.restarts:
            launch = self.sim.engine.now
        for seq, action in enumerate(self._actions(actor.name, first)):
            # a first ``init`` of an actor without a deployment only placed it (done in ``start``): it lasted
            # from the launch until the actor could run (its VM started)
            placing = seq == 0 and isinstance(action, Init) and actor.name not in self.deployment
            start = launch if placing else self.sim.engine.now
            actor.context = f"{action.path}:{action.line}: "
            value = None
            try:
                steps = None if placing else action.run(ctx)
                if steps is not None:
                    value = yield from steps
            except ReplayError as error:
                raise type(error)(f"{action.path}:{action.line}: {error}") from None
            except ValueError as error:
                raise StateError(f"{action.path}:{action.line}: {error}") from None
            if actor.finished:  # the action killed its own actor (a host_off of its host): not done
                return
            self.actions_done += 1
            if self.listeners:
                done = ActionDone(actor.name, seq, action, start, self.sim.engine.now, value)
                for listener in self.listeners:
                    listener(done)
