"""Basic Chan behaviour, parametrised over unbuffered, small, ring and unbounded."""

import pickle
import time
import queue
import gc
import weakref

import pytest

import fastchan as fc
from _helpers import CAPACITIES, MISSING, Elapsed, assert_blocks, drain, spawn, wait_until



def blocking_caps():
    """Capacities where send can block."""
    return [c for c in CAPACITIES if c is not None]


def fill(ch):
    """Fill a bounded channel to capacity with 0..cap-1; return what was sent."""
    vals = list(range(ch.capacity))
    for v in vals:
        ch.send(v, timeout=0)
    return vals




# --------------------------------------------------------------------------- basics


def test_exception_hierarchy():
    assert issubclass(fc.Closed, Exception)
    assert issubclass(fc.Empty, queue.Empty)
    assert not issubclass(fc.Closed, queue.Empty)
    assert not issubclass(fc.Closed, TimeoutError)
    assert not issubclass(fc.Empty, fc.Closed)


@pytest.mark.parametrize("cap", CAPACITIES)
def test_smoke(cap):
    ch = fc.Chan(cap)
    assert isinstance(ch, fc.Chan)
    assert ch.closed is False
    if cap == 0:
        t = spawn(ch.send, 7)
        assert ch.recv(timeout=10) == 7
        assert t.join() is None
    else:
        assert ch.send(7) is None
        assert ch.recv() == 7
    with pytest.raises(fc.Empty):
        ch.try_recv()


def test_default_capacity_is_unbuffered():
    assert fc.Chan().capacity == 0
    assert fc.Chan(capacity=5).capacity == 5
    assert fc.Chan(capacity=None).capacity is None


@pytest.mark.parametrize("cap", CAPACITIES)
def test_capacity(cap):
    ch = fc.Chan(cap)
    if cap is None:
        assert ch.capacity is None
    else:
        assert ch.capacity == cap
        assert type(ch.capacity) is int
    ch.close()
    assert ch.capacity == cap


@pytest.mark.parametrize("cap", CAPACITIES)
def test_an_empty_channel_is_still_true(cap):
    ch = fc.Chan(cap)
    assert len(ch) == 0 and bool(ch) is True
    assert (ch or None) is ch
    ch.close()
    assert bool(ch) is True


@pytest.mark.parametrize("cap", CAPACITIES)
def test_len_empty_full(cap):
    ch = fc.Chan(cap)
    assert len(ch) == 0
    if cap == 0:
        # len is always 0 for an unbuffered channel, even with a sender waiting.
        t = assert_blocks(ch.send, "x")
        assert len(ch) == 0
        assert ch.recv(timeout=10) == "x"
        t.join()
        assert len(ch) == 0
    elif cap is None:
        for i in range(100):
            ch.send(i)
            assert len(ch) == i + 1
        ch.recv()
        assert len(ch) == 99
    else:
        fill(ch)
        assert len(ch) == cap
        assert ch.try_send("extra") is False
        assert len(ch) == cap
        ch.recv()
        assert len(ch) == cap - 1
        drain(ch)
        assert len(ch) == 0


@pytest.mark.parametrize("cap", [1, 16, None])
def test_len_after_close(cap):
    ch = fc.Chan(cap)
    ch.send(1)
    if cap != 1:
        ch.send(2)
    n = len(ch)
    ch.close()
    assert len(ch) == n
    ch.recv()
    assert len(ch) == n - 1


# --------------------------------------------------------------------- try_send/recv


@pytest.mark.parametrize("cap", CAPACITIES)
def test_try_send(cap):
    ch = fc.Chan(cap)
    if cap == 0:
        assert ch.try_send(1) is False  # nobody is receiving
        assert drain(ch) == []
    elif cap is None:
        for i in range(1000):
            assert ch.try_send(i) is True
        assert drain(ch) == list(range(1000))
    else:
        for i in range(cap):
            assert ch.try_send(i) is True
        assert ch.try_send("overflow") is False
        assert len(ch) == cap
        assert drain(ch) == list(range(cap))  # the refused value was not enqueued


def test_try_send_to_waiting_receiver():
    # Unbuffered: a non-blocking send succeeds exactly when a receiver waits.
    ch = fc.Chan(0)
    r = spawn(ch.recv, timeout=30)
    wait_until(lambda: ch.try_send("hi"), msg="try_send to a waiting receiver")
    assert r.join() == "hi"
    assert ch.try_send("again") is False


@pytest.mark.parametrize("cap", [1, 16, None])
def test_try_send_wakes_blocked_receiver(cap):
    ch = fc.Chan(cap)
    r = assert_blocks(ch.recv)
    assert ch.try_send(42) is True
    assert r.join() == 42


@pytest.mark.parametrize("cap", CAPACITIES)
def test_try_recv(cap):
    ch = fc.Chan(cap)
    with pytest.raises(fc.Empty):
        ch.try_recv()
    with pytest.raises(queue.Empty):  # fc.Empty is a queue.Empty
        ch.try_recv()
    sentinel = object()
    assert ch.try_recv(sentinel) is sentinel
    assert ch.try_recv(None) is None
    assert ch.try_recv(0) == 0
    if cap != 0:
        ch.send("v")
        assert ch.try_recv(sentinel) == "v"
        ch.send(None)
        assert ch.try_recv(sentinel) is None  # a None value is not "nothing ready"
        with pytest.raises(fc.Empty):
            ch.try_recv()


def test_try_recv_from_waiting_sender():
    ch = fc.Chan(0)
    s = spawn(ch.send, "payload", timeout=30)
    box = []

    def poll():
        v = ch.try_recv(MISSING)
        if v is not MISSING:
            box.append(v)
            return True
        return False

    wait_until(poll, msg="try_recv from a waiting sender")
    assert box == ["payload"]
    s.join()


@pytest.mark.parametrize("cap", [1, 16])
def test_try_recv_unblocks_full_sender(cap):
    ch = fc.Chan(cap)
    fill(ch)
    s = assert_blocks(ch.send, "late")
    assert ch.try_recv() == 0
    s.join()
    assert drain(ch) == list(range(1, cap)) + ["late"]


def test_positional_only_signatures():
    ch = fc.Chan(None)
    with pytest.raises(TypeError):
        ch.send(value=1)
    with pytest.raises(TypeError):
        ch.try_send(value=1)
    with pytest.raises(TypeError):
        ch.try_recv(default=1)
    assert len(ch) == 0
    ch.send(1, timeout=1)  # timeout is a keyword
    assert ch.recv(timeout=1) == 1


# -------------------------------------------------------------------------- timeouts


@pytest.mark.parametrize("cap", CAPACITIES)
def test_recv_timeout(cap):
    ch = fc.Chan(cap)
    with Elapsed() as e:
        with pytest.raises(TimeoutError):
            ch.recv(timeout=0.1)
    assert e.seconds >= 0.09
    assert e.seconds < 5
    # the channel is still usable and nothing was taken
    if cap != 0:
        ch.send(1)
        assert ch.recv(timeout=0.1) == 1


@pytest.mark.parametrize("cap", CAPACITIES)
def test_recv_timeout_zero(cap):
    ch = fc.Chan(cap)
    with Elapsed() as e:
        with pytest.raises(TimeoutError):
            ch.recv(timeout=0)
    assert e.seconds < 1
    if cap != 0:
        ch.send("ready")
        assert ch.recv(timeout=0) == "ready"


@pytest.mark.parametrize("cap", CAPACITIES)
def test_recv_timeout_value_arrives(cap):
    ch = fc.Chan(cap)
    r = spawn(ch.recv, timeout=20)
    ch.send("x", timeout=20)
    assert r.join() == "x"


@pytest.mark.parametrize("cap", blocking_caps())
def test_send_timeout(cap):
    ch = fc.Chan(cap)
    before = fill(ch)
    with Elapsed() as e:
        with pytest.raises(TimeoutError):
            ch.send("late", timeout=0.1)
    assert e.seconds >= 0.09
    assert e.seconds < 5
    # the timed-out value was not delivered
    assert len(ch) == cap
    assert drain(ch) == before
    if cap == 0:
        # no ghost sender is left behind either
        with pytest.raises(TimeoutError):
            ch.recv(timeout=0.1)


@pytest.mark.parametrize("cap", blocking_caps())
def test_send_timeout_zero(cap):
    ch = fc.Chan(cap)
    before = fill(ch)
    with Elapsed() as e:
        with pytest.raises(TimeoutError):
            ch.send("late", timeout=0)
    assert e.seconds < 1
    assert drain(ch) == before


def test_send_timeout_zero_to_waiting_receiver():
    ch = fc.Chan(0)
    r = spawn(ch.recv, timeout=30)

    def attempt():
        try:
            ch.send("now", timeout=0)
            return True
        except TimeoutError:
            return False

    wait_until(attempt, msg="send(timeout=0) to a waiting receiver")
    assert r.join() == "now"


@pytest.mark.parametrize("cap", blocking_caps())
def test_send_timeout_receiver_arrives(cap):
    ch = fc.Chan(cap)
    before = fill(ch)
    s = spawn(ch.send, "late", timeout=20)
    got = [ch.recv(timeout=20) for _ in range(cap + 1)]
    assert s.join() is None
    assert got == before + ["late"]


def test_unbounded_never_blocks():
    ch = fc.Chan(None)
    for i in range(10_000):
        ch.send(i, timeout=0)
    assert len(ch) == 10_000
    assert ch.try_send("x") is True
    assert ch.recv() == 0


# ----------------------------------------------------------------------- ordering


@pytest.mark.parametrize("cap", CAPACITIES)
def test_fifo(cap):
    ch = fc.Chan(cap)
    n = 2000

    def producer():
        for i in range(n):
            ch.send(i, timeout=20)
        ch.close()

    p = spawn(producer)
    got = []
    while True:
        try:
            got.append(ch.recv(timeout=20))
        except fc.Closed:
            break
    p.join()
    assert got == list(range(n))


@pytest.mark.parametrize("cap", [1, 16, None])
def test_fifo_single_thread(cap):
    ch = fc.Chan(cap)
    k = 1 if cap == 1 else 16
    for rnd in range(50):  # wrap the ring many times
        vals = [(rnd, i) for i in range(k)]
        for v in vals:
            ch.send(v, timeout=0)
        assert [ch.recv(timeout=0) for _ in range(k)] == vals


@pytest.mark.parametrize("cap", CAPACITIES)
def test_identity_preserved(cap):
    ch = fc.Chan(cap)
    objs = [object(), [1, 2], {"a": 1}, None, 3.5, "s", b"b", (1,), ch]
    p = spawn(lambda: [ch.send(o, timeout=20) for o in objs])
    got = [ch.recv(timeout=20) for _ in objs]
    p.join()
    assert all(a is b for a, b in zip(got, objs))


# ---------------------------------------------------------------------- iteration


@pytest.mark.parametrize("cap", CAPACITIES)
def test_iter(cap):
    ch = fc.Chan(cap)
    n = 500

    def producer():
        for i in range(n):
            ch.send(i, timeout=20)
        ch.close()

    p = spawn(producer)
    assert list(ch) == list(range(n))
    p.join()
    assert list(ch) == []  # closed and drained: yields nothing


@pytest.mark.parametrize("cap", [1, 16, None])
def test_iter_buffered_after_close(cap):
    ch = fc.Chan(cap)
    vals = ["a"] if cap == 1 else ["a", "b", "c"]
    for v in vals:
        ch.send(v)
    ch.close()
    it = iter(ch)
    assert next(it) == "a"
    assert list(it) == vals[1:]


@pytest.mark.parametrize("cap", [16, None])
def test_iter_break_leaves_rest(cap):
    ch = fc.Chan(cap)
    for i in range(5):
        ch.send(i)
    for v in ch:
        if v == 1:
            break
    assert len(ch) == 3
    assert ch.recv() == 2


@pytest.mark.parametrize("cap", CAPACITIES)
def test_iter_blocks_until_close(cap):
    ch = fc.Chan(cap)
    t = assert_blocks(lambda: list(ch))
    ch.send(1, timeout=10)
    ch.send(2, timeout=10)
    assert t.is_alive()
    ch.close()
    assert t.join() == [1, 2]


# ---------------------------------------------------------------- context manager


@pytest.mark.parametrize("cap", CAPACITIES)
def test_context_manager_closes(cap):
    ch = fc.Chan(cap)
    with ch as c:
        assert c is ch
        assert not ch.closed
    assert ch.closed
    with pytest.raises(fc.Closed):
        ch.send(1, timeout=0)


@pytest.mark.parametrize("cap", CAPACITIES)
def test_context_manager_closes_on_error(cap):
    ch = fc.Chan(cap)
    with pytest.raises(ZeroDivisionError):
        with ch:
            1 / 0  # noqa: B018 - the exception must not be suppressed
    assert ch.closed


def test_context_manager_already_closed():
    ch = fc.Chan(1)
    ch.close()
    with ch as c:  # entering a closed channel is fine; exit does not raise
        assert c is ch
    assert ch.closed


# --------------------------------------------------------------------------- repr


@pytest.mark.parametrize(
    "cap, n, expected",
    [
        (16, 3, "<fastchan.Chan capacity=16 len=3 open>"),
        (16, 0, "<fastchan.Chan capacity=16 len=0 open>"),
        (1, 1, "<fastchan.Chan capacity=1 len=1 open>"),
        (0, 0, "<fastchan.Chan capacity=0 len=0 open>"),
        (None, 0, "<fastchan.Chan capacity=None len=0 open>"),
        (None, 5, "<fastchan.Chan capacity=None len=5 open>"),
    ],
)
def test_repr(cap, n, expected):
    ch = fc.Chan(cap)
    for i in range(n):
        ch.send(i)
    assert repr(ch) == expected
    ch.close()
    assert repr(ch) == expected[: -len("open>")] + "closed>"


def test_repr_tracks_len():
    ch = fc.Chan(16)
    for i in range(3):
        ch.send(i)
    assert repr(ch) == "<fastchan.Chan capacity=16 len=3 open>"
    ch.recv()
    assert repr(ch) == "<fastchan.Chan capacity=16 len=2 open>"
    ch.close()
    assert repr(ch) == "<fastchan.Chan capacity=16 len=2 closed>"
    ch.recv()
    ch.recv()
    assert repr(ch) == "<fastchan.Chan capacity=16 len=0 closed>"


def test_repr_unbuffered_with_waiting_sender():
    ch = fc.Chan(0)
    s = assert_blocks(ch.send, 1)
    assert repr(ch) == "<fastchan.Chan capacity=0 len=0 open>"
    assert ch.recv(timeout=10) == 1
    s.join()


# ----------------------------------------------------------------- weakref/pickle


@pytest.mark.parametrize("cap", CAPACITIES)
def test_weakref(cap):
    ch = fc.Chan(cap)
    r = weakref.ref(ch)
    assert r() is ch
    d = weakref.WeakValueDictionary()
    d["c"] = ch
    del ch
    gc.collect()
    assert r() is None
    assert "c" not in d


@pytest.mark.parametrize("cap", CAPACITIES)
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_raises_type_error(cap, protocol):
    ch = fc.Chan(cap)
    if cap != 0:
        ch.send(1)
    with pytest.raises(TypeError):
        pickle.dumps(ch, protocol=protocol)


def test_pickle_inside_container_raises_type_error():
    with pytest.raises(TypeError):
        pickle.dumps({"ch": fc.Chan(4)})


# ------------------------------------------------------------------- rendezvous


def test_unbuffered_rendezvous_send_waits_for_receiver():
    ch = fc.Chan(0)
    s = assert_blocks(ch.send, "v", for_=0.2)
    assert ch.recv(timeout=10) == "v"
    assert s.join() is None


def test_unbuffered_rendezvous_recv_waits_for_sender():
    ch = fc.Chan(0)
    r = assert_blocks(ch.recv, for_=0.2)
    ch.send("w", timeout=10)
    assert r.join() == "w"


def test_unbuffered_send_returns_only_after_take():
    # Each send completes only once its value was taken: the sender can never be
    # more than one value ahead of the receiver.
    ch = fc.Chan(0)
    taken = []
    completed = []

    def sender():
        for i in range(200):
            ch.send(i, timeout=20)
            completed.append(i)

    s = spawn(sender)
    for i in range(200):
        if i % 20 == 0:
            time.sleep(0.01)  # give a misbehaving sender time to run ahead
        # before we take i, send(i) cannot have completed
        assert len(completed) <= i, (i, len(completed))
        taken.append(ch.recv(timeout=20))
    s.join()
    assert taken == list(range(200))


@pytest.mark.parametrize("cap", [1, 16])
def test_buffered_send_blocks_when_full(cap):
    ch = fc.Chan(cap)
    before = fill(ch)
    s = assert_blocks(ch.send, "blocked")
    assert len(ch) == cap
    assert ch.recv(timeout=10) == before[0]
    assert s.join() is None
    assert len(ch) == cap
    assert drain(ch) == before[1:] + ["blocked"]


@pytest.mark.parametrize("cap", [1, 16])
def test_buffered_send_does_not_block_with_room(cap):
    ch = fc.Chan(cap)
    for i in range(cap):
        with Elapsed() as e:
            ch.send(i)
        assert e.seconds < 1


@pytest.mark.parametrize("cap", CAPACITIES)
def test_recv_blocks_when_empty(cap):
    ch = fc.Chan(cap)
    r = assert_blocks(ch.recv)
    ch.send("x", timeout=10)
    assert r.join() == "x"


def test_blocked_calls_spin_no_cpu():
    # Blocking calls release the GIL and sleep: other threads run, no CPU is burnt.
    a, b, c = fc.Chan(0), fc.Chan(1), fc.Chan(0)
    b.send("full")
    waiters = [
        spawn(a.recv, timeout=30),
        spawn(c.recv_many, 3, timeout=30),
        spawn(b.send, "x", timeout=30),
    ]
    time.sleep(0.1)
    # the main thread still gets to run Python code while they wait
    n = 0
    deadline = time.monotonic() + 0.2
    while time.monotonic() < deadline:
        n += 1
    assert n > 1000, "main thread starved while others were blocked"
    cpu0 = time.process_time()
    time.sleep(0.5)
    cpu = time.process_time() - cpu0
    assert cpu < 0.15, f"blocked calls used {cpu:.3f}s CPU in 0.5s"
    assert all(w.is_alive() for w in waiters)
    a.send(1, timeout=10)
    c.send(2, timeout=10)
    assert b.recv(timeout=10) == "full"
    assert [w.join() for w in waiters] == [1, [2], None]
    assert b.recv(timeout=0) == "x"


# ------------------------------------------------------- sequential model (hypothesis)

from collections import deque  # noqa: E402

from hypothesis import given, settings, strategies as st  # noqa: E402

_ops = st.one_of(
    st.tuples(st.just("try_send"), st.integers()),
    st.tuples(st.just("send0"), st.integers()),
    st.tuples(st.just("try_recv"), st.none()),
    st.tuples(st.just("recv0"), st.none()),
    st.tuples(st.just("send_many0"), st.lists(st.integers(), min_size=1, max_size=6)),
    st.tuples(st.just("recv_many0"), st.integers(min_value=1, max_value=5)),
    st.tuples(st.just("select_recv"), st.none()),
    st.tuples(st.just("select_send"), st.integers()),
    st.tuples(st.just("close"), st.none()),
)


@settings(max_examples=300, deadline=None)
@given(cap=st.sampled_from([0, 1, 3, None]), ops=st.lists(_ops, max_size=40))
def test_model_single_thread(cap, ops):
    """Non-blocking operations on one thread behave exactly like a bounded deque."""
    ch = fc.Chan(cap)
    q = deque()
    closed = False

    def room():
        return cap is None or len(q) < cap

    for op, arg in ops:
        if op == "try_send":
            if closed:
                with pytest.raises(fc.Closed):
                    ch.try_send(arg)
            else:
                ok = room()
                assert ch.try_send(arg) is ok
                if ok:
                    q.append(arg)
        elif op == "send0":
            if closed:
                with pytest.raises(fc.Closed):
                    ch.send(arg, timeout=0)
            elif room():
                ch.send(arg, timeout=0)
                q.append(arg)
            else:
                with pytest.raises(TimeoutError):
                    ch.send(arg, timeout=0)
        elif op == "try_recv":
            if q:
                assert ch.try_recv(MISSING) == q.popleft()
            elif closed:
                with pytest.raises(fc.Closed):
                    ch.try_recv(MISSING)
            else:
                assert ch.try_recv(MISSING) is MISSING
        elif op == "recv0":
            if q:
                assert ch.recv(timeout=0) == q.popleft()
            elif closed:
                with pytest.raises(fc.Closed):
                    ch.recv(timeout=0)
            else:
                with pytest.raises(TimeoutError):
                    ch.recv(timeout=0)
        elif op == "send_many0":
            if closed:
                with pytest.raises(fc.Closed) as ei:
                    ch.send_many(arg, timeout=0)
                assert ei.value.sent == 0
            else:
                k = len(arg) if cap is None else min(len(arg), cap - len(q))
                q.extend(arg[:k])
                if k == len(arg):
                    assert ch.send_many(arg, timeout=0) == k
                else:
                    with pytest.raises(TimeoutError) as ei:
                        ch.send_many(arg, timeout=0)
                    assert ei.value.sent == k
        elif op == "recv_many0":
            if q:
                want = [q.popleft() for _ in range(min(arg, len(q)))]
                assert ch.recv_many(arg, timeout=0) == want
            elif closed:
                with pytest.raises(fc.Closed):
                    ch.recv_many(arg, timeout=0)
            else:
                with pytest.raises(TimeoutError):
                    ch.recv_many(arg, timeout=0)
        elif op == "select_recv":
            if q:
                assert fc.select(ch, timeout=0) == (0, q.popleft(), True)
            elif closed:
                assert fc.select(ch, timeout=0) == (0, None, False)
            else:
                assert fc.select(ch, timeout=0) == (-1, None, False)
        elif op == "select_send":
            if closed:
                with pytest.raises(fc.Closed):
                    fc.select(fc.Send(ch, arg), timeout=0)
            elif room():
                assert fc.select(fc.Send(ch, arg), timeout=0) == (0, None, True)
                q.append(arg)
            else:
                assert fc.select(fc.Send(ch, arg), timeout=0) == (-1, None, False)
        elif op == "close":
            assert ch.close() is (not closed)
            closed = True
        assert len(ch) == len(q)
        assert ch.closed is closed
        state = "closed" if closed else "open"
        assert repr(ch) == f"<fastchan.Chan capacity={cap} len={len(q)} {state}>"
