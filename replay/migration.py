"""Pre-copy live migration, as SimGrid 3.32's live-migration plugin does it, plus the 2013 model's options.

The issuer blocks for the whole migration. Every byte is a real transfer between the two PMs on the network
model, bounded by the VM's ``mig_speed`` when it has one. Sizes are whole bytes, truncated as SimGrid does.

1. **Stage 1** sends the RAM while the VM runs (MIGRATING), with dirty-page tracking on: the flops its
   executions compute (including executions that end meanwhile) dirty ``min(flops x dp_rate, working_set)``
   bytes per lookup, with ``dp_rate = mig_speed x dp_intensity / PM core speed``. The threshold is the stage's
   throughput times ``max_downtime``.
2. **Stage 2** sends, round after round, the bytes dirtied during the previous transfer, and re-measures the
   throughput (so the threshold) after each round, as long as the remaining bytes exceed the threshold.
3. **Stage 3** (stop and copy) freezes the VM, sends the remaining bytes (and the device state ``devsize``),
   moves the VM to the destination PM, lets it run again, and sends a 0-byte acknowledgement from the destination
   to the issuer's host, which ends the migration. The *downtime* is the stop-and-copy transfer: the VM runs
   again before the acknowledgement.

Non-convergence. When the VM dirties memory as fast as it can be sent, the remaining bytes stop shrinking and
SimGrid loops until its 10^7 s timeout. With ``on_stall="force"`` (the default) we go to stop-and-copy once
the
remaining bytes have not reached a new minimum for ``stall_rounds`` rounds in a row: a converging migration,
however slow, shrinks at every round and is never cut short, so it gives exactly SimGrid's numbers. The forced
migration warns and reports ``converged=False``. ``on_stall="simgrid"`` keeps looping like SimGrid, and its
timeout ends the migration with an error instead of a hang (the VM then stays on its source).

The 2013 model's options (``MigrationParams`` of the VM, and ``MigrationOptions`` here):

* ``devsize``: bytes of device state, sent at stop-and-copy;
* ``skip_stage1``: no pre-copy, the RAM goes with stop-and-copy; ``skip_stage2``: stop-and-copy right after
  stage 1, with the pages dirtied meanwhile. Unlike the seed, which counted the device state and the unsent RAM
  in the bytes stage 2 must bring under the threshold (so that stage 2 could never end), stage 2 here only
  chases dirtied pages, and those two go with stop-and-copy;
* ``stage1_chunk``: the seed sends the RAM in 100 MiB chunks, with a dirty-page lookup after each;
* ``threshold_rate``: the seed's threshold assumes a 1 Gbps link (125 MiB/s) instead of measuring;
* ``xfer_cpu_overhead``: flops per byte received, run on the VM at priority 1 when each transfer arrives;
* ``dpt_cpu_overhead``: flops per dirtied byte, run on the VM at priority 10000 after each lookup.

The seed calibrated the transfer overhead at 22 % of a 1e8 flop/s CPU for 80 MiB/s:
``0.22 x 1e8 / (80 x 2^20) = 0.2623`` flops per byte. ``SEED_OPTIONS`` sets chunking and threshold.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from replay import events
from replay.actors import Request, Wait
from replay.engine import Activity, Timer
from replay.errors import SimulationError, StateError
from replay.units import Bytes, BytesPerSecond, Seconds

if TYPE_CHECKING:
    from replay.actors import Actor
    from replay.simulation import ExecHost, Simulation
    from replay.vm import VirtualMachine

log = logging.getLogger(__name__)

#: SimGrid's limit on a migration's stage 2 (``mig_timeout``).
SIMGRID_TIMEOUT: Seconds = 1e7

#: The seed's calibration of the transfer overhead: 22 % of a 1e8 flop/s CPU at 80 MiB/s, in flops per byte.
SEED_XFER_CPU_OVERHEAD = 0.22 * 1e8 / (80 * 1024 * 1024)

#: Priorities of the overhead executions, as in the seed.
XFER_OVERHEAD_PRIORITY = 1.0
DPT_OVERHEAD_PRIORITY = 10000.0


@dataclass(frozen=True, slots=True)
class MigrationOptions:
    """How migrations are carried out (per simulation; the VM's own parameters are in ``MigrationParams``)."""

    on_stall: Literal["force", "simgrid"] = "force"
    stall_rounds: int = 10
    timeout: Seconds = SIMGRID_TIMEOUT
    stage1_chunk: Bytes | None = None
    threshold_rate: BytesPerSecond | None = None

    def __post_init__(self) -> None:
        if self.on_stall not in ("force", "simgrid"):
            raise ValueError(f"on_stall must be 'force' or 'simgrid', got {self.on_stall!r}")
        if self.stall_rounds < 1:
            raise ValueError(f"stall_rounds must be at least 1, got {self.stall_rounds}")


#: The 2013 hypervisor branch's variant: RAM in 100 MiB chunks, threshold assuming a 1 Gbps link.
SEED_OPTIONS = MigrationOptions(stage1_chunk=100 * 1024 * 1024, threshold_rate=125 * 1024 * 1024)


@dataclass
class MigrationReport:
    """The metrics of one migration (also emitted as :class:`replay.events.MigrationEnded`)."""

    vm: str
    src: str
    dst: str
    key: str
    start: Seconds
    end: Seconds | None = None
    downtime: Seconds = 0.0
    bytes: dict[str, int] = field(default_factory=lambda: {"stage1": 0, "stage2": 0, "stage3": 0})
    rounds: int = 0
    converged: bool = True
    error: str = ""

    @property
    def duration(self) -> Seconds | None:
        return None if self.end is None else self.end - self.start

    def as_dict(self) -> dict[str, Any]:
        return {
            "vm": self.vm,
            "src": self.src,
            "dst": self.dst,
            "start": self.start,
            "end": self.end,
            "duration": self.duration,
            "downtime": self.downtime,
            "bytes": dict(self.bytes),
            "rounds": self.rounds,
            "converged": self.converged,
            "error": self.error,
        }


class DirtyPageTracker:
    """Counts the flops the VM's executions compute between two lookups (SimGrid's dirty-page tracking)."""

    def __init__(self, sim: Simulation, vm: VirtualMachine) -> None:
        self.engine = sim.engine
        self.seen: dict[Activity, float] = {a: self.engine.remaining(a) for a in vm.cpu.activities}
        self.by_ended = 0.0

    def started(self, activity: Activity) -> None:
        self.seen[activity] = activity.amount

    def ended(self, activity: Activity) -> None:
        """An execution completed (or was cancelled) since the last lookup: keep what it computed."""
        if activity in self.seen:
            self.by_ended += self.seen.pop(activity) - activity.remaining

    def lookup(self) -> float:
        """Flops computed since the previous lookup."""
        total = self.by_ended
        for activity in self.seen:
            now = self.engine.remaining(activity)
            total += self.seen[activity] - now
            self.seen[activity] = now
        self.by_ended = 0.0
        return total


class Migration:
    """One live migration of ``vm`` to ``dst``; created by :meth:`Simulation.migrate_vm`."""

    def __init__(
        self, sim: Simulation, vm: VirtualMachine, dst: ExecHost, issuer: Actor | None, options: MigrationOptions
    ) -> None:
        self.sim = sim
        self.vm = vm
        self.src = vm.pm
        self.dst = dst
        self.issuer = issuer
        self.options = options
        self.request = Wait(f"migration of VM {vm.name!r} to {dst.name!r}")
        self.report = MigrationReport(vm.name, self.src.name, dst.name, str(sim.next_key()), sim.engine.now)
        self.tracker: DirtyPageTracker | None = None
        self._transfer: Activity | None = None
        self._timer: Timer | None = None
        self._process: Generator[Request, Any, None] | None = None
        self.finished = False

    # -- the process -------------------------------------------------------------------------------------------
    def start(self) -> Request:
        engine = self.sim.engine
        if engine.traced:
            r = self.report
            engine.emit(events.MigrationStarted(engine.now, r.vm, r.src, r.dst, r.key))
        self._process = self._stages()
        self._advance(None)
        return self.request

    def _advance(self, request: Request | None) -> None:
        assert self._process is not None
        if self.finished:
            return
        try:
            step = self._process.send(None if request is None else request.value)
        except StopIteration:
            return
        step.then(self._advance)

    def _stages(self) -> Generator[Request, Any, None]:
        vm, params, options = self.vm, self.vm.params, self.options
        engine = self.sim.engine
        ramsize = int(vm.ramsize)
        speed = self.src.core_speed
        dp_rate = params.mig_speed * params.dp_intensity / speed if speed else 1.0
        dp_cap = int(vm.working_set)
        max_downtime = params.max_downtime if params.max_downtime > 0 else 0.03
        deadline = engine.now + options.timeout
        # what stop-and-copy sends whatever happens: the device state, and the RAM itself without pre-copy
        at_stop = int(params.devsize) + (ramsize if params.skip_stage1 else 0)
        remaining = 0  # dirtied bytes not sent yet: what stage 2 works on

        def dirtied(flops: float) -> int:
            return min(int(flops * dp_rate), dp_cap)

        # Stage 1: the whole RAM, the VM running and dirtying pages.
        self.tracker = DirtyPageTracker(self.sim, vm)
        computed = 0.0
        threshold = 0
        skip_stage2 = params.skip_stage2
        begin = engine.now
        if not params.skip_stage1:
            chunk = int(options.stage1_chunk) if options.stage1_chunk else ramsize
            left = ramsize
            while True:
                size = min(chunk, left)
                yield self._send(size, 1)
                left -= size
                flops = self.tracker.lookup()
                computed += flops
                if options.stage1_chunk:
                    self._dpt_overhead(dirtied(flops))
                if left <= 0:
                    break
            self.report.bytes["stage1"] = ramsize
            self._stage_event(1, 0, ramsize, engine.now - begin)
            if engine.now - begin > 0:
                threshold = int(ramsize / (engine.now - begin) * max_downtime)
            if engine.now > deadline:
                skip_stage2 = True
        if options.threshold_rate is not None:
            threshold = int(options.threshold_rate * max_downtime)

        # Stage 2: the pages dirtied during the previous transfer, until what is left fits the downtime.
        updated = dirtied(computed)
        remaining += updated
        if not skip_stage2:
            best = remaining
            stalled = 0
            while threshold < remaining:
                begin = engine.now
                sent = yield self._send(updated, 2, deadline=deadline)
                remaining -= sent
                self.report.bytes["stage2"] += sent
                flops = self.tracker.lookup()
                if sent < updated:  # SimGrid's timeout
                    remaining += dirtied(flops)
                    if options.on_stall == "simgrid":
                        self._fail(f"VM {vm.name!r}: migration timed out after {options.timeout:g} s in stage 2")
                        return
                    self._forced("its stage 2 reached the timeout")
                    break
                self.report.rounds += 1
                self._stage_event(2, self.report.rounds, sent, engine.now - begin)
                if engine.now > begin and options.threshold_rate is None:
                    threshold = int(updated / (engine.now - begin) * max_downtime)
                updated = dirtied(flops)
                self._dpt_overhead(updated)
                remaining += updated
                if remaining < best:
                    best, stalled = remaining, 0
                else:
                    stalled += 1
                if options.on_stall == "force" and stalled >= options.stall_rounds and threshold < remaining:
                    self._forced(f"the remaining {remaining} bytes did not shrink for {stalled} rounds")
                    break

        # Stage 3: stop and copy, move, resume, acknowledge.
        self.sim.freeze_vm(vm)
        self.tracker = None
        begin = engine.now
        remaining += at_stop
        yield self._send(remaining, 3)
        self.report.bytes["stage3"] = remaining
        self.report.downtime = engine.now - begin
        self._stage_event(3, 0, remaining, engine.now - begin)
        self.sim.move_vm(vm, self.dst)
        self.sim.thaw_vm(vm)
        vm.transition("migrate_done")
        vm.migration = None
        yield self._ack()
        self._succeed()

    # -- steps -------------------------------------------------------------------------------------------------
    def _send(self, size: int, stage: int, *, deadline: Seconds | None = None) -> Request:
        """Transfer ``size`` bytes from the source to the destination; the request's value is the bytes sent."""
        request = Wait(f"stage {stage} of the migration of VM {self.vm.name!r}")
        rate = self.vm.params.mig_speed or math.inf

        def arrived(_: Activity) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._xfer_overhead(size)
            request.finish(size)

        self._transfer = self.sim.transfer(
            self.src.name, self.dst.name, size, rate=rate, name=f"migration:{self.vm.name}", on_done=arrived
        )
        if deadline is not None:
            engine = self.sim.engine

            def timeout() -> None:
                transfer = self._transfer
                assert transfer is not None
                left = engine.remaining(transfer) if transfer.started else transfer.amount
                engine.cancel(transfer)
                self._timer = None
                request.finish(size - math.ceil(left))

            self._timer = engine.schedule(max(deadline - engine.now, 0.0), timeout)
        return request

    def _ack(self) -> Request:
        request = Wait(f"acknowledgement of the migration of VM {self.vm.name!r}")
        issuer_host = self.issuer.host.pm_name if self.issuer is not None else self.dst.name
        self._transfer = self.sim.transfer(
            self.dst.name, issuer_host, 0.0, name=f"migration-ack:{self.vm.name}",
            on_done=lambda _: request.finish(0),
        )
        return request

    def _xfer_overhead(self, size: int) -> None:
        flops = size * self.vm.params.xfer_cpu_overhead
        if flops > 0:
            self.sim.start_exec(self.vm, flops, priority=XFER_OVERHEAD_PRIORITY, name="__migration_xfer_overhead")

    def _dpt_overhead(self, updated: int) -> None:
        flops = updated * self.vm.params.dpt_cpu_overhead
        if flops > 0:
            self.sim.start_exec(self.vm, flops, priority=DPT_OVERHEAD_PRIORITY, name="__migration_dpt_overhead")

    def _stage_event(self, stage: int, round_: int, size: int, duration: Seconds) -> None:
        engine = self.sim.engine
        if engine.traced:
            engine.emit(events.MigrationStage(engine.now, self.vm.name, self.report.key, stage, round_, size, duration))

    def _forced(self, why: str) -> None:
        self.report.converged = False
        log.warning("VM %s: migration to %s forced to stop-and-copy: %s", self.vm.name, self.dst.name, why)

    # -- endings -----------------------------------------------------------------------------------------------
    def _succeed(self) -> None:
        self.finished = True
        self._end("")
        self.request.finish(self.report)

    def _fail(self, message: str) -> None:
        """End with an error for the issuer; the VM stays (running) on its source."""
        self.finished = True
        self._stop_transfer()
        vm = self.vm
        vm.migration = None
        if vm.state.value == "MIGRATING":
            if vm.frozen:
                self.sim.thaw_vm(vm)
            vm.transition("migrate_done")
        self._end(message)
        self.request.fail(SimulationError(message))

    def abort(self, message: str) -> None:
        """The VM was shut down or destroyed during the migration: stop, and tell the issuer."""
        if self.finished:
            return
        self.finished = True
        self._stop_transfer()
        self.vm.migration = None
        self._end(message)
        self.request.fail(StateError(message))

    def _stop_transfer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._transfer is not None and not self._transfer.done:
            self.sim.engine.cancel(self._transfer)
        self.tracker = None

    def _end(self, error: str) -> None:
        engine = self.sim.engine
        r = self.report
        r.end = engine.now
        r.error = error
        self.sim.migrations.append(r)
        if engine.traced:
            engine.emit(
                events.MigrationEnded(
                    engine.now, r.vm, r.src, r.dst, r.key, r.start, r.downtime,
                    r.bytes["stage1"], r.bytes["stage2"], r.bytes["stage3"], r.rounds, r.converged, error,
                )
            )


def check_migration(vm: VirtualMachine, dst: ExecHost) -> None:
    """The errors SimGrid raises before a migration starts."""
    if vm.migration is not None:
        raise StateError(f"VM {vm.name!r}: cannot migrate: it is already migrating")
    vm.check("migrate")
    if dst is vm.pm:
        raise StateError(f"VM {vm.name!r}: cannot migrate to {dst.name!r}: it is already there")

