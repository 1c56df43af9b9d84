"""What a sweep's backends cost: 200 points of the migration study, run every way there is.

    python tools/bench_sweep.py [--points 200] [--skip-subprocesses] [--no-dask]

The study is ``traces/sweep/migration.trace`` (web migrates while it computes; ~2 ms of simulation a point) over
a grid of ``max_downtime`` x ``dp_intensity`` values. It is run

* in-process: a plain loop of ``ReplaySession.open(...).run()`` in this process (no process, no table);
* as subprocesses: a loop of ``python -m replay run TRACE --set ... --summary FILE --quiet``, one per point, which
  is what a shell script would do;
* with ``python -m replay sweep`` (a subprocess, its start-up and the results file included) on ``--jobs 1``,
  ``--jobs 2`` and ``--dask local:2``.

For each: the wall time and points per second; for a sweep, its start-up (the wall time of a sweep of one point:
importing, checking, starting the workers or the cluster, writing the file, shutting down) and the rest per
point; the overhead per point against the in-process loop (that per-point time times the workers, less the
in-process time of a point: the processes, the pipes or the scheduler, the table); against the subprocess loop,
how many times faster the whole sweep is. Every sweep's table is
checked to hold the same rows (wall times aside). The figures depend on the machine: run it on an idle one.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TRACE = REPO / "traces" / "sweep" / "migration.trace"


def grid(points: int) -> list[tuple[str, str]]:
    """``points`` (max_downtime, dp_intensity) pairs: 10 downtimes x points / 10 intensities from 0 to 0.4."""
    downtimes = ["5ms", "10ms", "20ms", "30ms", "50ms", "100ms", "200ms", "300ms", "500ms", "1s"]
    per = max(points // len(downtimes), 1)
    intensities = [f"{0.4 * i / max(per - 1, 1):.4g}" for i in range(per)]
    return [(d, i) for d in downtimes for i in intensities][:points]


def write_sweep(folder: Path, pairs: list[tuple[str, str]]) -> Path:
    folder.mkdir(exist_ok=True)
    downtimes = list(dict.fromkeys(d for d, _ in pairs))
    intensities = list(dict.fromkeys(float(i) for _, i in pairs))
    path = folder / "bench.toml"
    path.write_text(f'trace = "{TRACE}"\n[grid]\nmax_downtime = {downtimes!r}\ndp_intensity = {intensities!r}\n'
                    .replace("'", '"'))
    return path


def in_process(pairs: list[tuple[str, str]]) -> float:
    from replay.session import ReplaySession

    logging.getLogger("replay").setLevel(logging.ERROR)  # a forced stop-and-copy is a warning: not printed here

    start = time.perf_counter()
    for downtime, intensity in pairs:
        ReplaySession.open([TRACE], variables={"max_downtime": downtime, "dp_intensity": intensity}).run()
    return time.perf_counter() - start


def subprocesses(pairs: list[tuple[str, str]], folder: Path) -> float:
    start = time.perf_counter()
    for downtime, intensity in pairs:
        subprocess.run([sys.executable, "-m", "replay", "run", str(TRACE), "--set", f"max_downtime={downtime}",
                        "--set", f"dp_intensity={intensity}", "--summary", str(folder / "s.json"), "--quiet"],
                       cwd=REPO, check=True)
    return time.perf_counter() - start


def sweep(path: Path, output: Path, backend: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "replay", "sweep", str(path), "-o", str(output), "--quiet", *backend],
                   cwd=REPO, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--skip-subprocesses", action="store_true", help="Leave out the loop of replay run.")
    parser.add_argument("--no-dask", action="store_true", help="Leave out --dask local:2.")
    args = parser.parse_args()
    import polars as pl

    pairs = grid(args.points)
    n = len(pairs)
    rows: list[tuple[str, int, float]] = []
    startup: dict[str, float] = {}  # the wall time of a sweep of one point: start-up and shut-down
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        path = write_sweep(folder, pairs)
        base = in_process(pairs)
        rows.append(("in-process loop", 1, base))
        if not args.skip_subprocesses:
            rows.append(("loop of replay run", 1, subprocesses(pairs, folder)))
        backends = [("sweep --jobs 1", 1, ["--jobs", "1"]), ("sweep --jobs 2", 2, ["--jobs", "2"])]
        if not args.no_dask:
            backends.append(("sweep --dask local:2", 2, ["--dask", "local:2"]))
        tables = []
        one = write_sweep(folder / "one", pairs[:1])
        for name, workers, option in backends:
            output = folder / f"{len(tables)}.parquet"
            startup[name] = sweep(one, folder / "one.parquet", option)
            rows.append((name, workers, sweep(path, output, option)))
            tables.append(pl.read_parquet(output).drop("wall_time"))
        assert all(table.equals(tables[0]) for table in tables), "the backends' tables differ"
        assert tables[0].height == n and tables[0]["status"].to_list() == ["ok"] * n
    loop = next((wall for name, _, wall in rows if name == "loop of replay run"), None)
    print(f"{n} points of {TRACE.relative_to(REPO)} on {os.cpu_count()} CPUs (in-process: "
          f"{1000 * base / n:.2f} ms a point)")
    print(f"{'':22}{'wall s':>8}{'points/s':>10}{'start s':>9}{'ms/point':>10}{'overhead ms/point':>19}"
          f"{'vs replay run loop':>20}")
    for name, workers, wall in rows:
        fixed = startup.get(name, 0.0)
        per_point = (wall - fixed) / max(n - 1, 1) if name in startup else wall / n
        overhead = 1000 * (per_point * workers - base / n)
        faster = f"{loop / wall:.1f}x faster" if loop is not None and name != "loop of replay run" else ""
        print(f"{name:22}{wall:8.2f}{n / wall:10.1f}{fixed:9.2f}{1000 * per_point:10.2f}{overhead:19.2f}{faster:>20}")
    print("start s: the wall time of a sweep of one point (start-up, shut-down); ms/point: the rest, per point; "
          "overhead: that times the workers, less the in-process time of a point")

if __name__ == "__main__":
    main()
