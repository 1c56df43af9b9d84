"""Pools (replay.activities.Bottleneck): many activities held back by one saturated link progress on one clock.

Each scenario is processor sharing on a link with more activities than ``MIN_MEMBERS``, so that the engine
forms a pool; the dates are derived by hand, and each test also checks that the pool formed (or dissolved) so
that it cannot pass through the ordinary re-solve alone. A pool that were kept past the point where another
resource or a bound holds its members back would give the dates noted "a stale pool".
"""

from __future__ import annotations

import pytest

from replay.activities import MIN_MEMBERS
from replay.engine import Activity, Engine, Resource
from replay.events import ResourceKind
from replay.session import ReplaySession
from tests.helpers import PLATFORMS, REPO


def link(name: str, capacity: float) -> Resource:
    return Resource(name, capacity, kind=ResourceKind.LINK)


def flows(engine: Engine, sizes: list[float], backbone: Resource, private: float, *, bound: float = float("inf"),
          ends: dict[str, float]) -> None:
    """One flow per size, each on the backbone and its own private link of capacity ``private``."""
    for k, size in enumerate(sizes):
        name = f"{backbone.name}-{k}-{size:g}-{engine.now:g}"
        own = link(f"pm{k}@{engine.now:g}", private)
        engine.start(Activity(name, size, [(own, 1.0), (backbone, 1.0)], bound=bound,
                              on_done=lambda a: ends.__setitem__(a.name, engine.now)))


def test_processor_sharing_on_a_pool_gives_the_textbook_dates():
    # 200 flows of sizes 1, 2, ..., 200 on a backbone of 200 units/s, with private links of 1000 that never bind.
    # Processor sharing: while n flows remain, each runs at 200/n. The k-th smallest ends when every flow still
    # there has done k units:
    #   t_k = sum_{j=1..k} (201 - j) / 200 = k (401 - k) / 400,  so t_1 = 1, t_100 = 75.25, t_200 = 100.5.
    engine = Engine()
    backbone = link("bb", 200.0)
    ends: dict[str, float] = {}
    flows(engine, [float(k) for k in range(1, 201)], backbone, 1000.0, ends=ends)
    assert engine.run() == pytest.approx(100.5, rel=1e-12)
    by_size = {float(name.split("-")[2]): end for name, end in ends.items()}
    for k in (1, 2, 100, 199, 200):
        assert by_size[float(k)] == pytest.approx(k * (401 - k) / 400, rel=1e-12)
    assert engine.pools_formed == 1
    # no private link ever binds (200/n < 1000), so the pool lasts until its last member leaves
    assert engine.pools_dissolved == 0


def test_arrivals_slow_the_pool_down():
    # 200 flows of 1 unit on 100 units/s: 0.5 each. At t=1, 200 more flows of 1 unit arrive: the first 200 have
    # 0.5 left and all 400 run at 0.25, so the first 200 end at 1 + 0.5/0.25 = 3 s; the others have done 0.5
    # by then and, alone again at 0.5, end at 3 + 0.5/0.5 = 4 s (a stale pool: the first at 2 s).
    engine = Engine()
    backbone = link("bb", 100.0)
    ends: dict[str, float] = {}
    flows(engine, [1.0] * 200, backbone, 1000.0, ends=ends)
    engine.schedule(1.0, lambda: flows(engine, [1.0] * 200, backbone, 1000.0, ends=ends))
    assert engine.run() == pytest.approx(4.0, rel=1e-12)
    first = [end for name, end in ends.items() if name.endswith("-0")]
    later = [end for name, end in ends.items() if name.endswith("-1")]
    assert len(first) == len(later) == 200
    assert first == pytest.approx([3.0] * 200, rel=1e-12)
    assert later == pytest.approx([4.0] * 200, rel=1e-12)
    assert engine.pools_formed >= 1


def test_a_private_link_that_binds_dissolves_the_pool():
    # 150 flows on a backbone of 100 (private links of 5): 2/3 each, the backbone binds, a pool. 140 flows of
    # 1 unit end at 1 / (2/3) = 1.5 s. The 10 flows of 1000 units have 1000 - 1 = 999 left; alone, the
    # backbone would give them 10 each, but their private links give 5: the pool must dissolve, and they end at
    # 1.5 + 999/5 = 201.3 s (a stale pool: 1.5 + 999/10 = 101.4 s).
    engine = Engine()
    backbone = link("bb", 100.0)
    ends: dict[str, float] = {}
    flows(engine, [1.0] * 140 + [1000.0] * 10, backbone, 5.0, ends=ends)
    assert engine.run() == pytest.approx(201.3, rel=1e-12)
    assert sorted(set(round(end, 9) for end in ends.values())) == [1.5, 201.3]
    assert engine.pools_formed == 1 and engine.pools_dissolved == 1


def test_a_bound_that_binds_dissolves_the_pool():
    # 200 flows bounded at 0.8 on a backbone of 100: 0.5 each, a pool. 100 flows of 1 unit end at 2 s; the 100
    # of 10 units have 9 left; the backbone would give them 1 each, their bound 0.8: they end at
    # 2 + 9/0.8 = 13.25 s (a stale pool: 2 + 9 = 11 s).
    engine = Engine()
    backbone = link("bb", 100.0)
    ends: dict[str, float] = {}
    flows(engine, [1.0] * 100 + [10.0] * 100, backbone, 1000.0, bound=0.8, ends=ends)
    assert engine.run() == pytest.approx(13.25, rel=1e-12)
    assert sorted(set(round(end, 9) for end in ends.values())) == [2.0, 13.25]
    assert engine.pools_dissolved == 1


def test_few_activities_make_no_pool():
    # Below MIN_MEMBERS, the ordinary re-solve does it all (and small scenarios keep their exact floats).
    engine = Engine()
    backbone = link("bb", 100.0)
    ends: dict[str, float] = {}
    flows(engine, [1.0] * (MIN_MEMBERS - 1), backbone, 1000.0, ends=ends)
    engine.run()
    # (MIN_MEMBERS - 1) flows of 1 unit at 100 / (MIN_MEMBERS - 1) each end together
    assert list(ends.values()) == pytest.approx([(MIN_MEMBERS - 1) / 100.0] * (MIN_MEMBERS - 1), rel=1e-12)
    assert engine.pools_formed == 0


def test_a_listener_sees_every_rate_so_no_pool_forms():
    engine = Engine()
    engine.subscribe(lambda record: None)
    backbone = link("bb", 100.0)
    ends: dict[str, float] = {}
    flows(engine, [1.0] * 200, backbone, 1000.0, ends=ends)
    assert engine.run() == pytest.approx(2.0)
    assert engine.pools_formed == 0


def test_remaining_work_of_a_member_is_read_off_the_pool_clock():
    # 200 flows of 10 units on 100 units/s: 0.5 each; at t=4 each has 10 - 2 = 8 left.
    engine = Engine()
    backbone = link("bb", 100.0)
    members = [Activity(f"f{k}", 10.0, [(link(f"pm{k}", 1000.0), 1.0), (backbone, 1.0)]) for k in range(200)]
    for activity in members:
        engine.start(activity)
    engine.run(until=4.0)
    assert engine.pools_formed == 1
    assert engine.remaining(members[0]) == pytest.approx(8.0, rel=1e-12)
    assert engine.done_work(members[-1]) == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("name", ["pool_comms", "pool_migrations"])
def test_the_fidelity_scenarios_go_through_pools(name):
    # tests/test_fidelity.py compares every date of these two scenarios with SimGrid's; this checks that they keep
    # exercising a pool that forms (hundreds of transfers on the 5 GB/s backbone) and dissolves (at the end, few
    # transfers are left and their private links bind again).
    fidelity = REPO / "traces" / "fidelity"
    session = ReplaySession.open([fidelity / f"{name}.txt"], platform=PLATFORMS / "fid_pool.xml",
                                 deploy=fidelity / f"{name}.deploy.xml")
    session.run()
    assert session.sim.engine.pools_formed >= 1
    assert session.sim.engine.pools_dissolved >= 1


def test_a_capacity_change_of_the_root_dissolves_the_pool():
    # 200 flows of 1 unit on 100 units/s: 0.5 each, a pool. At t=1 (each has 0.5 left) the link drops to 50
    # units/s (a bandwidth profile): 0.25 each, 2 s more: all end at 3 s (a stale pool: 2 s).
    engine = Engine()
    backbone = link("bb", 100.0)
    ends: dict[str, float] = {}
    flows(engine, [1.0] * 200, backbone, 1000.0, ends=ends)
    engine.schedule(1.0, lambda: engine.set_capacity(backbone, 50.0))
    assert engine.run() == pytest.approx(3.0, rel=1e-12)
    assert list(ends.values()) == pytest.approx([3.0] * 200, rel=1e-12)
    assert engine.pools_formed >= 1 and engine.pools_dissolved >= 1


def test_cancelled_members_leave_the_pool_to_the_others():
    # 200 flows of 1 unit on 100 units/s: 0.5 each. At t=1 half of them are cancelled (a failure); the other 100
    # have 0.5 left at 1 unit/s each and end at 1.5 s (a stale pool: 2 s).
    engine = Engine()
    backbone = link("bb", 100.0)
    members = [Activity(f"f{k}", 1.0, [(link(f"pm{k}", 1000.0), 1.0), (backbone, 1.0)]) for k in range(200)]
    ends: dict[str, float] = {}
    for activity in members:
        activity.on_done = lambda a: ends.__setitem__(a.name, engine.now)
        engine.start(activity)

    def cancel_half() -> None:
        for activity in members[::2]:
            engine.cancel(activity)

    engine.schedule(1.0, cancel_half)
    assert engine.run() == pytest.approx(1.5, rel=1e-12)
    assert len(ends) == 100
    assert list(ends.values()) == pytest.approx([1.5] * 100, rel=1e-12)
    assert engine.remaining(members[0]) == pytest.approx(0.5, rel=1e-12)  # settled when cancelled
    assert engine.pools_dissolved == 0  # leaving costs O(log n): the pool goes on with the others
