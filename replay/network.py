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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from replay.engine import Activity, Engine, Resource
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
    """What every transfer between two given hosts has in common (cached per host pair)."""

    latency: Seconds
    uses: tuple[tuple[Resource, float], ...]
    penalty: float
    bound: BytesPerSecond


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

    def link_resource(self, link: Link) -> Resource:
        resource = self.links.get(link.name)
        if resource is None:
            resource = Resource(
                link.name,
                self.model.bandwidth_factor * link.bandwidth,
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
    ) -> Activity:
        """Start sending ``size`` bytes from host ``src`` to host ``dst`` (latency first); return its activity.

        ``rate`` caps the transfer (a migration's ``mig_speed``); ``on_done(activity)`` is called on arrival.
        """
        shape = self.shape(src, dst)
        activity = Activity(
            name, size, shape.uses, penalty=shape.penalty, bound=min(shape.bound, rate), on_done=on_done
        )
        engine = self.engine
        if shape.latency > 0:
            engine.schedule(shape.latency, lambda: None if activity.done else engine.start(activity))
        else:
            engine.start(activity)
        return activity

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
        # SimGrid gives a route without latency the penalty 1: it never enters the latency phase that sets it.
        penalty = latency + sum(model.weight_s / link.bandwidth for link in route) if wait > 0 else 1.0
        bound = min((link.bandwidth for link in route), default=math.inf)
        if latency > 0:
            bound = min(bound, model.tcp_gamma / (2.0 * latency))
        return FlowShape(wait, tuple(weights.items()), penalty, model.bandwidth_factor * bound)
