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
  Two refinements keep a cluster's backbone from tying every flow to every other. A network link that cannot
  be saturated, and was not by the last solve, links nothing (:func:`_couples`): a component stops at it. A
  saturated link whose many activities all sit at its level becomes a *pool*
  (:class:`~replay.activities.Bottleneck`): one heap entry and one virtual clock for all of them, an arrival or
  departure in O(log n); the engine checks after each change that nothing else would hold a member back, and
  dissolves the pool (back to a plain re-solve) the moment something would.
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

import contextlib
import gc
import heapq
import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from replay.activities import MIN_MEMBERS, Activity, Bottleneck, Resource, Timer, can_form, find_root
from replay.errors import ClockError
from replay.events import ResourceKind, ResourceUsed
from replay.solver import SMALL, solve, solve_small
from replay.units import Seconds

#: The engine's one tolerance (SimGrid's ``surf/precision``): events closer than this many seconds are
#: simultaneous, and an activity whose remaining work is below this fraction of its amount (or would take less
#: than this many seconds at its rate) is done.
PRECISION = 1e-9

#: Background timers handled in a row with no other event to come before the run gives up on stalled work (a
#: periodic profile that never gives it a chance would otherwise turn forever).
IDLE_BACKGROUND = 100_000

#: The heap's smallest length at which its stale entries are swept out.
HEAP_SWEEP = 100_000

#: Allocations between two collections of the youngest generation during a run (Python's default: 700).
GC_THRESHOLD = 100_000


class Engine:
    """Owns the clock and the set of running activities; see the module docstring for the algorithm."""

    def __init__(self) -> None:
        self.now: Seconds = 0.0
        self._heap: list[tuple[float, int, Any, int]] = []
        #: the heap's length beyond which its stale entries are swept out (see _sweep)
        self._heap_limit = HEAP_SWEEP
        self._seq = itertools.count()
        #: per layer, the resources to re-solve: True when all their activities may change (capacity), False when
        #: only through the activities that changed (``_changed``) or left
        self._dirty: dict[int, dict[Resource, bool]] = {}
        self._changed: dict[int, dict[Activity, None]] = {}
        #: pools whose members changed (their level must be recomputed), and pools to check before moving on
        self._touched: dict[Bottleneck, None] = {}
        self._checks: dict[Bottleneck, None] = {}
        self._listeners: list[Callable[[Any], None]] = []
        #: callables run once the clock has settled at a date, after the events of that date (actor scheduler)
        self._after_events: list[Callable[[], None]] = []
        self.events_processed = 0
        #: pools formed and dissolved so far (see replay.activities): what the benchmarks report
        self.pools_formed = 0
        self.pools_dissolved = 0
        self._metered = False
        #: timers that do not keep the run going by themselves (see the module docstring)
        self._background: list[tuple[float, int, Timer]] = []
        #: whether work is blocked that only a background timer can unblock (set by the simulation)
        self.stalled: Callable[[], bool] = lambda: False

    # -- observers -------------------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Any], None]) -> None:
        """Call ``listener(record)`` for every record emitted (see :mod:`replay.events`)."""
        self._listeners.append(listener)
        self._dissolve_all()  # listeners are told every resource's usage, which pools do not keep

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
        if resource.pool is not None:
            self._dissolve(resource.pool)
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
        return not self._dirty and not self._touched

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
        pool = None
        for resource, weight in activity.uses:
            resource.activities[activity] = weight
            if resource.pool is not None and resource.pool.root is resource:
                pool = resource.pool
        if pool is not None:
            if pool.eligible(activity):
                pool.join(activity, self.now)
                self._touched[pool] = None
                return
            self._dissolve(pool)
        self._touch(activity)

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
        if activity.pool is not None:
            self._dissolve(activity.pool)
        activity.suspended = True
        if activity.started:
            self._settle(activity)
            self._set_rate(activity, 0.0)
            self._touch(activity)

    def resume(self, activity: Activity) -> None:
        if not activity.suspended or activity.done:
            return
        if activity.pool is not None:
            self._dissolve(activity.pool)
        activity.suspended = False
        if activity.started:
            activity.last = self.now
            if not activity.uses:
                self._free_rate(activity)
            self._touch(activity)

    def set_penalty(self, activity: Activity, penalty: float) -> None:
        if penalty != activity.penalty:
            if activity.pool is not None:
                self._dissolve(activity.pool)
            activity.penalty = penalty
            self._touch(activity)

    def set_bound(self, activity: Activity, bound: float) -> None:
        if bound != activity.bound:
            if activity.pool is not None:
                self._dissolve(activity.pool)
            activity.bound = bound
            if activity.started and not activity.uses:
                self._free_rate(activity)
            self._touch(activity)

    def touch(self, resource: Resource) -> None:
        """Have the problem holding ``resource`` re-solved before the clock moves on (its meter is told)."""
        self._mark(resource)

    def set_capacity(self, resource: Resource, capacity: float) -> None:
        if capacity != resource.capacity:
            if resource.pool is not None and resource.pool.root is resource:
                self._dissolve(resource.pool)
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

        ``until`` may not be in the past. The run collects garbage less often (see :func:`fewer_collections`).
        """
        if until is not None and not until >= self.now:
            raise ValueError(f"cannot run until {until!r}: the clock is already at {self.now!r}")
        with fewer_collections():
            return self._run(until)

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
                elif isinstance(item, Bottleneck):
                    self._pool_due(item)
                else:
                    self._due(item)
            self._flush()
            if len(heap) > self._heap_limit:
                self._sweep()
        return self.now

    def _sweep(self) -> None:
        """Drop the heap's stale entries (superseded predictions, cancelled timers, left pools). They would
        otherwise pile up, each holding its activity alive, in runs where rates change far more often than
        activities end; sweeping when the heap has doubled keeps the cost linear."""
        heap = self._heap
        heap[:] = [entry for entry in heap if not _stale(entry)]
        heapq.heapify(heap)
        self._heap_limit = max(2 * len(heap), HEAP_SWEEP)

    def _flush(self) -> None:
        """Run the after-events hooks and re-solve until nothing is dirty."""
        while True:
            for hook in self._after_events:
                hook()
            if not self._dirty and not self._touched:
                return
            layer = min(self._dirty) if self._dirty else 0
            if layer == 0 and self._touched:
                self._update_pools()
            self._resolve(self._dirty.pop(layer, {}), self._changed.pop(layer, {}))
            if layer == 0 and self._checks:
                self._check_pools()

    # -- internals -------------------------------------------------------------------------------------------
    def _mark(self, resource: Resource) -> None:
        """Every activity of ``resource`` may change (its capacity did, or someone asked)."""
        pool = resource.pool
        if pool is not None and pool.root is resource:
            self._touched[pool] = None  # the pool's level changes, not each member's rate
            return
        self._dirty.setdefault(resource.layer, {})[resource] = True

    def _touch(self, activity: Activity) -> None:
        """``activity`` changed (it started, or its penalty or bound did): its resources are re-solved, and through
        them the activities they couple it with (see :func:`_couples`)."""
        if activity.started and not activity.done and activity.uses:
            layer = activity.uses[0][0].layer
            dirty = self._dirty.setdefault(layer, {})
            for resource, _ in activity.uses:
                dirty.setdefault(resource, False)
            self._changed.setdefault(layer, {})[activity] = None

    def _settle(self, activity: Activity) -> None:
        if activity.pool is not None:
            activity.pool.settle(activity, self.now)
            return
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
        pool = activity.pool
        if pool is not None:  # its links keep no share for it: the pool checks that they are still unsaturated
            pool.leave(activity, self.now)
            self._touched[pool] = None
        activity.done = True
        activity.version += 1
        activity.rate = 0.0
        for resource, _ in activity.uses:
            del resource.activities[activity]
            if pool is None:
                self._dirty.setdefault(resource.layer, {}).setdefault(resource, False)

    def _complete(self, activity: Activity) -> None:
        self._settle(activity)
        self._detach(activity)
        activity.remaining = 0.0
        if activity.on_done is not None:
            activity.on_done(activity)

    def _resolve(self, dirty: dict[Resource, bool], changed: dict[Activity, None]) -> None:
        """Re-solve the activities of one layer that the changes may reach: the connected component of the dirty
        resources and changed activities, where a resource that cannot be saturated (see :func:`_couples`) links
        nothing, since its capacity constrains none of its activities, and a pool's members keep their share."""
        resources: dict[Resource, int] = {}
        activities: dict[Activity, int] = {}
        stack: list[Resource] = []
        for resource, full in dirty.items():
            resources[resource] = len(resources)
            if full or _couples(resource):
                stack.append(resource)

        def reach(activity: Activity) -> None:
            activities[activity] = len(activities)
            for other, _ in activity.uses:
                if other not in resources:
                    resources[other] = len(resources)
                    if _couples(other):
                        stack.append(other)

        while True:
            while stack:
                resource = stack.pop()
                for activity in resource.activities:
                    if activity.pool is None and activity not in activities:
                        reach(activity)
            for activity in changed:  # one whose every resource is slack
                if activity not in activities and activity.pool is None and activity.started and not activity.done:
                    reach(activity)
                    break
            else:
                break
        for resource in resources:
            pool = resource.pool
            if pool is not None:  # a pool's link: its members keep their share, the pool checks the rest
                pool.stale[resource] = None
                self._checks[pool] = None
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
                row = activities.get(activity)
                if row is not None:  # not: a pool's member (see capacity), or an activity a slack link holds
                    elem_var.append(row)
                    elem_cnst.append(j)
                    elem_weight.append(weight)
        capacity = [r.capacity if r.pool is None else r.pool.free(r) for r in resources]
        shared = [r.shared for r in resources]
        penalty = [0.0 if a.suspended else a.penalty for a in activities]
        bound = [a.bound for a in activities]
        if len(elem_var) <= SMALL:  # plain lists: a small run need not import numpy at all
            rates = solve_small(capacity, shared, elem_var, elem_cnst, elem_weight, penalty, bound)
            usage = [0.0] * len(capacity)
            for v, c, w in zip(elem_var, elem_cnst, elem_weight, strict=True):
                usage[c] += w * rates[v]
        else:
            import numpy as np

            solved = solve(capacity, shared, elem_var, elem_cnst, elem_weight, penalty, bound)
            rates = solved.tolist()
            usage = np.bincount(elem_cnst, np.asarray(elem_weight) * solved[elem_var], len(capacity)).tolist()
        for activity, rate in zip(activities, rates, strict=True):
            if rate != activity.rate:
                self._settle(activity)
                self._set_rate(activity, rate)
        for resource, used, cap in zip(resources, usage, capacity, strict=True):
            resource.saturated = used >= cap * (1.0 - 1e-6)
        if len(activities) >= MIN_MEMBERS and not self._listeners:
            levels = [rates[v] * penalty[v] for v in elem_var]
            j = find_root(capacity, shared, elem_cnst, levels, usage)
            if j is not None:
                self._form_pool(list(resources)[j])

    # -- pools (see replay.activities) -------------------------------------------------------------------------
    def _form_pool(self, root: Resource) -> None:
        """Make a pool of a just-solved saturated resource whose activities all share its level (see find_root)."""
        if root.layer != 0 or root.meter is not None or root.pool is not None or not can_form(root):
            return
        pool = Bottleneck(root, self.now)
        root.pool = pool
        self.pools_formed += 1
        for activity in root.activities:
            self._settle(activity)
            pool.join(activity, self.now)
        pool.rho = pool.level()
        pool.holds()  # files the links' levels
        self._schedule_pool(pool)

    def _update_pools(self) -> None:
        """Give the touched pools their new level, before the dirty components around them are re-solved."""
        touched = list(self._touched)
        self._touched.clear()
        for pool in touched:
            if pool.done:
                continue
            pool.advance(self.now)
            if not pool.members:
                self._drop(pool)
                continue
            pool.rho = pool.level()
            self._checks[pool] = None

    def _check_pools(self) -> None:
        """Dissolve the pools that stopped being the max-min solution; re-date the others."""
        checks = list(self._checks)
        self._checks.clear()
        for pool in checks:
            if pool.done:
                continue
            if pool.holds():
                self._schedule_pool(pool)
            else:
                self._dissolve(pool)

    def _schedule_pool(self, pool: Bottleneck) -> None:
        pool.version += 1
        pool.due = pool.next_date(self.now)
        if pool.due < math.inf:
            heapq.heappush(self._heap, (pool.due, next(self._seq), pool, pool.version))

    def _pool_due(self, pool: Bottleneck) -> None:
        """The pool's first member may be done: complete every member that is, or re-date the pool."""
        pool.advance(self.now)
        completed = False
        while not pool.done:
            activity = pool.first()
            if activity is None or not pool.finished(activity, self.now, PRECISION):
                break
            completed = True
            self.events_processed += 1
            self._complete(activity)
        if not completed and not pool.done:
            self._schedule_pool(pool)

    def _dissolve(self, pool: Bottleneck) -> None:
        """Give every member back its own remaining work and have the root's component re-solved."""
        if pool.done:
            return
        self.pools_dissolved += 1
        pool.advance(self.now)
        for activity in pool.members:
            pool.settle(activity, self.now)
            activity.pool = None
            activity.rate = -1.0  # not a rate: the re-solve gives each member its own, and a heap entry
        self._drop(pool)
        self._mark(pool.root)

    def _drop(self, pool: Bottleneck) -> None:
        pool.done = True
        pool.members.clear()
        pool.root.pool = None
        for resource in pool.links:
            resource.pool = None
            self._mark(resource)
        pool.links.clear()
        self._touched.pop(pool, None)
        self._checks.pop(pool, None)

    def _dissolve_all(self) -> None:
        pools = {r.pool for d in self._dirty.values() for r in d if r.pool is not None}
        pools.update(self._touched, self._checks)
        for entry in self._heap:
            if isinstance(entry[2], Bottleneck):
                pools.add(entry[2])
        for pool in pools:
            self._dissolve(pool)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the cyclic collector's first threshold for the duration, and give the process its own back after.

    Building and running a large simulation allocates many small, short-lived objects among many long-lived
    ones: at Python's default thresholds, the collector would spend up to 40 % of a 100,000-VM run scanning them
    (and as much again building the run and its summary)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], GC_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _couples(resource: Resource) -> bool:
    """Whether ``resource`` may bind its activities together. A FATPIPE resource never does (it caps each one
    alone); a shared network link does not while the last solve left it unsaturated and even its activities'
    largest possible rates fit in its capacity: each activity's rate is at most its bound and what each of its
    resources could give it alone, and when these add up to less than the capacity, the link is never saturated in
    the max-min solution, so it constrains no activity and the problem splits across it. (A link the last solve
    saturated does couple, even if it now could not be: the activities it held back must be solved again.) The
    sum stops as soon as it reaches the capacity, so a busy link costs a few activities, not all. CPU resources
    always couple (their capacity changes at every step)."""
    if not resource.shared:
        return False
    if resource.kind is not ResourceKind.LINK or resource.saturated:
        return True  # a saturated link's activities must be solved again: a change may free some of it
    limit = resource.capacity * (1.0 - 1e-6)
    total = 0.0
    for activity, weight in resource.activities.items():
        most = activity.bound
        for other, share in activity.uses:
            if share > 0.0:
                alone = other.capacity / share
                if alone < most:
                    most = alone
        total += weight * most
        if total >= limit:
            return True
    return False


def _stale(entry: tuple[float, int, Any, int]) -> bool:
    """A heap entry whose timer was cancelled or whose activity's prediction was superseded."""
    item = entry[2]
    if isinstance(item, Timer):
        return item.cancelled
    return entry[3] != item.version or item.done
