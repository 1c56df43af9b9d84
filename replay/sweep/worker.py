"""One point of a sweep, as a worker process runs it: open the session, run it, measure it.

:func:`run_point` never raises for a point that fails: any error of the run (the project's, or an unexpected
one) is the point's ``error``, one line, so that a failed point is a row of the table and never the end of the
sweep. What it returns depends only on the task, but ``wall_time``: the same point gives the same bytes on any
backend. Only the standard library and the model are imported here (no polars): a worker starts fast.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import warnings
from collections.abc import Iterator
from typing import Any

from replay.availability import RandomFailures
from replay.errors import ReplayError
from replay.migration import MigrationOptions
from replay.session import ReplaySession, RunResult
from replay.sweep.options import Task

__all__ = ["METRICS", "failure", "one_line", "run_point"]

#: the measures of a run, in table order, with their column kinds (the ``sla_`` columns follow, with a policy)
METRICS = {"simulated_time": "float", "migrations": "int", "downtime_total": "float", "downtime_max": "float",
           "energy_j": "float"}


def run_point(task: Task) -> dict[str, Any]:
    """The outcome of one point: ``point``, ``status`` (``ok`` or ``error``), ``error``, ``warnings`` (those of
    the run, distinct, joined by `` | ``; None without any), the :data:`METRICS`, ``sla`` (the summary's, with a
    policy), ``summary`` (compact JSON) and ``wall_time`` (seconds)."""
    start = time.perf_counter()
    noted: list[str] = []
    with _noted(noted):
        outcome = _run(task)
    outcome["warnings"] = " | ".join(dict.fromkeys(noted)) or None
    outcome["point"] = task.point
    outcome["wall_time"] = time.perf_counter() - start
    return outcome


def _run(task: Task) -> dict[str, Any]:
    try:
        session = ReplaySession.open(
            task.traces,
            platform=task.platform,
            deploy=task.deploy,
            network_model=task.network_model,
            migration=MigrationOptions(on_stall=task.on_stall),
            random_failures=RandomFailures.parse(task.fail_hosts, task.seed, "fail_hosts") if task.fail_hosts
            else None,
            policy=task.policy,
            variables=dict(task.variables),
        )
        return measures(session.run())
    except Exception as error:  # any error is the point's, never the sweep's
        return failure(task.point, one_line(error))


@contextlib.contextmanager
def _noted(messages: list[str]) -> Iterator[None]:
    """Collect the warnings of a run (Python's, and the model's log records: a forced stop-and-copy), in the order
    they come, instead of printing them: a thousand points would print a thousand lines. Every one is kept,
    whatever an earlier point of the same worker warned (a row does not depend on what its worker ran before)."""
    handler = _Collect(messages)
    logger = logging.getLogger("replay")
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = lambda message, *where: messages.append(" ".join(str(message).split()))
            yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


class _Collect(logging.Handler):
    def __init__(self, messages: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))


def measures(result: RunResult) -> dict[str, Any]:
    """A finished run's row: ``downtime_total`` and ``downtime_max`` are over every migration of the summary (done
    or aborted; ``downtime_max`` is null without any), ``energy_j`` the summary's ``energy.total``."""
    downtimes = [migration["downtime"] for migration in result.migrations]
    try:
        summary = json.dumps(result.summary(), allow_nan=False, separators=(",", ":"))
    except ValueError:
        return failure(None, "expected finite numbers in the run's summary, found a number that is not finite")
    return {
        "status": "ok",
        "error": None,
        "simulated_time": result.simulated_time,
        "migrations": len(result.migrations),
        "downtime_total": sum(downtimes, 0.0),
        "downtime_max": max(downtimes) if downtimes else None,
        "energy_j": result.energy["total"] if result.energy is not None else None,
        "sla": dict(result.sla) if result.sla is not None else None,
        "summary": summary,
    }


def failure(point: int | None, message: str) -> dict[str, Any]:
    """The outcome of a point that did not run to its end: ``status`` error, ``message`` as ``error``."""
    return {"point": point, "status": "error", "error": message, "warnings": None, **dict.fromkeys(METRICS),
            "sla": None, "summary": None}


def one_line(error: BaseException) -> str:
    """An error as one line: the project's message, or the type and message of an unexpected one."""
    text = str(error) if isinstance(error, ReplayError) else f"{type(error).__name__}: {error}"
    return " ".join(part.strip() for part in text.splitlines() if part.strip()) or type(error).__name__
