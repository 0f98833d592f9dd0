"""Close semantics: Go's close(), with Python exceptions instead of zero values."""

import threading

import pytest

import fastchan as fc
from _helpers import CAPACITIES, Elapsed, assert_blocks, run_threads, spawn

MISSING = object()
BLOCKING = [0, 1, 16]


def fill(ch):
    vals = [f"buffered-{i}" for i in range(ch.capacity or 0)]
    for v in vals:
        ch.send(v, timeout=0)
    return vals


@pytest.mark.parametrize("cap", CAPACITIES)
def test_close_returns_true_then_false(cap):
    ch = fc.Chan(cap)
    assert ch.close() is True
    assert ch.close() is False
    assert ch.close() is False


@pytest.mark.parametrize("cap", CAPACITIES)
def test_closed_property(cap):
    ch = fc.Chan(cap)
    assert ch.closed is False
    ch.close()
    assert ch.closed is True


@pytest.mark.parametrize("cap", CAPACITIES)
def test_close_concurrent_exactly_one_true(cap):
    ch = fc.Chan(cap)
    barrier = threading.Barrier(8)

    def closer(_):
        barrier.wait(timeout=10)
        return ch.close()

    results = run_threads(8, closer)
    assert results.count(True) == 1
    assert results.count(False) == 7
    assert ch.closed


@pytest.mark.parametrize("cap", CAPACITIES)
def test_send_after_close(cap):
    ch = fc.Chan(cap)
    ch.close()
    with pytest.raises(fc.Closed):
        ch.send(1)
    with pytest.raises(fc.Closed):
        ch.send(1, timeout=0)  # Closed, not TimeoutError
    with pytest.raises(fc.Closed):
        ch.send(1, timeout=0.5)
    with pytest.raises(fc.Closed):
        ch.try_send(1)  # Closed, not False
    assert len(ch) == 0
    with pytest.raises(fc.Closed):
        ch.recv(timeout=0)  # nothing was enqueued


@pytest.mark.parametrize("cap", [1, 16])
def test_send_after_close_full_buffer(cap):
    ch = fc.Chan(cap)
    before = fill(ch)
    ch.close()
    with Elapsed() as e:
        with pytest.raises(fc.Closed):
            ch.send("x", timeout=5)
    assert e.seconds < 2  # raised at once, did not wait for room
    with pytest.raises(fc.Closed):
        ch.send("x", timeout=0)
    with pytest.raises(fc.Closed):
        ch.try_send("x")
    assert len(ch) == cap
    assert [ch.recv() for _ in range(cap)] == before
    with pytest.raises(fc.Closed):
        ch.recv()


@pytest.mark.parametrize("cap", [1, 16, None])
def test_recv_after_close_drains_then_closed(cap):
    ch = fc.Chan(cap)
    vals = ["a"] if cap == 1 else ["a", "b", "c"]
    for v in vals:
        ch.send(v)
    ch.close()
    assert ch.recv() == vals[0]
    if len(vals) > 1:
        assert ch.recv(timeout=0) == vals[1]
        assert ch.try_recv() == vals[2]
    with pytest.raises(fc.Closed):
        ch.recv()
    with pytest.raises(fc.Closed):
        ch.recv(timeout=0)  # Closed, not TimeoutError
    with pytest.raises(fc.Closed):
        ch.recv(timeout=1)
    assert len(ch) == 0


@pytest.mark.parametrize("cap", CAPACITIES)
def test_recv_after_close_empty(cap):
    ch = fc.Chan(cap)
    ch.close()
    with Elapsed() as e:
        with pytest.raises(fc.Closed):
            ch.recv(timeout=5)
    assert e.seconds < 2
    with pytest.raises(fc.Closed):
        ch.recv()


@pytest.mark.parametrize("cap", CAPACITIES)
def test_try_recv_closed_drained_raises_even_with_default(cap):
    ch = fc.Chan(cap)
    ch.close()
    with pytest.raises(fc.Closed):
        ch.try_recv()
    with pytest.raises(fc.Closed):
        ch.try_recv(None)
    with pytest.raises(fc.Closed):
        ch.try_recv(MISSING)


@pytest.mark.parametrize("cap", [1, 16, None])
def test_try_recv_closed_not_drained_returns_value(cap):
    ch = fc.Chan(cap)
    ch.send("last")
    ch.close()
    assert ch.try_recv(MISSING) == "last"
    with pytest.raises(fc.Closed):
        ch.try_recv(MISSING)


@pytest.mark.parametrize("cap", BLOCKING)
def test_close_wakes_sender(cap):
    ch = fc.Chan(cap)
    before = fill(ch)
    senders = [assert_blocks(ch.send, f"blocked-{i}", for_=0.05) for i in range(4)]
    ch.close()
    for s in senders:
        assert isinstance(s.join_exc(), fc.Closed)
    # the blocked values were not delivered; the buffered ones still are
    assert [ch.recv(timeout=0) for _ in before] == before
    with pytest.raises(fc.Closed):
        ch.recv(timeout=0)


@pytest.mark.parametrize("cap", BLOCKING)
def test_close_wakes_sender_with_timeout(cap):
    ch = fc.Chan(cap)
    fill(ch)
    s = assert_blocks(ch.send, "v", timeout=30)
    with Elapsed() as e:
        ch.close()
        exc = s.join_exc(timeout=10)
    assert isinstance(exc, fc.Closed), exc  # Closed, not TimeoutError
    assert e.seconds < 5


@pytest.mark.parametrize("cap", CAPACITIES)
def test_close_wakes_receiver(cap):
    ch = fc.Chan(cap)
    receivers = [assert_blocks(ch.recv, for_=0.05) for _ in range(4)]
    ch.close()
    for r in receivers:
        assert isinstance(r.join_exc(), fc.Closed)


@pytest.mark.parametrize("cap", CAPACITIES)
def test_close_wakes_receiver_with_timeout(cap):
    ch = fc.Chan(cap)
    r = assert_blocks(ch.recv, timeout=30)
    with Elapsed() as e:
        ch.close()
        exc = r.join_exc(timeout=10)
    assert isinstance(exc, fc.Closed), exc
    assert e.seconds < 5


@pytest.mark.parametrize("cap", CAPACITIES)
def test_close_wakes_iterator(cap):
    ch = fc.Chan(cap)
    t = assert_blocks(lambda: list(ch))
    ch.close()
    assert t.join() == []


@pytest.mark.parametrize("cap", CAPACITIES)
def test_value_then_close_receiver_gets_value_first(cap):
    ch = fc.Chan(cap)

    def receiver():
        got = []
        while True:
            try:
                got.append(ch.recv(timeout=20))
            except fc.Closed:
                return got

    r = assert_blocks(receiver)
    ch.send("v1", timeout=10)
    ch.send("v2", timeout=10)
    ch.close()
    assert r.join() == ["v1", "v2"]


@pytest.mark.parametrize("cap", [1, 2])
def test_close_with_full_buffer_and_blocked_senders(cap):
    ch = fc.Chan(cap)
    before = fill(ch)
    senders = [assert_blocks(ch.send, ("late", i), for_=0.05) for i in range(3)]
    receivers_done = []
    ch.close()
    for s in senders:
        assert isinstance(s.join_exc(), fc.Closed)
    while True:
        try:
            receivers_done.append(ch.recv(timeout=1))
        except fc.Closed:
            break
    assert receivers_done == before


def test_closed_visible_from_other_thread():
    ch = fc.Chan(0)
    spawn(ch.close).join()
    assert ch.closed is True
    assert spawn(lambda: ch.closed).join() is True
