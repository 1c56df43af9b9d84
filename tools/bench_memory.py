"""Memory per VM: what a replay of the VM benchmark costs, in peak resident memory and in Python allocations.

The scenario is ``tools/bench_vms.py``'s (``write_scenario``): N one-vCPU VMs of 1 GiB on N/10 PMs, one actor per
VM that computes in it, a controller creating and starting every VM, and N/K live migrations. Each size is
written to a folder and replayed by ``ReplaySession`` in a child process of its own, so that one size's memory
does not weigh on the next, after a replay of the same scenario at 200 VMs (what a run imports or caches, such as
numpy, is then in the child's base). It prints the child's peak resident set size (Linux's ``VmHWM``), the same
per VM, and per VM above the child's base (the interpreter, its modules, the warm-up: what a VM costs, the
platform's share included), and the peak once the session is open (files read and checked).

With ``--top N``, each size is replayed a second time under ``tracemalloc`` (four times slower, and it inflates
the resident size, hence a run of its own), with a snapshot at simulated date ``--at`` (by default 0.5 s, when
every VM runs its task): the bytes per VM Python holds then and at its peak, and the N lines of code that
allocated the most of what is held, per VM. This is a measure, not a test: nothing is timed or asserted.

    python tools/bench_memory.py [--sizes 10000,100000] [--migration-every K] [--top N] [--at SECONDS]
                                 [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_vms import REPO, write_scenario  # run as a script, tools/ is on sys.path

#: VMs of the scenario replayed first in each child, so that what a run imports (numpy, by the first large problem)
#: or caches is in the base and out of the bytes per VM.
WARM_UP = 200

#: The child: replays the scenario of a folder after the warm-up's, and prints one line of JSON (see ``measure``).
CHILD = r"""
import gc, json, resource, sys

def status(field):
    # VmHWM is this process's peak (on Linux ru_maxrss also counts the parent's size at fork), VmRSS its size now
    try:
        with open("/proc/self/status") as lines:
            return next(int(line.split()[1]) for line in lines if line.startswith(field + ":")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def replay(folder):
    return ReplaySession.open([f"{folder}/bench.trace"], platform=f"{folder}/platform.xml",
                              deploy=f"{folder}/deploy.xml")

folder, warm, top, at = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
from replay.session import ReplaySession
replay(warm).run()
gc.collect()
base = status("VmRSS")
if top:
    import tracemalloc
    tracemalloc.start()
session = replay(folder)
opened = status("VmHWM")
held = []

def snapshot():
    held.append((tracemalloc.get_traced_memory()[0], tracemalloc.take_snapshot()))

if top:
    session.sim.engine.at(at, snapshot)
result = session.run()
report = {"vms": result.counts["vms"], "base": base, "opened": opened, "peak": status("VmHWM"),
          "end": result.simulated_time}
if top and held:
    traced, shot = held[0]
    lines = shot.statistics("lineno")
    report["traced"] = traced
    report["traced_peak"] = tracemalloc.get_traced_memory()[1]
    report["top"] = [(f"{s.traceback[0].filename}:{s.traceback[0].lineno}", s.size, s.count) for s in lines[:top]]
print(json.dumps(report))
"""


def measure(folder: Path, warm: Path, *, top: int = 0, at: float = 0.5) -> dict:
    """Replay the scenario of ``folder`` in a child process, after that of ``warm``: its resident sizes in MiB
    (``base``: after the warm-up, ``opened``: peak once the session is open, ``peak``: at the end), its VM count,
    and with ``top``, tracemalloc's bytes held at date ``at`` (``traced``), at its peak (``traced_peak``) and its
    ``top`` lines."""
    proc = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(warm), str(top), str(at)],
                          capture_output=True, text=True, check=False, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"the replay of {folder} failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def shown(where: str) -> str:
    """A code location relative to the repository when it is in it."""
    path = Path(where)
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="VM counts, comma-separated")
    parser.add_argument("--migration-every", type=int, default=100, metavar="K", help="one migration per K VMs")
    parser.add_argument("--top", type=int, default=0, metavar="N",
                        help="also replay under tracemalloc and show the N lines that hold the most per VM")
    parser.add_argument("--at", type=float, default=0.5, metavar="SECONDS",
                        help="the simulated date of the tracemalloc snapshot (default 0.5)")
    parser.add_argument("--keep", type=Path, help="write the scenarios here instead of a temporary folder")
    args = parser.parse_args()
    print(f"{'VMs':>9} {'peak MiB':>9} {'B/VM':>7} {'above base':>11} {'open MiB':>9} {'base MiB':>9}")
    with tempfile.TemporaryDirectory() as warm:
        write_scenario(Path(warm), WARM_UP, every=args.migration_every)
        for n in (int(size) for size in args.sizes.split(",")):
            with tempfile.TemporaryDirectory() as tmp:
                folder = args.keep / str(n) if args.keep else Path(tmp)
                folder.mkdir(parents=True, exist_ok=True)
                write_scenario(folder, n, every=args.migration_every)
                run = measure(folder, Path(warm))
                traced = measure(folder, Path(warm), top=args.top, at=args.at) if args.top else None
            report(n, run, traced, args.at)


def report(n: int, run: dict, traced: dict | None, at: float) -> None:
    """Print one size's line, and its tracemalloc lines if any."""
    vms = run["vms"]
    per_vm = run["peak"] * 2**20 / vms
    above = (run["peak"] - run["base"]) * 2**20 / vms
    print(f"{vms:>9,} {run['peak']:>9.0f} {per_vm:>7.0f} {above:>11.0f} {run['opened']:>9.0f} {run['base']:>9.0f}")
    if traced is not None and "traced" in traced:
        print(f"          tracemalloc at t={at:g} s: {traced['traced'] / vms:.0f} B/VM held, "
              f"{traced['traced_peak'] / vms:.0f} B/VM at its peak; the lines holding the most:")
        for where, size, count in traced["top"]:
            print(f"          {size / vms:>7.0f} B/VM {count / vms:>6.2f}/VM  {shown(where)}")


if __name__ == "__main__":
    main()
