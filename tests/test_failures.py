"""Failures and availability profiles (replay/availability.py, the off and on of hosts and links): every date and
joule derived by hand.

Platform ``PLAT``: hosts a (1 core, 1 Gf/s; 100 W idle, 200 W busy, 10 W off), b and c (1 Gf/s, no wattages),
link l (a-b, 10 MB/s = 1e7 B/s, 1 ms) and m (b-c, same), a-c over l then m. Under LV08 a transfer of S bytes
alone on one such link waits 13.01 x 1 ms = 0.01301 s, then takes 1.05 x S / 0.97e7 s (it weighs 1 on its route
and 0.05 on its reverse route, the same link). CM02 (``model="CM02"``) has factors 1 and no penalty term, with the
same cross-traffic.
"""

from __future__ import annotations

import contextlib
import json

import pytest
from typer.testing import CliRunner

from replay.availability import RandomFailures
from replay.cli import app
from replay.errors import ActivityFailed, DeadlockError, LookupFailure
from replay.lifecycle import VmState
from replay.platform import load_platform
from replay.simulation import Simulation
from tests.helpers import platform

BODY = (
    '<host id="a" speed="1Gf"><prop id="wattage_per_state" value="100:200"/><prop id="wattage_off" value="10"/>'
    '</host><host id="b" speed="1Gf"/><host id="c" speed="1Gf"/>'
    '<link id="l" bandwidth="10MBps" latency="1ms"/><link id="m" bandwidth="10MBps" latency="1ms"/>'
    '<route src="a" dst="b"><link_ctn id="l"/></route><route src="b" dst="c"><link_ctn id="m"/></route>'
    '<route src="a" dst="c"><link_ctn id="l"/><link_ctn id="m"/></route>'
)
PLAT = platform(BODY)
LAT = 13.01e-3  # LV08's latency phase on one 1 ms link
BW = 0.97e7  # LV08's rate alone on a 10 MB/s link


def switcher(sim, *steps):
    """An actor on c doing ``steps``: ("sleep", s), ("host_off" | "host_on" | "link_off" | "link_on", name)."""

    def body(actor):
        for what, arg in steps:
            if what == "sleep":
                yield actor.sleep(arg)
            else:
                getattr(sim, what)(arg)

    return body


def outcome(actor) -> tuple[str, float]:
    return actor.status, actor.end_time


# -- a host going off ---------------------------------------------------------------------------------------------
def test_host_off_kills_its_actors_fails_their_peers_and_draws_wattage_off():
    sim = Simulation(PLAT)
    got = {}

    def worker(actor):
        yield actor.execute(5e9)

    def sender(actor):
        yield actor.send("box", 1e8)

    def receiver(actor):
        try:
            yield actor.recv("box")
        except ActivityFailed as failure:
            got["error"] = str(failure)
            raise

    sim.add_actor("w", "a", worker)
    sim.add_actor("s", "a", sender)
    sim.add_actor("r", "b", receiver)
    sim.add_actor("ctl", "c", switcher(sim, ("sleep", 2.0), ("host_off", "a"), ("sleep", 1.0), ("host_on", "a"),
                                       ("sleep", 1.0)))
    assert sim.run() == 4.0
    # w (5 s of work) and s (1e8 B take 10.3 s) are still at it at 2 s: killed; r's transfer fails then
    assert outcome(sim.actors["w"]) == ("killed", 2.0) and outcome(sim.actors["s"]) == ("killed", 2.0)
    assert "host 'a' went off at t=2 s" in sim.actors["w"].cause
    assert outcome(sim.actors["r"]) == ("failed", 2.0)
    assert got["error"] == sim.actors["r"].cause
    assert "its peer 's' was killed (host 'a' went off at t=2 s)" in got["error"]
    # a: busy 0-2 s (w computes: 200 W), off 2-3 s (10 W), back on and idle 3-4 s (100 W): 400 + 10 + 100
    assert sim.energy.report(4.0)["hosts"]["a"] == pytest.approx(510.0)


def test_actors_do_not_start_on_an_off_host_and_restart_when_it_comes_back():
    sim = Simulation(PLAT)

    def worker(actor):
        yield actor.execute(2e9)

    sim.add_actor("late", "a", worker, start_time=1.0)  # a is off at 1 s: never starts
    sim.add_actor("again", "a", worker, restart=True)  # killed at 0.5 s, starts over at 3 s
    sim.add_actor("ctl", "c", switcher(sim, ("sleep", 0.5), ("host_off", "a"), ("sleep", 2.5), ("host_on", "a")))
    sim.run()
    assert outcome(sim.actors["late"]) == ("killed", 1.0)
    assert sim.actors["late"].cause == "its host 'a' was off when it should have started"
    again = sim.actors["again"]
    # restarted at 3 s from its beginning: 2e9 flops alone at 1 Gf/s end at 5 s
    assert (again.status, again.end_time, again.restarts, again.start_time) == ("done", 5.0, 1, 3.0)


def test_a_vm_is_lost_with_its_pm_and_operations_on_it_fail_their_actor():
    sim = Simulation(PLAT)
    vm = sim.create_vm("v", "a", ramsize=1e9)
    vm.start()

    def inside(actor):
        yield actor.execute(1e10)

    def admin(actor):
        yield actor.sleep(2.0)
        vm.suspend(actor)

    sim.add_actor("inside", "v", inside)
    sim.add_actor("admin", "b", admin)
    sim.add_actor("ctl", "c", switcher(sim, ("sleep", 1.0), ("host_off", "a")))
    sim.run()
    assert vm.state is VmState.DESTROYED and vm.lost.startswith("it was lost: host 'a' went off at t=1 s")
    assert outcome(sim.actors["inside"]) == ("killed", 1.0)
    assert "VM 'v' was lost" in sim.actors["inside"].cause
    # suspending a lost VM is an outcome of the failure: admin fails, the run goes on
    assert outcome(sim.actors["admin"]) == ("failed", 2.0)
    assert sim.actors["admin"].cause == "VM 'v': cannot suspend: " + vm.lost


def test_starting_or_migrating_a_vm_to_an_off_host_fails_the_issuer():
    sim = Simulation(PLAT)
    sim.host_off("a")
    vm = sim.create_vm("v", "a")
    with pytest.raises(ActivityFailed, match="VM 'v': cannot start on 'a': the host is off"):
        vm.start()
    other = sim.create_vm("w", "b")
    other.start()
    with pytest.raises(ActivityFailed, match="VM 'w': cannot migrate to 'a': the host is off"):
        sim.migrate_vm(other, "a")


# -- migrations ---------------------------------------------------------------------------------------------------
def migration_run(off: str, when: float):
    """VM v (1e8 B of RAM, on a) migrated to b by admin (on c) at 0 while a task computes 3e9 flops in it; ``off``
    goes off at ``when``. Stage 1 sends 1e8 B over l: 0.01301 + 1e8 / 0.97e7 = 10.322 s."""
    sim = Simulation(PLAT)
    vm = sim.create_vm("v", "a", ramsize=1e8)
    vm.start()
    reports = []

    def task(actor):
        yield actor.execute(3e9)

    def admin(actor):
        reports.append((yield sim.migrate_vm(vm, "b", actor)))
        reports.append(actor.now)

    sim.add_actor("task", "v", task)
    sim.add_actor("admin", "c", admin)
    sim.add_actor("ctl", "c", switcher(sim, ("sleep", when), ("host_off", off)))
    sim.run()
    return sim, vm, reports


def test_a_migration_whose_destination_fails_aborts_and_its_vm_runs_on():
    sim, vm, (report, back) = migration_run("b", 1.0)
    # stage 1's transfer to b fails at 1 s: the migration ends there, aborted; v never stopped, so the task's
    # 3e9 flops end at 3 s on a
    assert (report.status, report.end, back) == ("aborted", 1.0, 1.0)
    assert report.error == "VM 'v' stays on 'a': stage 1 failed: host 'b' went off at t=1 s"
    assert (vm.state, vm.pm.name) == (VmState.RUNNING, "a")
    assert outcome(sim.actors["task"]) == ("done", 3.0)
    assert sim.migrations == [report] and report.as_dict()["status"] == "aborted"


def test_a_migration_whose_source_fails_loses_its_vm():
    sim, vm, (report, back) = migration_run("a", 1.0)
    assert (report.status, report.end, back) == ("aborted", 1.0, 1.0)
    assert report.error.startswith("VM 'v' was lost: host 'a' went off at t=1 s")
    assert vm.state is VmState.DESTROYED
    assert outcome(sim.actors["task"]) == ("killed", 1.0)


def test_a_migration_whose_route_fails_aborts():
    sim, vm, (report, _) = migration_run("a", 100.0)  # a never goes off in time: a clean migration first
    assert report.status == "done" and vm.pm.name == "b"
    sim = Simulation(PLAT)
    vm = sim.create_vm("v", "a", ramsize=1e8)
    vm.start()
    reports = []

    def admin(actor):
        reports.append((yield sim.migrate_vm(vm, "b", actor)))

    sim.add_actor("admin", "c", admin)
    sim.add_actor("ctl", "c", switcher(sim, ("sleep", 5.0), ("link_off", "l")))
    sim.run()
    assert reports[0].status == "aborted" and reports[0].end == 5.0
    assert reports[0].error == "VM 'v' stays on 'a': stage 1 failed: link 'l' went off at t=5 s"
    assert vm.pm.name == "a" and vm.state is VmState.RUNNING


# -- links --------------------------------------------------------------------------------------------------------
def test_a_link_going_off_fails_its_transfers_and_new_ones_until_it_is_back():
    sim = Simulation(PLAT)
    ends = {}

    def sender(actor):
        for size in (1e8, 1e7, 1e7):
            try:
                yield actor.send("box", size)
                ends.setdefault("sent", []).append(actor.now)
            except ActivityFailed as failure:
                ends.setdefault("failed", []).append((actor.now, str(failure)))
                yield actor.sleep(1.0)

    def receiver(actor):
        for _ in range(3):
            with contextlib.suppress(ActivityFailed):
                yield actor.recv("box")

    sim.add_actor("s", "a", sender)
    sim.add_actor("r", "b", receiver)
    sim.add_actor("ctl", "c", switcher(sim, ("sleep", 2.0), ("link_off", "l"), ("sleep", 2.5), ("link_on", "l")))
    sim.run()
    # the 1e8 B (10.8 s of transfer) fail when l goes off at 2 s; after a 1 s sleep, the 1e7 B posted at 3 s
    # fail at once, and so do the last ones at 4 s: l is back on only at 4.5 s
    assert [date for date, _ in ends["failed"]] == [2.0, 3.0, 4.0]
    assert ends["failed"][0][1] == "transfer on mailbox 'box' failed: link 'l' went off at t=2 s"
    assert ends["failed"][1][1] == "transfer on mailbox 'box' failed: link 'l' is off"
    assert "sent" not in ends


def test_a_link_back_on_carries_transfers_again():
    sim = Simulation(PLAT)
    done = []

    def sender(actor):
        yield actor.sleep(3.0)
        yield actor.send("box", 1e7)
        done.append(actor.now)

    sim.add_actor("s", "a", sender)
    sim.add_actor("r", "b", lambda actor: (yield actor.recv("box")))
    sim.add_actor("ctl", "c", switcher(sim, ("sleep", 1.0), ("link_off", "l"), ("sleep", 1.0), ("link_on", "l")))
    sim.run()
    # as if l had never been off: the flow weighs 1.05 on l (its route, and its reverse route's cross-traffic)
    assert done == [pytest.approx(3.0 + LAT + 1.05e7 / BW, rel=1e-12)]


def test_an_off_link_draws_its_wattage_off():
    plat = platform(
        '<host id="x" speed="1Gf"/><host id="y" speed="1Gf"/>'
        '<link id="p" bandwidth="10MBps" latency="0"><prop id="wattage_range" value="10:30"/>'
        '<prop id="wattage_off" value="2"/></link><route src="x" dst="y"><link_ctn id="p"/></route>'
    )
    sim = Simulation(plat)
    sim.add_actor("ctl", "x", switcher(sim, ("sleep", 1.0), ("link_off", "p"), ("sleep", 2.0), ("link_on", "p"),
                                       ("sleep", 1.0)))
    sim.run()
    # idle 0-1 s (10 W), off 1-3 s (2 W), idle 3-4 s (10 W)
    assert sim.energy.report(4.0)["links"]["p"] == pytest.approx(10 + 4 + 10)


def test_unknown_hosts_and_links_are_refused():
    sim = Simulation(PLAT)
    with pytest.raises(LookupFailure, match="unknown host 'zz'"):
        sim.host_off("zz")
    with pytest.raises(LookupFailure, match="link"):
        sim.link_off("zz")


# -- stranded actors ----------------------------------------------------------------------------------------------
def test_after_a_failure_actors_left_waiting_end_blocked_not_in_deadlock():
    sim = Simulation(PLAT)
    sim.add_actor("r", "b", lambda actor: (yield actor.recv("never")))
    sim.add_actor("ctl", "c", switcher(sim, ("sleep", 1.0), ("host_off", "a")))
    assert sim.run() == 1.0
    assert outcome(sim.actors["r"]) == ("blocked", 1.0)
    assert sim.actors["r"].cause == "waits forever on recv on mailbox 'never': no sender"
    quiet = Simulation(PLAT)
    quiet.add_actor("r", "b", lambda actor: (yield actor.recv("never")))
    with pytest.raises(DeadlockError):  # without a failure, it is a mistake of the scenario
        quiet.run()


# -- profiles -----------------------------------------------------------------------------------------------------
def profiled(tmp_path, host_attrs: str = "", link_attrs: str = "", files: dict[str, str] | None = None,
             bandwidth: str = "10MBps"):
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text)
    (tmp_path / "p.xml").write_text(
        "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
        f'<platform version="4.1"><zone id="z" routing="Full"><host id="a" speed="1Gf" {host_attrs}/>'
        f'<host id="b" speed="1Gf"/><link id="l" bandwidth="{bandwidth}" latency="100ms" {link_attrs}/>'
        '<route src="a" dst="b"><link_ctn id="l"/></route></zone></platform>\n'
    )
    return load_platform(tmp_path / "p.xml")


def test_a_speed_profile_stalls_and_resumes_an_execution(tmp_path):
    plat = profiled(tmp_path, 'speed_file="s.txt"', files={"s.txt": "1 0.5\n3 0\n5 1\n"})
    sim = Simulation(plat)
    sim.add_actor("w", "a", lambda actor: (yield actor.execute(3e9)))
    # 0-1 s at 1 Gf/s (1e9), 1-3 s at 0.5 Gf/s (1e9), 3-5 s nothing, then the last 1e9 at 1 Gf/s: 6 s
    assert sim.run() == 6.0


def test_a_state_profile_at_date_0_keeps_actors_from_starting(tmp_path):
    plat = profiled(tmp_path, 'state_file="st.txt"', files={"st.txt": "0 0\n2 1\n"})
    sim = Simulation(plat)
    sim.add_actor("w", "a", lambda actor: (yield actor.execute(1e9)))
    sim.add_actor("r", "a", lambda actor: (yield actor.execute(1e9)), restart=True)
    sim.add_actor("keep", "b", lambda actor: (yield actor.sleep(5.0)))  # with no actor alive, the run would end
    sim.run()
    assert outcome(sim.actors["w"]) == ("killed", 0.0)
    assert outcome(sim.actors["r"]) == ("done", 3.0)  # started when a came on at 2 s


def test_with_no_actor_alive_the_run_ends_even_if_one_would_restart(tmp_path):
    plat = profiled(tmp_path, 'state_file="st.txt"', files={"st.txt": "0 0\n2 1\n"})
    sim = Simulation(plat)
    sim.add_actor("r", "a", lambda actor: (yield actor.execute(1e9)), restart=True)
    assert sim.run() == 0.0  # as SimGrid's loop, which stops once its actor list is empty
    assert outcome(sim.actors["r"]) == ("killed", 0.0)


def test_a_repeating_profile_does_not_keep_the_run_going(tmp_path):
    plat = profiled(tmp_path, 'speed_file="s.txt"', files={"s.txt": "0 1\n1 0.5\nLOOPAFTER 1\n"})
    sim = Simulation(plat)
    sim.add_actor("w", "a", lambda actor: (yield actor.execute(1.5e9)))
    # 0-1 s at 1 Gf/s, then 0.5e9 left at 0.5 Gf/s: 2 s (the next round starts at 1 + 1 + 0 = 2 s)
    assert sim.run() == 2.0


def test_a_bandwidth_profile_reshapes_a_transfer(tmp_path):
    plat = profiled(tmp_path, link_attrs='bandwidth_file="bw.txt"', files={"bw.txt": "1.1 5e6\n"})
    sim = Simulation(plat, network_model="CM02")
    sim.add_actor("s", "a", lambda actor: (yield actor.send("box", 2e7)))
    sim.add_actor("r", "b", lambda actor: (yield actor.recv("box")))
    # CM02: 0.1 s of latency, then the flow weighs 1.05 on l (cross-traffic): 1e7 / 1.05 B/s (the TCP window
    # allows 4194304 / 0.2 = 2.1e7) until 1.1 s; the 2e7 - 1e7 / 1.05 B left go at 5e6 / 1.05 B/s: 2.2 s more
    assert sim.run() == pytest.approx(1.1 + (2e7 - 1e7 / 1.05) / (5e6 / 1.05), rel=1e-12)


def test_a_latency_profile_moves_the_tcp_window_bound(tmp_path):
    plat = profiled(tmp_path, link_attrs='latency_file="lat.txt"', files={"lat.txt": "1.1 0.2\n"}, bandwidth="1GBps")
    sim = Simulation(plat, network_model="CM02")
    sim.add_actor("s", "a", lambda actor: (yield actor.send("box", 1e8)))
    sim.add_actor("r", "b", lambda actor: (yield actor.recv("box")))
    # bandwidth 1e9 B/s: the window bounds the flow at 4194304 / (2 x 0.1) = 20971520 B/s from 0.1 s; at 1.1 s
    # the latency is 0.2 s: 10485760 B/s for the 1e8 - 20971520 bytes left
    left = 1e8 - 4194304 / 0.2 * 1.0
    assert sim.run() == pytest.approx(1.1 + left / (4194304 / 0.4), rel=1e-12)


# -- random failures ----------------------------------------------------------------------------------------------
def test_random_failures_are_drawn_per_host_from_the_seed():
    failures = RandomFailures(100.0, 10.0, seed=7)
    first = list(zip(range(3), failures.periods("a"), strict=False))
    assert first == list(zip(range(3), RandomFailures(100.0, 10.0, seed=7).periods("a"), strict=False))
    assert first != list(zip(range(3), RandomFailures(100.0, 10.0, seed=8).periods("a"), strict=False))
    # up and down times alternate, each after the previous date
    dates = [d for _, (down, up) in first for d in (down, up)]
    assert dates == sorted(dates) and dates[0] > 0
    # the means: over 20,000 periods, within 3 % of MTBF and MTTR (the standard error is 0.7 %)
    periods = list(zip(range(20_000), RandomFailures(100.0, 10.0, seed=1).periods("h"), strict=False))
    ups = [down - (periods[i - 1][1][1] if i else 0.0) for i, (_, (down, _)) in enumerate(periods)]
    downs = [up - down for _, (down, up) in periods]
    assert sum(ups) / len(ups) == pytest.approx(100.0, rel=0.03)
    assert sum(downs) / len(downs) == pytest.approx(10.0, rel=0.03)
    with pytest.raises(ValueError, match="MTBF must be a positive number"):
        RandomFailures(0.0, 1.0)


def test_replay_run_fail_hosts_is_deterministic(tmp_path):
    runner = CliRunner()

    def run(seed: int) -> dict:
        out = tmp_path / f"s{seed}.json"
        result = runner.invoke(app, ["run", "traces/consolidation.trace", "--fail-hosts", "30s,5s", "--seed",
                                     str(seed), "--summary", str(out), "--quiet"])
        assert result.exit_code == 0, result.output
        summary = json.loads(out.read_text())
        summary.pop("wall_time", None)
        return summary

    assert run(3) == run(3)
    assert run(3) != run(4)
    result = runner.invoke(app, ["run", "traces/consolidation.trace", "--fail-hosts", "30s", "--quiet"])
    assert result.exit_code != 0
    assert "--fail-hosts: expected MTBF,MTTR (two durations, e.g. 1h,10m), found '30s'" in result.output


# -- what SimGrid does to an actor's other requests ---------------------------------------------------------------
def test_wait_all_fails_at_the_first_failed_request_once_those_before_it_are_done():
    sim = Simulation(PLAT)
    seen = {}

    def receiver(actor):
        first, second = actor.recv("from_a"), actor.recv("from_c")
        try:
            yield actor.wait_all([first, second])
        except ActivityFailed as failure:
            seen["failed"] = (actor.now, first.done, str(failure))

    sim.add_actor("a", "a", lambda actor: (yield actor.send("from_a", 1e7)))
    sim.add_actor("c", "c", lambda actor: (yield actor.send("from_c", 1e8)))
    sim.add_actor("r", "b", receiver)
    sim.add_actor("ctl", "c", switcher(sim, ("sleep", 1.0), ("link_off", "m")))
    sim.run()
    # c's transfer over m fails at 1 s, but a's, first in the list, ends only at LAT + 1.05e7 / BW = 1.0955 s:
    # as SimGrid's wait_all, which waits its requests in order, the failure comes then
    date, first_done, message = seen["failed"]
    assert date == pytest.approx(LAT + 1.05e7 / BW, rel=1e-12) and first_done
    assert message == "transfer on mailbox 'from_c' failed: link 'm' went off at t=1 s"


def test_an_actor_ending_cancels_the_transfers_it_did_not_wait_for():
    sim = Simulation(PLAT)
    seen = {}

    def sender(actor):
        actor.send("box", 1e8)  # posted, never waited for: SimGrid cancels it when the actor ends
        yield actor.sleep(1.0)

    def receiver(actor):
        try:
            yield actor.recv("box")
        except ActivityFailed as failure:
            seen["r"] = (actor.now, str(failure))

    sim.add_actor("s", "a", sender)
    sim.add_actor("r", "b", receiver)
    sim.run()
    assert seen["r"] == (1.0, "transfer on mailbox 'box' failed: its peer 's' ended without waiting for it")


def test_a_killed_actor_takes_back_its_unmatched_sends():
    sim = Simulation(PLAT)

    def sender(actor):
        actor.send("box", 1e6)
        yield actor.sleep(10.0)

    def late(actor):
        yield actor.sleep(3.0)
        yield actor.recv("box")

    sim.add_actor("s", "a", sender)
    sim.add_actor("r", "b", late)
    sim.add_actor("ctl", "c", switcher(sim, ("sleep", 1.0), ("host_off", "a")))
    sim.run()
    # s was killed at 1 s: its message left the mailbox with it, so r, posting at 3 s, waits for nothing
    assert outcome(sim.actors["s"]) == ("killed", 1.0)
    assert outcome(sim.actors["r"]) == ("blocked", 3.0)


def test_a_link_on_the_reverse_route_only_does_not_move_a_flows_penalty(tmp_path):
    (tmp_path / "bw.txt").write_text("0.5 100000000\n")
    (tmp_path / "p.xml").write_text(
        "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
        '<platform version="4.1"><zone id="z" routing="Full"><host id="x" speed="1Gf"/><host id="y" speed="1Gf"/>'
        '<link id="fwd" bandwidth="10MBps" latency="1ms"/>'
        '<link id="back" bandwidth="1MBps" latency="1ms" bandwidth_file="bw.txt"/>'
        '<route src="x" dst="y" symmetrical="NO"><link_ctn id="fwd"/></route>'
        '<route src="y" dst="x" symmetrical="NO"><link_ctn id="back"/></route></zone></platform>\n'
    )
    sim = Simulation(load_platform(tmp_path / "p.xml"))
    sim.add_actor("s", "x", lambda actor: (yield actor.send("box", 1e7)))
    sim.add_actor("r", "y", lambda actor: (yield actor.recv("box")))
    # x to y crosses fwd (weight 1) and back as reverse route (0.05 x 0.97e6 B/s is no limit): 0.97e7 B/s on fwd
    # after 13.01 ms, whatever back's bandwidth does (SimGrid would move the penalty by 20537 / 1e8 - 20537 / 1e6,
    # below 0, and abort)
    assert sim.run() == pytest.approx(LAT + 1e7 / BW, rel=1e-12)
