"""Trace files: streaming readers of one file, and sources that hand each actor its next action on demand.

:func:`iter_actions` streams the actions of one file. :func:`open_trace` returns a :class:`TraceSource` that hands
each actor its next action on demand, in *shared* mode (one file holding every actor's lines, as SimGrid's
``xbt_replay_set_tracefile``) or *split* mode (one file per actor, as a deployment's ``<argument value=...>``).
Opening a source reads its files once, streaming, to check every line (and, given a ``check``, every action
against the whole trace: :class:`~replay.trace.checks.TraceCheck`) and learn the actors and their action counts,
so a typo stops the run before it starts. The records of that pass are kept for the replay, so that a trace is
read once, up to :data:`KEEP` actions; a larger trace is read a second time, lazily, to bound memory: a shared
file is read only as far as the asking actor needs, holding the other actors' records until they ask, and an
actor that has had all its actions gets None without any further reading.

Every record carries the ``path`` and ``line`` it came from; every problem in the text is a
:class:`~replay.errors.TraceSyntaxError` reading ``path:line: <what was expected>, found <what was found>``, and
no input text raises anything else. Lines are parsed by a :class:`~replay.trace.records.Registry` of actions
(:data:`~replay.trace.records.BUILTIN` unless told otherwise).
"""

from __future__ import annotations

import os
import stat
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import BinaryIO, ClassVar, Final, Literal

from replay.errors import LookupFailure, TraceSyntaxError, where
from replay.trace.builtin import BUILTIN
from replay.trace.grammar import shown
from replay.trace.records import Action, Registry

PathArg = str | os.PathLike[str]

_MAX_LINE: Final[int] = 1 << 20
"""Longest line accepted, in bytes: a file without newlines is an error, never read whole into memory."""

KEEP: Final[int] = 1_000_000
"""Actions kept in memory from the opening pass (a few hundred bytes each), so that the replay reads no file
again; beyond that, the files are read again, lazily, and memory stays bounded by the actors' progress skew."""

Check = Callable[[Action], None]


def parse_line(text: str, path: str, line: int, registry: Registry = BUILTIN) -> Action | None:
    """Parse one line of a trace; None for a blank or comment line. Raises :class:`TraceSyntaxError`."""
    return registry.parse_line(text, path, line)


def _file_error(path: str, exc: OSError) -> TraceSyntaxError:
    if isinstance(exc, FileNotFoundError):
        found = "no such file"
    elif isinstance(exc, IsADirectoryError):
        found = "a directory"
    elif isinstance(exc, PermissionError):
        return TraceSyntaxError(f"{where(path, None)}expected a readable trace file, found no read permission")
    else:
        found = f"an error: {exc.strerror or exc}"
    return TraceSyntaxError(f"{where(path, None)}expected a trace file, found {found}")


def _open(path: str, *, regular: bool = False) -> BinaryIO:
    """Open ``path`` for binary reading; every failure is a :class:`TraceSyntaxError` naming the file.

    ``regular`` refuses pipes and devices, which cannot be read twice (sources read their files twice).
    """
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, "Is a directory", path)
        kind_ok = stat.S_ISREG(info.st_mode) or not regular
        handle = open(path, "rb") if kind_ok else None  # noqa: SIM115 - the callers close it
    except OSError as exc:
        raise _file_error(path, exc) from None
    except ValueError as exc:  # a NUL in the name
        raise TraceSyntaxError(f"{where(path, None)}expected a trace file name, found {exc}") from None
    if handle is None:
        raise TraceSyntaxError(
            f"{where(path, None)}expected a regular trace file (a long one is read twice: to check it, then to "
            "replay it), found a pipe or a device"
        )
    return handle


def _decode(raw: bytes, path: str, line: int) -> str:
    """One line's bytes as text, or a :class:`TraceSyntaxError` (not UTF-8, or too long)."""
    if len(raw) > _MAX_LINE and not raw.endswith(b"\n"):
        raise TraceSyntaxError(f"{where(path, line)}expected a line of at most {_MAX_LINE} bytes, found a longer one")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TraceSyntaxError(
            f"{where(path, line)}not UTF-8: expected text, found byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"
        ) from None
    return text[1:] if line == 1 and text.startswith("\ufeff") else text  # a UTF-8 byte-order mark


def _lines(path: str, handle: BinaryIO) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of every line of an open file, read one line at a time; closes the file."""
    with handle:
        number = 0
        while True:
            try:
                raw = handle.readline(_MAX_LINE + 1)
            except OSError as exc:
                raise _file_error(path, exc) from None
            if not raw:
                return
            number += 1
            yield number, _decode(raw, path, number)


def _actions(
    path: str, handle: BinaryIO, registry: Registry, names: dict[str, str] | None = None
) -> Iterator[tuple[int, Action | None]]:
    for number, text in _lines(path, handle):
        yield number, registry.parse_line(text, path, number, names)


def iter_actions(path: PathArg, *, registry: Registry = BUILTIN) -> Iterator[Action]:
    """Stream the actions of one trace file, in file order, one line in memory at a time.

    The file is opened at once, so a missing or unreadable file raises here rather than at the first ``next``.
    """
    name = os.fspath(path)
    handle = _open(name)
    return (action for _, action in _actions(name, handle, registry) if action is not None)


class _Cursor:
    """Where the reading pass stands in one file: byte offset and line number.

    Each refill reopens the file, seeks, reads a batch of lines and closes it, so thousands of split files never
    hold thousands of descriptors; only the batch's raw lines stay in memory.
    """

    __slots__ = ("_batch", "_eof", "_line", "_offset", "_pending", "path")

    def __init__(self, path: str, batch: int) -> None:
        self.path = path
        self._batch = batch
        self._offset = 0
        self._line = 0
        self._eof = False
        self._pending: deque[tuple[int, bytes]] = deque()

    def next_line(self) -> tuple[int, str] | None:
        if not self._pending:
            if self._eof:
                return None
            self._refill()
            if not self._pending:
                return None
        number, raw = self._pending.popleft()
        return number, _decode(raw, self.path, number)

    def _refill(self) -> None:
        with _open(self.path, regular=True) as handle:
            try:
                handle.seek(self._offset)
                for _ in range(self._batch):
                    raw = handle.readline(_MAX_LINE + 1)
                    if not raw:
                        self._eof = True
                        break
                    self._line += 1
                    self._pending.append((self._line, raw))
                    if len(raw) > _MAX_LINE and not raw.endswith(b"\n"):
                        self._eof = True  # _decode reports it; what follows is not a line
                        break
                self._offset = handle.tell()
            except OSError as exc:
                raise _file_error(self.path, exc) from None


class _Queues:
    """Records waiting for their actors, first in first out: a list while short, a deque once long, nothing while
    empty.

    A trace of a million actors has a million queues, most holding one record or two: a deque costs 760 bytes,
    empty or not, a list of one record 64, and taking the front of a short list is as cheap as of a deque.
    """

    __slots__ = ("_queues",)

    SHORT: ClassVar[int] = 16

    def __init__(self) -> None:
        self._queues: dict[str, list[Action] | deque[Action]] = {}

    def push(self, actor: str, action: Action) -> None:
        queue = self._queues.get(actor)
        if queue is None:
            self._queues[actor] = [action]
            return
        if type(queue) is list and len(queue) >= self.SHORT:
            queue = self._queues[actor] = deque(queue)
        queue.append(action)

    def pop(self, actor: str) -> Action | None:
        """The oldest record waiting for ``actor``, if any."""
        queue = self._queues.get(actor)
        if queue is None:
            return None
        action = queue.pop(0) if type(queue) is list else queue.popleft()
        if not queue:
            del self._queues[actor]
        return action


# ---------------------------------------------------------------------------------------------------- sources


class TraceSource(ABC):
    """The actions of every actor of a trace, handed out one at a time, per actor, on demand.

    Construction reads every file once (streaming) to check every line, gives each action to ``check``, learns
    the actors and their action counts and keeps up to ``keep`` records; :meth:`next_action` then hands out the
    kept records, or reads the files again lazily when there were more. Counters report progress.
    """

    mode: ClassVar[Literal["shared", "split"]]

    def __init__(
        self,
        paths: Sequence[str],
        registry: Registry = BUILTIN,
        check: Check | None = None,
        keep: int = KEEP,
        names: Iterable[str] = (),
    ) -> None:
        self.paths: tuple[str, ...] = tuple(paths)
        #: the actions the trace may use
        self.registry = registry
        self._counts: dict[str, int] = {}  # actor -> actions, in order of first appearance
        self._remaining: dict[str, int] = {}
        self._lines_total = 0
        self._lines_read = 0
        self._actions_read = 0
        self._check = check
        self._keep = keep
        #: the records of the opening pass, per actor (None: too many, the files are read again)
        self._kept: _Queues | None = _Queues() if keep > 0 else None
        self._kept_count = 0
        #: the names read so far (and ``names``: a deployment's actors), so that the records share one string per
        #: name (see ``grammar.tokens``); kept only while the files are still to be read
        self._names: dict[str, str] | None = {name: name for name in names}

    def _opened(self) -> None:
        """The opening pass is over: the check and what it holds can go, and so can the names unless the files
        are read again."""
        self._check = None
        if not self.rereads:
            self._names = None

    def _take(self, action: Action) -> None:
        """An action of the opening pass: check it, and keep it while there is room."""
        if self._check is not None:
            self._check(action)
        kept = self._kept
        if kept is not None:
            if self._kept_count < self._keep:
                kept.push(action.actor, action)
                self._kept_count += 1
            else:
                self._kept = None

    @property
    def rereads(self) -> bool:
        """Whether the replay reads the files a second time (a trace of more than :data:`KEEP` actions)."""
        return self._kept is None

    def actors(self) -> list[str]:
        """The actors' names, in order of first appearance (shared) or of the files (split)."""
        return list(self._counts)

    def action_count(self, actor: str) -> int:
        """How many actions ``actor`` has in the trace."""
        return self._counts[self._known(actor)]

    @property
    def total_actions(self) -> int:
        """Actions in the whole trace (known from the checking pass)."""
        return sum(self._counts.values())

    @property
    def total_lines(self) -> int:
        """Lines in the trace files, comments and blank lines included."""
        return self._lines_total

    @property
    def lines_read(self) -> int:
        """Lines consumed so far by the reading pass (comments and blank lines included)."""
        return self._lines_read

    @property
    def actions_read(self) -> int:
        """Actions handed out so far by :meth:`next_action`."""
        return self._actions_read

    def next_action(self, actor: str) -> Action | None:
        """The next action of ``actor``, or None once it has had them all (then without reading anything)."""
        if self._kept is not None:  # every record is kept: what is left of an actor's is its queue
            action = self._kept.pop(self._known(actor))
            if action is not None:
                self._actions_read += 1
            return action
        remaining = self._remaining[self._known(actor)]
        if remaining == 0:
            return None
        action = self._fetch(actor)
        if action is None:
            raise TraceSyntaxError(
                f"{', '.join(self.paths)}: expected {remaining} more action(s) of actor {shown(actor)}, "
                "found the end of the trace (the file changed while being replayed)"
            )
        self._remaining[actor] = remaining - 1
        self._actions_read += 1
        return action

    def actions_of(self, actor: str) -> Iterator[Action]:
        """Iterate over the remaining actions of ``actor``."""
        while (action := self.next_action(actor)) is not None:
            yield action

    def _known(self, actor: str) -> str:
        if actor not in self._counts:
            raise LookupFailure(f"no actor {shown(actor)} in trace {', '.join(self.paths)}")
        return actor

    def _empty(self) -> TraceSyntaxError:
        return TraceSyntaxError(f"{where(', '.join(self.paths), None)}empty trace: no action found")

    @abstractmethod
    def _fetch(self, actor: str) -> Action | None:
        """Read on until the next action of ``actor``; None at the end of its input."""


class SharedTrace(TraceSource):
    """One trace holding the lines of every actor (several files are read as one, in order).

    The reading pass keeps a small queue per actor: asking for an actor's next action reads lines until one of
    that actor's, queueing the other actors' records for them; memory is what the actors' progress skew needs.
    """

    mode: ClassVar[Literal["shared", "split"]] = "shared"

    def __init__(
        self,
        paths: Sequence[PathArg],
        *,
        batch: int = 4096,
        registry: Registry = BUILTIN,
        check: Check | None = None,
        keep: int = KEEP,
        names: Iterable[str] = (),
    ) -> None:
        super().__init__([os.fspath(p) for p in paths], registry, check, keep, names)
        for path in self.paths:
            for _number, action in _actions(path, _open(path, regular=True), self.registry, self._names):
                self._lines_total += 1
                if action is not None:
                    self._counts[action.actor] = self._counts.get(action.actor, 0) + 1
                    self._take(action)
        if not self._counts:
            raise self._empty()
        self._remaining = dict(self._counts) if self.rereads else {}  # kept records count themselves
        self._opened()
        self._queues = _Queues()
        self._buffered = 0
        self._cursors = deque(_Cursor(path, batch) for path in self.paths) if self.rereads else deque()

    @property
    def buffered(self) -> int:
        """Records read for other actors and not yet handed out by the lazy reading (0 with kept records)."""
        return self._buffered

    def _fetch(self, actor: str) -> Action | None:
        action = self._queues.pop(actor)
        if action is not None:
            self._buffered -= 1
            return action
        while self._cursors:
            cursor = self._cursors[0]
            got = cursor.next_line()
            if got is None:
                self._cursors.popleft()
                continue
            self._lines_read += 1
            number, text = got
            action = self.registry.parse_line(text, cursor.path, number, self._names)
            if action is None:
                continue
            if action.actor == actor:
                return action
            if action.actor not in self._counts:
                raise TraceSyntaxError(
                    f"{where(cursor.path, number)}expected one of the actors found when the trace was opened, "
                    f"found {shown(action.actor)} (the file changed while being replayed)"
                )
            self._queues.push(action.actor, action)
            self._buffered += 1
        return None


class SplitTrace(TraceSource):
    """One file per actor. Every action line of a file must name the file's actor.

    Without ``actors``, a file belongs to the actor named by its first action, and a file without any action is
    an error (whose would it be?). With ``actors`` (from a deployment), file ``i`` belongs to ``actors[i]`` and
    may be empty, as long as the whole trace is not. SimGrid ignores a line naming another actor with a warning;
    here it is an error, since such a line is never replayed.
    """

    mode: ClassVar[Literal["shared", "split"]] = "split"

    def __init__(
        self,
        paths: Sequence[PathArg],
        *,
        actors: Sequence[str] | None = None,
        batch: int = 64,
        registry: Registry = BUILTIN,
        check: Check | None = None,
        keep: int = KEEP,
        names: Iterable[str] = (),
    ) -> None:
        super().__init__([os.fspath(p) for p in paths], registry, check, keep, (*names, *(actors or ())))
        if actors is not None and len(actors) != len(self.paths):
            raise ValueError(f"{len(self.paths)} trace files but {len(actors)} actor names")
        self._cursors: dict[str, _Cursor] = {}
        origin: dict[str, str] = {}
        for index, path in enumerate(self.paths):
            owner = None if actors is None else actors[index]
            if owner is not None and owner in origin:
                raise TraceSyntaxError(
                    f"{where(path, None)}expected one trace file per actor, found a second file for actor "
                    f"{shown(owner)} (the first is {origin[owner]})"
                )
            first_line = 0
            count = 0
            for number, action in _actions(path, _open(path, regular=True), self.registry, self._names):
                self._lines_total += 1
                if action is None:
                    continue
                if owner is None:
                    owner, first_line = action.actor, number
                    if owner in origin:
                        raise TraceSyntaxError(
                            f"{where(path, number)}expected one trace file per actor, found a second file for "
                            f"actor {shown(owner)} (the first is {origin[owner]})"
                        )
                elif action.actor != owner:
                    why = f"named at line {first_line}" if first_line else "the actor this file is given to"
                    raise TraceSyntaxError(
                        f"{where(path, number)}expected actor {shown(owner)} ({why}; a split trace holds one "
                        f"actor's actions), found {shown(action.actor)}"
                    )
                count += 1
                self._take(action)
            if owner is None:
                raise TraceSyntaxError(f"{where(path, None)}empty trace: no action found")
            origin[owner] = path
            self._counts[owner] = count
            self._cursors[owner] = _Cursor(path, batch)
        if not self.total_actions:
            raise self._empty()
        self._remaining = dict(self._counts) if self.rereads else {}  # kept records count themselves
        self._opened()
        if not self.rereads:
            self._cursors = {}

    def _fetch(self, actor: str) -> Action | None:
        cursor = self._cursors[actor]
        while (got := cursor.next_line()) is not None:
            self._lines_read += 1
            number, text = got
            action = self.registry.parse_line(text, cursor.path, number, self._names)
            if action is None:
                continue
            if action.actor != actor:
                raise TraceSyntaxError(
                    f"{where(cursor.path, number)}expected actor {shown(actor)}, found {shown(action.actor)} "
                    "(the file changed while being replayed)"
                )
            return action
        return None


def open_trace(
    paths: Sequence[PathArg] | PathArg,
    *,
    split: bool | None = None,
    actors: Sequence[str] | None = None,
    registry: Registry = BUILTIN,
    check: Check | None = None,
    keep: int = KEEP,
    names: Iterable[str] = (),
) -> TraceSource:
    """Open a trace: one file is shared mode, several are split mode, unless ``split`` says otherwise.

    ``actors`` (split mode only) names the actor of each file, as a deployment's ``<argument value=...>`` does.
    ``split=False`` with several files reads them as one shared trace, in order. ``registry`` holds the actions the
    trace may use (the built-in ones by default; a copy extended with the user's own declarations). ``check`` is
    given every action as the files are first read (a :meth:`~replay.trace.checks.TraceCheck.walk`); ``keep`` is
    how many actions are kept for the replay (see :data:`KEEP`; 0 reads the files again, lazily). The records
    share the strings of ``names`` (a deployment's actors) for the same names.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    if not paths:
        raise TraceSyntaxError("expected at least one trace file, found none")
    if actors is not None:
        if split is False:
            raise ValueError("actor names are given per file: split mode only")
        return SplitTrace(paths, actors=actors, registry=registry, check=check, keep=keep, names=names)
    if split is None:
        split = len(paths) > 1
    if split:
        return SplitTrace(paths, registry=registry, check=check, keep=keep, names=names)
    return SharedTrace(paths, registry=registry, check=check, keep=keep, names=names)
