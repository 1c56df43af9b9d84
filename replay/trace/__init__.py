"""Action traces: SimGrid's time-independent replay format, extended with VM operations.

* :mod:`replay.trace.grammar`: the text of a line (tokens, argument readers, what each message says was expected);
* :mod:`replay.trace.records`: the base of actions (each declared once with its grammar, record, handler and
  static check) and the :class:`Registry` of them; the built-in actions are declared by subject in
  :mod:`~replay.trace.actor_actions`, :mod:`~replay.trace.host_actions` and :mod:`~replay.trace.vm_actions`,
  and gathered in :data:`~replay.trace.builtin.BUILTIN`;
* :mod:`replay.trace.sources`: trace files, streamed, and the sources that hand each actor its next action;
* :mod:`replay.trace.checks`: the static walk over a whole trace (``replay validate``).
"""

from replay.trace.builtin import BUILTIN
from replay.trace.checks import TraceCheck
from replay.trace.records import Action, Registry, ReplayContext
from replay.trace.sources import SharedTrace, SplitTrace, TraceSource, iter_actions, open_trace, parse_line

__all__ = [
    "BUILTIN",
    "Action",
    "Registry",
    "ReplayContext",
    "SharedTrace",
    "SplitTrace",
    "TraceCheck",
    "TraceSource",
    "iter_actions",
    "open_trace",
    "parse_line",
]
