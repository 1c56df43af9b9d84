"""Variables in traces and deployments: ``$name`` or ``${name}`` anywhere in a line, replaced before it is parsed.

``replay run ... --set name=value`` (repeatable) gives their values; sweeps set them point by point. ``$$`` is a
literal ``$``. A name is a letter or ``_`` followed by letters, digits and ``_``; ``$name`` takes the longest
such name (``$rate0`` is ``rate0``), ``${name}`` ends where the braces do (``${rate}0``). An undefined variable,
or a ``$`` followed by anything else, is an error naming the file and line. Comment lines of a trace are left as
they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from replay.errors import ReplayError, TraceSyntaxError, did_you_mean, where

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REFERENCE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def substitute(text: str, variables: Mapping[str, str], path: str, line: int | None) -> str:
    """``text`` with its variables replaced by their values (see the module docstring)."""
    if "$" not in text:
        return text
    parts: list[str] = []
    position = 0
    while (dollar := text.find("$", position)) >= 0:
        parts.append(text[position:dollar])
        match = _REFERENCE.match(text, dollar)
        if match is None:
            found = text[dollar:dollar + 12].split()[0] if text[dollar:].strip() else "$"
            raise TraceSyntaxError(f"{where(path, line)}expected a variable ($name or ${{name}}) or $$ after '$', "
                                   f"found {found!r}")
        literal, braced, bare = match.groups()
        if literal:
            parts.append("$")
        else:
            name = braced or bare
            value = variables.get(name)
            if value is None:
                known = f" (set: {', '.join(sorted(variables))})" if variables else ""
                raise TraceSyntaxError(f"{where(path, line)}undefined variable ${name}; expected it set with "
                                       f"--set {name}=VALUE{known}{did_you_mean(name, list(variables))}")
            parts.append(value)
        position = match.end()
    parts.append(text[position:])
    return "".join(parts)


def substitute_lines(text: str, variables: Mapping[str, str], path: str) -> str:
    """A whole file's text with its variables replaced, line by line (so that errors name their line)."""
    if "$" not in text:
        return text
    lines = text.split("\n")
    return "\n".join(substitute(line, variables, path, number) for number, line in enumerate(lines, 1))


def settings(pairs: Iterable[str], option: str = "--set") -> dict[str, str]:
    """``name=value`` texts -> {name: value}; a malformed one is a one-line error naming ``option``."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        if not eq or not NAME.fullmatch(name):
            raise ReplayError(f"{option}: expected name=value with a name of letters, digits and _ (not first), "
                              f"found {pair!r}")
        if "\n" in value or "\r" in value:
            raise ReplayError(f"{option}: expected a value on one line for {name!r}, found a line break")
        if name in values and values[name] != value:
            raise ReplayError(f"{option}: {name!r} is set twice ({values[name]!r}, then {value!r})")
        values[name] = value
    return values


def references(text: str, *, comments: str | None = "#") -> dict[str, int]:
    """The variables ``text`` uses, each with the number of the first line that uses it, in order of first use.

    Lines starting with ``comments`` are skipped (trace files: substitution leaves them as they are; None for a
    deployment, whose every line is substituted); ``$$`` is no variable, and a malformed ``$`` is left for the
    substitution to report. A sweep checks with this, before running, that each point sets what the files use.
    """
    found: dict[str, int] = {}
    if "$" not in text:
        return found
    for number, line in enumerate(text.split("\n"), 1):
        if "$" not in line or (comments is not None and line.lstrip().startswith(comments)):
            continue
        for match in _REFERENCE.finditer(line):
            name = match.group(2) or match.group(3)
            if name:
                found.setdefault(name, number)
    return found
