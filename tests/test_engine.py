"""The engine: lazy completion prediction, incremental re-solving, deterministic ties, timers."""

from __future__ import annotations

import gc

import pytest

from replay.engine import Activity, Engine, Resource


def test_completion_and_rate_change():
    # Two activities of 10 and 30 units share a resource of capacity 10: 5 each; the first ends at 2 s; the
    # second then has 20 left at rate 10 and ends at 4 s.
    engine = Engine()
    cpu = Resource("cpu", 10.0)
    ends = {}
    for name, amount in (("a", 10.0), ("b", 30.0)):
        engine.start(Activity(name, amount, [(cpu, 1.0)], on_done=lambda act: ends.setdefault(act.name, engine.now)))
    assert engine.run() == pytest.approx(4.0)
    assert ends == pytest.approx({"a": 2.0, "b": 4.0})


def test_unrelated_activities_are_not_resolved():
    # Events on resource 1 must not touch the activity on resource 2: its rate is computed once, so its
    # version (bumped at each new rate) stays 1 while three activities come and go on resource 1.
    engine = Engine()
    r1, r2 = Resource("r1", 1.0), Resource("r2", 1.0)
    far = Activity("far", 100.0, [(r2, 1.0)])
    engine.start(far)
    for k in range(3):
        engine.schedule(k, lambda k=k: engine.start(Activity(f"near{k}", 0.5, [(r1, 1.0)])))
    engine.run(until=10.0)
    assert far.version == 1
    assert engine.remaining(far) == pytest.approx(90.0)


def test_stale_predictions_do_not_move_the_clock():
    # "slow" is first predicted to end at 100 s (rate 1); a second activity then halves its rate... and it
    # is cancelled at 1 s: the clock must stop at the last real event (2 s for "fast"), not at a stale date.
    engine = Engine()
    r = Resource("r", 1.0)
    slow = Activity("slow", 100.0, [(r, 1.0)])
    engine.start(slow)
    engine.schedule(0.5, lambda: engine.start(Activity("fast", 0.5, [(r, 1.0)])))
    engine.schedule(1.0, lambda: engine.cancel(slow))
    # fast: rate 1/2 from 0.5 s to 1 s (0.25 done), then alone at rate 1: 0.25 left, ends at 1.25 s.
    assert engine.run() == pytest.approx(1.25)


def test_suspend_keeps_the_remaining_work():
    # 10 units at rate 1, suspended from 2 s to 5 s: 8 left at 5 s, so it ends at 13 s.
    engine = Engine()
    r = Resource("r", 1.0)
    act = Activity("a", 10.0, [(r, 1.0)])
    engine.start(act)
    engine.schedule(2.0, lambda: engine.suspend(act))
    engine.schedule(5.0, lambda: engine.resume(act))
    assert engine.run() == pytest.approx(13.0)


def test_capacity_change_rescales_rates():
    engine = Engine()
    r = Resource("r", 1.0)
    act = Activity("a", 10.0, [(r, 1.0)])
    engine.start(act)
    engine.schedule(4.0, lambda: engine.set_capacity(r, 2.0))
    # 4 units done by 4 s, the 6 left at rate 2 take 3 s more.
    assert engine.run() == pytest.approx(7.0)


def test_simultaneous_events_keep_insertion_order():
    engine = Engine()
    order = []
    for name in "abcde":
        engine.schedule(1.0, lambda name=name: order.append(name))
    engine.run()
    assert order == list("abcde")


def test_cancelled_timer_never_fires():
    engine = Engine()
    fired = []
    timer = engine.schedule(1.0, lambda: fired.append(1))
    timer.cancel()
    assert engine.run() == 0.0 and fired == []


def test_a_slowed_down_activity_that_ends_within_the_time_tolerance_completes():
    # 1e6 units at rate 1e8 are due at 0.01 s; 5e-10 s before, a second activity halves the rate, so the old
    # entry comes up with 1e8 x 5e-10 - 5e7 x 5e-10 = 0.025 units left (more than the 1e-9 x 1e6 work tolerance)
    # due 5e-10 s later: within the 1e-9 s that group events, it completes then, instead of being re-predicted
    # for ever at the same date.
    engine = Engine()
    r = Resource("r", 1e8)
    ends = {}
    first = Activity("first", 1e6, [(r, 1.0)], on_done=lambda act: ends.setdefault("first", engine.now))
    engine.start(first)
    engine.schedule(0.01 - 5e-10, lambda: engine.start(Activity("second", 1e8, [(r, 1.0)])))
    engine.run()
    assert ends["first"] == pytest.approx(0.01, abs=1e-9)


def test_run_until_a_past_date_is_refused():
    engine = Engine()
    engine.schedule(5.0, lambda: None)
    assert engine.run(until=3.0) == 3.0
    with pytest.raises(ValueError, match=r"cannot run until 1\.0: the clock is already at 3\.0"):
        engine.run(until=1.0)
    assert engine.run(until=3.0) == 3.0  # the present is allowed


def test_a_run_gives_the_collector_its_thresholds_back_even_when_it_fails():
    # The engine raises the collector's first threshold during a run only: the process gets its own back,
    # after a clean run and after a run that a callback ends with an exception.
    before = gc.get_threshold()
    gc.set_threshold(123, 4, 5)
    try:
        engine = Engine()
        seen = []
        engine.schedule(1.0, lambda: seen.append(gc.get_threshold()))
        engine.run()
        assert seen[0][0] > 123 and gc.get_threshold() == (123, 4, 5)

        def fail() -> None:
            raise RuntimeError("boom")

        engine.schedule(1.0, fail)
        with pytest.raises(RuntimeError, match="boom"):
            engine.run()
        assert gc.get_threshold() == (123, 4, 5)
    finally:
        gc.set_threshold(*before)


def test_stale_heap_entries_are_swept_out(monkeypatch):
    # "a" (10,000 units) and 100 short activities of 1, 2, ..., 100 units share a resource of capacity 101 from
    # t=0. Each time a short one ends, every other one speeds up: its prediction gets earlier, so it gets a new
    # heap entry and its old one goes stale (about 100 x 100 / 2 = 5,000 of them over the run). The resource is
    # always fully used, so "a", the largest, ends when all the work is done: (10,000 + 5,050) / 101 s. With the
    # sweep threshold at 100, the heap never holds more than twice its live entries plus one date's pushes.
    import replay.engine as engine_module

    monkeypatch.setattr(engine_module, "HEAP_SWEEP", 100)
    engine = Engine()
    cpu = Resource("cpu", 101.0)
    longest = [0]

    def watch(_: Activity) -> None:
        longest[0] = max(longest[0], len(engine._heap))

    engine.start(Activity("a", 10_000.0, [(cpu, 1.0)]))
    for k in range(1, 101):
        engine.start(Activity(f"s{k}", float(k), [(cpu, 1.0)], on_done=watch))
    assert engine.run() == pytest.approx(15_050 / 101)
    assert longest[0] <= 3 * 101
