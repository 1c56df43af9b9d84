"""The command line's side of an import: option text to :class:`ImportOptions`, a report to table rows."""

from __future__ import annotations

from collections.abc import Sequence

from replay.errors import TraceSyntaxError, WorkloadError
from replay.trace.grammar import Place
from replay.trace.vm_actions import VmCreate
from replay.units import QuantityKind, parse_quantity
from replay.workloads.model import ImportOptions, ImportReport, Placement, VmType
from replay.workloads.writer import number, size

#: the vm_create options the import writes itself (from the dataset, --ram or --vm-types)
_OWN_OPTIONS = ("cores", "ram")
_VM_OPTIONS = "--vm-options"


def quantity(text: str, kind: QuantityKind, option: str) -> float:
    """A SimGrid quantity given to ``option`` (``2h``, ``1Mf``, ``870MiB``; bare numbers in the base unit)."""
    try:
        return parse_quantity(text.strip(), kind, context=f"{option}: ")
    except ValueError as error:
        raise WorkloadError(str(error)) from None


def parse_vm_types(text: str) -> tuple[VmType, ...]:
    """``2500:870MiB,2000:1740MiB``: MIPS (a plain number > 0) and memory (a size) per type."""
    found = []
    for part in text.split(","):
        mips, colon, ram = part.strip().partition(":")
        try:
            value = float(mips)
        except ValueError:
            value = 0.0
        if not colon or not 0 < value < float("inf"):
            raise WorkloadError(f"--vm-types: expected MIPS:RAM pairs separated by commas (2500:870MiB), found "
                                f"{part.strip()!r}")
        found.append(VmType(value, quantity(ram, "size", "--vm-types")))
    return tuple(found)


def parse_vm_options(text: str) -> tuple[str, ...]:
    """``dp_intensity=0.3,mig_speed=1Gbps``: ``vm_create`` options for every VM, checked as ``vm_create`` checks
    them (``cores`` and ``ram`` are the import's own)."""
    pairs = tuple(part.strip() for part in text.split(","))
    for pair in pairs:
        if not pair or any(char.isspace() for char in pair):
            raise WorkloadError(f"{_VM_OPTIONS}: expected key=value pairs separated by commas "
                                f"(dp_intensity=0.3,mig_speed=1Gbps), found {pair!r}")
        key = pair.partition("=")[0]
        if key in _OWN_OPTIONS:
            raise WorkloadError(f"{_VM_OPTIONS}: expected options other than {' and '.join(_OWN_OPTIONS)} (the "
                                f"dataset, --ram or --vm-types give them), found {pair!r}")
    check_vm_options(pairs)
    return pairs


def check_vm_options(pairs: Sequence[str], cores: int = 1, ram: float | None = None) -> None:
    """Whether ``vm_create <vm> auto cores=<cores> ram=<ram> <pairs>`` is a valid line (a ``working_set`` must fit
    the VM's memory, unchecked without ``ram``); a :class:`WorkloadError` naming ``--vm-options`` otherwise."""
    if not pairs:
        return
    own = [f"cores={cores}", f"ram={size(ram) if ram is not None else '1EiB'}"]
    try:
        VmCreate.parse(Place(_VM_OPTIONS, 0, "import", "vm_create"), ["vm", "auto", *own, *pairs])
    except TraceSyntaxError as error:
        message = str(error).removeprefix(f"{_VM_OPTIONS}:0: ")
        whose = f" (a VM of {size(ram)})" if ram is not None else ""
        raise WorkloadError(f"{_VM_OPTIONS}{whose}: {message}") from None


def parse_options(
    *, place: Placement, vms: int | None, seed: int | None, start: str, duration: str | None, speed: str | None,
    ram: str, vm_types: str | None, pms: str, vm_options: str | None = None,
) -> ImportOptions:
    """The options of ``replay import`` from their text."""
    return ImportOptions(
        place=place, vms=vms, seed=seed, start=quantity(start, "time", "--start"),
        duration=None if duration is None else quantity(duration, "time", "--duration"),
        speed=None if speed is None else quantity(speed, "speed", "--speed"), ram=quantity(ram, "size", "--ram"),
        vm_types=() if vm_types is None else parse_vm_types(vm_types), pms=pms,
        vm_options=() if vm_options is None else parse_vm_options(vm_options),
    )


def report_rows(report: ImportReport) -> list[tuple[str, str]]:
    """The rows of the table ``replay import`` prints."""
    seen = f" (of {report.vms_seen:,} in the window)" if report.vms_seen not in (None, report.vms) else ""
    rows = [("format", report.format), ("VMs", f"{report.vms:,}{seen}"),
            ("PMs used", f"{report.pms_used:,}" if report.pms_used else "auto"),
            ("samples", f"{report.samples:,}"), ("loads", f"{report.loads:,}")]
    if report.capped:
        rows.append(("capped at 100 %" if report.rates else "capped at 1", f"{report.capped:,}"))
    rows += [(f"skipped: {why}", f"{count:,}") for why, count in sorted(report.skipped.items())]
    rows.append(("last date", f"{number(report.end)} s"))
    return rows
