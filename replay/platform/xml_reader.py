"""Read SimGrid XML files and check every element against the grammar of SimGrid 3.32's DTD.

Shared by the platform loader (:mod:`replay.platform.loader`) and the deployment reader
(:mod:`replay.platform.deployment`): :func:`read_xml` reads a file's bytes and makes sure they are UTF-8 text,
:func:`parse_xml` runs expat over them with line numbers, and :func:`check_element` refuses an unknown,
unsupported or misplaced element and unknown or missing attributes, before any handler looks at the element. The
grammar is two tables, which elements may hold which (``_CHILDREN``) and which attributes each takes and needs
(``_ATTRS``), following ``simgrid.dtd``. Every error is a one-line :class:`~replay.errors.PlatformError` that
starts with ``file:line:``.
"""

from __future__ import annotations

import difflib
import os
import stat
from collections.abc import Callable, Iterable
from xml.parsers import expat

from replay.errors import PlatformError, where

MAX_XML_BYTES = 256 << 20
"""The largest platform or deployment file read (256 MiB): SimGrid's largest example platforms are a few MiB, and
a file is read whole before it is parsed, so a device or a runaway file must not fill the memory."""

MAX_HOSTS = 1_000_000
"""The most hosts a platform may declare (clusters included): each costs memory before any simulation."""

__all__ = ["ROUTE_TAGS", "TRACE_TAGS", "check_element", "parse_xml", "read_xml", "suggest"]


def read_xml(path: str) -> bytes:
    """Return the bytes of an XML file known to be UTF-8 text, or raise a PlatformError naming the file.

    Only a regular file of at most :data:`MAX_XML_BYTES` is read: a pipe could block forever and a device such as
    ``/dev/zero`` never ends.
    """
    try:
        # O_NONBLOCK: opening a pipe must not wait for a writer (regular files ignore the flag)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise PlatformError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise PlatformError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise PlatformError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:  # a NUL in the name
        raise PlatformError(f"{path!r}: expected a file name, found {exc}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise PlatformError(f"{path}: is a directory, not a file")
        raise PlatformError(f"{path}: expected a regular file, found a pipe, a socket or a device")
    with os.fdopen(fd, "rb") as stream:
        if info.st_size > MAX_XML_BYTES:
            raise PlatformError(f"{path}: expected a file of at most {MAX_XML_BYTES >> 20} MiB, found "
                                f"{info.st_size / (1 << 20):.0f} MiB")
        try:
            # what the file holds: a buffer of MAX_XML_BYTES (virtual, but tracemalloc counts it) only if it grew
            data = stream.read(info.st_size + 1)
            if len(data) > info.st_size:
                data += stream.read(MAX_XML_BYTES + 1 - len(data))
        except OSError as exc:
            raise PlatformError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_XML_BYTES:  # the file grew while being read
        raise PlatformError(f"{path}: expected a file of at most {MAX_XML_BYTES >> 20} MiB, found more")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PlatformError(
            f"{where(path, line)}not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None
    return data


def parse_xml(
    data: bytes,
    source: str,
    start: Callable[[str, dict[str, str], int], None],
    end: Callable[[str], None],
    text: Callable[[str, int], None] | None = None,
) -> None:
    """Run expat over ``data``, calling ``start(tag, attrs, line)`` and ``end(tag)``; XML errors get file:line.

    With ``text``, character data (a ``<trace>``'s content) goes to ``text(data, line)``, ``line`` being where
    that piece starts: expat may cut one text into several pieces, at line breaks for instance.
    """
    parser = expat.ParserCreate(encoding="UTF-8")
    parser.StartElementHandler = lambda tag, attrs: start(tag, attrs, parser.CurrentLineNumber)
    parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = lambda data: text(data, parser.CurrentLineNumber)
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        message = expat.errors.messages.get(exc.code, str(exc))
        raise PlatformError(f"{where(source, exc.lineno)}malformed XML: {message} (column {exc.offset + 1})") from None


# -- grammar------------------------------------------------------------------------------------------------------------

_UNSUPPORTED = {
    "random": "random number generators",
    "include": "<include> (removed from SimGrid in 3.18)",
    "peer": "Vivaldi peers",
    "disk": "disks",
    "storage": "storages (removed from SimGrid in 3.27)",
    "storage_type": "storages (removed from SimGrid in 3.27)",
    "mount": "storages (removed from SimGrid in 3.27)",
    "model_prop": "<model_prop> (deprecated in SimGrid)",
}

ROUTE_TAGS = ("route", "zoneRoute", "ASroute", "bypassRoute", "bypassZoneRoute", "bypassASroute")
TRACE_TAGS = ("trace", "trace_connect")
_ZONE_CHILDREN = frozenset(
    {"prop", "zone", "AS", "cluster", "link", "backbone", "host", "router", "host_link", "cabinet", *ROUTE_TAGS,
     *TRACE_TAGS}
)
_CHILDREN: dict[str | None, frozenset[str]] = {
    None: frozenset({"platform"}),
    "platform": frozenset({"config", "zone", "AS", "cluster", "actor", "process", *TRACE_TAGS}),
    "zone": _ZONE_CHILDREN,
    "AS": _ZONE_CHILDREN,
    "config": frozenset({"prop"}),
    "host": frozenset({"prop"}),
    "link": frozenset({"prop"}),
    "cluster": frozenset({"prop"}),
    **{r: frozenset({"link_ctn"}) for r in ROUTE_TAGS},
}

_CLUSTER_ATTRS = (
    "id",
    "prefix",
    "suffix",
    "radical",
    "speed",
    "core",
    "bw",
    "lat",
    "sharing_policy",
    "topology",
    "topo_parameters",
    "bb_bw",
    "bb_lat",
    "bb_sharing_policy",
    "router_id",
    "limiter_link",
    "loopback_bw",
    "loopback_lat",
)
# element: (every allowed attribute, the required ones)
_ATTRS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "platform": (("version",), ()),
    "config": (("id",), ()),
    "prop": (("id", "value"), ("id", "value")),
    "zone": (("id", "routing"), ("id", "routing")),
    "AS": (("id", "routing"), ("id", "routing")),
    "host": (
        ("id", "speed", "core", "pstate", "coordinates", "speed_file", "availability_file", "state_file"),
        ("id", "speed"),
    ),
    "link": (
        ("id", "bandwidth", "latency", "sharing_policy", "bandwidth_file", "latency_file", "state_file"),
        ("id", "bandwidth"),
    ),
    "router": (("id", "coordinates"), ("id",)),
    "backbone": (("id", "bandwidth", "latency"), ("id", "bandwidth", "latency")),
    "host_link": (("id", "up", "down"), ("id", "up", "down")),
    "cabinet": (
        ("id", "prefix", "suffix", "radical", "speed", "bw", "lat"),
        ("id", "prefix", "suffix", "radical", "speed", "bw", "lat"),
    ),
    "cluster": (_CLUSTER_ATTRS, ("id", "prefix", "suffix", "radical", "speed", "bw", "lat")),
    "route": (("src", "dst", "symmetrical"), ("src", "dst")),
    "zoneRoute": (("src", "dst", "gw_src", "gw_dst", "symmetrical"), ("src", "dst", "gw_src", "gw_dst")),
    "ASroute": (("src", "dst", "gw_src", "gw_dst", "symmetrical"), ("src", "dst", "gw_src", "gw_dst")),
    "bypassRoute": (("src", "dst"), ("src", "dst")),
    "bypassZoneRoute": (("src", "dst", "gw_src", "gw_dst"), ("src", "dst", "gw_src", "gw_dst")),
    "bypassASroute": (("src", "dst", "gw_src", "gw_dst"), ("src", "dst", "gw_src", "gw_dst")),
    "link_ctn": (("id", "direction"), ("id",)),
    "actor": (("host", "function", "start_time", "kill_time", "on_failure"), ("host", "function")),
    "process": (("host", "function", "start_time", "kill_time", "on_failure"), ("host", "function")),
    "argument": (("value",), ("value",)),
    "trace": (("id", "file", "periodicity"), ("id", "periodicity")),
    "trace_connect": (("kind", "trace", "element"), ("trace", "element")),
}

_NO_CLUSTER_PROFILES = (
    "; SimGrid 3.32 gives <cluster> no profile attribute: connect a <trace> to each node with <trace_connect>"
)
_HINTS = {
    ("cluster", "availability_file"): _NO_CLUSTER_PROFILES,
    ("cluster", "speed_file"): _NO_CLUSTER_PROFILES,
    ("cluster", "state_file"): _NO_CLUSTER_PROFILES,
}


def check_element(source: str, tag: str, parent: str | None, attrs: dict[str, str], line: int) -> None:
    """Refuse an unknown, unsupported or misplaced element, and unknown or missing attributes."""
    at = where(source, line)
    if tag in _UNSUPPORTED:
        raise PlatformError(f"{at}<{tag}> is not supported by this simulator (it does not model {_UNSUPPORTED[tag]})")
    allowed = _CHILDREN.get(parent, frozenset())
    if tag not in allowed:
        if parent is None:
            raise PlatformError(f"{at}expected the root element <platform>, found <{tag}>")
        if tag not in _ATTRS:
            raise PlatformError(f"{at}unknown element <{tag}>" + suggest(tag, _ATTRS))
        inside = ", ".join(f"<{t}>" for t in sorted(allowed)) or "nothing"
        raise PlatformError(f"{at}<{tag}> is not allowed inside <{parent}>; <{parent}> may contain {inside}")
    names, required = _ATTRS[tag]
    for name in attrs:
        if name not in names:
            raise PlatformError(
                f"{at}unknown attribute '{name}' in <{tag}>"
                + (_HINTS.get((tag, name)) or suggest(name, names) + f"; <{tag}> takes {', '.join(names)}")
            )
    for name in required:
        if name not in attrs:
            raise PlatformError(f"{at}<{tag}> needs the attribute '{name}'")


def suggest(word: str, known: Iterable[str]) -> str:
    """A " (did you mean 'x'?)" hint naming the closest of ``known`` to ``word``, or "" when none is close."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
