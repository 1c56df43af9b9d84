"""Availability and state profiles: dated values that change a host or a link during a run, as SimGrid 3.32 reads them.

A profile is a list of ``date value`` lines (SimGrid's legacy profile syntax, ``ProfileBuilder.cpp``)::

    # a comment (so is a line starting with %); blank lines are skipped
    0    1.0        at date 0 (applied before anything runs)
    10.5 0.5        from t = 10.5 s
    20   1.0
    LOOPAFTER 5     repeat: the next round starts 5 s after the last date, at 20 + 5 + 0 = 25
    # or: PERIODICITY 30   repeat: the next round starts 30 s after the previous one began, at 0 + 30

What a value means is up to the resource it is attached to: a ratio of the host's peak speed, 0 for off and
anything else for on, a link's bandwidth in bytes/s or its latency in seconds (see ``docs/profiles.md``).

:class:`Profile` holds the values as read and the repetition as SimGrid computes it (its ``repeat_delay``);
:meth:`Profile.timeline` gives the dates at which SimGrid applies each value, with SimGrid's own floating-point
sums. :func:`parse_profile` reads text; :func:`read_profile_file` finds and reads a file the way SimGrid does.
Every error is a one-line :class:`~replay.errors.PlatformError` naming the file and line. Stochastic profiles
(``STOCHASTIC`` and its ``NORM``/``UNIF``/``EXP`` laws) are refused: their values come from SimGrid's random
generator, which a seeded generator of our own may replace one day.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

from replay.errors import PlatformError, UnitError, where
from replay.units import Seconds, parse_number

__all__ = ["MAX_PROFILE_BYTES", "Profile", "parse_profile", "read_profile_file", "resolve_profile_path"]

MAX_PROFILE_BYTES = 256 << 20
"""The largest profile file read (256 MiB): a file is read whole, so a device or a runaway file must not fill the
memory."""

_LAWS = frozenset({"NORM", "NORMAL", "GAUSS", "GAUSSIAN", "EXP", "EXPONENTIAL", "UNIF", "UNIFORM"})
_STOCHASTIC = "stochastic profiles (STOCHASTIC, NORM, UNIF, EXP) are not supported by this simulator"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Profile:
    """The dated values of one profile and how they repeat.

    ``name`` names the profile in messages: the file name as the platform writes it, or the ``<trace>`` id.
    ``values`` are the ``(date, value)`` pairs of the first round, dates in seconds from the start of the run,
    sorted (equal dates allowed), values >= 0. ``repeat_delay`` is SimGrid's: None when the values are applied
    once; otherwise the delay added, at each new round, to the first date (``LOOPAFTER d`` gives ``d``,
    ``PERIODICITY p`` gives ``p`` minus the last date, so that rounds start ``p`` apart). ``origin`` is the
    ``file:line`` where it was defined, for messages.
    """

    name: str
    values: tuple[tuple[Seconds, float], ...]
    repeat_delay: Seconds | None = None
    origin: str = field(default="", compare=False)

    @property
    def repeats(self) -> bool:
        """Whether the values come round again forever (LOOPAFTER or PERIODICITY)."""
        return self.repeat_delay is not None and bool(self.values)

    @property
    def period(self) -> Seconds | None:
        """The time from the start of one round to the start of the next (last date + repeat delay), or None."""
        if not self.repeats:
            return None
        assert self.repeat_delay is not None
        return self.values[-1][0] + self.repeat_delay

    def timeline(self) -> Iterator[tuple[Seconds, float]]:
        """Yield ``(date, value)`` in the order SimGrid applies them: from date 0, forever when the profile repeats.

        The dates are SimGrid's, bit for bit: it stores the gaps between successive dates (the first date minus
        0, then ``d[k] - d[k-1]``), starts a new round with the gap ``d[0] + repeat_delay``, and dates each
        value as the previous date plus its gap. Values of equal dates come one after the other and the last one
        holds (SimGrid applies them in this order at that date). A value at date 0 is applied before anything
        runs; before the first date the resource keeps the value of the platform file. Between rounds the last
        value holds until the first value of the next round.
        """
        if not self.values:
            return
        gaps = [self.values[0][0] - 0.0] + [b[0] - a[0] for a, b in zip(self.values, self.values[1:], strict=False)]
        date = gaps[0]
        yield date, self.values[0][1]
        for gap, (_, value) in zip(gaps[1:], self.values[1:], strict=True):
            date = date + gap
            yield date, value
        if self.repeat_delay is None:
            return
        first = gaps[0] + self.repeat_delay
        while True:
            date = date + first
            yield date, self.values[0][1]
            for gap, (_, value) in zip(gaps[1:], self.values[1:], strict=True):
                date = date + gap
                yield date, value


def _number(text: str, what: str, at: str) -> float:
    try:
        return parse_number(text, what)
    except UnitError:
        raise PlatformError(f"{at}expected a number for {what}, found '{text}'") from None


def parse_profile(text: str, name: str, source: str, first_line: int = 1, periodicity: float = -1.0) -> Profile:
    """Read the text of a profile; ``source`` and ``first_line`` place its first line for messages.

    ``periodicity`` is the ``periodicity`` attribute of an inline ``<trace>``: a positive value repeats the
    values as a ``PERIODICITY`` line would (SimGrid 3.32 reads it for inline traces only).
    """
    values: list[tuple[float, float]] = []
    keywords: dict[str, tuple[float, int]] = {}  # PERIODICITY / LOOPAFTER -> (seconds, line)
    last = 0.0
    for index, raw in enumerate(_LINE_BREAK.split(text)):
        line = first_line + index
        at = where(source, line)
        content = raw.strip()
        if not content or content[0] in "#%":
            continue
        tokens = content.split()
        head = tokens[0]
        if head in ("PERIODICITY", "LOOPAFTER"):
            if len(tokens) != 2:
                raise PlatformError(f"{at}expected '{head} <seconds>', found '{content}'")
            delay = _number(tokens[1], head, at)
            if head == "PERIODICITY" and delay <= 0:
                raise PlatformError(
                    f"{at}PERIODICITY must be positive, found '{tokens[1]}' (SimGrid 3.32 reads a PERIODICITY "
                    "<= 0 as LOOPAFTER 0: write that if it is what you mean)"
                )
            if delay < 0:
                raise PlatformError(f"{at}LOOPAFTER must be >= 0, found '{tokens[1]}'")
            if head in keywords:
                raise PlatformError(f"{at}a second {head} line (the first is line {keywords[head][1]})")
            keywords[head] = (delay, line)
            continue
        if head.startswith("STOCHASTIC") or any(token in _LAWS for token in tokens[:4]):
            raise PlatformError(f"{at}{_STOCHASTIC}; expected 'date value' lines")
        if head == "LOOP_AFTER":
            raise PlatformError(f"{at}unknown keyword LOOP_AFTER: SimGrid spells it LOOPAFTER")
        position = 1 if head == "DET" else 0  # SimGrid reads 'DET x' as x
        date_text = tokens[position] if position < len(tokens) else ""
        position += 1
        if position < len(tokens) and tokens[position] == "DET":
            position += 1
        if position >= len(tokens):
            raise PlatformError(
                f"{at}expected 'date value' (or PERIODICITY, LOOPAFTER, a # comment), found '{content}'"
            )
        value_text = tokens[position]
        extra = tokens[position + 1:]
        if extra and extra[0][0] not in "#%":
            raise PlatformError(f"{at}expected 'date value', found more: '{' '.join(extra)}'")
        date = _number(date_text, "the date", at)
        value = _number(value_text, "the value", at)
        if date < 0:
            raise PlatformError(f"{at}the date must be >= 0, found '{date_text}'")
        if value < 0:
            raise PlatformError(f"{at}the value must be >= 0, found '{value_text}'")
        if date < last:
            raise PlatformError(f"{at}expected dates in increasing order, found {date_text} after {last:g}")
        last = date
        values.append((date, value))
    # a PERIODICITY line wins over the <trace>'s periodicity attribute, as in SimGrid
    period = keywords.get("PERIODICITY") or ((periodicity, first_line) if periodicity > 0 else None)
    loop_after = keywords.get("LOOPAFTER")
    repeat: float | None = None
    if period is not None and loop_after is not None:
        also = "" if "PERIODICITY" in keywords else " (the <trace>'s periodicity attribute is positive)"
        raise PlatformError(f"{where(source, loop_after[1])}give PERIODICITY or LOOPAFTER, not both{also}")
    if period is not None:
        repeat = period[0] - last
        if repeat < 0:
            raise PlatformError(
                f"{where(source, period[1])}PERIODICITY {period[0]:g} is shorter than the last date {last:g}: "
                "the next round would start before this one ends"
            )
    elif loop_after is not None:
        repeat = loop_after[0]
        if values and last + repeat <= 0:
            raise PlatformError(
                f"{where(source, loop_after[1])}a repeating profile whose dates are all 0 must wait before it "
                "repeats (LOOPAFTER > 0): SimGrid would apply its values at date 0 forever"
            )
    return Profile(name, tuple(values), repeat, origin=f"{source}:{first_line}")


def resolve_profile_path(name: str, platform: str | None) -> list[str]:
    """The paths SimGrid tries for a profile file, in order: the name itself when absolute; else the name under
    the working directory (SimGrid's default ``path`` is ``./``), then under the platform file's directory."""
    if os.path.isabs(name):
        return [name]
    candidates = [os.path.join(".", name)]
    if platform is not None:
        candidates.append(os.path.join(os.path.dirname(platform) or ".", name))
    return list(dict.fromkeys(candidates))


def read_profile_file(name: str, platform: str | None, at: str, what: str) -> Profile:
    """Find the profile file ``name`` as SimGrid does (:func:`resolve_profile_path`) and read it.

    ``at`` is the ``file:line: `` of the attribute or ``<trace>`` that names it and ``what`` says which one
    (``"speed_file of host 'a'"``): a file that cannot be found or read is an error there.
    """
    if not name:
        raise PlatformError(f"{at}{what} is empty: expected a file name")
    candidates = resolve_profile_path(name, platform)
    for path in candidates:
        data = _read(path, at, what, name)
        if data is None:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise PlatformError(f"{where(path, line)}not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
        return parse_profile(text, name, path)
    looked = " and ".join(f"'{path}'" for path in candidates)
    raise PlatformError(f"{at}cannot read {what}: no file '{name}' (looked for {looked})")


def _read(path: str, at: str, what: str, name: str) -> bytes | None:
    """The bytes of the regular file at ``path``; None when there is no such file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise PlatformError(f"{at}cannot read {what} '{name}' ({path}: {exc.strerror or exc})") from None
    except ValueError:  # a NUL in the name
        raise PlatformError(f"{at}{what} {name!r}: expected a file name") from None
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PlatformError(f"{at}cannot read {what} '{name}': {path} is not a regular file")
        if info.st_size > MAX_PROFILE_BYTES:
            raise PlatformError(f"{at}{what} '{name}': expected a file of at most {MAX_PROFILE_BYTES >> 20} MiB")
        try:
            data = stream.read(MAX_PROFILE_BYTES + 1)
        except OSError as exc:
            raise PlatformError(f"{at}cannot read {what} '{name}' ({path}: {exc.strerror or exc})") from None
    if len(data) > MAX_PROFILE_BYTES:
        raise PlatformError(f"{at}{what} '{name}': expected a file of at most {MAX_PROFILE_BYTES >> 20} MiB")
    return data
