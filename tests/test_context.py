"""Context: cancel, done, err, deadline, wait, raise_if_cancelled, with, parent/child
propagation, deadlines that fire with nobody waiting, bad input."""

import math
import time

import pytest

import fastchan as fc
from _helpers import spawn

pytestmark = pytest.mark.timeout(60)


def test_exception_hierarchy():
    assert issubclass(fc.Cancelled, Exception)
    assert issubclass(fc.DeadlineExceeded, fc.Cancelled)
    assert issubclass(fc.DeadlineExceeded, TimeoutError)


def test_fresh_context_is_active():
    ctx = fc.Context()
    assert not ctx.cancelled
    assert ctx.err is None
    assert ctx.deadline is None
    assert not ctx.wait(timeout=0)
    ctx.raise_if_cancelled()
    assert fc.select(ctx.done, timeout=0) == (-1, None, False)
    assert "active" in repr(ctx)


def test_cancel_closes_done_and_sets_err():
    ctx = fc.Context()
    ctx.cancel()
    assert ctx.cancelled
    assert isinstance(ctx.err, fc.Cancelled)
    assert not isinstance(ctx.err, fc.DeadlineExceeded)
    assert ctx.done.closed
    assert fc.select(ctx.done, timeout=0) == (0, None, False)
    assert ctx.wait(timeout=0)
    with pytest.raises(fc.Cancelled):
        ctx.raise_if_cancelled()


def test_cancel_with_cause_and_only_first_counts():
    ctx = fc.Context()
    cause = ValueError("boom")
    ctx.cancel(cause)
    ctx.cancel(KeyError("later"))
    assert ctx.err is cause
    with pytest.raises(ValueError, match="boom"):
        ctx.raise_if_cancelled()


def test_cancel_bad_cause():
    with pytest.raises(TypeError, match="cause"):
        fc.Context().cancel("not an exception")


def test_cancel_wakes_blocked_select_and_wait():
    ctx = fc.Context()
    jobs = fc.Chan()
    sel = spawn(fc.select, jobs, ctx.done)
    waiter = spawn(ctx.wait)
    time.sleep(0.05)
    ctx.cancel()
    assert sel.join() == (1, None, False)
    assert waiter.join() is True


def test_deadline_fires_with_nobody_waiting():
    t0 = time.monotonic()
    ctx = fc.Context(timeout=0.05)
    assert t0 + 0.05 <= ctx.deadline <= time.monotonic() + 0.05
    time.sleep(0.15)
    assert ctx.cancelled
    assert ctx.done.closed
    assert isinstance(ctx.err, fc.DeadlineExceeded)
    with pytest.raises(fc.DeadlineExceeded):
        ctx.raise_if_cancelled()
    assert "DeadlineExceeded" in repr(ctx)


def test_deadline_wakes_a_blocked_select():
    ctx = fc.Context(timeout=0.05)
    t0 = time.monotonic()
    assert fc.select(fc.Chan(), ctx.done) == (1, None, False)
    assert time.monotonic() - t0 < 5
    assert isinstance(ctx.err, fc.DeadlineExceeded)


def test_recv_on_done_raises_closed_after_deadline():
    ctx = fc.Context(timeout=0.02)
    with pytest.raises(fc.Closed):
        ctx.done.recv(timeout=10)


def test_wait_times_out():
    ctx = fc.Context(timeout=10)
    assert ctx.wait(timeout=0.05) is False
    ctx.cancel()


def test_cancel_after_deadline_keeps_deadline_exceeded():
    ctx = fc.Context(timeout=0.01)
    time.sleep(0.05)
    ctx.cancel(ValueError("late"))
    assert isinstance(ctx.err, fc.DeadlineExceeded)


def test_with_cancels_on_exit():
    with fc.Context() as ctx:
        assert not ctx.cancelled
    assert ctx.cancelled


def test_parent_cancel_reaches_children_not_reverse():
    parent = fc.Context()
    child = fc.Context(parent=parent)
    grandchild = fc.Context(parent=child)
    sibling = fc.Context(parent=parent)
    child.cancel()
    assert child.cancelled and grandchild.cancelled
    assert not parent.cancelled and not sibling.cancelled
    cause = RuntimeError("stop")
    parent.cancel(cause)
    assert sibling.cancelled and sibling.err is cause


def test_child_of_cancelled_parent_starts_cancelled():
    parent = fc.Context()
    parent.cancel()
    child = fc.Context(parent=parent)
    assert child.cancelled
    assert isinstance(child.err, fc.Cancelled)


def test_child_deadline_never_after_parent():
    parent = fc.Context(timeout=0.05)
    child = fc.Context(timeout=100, parent=parent)
    assert child.deadline == parent.deadline
    shorter = fc.Context(timeout=0.01, parent=parent)
    assert shorter.deadline < parent.deadline
    unbounded = fc.Context(parent=parent)
    assert unbounded.deadline == parent.deadline
    time.sleep(0.1)
    assert child.cancelled and unbounded.cancelled
    assert isinstance(child.err, fc.DeadlineExceeded)


def test_many_short_lived_children_are_pruned():
    parent = fc.Context()
    for _ in range(1000):
        with fc.Context(parent=parent):
            pass
    assert len(parent._children) == 0
    for _ in range(1000):
        fc.Context(timeout=0, parent=parent)
    assert len(parent._children) < 200


def test_concurrent_cancels_agree():
    for _ in range(50):
        ctx = fc.Context()
        causes = [ValueError(i) for i in range(4)]
        threads = [spawn(ctx.cancel, c) for c in causes]
        for t in threads:
            t.join()
        assert any(ctx.err is c for c in causes)
        assert ctx.done.closed


def test_done_is_receive_only():
    ctx = fc.Context()
    with pytest.raises(TypeError):
        ctx.done.close()
    with pytest.raises(TypeError):
        ctx.done.try_send(1)
    assert not ctx.cancelled


@pytest.mark.parametrize("bad, exc", [(-1, ValueError), (math.nan, ValueError), ("1", TypeError), (True, TypeError)])
def test_bad_timeout(bad, exc):
    with pytest.raises(exc, match="timeout"):
        fc.Context(timeout=bad)


def test_bad_parent():
    with pytest.raises(TypeError, match="parent"):
        fc.Context(parent=object())


def test_infinite_timeout_means_no_deadline():
    assert fc.Context(timeout=math.inf).deadline is None
