"""Feeding the writer from one file per VM in rough time order, without holding a thousand files open.

The samples of one VM are in one file (PlanetLab, Bitbrains). Writing VM after VM would put the end of the
first VM's day before the start of the second's, and a replay that reads a long trace lazily would hold nearly
all of it in memory; holding every file open to merge them by date would exceed the descriptors of a process.
So the files are read by slabs of :data:`~replay.workloads.writer.SLAB` seconds: for each slab, each VM's file
is opened, read from where it was left up to the slab's end, and closed (a byte offset per VM is all that is
kept). A day of PlanetLab is 4 slabs: each of its 1,052 files is opened 4 times.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from replay.workloads.model import VmInfo, Window
from replay.workloads.writer import SLAB, TraceWriter


class Cursor:
    """Where a VM's file was left: the byte offset and line number after the last line taken, and whether the
    file is done."""

    __slots__ = ("done", "number", "offset")

    def __init__(self) -> None:
        self.offset = 0
        self.number = 0
        self.done = False


#: ``advance(vm, cursor, until)``: give the writer the VM's samples dated before ``until``, moving the cursor past
#: them; set ``cursor.done`` at the end of the file or of the VM's life.
Advance = Callable[[VmInfo, Cursor, float], None]


def by_slabs(vms: Sequence[VmInfo], window: Window, writer: TraceWriter, advance: Advance) -> None:
    """Read every VM's file slab after slab (see the module docstring), closing each VM when its file is done."""
    pending = [(vm, Cursor()) for vm in vms]
    last = max((vm.end for vm in vms), default=window.start)
    until = window.start + SLAB
    while pending:
        still = []
        for vm, cursor in pending:
            advance(vm, cursor, until)
            if cursor.done:
                writer.close(vm)
            else:
                still.append((vm, cursor))
        pending = still
        writer.flush()
        until = until + SLAB if until < last else math.inf
