"""SimGrid's ``examples/cpp/platform-failures`` rebuilt with our Python API: the dates SimGrid's own run prints.

A master on Tremblay sends 20 tasks (1e6 bytes, 5e7 flops) to 5 workers in turn, each put with a 10 s timeout,
then a 0-byte "stop" to each with a 1 s timeout; a worker loops on receive and compute, shrugging off failed
transfers; workers restart when their host comes back on (``on_failure="RESTART"``), and so does a sleeper on
Lilibeth, which goes off from 4 to 5 s every 10 s. The platform is ``tests/data/platform_failures/platform.xml``,
written by us with the example's values: 25 Mflop/s hosts joined by 1 MBps links of no latency, state profiles on
Jupiter (off on [1, 2)), Fafard (off from 0 to 1 and from 2), Ginette (off on [41, 50)), and links 3 (Tremblay -
Ginette: off on [13, 14), [15, 16), [20, 25)) and 4 (Tremblay - Bourassa: off on [25, 30)).

``OFF`` and ``ON`` are the example's expected output (its tesh file; crosstraffic disabled, then enabled) in a
compact form: date, who (master, or the host of a worker or of the sleeper), and what. ``sent:i``/``failed:i``/
``timeout:i``: the master's put to worker i completed, failed (``NetworkFailureException``) or timed out; a worker
``wait``s for a message, ``start``s and is ``done`` computing, ``failed`` (a failed receive), or says ``bye``. Dates
are to the microsecond, as SimGrid printed them; at one date the order is not compared (the tesh sorts lines).
For instance 3.030928 = 2 + 1e6 / (0.97 x 1e6): the put to worker-3, posted at 2 s, alone on link 3; with
crosstraffic the flow weighs 1.05 on it: 2 + 1.05e6 / 0.97e6 = 3.082474.
"""

from __future__ import annotations

import dataclasses

import pytest

from replay.errors import ActivityFailed, ActivityTimeout
from replay.network import MODELS
from replay.platform import load_platform
from replay.simulation import Simulation
from tests.helpers import REPO

PLATFORM = REPO / "tests" / "data" / "platform_failures" / "platform.xml"
WORKERS = ["Tremblay", "Jupiter", "Fafard", "Ginette", "Bourassa"]

OFF = """
    0 Lilibeth sleep; 0 Tremblay wait; 0 Jupiter wait; 0 Ginette wait; 0 Bourassa wait; 0.010309 master
    sent:0; 0.010309 Tremblay start; 1 master failed:1; 1 Lilibeth woke; 1 Fafard wait; 2 master failed:2; 2
    Jupiter wait; 2.010309 Tremblay done; 2.010309 Tremblay wait; 3.030928 Ginette start; 3.030928 master
    sent:3; 4.061856 Bourassa start; 4.061856 master sent:4; 4.072165 Tremblay start; 4.072165 master
    sent:0; 5 Lilibeth sleep; 5.030928 Ginette done; 5.030928 Ginette wait; 5.103093 Jupiter start; 5.103093
    master sent:1; 6 Lilibeth woke; 6.061856 Bourassa done; 6.061856 Bourassa wait; 6.072165 Tremblay done;
    6.072165 Tremblay wait; 7.103093 Jupiter done; 7.103093 Jupiter wait; 15 Lilibeth sleep; 15.103093
    master timeout:2; 15.103093 Ginette failed; 15.103093 Ginette wait; 15.103093 master failed:3; 16
    Lilibeth woke; 16.134021 Bourassa start; 16.134021 master sent:4; 16.14433 Tremblay start; 16.14433
    master sent:0; 17.175258 Jupiter start; 17.175258 master sent:1; 18.134021 Bourassa done; 18.134021
    Bourassa wait; 18.14433 Tremblay done; 18.14433 Tremblay wait; 19.175258 Jupiter done; 19.175258 Jupiter
    wait; 25 Lilibeth sleep; 26 Lilibeth woke; 27.175258 master timeout:2; 28.206186 Ginette start;
    28.206186 master sent:3; 28.206186 Bourassa failed; 28.206186 Bourassa wait; 28.206186 master failed:4;
    28.216495 Tremblay start; 28.216495 master sent:0; 29.247423 Jupiter start; 29.247423 master sent:1;
    30.206186 Ginette done; 30.206186 Ginette wait; 30.216495 Tremblay done; 30.216495 Tremblay wait;
    31.247423 Jupiter done; 31.247423 Jupiter wait; 35 Lilibeth sleep; 36 Lilibeth woke; 39.247423 master
    timeout:2; 40.278351 Ginette start; 40.278351 master sent:3; 41.309278 Bourassa start; 41.309278 master
    sent:4; 41.309278 Tremblay bye; 41.309278 Jupiter bye; 42.309278 master timeout:2; 43.309278 Bourassa
    done; 43.309278 Bourassa wait; 43.309278 master timeout:3; 43.309278 Bourassa bye; 43.309278 master bye
"""

ON = """
    0 Lilibeth sleep; 0 Tremblay wait; 0 Jupiter wait; 0 Ginette wait; 0 Bourassa wait; 0.010825 master
    sent:0; 0.010825 Tremblay start; 1 master failed:1; 1 Lilibeth woke; 1 Fafard wait; 2 master failed:2; 2
    Jupiter wait; 2.010825 Tremblay done; 2.010825 Tremblay wait; 3.082474 Ginette start; 3.082474 master
    sent:3; 4.164948 Bourassa start; 4.164948 master sent:4; 4.175773 Tremblay start; 4.175773 master
    sent:0; 5 Lilibeth sleep; 5.082474 Ginette done; 5.082474 Ginette wait; 5.258247 Jupiter start; 5.258247
    master sent:1; 6 Lilibeth woke; 6.164948 Bourassa done; 6.164948 Bourassa wait; 6.175773 Tremblay done;
    6.175773 Tremblay wait; 7.258247 Jupiter done; 7.258247 Jupiter wait; 15 Lilibeth sleep; 15.258247
    master timeout:2; 15.258247 Ginette failed; 15.258247 Ginette wait; 15.258247 master failed:3; 16
    Lilibeth woke; 16.340722 Bourassa start; 16.340722 master sent:4; 16.351546 Tremblay start; 16.351546
    master sent:0; 17.434021 Jupiter start; 17.434021 master sent:1; 18.340722 Bourassa done; 18.340722
    Bourassa wait; 18.351546 Tremblay done; 18.351546 Tremblay wait; 19.434021 Jupiter done; 19.434021
    Jupiter wait; 25 Lilibeth sleep; 26 Lilibeth woke; 27.434021 master timeout:2; 28.516495 Ginette start;
    28.516495 master sent:3; 28.516495 Bourassa failed; 28.516495 Bourassa wait; 28.516495 master failed:4;
    28.52732 Tremblay start; 28.52732 master sent:0; 29.609794 Jupiter start; 29.609794 master sent:1;
    30.516495 Ginette done; 30.516495 Ginette wait; 30.52732 Tremblay done; 30.52732 Tremblay wait;
    31.609794 Jupiter done; 31.609794 Jupiter wait; 35 Lilibeth sleep; 36 Lilibeth woke; 39.609794 master
    timeout:2; 40.692268 Ginette start; 40.692268 master sent:3; 41.774742 Bourassa start; 41.774742 master
    sent:4; 41.774742 Tremblay bye; 41.774742 Jupiter bye; 42.774742 master timeout:2; 43.774742 Bourassa
    done; 43.774742 Bourassa wait; 43.774742 master timeout:3; 43.774742 Bourassa bye; 43.774742 master bye
"""


def replay_example(crosstraffic: bool) -> list[tuple[float, str, str]]:
    """Run the example; return its log as (date, who, what)."""
    model = dataclasses.replace(MODELS["LV08"], crosstraffic=crosstraffic)
    sim = Simulation(load_platform(PLATFORM), network_model=model)
    log: list[tuple[float, str, str]] = []

    def say(actor, who: str, what: str) -> None:
        log.append((round(actor.now, 6), who, what))

    def master(actor):
        for i in range(20):
            target = i % 5
            try:
                yield actor.send(f"worker-{target}", 1e6, 5e7, timeout=10.0)
                say(actor, "master", f"sent:{target}")
            except ActivityTimeout:
                say(actor, "master", f"timeout:{target}")
            except ActivityFailed:
                say(actor, "master", f"failed:{target}")
        for target in range(5):
            try:
                yield actor.send(f"worker-{target}", 0, -1.0, timeout=1.0)
            except ActivityTimeout:
                say(actor, "master", f"timeout:{target}")
            except ActivityFailed:
                say(actor, "master", f"failed:{target}")
        say(actor, "master", "bye")

    def worker(actor, index: int):
        while True:
            try:
                say(actor, actor.host.name, "wait")
                flops = yield actor.recv(f"worker-{index}")
                if flops < 0:
                    say(actor, actor.host.name, "bye")
                    return
                say(actor, actor.host.name, "start")
                yield actor.execute(flops)
                say(actor, actor.host.name, "done")
            except ActivityFailed:
                say(actor, actor.host.name, "failed")

    def sleeper(actor):
        say(actor, "Lilibeth", "sleep")
        yield actor.sleep(1.0)
        say(actor, "Lilibeth", "woke")

    sim.add_actor("master", "Tremblay", master)
    for index, host in enumerate(WORKERS):
        sim.add_actor(f"worker-{index}", host, worker, index, restart=True)
    sim.add_actor("sleeper", "Lilibeth", sleeper, restart=True)
    end = sim.run()
    log.append((round(end, 4), "end", ""))
    return log


def parse(text: str) -> list[tuple[float, str, str]]:
    rows = [item.split() for item in " ".join(text.split()).split("; ")]
    return [(float(date), who, what) for date, who, what in rows]


@pytest.mark.parametrize(("crosstraffic", "expected", "end"), [(False, OFF, 43.3093), (True, ON, 43.7747)],
                         ids=["crosstraffic-off", "crosstraffic-on"])
def test_platform_failures_prints_what_simgrid_prints(crosstraffic, expected, end):
    log = replay_example(crosstraffic)
    assert log[-1] == (end, "end", "")  # SimGrid: "Simulation time 43.3093" (43.7747 with crosstraffic)
    assert sorted(log[:-1]) == sorted(parse(expected))
