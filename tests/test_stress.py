"""Concurrency stress: exactly-once delivery, per-producer order, close races.

Bounded in time: modest item counts, every wait has a timeout, every thread is
joined with a deadline (see _helpers.Thread).
"""

import collections
import random
import threading
import time

import pytest

import fastchan as fc
from _helpers import run_threads, spawn

pytestmark = pytest.mark.timeout(60)

STRESS_CAPS = [0, 1, 64, None]
WAIT = 20  # seconds; a per-operation bound that only a hang can reach


def check_per_producer_order(received_lists):
    """Within one consumer, the items of each producer arrive in increasing seq."""
    for got in received_lists:
        last = {}
        for pid, seq in got:
            assert seq > last.get(pid, -1), f"producer {pid}: {seq} after {last[pid]}"
            last[pid] = seq


def recv_until_closed(ch):
    out = []
    while True:
        try:
            out.append(ch.recv(timeout=WAIT))
        except fc.Closed:
            return out


@pytest.mark.parametrize("cap", STRESS_CAPS)
def test_spsc(cap):
    n = 20_000
    ch = fc.Chan(cap)

    def producer():
        for i in range(n):
            ch.send(i, timeout=WAIT)
        ch.close()

    p = spawn(producer)
    got = recv_until_closed(ch)
    p.join()
    assert got == list(range(n))


@pytest.mark.parametrize("cap", STRESS_CAPS)
def test_mpmc(cap):
    producers, consumers, per = 4, 4, 5_000
    ch = fc.Chan(cap)

    def produce(pid):
        for seq in range(per):
            ch.send((pid, seq), timeout=WAIT)

    cons = [spawn(recv_until_closed, ch) for _ in range(consumers)]
    run_threads(producers, produce)
    ch.close()
    received = [c.join() for c in cons]

    flat = [x for got in received for x in got]
    assert len(flat) == producers * per
    assert collections.Counter(flat) == collections.Counter(
        (pid, seq) for pid in range(producers) for seq in range(per)
    )
    check_per_producer_order(received)


@pytest.mark.parametrize("cap", STRESS_CAPS)
def test_mpmc_batch(cap):
    producers, consumers, per = 4, 3, 5_000
    ch = fc.Chan(cap)

    def produce(pid):
        it = ((pid, seq) for seq in range(per))
        assert ch.send_many(it, timeout=WAIT) == per

    def consume():
        out = []
        while True:
            try:
                batch = ch.recv_many(50, timeout=WAIT)
            except fc.Closed:
                return out
            assert 1 <= len(batch) <= 50
            out.extend(batch)

    cons = [spawn(consume) for _ in range(consumers)]
    run_threads(producers, produce)
    ch.close()
    received = [c.join() for c in cons]
    flat = [x for got in received for x in got]
    assert sorted(flat) == [(p, s) for p in range(producers) for s in range(per)]
    check_per_producer_order(received)


@pytest.mark.parametrize("cap", STRESS_CAPS)
def test_close_races_blocked_senders_and_receivers(cap):
    # Close while senders and receivers are mid-flight: every send that returned
    # normally is received exactly once; a send that raised Closed delivered nothing.
    rng = random.Random(1234)
    for rnd in range(15):
        ch = fc.Chan(cap)
        n_send, n_recv = 3, 3
        sent = [[] for _ in range(n_send)]

        def sender(sid, sent=sent, ch=ch, rnd=rnd):
            seq = 0
            while seq < 3_000:  # bounded: an unbounded channel never blocks a sender
                v = (rnd, sid, seq)
                try:
                    ch.send(v, timeout=WAIT)
                except fc.Closed:
                    return
                sent[sid].append(v)
                seq += 1

        senders = [spawn(sender, i) for i in range(n_send)]
        receivers = [spawn(recv_until_closed, ch) for _ in range(n_recv)]
        time.sleep(rng.uniform(0.001, 0.02))
        assert ch.close() is True
        for s in senders:
            s.join()
        received = [r.join() for r in receivers]
        flat_recv = collections.Counter(x for got in received for x in got)
        flat_sent = collections.Counter(x for got in sent for x in got)
        assert flat_recv == flat_sent, f"round {rnd}: sent/received differ"
        assert all(c == 1 for c in flat_recv.values())


@pytest.mark.parametrize("cap", [0, 1, 64])
def test_close_wakes_many_blocked(cap):
    for _ in range(10):
        full = fc.Chan(cap)
        for i in range(cap):
            full.send(i)
        empty = fc.Chan(cap)
        senders = [spawn(full.send, "x", timeout=WAIT) for _ in range(4)]
        receivers = [spawn(empty.recv, timeout=WAIT) for _ in range(4)]
        time.sleep(0.005)
        full.close()
        empty.close()
        for t in senders + receivers:
            assert isinstance(t.join_exc(), fc.Closed)
        assert [full.recv() for _ in range(cap)] == list(range(cap))
        with pytest.raises(fc.Closed):
            full.recv()


@pytest.mark.parametrize("cap", STRESS_CAPS)
def test_timeouts_race_with_delivery(cap):
    # Tiny timeouts on both sides: a value is either delivered (send returned) or
    # not (TimeoutError), never both, never twice.
    ch = fc.Chan(cap)
    stop = threading.Event()
    sent = [[] for _ in range(2)]

    def sender(sid):
        seq = 0
        while not stop.is_set() and len(sent[sid]) < 5_000:
            v = (sid, seq)
            seq += 1
            try:
                ch.send(v, timeout=0.0005)
            except TimeoutError:
                continue
            except fc.Closed:
                return
            sent[sid].append(v)

    def receiver():
        got = []
        while True:
            try:
                got.append(ch.recv(timeout=0.0005))
            except TimeoutError:
                continue
            except fc.Closed:
                return got

    ss = [spawn(sender, i) for i in range(2)]
    rs = [spawn(receiver) for _ in range(2)]
    time.sleep(0.5)
    stop.set()
    for s in ss:
        s.join()
    ch.close()
    received = [r.join() for r in rs]
    flat = collections.Counter(x for got in received for x in got)
    assert flat == collections.Counter(x for got in sent for x in got)
    assert sum(flat.values()) > 0
    check_per_producer_order(received)


@pytest.mark.parametrize("n_chans, per_chan", [(3, 3_000), (10, 1_000)])
@pytest.mark.parametrize("cap", STRESS_CAPS)
def test_select_consumers(cap, n_chans, per_chan):
    chans = [fc.Chan(cap) for _ in range(n_chans)]

    def produce(ci):
        for seq in range(per_chan):
            chans[ci].send((ci, seq), timeout=WAIT)
        chans[ci].close()

    def consume():
        cases = list(chans)
        out = []
        while any(c is not None for c in cases):
            i, v, ok = fc.select(*cases, timeout=WAIT)
            assert i >= 0, "select timed out in a stress test"
            if ok:
                assert v[0] == i
                out.append(v)
            else:
                cases[i] = None  # closed and drained: disable, indexes stay stable
        return out

    cons = [spawn(consume) for _ in range(3)]
    run_threads(n_chans, produce)
    received = [c.join() for c in cons]
    flat = sorted(x for got in received for x in got)
    assert flat == [(c, s) for c in range(n_chans) for s in range(per_chan)]
    check_per_producer_order(received)


@pytest.mark.parametrize("cap", STRESS_CAPS)
def test_select_producers(cap):
    # Each value is offered to two channels at once and must land in exactly one.
    a, b = fc.Chan(cap), fc.Chan(cap)
    producers, per = 3, 3_000

    def produce(pid):
        for seq in range(per):
            i, v, ok = fc.select(fc.Send(a, (pid, seq)), fc.Send(b, (pid, seq)), timeout=WAIT)
            assert i in (0, 1) and v is None and ok is True

    ca = [spawn(recv_until_closed, a) for _ in range(2)]
    cb = [spawn(recv_until_closed, b) for _ in range(2)]
    run_threads(producers, produce)
    a.close()
    b.close()
    ra = [c.join() for c in ca]
    rb = [c.join() for c in cb]
    flat = sorted(x for got in ra + rb for x in got)
    assert flat == [(p, s) for p in range(producers) for s in range(per)]
    check_per_producer_order(ra + rb)


@pytest.mark.parametrize("cap", [0, 1])
def test_select_send_and_recv_both_directions(cap):
    # Workers select over "send my next token" and "receive a token" on ONE shared
    # channel. Every token put in comes out exactly once, and nobody pairs with
    # itself (a worker never receives its own token on an unbuffered channel).
    ch = fc.Chan(cap)
    done = fc.Chan(0)
    n_workers, per = 4, 1_500
    lock = threading.Lock()
    finished_sending = [0]
    all_sent = threading.Event()

    def worker(w):
        received = []
        k = 0
        while k < per:
            i, v, ok = fc.select(fc.Send(ch, (w, k)), ch, timeout=WAIT)
            assert i >= 0, "select timed out"
            if i == 0:
                k += 1
            else:
                assert ok
                received.append(v)
        with lock:
            finished_sending[0] += 1
            if finished_sending[0] == n_workers:
                all_sent.set()
        while True:
            i, v, ok = fc.select(ch, done, timeout=WAIT)
            assert i >= 0, "select timed out"
            if i == 1:
                return received
            received.append(v)

    ws = [spawn(worker, w) for w in range(n_workers)]
    assert all_sent.wait(WAIT)
    done.close()
    results = [w.join() for w in ws]
    leftover = ch.recv_many(10, timeout=0) if len(ch) else []
    flat = sorted([x for r in results for x in r] + leftover)
    assert flat == sorted((w, s) for w in range(n_workers) for s in range(per))
    if cap == 0:
        for w, r in enumerate(results):
            assert all(src != w for src, _ in r), f"worker {w} received its own token"
    check_per_producer_order(results)


@pytest.mark.parametrize("cap", [0, 64])
def test_close_races_select(cap):
    for _ in range(10):
        chans = [fc.Chan(cap) for _ in range(3)]
        waiters = [spawn(fc.select, *chans, timeout=WAIT) for _ in range(6)]
        time.sleep(0.005)
        for c in chans:
            c.close()
        for w in waiters:
            i, v, ok = w.join()
            assert i in (0, 1, 2) and v is None and ok is False


def test_try_ops_mpmc():
    ch = fc.Chan(8)
    per, producers = 1_000, 2
    MISS = object()

    def produce(pid):
        for seq in range(per):
            deadline = time.monotonic() + WAIT
            while not ch.try_send((pid, seq)):
                assert time.monotonic() < deadline
                time.sleep(0)

    def consume():
        out = []
        while True:
            try:
                v = ch.try_recv(MISS)
            except fc.Closed:
                return out
            if v is MISS:
                time.sleep(0)
            else:
                out.append(v)

    cons = [spawn(consume) for _ in range(2)]
    run_threads(producers, produce)
    ch.close()
    received = [c.join() for c in cons]
    flat = sorted(x for got in received for x in got)
    assert flat == [(p, s) for p in range(producers) for s in range(per)]
    check_per_producer_order(received)
