"""Shared by the importer tests: the small datasets of ``tests/data/workloads`` and a one-call import to text."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from replay.platform import Platform, default_platform, load_platform_string
from replay.workloads import ImportOptions, ImportReport, import_workload, open_dataset
from tests.helpers import REPO

DATA = REPO / "tests" / "data" / "workloads"
#: the real PlanetLab day, beside the repository; tests using it skip without it
SHARED_WORKLOADS = REPO.parent / "shared" / "workloads"
HEADER_LINES = 3


def imported(
    fmt: str, inputs: Sequence[Path], *, platform: Platform | None = None, readings: Sequence[Path] = (), **options
) -> tuple[str, ImportReport]:
    """The trace text of an import and its report (default platform: the embedded one, its PMs pm-*)."""
    if platform is None:
        options.setdefault("pms", "pm-*")
    dataset = open_dataset(fmt, list(inputs), ImportOptions(**options), readings=list(readings))
    stream = io.StringIO()
    report = import_workload(dataset, stream, platform if platform is not None else default_platform())
    return stream.getvalue(), report


def body(text: str) -> str:
    """The trace without its three comment lines of header (they name the inputs)."""
    return "".join(text.splitlines(keepends=True)[HEADER_LINES:])


def hosts(*specs: str) -> Platform:
    """A platform of hosts ``name:cores:speed[:ramsize]`` (``a:2:1Gf:4GiB``) in one Full zone, no links."""
    elements = []
    for spec in specs:
        name, cores, speed, *ram = spec.split(":")
        prop = f'<prop id="ramsize" value="{ram[0]}"/>' if ram else ""
        elements.append(f'<host id="{name}" speed="{speed}" core="{cores}">{prop}</host>')
    return load_platform_string(
        "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
        f'<platform version="4.1"><zone id="z" routing="Full">{"".join(elements)}</zone></platform>',
        source="<test>",
    )
