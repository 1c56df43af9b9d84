"""The SLA metrics of Beloglazov and Buyya's consolidation studies, from the integrals of a run.

* ``slatah``: SLA violation Time per Active Host, the mean over the PMs that were ever active of the share of
  their active time (on, with some CPU requested) during which they were saturated (requested >= capacity: the
  host at 100 % and its users asking more);
* ``pdm``: Performance Degradation due to Migrations, the mean over the VMs that requested CPU of the share of
  their requested work that was not served while they migrated (measured, where CloudSim assumes 10 % of the
  VM's CPU during each migration);
* ``slav = slatah x pdm``, ``esv = energy_kwh x slav``;
* ``energy_kwh``: the energy of the run (hosts and links, :mod:`replay.energy`), None without wattages;
* ``migrations`` (done), ``migrations_aborted``, ``downtime_total``, ``downtime_mean``, ``downtime_max``
  (seconds, over the migrations done);
* ``unserved_fraction``: of the ``load`` demand, what was not served (0 without loads);
* ``power_ons``, ``power_offs``, ``placements``: the policy's decisions of each kind.
"""

from __future__ import annotations

from typing import Any

from replay.events import MigrationReport
from replay.policies.demand import DemandMonitor
from replay.units import Joules

JOULES_PER_KWH = 3.6e6


def sla_report(
    monitor: DemandMonitor,
    migrations: list[MigrationReport],
    energy: Joules | None,
    unserved_fraction: float,
    counts: dict[str, int],
) -> dict[str, Any]:
    """The summary's ``sla`` (see the module docstring); ``monitor`` must be brought to the end of the run."""
    shares = [pm.saturated / pm.active for pm in monitor.pms.values() if pm.active > 0]
    slatah = sum(shares) / len(shares) if shares else 0.0
    lost = [vm.lost_to_migrations / vm.requested_work for vm in monitor.vms.values() if vm.requested_work > 0]
    pdm = sum(lost) / len(lost) if lost else 0.0
    slav = slatah * pdm
    energy_kwh = energy / JOULES_PER_KWH if energy is not None else None
    done = [report for report in migrations if report.status == "done"]
    downtimes = [report.downtime for report in done]
    return {
        "energy_kwh": energy_kwh,
        "slatah": slatah,
        "pdm": pdm,
        "slav": slav,
        "esv": energy_kwh * slav if energy_kwh is not None else None,
        "migrations": len(done),
        "migrations_aborted": len(migrations) - len(done),
        "downtime_total": sum(downtimes, 0.0),
        "downtime_mean": sum(downtimes) / len(downtimes) if downtimes else 0.0,
        "downtime_max": max(downtimes, default=0.0),
        "unserved_fraction": unserved_fraction,
        "placements": counts["place"],
        "power_ons": counts["power_on"],
        "power_offs": counts["power_off"],
    }
