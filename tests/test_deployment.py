"""Deployment files: actors, their arguments and times, as SimGrid 3.32 reads them, and every error with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.errors import PlatformError
from replay.platform import ActorSpec, load_deployment, load_deployment_string, load_platform_string

SHARED = Path(__file__).resolve().parents[2] / "shared" / "simgrid"
HEAD = '<?xml version="1.0"?>\n<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">\n<platform version="4.1">\n'


def deploy(body: str, **kwargs) -> list[ActorSpec]:
    """Actors from the body of <platform>, which starts on line 4."""
    return load_deployment_string(HEAD + body + "\n</platform>\n", source="d.xml", **kwargs)


PLATFORM = load_platform_string(
    HEAD + '<zone id="z" routing="Full"><host id="Tremblay" speed="1Gf"/><host id="Jupiter" speed="1Gf"/>'
    "</zone></platform>"
)


def test_actors_in_order_with_arguments() -> None:
    actors = deploy(
        '<actor host="Tremblay" function="p0">\n'
        '  <argument value="p0.txt"/>\n'
        '  <argument value="42"/>\n'
        "</actor>\n"
        '<actor host="Jupiter" function="p1"/>'
    )
    assert actors == [
        ActorSpec("Tremblay", "p0", ("p0.txt", "42"), "d.xml", 4),
        ActorSpec("Jupiter", "p1", (), "d.xml", 8),
    ]
    # SimGrid's defaults: start at once (-1), never killed (-1), die on failure
    assert (actors[1].start_time, actors[1].kill_time, actors[1].on_failure) == (-1.0, -1.0, "DIE")


def test_times_properties_and_the_old_process_name() -> None:
    (actor,) = deploy(
        '<process host="Jupiter" function="worker" start_time="2.5" kill_time="10" on_failure="RESTART">\n'
        '<prop id="role" value="server"/><argument value="x"/></process>'
    )
    assert (actor.host, actor.function, actor.args) == ("Jupiter", "worker", ("x",))
    assert (actor.start_time, actor.kill_time, actor.on_failure) == (2.5, 10.0, "RESTART")
    assert actor.properties == {"role": "server"}


def test_platform_elements_in_the_same_file_are_skipped() -> None:
    actors = deploy(
        '<zone id="z" routing="Full"><host id="Tremblay" speed="1Gf"/></zone>\n<actor host="Tremblay" function="p0"/>'
    )
    assert [a.function for a in actors] == ["p0"]


def test_hosts_are_checked_against_a_platform() -> None:
    assert deploy('<actor host="Tremblay" function="p0"/>', platform=PLATFORM)[0].host == "Tremblay"
    with pytest.raises(PlatformError, match=r"d.xml:5: cannot place actor 'p1': unknown host 'Jupyter' .*'Jupiter'"):
        deploy('<actor host="Tremblay" function="p0"/>\n<actor host="Jupyter" function="p1"/>', platform=PLATFORM)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('<actor function="p0"/>', r"d.xml:4: <actor> needs the attribute 'host'"),
        ('<actor host="a" function="p0" start="1"/>', r"d.xml:4: unknown attribute 'start' in <actor>"),
        (
            '<actor host="a" function="p0">\n<arg value="1"/></actor>',
            r"d.xml:5: <arg> is not allowed inside <actor>; <actor> may contain <argument> and <prop>",
        ),
        ('<actor host="a" function="p0">\n<argument/></actor>', r"d.xml:5: <argument> needs the attribute 'value'"),
        ('<actor host="a" function="p0" start_time="soon"/>', r"d.xml:4: start_time 'soon' is not a number"),
        ('<actor host="a" function="p0" kill_time="inf"/>', r"d.xml:4: kill_time 'inf' is not a finite number"),
        ('<actor host="a" function="p0" on_failure="RETRY"/>', r"d.xml:4: on_failure of <actor> must be DIE or"),
        ('<actor host="a" function="p0">', r"d.xml:5: malformed XML: mismatched tag"),
        ('<task host="a"/>', r"d.xml:4: unknown element <task>"),
    ],
)
def test_errors(body: str, message: str) -> None:
    with pytest.raises(PlatformError, match=message):
        deploy(body)


def test_root_and_version() -> None:
    with pytest.raises(PlatformError, match=r"d.xml:1: expected the root element <platform>, found <actors>"):
        load_deployment_string("<actors/>", source="d.xml")
    with pytest.raises(PlatformError, match=r"d.xml:1: expected <platform version=\"4.1\"> \(or 4\), found version"):
        load_deployment_string('<platform version="3"/>', source="d.xml")


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PlatformError, match=r"nope_d.xml: no such file"):
        load_deployment(tmp_path / "nope_d.xml")
    bad = tmp_path / "bad_d.xml"
    bad.write_bytes(b'<?xml version="1.0"?>\n<platform version="4.1">\n<actor host="\xff" function="f"/>\n')
    with pytest.raises(PlatformError, match=r"bad_d.xml:3: not UTF-8 text"):
        load_deployment(bad)


@pytest.mark.skipif(
    not (SHARED / "replay-comm").is_dir(), reason=f"SimGrid's examples are not beside the repo ({SHARED})"
)
def test_simgrid_replay_comm_deployments() -> None:
    split = load_deployment(SHARED / "replay-comm" / "s4u-replay-comm-split_d.xml")
    assert [(a.host, a.function, a.args) for a in split] == [
        ("Tremblay", "p0", ("s4u-replay-comm-split-p0.txt",)),
        ("Ruby", "p1", ("s4u-replay-comm-split-p1.txt",)),
    ]
    assert split[0].line == 8 and split[0].path.endswith("s4u-replay-comm-split_d.xml")
    shared = load_deployment(SHARED / "replay-comm" / "s4u-replay-comm_d.xml")
    assert [(a.host, a.function, a.args) for a in shared] == [("Tremblay", "p0", ()), ("Ruby", "p1", ())]
