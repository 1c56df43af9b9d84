"""Small sweeps for the sweep tests: a two-VM migration study and a trace that takes a while to replay."""

from __future__ import annotations

from pathlib import Path

import polars as pl

#: vm0 (1 vCPU) computes 20 Gf on a 2 Gf/s core: 10 s, plus the stop-and-copy of its migration at t = 1 s, which
#: freezes it for the downtime (the migration ends long before 10 s for dp_intensity <= 0.5); vm1 computes 5 s.
MIGRATION_TRACE = """\
# vm0 migrates from pm-0 to pm-1 while it computes; vm1 shares pm-0
ctl init controller
ctl vm_create vm0 pm-0 cores=1 ram=1GiB dp_intensity=$dpi mig_speed=1GBps max_downtime=$dt
ctl vm_create vm1 pm-0 cores=1 ram=512MiB
ctl vm_start vm0
ctl vm_start vm1
ctl sleep 1
ctl vm_migrate vm0 pm-1
ctl finalize
w0 init vm0
w0 compute 20Gf
w1 init vm1
w1 compute 10Gf
"""

MIGRATION_SWEEP = """\
trace = "migration.trace"
[grid]
dt = ["10ms", "30ms", "100ms"]
dpi = [0, 0.2, 0.5]
"""


def migration_sweep(folder: Path, sweep: str = MIGRATION_SWEEP) -> Path:
    """The migration study's trace and a sweep file over it in ``folder``; the sweep file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "migration.trace").write_text(MIGRATION_TRACE)
    path = folder / "sweep.toml"
    path.write_text(sweep)
    return path


def slow_sweep(folder: Path, points: int, actions: int) -> Path:
    """A sweep of ``points`` points of one actor computing ``actions`` times: about 40 µs of wall time an action,
    whatever the point (``w`` is the flops of each)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "slow.trace").write_text("a init pm-0\n" + "a compute $w\n" * actions)
    path = folder / "slow.toml"
    values = ", ".join(f'"{n + 1}Mf"' for n in range(points))
    path.write_text(f'trace = "slow.trace"\n[grid]\nw = [{values}]\n')
    return path


def without_wall_time(table: pl.DataFrame) -> pl.DataFrame:
    return table.drop("wall_time")
