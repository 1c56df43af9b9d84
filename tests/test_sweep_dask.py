"""Sweeps on a real Dask cluster (a LocalCluster of two worker processes): the same table as local processes, a
killed worker's point run again, and a missing Dask as one line."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replay import sweep
from replay.cli import app
from tests.sweep_helpers import migration_sweep, slow_sweep, without_wall_time

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed (pip install '.[dask]')")


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    from replay.sweep.cluster import connect

    with connect("local:2") as made:
        yield made


def test_dask_gives_the_table_of_local_processes(client, tmp_path: Path) -> None:
    path = migration_sweep(tmp_path)
    on_dask = sweep.run(path, client)
    local = sweep.run(path, jobs=2)
    assert on_dask["point"].to_list() == list(range(9))
    assert without_wall_time(on_dask).equals(without_wall_time(local))
    assert on_dask.schema == local.schema


def test_a_killed_dask_worker_has_its_point_run_again(client, tmp_path: Path) -> None:
    # 4 points of ~0.6 s on two workers; the worker that has point 1 is killed while it runs: the scheduler gives
    # the point to a worker again, and every row is a normal one (each computes 15,000 x w flops at 2 Gf/s)
    path = slow_sweep(tmp_path, points=4, actions=15_000)
    pids = client.run(os.getpid)
    killed: list[int] = []

    def kill_the_worker_of_point_1() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for worker, keys in client.processing().items():
                if any(str(key).startswith("replay-point-1-") for key in keys) and worker in pids:
                    time.sleep(0.2)  # well into its run (or the run of the point before it on that worker)
                    os.kill(pids[worker], signal.SIGKILL)
                    killed.append(pids[worker])
                    return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_the_worker_of_point_1)
    killer.start()
    table = sweep.run(path, client)
    killer.join()
    assert len(killed) == 1
    assert table["status"].to_list() == ["ok"] * 4
    assert table["simulated_time"].to_list() == pytest.approx([15_000 * w * 1e6 / 2e9 for w in (1, 2, 3, 4)])
    client.wait_for_workers(2, timeout=30)  # the nanny restarted the killed one
    assert killed[0] not in client.run(os.getpid).values()


def test_the_command_runs_on_a_local_cluster(tmp_path: Path) -> None:
    path = migration_sweep(tmp_path, 'trace = "migration.trace"\n[grid]\ndt = ["10ms"]\ndpi = [0, 0.5]\n')
    target = tmp_path / "r.parquet"
    result = CliRunner().invoke(app, ["sweep", str(path), "-o", str(target), "--dask", "local:1"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2 points: 2 ok, 0 errors, wall time ")


def test_without_dask_the_option_is_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails as when it is not installed
    path = migration_sweep(tmp_path)
    result = CliRunner().invoke(app, ["sweep", str(path), "-o", str(tmp_path / "r.parquet"), "--dask", "local:2"])
    assert result.exit_code == 1
    assert result.output.startswith("--dask: expected Dask distributed installed (pip install '.[dask]' in the "
                                    "repository, or pip install 'dask[distributed]'), found ")
    assert len(result.output.strip().splitlines()) == 1
    result = CliRunner().invoke(app, ["sweep", str(path), "-o", str(tmp_path / "r.parquet"), "--dask", "local:x"])
    assert (result.exit_code, result.output.strip()) == (1, "--dask local:x: expected local or local:N with N a number "
                                                            "of workers, found 'x'")
