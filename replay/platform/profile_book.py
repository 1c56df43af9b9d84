"""Where a platform's profiles come from: ``*_file`` attributes, ``<trace>`` and ``<trace_connect>``.

:class:`ProfileBook` keeps the profiles of the platform being read, and applies SimGrid 3.32's rules on them
(``surfxml_sax_cb.cpp``, ``surfxml_parseplatf.cpp``, ``sg_platf.cpp``), each broken rule being a one-line
:class:`~replay.errors.PlatformError` naming the file and line of the element at fault:

* A host takes ``speed_file`` (or its deprecated name ``availability_file``, with a warning) and ``state_file``;
  a link ``bandwidth_file``, ``latency_file`` and ``state_file``. A file name is searched for as SimGrid does
  (:func:`~replay.platform.profiles.resolve_profile_path`).
* ``<trace id= file= periodicity=>`` defines a profile from a file or from its text; ``periodicity`` (required)
  repeats an inline profile when positive, and SimGrid ignores it for a file (a warning here).
* ``<trace_connect kind= trace= element=>`` gives trace ``trace`` to host or link ``element``; the trace must come
  first, the element may come anywhere, since connections are made once the whole file is read. ``kind`` is
  HOST_AVAIL (the default: the host's *state*), SPEED, LINK_AVAIL, BANDWIDTH or LATENCY.

Refused as SimGrid 3.32 refuses them (it aborts): a profile loaded twice (SimGrid names a file profile by its
file name as written and an inline one by its id, and defines each name once), a second profile of one kind on
one resource, a ``state_file`` on a SPLITDUPLEX link (SimGrid aborts at its first event), and any
``<trace_connect>`` to a link (SimGrid connects traces after links are sealed). Refused where SimGrid would
silently drop something: a trace connected twice with one kind (SimGrid keeps the first element only), a trace
with both a file and a text, a duplicate trace id.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any

from replay.errors import PlatformError, UnitError, where
from replay.platform.attribute_values import PlatformWarning
from replay.platform.elements import LOOPBACK_NAME, Host, Link
from replay.platform.profiles import Profile, parse_profile, read_profile_file
from replay.platform.xml_reader import suggest
from replay.units import parse_number

__all__ = ["HOST_KINDS", "LINK_KINDS", "ProfileBook"]

HOST_KINDS = {"SPEED": "speed_profile", "HOST_AVAIL": "state_profile"}
"""``<trace_connect>`` kinds that apply to hosts -> the :class:`~replay.platform.Host` field they fill."""

LINK_KINDS = {"BANDWIDTH": "bandwidth_profile", "LATENCY": "latency_profile", "LINK_AVAIL": "state_profile"}
"""``<trace_connect>`` kinds that apply to links -> the :class:`~replay.platform.Link` field they fill."""

_ATTRIBUTE = {"speed_profile": "speed_file", "state_profile": "state_file", "bandwidth_profile": "bandwidth_file",
              "latency_profile": "latency_file"}
_WORD = {"speed_profile": "speed", "state_profile": "state", "bandwidth_profile": "bandwidth",
         "latency_profile": "latency"}


@dataclass(frozen=True, slots=True)
class _Connection:
    kind: str
    trace: str
    element: str
    line: int


class ProfileBook:
    """The profiles of the platform being read: by SimGrid name, by trace id, and the connections to make."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.platform = None if source.startswith("<") else source  # a file, whose directory is searched
        self.names: dict[str, str] = {}  # SimGrid's profile name -> "what, at file:line" of its first load
        self.traces: dict[str, tuple[Profile, int]] = {}  # trace id -> (profile, line)
        self.connections: list[_Connection] = []
        self.given: dict[tuple[str, str], str] = {}  # (resource, field) -> what gave it, for messages

    def at(self, line: int) -> str:
        return where(self.source, line)

    def _claim(self, name: str, what: str, line: int) -> None:
        """Define SimGrid profile ``name`` once, as SimGrid's ``Profile`` constructor requires."""
        first = self.names.get(name)
        if first is not None:
            raise PlatformError(
                f"{self.at(line)}{what} loads profile '{name}' again, already loaded by {first}: SimGrid 3.32 "
                f"defines a profile once (\"Refusing to define trace {name} twice\"); give each its own file"
            )
        self.names[name] = f"{what} at {self.at(line)}".rstrip(": ")

    def _file(self, attrs: dict[str, str], key: str, owner: str, line: int) -> Profile | None:
        name = attrs.get(key, "")
        if not name:
            return None
        what = f"{key} of {owner}"
        self._claim(name, what, line)
        return read_profile_file(name, self.platform, self.at(line), what)

    # -- attributes ---------------------------------------------------------------------------------------------

    def host_profiles(self, attrs: dict[str, str], name: str, line: int) -> dict[str, Any]:
        """The ``Host`` profile fields given by the attributes of ``<host id=name>``."""
        owner = f"host '{name}'"
        if attrs.get("availability_file") and attrs.get("speed_file"):
            raise PlatformError(
                f"{self.at(line)}{owner} gives both speed_file and availability_file (its deprecated name): give one"
            )
        fields: dict[str, Any] = {}
        if attrs.get("availability_file"):
            warnings.warn(f"{self.at(line)}availability_file ({owner}) is deprecated: SimGrid reads it as speed_file",
                          PlatformWarning, stacklevel=3)
            fields["speed_profile"] = self._file(attrs, "availability_file", owner, line)
            self.given[(name, "speed_profile")] = f"availability_file at {self.at(line)}".rstrip(": ")
        for key, field in (("speed_file", "speed_profile"), ("state_file", "state_profile")):
            profile = self._file(attrs, key, owner, line)
            if profile is not None:
                fields[field] = profile
                self.given[(name, field)] = f"{key} at {self.at(line)}".rstrip(": ")
        return fields

    def link_profiles(self, attrs: dict[str, str], name: str, line: int, split: bool) -> dict[str, Any]:
        """The ``Link`` profile fields given by the attributes of ``<link id=name>`` (both halves when ``split``)."""
        owner = f"link '{name}'"
        if split and attrs.get("state_file"):
            raise PlatformError(
                f"{self.at(line)}state_file of SPLITDUPLEX {owner} is refused: SimGrid 3.32 aborts at the first "
                "event of such a profile (\"Unknown event!\"); make the link SHARED or FATPIPE to give it a state"
            )
        fields: dict[str, Any] = {}
        for key, field in (("bandwidth_file", "bandwidth_profile"), ("latency_file", "latency_profile"),
                           ("state_file", "state_profile")):
            profile = self._file(attrs, key, owner, line)
            if profile is not None:
                fields[field] = profile
        return fields

    # -- <trace> and <trace_connect> ----------------------------------------------------------------------------

    def add_trace(self, attrs: dict[str, str], line: int, text: str, text_line: int) -> None:
        """Define the ``<trace>`` read at ``line``, whose content ``text`` starts at ``text_line``."""
        at = self.at(line)
        trace_id = attrs["id"]
        try:
            periodicity = parse_number(attrs["periodicity"], "periodicity")
        except UnitError:
            raise PlatformError(
                f"{at}periodicity of <trace> '{trace_id}' must be a number, found '{attrs['periodicity']}'"
            ) from None
        if trace_id in self.traces:
            first = self.at(self.traces[trace_id][1]).rstrip(": ")
            raise PlatformError(f"{at}duplicate trace id '{trace_id}': already defined at {first}")
        file = attrs.get("file", "")
        if file and text.strip():
            raise PlatformError(f"{at}<trace> '{trace_id}' has both a file and a text: give one")
        if file:
            if periodicity > 0:
                warnings.warn(
                    f"{at}periodicity of <trace> '{trace_id}' is ignored: SimGrid 3.32 reads it for inline traces "
                    "only; write PERIODICITY in the file", PlatformWarning, stacklevel=3)
            self._claim(file, f"<trace> '{trace_id}'", line)
            profile = read_profile_file(file, self.platform, at, f"file of <trace> '{trace_id}'")
        else:
            if not text.strip():
                raise PlatformError(f"{at}<trace> '{trace_id}' must have either a text or a file")
            self._claim(trace_id, f"<trace> '{trace_id}'", line)
            profile = parse_profile(text, trace_id, self.source, text_line, periodicity)
        self.traces[trace_id] = (profile, line)

    def add_connection(self, attrs: dict[str, str], line: int) -> None:
        """Note a ``<trace_connect>``; its trace must be defined already, its element is looked for at the end."""
        at = self.at(line)
        kind, trace = attrs.get("kind", "HOST_AVAIL"), attrs["trace"]
        if kind not in HOST_KINDS and kind not in LINK_KINDS:
            hint = " (SimGrid renamed POWER to SPEED)" if kind == "POWER" else ""
            raise PlatformError(f"{at}kind of <trace_connect> must be HOST_AVAIL, SPEED, LINK_AVAIL, BANDWIDTH or "
                                f"LATENCY, found '{kind}'{hint}")
        if trace not in self.traces:
            raise PlatformError(f"{at}<trace_connect> names trace '{trace}', which is not defined before it"
                                + suggest(trace, self.traces))
        for other in self.connections:
            if other.trace == trace and other.kind == kind:
                raise PlatformError(
                    f"{at}trace '{trace}' is already connected as {kind} to '{other.element}' at "
                    f"{self.at(other.line).rstrip(': ')}: SimGrid 3.32 connects a trace to one element per kind "
                    "and would drop this one; define another <trace>"
                )
        self.connections.append(_Connection(kind, trace, attrs["element"], line))

    def connect(self, hosts: dict[str, Host], links: dict[str, Link], split: dict[str, Any],
                kinds: dict[str, str]) -> None:
        """Give each connected host its profile (``hosts`` is updated); ``kinds`` names the other net points."""
        for item in self.connections:
            at = self.at(item.line)
            profile = self.traces[item.trace][0]
            tag = f'<trace_connect kind="{item.kind}">'
            if item.kind in LINK_KINDS:
                self._link_connection(item, at, tag, hosts, links, split, kinds)
            host = hosts.get(item.element)
            if host is None:
                found = (" is a link" if item.element in links or item.element in split else
                         f" is a {kinds[item.element]}" if item.element in kinds else "")
                if found:
                    raise PlatformError(f"{at}{tag}: '{item.element}'{found}, and {item.kind} applies to hosts")
                raise PlatformError(f"{at}{tag}: no host '{item.element}'" + suggest(item.element, hosts))
            field = HOST_KINDS[item.kind]
            first = self.given.get((host.name, field))
            if first is not None:
                raise PlatformError(f"{at}{tag}: host '{host.name}' already has a {_WORD[field]} profile, from "
                                    f"{first} (SimGrid 3.32 refuses a second one)")
            self.given[(host.name, field)] = f"trace '{item.trace}' at {at.rstrip(': ')}"
            hosts[host.name] = dataclasses.replace(host, **{field: profile})

    def _link_connection(self, item: _Connection, at: str, tag: str, hosts: dict[str, Host],
                         links: dict[str, Link], split: dict[str, Any], kinds: dict[str, str]) -> None:
        """Check a connection to a link, then refuse it: SimGrid 3.32 aborts on every one of them."""
        name = item.element
        if name in hosts or name in kinds:
            what = "host" if name in hosts else kinds[name]
            raise PlatformError(f"{at}{tag}: '{name}' is a {what}, and {item.kind} applies to links")
        if name in split:
            raise PlatformError(f"{at}{tag}: '{name}' is a SPLITDUPLEX link, which SimGrid knows as '{name}_UP' and "
                                f"'{name}_DOWN' only")
        if name not in links and name != LOOPBACK_NAME:
            raise PlatformError(f"{at}{tag}: no link '{name}'" + suggest(name, links))
        attribute = _ATTRIBUTE[LINK_KINDS[item.kind]]
        raise PlatformError(
            f"{at}{tag} to link '{name}' is refused: SimGrid 3.32 aborts on any <trace_connect> to a link "
            f"(\"Cannot set a {_WORD[LINK_KINDS[item.kind]]} profile once the Link is sealed\"); give the link a "
            f"{attribute} attribute instead"
        )
