"""Classic Go channel tests, rewritten from scratch in Python for fastchan.

Each test names the upstream Go file whose scenario it re-implements (golang/go
repository). The code here is an independent Python rendition, not a translation
of the Go source line by line.
"""

import math
import threading
import time

import pytest

import fastchan as fc
from _helpers import run_threads, spawn

pytestmark = pytest.mark.timeout(60)
WAIT = 20


def first_primes(n):
    out, k = [], 2
    while len(out) < n:
        if all(k % p for p in out if p * p <= k):
            out.append(k)
        k += 1
    return out


# ---------------------------------------------------------------------------
# golang/go test/chan/sieve1.go — concurrent prime sieve (one filter per prime)


def test_sieve_first_50_primes():
    def numbers(out):
        k = 2
        try:
            while True:
                out.send(k, timeout=WAIT)
                k += 1
        except fc.Closed:
            pass

    def sift(src, dst, prime):
        try:
            for v in src:
                if v % prime:
                    dst.send(v, timeout=WAIT)
        except fc.Closed:
            pass
        finally:
            src.close()  # shut down the stage before us

    threads = []
    head = fc.Chan(0)
    threads.append(spawn(numbers, head))
    primes = []
    for _ in range(50):
        p = head.recv(timeout=WAIT)
        primes.append(p)
        nxt = fc.Chan(0)
        threads.append(spawn(sift, head, nxt, p))
        head = nxt
    head.close()  # ripples back through every filter to the generator
    for t in threads:
        t.join()
    assert primes == first_primes(50)
    assert primes[-1] == 229


# ---------------------------------------------------------------------------
# golang/go test/chan/fifo.go — asynchronous and synchronous FIFO


def test_fifo_async():
    n = 10
    ch = fc.Chan(n)
    for i in range(n):
        ch.send(i)
    for i in range(n):
        assert ch.recv() == i


def test_fifo_sync_chain():
    # A daisy chain of threads, each allowed to read from the shared unbuffered
    # channel only after its predecessor did: the values must come out in order.
    n = 40
    data = fc.Chan(0)
    first = fc.Chan(0)

    def link(expected, my_turn, next_turn):
        my_turn.recv(timeout=WAIT)
        got = data.recv(timeout=WAIT)
        assert got == expected, (got, expected)
        next_turn.send(True, timeout=WAIT)

    turn = first
    links = []
    for i in range(n):
        nxt = fc.Chan(0)
        links.append(spawn(link, i, turn, nxt))
        turn = nxt
    first.send(True, timeout=WAIT)
    for i in range(n):
        data.send(i, timeout=WAIT)
    assert turn.recv(timeout=WAIT) is True
    for t in links:
        t.join()


# ---------------------------------------------------------------------------
# golang/go test/chan/nonblock.go — non-blocking send/receive and select default


@pytest.mark.parametrize("cap", [0, 1, 8])
@pytest.mark.parametrize("value", [7, -(2**40), True, "str", 1.5])
def test_nonblock(cap, value):
    ch = fc.Chan(cap)

    # receive on empty: nothing, whichever way we ask
    with pytest.raises(fc.Empty):
        ch.try_recv()
    assert fc.select(ch, timeout=0) == (-1, None, False)

    # non-blocking send succeeds only while there is room (never for unbuffered)
    for i in range(cap):
        assert ch.try_send(value)
    assert ch.try_send(value) is False
    assert fc.select(fc.Send(ch, value), timeout=0) == (-1, None, False)
    for _ in range(cap):
        assert ch.try_recv() == value
    with pytest.raises(fc.Empty):
        ch.try_recv()

    # with a receiver blocked in another thread, a non-blocking send gets through
    # (retry with a short pause, as the Go test does)
    for use_select in (False, True):
        r = spawn(ch.recv, timeout=WAIT)
        deadline = time.monotonic() + WAIT
        while True:
            if use_select:
                ok = fc.select(fc.Send(ch, value), timeout=0)[0] == 0
            else:
                ok = ch.try_send(value)
            if ok:
                break
            assert time.monotonic() < deadline, "non-blocking send never succeeded"
            time.sleep(0.001)
        assert r.join() == value

    # with a sender blocked in another thread, a non-blocking receive gets it
    for use_select in (False, True):
        s = spawn(ch.send, value, timeout=WAIT)
        deadline = time.monotonic() + WAIT
        while True:
            if use_select:
                i, v, ok = fc.select(ch, timeout=0)
                got = v if i == 0 else None
                if i == 0:
                    assert ok is True
                    break
            else:
                got = ch.try_recv(None)
                if got is not None:
                    break
            assert time.monotonic() < deadline, "non-blocking receive never succeeded"
            time.sleep(0.001)
        assert got == value
        s.join()


# ---------------------------------------------------------------------------
# golang/go src/runtime/chan_test.go — TestSelectFairness


def test_select_fairness_forwarder():
    trials = 4000
    c1, c2 = fc.Chan(trials + 1), fc.Chan(trials + 1)
    c1.send_many([1] * (trials + 1))
    c2.send_many([2] * (trials + 1))
    c3, c4 = fc.Chan(0), fc.Chan(0)  # never ready, listed first
    out, done = fc.Chan(0), fc.Chan(0)

    def forwarder():
        while True:
            _, b, _ = fc.select(c3, c4, c1, c2, timeout=WAIT)
            i, _, _ = fc.select(fc.Send(out, b), done, timeout=WAIT)
            if i == 1:
                return

    f = spawn(forwarder)
    counts = {1: 0, 2: 0}
    for _ in range(trials):
        counts[out.recv(timeout=WAIT)] += 1
    done.close()
    f.join()
    assert counts[1] + counts[2] == trials
    r = counts[1] / trials
    # Go allows 4 sigma; 10 sigma (~±8%) keeps this deterministic in practice
    # while still failing a 67/33 or 75/25 biased implementation.
    assert abs(r - 0.5) <= 10 * math.sqrt(0.25 / trials), counts


# ---------------------------------------------------------------------------
# golang/go src/runtime/chan_test.go — TestMultiConsumer


def test_multi_consumer():
    nwork, niter = 8, 5000
    weights = [2, 3, 7, 11, 13, 17, 19, 23]
    q, r = fc.Chan(nwork * 3), fc.Chan(nwork * 3)

    def worker(w):
        for v in q:
            # simulate uneven work before forwarding
            if weights[w % len(weights)] % 3 == 0:
                time.sleep(0)
            r.send(v, timeout=WAIT)

    def feeder():
        for i in range(niter):
            q.send(i, timeout=WAIT)
        q.close()

    def all_workers():
        run_threads(nwork, worker)
        r.close()

    f = spawn(feeder)
    w = spawn(all_workers)
    n = s = 0
    for v in r:
        n += 1
        s += v
    f.join()
    w.join()
    assert n == niter
    assert s == niter * (niter - 1) // 2


# ---------------------------------------------------------------------------
# golang/go test/chan/doubleselect.go — two cases of one select must never both run


def test_doubleselect():
    n = 3000
    c = [fc.Chan(0) for _ in range(4)]
    merged = fc.Chan(0)

    def sender():
        try:
            for i in range(n):
                fc.select(*(fc.Send(ch, i) for ch in c), timeout=WAIT)
        finally:
            for ch in c:
                ch.close()

    def mux(src):
        for v in src:
            merged.send(v, timeout=WAIT)

    def receiver():
        seen = set()
        for v in merged:
            assert v not in seen, f"{v} delivered twice"
            seen.add(v)
        return seen

    rx = spawn(receiver)
    muxes = [spawn(mux, ch) for ch in c]
    tx = spawn(sender)
    tx.join()
    for m in muxes:
        m.join()
    merged.close()
    seen = rx.join()
    assert seen == set(range(n))


# ---------------------------------------------------------------------------
# golang/go test/chan/select3.go — which selects block and which never do


def test_select3_blocking_rules():
    closed = fc.Chan(0)
    closed.close()
    # nil-channel-only select blocks (until its timeout)
    assert fc.select(None, timeout=0.05) == (-1, None, False)
    # receive from a closed channel never blocks
    assert fc.select(closed, timeout=None) == (0, None, False)
    # send to a closed channel never blocks: it raises
    with pytest.raises(fc.Closed):
        fc.select(fc.Send(closed, 1))
    # unbuffered with nobody on the other side blocks
    assert fc.select(fc.Chan(0), fc.Send(fc.Chan(0), 1), timeout=0.05) == (-1, None, False)
    # buffered with room never blocks
    assert fc.select(fc.Send(fc.Chan(1), 1), timeout=None) == (0, None, True)

    # a blocked select is released by a close
    ch = fc.Chan(0)
    started = threading.Event()

    def waiter():
        started.set()
        return fc.select(ch, timeout=WAIT)

    t = spawn(waiter)
    started.wait(WAIT)
    time.sleep(0.05)
    ch.close()
    assert t.join() == (0, None, False)
