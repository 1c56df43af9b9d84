"""Static checks (replay/trace/checks.py): what can be known without simulating is refused before the run, at
the line at fault; ``replay validate`` also checks the order of the VM operations of the trace."""

from __future__ import annotations

import pytest

from replay.errors import LookupFailure, ReplayError, StateError
from replay.session import ReplaySession, validate


def check(tmp_path, text, *, order=True):
    """Validate (``order``: as ``replay validate``) or open for a run the trace ``text`` on the default platform."""
    path = tmp_path / "t.trace"
    path.write_text(text)
    if order:
        return validate([path])
    return ReplaySession.open([path])


# Each case: two traces of the same class, the message both must give, and whether a run refuses them too
# (order-independent facts) or only ``replay validate`` (facts about the order of the VM operations).
CASES = {
    "migration to the PM it is on": (
        ["a vm_create v pm-0\na vm_start v\na vm_migrate v pm-0\n",
         "a vm_create v pm-0\na vm_start v\na vm_migrate v pm-1\na vm_migrate v pm-1\n"],
        StateError, r"t.trace:(3|4): 'vm_migrate' expects a PM other than the one VM 'v' is on", False,
    ),
    "actor on a VM never started": (
        ["a vm_create v pm-0\nw init v\nw compute 1\n",
         "a vm_create v pm-0\na vm_create u pm-1\na vm_start u\nw init u\nw compute 1\nx init v\nx compute 1\n"],
        StateError, r"t.trace:(2|6): 'init' places actor '(w|x)' on VM 'v', which the trace never starts", True,
    ),
    "wait without a pending request": (
        ["p0 wait\n", "p0 isend p1 5\np0 wait\np0 wait\np1 recv p0\n"],
        StateError, r"t.trace:(1|3): 'wait' expects a pending isend or irecv, found none", True,
    ),
    "an actor stopping its own VM": (
        ["a vm_create v pm-0\na vm_start v\nw init v\nw vm_suspend v\n",
         "a vm_create v pm-0\na vm_start v\nw init v\nw compute 1\nw vm_shutdown v\n"],
        StateError, r"t.trace:(4|5): 'vm_(suspend|shutdown)': actor 'w' cannot (suspend|shut down) the VM it runs in",
        False,
    ),
    "a blocking message without its match": (
        ["p0 recv p1\np1 compute 1\n", "p0 send p1 5\np0 send p1 5\np1 recv p0\n"],
        StateError, r"t.trace:(1|2): '(recv|send)' expects a matching (send|receive) on mailbox '(p1_p0|p0_p1)', "
                    r"found none \((1 receive, 0 sends|2 sends, 1 receive)\): it would wait forever", True,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_what_can_be_known_without_simulating_is_refused(tmp_path, name):
    traces, error, message, at_run_too = CASES[name]
    for text in traces:
        with pytest.raises(error, match=message):
            check(tmp_path, text)
        if at_run_too:
            with pytest.raises(error, match=message):
                check(tmp_path, text, order=False)
        else:
            check(tmp_path, text, order=False)  # the run finds it out itself, in order


def test_legal_traces_pass(tmp_path):
    # The near misses of the cases above: a migration elsewhere, a VM started by a later line, an irecv never
    # waited for (it does not block), two sends matched by an irecv and a recv.
    text = (
        "a vm_create v pm-0\nw init v\nw compute 1\na vm_start v\na vm_migrate v pm-1\na vm_migrate v pm-0\n"
        "p0 irecv p1\np1 send p0 5\np1 send p0 5\np0 recv p1\n"
    )
    assert check(tmp_path, text) == (4, 10)
    session = check(tmp_path, text, order=False)
    assert session.run().actors["w"]["status"] == "done"


def test_unknown_names_are_reported_after_the_whole_trace(tmp_path):
    # A peer named before its first line is fine; one that never appears is not.
    assert check(tmp_path, "p0 send p1 5\np1 recv p0\n") == (2, 2)
    with pytest.raises(LookupFailure, match=r"t.trace:1: 'send' expects an actor of the trace as <dst>, found 'p9'"):
        check(tmp_path, "p0 send p9 5\n")
    with pytest.raises(ReplayError, match=r"t.trace:1: 'init' expects a host of the platform or a VM the trace "
                                          r"creates, found 'nowhere'"):
        check(tmp_path, "w init nowhere\nw compute 1\n")
