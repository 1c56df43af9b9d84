"""The text of a trace line: tokens, argument readers and the messages that say what was expected.

A trace is SimGrid's replay format: one action per line, ``<actor> <action> [args...]``. Leading and trailing
blanks are trimmed, tokens are split on runs of spaces and tabs, and blank lines and lines whose first non-blank
character is ``#`` are skipped. As in SimGrid's ``xbt_replay``, ``#`` starts a comment only at the start of a
line: ``p0 compute 1e9 # hi`` is an error here (too many arguments, with a hint), where SimGrid would hand the
extra tokens to the handler.

This module knows no action: each action declares its own arguments (:mod:`replay.trace.actor_actions` and its
siblings) and reads them with a :class:`Place`, which turns every bad token into a
:class:`~replay.errors.TraceSyntaxError` reading
``path:line: <what was expected>, found <what was found>``. An action's ``usage`` string is also its arity:
``<x>`` is a required argument, ``[x]`` an optional one, ``...`` any number more.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Final

from replay import units
from replay.errors import TraceSyntaxError, UnitError, where

STRIP: Final[str] = " \t\n\r\v\f"  # what SimGrid's boost::trim removes (C isspace)
# Inside a line: no whitespace but spaces and tabs, no control character, no lone surrogate, no invisible format
# character (a byte-order mark inside a file, zero-width spaces, direction marks: they would make two names that
# look the same differ), no double quote (Paje writes names between double quotes).
_BAD_CHAR = re.compile(
    r"[^\S \t]|[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]"
    r"|[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
    r'|"'
)
_WHY_BAD = {
    "\ufeff": ("a byte-order mark (U+FEFF)", ": one may only start a file"),
    '"': ("a double quote", ": no name may hold one (Paje traces quote names)"),
}
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NUMERIC: Final[str] = "0123456789.+-"
_FLOPS_KINDS: Final[frozenset[str]] = frozenset(("speed", "flops"))
_BOOLEANS: Final[Mapping[str, bool]] = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


def shown(token: str, limit: int = 60) -> str:
    """``token`` quoted for a message, cut when long."""
    return f"'{token}'" if len(token) <= limit else f"'{token[:limit]}...' ({len(token)} characters)"


def number_text(value: float) -> str:
    """A float written so that it parses back to itself (``repr`` round-trips)."""
    return repr(float(value))


def is_plain_number(text: str) -> bool:
    """Whether ``text`` is a plain decimal number, without a unit."""
    return _PLAIN_NUMBER.fullmatch(text) is not None


def starts_with_number(text: str) -> bool:
    """Whether ``text`` begins with a decimal number (a quantity with a unit, or a number followed by junk)."""
    return _PLAIN_NUMBER.match(text) is not None


def tokens(text: str, path: str, line: int, names: dict[str, str] | None = None) -> list[str] | None:
    """The tokens of one line (at least an actor and a keyword); None for a blank or comment line.

    With ``names``, a name (not a number, not a ``key=value``) already seen there is that same string: the
    records of a trace then share one string per actor, VM and host, and so do the objects the model makes from
    them, where each line would otherwise bring a copy of its own.
    """
    body = text.strip(STRIP)
    if not body or body[0] == "#":
        return None
    if (bad := _BAD_CHAR.search(body)) is not None:
        column = len(text) - len(text.lstrip(STRIP)) + bad.start() + 1
        char = bad.group()
        found, why = _WHY_BAD.get(char, (f"character U+{ord(char):04X}", ""))
        raise TraceSyntaxError(
            f"{where(path, line)}expected printable text with tokens separated by spaces or tabs, "
            f"found {found} at column {column}{why}"
        )
    split = body.split()  # only spaces and tabs are left: same as splitting on runs of them
    if len(split) < 2:
        raise TraceSyntaxError(
            f"{where(path, line)}expected an action after actor {shown(split[0])} (<actor> <action> [args...]), "
            "found end of line"
        )
    if names is None:
        return split
    return [word if word[0] in _NUMERIC or "=" in word else names.setdefault(word, word) for word in split]


def arity(usage: str) -> tuple[int, int | None]:
    """How many arguments ``usage`` takes: (required, most), most None when unbounded."""
    words = usage.split()
    required = sum(1 for word in words if word.startswith("<"))
    if any(word.endswith("...]") or word == "..." for word in words):
        return required, None
    return required, len(words)


def expects(usage: str) -> str:
    """The message part saying how many arguments an action of ``usage`` takes."""
    lo, hi = arity(usage)
    if hi == 0:
        return "expects no argument"
    noun = "argument" if (hi if hi is not None else lo) == 1 else "arguments"
    if hi is None:
        return f"expects at least {lo} {noun} ({usage})"
    if lo == hi:
        return f"expects {lo} {noun} ({usage})"
    return f"expects {lo} or {hi} {noun} ({usage})"


class Place:
    """The line being parsed: where it is, whose it is, and readers of its arguments that fail with its place."""

    __slots__ = ("actor", "keyword", "line", "path")

    def __init__(self, path: str, line: int, actor: str, keyword: str) -> None:
        self.path, self.line, self.actor, self.keyword = path, line, actor, keyword

    @property
    def origin(self) -> dict[str, object]:
        """The fields every action record takes from its line: ``actor``, ``path``, ``line``."""
        return {"actor": self.actor, "path": self.path, "line": self.line}

    def error(self, message: str) -> TraceSyntaxError:
        return TraceSyntaxError(f"{where(self.path, self.line)}{message}")

    def quantity(self, text: str, kind: units.QuantityKind, what: str) -> float:
        """A non-negative finite quantity with SimGrid units of ``kind`` (bare numbers in the base unit)."""
        try:
            return _parse_quantity(text, kind)
        except UnitError as exc:
            raise self.error(f"bad {what} {shown(text)} in '{self.keyword}': {exc}") from None

    def number(self, text: str, what: str) -> float:
        """A plain finite decimal number with no unit."""
        if _PLAIN_NUMBER.fullmatch(text) is None:
            raise self.error(f"bad {what} in '{self.keyword}': expected a plain number, found {shown(text)}")
        value = float(text)
        if not math.isfinite(value):
            raise self.error(f"bad {what} in '{self.keyword}': expected a finite number, found {shown(text)}")
        return value + 0.0

    def checked(self, value: float, ok: bool, what: str, expected: str, text: str) -> float:
        """``value`` if ``ok``, else an error saying that ``what`` was expected to be ``expected``."""
        if not ok:
            raise self.error(f"bad {what} in '{self.keyword}': expected {expected}, found {shown(text)}")
        return value

    def count(self, text: str, what: str, most: int = 999999999) -> int:
        """A whole number from 1 to ``most``, in plain digits."""
        if not text.isascii() or not text.isdigit() or len(text) > len(str(most)) or not 1 <= int(text) <= most:
            raise self.error(f"bad {what} in '{self.keyword}': expected an integer between 1 and {most}, "
                             f"found {shown(text)}")
        return int(text)

    def index(self, text: str, what: str) -> int:
        """A whole number from 0, in plain digits."""
        if not text.isascii() or not text.isdigit() or len(text) > 9:
            raise self.error(f"bad {what} in '{self.keyword}': expected a whole number from 0, found {shown(text)}")
        return int(text)

    def boolean(self, text: str, what: str) -> bool:
        value = _BOOLEANS.get(text.lower())
        if value is None:
            raise self.error(
                f"bad {what} in '{self.keyword}': expected yes, no, true, false, 1 or 0, found {shown(text)}"
            )
        return value


def _parse_quantity(text: str, kind: units.QuantityKind) -> float:
    """The one call into :mod:`replay.units`: bare numbers accepted, negative and non-finite values refused.

    A plain positive decimal number, by far the most common token, skips the unit machinery: it means the same
    in every kind (the base unit), and anything else (zero, sign, overflow, units) goes through the full parser.
    So does a plain positive number of flop/s or flops in the base unit ``f`` (what ``replay import`` writes
    for an absolute ``load``): its scale is 1.
    """
    if _PLAIN_NUMBER.fullmatch(text) is not None and 0.0 < (value := float(text)) < math.inf:
        return value
    if (kind in _FLOPS_KINDS and text[-1:] == "f" and _PLAIN_NUMBER.fullmatch(text, 0, len(text) - 1) is not None
            and 0.0 < (value := float(text[:-1])) < math.inf):
        return value
    return units.parse_quantity(text, kind)
