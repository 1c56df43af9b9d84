"""One exception hierarchy for everything a user can get wrong or a run can hit.

The command line turns any :class:`ReplayError` into one line on stderr and exit code 1, so every message is
written for a person: it names the file and line where there is one, what was expected and what was found.
Each subclass also inherits the builtin it refines, so ``except ValueError`` keeps working for library users::

    ReplayError(Exception)
    ├── UnitError(ReplayError, ValueError)          a number with a bad or missing SimGrid unit
    ├── PlatformError(ReplayError, ValueError)      a platform or deployment file we cannot load
    ├── TraceSyntaxError(ReplayError, ValueError)   an action-trace line we cannot parse
    ├── WorkloadError(ReplayError, ValueError)      a dataset row or option ``replay import`` cannot take
    ├── LookupFailure(ReplayError, KeyError)        an unknown host, link, VM, actor or route
    ├── StateError(ReplayError, RuntimeError)       an operation illegal in the current state
    └── SimulationError(ReplayError, RuntimeError)  the run itself cannot go on
        ├── DeadlockError                           actors wait forever; lists who waits on what
        ├── ClockError                              a date the clock cannot hold, a rate that is not a number
        └── ActivityFailed                          a transfer or execution lost to a failure (raised in the
            │                                       actor that waits on it, which ends ``failed`` unless it
            │                                       catches it)
            └── ActivityTimeout                     a transfer not done within the timeout its actor gave
"""

from __future__ import annotations

import difflib
import os
import stat
from collections.abc import Callable, Sequence
from os import PathLike


def where(path: str | PathLike[str] | None, line: int | None) -> str:
    """Return the ``file:line: `` prefix of a message, or ``""`` when the place is unknown."""
    if path is None:
        return ""
    return f"{path}:{line}: " if line is not None else f"{path}: "


class ReplayError(Exception):
    """Base of every error the project raises on purpose."""


class UnitError(ReplayError, ValueError):
    """A quantity whose number or unit SimGrid would not accept."""


class PlatformError(ReplayError, ValueError):
    """A platform or deployment description that cannot be loaded."""


class TraceSyntaxError(ReplayError, ValueError):
    """An action-trace line that does not match any action's grammar."""


class WorkloadError(ReplayError, ValueError):
    """A dataset that ``replay import`` cannot turn into a trace: a bad row (``file:line``), an option that does
    not fit the format, a VM that no PM can take."""


class PolicyError(ReplayError, ValueError):
    """A policy that cannot be loaded, a bad policy option, or a decision the model refuses."""


class LookupFailure(ReplayError, KeyError):
    """A name (host, link, VM, actor, route) that the platform or the run does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class StateError(ReplayError, RuntimeError):
    """An operation that the current state of its subject forbids."""


class SimulationError(ReplayError, RuntimeError):
    """A run that cannot continue."""


class DeadlockError(SimulationError):
    """Every remaining actor waits on something that can no longer happen."""


class ClockError(SimulationError):
    """A date past the largest the clock can hold, or a rate that is not a number; ``subject`` is the activity
    (or timer) concerned, so that the caller can say which action asked for it."""

    def __init__(self, message: str, subject: object = None) -> None:
        super().__init__(message)
        self.subject = subject


class ActivityFailed(SimulationError):
    """A transfer or an execution that a failure ended: a link of its route or its peer's host went off, or its
    peer was killed. Raised in the actor waiting on it; an actor that does not catch it ends with status
    ``failed`` and the message as its cause (SimGrid's ``NetworkFailureException``)."""


class ActivityTimeout(ActivityFailed):
    """A transfer that was not done within the ``timeout`` its actor gave (SimGrid's ``TimeoutException``)."""


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """``; did you mean 'x'?`` for the closest of ``choices`` to a misspelt ``word``, or nothing."""
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def unreadable(path: str | PathLike[str], *, special: bool, describe: Callable[[OSError], str]) -> str:
    """Why the input file ``path`` cannot be read ("" when it can), for the ``found ...`` half of a message:
    "no such file", "no read permission", "a directory", ``describe(error)`` for any other failure, and, unless
    ``special`` allows pipes and devices, "a special file". A regular file is opened once to be sure."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISREG(mode):
            with open(path, "rb"):
                return ""
    except PermissionError:
        return "no read permission"
    except FileNotFoundError:
        return "no such file"
    except OSError as error:
        return describe(error)
    if stat.S_ISDIR(mode):
        return "a directory"
    return "" if special else "a special file"
