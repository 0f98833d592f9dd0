"""WorkerPool and Group: map, submit/Future, go, stats, backpressure, shutdown, Context.

Contract (API.md "`fc.WorkerPool(...)`" and "`fc.Group(...)`"): WorkerPool is a bounded
concurrent.futures.Executor -- `workers` threads named "<name>-<poolid>-<i>", a queue of
`queue_size` (default 2 * workers) that blocks submitters when full; submit -> Future,
go -> errors/stats, a lazy map with at most workers + queue_size tasks in flight;
close/join/shutdown/`with`; a raising task (BaseException included) never kills its
worker; a cancelled `context` drops queued tasks (fc.Cancelled) and refuses new ones.
Group is Go's errgroup: go/try_go with a `limit`, a context cancelled on the first
error, wait() raising an ExceptionGroup of every exception.
"""

import asyncio
import collections
import concurrent.futures
import itertools
import os
import re
import threading
import tracemalloc

import pytest

import fastchan as fc
from _helpers import JOIN_TIMEOUT, assert_blocks, spawn, wait_until

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def new_pool():
    """Make pools that are closed and drained (workers gone) at teardown."""
    pools = []

    def make(*args, **kwargs):
        kwargs.setdefault("name", "tpool")
        pool = fc.WorkerPool(*args, **kwargs)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()
        assert pool.join(JOIN_TIMEOUT), f"{pool!r} did not drain"


def holder(gate, started=None, result="held"):
    """A task that blocks until `gate` is set (bounded), signalling `started` first."""

    def task():
        if started is not None:
            started.set()
        gate.wait(JOIN_TIMEOUT)
        return result

    return task


def worker_names(name):
    return sorted(t.name for t in threading.enumerate() if t.name.startswith(name + "-") and t.is_alive())


def fail(msg):
    raise ValueError(msg)


# ============================================================================ map


def test_map_ordered_equals_builtin_map(new_pool):
    pool = new_pool(4, 4)
    late_done = threading.Event()

    def f(x):
        if x == 0:  # item 0 finishes after item 3: completion order != input order
            assert late_done.wait(JOIN_TIMEOUT)
        if x == 3:
            late_done.set()
        return x * x

    assert list(pool.map(f, range(50))) == list(map(f, range(50)))
    assert list(pool.map(f, [])) == []


def test_map_unordered_yields_same_multiset(new_pool):
    pool = new_pool(3, 5)
    data = [5, 1, 3, 1, 5, 5, 2, 0, 3] * 7
    got = list(pool.map(lambda x: x * 10, data, ordered=False))
    assert collections.Counter(got) == collections.Counter(x * 10 for x in data)


def test_map_unordered_yields_in_completion_order(new_pool):
    pool = new_pool(3, 0)
    first_seen = threading.Event()

    def f(x):
        if x == 0:  # cannot finish before the consumer has received another result
            assert first_seen.wait(JOIN_TIMEOUT)
        return x

    out = []
    for v in pool.map(f, range(3), ordered=False):
        out.append(v)
        first_seen.set()
    assert out[0] != 0
    assert sorted(out) == [0, 1, 2]


def test_map_several_iterables_shortest_wins(new_pool):
    pool = new_pool(2, 2)
    assert list(pool.map(pow, [2, 3, 4], [5, 6])) == [32, 729]
    # An infinite iterable is fine: the shortest one ends the map.
    assert list(pool.map(lambda a, b, c: a + b + c, range(5), itertools.count(100), [0] * 9)) == [
        100, 102, 104, 106, 108,
    ]


def test_map_exception_raised_at_its_position(new_pool):
    pool = new_pool(2, 2)

    def f(x):
        if x == 5:
            raise ValueError("five")
        return x * 10

    got = []
    with pytest.raises(ValueError, match="five"):
        for v in pool.map(f, range(10)):
            got.append(v)
    assert got == [0, 10, 20, 30, 40]
    assert pool.join(JOIN_TIMEOUT)
    assert pool.submit(abs, -3).result(JOIN_TIMEOUT) == 3  # the pool still works


def test_map_timeout_raises_timeout_error(new_pool):
    pool = new_pool(2, 2)
    gate = threading.Event()
    try:
        it = pool.map(lambda x: gate.wait(JOIN_TIMEOUT), range(3), timeout=0.2)
        with pytest.raises(TimeoutError):
            next(it)
    finally:
        gate.set()
    assert pool.join(JOIN_TIMEOUT)


@pytest.mark.parametrize("workers, queue_size", [(1, 0), (2, 3), (3, 1)])
def test_map_bounded_in_flight(new_pool, workers, queue_size):
    pool = new_pool(workers, queue_size)
    limit = workers + queue_size
    pulled = 0

    def source(n):
        nonlocal pulled
        for i in range(n):
            pulled += 1
            yield i

    it = pool.map(lambda x: x + 1, source(300))
    assert pulled <= limit  # lazy: map() itself does not drain the input
    worst = 0
    for yielded, v in enumerate(it, 1):
        assert v == yielded
        worst = max(worst, pulled - yielded)
        assert pulled - yielded <= limit, f"{pulled - yielded} tasks in flight, limit {limit}"
    assert pulled == 300 and worst >= 1

    # Abandoning a map early pulls nothing more and leaves the pool drainable.
    pulled = 0
    it = pool.map(lambda x: x, source(10_000))
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()
    assert pulled <= 3 + limit
    assert pool.join(JOIN_TIMEOUT)


@pytest.mark.timeout(120)
def test_map_memory_flat_on_long_generator(new_pool):
    pool = new_pool(2, 64)
    n = 200_000
    tracemalloc.start()
    try:
        total = sum(pool.map(abs, (i for i in range(n))))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == n * (n - 1) // 2
    # Materialising would need >= 1.6 MB for the list of results alone (and far more
    # for 200k Futures); the bounded map keeps ~66 tasks alive.
    assert peak < 1_500_000, f"peak traced memory {peak} bytes"


# ============================================================================ submit


def test_submit_future_results_and_exceptions(new_pool):
    pool = new_pool(2)
    ok = pool.submit(pow, 2, 10)
    kw = pool.submit(int, "ff", base=16)
    bad = pool.submit(fail, "nope")
    assert isinstance(ok, concurrent.futures.Future)
    assert ok.result(JOIN_TIMEOUT) == 1024
    assert kw.result(JOIN_TIMEOUT) == 255
    exc = bad.exception(JOIN_TIMEOUT)
    assert isinstance(exc, ValueError) and str(exc) == "nope"
    with pytest.raises(ValueError, match="nope"):
        bad.result(0)


def test_as_completed_and_wait(new_pool):
    pool = new_pool(3, 10)
    fs = [pool.submit(pow, 2, i) for i in range(10)] + [pool.submit(divmod, 1, 0)]
    seen = list(concurrent.futures.as_completed(fs, timeout=JOIN_TIMEOUT))
    assert len(seen) == len(fs) and set(seen) == set(fs)
    done, not_done = concurrent.futures.wait(fs, timeout=JOIN_TIMEOUT)
    assert done == set(fs) and not not_done
    assert sorted(f.result() for f in fs[:-1]) == [2**i for i in range(10)]

    gate = threading.Event()
    try:
        held = pool.submit(holder(gate))
        boom = pool.submit(fail, "first")
        done, not_done = concurrent.futures.wait(
            [held, boom], timeout=JOIN_TIMEOUT, return_when=concurrent.futures.FIRST_EXCEPTION
        )
        assert done == {boom} and not_done == {held}
    finally:
        gate.set()
    assert held.result(JOIN_TIMEOUT) == "held"


def test_asyncio_run_in_executor(new_pool):
    pool = new_pool(2)

    async def main():
        loop = asyncio.get_running_loop()
        results = await asyncio.gather(*(loop.run_in_executor(pool, pow, 3, i) for i in range(8)))
        with pytest.raises(ZeroDivisionError):
            await loop.run_in_executor(pool, divmod, 1, 0)
        return results

    assert asyncio.run(main()) == [3**i for i in range(8)]


@pytest.mark.parametrize("queue_size", [0, 1, 3])
def test_backpressure_submit_blocks_when_queue_full(new_pool, queue_size):
    pool = new_pool(1, queue_size)
    gate, started = threading.Event(), threading.Event()
    try:
        first = pool.submit(holder(gate, started))
        assert started.wait(JOIN_TIMEOUT)
        queued = [pool.submit(abs, -i) for i in range(queue_size)]  # fill the queue
        assert pool.stats["queued"] == queue_size
        blocked = assert_blocks(pool.submit, abs, -99, for_=0.2)
        assert not any(f.done() for f in queued)
    finally:
        gate.set()
    last = blocked.join()
    assert last.result(JOIN_TIMEOUT) == 99
    assert first.result(JOIN_TIMEOUT) == "held"
    assert [f.result(JOIN_TIMEOUT) for f in queued] == list(range(queue_size))


def test_defaults_workers_cpu_count_and_queue_twice_workers(new_pool):
    assert new_pool(name="tdefault").stats["workers"] == (os.cpu_count() or 1)
    assert len(worker_names("tdefault")) == (os.cpu_count() or 1)
    pool = new_pool(1)
    gate, started = threading.Event(), threading.Event()
    try:
        pool.submit(holder(gate, started))
        assert started.wait(JOIN_TIMEOUT)
        pool.submit(abs, 1)
        pool.submit(abs, 2)  # 2 * workers queued: still accepted at once
        blocked = assert_blocks(pool.submit, abs, 3, for_=0.2)
    finally:
        gate.set()
    assert blocked.join().result(JOIN_TIMEOUT) == 3


def test_submit_blocked_on_full_queue_raises_runtime_error_on_close(new_pool):
    pool = new_pool(1, 0)
    gate, started = threading.Event(), threading.Event()
    try:
        first = pool.submit(holder(gate, started))
        assert started.wait(JOIN_TIMEOUT)
        blocked = assert_blocks(pool.submit, abs, 1, for_=0.1)
        pool.close()
        assert isinstance(blocked.join_exc(), RuntimeError)
    finally:
        gate.set()
    assert first.result(JOIN_TIMEOUT) == "held"
    assert pool.join(JOIN_TIMEOUT)


def test_join_timeout_returns_false_while_busy(new_pool):
    pool = new_pool(1)
    gate = threading.Event()
    try:
        pool.submit(holder(gate))
        assert pool.join(timeout=0.1) is False
    finally:
        gate.set()
    assert pool.join(JOIN_TIMEOUT) is True


# ============================================================================ go, stats, errors


def test_go_exceptions_kept_in_errors_and_counted(new_pool):
    pool = new_pool(2)
    assert pool.go(abs, -1) is None
    for i in range(3):
        pool.go(fail, f"go-{i}")
    assert pool.join(JOIN_TIMEOUT)
    assert sorted(str(e) for e in pool.errors) == ["go-0", "go-1", "go-2"]
    assert all(type(e) is ValueError for e in pool.errors)
    assert pool.stats["failed"] == 3 and pool.stats["completed"] == 1


def test_stats_exact_after_join(new_pool):
    pool = new_pool(2, 4)
    for _ in range(10):
        pool.go(abs, -1)
    for i in range(3):
        pool.go(fail, str(i))
    fs = [pool.submit(abs, -1) for _ in range(5)] + [pool.submit(fail, "x") for _ in range(2)]
    assert list(pool.map(abs, range(7))) == list(range(7))
    assert pool.join(JOIN_TIMEOUT)
    assert all(f.done() for f in fs)
    assert pool.stats == {"workers": 2, "busy": 0, "queued": 0, "completed": 22, "failed": 5}


def test_raising_task_never_kills_its_worker(new_pool):
    pool = new_pool(1, name="tsurvive")

    def name_then_raise():
        raise ValueError(threading.current_thread().name)

    first = pool.submit(name_then_raise).exception(JOIN_TIMEOUT)
    pool.go(fail, "go too")
    later = pool.submit(lambda: threading.current_thread().name).result(JOIN_TIMEOUT)
    assert isinstance(first, ValueError)
    assert later == str(first)
    assert worker_names("tsurvive") == [later]


def test_base_exceptions_in_tasks_are_recorded(new_pool):
    pool = new_pool(1, name="tbase")

    def interrupt():
        raise KeyboardInterrupt("in task")

    def sys_exit():
        raise SystemExit(3)

    f = pool.submit(interrupt)
    exc = f.exception(JOIN_TIMEOUT)
    assert isinstance(exc, KeyboardInterrupt) and str(exc) == "in task"
    pool.go(sys_exit)
    assert pool.submit(pow, 2, 5).result(JOIN_TIMEOUT) == 32  # the worker survived both
    assert pool.join(JOIN_TIMEOUT)
    assert len(pool.errors) == 1 and isinstance(pool.errors[0], SystemExit)
    assert pool.stats["failed"] == 2
    assert len(worker_names("tbase")) == 1


# ============================================================================ close, shutdown, with


@pytest.mark.parametrize("how", ["close", "shutdown", "with"])
def test_work_after_close_raises_runtime_error(new_pool, how):
    pool = new_pool(2)
    if how == "close":
        pool.close()
    elif how == "shutdown":
        pool.shutdown()
    else:
        with pool:
            pool.submit(abs, 1)
    with pytest.raises(RuntimeError):
        pool.submit(abs, 1)
    with pytest.raises(RuntimeError):
        pool.go(abs, 1)
    with pytest.raises(RuntimeError):
        list(pool.map(abs, [1, 2]))
    assert pool.join(JOIN_TIMEOUT)


def test_shutdown_cancel_futures(new_pool):
    pool = new_pool(1, 4, name="tcancel")
    gate, started = threading.Event(), threading.Event()
    ran = []
    try:
        running = pool.submit(holder(gate, started))
        assert started.wait(JOIN_TIMEOUT)
        queued = [pool.submit(ran.append, i) for i in range(3)]
        waiter = assert_blocks(pool.shutdown, wait=True, cancel_futures=True, for_=0.1)
        wait_until(lambda: all(f.cancelled() for f in queued), msg="queued futures cancelled")
        assert not running.done()
    finally:
        gate.set()
    waiter.join()
    assert running.result(0) == "held"
    assert ran == []
    with pytest.raises(concurrent.futures.CancelledError):
        queued[0].result(0)
    assert worker_names("tcancel") == []


def test_shutdown_without_cancel_runs_queued_work(new_pool):
    pool = new_pool(1, 8)
    fs = [pool.submit(pow, 2, i) for i in range(8)]
    pool.shutdown()
    assert all(f.done() for f in fs)
    assert [f.result() for f in fs] == [2**i for i in range(8)]


def test_with_pool_drains_accepted_work():
    gate, body_done = threading.Event(), threading.Event()
    finished = []

    def task(i):
        gate.wait(JOIN_TIMEOUT)
        finished.append(i)

    def body():
        with fc.WorkerPool(2, 8, name="tdrain") as pool:
            for i in range(10):
                pool.submit(task, i)
            body_done.set()
        return pool, sorted(finished)

    t = spawn(body)
    try:
        assert body_done.wait(JOIN_TIMEOUT)
        threading.Thread.join(t, 0.2)
        assert t.is_alive(), "with-exit returned before accepted work ran"
        assert finished == []
    finally:
        gate.set()
    pool, seen = t.join()
    assert seen == list(range(10))
    assert pool.stats["completed"] == 10
    assert worker_names("tdrain") == []


@pytest.mark.parametrize("how", ["with", "shutdown", "close_join", "context"])
def test_no_worker_threads_alive_after_end(how):
    name = f"tleak{how}"
    ctx = fc.Context() if how == "context" else None
    pool = fc.WorkerPool(3, name=name, context=ctx)
    names = [n for n in worker_names(name) if not n.endswith("-context")]  # + a watcher
    assert len(names) == 3
    assert all(re.fullmatch(rf"{name}-\d+-[0-2]", n) for n in names), names
    assert len({n.split("-")[1] for n in names}) == 1  # one pool id
    if how == "with":
        with pool:
            assert list(pool.map(abs, range(20))) == list(range(20))
    elif how in ("shutdown", "context"):
        pool.submit(abs, 1)
        pool.shutdown()
    else:
        pool.go(abs, 1)
        pool.close()
        assert pool.join() is True
    assert worker_names(name) == []


# ============================================================================ Context


def test_context_cancel_drops_queued_and_refuses_new(new_pool):
    ctx = fc.Context()
    pool = new_pool(1, 3, context=ctx)
    started = threading.Event()
    ran = []

    def blocker():
        started.set()
        return ctx.wait(JOIN_TIMEOUT)  # a context-aware task: returns on cancel

    running = pool.submit(blocker)
    assert started.wait(JOIN_TIMEOUT)
    queued = [pool.submit(ran.append, i) for i in range(2)]
    pool.go(ran.append, "go")
    blocked = assert_blocks(pool.submit, ran.append, "blocked", for_=0.1)  # queue full
    ctx.cancel()
    assert running.result(JOIN_TIMEOUT) is True
    for f in queued:
        assert isinstance(f.exception(JOIN_TIMEOUT), fc.Cancelled)
    exc = blocked.join_exc()
    if exc is None:  # the send won the race: the task was then dropped instead
        exc = blocked.result.exception(JOIN_TIMEOUT)
    assert isinstance(exc, fc.Cancelled)
    with pytest.raises(fc.Cancelled):
        pool.submit(ran.append, "late")
    with pytest.raises(fc.Cancelled):
        pool.go(ran.append, "late")
    with pytest.raises(fc.Cancelled):
        list(pool.map(ran.append, ["late"]))
    assert pool.join(JOIN_TIMEOUT)
    assert ran == []
    assert pool.errors == []


def test_context_deadline_drops_queued_and_refuses_new(new_pool):
    ctx = fc.Context(timeout=0.5)
    pool = new_pool(1, 4, context=ctx)
    ran = []
    first = pool.submit(ctx.wait, JOIN_TIMEOUT)
    queued = []
    try:
        for i in range(3):
            queued.append(pool.submit(ran.append, i))
    except fc.Cancelled:
        assert ctx.cancelled  # a very slow machine: the deadline already passed
    assert ctx.wait(JOIN_TIMEOUT)
    # The first task either ran (and was woken by the deadline) or was dropped.
    assert first.exception(JOIN_TIMEOUT) is None or isinstance(first.exception(), fc.Cancelled)
    for f in queued:
        assert isinstance(f.exception(JOIN_TIMEOUT), fc.Cancelled)
    with pytest.raises(fc.Cancelled):
        pool.submit(ran.append, "late")
    with pytest.raises(fc.Cancelled):
        pool.go(ran.append, "late")
    assert pool.join(JOIN_TIMEOUT)
    assert ran == []


# ============================================================================ bad input


@pytest.mark.parametrize(
    "kwargs, exc, word",
    [
        ({"workers": 0}, ValueError, "workers"),
        ({"workers": -2}, ValueError, "workers"),
        ({"workers": True}, TypeError, "workers"),
        ({"workers": 1.5}, TypeError, "workers"),
        ({"workers": "2"}, TypeError, "workers"),
        ({"workers": 1, "queue_size": -1}, ValueError, "queue_size"),
        ({"workers": 1, "queue_size": 2.0}, TypeError, "queue_size"),
        ({"workers": 1, "context": "ctx"}, TypeError, "context"),
    ],
)
def test_bad_pool_arguments(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        fc.WorkerPool(**kwargs)


def test_non_callable_fn_raises_type_error(new_pool):
    pool = new_pool(1)
    with pytest.raises(TypeError, match="fn"):
        pool.submit(None)
    with pytest.raises(TypeError, match="fn"):
        pool.go(42)
    with pytest.raises(TypeError, match="fn"):
        list(pool.map("abc", [1]))
    g = fc.Group()
    with pytest.raises(TypeError, match="fn"):
        g.go(None)
    with pytest.raises(TypeError, match="fn"):
        g.try_go(1)
    assert g.wait() is None
    assert pool.join(0.5)  # rejected calls left nothing pending


@pytest.mark.parametrize(
    "kwargs, exc, word",
    [
        ({"limit": 0}, ValueError, "limit"),
        ({"limit": True}, TypeError, "limit"),
        ({"context": 1}, TypeError, "context"),
    ],
)
def test_bad_group_arguments(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        fc.Group(**kwargs)


# ============================================================================ Group


def test_group_wait_no_errors_returns_none():
    out = []
    g = fc.Group()
    for i in range(5):
        g.go(out.append, i)
    assert g.wait() is None
    assert sorted(out) == list(range(5))


def test_group_errors_aggregated_into_exception_group():
    excs = [ValueError("a"), KeyError("b"), OSError("c")]

    def raiser(e):
        raise e

    g = fc.Group()
    for e in excs:
        g.go(raiser, e)
    g.go(abs, 1)
    with pytest.raises(ExceptionGroup) as info:
        g.wait()
    assert sorted(map(id, info.value.exceptions)) == sorted(map(id, excs))

    with pytest.raises(ExceptionGroup) as info:
        with fc.Group() as g2:
            g2.go(raiser, excs[0])
            g2.go(raiser, excs[1])
    assert sorted(map(id, info.value.exceptions)) == sorted(map(id, excs[:2]))


def test_group_limit_respected():
    limit = 2
    active, peak = fc.AtomicInt(), fc.AtomicInt()
    gate = threading.Event()

    def task():
        n = active.add(1)
        while True:
            p = peak.load()
            if n <= p or peak.compare_and_swap(p, n):
                break
        gate.wait(JOIN_TIMEOUT)
        active.sub(1)

    g = fc.Group(limit=limit)

    def start_all():
        for _ in range(6):
            g.go(task)

    starter = spawn(start_all)
    try:
        wait_until(lambda: active.load() == limit, msg="limit tasks running")
        threading.Thread.join(starter, 0.2)
        assert starter.is_alive(), "go() did not block at the limit"
        assert active.load() == limit
    finally:
        gate.set()
    starter.join()
    assert g.wait() is None
    assert peak.load() == limit
    assert active.load() == 0


def test_group_try_go():
    g = fc.Group(limit=1)
    gate, started = threading.Event(), threading.Event()
    ran = []
    try:
        assert g.try_go(holder(gate, started)) is True
        assert started.wait(JOIN_TIMEOUT)
        assert g.try_go(ran.append, "refused") is False
    finally:
        gate.set()
    wait_until(lambda: g.try_go(ran.append, "accepted"), msg="try_go to succeed once a slot is free")
    assert g.wait() is None
    assert ran == ["accepted"]
    unlimited = fc.Group()
    assert all(unlimited.try_go(abs, i) for i in range(5))
    unlimited.wait()


def test_group_context_cancelled_on_first_error():
    g = fc.Group()
    waiting = threading.Event()
    seen = {}
    boom = ValueError("boom")

    def waiter():
        seen["before"] = g.context.cancelled
        waiting.set()
        seen["woke"] = g.context.wait(JOIN_TIMEOUT)

    def failer():
        assert waiting.wait(JOIN_TIMEOUT)
        raise boom

    g.go(waiter)
    g.go(failer)
    with pytest.raises(ExceptionGroup) as info:
        g.wait()
    assert info.value.exceptions == (boom,)
    assert seen == {"before": False, "woke": True}
    assert g.context.err is boom


def test_group_given_context_cancelled_on_first_error_not_on_success():
    # API.md: "context is cancelled on the first exception" -- the one given, too.
    ok_ctx = fc.Context()
    with fc.Group(context=ok_ctx) as g:
        g.go(abs, -1)
    assert not ok_ctx.cancelled             # a group that succeeded leaves it alone
    assert g.context.cancelled              # its own context: the work is over (Go)

    given = fc.Context()
    g = fc.Group(context=given)
    stopped = []
    g.go(lambda: stopped.append(given.wait(JOIN_TIMEOUT)))
    g.go(fail, "first")
    with pytest.raises(ExceptionGroup) as info:
        g.wait()
    assert stopped == [True]
    assert given.cancelled and given.err is info.value.exceptions[0]


def test_group_with_body_exception_cancels_given_context():
    given = fc.Context()
    with pytest.raises(ExceptionGroup):
        with fc.Group(context=given) as g:
            g.go(given.wait, JOIN_TIMEOUT)
            raise ValueError("body")
    assert given.cancelled and isinstance(given.err, ValueError)


def test_group_context_is_child_of_given_context():
    parent = fc.Context()
    g2 = fc.Group(context=parent)
    woke = []
    g2.go(lambda: woke.append(g2.context.wait(JOIN_TIMEOUT)))
    parent.cancel()  # downwards: the group's tasks see it
    assert g2.wait() is None and woke == [True]


def test_group_with_block_waits_for_all_tasks():
    gate, body_done = threading.Event(), threading.Event()
    finished = []

    def task(i):
        gate.wait(JOIN_TIMEOUT)
        finished.append(i)

    def body():
        with fc.Group() as g:
            for i in range(3):
                g.go(task, i)
            body_done.set()
        return sorted(finished)

    t = spawn(body)
    try:
        assert body_done.wait(JOIN_TIMEOUT)
        threading.Thread.join(t, 0.2)
        assert t.is_alive(), "with-exit returned before the tasks finished"
        assert finished == []
    finally:
        gate.set()
    assert t.join() == [0, 1, 2]


# ============================================================================ regressions
# Both failed before 5e82ce6: queued jobs were dropped only when a worker freed up, and
# map's submissions ignored its timeout while the queue was full.


@pytest.mark.parametrize("how", ["cancel", "deadline"])
def test_context_end_drops_queued_even_while_workers_are_busy(new_pool, how):
    ctx = fc.Context(timeout=0.5 if how == "deadline" else None)
    pool = new_pool(1, 2, context=ctx)
    gate, started = threading.Event(), threading.Event()
    queued = []
    try:
        running = pool.submit(holder(gate, started))  # a task that ignores the context
        try:
            queued.append(pool.submit(abs, 1))
        except fc.Cancelled:
            assert how == "deadline" and ctx.cancelled  # a very slow machine
        if how == "cancel":
            assert started.wait(JOIN_TIMEOUT)
            ctx.cancel()
        assert ctx.wait(JOIN_TIMEOUT)
        done, _ = concurrent.futures.wait(queued, timeout=5)
        assert len(done) == len(queued), (
            f"a queued task's Future is still pending 5 s after the pool's context ended "
            f"(stats={pool.stats}); it must not wait for a worker to free up"
        )
        assert all(isinstance(f.exception(0), fc.Cancelled) for f in queued)
        assert pool.stats["queued"] == 0
    finally:
        gate.set()
    # The first task either ran to the end or was itself dropped by the deadline.
    assert running.exception(JOIN_TIMEOUT) is None or isinstance(running.exception(), fc.Cancelled)


def test_map_timeout_bounds_submissions_blocked_by_backpressure(new_pool):
    pool = new_pool(1, 0)
    gate, started = threading.Event(), threading.Event()
    try:
        pool.submit(holder(gate, started))
        assert started.wait(JOIN_TIMEOUT)
        t = spawn(lambda: list(pool.map(abs, [1, 2], timeout=0.2)))
        threading.Thread.join(t, 5)
        assert not t.is_alive(), (
            "map(..., timeout=0.2) on a busy pool is still blocked after 5 s: its "
            "submissions wait on the full queue without the timeout"
        )
    finally:
        gate.set()
    assert isinstance(t.join_exc(), TimeoutError)
