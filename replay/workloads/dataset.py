"""The interface of a dataset format: its files, its time origin, its VMs (pass 1), its samples (pass 2).

An import reads its dataset twice, streaming both times: :meth:`Dataset.scan` reads every row once to check it
and yields one small :class:`~replay.workloads.model.VmInfo` per VM (its life, cores and memory: what placement
needs), then :meth:`Dataset.feed` reads the samples again and hands them to the trace writer. Memory grows with
the number of VMs kept (a few hundred bytes each), never with the number of samples.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

from replay.workloads.model import ImportOptions, ImportReport, VmInfo, Window
from replay.workloads.writer import TraceWriter


class Dataset(ABC):
    """One input dataset of a format: its files, its time origin, its VMs (pass 1) and its samples (pass 2)."""

    #: the format's name on the command line
    name: ClassVar[str]

    def __init__(self, inputs: Sequence[Path], options: ImportOptions, report: ImportReport) -> None:
        self.inputs = list(inputs)
        self.options = options
        self.report = report

    @abstractmethod
    def files(self) -> list[Path]:
        """Every file the import reads (checked against the output before anything is written)."""

    def origin(self) -> float:
        """The date, on the dataset's own axis, that ``--start 0`` means (0 unless the format has absolute dates)."""
        return 0.0

    @abstractmethod
    def scan(self, window: Window) -> Iterator[VmInfo]:
        """Every VM with a part of its life in ``window``, in the dataset's order; every row read is checked."""

    @abstractmethod
    def feed(self, vms: list[VmInfo], window: Window, writer: TraceWriter) -> None:
        """Give the writer the samples of ``vms`` (the kept VMs, in dataset order, placed), each VM's in time
        order, the VMs' interleaved in roughly time order, and close every VM."""
