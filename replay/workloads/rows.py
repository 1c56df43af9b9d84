"""Reading dataset files one line at a time, every problem a one-line ``file:line: expected ..., found ...``.

Datasets are gigabytes: nothing here reads a file whole. :func:`lines` streams the lines of a file from a byte
offset (so that a reader can stop, close the file and resume later without holding a descriptor: a day of
PlanetLab is a thousand files), :class:`At` reads the fields of one line and fails with its place, and
:func:`dataset_files` expands the folders given on the command line into their files, in a fixed order.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Final, NamedTuple

from replay.errors import WorkloadError, where

MAX_LINE: Final[int] = 1 << 20
"""Longest line accepted, in bytes: a file without newlines is an error, never read whole into memory."""

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for a message, cut when long."""
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit]}...' ({len(text)} characters)"


class Line(NamedTuple):
    """One line of a file: its number (from 1), its text without the line end, the byte offset after it."""

    number: int
    text: str
    end: int


def _open(path: Path, what: str) -> BinaryIO:
    try:
        if stat.S_ISDIR(os.stat(path).st_mode):
            raise WorkloadError(f"{path}: expected a readable {what}, found a directory")
        return open(path, "rb")
    except FileNotFoundError:
        found = "no such file"
    except PermissionError:
        found = "no read permission"
    except OSError as error:
        found = f"an error: {error.strerror or error}"
    raise WorkloadError(f"{path}: expected a readable {what}, found {found}")


def lines(path: Path, what: str, *, offset: int = 0, number: int = 0) -> Iterator[Line]:
    """The lines of ``path`` from byte ``offset`` (whose line number is ``number + 1``), one in memory at a time.

    The file is opened at the first ``next`` and closed when the generator ends or is closed; ``what`` names the
    file in messages (``"PlanetLab VM file"``). A line that is not UTF-8 or longer than :data:`MAX_LINE` bytes is
    an error; a final line without a newline is read like the others.
    """
    with _open(path, what) as handle:
        handle.seek(offset)
        while True:
            raw = handle.readline(MAX_LINE + 1)
            if not raw:
                return
            number += 1
            offset += len(raw)
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                raise WorkloadError(f"{where(path, number)}expected a line of at most {MAX_LINE} bytes, "
                                    "found a longer one")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise WorkloadError(f"{where(path, number)}expected UTF-8 text, found byte "
                                    f"0x{raw[error.start]:02x} at column {error.start + 1}") from None
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield Line(number, text.rstrip("\r\n"), offset)


class At:
    """The line being read: readers of its fields that fail with ``file:line: bad <what>: expected ..., found ...``."""

    __slots__ = ("line", "path")

    def __init__(self, path: Path | str, line: int) -> None:
        self.path, self.line = path, line

    def error(self, message: str) -> WorkloadError:
        return WorkloadError(f"{where(self.path, self.line)}{message}")

    def bad(self, what: str, expected: str, text: str) -> WorkloadError:
        return self.error(f"bad {what}: expected {expected}, found {shown(text) if text else 'nothing'}")

    def fields(self, text: str, separator: str | None, count: int, names: str) -> list[str]:
        """``text`` split on ``separator`` (None: runs of blanks), each field stripped; exactly ``count`` of them."""
        found = text.split(separator)
        if separator is not None:
            found = [field.strip() for field in found]
        if len(found) != count:
            raise self.error(f"expected {count} fields ({names}), found {len(found)}")
        return found

    def integer(self, text: str, what: str, low: int | None = None, high: int | None = None) -> int:
        """A whole number in plain digits, within [``low``, ``high``] when given."""
        if _INTEGER.fullmatch(text) is None or len(text) > 19:
            raise self.bad(what, f"an integer{_range(low, high)}", text)
        value = int(text)
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.bad(what, f"an integer{_range(low, high)}", text)
        return value

    def number(self, text: str, what: str, low: float | None = None, high: float | None = None) -> float:
        """A finite decimal number (``12``, ``0.5``, ``1e3``), within [``low``, ``high``] when given."""
        if _DECIMAL.fullmatch(text) is None or not math.isfinite(value := float(text)):
            raise self.bad(what, f"a number{_range(low, high)}", text)
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.bad(what, f"a number{_range(low, high)}", text)
        return value + 0.0  # no -0.0


def _range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f" from {low:g} to {high:g}"
    if low is not None:
        return f" >= {low:g}"
    return f" <= {high:g}" if high is not None else ""


def dataset_files(inputs: Sequence[Path], what: str) -> list[Path]:
    """The files named by ``inputs``: a folder stands for its regular files whose names do not start with a dot,
    sorted by name (the order of the VMs); a file stands for itself. At least one is expected."""
    found: list[Path] = []
    for given in inputs:
        try:
            mode = os.stat(given).st_mode
        except FileNotFoundError:
            raise WorkloadError(f"{given}: expected a {what} or a folder of them, found no such file") from None
        except OSError as error:
            raise WorkloadError(f"{given}: expected a {what} or a folder of them, found an error: "
                                f"{error.strerror or error}") from None
        if not stat.S_ISDIR(mode):
            found.append(given)
            continue
        try:
            names = sorted(entry.name for entry in os.scandir(given)
                           if not entry.name.startswith(".") and entry.is_file())
        except OSError as error:
            raise WorkloadError(f"{given}: expected a readable folder of {what}s, found an error: "
                                f"{error.strerror or error}") from None
        if not names:
            raise WorkloadError(f"{given}: expected a folder of {what}s, found no file in it")
        found.extend(given / name for name in names)
    if not found:
        raise WorkloadError(f"expected at least one {what}, found none")
    return found
