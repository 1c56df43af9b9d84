"""The fidelity suite's inputs and SimGrid's answers, for tests to compare our engine against.

Each scenario of ``tools/simgrid_ref/scenarios.toml`` names a platform, a deployment and either one
shared action trace or (when ``trace`` is absent) one trace per actor given as the actor's
``<argument value=...>`` in the deployment, plus SimGrid ``--cfg`` settings. SimGrid 3.32 replayed each
one (``tools/regen_golden.py``) and its dates are stored in ``tests/golden/simgrid/<name>.csv``: one row
per action an actor executed, ``seq`` counting that actor's actions from 0, ``start``/``end`` the
simulated clock before and after it, then a final row ``*,-1,simulated_time,0,<end of the simulation>``.
``tools/simgrid_ref/README.md`` says what each scenario checks and how its numbers follow from the model.

This is a helper module, not a test file: ``load_manifest()`` and ``load_golden(name)``.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
MANIFEST = REPO_ROOT / "tools" / "simgrid_ref" / "scenarios.toml"
GOLDEN_DIR = REPO_ROOT / "tests" / "golden" / "simgrid"
GOLDEN_HEADER = ("actor", "seq", "action", "start", "end")

_REQUIRED = ("name", "group", "platform", "deploy", "description")
_OPTIONAL = ("trace", "cfg")


@dataclass(frozen=True)
class Scenario:
    """One fidelity scenario; paths are absolute."""

    name: str
    group: str
    platform: Path
    deploy: Path
    trace: Path | None
    """The shared trace, or None when each actor's own trace is named in the deployment (split mode)."""
    cfg: tuple[str, ...]
    """SimGrid settings as given to ``--cfg``, e.g. ``("network/model:CM02",)``."""
    description: str

    @property
    def golden(self) -> Path:
        return GOLDEN_DIR / f"{self.name}.csv"

    def setting(self, key: str, default: str | None = None) -> str | None:
        """The value of one ``--cfg`` setting (the last one given wins, as in SimGrid), else ``default``."""
        value = default
        for item in self.cfg:
            name, _, rest = item.partition(":")
            if name == key:
                value = rest
        return value

    @property
    def network_model(self) -> str:
        """``LV08`` (SimGrid's default) unless the scenario sets ``network/model``."""
        return self.setting("network/model", "LV08") or "LV08"

    @property
    def crosstraffic(self) -> bool:
        """Whether reverse-route traffic is counted (``network/crosstraffic``, on by default)."""
        return (self.setting("network/crosstraffic", "1") or "1").lower() not in ("0", "no", "off", "false")


@dataclass(frozen=True)
class GoldenRow:
    """One row of a golden file: an action of an actor and its simulated start and end dates (seconds).

    The last row of every file is ``GoldenRow("*", -1, "simulated_time", 0.0, <end of the simulation>)``.
    """

    actor: str
    seq: int
    action: str
    start: float
    end: float


def load_manifest(path: Path = MANIFEST) -> list[Scenario]:
    """All scenarios of the manifest, in its order. Raises ValueError on a malformed manifest."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    tables = data.get("scenario", [])
    scenarios: list[Scenario] = []
    for index, table in enumerate(tables, start=1):
        missing = [key for key in _REQUIRED if key not in table]
        unknown = sorted(set(table) - set(_REQUIRED) - set(_OPTIONAL))
        if missing or unknown:
            raise ValueError(f"{path}: scenario #{index}: missing keys {missing}, unknown keys {unknown}")
        trace = table.get("trace")
        scenarios.append(
            Scenario(
                name=table["name"],
                group=table["group"],
                platform=REPO_ROOT / table["platform"],
                deploy=REPO_ROOT / table["deploy"],
                trace=None if trace is None else REPO_ROOT / trace,
                cfg=tuple(table.get("cfg", ())),
                description=table["description"],
            )
        )
    names = [scenario.name for scenario in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: duplicate scenario names")
    return scenarios


def load_golden(name: str) -> list[GoldenRow]:
    """The rows of ``tests/golden/simgrid/<name>.csv`` in file order: by actor, seq; the ``*`` row last."""
    path = GOLDEN_DIR / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = tuple(next(reader))
        if header != GOLDEN_HEADER:
            raise ValueError(f"{path}: expected header {','.join(GOLDEN_HEADER)}, found {','.join(header)}")
        return [
            GoldenRow(actor=actor, seq=int(seq), action=action, start=float(start), end=float(end))
            for actor, seq, action, start, end in reader
        ]


def simulated_time(rows: list[GoldenRow]) -> float:
    """The end of the simulation recorded in a golden file's final row."""
    last = rows[-1]
    if last.actor != "*" or last.action != "simulated_time":
        raise ValueError("the golden rows do not end with the simulated_time row")
    return last.end


def actions_of(rows: list[GoldenRow]) -> dict[str, list[GoldenRow]]:
    """The golden rows per actor, each list in seq order, without the final ``*`` row."""
    per_actor: dict[str, list[GoldenRow]] = {}
    for row in rows:
        if row.actor != "*":
            per_actor.setdefault(row.actor, []).append(row)
    return per_actor
