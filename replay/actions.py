"""Action-trace parser: lines of a time-independent trace -> typed, frozen :class:`Action` records.

A trace is SimGrid's replay format: one action per line, ``<actor> <action> [args...]``. Leading and trailing
blanks are trimmed, tokens are split on runs of spaces and tabs, and blank lines and lines whose first non-blank
character is ``#`` are skipped. As in SimGrid's ``xbt_replay``, ``#`` starts a comment only at the start of a
line: ``p0 compute 1e9 # hi`` is an error here (too many arguments, with a hint), where SimGrid would hand the
extra tokens to the handler. Every record carries the ``path`` and ``line`` it came from; every problem in the
text is a :class:`~replay.errors.TraceSyntaxError` reading ``path:line: <what was expected>, found <what was
found>``, and no input text raises anything else.

===========================================  ===================  =================================================
line                                         record               fields (units)
===========================================  ===================  =================================================
``<a> init [host]``                          :class:`Init`        host (None: placed by the deployment)
``<a> compute <flops> [priority]``           :class:`Compute`     flops (``1e9``, ``1Gf``); priority > 0, default 1
``<a> send <dst> <bytes>``                   :class:`Send`        dst, size (bytes: ``1e6``, ``1MB``, ``1GiB``)
``<a> recv <src>``                           :class:`Recv`        src
``<a> isend <dst> <bytes>``                  :class:`Isend`       dst, size (bytes)
``<a> irecv <src>``                          :class:`Irecv`       src
``<a> wait``                                 :class:`Wait`        (completes the oldest pending request)
``<a> waitall``                              :class:`WaitAll`     (completes every pending request)
``<a> sleep <seconds>``                      :class:`Sleep`       duration (s: ``1.5``, ``30ms``)
``<a> finalize``                             :class:`Finalize`    (no-op, SimGrid compatibility)
``<a> vm_create <vm> <pm> [key=value ...]``  :class:`VmCreate`    vm, pm, options below
``<a> vm_start <vm>``                        :class:`VmStart`     vm
``<a> vm_suspend <vm>``                      :class:`VmSuspend`   vm
``<a> vm_resume <vm>``                       :class:`VmResume`    vm
``<a> vm_save <vm>``                         :class:`VmSave`      vm
``<a> vm_restore <vm>``                      :class:`VmRestore`   vm
``<a> vm_shutdown <vm>``                     :class:`VmShutdown`  vm
``<a> vm_destroy <vm>``                      :class:`VmDestroy`   vm
``<a> vm_migrate <vm> <dst_pm>``             :class:`VmMigrate`   vm, dst
``<a> vm_set_bound <vm> <flops/s>``          :class:`VmSetBound`  vm, bound (flop/s: ``2Gf``; 0 = None, no bound)
===========================================  ===================  =================================================

``vm_create`` options, each at most once (defaults in brackets): ``cores`` integer >= 1 [1]; ``ram`` size [1 GiB;
SimGrid's s4u default is 1024 bytes, a placeholder that makes migrations free]; ``dp_intensity`` fraction in
[0, 1] [0]; ``working_set`` size <= ram [None: 0.9 x ram]; ``mig_speed`` bandwidth, ``125MBps`` or ``1Gbps``
[0 = uncapped]; ``max_downtime`` time > 0 [0.03 s]; ``bound`` speed [None; 0 = no bound, as SimGrid's solver
treats a non-positive bound]; ``devsize`` size [0]; ``skip_stage1``, ``skip_stage2`` yes/no/true/false/1/0
[no]; ``xfer_cpu_overhead``, ``dpt_cpu_overhead`` flops per byte >= 0 [0].

Quantities take SimGrid's units by kind (see :mod:`replay.units`); a bare number is in the base unit (flops,
bytes, seconds, bytes/s, flop/s). Negative, infinite and NaN amounts are errors.

Sources. :func:`iter_actions` streams the actions of one file. :func:`open_trace` returns a :class:`TraceSource`
that hands each actor its next action on demand, in *shared* mode (one file holding every actor's lines, as
SimGrid's ``xbt_replay_set_tracefile``) or *split* mode (one file per actor, as a deployment's ``<argument
value=...>``). Opening a source reads its files once, streaming, to check every line and learn the actors and
their action counts, so a typo stops the run before it starts; replay then reads the files a second time, lazily:
a shared file is read only as far as the asking actor needs, holding the other actors' records until they ask,
and an actor that has had all its actions gets None without any further reading.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import stat
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, ClassVar, Final, Literal

from replay import units
from replay.errors import LookupFailure, TraceSyntaxError, UnitError, where
from replay.units import Bytes, BytesPerSecond, Flops, FlopsPerSecond, Seconds

__all__ = [
    "ACTION_TYPES",
    "DEFAULT_MAX_DOWNTIME",
    "DEFAULT_RAM",
    "Action",
    "Compute",
    "Custom",
    "Finalize",
    "Init",
    "Irecv",
    "Isend",
    "Recv",
    "Send",
    "SharedTrace",
    "Sleep",
    "SplitTrace",
    "TraceSource",
    "VmAction",
    "VmCreate",
    "VmDestroy",
    "VmMigrate",
    "VmRestore",
    "VmResume",
    "VmSave",
    "VmSetBound",
    "VmShutdown",
    "VmStart",
    "VmSuspend",
    "Wait",
    "WaitAll",
    "iter_actions",
    "open_trace",
    "parse_line",
]

PathArg = str | os.PathLike[str]

DEFAULT_RAM: Final[Bytes] = float(1 << 30)
"""RAM of a VM created without ``ram=``: 1 GiB."""

DEFAULT_MAX_DOWNTIME: Final[Seconds] = 0.03
"""SimGrid's default tolerated downtime of a live migration (``VmLiveMigration.cpp``)."""

WORKING_SET_FRACTION: Final[float] = 0.9
"""Working set of a VM created without ``working_set=``, as a fraction of its RAM (SimGrid's assumption)."""

_MAX_LINE: Final[int] = 1 << 20
"""Longest line accepted, in bytes: a file without newlines is an error, never read whole into memory."""


# ---------------------------------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """One line of a trace: what ``actor`` does next. ``path`` and ``line`` say where it was read.

    Equality and hashing ignore the place: two records are equal when they ask for the same thing.
    """

    keyword: ClassVar[str] = ""
    usage: ClassVar[str] = ""
    actor: str
    path: str = field(default="<memory>", compare=False)
    line: int = field(default=0, compare=False)

    def to_line(self) -> str:
        """The trace line that parses back to this record (quantities in base units)."""
        return " ".join((self.actor, self.keyword, *self._args()))

    def _args(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Init(Action):
    """Place the actor on ``host`` (a PM or VM); with no host, the deployment decides."""

    keyword: ClassVar[str] = "init"
    usage: ClassVar[str] = "[host]"
    host: str | None = None

    def _args(self) -> tuple[str, ...]:
        return () if self.host is None else (self.host,)


@dataclass(frozen=True, slots=True)
class Compute(Action):
    """Execute ``flops`` on the actor's host; ``priority`` is the share weight (our extension, > 0)."""

    keyword: ClassVar[str] = "compute"
    usage: ClassVar[str] = "<flops> [priority]"
    flops: Flops
    priority: float = 1.0

    def _args(self) -> tuple[str, ...]:
        flops = _num(self.flops)
        return (flops,) if self.priority == 1.0 else (flops, _num(self.priority))


@dataclass(frozen=True, slots=True)
class Send(Action):
    """Send ``size`` bytes to actor ``dst`` on mailbox ``<actor>_<dst>``; blocks until received."""

    keyword: ClassVar[str] = "send"
    usage: ClassVar[str] = "<dst> <bytes>"
    dst: str
    size: Bytes

    def _args(self) -> tuple[str, ...]:
        return (self.dst, _num(self.size))


@dataclass(frozen=True, slots=True)
class Isend(Action):
    """Post a send of ``size`` bytes to ``dst`` and go on; completed by ``wait`` or ``waitall``."""

    keyword: ClassVar[str] = "isend"
    usage: ClassVar[str] = "<dst> <bytes>"
    dst: str
    size: Bytes

    def _args(self) -> tuple[str, ...]:
        return (self.dst, _num(self.size))


@dataclass(frozen=True, slots=True)
class Recv(Action):
    """Receive from actor ``src`` on mailbox ``<src>_<actor>``; blocks until the data is there."""

    keyword: ClassVar[str] = "recv"
    usage: ClassVar[str] = "<src>"
    src: str

    def _args(self) -> tuple[str, ...]:
        return (self.src,)


@dataclass(frozen=True, slots=True)
class Irecv(Action):
    """Post a receive from ``src`` and go on; completed by ``wait`` or ``waitall``."""

    keyword: ClassVar[str] = "irecv"
    usage: ClassVar[str] = "<src>"
    src: str

    def _args(self) -> tuple[str, ...]:
        return (self.src,)


@dataclass(frozen=True, slots=True)
class Wait(Action):
    """Block until the actor's oldest pending request (FIFO) completes."""

    keyword: ClassVar[str] = "wait"


@dataclass(frozen=True, slots=True)
class WaitAll(Action):
    """Block until every pending request of the actor completes."""

    keyword: ClassVar[str] = "waitall"


@dataclass(frozen=True, slots=True)
class Sleep(Action):
    """Do nothing for ``duration`` seconds of simulated time."""

    keyword: ClassVar[str] = "sleep"
    usage: ClassVar[str] = "<seconds>"
    duration: Seconds

    def _args(self) -> tuple[str, ...]:
        return (_num(self.duration),)


@dataclass(frozen=True, slots=True)
class Finalize(Action):
    """No-op kept for SimGrid (SMPI) traces."""

    keyword: ClassVar[str] = "finalize"


@dataclass(frozen=True, slots=True)
class VmAction(Action):
    """Base of the actions on one VM; ``isinstance(a, VmAction)`` selects them."""

    usage: ClassVar[str] = "<vm>"
    vm: str

    def _args(self) -> tuple[str, ...]:
        return (self.vm,)


@dataclass(frozen=True, slots=True)
class VmCreate(VmAction):
    """Create VM ``vm`` on PM ``pm`` (not started). Sizes in bytes, bandwidth in B/s, overheads in flops/byte."""

    keyword: ClassVar[str] = "vm_create"
    usage: ClassVar[str] = "<vm> <pm> [key=value ...]"
    pm: str
    cores: int = 1
    ram: Bytes = DEFAULT_RAM
    dp_intensity: float = 0.0
    working_set: Bytes | None = None
    mig_speed: BytesPerSecond = 0.0
    max_downtime: Seconds = DEFAULT_MAX_DOWNTIME
    bound: FlopsPerSecond | None = None
    devsize: Bytes = 0.0
    skip_stage1: bool = False
    skip_stage2: bool = False
    xfer_cpu_overhead: float = 0.0
    dpt_cpu_overhead: float = 0.0

    @property
    def effective_working_set(self) -> Bytes:
        """The dirty-page cap: ``working_set``, or 0.9 x ram when not given."""
        return WORKING_SET_FRACTION * self.ram if self.working_set is None else self.working_set

    def _args(self) -> tuple[str, ...]:
        options = []
        for key in _VM_OPTIONS:
            value = getattr(self, key)
            if value is None or value == _VM_DEFAULTS[key]:
                continue
            if isinstance(value, bool):
                options.append(f"{key}=yes")
            elif isinstance(value, int):
                options.append(f"{key}={value}")
            else:
                options.append(f"{key}={_num(value)}")
        return (self.vm, self.pm, *options)


@dataclass(frozen=True, slots=True)
class VmStart(VmAction):
    """Start a created VM on its PM."""

    keyword: ClassVar[str] = "vm_start"


@dataclass(frozen=True, slots=True)
class VmSuspend(VmAction):
    """Suspend a running VM: its activities keep their remaining work and take no share."""

    keyword: ClassVar[str] = "vm_suspend"


@dataclass(frozen=True, slots=True)
class VmResume(VmAction):
    """Resume a suspended VM."""

    keyword: ClassVar[str] = "vm_resume"


@dataclass(frozen=True, slots=True)
class VmSave(VmAction):
    """Save a running VM's state (2013 API)."""

    keyword: ClassVar[str] = "vm_save"


@dataclass(frozen=True, slots=True)
class VmRestore(VmAction):
    """Restore a saved VM (2013 API)."""

    keyword: ClassVar[str] = "vm_restore"


@dataclass(frozen=True, slots=True)
class VmShutdown(VmAction):
    """Shut a VM down, killing its actors."""

    keyword: ClassVar[str] = "vm_shutdown"


@dataclass(frozen=True, slots=True)
class VmDestroy(VmAction):
    """Destroy a VM."""

    keyword: ClassVar[str] = "vm_destroy"


@dataclass(frozen=True, slots=True)
class VmMigrate(VmAction):
    """Live-migrate ``vm`` to PM ``dst``; blocks the actor until the migration ends."""

    keyword: ClassVar[str] = "vm_migrate"
    usage: ClassVar[str] = "<vm> <dst_pm>"
    dst: str

    def _args(self) -> tuple[str, ...]:
        return (self.vm, self.dst)


@dataclass(frozen=True, slots=True)
class VmSetBound(VmAction):
    """Cap the VM's CPU rate at ``bound`` flop/s; None (written 0) removes the cap."""

    keyword: ClassVar[str] = "vm_set_bound"
    usage: ClassVar[str] = "<vm> <flops/s>"
    bound: FlopsPerSecond | None

    def _args(self) -> tuple[str, ...]:
        return (self.vm, "0" if self.bound is None else _num(self.bound))


@dataclass(frozen=True, slots=True)
class Custom(Action):
    """An action of the user's (``Replayer.register``), accepted when its keyword is given to the parser as
    ``extra``; its arguments stay text, for its handler to read."""

    name: str
    args: tuple[str, ...] = ()

    @property  # type: ignore[override]
    def keyword(self) -> str:  # the keyword is the record's own, not the class's
        return self.name

    def _args(self) -> tuple[str, ...]:
        return self.args


ACTION_TYPES: Final[Mapping[str, type[Action]]] = {
    cls.keyword: cls
    for cls in (
        Init,
        Compute,
        Send,
        Recv,
        Isend,
        Irecv,
        Wait,
        WaitAll,
        Sleep,
        Finalize,
        VmCreate,
        VmStart,
        VmSuspend,
        VmResume,
        VmSave,
        VmRestore,
        VmShutdown,
        VmDestroy,
        VmMigrate,
        VmSetBound,
    )
}
"""Every action keyword and its record type, in the order of the grammar table."""


def _num(value: float) -> str:
    """A float written so that it parses back to itself (``repr`` round-trips)."""
    return repr(float(value))


# ---------------------------------------------------------------------------------------------------- parsing

_STRIP: Final[str] = " \t\n\r\v\f"  # what SimGrid's boost::trim removes (C isspace)
# Inside a line: no whitespace but spaces and tabs, no control character, no lone surrogate.
_BAD_CHAR = re.compile(r"[^\S \t]|[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BOOLEANS: Final[Mapping[str, bool]] = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


def _shown(token: str, limit: int = 60) -> str:
    """``token`` quoted for a message, cut when long."""
    return f"'{token}'" if len(token) <= limit else f"'{token[:limit]}...' ({len(token)} characters)"


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


class _Place:
    """The line being parsed: builds messages and reads the argument kinds."""

    __slots__ = ("actor", "keyword", "line", "path")

    def __init__(self, path: str, line: int, actor: str, keyword: str) -> None:
        self.path, self.line, self.actor, self.keyword = path, line, actor, keyword

    def error(self, message: str) -> TraceSyntaxError:
        return TraceSyntaxError(f"{where(self.path, self.line)}{message}")

    def quantity(self, text: str, kind: units.QuantityKind, what: str) -> float:
        """A non-negative finite quantity with SimGrid units of ``kind`` (bare numbers in the base unit)."""
        try:
            return _parse_quantity(text, kind)
        except UnitError as exc:
            raise self.error(f"bad {what} {_shown(text)} in '{self.keyword}': {exc}") from None

    def number(self, text: str, what: str) -> float:
        """A plain finite decimal number with no unit."""
        if _PLAIN_NUMBER.fullmatch(text) is None:
            raise self.error(f"bad {what} in '{self.keyword}': expected a plain number, found {_shown(text)}")
        value = float(text)
        if not math.isfinite(value):
            raise self.error(f"bad {what} in '{self.keyword}': expected a finite number, found {_shown(text)}")
        return value + 0.0


def _parse_quantity(text: str, kind: units.QuantityKind) -> float:
    """The one call into :mod:`replay.units`: bare numbers accepted, negative and non-finite values refused.

    A plain positive decimal number, by far the most common token, skips the unit machinery: it means the same
    in every kind (the base unit), and anything else (zero, sign, overflow, units) goes through the full parser.
    """
    if _PLAIN_NUMBER.fullmatch(text) is not None and 0.0 < (value := float(text)) < math.inf:
        return value
    return units.parse_quantity(text, kind)


def _build_init(p: _Place, args: list[str]) -> Action:
    return Init(host=args[0] if args else None, actor=p.actor, path=p.path, line=p.line)


def _build_compute(p: _Place, args: list[str]) -> Action:
    flops = p.quantity(args[0], "flops", "number of flops")
    priority = 1.0
    if len(args) > 1:
        priority = p.number(args[1], "priority")
        if priority <= 0:
            raise p.error(f"bad priority in 'compute': expected a number > 0, found {_shown(args[1])}")
    return Compute(flops, priority, actor=p.actor, path=p.path, line=p.line)


def _build_send(p: _Place, args: list[str]) -> Action:
    cls = Send if p.keyword == "send" else Isend
    return cls(args[0], p.quantity(args[1], "size", "number of bytes"), actor=p.actor, path=p.path, line=p.line)


def _build_recv(p: _Place, args: list[str]) -> Action:
    cls = Recv if p.keyword == "recv" else Irecv
    return cls(args[0], actor=p.actor, path=p.path, line=p.line)


def _build_plain(p: _Place, args: list[str]) -> Action:
    return ACTION_TYPES[p.keyword](actor=p.actor, path=p.path, line=p.line)


def _build_sleep(p: _Place, args: list[str]) -> Action:
    return Sleep(p.quantity(args[0], "time", "duration"), actor=p.actor, path=p.path, line=p.line)


def _build_vm(p: _Place, args: list[str]) -> Action:
    cls = ACTION_TYPES[p.keyword]
    return cls(args[0], actor=p.actor, path=p.path, line=p.line)


def _build_migrate(p: _Place, args: list[str]) -> Action:
    return VmMigrate(args[0], args[1], actor=p.actor, path=p.path, line=p.line)


def _build_set_bound(p: _Place, args: list[str]) -> Action:
    bound = p.quantity(args[1], "speed", "bound")
    return VmSetBound(args[0], bound or None, actor=p.actor, path=p.path, line=p.line)


# vm_create options: key -> reader of the value. Each reader raises through the place on a bad value.
def _opt_cores(p: _Place, key: str, text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise p.error(f"bad {key} in 'vm_create': expected an integer between 1 and 999999999, found {_shown(text)}")
    return int(text)


def _opt_size(p: _Place, key: str, text: str) -> float:
    return p.quantity(text, "size", key)


def _opt_bandwidth(p: _Place, key: str, text: str) -> float:
    return p.quantity(text, "bandwidth", key)


def _opt_downtime(p: _Place, key: str, text: str) -> float:
    value = p.quantity(text, "time", key)
    if value <= 0:
        raise p.error(f"bad {key} in 'vm_create': expected a duration > 0, found {_shown(text)}")
    return value


def _opt_bound(p: _Place, key: str, text: str) -> float | None:
    return p.quantity(text, "speed", key) or None


def _opt_fraction(p: _Place, key: str, text: str) -> float:
    value = p.number(text, key)
    if not 0.0 <= value <= 1.0:
        raise p.error(f"bad {key} in 'vm_create': expected a fraction in [0, 1], found {_shown(text)}")
    return value


def _opt_overhead(p: _Place, key: str, text: str) -> float:
    value = p.number(text, key)
    if value < 0:
        raise p.error(f"bad {key} in 'vm_create': expected flops per byte >= 0, found {_shown(text)}")
    return value


def _opt_bool(p: _Place, key: str, text: str) -> bool:
    value = _BOOLEANS.get(text.lower())
    if value is None:
        raise p.error(f"bad {key} in 'vm_create': expected yes, no, true, false, 1 or 0, found {_shown(text)}")
    return value


_VM_OPTIONS: Final[Mapping[str, Callable[[_Place, str, str], object]]] = {
    "cores": _opt_cores,
    "ram": _opt_size,
    "dp_intensity": _opt_fraction,
    "working_set": _opt_size,
    "mig_speed": _opt_bandwidth,
    "max_downtime": _opt_downtime,
    "bound": _opt_bound,
    "devsize": _opt_size,
    "skip_stage1": _opt_bool,
    "skip_stage2": _opt_bool,
    "xfer_cpu_overhead": _opt_overhead,
    "dpt_cpu_overhead": _opt_overhead,
}
_VM_DEFAULTS: Final[Mapping[str, object]] = {key: VmCreate.__dataclass_fields__[key].default for key in _VM_OPTIONS}


def _build_vm_create(p: _Place, args: list[str]) -> Action:
    vm, pm, *pairs = args
    given: dict[str, str] = {}
    values: dict[str, object] = {}
    for pair in pairs:
        key, eq, text = pair.partition("=")
        if not eq or not key:
            raise p.error(
                f"expected a vm_create option key=value with key one of {', '.join(_VM_OPTIONS)}, found {_shown(pair)}"
            )
        reader = _VM_OPTIONS.get(key)
        if reader is None:
            raise p.error(
                f"unknown vm_create option {_shown(key)}; expected one of {', '.join(_VM_OPTIONS)}"
                f"{_did_you_mean(key, list(_VM_OPTIONS))}"
            )
        if key in given:
            raise p.error(
                f"expected each vm_create option at most once, found {_shown(pair)} after {_shown(given[key])}"
            )
        given[key] = pair
        values[key] = reader(p, key, text)
    ram = values.get("ram", DEFAULT_RAM)
    working_set = values.get("working_set")
    if isinstance(working_set, float) and isinstance(ram, float) and working_set > ram:
        raise p.error(
            f"bad working_set in 'vm_create': expected at most ram ({_num(ram)} bytes), "
            f"found {_shown(given['working_set'].partition('=')[2])} ({_num(working_set)} bytes)"
        )
    return VmCreate(vm, pm, **values, actor=p.actor, path=p.path, line=p.line)


@dataclass(frozen=True, slots=True)
class _Grammar:
    min_args: int
    max_args: int | None  # None: no upper limit
    build: Callable[[_Place, list[str]], Action]

    def expects(self, usage: str) -> str:
        lo, hi = self.min_args, self.max_args
        if hi == 0:
            return "expects no argument"
        noun = "argument" if (hi if hi is not None else lo) == 1 else "arguments"
        if hi is None:
            return f"expects at least {lo} {noun} ({usage})"
        if lo == hi:
            return f"expects {lo} {noun} ({usage})"
        return f"expects {lo} or {hi} {noun} ({usage})"


_GRAMMAR: Final[Mapping[str, _Grammar]] = {
    "init": _Grammar(0, 1, _build_init),
    "compute": _Grammar(1, 2, _build_compute),
    "send": _Grammar(2, 2, _build_send),
    "recv": _Grammar(1, 1, _build_recv),
    "isend": _Grammar(2, 2, _build_send),
    "irecv": _Grammar(1, 1, _build_recv),
    "wait": _Grammar(0, 0, _build_plain),
    "waitall": _Grammar(0, 0, _build_plain),
    "sleep": _Grammar(1, 1, _build_sleep),
    "finalize": _Grammar(0, 0, _build_plain),
    "vm_create": _Grammar(2, None, _build_vm_create),
    **{
        op: _Grammar(1, 1, _build_vm)
        for op in ("vm_start", "vm_suspend", "vm_resume", "vm_save", "vm_restore", "vm_shutdown", "vm_destroy")
    },
    "vm_migrate": _Grammar(2, 2, _build_migrate),
    "vm_set_bound": _Grammar(2, 2, _build_set_bound),
}
assert list(_GRAMMAR) == list(ACTION_TYPES)
_KEYWORDS: Final[str] = ", ".join(_GRAMMAR)


def parse_line(text: str, path: str, line: int, extra: Collection[str] = ()) -> Action | None:
    """Parse one line of a trace; None for a blank or comment line. Raises :class:`TraceSyntaxError`.

    ``extra`` keywords (actions registered by the user) give :class:`Custom` records.
    """
    body = text.strip(_STRIP)
    if not body or body[0] == "#":
        return None
    if (bad := _BAD_CHAR.search(body)) is not None:
        column = len(text) - len(text.lstrip(_STRIP)) + bad.start() + 1
        raise TraceSyntaxError(
            f"{where(path, line)}expected printable text with tokens separated by spaces or tabs, "
            f"found character U+{ord(bad.group()):04X} at column {column}"
        )
    tokens = body.split()  # only spaces and tabs are left: same as splitting on runs of them
    actor = tokens[0]
    if len(tokens) < 2:
        raise TraceSyntaxError(
            f"{where(path, line)}expected an action after actor {_shown(actor)} (<actor> <action> [args...]), "
            "found end of line"
        )
    keyword, args = tokens[1], tokens[2:]
    grammar = _GRAMMAR.get(keyword)
    if grammar is None and keyword in extra:
        return Custom(keyword, tuple(args), actor=actor, path=path, line=line)
    if grammar is None:
        hint = _did_you_mean(keyword, list(_GRAMMAR))
        if not hint and actor in _GRAMMAR:
            hint = "; a line starts with the actor's name: <actor> <action> [args...]"
        raise TraceSyntaxError(
            f"{where(path, line)}unknown action {_shown(keyword)}; expected one of {_KEYWORDS}{hint}"
        )
    place = _Place(path, line, actor, keyword)
    if len(args) < grammar.min_args or (grammar.max_args is not None and len(args) > grammar.max_args):
        hint = ""
        if any(arg.startswith("#") for arg in args):
            hint = "; '#' starts a comment only at the start of a line"
        raise place.error(f"'{keyword}' {grammar.expects(ACTION_TYPES[keyword].usage)}, found {len(args)}{hint}")
    return grammar.build(place, args)


# ---------------------------------------------------------------------------------------------------- files


def _file_error(path: str, exc: OSError) -> TraceSyntaxError:
    if isinstance(exc, FileNotFoundError):
        found = "no such file"
    elif isinstance(exc, IsADirectoryError):
        found = "a directory"
    elif isinstance(exc, PermissionError):
        return TraceSyntaxError(f"{where(path, None)}expected a readable trace file, found no read permission")
    else:
        found = f"an error: {exc.strerror or exc}"
    return TraceSyntaxError(f"{where(path, None)}expected a trace file, found {found}")


def _open(path: str, *, regular: bool = False) -> BinaryIO:
    """Open ``path`` for binary reading; every failure is a :class:`TraceSyntaxError` naming the file.

    ``regular`` refuses pipes and devices, which cannot be read twice (sources read their files twice).
    """
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, "Is a directory", path)
        kind_ok = stat.S_ISREG(info.st_mode) or not regular
        handle = open(path, "rb") if kind_ok else None  # noqa: SIM115 - the callers close it
    except OSError as exc:
        raise _file_error(path, exc) from None
    except ValueError as exc:  # a NUL in the name
        raise TraceSyntaxError(f"{where(path, None)}expected a trace file name, found {exc}") from None
    if handle is None:
        raise TraceSyntaxError(
            f"{where(path, None)}expected a regular trace file (it is read twice: to check it, then to "
            "replay it), found a pipe or a device"
        )
    return handle


def _decode(raw: bytes, path: str, line: int) -> str:
    """One line's bytes as text, or a :class:`TraceSyntaxError` (not UTF-8, or too long)."""
    if len(raw) > _MAX_LINE and not raw.endswith(b"\n"):
        raise TraceSyntaxError(f"{where(path, line)}expected a line of at most {_MAX_LINE} bytes, found a longer one")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TraceSyntaxError(
            f"{where(path, line)}not UTF-8: expected text, found byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"
        ) from None
    return text[1:] if line == 1 and text.startswith("\ufeff") else text  # a UTF-8 byte-order mark


def _lines(path: str, handle: BinaryIO) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of every line of an open file, read one line at a time; closes the file."""
    with handle:
        number = 0
        while True:
            try:
                raw = handle.readline(_MAX_LINE + 1)
            except OSError as exc:
                raise _file_error(path, exc) from None
            if not raw:
                return
            number += 1
            yield number, _decode(raw, path, number)


def _actions(path: str, handle: BinaryIO, extra: Collection[str] = ()) -> Iterator[tuple[int, Action | None]]:
    for number, text in _lines(path, handle):
        yield number, parse_line(text, path, number, extra)


def iter_actions(path: PathArg, *, extra: Collection[str] = ()) -> Iterator[Action]:
    """Stream the actions of one trace file, in file order, one line in memory at a time.

    The file is opened at once, so a missing or unreadable file raises here rather than at the first ``next``.
    """
    name = os.fspath(path)
    handle = _open(name)
    return (action for _, action in _actions(name, handle, extra) if action is not None)


class _Cursor:
    """Where the reading pass stands in one file: byte offset and line number.

    Each refill reopens the file, seeks, reads a batch of lines and closes it, so thousands of split files never
    hold thousands of descriptors; only the batch's raw lines stay in memory.
    """

    __slots__ = ("_batch", "_eof", "_line", "_offset", "_pending", "path")

    def __init__(self, path: str, batch: int) -> None:
        self.path = path
        self._batch = batch
        self._offset = 0
        self._line = 0
        self._eof = False
        self._pending: deque[tuple[int, bytes]] = deque()

    def next_line(self) -> tuple[int, str] | None:
        if not self._pending:
            if self._eof:
                return None
            self._refill()
            if not self._pending:
                return None
        number, raw = self._pending.popleft()
        return number, _decode(raw, self.path, number)

    def _refill(self) -> None:
        with _open(self.path, regular=True) as handle:
            try:
                handle.seek(self._offset)
                for _ in range(self._batch):
                    raw = handle.readline(_MAX_LINE + 1)
                    if not raw:
                        self._eof = True
                        break
                    self._line += 1
                    self._pending.append((self._line, raw))
                    if len(raw) > _MAX_LINE and not raw.endswith(b"\n"):
                        self._eof = True  # _decode reports it; what follows is not a line
                        break
                self._offset = handle.tell()
            except OSError as exc:
                raise _file_error(self.path, exc) from None


# ---------------------------------------------------------------------------------------------------- sources


class TraceSource(ABC):
    """The actions of every actor of a trace, handed out one at a time, per actor, on demand.

    Construction reads every file once (streaming) to check every line and learn the actors and their action
    counts; :meth:`next_action` then reads lazily. Counters report progress.
    """

    mode: ClassVar[Literal["shared", "split"]]

    def __init__(self, paths: Sequence[str], extra: Collection[str] = ()) -> None:
        self.paths: tuple[str, ...] = tuple(paths)
        #: keywords of the user's own actions (parsed as :class:`Custom` records)
        self.extra = frozenset(extra)
        self._counts: dict[str, int] = {}  # actor -> actions, in order of first appearance
        self._remaining: dict[str, int] = {}
        self._lines_total = 0
        self._lines_read = 0
        self._actions_read = 0

    def actors(self) -> list[str]:
        """The actors' names, in order of first appearance (shared) or of the files (split)."""
        return list(self._counts)

    def action_count(self, actor: str) -> int:
        """How many actions ``actor`` has in the trace."""
        return self._counts[self._known(actor)]

    @property
    def total_actions(self) -> int:
        """Actions in the whole trace (known from the checking pass)."""
        return sum(self._counts.values())

    @property
    def total_lines(self) -> int:
        """Lines in the trace files, comments and blank lines included."""
        return self._lines_total

    @property
    def lines_read(self) -> int:
        """Lines consumed so far by the reading pass (comments and blank lines included)."""
        return self._lines_read

    @property
    def actions_read(self) -> int:
        """Actions handed out so far by :meth:`next_action`."""
        return self._actions_read

    def next_action(self, actor: str) -> Action | None:
        """The next action of ``actor``, or None once it has had them all (then without reading anything)."""
        remaining = self._remaining[self._known(actor)]
        if remaining == 0:
            return None
        action = self._fetch(actor)
        if action is None:
            raise TraceSyntaxError(
                f"{', '.join(self.paths)}: expected {remaining} more action(s) of actor {_shown(actor)}, "
                "found the end of the trace (the file changed while being replayed)"
            )
        self._remaining[actor] = remaining - 1
        self._actions_read += 1
        return action

    def actions_of(self, actor: str) -> Iterator[Action]:
        """Iterate over the remaining actions of ``actor``."""
        while (action := self.next_action(actor)) is not None:
            yield action

    def _known(self, actor: str) -> str:
        if actor not in self._counts:
            raise LookupFailure(f"no actor {_shown(actor)} in trace {', '.join(self.paths)}")
        return actor

    def _empty(self) -> TraceSyntaxError:
        return TraceSyntaxError(f"{where(', '.join(self.paths), None)}empty trace: no action found")

    @abstractmethod
    def _fetch(self, actor: str) -> Action | None:
        """Read on until the next action of ``actor``; None at the end of its input."""


class SharedTrace(TraceSource):
    """One trace holding the lines of every actor (several files are read as one, in order).

    The reading pass keeps a small queue per actor: asking for an actor's next action reads lines until one of
    that actor's, queueing the other actors' records for them; memory is what the actors' progress skew needs.
    """

    mode: ClassVar[Literal["shared", "split"]] = "shared"

    def __init__(self, paths: Sequence[PathArg], *, batch: int = 4096, extra: Collection[str] = ()) -> None:
        super().__init__([os.fspath(p) for p in paths], extra)
        for path in self.paths:
            for _number, action in _actions(path, _open(path, regular=True), self.extra):
                self._lines_total += 1
                if action is not None:
                    self._counts[action.actor] = self._counts.get(action.actor, 0) + 1
        if not self._counts:
            raise self._empty()
        self._remaining = dict(self._counts)
        self._queues: dict[str, deque[Action]] = {actor: deque() for actor in self._counts}
        self._buffered = 0
        self._cursors = deque(_Cursor(path, batch) for path in self.paths)

    @property
    def buffered(self) -> int:
        """Records read for other actors and not yet handed out."""
        return self._buffered

    def _fetch(self, actor: str) -> Action | None:
        queue = self._queues[actor]
        if queue:
            self._buffered -= 1
            return queue.popleft()
        while self._cursors:
            cursor = self._cursors[0]
            got = cursor.next_line()
            if got is None:
                self._cursors.popleft()
                continue
            self._lines_read += 1
            number, text = got
            action = parse_line(text, cursor.path, number, self.extra)
            if action is None:
                continue
            if action.actor == actor:
                return action
            other = self._queues.get(action.actor)
            if other is None:
                raise TraceSyntaxError(
                    f"{where(cursor.path, number)}expected one of the actors found when the trace was opened, "
                    f"found {_shown(action.actor)} (the file changed while being replayed)"
                )
            other.append(action)
            self._buffered += 1
        return None


class SplitTrace(TraceSource):
    """One file per actor. Every action line of a file must name the file's actor.

    Without ``actors``, a file belongs to the actor named by its first action, and a file without any action is
    an error (whose would it be?). With ``actors`` (from a deployment), file ``i`` belongs to ``actors[i]`` and
    may be empty, as long as the whole trace is not. SimGrid ignores a line naming another actor with a warning;
    here it is an error, since such a line is never replayed.
    """

    mode: ClassVar[Literal["shared", "split"]] = "split"

    def __init__(
        self,
        paths: Sequence[PathArg],
        *,
        actors: Sequence[str] | None = None,
        batch: int = 64,
        extra: Collection[str] = (),
    ) -> None:
        super().__init__([os.fspath(p) for p in paths], extra)
        if actors is not None and len(actors) != len(self.paths):
            raise ValueError(f"{len(self.paths)} trace files but {len(actors)} actor names")
        self._cursors: dict[str, _Cursor] = {}
        origin: dict[str, str] = {}
        for index, path in enumerate(self.paths):
            owner = None if actors is None else actors[index]
            if owner is not None and owner in origin:
                raise TraceSyntaxError(
                    f"{where(path, None)}expected one trace file per actor, found a second file for actor "
                    f"{_shown(owner)} (the first is {origin[owner]})"
                )
            first_line = 0
            count = 0
            for number, action in _actions(path, _open(path, regular=True), self.extra):
                self._lines_total += 1
                if action is None:
                    continue
                if owner is None:
                    owner, first_line = action.actor, number
                    if owner in origin:
                        raise TraceSyntaxError(
                            f"{where(path, number)}expected one trace file per actor, found a second file for "
                            f"actor {_shown(owner)} (the first is {origin[owner]})"
                        )
                elif action.actor != owner:
                    why = f"named at line {first_line}" if first_line else "the actor this file is given to"
                    raise TraceSyntaxError(
                        f"{where(path, number)}expected actor {_shown(owner)} ({why}; a split trace holds one "
                        f"actor's actions), found {_shown(action.actor)}"
                    )
                count += 1
            if owner is None:
                raise TraceSyntaxError(f"{where(path, None)}empty trace: no action found")
            origin[owner] = path
            self._counts[owner] = count
            self._cursors[owner] = _Cursor(path, batch)
        if not self.total_actions:
            raise self._empty()
        self._remaining = dict(self._counts)

    def _fetch(self, actor: str) -> Action | None:
        cursor = self._cursors[actor]
        while (got := cursor.next_line()) is not None:
            self._lines_read += 1
            number, text = got
            action = parse_line(text, cursor.path, number, self.extra)
            if action is None:
                continue
            if action.actor != actor:
                raise TraceSyntaxError(
                    f"{where(cursor.path, number)}expected actor {_shown(actor)}, found {_shown(action.actor)} "
                    "(the file changed while being replayed)"
                )
            return action
        return None


def open_trace(
    paths: Sequence[PathArg] | PathArg,
    *,
    split: bool | None = None,
    actors: Sequence[str] | None = None,
    extra: Collection[str] = (),
) -> TraceSource:
    """Open a trace: one file is shared mode, several are split mode, unless ``split`` says otherwise.

    ``actors`` (split mode only) names the actor of each file, as a deployment's ``<argument value=...>`` does.
    ``split=False`` with several files reads them as one shared trace, in order. ``extra`` names the keywords of
    actions the user registers on the replayer (read as :class:`Custom` records).
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    if not paths:
        raise TraceSyntaxError("expected at least one trace file, found none")
    if actors is not None:
        if split is False:
            raise ValueError("actor names are given per file: split mode only")
        return SplitTrace(paths, actors=actors, extra=extra)
    if split is None:
        split = len(paths) > 1
    if split:
        return SplitTrace(paths, extra=extra)
    return SharedTrace(paths, extra=extra)
