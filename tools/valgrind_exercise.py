"""Exercise every fastchan primitive once, for tools/valgrind: channels of every
flavor (with values left inside when dropped), select, timers, atomics, Once, WaitGroup,
SyncMap, Context, WorkerPool, Group, the registry and the deadlock detector."""

import gc
import threading

import fastchan as fc


def main():
    for cap in (0, 1, 8, None):
        ch = fc.Chan(cap)
        t = threading.Thread(target=lambda: [ch.recv() for _ in range(50)])
        t.start()
        for i in range(50):
            ch.send([i])
        t.join()
        if cap != 0:
            ch.send_many([object() for _ in range(cap or 100)])     # dropped while full
            ch.stats()
        del ch
    a, b = fc.Chan(1), fc.Chan(1)
    b.send("x")
    fc.select(a, b, fc.Send(a, "y"), None, timeout=0)
    fc.select(a, fc.after(0.01))
    with fc.tick(0.001) as tk:
        tk.recv()
    cycle = fc.Chan(2)
    cycle.send([cycle])                                            # a reference cycle
    del cycle
    n = fc.AtomicInt(1); n.add(5); n.compare_and_swap(6, 7)
    r = fc.AtomicRef([1]); r.swap([2]); r.compare_and_swap(r.load(), None)
    fc.AtomicBool().swap(True)
    o = fc.Once(); o.do(lambda: None)
    fc.once(lambda: [1])()
    wg = fc.WaitGroup()
    for _ in range(4):
        wg.go(lambda: None)
    wg.wait()
    m = fc.SyncMap(); m.store("k", [1]); m.load_or_store("j", [2]); m.compare_and_swap("k", [1], [3]); m.items()
    ctx = fc.Context(timeout=0.01); child = fc.Context(parent=ctx); ctx.wait(); child.err
    with fc.WorkerPool(2, context=fc.Context()) as pool:
        list(pool.map(str, range(100)))
        pool.submit(int, "1").result()
        pool.go(int, "bad")
    try:
        with fc.Group(limit=2) as g:
            g.go(lambda: None)
            g.go(lambda: 1 / 0)
    except ExceptionGroup:
        pass
    blocker = fc.Chan()
    t = threading.Thread(target=lambda: blocker.recv(timeout=5))
    t.start()
    while not fc.debug.blocked():
        pass
    fc.debug.dump(open("/dev/null", "w"))
    blocker.send(1)
    t.join()
    fc.debug.detect_deadlocks(True)
    try:
        fc.Chan().send(1)
    except fc.Deadlock:
        pass
    fc.debug.detect_deadlocks(False)
    gc.collect()


if __name__ == "__main__":
    for _ in range(3):
        main()
    print("exercised")
