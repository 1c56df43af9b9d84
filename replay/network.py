"""Network models (SimGrid's LV08, CM02 and a raw variant): links are resources, a transfer is one variable.

A transfer of ``size`` bytes from ``src`` to ``dst`` over route ``R`` (with reverse route ``R'``), for a model of
latency factor ``lf``, bandwidth factor ``bf``, weight ``S`` and TCP window ``gamma``, as SimGrid 3.32's
``network_cm02`` does it:

* it first waits ``lf x L`` with ``L = sum of raw latencies over R``, taking no share;
* it then uses 1 per byte of every link of ``R`` and, with cross-traffic on, 0.05 per byte of every link of ``R'``
  (weights of a link met twice add up; on a FATPIPE link the largest counts);
* its sharing penalty is ``L + sum over R of S / bandwidth`` (1 when ``L = 0``);
* SimGrid solves with link capacities ``bandwidth`` and bounds the variable by ``min(min bandwidth over R,
  gamma / (2 L), rate / bf)``, then scales the rate by ``bf``. Max-min fair sharing is invariant under a common
  scaling, so we solve directly in bytes per second: capacity ``bf x bandwidth``, bound
  ``bf x min(min bandwidth, gamma / (2 L))`` and the caller's ``rate``. (Note that the TCP-gamma bound is scaled
  by ``bf`` too: a long-latency flow gets ``0.97 x gamma / (2 L)``.)

LV08 (the default): ``lf = 13.01``, ``bf = 0.97``, ``S = 20537``, cross-traffic on. CM02: factors 1, no ``S``.
``raw``: factors 1, no ``S``, no TCP-gamma bound and no cross-traffic.

Failures and profiles, as SimGrid 3.32's ``NetworkCm02Link`` applies them. A transfer is a *flight* from its start
(latency phase included) to its arrival. A link going off fails every flight that uses it, on its route or its
reverse route; a host going off fails every flight from or to it; a transfer started over an off link or host
fails at once. A bandwidth change sets the link's capacity and moves the penalty of the flights whose route
crosses it by ``S / new - S / old``; their bound, taken from the route's bandwidths when they started, stays. A
latency change moves their penalty by the difference, and their TCP-gamma bound with the route's new latency; a
flight already in its latency phase keeps the date its data starts. New transfers see the current values.
(SimGrid also lets a flight in its latency phase take bandwidth at once when one of its links changes, and moves
the penalty of flights that only use the link as their reverse route, which can turn it negative; we do not.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from replay import events
from replay.engine import Activity, Engine, Resource, Timer
from replay.events import ResourceKind
from replay.platform import Link, Platform
from replay.units import Bytes, BytesPerSecond, Seconds

#: SimGrid's ``network/TCP-gamma`` default: the largest TCP window, in bytes.
TCP_GAMMA: Bytes = 4194304.0

#: SimGrid's cross-traffic: a transfer uses this much of the reverse route per byte (TCP acknowledgements).
CROSS_TRAFFIC_WEIGHT = 0.05


@dataclass(frozen=True, slots=True)
class NetworkModel:
    """The constants of one network model."""

    name: str
    latency_factor: float
    bandwidth_factor: float
    weight_s: float
    tcp_gamma: Bytes
    crosstraffic: bool


MODELS: dict[str, NetworkModel] = {
    "LV08": NetworkModel("LV08", 13.01, 0.97, 20537.0, TCP_GAMMA, True),
    "CM02": NetworkModel("CM02", 1.0, 1.0, 0.0, TCP_GAMMA, True),
    "raw": NetworkModel("raw", 1.0, 1.0, 0.0, math.inf, False),
}


@dataclass(frozen=True, slots=True)
class FlowShape:
    """What every transfer between two given hosts has in common (cached per host pair, until a link changes).

    ``latency`` is the wait before the data flows (the latency factor applied), ``route_latency`` the raw sum
    over the route (for the TCP-gamma bound); ``penalty`` the variable's, ``formula`` what SimGrid keeps as the
    flow's penalty (they differ on a route without latency); ``bound`` the one from the route's bandwidths
    (scaled), ``gamma`` the TCP-gamma bound (scaled).
    """

    latency: Seconds
    uses: tuple[tuple[Resource, float], ...]
    penalty: float
    bound: BytesPerSecond
    route_latency: Seconds = 0.0
    formula: float = 1.0
    gamma: BytesPerSecond = math.inf


@dataclass(slots=True)
class Flight:
    """A transfer under way (``Activity.meta``): its ends, what its rate depends on, and who to tell if it fails."""

    src: str
    dst: str
    route_latency: Seconds
    penalty: float
    user_bound: BytesPerSecond
    on_fail: Callable[[str], None] | None
    timer: Timer | None = None


class Network:
    """Turns transfers between hosts of a platform into engine activities, under one network model."""

    def __init__(self, engine: Engine, platform: Platform, model: str | NetworkModel = "LV08") -> None:
        if isinstance(model, str):
            if model not in MODELS:
                raise ValueError(f"unknown network model {model!r}; expected one of {', '.join(MODELS)}")
            model = MODELS[model]
        self.engine = engine
        self.platform = platform
        self.model = model
        self.links: dict[str, Resource] = {}
        self._shapes: dict[tuple[str, str], FlowShape] = {}
        #: flights in their latency phase (the others are found on their links' resources)
        self._latent: dict[Activity, None] = {}
        #: hosts and link resources that are off
        self.hosts_off: set[str] = set()
        self.links_off: set[Resource] = set()
        #: bandwidths and latencies changed by profiles, by link name (the platform's otherwise)
        self._bandwidth: dict[str, BytesPerSecond] = {}
        self._latency: dict[str, Seconds] = {}

    def link_resource(self, link: Link) -> Resource:
        resource = self.links.get(link.name)
        if resource is None:
            resource = Resource(
                link.name,
                self.model.bandwidth_factor * self.bandwidth_of(link),
                shared=link.policy != "FATPIPE",
                kind=ResourceKind.LINK,
            )
            self.links[link.name] = resource
        return resource

    def transfer(
        self,
        src: str,
        dst: str,
        size: Bytes,
        *,
        rate: BytesPerSecond = math.inf,
        name: str = "transfer",
        on_done: Callable[[Activity], None] | None = None,
        on_fail: Callable[[str], None] | None = None,
    ) -> Activity:
        """Start sending ``size`` bytes from host ``src`` to host ``dst`` (latency first); return its activity.

        ``rate`` caps the transfer (a migration's ``mig_speed``); ``on_done(activity)`` is called on arrival,
        ``on_fail(cause)`` if a failure ends it first (a link of its routes or one of its hosts goes off, or was
        off when it started: then just after this call returns).
        """
        shape = self.shape(src, dst)
        user_bound = min(shape.bound, rate)
        activity = Activity(
            name, size, shape.uses, penalty=shape.penalty, bound=min(user_bound, shape.gamma), on_done=on_done
        )
        flight = Flight(src, dst, shape.route_latency, shape.formula, user_bound, on_fail)
        activity.meta = flight
        engine = self.engine
        if self.hosts_off or self.links_off:
            cause = self._down(src, dst, shape)
            if cause:
                engine.schedule(0.0, lambda: self._fail(activity, cause))
                return activity
        if shape.latency > 0:
            latent = self._latent
            latent[activity] = None

            def begin() -> None:
                latent.pop(activity, None)
                if not activity.done:
                    engine.start(activity)

            flight.timer = engine.schedule(shape.latency, begin)
        else:
            engine.start(activity)
        return activity

    # -- failures ----------------------------------------------------------------------------------------------
    def host_off(self, host: str, cause: str) -> None:
        """``host`` is off: the transfers from or to it fail, and so will new ones until :meth:`host_on`."""
        self.hosts_off.add(host)
        for activity in self.flights():
            if activity.meta.src == host or activity.meta.dst == host:
                self._fail(activity, cause)

    def host_on(self, host: str) -> None:
        self.hosts_off.discard(host)

    def link_off(self, link: Link, cause: str) -> None:
        """``link`` is off: the transfers using it (on their route or reverse route) fail, and new ones too."""
        resource = self.link_resource(link)
        self.links_off.add(resource)
        for activity in self.flights():
            if any(used is resource for used, _ in activity.uses):
                self._fail(activity, cause)
        self.engine.touch(resource)  # an energy meter reads its watts off

    def link_on(self, link: Link) -> None:
        resource = self.link_resource(link)
        self.links_off.discard(resource)
        self.engine.touch(resource)

    def flights(self) -> list[Activity]:
        """Every transfer under way, latency phase included, in a deterministic order."""
        found: dict[Activity, None] = dict(self._latent)
        for resource in self.links.values():
            for activity in resource.activities:
                found[activity] = None
        return list(found)

    def _down(self, src: str, dst: str, shape: FlowShape) -> str:
        """Why a transfer from ``src`` to ``dst`` cannot start ("" if it can)."""
        for host in (src, dst):
            if host in self.hosts_off:
                return f"host {host!r} is off"
        for resource, _ in shape.uses:
            if resource in self.links_off:
                return f"link {resource.name!r} is off"
        return ""

    def _fail(self, activity: Activity, cause: str) -> None:
        if activity.done:
            return
        flight: Flight = activity.meta
        self._latent.pop(activity, None)
        if flight.timer is not None:
            flight.timer.cancel()
        self.engine.cancel(activity)
        if flight.on_fail is not None:
            flight.on_fail(cause)

    # -- profiles ----------------------------------------------------------------------------------------------
    def bandwidth_of(self, link: Link) -> BytesPerSecond:
        return self._bandwidth.get(link.name, link.bandwidth)

    def latency_of(self, link: Link) -> Seconds:
        return self._latency.get(link.name, link.latency)

    def set_bandwidth(self, link: Link, bandwidth: BytesPerSecond) -> None:
        """The link now carries ``bandwidth`` bytes/s (SimGrid's ``set_bandwidth``; see the module docstring)."""
        old = self.bandwidth_of(link)
        self._bandwidth[link.name] = bandwidth
        self._shapes.clear()
        resource = self.link_resource(link)
        engine = self.engine
        engine.set_capacity(resource, self.model.bandwidth_factor * bandwidth)
        self._changed(link)
        weight_s = self.model.weight_s
        if weight_s > 0 and old != bandwidth:
            delta = weight_s / bandwidth - weight_s / old
            for activity in self._flights_on(resource, link):
                flight: Flight = activity.meta
                flight.penalty += delta
                self._apply(activity, flight)

    def set_latency(self, link: Link, latency: Seconds) -> None:
        """The link now has ``latency`` seconds (SimGrid's ``set_latency``; see the module docstring)."""
        delta = latency - self.latency_of(link)
        self._latency[link.name] = latency
        self._shapes.clear()
        self._changed(link)
        resource = self.link_resource(link)
        for activity in self._flights_on(resource, link):
            flight: Flight = activity.meta
            flight.route_latency += delta
            flight.penalty += delta
            self._apply(activity, flight)

    def _changed(self, link: Link) -> None:
        engine = self.engine
        if engine.traced:
            engine.emit(events.LinkChanged(engine.now, link.name, self.bandwidth_of(link), self.latency_of(link)))

    def _flights_on(self, resource: Resource, link: Link) -> list[Activity]:
        """The flights whose route crosses ``link`` (its resource), latency phase included. SimGrid also moves
        the penalty of flights that only use the link as their reverse route, which can make it negative (and
        abort SimGrid): a link off a flight's route is not in its penalty, so it does not change it here."""
        latent = [a for a in self._latent if any(used is resource for used, _ in a.uses)]
        flights = latent + list(resource.activities)
        route = self.platform.route
        return [a for a in flights if link in route(a.meta.src, a.meta.dst)]

    def _apply(self, activity: Activity, flight: Flight) -> None:
        """Give a flight its penalty and bound after a change of one of its links."""
        bound = flight.user_bound
        if flight.route_latency > 0:
            bound = min(bound, self.model.bandwidth_factor * self.model.tcp_gamma / (2.0 * flight.route_latency))
        self.engine.set_bound(activity, bound)
        if activity in self._latent:
            activity.penalty = flight.penalty  # taken when its data starts
        else:
            self.engine.set_penalty(activity, flight.penalty)

    def shape(self, src: str, dst: str) -> FlowShape:
        """The latency wait, resource usage, penalty and bound of a transfer from ``src`` to ``dst``."""
        key = (src, dst)
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shapes[key] = self._make_shape(src, dst)
        return shape

    def _make_shape(self, src: str, dst: str) -> FlowShape:
        model = self.model
        route = self.platform.route(src, dst)
        if self._latency and any(link.name in self._latency for link in route):
            latency = sum(self.latency_of(link) for link in route)
        else:
            latency = self.platform.route_latency(src, dst)  # summed in SimGrid's order, to the last bit
        weights: dict[Resource, float] = {}

        def use(link: Link, weight: float) -> None:
            resource = self.link_resource(link)
            if resource in weights:
                old = weights[resource]
                weights[resource] = old + weight if resource.shared else max(old, weight)
            else:
                weights[resource] = weight

        for link in route:
            use(link, 1.0)
        if model.crosstraffic:
            for link in self.platform.route(dst, src):
                use(link, CROSS_TRAFFIC_WEIGHT)

        wait = model.latency_factor * latency
        formula = latency + sum(model.weight_s / self.bandwidth_of(link) for link in route)
        # SimGrid gives a route without latency the penalty 1: it never enters the latency phase that sets it.
        penalty = formula if wait > 0 else 1.0
        factor = model.bandwidth_factor
        bound = factor * min((self.bandwidth_of(link) for link in route), default=math.inf)
        gamma = factor * model.tcp_gamma / (2.0 * latency) if latency > 0 else math.inf
        return FlowShape(wait, tuple(weights.items()), penalty, bound, latency, formula, gamma)
