"""Where trace records go: the ``TraceSink`` protocol, a ``MemorySink`` for tests, and atomic file writing.

A sink observes a run and never changes it. It is attached with ``sim.engine.subscribe(sink.emit)`` and used as
a context manager, which opens it on entry, closes it on a clean exit and aborts it when an exception leaves the
block (a simulation error, a deadlock, Ctrl-C)::

    with PajeWriter("out.paje", sim.platform) as paje:
        sim.engine.subscribe(paje.emit)
        sim.run()

File writers never leave a half-written file under the name asked for: they write to a temporary file in the
target's directory (so that the final rename stays on one file system, hence atomic) and ``os.replace`` it onto
the target only when they close cleanly. An abort, an exception, or a writer dropped without being closed (an
interrupted run) removes the temporary file; a file that already existed under the target name stays as it was
until the clean close replaces it in one step. Only a killed process (SIGKILL, power loss) can leave a
temporary file behind, named ``.<target>.<random>.tmp`` beside the target (the target's name shortened so that
the temporary name stays within the file system's ``NAME_MAX``: a valid name never makes an invalid temporary
one), and never a truncated target.

What the name asked for is decides where the bytes go (:func:`destination`); nothing that is not a regular file
is ever replaced by one:

* a regular file, or a name that does not exist yet: replaced atomically, as above;
* a symbolic link: its target, atomically beside the target (the link stays a link); a link loop, or a dangling
  link into a folder that does not exist, is an :class:`OutputError`;
* a character device or a FIFO (``/dev/null``, a terminal, a named pipe): *written through*, opened and written
  directly when the output is committed, never renamed over; its content is kept in a temporary file of the
  system's temporary folder until then. ``/dev/stdout``, ``/dev/stderr`` and ``/dev/fd/N`` are this process's
  own descriptors: written through ``sys.stdout`` and ``sys.stderr`` (in their place among what the program
  prints, wherever they were redirected) or a copy of descriptor N, never reopened by name;
* a folder, a block device or a socket: refused with an :class:`OutputError`.

The outputs of one run are committed together by a :class:`CommitGroup`: every writer completes its temporary
file (flushed and synced to disk), then the group writes the outputs written through, then renames all the
others one after the other, with SIGINT, SIGTERM and SIGHUP held back until the last rename. A failure before
the renames (an exception, a full disk on any of the files, a device that refuses the bytes) deletes every
temporary file and leaves every old file as it was. Two limits remain: bytes written through to a device or a
FIFO cannot be taken back (they go first, once every file is complete, so only a failure of a later output or
of a rename can follow them), and the renames are not one operation: a rename that fails between two others
(a window of microseconds, in folders where the temporary files were just created) leaves the outputs renamed
before it new and those after it old.

Every output of the project is written under these rules, by one implementation of them: text through
:class:`AtomicTextFile` (the writers, ``atomic_write_text``, :class:`CommitGroup`), files that a library writes by
path (Parquet, PNG) through :func:`atomic_path`. Every error is an :class:`OutputError` naming the path the user
gave, never a temporary file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self, runtime_checkable

from replay.errors import ReplayError

__all__ = [
    "AtomicTextFile", "CommitGroup", "Destination", "FileSink", "MemorySink", "OutputError", "Sink", "TraceSink",
    "atomic_path", "atomic_write_text", "describe", "destination",
]


@runtime_checkable
class TraceSink(Protocol):
    """What the CLI and tests expect of a trace writer.

    ``open()`` prepares it, ``emit(record)`` receives every record of :mod:`replay.events` in emission order,
    ``close()`` completes the output, ``abort()`` discards it. As a context manager it opens on entry, closes
    on a clean exit and aborts when an exception leaves the block (the exception is never swallowed).
    """

    def open(self) -> None: ...

    def emit(self, record: Any) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class Sink:
    """Base class giving a sink the context-manager half of :class:`TraceSink`."""

    def open(self) -> None:
        raise NotImplementedError

    def emit(self, record: Any) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class MemorySink(Sink):
    """Keeps every record it receives in ``records`` (for tests); ``state`` is new, open, closed or aborted."""

    def __init__(self) -> None:
        self.records: list[Any] = []
        self.state = "new"

    def open(self) -> None:
        self.state = "open"

    def emit(self, record: Any) -> None:
        self.records.append(record)

    def close(self) -> None:
        if self.state != "aborted":
            self.state = "closed"

    def abort(self) -> None:
        self.state = "aborted"

    def of_type(self, kind: type) -> list[Any]:
        """The records that are instances of ``kind``, in emission order."""
        return [record for record in self.records if isinstance(record, kind)]


class OutputError(ReplayError, OSError):
    """An output that cannot be written where it was asked for; the message names the user's path."""


@dataclass(frozen=True, slots=True)
class Destination:
    """Where an output's bytes end up (see the module docstring).

    ``path`` is the name as given (what messages show), ``target`` the file replaced (a link's target) or the
    device written; ``through`` marks a device or FIFO written directly, ``descriptor`` this process's own
    descriptor (``/dev/stdout`` is 1) written through a copy of it.
    """

    path: Path
    target: Path
    through: bool = False
    descriptor: int | None = None


#: what is refused as an output, by file type
_REFUSED = {stat.S_IFDIR: "a folder", stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}
#: this process's descriptors by name: /dev/fd/N, /proc/self/fd/N, /proc/<our pid>/fd/N
_DESCRIPTOR = re.compile(r"/(?:dev/fd|proc/self/fd|proc/(\d+)/fd)/(\d+)")
#: the characters ``tempfile.mkstemp`` adds to the prefix and suffix
_RANDOM = 8


def destination(path: str | os.PathLike[str]) -> Destination:
    """Where the output named ``path`` goes; an :class:`OutputError` for a name that must not be written."""
    given = Path(path)
    descriptor = _own_descriptor(given)
    if descriptor is not None:
        try:
            os.fstat(descriptor)
        except OSError:
            raise OutputError(f"{given}: expected an open descriptor {descriptor}, found it closed") from None
        return Destination(given, given, through=True, descriptor=descriptor)
    try:
        mode = os.stat(given).st_mode
    except FileNotFoundError:
        return _new_file(given)
    except OSError as error:
        raise OutputError(f"{given}: expected an output file, found {describe(error)}") from None
    if stat.S_ISREG(mode):
        return Destination(given, Path(os.path.realpath(given)) if given.is_symlink() else given)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return Destination(given, given, through=True)
    raise OutputError(f"{given}: expected an output file, found {_REFUSED.get(stat.S_IFMT(mode), 'a special file')}")


def _new_file(given: Path) -> Destination:
    """A name that does not exist yet, or a dangling link: the file to create."""
    if not given.is_symlink():
        return Destination(given, given)
    target = Path(os.path.realpath(given))
    if not target.parent.is_dir():
        raise OutputError(f"{given}: expected a link into an existing folder, found a link to {target}")
    return Destination(given, target)


def _own_descriptor(path: Path) -> int | None:
    """N when ``path`` names this process's descriptor N (``/dev/stdout`` links to ``/proc/self/fd/1``)."""
    current = os.path.abspath(path)
    for _ in range(40):  # Linux follows at most 40 links
        match = _DESCRIPTOR.fullmatch(current)
        if match is not None:
            return int(match[2]) if match[1] in (None, str(os.getpid())) else None
        try:
            if not os.path.islink(current):
                return None
            current = os.path.normpath(os.path.join(os.path.dirname(current), os.readlink(current)))
        except OSError:
            return None
    return None


def describe(error: OSError) -> str:
    """What a failed system call found, for the ``found ...`` half of a message."""
    if isinstance(error, FileNotFoundError):
        return "no such file or folder"
    if isinstance(error, PermissionError):
        return "no permission"
    if isinstance(error, NotADirectoryError):
        return "a path through a file that is not a folder"
    if error.errno == errno.ELOOP:
        return "a symbolic link loop"
    return f"an error: {error.strerror or error}"


def _write_error(path: Path, error: OSError) -> OutputError:
    if isinstance(error, OutputError):
        return error
    return OutputError(f"{path}: expected a writable output file, found {describe(error)}")


class _Committed:
    """The context-manager exit of what is committed or discarded: commit on a clean exit, discard on an exception
    (which goes on)."""

    def commit(self) -> None:
        raise NotImplementedError

    def discard(self) -> None:
        raise NotImplementedError

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


class AtomicTextFile(_Committed):
    """A text file written under a temporary name and made the content of ``path`` by :meth:`commit`.

    :meth:`open` returns the writable stream (the temporary file: beside ``path``'s target, or in the system's
    temporary folder for an output written through, see :func:`destination`). :meth:`commit` completes it
    (flushed and synced to disk) and installs it in one step (keeping the mode of a file it replaces, else the
    mode the umask gives a new file); in a :class:`CommitGroup`, commit only completes it and the group installs
    every file together. :meth:`discard` deletes the temporary file. If neither is called, the temporary file is
    deleted when this object is garbage-collected or the interpreter exits. As a context manager it opens on
    entry, commits on a clean exit and discards on an exception. Errors are :class:`OutputError` naming ``path``.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, encoding: str = "utf-8", group: CommitGroup | None = None
    ) -> None:
        self.path = Path(path)
        self.encoding = encoding
        self.group = group
        self._stream: IO[str] | None = None
        self._temporary: Path | None = None
        self._destination: Destination | None = None
        self._finalizer: weakref.finalize | None = None
        if group is not None:
            group._files.append(self)

    def open(self) -> IO[str]:
        if self._temporary is not None:
            raise RuntimeError(f"{self.path} is already open")
        self._destination = destination(self.path)
        fd, self._temporary = _temporary_for(self._destination)
        self._stream = os.fdopen(fd, "w", encoding=self.encoding, newline="\n")
        self._finalizer = weakref.finalize(self, _remove, self._stream, self._temporary)
        return self._stream

    @property
    def stream(self) -> IO[str]:
        if self._stream is None:
            raise RuntimeError(f"{self.path} is not open")
        return self._stream

    @property
    def through(self) -> bool:
        """Whether the output is written through (a device or FIFO) rather than renamed into place."""
        return self._destination is not None and self._destination.through

    def commit(self) -> None:
        """Make the written text the content of ``path``, atomically (with its group, if it has one)."""
        self.complete()
        if self.group is None:
            self.install()

    def complete(self) -> None:
        """Flush the written text to disk and close it: all that is left is :meth:`install`. Idempotent."""
        if self._stream is None and self._temporary is not None:
            return
        stream = self.stream
        try:
            stream.flush()
            os.fsync(stream.fileno())
            stream.close()
        except OSError as error:
            self.discard()
            raise _write_error(self.path, error) from None
        self._stream = None

    def install(self) -> None:
        """Put the complete temporary file in place: rename it onto the target, or write it through."""
        temporary, target = self._temporary, self._destination
        if temporary is None or target is None or self._stream is not None:
            raise RuntimeError(f"{self.path} is not complete")
        try:
            _install(temporary, target)
        except BaseException:
            self.discard()
            raise
        assert self._finalizer is not None
        self._finalizer.detach()
        self._temporary = None

    def discard(self) -> None:
        """Forget what was written: delete the temporary file; ``path`` is left as it was."""
        if self._temporary is None:
            return
        assert self._finalizer is not None
        self._finalizer()
        self._stream = None
        self._temporary = None

    def __enter__(self) -> IO[str]:
        return self.open()


class CommitGroup(_Committed):
    """Files committed together, all of them or none: the outputs of one run (see the module docstring).

    Files join with :meth:`file` (or a writer with :meth:`FileSink.join`); closing a writer only completes its
    temporary file. :meth:`commit` then writes the outputs written through and renames the others, with SIGINT,
    SIGTERM and SIGHUP held back during the renames; any failure before the renames discards every file.
    As a context manager it commits on a clean exit and discards on an exception. ``state`` is open, committed
    or discarded.
    """

    def __init__(self) -> None:
        self._files: list[AtomicTextFile] = []
        self.state = "open"

    def file(self, path: str | os.PathLike[str], *, encoding: str = "utf-8") -> AtomicTextFile:
        """A new :class:`AtomicTextFile` of this group."""
        return AtomicTextFile(path, encoding=encoding, group=self)

    def write_text(self, path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> None:
        """Write ``text`` to a temporary file now; it becomes ``path`` when the group commits."""
        with self.file(path, encoding=encoding) as stream:
            stream.write(text)

    def commit(self) -> None:
        if self.state != "open":
            raise RuntimeError(f"the outputs are already {self.state}")
        pending = [file for file in self._files if file._temporary is not None]
        try:
            for file in pending:
                file.complete()
            for file in pending:
                if file.through:
                    file.install()
            with _signals_held():  # a signal held here is raised when the block ends: after the commit
                for file in pending:
                    if not file.through:
                        file.install()
                self.state = "committed"
        except BaseException:
            if self.state != "committed":
                self.discard()
            raise

    def discard(self) -> None:
        for file in self._files:
            file.discard()
        self.state = "discarded"

    def __enter__(self) -> Self:
        return self


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back while the block runs: each one received is raised again when it ends,
    to the handler it would have met. (Only the main thread sets handlers; elsewhere nothing is held.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        handler = signal.getsignal(signum)
        if handler is not signal.SIG_IGN and handler is not None:
            previous[signum] = handler
            signal.signal(signum, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(held):
            signal.raise_signal(signum)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path for a library that writes a file by its name (Parquet, PNG), made the file at ``path``
    when the block ends cleanly, deleted on an exception (an existing file is then left as it was); the same
    rules as :class:`AtomicTextFile`, and the same destinations (a link's target, a device written through)."""
    target = destination(path)
    fd, temporary = _temporary_for(target)
    os.close(fd)
    try:
        yield temporary
        _sync(temporary, target.path)
        _install(temporary, target)
    except BaseException:
        _delete(temporary)
        raise


def _temporary_for(target: Destination) -> tuple[int, Path]:
    """A new empty file ``.<name>.<random>.tmp`` beside the target (so that the final rename stays on one file
    system, hence atomic), or in the system's temporary folder for an output written through; its descriptor
    and path. The name is shortened so that the temporary name fits the folder's ``NAME_MAX``."""
    folder = Path(tempfile.gettempdir()) if target.through else target.target.parent
    try:
        room = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        room = 255
    room -= _RANDOM + len(".tmp")
    name = target.target.name
    while name and len(os.fsencode(f".{name}.")) > room:
        name = name[:-1]
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise OutputError(f"{target.path}: expected a writable folder for it, found {describe(error)}") from None
    return fd, Path(temporary)


def _sync(temporary: Path, path: Path) -> None:
    """The temporary file's content on disk (a power loss after the rename cannot leave an empty file)."""
    try:
        fd = os.open(temporary, os.O_RDWR)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as error:
        raise _write_error(path, error) from None


def _install(temporary: Path, target: Destination) -> None:
    """Make the complete file ``temporary`` the output at ``target``: renamed onto it in one step with the mode of
    the file it replaces (else a new file's), or written through and deleted."""
    try:
        if target.through:
            _write_through(temporary, target)
            _delete(temporary)
        else:
            os.chmod(temporary, _mode_for(target.target))
            os.replace(temporary, target.target)
    except OSError as error:
        raise _write_error(target.path, error) from None


def _write_through(temporary: Path, target: Destination) -> None:
    """Copy ``temporary`` into a device, a FIFO (waiting for its reader) or this process's own descriptor.

    Descriptors 1 and 2 are written through ``sys.stdout`` and ``sys.stderr`` (flushed first), so that the
    output takes its place among what the program prints, and goes wherever those streams were redirected.
    """
    stream = {1: sys.stdout, 2: sys.stderr}.get(target.descriptor) if target.descriptor is not None else None
    if stream is not None and hasattr(stream, "buffer"):
        stream.flush()
        with open(temporary, "rb") as source:
            shutil.copyfileobj(source, stream.buffer)
        stream.buffer.flush()
        return
    if target.descriptor is not None:
        fd = os.dup(target.descriptor)
    else:
        fd = os.open(target.target, os.O_WRONLY | os.O_NOCTTY)
    with os.fdopen(fd, "wb") as sink, open(temporary, "rb") as source:
        shutil.copyfileobj(source, sink)


def _remove(stream: IO[str], temporary: Path) -> None:
    with contextlib.suppress(OSError):
        stream.close()
    _delete(temporary)


def _delete(temporary: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()


def _mode_for(path: Path) -> int:
    """The permission bits the file at ``path`` has, or those a newly created file would get."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` through a temporary file: readers see the old content or the new, never half."""
    with AtomicTextFile(path, encoding=encoding) as stream:
        stream.write(text)


class FileSink(Sink):
    """A sink writing one text file atomically; subclasses implement ``_begin``, ``_record`` and ``_end``.

    ``emit`` before ``open`` or after ``close``/``abort`` raises ``RuntimeError``; ``close`` and ``abort`` may
    be called again (and ``close`` after ``abort``) without effect. A file that cannot be written (a full disk)
    is an :class:`OutputError` naming ``path``, whichever call hits it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file = AtomicTextFile(self.path)
        self.state = "new"

    def join(self, group: CommitGroup) -> None:
        """Commit this writer's file with the other outputs of ``group``: :meth:`close` then only completes it,
        ``group.commit()`` puts it in place. Call before :meth:`open`."""
        if self.state != "new":
            raise RuntimeError(f"{type(self).__name__}({str(self.path)!r}) joins a group after being opened")
        self._file = group.file(self.path)

    def open(self) -> None:
        if self.state != "new":
            raise RuntimeError(f"{type(self).__name__}({str(self.path)!r}) cannot be opened twice")
        stream = self._file.open()
        self.state = "open"
        try:
            self._begin(stream)
        except BaseException as error:
            self.abort()
            if isinstance(error, OSError):
                raise _write_error(self.path, error) from None
            raise

    def emit(self, record: Any) -> None:
        if self.state != "open":
            raise RuntimeError(f"{type(self).__name__}({str(self.path)!r}) got a record while {self.state}")
        try:
            self._record(record)
        except OSError as error:
            raise _write_error(self.path, error) from None

    def close(self) -> None:
        if self.state != "open":
            return
        try:
            self._end(self._file.stream)
            self._file.commit()
        except BaseException as error:
            self.abort()
            if isinstance(error, OSError):
                raise _write_error(self.path, error) from None
            raise
        self.state = "closed"

    def abort(self) -> None:
        if self.state == "open":
            self._file.discard()
            self.state = "aborted"
        elif self.state == "new":
            self.state = "aborted"

    # -- for subclasses ----------------------------------------------------------------------------------------
    def _begin(self, stream: IO[str]) -> None:
        """Write what comes before the first record."""

    def _record(self, record: Any) -> None:
        raise NotImplementedError

    def _end(self, stream: IO[str]) -> None:
        """Write what is still buffered; the file is committed afterwards."""
