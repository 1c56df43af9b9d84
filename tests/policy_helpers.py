"""A small platform and a runner for the policy tests.

Five hosts ``h0`` .. ``h4`` of one cluster (4 cores of 1 Gf/s, 4 GiB, 100 W idle to 200 W at full load, 10 W
off; 125 MB/s private links, no latency): the policies manage ``h0`` .. ``h3`` (``hosts=h[0-3]``), and the
actors start on ``h4`` (``init h4``), so that no managed host is an actor's home.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from replay.policies import BUILTINS
from replay.session import ReplaySession

PLATFORM = """<?xml version='1.0'?>
<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">
<platform version="4.1">
  <cluster id="c" prefix="h" suffix="" radical="0-4" speed="1Gf" core="4" bw="125MBps" lat="0"
           bb_bw="1.25GBps" bb_lat="0">
    <prop id="ramsize" value="4GiB"/>
    <prop id="wattage_per_state" value="100:100:200"/>
    <prop id="wattage_off" value="10"/>{extra}
  </cluster>
</platform>
"""

def platform(tmp_path: Path, extra: str = "") -> Path:
    """The platform, with ``extra`` ``<prop>`` lines for every host."""
    text = PLATFORM.format(extra=extra)
    path = tmp_path / "platform.xml"
    path.write_text(text)
    return path


def open_session(tmp_path: Path, trace: str, policy: str, extra: str = "", **options: Any) -> ReplaySession:
    """A session of ``trace`` (actors start on ``h4`` with ``init h4``) under ``policy`` (``hosts=h[0-3]`` added),
    ready to run."""
    path = tmp_path / "test.trace"
    path.write_text(trace)
    builtin = policy.split(":")[0] in BUILTINS
    spec = policy + ("," if ":" in policy and builtin else ":") + "hosts=h[0-3]"
    return ReplaySession.open([path], platform=platform(tmp_path, extra), policy=spec, **options)


def run(tmp_path: Path, trace: str, policy: str, extra: str = "", **options: Any) -> tuple[dict[str, Any], Any]:
    """Run ``trace`` under ``policy`` (see :func:`open_session`); return the summary and the session."""
    session = open_session(tmp_path, trace, policy, extra, **options)
    return session.run().summary(), session
