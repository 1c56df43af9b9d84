"""Read SimGrid deployment files: which actor runs which function on which host, with which arguments.

A deployment file is a ``<platform version="4.1">`` holding ``<actor host=".." function="..">`` elements (old name
``<process>``), each with ``<argument value=".."/>`` and ``<prop>`` children, as in SimGrid 3.32. ``start_time``
and ``kill_time`` are kept (SimGrid's default, -1, means "at once" and "never"); ``on_failure`` is DIE or RESTART.
Platform elements (zones, clusters, config) in the same file are skipped, so one file holding both the platform
and the deployment can be given for both. Errors are :class:`~replay.errors.PlatformError` with file:line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from replay.errors import PlatformError, UnitError, where
from replay.platform.xml_reader import check_element, parse_xml, read_xml
from replay.units import Seconds, parse_number
from replay.variables import substitute_lines

if TYPE_CHECKING:
    from replay.platform.model import Platform

__all__ = ["ActorSpec", "load_deployment", "load_deployment_string"]

#: the properties of an actor without ``<prop>``: one read-only mapping for all (an empty dict costs 64 bytes, and
#: a deployment may have a million actors)
NO_PROPERTIES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ActorSpec:
    """One actor of a deployment file.

    ``args`` are the ``<argument>`` values in order (without the function name, which SimGrid passes as
    argument 0). ``path`` and ``line`` locate the ``<actor>`` element for error messages. ``start_time`` and
    ``kill_time`` are in seconds, negative meaning unset. ``properties`` are its ``<prop>`` children, read-only.
    """

    host: str
    function: str
    args: tuple[str, ...] = ()
    path: str = ""
    line: int = 0
    start_time: Seconds = -1.0
    kill_time: Seconds = -1.0
    on_failure: str = "DIE"
    properties: Mapping[str, str] = field(default_factory=lambda: NO_PROPERTIES, compare=False, hash=False)


def load_deployment(path: str | os.PathLike[str], *, platform: Platform | None = None,
                    variables: Mapping[str, str] | None = None) -> list[ActorSpec]:
    """Read the actors of a deployment file, in document order.

    With ``platform``, every actor's host must be one of its hosts (as SimGrid checks when it creates the actor).
    Its ``$name`` variables take their values in ``variables`` (:mod:`replay.variables`).
    """
    label = os.fspath(path)
    data = read_xml(label)
    if b"$" in data:
        text = substitute_lines(data.decode("utf-8", errors="surrogateescape"), variables or {}, label)
        data = text.encode("utf-8", errors="surrogateescape")
    return _read(data, label, platform)


def load_deployment_string(text: str, source: str = "<string>", *, platform: Platform | None = None) -> list[ActorSpec]:
    """Read the actors of deployment XML given as text; ``source`` names it in messages."""
    return _read(text.encode("utf-8"), source, platform)


_PLATFORM_PARTS = frozenset({"config", "zone", "AS", "cluster", "trace", "trace_connect"})


def _read(data: bytes, source: str, platform: Platform | None) -> list[ActorSpec]:
    actors: list[ActorSpec] = []
    stack: list[str] = []
    current: list[tuple[dict[str, str], int, list[str], dict[str, str]]] = []
    skip = [0]
    hosts: dict[str, str] = {}  # one string per host name, for all its actors

    def start(tag: str, attrs: dict[str, str], line: int) -> None:
        if skip[0]:
            skip[0] += 1
            return
        parent = stack[-1] if stack else None
        if parent == "platform" and tag in _PLATFORM_PARTS:
            skip[0] = 1
            return
        if parent in ("actor", "process"):
            if tag not in ("argument", "prop"):
                raise PlatformError(
                    f"{where(source, line)}<{tag}> is not allowed inside <{parent}>; "
                    "<actor> may contain <argument> and <prop>"
                )
            names = ("value",) if tag == "argument" else ("id", "value")
            for name in names:
                if name not in attrs:
                    raise PlatformError(f"{where(source, line)}<{tag}> needs the attribute '{name}'")
            for name in attrs:
                if name not in names:
                    raise PlatformError(
                        f"{where(source, line)}unknown attribute '{name}' in <{tag}>; <{tag}> takes {', '.join(names)}"
                    )
        else:
            check_element(source, tag, parent, attrs, line)
        stack.append(tag)
        if tag == "platform":
            _check_version(attrs, source, line)
        elif tag in ("actor", "process"):
            current.append((attrs, line, [], {}))
        elif tag == "argument":
            current[-1][2].append(attrs["value"])
        elif tag == "prop":
            current[-1][3].setdefault(attrs["id"], attrs["value"])

    def end(tag: str) -> None:
        if skip[0]:
            skip[0] -= 1
            return
        stack.pop()
        if tag in ("actor", "process"):
            attrs, line, args, props = current.pop()
            at = where(source, line)
            host = attrs["host"]
            host = hosts.setdefault(host, host)
            if platform is not None and host not in platform.hosts:
                raise PlatformError(
                    f"{at}cannot place actor '{attrs['function']}': " + str(platform_host_error(platform, host))
                )
            on_failure = attrs.get("on_failure", "DIE")
            if on_failure not in ("DIE", "RESTART"):
                raise PlatformError(f"{at}on_failure of <{tag}> must be DIE or RESTART, found '{on_failure}'")
            actors.append(
                ActorSpec(
                    host=host,
                    function=attrs["function"],
                    args=tuple(args),
                    path=source,
                    line=line,
                    start_time=_time(attrs.get("start_time"), "start_time", at),
                    kill_time=_time(attrs.get("kill_time"), "kill_time", at),
                    on_failure=on_failure,
                    properties=MappingProxyType(props) if props else NO_PROPERTIES,
                )
            )

    parse_xml(data, source, start, end)
    return actors


def platform_host_error(platform: Platform, host: str) -> Exception:
    try:
        platform.host(host)
    except LookupError as exc:
        return exc
    raise AssertionError(host)  # pragma: no cover


def _check_version(attrs: dict[str, str], source: str, line: int) -> None:
    text = attrs.get("version", "0.0")
    try:
        number = parse_number(text, "version")
        version = round(100 * number) if abs(number) < 1e6 else -1
    except UnitError:
        version = -1
    if not 400 <= version <= 410:
        found = "no version attribute" if "version" not in attrs else f"version '{text}'"
        raise PlatformError(f'{where(source, line)}expected <platform version="4.1"> (or 4), found {found}')


def _time(text: str | None, what: str, at: str) -> float:
    """Read start_time/kill_time: a plain number of seconds, as SimGrid reads them (no unit; negative: unset, as
    is an absent one, which is SimGrid's -1 and one float for all)."""
    if text is None:
        return -1.0
    try:
        return parse_number(text, what)
    except UnitError as error:
        raise PlatformError(f"{at}{error} of seconds") from None
