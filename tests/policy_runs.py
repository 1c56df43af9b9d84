"""The runs with a policy in the loop that the tracing, analysis and plot tests read, and their dates derived by
hand (``tests/data/policy/``; the platforms' comments give their hosts). **threshold** (``threshold.trace``, the
embedded platform, ``threshold``) is a longer one, whose analysis is only compared with its summary.

**boot** (``boot.trace`` on ``boot.xml``, ``first-fit:switch_off=yes,hosts=pm*``): the actors live on ctl, so
pm0 and pm1 are nobody's home.

=====  =========================================================================================================
0      pm0 and pm1 are empty: both are switched off after the events of the date (``power_off pm0 (empty)``,
       ``power_off pm1 (empty)``; ``off`` from 0)
5      a creates v0 (1 vCPU) ``auto``: no host is on, first-fit takes the first that fits, pm0 (``place v0 on pm0
       (placement)``), and switches it on (``power_on pm0 (needed)``): it boots (``booting`` over its ``off``)
       for its boot_delay, 10 s, drawing its wattage_boot, 150 W
15     pm0 is on (``off`` and ``booting`` end); v0 is created on it and started; w asks half of v0's one core,
       0.5 x 1 Gf/s = 5e8 flop/s: ``requested`` 5e8 on v0 and pm0 (v0 is all pm0 holds). Under SimGrid's VM
       model v0's share of pm0 is a whole core (``power_used`` 1e9: load 0.5, 120 + 0.5 x 80 = 160 W)
35     the load ends: ``requested`` 0
40     v0 is shut down and destroyed; pm0, empty, is switched off again, for no time (the run ends)
=====  =========================================================================================================

Energy: pm0 10 W x 5 s + 150 W x 10 s + 160 W x 20 s + 100 W x 5 s = 50 + 1500 + 3200 + 500 = 5250 J; pm1 off
all run, 10 W x 40 s = 400 J; 5650 J in all. Hosts on: ctl only until 5 s, pm0 booting from 5 to 15 s, ctl and
pm0 from 15 s.

**saturated** (``saturated.trace`` on ``saturated.xml``, ``threshold:interval=10,upper=1.2,switch_off=no,
hosts=pm*``): v0, v1 and v2 (1 vCPU each; 400, 300 and 100 MB of RAM) on pm0 (2 cores of 1 Gf/s) each ask a whole
core from 0 to 30 s.

=====  =========================================================================================================
0-10   pm0 requested 3e9 >= its capacity 2e9: saturated; each VM gets 2e9 / 3 of the 1e9 it asks
10     the tick: pm0's utilization 1.5 > 1.2, it sheds the VM of the smallest RAM, v2 (1.0 left, not above
       1.2), to pm1, the host whose power rises least (``migrate v2 pm0 -> pm1 (overload)``)
T1     stage 1 sends v2's 1e8 bytes over lan under LV08: 13.01 x 100 us of latency, then 0.97 x 125 MB/s shared
       with the 5 % of reverse traffic: T1 = 10 + 0.001301 + 1e8 x 1.05 / (0.97 x 1.25e8); v2 dirtied nothing
T2     stop-and-copy sends 0 bytes: its latency, T2 = T1 + 0.001301; v2 moves to pm1 (the acknowledgement, from
       pm1 to itself, takes no time: the migration ends at T2). v2 was frozen (served 0) from T1 to T2, v0
       and v1 got a core each
T2-30  pm0 requested 2e9 = its capacity: still saturated; pm1 requested 1e9 of 2e9
=====  =========================================================================================================

SLATAH = (30 / 30 + 0 / (30 - T2)) / 2 = 0.5. v2 lost (1e9 - 2e9 / 3) x (T1 - 10) + 1e9 x (T2 - T1) of its
3e10 requested flops, v0 and v1 nothing: PDM = lost / 3e10 / 3. Energy: pm0 at 2e9 of 2e9 all run, 200 W x 30 s
= 6000 J; pm1 idle 100 W until T2, then 160 W (load 0.5): 100 T2 + 160 (30 - T2) J.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from replay.cli import app
from tests.helpers import REPO

DATA = REPO / "tests" / "data" / "policy"
#: each run's platform (None: the embedded one) and policy
POLICIES: dict[str, tuple[str | None, str]] = {
    "boot": ("boot.xml", "first-fit:switch_off=yes,hosts=pm*"),
    "saturated": ("saturated.xml", "threshold:interval=10,upper=1.2,switch_off=no,hosts=pm*"),
    "threshold": (None, "threshold"),
}
#: the saturated run's dates (see the module docstring)
T1 = 10 + 13.01 * 100e-6 + 1e8 * 1.05 / (0.97 * 1.25e8)
T2 = T1 + 13.01 * 100e-6
LOST_V2 = (1e9 - 2e9 / 3) * (T1 - 10) + 1e9 * (T2 - T1)

runner = CliRunner()


def policy_run(folder: Path, name: str, *, migrations: bool = True) -> dict[str, Any]:
    """``replay run <name>.trace --platform <platform> --policy <policy>`` writing the Paje trace, the CSV, the
    migrations CSV (``migrations``) and the summary into ``folder``: their paths, the platform's and the summary."""
    platform, policy = POLICIES[name]
    paths = {kind: folder / f"{name}.{kind}" for kind in ("paje", "csv", "json")}
    args = ["run", str(DATA / f"{name}.trace"), "--policy", policy, "--quiet", "--paje", str(paths["paje"]),
            "--csv", str(paths["csv"]), "--summary", str(paths["json"])]
    if platform is not None:
        args += ["--platform", str(DATA / platform)]
    if migrations:
        paths["migrations"] = folder / f"{name}.migrations.csv"
        args += ["--migrations", str(paths["migrations"])]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return {**paths, "platform": DATA / platform if platform is not None else None,
            "summary": json.loads(paths["json"].read_text())}

