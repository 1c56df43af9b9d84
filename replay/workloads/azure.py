"""Azure Public Dataset V2: ``vmtable.csv`` and, when given, its 5-minute ``vm_cpu_readings`` files.

``vmtable.csv`` has no header; a row is ``vmid, subscriptionid, deploymentid, vmcreated, vmdeleted, maxcpu,
avgcpu, p95maxcpu, vmcategory, vmcorecountbucket, vmmemorybucket``. Mapping:

* life: from ``vmcreated`` to ``vmdeleted`` (seconds from the start of the trace), at least 300 s (a VM created
  and deleted within one reading has equal dates; the dataset's own analysis counts it 300 s);
* cores: ``vmcorecountbucket``, a bucket named by its upper edge (``2`` is 1 or 2 cores): the edge is taken;
  the open bucket ``>24`` is 30 cores, as the dataset's analysis notebook reads it;
* memory: ``vmmemorybucket`` in GB, likewise by its upper edge, read as GiB (Azure's VM sizes are binary);
  ``>64`` is 70, as in the notebook;
* demand: without readings, ``avgcpu`` % of the VM's cores for its whole life; with readings (``timestamp,
  vmid, min, max, avg``), ``avg`` % from ``timestamp`` for 300 s, cut to the VM's life; the time of its life
  without a reading is idle, and readings of VMs not kept, or outside their VM's life, are skipped. ``min`` and
  ``max`` are not read.

The readings files are read in the order given, streaming, and must be sorted by timestamp across all of them
(as the dataset's files are, numbered in time order): a VM is closed as soon as the readings pass its deletion,
so that memory holds only the VMs alive at the current timestamp. A timestamp smaller than the one before it is
an error, as is a second reading of a VM at the same timestamp. Reading stops at the end of the window.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

from replay.errors import WorkloadError
from replay.workloads.dataset import Dataset
from replay.workloads.model import GIB, PERIOD, ImportOptions, ImportReport, VmInfo, Window
from replay.workloads.rows import At, lines
from replay.workloads.writer import SLAB, TraceWriter

TABLE = "Azure vmtable file"
READINGS = "Azure CPU readings file"
TABLE_FIELDS = ("vmid, subscriptionid, deploymentid, vmcreated, vmdeleted, maxcpu, avgcpu, p95maxcpu, vmcategory, "
                "vmcorecountbucket, vmmemorybucket")
READING_FIELDS = "timestamp, vmid, min, max, avg CPU"
#: the open buckets, as the dataset's analysis notebook reads them
OPEN_CORES = {">24": 30}
OPEN_MEMORY = {">64": 70.0}


class Azure(Dataset):
    """``replay import azure VMTABLE [--readings FILE ...]``."""

    name = "azure"

    def __init__(
        self, inputs: Sequence[Path], options: ImportOptions, report: ImportReport, *, readings: Sequence[Path] = ()
    ) -> None:
        super().__init__(inputs, options, report)
        if len(self.inputs) != 1:
            raise WorkloadError(f"expected one vmtable.csv for azure, found {len(self.inputs)} inputs")
        self.table = self.inputs[0]
        self.readings = list(readings)

    def files(self) -> list[Path]:
        return [self.table, *self.readings]

    def scan(self, window: Window) -> Iterator[VmInfo]:
        for line in lines(self.table, TABLE):
            at = At(self.table, line.number)
            fields = at.fields(line.text, ",", 11, TABLE_FIELDS)
            if not fields[0]:
                raise at.bad("vmid", "an id", "")
            created = at.integer(fields[3], "vmcreated", 0)
            deleted = at.integer(fields[4], "vmdeleted", created)
            for rank, what in ((5, "maxcpu"), (7, "p95maxcpu")):
                at.number(fields[rank], what, 0, 100)
            average = at.number(fields[6], "avgcpu", 0, 100)
            cores = int(_bucket(at, fields[9], "vmcorecountbucket", OPEN_CORES, whole=True))
            memory = _bucket(at, fields[10], "vmmemorybucket (GB)", OPEN_MEMORY, whole=False)
            life = window.clip(created, max(deleted, created + PERIOD))
            if life is not None:
                yield VmInfo(line.number - 1, fields[0], life[0], life[1], cores, memory * GIB, key=fields[0],
                             value=average / 100)

    def feed(self, vms: list[VmInfo], window: Window, writer: TraceWriter) -> None:
        if not self.readings:
            writer.constant(vms)
            return
        by_id: dict[str, VmInfo] = {}
        for vm in vms:
            other = by_id.setdefault(str(vm.key), vm)
            if other is not vm:
                raise WorkloadError(f"{self.table}:{vm.index + 1}: expected each vmid once, found {vm.source!r} "
                                    f"again (first at line {other.index + 1})")
        ends = [(vm.end, vm.index, vm) for vm in vms]
        heapq.heapify(ends)
        previous = -math.inf
        flush = window.start + SLAB
        for path in self.readings:
            for line in lines(path, READINGS):
                at = At(path, line.number)
                fields = at.fields(line.text, ",", 5, READING_FIELDS)
                date = at.integer(fields[0], "timestamp", 0)
                if date < previous:
                    raise at.error(f"expected readings sorted by timestamp across the files, found {date} after "
                                   f"{previous}")
                previous = date
                if date >= window.end:
                    break
                while ends and ends[0][0] <= date:
                    _, _, gone = heapq.heappop(ends)
                    writer.close(gone)
                    del by_id[str(gone.key)]
                if date >= flush:
                    writer.flush()
                    flush = date + SLAB
                vm = by_id.get(fields[1])
                if vm is None:
                    continue
                if writer.last(vm) == date:
                    raise at.error(f"expected one reading per VM and timestamp, found a second one of {fields[1]!r} "
                                   f"at {date}")
                writer.sample(vm, date, at.number(fields[4], "avg CPU", 0, 100) / 100, PERIOD)
            else:
                continue
            break  # the window's end
        while ends:
            writer.close(heapq.heappop(ends)[2])


def _bucket(at: At, text: str, what: str, open_buckets: dict[str, float], *, whole: bool) -> float:
    """A bucket's upper edge, or the value given to an open bucket (``>24``)."""
    if text in open_buckets:
        return open_buckets[text]
    expected = f"{'an integer' if whole else 'a number'} > 0 or {' or '.join(open_buckets)}"
    try:
        value = at.integer(text, what, 1) if whole else at.number(text, what)
    except WorkloadError:
        raise at.bad(what, expected, text) from None
    if value <= 0:
        raise at.bad(what, expected, text)
    return value
