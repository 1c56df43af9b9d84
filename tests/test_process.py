"""Requests and the one process driver: values in, errors thrown in, failures, interruption, wake policies."""

from __future__ import annotations

import pytest

from replay.engine import Engine
from replay.process import AllOf, Process, Sleep, Wait


def test_values_go_back_in_and_the_return_value_ends_the_process():
    # The generator gets each request's value at its yield; the process is done with what it returns.
    first, second = Wait("first"), Wait("second")
    seen = []

    def steps():
        seen.append((yield first))
        seen.append((yield second))
        return "done"

    process = Process("p", steps())
    process.step()
    assert process.waiting is first and not process.done
    first.finish(1)
    assert process.waiting is second
    second.finish(2)
    assert seen == [1, 2] and process.done and process.value == "done" and process.waiting is None


def test_a_process_waits_for_another():
    inner_request = Wait("inner")

    def inner():
        value = yield inner_request
        return value * 10

    child = Process("child", inner())
    child.step()

    def outer():
        return (yield child) + 1

    parent = Process("parent", outer())
    parent.step()
    assert parent.waiting is child and parent.describe() == "parent" and child.describe() == "child"
    inner_request.finish(4)
    assert parent.value == 41


def test_a_failed_request_is_raised_at_the_yield():
    request = Wait("w")

    def steps():
        try:
            yield request
        except KeyError as error:
            return f"caught {error.args[0]}"

    process = Process("p", steps())
    process.step()
    request.fail(KeyError("k"))
    assert process.value == "caught k"


def test_an_exception_fails_the_process_for_its_waiters_else_goes_up():
    # Someone waits: the process fails with the exception, which the waiter gets at its own yield.
    def broken():
        raise ValueError("bad step")
        yield  # a generator

    waited = Process("waited", broken())
    got = []
    waited.then(lambda request: got.append(request.error))
    waited.step()
    assert waited.done and isinstance(got[0], ValueError)
    # Nobody waits: the exception goes up to whoever stepped the process.
    alone = Process("alone", broken())
    with pytest.raises(ValueError, match="bad step"):
        alone.step()


def test_yielding_something_else_than_a_request_names_the_process():
    def steps():
        yield 42

    with pytest.raises(TypeError, match=r"process 'x' yielded 42; simulated code must yield requests"):
        Process("x", steps()).step()


def test_interrupt_closes_the_generator_and_ignores_what_it_waited_for():
    request = Wait("w")
    cleaned = []

    def steps():
        try:
            yield request
        finally:
            cleaned.append(True)

    process = Process("p", steps())
    process.step()
    process.interrupt(RuntimeError("stopped"))
    assert cleaned == [True] and process.done and isinstance(process.error, RuntimeError)
    request.finish("late")  # the process does not run again
    assert process.value is None


def test_a_wake_policy_decides_when_the_process_runs_again():
    # The actor scheduler queues wake-ups instead of stepping at once: a subclass's wake() holds the request
    # and the process runs only when the queue does.
    queue = []
    request = Wait("w")

    class Queued(Process):
        __slots__ = ()

        def wake(self, done):
            queue.append(done)

    def steps():
        yield request
        return "ran"

    process = Queued("p", steps())
    process.step()
    request.finish()
    assert not process.done and queue == [request]
    process.step(queue.pop())
    assert process.value == "ran"


def test_all_of_and_sleeps():
    # Two sleeps of 1 s and 3 s: all of them is done at 3 s with both values (None); a negative sleep is refused.
    engine = Engine()
    ends = []
    both = AllOf([Sleep(engine, 1.0), Sleep(engine, 3.0)])
    both.then(lambda request: ends.append((engine.now, request.value)))
    engine.run()
    assert ends == [(3.0, [None, None])]
    with pytest.raises(ValueError, match="non-negative"):
        Sleep(engine, -1.0)
    cancelled = Sleep(engine, 1.0)
    cancelled.cancel()
    engine.run()
    assert not cancelled.done
