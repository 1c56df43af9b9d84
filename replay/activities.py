"""The sharing problem's parts: resources, the activities that use them, timers, and pools of activities that one
saturated resource holds back (the engine, :mod:`replay.engine`, moves them through time).

**Pools.** Many activities held back by one saturated resource progress together: one virtual clock instead of
n rates. When hundreds of flows cross a saturated backbone, and nothing else holds any of them back, max-min
fair sharing gives each the same level ``rho = C / sum(w_i / p_i)`` (flow ``i`` runs at ``rho / p_i``). Every arrival or
departure changes ``rho``, so the rate of every flow: re-solving them one by one costs O(n) per event and
O(n^2) per run. A :class:`Bottleneck` keeps such a *root* resource's activities (its *members*) as one pool:

* a virtual clock ``progress`` (the integral of ``rho`` over time) replaces their rates: member ``i`` is done when
  ``progress`` reaches ``finish_i = progress_at_join + remaining_i x p_i``, so the members sit in a heap by
  ``finish`` and the pool has one entry in the engine's heap, its earliest completion;
* an arrival or departure changes the sum of ``w_i / p_i`` and ``rho``, in O(log n);
* the members' other resources (a flow's private links), the *links*, keep the rest of their capacity for their
  other activities, which the engine re-solves as usual with ``C_L - rho x a_L`` (``a_L``: the members' sum of
  ``w / p`` on ``L``).

The pool is exactly the max-min solution as long as the root stays the members' only bottleneck: every link
unsaturated (``rho x a_L + b_L < C_L (1 - EPSILON)``, with ``b_L`` what the link's other activities use, a
condition kept in a heap of the level at which each link would saturate) and no member held by its bound
(``rho (1 + EPSILON) < b_i p_i``). The engine checks both after every change; when either fails, it dissolves the
pool (each member gets back its remaining work) and re-solves the whole component, which may form a new pool.
Rounding differs from a re-solve's only in the last bits of the rates, and pools form only from ``MIN_MEMBERS``
activities up, so small problems are solved exactly as before.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterable
from typing import Any

from replay.events import ResourceKind
from replay.solver import EPSILON
from replay.units import Seconds

#: The fewest activities on one saturated resource that make a pool: below, a re-solve is as cheap.
MIN_MEMBERS = 128


class Resource:
    """A constraint of the sharing problem: a CPU, a link direction, a VM's share of its PM.

    ``kind`` only labels it for tracers (None: not reported); ``used`` is the rate last reported to them (the
    sum of weight x rate over its activities).
    """

    __slots__ = ("activities", "capacity", "kind", "layer", "meter", "name", "pool", "saturated", "shared", "used")

    def __init__(
        self, name: str, capacity: float, *, shared: bool = True, layer: int = 0, kind: ResourceKind | None = None
    ) -> None:
        self.name = name
        self.capacity = capacity
        self.shared = shared
        self.layer = layer
        self.kind = kind
        self.used = 0.0
        #: whether the last solve that held it left it saturated (its activities' rates then depend on each other)
        self.saturated = False
        #: called with the resource after every re-solve that may have changed its usage (see Engine.meter)
        self.meter: Callable[[Resource], None] | None = None
        #: activities using this resource, with their consumption per unit of rate (insertion-ordered)
        self.activities: dict[Activity, float] = {}
        #: the pool this resource is the root or a link of (see below), if any
        self.pool: Bottleneck | None = None

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
        "finish",
        "last",
        "meta",
        "name",
        "on_done",
        "on_rate",
        "penalty",
        "pool",
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
        #: the pool that sets its rate (see below), and its date of completion on the pool's clock
        self.pool: Bottleneck | None = None
        self.finish = math.inf

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


class LinkShare:
    """What a pool's members take of one of their other resources, and where that resource would saturate."""

    __slots__ = ("a", "count", "level", "terms")

    def __init__(self) -> None:
        #: sum of w / p over the members on the link, kept as counts per distinct term (exact, order-free)
        self.terms: dict[float, int] = {}
        self.a = 0.0
        self.count = 0
        #: the root level at which the link would saturate (``inf``: never)
        self.level = math.inf

    def add(self, term: float, sign: int) -> None:
        self.count += sign
        self.a = _count(self.terms, term, sign)


class Bottleneck:
    """The pool of a root resource's members (see the module docstring)."""

    __slots__ = (
        "_bounds",
        "_heap",
        "_link_heap",
        "_seq",
        "done",
        "due",
        "links",
        "members",
        "progress",
        "rho",
        "root",
        "since",
        "stale",
        "terms",
        "version",
        "weight",
    )

    def __init__(self, root: Resource, now: float) -> None:
        self.root = root
        self.members: dict[Activity, None] = {}
        #: sum of w_root / p over the members, as counts per distinct term
        self.terms: dict[float, int] = {}
        self.weight = 0.0
        self.rho = 0.0
        self.progress = 0.0
        self.since = now
        self.links: dict[Resource, LinkShare] = {}
        #: links whose share or other usage changed since the last check
        self.stale: dict[Resource, None] = {}
        self._heap: list[tuple[float, int, Activity]] = []
        self._bounds: list[tuple[float, int, Activity]] = []
        self._link_heap: list[tuple[float, int, Resource]] = []
        self._seq = itertools.count()
        self.version = 0
        self.due = math.inf
        self.done = False

    # -- membership ------------------------------------------------------------------------------------------
    def eligible(self, activity: Activity) -> bool:
        """Whether ``activity`` (on the root) may join: nothing but the pool's clock would set its rate."""
        if activity.on_rate is not None or activity.suspended or activity.penalty <= 0.0:
            return False
        seen_root = False
        for resource, weight in activity.uses:
            if resource is self.root:
                if seen_root or weight <= 0.0:
                    return False
                seen_root = True
            elif (
                not resource.shared
                or resource.meter is not None
                or (resource.pool is not None and resource.pool is not self)
            ):
                return False
        return seen_root

    def join(self, activity: Activity, now: float) -> None:
        """Add ``activity`` (its ``remaining`` as of ``now``) to the pool."""
        self.advance(now)
        penalty = activity.penalty
        activity.pool = self
        activity.finish = self.progress + activity.remaining * penalty
        activity.version += 1  # its own heap entry, if any, is stale from now on
        activity.due = math.inf
        self.members[activity] = None
        seq = next(self._seq)
        heapq.heappush(self._heap, (activity.finish, seq, activity))
        if math.isfinite(activity.bound):
            heapq.heappush(self._bounds, (activity.bound * penalty, seq, activity))
        for resource, weight in activity.uses:
            if resource is self.root:
                self.weight = _count(self.terms, weight / penalty, 1)
            else:
                share = self.links.get(resource)
                if share is None:
                    share = self.links[resource] = LinkShare()
                    resource.pool = self
                share.add(weight / penalty, 1)
                self.stale[resource] = None

    def leave(self, activity: Activity, now: float) -> None:
        """Take ``activity`` out of the pool, its remaining work settled at ``now``."""
        self.settle(activity, now)
        activity.pool = None
        del self.members[activity]
        penalty = activity.penalty
        for resource, weight in activity.uses:
            if resource is self.root:
                self.weight = _count(self.terms, weight / penalty, -1)
            else:
                share = self.links[resource]
                share.add(weight / penalty, -1)
                if share.count == 0:
                    del self.links[resource]
                    resource.pool = None
                    self.stale.pop(resource, None)
                else:
                    self.stale[resource] = None

    # -- the clock -------------------------------------------------------------------------------------------
    def advance(self, now: float) -> None:
        if now != self.since:
            self.progress += self.rho * (now - self.since)
            self.since = now

    def settle(self, activity: Activity, now: float) -> None:
        """Bring a member's ``remaining``, ``last`` and ``rate`` up to ``now``."""
        self.advance(now)
        penalty = activity.penalty
        left = (activity.finish - self.progress) / penalty
        activity.remaining = left if left > 0.0 else 0.0
        activity.last = now
        activity.rate = self.rho / penalty

    def level(self) -> float:
        """The root's level with the current members (the progressive filling's ``rho`` for this resource)."""
        return self.root.capacity / self.weight if self.weight > 0.0 else math.inf

    def first(self) -> Activity | None:
        """The member that finishes first (stale heap entries dropped)."""
        heap = self._heap
        while heap:
            finish, _, activity = heap[0]
            if activity.pool is self and activity.finish == finish:
                return activity
            heapq.heappop(heap)
        return None

    def next_date(self, now: float) -> float:
        """When the first member finishes at the current level."""
        activity = self.first()
        if activity is None or self.rho <= 0.0:
            return math.inf
        return now + max(activity.finish - self.progress, 0.0) / self.rho

    def finished(self, activity: Activity, now: float, precision: float) -> bool:
        """Whether a member is done at ``now``, with the engine's tolerances (see ``Engine._due``)."""
        gap = activity.finish - self.progress
        if gap <= precision * activity.amount * activity.penalty or gap <= self.rho * precision:
            return True
        return self.rho > 0.0 and now + gap / self.rho <= now

    # -- validity --------------------------------------------------------------------------------------------
    def free(self, resource: Resource) -> float:
        """What a link leaves to its other activities: its capacity minus the members' use."""
        left = resource.capacity - self.rho * self.links[resource].a
        return left if left > 0.0 else 0.0

    def _sweep(self) -> None:
        """Rebuild the link and bound heaps once stale entries (older levels, members gone) outnumber the live
        ones: a pool lives through as many changes as its members make, and would otherwise keep them all."""
        if len(self._link_heap) > 2 * len(self.links) + 64:
            self._link_heap = [(share.level, next(self._seq), r) for r, share in self.links.items()]
            heapq.heapify(self._link_heap)
        if len(self._bounds) > 2 * len(self.members) + 64:
            self._bounds = [entry for entry in self._bounds if entry[2].pool is self]
            heapq.heapify(self._bounds)

    def holds(self) -> bool:
        """Whether the pool is still the max-min solution: no link saturated by it, no member at its bound."""
        link_heap = self._link_heap
        for resource in self.stale:
            share = self.links[resource]
            other = sum(
                (w * a.rate for a, w in resource.activities.items() if a.pool is not self), 0.0
            ) if share.count < len(resource.activities) else 0.0
            share.level = (resource.capacity * (1.0 - EPSILON) - other) / share.a if share.a > 0.0 else math.inf
            heapq.heappush(link_heap, (share.level, next(self._seq), resource))
        self.stale.clear()
        self._sweep()
        link_heap = self._link_heap
        while link_heap:
            level, _, resource = link_heap[0]
            share = self.links.get(resource)
            if share is not None and share.level == level:
                if not self.rho < level:
                    return False
                break
            heapq.heappop(link_heap)
        bounds = self._bounds
        while bounds:
            level, _, activity = bounds[0]
            if activity.pool is self:
                return self.rho * (1.0 + EPSILON) < level
            heapq.heappop(bounds)
        return True


def _count(terms: dict[float, int], term: float, sign: int) -> float:
    """Add (``sign`` 1) or remove (-1) one ``term`` of a sum kept as counts per distinct term; return the sum,
    the same whatever the order of the changes (members come and go in any order)."""
    left = terms.get(term, 0) + sign
    if left:
        terms[term] = left
    else:
        del terms[term]
    return math.fsum(t * c for t, c in terms.items())


def can_form(root: Resource) -> bool:
    """Whether ``root``'s activities, just solved, may become a pool: all eligible, none held by a link or a bound.

    The caller has checked that the root is saturated with every activity at the same level; this checks the rest
    of the pool's conditions (see :meth:`Bottleneck.holds`) on the solved rates, without changing anything.
    """
    probe = Bottleneck(root, 0.0)
    weight = 0.0
    members = root.activities
    links: dict[Resource, float] = {}
    lowest_bound = math.inf
    for activity, root_weight in members.items():
        if not probe.eligible(activity):
            return False
        penalty = activity.penalty
        weight += root_weight / penalty
        lowest_bound = min(lowest_bound, activity.bound * penalty)
        for resource, w in activity.uses:
            if resource is not root:
                links[resource] = links.get(resource, 0.0) + w / penalty
    rho = root.capacity / weight
    if not rho * (1.0 + EPSILON) < lowest_bound:
        return False
    for resource, a in links.items():
        other = sum((w * x.rate for x, w in resource.activities.items() if x not in members), 0.0)
        if not rho * a + other < resource.capacity * (1.0 - EPSILON):
            return False
    return True


def find_root(
    capacity: list[float], shared: list[bool], elem_cnst: list[int], levels: list[float], usage: list[float]
) -> int | None:
    """The constraint of a solved problem that could be a pool's root, or None: the one with the most elements
    (at least ``MIN_MEMBERS``) among the shared, saturated ones whose elements all have the same level.

    ``levels[k]`` is element ``k``'s ``p x rate``, ``usage[j]`` constraint ``j``'s use; the elements are grouped
    by constraint (as the engine builds them).
    """
    best, best_count = None, MIN_MEMBERS - 1
    start = 0
    n = len(elem_cnst)
    while start < n:
        j = elem_cnst[start]
        end = start
        while end < n and elem_cnst[end] == j:
            end += 1
        count = end - start
        if count > best_count and shared[j] and usage[j] >= capacity[j] * (1.0 - EPSILON) > 0.0:
            low = min(levels[start:end])
            if low > 0.0 and max(levels[start:end]) <= low * (1.0 + EPSILON):
                best, best_count = j, count
        start = end
    return best
