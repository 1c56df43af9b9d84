"""What the policy loop costs: one PlanetLab day replayed with placement only, and with consolidation.

The day of docs/consolidation.md (1,052 VMs, CloudSim's VM types, ``traces/platforms/planetlab-two-types.xml``)
is imported twice: with ``--place auto`` (absolute rates; the run's policy places each VM) and with ``--place
first-fit`` (the importer places them; no policy at all). Each run is a child process (``python -m replay run``),
the commands in turn, ``--repeat`` times (A B C D, A B C D ...: a drift of the machine's speed hits them alike);
the table gives each one's median and lowest wall time and its median over the baseline's, the run that only
places (``--policy first-fit``). The goal: consolidation (``threshold``, ``lr``) adds less than 25 %.

    python tools/bench_policies.py [--day DIR] [--repeat 3] [--generated] [--duration T]

The day is read from ``--day`` (default: ``../shared/workloads/planetlab/20110303``); without it (or with
``--generated``) a day of the same shape is generated (``tools/planetlab_day.py``, seeded).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from consolidation_study import child
from planetlab_day import generated_day

REPO = Path(__file__).resolve().parents[1]
DAY = REPO.parent / "shared" / "workloads" / "planetlab" / "20110303"
PLATFORM = REPO / "traces" / "platforms" / "planetlab-two-types.xml"
VM_TYPES = "2500:870MiB,2000:1740MiB,1000:1740MiB,500:613MiB"
OVERCOMMIT = 3  # as in the study (tools/consolidation_study.py says why)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (default 3)")
    parser.add_argument("--day", type=Path, default=DAY, help="the folder of the PlanetLab day 20110303 (default: "
                                                              "../shared/workloads/planetlab/20110303)")
    parser.add_argument("--generated", action="store_true", help="use a generated day even if the real one is there")
    parser.add_argument("--duration", help="import only the first part of the day (e.g. 6h)")
    args = parser.parse_args()
    python = [sys.executable, "-m", "replay"]
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        real = args.day.is_dir() and not args.generated
        day = args.day if real else generated_day(work / "day")
        window = ["--duration", args.duration] if args.duration else []
        traces = {}
        for place in ("auto", "first-fit"):
            traces[place] = work / f"{place}.trace"
            child([*python, "import", "planetlab", str(day), "-o", str(traces[place]), "--platform", str(PLATFORM),
                  "--place", place, "--vm-types", VM_TYPES, "--speed", "1Mf", "--quiet", *window])
        runs = {
            "first-fit (places only)": [str(traces["auto"]), "--policy", f"first-fit:overcommit={OVERCOMMIT}"],
            "threshold": [str(traces["auto"]), "--policy", f"threshold:overcommit={OVERCOMMIT}"],
            "lr": [str(traces["auto"]), "--policy", f"lr:overcommit={OVERCOMMIT}"],
            "imported first-fit, no policy": [str(traces["first-fit"])],
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeat):
            for name, run in runs.items():
                times[name].append(child([*python, "run", *run, "--platform", str(PLATFORM), "--quiet"]))
    print(f"day: {'PlanetLab 20110303' if real else 'generated (seeded), same shape'}"
          f"{f', first {args.duration}' if args.duration else ''}; 800 PMs; {args.repeat} runs each")
    baseline = statistics.median(times["first-fit (places only)"])
    print(f"{'run':<32}{'median s':>10}{'min s':>9}{'/ baseline':>12}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<32}{median:>10.2f}{min(values):>9.2f}{median / baseline:>12.2f}")


if __name__ == "__main__":
    main()
