"""Importers of public workload datasets: PlanetLab, Azure V2, Bitbrains, SWF, as action traces.

``replay import FORMAT INPUT... -o OUT.trace`` (:mod:`replay.cli`) writes one actor per VM that creates the VM on
a PM of the platform, asks ``load <fraction> <seconds>`` per sample and destroys it (:mod:`.writer`); each
format's module says how it maps the dataset's units; ``docs/workloads.md`` gathers it all. Every importer
streams: memory grows with the VMs kept, never with the samples.
"""

from replay.workloads.dataset import Dataset
from replay.workloads.importer import FORMATS, import_workload, open_dataset
from replay.workloads.model import PLACEMENTS, ImportOptions, ImportReport, VmInfo, VmType, Window

__all__ = [
    "FORMATS",
    "PLACEMENTS",
    "Dataset",
    "ImportOptions",
    "ImportReport",
    "VmInfo",
    "VmType",
    "Window",
    "import_workload",
    "open_dataset",
]
