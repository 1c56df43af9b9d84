"""Any number, anywhere: every numeric field of every action and of the platform and deployment, given any
float (huge, tiny, negative, zero, non-finite), in decimal or hexadecimal, with or without a unit, gives either a
run that ends or a one-line error of the project's, never a hang nor a traceback."""

from __future__ import annotations

import contextlib
import math
import signal
import warnings
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replay.errors import ReplayError
from replay.session import ReplaySession

# A scenario touching every action with a number, and the platform and deployment attributes that are numbers;
# each {field} is a valid value that the test replaces.
TRACE = """\
admin vm_create v h0 cores={cores} ram={ram} dp_intensity={dp_intensity} working_set={working_set} \
mig_speed={mig_speed} max_downtime={max_downtime} bound={bound} devsize={devsize} \
xfer_cpu_overhead={xfer} dpt_cpu_overhead={dpt}
admin vm_start v
admin sleep {sleep}
admin vm_set_bound v {set_bound}
admin vm_migrate v h1
w init v
w compute {flops} {priority}
p0 send p1 {size}
p1 recv p0
p0 isend p1 {isize}
p1 irecv p0
p0 wait
p1 wait
"""
PLATFORM = """\
<?xml version="1.0"?><platform version="{version}"><zone id="z" routing="Full">
<host id="h0" speed="{speed}" core="{core}"><prop id="ramsize" value="{ramsize}"/>\
<prop id="disk_bandwidth" value="{disk}"/></host>
<host id="h1" speed="1Gf,{speed2}" core="2"/>
<link id="l" bandwidth="{bandwidth}" latency="{latency}"/>
<route src="h0" dst="h1"><link_ctn id="l"/></route>
</zone></platform>
"""
DEPLOY = """\
<?xml version="1.0"?><platform version="4.1">
<actor host="h0" function="admin" start_time="{start}" kill_time="{kill}"/>
</platform>
"""
VALID = {
    "cores": "1", "ram": "1GiB", "dp_intensity": "0.5", "working_set": "100MiB", "mig_speed": "100MBps",
    "max_downtime": "30ms", "bound": "2Gf", "devsize": "1MB", "xfer": "0.1", "dpt": "0.1", "sleep": "1",
    "set_bound": "0", "flops": "1e9", "priority": "1", "size": "1e6", "isize": "1e3",
    "version": "4.1", "speed": "1Gf", "core": "2", "ramsize": "16GiB", "disk": "100MBps", "speed2": "500Mf",
    "bandwidth": "125MBps", "latency": "100us", "start": "0", "kill": "-1",
}
UNITS = ["", "f", "Gf", "B", "GiB", "Bps", "Gbps", "s", "ms", "us", "%", "e", "x"]

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(float.hex),
    st.sampled_from(["1e308", "1.7976931348623157e308", "5e-324", "1e-300", "-0", "0", "1e400", "-1e400",
                     "0x1p2000", "0x1p-2000", "nan", "inf", "-inf", "1_0", " 1", "1 ", "", "2147483648",
                     "99999999999999999999", "0.0000001", "1e-9"]),
)


@st.composite
def hostile(draw: st.DrawFn) -> dict[str, str]:
    """The valid values, with one to three of them replaced by an arbitrary number (and maybe a unit)."""
    values = dict(VALID)
    for key in draw(st.lists(st.sampled_from(sorted(VALID)), min_size=1, max_size=3, unique=True)):
        values[key] = draw(NUMBERS) + draw(st.sampled_from(UNITS))
    return values


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: an alarm that raises in the test."""

    def expired(signum, frame):
        raise TimeoutError(f"no end after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check_one(tmp_path, values: dict[str, str]) -> None:
    (tmp_path / "t.trace").write_text(TRACE.format(**values))
    (tmp_path / "p.xml").write_text(PLATFORM.format(**values))
    (tmp_path / "d.xml").write_text(DEPLOY.format(**values))
    try:
        with deadline(20), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bare numbers in the platform warn, as in SimGrid
            session = ReplaySession.open([tmp_path / "t.trace"], platform=tmp_path / "p.xml",
                                         deploy=tmp_path / "d.xml")
            result = session.run()
    except ReplayError as error:
        message = str(error)
        assert message and "\n" not in message, message
        return
    assert math.isfinite(result.simulated_time)
    assert all(actor["end"] is None or math.isfinite(actor["end"]) for actor in result.actors.values())


def test_the_valid_scenario_runs(tmp_path):
    # The baseline the sweep changes: it must run, or the sweep would only ever see its own error.
    (tmp_path / "t.trace").write_text(TRACE.format(**VALID))
    (tmp_path / "p.xml").write_text(PLATFORM.format(**VALID))
    (tmp_path / "d.xml").write_text(DEPLOY.format(**VALID))
    result = ReplaySession.open([tmp_path / "t.trace"], platform=tmp_path / "p.xml", deploy=tmp_path / "d.xml").run()
    assert result.counts["actions"] == 13 and len(result.migrations) == 1


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM to turn a hang into a failure")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=hostile())
def test_any_number_anywhere_ends_or_is_one_line(tmp_path, values):
    check_one(tmp_path, values)
