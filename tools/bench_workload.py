"""The cost of a real workload: import one PlanetLab day onto 800 PMs, then replay it.

The setting of Beloglazov and Buyya's consolidation studies (CloudSim): 1,052 PlanetLab VMs of 3 March 2011 on
800 hosts, half HP ProLiant ML110 G4 (2 cores of 1860 MIPS, 4 GB), half G5 (2 cores of 2660 MIPS, 4 GB), in
turn; VM types of 2500, 2000, 1000 and 500 MIPS with 870, 1740, 1740 and 613 MB, one core, given round-robin.
One MIPS is taken as 1 Mf/s (``--speed 1Mf``), so a G4 core is 1.86 Gf/s; MB are MiB, as CloudSim's sizes are.
The hosts draw SPECpower's idle and full-load watts (86 and 117 W for the G4, 93.7 and 135 W for the G5), in
SimGrid's linear model (CloudSim interpolates the 11 points of SPECpower: ours is the line between the ends).

    python tools/bench_workload.py [--place first-fit|round-robin] [--generated] [--keep DIR]

The day is read from ``../shared/workloads/planetlab/20110303``; without it (or with ``--generated``) a day of
the same shape is generated (1,052 files of 288 percentages, seeded). Both steps run as child processes
(``python -m replay import`` and ``python -m replay run``); the table gives each one's wall time and peak
resident memory. The goal is a replay under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from planetlab_day import SAMPLES, VMS, generated_day

REPO = Path(__file__).resolve().parents[1]
DAY = REPO.parent / "shared" / "workloads" / "planetlab" / "20110303"
HOST_TYPES = (  # name, MIPS of a core, cores, idle W, full-load W (CloudSim's PowerModelSpecPowerHpProLiantMl110G*)
    ("g4", 1860, 2, 86.0, 117.0),
    ("g5", 2660, 2, 93.7, 135.0),
)
VM_TYPES = "2500:870MiB,2000:1740MiB,1000:1740MiB,500:613MiB"


def write_platform(path: Path, hosts: int = 800) -> Path:
    """``hosts`` PMs ``pm-0`` ... alternating G4 and G5, 4 GiB each, on one 1 Gbit/s switch (a flat cluster per
    type would not interleave them in platform order)."""
    lines = ["<?xml version='1.0'?>", '<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">',
             '<platform version="4.1">', '  <zone id="dc" routing="Full">']
    for rank in range(hosts):
        _, mips, cores, idle, full = HOST_TYPES[rank % len(HOST_TYPES)]
        lines.append(f'    <host id="pm-{rank}" speed="{mips}Mf" core="{cores}"><prop id="ramsize" value="4GiB"/>'
                     f'<prop id="wattage_per_state" value="{idle}:{idle}:{full}"/></host>')
    lines += ["  </zone>", "</platform>", ""]
    path.write_text("\n".join(lines))
    return path


def measured(command: list[str]) -> tuple[float, float, int, str]:
    """Run ``command``; return its wall time (s), peak resident memory (MiB), exit code and last stderr line."""
    began = time.perf_counter()
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - began
    last = errors.strip().splitlines()[-1] if errors.strip() else ""
    return wall, usage.ru_maxrss / 1024, child.returncode, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--place", default="first-fit", choices=("first-fit", "round-robin"))
    parser.add_argument("--generated", action="store_true", help="use a generated day even if the real one is there")
    parser.add_argument("--keep", type=Path, help="write the platform and the trace here, and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        real = DAY.is_dir() and not args.generated
        day = DAY if real else generated_day(Path(scratch) / "day")
        platform = write_platform(folder / "planetlab-800.xml")
        trace = folder / "planetlab.trace"
        python = [sys.executable, "-m", "replay"]
        steps = [
            ("import", [*python, "import", "planetlab", str(day), "-o", str(trace), "--platform", str(platform),
                        "--place", args.place, "--vm-types", VM_TYPES, "--speed", "1Mf", "--quiet"]),
            ("replay run", [*python, "run", str(trace), "--platform", str(platform), "--quiet",
                            "--summary", str(folder / "summary.json")]),
        ]
        print(f"day: {'PlanetLab 20110303' if real else 'generated (seeded), same shape'}; {VMS} VMs x {SAMPLES} "
              f"samples on 800 PMs, --place {args.place}; {os.cpu_count()} CPUs")
        print(f"{'step':<12}{'wall s':>9}{'peak MiB':>10}  result")
        for name, command in steps:
            wall, peak, code, last = measured(command)
            result = "ok" if code == 0 else f"exit {code}: {last}"
            print(f"{name:<12}{wall:>9.2f}{peak:>10.0f}  {result}")
            if code != 0:
                break
        if trace.exists():
            lines = sum(1 for _ in trace.open())
            print(f"trace: {lines:,} lines, {trace.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
