"""Platforms: hosts, links, zones and routes, read from SimGrid platform files, plus deployments.

``load_platform(path)`` reads a SimGrid 3.32 platform file, ``default_platform()`` returns the platform shipped
with the package (used when none is given), ``load_deployment(path)`` reads which actor runs where.
"""

from __future__ import annotations

from importlib import resources

from replay.platform.deployment import ActorSpec, load_deployment, load_deployment_string
from replay.platform.loader import load_platform, load_platform_string
from replay.platform.model import Host, Link, Platform, Zone

__all__ = [
    "ActorSpec",
    "Host",
    "Link",
    "Platform",
    "Zone",
    "default_platform",
    "load_deployment",
    "load_deployment_string",
    "load_platform",
    "load_platform_string",
    "pms_glob",
]

DEFAULT_PLATFORM_NAME = "default.xml"
#: the hosts of the embedded platform that are PMs (its ``controller`` and ``storage`` are not)
DEFAULT_PMS = "pm-*"


def pms_glob(pattern: str | None, platform_given: bool) -> str:
    """The glob of the hosts that are PMs: ``pattern`` if given, else every host of a platform file, else
    :data:`DEFAULT_PMS` on the embedded platform."""
    return pattern or ("*" if platform_given else DEFAULT_PMS)


def default_platform() -> Platform:
    """Load the embedded default platform (``replay/platform/data/default.xml``).

    A data centre for VM consolidation and live-migration demos: see the comment at the top of the file.
    """
    resource = resources.files("replay.platform") / "data" / DEFAULT_PLATFORM_NAME
    text = resource.read_text(encoding="utf-8")
    return load_platform_string(text, source=f"<default platform {DEFAULT_PLATFORM_NAME}>")
