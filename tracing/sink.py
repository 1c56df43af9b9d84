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
temporary file behind, named ``.<target>.<random>.tmp`` beside the target, and never a truncated target.

Every output of the project is written under these rules, by one implementation of them: text through
:class:`AtomicTextFile` (the writers, ``atomic_write_text``), files that a library writes by path (Parquet, PNG)
through :func:`atomic_path`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self, runtime_checkable

__all__ = ["AtomicTextFile", "FileSink", "MemorySink", "Sink", "TraceSink", "atomic_path", "atomic_write_text"]


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


class AtomicTextFile:
    """A text file written under a temporary name beside ``path`` and renamed onto it by :meth:`commit`.

    :meth:`open` returns the writable stream. :meth:`commit` flushes it to disk and replaces ``path`` in one
    step (keeping the mode of a file it replaces, else the mode the umask gives a new file); :meth:`discard`
    deletes the temporary file. If neither is called, the temporary file is deleted when this object is
    garbage-collected or the interpreter exits. As a context manager it opens on entry, commits on a clean exit
    and discards on an exception.
    """

    def __init__(self, path: str | os.PathLike[str], *, encoding: str = "utf-8") -> None:
        self.path = Path(path)
        self.encoding = encoding
        self._stream: IO[str] | None = None
        self._temporary: Path | None = None
        self._finalizer: weakref.finalize | None = None

    def open(self) -> IO[str]:
        if self._stream is not None:
            raise RuntimeError(f"{self.path} is already open")
        fd, self._temporary = _temporary_beside(self.path)
        self._stream = os.fdopen(fd, "w", encoding=self.encoding, newline="\n")
        self._finalizer = weakref.finalize(self, _remove, self._stream, self._temporary)
        return self._stream

    @property
    def stream(self) -> IO[str]:
        if self._stream is None:
            raise RuntimeError(f"{self.path} is not open")
        return self._stream

    def commit(self) -> None:
        """Make the written text the content of ``path``, atomically."""
        stream, temporary = self.stream, self._temporary
        assert temporary is not None and self._finalizer is not None
        self._finalizer.detach()
        try:
            stream.close()
            _install(temporary, self.path)
        except BaseException:
            _remove(stream, temporary)
            raise
        finally:
            self._stream = None

    def discard(self) -> None:
        """Forget what was written: delete the temporary file; ``path`` is left as it was."""
        if self._stream is None:
            return
        assert self._finalizer is not None
        self._finalizer()
        self._stream = None

    def __enter__(self) -> IO[str]:
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` for a library that writes a file by its name (Parquet, PNG), made the
    file at ``path`` when the block ends cleanly, deleted on an exception (an existing file is then left as it
    was); the same rules as :class:`AtomicTextFile`."""
    target = Path(path)
    fd, temporary = _temporary_beside(target)
    os.close(fd)
    try:
        yield temporary
        _install(temporary, target)
    except BaseException:
        _delete(temporary)
        raise


def _temporary_beside(path: Path) -> tuple[int, Path]:
    """A new empty file ``.<name>.<random>.tmp`` in ``path``'s directory, so that the final rename stays on one
    file system (hence atomic); its descriptor and path."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    return fd, Path(name)


def _install(temporary: Path, path: Path) -> None:
    """Make the complete file ``temporary`` the file at ``path`` in one step: its content on disk first (a power
    loss after the rename cannot leave an empty file), then the mode of the file it replaces (else a new file's),
    then the rename."""
    fd = os.open(temporary, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(temporary, _mode_for(path))
    os.replace(temporary, path)


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
    be called again (and ``close`` after ``abort``) without effect.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file = AtomicTextFile(self.path)
        self.state = "new"

    def open(self) -> None:
        if self.state != "new":
            raise RuntimeError(f"{type(self).__name__}({str(self.path)!r}) cannot be opened twice")
        stream = self._file.open()
        self.state = "open"
        try:
            self._begin(stream)
        except BaseException:
            self.abort()
            raise

    def emit(self, record: Any) -> None:
        if self.state != "open":
            raise RuntimeError(f"{type(self).__name__}({str(self.path)!r}) got a record while {self.state}")
        self._record(record)

    def close(self) -> None:
        if self.state != "open":
            return
        try:
            self._end(self._file.stream)
        except BaseException:
            self.abort()
            raise
        self._file.commit()
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
