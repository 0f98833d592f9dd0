"""fastchan.bench.workloads: the benchmark workloads, fastchan versus its stdlib peer.

Shared by the CLI (python -m fastchan.bench) and the pytest-benchmark suite in bench/.

Stdlib only (plus fastchan itself). Every workload function takes ``n``, the number of
items (round trips for W7, selects for W8), and returns the elapsed seconds
(``time.perf_counter``) of the measured part only: setup, thread creation and the
correctness check are outside the timed region.

Both sides of a pair are written the same way: methods bound to locals, a plain
``for`` loop over ``range``, the same thread layout. Cross-thread workloads run their
threads as daemons behind a watchdog: if they do not finish within ``timeout`` seconds
(default ``10 s + 100 µs per item``), the channels are closed / sentinels pushed to
unblock them and ``TimeoutError`` is raised instead of hanging forever.

``WORKLOADS`` maps an id to ``(fastchan_fn, peer_fn, target_ratio, description)``; the
ratio is ``time(fastchan) / time(peer)`` and a target is met when it is ``<=`` target.
``SIZES`` maps an id to ``(full_n, quick_n)`` and ``REPEATS`` to the default repeat
count. A workload that cannot run here (W10 without WorkerPool, W12 on a GIL build)
raises ``Unavailable``.
"""

from __future__ import annotations

import collections
import functools
import queue
import threading
import time

import fastchan as fc

__all__ = ["WORKLOADS", "SIZES", "REPEATS", "EXTRA_PEERS", "Unavailable", "default_timeout"]


class Unavailable(Exception):
    """A workload (or an optional peer) cannot run here; the message says why."""

_perf = time.perf_counter
_SENTINEL = object()
_BATCH = 64


def _fc():
    return fc


def default_timeout(n: int) -> float:
    """Watchdog budget for a cross-thread run of ``n`` items: 10 s + 100 µs/item."""
    return 10.0 + n * 100e-6


def _run_threads(name, bodies, timeout, unblock, finish=None):
    """Run each callable of ``bodies`` in a daemon thread, released together.

    Each body receives a ``times`` dict to record ``"t0"`` (start, after the gate) and
    ``"t1"`` (end). Returns ``times["t1"] - times["t0"]``. On timeout ``unblock()`` is
    called (best effort) and ``TimeoutError`` is raised; an exception in a thread is
    re-raised here.
    """
    times: dict = {}
    errors: list = []
    gate = threading.Barrier(len(bodies) + 1)

    def wrap(body):
        def run():
            try:
                gate.wait(timeout)
                body(times)
            except BaseException as exc:  # report in the caller, never lose it
                errors.append(exc)

        return run

    threads = [
        threading.Thread(target=wrap(b), name=f"bench-{name}-{i}", daemon=True)
        for i, b in enumerate(bodies)
    ]
    for t in threads:
        t.start()
    deadline = _perf() + timeout
    try:
        gate.wait(timeout)
    except threading.BrokenBarrierError:
        pass
    for t in threads:
        t.join(max(0.0, deadline - _perf()))
    alive = [t.name for t in threads if t.is_alive()]
    if alive:
        try:
            unblock()
        except Exception:
            pass
        for t in threads:
            t.join(0.5)
        still = [t.name for t in threads if t.is_alive()]
        raise TimeoutError(
            f"{name}: hang, threads {alive} still running after {timeout:.1f} s"
            + (f" (still stuck after unblocking: {still})" if still else "")
        )
    if errors:
        raise errors[0]
    if finish is not None:
        finish(times)
    if "t0" not in times or "t1" not in times:
        raise RuntimeError(f"{name}: a thread did not record its time")
    return times["t1"] - times["t0"]


def _check(name, got, want):
    if got != want:
        raise AssertionError(f"{name}: wrong result, got {got!r}, expected {want!r}")


# --------------------------------------------------------------------------------------
# W1 / W2: one thread, send+recv pair n times


def w1_fastchan(n: int) -> float:
    """Chan(1024): send(i); recv() in one thread, n times."""
    ch = _fc().Chan(1024)
    send = ch.send
    recv = ch.recv
    x = None
    t0 = _perf()
    for i in range(n):
        send(i)
        x = recv()
    t1 = _perf()
    _check("W1 fastchan", x, n - 1)
    return t1 - t0


def w1_peer(n: int) -> float:
    """collections.deque: append(i); popleft() in one thread, n times."""
    dq = collections.deque()
    send = dq.append
    recv = dq.popleft
    x = None
    t0 = _perf()
    for i in range(n):
        send(i)
        x = recv()
    t1 = _perf()
    _check("W1 peer", x, n - 1)
    return t1 - t0


w2_fastchan = w1_fastchan


def w2_peer(n: int) -> float:
    """queue.Queue(1024): put(i); get() in one thread, n times."""
    q = queue.Queue(1024)
    send = q.put
    recv = q.get
    x = None
    t0 = _perf()
    for i in range(n):
        send(i)
        x = recv()
    t1 = _perf()
    _check("W2 peer", x, n - 1)
    return t1 - t0


# --------------------------------------------------------------------------------------
# W3 / W4: one producer thread -> one consumer thread, n ints


def _spsc_fastchan(name, ch, n, timeout):
    send = ch.send
    recv = ch.recv
    Closed = _fc().Closed
    last = [None]

    def producer(times):
        times["t0"] = _perf()
        for i in range(n):
            send(i)
        ch.close()

    def consumer(times):
        x = None
        try:
            while True:
                x = recv()
        except Closed:
            pass
        times["t1"] = _perf()
        last[0] = x

    elapsed = _run_threads(name, [consumer, producer], timeout, ch.close)
    _check(name, last[0], n - 1)
    return elapsed


def _spsc_peer(name, q, n, timeout):
    send = q.put
    recv = q.get
    S = _SENTINEL

    def producer(times):
        times["t0"] = _perf()
        for i in range(n):
            send(i)
        send(S)

    def consumer(times):
        while True:
            x = recv()
            if x is S:
                break
        times["t1"] = _perf()

    def unblock():
        for _ in range(2):
            try:
                q.put_nowait(S)
            except queue.Full:
                pass

    return _run_threads(name, [consumer, producer], timeout, unblock)


def w3_fastchan(n: int, timeout: float | None = None) -> float:
    """Chan(1024): 1 producer thread -> 1 consumer thread, n ints."""
    return _spsc_fastchan("W3 fastchan", _fc().Chan(1024), n, timeout or default_timeout(n))


def w3_peer(n: int, timeout: float | None = None) -> float:
    """queue.Queue(maxsize=1024): 1 producer thread -> 1 consumer thread, n ints."""
    return _spsc_peer("W3 peer", queue.Queue(maxsize=1024), n, timeout or default_timeout(n))


def w6_fastchan(n: int, timeout: float | None = None) -> float:
    """Chan(1024): 4 producer threads -> 4 consumer threads, n ints in total."""
    return _mpmc("W6 fastchan", _fc().Chan(1024), n, timeout or default_timeout(n), fastchan=True)


def w6_peer(n: int, timeout: float | None = None) -> float:
    """queue.Queue(maxsize=1024): 4 producers -> 4 consumers, n ints in total."""
    return _mpmc("W6 peer", queue.Queue(maxsize=1024), n, timeout or default_timeout(n), fastchan=False)


def _mpmc(name, ch, n, timeout, fastchan, producers=4, consumers=4):
    send = ch.send if fastchan else ch.put
    recv = ch.recv if fastchan else ch.get
    Closed = _fc().Closed if fastchan else None
    S = _SENTINEL
    per = n // producers
    totals = []
    lock = threading.Lock()
    remaining = [producers]

    def producer(times):
        times.setdefault("t0", _perf())
        for i in range(per):
            send(i)
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:        # the last producer ends the stream
            if fastchan:
                ch.close()
            else:
                for _ in range(consumers):
                    send(S)

    def consumer(times):
        count = 0
        try:
            while True:
                x = recv()
                if x is S:
                    break
                count += 1
        except Exception as exc:
            if Closed is None or not isinstance(exc, Closed):
                raise
        with lock:
            totals.append(count)
            times["t1"] = _perf()

    def unblock():
        if fastchan:
            ch.close()
        else:
            for _ in range(consumers + producers):
                try:
                    ch.put_nowait(S)
                except queue.Full:
                    pass

    elapsed = _run_threads(name, [consumer] * consumers + [producer] * producers, timeout, unblock)
    _check(name, sum(totals), per * producers)
    return elapsed


def w4_fastchan(n: int, timeout: float | None = None) -> float:
    """Chan(None) (unbounded): 1 producer thread -> 1 consumer thread, n ints."""
    return _spsc_fastchan("W4 fastchan", _fc().Chan(None), n, timeout or default_timeout(n))


def w4_peer(n: int, timeout: float | None = None) -> float:
    """queue.SimpleQueue: 1 producer thread -> 1 consumer thread, n ints."""
    return _spsc_peer("W4 peer", queue.SimpleQueue(), n, timeout or default_timeout(n))


# --------------------------------------------------------------------------------------
# W5: W3 in batches of 64 (send_many / recv_many) vs SimpleQueue one by one


def w5_fastchan(n: int, timeout: float | None = None) -> float:
    """Chan(1024): producer send_many(batch of 64) -> consumer recv_many(64), n ints."""
    name = "W5 fastchan"
    timeout = timeout or default_timeout(n)
    ch = _fc().Chan(1024)
    Closed = _fc().Closed
    send_many = ch.send_many
    recv_many = ch.recv_many
    data = list(range(n))
    batches = [data[i : i + _BATCH] for i in range(0, n, _BATCH)]  # built untimed
    last = [None]

    def producer(times):
        times["t0"] = _perf()
        for b in batches:
            send_many(b)
        ch.close()

    def consumer(times):
        x = None
        try:
            while True:
                x = recv_many(_BATCH)
        except Closed:
            pass
        times["t1"] = _perf()
        last[0] = x[-1] if x else None

    elapsed = _run_threads(name, [consumer, producer], timeout, ch.close)
    _check(name, last[0], n - 1)
    return elapsed


def w5_peer(n: int, timeout: float | None = None) -> float:
    """queue.SimpleQueue: producer put() -> consumer get(), one by one, n ints."""
    name = "W5 peer"
    timeout = timeout or default_timeout(n)
    q = queue.SimpleQueue()
    send = q.put
    recv = q.get
    S = _SENTINEL
    data = list(range(n))  # same input as the fastchan side, built untimed

    def producer(times):
        times["t0"] = _perf()
        for x in data:
            send(x)
        send(S)

    def consumer(times):
        while True:
            x = recv()
            if x is S:
                break
        times["t1"] = _perf()

    return _run_threads(name, [consumer, producer], timeout, lambda: (q.put(S), q.put(S)))


# --------------------------------------------------------------------------------------
# W7: ping-pong round trip between two threads


def w7_fastchan(n: int, timeout: float | None = None) -> float:
    """Two Chan(0): thread A sends i on ping, waits for it on pong; B echoes. n trips."""
    name = "W7 fastchan"
    timeout = timeout or default_timeout(n)
    ping = _fc().Chan(0)
    pong = _fc().Chan(0)
    Closed = _fc().Closed
    last = [None]

    def pinger(times):
        send = ping.send
        recv = pong.recv
        x = None
        times["t0"] = _perf()
        for i in range(n):
            send(i)
            x = recv()
        times["t1"] = _perf()
        ping.close()
        last[0] = x

    def ponger(times):
        recv = ping.recv
        send = pong.send
        try:
            while True:
                send(recv())
        except Closed:
            pass

    def unblock():
        ping.close()
        pong.close()

    elapsed = _run_threads(name, [ponger, pinger], timeout, unblock)
    _check(name, last[0], n - 1)
    return elapsed


def w7_peer(n: int, timeout: float | None = None) -> float:
    """Two queue.SimpleQueue: thread A puts i on ping, gets it from pong; B echoes."""
    name = "W7 peer"
    timeout = timeout or default_timeout(n)
    ping = queue.SimpleQueue()
    pong = queue.SimpleQueue()
    S = _SENTINEL
    last = [None]

    def pinger(times):
        send = ping.put
        recv = pong.get
        x = None
        times["t0"] = _perf()
        for i in range(n):
            send(i)
            x = recv()
        times["t1"] = _perf()
        send(S)
        last[0] = x

    def ponger(times):
        recv = ping.get
        send = pong.put
        while True:
            x = recv()
            if x is S:
                break
            send(x)

    def unblock():
        ping.put(S)
        pong.put(S)

    elapsed = _run_threads(name, [ponger, pinger], timeout, unblock)
    _check(name, last[0], n - 1)
    return elapsed


# --------------------------------------------------------------------------------------
# W8: select over 4 channels, one ready (the last one) vs try_recv on that channel
#
# The ready channel is pre-filled with n values outside the timed region, so the timed
# loop is the select (resp. try_recv) alone; the three others stay empty. It is the last
# argument, so that an implementation scanning in argument order pays for the others.


def _w8_setup(n):
    f = _fc()
    others = [f.Chan(1024) for _ in range(3)]
    ready = f.Chan(max(n, 1))
    send = ready.send
    for _ in range(n):
        send(1)
    return f, others, ready


def w8_fastchan(n: int) -> float:
    """fc.select(a, b, c, ready): 4 channels, only the last has values; n selects."""
    f, (a, b, c), d = _w8_setup(n)
    select = f.select
    r = None
    t0 = _perf()
    for _ in range(n):
        r = select(a, b, c, d)
    t1 = _perf()
    if n:
        _check("W8 fastchan", r, (3, 1, True))
    _check("W8 fastchan len", len(d), 0)
    return t1 - t0


def w8_peer(n: int) -> float:
    """ready.try_recv() on the one ready channel (same setup as W8 fastchan); n calls."""
    f, (a, b, c), d = _w8_setup(n)
    try_recv = d.try_recv
    r = None
    t0 = _perf()
    for _ in range(n):
        r = try_recv()
    t1 = _perf()
    if n:
        _check("W8 peer", r, 1)
    _check("W8 peer len", len(d), 0)
    return t1 - t0


# --------------------------------------------------------------------------------------
# W9: 2 threads increment one counter, n increments in total


def _two_threads(name, body_for, n, timeout):
    """body_for(k) in 2 threads splitting n, released together; wall time until both end."""
    half = n // 2

    def first(times):
        times["t0"] = _perf()
        body_for(n - half)
        times["t1a"] = _perf()

    def second(times):
        body_for(half)
        times["t1b"] = _perf()

    def both_done(times):
        times["t1"] = max(times.pop("t1a"), times.pop("t1b"))

    return _run_threads(name, [first, second], timeout, lambda: None, finish=both_done)


def w9_fastchan(n: int, timeout: float | None = None) -> float:
    """AtomicInt.add() from 2 threads, n increments in total."""
    counter = _fc().AtomicInt()
    add = counter.add

    def body(k):
        for _ in range(k):
            add()

    dt = _two_threads("W9 fastchan", body, n, timeout or default_timeout(n))
    _check("W9 fastchan", counter.load(), n)
    return dt


def w9_peer(n: int, timeout: float | None = None) -> float:
    """`with lock: count += 1` from 2 threads, n increments in total."""
    lock = threading.Lock()
    box = [0]

    def body(k):
        for _ in range(k):
            with lock:
                box[0] += 1

    dt = _two_threads("W9 peer", body, n, timeout or default_timeout(n))
    _check("W9 peer", box[0], n)
    return dt


# --------------------------------------------------------------------------------------
# W10: 100k trivial tasks through a pool, results collected


def w10_fastchan(n: int) -> float:
    """WorkerPool.map(lambda x: x, range(n)), results collected."""
    f = _fc()
    if not hasattr(f, "WorkerPool"):
        raise Unavailable("needs fastchan.WorkerPool, which this version does not have")
    with f.WorkerPool() as pool:
        t0 = _perf()
        total = sum(pool.map(_identity, range(n)))
        t1 = _perf()
    _check("W10 fastchan", total, n * (n - 1) // 2)
    return t1 - t0


def w10_peer(n: int) -> float:
    """concurrent.futures.ThreadPoolExecutor.map(lambda x: x, range(n)), results collected."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor() as pool:
        t0 = _perf()
        total = sum(pool.map(_identity, range(n)))
        t1 = _perf()
    _check("W10 peer", total, n * (n - 1) // 2)
    return t1 - t0


def _identity(x):
    return x


# --------------------------------------------------------------------------------------
# W11: Once.do after done / @once after the first call, n calls


def w11_fastchan(n: int) -> float:
    """Once.do(fn) after the first run, n calls."""
    once = _fc().Once()
    fn = _noop
    do = once.do
    do(fn)
    t0 = _perf()
    for _ in range(n):
        do(fn)
    return _perf() - t0


def w11_peer(n: int) -> float:
    """A threading.Lock-guarded `if not done: fn()` check, n calls."""
    lock = threading.Lock()
    state = [True]
    fn = _noop
    t0 = _perf()
    for _ in range(n):
        with lock:
            if not state[0]:
                fn()
    return _perf() - t0


def w11b_fastchan(n: int) -> float:
    """@fastchan.once-decorated function, n calls after the first."""
    get = _fc().once(_config)
    get()
    t0 = _perf()
    for _ in range(n):
        get()
    return _perf() - t0


def w11b_peer(n: int) -> float:
    """@functools.cache-decorated function of no arguments, n calls after the first."""
    get = functools.cache(_config)
    get()
    t0 = _perf()
    for _ in range(n):
        get()
    return _perf() - t0


def _noop():
    return None


def _config():
    return {"ready": True}


# --------------------------------------------------------------------------------------
# SyncMap vs dict + threading.Lock, 2 threads, n operations in total


def _map_workload(name, make, read, write, n, reads_per_write, timeout):
    keys = list(range(64))
    m = make()
    for k in keys:
        write(m, k, 0)

    def body(k):
        for i in range(k):
            key = keys[i & 63]
            if i % (reads_per_write + 1):
                read(m, key)
            else:
                write(m, key, i)

    return _two_threads(name, body, n, timeout or default_timeout(n))


def _syncmap_read(m, k):
    return m.load(k)


def _syncmap_write(m, k, v):
    m.store(k, v)


class _LockedDict:
    __slots__ = ("d", "lock")

    def __init__(self):
        self.d = {}
        self.lock = threading.Lock()


def _locked_read(m, k):
    with m.lock:
        return m.d.get(k)


def _locked_write(m, k, v):
    with m.lock:
        m.d[k] = v


def m1_fastchan(n: int, timeout: float | None = None) -> float:
    """SyncMap, 2 threads, 9 loads per store."""
    return _map_workload("M1 fastchan", _fc().SyncMap, _syncmap_read, _syncmap_write, n, 9, timeout)


def m1_peer(n: int, timeout: float | None = None) -> float:
    """dict + threading.Lock around every access, 2 threads, 9 gets per set."""
    return _map_workload("M1 peer", _LockedDict, _locked_read, _locked_write, n, 9, timeout)


def m2_fastchan(n: int, timeout: float | None = None) -> float:
    """SyncMap, 2 threads, stores only."""
    return _map_workload("M2 fastchan", _fc().SyncMap, _syncmap_read, _syncmap_write, n, 0, timeout)


def m2_peer(n: int, timeout: float | None = None) -> float:
    """dict + threading.Lock, 2 threads, sets only."""
    return _map_workload("M2 peer", _LockedDict, _locked_read, _locked_write, n, 0, timeout)


# --------------------------------------------------------------------------------------
# W12: free-threaded scaling -- W6 on this free-threaded build vs the same build with
# the GIL forced on (a subprocess started with -X gil=1).


def _free_threaded():
    import sys
    import sysconfig

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED")) and not sys._is_gil_enabled()


def w12_fastchan(n: int, timeout: float | None = None) -> float:
    """W6 fastchan with the GIL disabled (this free-threaded interpreter)."""
    if not _free_threaded():
        raise Unavailable("needs a free-threaded build with the GIL disabled (e.g. 3.13t)")
    return w6_fastchan(n, timeout)


def w12_peer(n: int, timeout: float | None = None) -> float:
    """W6 fastchan on the same interpreter with the GIL enabled (python -X gil=1)."""
    import subprocess
    import sys

    if not _free_threaded():
        raise Unavailable("needs a free-threaded build with the GIL disabled (e.g. 3.13t)")
    timeout = timeout or default_timeout(n)
    code = f"from fastchan.bench.workloads import w6_fastchan; print(repr(w6_fastchan({n})))"
    try:
        out = subprocess.run([sys.executable, "-X", "gil=1", "-c", code], capture_output=True,
                             text=True, timeout=timeout + 10, check=True)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"W12 peer: hang after {timeout:.1f} s") from None
    return float(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------
# Optional peers: shown as extra rows when importable, never required.


def _w9_with(name, make_counter, add_name):
    def run(n: int, timeout: float | None = None) -> float:
        counter = make_counter()
        add = getattr(counter, add_name)

        def body(k):
            for _ in range(k):
                add(1)

        return _two_threads(f"W9 {name}", body, n, timeout or default_timeout(n))

    run.__doc__ = f"{name}: 2 threads increment one counter"
    return run


def _w3_with(name, make_queue):
    def run(n: int, timeout: float | None = None) -> float:
        return _spsc_peer(f"W3 {name}", make_queue(), n, timeout or default_timeout(n))

    run.__doc__ = f"{name}: 1 producer -> 1 consumer thread through its sync side, bounded 1024"
    return run


def _optional_peers():
    peers = {}
    # Thread-and-asyncio queues, used from threads through their sync side (W3).
    for module in ("janus", "culsans"):
        try:
            mod = __import__(module)
            mod.Queue(maxsize=1024).sync_q.put_nowait(None)     # usable here?
            peers.setdefault("W3", {})[f"{module}.Queue.sync_q"] = _w3_with(
                module, lambda mod=mod: mod.Queue(maxsize=1024).sync_q)
        except Exception:
            pass
    try:
        import cereggii

        peers.setdefault("W9", {})["cereggii.AtomicInt64"] = _w9_with(
            "cereggii", lambda: cereggii.AtomicInt64(0), "increment_and_get")
    except Exception:
        pass
    try:
        from ft_utils.concurrency import AtomicInt64

        peers.setdefault("W9", {})["ft_utils.AtomicInt64"] = _w9_with(
            "ft_utils", lambda: AtomicInt64(0), "incr")
    except Exception:
        pass
    return peers


#: id -> {peer name: fn}: third-party peers found on this machine.
EXTRA_PEERS = _optional_peers()


# --------------------------------------------------------------------------------------

WORKLOADS = {
    "W1": (w1_fastchan, w1_peer, 1.3,
           "1 thread: send+recv pair; Chan(1024) vs deque append+popleft"),
    "W2": (w2_fastchan, w2_peer, 0.05,
           "1 thread: send+recv pair; Chan(1024) vs queue.Queue(1024) put+get"),
    "W3": (w3_fastchan, w3_peer, 0.07,
           "1 producer -> 1 consumer thread; Chan(1024) vs queue.Queue(maxsize=1024)"),
    "W4": (w4_fastchan, w4_peer, 1.0,
           "1 producer -> 1 consumer thread, unbounded; Chan(None) vs SimpleQueue"),
    "W5": (w5_fastchan, w5_peer, 0.35,
           "W3 in batches of 64 (send_many/recv_many) vs SimpleQueue one by one"),
    "W6": (w6_fastchan, w6_peer, 0.1,
           "4 producers -> 4 consumers, bounded 1024; Chan(1024) vs queue.Queue(1024)"),
    "W7": (w7_fastchan, w7_peer, 0.5,
           "ping-pong round trip, 2 threads; two Chan(0) vs two SimpleQueue"),
    "W8": (w8_fastchan, w8_peer, 4.0,
           "select over 4 channels, one ready vs try_recv on that channel"),
    "W9": (w9_fastchan, w9_peer, 0.15,
           "2 threads increment one counter; AtomicInt.add vs with lock: n += 1"),
    "W10": (w10_fastchan, w10_peer, 0.1,
            "100k trivial tasks, results collected; WorkerPool.map vs ThreadPoolExecutor.map"),
    "W11": (w11_fastchan, w11_peer, 0.2,
            "Once.do after done vs a Lock-guarded flag check"),
    "W11B": (w11b_fastchan, w11b_peer, 1.0,
             "@fastchan.once vs @functools.cache, calls after the first"),
    "M1": (m1_fastchan, m1_peer, None,
           "read-mostly map (9 loads : 1 store), 2 threads; SyncMap vs dict + Lock"),
    "M2": (m2_fastchan, m2_peer, None,
           "write-only map, 2 threads; SyncMap vs dict + Lock"),
    "W12": (w12_fastchan, w12_peer, 0.8,
            "free-threaded scaling: W6 with the GIL off vs the same build with -X gil=1"),
}

# id -> (full n, quick n). W7's n counts round trips (~15-50 µs each for the peer).
SIZES = {
    "W1": (1_000_000, 200_000),
    "W2": (1_000_000, 50_000),
    "W3": (1_000_000, 50_000),
    "W4": (1_000_000, 200_000),
    "W5": (1_000_000, 200_000),
    "W6": (1_000_000, 100_000),
    "W7": (30_000, 2_000),
    "W8": (1_000_000, 200_000),
    "W9": (1_000_000, 200_000),
    "W10": (100_000, 20_000),
    "W11": (1_000_000, 200_000),
    "W11B": (1_000_000, 200_000),
    "M1": (1_000_000, 200_000),
    "M2": (1_000_000, 200_000),
    "W12": (1_000_000, 100_000),
}

# Default repeat count; W7 is bimodal (thread wake-up luck), so it gets more.
REPEATS = {k: (9 if k == "W7" else 3 if k in ("W10", "W12") else 5) for k in WORKLOADS}
