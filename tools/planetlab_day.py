"""Write a day of PlanetLab-like CPU traces: the shape of the public CoMon days, for users without them.

The public days (CloudSim ships ten of March and April 2011: github.com/Cloudslab/cloudsim, folder
``modules/cloudsim-examples/src/main/resources/workload/planetlab``) hold one file per VM, 288 integer CPU
percentages each, one every 300 s. This writes the same shape: per VM, a mean level drawn in [0, 40] % and a
random walk around it (steps of 6 points' standard deviation, clipped to [0, 100]), seeded, so that the same seed
gives the same files.

    python tools/planetlab_day.py OUT_DIR [--vms 1052] [--seed 2011]
    replay import planetlab OUT_DIR -o day.trace ...
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

VMS, SAMPLES = 1052, 288


def generated_day(folder: Path, seed: int = 2011, vms: int = VMS) -> Path:
    """Write ``vms`` files of ``SAMPLES`` percentages into ``folder``; return it."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for vm in range(vms):
        level = rng.uniform(0, 40)
        values = []
        for _ in range(SAMPLES):
            level = min(100.0, max(0.0, level + rng.gauss(0, 6)))
            values.append(str(round(level)))
        (folder / f"vm{vm:04d}").write_text("\n".join(values) + "\n")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--vms", type=int, default=VMS)
    parser.add_argument("--seed", type=int, default=2011)
    args = parser.parse_args()
    generated_day(args.folder, args.seed, args.vms)
    print(f"wrote {args.vms} VMs x {SAMPLES} samples into {args.folder}")


if __name__ == "__main__":
    main()
