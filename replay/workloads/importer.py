"""One import, from a dataset to a trace: check the options, read the VMs, keep some, place them, write.

:func:`open_dataset` checks the options against the format and lists the files it will read (so that the
caller can refuse an output that is one of them); :func:`import_workload` writes the trace to a text stream and
returns what it did. The caller opens the stream and commits it: ``replay import`` writes atomically, so a
failed import leaves no file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from replay.errors import WorkloadError
from replay.platform import Platform
from replay.workloads.azure import Azure
from replay.workloads.bitbrains import Bitbrains
from replay.workloads.dataset import Dataset
from replay.workloads.model import ImportOptions, ImportReport, name_vms, need, select
from replay.workloads.options import check_vm_options
from replay.workloads.placement import place, platform_pms
from replay.workloads.planetlab import PlanetLab
from replay.workloads.swf import Swf
from replay.workloads.writer import TraceWriter, number

FORMATS: dict[str, type[Dataset]] = {kind.name: kind for kind in (PlanetLab, Azure, Bitbrains, Swf)}
"""The formats ``replay import`` reads, by name."""


def open_dataset(
    fmt: str, inputs: Sequence[Path], options: ImportOptions, *, readings: Sequence[Path] = ()
) -> Dataset:
    """The dataset of format ``fmt`` in ``inputs``; a :class:`WorkloadError` for options that do not fit it."""
    kind = FORMATS.get(fmt)
    need(kind is not None, f"expected a format among {', '.join(FORMATS)}, found {fmt!r}")
    assert kind is not None
    need(options.seed is None or options.vms is not None, "--seed draws a sample of --vms N VMs: give --vms too")
    need(options.duration is None or options.duration > 0, "--duration: expected a duration > 0")
    need(not readings or fmt == "azure", f"--readings: expected only with the azure format, found it with {fmt}")
    need(not options.vm_types or fmt == "planetlab",
         f"--vm-types: expected only with planetlab (its files give no capacity), found it with {fmt}")
    if options.speed is not None:
        need(fmt in ("bitbrains", "planetlab"),
             f"--speed: expected only with bitbrains (MHz) or planetlab with --vm-types (MIPS); {fmt} gives CPU as "
             "a fraction of the VM's own capacity")
    need(fmt != "planetlab" or bool(options.vm_types) == (options.speed is not None),
         "--vm-types and --speed go together with planetlab: the types' MIPS become flop/s by --speed")
    report = ImportReport(fmt, rates=options.rates)
    if fmt == "azure":
        return Azure(inputs, options, report, readings=readings)
    need(len(inputs) == 1 or fmt in ("planetlab", "bitbrains"),
         f"expected one input file for {fmt}, found {len(inputs)}")
    return kind(inputs, options, report)


def import_workload(dataset: Dataset, stream: TextIO, platform: Platform) -> ImportReport:
    """Write the trace of ``dataset`` on ``platform`` to ``stream``; return the report."""
    options, report = dataset.options, dataset.report
    pms = platform_pms(platform, options.pms)
    window = options.window(dataset.origin())
    vms = select(dataset.scan(window), options.vms, options.seed, report)
    if not vms:
        end = "end" if options.duration is None else number(options.start + options.duration)
        raise WorkloadError(f"expected VMs living in the window [{number(options.start)}, {end}) s of the dataset, "
                            "found none")
    name_vms(vms, options.vm_types)
    for cores, ram in sorted({(vm.cores, vm.ram) for vm in vms}):
        check_vm_options(options.vm_options, cores, ram)
    taken = next((vm.name for vm in vms if vm.name in platform.hosts), None)
    need(taken is None, f"{platform.source}: expected no host named like an imported VM, found host {taken!r}")
    report.pms_used = place(vms, pms, options.place, window.start)
    report.vms = len(vms)
    writer = TraceWriter(stream, window, report, vm_options=options.vm_options)
    writer.header(vms, len(pms), options.place, inputs=_described(dataset.inputs))
    dataset.feed(vms, window, writer)
    return report


def _described(inputs: Sequence[Path]) -> str:
    if len(inputs) <= 3:
        return " ".join(str(path) for path in inputs)
    return f"{inputs[0]} ... ({len(inputs)} inputs)"
