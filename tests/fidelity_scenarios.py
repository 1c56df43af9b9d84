"""The fidelity suite's inputs and SimGrid's answers, for tests to compare our engine against.

Each scenario of ``tools/simgrid_ref/scenarios.toml`` (and of the manifests it includes, such as the generated
``cloud_layouts.toml``) names a platform, a deployment and either one shared action trace or (when ``trace`` is
absent) one trace per actor given as the actor's ``<argument value=...>`` in the deployment, plus SimGrid
``--cfg`` settings. SimGrid 3.32 replayed each one (``tools/regen_golden.py``) and its dates are stored in
``tests/golden/simgrid/<name>.csv``: one row per action an actor executed, ``seq`` counting that actor's actions
from 0, ``start``/``end`` the simulated clock before and after it, then a final row
``*,-1,simulated_time,0,<end of the simulation>``. An actor that did not finish its trace has one last row instead of
the action it was in (``ENDINGS``; ``ending_row`` finds it): ``killed`` when SimGrid killed it (``vm_shutdown`` or
``vm_destroy`` of its VM, ``host_off`` or a state profile turning off its host or its VM's host, itself included)
and ``failed`` when that action failed (SimGrid raised a network or host failure in it: a link of its route or
reverse route went off, its peer's host went off, its peer was killed mid-transfer). Either row holds the seq of that
action, when it started and when the actor was killed or its action failed; the actor replays nothing more. A
deployed actor whose ``start_time`` comes while its host is off is never started (SimGrid refuses it with a warning):
its row is ``killed`` with seq 0, start = end = that date.
A scenario marked ``energy = true`` ran with SimGrid's host and link energy plugins: after the ``*`` row come its
energy rows, ``energy,-1,host:<name>,0,<joules>`` for each physical host with a ``wattage_per_state`` property and
``energy,-1,link:<name>,0,<joules>`` for each link with a ``wattage_range`` property (hosts first, each kind sorted
by name), the joules each consumed during the run; ``load_energy(name)`` reads them, ``load_golden(name)`` leaves
them out.
A scenario that live-migrates VMs also has ``<name>.migrations.csv`` (one row per migration, see
``MigrationRow``), and one that runs ``load`` actions ``<name>.loads.csv`` (one row per load: what it asked for and
the flops SimGrid served it, see ``LoadRow``). ``tools/simgrid_ref/README.md`` says what each scenario checks and how
its numbers follow from the model.

A platform may name availability profiles (``speed_file``, ``state_file``, ``bandwidth_file``, ``latency_file``,
``availability_file``, ``<trace file=...>``), files relative to the platform's folder that SimGrid reads with it;
``Scenario.profiles`` lists them and ``load_manifest()`` checks that they exist.

Two kinds of scenario have no golden file: ``converges = false`` ones (a migration SimGrid never completes: stage 2
runs until the plugin's 1e7 s timeout, where SimGrid aborts) and those whose ``shared:`` inputs (SimGrid's own
platforms, kept outside the repository) are absent; ``Scenario.has_golden`` tells.

This is a helper module, not a test file: ``load_manifest()``, ``load_golden(name)``, ``load_energy(name)``,
``load_migrations(name)``, ``load_loads(name)`` and ``cloud_results()`` (every task's end date in every layout of
the ``cloud`` group). It is also the manifest reader of ``tools/regen_golden.py``, which imports it with the
repository root on ``sys.path``: keep it to the standard library.
"""

from __future__ import annotations

import csv
import os
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
MANIFEST = REPO_ROOT / "tools" / "simgrid_ref" / "scenarios.toml"
GOLDEN_DIR = REPO_ROOT / "tests" / "golden" / "simgrid"
GOLDEN_HEADER = ("actor", "seq", "action", "start", "end")
MIGRATIONS_HEADER = (
    "vm",
    "src",
    "dst",
    "start",
    "end",
    "stage1_bytes",
    "stage1_end",
    "stage2_rounds",
    "stage2_bytes",
    "stage3_start",
    "stage3_bytes",
    "stage3_end",
)
LOADS_HEADER = ("actor", "seq", "demand", "served")
SHARED_DIR = Path(os.environ.get("FIDELITY_SHARED_DIR", REPO_ROOT.parent / "shared"))
"""Where ``shared:<path>`` inputs of the manifest live (SimGrid's own platforms, not copied into the repository)."""
SHARED_PREFIX = "shared:"
CLOUD_GROUP = "cloud"
ENERGY_ACTOR = "energy"
"""The ``actor`` field of the energy rows (their ``seq`` is -1, their ``action`` ``host:<name>`` or ``link:<name>``)."""
ENERGY_KINDS = ("host", "link")
KILLED = "killed"
FAILED = "failed"
ENDINGS = (KILLED, FAILED)
"""The actions of the last row of an actor that did not finish its trace (see the module's docstring)."""
PROFILE_ATTRIBUTES = ("speed_file", "availability_file", "state_file", "bandwidth_file", "latency_file")
"""Attributes of platform elements (hosts, links, clusters, peers) that name a profile file."""

_REQUIRED = ("name", "group", "platform", "deploy", "description")
_OPTIONAL = ("trace", "cfg", "converges", "energy")


class ManifestError(ValueError):
    """A malformed manifest: unknown or missing keys, a duplicate name, an include cycle, an absent input file."""


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
    converges: bool = True
    """False when a live migration of the scenario never completes in SimGrid (no golden file)."""
    energy: bool = False
    """True when SimGrid runs it with its host and link energy plugins (``--energy``): its golden file ends with the
    joules of every powered host and link (``load_energy``)."""
    missing_shared: tuple[Path, ...] = ()
    """The ``shared:`` inputs that are absent on this machine (then the scenario is skipped)."""
    profiles: tuple[Path, ...] = ()
    """The profile files its platform names (absolute paths; SimGrid resolves them from the platform's folder)."""

    @property
    def available(self) -> bool:
        """False when a ``shared:`` input is absent on this machine (no golden file to expect; skip the scenario)."""
        return not self.missing_shared

    @property
    def golden(self) -> Path:
        return GOLDEN_DIR / f"{self.name}.csv"

    @property
    def migrations_golden(self) -> Path:
        """``<name>.migrations.csv``; it exists only for scenarios that live-migrate VMs."""
        return GOLDEN_DIR / f"{self.name}.migrations.csv"

    @property
    def loads_golden(self) -> Path:
        """``<name>.loads.csv``; it exists only for scenarios that run ``load`` actions."""
        return GOLDEN_DIR / f"{self.name}.loads.csv"

    @property
    def has_golden(self) -> bool:
        """Whether the scenario can be compared with SimGrid here: it converges, its inputs are present and SimGrid's
        answer is stored."""
        return self.converges and self.available and self.golden.is_file()

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


@dataclass(frozen=True)
class MigrationRow:
    """One live migration as SimGrid's plugin performed it (a row of ``<name>.migrations.csv``); dates in seconds.

    Stage 1 sends the whole RAM from ``start`` to ``stage1_end``; stage 2 sends ``stage2_rounds`` rounds of dirty pages
    (``stage2_bytes`` in all) until ``stage3_start``, when the VM is suspended; stage 3 sends ``stage3_bytes`` and ends
    at ``stage3_end``, when the VM resumes on ``dst`` (downtime = stage3_end - stage3_start); ``end`` adds the final
    0-byte acknowledgement to the migrating actor.
    """

    vm: str
    src: str
    dst: str
    start: float
    end: float
    stage1_bytes: float
    stage1_end: float
    stage2_rounds: int
    stage2_bytes: float
    stage3_start: float
    stage3_bytes: float
    stage3_end: float

    @property
    def downtime(self) -> float:
        return self.stage3_end - self.stage3_start


@dataclass(frozen=True)
class LoadRow:
    """One ``load <fraction> <duration>`` action as SimGrid served it (a row of ``<name>.loads.csv``), in flops.

    ``actor`` and ``seq`` name the action as in the golden file (its row there holds its start and end dates).
    ``demand`` = fraction x cores x core speed x duration, with cores = the host's vCPUs (a VM) or cores (a PM) and
    the core speed the PM's; ``served`` = the flops the load's executions computed during its interval (at most
    ``demand``; unmet demand is lost).
    """

    actor: str
    seq: int
    demand: float
    served: float


@dataclass(frozen=True)
class CloudResult:
    """The end date of one task of one layout of the ``cloud`` group (each task computes 1e8 flops from 0)."""

    scenario: str
    layout: str
    """The layout in cloud-sharing notation, e.g. ``( [oo]2 o )4`` (see tools/simgrid_ref/cloud_layouts.py)."""
    task: str
    """The task's actor: ``vm<i>_t<j>`` for a task in VM i, ``pm_t<j>`` for one on the PM."""
    end: float


def resolve_input(value: str) -> tuple[Path, bool]:
    """The path of a manifest input and whether it is a shared (outside the repository) one."""
    if value.startswith(SHARED_PREFIX):
        return SHARED_DIR / value[len(SHARED_PREFIX) :], True
    return REPO_ROOT / value, False


def manifest_tables(path: Path, seen: tuple[Path, ...] = ()) -> list[tuple[Path, dict]]:
    """The [[scenario]] tables of a manifest, then those of the manifests it includes (``include = [...]``, paths
    relative to the including manifest), each with the file it came from."""
    if path in seen:
        raise ManifestError(f"{path}: included twice (include cycle)")
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    unknown = sorted(set(data) - {"scenario", "include"})
    if unknown:
        raise ManifestError(f"{path}: unknown top-level keys {unknown}")
    tables = data.get("scenario", [])
    if not isinstance(tables, list):
        raise ManifestError(f"{path}: expected [[scenario]] tables")
    found = [(path, table) for table in tables]
    includes = data.get("include", [])
    if not isinstance(includes, list) or not all(isinstance(item, str) for item in includes):
        raise ManifestError(f"{path}: include must be a list of file names, found {includes!r}")
    for item in includes:
        found += manifest_tables(path.parent / item, (*seen, path))
    return found


def platform_profiles(platform: Path) -> tuple[Path, ...]:
    """The profile files a platform names, in document order without repeats: the ``PROFILE_ATTRIBUTES`` of its
    elements and the ``file`` of its ``<trace>`` elements, relative to the platform's folder (where SimGrid finds
    them when the current directory has no file of that name; it refuses absolute names). Raises ManifestError when
    the platform is not well-formed XML."""
    try:
        root = ET.parse(platform).getroot()
    except ET.ParseError as exc:
        raise ManifestError(f"{platform}: not well-formed XML ({exc})") from None
    found: list[Path] = []
    for element in root.iter():
        names = [element.get(attribute) for attribute in PROFILE_ATTRIBUTES]
        if element.tag == "trace":
            names.append(element.get("file"))
        for name in names:
            if name and (platform.parent / name) not in found:
                found.append(platform.parent / name)
    return tuple(found)


def load_manifest(path: Path = MANIFEST) -> list[Scenario]:
    """All scenarios of the manifest and of the manifests it includes, in order.

    Checks known keys only, unique names, well-typed ``cfg``, ``converges`` and ``energy``, and that every input
    inside the repository exists, the profile files its platform names included; an absent ``shared:`` input is not
    an error but listed in ``Scenario.missing_shared``.
    Raises ManifestError (a ValueError) when the manifest is malformed, OSError when a manifest cannot be read and
    tomllib.TOMLDecodeError when one is not TOML.
    """
    tables = manifest_tables(path)
    if not tables:
        raise ManifestError(f"{path}: expected [[scenario]] tables, found none")
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for index, (source, table) in enumerate(tables, start=1):
        where = f"{source}: scenario #{index}"
        missing = [key for key in _REQUIRED if key not in table]
        unknown = sorted(set(table) - set(_REQUIRED) - set(_OPTIONAL))
        if missing or unknown:
            raise ManifestError(f"{where}: missing keys {missing}, unknown keys {unknown}")
        name = table["name"]
        if name in seen:
            raise ManifestError(f"{where}: duplicate name {name!r}")
        seen.add(name)
        cfg = table.get("cfg", [])
        if not isinstance(cfg, list) or not all(isinstance(item, str) for item in cfg):
            raise ManifestError(f"{where} ({name}): cfg must be a list of strings, found {cfg!r}")
        converges = table.get("converges", True)
        if not isinstance(converges, bool):
            raise ManifestError(f"{where} ({name}): converges must be true or false, found {converges!r}")
        energy = table.get("energy", False)
        if not isinstance(energy, bool):
            raise ManifestError(f"{where} ({name}): energy must be true or false, found {energy!r}")
        files: dict[str, Path] = {}
        missing_shared: list[Path] = []
        for key in ("platform", "deploy", "trace"):
            if key not in table:
                continue
            file, shared = resolve_input(table[key])
            files[key] = file
            if not file.is_file():
                if not shared:
                    raise ManifestError(f"{where} ({name}): {key} file {file} does not exist")
                missing_shared.append(file)
        profiles: tuple[Path, ...] = ()
        if files["platform"].is_file():
            profiles = platform_profiles(files["platform"])
            absent = [str(profile) for profile in profiles if not profile.is_file()]
            if absent and not table["platform"].startswith(SHARED_PREFIX):
                missing = ", ".join(absent)
                raise ManifestError(f"{where} ({name}): profile file(s) of its platform do not exist: {missing}")
        scenarios.append(
            Scenario(
                name=name,
                group=table["group"],
                platform=files["platform"],
                deploy=files["deploy"],
                trace=files.get("trace"),
                cfg=tuple(cfg),
                description=table["description"],
                converges=converges,
                energy=energy,
                missing_shared=tuple(missing_shared),
                profiles=profiles,
            )
        )
    return scenarios


def _golden_rows(name: str) -> tuple[Path, list[GoldenRow]]:
    """Every row of ``tests/golden/simgrid/<name>.csv``, energy rows included, in file order."""
    path = GOLDEN_DIR / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = tuple(next(reader))
        if header != GOLDEN_HEADER:
            raise ValueError(f"{path}: expected header {','.join(GOLDEN_HEADER)}, found {','.join(header)}")
        return path, [
            GoldenRow(actor=actor, seq=int(seq), action=action, start=float(start), end=float(end))
            for actor, seq, action, start, end in reader
        ]


def is_energy_row(row: GoldenRow) -> bool:
    """Whether a golden row is one of the energy rows that follow the ``*`` row (an actor's rows have seq >= 0)."""
    return row.actor == ENERGY_ACTOR and row.seq == -1


def load_golden(name: str) -> list[GoldenRow]:
    """The action rows of ``tests/golden/simgrid/<name>.csv`` in file order: by actor, seq; the ``*`` row last.

    The energy rows of an ``energy = true`` scenario are left out (``load_energy`` reads them), so the last row is
    always the ``simulated_time`` one.
    """
    return [row for row in _golden_rows(name)[1] if not is_energy_row(row)]


def load_energy(name: str) -> dict[str, float]:
    """The joules SimGrid's energy plugins counted in ``tests/golden/simgrid/<name>.csv``, by ``host:<name>`` and
    ``link:<name>``; {} for a scenario that did not run with them (no ``energy = true``).

    Keys are in file order: the physical hosts that have a ``wattage_per_state`` property, then the links that have
    a ``wattage_range``, each kind sorted by name. Values are the plugins' totals at the end of the run, which SimGrid
    updates lazily (tools/simgrid_ref/README.md, Facts).
    """
    path, rows = _golden_rows(name)
    energy: dict[str, float] = {}
    after_end = False
    for row in rows:
        if row.actor == "*" and row.action == "simulated_time":
            after_end = True
            continue
        if not is_energy_row(row):
            continue
        kind, _, resource = row.action.partition(":")
        if not after_end or kind not in ENERGY_KINDS or not resource or row.action in energy:
            raise ValueError(
                f"{path}: unexpected energy row {row.action!r} (expected host:<name> or link:<name>, "
                "once each, after the simulated_time row)"
            )
        energy[row.action] = row.end
    return energy


def simulated_time(rows: list[GoldenRow]) -> float:
    """The end of the simulation recorded in a golden file's final row."""
    last = rows[-1]
    if last.actor != "*" or last.action != "simulated_time":
        raise ValueError("the golden rows do not end with the simulated_time row")
    return last.end


def ending_row(rows: list[GoldenRow]) -> GoldenRow | None:
    """The ``killed`` or ``failed`` row that ends one actor's rows (``actions_of(...)[actor]``), or None when the actor
    finished its trace."""
    return rows[-1] if rows and rows[-1].action in ENDINGS else None


def actions_of(rows: list[GoldenRow]) -> dict[str, list[GoldenRow]]:
    """The golden rows per actor, each list in seq order, without the final ``*`` row."""
    per_actor: dict[str, list[GoldenRow]] = {}
    for row in rows:
        if row.actor != "*":
            per_actor.setdefault(row.actor, []).append(row)
    return per_actor


def load_migrations(name: str) -> list[MigrationRow]:
    """The rows of ``tests/golden/simgrid/<name>.migrations.csv`` in the order the migrations started; [] if the
    scenario migrates no VM."""
    path = GOLDEN_DIR / f"{name}.migrations.csv"
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = tuple(next(reader))
        if header != MIGRATIONS_HEADER:
            raise ValueError(f"{path}: expected header {','.join(MIGRATIONS_HEADER)}, found {','.join(header)}")
        rows = []
        for vm, src, dst, start, end, s1_bytes, s1_end, s2_rounds, s2_bytes, s3_start, s3_bytes, s3_end in reader:
            rows.append(
                MigrationRow(
                    vm=vm,
                    src=src,
                    dst=dst,
                    start=float(start),
                    end=float(end),
                    stage1_bytes=float(s1_bytes),
                    stage1_end=float(s1_end),
                    stage2_rounds=int(s2_rounds),
                    stage2_bytes=float(s2_bytes),
                    stage3_start=float(s3_start),
                    stage3_bytes=float(s3_bytes),
                    stage3_end=float(s3_end),
                )
            )
        return rows


def load_loads(name: str) -> list[LoadRow]:
    """The rows of ``tests/golden/simgrid/<name>.loads.csv``, by actor then seq; [] if the scenario runs no ``load``.

    A load whose actor was killed or failed during it has no row.
    """
    path = GOLDEN_DIR / f"{name}.loads.csv"
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = tuple(next(reader))
        if header != LOADS_HEADER:
            raise ValueError(f"{path}: expected header {','.join(LOADS_HEADER)}, found {','.join(header)}")
        return [
            LoadRow(actor=actor, seq=int(seq), demand=float(demand), served=float(served))
            for actor, seq, demand, served in reader
        ]


def cloud_results(scenarios: list[Scenario] | None = None) -> list[CloudResult]:
    """Every task's end date in every layout of the ``cloud`` group, read from their golden files.

    The layouts are generated by ``tools/simgrid_ref/cloud_layouts.py`` (one scenario each, the layout as its
    description); this gathers them in one list, so a test can go through the whole family at once.
    """
    if scenarios is None:
        scenarios = load_manifest()
    results: list[CloudResult] = []
    for scenario in scenarios:
        if scenario.group != CLOUD_GROUP:
            continue
        for actor, rows in actions_of(load_golden(scenario.name)).items():
            if actor == "ctl":
                continue
            computes = [row for row in rows if row.action == "compute"]
            if len(computes) != 1:
                raise ValueError(f"{scenario.name}: task {actor} should have one compute row, found {len(computes)}")
            results.append(CloudResult(scenario.name, scenario.description, actor, computes[0].end))
    return results
