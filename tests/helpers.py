"""Small builders shared by the model tests: platforms from inline XML and a one-call run of actors."""

from __future__ import annotations

import os
from pathlib import Path

from replay.platform import Platform, load_platform_string
from replay.simulation import Simulation

REPO = Path(__file__).resolve().parents[1]
#: SimGrid's example inputs, beside the repository (``../shared/simgrid``); tests using them skip without it.
SHARED_SIMGRID = REPO.parent / "shared" / "simgrid"
PLATFORMS = REPO / "traces" / "platforms"


def unpowered_default(folder: Path) -> Path:
    """The embedded default platform without its wattages (``folder/unpowered.xml``): a run on it has no energy."""
    text = (REPO / "replay" / "platform" / "data" / "default.xml").read_text()
    lines = [line for line in text.splitlines(keepends=True) if "wattage" not in line]
    assert len(lines) == len(text.splitlines()) - 2, "the default platform's wattages moved: update this helper"
    path = folder / "unpowered.xml"
    path.write_text("".join(lines))
    return path


def platform(body: str) -> Platform:
    """A platform made of one Full zone holding ``body``."""
    return load_platform_string(
        "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
        f'<platform version="4.1"><zone id="z" routing="Full">{body}</zone></platform>',
        source="<test>",
    )


def two_hosts(bandwidth: str, latency: str, policy: str = "SHARED", speed: str = "1Gf") -> Platform:
    """Hosts A and B joined by one link ``L``."""
    return platform(
        f'<host id="A" speed="{speed}"/><host id="B" speed="{speed}"/>'
        f'<link id="L" bandwidth="{bandwidth}" latency="{latency}" sharing_policy="{policy}"/>'
        '<route src="A" dst="B"><link_ctn id="L"/></route>'
    )


def transfer_time(plat: Platform, size: float, *, model: str = "LV08", src: str = "A", dst: str = "B") -> float:
    """Simulated date at which a ``size``-byte message from ``src`` to ``dst`` posted at 0 is received."""
    sim = Simulation(plat, network_model=model)
    ends: dict[str, float] = {}

    def sender(actor):
        yield actor.send("m", size)

    def receiver(actor):
        yield actor.recv("m")
        ends["recv"] = actor.now

    sim.add_actor("s", src, sender)
    sim.add_actor("r", dst, receiver)
    sim.run()
    return ends["recv"]


def assert_golden(produced: bytes, golden: Path) -> None:
    """``produced`` must be byte-identical to the golden file (``UPDATE_GOLDEN=1`` rewrites it first)."""
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(produced)
    assert produced == golden.read_bytes(), "regenerate with UPDATE_GOLDEN=1 if the change is deliberate"
