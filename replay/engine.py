"""The clock: an event heap, fluid activities on shared resources, and incremental re-solving.

Only the engine moves simulated time. Between two events every running activity progresses at a constant rate,
the weighted max-min share that :func:`replay.solver.solve` gives it, so the engine never steps the whole world:

* An activity keeps ``remaining`` as of ``last`` and its ``rate``; its work is settled lazily, only when its rate
  changes or it completes. Its predicted completion sits in the heap keyed ``(time, seq)``. When a new rate makes
  it earlier, a new entry is pushed and the activity's ``version`` bumped, so the old entry is skipped when popped
  (lazy invalidation, never a search); when it makes it later, the old entry stays and, when it comes up, the
  activity is found unfinished and re-predicted.
* A change (an activity starts, ends, is suspended, changes penalty or bound; a resource changes capacity) marks its
  resources *dirty*. Before the clock moves again, the engine re-solves only the connected component of the dirty
  resources (resources linked by shared activities), and only activities whose rate really changed get a new heap
  entry. The cost of one event therefore depends on what it touches, not on the number of unrelated activities.
* Resources have a ``layer``: a VM's CPU is a resource whose capacity is the rate of the VM on its PM, so layer 0
  (PMs, links) is solved before layer 1 (VMs), and a rate change on layer 0 can dirty layer 1 through the
  ``on_rate`` hook of an activity.
* Ties break by insertion order (``seq`` from :func:`itertools.count`), so runs are deterministic. Events due within
  ``PRECISION`` of the clock are handled together, as SimGrid does with its surf precision.
* *Background* timers (resource profiles, random failures) never keep the run going by themselves: they fire in
  date order, before the activities and timers of the same date (as SimGrid applies profile events before the
  actions they affect), as long as some other event remains, or while ``stalled()`` says that work is blocked
  that such a timer could unblock (an execution on a host whose speed is 0). The run ends when only background
  timers remain and nothing is stalled.
* The clock is a double: far from 0, it cannot represent small advances (at 1e16 s its resolution is 2 s). Work
  whose remaining duration is below the clock's resolution at the current date completes at that date, as
  events closer than the precision do; a date past the largest double, or a rate that is not a number, is a
  :class:`~replay.errors.ClockError` naming the activity, never a silent loop.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import math
from collections.abc import Callable, Iterable
from typing import Any

from replay.errors import ClockError
from replay.events import ResourceKind, ResourceUsed
from replay.solver import solve
from replay.units import Seconds

#: The engine's one tolerance (SimGrid's ``surf/precision``): events closer than this many seconds are
#: simultaneous, and an activity whose remaining work is below this fraction of its amount (or would take less
#: than this many seconds at its rate) is done.
PRECISION = 1e-9

#: Background timers handled in a row with no other event to come before the run gives up on stalled work (a
#: periodic profile that never gives it a chance would otherwise turn forever).
IDLE_BACKGROUND = 100_000

#: Allocations between two collections of the youngest generation during a run (Python's default: 700).
GC_THRESHOLD = 100_000


class Resource:
    """A constraint of the sharing problem: a CPU, a link direction, a VM's share of its PM.

    ``kind`` only labels it for tracers (None: not reported); ``used`` is the rate last reported to them (the
    sum of weight x rate over its activities).
    """

    __slots__ = ("activities", "capacity", "kind", "layer", "meter", "name", "shared", "used")

    def __init__(
        self, name: str, capacity: float, *, shared: bool = True, layer: int = 0, kind: ResourceKind | None = None
    ) -> None:
        self.name = name
        self.capacity = capacity
        self.shared = shared
        self.layer = layer
        self.kind = kind
        self.used = 0.0
        #: called with the resource after every re-solve that may have changed its usage (see Engine.meter)
        self.meter: Callable[[Resource], None] | None = None
        #: activities using this resource, with their consumption per unit of rate (insertion-ordered)
        self.activities: dict[Activity, float] = {}

    def usage(self) -> float:
        """The rate used now, as SimGrid's ``Constraint::get_usage`` counts it: the sum of weight x rate over the
        activities, or on a FATPIPE (not shared) resource the largest of them."""
        if self.shared:
            return sum((weight * activity.rate for activity, weight in self.activities.items()), 0.0)
        return max((weight * activity.rate for activity, weight in self.activities.items()), default=0.0)

    def __repr__(self) -> str:
        return f"Resource({self.name!r}, {self.capacity:g})"


class Activity:
    """Some work (flops, bytes, or nothing but a wait) done at the rate the sharing problem gives it.

    ``uses`` lists ``(resource, weight)`` pairs; ``penalty`` is the sharing penalty (0 = takes no share);
    ``bound`` caps the rate (``inf``: none). ``on_done(activity)`` is called when the work is finished;
    ``on_rate(activity)`` whenever its rate changes (used by VMs to pass their share to their own CPU).
    """

    __slots__ = (
        "amount",
        "bound",
        "done",
        "due",
        "last",
        "meta",
        "name",
        "on_done",
        "on_rate",
        "penalty",
        "rate",
        "remaining",
        "started",
        "suspended",
        "uses",
        "version",
    )

    def __init__(
        self,
        name: str,
        amount: float,
        uses: Iterable[tuple[Resource, float]] = (),
        *,
        penalty: float = 1.0,
        bound: float = math.inf,
        on_done: Callable[[Activity], None] | None = None,
        on_rate: Callable[[Activity], None] | None = None,
    ) -> None:
        self.name = name
        self.amount = amount
        self.remaining = amount
        self.uses = tuple(uses)
        self.penalty = penalty
        self.bound = bound
        self.on_done = on_done
        self.on_rate = on_rate
        self.rate = 0.0
        self.last: Seconds = 0.0
        self.version = 0
        #: whatever the model that made the activity keeps with it (a transfer's route and ends)
        self.meta: Any = None
        #: the date of the activity's live heap entry (``inf``: none)
        self.due = math.inf
        self.started = False
        self.suspended = False
        self.done = False

    def __repr__(self) -> str:
        return f"Activity({self.name!r}, remaining={self.remaining:g}, rate={self.rate:g})"


class Timer:
    """A callback at a date; cancelling it just marks it so that its heap entry is skipped."""

    __slots__ = ("callback", "cancelled", "time")

    def __init__(self, time: Seconds, callback: Callable[[], None]) -> None:
        self.time = time
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Engine:
    """Owns the clock and the set of running activities; see the module docstring for the algorithm."""

    def __init__(self) -> None:
        self.now: Seconds = 0.0
        self._heap: list[tuple[float, int, Any, int]] = []
        self._seq = itertools.count()
        self._dirty: dict[int, dict[Resource, None]] = {}
        self._listeners: list[Callable[[Any], None]] = []
        #: callables run once the clock has settled at a date, after the events of that date (actor scheduler)
        self._after_events: list[Callable[[], None]] = []
        self.events_processed = 0
        self._metered = False
        #: timers that do not keep the run going by themselves (see the module docstring)
        self._background: list[tuple[float, int, Timer]] = []
        #: whether work is blocked that only a background timer can unblock (set by the simulation)
        self.stalled: Callable[[], bool] = lambda: False

    # -- observers -------------------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Any], None]) -> None:
        """Call ``listener(record)`` for every record emitted (see :mod:`replay.events`)."""
        self._listeners.append(listener)

    def emit(self, record: Any) -> None:
        for listener in self._listeners:
            listener(record)

    @property
    def traced(self) -> bool:
        """True when someone listens: models build event records only then, so tracing off costs one check."""
        return bool(self._listeners)

    def meter(self, resource: Resource, callback: Callable[[Resource], None]) -> None:
        """Call ``callback(resource)`` each time the problem holding ``resource`` is re-solved (energy meters, the
        policies' usage monitor); a second meter of a resource is called after the first."""
        first = resource.meter
        if first is None:
            resource.meter = callback
        else:
            def both(r: Resource) -> None:
                first(r)
                callback(r)

            resource.meter = both
        self._metered = True

    @property
    def settled(self) -> bool:
        """Whether every rate is up to date (no re-solve pending): what an after-events hook that reads rates waits
        for, since the hooks run again after each re-solve."""
        return not self._dirty

    def after_events(self, hook: Callable[[], None]) -> None:
        """Run ``hook()`` each time the events of a date have been handled (before the next solve)."""
        self._after_events.append(hook)

    # -- timers ----------------------------------------------------------------------------------------------
    def schedule(self, delay: Seconds, callback: Callable[[], None], *, background: bool = False) -> Timer:
        """Call ``callback()`` after ``delay`` seconds of simulated time (a ``background`` timer does not keep the
        run going by itself: see the module docstring)."""
        when = self.now + max(delay, 0.0)
        if background or not when < math.inf:
            return self.at(when, callback, background=background, delay=delay)
        timer = Timer(when, callback)
        heapq.heappush(self._heap, (when, next(self._seq), timer, 0))
        return timer

    def at(
        self, when: Seconds, callback: Callable[[], None], *, background: bool = False, delay: Seconds | None = None
    ) -> Timer:
        """Call ``callback()`` at the date ``when`` (not before now), exactly (see :meth:`schedule`)."""
        when = max(when, self.now)
        if delay is None:
            delay = when - self.now
        if not when < math.inf:
            raise ClockError(f"cannot wait {delay!r} s from t={self.now!r}: the date is past the largest the clock "
                             "can hold")
        timer = Timer(when, callback)
        if background:
            heapq.heappush(self._background, (timer.time, next(self._seq), timer))
        else:
            heapq.heappush(self._heap, (timer.time, next(self._seq), timer, 0))
        return timer

    # -- activities ------------------------------------------------------------------------------------------
    def start(self, activity: Activity) -> None:
        """Let ``activity`` take its share from now on."""
        activity.started = True
        activity.last = self.now
        if not activity.uses:
            self._free_rate(activity)
            return
        for resource, weight in activity.uses:
            resource.activities[activity] = weight
            self._mark(resource)

    def cancel(self, activity: Activity) -> None:
        """Stop ``activity`` without calling its ``on_done``; its remaining work is settled first."""
        if activity.done or not activity.started:
            activity.done = True
            return
        self._settle(activity)
        self._detach(activity)

    def suspend(self, activity: Activity) -> None:
        """Freeze ``activity``: it keeps its remaining work and takes no share until resumed."""
        if activity.suspended or activity.done:
            return
        activity.suspended = True
        if activity.started:
            self._settle(activity)
            self._set_rate(activity, 0.0)
            self._touch(activity)

    def resume(self, activity: Activity) -> None:
        if not activity.suspended or activity.done:
            return
        activity.suspended = False
        if activity.started:
            activity.last = self.now
            if not activity.uses:
                self._free_rate(activity)
            self._touch(activity)

    def set_penalty(self, activity: Activity, penalty: float) -> None:
        if penalty != activity.penalty:
            activity.penalty = penalty
            self._touch(activity)

    def set_bound(self, activity: Activity, bound: float) -> None:
        if bound != activity.bound:
            activity.bound = bound
            if activity.started and not activity.uses:
                self._free_rate(activity)
            self._touch(activity)

    def touch(self, resource: Resource) -> None:
        """Have the problem holding ``resource`` re-solved before the clock moves on (its meter is told)."""
        self._mark(resource)

    def set_capacity(self, resource: Resource, capacity: float) -> None:
        if capacity != resource.capacity:
            resource.capacity = capacity
            self._mark(resource)

    def done_work(self, activity: Activity) -> float:
        """The work done so far (settling the lazy bookkeeping first)."""
        return activity.amount - self.remaining(activity)

    def remaining(self, activity: Activity) -> float:
        """The work left now (settling the lazy bookkeeping first)."""
        if activity.started and not activity.done:
            self._settle(activity)
        return activity.remaining

    # -- the loop --------------------------------------------------------------------------------------------
    def run(self, until: Seconds | None = None) -> Seconds:
        """Handle events until none is left (or the clock would pass ``until``); return the clock.

        ``until`` may not be in the past. A run allocates many small, short-lived objects among many long-lived
        ones: Python's cyclic collector, at its default thresholds, would spend up to 40 % of a 100,000-activity
        run scanning them, so the run raises the first threshold, and gives the process its own back when it
        returns or raises.
        """
        if until is not None and not until >= self.now:
            raise ValueError(f"cannot run until {until!r}: the clock is already at {self.now!r}")
        thresholds = gc.get_threshold()
        gc.set_threshold(max(thresholds[0], GC_THRESHOLD), *thresholds[1:])
        try:
            return self._run(until)
        finally:
            gc.set_threshold(*thresholds)

    def _run(self, until: Seconds | None) -> Seconds:
        self._flush()
        heap = self._heap
        background = self._background
        idle = 0  # background timers in a row with nothing else to do
        while True:
            while heap and _stale(heap[0]):
                heapq.heappop(heap)
            while background and background[0][2].cancelled:
                heapq.heappop(background)
            if heap:
                idle = 0
                date = heap[0][0]
                if background and background[0][0] < date:
                    date = background[0][0]
            elif background and idle < IDLE_BACKGROUND and self.stalled():
                idle += 1
                date = background[0][0]
            else:
                break
            if until is not None and date > until:
                self.now = until
                break
            if date > self.now:
                self.now = date
            horizon = self.now + PRECISION
            while background and background[0][0] <= horizon:
                timer = heapq.heappop(background)[2]
                if not timer.cancelled:
                    self.events_processed += 1
                    timer.callback()
            while heap and heap[0][0] <= horizon:
                entry = heapq.heappop(heap)
                if _stale(entry):
                    continue
                item = entry[2]
                if isinstance(item, Timer):
                    self.events_processed += 1
                    item.callback()
                else:
                    self._due(item)
            self._flush()
        return self.now

    def _flush(self) -> None:
        """Run the after-events hooks and re-solve until nothing is dirty."""
        while True:
            for hook in self._after_events:
                hook()
            if not self._dirty:
                return
            layer = min(self._dirty)
            self._resolve(self._dirty.pop(layer))

    # -- internals -------------------------------------------------------------------------------------------
    def _mark(self, resource: Resource) -> None:
        self._dirty.setdefault(resource.layer, {})[resource] = None

    def _touch(self, activity: Activity) -> None:
        if activity.started and not activity.done:
            for resource, _ in activity.uses:
                self._mark(resource)

    def _settle(self, activity: Activity) -> None:
        if activity.rate > 0.0:
            activity.remaining -= activity.rate * (self.now - activity.last)
            if activity.remaining < 0.0:
                activity.remaining = 0.0
        activity.last = self.now

    def _set_rate(self, activity: Activity, rate: float) -> None:
        """Give ``activity`` a new rate (its work already settled) and predict its completion.

        Only a prediction earlier than the activity's entry in the heap needs a new entry; a later one waits for
        that entry to come up, which then re-predicts (see :meth:`_due`). Slowing down, the common case when
        activities arrive, costs no heap operation.
        """
        if rate != rate:  # NaN
            raise ClockError(f"activity {activity.name!r} got a rate that is not a number at t={self.now!r}", activity)
        activity.rate = rate
        if math.isinf(activity.remaining):  # a share that never ends (a VM's variable on its PM)
            pass
        elif rate > 0.0:
            if activity.remaining <= PRECISION * activity.amount:
                self._push(activity, self.now)
            else:
                when = self.now + activity.remaining / rate
                if when == math.inf:
                    raise ClockError(
                        f"activity {activity.name!r} would end past the largest date the clock can hold "
                        f"({activity.remaining:g} left at {rate:g}/s from t={self.now:g})", activity
                    )
                if when < activity.due:
                    self._push(activity, when)
        elif activity.remaining <= 0.0 and not activity.suspended and activity.penalty > 0.0:
            self._push(activity, self.now)
        if activity.on_rate is not None:
            activity.on_rate(activity)

    def _push(self, activity: Activity, when: Seconds) -> None:
        """Make ``when`` the activity's one live heap entry (older ones become stale)."""
        activity.version += 1
        activity.due = when
        heapq.heappush(self._heap, (when, next(self._seq), activity, activity.version))

    def _due(self, activity: Activity) -> None:
        """The activity's entry came up: it completes, or (having slowed down since) gets its real date."""
        self._settle(activity)
        left = activity.remaining
        rate = activity.rate
        if left <= PRECISION * activity.amount or (
            rate > 0.0 and (left <= rate * PRECISION or self.now + left / rate <= self.now)
        ):
            # done, or done within the time tolerance that groups this date's events, or within the clock's
            # resolution at this date
            self.events_processed += 1
            self._complete(activity)
            return
        activity.due = math.inf
        if rate > 0.0:
            self._push(activity, self.now + left / rate)

    def _free_rate(self, activity: Activity) -> None:
        """An activity on no resource runs at its bound (instantly when unbounded)."""
        self._settle(activity)
        if activity.suspended or activity.penalty <= 0.0:
            self._set_rate(activity, 0.0)
        elif math.isinf(activity.bound):
            activity.remaining = 0.0
            self._push(activity, self.now)
        else:
            self._set_rate(activity, activity.bound)

    def _detach(self, activity: Activity) -> None:
        activity.done = True
        activity.version += 1
        activity.rate = 0.0
        for resource, _ in activity.uses:
            del resource.activities[activity]
            self._mark(resource)

    def _complete(self, activity: Activity) -> None:
        self._settle(activity)
        activity.remaining = 0.0
        self._detach(activity)
        if activity.on_done is not None:
            activity.on_done(activity)

    def _resolve(self, dirty: dict[Resource, None]) -> None:
        """Re-solve the connected component of the dirty resources of one layer."""
        resources: dict[Resource, int] = {}
        activities: dict[Activity, int] = {}
        stack = list(dirty)
        for resource in stack:
            resources[resource] = len(resources)
        while stack:
            resource = stack.pop()
            for activity in resource.activities:
                if activity not in activities:
                    activities[activity] = len(activities)
                    for other, _ in activity.uses:
                        if other not in resources:
                            resources[other] = len(resources)
                            stack.append(other)
        if activities:
            self._solve(resources, activities)
        if self._listeners or self._metered:
            self._report_usage(resources)

    def _report_usage(self, resources: Iterable[Resource]) -> None:
        """Tell the meters of these resources, and emit a usage record for every resource whose used rate changed
        (the sum of weight x rate, as SimGrid's tracing adds up the actions of a resource)."""
        listeners = self._listeners
        for resource in resources:
            if resource.meter is not None:
                resource.meter(resource)
            if listeners:
                used = sum((weight * activity.rate for activity, weight in resource.activities.items()), 0.0)
                if used != resource.used:
                    resource.used = used
                    if resource.kind is not None:
                        self.emit(ResourceUsed(self.now, resource.kind, resource.name, used))

    def _solve(self, resources: dict[Resource, int], activities: dict[Activity, int]) -> None:
        elem_var: list[int] = []
        elem_cnst: list[int] = []
        elem_weight: list[float] = []
        for resource, j in resources.items():
            for activity, weight in resource.activities.items():
                elem_var.append(activities[activity])
                elem_cnst.append(j)
                elem_weight.append(weight)
        capacity = [r.capacity for r in resources]
        shared = [r.shared for r in resources]
        penalty = [0.0 if a.suspended else a.penalty for a in activities]
        bound = [a.bound for a in activities]
        rates = solve(capacity, shared, elem_var, elem_cnst, elem_weight, penalty, bound)
        for activity, rate in zip(activities, rates.tolist(), strict=True):
            if rate != activity.rate:
                self._settle(activity)
                self._set_rate(activity, rate)


def _stale(entry: tuple[float, int, Any, int]) -> bool:
    """A heap entry whose timer was cancelled or whose activity's prediction was superseded."""
    item = entry[2]
    if isinstance(item, Timer):
        return item.cancelled
    return entry[3] != item.version or item.done
