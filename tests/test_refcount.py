"""No leaks, no early frees: values and channels are released exactly when they should be."""

import gc
import sys
import weakref

import pytest

import fastchan as fc
from _helpers import spawn

pytestmark = pytest.mark.skipif(
    not hasattr(sys, "getrefcount"), reason="needs CPython reference counting"
)


class Obj:
    """A weak-referenceable payload."""

    def __init__(self, tag=None):
        self.tag = tag


def collect():
    for _ in range(3):
        gc.collect()


# ---------------------------------------------------------------- dropped channels


@pytest.mark.parametrize("cap", [1, 16, None])
def test_drops_buffered_values(cap):
    ch = fc.Chan(cap)
    n = 1 if cap == 1 else 10
    objs = [Obj(i) for i in range(n)]
    refs = [weakref.ref(o) for o in objs]
    for o in objs:
        ch.send(o)
    del objs, o
    collect()
    assert all(r() is not None for r in refs), "buffered values freed early"
    del ch
    collect()
    assert all(r() is None for r in refs), "values left in a dropped channel leaked"


def test_drops_many_values_unbounded():
    ch = fc.Chan(None)
    refs = []
    for i in range(5000):
        o = Obj(i)
        refs.append(weakref.ref(o))
        ch.send(o)
    del o
    ch.recv()  # take one, so the ring is not at its starting offset
    del ch
    collect()
    assert sum(r() is not None for r in refs) == 0


def test_drops_wrapped_ring():
    ch = fc.Chan(4)
    for i in range(10):  # move head/tail around the ring
        ch.send(Obj(i))
        ch.recv()
    objs = [Obj(i) for i in range(4)]
    refs = [weakref.ref(o) for o in objs]
    for o in objs:
        ch.send(o)
    del objs, o
    del ch
    collect()
    assert all(r() is None for r in refs)


def test_drops_closed_channel_with_values():
    ch = fc.Chan(8)
    o = Obj()
    r = weakref.ref(o)
    ch.send(o)
    del o
    ch.close()
    del ch
    collect()
    assert r() is None


@pytest.mark.parametrize("cap", [1, 16, None])
def test_drops_channel_sent_into_itself(cap):
    ch = fc.Chan(cap)
    ch.send(ch)  # reference cycle through the buffer
    r = weakref.ref(ch)
    del ch
    collect()
    assert r() is None, "self-referencing channel not collected (missing GC support?)"


def test_drops_cycle_through_payload():
    ch = fc.Chan(None)
    o = Obj()
    o.ch = ch
    ch.send(o)
    r_ch, r_o = weakref.ref(ch), weakref.ref(o)
    del ch, o
    collect()
    assert r_ch() is None and r_o() is None


def test_drops_cycle_between_two_channels():
    a, b = fc.Chan(1), fc.Chan(None)
    a.send(b)
    b.send(a)
    ra, rb = weakref.ref(a), weakref.ref(b)
    del a, b
    collect()
    assert ra() is None and rb() is None


def test_drops_cycle_through_send_case():
    ch = fc.Chan(None)
    holder = Obj()
    holder.case = fc.Send(ch, holder)
    fc.select(holder.case)  # holder is now also in the channel
    r_ch, r_h = weakref.ref(ch), weakref.ref(holder)
    del ch, holder
    collect()
    assert r_ch() is None and r_h() is None


# ------------------------------------------------------------------ received values


def _roundtrip_ops():
    def via_recv(ch, o):
        ch.send(o)
        return ch.recv()

    def via_try(ch, o):
        assert ch.try_send(o)
        return ch.try_recv()

    def via_batch(ch, o):
        ch.send_many([o])
        return ch.recv_many(5)[0]

    def via_select_recv(ch, o):
        ch.send(o)
        return fc.select(ch)[1]

    def via_select_send(ch, o):
        fc.select(fc.Send(ch, o))
        return ch.recv()

    def via_iter(ch, o):
        ch.send(o)
        for v in ch:
            return v

    return [via_recv, via_try, via_batch, via_select_recv, via_select_send, via_iter]


@pytest.mark.parametrize("op", _roundtrip_ops(), ids=lambda f: f.__name__)
@pytest.mark.parametrize("cap", [1, 16, None])
def test_received_value_not_leaked(op, cap):
    ch = fc.Chan(cap)
    o = Obj()
    r = weakref.ref(o)
    got = op(ch, o)
    assert got is o
    del o, got
    collect()
    # the channel is still alive: it must not keep a stale reference in a slot
    assert r() is None, "channel kept a reference to a received value"
    assert len(ch) == 0


@pytest.mark.parametrize("cap", [0, 1])
def test_received_value_not_leaked_across_threads(cap):
    ch = fc.Chan(cap)
    o = Obj()
    r = weakref.ref(o)
    t = spawn(ch.send, o, timeout=10)
    got = ch.recv(timeout=10)
    t.join()
    assert got is o
    del o, got, t
    collect()
    assert r() is None


@pytest.mark.parametrize("cap", [0, 1])
def test_undelivered_values_not_leaked(cap):
    ch = fc.Chan(cap)
    if cap:
        ch.send("fill")
    o = Obj()
    r = weakref.ref(o)
    with pytest.raises(TimeoutError):
        ch.send(o, timeout=0.01)
    with pytest.raises(TimeoutError):
        ch.send_many([o, o], timeout=0)
    assert ch.try_send(o) is False
    assert fc.select(fc.Send(ch, o), timeout=0) == (-1, None, False)
    ch.close()
    with pytest.raises(fc.Closed):
        ch.send(o)
    with pytest.raises(fc.Closed):
        ch.try_send(o)
    with pytest.raises(fc.Closed):
        fc.select(fc.Send(ch, o))
    del o
    collect()
    assert r() is None, "a value that was not delivered leaked"


def test_value_of_sender_woken_by_close_not_leaked():
    ch = fc.Chan(0)
    o = Obj()
    r = weakref.ref(o)
    t = spawn(ch.send, o, timeout=20)
    import time

    time.sleep(0.05)
    ch.close()
    assert isinstance(t.join_exc(), fc.Closed)
    del o, t
    collect()
    assert r() is None


# -------------------------------------------------------------- refcount stability


def _refcount_cycles(op, n=5000):
    o = Obj()
    ch = fc.Chan(4)
    for _ in range(100):  # warm up caches, free lists
        op(ch, o)
    before = sys.getrefcount(o)
    before_ch = sys.getrefcount(ch)
    for _ in range(n):
        op(ch, o)
    return sys.getrefcount(o) - before, sys.getrefcount(ch) - before_ch


@pytest.mark.parametrize("op", _roundtrip_ops(), ids=lambda f: f.__name__)
def test_refcount_stable_roundtrip(op):
    d_obj, d_ch = _refcount_cycles(lambda ch, o: op(ch, o))
    assert d_obj == 0, f"value refcount drifted by {d_obj}"
    assert d_ch == 0, f"channel refcount drifted by {d_ch}"


def test_refcount_stable_failures():
    sentinel = Obj()

    def failing(ch, o):
        ch.send_many([o, o, o, o])  # fills the channel (cap 4)
        assert ch.try_send(o) is False
        try:
            ch.send(o, timeout=0)
        except TimeoutError:
            pass
        try:
            ch.send_many([o], timeout=0)
        except TimeoutError:
            pass
        assert fc.select(fc.Send(ch, o), timeout=0)[0] == -1
        assert ch.recv_many(10) == [o, o, o, o]
        assert ch.try_recv(sentinel) is sentinel
        try:
            ch.try_recv()
        except fc.Empty:
            pass
        try:
            ch.recv(timeout=0)
        except TimeoutError:
            pass
        assert fc.select(ch, None, timeout=0) == (-1, None, False)

    d_obj, d_ch = _refcount_cycles(failing, n=1000)
    assert d_obj == 0 and d_ch == 0
    assert sys.getrefcount(sentinel) <= 3


def test_refcount_stable_closed():
    o = Obj()
    ch = fc.Chan(4)
    ch.close()
    before, before_ch = sys.getrefcount(o), sys.getrefcount(ch)
    for _ in range(2000):
        for call in (
            lambda: ch.send(o),
            lambda: ch.try_send(o),
            lambda: ch.send_many([o]),
            lambda: fc.select(fc.Send(ch, o)),
            lambda: ch.recv(),
            lambda: ch.try_recv(o),
            lambda: ch.recv_many(3),
        ):
            try:
                call()
            except fc.Closed:
                pass
        assert fc.select(ch) == (0, None, False)
    assert sys.getrefcount(o) == before
    assert sys.getrefcount(ch) == before_ch


def test_refcount_default_of_try_recv():
    ch = fc.Chan(0)
    d = Obj()
    before = sys.getrefcount(d)
    for _ in range(5000):
        assert ch.try_recv(d) is d
    assert sys.getrefcount(d) == before


def test_refcount_stable_unbuffered_threads():
    ch = fc.Chan(0)
    o = Obj()
    before = sys.getrefcount(o)
    n = 2000

    def producer():
        for _ in range(n):
            ch.send(o, timeout=20)

    t = spawn(producer)
    for _ in range(n):
        assert ch.recv(timeout=20) is o
    t.join()
    del t
    collect()
    assert sys.getrefcount(o) == before
