"""Scaling benchmark of the engine: wall time per simulated event as the number of activities grows.

Two cases, each at 1e3, 1e4 and 1e5 concurrent activities (``--sizes`` to change):

* ``cpu``: one actor per execution, 10 executions of 1 to 10 Gflop per 4-core host of a flat cluster;
* ``network``: one sender and one receiver per transfer, 10 transfers of 10 to 100 MB per pair of hosts, each
  pair joined by its own link (no shared backbone: components stay small, as in a real data center's racks).

It prints wall time, events, microseconds per event, and the growth exponent ``k`` of the time per event between
consecutive sizes (``t ~ N^k``): near 0 means the cost of one event does not grow with the number of unrelated
activities, which is the target. ``--tracing`` runs the same with a listener that drops every record (``noop``)
or with the Paje and CSV writers (``files``, to a temporary folder), to measure what tracing costs; ``off`` (the
default) is a run without listeners, as ``replay run`` without ``--paje``/``--csv``.

    python tools/bench_engine.py [--sizes 1000,10000,100000] [--case cpu|network|all] [--tracing off|noop|files]
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from replay.platform import Platform, load_platform_string
from replay.simulation import Simulation

PER_HOST = 10


def cluster_platform(hosts: int) -> Platform:
    return load_platform_string(
        '<?xml version="1.0"?><platform version="4.1"><zone id="z" routing="Full">'
        f'<cluster id="c" prefix="h" suffix="" radical="0-{hosts - 1}" speed="1Gf" core="4" '
        'bw="125MBps" lat="50us" bb_bw="2.25GBps" bb_lat="500us"/></zone></platform>',
        source="<bench>",
    )


def pairs_platform(pairs: int) -> Platform:
    body = [f'<host id="s{p}" speed="1Gf"/><host id="r{p}" speed="1Gf"/>' for p in range(pairs)]
    body += [f'<link id="l{p}" bandwidth="125MBps" latency="50us"/>' for p in range(pairs)]
    body += [f'<route src="s{p}" dst="r{p}"><link_ctn id="l{p}"/></route>' for p in range(pairs)]
    return load_platform_string(
        '<?xml version="1.0"?><platform version="4.1"><zone id="z" routing="Full">'
        + "".join(body)
        + "</zone></platform>",
        source="<bench>",
    )


def compute(actor, flops):
    yield actor.execute(flops)


def send(actor, box, size):
    yield actor.send(box, size)


def recv(actor, box):
    yield actor.recv(box)


def cpu_case(n: int, rng: random.Random) -> Simulation:
    hosts = max(1, n // PER_HOST)
    sim = Simulation(cluster_platform(hosts))
    for i in range(n):
        sim.add_actor(f"a{i}", f"h{i % hosts}", compute, rng.uniform(1e9, 1e10))
    return sim


def network_case(n: int, rng: random.Random) -> Simulation:
    pairs = max(1, n // PER_HOST)
    sim = Simulation(pairs_platform(pairs))
    for i in range(n):
        p = i % pairs
        sim.add_actor(f"s{i}", f"s{p}", send, f"m{i}", rng.uniform(1e7, 1e8))
        sim.add_actor(f"r{i}", f"r{p}", recv, f"m{i}")
    return sim


CASES = {"cpu": cpu_case, "network": network_case}


def measure(case: str, n: int, tracing: str = "off") -> tuple[float, int, float]:
    gc.collect()  # the previous size's simulation is garbage now: do not let its collection land in this run
    sim = CASES[case](n, random.Random(42))
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        if tracing == "noop":
            sim.engine.subscribe(lambda record: None)
        elif tracing == "files":
            from tracing.csv_writer import CsvWriter
            from tracing.paje import PajeWriter

            paths = Path(folder) / "t.paje", Path(folder) / "t.csv"
            for sink in (PajeWriter(paths[0], sim.platform), CsvWriter(paths[1], sim.platform)):
                stack.enter_context(sink)
                sim.engine.subscribe(sink.emit)
        start = time.perf_counter()
        end = sim.run()
        wall = time.perf_counter() - start
    return wall, sim.engine.events_processed, end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--case", default="all", choices=[*CASES, "all"])
    parser.add_argument("--tracing", default="off", choices=["off", "noop", "files"])
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    cases = list(CASES) if args.case == "all" else [args.case]
    print(f"{'case':8} {'N':>8} {'wall s':>9} {'events':>9} {'us/event':>9} {'growth k':>9} {'sim time':>10}")
    for case in cases:
        previous: tuple[int, float] | None = None
        for n in sizes:
            wall, events, end = measure(case, n, args.tracing)
            per_event = wall / max(events, 1) * 1e6
            growth = ""
            if previous is not None:
                growth = f"{math.log(per_event / previous[1]) / math.log(n / previous[0]):+.3f}"
            print(f"{case:8} {n:>8} {wall:>9.3f} {events:>9} {per_event:>9.2f} {growth:>9} {end:>10.3f}")
            previous = (n, per_event)


if __name__ == "__main__":
    main()
