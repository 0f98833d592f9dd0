"""fc.select: receive / Send / None cases, timeouts, closing, fairness, priority."""

import math
import threading

import pytest

import fastchan as fc
from _helpers import Elapsed, assert_blocks, spawn, wait_until

MISSING = object()
N_FAIR = 3000


def ready(n=N_FAIR + 10, tag="v"):
    """An unbounded channel holding enough values to stay ready for a fairness run."""
    ch = fc.Chan(None)
    ch.send_many([tag] * n)
    return ch


def counts_for(cases, n=N_FAIR, **kw):
    counts = [0] * len(cases)
    for _ in range(n):
        i, v, ok = fc.select(*cases, timeout=0, **kw)
        assert i >= 0, "a ready case exists; select must not report a timeout"
        assert ok is True
        counts[i] += 1
    return counts


# ------------------------------------------------------------------- receive cases


def test_select_recv_ready():
    a, b = fc.Chan(1), fc.Chan(1)
    b.send("bv")
    res = fc.select(a, b)
    assert type(res) is tuple and len(res) == 3
    assert res == (1, "bv", True)
    assert len(b) == 0 and len(a) == 0


def test_select_recv_single_case():
    ch = fc.Chan(None)
    ch.send(5)
    assert fc.select(ch) == (0, 5, True)
    assert fc.select(ch, timeout=0) == (-1, None, False)


def test_select_recv_none_value_is_ok_true():
    ch = fc.Chan(1)
    ch.send(None)
    assert fc.select(ch) == (0, None, True)


def test_select_recv_identity():
    ch = fc.Chan(1)
    obj = object()
    ch.send(obj)
    i, v, ok = fc.select(ch)
    assert v is obj


def test_select_recv_consumes_exactly_one():
    a, b = fc.Chan(4), fc.Chan(4)
    a.send("a1")
    b.send("b1")
    i, v, ok = fc.select(a, b)
    assert ok and (i, v) in [(0, "a1"), (1, "b1")]
    assert len(a) + len(b) == 1  # the other value is untouched


def test_select_many_cases_picks_the_ready_one():
    chans = [fc.Chan(1) for _ in range(200)]
    chans[137].send("here")
    assert fc.select(*chans) == (137, "here", True)
    assert fc.select(*chans, timeout=0) == (-1, None, False)


def test_select_recv_from_waiting_unbuffered_sender():
    ch = fc.Chan(0)
    s = spawn(ch.send, "s", timeout=30)

    def attempt():
        res = fc.select(ch, timeout=0)
        return res if res[0] != -1 else None

    assert wait_until(attempt, msg="select(timeout=0) to find the waiting sender") == (0, "s", True)
    s.join()


# ----------------------------------------------------------------------- Send cases


def test_select_send_ready():
    ch = fc.Chan(1)
    assert fc.select(fc.Send(ch, 7)) == (0, None, True)
    assert ch.recv(timeout=0) == 7


def test_select_send_full_not_ready():
    ch = fc.Chan(1)
    ch.send("first")
    assert fc.select(fc.Send(ch, "second"), timeout=0) == (-1, None, False)
    assert len(ch) == 1
    assert ch.recv() == "first"
    with pytest.raises(fc.Empty):
        ch.try_recv()


def test_select_send_none_value():
    ch = fc.Chan(1)
    assert fc.select(fc.Send(ch, None)) == (0, None, True)
    assert ch.try_recv(MISSING) is None


def test_select_send_identity():
    ch = fc.Chan(1)
    obj = object()
    fc.select(fc.Send(ch, obj))
    assert ch.recv() is obj


def test_select_send_performs_exactly_one():
    a, b = fc.Chan(1), fc.Chan(1)
    i, v, ok = fc.select(fc.Send(a, "A"), fc.Send(b, "B"))
    assert (v, ok) == (None, True) and i in (0, 1)
    assert len(a) + len(b) == 1
    assert [a, b][i].recv() == "AB"[i]


def test_select_send_case_reusable():
    ch = fc.Chan(None)
    s = fc.Send(ch, "again")
    assert fc.select(s) == (0, None, True)
    assert fc.select(s) == (0, None, True)
    assert ch.recv_many(10) == ["again", "again"]


def test_select_send_and_recv_mixed():
    src, dst = fc.Chan(1), fc.Chan(1)
    dst.send("full")
    src.send("x")
    # dst full: only the receive can proceed
    assert fc.select(fc.Send(dst, "y"), src) == (1, "x", True)
    assert fc.select(fc.Send(dst, "y"), src, timeout=0) == (-1, None, False)
    dst.recv()
    assert fc.select(fc.Send(dst, "y"), src) == (0, None, True)
    assert dst.recv() == "y"


def test_select_send_unbuffered_completes_when_receiver_arrives():
    ch = fc.Chan(0)
    t = assert_blocks(fc.select, fc.Send(ch, "hello"))
    assert ch.recv(timeout=10) == "hello"
    assert t.join() == (0, None, True)


def test_select_send_unbuffered_no_receiver_times_out():
    ch = fc.Chan(0)
    assert fc.select(fc.Send(ch, 1), timeout=0.05) == (-1, None, False)
    with pytest.raises(TimeoutError):
        ch.recv(timeout=0.05)  # nothing left offered


def test_select_send_to_waiting_receiver_timeout_zero():
    ch = fc.Chan(0)
    r = spawn(ch.recv, timeout=30)

    def attempt():
        return fc.select(fc.Send(ch, "now"), timeout=0)[0] == 0

    wait_until(attempt, msg="select(Send, timeout=0) to find the waiting receiver")
    assert r.join() == "now"


def test_select_send_full_buffer_completes_when_drained():
    ch = fc.Chan(1)
    ch.send("first")
    t = assert_blocks(fc.select, fc.Send(ch, "second"))
    assert ch.recv(timeout=10) == "first"
    assert t.join() == (0, None, True)
    assert ch.recv(timeout=10) == "second"


def test_select_woken_send_only_one_performed():
    a, b = fc.Chan(0), fc.Chan(0)
    t = assert_blocks(fc.select, fc.Send(a, "A"), fc.Send(b, "B"))
    # two receivers race; only one of them may get a value
    ra = spawn(a.recv, timeout=1.0)
    rb = spawn(b.recv, timeout=1.0)
    i, v, ok = t.join()
    assert (v, ok) == (None, True)
    ea, eb = ra.join_exc(), rb.join_exc()
    results = [ra.result if ea is None else ea, rb.result if eb is None else eb]
    assert results[i] == "AB"[i]
    assert isinstance(results[1 - i], TimeoutError)


# ----------------------------------------------------------------------- None cases


def test_select_none_cases_keep_indexes():
    ch = fc.Chan(1)
    ch.send("v")
    assert fc.select(None, ch, None) == (1, "v", True)
    ch.send("w")
    assert fc.select(None, None, None, ch) == (3, "w", True)
    assert fc.select(None, fc.Send(ch, 1)) == (1, None, True)


def test_select_only_none_cases_times_out():
    with Elapsed() as e:
        assert fc.select(None, None, timeout=0.1) == (-1, None, False)
    assert 0.09 <= e.seconds < 5
    assert fc.select(None, timeout=0) == (-1, None, False)


def test_select_no_cases_waits_out_timeout():
    with Elapsed() as e:
        assert fc.select(timeout=0.1) == (-1, None, False)
    assert 0.09 <= e.seconds < 5
    with Elapsed() as e:
        assert fc.select(timeout=0) == (-1, None, False)
    assert e.seconds < 1


def test_select_no_enabled_cases_blocks():
    t = assert_blocks(fc.select, None, None, timeout=0.5, for_=0.2)
    assert t.join() == (-1, None, False)


# ------------------------------------------------------------------------- timeouts


def test_select_timeout_zero_nothing_ready():
    a, b = fc.Chan(0), fc.Chan(4)
    with Elapsed() as e:
        assert fc.select(a, b, timeout=0) == (-1, None, False)
    assert e.seconds < 1


def test_select_timeout_zero_ready():
    a = fc.Chan(4)
    a.send(1)
    assert fc.select(a, timeout=0) == (0, 1, True)


@pytest.mark.parametrize("timeout", [0.05, 0.1, 0.2])
def test_select_timeout_returns_minus_one(timeout):
    a, b = fc.Chan(0), fc.Chan(4)
    with Elapsed() as e:
        res = fc.select(a, b, fc.Send(a, 1), timeout=timeout)  # never TimeoutError
    assert res == (-1, None, False)
    assert e.seconds >= timeout * 0.9
    assert e.seconds < timeout + 5


def test_select_timeout_then_value_arrives_in_time():
    ch = fc.Chan(0)

    def late_sender():
        import time

        time.sleep(0.1)
        ch.send("late", timeout=10)

    s = spawn(late_sender)
    with Elapsed() as e:
        assert fc.select(ch, timeout=10) == (0, "late", True)
    assert e.seconds < 5
    s.join()


def test_select_infinite_timeout_waits():
    ch = fc.Chan(0)
    t = assert_blocks(fc.select, ch, timeout=math.inf)
    ch.send(3, timeout=10)
    assert t.join() == (0, 3, True)


# ------------------------------------------------------------------------ closing


@pytest.mark.parametrize("cap", [0, 1, None])
def test_select_closed_recv_case(cap):
    ch = fc.Chan(cap)
    ch.close()
    assert fc.select(ch) == (0, None, False)
    assert fc.select(ch, timeout=0) == (0, None, False)
    assert fc.select(fc.Chan(0), ch) == (1, None, False)


def test_select_closed_recv_case_wins_over_blocking():
    ch, never = fc.Chan(0), fc.Chan(0)
    ch.close()
    with Elapsed() as e:
        assert fc.select(never, None, ch) == (2, None, False)
    assert e.seconds < 2


def test_select_closed_buffered_drains_first():
    ch = fc.Chan(4)
    ch.send_many([1, 2])
    ch.close()
    assert fc.select(ch) == (0, 1, True)
    assert fc.select(ch) == (0, 2, True)
    assert fc.select(ch) == (0, None, False)
    assert fc.select(ch) == (0, None, False)


@pytest.mark.parametrize("cap", [0, 1, None])
def test_select_send_on_closed_raises(cap):
    ch = fc.Chan(cap)
    ch.close()
    with pytest.raises(fc.Closed):
        fc.select(fc.Send(ch, 1))
    with pytest.raises(fc.Closed):
        fc.select(fc.Send(ch, 1), timeout=0)
    with pytest.raises(fc.Closed):
        fc.select(None, fc.Send(ch, 1), fc.Chan(0), timeout=1)


def test_select_send_on_closed_ordered_priority():
    closed = fc.Chan(1)
    closed.close()
    r = fc.Chan(None)
    r.send_many([1, 2])
    with pytest.raises(fc.Closed):
        fc.select(fc.Send(closed, "x"), r, ordered=True)
    assert fc.select(r, fc.Send(closed, "x"), ordered=True) == (0, 1, True)
    assert len(r) == 1


def test_select_send_on_closed_is_a_ready_case():
    # A send on a closed channel can "proceed" (to raise), so it is chosen at
    # random among the ready cases like any other.
    closed = fc.Chan(1)
    closed.close()
    r = ready(1000)
    raised = received = 0
    for _ in range(400):
        try:
            res = fc.select(fc.Send(closed, 0), r, timeout=0)
        except fc.Closed:
            raised += 1
        else:
            assert res == (1, "v", True)
            received += 1
    assert raised >= 80 and received >= 80, (raised, received)


def test_select_close_wakes_recv_case():
    a, b = fc.Chan(0), fc.Chan(4)
    t = assert_blocks(fc.select, a, b)
    b.close()
    assert t.join() == (1, None, False)


def test_select_close_wakes_send_case():
    ch = fc.Chan(1)
    ch.send("full")
    t = assert_blocks(fc.select, fc.Chan(0), fc.Send(ch, "x"))
    ch.close()
    assert isinstance(t.join_exc(), fc.Closed)
    assert ch.recv() == "full"  # the value of the Send case was not delivered
    with pytest.raises(fc.Closed):
        ch.recv()


def test_select_close_wakes_unbuffered_send_case():
    ch = fc.Chan(0)
    t = assert_blocks(fc.select, fc.Send(ch, "x"), timeout=30)
    ch.close()
    assert isinstance(t.join_exc(), fc.Closed)
    with pytest.raises(fc.Closed):
        ch.recv(timeout=0)


# ---------------------------------------------------------------------- wake-ups


@pytest.mark.parametrize("cap", [0, 1, None])
def test_select_wakes_on_send(cap):
    a, b = fc.Chan(cap), fc.Chan(cap)
    t = assert_blocks(fc.select, a, b)
    b.send("bv", timeout=10)
    assert t.join() == (1, "bv", True)
    assert len(a) == 0


@pytest.mark.parametrize("cap", [0, 1])
def test_select_wakes_on_recv(cap):
    a, b = fc.Chan(cap), fc.Chan(cap)
    if cap:
        a.send("fa")
        b.send("fb")
    t = assert_blocks(fc.select, fc.Send(a, "A"), fc.Send(b, "B"))
    got = b.recv(timeout=10)
    res = t.join()
    if cap:
        assert got == "fb"
        assert res == (1, None, True)
        assert b.recv(timeout=0) == "B"
        assert a.recv(timeout=0) == "fa"
        with pytest.raises(fc.Empty):
            a.try_recv()
    else:
        assert got == "B"
        assert res == (1, None, True)
        with pytest.raises(TimeoutError):
            a.recv(timeout=0.05)


def test_select_many_waiters_one_value_each():
    ch = fc.Chan(0)
    other = fc.Chan(0)
    waiters = [assert_blocks(fc.select, other, ch, timeout=30, for_=0.02) for _ in range(5)]
    for i in range(5):
        ch.send(i, timeout=10)
    results = [w.join() for w in waiters]
    assert sorted(r[1] for r in results) == list(range(5))
    assert all(r[0] == 1 and r[2] is True for r in results)


# ----------------------------------------------------------------------- fairness


def _assert_split(counts, idx, lo, hi):
    total = sum(counts)
    for i in idx:
        frac = counts[i] / total
        assert lo <= frac <= hi, f"case {i} chosen {frac:.1%} of the time: {counts}"


@pytest.mark.timeout(60)
def test_fairness_two():
    counts = counts_for([ready(), ready()])
    _assert_split(counts, [0, 1], 0.35, 0.65)


@pytest.mark.timeout(60)
def test_fairness_three():
    counts = counts_for([ready(), ready(), ready()])
    _assert_split(counts, [0, 1, 2], 0.20, 0.47)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "layout",
    ["E R R", "R R E E", "R E R", "N R R N", "E E E R R", "R R E E E E E E"],
)
def test_fairness_adjacent_ready_cases(layout):
    # Two ready cases next to each other (or with unready/None cases around them)
    # must be ~50/50: a "random start + linear scan" gives 67/33 or 75/25 here.
    cases = []
    for tok in layout.split():
        if tok == "R":
            cases.append(ready())
        elif tok == "E":
            cases.append(fc.Chan(0))
        else:
            cases.append(None)
    counts = counts_for(cases)
    ready_idx = [i for i, t in enumerate(layout.split()) if t == "R"]
    assert sum(counts[i] for i in ready_idx) == N_FAIR
    _assert_split(counts, ready_idx, 0.35, 0.65)


@pytest.mark.timeout(60)
def test_fairness_four_of_eight():
    layout = "R E R N R E E R"
    cases = [ready() if t == "R" else (fc.Chan(0) if t == "E" else None) for t in layout.split()]
    counts = counts_for(cases, n=4000)
    ready_idx = [i for i, t in enumerate(layout.split()) if t == "R"]
    _assert_split(counts, ready_idx, 0.15, 0.35)


@pytest.mark.timeout(60)
def test_fairness_send_and_recv():
    sink = fc.Chan(None)
    counts = counts_for([fc.Send(sink, 1), ready()])
    _assert_split(counts, [0, 1], 0.35, 0.65)
    assert len(sink) == counts[0]


@pytest.mark.timeout(60)
def test_fairness_duplicate_channel():
    ch = ready()
    counts = counts_for([ch, ch])
    _assert_split(counts, [0, 1], 0.35, 0.65)
    assert len(ch) == 10  # exactly one value consumed per select


@pytest.mark.timeout(60)
def test_fairness_blocking_select():
    # Without timeout=0, with values already waiting: the same rule applies.
    a, b = ready(), ready()
    counts = [0, 0]
    for _ in range(N_FAIR):
        counts[fc.select(a, b)[0]] += 1
    _assert_split(counts, [0, 1], 0.35, 0.65)


# ------------------------------------------------------------------------ ordered


def test_ordered_picks_first_ready():
    a, b = ready(200), ready(200)
    for _ in range(100):
        assert fc.select(a, b, ordered=True)[0] == 0
    for _ in range(100):
        assert fc.select(b, a, ordered=True)[0] == 0
    assert len(a) == 100 and len(b) == 100


def test_ordered_skips_unready_and_none():
    e = fc.Chan(0)
    b, c = ready(100), ready(100)
    for _ in range(50):
        assert fc.select(e, None, b, c, ordered=True, timeout=0) == (2, "v", True)
    assert len(c) == 100


def test_ordered_send_priority():
    sink = fc.Chan(None)
    r = ready(10)
    for _ in range(10):
        assert fc.select(fc.Send(sink, 1), r, ordered=True) == (0, None, True)
    assert len(r) == 10 and len(sink) == 10


def test_ordered_blocking_then_woken():
    a, b = fc.Chan(0), fc.Chan(0)
    t = assert_blocks(fc.select, a, b, ordered=True)
    b.send("x", timeout=10)
    assert t.join() == (1, "x", True)


def test_ordered_timeout():
    assert fc.select(fc.Chan(0), None, ordered=True, timeout=0.05) == (-1, None, False)


# --------------------------------------------------------------- duplicate channels


def test_duplicate_recv_cases_take_one_value():
    ch = fc.Chan(4)
    ch.send("only")
    i, v, ok = fc.select(ch, ch)
    assert i in (0, 1) and v == "only" and ok
    with pytest.raises(fc.Empty):
        ch.try_recv()
    assert fc.select(ch, ch, timeout=0) == (-1, None, False)


def test_duplicate_send_cases_send_one_value():
    ch = fc.Chan(None)
    i, v, ok = fc.select(fc.Send(ch, "a"), fc.Send(ch, "b"))
    assert ok and v is None
    assert ch.recv_many(10) == ["ab"[i]]


def test_select_never_pairs_with_itself_unbuffered():
    ch = fc.Chan(0)
    with Elapsed() as e:
        assert fc.select(ch, fc.Send(ch, 1), timeout=0.2) == (-1, None, False)
    assert e.seconds >= 0.18
    assert fc.select(fc.Send(ch, 1), ch, timeout=0) == (-1, None, False)
    assert fc.select(fc.Send(ch, 1), ch, ordered=True, timeout=0.05) == (-1, None, False)
    # and nothing was left behind
    assert ch.try_send(2) is False
    with pytest.raises(fc.Empty):
        ch.try_recv()


def test_select_recv_send_same_buffered_channel():
    ch = fc.Chan(1)
    assert fc.select(ch, fc.Send(ch, "x")) == (1, None, True)  # only the send can go
    assert fc.select(ch, fc.Send(ch, "y")) == (0, "x", True)  # only the recv can go
    assert len(ch) == 0


def test_two_selects_pair_with_each_other():
    # Each side offers both directions on one unbuffered channel: they must pair.
    ch = fc.Chan(0)
    barrier = threading.Barrier(2)

    def side(tag):
        barrier.wait(timeout=10)
        return fc.select(ch, fc.Send(ch, tag), timeout=20)

    t1 = spawn(side, "one")
    t2 = spawn(side, "two")
    r1, r2 = t1.join(), t2.join()
    assert {r1[0], r2[0]} == {0, 1}
    sender, receiver = (r1, r2) if r1[0] == 1 else (r2, r1)
    assert sender == (1, None, True)
    expected = "one" if sender is r1 else "two"
    assert receiver == (0, expected, True)


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "bad",
    [1, "ch", object(), [fc.Chan(1)], (fc.Chan(1),), fc.Send, fc.Chan, 1.5, True],
    ids=["int", "str", "object", "list", "tuple", "Send-class", "Chan-class", "float", "bool"],
)
def test_select_bad_case_type_error(bad):
    ch = fc.Chan(1)
    ch.send("keep")
    with pytest.raises(TypeError):
        fc.select(ch, bad)
    with pytest.raises(TypeError):
        fc.select(bad, timeout=0)
    assert len(ch) == 1  # the valid case did not fire


def test_select_signature_and_argument_forms():
    import inspect

    params = inspect.signature(fc.select).parameters
    assert list(params) == ["cases", "timeout", "ordered"]
    assert params["cases"].kind is inspect.Parameter.VAR_POSITIONAL
    a, b = fc.Chan(1), fc.Chan(1)
    b.send("x")
    assert fc.select(*[a, b], **{"ordered": True, "timeout": 1}) == (1, "x", True)
    assert fc.select(*(fc.Chan(1) for _ in range(12)), timeout=0.01) == (-1, None, False)


def test_select_send_to_non_channel_type_error():
    with pytest.raises(TypeError):
        fc.select(fc.Send(5, "x"), timeout=0)
    with pytest.raises(TypeError):
        fc.select(fc.Send(None, "x"), timeout=0)


def test_send_requires_channel_and_value():
    with pytest.raises(TypeError):
        fc.Send(fc.Chan(1))
    with pytest.raises(TypeError):
        fc.Send()


@pytest.mark.parametrize("bad", [-1, -0.001, -math.inf, math.nan])
def test_select_bad_timeout_value_error(bad):
    ch = fc.Chan(1)
    ch.send("keep")
    with pytest.raises(ValueError, match="timeout"):
        fc.select(ch, timeout=bad)
    with pytest.raises(ValueError, match="timeout"):
        fc.select(timeout=bad)
    assert len(ch) == 1


@pytest.mark.parametrize(
    "kwargs",
    [{"timeout": "1"}, {"timeout": [1]}, {"timeout": object()}, {"timeout": b"1"}, {"priority": True}],
    ids=["timeout-str", "timeout-list", "timeout-object", "timeout-bytes", "unknown-keyword"],
)
def test_select_bad_keyword_type_error(kwargs):
    ch = fc.Chan(1)
    ch.send("keep")
    with pytest.raises(TypeError, match=next(iter(kwargs))):
        fc.select(ch, **kwargs)
    assert len(ch) == 1


def test_select_timeout_accepts_int_and_float():
    ch = fc.Chan(1)
    assert fc.select(ch, timeout=0) == (-1, None, False)
    assert fc.select(ch, timeout=0.0) == (-1, None, False)
    assert fc.select(ch, timeout=1 // 10) == (-1, None, False)


# ------------------------------------------------------------------ idle waiting


def test_select_waiting_spins_no_cpu():
    # "While it waits, select holds no GIL and spins no CPU."
    import time

    a, b, c = fc.Chan(0), fc.Chan(4), fc.Chan(0)
    waiters = [spawn(fc.select, a, b, fc.Send(c, i), timeout=30) for i in range(3)]
    time.sleep(0.1)  # let them park
    cpu0, wall0 = time.process_time(), time.monotonic()
    time.sleep(0.6)
    cpu = time.process_time() - cpu0
    wall = time.monotonic() - wall0
    assert all(w.is_alive() for w in waiters)
    # three busy-waiting threads would burn >= one core (2 cores here): ~0.6 s+
    assert cpu < 0.25 * wall, f"blocked selects used {cpu:.3f}s CPU in {wall:.3f}s"
    for _ in range(3):
        a.send("x", timeout=10)
    assert [w.join() for w in waiters] == [(0, "x", True)] * 3


# ------------------------------------------------- blocking with many / duplicate cases


@pytest.mark.parametrize("n", [3, 8, 9, 20, 100])
def test_select_blocking_many_cases(n):
    # Covers both the small (stack) and large (allocated) select paths.
    chans = [fc.Chan(0) for _ in range(n)]
    target = n * 2 // 3
    t = assert_blocks(fc.select, *chans, timeout=30)
    chans[target].send("hit", timeout=10)
    assert t.join() == (target, "hit", True)
    # nobody is left registered on any of them
    assert all(c.try_send("probe") is False for c in chans)


@pytest.mark.parametrize("n_dups", [2, 3, 12])
def test_select_blocking_duplicate_channel(n_dups):
    a, other = fc.Chan(0), fc.Chan(0)
    cases = [a] * n_dups + [other]
    t = assert_blocks(fc.select, *cases, timeout=30)
    a.send("once", timeout=10)
    i, v, ok = t.join()
    assert 0 <= i < n_dups and v == "once" and ok is True
    assert a.try_send("probe") is False  # no leftover registration on a
    assert other.try_send("probe") is False


@pytest.mark.parametrize("n_dups", [1, 6])
def test_select_blocking_recv_and_send_same_channel_other_party_sends(n_dups):
    ch = fc.Chan(0)
    cases = [ch, fc.Send(ch, "mine")] * n_dups
    t = assert_blocks(fc.select, *cases, timeout=30)
    ch.send("theirs", timeout=10)
    i, v, ok = t.join()
    assert i % 2 == 0 and v == "theirs" and ok is True
    assert ch.try_send("probe") is False
    with pytest.raises(fc.Empty):
        ch.try_recv()


@pytest.mark.parametrize("n_dups", [1, 6])
def test_select_blocking_recv_and_send_same_channel_other_party_receives(n_dups):
    ch = fc.Chan(0)
    cases = [ch, fc.Send(ch, "mine")] * n_dups
    t = assert_blocks(fc.select, *cases, timeout=30)
    assert ch.recv(timeout=10) == "mine"
    i, v, ok = t.join()
    assert i % 2 == 1 and v is None and ok is True
    with pytest.raises(fc.Empty):
        ch.try_recv()


def test_select_blocking_many_cases_with_none_and_sends():
    chans = [fc.Chan(1) for _ in range(12)]
    for c in chans:
        c.send("full")  # every Send case blocks, every recv case would succeed...
    empties = [fc.Chan(0) for _ in range(12)]
    cases = []
    for c, e in zip(chans, empties):
        cases += [fc.Send(c, "new"), None, e]
    t = assert_blocks(fc.select, *cases, timeout=30)
    assert chans[7].recv(timeout=10) == "full"  # makes room for case 21's send
    assert t.join() == (21, None, True)
    assert chans[7].recv(timeout=0) == "new"
    assert all(len(c) == 1 for i, c in enumerate(chans) if i != 7)
