"""Replay: a registry from action keyword to a handler that calls the actor and VM API. Nothing else lives here.

A handler is ``handler(ctx, action)``: it may return nothing (an instant action) or a generator that yields the
requests the actor blocks on. Extra actions are registered per replayer (SimGrid's ``xbt_replay_action_register``
without its globals)::

    replayer = Replayer(sim, source)
    replayer.register("checkpoint", lambda ctx, action: ctx.actor.sleep(1.0) and None)

Where actors run: an ``init <host-or-vm>`` first action, else a deployment (``<actor host=.. function=..>``, the
function being the actor's name), else the platform's hosts in the order the actors first appear. An actor
placed on a VM starts when the VM runs. Any error of the run is raised as the project's error type, prefixed
with the ``file:line:`` of the action that hit it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

from replay import actions as act
from replay.actors import Actor, AllOf, Request
from replay.errors import PlatformError, ReplayError, StateError
from replay.platform import ActorSpec
from replay.simulation import Simulation
from replay.vm import MigrationParams

Handler = Callable[["ReplayContext", Any], Generator[Request, Any, None] | None]


@dataclass
class ReplayContext:
    """What a handler may use: the simulation, the actor, and the actor's pending asynchronous requests."""

    sim: Simulation
    actor: Actor
    pending: deque[Request] = field(default_factory=deque)


@dataclass(frozen=True, slots=True)
class ActionDone:
    """Told to the replayer's listeners after each action: who, which (0-based, per actor), when."""

    actor: str
    seq: int
    action: act.Action
    start: float
    end: float


class Replayer:
    """Drives one actor per trace actor through :class:`~replay.simulation.Simulation`."""

    def __init__(
        self,
        sim: Simulation,
        source: act.TraceSource,
        *,
        deployment: Iterable[ActorSpec] = (),
    ) -> None:
        self.sim = sim
        self.source = source
        self.handlers: dict[str, Handler] = dict(HANDLERS)
        self.listeners: list[Callable[[ActionDone], None]] = []
        self.deployment = {spec.function: spec for spec in deployment}
        self.actions_done = 0

    def register(self, keyword: str, handler: Handler) -> None:
        """Handle ``keyword`` lines with ``handler`` (replacing the built-in one, if any)."""
        self.handlers[keyword] = handler

    def start(self) -> None:
        """Create every actor of the trace on its host; call once, then ``sim.run()``."""
        hosts = list(self.sim.platform.hosts)
        if not hosts:
            raise PlatformError(f"{self.sim.platform.source}: expected at least one host to run actors on, found none")
        for index, name in enumerate(self.source.actors()):
            first = self.source.next_action(name)
            spec = self.deployment.get(name)
            start_time = max(spec.start_time, 0.0) if spec is not None else 0.0
            if isinstance(first, act.Init) and first.host is not None:
                host = first.host
            elif spec is not None:
                host = spec.host
            else:
                host = hosts[index % len(hosts)]
            self.sim.add_actor(name, host, self._body, first, start_time, start_time=start_time, wait_for_vm=True)

    def _body(self, actor: Actor, first: act.Action | None, launch: float) -> Generator[Request, Any, None]:
        ctx = ReplayContext(self.sim, actor)
        seq = 0
        action = first
        while action is not None:
            # a first ``init`` only placed the actor (done in ``start``): it lasted from the launch until the
            # actor could run (its VM started)
            placing = seq == 0 and isinstance(action, act.Init)
            handler = _nothing if placing else self.handlers.get(action.keyword)
            if handler is None:
                raise StateError(f"{action.path}:{action.line}: no handler registered for {action.keyword!r}")
            start = launch if placing else self.sim.engine.now
            actor.context = f"{action.path}:{action.line}: "
            try:
                steps = handler(ctx, action)
                if steps is not None:
                    yield from steps
            except ReplayError as error:
                raise type(error)(f"{action.path}:{action.line}: {error}") from None
            except ValueError as error:
                raise StateError(f"{action.path}:{action.line}: {error}") from None
            self.actions_done += 1
            if self.listeners:
                done = ActionDone(actor.name, seq, action, start, self.sim.engine.now)
                for listener in self.listeners:
                    listener(done)
            seq += 1
            action = self.source.next_action(actor.name)


# -- the built-in handlers ---------------------------------------------------------------------------------------

def _compute(ctx: ReplayContext, a: act.Compute) -> Generator[Request, Any, None]:
    yield ctx.actor.execute(a.flops, a.priority)


def _send(ctx: ReplayContext, a: act.Send) -> Generator[Request, Any, None]:
    yield ctx.actor.send(f"{ctx.actor.name}_{a.dst}", a.size)


def _recv(ctx: ReplayContext, a: act.Recv) -> Generator[Request, Any, None]:
    yield ctx.actor.recv(f"{a.src}_{ctx.actor.name}")


def _isend(ctx: ReplayContext, a: act.Isend) -> None:
    ctx.pending.append(ctx.actor.isend(f"{ctx.actor.name}_{a.dst}", a.size))


def _irecv(ctx: ReplayContext, a: act.Irecv) -> None:
    ctx.pending.append(ctx.actor.irecv(f"{a.src}_{ctx.actor.name}"))


def _wait(ctx: ReplayContext, a: act.Wait) -> Generator[Request, Any, None]:
    if not ctx.pending:
        raise StateError("'wait' expects a pending isend or irecv, found none")
    yield ctx.pending.popleft()


def _waitall(ctx: ReplayContext, a: act.WaitAll) -> Generator[Request, Any, None]:
    requests = list(ctx.pending)
    ctx.pending.clear()
    yield AllOf(requests)


def _sleep(ctx: ReplayContext, a: act.Sleep) -> Generator[Request, Any, None]:
    yield ctx.actor.sleep(a.duration)


def _init(ctx: ReplayContext, a: act.Init) -> Generator[Request, Any, None] | None:
    """Later in a trace, ``init <host-or-vm>`` moves the actor there (waiting for a VM to run)."""
    if a.host is not None:
        yield ctx.sim.move_actor(ctx.actor, a.host)


def _nothing(ctx: ReplayContext, a: act.Action) -> None:
    return None


def _vm_create(ctx: ReplayContext, a: act.VmCreate) -> None:
    params = MigrationParams(
        dp_intensity=a.dp_intensity,
        working_set=a.working_set,
        mig_speed=a.mig_speed,
        max_downtime=a.max_downtime,
        devsize=a.devsize,
        skip_stage1=a.skip_stage1,
        skip_stage2=a.skip_stage2,
        xfer_cpu_overhead=a.xfer_cpu_overhead,
        dpt_cpu_overhead=a.dpt_cpu_overhead,
    )
    bound = math.inf if not a.bound else a.bound
    ctx.sim.create_vm(a.vm, a.pm, cores=a.cores, ramsize=a.ram, bound=bound, params=params)


def _vm_start(ctx: ReplayContext, a: act.VmStart) -> None:
    ctx.sim.start_vm(ctx.sim.vm(a.vm))


def _vm_suspend(ctx: ReplayContext, a: act.VmSuspend) -> None:
    ctx.sim.suspend_vm(ctx.sim.vm(a.vm), ctx.actor)


def _vm_resume(ctx: ReplayContext, a: act.VmResume) -> None:
    ctx.sim.resume_vm(ctx.sim.vm(a.vm))


def _vm_save(ctx: ReplayContext, a: act.VmSave) -> Generator[Request, Any, None]:
    yield ctx.sim.save_vm(ctx.sim.vm(a.vm), ctx.actor)


def _vm_restore(ctx: ReplayContext, a: act.VmRestore) -> Generator[Request, Any, None]:
    yield ctx.sim.restore_vm(ctx.sim.vm(a.vm))


def _vm_shutdown(ctx: ReplayContext, a: act.VmShutdown) -> None:
    ctx.sim.shutdown_vm(ctx.sim.vm(a.vm), ctx.actor)


def _vm_destroy(ctx: ReplayContext, a: act.VmDestroy) -> None:
    ctx.sim.destroy_vm(ctx.sim.vm(a.vm), ctx.actor)


def _vm_migrate(ctx: ReplayContext, a: act.VmMigrate) -> Generator[Request, Any, None]:
    yield ctx.sim.migrate_vm(ctx.sim.vm(a.vm), a.dst, ctx.actor)


def _vm_set_bound(ctx: ReplayContext, a: act.VmSetBound) -> None:
    ctx.sim.vm(a.vm).set_bound(a.bound if a.bound else math.inf)


HANDLERS: dict[str, Handler] = {
    "init": _init,
    "compute": _compute,
    "send": _send,
    "recv": _recv,
    "isend": _isend,
    "irecv": _irecv,
    "wait": _wait,
    "waitall": _waitall,
    "sleep": _sleep,
    "finalize": _nothing,
    "vm_create": _vm_create,
    "vm_start": _vm_start,
    "vm_suspend": _vm_suspend,
    "vm_resume": _vm_resume,
    "vm_save": _vm_save,
    "vm_restore": _vm_restore,
    "vm_shutdown": _vm_shutdown,
    "vm_destroy": _vm_destroy,
    "vm_migrate": _vm_migrate,
    "vm_set_bound": _vm_set_bound,
}
