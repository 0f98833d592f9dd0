"""Diagnostics: Chan.stats(), fastchan.debug.blocked()/dump()/dump_on(), and the deadlock
detector -- the classic deadlocks it must report and the live programs it must not."""

import io
import os
import signal
import sys
import threading
import time

import pytest

import fastchan as fc
from _helpers import run_threads, spawn

pytestmark = pytest.mark.timeout(60)


def wait_blocked(n, timeout=10):
    """Wait until at least n calls are blocked in fastchan; return them."""
    deadline = time.monotonic() + timeout
    while True:
        ops = fc.debug.blocked()
        if len(ops) >= n or time.monotonic() > deadline:
            return ops
        time.sleep(0.005)


@pytest.fixture
def detector():
    previous = fc.debug.detect_deadlocks(True)
    yield
    fc.debug.detect_deadlocks(previous)


# ----------------------------------------------------------------------- stats


@pytest.mark.parametrize("cap", [0, 1, 8, None])
def test_stats_fields_single_thread(cap):
    ch = fc.Chan(cap)
    s = ch.stats()
    assert s == {
        "len": 0, "capacity": cap, "closed": False, "waiting_senders": 0,
        "waiting_receivers": 0, "peak_len": 0, "sent": 0, "received": 0,
    }
    if cap != 0:
        ch.send_many([1, 2, 3][: cap or 3])
        ch.recv()
        s = ch.stats()
        n = len([1, 2, 3][: cap or 3])
        assert (s["len"], s["peak_len"], s["sent"], s["received"]) == (n - 1, n, n, 1)
    ch.close()
    assert ch.stats()["closed"] is True


def test_stats_counts_waiters():
    ch = fc.Chan()
    readers = [spawn(ch.recv) for _ in range(3)]
    wait_blocked(3)
    assert ch.stats()["waiting_receivers"] == 3
    assert ch.stats()["waiting_senders"] == 0
    ch.send_many([1, 2, 3])
    assert sorted(t.join() for t in readers) == [1, 2, 3]
    s = ch.stats()
    assert (s["waiting_receivers"], s["sent"], s["received"], s["peak_len"]) == (0, 3, 3, 0)


def test_stats_exact_after_concurrent_use():
    ch = fc.Chan(16)
    per, producers = 5000, 4

    def produce(_):
        for i in range(per):
            ch.send(i)

    def consume(_):
        n = 0
        for _v in ch:
            n += 1
        return n

    consumers = [spawn(consume, i) for i in range(2)]
    run_threads(producers, produce)
    ch.close()
    assert sum(t.join() for t in consumers) == per * producers
    s = ch.stats()
    assert s["sent"] == s["received"] == per * producers
    assert 1 <= s["peak_len"] <= 16
    assert s["len"] == 0


# ----------------------------------------------------------------- blocked, dump


def test_blocked_is_empty_when_nothing_waits():
    assert fc.debug.blocked() == []


def test_blocked_reports_each_operation():
    a, b, c, d = fc.Chan(), fc.Chan(), fc.Chan(), fc.Chan()
    wg = fc.WaitGroup()
    wg.add(1)

    def recv_here():
        return a.recv()

    threads = [
        spawn(recv_here, name="reader"),
        spawn(lambda: fc.select(b, fc.Send(c, 2), None, b), name="selector"),
        spawn(wg.wait, name="waiter"),
        spawn(lambda: d.send(1, timeout=30), name="sender"),
    ]
    ops = {o.thread_name: o for o in wait_blocked(4)}
    assert sorted(ops) == ["reader", "selector", "sender", "waiter"]
    for o in ops.values():
        assert o.thread_ident in {t.ident for t in threads}
        assert o.waited >= 0
        assert o.stack.strip()
    assert (ops["reader"].op, ops["reader"].channels, ops["reader"].deadline) == ("recv", [a], None)
    assert "recv_here" in ops["reader"].stack.splitlines()[-2]   # innermost: the caller's code
    assert ops["selector"].op == "select" and ops["selector"].channels == [b, c]
    assert ops["waiter"].op == "wait"
    assert ops["sender"].op == "send" and ops["sender"].channels == [d]
    assert 0 < ops["sender"].deadline <= 30
    a.send(1)
    c.recv()
    wg.done()
    d.recv()
    for t in threads:
        t.join()
    assert fc.debug.blocked() == []


def test_dump_text_names_thread_op_channel_and_stack():
    ch = fc.Chan(2)

    def stuck_here():
        return ch.recv(timeout=30)

    t = spawn(stuck_here, name="dump-me")
    wait_blocked(1)
    out = io.StringIO()
    fc.debug.dump(out)
    text = out.getvalue()
    ch.send("done")
    assert t.join() == "done"
    assert "recv in thread 'dump-me'" in text
    assert "<fastchan.Chan capacity=2 len=0 open>" in text
    assert "stuck_here" in text
    assert "more" in text               # it has a deadline


def test_dump_defaults_to_stderr_and_says_when_nothing_blocks(capsys):
    fc.debug.dump()
    assert "no operation is blocked" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="POSIX signals")
def test_dump_on_signal(capsys):
    old = signal.getsignal(signal.SIGUSR1)
    ch = fc.Chan()
    t = spawn(ch.recv, name="signalled")
    try:
        wait_blocked(1)
        fc.debug.dump_on(signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(0.05)                # the handler runs at the next bytecode boundary
    finally:
        signal.signal(signal.SIGUSR1, old)
        ch.send(1)
        t.join()
    assert "recv in thread 'signalled'" in capsys.readouterr().err


def test_blocked_and_dump_while_threads_come_and_go():
    ch = fc.Chan()
    stop = fc.Context()

    def churn():
        while not stop.cancelled:
            fc.select(ch, stop.done, fc.after(0.001))

    threads = [spawn(churn) for _ in range(4)]
    try:
        for _ in range(200):
            for o in fc.debug.blocked():
                assert o.op == "select"
            fc.debug.dump(io.StringIO())
    finally:
        stop.cancel()
        for t in threads:
            t.join()


# --------------------------------------------------------- deadlock: true cases


def test_unbuffered_send_with_no_receiver(detector):
    with pytest.raises(fc.Deadlock) as info:
        fc.Chan().send("lost")
    assert isinstance(info.value, RuntimeError)
    assert "send in thread 'MainThread'" in str(info.value)
    assert info.value.dump == str(info.value)


def test_two_channel_deadlock(detector):
    a, b = fc.Chan(), fc.Chan()

    def other():
        a.recv()
        b.send(1)

    t = spawn(other, name="other")
    with pytest.raises(fc.Deadlock) as info:
        b.recv()
        a.send(1)
    assert isinstance(t.join_exc(), fc.Deadlock)
    text = str(info.value)
    assert "2 blocked operation(s)" in text and "'other'" in text


def test_forgotten_close_leaves_consumer_blocked(detector):
    ch = fc.Chan(4)
    producer = spawn(ch.send_many, [1, 2, 3])       # forgets ch.close()
    got = []
    with pytest.raises(fc.Deadlock):
        for v in ch:
            got.append(v)
    producer.join()
    assert got == [1, 2, 3]


def test_waitgroup_never_done(detector):
    wg = fc.WaitGroup()
    wg.add(2)
    spawn(wg.done).join()
    with pytest.raises(fc.Deadlock, match="wait in thread"):
        wg.wait()


def test_deadlocked_call_did_not_happen(detector):
    ch = fc.Chan()
    with pytest.raises(fc.Deadlock):
        ch.send("x")
    fc.debug.detect_deadlocks(False)
    assert ch.try_recv(None) is None     # the send did not deliver
    assert fc.debug.blocked() == []


# ---------------------------------------------------- deadlock: false positives


def test_off_by_default_and_a_timeout_still_times_out():
    assert fc.debug.detect_deadlocks(False) is False
    with pytest.raises(TimeoutError):
        fc.Chan().recv(timeout=0.3)


def test_not_while_a_timeout_can_end_the_wait(detector):
    with pytest.raises(TimeoutError):
        fc.Chan().recv(timeout=0.3)
    assert fc.select(fc.Chan(), timeout=0.3) == (-1, None, False)


def test_not_while_a_timer_or_deadline_can_wake_a_select(detector):
    assert fc.select(fc.Chan(), fc.after(0.3))[0] == 1
    ctx = fc.Context(timeout=0.3)
    assert fc.select(fc.Chan(), ctx.done) == (1, None, False)


def test_not_while_another_thread_sleeps(detector):
    ch = fc.Chan()
    t = spawn(lambda: (time.sleep(0.4), ch.send("late")))
    assert ch.recv() == "late"
    t.join()


def test_not_while_another_thread_is_blocked_outside_fastchan(detector):
    ch = fc.Chan()
    lock = threading.Lock()
    lock.acquire()

    def holder():
        with lock:                      # blocked on a plain Lock: it can progress
            ch.send("after lock")

    t = spawn(holder)
    timer = threading.Timer(0.4, lock.release)
    timer.start()
    assert ch.recv() == "after lock"
    t.join()
    timer.join()


def test_not_for_idle_pool_workers_while_main_thread_lives(detector):
    with fc.WorkerPool(workers=3) as pool:
        time.sleep(0.4)                 # all workers idle, blocked in recv, for a while
        assert pool.submit(lambda: 42).result(timeout=10) == 42
        assert list(pool.map(abs, [-1, -2])) == [1, 2]


def test_idle_pool_workers_survive_a_real_deadlock(detector):
    # Every thread is asleep: the main thread on a channel nobody will send on, the
    # workers on their empty job queue.  The main thread gets Deadlock; the workers are
    # not killed by it and the pool keeps working.
    with fc.WorkerPool(workers=2, name="survivor") as pool:
        with pytest.raises(fc.Deadlock):
            fc.Chan().recv()
        time.sleep(0.2)
        assert all(t.is_alive() for t in pool._threads)
        assert pool.submit(lambda: 42).result(timeout=10) == 42


def test_pool_context_watcher_survives_a_real_deadlock(detector):
    ctx = fc.Context()
    with fc.WorkerPool(workers=1, context=ctx) as pool:
        with pytest.raises(fc.Deadlock):
            fc.Chan().recv()
        time.sleep(0.2)
        assert pool._watcher.is_alive()
        gate = threading.Event()
        pool.submit(gate.wait, 10)      # keeps the only worker busy
        queued = pool.submit(lambda: "never")
        ctx.cancel()                    # the watcher drops the queued job at once
        with pytest.raises(fc.Cancelled):
            queued.result(timeout=10)
        gate.set()


def test_not_for_producer_consumer_that_finishes(detector):
    ch = fc.Chan()

    def produce():
        for i in range(1000):
            ch.send(i)
        ch.close()

    t = spawn(produce)
    assert sum(ch) == sum(range(1000))
    t.join()


def test_toggle_from_many_threads_is_safe():
    previous = fc.debug.detect_deadlocks(False)
    try:
        ch = fc.Chan()

        def flip(i):
            for k in range(500):
                fc.debug.detect_deadlocks(bool((i + k) % 2))

        def ping(_):
            for _ in range(200):
                fc.select(fc.Send(ch, 1), timeout=0.001)
                fc.select(ch, timeout=0.001)

        flippers = [spawn(flip, i) for i in range(2)]
        run_threads(2, ping)
        for t in flippers:
            t.join()
    finally:
        fc.debug.detect_deadlocks(previous)


def test_detect_deadlocks_rejects_non_bool():
    with pytest.raises(TypeError, match="enabled"):
        fc.debug.detect_deadlocks("yes")


def test_deadlock_is_exported():
    assert fc.Deadlock is fc.debug.Deadlock
    assert issubclass(fc.Deadlock, RuntimeError)
    assert sys.modules["fastchan.debug"] is fc.debug
