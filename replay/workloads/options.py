"""The command line's side of an import: option text to :class:`ImportOptions`, a report to table rows."""

from __future__ import annotations

from replay.errors import WorkloadError
from replay.units import QuantityKind, parse_quantity
from replay.workloads.model import ImportOptions, ImportReport, Placement, VmType
from replay.workloads.writer import number


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


def parse_options(
    *, place: Placement, vms: int | None, seed: int | None, start: str, duration: str | None, speed: str | None,
    ram: str, vm_types: str | None, pms: str,
) -> ImportOptions:
    """The options of ``replay import`` from their text."""
    return ImportOptions(
        place=place, vms=vms, seed=seed, start=quantity(start, "time", "--start"),
        duration=None if duration is None else quantity(duration, "time", "--duration"),
        speed=None if speed is None else quantity(speed, "speed", "--speed"), ram=quantity(ram, "size", "--ram"),
        vm_types=() if vm_types is None else parse_vm_types(vm_types), pms=pms,
    )


def report_rows(report: ImportReport) -> list[tuple[str, str]]:
    """The rows of the table ``replay import`` prints."""
    seen = f" (of {report.vms_seen:,} in the window)" if report.vms_seen not in (None, report.vms) else ""
    rows = [("format", report.format), ("VMs", f"{report.vms:,}{seen}"),
            ("PMs used", f"{report.pms_used:,}" if report.pms_used else "auto"),
            ("samples", f"{report.samples:,}"), ("loads", f"{report.loads:,}")]
    if report.capped:
        rows.append(("capped at 1", f"{report.capped:,}"))
    rows += [(f"skipped: {why}", f"{count:,}") for why, count in sorted(report.skipped.items())]
    rows.append(("last date", f"{number(report.end)} s"))
    return rows
