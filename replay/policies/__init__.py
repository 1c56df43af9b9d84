"""Policies in the loop: placement, consolidation and power management, judged by energy and SLA.

``replay run TRACE --policy NAME[:key=value,...]`` runs a built-in (:data:`BUILTINS`); ``--policy
module:Class[:key=value,...]`` a user's :class:`Policy` subclass. See ``docs/policies.md``.
"""

from __future__ import annotations

from typing import ClassVar

from replay.policies.api import (
    HISTORY_LENGTH,
    Decision,
    HostView,
    Migrate,
    Policy,
    PowerOff,
    PowerOn,
    View,
    VmRequest,
    VmView,
)
from replay.policies.consolidation import Iqr, LocalRegression, Mad, RobustLocalRegression, Threshold
from replay.policies.options import Option, load_policy
from replay.policies.placement import COMMON_OPTIONS, BestFit, FirstFit, WorstFit


class NoPolicy(Policy):
    """Decides nothing, places nothing: the SLA metrics of a run whose trace names every PM."""

    name = "none"
    OPTIONS: ClassVar[dict[str, Option]] = {"hosts": COMMON_OPTIONS["hosts"]}
    interval = 0.0


#: the built-in policies by name
BUILTINS: dict[str, type[Policy]] = {
    cls.name: cls
    for cls in (NoPolicy, FirstFit, BestFit, WorstFit, Threshold, Mad, Iqr, LocalRegression, RobustLocalRegression)
}

__all__ = [
    "BUILTINS",
    "HISTORY_LENGTH",
    "Decision",
    "HostView",
    "Migrate",
    "NoPolicy",
    "Option",
    "Policy",
    "PowerOff",
    "PowerOn",
    "View",
    "VmRequest",
    "VmView",
    "load_policy",
]
