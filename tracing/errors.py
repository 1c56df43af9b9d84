"""The errors of the analysis and the plots, in the project's one hierarchy (:mod:`replay.errors`)::

    ReplayError
    ├── AnalysisError(ReplayError, ValueError)     a CSV that is not the one asked for, or inconsistent inputs
    └── PlotUnavailable(ReplayError, ImportError)  a plot asked for without matplotlib

The command line prints either as one line on stderr, with exit code 1.
"""

from __future__ import annotations

from replay.errors import ReplayError

__all__ = ["AnalysisError", "PlotUnavailable"]


class AnalysisError(ReplayError, ValueError):
    """A file that is not the CSV asked for (missing, another table, unreadable rows), or inconsistent inputs."""


class PlotUnavailable(ReplayError, ImportError):
    """Plotting was asked for and matplotlib, an optional extra, is not installed."""
