"""Bitbrains (GWA-T-12): one ``;``-separated CSV per VM, with a header line, a row every 300 s or so.

The header is ``Timestamp [ms]; CPU cores; CPU capacity provisioned [MHZ]; CPU usage [MHZ]; CPU usage [%];
Memory capacity provisioned [KB]; Memory usage [KB]; Disk read throughput [KB/s]; Disk write throughput [KB/s];
Network received throughput [KB/s]; Network transmitted throughput [KB/s]`` (blanks around the ``;`` are
ignored, and so are the case and spacing of the names). Mapping:

* dates: the timestamps, labelled ms, are epoch seconds and read as such; ``--start 0`` is the earliest
  timestamp of all the files; a row lasts until the next one, at most 300 s (beyond: no demand until the next
  row); the last row lasts 300 s; timestamps must increase within a file;
* cores and memory: the largest ``CPU cores`` and ``Memory capacity provisioned`` of the VM's rows (a VM is
  created once, with the most it is ever given); KB are KiB; a VM provisioned with 0 KB gets ``--ram``;
* demand: ``CPU usage [MHZ] / CPU capacity provisioned [MHZ]`` of the row, a fraction of the VM's capacity (the
  ``[%]`` column says the same, rounded); with ``--speed`` (the flop/s of one MHz), the usage is an absolute
  demand of ``MHz x speed`` flop/s, written as a fraction of the VM's vCPUs on its PM; above 1, it is 1. With
  ``--place auto`` too (no PM yet) it is written as that rate (``load <MHz x speed>f``), at most the row's
  provisioned capacity (``MHZ x speed``).

The disk, network and memory-usage columns are checked as numbers and not used.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path

from replay.errors import WorkloadError
from replay.workloads.dataset import Dataset
from replay.workloads.model import PERIOD, ImportOptions, ImportReport, VmInfo, Window, absolute, placed
from replay.workloads.rows import At, Line, dataset_files, lines
from replay.workloads.slabs import Cursor, by_slabs
from replay.workloads.writer import TraceWriter

WHAT = "Bitbrains VM file"
HEADER = ("Timestamp [ms]", "CPU cores", "CPU capacity provisioned [MHZ]", "CPU usage [MHZ]", "CPU usage [%]",
          "Memory capacity provisioned [KB]", "Memory usage [KB]", "Disk read throughput [KB/s]",
          "Disk write throughput [KB/s]", "Network received throughput [KB/s]",
          "Network transmitted throughput [KB/s]")
KIB = 1024


def _key(name: str) -> str:
    return " ".join(name.split()).lower()


_HEADER_KEYS = tuple(_key(name) for name in HEADER)


class Row:
    """The fields of one data row that the import uses."""

    __slots__ = ("capacity", "cores", "date", "memory", "usage")

    def __init__(self, path: Path, line: Line) -> None:
        at = At(path, line.number)
        text = line.text.rstrip()
        fields = at.fields(text[:-1] if text.endswith(";") else text, ";", len(HEADER), "; ".join(HEADER))
        self.date = at.integer(fields[0], "timestamp (epoch seconds)", 0)
        self.cores = at.integer(fields[1], "CPU cores", 1)
        self.capacity = at.number(fields[2], "CPU capacity provisioned [MHZ]", 0)
        if self.capacity == 0:
            raise at.bad("CPU capacity provisioned [MHZ]", "a number > 0", fields[2])
        self.usage = at.number(fields[3], "CPU usage [MHZ]", 0)
        self.memory = at.number(fields[5], "Memory capacity provisioned [KB]", 0)
        for rank in (4, 6, 7, 8, 9, 10):
            at.number(fields[rank], HEADER[rank], 0)


def _check_header(path: Path, line: Line) -> None:
    names = [_key(name) for name in line.text.rstrip().rstrip(";").split(";")]
    if tuple(names) != _HEADER_KEYS:
        raise At(path, line.number).error(f"expected the GWA-T-12 header ({'; '.join(HEADER)}), found "
                                          f"{line.text[:80]!r}")


def _rows(path: Path, *, offset: int = 0, number: int = 0) -> Iterator[tuple[Line, Row]]:
    """The data rows of a VM file from ``offset`` (0: the header is checked first)."""
    for line in lines(path, WHAT, offset=offset, number=number):
        if line.number == 1:
            _check_header(path, line)
        else:
            yield line, Row(path, line)


class Bitbrains(Dataset):
    """``replay import bitbrains DIR``: a folder of VM files (or the files themselves)."""

    name = "bitbrains"

    def __init__(self, inputs: Sequence[Path], options: ImportOptions, report: ImportReport) -> None:
        super().__init__(inputs, options, report)
        self._files = dataset_files(self.inputs, WHAT)
        self._origin: float | None = None

    def files(self) -> list[Path]:
        return self._files

    def origin(self) -> float:
        """The earliest timestamp of all the files: their first rows (each file's are checked to increase)."""
        if self._origin is None:
            dates = []
            for path in self._files:
                with closing(_rows(path)) as rows:
                    first = next(rows, None)
                if first is not None:
                    dates.append(first[1].date)
            self._origin = float(min(dates, default=0))
        return self._origin

    def scan(self, window: Window) -> Iterator[VmInfo]:
        for index, path in enumerate(self._files):
            first = last = -math.inf
            cores, memory = 0, 0.0
            for line, row in _rows(path):
                if row.date <= last:
                    raise At(path, line.number).error(f"expected a timestamp after {last} (the row before), found "
                                                      f"{row.date}")
                if first == -math.inf:
                    first = row.date
                last = row.date
                cores, memory = max(cores, row.cores), max(memory, row.memory)
            if first == -math.inf:
                raise WorkloadError(f"{path}: expected rows after the header, found none")
            life = window.clip(first, last + PERIOD)
            if life is not None:
                ram = memory * KIB if memory > 0 else self.options.ram
                yield VmInfo(index, path.name, life[0], life[1], cores, ram, key=path)

    def feed(self, vms: list[VmInfo], window: Window, writer: TraceWriter) -> None:
        speed = self.options.speed

        def advance(vm: VmInfo, cursor: Cursor, until: float) -> None:
            path = vm.key
            assert isinstance(path, Path)
            with closing(_rows(path, offset=cursor.offset, number=cursor.number)) as rows:
                for line, row in rows:
                    if row.date >= until:
                        return
                    if row.date >= vm.end:
                        break
                    if speed is None:
                        writer.sample(vm, row.date, row.usage / row.capacity, PERIOD)
                    elif placed(vm):
                        writer.sample(vm, row.date, absolute(vm, row.usage * speed), PERIOD)
                    else:
                        writer.sample(vm, row.date, row.usage * speed, PERIOD, row.capacity * speed)
                    cursor.offset, cursor.number = line.end, line.number
            cursor.done = True

        by_slabs(vms, window, writer, advance)
