"""Leak mode: run the core operations of every primitive many rounds and check that
live allocations (sys.getallocatedblocks) and resident memory stay flat.  A leak of one
object per operation would grow by tens of thousands of blocks here; the bounds leave
room only for caches warming up.  FASTCHAN_LEAK_ROUNDS=N runs more rounds."""

import gc
import os
import sys
import threading

import pytest

import fastchan as fc

pytestmark = pytest.mark.timeout(300)

ROUNDS = int(os.environ.get("FASTCHAN_LEAK_ROUNDS", "15"))
OPS = 300


def rss_kib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def one_round():
    for cap in (0, 1, 16, None):
        ch = fc.Chan(cap)
        t = threading.Thread(target=lambda: [ch.recv() for _ in range(OPS)])
        t.start()
        for i in range(OPS):
            ch.send(("v", i))
        t.join()
        if cap:
            ch.send_many([[i] for i in range(cap)])
            ch.recv_many(cap)
            ch.send_many([object()] * min(cap, 4))      # left inside when dropped
        try:
            ch.send_many(iter([1, 2]), timeout=0)
        except TimeoutError:
            pass
        ch.close()
    a, b = fc.Chan(1), fc.Chan(1)
    for i in range(OPS):
        fc.select(fc.Send(a, [i]), b, timeout=0)
        fc.select(a, b, timeout=0)
        try:
            a.recv(timeout=0)
        except TimeoutError:
            pass
    fc.select(fc.Chan(), fc.after(0.001))
    with fc.tick(0.0005) as t:
        t.recv()
        t.recv()
    ref = fc.AtomicRef([0])
    for i in range(OPS):
        ref.swap([i])
        ref.compare_and_swap(ref.load(), [i])
    fc.once(lambda: [1])()
    wg = fc.WaitGroup()
    wg.go(lambda: None)
    wg.wait()
    m = fc.SyncMap()
    for i in range(OPS):
        m.load_or_store(i % 10, [i])
        m.compare_and_swap(i % 10, None, [i])
    ctx = fc.Context(timeout=0.001)
    fc.Context(parent=ctx).wait()
    with fc.WorkerPool(2, context=fc.Context()) as pool:
        list(pool.map(str, range(OPS)))
        pool.submit(int, "1").result()
        pool.go(int, "bad")
    with pytest.raises(ExceptionGroup):
        with fc.Group() as g:
            g.go(lambda: 1 / 0)
    ch = fc.Chan()
    with pytest.raises(TimeoutError):
        ch.send(1, timeout=0.001)


def test_core_operations_do_not_grow_memory():
    for _ in range(3):                  # warm caches, freelists, thread stacks
        one_round()
    gc.collect()
    blocks0, rss0 = sys.getallocatedblocks(), rss_kib()
    for _ in range(ROUNDS):
        one_round()
    gc.collect()
    grown_blocks = sys.getallocatedblocks() - blocks0
    grown_rss = rss_kib() - rss0
    assert grown_blocks < 2000, f"{grown_blocks} more live blocks after {ROUNDS} rounds"
    assert grown_rss < 8 * 1024, f"RSS grew {grown_rss} KiB after {ROUNDS} rounds"
