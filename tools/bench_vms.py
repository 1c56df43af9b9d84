"""The performance yardstick: our engine against SimGrid 3.32's on a VM-heavy scenario.

A flat cluster of N/10 PMs (4 cores of 1 Gf/s), N one-vCPU VMs of 1 GiB round-robin on them, each running one
task of 1e10 to 1e11 flops, and N/K live migrations (K = ``--migration-every``, 100 by default; 10 is the
harder mix) at random dates in the first 100 s to random PMs, all crossing the cluster's backbone. The scenario
is written once as a platform, a deployment and an action trace, and replayed by both simulators: ours through
``ReplaySession`` in a child process (wall time of the run, parsing included; peak resident memory of the
process), SimGrid through our reference replayer ``tools/simgrid_ref/build/replay_ref`` (wall time of the
process).

    python tools/bench_vms.py [--sizes 1000,10000,100000,1000000] [--migration-every K] [--simgrid-max 10000]
                              [--simgrid-cfg contexts/guard-size:0] [--keep DIR] [--energy]

It prints wall times, peak memory (and per VM), events per second, how many pools of flows held back by one
saturated link our engine formed and dissolved (``replay.activities``), the ratio SimGrid / ours where both ran,
and the growth exponent of our time between two sizes (1: linear). SimGrid protects each actor's stack with a
guard page, two memory mappings per actor: beyond about 30,000 actors it fails on Linux's default
``vm.max_map_count`` (65,530) unless ``--simgrid-cfg contexts/guard-size:0`` is given. With
``--energy`` the PMs also get wattages (``wattage_per_state``, so that every host's energy is accounted) and
ours runs the same scenario with and without them: the last column is the cost of energy accounting, the ratio
of the two wall times.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REF = REPO / "tools" / "simgrid_ref" / "build" / "replay_ref"


def write_platform(path: Path, pms: int, *, energy: bool = False) -> Path:
    """A flat cluster of ``pms`` 4-core PMs of 1 Gf/s (with SimGrid-like wattages when ``energy``)."""
    props = '<prop id="wattage_per_state" value="100:93.33333333333333:200"/>' if energy else ""
    path.write_text(
        "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
        '<platform version="4.1">\n  <zone id="dc" routing="Full">\n'
        f'    <cluster id="c" prefix="pm" suffix="" radical="0-{pms - 1}" speed="1Gf" core="4" '
        f'bw="1.25GBps" lat="50us" bb_bw="100GBps" bb_lat="100us">{props}</cluster>\n  </zone>\n</platform>\n'
    )
    return path


def write_scenario(folder: Path, n: int, seed: int = 42, every: int = 100) -> tuple[Path, Path, Path]:
    """Write platform.xml, deploy.xml and bench.trace for ``n`` VMs, one migration per ``every`` VMs; return their
    paths."""
    rng = random.Random(seed)
    pms = max(2, n // 10)
    platform = write_platform(folder / "platform.xml", pms)
    lines = [f"ctl vm_create vm{i} pm{i % pms} ram=1073741824" for i in range(n)]
    lines += [f"ctl vm_start vm{i}" for i in range(n)]
    deploy = ['<actor host="pm0" function="ctl"/>']
    for i in range(n):
        lines += [f"t{i} init vm{i}", f"t{i} compute {rng.uniform(1e10, 1e11):.0f}"]
        deploy.append(f'<actor host="pm{i % pms}" function="t{i}"/>')
    migrating = rng.sample(range(n), max(1, n // every))
    for k, v in enumerate(migrating):
        dst = (v % pms + 1 + rng.randrange(pms - 1)) % pms
        lines += [f"m{k} sleep {rng.uniform(0, 100):.6f}", f"m{k} vm_migrate vm{v} pm{dst}"]
        deploy.append(f'<actor host="pm0" function="m{k}"/>')
    trace = folder / "bench.trace"
    trace.write_text("\n".join(lines) + "\n")
    deployment = folder / "deploy.xml"
    deployment.write_text(
        "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
        '<platform version="4.1">\n  ' + "\n  ".join(deploy) + "\n</platform>\n"
    )
    return platform, deployment, trace


def ours(platform: Path, deployment: Path, trace: Path) -> tuple[float, float, float, int, int, int]:
    """Our run in a child process: wall time, simulated end, peak resident MiB, events, pools formed and
    dissolved."""
    script = (
        "import json, resource, sys, time\n"
        "from replay.session import ReplaySession\n"
        "start = time.perf_counter()\n"
        "session = ReplaySession.open([sys.argv[3]], platform=sys.argv[1], deploy=sys.argv[2])\n"
        "result = session.run()\n"
        "wall = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "engine = session.sim.engine\n"
        "print(json.dumps([wall, result.simulated_time, peak, result.counts['events'], engine.pools_formed,\n"
        "                  engine.pools_dissolved]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(platform), str(deployment), str(trace)],
                          capture_output=True, text=True, check=False, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"our run failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    wall, end, peak, events, formed, dissolved = json.loads(proc.stdout.strip().splitlines()[-1])
    return wall, end, peak, events, formed, dissolved


def simgrid(platform: Path, deployment: Path, trace: Path, cfg: list[str]) -> tuple[float, float] | None:
    if not REF.exists():
        subprocess.run(["bash", str(REPO / "tools" / "simgrid_ref" / "build.sh")], check=False, capture_output=True)
    if not REF.exists():
        return None
    start = time.perf_counter()
    proc = subprocess.run(
        [str(REF), str(platform), str(deployment), str(trace), *(f"--cfg={c}" for c in cfg)],
        capture_output=True, text=True, check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"  SimGrid failed ({proc.returncode}): {proc.stderr.strip().splitlines()[0][:200]}", flush=True)
        return None
    last = proc.stdout.strip().splitlines()[-1].split(",")
    return wall, float(last[4])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--migration-every", type=int, default=100, metavar="K", help="one migration per K VMs")
    parser.add_argument("--simgrid-max", type=int, default=10000, help="largest size also run with SimGrid")
    parser.add_argument("--simgrid-cfg", action="append", default=[], metavar="NAME:VALUE",
                        help="a SimGrid --cfg setting for the reference run (repeatable)")
    parser.add_argument("--keep", type=Path, help="write the scenarios here instead of a temporary folder")
    parser.add_argument("--energy", action="store_true", help="also time ours with energy accounting on")
    args = parser.parse_args()
    extra = f" {'energy s':>9} {'cost':>6}" if args.energy else ""
    print(f"{'VMs':>8} {'ours s':>8} {'MiB':>7} {'KiB/VM':>7} {'events/s':>9} {'pools':>9} {'SimGrid s':>10} "
          f"{'ratio':>6} {'growth k':>9} {'sim time ours / SimGrid':>26}" + extra, flush=True)
    previous: tuple[int, float] | None = None
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            folder = args.keep / str(n) if args.keep else Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            files = write_scenario(folder, n, every=args.migration_every)
            wall, end, peak, events, formed, dissolved = ours(*files)
            ref = simgrid(*files, args.simgrid_cfg) if n <= args.simgrid_max else None
            metered = None
            if args.energy:
                powered = write_platform(folder / "platform-energy.xml", max(2, n // 10), energy=True)
                metered = ours(powered, files[1], files[2])[0]
        cost = f" {metered:>9.2f} {metered / wall:>6.3f}" if metered is not None else ""
        growth = f"{math.log(wall / previous[1]) / math.log(n / previous[0]):+.2f}" if previous else ""
        previous = (n, wall)
        pools = f"{formed}/{dissolved}"
        head = f"{n:>8} {wall:>8.2f} {peak:>7.0f} {peak * 1024 / n:>7.2f} {events / wall:>9,.0f} {pools:>9}"
        if ref is None:
            print(f"{head} {'-':>10} {'-':>6} {growth:>9} {end:>14.6f} / -{cost}", flush=True)
        else:
            print(f"{head} {ref[0]:>10.2f} {ref[0] / wall:>6.1f} {growth:>9} {end:>14.6f} / {ref[1]:.6f}{cost}",
                  flush=True)


if __name__ == "__main__":
    main()
