"""Requests and processes: what simulated code waits for, and the one driver that runs it (SimPy's ``Process``).

Simulated code is a generator that yields :class:`Request` objects: each yield blocks it until the request is
done, then the request's value is sent back in (or its error thrown in). A :class:`Process` runs such a generator
step by step, and is itself a request, done with the generator's return value, so that one process can wait for
another (an actor for the migration it started). A long protocol is sub-generators joined with ``yield from``.

Every process, actor or migration, is run by :class:`Process`. What differs is *when* a process whose request is
done runs again, its ``wake`` policy: at once (a migration's next stage starts in the same instant its transfer
ends) or through the actor scheduler's queue (actors run in the order they were woken, after the events of the
date; see :mod:`replay.actors`).

A request also knows how to pause, resume and cancel the work behind it on behalf of a waiter that is suspended
(its VM frozen) or killed; a bare :class:`Wait` has no work of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import Any

from replay.engine import Engine, Timer
from replay.units import Seconds

#: What simulated code is: a generator yielding requests, returning a value at the end.
Steps = Generator["Request", Any, Any]

#: What a finished process holds instead of its generator: a generator's memory (its frame) lives as long as the
#: generator object does, and a run keeps its processes (its actors) to the end.
ENDED: Steps = (request for request in ())
next(ENDED, None)


class Request:
    """Something to wait for; done once, with a value, or failed with an error raised in the waiter."""

    __slots__ = ("done", "error", "value", "waiters")

    def __init__(self) -> None:
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None
        #: called when done: none, one, or a list of several (most requests get one waiter, many none, and a list
        #: would cost 64 bytes on every one)
        self.waiters: Callable[[Request], None] | list[Callable[[Request], None]] | None = None

    def describe(self) -> str:
        """What is waited for, for a deadlock report."""
        return type(self).__name__.lower()

    def then(self, callback: Callable[[Request], None]) -> None:
        """Call ``callback(self)`` when done (at once if it already is)."""
        waiters = self.waiters
        if self.done:
            callback(self)
        elif waiters is None:
            self.waiters = callback
        elif type(waiters) is list:
            waiters.append(callback)
        else:
            self.waiters = [waiters, callback]

    def finish(self, value: Any = None) -> None:
        if self.done:
            return
        self.done = True
        self.value = value
        waiters = self.waiters
        if waiters is None:
            return
        self.waiters = None
        if type(waiters) is list:
            for waiter in waiters:
                waiter(self)
        else:
            waiters(self)

    def fail(self, error: BaseException) -> None:
        """End the request with ``error``: every process waiting on it gets the exception raised at its ``yield``."""
        if not self.done:
            self.error = error
            self.finish(None)

    # -- on behalf of a waiter that is frozen or killed (nothing to do for a request without work of its own) --
    def pause(self, waiter: Any) -> None:
        """Freeze the work behind the request: ``waiter`` is suspended."""

    def unpause(self, waiter: Any) -> None:
        """Let the work go on again: ``waiter`` is resumed."""

    def cancel(self) -> None:
        """Stop the work behind the request for good: its waiter is killed."""


class Wait(Request):
    """Something outside the waiter (a VM start, a save, a migration) that it blocks on; ``what`` says what."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def describe(self) -> str:
        return self.what


class Sleep(Request):
    """A wait of ``duration`` simulated seconds (it goes on while its waiter is suspended, as in SimGrid)."""

    __slots__ = ("duration", "timer")

    def __init__(self, engine: Engine, duration: Seconds) -> None:
        if not duration >= 0:
            raise ValueError(f"a sleep duration must be non-negative, got {duration!r}")
        super().__init__()
        self.duration = duration
        self.timer: Timer = engine.schedule(duration, self.finish)

    def describe(self) -> str:
        return f"sleep({self.duration:g} s)"

    def cancel(self) -> None:
        self.timer.cancel()


class AllOf(Request):
    """Done when every one of its requests is; value: their values in order. As SimGrid's ``wait_all`` waits
    them one after the other, it fails with the error of the first one that failed, as soon as those before it
    are done."""

    __slots__ = ("next", "parts")

    def __init__(self, parts: Iterable[Request]) -> None:
        super().__init__()
        self.parts = tuple(parts)
        self.next = 0  # the parts before it are done, without error
        self._check(None)
        for part in self.parts:
            if not part.done:
                part.then(self._check)

    def _check(self, _: Request | None) -> None:
        parts = self.parts
        while self.next < len(parts) and parts[self.next].done:
            error = parts[self.next].error
            if error is not None:
                self.fail(error)
                return
            self.next += 1
        if self.next == len(parts):
            self.finish([part.value for part in parts])

    def describe(self) -> str:
        waiting = [p.describe() for p in self.parts if not p.done]
        return "all of [" + "; ".join(waiting) + "]"


class AnyOf(Request):
    """Done when one of its requests is; value: the index of the first one done (if it failed: its error, as
    SimGrid's ``wait_any`` raises it)."""

    __slots__ = ("parts",)

    def __init__(self, parts: Iterable[Request]) -> None:
        super().__init__()
        self.parts = tuple(parts)
        for index, part in enumerate(self.parts):
            part.then(lambda done, i=index: self.fail(done.error) if done.error is not None else self.finish(i))

    def describe(self) -> str:
        return "any of [" + "; ".join(p.describe() for p in self.parts) + "]"


class Process(Request):
    """Runs ``steps``, a generator of requests; done with its return value (see the module docstring).

    :meth:`wake` is called when the request the process waits on is done, and must eventually call
    :meth:`step`; here the process steps at once, and a subclass may wait (the actors). An exception the generator
    raises fails the process when someone waits on it, and otherwise goes up to whoever stepped it (it ends the
    run). ``name`` appears in messages. ``steps`` may come later (:meth:`bind`): an actor's code starts only when
    it runs.
    """

    __slots__ = ("name", "steps", "waiting")

    def __init__(self, name: str, steps: Steps | None = None) -> None:
        super().__init__()
        self.name = name
        #: the request the process is blocked on
        self.waiting: Request | None = None
        self.steps: Steps | None = None
        if steps is not None:
            self.bind(steps)

    def bind(self, steps: Steps) -> None:
        """The generator to run."""
        self.steps = steps

    def describe(self) -> str:
        return self.name

    def step(self, request: Request | None = None) -> None:
        """Run the generator until it yields a request not yet done (``request``: the one just done, if any)."""
        if self.done:
            return
        steps: Steps = self.steps  # type: ignore[assignment]
        try:
            if request is None:
                step = steps.send(None)
            elif request.error is None:
                step = steps.send(request.value)
            else:
                step = steps.throw(request.error)
        except StopIteration as stop:
            self.waiting = None
            self.steps = ENDED
            self.finish(stop.value)
            return
        except Exception as error:
            self.waiting = None
            self.steps = ENDED
            if not self.waiters:
                raise
            self.fail(error)
            return
        if not isinstance(step, Request):
            raise TypeError(f"{type(self).__name__.lower()} {self.name!r} yielded {step!r}; simulated code must yield "
                            "requests")
        self.waiting = step
        step.then(self)

    def __call__(self, request: Request) -> None:
        """A process is the callback of the request it waits on, which calls :meth:`wake` (``then(self)`` rather
        than ``then(self.wake)``, a bound method per wait)."""
        self.wake(request)

    def wake(self, request: Request) -> None:
        """The request the process waits on is done: run on now."""
        self.step(request)

    def interrupt(self, error: BaseException | None = None, value: Any = None) -> None:
        """Stop for good: close the generator and end the process (failed with ``error`` when given, else done
        with ``value``)."""
        if self.done:
            return
        self.waiting = None
        if self.steps is not None:
            self.steps.close()
            self.steps = ENDED
        if error is None:
            self.finish(value)
        else:
            self.fail(error)
