"""The dates of every replayed action as one CSV (``replay run --actions``): :class:`ActionsCsvWriter`.

One row per action, in the order the actions end::

    actor,file,line,action,start,end

``file`` and ``line`` are where the action is written (the trace file as it was given, its 1-based line),
``action`` its keyword (``compute``, ``vm_migrate`` ...), ``start`` and ``end`` its dates in seconds (an actor's
first ``init`` lasts from its launch until it can run: its VM started). ``polars.read_csv(path)`` reads the file
with no options: dates are written so that they parse as floats (``0.0``, ``1e-05``), lines as integers.

The rows come from the replayer, not from the engine's records: subscribe the writer with
``session.replayer.listeners.append(writer.emit)``; it receives each :class:`replay.replayer.ActionDone`.
"""

from __future__ import annotations

import csv
import os
from typing import IO, TYPE_CHECKING, Any

from tracing.sink import FileSink

if TYPE_CHECKING:
    from replay.replayer import ActionDone

__all__ = ["ACTION_COLUMNS", "ActionsCsvWriter"]

ACTION_COLUMNS = ("actor", "file", "line", "action", "start", "end")


class ActionsCsvWriter(FileSink):
    """Write one row per replayed action at ``path`` (atomically: see :mod:`tracing.sink`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(path)
        self._writer: Any = None

    def _begin(self, stream: IO[str]) -> None:
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(ACTION_COLUMNS)

    def _record(self, record: ActionDone) -> None:
        action = record.action
        self._writer.writerow(
            (record.actor, action.path, action.line, action.keyword, repr(float(record.start)),
             repr(float(record.end)))
        )
