"""The outputs of one run, as ``replay run`` handles them: checked before the run, written together, signals.

* :func:`check_outputs` refuses, before anything runs, an output that is one of the inputs (the same file under
  any spelling: relative, ``./``, ``..``, a symbolic link to it, a hard link: files are compared by device and
  inode where they exist, by resolved path where they do not), two outputs that are the same file, and every
  name :func:`tracing.sink.destination` refuses (a folder, a block device, a socket, a link loop, a dangling
  link into a folder that does not exist); it creates the folders of new output files.
* :func:`summary_json` is the JSON summary as strict JSON: a number that is not finite is an
  :class:`~tracing.sink.OutputError` naming the field, never ``Infinity`` or ``NaN`` in the file.
* :func:`unwind_on_signals` turns SIGTERM and SIGHUP into :class:`Interrupted`, a ``KeyboardInterrupt``, while
  a run goes on: the run unwinds through the writers' context managers exactly as on Ctrl-C, so no temporary
  file is left behind and no output is half-replaced; the previous handlers come back afterwards.

The files themselves are written by :class:`tracing.sink.CommitGroup`: all of a run's outputs, or none.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import stat
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from tracing.sink import Destination, OutputError, describe, destination

__all__ = ["Interrupted", "check_outputs", "summary_json", "unwind_on_signals"]

#: the signals :func:`unwind_on_signals` turns into :class:`Interrupted` (SIGINT already is a KeyboardInterrupt)
UNWOUND = (signal.SIGTERM, signal.SIGHUP)


def check_outputs(
    outputs: Mapping[str, Path | None], inputs: Iterable[tuple[str, str | os.PathLike[str]]]
) -> dict[str, Destination]:
    """Check the outputs of a run against its inputs and one another; create the folders of new files.

    ``outputs`` maps what asks for each output (an option, ``--csv``) to its path or None; ``inputs`` lists
    ``(what, path)`` of every file the run reads (``("trace file", "t.trace")``). Returns the destination of each
    output asked for; raises an :class:`OutputError` in the form ``path: what was expected, found what``.
    Character devices and this process's descriptors (``/dev/null``, ``/dev/stdout``) may take several outputs:
    they are written through, one output after the other.
    """
    read: dict[object, tuple[str, str | os.PathLike[str]]] = {}
    for what, path in inputs:
        with contextlib.suppress(OSError):
            read.setdefault(_identity(Path(path)), (what, path))
    chosen: dict[object, str] = {}
    found: dict[str, Destination] = {}
    for option, path in outputs.items():
        if path is None:
            continue
        target = destination(path)
        key = _identity(target.target, target.descriptor)
        if key in read:
            what, source = read[key]
            raise OutputError(f"{path}: expected an output ({option}) that is not an input, found the {what} {source}")
        if key in chosen and not _shareable(target):
            raise OutputError(
                f"{path}: expected a different file for each output, found the same one twice ({chosen[key]} and "
                f"{option})"
            )
        chosen[key] = option
        found[option] = target
    for target in found.values():
        if not target.through and target.target == target.path:
            folder = target.path.parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise OutputError(f"{folder}: expected a folder for {target.path}, found {describe(error)}") from None
    return found


def _identity(path: Path, descriptor: int | None = None) -> object:
    """What makes two names one file: device and inode if it exists, else its absolute path with links resolved."""
    try:
        info = os.fstat(descriptor) if descriptor is not None else os.stat(path)
    except FileNotFoundError:
        return os.path.realpath(path)
    return info.st_dev, info.st_ino


def _shareable(target: Destination) -> bool:
    """A device or a descriptor of ours, written through: several outputs may go there one after the other."""
    if target.descriptor is not None:
        return True
    return target.through and stat.S_ISCHR(os.stat(target.target).st_mode)


def summary_json(data: Mapping[str, Any], path: str | os.PathLike[str]) -> str:
    """``data`` as strict JSON text (what any JSON reader accepts); a number that is not finite is an
    :class:`OutputError` for ``path`` naming the first such field (``migrations[0].downtime``)."""
    try:
        return json.dumps(data, indent=2, allow_nan=False) + "\n"
    except ValueError:
        where, value = _first_non_finite(data)
        raise OutputError(f"{path}: expected finite numbers in the JSON summary, found {value} at {where}") from None


def _first_non_finite(data: Any, where: str = "") -> tuple[str, float] | tuple[str, None]:
    if isinstance(data, float) and not math.isfinite(data):
        return where, data
    items: Iterable[tuple[str, Any]] = ()
    if isinstance(data, Mapping):
        items = ((f"{where}.{key}" if where else str(key), value) for key, value in data.items())
    elif isinstance(data, list | tuple):
        items = ((f"{where}[{index}]", value) for index, value in enumerate(data))
    for place, value in items:
        found = _first_non_finite(value, place)
        if found[1] is not None:
            return found
    return where, None


class Interrupted(KeyboardInterrupt):
    """A SIGTERM or SIGHUP received during a run, raised where the run stood so that it unwinds like Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def unwind_on_signals(signums: Iterable[int] = UNWOUND) -> Iterator[None]:
    """Raise :class:`Interrupted` on these signals while the block runs; restore the previous handlers after.

    A signal the process ignores stays ignored (SIGHUP under ``nohup``); outside the main thread, where Python
    cannot set handlers, nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in signums:
        handler = signal.getsignal(signum)
        if handler is not signal.SIG_IGN:
            previous[signum] = handler
            signal.signal(signum, _raise)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)
