"""Availability and state profiles: the file syntax, the dates SimGrid 3.32 applies values at, and the platform
elements that attach profiles to hosts and links (``speed_file``, ``state_file``, ``<trace>``, ``<trace_connect>``).

Every expected timeline is derived by hand in a comment; the platform of ``tests/data/profiles/`` was also run
through SimGrid 3.32, which changed its resources at exactly the dates listed in ``test_the_data_platform``.
"""

from __future__ import annotations

import dataclasses
from itertools import islice
from pathlib import Path

import pytest

from replay.errors import PlatformError
from replay.platform import load_deployment_string, load_platform, load_platform_string
from replay.platform.attribute_values import PlatformWarning
from replay.platform.profiles import Profile, parse_profile

DATA = Path(__file__).resolve().parent / "data" / "profiles"


def first(profile: Profile, count: int) -> list[tuple[float, float]]:
    return list(islice(profile.timeline(), count))


# -- the file syntax and the timeline ------------------------------------------------------------------------------


def test_comments_blank_lines_and_line_breaks_are_skipped() -> None:
    text = "# comment\r\n% other comment\n\n   \n  1 0.5  \r2\t0.25 # trailing comment\n"
    profile = parse_profile(text, "p", "p.txt")
    assert profile.values == ((1.0, 0.5), (2.0, 0.25))
    assert profile.repeat_delay is None and not profile.repeats and profile.period is None
    assert list(profile.timeline()) == [(1.0, 0.5), (2.0, 0.25)]  # once, then nothing


def test_loopafter_waits_after_the_last_date_then_adds_the_first() -> None:
    # dates 1, 2, 5 and LOOPAFTER 3: a round lasts 5 (last date) + 3 = 8 s, so round k (from 0) applies its values
    # at 8k + 1, 8k + 2, 8k + 5: 1, 2, 5, 9, 10, 13, 17, 18, 21
    profile = parse_profile("1 0.5\n2 0.25\n5 1.0\nLOOPAFTER 3\n", "p", "p.txt")
    assert profile.repeat_delay == 3.0 and profile.period == 8.0
    assert first(profile, 9) == [
        (1.0, 0.5), (2.0, 0.25), (5.0, 1.0), (9.0, 0.5), (10.0, 0.25), (13.0, 1.0), (17.0, 0.5), (18.0, 0.25),
        (21.0, 1.0),
    ]


def test_periodicity_starts_a_round_every_period() -> None:
    # dates 1, 2, 5 and PERIODICITY 10: round k at 10k + 1, 10k + 2, 10k + 5; SimGrid stores it as a repeat delay
    # of 10 - 5 = 5 after the last date
    profile = parse_profile("1 0.5\n2 0.25\n5 1.0\nPERIODICITY 10\n", "p", "p.txt")
    assert profile.repeat_delay == 5.0 and profile.period == 10.0
    assert first(profile, 7) == [
        (1.0, 0.5), (2.0, 0.25), (5.0, 1.0), (11.0, 0.5), (12.0, 0.25), (15.0, 1.0), (21.0, 0.5)
    ]


def test_a_period_equal_to_the_last_date_gives_two_values_at_one_date() -> None:
    # dates 0, 2, 5 and PERIODICITY 5: the second round's date 0 is 5, the first round's last date: both values
    # come at 5, the round's last then the next round's first, which holds (SimGrid applies them in that order)
    profile = parse_profile("0 0.5\n2 0.25\n5 1.0\nPERIODICITY 5\n", "p", "p.txt")
    assert first(profile, 7) == [(0.0, 0.5), (2.0, 0.25), (5.0, 1.0), (5.0, 0.5), (7.0, 0.25), (10.0, 1.0), (10.0, 0.5)]


def test_loopafter_with_a_first_date_of_zero() -> None:
    # dates 0, 3 and LOOPAFTER 1: a round lasts 3 + 1 = 4 s: 0, 3, 4, 7, 8, 11
    profile = parse_profile("0 0.5\n3 0.25\nLOOPAFTER 1\n", "p", "p.txt")
    assert first(profile, 6) == [(0.0, 0.5), (3.0, 0.25), (4.0, 0.5), (7.0, 0.25), (8.0, 0.5), (11.0, 0.25)]


def test_the_periodicity_of_an_inline_trace_repeats_it_and_a_line_wins() -> None:
    # periodicity 4 with dates 0, 1: rounds at 0 and 4: 0, 1, 4, 5
    assert first(parse_profile("0 0.5\n1 0.25", "t", "p.xml", 7, periodicity=4), 4) == [
        (0.0, 0.5), (1.0, 0.25), (4.0, 0.5), (5.0, 0.25)
    ]
    assert parse_profile("0 1\n1 0", "t", "p.xml", 7, periodicity=-1).repeat_delay is None
    # a PERIODICITY line overrides the attribute, as in SimGrid: rounds at 0 and 6
    assert parse_profile("0 1\n1 0\nPERIODICITY 6", "t", "p.xml", 7, periodicity=4).period == 6.0


def test_dates_are_simgrids_sums_bit_for_bit() -> None:
    # SimGrid keeps the gaps 0.1, 0.3 - 0.1, 0.7 - 0.3 and starts a round with 0.1 + (1.1 - 0.7); each date is the
    # previous one plus a gap, so rounding drifts: SimGrid 3.32 printed 1.2000000000000002 for the 4th value
    # and 8.0000000000000018 for the 23rd (round 7 starts near 7.7, plus 0.3 - 0.1)
    dates = [date for date, _ in first(parse_profile("0.1 1\n0.3 2\n0.7 3\nPERIODICITY 1.1", "p", "p"), 23)]
    assert dates[3] == 1.2000000000000002 and dates[3] != 1.2
    assert dates[22] == 8.0000000000000018


def test_equal_dates_and_det_are_accepted() -> None:
    # SimGrid's 'DET x' is x in a deterministic profile; equal dates are allowed and keep their order
    profile = parse_profile("DET 1 DET 0.5\n1 0.25\n", "p", "p.txt")
    assert profile.values == ((1.0, 0.5), (1.0, 0.25))


def test_an_empty_profile_changes_nothing_even_when_it_repeats() -> None:
    assert list(parse_profile("# nothing\n", "p", "p").timeline()) == []
    assert list(parse_profile("LOOPAFTER 2\n", "p", "p").timeline()) == []


def test_a_profile_is_immutable_and_compared_by_its_values() -> None:
    one = parse_profile("1 0.5\n", "p", "a.txt")
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.values = ()  # type: ignore[misc]
    assert one == parse_profile("\n1 0.5\n", "p", "b.txt", 10)  # the origin takes no part in equality


PROFILE_ERRORS = [
    ("unsorted", "1 1\n3 0.5\n2 0.25\n", r"^p.txt:3: expected dates in increasing order, found 2 after 3$"),
    ("bad value", "1 0.5\n2 half\n", r"^p.txt:2: expected a number for the value, found 'half'$"),
    ("bad date", "# c\none 0.5\n", r"^p.txt:2: expected a number for the date, found 'one'$"),
    ("state word", "0 on\n", r"^p.txt:1: expected a number for the value, found 'on'$"),
    ("negative date", "-1 0.5\n", r"^p.txt:1: the date must be >= 0, found '-1'$"),
    ("negative value", "1 -0.5\n", r"^p.txt:1: the value must be >= 0, found '-0.5'$"),
    ("infinite", "1 inf\n", r"^p.txt:1: expected a number for the value, found 'inf'$"),
    ("missing value", "\n\n5\n", r"^p.txt:3: expected 'date value' \(or PERIODICITY, LOOPAFTER, a # comment\)"),
    ("extra token", "1 0.5 0.7\n", r"^p.txt:1: expected 'date value', found more: '0.7'$"),
    ("stochastic", "STOCHASTIC\nDET 1 UNIF 0 1\n", r"^p.txt:1: stochastic profiles .* are not supported"),
    ("stochastic law", "1 0.5\nEXP 2 0.5\n", r"^p.txt:2: stochastic profiles .* are not supported"),
    ("loop_after", "1 0.5\nLOOP_AFTER 2\n", r"^p.txt:2: unknown keyword LOOP_AFTER: SimGrid spells it LOOPAFTER$"),
    ("zero period", "1 0.5\nPERIODICITY 0\n", r"^p.txt:2: PERIODICITY must be positive, found '0' \(SimGrid"),
    ("short period", "1 0.5\n4 1\nPERIODICITY 3\n", r"^p.txt:3: PERIODICITY 3 is shorter than the last date 4"),
    ("negative loop", "1 0.5\nLOOPAFTER -1\n", r"^p.txt:2: LOOPAFTER must be >= 0, found '-1'$"),
    ("both", "1 0.5\nPERIODICITY 5\nLOOPAFTER 1\n", r"^p.txt:3: give PERIODICITY or LOOPAFTER, not both$"),
    ("twice", "PERIODICITY 5\n1 0.5\nPERIODICITY 6\n", r"^p.txt:3: a second PERIODICITY line \(the first is line 1\)$"),
    ("bad keyword value", "LOOPAFTER soon\n", r"^p.txt:1: expected a number for LOOPAFTER, found 'soon'$"),
    ("zero round", "0 1\n0 0\nLOOPAFTER 0\n", r"^p.txt:3: a repeating profile whose dates are all 0 must wait"),
]


@pytest.mark.parametrize(
    ("text", "message"), [(t, m) for _, t, m in PROFILE_ERRORS], ids=[n for n, _, _ in PROFILE_ERRORS]
)
def test_profile_errors_name_the_file_and_line(text: str, message: str) -> None:
    with pytest.raises(PlatformError, match=message):
        parse_profile(text, "p", "p.txt")


def test_inline_errors_count_lines_from_the_text() -> None:
    # the text starts on line 12 of the platform: its third line is line 14
    with pytest.raises(PlatformError, match=r"^p.xml:14: expected dates in increasing order, found 1 after 2$"):
        parse_profile("\n2 1\n1 1\n", "t", "p.xml", 12)
    with pytest.raises(PlatformError, match=r"^p.xml:12: give PERIODICITY or LOOPAFTER, not both \(the <trace>'s"):
        parse_profile("1 1\nLOOPAFTER 2", "t", "p.xml", 11, periodicity=5)


# -- the platform: attributes, <trace>, <trace_connect> ----------------------------------------------------------


def test_the_data_platform() -> None:
    platform = load_platform(DATA / "platform.xml")
    hosts, links = platform.hosts, platform.links
    # speed_loop.txt: 1, 2, 5 then LOOPAFTER 3, relative to the platform's directory
    assert first(hosts["a"].speed_profile, 6) == [(1, 0.5), (2, 0.25), (5, 1.0), (9, 0.5), (10, 0.25), (13, 1.0)]
    assert hosts["a"].state_profile is None
    # speed_period.txt (CRLF, a % comment, a tab, a trailing comment): 1, 2, 5 every 10 s; states/fail.txt: off at
    # 0 (before anything runs), on at 3, off at 4 for good
    assert first(hosts["b"].speed_profile, 4) == [(1, 0.5), (2, 0.25), (5, 1.0), (11, 0.5)]
    assert list(hosts["b"].state_profile.timeline()) == [(0, 0), (3, 1), (4, 0)]
    assert hosts["b"].state_profile.name == "states/fail.txt"
    # <trace_connect> without kind (HOST_AVAIL: the state) before host c is declared: off at 1, on at 3
    assert hosts["c"].state_profile.name == "down" and hosts["c"].speed_profile is None
    assert list(hosts["c"].state_profile.timeline()) == [(1, 0), (3, 1)]
    # inline trace 'slow' (periodicity 4, lines 6-7) on cluster node n1, connected before the cluster exists:
    # 0, 1, then every 4 s
    assert first(hosts["n1"].speed_profile, 6) == [(0, 0.5), (1, 0.25), (4, 0.5), (5, 0.25), (8, 0.5), (9, 0.25)]
    assert hosts["n1"].speed_profile.origin.endswith("platform.xml:5")
    assert hosts["n0"].speed_profile is None and hosts["n0"].state_profile is None
    # link l: bandwidth 2e6 B/s from 0, 1e6 from 2.5; latency 0.5 s from 1, 0.25 s from 3
    assert list(links["l"].bandwidth_profile.timeline()) == [(0, 2e6), (2.5, 1e6)]
    assert list(links["l"].latency_profile.timeline()) == [(1, 0.5), (3, 0.25)]
    # the SPLITDUPLEX link's halves share its bandwidth profile (SimGrid gives both halves the profile)
    assert links["s_UP"].bandwidth_profile is links["s_DOWN"].bandwidth_profile is not None
    assert links["s_UP"].state_profile is None and links["cl_link_1_UP"].bandwidth_profile is None
    # SimGrid 3.32 ran this very file and changed hosts and links at: n1 0; a, b, c, n1 1; a, b 2; l, s 2.5;
    # b, c 3; b, n1 4; a, b, n1 5; n1 8; a, n1 9; a 10; b 11; b, n1 12; a, n1 13; b 15; n1 16
    dates: dict[float, set[str]] = {}
    resources = [(n, h.speed_profile) for n, h in hosts.items()] + [(n, h.state_profile) for n, h in hosts.items()]
    resources += [(n, lk.bandwidth_profile) for n, lk in links.items()]
    resources += [(n, lk.latency_profile) for n, lk in links.items()]
    for name, profile in resources:
        for date, _ in profile.timeline() if profile else ():
            if date > 16:
                break
            dates.setdefault(date, set()).add(name.removesuffix("_UP").removesuffix("_DOWN"))
    assert dates == {
        0: {"n1", "b", "l"}, 1: {"a", "b", "c", "n1", "l"}, 2: {"a", "b"}, 2.5: {"l", "s"}, 3: {"b", "c", "l"},
        4: {"b", "n1"}, 5: {"a", "b", "n1"}, 8: {"n1"}, 9: {"a", "n1"}, 10: {"a"}, 11: {"b"}, 12: {"b", "n1"},
        13: {"a", "n1"}, 15: {"b"}, 16: {"n1"},
    }  # at 0, b's state and l's bandwidth are applied at load time, before SimGrid's callbacks could print them


def platform_in(tmp_path: Path, body: str, files: dict[str, str] | None = None) -> Path:
    """Write ``p.xml`` (body starting on line 4) and its profile files in ``tmp_path``; return its path."""
    for name, text in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    path = tmp_path / "p.xml"
    path.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE platform SYSTEM "simgrid.dtd">\n<platform version="4.1">\n'
                    f"{body}\n</platform>\n")
    return path


HOSTS = '<zone id="z" routing="Full">\n<host id="a" speed="1Gf"/>\n<link id="l" bandwidth="1MBps"/>\n</zone>'


def test_a_relative_path_is_searched_in_the_working_directory_first(tmp_path, monkeypatch) -> None:
    # SimGrid's search path is "./" then the platform's directory: a file of the same name in the working
    # directory wins (SimGrid 3.32 read 0.1 from there, 0.9 once it was removed)
    plat = platform_in(tmp_path / "plat", '<zone id="z" routing="Full"><host id="a" speed="1Gf" speed_file="x.txt"/>'
                       "</zone>", {"x.txt": "1 0.9\n"})
    (tmp_path / "x.txt").write_text("1 0.1\n")
    monkeypatch.chdir(tmp_path)
    assert load_platform(plat).hosts["a"].speed_profile.values == ((1.0, 0.1),)
    (tmp_path / "x.txt").unlink()
    assert load_platform(plat).hosts["a"].speed_profile.values == ((1.0, 0.9),)


def test_a_missing_file_names_the_platform_line_and_the_paths_tried(tmp_path) -> None:
    plat = platform_in(tmp_path, '<zone id="z" routing="Full">\n<host id="a" speed="1Gf" state_file="s/f.txt"/></zone>')
    with pytest.raises(PlatformError, match=rf"^{plat}:5: cannot read state_file of host 'a': no file 's/f.txt' "
                                            rf"\(looked for './s/f.txt' and '{tmp_path}/s/f.txt'\)$"):
        load_platform(plat)


def test_an_error_in_a_profile_file_names_that_file(tmp_path) -> None:
    plat = platform_in(tmp_path, '<zone id="z" routing="Full">\n<link id="l" bandwidth="1MBps" latency_file="lat.txt"/>'
                       "</zone>", {"lat.txt": "# latency\n2 1ms\n"})
    with pytest.raises(PlatformError, match=rf"^{tmp_path}/lat.txt:2: expected a number for the value, found '1ms'$"):
        load_platform(plat)


def test_an_error_in_an_inline_trace_names_the_platform_line(tmp_path) -> None:
    plat = platform_in(tmp_path, '<trace id="t" periodicity="-1">\n0 1\n5 0\n4 1\n</trace>\n' + HOSTS)
    with pytest.raises(PlatformError, match=rf"^{plat}:7: expected dates in increasing order, found 4 after 5$"):
        load_platform(plat)


def test_availability_file_is_the_deprecated_speed_file(tmp_path) -> None:
    files = {"s.txt": "1 0.5\n"}
    plat = platform_in(tmp_path, '<zone id="z" routing="Full"><host id="a" speed="1Gf" availability_file="s.txt"/>'
                       "</zone>", files)
    with pytest.warns(PlatformWarning, match=r"p.xml:4: availability_file \(host 'a'\) is deprecated"):
        assert load_platform(plat).hosts["a"].speed_profile.values == ((1.0, 0.5),)


def test_a_file_trace_ignores_its_periodicity_with_a_warning(tmp_path) -> None:
    plat = platform_in(tmp_path, '<trace id="t" file="s.txt" periodicity="10"/>\n'
                       '<trace_connect kind="SPEED" trace="t" element="a"/>\n' + HOSTS, {"s.txt": "1 0.5\n"})
    with pytest.warns(PlatformWarning, match=r"p.xml:4: periodicity of <trace> 't' is ignored"):
        profile = load_platform(plat).hosts["a"].speed_profile
    assert profile.name == "s.txt" and not profile.repeats  # SimGrid 3.32 never repeated it


def test_trace_connect_may_come_after_routes_and_the_zone(tmp_path) -> None:
    body = ('<zone id="z" routing="Full">\n<host id="a" speed="1Gf"/><host id="b" speed="1Gf"/>\n'
            '<link id="l" bandwidth="1MBps"/><route src="a" dst="b"><link_ctn id="l"/></route>\n'
            '<trace id="t" periodicity="0">2 0.1</trace><trace_connect kind="SPEED" trace="t" element="a"/>\n'
            '</zone>\n<trace id="u" periodicity="0">5 0</trace><trace_connect kind="HOST_AVAIL" trace="u" '
            'element="b"/>')
    hosts = load_platform(platform_in(tmp_path, body)).hosts
    assert hosts["a"].speed_profile.values == ((2.0, 0.1),) and hosts["b"].state_profile.values == ((5.0, 0.0),)


def test_a_deployment_skips_the_traces_of_a_combined_file() -> None:
    text = ('<?xml version="1.0"?>\n<platform version="4.1">\n<trace id="t" periodicity="-1">1 1</trace>\n'
            '<actor host="a" function="f"/>\n</platform>')
    assert [actor.host for actor in load_deployment_string(text, "d.xml")] == ["a"]


PLATFORM_ERRORS = [
    (
        "trace after its connection",
        '<trace_connect trace="t" element="a"/>\n<trace id="t" periodicity="-1">1 1</trace>\n' + HOSTS,
        r"p.xml:4: <trace_connect> names trace 't', which is not defined before it$",
    ),
    (
        "unknown element",
        '<trace id="t" periodicity="-1">1 1</trace>\n<trace_connect kind="SPEED" trace="t" element="ab"/>\n' + HOSTS,
        r"p.xml:5: <trace_connect kind=\"SPEED\">: no host 'ab' \(did you mean 'a'\?\)$",
    ),
    (
        "host kind on a link",
        '<trace id="t" periodicity="-1">1 1</trace>\n<trace_connect trace="t" element="l"/>\n' + HOSTS,
        r"p.xml:5: <trace_connect kind=\"HOST_AVAIL\">: 'l' is a link, and HOST_AVAIL applies to hosts$",
    ),
    (
        "link kind on a host",
        '<trace id="t" periodicity="-1">1 1</trace>\n<trace_connect kind="BANDWIDTH" trace="t" element="a"/>\n' + HOSTS,
        r"p.xml:5: <trace_connect kind=\"BANDWIDTH\">: 'a' is a host, and BANDWIDTH applies to links$",
    ),
    (
        "link kind on a zone",
        '<trace id="t" periodicity="-1">1 1</trace>\n<trace_connect kind="LINK_AVAIL" trace="t" element="z"/>\n'
        + HOSTS,
        r"p.xml:5: .*'z' is a zone, and LINK_AVAIL applies to links$",
    ),
    (
        "connection to a link",
        '<trace id="t" periodicity="-1">1 1</trace>\n<trace_connect kind="LATENCY" trace="t" element="l"/>\n' + HOSTS,
        r"p.xml:5: <trace_connect kind=\"LATENCY\"> to link 'l' is refused: SimGrid 3.32 aborts on any .*\"Cannot "
        r"set a latency profile once the Link is sealed\"\); give the link a latency_file attribute instead$",
    ),
    (
        "unknown link",
        '<trace id="t" periodicity="-1">1 1</trace>\n<trace_connect kind="BANDWIDTH" trace="t" element="m"/>\n' + HOSTS,
        r"p.xml:5: <trace_connect kind=\"BANDWIDTH\">: no link 'm'",
    ),
    (
        "bad kind",
        '<trace id="t" periodicity="-1">1 1</trace>\n<trace_connect kind="POWER" trace="t" element="a"/>\n' + HOSTS,
        r"p.xml:5: kind of <trace_connect> must be HOST_AVAIL, .* found 'POWER' \(SimGrid renamed POWER to SPEED\)$",
    ),
    (
        "connected twice",
        '<trace id="t" periodicity="-1">1 1</trace>\n<trace_connect trace="t" element="a"/>\n'
        '<trace_connect trace="t" element="b"/>\n' + HOSTS,
        r"p.xml:6: trace 't' is already connected as HOST_AVAIL to 'a' at .*p.xml:5: SimGrid 3.32 connects a trace",
    ),
    (
        "two state profiles",
        '<trace id="t" periodicity="-1">1 1</trace>\n<trace id="u" periodicity="-1">1 1</trace>\n'
        '<trace_connect trace="t" element="a"/>\n<trace_connect trace="u" element="a"/>\n' + HOSTS,
        r"p.xml:7: <trace_connect kind=\"HOST_AVAIL\">: host 'a' already has a state profile, from trace 't' at "
        r".*p.xml:6 \(SimGrid 3.32 refuses a second one\)$",
    ),
    (
        "attribute and connection",
        '<trace id="t" periodicity="-1">1 1</trace>\n<trace_connect kind="SPEED" trace="t" element="a"/>\n'
        '<zone id="z" routing="Full">\n<host id="a" speed="1Gf" speed_file="s.txt"/>\n</zone>',
        r"p.xml:5: .*host 'a' already has a speed profile, from speed_file at .*p.xml:7 \(SimGrid 3.32 refuses",
    ),
    (
        "duplicate id",
        '<trace id="t" periodicity="-1">1 1</trace>\n<trace id="t" periodicity="-1">2 1</trace>\n' + HOSTS,
        r"p.xml:5: duplicate trace id 't': already defined at .*p.xml:4$",
    ),
    (
        "file and text",
        '<trace id="t" file="s.txt" periodicity="-1">1 1</trace>\n' + HOSTS,
        r"p.xml:4: <trace> 't' has both a file and a text: give one$",
    ),
    (
        "no text",
        '<trace id="t" periodicity="-1">  </trace>\n' + HOSTS,
        r"p.xml:4: <trace> 't' must have either a text or a file$",
    ),
    (
        "bad periodicity",
        '<trace id="t" periodicity="often">1 1</trace>\n' + HOSTS,
        r"p.xml:4: periodicity of <trace> 't' must be a number, found 'often'$",
    ),
    (
        "file loaded twice",
        '<zone id="z" routing="Full">\n<host id="a" speed="1Gf" speed_file="s.txt"/>\n'
        '<host id="b" speed="1Gf" speed_file="s.txt"/>\n</zone>',
        r"p.xml:6: speed_file of host 'b' loads profile 's.txt' again, already loaded by speed_file of host 'a' at "
        r".*p.xml:5: SimGrid 3.32 defines a profile once",
    ),
    (
        "trace id named like a file",
        '<trace id="s.txt" periodicity="-1">1 1</trace>\n'
        '<zone id="z" routing="Full">\n<host id="a" speed="1Gf" speed_file="s.txt"/>\n</zone>',
        r"p.xml:6: speed_file of host 'a' loads profile 's.txt' again, already loaded by <trace> 's.txt'",
    ),
    (
        "speed and availability",
        '<zone id="z" routing="Full">\n<host id="a" speed="1Gf" speed_file="s.txt" availability_file="s.txt"/></zone>',
        r"p.xml:5: host 'a' gives both speed_file and availability_file \(its deprecated name\): give one$",
    ),
    (
        "state of a SPLITDUPLEX link",
        '<zone id="z" routing="Full">\n<link id="l" bandwidth="1MBps" sharing_policy="SPLITDUPLEX" state_file="s.txt"/>'
        "</zone>",
        r"p.xml:5: state_file of SPLITDUPLEX link 'l' is refused: SimGrid 3.32 aborts at the first event",
    ),
    (
        "connection to a SPLITDUPLEX name",
        '<zone id="z" routing="Full">\n<link id="l" bandwidth="1MBps" sharing_policy="SPLITDUPLEX"/></zone>\n'
        '<trace id="t" periodicity="-1">1 1</trace>\n<trace_connect kind="BANDWIDTH" trace="t" element="l"/>',
        r"p.xml:7: .*'l' is a SPLITDUPLEX link, which SimGrid knows as 'l_UP' and 'l_DOWN' only$",
    ),
    (
        "cluster attribute",
        '<cluster id="c" prefix="n" suffix="" radical="0-1" speed="1Gf" bw="1GBps" lat="0s" state_file="s.txt"/>',
        r"p.xml:4: unknown attribute 'state_file' in <cluster>; SimGrid 3.32 gives <cluster> no profile attribute: "
        r"connect a <trace> to each node with <trace_connect>$",
    ),
    (
        "a zone opened by a trace",
        '<zone id="z" routing="Full">\n<prop id="k" value="v"/>\n<trace id="t" periodicity="-1">1 1</trace>\n'
        '<host id="a" speed="1Gf"/>\n</zone>',
        r"p.xml:7: <host> cannot follow the <trace> or <trace_connect> that opens zone 'z': SimGrid 3.32 then",
    ),
    (
        "config after a trace",
        '<trace id="t" periodicity="-1">1 1</trace>\n<config><prop id="k" value="v"/></config>\n' + HOSTS,
        r"p.xml:5: <config> must come before any zone, cluster or trace of the platform$",
    ),
    (
        "trace inside a host",
        '<zone id="z" routing="Full">\n<host id="a" speed="1Gf"><trace id="t" periodicity="-1">1 1</trace></host>'
        "</zone>",
        r"p.xml:5: <trace> is not allowed inside <host>",
    ),
]


@pytest.mark.parametrize(
    ("body", "message"), [(b, m) for _, b, m in PLATFORM_ERRORS], ids=[n for n, _, _ in PLATFORM_ERRORS]
)
@pytest.mark.filterwarnings("ignore::replay.platform.attribute_values.PlatformWarning")
def test_platform_profile_errors(tmp_path: Path, body: str, message: str) -> None:
    plat = platform_in(tmp_path, body, {"s.txt": "1 0.5\n"})
    with pytest.raises(PlatformError, match=message):
        load_platform(plat)


def test_a_platform_from_a_string_searches_the_working_directory(tmp_path, monkeypatch) -> None:
    (tmp_path / "s.txt").write_text("1 0\n")
    monkeypatch.chdir(tmp_path)
    text = ('<?xml version="1.0"?>\n<platform version="4.1"><zone id="z" routing="Full">'
            '<host id="a" speed="1Gf" state_file="s.txt"/></zone></platform>')
    assert load_platform_string(text).hosts["a"].state_profile.values == ((1.0, 0.0),)
