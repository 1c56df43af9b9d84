"""The trace an import writes: one actor per VM, which creates its VM, loads it sample after sample, destroys it.

For VM ``vm-12`` on PM ``pm-3``, living from 600 s to 1500 s of the window::

    # vm-12: <original id>                     (header: every VM's first lines, in dataset order)
    d-vm-12 init pm-3
    d-vm-12 sleep 600                          (omitted when the VM starts at 0)
    ...
    d-vm-12 vm_create vm-12 pm-3 cores=1 ram=1GiB     (body: in rough time order, see below)
    d-vm-12 vm_start vm-12
    d-vm-12 init vm-12                         (the actor moves into its VM)
    d-vm-12 load 0.47 600                      (two equal 300-s samples, merged)
    d-vm-12 sleep 300                          (no sample: no demand)
    d-vm-12 init pm-3                          (out again: an actor cannot shut down the VM it runs in)
    d-vm-12 vm_shutdown vm-12
    d-vm-12 vm_destroy vm-12

``load <fraction> <duration>`` asks ``fraction`` of the VM's vCPUs for ``duration`` seconds; with ``rates``
(absolute demands of VMs placed by the run) ``load <rate>f <duration>`` asks ``rate`` flop/s for the whole VM. A
sample at ``t`` lasts until the VM's next sample or its nominal duration, whichever comes first, cut to the VM's
life; the time of the life that no sample covers is a ``sleep``; consecutive samples of equal value that touch
are one load. A value above its cap (a fraction above 1: the VM cannot use more than its vCPUs; a rate above the
VM's own capacity) is written as the cap and counted in the report. Every ``vm_create`` ends with the import's
``vm_options``.

Every actor's lines are in its order, wherever they are in the file. The first lines of every actor come first
(every actor starts at date 0 and asks for them at once); the rest follows in rough time order: a load is
written when the next sample differs from it, or when the importer calls :meth:`TraceWriter.flush` (every
6 hours of data), so a replay that reads a long trace lazily only holds a few hours of lines ahead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from replay.workloads.model import ImportReport, VmInfo, Window

SLAB = 6 * 3600.0
"""Seconds of data between two flushes of the merged loads (see the module docstring)."""

_SIZES = (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))


def number(value: float) -> str:
    """A number as the trace writes it: an integer without a dot (``300``), else the shortest text that reads
    back to the same double (``0.47``)."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def size(value: float) -> str:
    """Bytes with the largest binary unit that divides them (``4GiB``, ``870MiB``), else in bytes (``100B``)."""
    value = float(value)
    if value.is_integer():
        whole = int(value)
        for unit, scale in _SIZES:
            if whole % scale == 0:
                return f"{whole // scale}{unit}"
    return f"{number(value)}B"


def comment_text(text: str) -> str:
    """``text`` safe in a comment line: what is not printable (a line end, a lone surrogate of a file name that
    is not UTF-8) is escaped as ``\\xNN``, ``\\uNNNN``."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else char.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for char in text)


class _Timeline:
    """Where one VM's trace stands: the sample whose end is not known yet, the load being merged, the date up to
    which lines are written (``cursor``), whether the VM was created."""

    __slots__ = ("created", "cursor", "last", "last_duration", "last_fraction", "run_end", "run_fraction",
                 "run_start", "vm")

    def __init__(self, vm: VmInfo) -> None:
        self.vm = vm
        self.created = False
        self.cursor = vm.start
        self.last: float | None = None
        self.last_fraction = 0.0
        self.last_duration = 0.0
        self.run_fraction: float | None = None
        self.run_start = self.run_end = 0.0


class TraceWriter:
    """Writes the trace of placed VMs to ``stream`` (a text file opened by the caller, who commits it)."""

    def __init__(self, stream: TextIO, window: Window, report: ImportReport, *, vm_options: Sequence[str] = ()
                 ) -> None:
        self.stream = stream
        self.window = window
        self.report = report
        self._unit = "f" if report.rates else ""
        self._options = "".join(f" {option}" for option in vm_options)
        self._timelines: dict[int, _Timeline] = {}

    # -- the header --------------------------------------------------------------------------------------------
    def header(self, vms: Sequence[VmInfo], pms: int, place: str, *, inputs: str) -> None:
        """The file's comments and, for every VM, its comment, its actor's ``init`` and its first ``sleep``."""
        write = self.stream.write
        origin = self.window.start
        window = f"[{number(origin)}, {number(self.window.end)})" if self.window.end != float("inf") else (
            f"[{number(origin)}, end)")
        asked = "<flop/s of the VM>f" if self.report.rates else "<fraction of the VM's vCPUs>"
        write(f"# replay import {self.report.format} {comment_text(inputs)}\n"
              f"# {len(vms)} VMs on {pms} PMs ({place}); window {window} s of the dataset is dates 0 on here\n"
              f"# each VM has an actor d-<vm>: it creates its VM, starts it, moves in, asks `load {asked} "
              "<seconds>` per sample, moves out, shuts the VM down and destroys it\n")
        for vm in vms:
            write(f"# {vm.name}: {comment_text(vm.source)}\n{vm.actor} init {vm.host}\n")
            if vm.start > origin:
                write(f"{vm.actor} sleep {number(vm.start - origin)}\n")
            self.report.end = max(self.report.end, vm.end - origin)

    # -- the body ------------------------------------------------------------------------------------------------
    def sample(self, vm: VmInfo, date: float, fraction: float, duration: float, cap: float = 1.0) -> None:
        """VM ``vm`` asks ``fraction`` of its vCPUs (with ``rates``: that many flop/s, at most ``cap``) from
        ``date`` (dataset seconds) for at most ``duration`` seconds; its samples come in increasing dates. A sample
        outside the VM's life is ignored, uncounted."""
        if date >= vm.end or date + duration <= vm.start:
            return  # outside the VM's life (cut by the window)
        timeline = self._timelines.get(vm.index)
        if timeline is None:
            timeline = self._timelines[vm.index] = _Timeline(vm)
        last = timeline.last
        if last is not None:
            assert date > last, (vm.name, last, date)
            self._span(vm, timeline, last, min(last + timeline.last_duration, date), timeline.last_fraction)
        if fraction > cap:
            fraction = cap
            self.report.capped += 1
        timeline.last, timeline.last_fraction, timeline.last_duration = date, fraction, duration
        self.report.samples += 1

    def constant(self, vms: Sequence[VmInfo]) -> None:
        """Write VMs that ask their ``value`` for their whole life (a job, a VM known by its mean), by start date."""
        for vm in sorted(vms, key=lambda vm: (vm.start, vm.index)):
            self.sample(vm, vm.start, vm.value, vm.end - vm.start)
            self.close(vm)

    def last(self, vm: VmInfo) -> float | None:
        """The date of the VM's last sample so far (None before the first)."""
        timeline = self._timelines.get(vm.index)
        return None if timeline is None else timeline.last

    def flush(self) -> None:
        """Write every load being merged (the samples whose end is not known yet stay)."""
        for timeline in self._timelines.values():
            if timeline.run_fraction is not None:
                self._write_run(timeline.vm, timeline)

    def close(self, vm: VmInfo) -> None:
        """The VM has no more samples: write the rest of its life and its last lines."""
        timeline = self._timelines.pop(vm.index, None) or _Timeline(vm)
        if timeline.last is not None:
            self._span(vm, timeline, timeline.last, timeline.last + timeline.last_duration, timeline.last_fraction)
        if timeline.run_fraction is not None:
            self._write_run(vm, timeline)
        self._create(vm, timeline)
        actor, write = vm.actor, self.stream.write
        if vm.end > timeline.cursor:
            write(f"{actor} sleep {number(vm.end - timeline.cursor)}\n")
        write(f"{actor} init {vm.host}\n{actor} vm_shutdown {vm.name}\n{actor} vm_destroy {vm.name}\n")

    def _span(self, vm: VmInfo, timeline: _Timeline, start: float, end: float, fraction: float) -> None:
        """The VM asks ``fraction`` over ``[start, end)``, cut to its life."""
        start, end = max(start, vm.start), min(end, vm.end)
        if end <= start:
            return
        if timeline.run_fraction == fraction and timeline.run_end == start:
            timeline.run_end = end
            return
        if timeline.run_fraction is not None:
            self._write_run(vm, timeline)
        timeline.run_fraction, timeline.run_start, timeline.run_end = fraction, start, end

    def _write_run(self, vm: VmInfo, timeline: _Timeline) -> None:
        self._create(vm, timeline)
        write = self.stream.write
        if timeline.run_start > timeline.cursor:
            write(f"{vm.actor} sleep {number(timeline.run_start - timeline.cursor)}\n")
        value = number(timeline.run_fraction or 0.0)
        write(f"{vm.actor} load {value}{self._unit} {number(timeline.run_end - timeline.run_start)}\n")
        self.report.loads += 1
        timeline.cursor = timeline.run_end
        timeline.run_fraction = None

    def _create(self, vm: VmInfo, timeline: _Timeline) -> None:
        if timeline.created:
            return
        timeline.created = True
        actor = vm.actor
        self.stream.write(f"{actor} vm_create {vm.name} {vm.pm} cores={vm.cores} ram={size(vm.ram)}"
                          f"{self._options}\n{actor} vm_start {vm.name}\n{actor} init {vm.name}\n")
