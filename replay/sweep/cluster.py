"""The Dask backend: points as tasks of a Dask distributed scheduler (``pip install '.[dask]'``).

Dask is imported only here, and only when asked: a missing Dask is one line, not a traceback. A worker that dies
while running a point is Dask's to handle: the scheduler gives the task to another worker (up to its
``distributed.scheduler.allowed-failures``, 3 by default), then the point is an error row. Workers must import
the same vmreplay (checked before anything is submitted) and see the sweep's files at the same absolute paths
(one machine, or a shared file system); give them one thread each (``dask worker --nthreads 1``): a simulation
holds the GIL.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator, Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any

from replay.errors import ReplayError
from replay.sweep.options import Task
from replay.sweep.worker import failure, one_line, run_point

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["connect", "results"]


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as error:
        raise ReplayError(f"--dask: expected Dask distributed installed (pip install '.[dask]' in the repository, "
                          f"or pip install 'dask[distributed]'), found {str(error)[:1].lower()}{str(error)[1:]}"
                          ) from None
    return distributed


@contextlib.contextmanager
def connect(address: str) -> Iterator[Client]:
    """A client of the scheduler at ``address`` (``tcp://host:8786``), or of a new ``LocalCluster`` for ``local``
    (one worker process per CPU) or ``local:N`` (N worker processes), closed (and the cluster with it) on exit."""
    local = address == "local" or address.startswith("local:")
    workers = _workers(address) if local else 0
    distributed = _distributed()
    cluster = None
    try:
        if local:
            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                               dashboard_address=None, silence_logs=logging.ERROR)
            client = distributed.Client(cluster)
        else:
            client = distributed.Client(address, timeout="10s")
            client.wait_for_workers(1, timeout=60)
    except (OSError, TimeoutError) as error:
        if cluster is not None:
            cluster.close()
        raise ReplayError(f"--dask {address}: expected a Dask scheduler with workers, found {one_line(error)}"
                          ) from None
    try:
        check_workers(client, address)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _workers(address: str) -> int:
    from replay.sweep.local import default_jobs

    count = address.partition(":")[2]
    if not count:
        return default_jobs()
    if not count.isdigit() or int(count) < 1:
        raise ReplayError(f"--dask {address}: expected local or local:N with N a number of workers, found {count!r}")
    return int(count)


def check_workers(client: Client, address: str) -> None:
    """Refuse workers that cannot run this version of vmreplay's points."""
    mine = metadata.version("vmreplay")
    try:
        theirs = client.run(_version)
    except Exception as error:
        raise ReplayError(f"--dask {address}: expected workers that import replay.sweep, found {one_line(error)}"
                          ) from None
    for worker, version in sorted(theirs.items()):
        if version != mine:
            raise ReplayError(f"--dask {address}: expected workers running vmreplay {mine}, found {version} on "
                              f"{worker}")


def _version() -> str:
    import replay.sweep.worker  # noqa: F401 - what a task imports

    return metadata.version("vmreplay")


def results(client: Client, tasks: Sequence[Task]) -> Iterator[dict[str, Any]]:
    """The outcome of every task, in completion order; tasks still pending are cancelled if iteration stops."""
    if not tasks:
        return
    distributed = _distributed()
    token = uuid.uuid4().hex[:12]
    futures = client.map(run_point, list(tasks), key=[f"replay-point-{task.point}-{token}" for task in tasks],
                         pure=False)
    points = {future.key: task.point for future, task in zip(futures, tasks, strict=True)}
    try:
        for future in distributed.as_completed(futures):
            try:
                outcome = future.result()
            except distributed.KilledWorker:
                outcome = failure(points[future.key], "the Dask workers running this point died, as many times as "
                                                      "the scheduler allows; the point did not finish")
            except Exception as error:
                outcome = failure(points[future.key], f"its Dask task failed: {one_line(error)}")
            future.release()
            yield outcome
    finally:
        client.cancel([future for future in futures if not future.done()])
