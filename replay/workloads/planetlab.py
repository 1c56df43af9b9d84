"""PlanetLab (CoMon, as CloudSim ships it): one file per VM, one integer CPU percentage per line, every 300 s.

Mapping: the VM's id is its file name; line ``n`` is the sample at ``300 (n - 1)`` s, lasting 300 s; the VM
lives from its first sample to the end of its last. The dataset gives neither cores nor memory: each VM has one
core and ``--ram`` (1 GiB by default), unless ``--vm-types`` gives CloudSim's VM types round-robin. A sample of
``p`` % is the fraction ``p / 100`` of the VM's core; with ``--vm-types MIPS:RAM,...`` and ``--speed`` (the
flop/s of one MIPS) it is an absolute demand, ``p / 100 x MIPS x speed`` flop/s, written as a fraction of the
core of the VM's PM (at most 1), or with ``--place auto`` (no PM yet) as that rate, ``load <p x MIPS x speed /
100>f`` (the run decides what a PM can give). A line must hold an integer from 0 to 100 (blanks around it are
allowed).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path

from replay.errors import WorkloadError
from replay.workloads.dataset import Dataset
from replay.workloads.model import PERIOD, ImportOptions, ImportReport, VmInfo, Window, absolute, placed
from replay.workloads.rows import At, Line, dataset_files, lines
from replay.workloads.slabs import Cursor, by_slabs
from replay.workloads.writer import TraceWriter

WHAT = "PlanetLab VM file"


def percent(path: Path, line: Line) -> int:
    return At(path, line.number).integer(line.text.strip(), "CPU percentage", 0, 100)


class PlanetLab(Dataset):
    """``replay import planetlab DIR``: a folder of VM files (or the files themselves)."""

    name = "planetlab"

    def __init__(self, inputs: Sequence[Path], options: ImportOptions, report: ImportReport) -> None:
        super().__init__(inputs, options, report)
        self._files = dataset_files(self.inputs, WHAT)

    def files(self) -> list[Path]:
        return self._files

    def scan(self, window: Window) -> Iterator[VmInfo]:
        for index, path in enumerate(self._files):
            count = 0
            for line in lines(path, WHAT):
                percent(path, line)
                count += 1
            if count == 0:
                raise WorkloadError(f"{path}: expected one CPU percentage per line, found an empty file")
            life = window.clip(0.0, count * PERIOD)
            if life is not None:
                yield VmInfo(index, path.name, life[0], life[1], 1, self.options.ram, key=path)

    def feed(self, vms: list[VmInfo], window: Window, writer: TraceWriter) -> None:
        speed = self.options.speed

        def advance(vm: VmInfo, cursor: Cursor, until: float) -> None:
            path = vm.key
            assert isinstance(path, Path)
            with closing(lines(path, WHAT, offset=cursor.offset, number=cursor.number)) as rows:
                for line in rows:
                    date = (line.number - 1) * PERIOD
                    if date >= until:
                        return
                    if date >= vm.end:
                        break
                    cpu = percent(path, line)
                    value, cap = cpu / 100, 1.0
                    if vm.mips is not None and speed is not None:
                        if placed(vm):
                            value = absolute(vm, value * vm.mips * speed)
                        else:  # a rate: integer percents of integer MIPS give exact numbers this way
                            value, cap = cpu * vm.mips * speed / 100, vm.mips * speed
                    writer.sample(vm, date, value, PERIOD, cap)
                    cursor.offset, cursor.number = line.end, line.number
            cursor.done = True

        by_slabs(vms, window, writer, advance)
