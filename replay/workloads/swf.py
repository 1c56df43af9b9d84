"""The Standard Workload Format (Feitelson's Parallel Workloads Archive): one job per line, as a VM.

Lines starting with ``;`` are the header's comments; blank lines are skipped; a job is 18 fields separated by
blanks: job number, submit time, wait time, run time, allocated processors, average CPU time used, used memory
(KB per processor), requested processors, requested time, requested memory (KB per processor), status, user,
group, executable, queue, partition, preceding job, think time. ``-1`` means unknown. Mapping:

* life: from the submit time (seconds from the start of the log) for the run time; the wait time is not
  replayed: the original machine's queue is what the placement replaces, so the VM asks for room when submitted;
* demand: full, ``load 1`` for the whole run time (the job kept its processors busy);
* cores: the allocated processors, or the requested ones when unknown;
* memory: requested memory x cores, or used memory x cores when unknown, KB read as KiB; ``--ram`` when both
  are unknown;
* jobs without a run time (``-1`` or 0: cancelled before running) or without a processor count are skipped and
  counted in the report.

Every field must be a number; the processor counts must be whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from replay.workloads.dataset import Dataset
from replay.workloads.model import VmInfo, Window
from replay.workloads.rows import At, lines
from replay.workloads.writer import TraceWriter

WHAT = "SWF file"
FIELDS = ("job number, submit time, wait time, run time, allocated processors, average CPU time, used memory, "
          "requested processors, requested time, requested memory, status, user, group, executable, queue, "
          "partition, preceding job, think time")
NAMES = tuple(FIELDS.split(", "))
KIB = 1024


class Swf(Dataset):
    """``replay import swf FILE``."""

    name = "swf"

    def files(self) -> list[Path]:
        return self.inputs

    def scan(self, window: Window) -> Iterator[VmInfo]:
        path = self.inputs[0]
        skipped = self.report.skipped
        for line in lines(path, WHAT):
            text = line.text.strip()
            if not text or text.startswith(";"):
                continue
            at = At(path, line.number)
            raw = at.fields(text, None, len(NAMES), FIELDS)
            values = [at.number(field, name) for field, name in zip(raw, NAMES, strict=True)]
            submit, run = at.number(raw[1], "submit time", 0), values[3]
            processors = next((value for value in (values[4], values[7]) if value > 0), None)
            if processors is not None and not processors.is_integer():
                raise at.bad("processors", "a whole number", raw[4] if values[4] > 0 else raw[7])
            if run <= 0:
                skipped["jobs without a run time"] += 1
                continue
            if processors is None:
                skipped["jobs without a processor count"] += 1
                continue
            cores = int(processors)
            per_processor = next((value for value in (values[9], values[6]) if value > 0), None)
            ram = per_processor * KIB * cores if per_processor is not None else self.options.ram
            life = window.clip(submit, submit + run)
            if life is not None:
                yield VmInfo(line.number, f"job {raw[0]}", life[0], life[1], cores, ram, value=1.0)

    def feed(self, vms: list[VmInfo], window: Window, writer: TraceWriter) -> None:
        writer.constant(vms)
