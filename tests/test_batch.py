"""send_many / recv_many."""

import pytest

import fastchan as fc
from _helpers import CAPACITIES, MISSING, Elapsed, assert_blocks, drain, spawn, wait_until



def collect_all(ch, max_items=7, timeout=20):
    """Receive with recv_many until Closed; return the flat list."""
    out = []
    while True:
        try:
            batch = ch.recv_many(max_items, timeout=timeout)
        except fc.Closed:
            return out
        assert isinstance(batch, list)
        assert 1 <= len(batch) <= max_items
        out.extend(batch)




# ------------------------------------------------------------------------ send_many


@pytest.mark.parametrize("cap", CAPACITIES)
def test_send_many_returns_count_and_keeps_order(cap):
    ch = fc.Chan(cap)
    n = 1000

    def consumer():
        got = []
        while True:
            try:
                got.append(ch.recv(timeout=20))
            except fc.Closed:
                return got

    c = spawn(consumer)
    assert ch.send_many(range(n), timeout=20) == n
    ch.close()
    assert c.join() == list(range(n))


def test_send_many_unbounded_does_not_block():
    ch = fc.Chan(None)
    assert ch.send_many(range(5000), timeout=0) == 5000
    assert len(ch) == 5000
    assert drain(ch) == list(range(5000))


@pytest.mark.parametrize("cap", CAPACITIES)
def test_send_many_empty(cap):
    ch = fc.Chan(cap)
    assert ch.send_many([]) == 0
    assert ch.send_many(iter(())) == 0
    assert len(ch) == 0


@pytest.mark.parametrize(
    "make",
    [
        lambda: [1, 2, 3],
        lambda: (1, 2, 3),
        lambda: range(1, 4),
        lambda: iter([1, 2, 3]),
        lambda: (x for x in [1, 2, 3]),
        lambda: {1: "a", 2: "b", 3: "c"}.keys(),
        lambda: map(int, "123"),
    ],
    ids=["list", "tuple", "range", "iterator", "generator", "dict_keys", "map"],
)
def test_send_many_accepts_iterables(make):
    ch = fc.Chan(16)
    assert ch.send_many(make()) == 3
    assert drain(ch) == [1, 2, 3]


def test_send_many_generator_lazily_consumed():
    ch = fc.Chan(None)
    pulled = []

    def gen():
        for i in range(5):
            pulled.append(i)
            yield i * i

    assert ch.send_many(gen()) == 5
    assert pulled == [0, 1, 2, 3, 4]
    assert drain(ch) == [0, 1, 4, 9, 16]


@pytest.mark.parametrize("cap", [16, None])
def test_send_many_iterable_exception_propagates(cap):
    ch = fc.Chan(cap)

    class Boom(Exception):
        pass

    def gen():
        yield "a"
        yield "b"
        yield "c"
        raise Boom("from the iterable")

    with pytest.raises(Boom, match="from the iterable"):
        ch.send_many(gen())
    # the items produced before the error were delivered, in order
    assert drain(ch) == ["a", "b", "c"]
    assert not ch.closed


def test_send_many_iterable_exception_propagates_unbuffered():
    ch = fc.Chan(0)

    def gen():
        yield 1
        yield 2
        raise KeyError("k")

    c = spawn(collect_all, ch, 5)
    with pytest.raises(KeyError):
        ch.send_many(gen(), timeout=20)
    ch.close()
    assert c.join() == [1, 2]


def test_send_many_not_iterable():
    ch = fc.Chan(None)
    with pytest.raises(TypeError):
        ch.send_many(5)
    with pytest.raises(TypeError):
        ch.send_many(None)
    assert len(ch) == 0


def test_send_many_positional_only():
    ch = fc.Chan(None)
    with pytest.raises(TypeError):
        ch.send_many(values=[1])
    assert len(ch) == 0


def test_send_many_timeout_sent_count():
    ch = fc.Chan(4)
    with Elapsed() as e:
        with pytest.raises(TimeoutError) as ei:
            ch.send_many(range(10), timeout=0.1)
    assert e.seconds >= 0.09
    assert ei.value.sent == 4
    assert drain(ch) == [0, 1, 2, 3]


def test_send_many_timeout_zero_sends_what_fits():
    ch = fc.Chan(4)
    ch.send("pre")
    with pytest.raises(TimeoutError) as ei:
        ch.send_many(["a", "b", "c", "d", "e"], timeout=0)
    assert ei.value.sent == 3
    assert drain(ch) == ["pre", "a", "b", "c"]


def test_send_many_timeout_unbuffered_nothing_taken():
    ch = fc.Chan(0)
    with pytest.raises(TimeoutError) as ei:
        ch.send_many([1, 2, 3], timeout=0.05)
    assert ei.value.sent == 0
    with pytest.raises(TimeoutError):
        ch.recv(timeout=0.05)  # no ghost sender left behind


def test_send_many_timeout_unbuffered_partial():
    ch = fc.Chan(0)
    s = spawn(ch.send_many, range(10), timeout=1.0)
    got = [ch.recv(timeout=10) for _ in range(3)]
    assert got == [0, 1, 2]
    exc = s.join_exc()
    assert isinstance(exc, TimeoutError), exc
    assert exc.sent == 3
    with pytest.raises(TimeoutError):
        ch.recv(timeout=0.05)


@pytest.mark.parametrize("cap", CAPACITIES)
def test_send_many_closed_before(cap):
    ch = fc.Chan(cap)
    ch.close()
    with pytest.raises(fc.Closed) as ei:
        ch.send_many([1, 2, 3])
    assert ei.value.sent == 0
    assert len(ch) == 0


def test_send_many_closed_while_blocked_sent_count():
    ch = fc.Chan(4)
    s = spawn(ch.send_many, range(10), timeout=30)
    wait_until(lambda: len(ch) == 4, msg="buffer full")
    ch.close()
    exc = s.join_exc()
    assert isinstance(exc, fc.Closed), exc
    assert exc.sent == 4
    assert drain(ch) == [0, 1, 2, 3]


def test_send_many_closed_unbuffered_partial():
    ch = fc.Chan(0)
    s = spawn(ch.send_many, range(100))
    got = [ch.recv(timeout=10) for _ in range(5)]
    ch.close()
    exc = s.join_exc()
    assert isinstance(exc, fc.Closed), exc
    assert exc.sent == 5
    assert got == [0, 1, 2, 3, 4]
    with pytest.raises(fc.Closed):
        ch.recv(timeout=0)


def test_send_many_sent_is_int():
    ch = fc.Chan(2)
    with pytest.raises(TimeoutError) as ei:
        ch.send_many("abc", timeout=0)
    assert type(ei.value.sent) is int
    assert ei.value.sent == 2


# ------------------------------------------------------------------------ recv_many


@pytest.mark.parametrize("cap", [None, 128])
def test_recv_many_returns_up_to_max_ready(cap):
    ch = fc.Chan(cap)
    ch.send_many(range(100))
    first = ch.recv_many(10)
    assert first == list(range(10))
    rest = ch.recv_many(1000)
    assert rest == list(range(10, 100))
    assert len(ch) == 0


@pytest.mark.parametrize("cap", [1, 16, None])
def test_recv_many_one(cap):
    ch = fc.Chan(cap)
    ch.send("x")
    assert ch.recv_many(1) == ["x"]
    ch.send("y")
    if cap != 1:
        ch.send("z")
        assert ch.recv_many(1) == ["y"]
        assert ch.recv_many(1) == ["z"]
    else:
        assert ch.recv_many(1) == ["y"]


@pytest.mark.parametrize("cap", CAPACITIES)
def test_recv_many_waits_for_at_least_one(cap):
    ch = fc.Chan(cap)
    r = assert_blocks(ch.recv_many, 10, for_=0.15)
    ch.send("only", timeout=10)
    assert r.join() == ["only"]


@pytest.mark.parametrize("cap", [16, None])
def test_recv_many_does_not_wait_for_more(cap):
    ch = fc.Chan(cap)
    ch.send(1)
    ch.send(2)
    with Elapsed() as e:
        got = ch.recv_many(100, timeout=5)
    assert got == [1, 2]
    assert e.seconds < 2


@pytest.mark.parametrize("cap", CAPACITIES)
def test_recv_many_timeout(cap):
    ch = fc.Chan(cap)
    with Elapsed() as e:
        with pytest.raises(TimeoutError):
            ch.recv_many(5, timeout=0.1)
    assert e.seconds >= 0.09
    with pytest.raises(TimeoutError):
        ch.recv_many(5, timeout=0)


def test_recv_many_timeout_zero_with_values():
    ch = fc.Chan(8)
    ch.send_many("abc")
    assert ch.recv_many(8, timeout=0) == ["a", "b", "c"]


@pytest.mark.parametrize("cap", CAPACITIES)
def test_recv_many_closed_and_drained(cap):
    ch = fc.Chan(cap)
    ch.close()
    with pytest.raises(fc.Closed):
        ch.recv_many(3)
    with pytest.raises(fc.Closed):
        ch.recv_many(3, timeout=0)


@pytest.mark.parametrize("cap", [16, None])
def test_recv_many_closed_drains_first(cap):
    ch = fc.Chan(cap)
    ch.send_many([1, 2, 3])
    ch.close()
    assert ch.recv_many(2) == [1, 2]
    assert ch.recv_many(5) == [3]
    with pytest.raises(fc.Closed):
        ch.recv_many(5)


@pytest.mark.parametrize("cap", CAPACITIES)
def test_recv_many_close_wakes(cap):
    ch = fc.Chan(cap)
    r = assert_blocks(ch.recv_many, 4, timeout=30)
    ch.close()
    assert isinstance(r.join_exc(), fc.Closed)


def test_recv_many_from_blocked_senders_unbuffered():
    ch = fc.Chan(0)
    senders = [assert_blocks(ch.send, i, for_=0.05) for i in range(3)]
    got = ch.recv_many(10, timeout=10)
    assert 1 <= len(got) <= 3
    while len(got) < 3:
        got += ch.recv_many(10, timeout=10)
    assert sorted(got) == [0, 1, 2]
    for s in senders:
        assert s.join() is None
    with pytest.raises(TimeoutError):
        ch.recv_many(10, timeout=0.05)


def test_recv_many_unblocks_full_sender():
    ch = fc.Chan(2)
    ch.send_many([0, 1])
    s = assert_blocks(ch.send, "x")
    got = ch.recv_many(10, timeout=10)
    assert got[:2] == [0, 1]
    s.join()
    got += drain(ch)
    assert got == [0, 1, "x"]


@pytest.mark.parametrize("cap", CAPACITIES)
def test_send_many_recv_many_roundtrip(cap):
    ch = fc.Chan(cap)
    n = 5000

    def producer():
        assert ch.send_many(range(n), timeout=20) == n
        ch.close()

    p = spawn(producer)
    got = collect_all(ch, max_items=64)
    p.join()
    assert got == list(range(n))


@pytest.mark.parametrize("bad", [0, -1, -100])
def test_recv_many_max_items_value_error(bad):
    ch = fc.Chan(None)
    ch.send(1)
    with pytest.raises(ValueError, match="max_items"):
        ch.recv_many(bad)
    assert len(ch) == 1  # nothing was taken


@pytest.mark.parametrize("bad", [1.5, 2.0, "3", None, [1]])
def test_recv_many_max_items_type_error(bad):
    ch = fc.Chan(None)
    ch.send(1)
    with pytest.raises(TypeError, match="max_items"):
        ch.recv_many(bad)
    assert len(ch) == 1


def test_recv_many_positional_only():
    ch = fc.Chan(None)
    ch.send(1)
    with pytest.raises(TypeError):
        ch.recv_many(max_items=1)
    assert len(ch) == 1
