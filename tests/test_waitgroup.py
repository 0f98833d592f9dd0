"""WaitGroup: counting, waiting, timeouts, reuse, go(), bad input, Ctrl-C.

Contract (API.md "`fc.WaitGroup()`"): add(delta=1), done(), wait(timeout=None) -> bool
(True when the counter is zero, False on timeout), count.  A negative counter raises
ValueError and leaves the count unchanged.  go(fn, /, *args, **kwargs) -> Thread: add(1),
run fn in a new thread, done() when it returns or raises; its exception goes to
threading.excepthook.  Timeouts follow "Timeouts everywhere"; a wait in the main thread
is interrupted by Ctrl-C ("Interrupts everywhere").
"""

import math
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import fastchan as fc
from _helpers import JOIN_TIMEOUT, Elapsed, assert_blocks, run_threads, spawn

pytestmark = pytest.mark.timeout(60)


# ============================================================================ basics


def test_new_waitgroup_is_zero_and_wait_returns_true():
    wg = fc.WaitGroup()
    assert wg.count == 0
    with Elapsed() as e:
        assert wg.wait() is True
        assert wg.wait(0) is True
        assert wg.wait(timeout=0) is True
        assert wg.wait(1.5) is True
        assert wg.wait(math.inf) is True
        assert wg.wait(None) is True
    assert e.seconds < 1


def test_add_done_count():
    wg = fc.WaitGroup()
    assert wg.add() is None
    assert wg.count == 1
    wg.add(3)
    assert wg.count == 4
    wg.add(-2)
    assert wg.count == 2
    assert wg.done() is None
    assert wg.count == 1
    assert wg.wait(0) is False
    wg.done()
    assert wg.count == 0
    assert wg.wait(0) is True


def test_add_zero_is_a_no_op():
    wg = fc.WaitGroup()
    wg.add(0)
    assert wg.count == 0 and wg.wait(0) is True
    wg.add(2)
    wg.add(0)
    assert wg.count == 2 and wg.wait(0) is False
    wg.add(-2)
    assert wg.wait(0) is True


def test_add_large_delta():
    wg = fc.WaitGroup()
    wg.add(10**6)
    assert wg.count == 10**6
    wg.add(-(10**6) + 1)
    assert wg.count == 1
    wg.done()
    assert wg.wait(0) is True


def test_wait_times_out_false():
    wg = fc.WaitGroup()
    wg.add()
    with Elapsed() as e:
        assert wg.wait(0.2) is False
    assert 0.15 <= e.seconds < 5
    assert wg.count == 1  # a timed-out wait changes nothing
    with Elapsed() as e:
        assert wg.wait(0) is False
    assert e.seconds < 1
    wg.done()
    assert wg.wait(0) is True


def test_wait_blocks_until_last_done():
    wg = fc.WaitGroup()
    wg.add(2)
    t = assert_blocks(wg.wait, for_=0.1)
    wg.done()
    threading.Thread.join(t, 0.1)
    assert t.is_alive(), "wait() returned while the counter was 1"
    wg.done()
    assert t.join() is True


def test_wait_with_timeout_released_by_done():
    wg = fc.WaitGroup()
    wg.add()
    t = assert_blocks(wg.wait, timeout=30, for_=0.1)
    with Elapsed() as e:
        wg.done()
        assert t.join() is True
    assert e.seconds < 5


@pytest.mark.parametrize("t", [math.inf, 1e10, 1e300], ids=["inf", "1e10", "1e300"])
def test_wait_infinite_like_timeouts_wait(t):
    wg = fc.WaitGroup()
    wg.add()
    w = assert_blocks(wg.wait, t, for_=0.15)
    wg.done()
    assert w.join() is True


def test_many_waiters_all_released():
    wg = fc.WaitGroup()
    wg.add()
    waiters = [spawn(wg.wait, timeout=30 if i % 2 else None) for i in range(16)]
    time.sleep(0.1)
    assert all(w.is_alive() for w in waiters)
    wg.done()
    assert [w.join() for w in waiters] == [True] * 16


def test_waiters_with_short_timeout_and_long_timeout():
    wg = fc.WaitGroup()
    wg.add()
    short = [spawn(wg.wait, 0.1) for _ in range(4)]
    long_ = [spawn(wg.wait, 30) for _ in range(4)]
    assert [s.join() for s in short] == [False] * 4
    assert all(w.is_alive() for w in long_)
    wg.done()
    assert [w.join() for w in long_] == [True] * 4


# ============================================================================ goroutines


def test_many_worker_threads():
    wg = fc.WaitGroup()
    n = 64
    finished = fc.AtomicInt()
    start = threading.Event()

    def worker():
        start.wait(JOIN_TIMEOUT)
        time.sleep(0.01)
        finished.add()
        wg.done()

    wg.add(n)
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    assert wg.wait(0.05) is False
    start.set()
    assert wg.wait(timeout=JOIN_TIMEOUT) is True
    assert finished.load() == n  # wait returned only after every done()
    assert wg.count == 0
    for t in threads:
        t.join(JOIN_TIMEOUT)


def test_many_go_calls():
    wg = fc.WaitGroup()
    n = 64
    results = fc.SyncMap()

    def task(i, *, scale):
        time.sleep(0.005)
        results.store(i, i * scale)

    threads = [wg.go(task, i, scale=3) for i in range(n)]
    assert wg.wait(timeout=JOIN_TIMEOUT) is True
    assert wg.count == 0
    assert sorted(results.items()) == [(i, 3 * i) for i in range(n)]
    for t in threads:
        t.join(JOIN_TIMEOUT)
        assert not t.is_alive()


def test_go_returns_started_thread_and_counts():
    wg = fc.WaitGroup()
    release = threading.Event()
    t = wg.go(release.wait, 30)
    assert isinstance(t, threading.Thread)
    assert t.ident is not None  # started
    assert t.is_alive()
    assert wg.count == 1
    assert wg.wait(0.05) is False
    release.set()
    assert wg.wait(JOIN_TIMEOUT) is True
    t.join(JOIN_TIMEOUT)
    assert not t.is_alive()
    assert wg.count == 0


def test_go_rejects_non_callable_without_counting():
    wg = fc.WaitGroup()
    with pytest.raises(TypeError, match="fn"):
        wg.go(42)
    assert wg.count == 0
    assert wg.wait(timeout=0) is True


def test_go_passes_args_and_kwargs_positional_only_fn():
    wg = fc.WaitGroup()
    got = []
    wg.go(lambda *a, **k: got.append((a, k)), 1, "two", fn="kw", x=3)
    assert wg.wait(JOIN_TIMEOUT) is True
    assert got == [((1, "two"), {"fn": "kw", "x": 3})]


def test_go_exception_goes_to_excepthook_and_done_still_happens(monkeypatch):
    hooked = []
    hook_called = threading.Event()

    def hook(args):
        hooked.append((args.exc_type, args.exc_value, args.thread))
        hook_called.set()

    monkeypatch.setattr(threading, "excepthook", hook)
    wg = fc.WaitGroup()
    err = ZeroDivisionError("in task")

    def task():
        raise err

    t = wg.go(task)
    assert wg.wait(timeout=JOIN_TIMEOUT) is True
    assert wg.count == 0
    t.join(JOIN_TIMEOUT)
    assert hook_called.wait(JOIN_TIMEOUT)
    assert len(hooked) == 1
    exc_type, exc_value, thread = hooked[0]
    assert exc_type is ZeroDivisionError and exc_value is err
    assert thread is t


def test_go_mixed_failures_counter_exact(monkeypatch):
    hooked = fc.AtomicInt()
    monkeypatch.setattr(threading, "excepthook", lambda args: hooked.add())
    wg = fc.WaitGroup()
    ok = fc.AtomicInt()

    def task(i):
        if i % 3 == 0:
            raise RuntimeError(i)
        ok.add()

    threads = [wg.go(task, i) for i in range(30)]
    assert wg.wait(JOIN_TIMEOUT) is True
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert ok.load() == 20
    assert hooked.load() == 10
    assert wg.count == 0


def test_go_thread_start_failure_leaves_count_unchanged(monkeypatch):
    wg = fc.WaitGroup()
    wg.add()

    def failing_start(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", failing_start)
    ran = []
    with pytest.raises(RuntimeError, match="can't start"):
        wg.go(ran.append, 1)
    monkeypatch.undo()
    assert ran == []
    assert wg.count == 1  # the add(1) of the failed go was undone
    wg.done()
    assert wg.wait(0) is True


def test_go_from_inside_go():
    # Go's pattern: a task adds more tasks to the same group before it finishes.
    wg = fc.WaitGroup()
    seen = fc.AtomicInt()

    def task(depth):
        seen.add()
        if depth < 3:
            wg.go(task, depth + 1)
            wg.go(task, depth + 1)

    wg.go(task, 0)
    assert wg.wait(JOIN_TIMEOUT) is True
    assert seen.load() == 1 + 2 + 4 + 8
    assert wg.count == 0


# ============================================================================= reuse


def test_reuse_many_rounds():
    wg = fc.WaitGroup()
    for rnd in range(50):
        n = 1 + rnd % 4
        done = fc.AtomicInt()

        def worker():
            done.add()

        for _ in range(n):
            wg.go(worker)
        assert wg.wait(JOIN_TIMEOUT) is True
        assert done.load() == n
        assert wg.count == 0


def test_reuse_old_waiter_then_new_round():
    wg = fc.WaitGroup()
    wg.add()
    w1 = assert_blocks(wg.wait, for_=0.05)
    wg.done()
    assert w1.join() is True
    wg.add()  # second round
    assert wg.wait(0) is False
    w2 = assert_blocks(wg.wait, for_=0.1)
    wg.done()
    assert w2.join() is True
    assert wg.wait(0) is True


def test_reuse_with_concurrent_waiters_each_round():
    wg = fc.WaitGroup()
    for _ in range(20):
        wg.add(3)
        waiters = [spawn(wg.wait, 30) for _ in range(3)]
        for _ in range(3):
            wg.go(time.sleep, 0.002)
        wg.done()
        wg.done()
        assert wg.wait(0.01) is False  # one left
        wg.done()
        assert [w.join() for w in waiters] == [True] * 3
        assert wg.wait(JOIN_TIMEOUT) is True


def test_concurrent_add_done_never_loses_count():
    wg = fc.WaitGroup()
    wg.add()  # held by the test: the counter never reaches zero meanwhile

    def churn(_):
        for _ in range(2000):
            wg.add(1)
            wg.done()
        for _ in range(200):
            wg.add(5)
            wg.add(-5)

    run_threads(8, churn)
    assert wg.count == 1
    assert wg.wait(0) is False
    wg.done()
    assert wg.wait(0) is True


def test_wait_while_counter_flips():
    # A waiter that starts while work is pending returns True (never False, never hangs)
    # even when the counter keeps going to zero and back up.
    wg = fc.WaitGroup()
    stop = threading.Event()

    def flipper():
        while not stop.is_set():
            wg.add()
            wg.done()

    f = spawn(flipper)
    try:
        results = run_threads(8, lambda _: [wg.wait(10) for _ in range(200)])
    finally:
        stop.set()
        f.join()
    assert all(all(r) for r in results)


# ======================================================================= bad input


@pytest.mark.parametrize("start", [0, 3])
def test_negative_counter_value_error_count_unchanged(start):
    wg = fc.WaitGroup()
    wg.add(start)
    with pytest.raises(ValueError):
        wg.add(-(start + 1))
    assert wg.count == start
    with pytest.raises(ValueError):
        wg.add(-(10**9))
    assert wg.count == start
    for _ in range(start):
        wg.done()
    assert wg.count == 0
    with pytest.raises(ValueError):
        wg.done()
    assert wg.count == 0
    assert wg.wait(0) is True  # still usable
    wg.add()
    assert wg.wait(0) is False
    wg.done()
    assert wg.wait(0) is True


def test_negative_counter_does_not_release_waiters():
    wg = fc.WaitGroup()
    wg.add(2)
    w = assert_blocks(wg.wait, for_=0.05)
    with pytest.raises(ValueError):
        wg.add(-3)
    threading.Thread.join(w, 0.1)
    assert w.is_alive(), "a rejected add() released a waiter"
    assert wg.count == 2
    wg.add(-2)
    assert w.join() is True


@pytest.mark.parametrize("bad", [1.0, 0.5, "1", b"1", None, [1], object(), 1j])
def test_add_type_error_names_delta(bad):
    wg = fc.WaitGroup()
    wg.add(2)
    with pytest.raises(TypeError, match="delta"):
        wg.add(bad)
    assert wg.count == 2
    with pytest.raises(TypeError, match="delta"):
        wg.add(delta=bad)
    assert wg.count == 2


@pytest.mark.parametrize("count", [0, 1])
@pytest.mark.parametrize("bad", [-1, -0.5, -1e-9, -math.inf, math.nan])
def test_wait_timeout_value_error(bad, count):
    wg = fc.WaitGroup()
    wg.add(count)
    with Elapsed() as e:
        with pytest.raises(ValueError, match="timeout"):
            wg.wait(bad)
        with pytest.raises(ValueError, match="timeout"):
            wg.wait(timeout=bad)
    assert e.seconds < 1  # rejected, not waited on
    assert wg.count == count


@pytest.mark.parametrize("count", [0, 1])
@pytest.mark.parametrize("bad", ["1", b"1", [1], object(), 1j])
def test_wait_timeout_type_error(bad, count):
    wg = fc.WaitGroup()
    wg.add(count)
    with pytest.raises(TypeError, match="timeout"):
        wg.wait(bad)
    with pytest.raises(TypeError, match="timeout"):
        wg.wait(timeout=bad)
    assert wg.count == count


@pytest.mark.parametrize("t", [0, 0.0, 1, 2.5])
def test_wait_timeout_accepts_int_and_float(t):
    wg = fc.WaitGroup()
    assert wg.wait(t) is True
    wg.add()
    wg.go(wg.done)
    assert wg.wait(JOIN_TIMEOUT) is True
    assert wg.wait(t) is True


# ======================================================================= interrupts


_CHILD = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import fastchan as fc

    # A parent started in the background may pass SIGINT down as ignored (SIG_IGN);
    # Python then installs no handler.  Ctrl-C behaviour needs the default one.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def interrupt_main_after(delay):
        fired = []
        def fire():
            time.sleep(delay)
            fired.append(time.monotonic())
            os.kill(os.getpid(), signal.SIGINT)
        threading.Thread(target=fire, daemon=True).start()
        return fired
    """
)


def run_child(body, timeout=20):
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(fc.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    script = _CHILD + textwrap.dedent(body) + "\nprint('OK')\n"
    try:
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"child hung for {timeout}s (signal ignored?)\nstdout:\n{e.stdout}\nstderr:\n{e.stderr}")
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), (
        f"child failed (rc={proc.returncode})\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals (os.kill SIGINT)")
@pytest.mark.parametrize("timeout", [None, 30.0])
def test_interrupt_wait_in_main_thread(timeout):
    run_child(
        f"""
        wg = fc.WaitGroup()
        wg.add()
        fired = interrupt_main_after(0.2)
        t0 = time.monotonic()
        try:
            wg.wait({timeout!r})
        except KeyboardInterrupt:
            t1 = time.monotonic()
        else:
            raise AssertionError("wait() returned instead of being interrupted")
        assert t1 - t0 >= 0.15, "wait() did not block: %.3fs" % (t1 - t0)
        assert t1 - fired[0] < 1.0, "interrupt took %.3fs" % (t1 - fired[0])
        # the interrupted wait changed nothing; the WaitGroup still works
        assert wg.count == 1
        assert wg.wait(0) is False
        threading.Timer(0.1, wg.done).start()
        assert wg.wait(10) is True
        assert wg.count == 0
        """
    )
