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

The 2013 model's options (the VM's :class:`~replay.vm.VmConfig`, and ``MigrationOptions`` here):

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

The migration is a :class:`~replay.process.Process` whose stages are sub-generators. It talks to the rest through
a narrow interface: the network moves bytes between the two PMs, the VM computes the overheads and is frozen,
moved and resumed through its own methods (:class:`~replay.vm.VirtualMachine`), and the one report type,
:class:`~replay.events.MigrationReport`, is what the issuer gets back, what the summary lists and what
:class:`~replay.events.MigrationEnded` carries.
"""
from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from replay import events
from replay.engine import Activity, Timer
from replay.errors import ActivityFailed, SimulationError, StateError
from replay.events import MigrationReport
from replay.hosts import ComputeHost, PhysicalHost
from replay.network import Network
from replay.process import Process, Steps, Wait
from replay.units import Bytes, BytesPerSecond, Seconds
from replay.vm import VirtualMachine

log = logging.getLogger(__name__)

#: SimGrid's limit on a migration's stage 2 (``mig_timeout``).
SIMGRID_TIMEOUT: Seconds = 1e7

#: Priorities of the overhead executions, as in the seed.
XFER_OVERHEAD_PRIORITY = 1.0
DPT_OVERHEAD_PRIORITY = 10000.0


@dataclass(frozen=True, slots=True)
class MigrationOptions:
    """How migrations are carried out (per simulation; the VM's own parameters are in its ``VmConfig``)."""

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


class Migration:
    """One live migration of ``vm`` to ``dst``; :meth:`start` runs it and returns the process the issuer waits on.

    ``ack_to`` is where the issuer runs (the acknowledgement goes to its PM; None: the destination itself);
    ``on_end(report)`` is told the report when the migration ends, successfully or not.
    """

    def __init__(
        self,
        vm: VirtualMachine,
        dst: PhysicalHost,
        *,
        network: Network,
        options: MigrationOptions,
        key: str,
        ack_to: ComputeHost | None,
        on_end: Callable[[MigrationReport], None],
    ) -> None:
        self.vm = vm
        self.src = vm.pm
        self.dst = dst
        self.network = network
        self.engine = network.engine
        self.options = options
        self.key = key
        self.ack_to = ack_to
        self.on_end = on_end
        self.start_time = self.engine.now
        self.process: Process | None = None
        # what the report will say
        self.sent = {1: 0, 2: 0, 3: 0}
        self.downtime = 0.0
        self.rounds = 0
        self.converged = True
        # the stages' shared state, in bytes
        config = vm.config
        self.dp_rate = config.mig_speed * config.dp_intensity / self.src.core_speed if self.src.core_speed else 1.0
        self.dp_cap = int(config.dirty_cap)
        self.deadline = self.start_time + options.timeout
        self.threshold: float = 0  # bytes; infinite when the downtime allows anything
        self.remaining = 0  # dirtied bytes not sent yet: what stage 2 works on
        self.skip_stage2 = config.skip_stage2
        self._transfer: Activity | None = None
        self._timer: Timer | None = None

    def start(self) -> Process:
        """Put the VM in MIGRATING and run the stages; the process ends with the report (or fails)."""
        vm = self.vm
        vm.begin_migration(self)
        engine = self.engine
        if engine.traced:
            engine.emit(events.MigrationStarted(engine.now, vm.name, self.src.name, self.dst.name, self.key))
        self.process = Process(f"migration of VM {vm.name!r} to {self.dst.name!r}", self._run())
        self.process.step()
        return self.process

    # -- the stages -------------------------------------------------------------------------------------------
    def _run(self) -> Steps:
        self.vm.start_dirty_tracking()
        try:
            computed = yield from self._stage1()
            if self.options.threshold_rate is not None:
                self.threshold = _whole(self.options.threshold_rate * self.vm.config.max_downtime)
            updated = self._dirtied(computed)
            self.remaining += updated
            if not self.skip_stage2:
                yield from self._stage2(updated)
            yield from self._stage3()
        except ActivityFailed as failure:  # a transfer lost to a failure of its route or of the destination
            self._stop_transfer()
            self.vm.end_migration()  # still on its source: it runs on there
            return self._end(f"VM {self.vm.name!r} stays on {self.src.name!r}: {failure}")
        # the VM has moved and runs on the destination: a lost acknowledgement does not undo that
        with contextlib.suppress(ActivityFailed):
            yield self._ack()
        return self._end("")

    def _stage1(self) -> Steps:
        """Send the whole RAM while the VM runs and dirties pages; return the flops it computed meanwhile."""
        config, options, engine = self.vm.config, self.options, self.engine
        if config.skip_stage1:
            return 0.0
        ramsize = int(config.ramsize)
        begin = engine.now
        computed = 0.0
        chunk = int(options.stage1_chunk) if options.stage1_chunk else ramsize
        left = ramsize
        while True:
            size = min(chunk, left)
            yield self._send(size, 1)
            left -= size
            flops = self.vm.lookup_dirty_flops()
            computed += flops
            if options.stage1_chunk:
                self._dpt_overhead(self._dirtied(flops))
            if left <= 0:
                break
        self.sent[1] = ramsize
        self._stage_event(1, 0, ramsize, engine.now - begin)
        if engine.now - begin > 0:
            self.threshold = _whole(ramsize / (engine.now - begin) * config.max_downtime)
        if engine.now > self.deadline:
            self.skip_stage2 = True
        return computed

    def _stage2(self, updated: int) -> Steps:
        """Send, round after round, the pages dirtied during the previous transfer until the rest fits the
        downtime at the measured throughput (or the rounds stall, or time runs out)."""
        options, engine = self.options, self.engine
        best = self.remaining
        stalled = 0
        while self.threshold < self.remaining:
            begin = engine.now
            sent = yield self._send(updated, 2, deadline=self.deadline)
            self.remaining -= sent
            self.sent[2] += sent
            flops = self.vm.lookup_dirty_flops()
            if sent < updated:  # SimGrid's timeout
                self.remaining += self._dirtied(flops)
                if options.on_stall == "simgrid":
                    self._fail(f"VM {self.vm.name!r}: migration timed out after {options.timeout:g} s in stage 2")
                self._forced("its stage 2 reached the timeout")
                return
            self.rounds += 1
            self._stage_event(2, self.rounds, sent, engine.now - begin)
            if engine.now > begin and options.threshold_rate is None:
                self.threshold = _whole(updated / (engine.now - begin) * self.vm.config.max_downtime)
            updated = self._dirtied(flops)
            self._dpt_overhead(updated)
            self.remaining += updated
            if self.remaining < best:
                best, stalled = self.remaining, 0
            else:
                stalled += 1
            if options.on_stall == "force" and stalled >= options.stall_rounds and self.threshold < self.remaining:
                self._forced(f"the remaining {self.remaining} bytes did not shrink for {stalled} rounds")
                return

    def _stage3(self) -> Steps:
        """Stop and copy: freeze the VM, send the rest, move it to the destination and let it run there."""
        vm, engine, config = self.vm, self.engine, self.vm.config
        vm.freeze()
        vm.stop_dirty_tracking()
        if engine.traced:
            engine.emit(events.StopAndCopyStarted(engine.now, vm.name, self.key))
        begin = engine.now
        # what stop-and-copy sends whatever happens: the device state, and the RAM itself without pre-copy
        self.remaining += int(config.devsize) + (int(config.ramsize) if config.skip_stage1 else 0)
        yield self._send(self.remaining, 3)
        self.sent[3] = self.remaining
        self.downtime = engine.now - begin
        self._stage_event(3, 0, self.remaining, engine.now - begin)
        vm.move_to(self.dst)
        vm.end_migration()

    # -- steps -------------------------------------------------------------------------------------------------
    def _dirtied(self, flops: float) -> int:
        return int(min(flops * self.dp_rate, self.dp_cap))

    def _send(self, size: int, stage: int, *, deadline: Seconds | None = None) -> Wait:
        """Transfer ``size`` bytes from the source to the destination; the request's value is the bytes sent."""
        request = Wait(f"stage {stage} of the migration of VM {self.vm.name!r}")
        rate = self.vm.config.mig_speed or math.inf

        def arrived(_: Activity) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._xfer_overhead(size)
            request.finish(size)

        self._transfer = self.network.transfer(
            self.src.name, self.dst.name, size, rate=rate, name=f"migration:{self.vm.name}", on_done=arrived,
            on_fail=lambda cause: self._lost(request, f"stage {stage} failed: {cause}"),
        )
        if deadline is not None:
            engine = self.engine

            def timeout() -> None:
                transfer = self._transfer
                assert transfer is not None
                left = engine.remaining(transfer) if transfer.started else transfer.amount
                engine.cancel(transfer)
                self._timer = None
                request.finish(size - math.ceil(left))

            self._timer = engine.schedule(max(deadline - engine.now, 0.0), timeout)
        return request

    def _ack(self) -> Wait:
        """The 0-byte acknowledgement from the destination to the issuer's PM, which ends the migration."""
        request = Wait(f"acknowledgement of the migration of VM {self.vm.name!r}")
        to = self.ack_to.pm.name if self.ack_to is not None else self.dst.name
        self._transfer = self.network.transfer(
            self.dst.name, to, 0.0, name=f"migration-ack:{self.vm.name}", on_done=lambda _: request.finish(0),
            on_fail=lambda cause: self._lost(request, f"acknowledgement failed: {cause}"),
        )
        return request

    def _lost(self, request: Wait, message: str) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        request.fail(ActivityFailed(message))

    def _xfer_overhead(self, size: int) -> None:
        flops = size * self.vm.config.xfer_cpu_overhead
        if flops > 0:
            self.vm.execute(flops, priority=XFER_OVERHEAD_PRIORITY, name="__migration_xfer_overhead")

    def _dpt_overhead(self, updated: int) -> None:
        flops = updated * self.vm.config.dpt_cpu_overhead
        if flops > 0:
            self.vm.execute(flops, priority=DPT_OVERHEAD_PRIORITY, name="__migration_dpt_overhead")

    def _stage_event(self, stage: int, round_: int, size: int, duration: Seconds) -> None:
        engine = self.engine
        if engine.traced:
            engine.emit(events.MigrationStage(engine.now, self.vm.name, self.key, stage, round_, size, duration))

    def _forced(self, why: str) -> None:
        self.converged = False
        log.warning("VM %s: migration to %s forced to stop-and-copy: %s", self.vm.name, self.dst.name, why)

    # -- endings -----------------------------------------------------------------------------------------------
    def _fail(self, message: str) -> None:
        """End with an error for the issuer; the VM stays (running) on its source."""
        self._stop_transfer()
        self.vm.end_migration()
        self._end(message)
        raise SimulationError(message)

    def abort(self, message: str, *, lost: bool = False) -> None:
        """The VM was shut down or destroyed during the migration (an error for the issuer), or ``lost`` with its
        PM (the issuer gets the report, aborted): stop."""
        assert self.process is not None
        if self.process.done:
            return
        self._stop_transfer()
        report = self._end(message)
        self.process.interrupt(None if lost else StateError(message), report)

    def _stop_transfer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._transfer is not None and not self._transfer.done:
            self.engine.cancel(self._transfer)

    def _end(self, error: str) -> MigrationReport:
        engine = self.engine
        report = MigrationReport(
            self.vm.name, self.src.name, self.dst.name, self.key, self.start_time, engine.now, self.downtime,
            self.sent[1], self.sent[2], self.sent[3], self.rounds, self.converged, error,
        )
        self.on_end(report)
        if engine.traced:
            engine.emit(events.MigrationEnded(engine.now, report))
        return report


def _whole(value: float) -> float:
    """Whole bytes, truncated as SimGrid's sizes are; a threshold too large for any size stays infinite."""
    return int(value) if value < math.inf else math.inf
