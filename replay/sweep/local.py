"""The local backend: a pool of worker processes that knows which point each one runs.

``concurrent.futures`` breaks the whole pool when one worker dies, and ``multiprocessing.Pool`` waits forever
for the task of a dead worker; here each worker takes one point at a time over its own pipe, so a worker that
dies (killed, out of memory, a crash of the interpreter) makes *that* point an error row, a new worker takes its
place, and the sweep goes on. Workers are started with ``spawn`` (a fresh interpreter: no lock or thread of the
parent inherited, the same on every platform), ignore SIGINT (Ctrl-C reaches the whole process group: the parent
decides), and are stopped when the parent stops iterating, normally or not.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnProcess
from typing import Any

from replay.sweep.options import Task
from replay.sweep.worker import failure, run_point

__all__ = ["default_jobs", "results"]

#: told of each point a worker starts: (point, worker's process id)
Started = Callable[[int, int | None], None]


def default_jobs() -> int:
    """The processors this process may use (its CPU affinity where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def results(
    tasks: Sequence[Task], jobs: int | None = None, on_start: Started | None = None
) -> Iterator[dict[str, Any]]:
    """The outcome of every task, in completion order, from ``jobs`` worker processes (default: the CPU count)."""
    if not tasks:
        return
    context = multiprocessing.get_context("spawn")
    queue = deque(tasks)
    workers = [_Worker(context) for _ in range(min(jobs or default_jobs(), len(tasks)))]
    try:
        for worker in workers:
            worker.give(queue.popleft(), on_start)
        while busy := [worker for worker in workers if worker.task is not None]:
            ready = set(wait([*(w.connection for w in busy), *(w.process.sentinel for w in busy)]))
            for worker in busy:
                if worker.connection not in ready and worker.process.sentinel not in ready:
                    continue
                outcome = worker.collect()
                if not worker.process.is_alive():
                    worker.replace(context)
                if queue:
                    worker.give(queue.popleft(), on_start)
                yield outcome
    finally:
        for worker in workers:
            worker.stop()


class _Worker:
    """One worker process, its end of the pipe, and the task it runs (None: idle)."""

    def __init__(self, context: Any) -> None:
        self.task: Task | None = None
        self.started = 0.0
        self.replace(context)

    def replace(self, context: Any) -> None:
        """Start a (new) process."""
        if hasattr(self, "connection"):
            self.connection.close()
        self.connection, child = context.Pipe()
        self.process: SpawnProcess = context.Process(target=_serve, args=(child,), daemon=True,
                                                     name="replay-sweep-worker")
        self.process.start()
        child.close()

    def give(self, task: Task, on_start: Started | None) -> None:
        self.task = task
        self.started = time.perf_counter()
        with contextlib.suppress(OSError):  # died idle: its collect() reports the point
            self.connection.send(task)
        if on_start is not None:
            on_start(task.point, self.process.pid)

    def collect(self) -> dict[str, Any]:
        """The outcome of the task: the worker's, or an error row if the worker died."""
        task, self.task = self.task, None
        assert task is not None
        if self.connection.poll():
            try:
                return self.connection.recv()
            except (EOFError, OSError):
                pass
        self.process.join(5)
        code = self.process.exitcode
        if code is None:
            self.process.kill()
            self.process.join()
            code = self.process.exitcode
        how = f"killed by {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
        outcome = failure(task.point, f"its worker process died ({how}); the point did not finish")
        outcome["wall_time"] = time.perf_counter() - self.started
        return outcome

    def stop(self) -> None:
        """Ask an idle worker to leave, stop a busy one (the parent is interrupted), and wait for it."""
        if self.process.is_alive():
            if self.task is None:
                with contextlib.suppress(OSError):
                    self.connection.send(None)
                self.process.join(2)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join(2)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self.connection.close()


def _serve(connection: Connection) -> None:
    """A worker's life: run the tasks the parent sends, one at a time, until it sends None or goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        connection.send(run_point(task))
