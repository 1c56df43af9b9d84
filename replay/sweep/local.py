"""The local backend: a pool of worker processes that knows which point each one runs.

``concurrent.futures`` breaks the whole pool when one worker dies, and ``multiprocessing.Pool`` waits forever
for the task of a dead worker; here each worker takes one point at a time over its own socket, so a worker that
dies (killed, out of memory, a crash of the interpreter) makes *that* point an error row, a new worker takes its
place, and the sweep goes on.

A worker is a fresh interpreter running :func:`serve` (``python -c``, with this process's ``sys.path``): unlike
``multiprocessing``'s ``spawn`` it never imports the parent's main module again, so a sweep runs the same from
the command line, a script without a ``__main__`` guard, a notebook or a heredoc, and a worker imports the model
alone (no polars). Workers ignore SIGINT (Ctrl-C reaches the whole process group: the parent decides), leave
when the parent goes away, and are stopped when the parent stops iterating, normally or not.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from replay.sweep.options import Task
from replay.sweep.worker import failure, run_point

__all__ = ["default_jobs", "results", "serve"]

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
    queue = deque(tasks)
    workers: list[_Worker] = []
    try:
        for _ in range(min(jobs or default_jobs(), len(tasks))):
            workers.append(_Worker())
        for worker in workers:
            worker.give(queue.popleft(), on_start)
        while busy := [worker for worker in workers if worker.task is not None]:
            for connection in wait([worker.connection for worker in busy]):
                worker = next(w for w in busy if w.connection is connection)
                outcome = worker.collect()
                if queue:
                    worker.give(queue.popleft(), on_start)
                yield outcome
    finally:
        for worker in workers:
            worker.stop()


class _Worker:
    """One worker process, its end of the socket, and the task it runs (None: idle)."""

    def __init__(self) -> None:
        self.task: Task | None = None
        self.started = 0.0
        self._start()

    def _start(self) -> None:
        mine, theirs = socket.socketpair()
        paths = [os.path.abspath(path) if path else os.getcwd() for path in sys.path]
        code = f"import sys; sys.path[:0] = {paths!r}; from replay.sweep.local import serve; serve({theirs.fileno()})"
        self.process = subprocess.Popen([sys.executable, "-c", code], pass_fds=[theirs.fileno()],
                                        stdin=subprocess.DEVNULL)
        theirs.close()
        self.connection = Connection(mine.detach())

    def give(self, task: Task, on_start: Started | None) -> None:
        if self.process.poll() is not None:  # died idle, or between two points: start another
            self.connection.close()
            self._start()
        self.task = task
        self.started = time.perf_counter()
        with contextlib.suppress(OSError):  # died just now: collect() reports the point
            self.connection.send(task)
        if on_start is not None:
            on_start(task.point, self.process.pid)

    def collect(self) -> dict[str, Any]:
        """The outcome of the task: the worker's, or an error row if the worker died running it."""
        task, self.task = self.task, None
        assert task is not None
        try:
            return self.connection.recv()
        except (EOFError, OSError):
            pass
        try:
            code = self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        outcome = failure(task.point, f"its worker process died ({how}); the point did not finish")
        outcome["wall_time"] = time.perf_counter() - self.started
        return outcome

    def stop(self) -> None:
        """Ask an idle worker to leave, stop a busy one (the parent is interrupted), and wait for it."""
        if self.process.poll() is None:
            if self.task is None:
                with contextlib.suppress(OSError):
                    self.connection.send(None)
            else:
                self.process.terminate()
            try:
                self.process.wait(2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.connection.close()


def serve(descriptor: int) -> None:
    """A worker's life: run the tasks the parent sends over the socket ``descriptor``, one at a time, until it
    sends None or goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    connection = Connection(descriptor)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        connection.send(run_point(task))
