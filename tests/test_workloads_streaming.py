"""The importers stream: memory does not grow with the samples, and the trace comes out in rough time order, so
that a replay reading a long trace lazily holds only a few hours of it."""

from __future__ import annotations

import os
import tracemalloc
from collections import defaultdict
from itertools import pairwise

from replay.platform import default_platform
from replay.workloads import ImportOptions, import_workload, open_dataset
from replay.workloads.writer import SLAB

VMS, READINGS = 100, 500  # 50,000 readings of 100 VMs, 41 hours 40


def write_azure(folder):
    table = folder / "vmtable.csv"
    table.write_text("".join(f"vm{v:03d},s,d,0,{READINGS * 300},50,20,40,Unknown,2,4\n" for v in range(VMS)))
    readings = folder / "readings.csv"
    with readings.open("w") as out:
        for step in range(READINGS):
            out.writelines(f"{step * 300},vm{v:03d},1.0,99.0,{(step * 7 + v) % 100}.5\n" for v in range(VMS))
    return table, readings


def test_memory_stays_far_below_the_input_while_importing_readings(tmp_path):
    table, readings = write_azure(tmp_path)
    size = readings.stat().st_size
    dataset = open_dataset("azure", [table], ImportOptions(pms="pm-*"), readings=[readings])
    platform = default_platform()
    with open(os.devnull, "w") as sink:
        tracemalloc.start()
        try:
            report = import_workload(dataset, sink, platform)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert report.samples == VMS * READINGS and size > 1_300_000
    assert peak < 300_000, f"peak {peak} bytes of Python memory for a {size}-byte input"


def start_dates(text: str) -> list[float]:
    """The date each load and sleep of the body starts at, in file order (dates are per actor, cumulative)."""
    clock: dict[str, float] = defaultdict(float)
    dates = []
    for line in text.splitlines():
        actor, action, *args = line.split() if not line.startswith("#") else ("", "", "")
        if action in ("load", "sleep"):
            duration = float(args[-1])
            if action == "load":
                dates.append(clock[actor])
            clock[actor] += duration
    return dates


def test_per_vm_files_come_out_by_slabs_of_six_hours(tmp_path):
    folder = tmp_path / "days"
    folder.mkdir()
    for vm in range(3):  # two days, a value that changes every sample: one load per sample
        (folder / f"vm{vm}").write_text("".join(f"{(k + vm) % 2 * 50}\n" for k in range(576)))
    dataset = open_dataset("planetlab", [folder], ImportOptions(pms="pm-*"))
    out = tmp_path / "t.trace"
    with out.open("w") as stream:
        import_workload(dataset, stream, default_platform())
    dates = start_dates(out.read_text())
    assert len(dates) == 3 * 576
    latest = 0.0
    for date in dates:  # a load never starts more than a slab and a sample before one already written
        assert date > latest - SLAB - 300
        latest = max(latest, date)
    # VM after VM, vm-1's first load (at 0) would come after vm-0's last (at 172500): two days back


def test_readings_come_out_in_time_order(tmp_path):
    table, readings = write_azure(tmp_path)
    dataset = open_dataset("azure", [table], ImportOptions(pms="pm-*", duration=30 * 3600), readings=[readings])
    out = tmp_path / "t.trace"
    with out.open("w") as stream:
        import_workload(dataset, stream, default_platform())
    dates = start_dates(out.read_text())
    assert len(dates) == VMS * 360 and all(later > earlier - SLAB - 300 for earlier, later in pairwise(dates))
