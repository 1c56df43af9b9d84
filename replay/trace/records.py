"""The actions of a trace: the record base class, the context handlers get, and the registry of actions.

An action is a frozen record class that says everything about itself, declared once in a registry::

    @ACTIONS.declare
    @dataclass(frozen=True, slots=True)
    class Sleep(Action):
        '''Do nothing for ``duration`` seconds of simulated time.'''

        keyword: ClassVar[str] = "sleep"           # the trace's word
        usage: ClassVar[str] = "<seconds>"         # its arguments (and so its arity)
        duration: Seconds                          # the record's fields

        @classmethod
        def parse(cls, p, args):                   # the grammar: tokens -> record
            return cls(p.quantity(args[0], "time", "duration"), **p.origin)

        def run(self, ctx):                        # the handler: record -> API calls
            yield ctx.actor.sleep(self.duration)

``check(walk)`` adds the static check (:mod:`replay.trace.checks`) and ``_args`` writes the record back as a line.
A :class:`Registry` maps keywords to declared actions. The built-in ones are declared by subject in
:mod:`replay.trace.actor_actions`, :mod:`replay.trace.host_actions` and :mod:`replay.trace.vm_actions`, and
gathered in :data:`replay.trace.builtin.BUILTIN`; a copy of it with the user's own declarations extends the
language (``BUILTIN.copy()``, then ``@registry.declare``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Self

from replay.errors import TraceSyntaxError, did_you_mean, where
from replay.lifecycle import VmOperation
from replay.trace.checks import TraceCheck
from replay.trace.grammar import Place, arity, expects, shown, tokens
from replay.variables import substitute

if TYPE_CHECKING:  # what handlers get: reading and checking a trace (replay validate) needs no simulation
    from replay.actors import Actor
    from replay.process import Request, Steps
    from replay.simulation import Simulation

Op = VmOperation


class ReplayContext:
    """What a handler may use: the simulation, the actor, and the actor's pending asynchronous requests.

    One lives as long as its actor, so it holds no more than it must: ``pending`` is made on first use (an empty
    deque costs 760 bytes, and most actors never post an ``isend`` or ``irecv``).
    """

    __slots__ = ("_pending", "actor", "sim")

    def __init__(self, sim: Simulation, actor: Actor, pending: deque[Request] | None = None) -> None:
        self.sim = sim
        self.actor = actor
        self._pending = pending

    @property
    def pending(self) -> deque[Request]:
        """The actor's ``isend`` and ``irecv`` requests not waited for yet, oldest first."""
        if self._pending is None:
            self._pending = deque()
        return self._pending

    def __repr__(self) -> str:
        return f"ReplayContext({self.actor!r})"


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

    @property
    def location(self) -> str:
        """``file:line: ``, where the action was read, as a message's prefix."""
        return f"{self.path}:{self.line}: "

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        """The record of a line whose arguments are ``args`` (their count already matches ``usage``)."""
        return cls(**p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> Steps | Request | None:
        """Do the action: call the API, and yield the requests the actor blocks on (a generator; its return value
        is what the action gives back), or return the one request it blocks on (it then gives back nothing), or
        None (nothing to wait for). Returning the request spares a generator per waiting actor."""
        raise NotImplementedError(f"action {self.keyword!r} declares no run()")

    def check(self, walk: TraceCheck) -> None:
        """Ask ``walk`` about the names and VM states this action needs (nothing by default)."""

    def to_line(self) -> str:
        """The trace line that parses back to this record (quantities in base units; a ``$`` written ``$$``)."""
        line = " ".join((self.actor, self.keyword, *self._args()))
        return line.replace("$", "$$") if "$" in line else line

    def _args(self) -> tuple[str, ...]:
        return ()


class Registry:
    """The actions a trace may use, by keyword, in the order they were declared."""

    def __init__(self, actions: Iterable[type[Action]] = (), variables: Mapping[str, str] | None = None) -> None:
        self._actions: dict[str, type[Action]] = {}
        self._arity: dict[str, tuple[int, int | None]] = {}
        #: the values of the trace's ``$name`` variables (:mod:`replay.variables`)
        self.variables: Mapping[str, str] = dict(variables or {})
        for action in actions:
            self.declare(action)

    def declare(self, action: type[Action]) -> type[Action]:
        """Add ``action`` (usable as a class decorator); its keyword must be new here."""
        if not action.keyword or action.keyword in self._actions:
            raise ValueError(f"cannot declare action {action.__name__}: keyword {action.keyword!r} is empty or taken")
        self._arity[action.keyword] = arity(action.usage)
        self._actions[action.keyword] = action
        return action

    def copy(self) -> Registry:
        """A registry with the same actions, to extend without changing this one."""
        return Registry(self._actions.values(), self.variables)

    def with_variables(self, variables: Mapping[str, str]) -> Registry:
        """This registry's actions, reading lines with ``variables`` set."""
        return Registry(self._actions.values(), variables)

    def __contains__(self, keyword: object) -> bool:
        return keyword in self._actions

    def __getitem__(self, keyword: str) -> type[Action]:
        return self._actions[keyword]

    def __iter__(self) -> Iterator[type[Action]]:
        return iter(self._actions.values())

    def parse_line(self, text: str, path: str, line: int, names: dict[str, str] | None = None) -> Action | None:
        """Parse one line of a trace; None for a blank or comment line. Raises :class:`TraceSyntaxError`.

        ``names``: the names seen so far, to share (see :func:`~replay.trace.grammar.tokens`)."""
        if "$" in text and not text.lstrip().startswith("#"):
            text = substitute(text, self.variables, path, line)
        words = tokens(text, path, line, names)
        if words is None:
            return None
        actor, keyword, args = words[0], words[1], words[2:]
        action = self._actions.get(keyword)
        if action is None:
            hint = did_you_mean(keyword, list(self._actions))
            if not hint and actor in self._actions:
                hint = "; a line starts with the actor's name: <actor> <action> [args...]"
            raise TraceSyntaxError(
                f"{where(path, line)}unknown action {shown(keyword)}; expected one of {', '.join(self._actions)}{hint}"
            )
        place = Place(path, line, actor, keyword)
        lo, hi = self._arity[keyword]
        if len(args) < lo or (hi is not None and len(args) > hi):
            hint = "; '#' starts a comment only at the start of a line" if any(a.startswith("#") for a in args) else ""
            raise place.error(f"'{keyword}' {expects(action.usage)}, found {len(args)}{hint}")
        return action.parse(place, args)
