"""What the command line prints: a standard output that reports a broken pipe, standard error, one-line errors,
and tables of polars frames; shared by every command module (``replay.cli``, ``replay.sweep.cli``)."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from replay.errors import ReplayError

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = ["EMPTY_CAPTION", "err", "fail", "frame_table", "out", "print_out"]


class _Stdout(Console):
    """Standard output: a broken pipe is an error like a full disk (rich would exit without a word)."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


err = Console(stderr=True, highlight=False, emoji=False)  # no :x: in a message turned into a picture
out = _Stdout(highlight=False, emoji=False)


def fail(error: ReplayError) -> typer.Exit:
    """Print ``error`` as its one line on stderr; the exit (code 1) for the caller to raise."""
    err.print(str(error), markup=False, soft_wrap=True)
    return typer.Exit(1)


def print_out(renderable: RenderableType, what: str, *, whole: bool = False) -> None:
    """Print on stdout; a closed, full or broken stdout is one line on stderr and exit code 1 (not a traceback,
    and not a second error when the interpreter flushes stdout on its way out). ``whole``: as wide as the
    renderable needs, never squeezed into the terminal (or the 80 columns of a pipe) with its cells cut."""
    try:
        if sys.stdout is None:  # started with stdout closed
            raise OSError(0, "it is closed")
        console = out
        if whole:
            from rich.measure import Measurement

            width = Measurement.get(out, out.options.update(width=100_000), renderable).maximum
            if width > out.width:
                console = _Stdout(highlight=False, emoji=False, width=width)
        console.print(renderable)
        sys.stdout.flush()
    except OSError as error:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        reason = str(error.strerror or error)
        err.print(f"<stdout>: expected to take {what}, found {reason[:1].lower()}{reason[1:]}", markup=False,
                  soft_wrap=True)
        raise typer.Exit(1) from None


#: What the caption of an empty table says; a report's note that starts with it says why, and is printed instead
#: of the table.
EMPTY_CAPTION = "none in this trace"


def frame_table(title: str, frame, note: str) -> RenderableType:
    """A polars frame as a rich table: numbers and quantities right-aligned, floats to six digits; an empty frame
    whose note starts with :data:`EMPTY_CAPTION` is its title and the note."""
    if frame.is_empty() and note.startswith(EMPTY_CAPTION):
        from rich.console import Group
        from rich.text import Text

        return Group(Text(title, style="bold"), Text(note))
    from rich.table import Table

    table = Table(title=title, title_justify="left", title_style="bold", box=None, pad_edge=False,
                  caption=note or None, caption_justify="left")
    for name, dtype in frame.schema.items():
        values = frame[name].drop_nulls().to_list()
        numbers = dtype.is_numeric() or (bool(values) and all(_is_quantity(value) for value in values))
        table.add_column(name, justify="right" if numbers else "left")
    for row in frame.iter_rows(named=True):
        table.add_row(*(_cell(name, value) for name, value in row.items()))
    if frame.is_empty():
        table.caption = EMPTY_CAPTION
    return table


def _is_quantity(value: object) -> bool:
    """Whether ``value`` is a quantity a table function wrote for people (``1.47 Gf/s``): right-aligned."""
    if not isinstance(value, str):
        return False
    number, _, unit = value.partition(" ")
    try:
        float(number)
    except ValueError:
        return False
    return " " not in unit and not unit[:1].isdigit()


def _cell(name: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if name.endswith("%"):
        return f"{value:.1f}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
