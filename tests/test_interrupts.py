"""Ctrl-C interrupts blocked calls in the main thread, and the call has not happened.

Every scenario runs in a fresh interpreter (``sys.executable -c``) so that a broken
implementation that ignores signals makes the *subprocess* time out, never pytest.
The child does its own checks and prints ``OK``; a failed check is a traceback.
"""

import os
import subprocess
import sys
import textwrap

import pytest

import fastchan as fc

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals (os.kill SIGINT)"),
    pytest.mark.timeout(60),
]

#: Contract: interrupted within 100 ms. Allow 2.5x slack for a loaded machine.
MAX_LATENCY = 0.25

PRELUDE = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import fastchan as fc

    # A child started from a non-interactive shell may inherit SIGINT as ignored, and
    # Python then installs no KeyboardInterrupt handler: install it explicitly.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    MAX_LATENCY = {max_latency!r}
    MISSING = object()
    _fired = []

    def _fire(delay, sig, to_main):
        time.sleep(delay)
        _fired.append(time.monotonic())
        if to_main:
            signal.pthread_kill(threading.main_thread().ident, sig)
        else:
            os.kill(os.getpid(), sig)

    def interrupt(fn, delay=0.2, sig=signal.SIGINT, expect=KeyboardInterrupt, to_main=False):
        # Run fn() in the main thread; deliver `sig` from a helper thread after `delay`
        # (to the process, or with to_main=True straight to the main thread).
        _fired.clear()
        t = threading.Thread(target=_fire, args=(delay, sig, to_main), daemon=True)
        t0 = time.monotonic()
        t.start()
        outcome = None
        try:
            try:
                r = fn()
            except expect:
                t1 = time.monotonic()
                outcome = ("raised", t1 - _fired[0], t1 - t0)
            else:
                outcome = ("returned", r)
            t.join()
            time.sleep(0.05)
        except KeyboardInterrupt:  # a late signal after a wrong early return
            pass
        assert outcome[0] == "raised", "call was not interrupted: returned %r" % (outcome[1],)
        latency, blocked = outcome[1], outcome[2]
        assert blocked >= delay * 0.75, "call did not block until the signal: %.3fs" % blocked
        assert latency < MAX_LATENCY, "interrupt took %.3fs (limit %.3fs)" % (latency, MAX_LATENCY)
        return latency

    def no_ghost_receiver(ch):
        # an interrupted recv on an unbuffered channel must not still be registered
        assert ch.try_send("probe") is False, "ghost receiver took a value"
        try:
            ch.send("probe2", timeout=0.1)
        except TimeoutError:
            pass
        else:
            raise AssertionError("ghost receiver took a value via send()")

    def no_ghost_sender(ch):
        v = ch.try_recv(MISSING)
        assert v is MISSING, "interrupted send delivered %r" % (v,)
        try:
            v = ch.recv(timeout=0.1)
        except TimeoutError:
            pass
        else:
            raise AssertionError("interrupted send delivered %r later" % (v,))
    """
)


def run_child(body, timeout=20):
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(fc.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONFAULTHANDLER", None)
    script = PRELUDE.format(max_latency=MAX_LATENCY) + "\n" + textwrap.dedent(body) + "\nprint('OK')\n"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"child hung for {timeout}s (signal ignored?)\nstdout:\n{e.stdout}\nstderr:\n{e.stderr}")
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), (
        f"child failed (rc={proc.returncode})\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )


# --------------------------------------------------------------------------- recv


@pytest.mark.parametrize("cap", [0, 1, 16, None])
def test_interrupt_recv(cap):
    run_child(
        f"""
        ch = fc.Chan({cap!r})
        interrupt(ch.recv)
        if ch.capacity == 0:
            no_ghost_receiver(ch)
        else:
            assert len(ch) == 0
            ch.send("after")
            assert len(ch) == 1, "an interrupted recv took the next value"
            assert ch.try_recv() == "after"
        """
    )


@pytest.mark.parametrize("cap", [0, 4])
def test_interrupt_recv_with_timeout(cap):
    run_child(
        f"""
        ch = fc.Chan({cap!r})
        interrupt(lambda: ch.recv(timeout=30))
        if ch.capacity == 0:
            no_ghost_receiver(ch)
        else:
            ch.send(1)
            assert ch.try_recv() == 1
        """
    )


def test_interrupt_signal_directed_at_main_thread():
    run_child(
        """
        ch = fc.Chan(0)
        interrupt(ch.recv, to_main=True)
        no_ghost_receiver(ch)
        interrupt(lambda: ch.send(1), to_main=True)
        no_ghost_sender(ch)
        interrupt(lambda: fc.select(ch, fc.Send(ch, 2), timeout=30), to_main=True)
        no_ghost_receiver(ch)
        no_ghost_sender(ch)
        """
    )


def test_interrupt_iteration():
    run_child(
        """
        ch = fc.Chan(0)
        interrupt(lambda: list(ch))
        no_ghost_receiver(ch)
        """
    )


# --------------------------------------------------------------------------- send


@pytest.mark.parametrize("cap", [1, 16])
def test_interrupt_send_full_buffer(cap):
    run_child(
        f"""
        ch = fc.Chan({cap!r})
        for i in range({cap!r}):
            ch.send(i)
        interrupt(lambda: ch.send("interrupted"))
        assert len(ch) == {cap!r}, "len changed to %d" % len(ch)
        got = [ch.try_recv() for _ in range({cap!r})]
        assert got == list(range({cap!r})), got
        no_ghost_sender(ch)
        """
    )


def test_interrupt_send_unbuffered():
    run_child(
        """
        ch = fc.Chan(0)
        interrupt(lambda: ch.send("interrupted"))
        no_ghost_sender(ch)
        """
    )


@pytest.mark.parametrize("cap", [0, 1])
def test_interrupt_send_with_timeout(cap):
    run_child(
        f"""
        ch = fc.Chan({cap!r})
        if {cap!r}:
            ch.send("first")
        interrupt(lambda: ch.send("interrupted", timeout=30))
        if {cap!r}:
            assert ch.try_recv() == "first"
        no_ghost_sender(ch)
        """
    )


# ------------------------------------------------------------------------- select


def test_interrupt_select_recv_and_send_cases():
    run_child(
        """
        a, b = fc.Chan(0), fc.Chan(0)
        interrupt(lambda: fc.select(a, fc.Send(b, "interrupted")))
        no_ghost_receiver(a)
        no_ghost_sender(b)
        """
    )


def test_interrupt_select_many_cases():
    run_child(
        """
        rs = [fc.Chan(0) for _ in range(6)]
        ss = [fc.Chan(0) for _ in range(6)]
        cases = [x for pair in zip(rs, (fc.Send(c, i) for i, c in enumerate(ss))) for x in pair]
        interrupt(lambda: fc.select(None, *cases, rs[0]))
        for c in rs:
            no_ghost_receiver(c)
        for c in ss:
            assert c.try_recv(MISSING) is MISSING
        """
    )


def test_interrupt_select_full_buffer_send_case():
    run_child(
        """
        a, b = fc.Chan(4), fc.Chan(1)
        b.send("first")
        interrupt(lambda: fc.select(a, fc.Send(b, "interrupted"), timeout=30))
        assert len(b) == 1 and b.try_recv() == "first"
        no_ghost_sender(b)
        a.send("x")
        assert len(a) == 1
        """
    )


def test_interrupt_select_no_cases():
    run_child(
        """
        interrupt(lambda: fc.select())
        interrupt(lambda: fc.select(None, None))
        interrupt(lambda: fc.select(None, timeout=30))
        """
    )


# --------------------------------------------------------------------------- batch


def test_interrupt_recv_many():
    run_child(
        """
        ch = fc.Chan(4)
        interrupt(lambda: ch.recv_many(10))
        ch.send_many([1, 2])
        assert ch.recv_many(10, timeout=0) == [1, 2]
        u = fc.Chan(0)
        interrupt(lambda: u.recv_many(10))
        no_ghost_receiver(u)
        """
    )


def test_interrupt_send_many():
    run_child(
        """
        ch = fc.Chan(2)
        interrupt(lambda: ch.send_many([1, 2, 3, 4]))
        assert len(ch) == 2, "len is %d" % len(ch)
        assert ch.try_recv() == 1 and ch.try_recv() == 2
        no_ghost_sender(ch)
        """
    )


def test_interrupt_send_many_unbuffered():
    run_child(
        """
        ch = fc.Chan(0)
        interrupt(lambda: ch.send_many(["x", "y"]))
        no_ghost_sender(ch)
        """
    )


# --------------------------------------------------------------------- robustness


def test_interrupt_repeatedly_then_channel_still_works():
    run_child(
        """
        ch = fc.Chan(0)
        for _ in range(3):
            interrupt(ch.recv, delay=0.15)
            interrupt(lambda: ch.send("nope"), delay=0.15)
            interrupt(lambda: fc.select(ch, fc.Send(ch, 1)), delay=0.15)
        # normal operation afterwards
        t = threading.Thread(target=lambda: ch.send("ok", timeout=10))
        t.start()
        assert ch.recv(timeout=10) == "ok"
        t.join()
        no_ghost_sender(ch)
        no_ghost_receiver(ch)
        """
    )


def test_signal_handler_exception_propagates():
    run_child(
        """
        class Boom(Exception):
            pass

        def handler(signum, frame):
            raise Boom("from handler")

        signal.signal(signal.SIGUSR1, handler)
        ch = fc.Chan(0)
        interrupt(ch.recv, sig=signal.SIGUSR1, expect=Boom)
        no_ghost_receiver(ch)
        interrupt(lambda: fc.select(ch), sig=signal.SIGUSR1, expect=Boom)
        interrupt(lambda: ch.send(1), sig=signal.SIGUSR1, expect=Boom)
        no_ghost_sender(ch)
        """
    )


def test_signal_handler_that_returns_does_not_break_the_call():
    # The handler runs; as it raises nothing, the call keeps waiting (PEP 475 style)
    # and completes normally with the value sent later.
    run_child(
        """
        seen = []
        signal.signal(signal.SIGUSR1, lambda s, f: seen.append(s))
        ch = fc.Chan(0)

        def later():
            time.sleep(0.1)
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.3)
            ch.send("value", timeout=10)

        t = threading.Thread(target=later)
        t.start()
        assert ch.recv(timeout=20) == "value"
        t.join()
        assert seen == [signal.SIGUSR1]

        t = threading.Thread(target=later)
        t.start()
        assert fc.select(ch, timeout=20) == (0, "value", True)
        t.join()
        assert len(seen) == 2

        # with a timeout and no value: still a TimeoutError at (not before) the deadline
        k = threading.Thread(target=lambda: (time.sleep(0.1), os.kill(os.getpid(), signal.SIGUSR1)))
        k.start()
        t0 = time.monotonic()
        try:
            ch.recv(timeout=0.5)
        except TimeoutError:
            pass
        else:
            raise AssertionError("expected TimeoutError")
        assert time.monotonic() - t0 >= 0.45
        k.join()
        assert len(seen) == 3
        """
    )


def test_worker_thread_unaffected_by_main_thread_signal():
    run_child(
        """
        ch = fc.Chan(0)
        out = []
        w = threading.Thread(target=lambda: out.append(ch.recv(timeout=30)))
        w.start()
        interrupt(lambda: time.sleep(5))
        assert w.is_alive(), "worker's recv was disturbed by the signal"
        ch.send("for-worker", timeout=10)
        w.join(10)
        assert out == ["for-worker"]
        """
    )


# ------------------------------------------------------------- interrupt storms
# A helper thread signals the main thread every ~1 ms while it sends (or receives) many
# values through a busy channel, so signals land at every point of a call: before it
# registers, while it waits, and while a peer completes it.  The handler raises only
# when armed.  An exception whose traceback runs through fastchan interrupted a call
# that did not happen (retry the same value); one raised outside fastchan arrived after
# a call that completed.  Either way, every value must arrive exactly once.

STORM = """
import random
class Intr(Exception):
    pass
armed = [False]
def handler(signum, frame):
    if armed[0]:
        armed[0] = False
        raise Intr
signal.signal(signal.SIGUSR1, handler)
stop = threading.Event()
def storm():
    rnd = random.Random(7)
    while not stop.is_set():
        time.sleep(rnd.random() * 0.002)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)
def inside_fastchan(exc):
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith((".pxi", ".pyx")):
            return True
        tb = tb.tb_next
    return False
threading.Thread(target=storm, daemon=True).start()
"""


@pytest.mark.parametrize("op", ["send", "send_timeout", "select_send"])
@pytest.mark.parametrize("cap", [0, 1])
def test_interrupt_storm_send_delivers_each_value_once(op, cap):
    # Every attempt sends a fresh token.  A call that raised from inside fastchan must
    # not have delivered its token; a call that returned must have; an exception that
    # surfaced outside fastchan leaves its attempt undecided (it may have arrived just
    # after the call returned, or just before the next one started).
    run_child(
        STORM
        + f"""
ch = fc.Chan({cap})
idle = fc.Chan(0)
got = []
def consumer():
    rnd = random.Random(3)
    for v in ch:
        got.append(v)
        if rnd.random() < 0.2:
            time.sleep(rnd.random() * 0.001)
t = threading.Thread(target=consumer)
t.start()
returned, not_sent = [], []
undecided = 0
token = 0
while len(returned) < 1000:
    token += 1
    armed[0] = True
    try:
        if {op!r} == "send":
            ch.send(token)
        elif {op!r} == "send_timeout":
            ch.send(token, timeout=10)
        else:
            assert fc.select(fc.Send(ch, token), idle) == (0, None, True)
        returned.append(token)
        armed[0] = False
    except Intr as e:
        armed[0] = False
        if inside_fastchan(e):
            not_sent.append(token)
        else:
            undecided += 1
stop.set()
ch.close()
t.join()
assert len(got) == len(set(got)), "a token was delivered twice"
assert got == sorted(got), "tokens out of order"
assert not set(not_sent) & set(got), "an interrupted send delivered its value"
assert set(returned) <= set(got), "a send that returned did not deliver its value"
assert len(got) <= len(returned) + undecided
assert not_sent, "the storm never interrupted a blocked call"
""",
        timeout=60,
    )


@pytest.mark.parametrize("cap", [0, 1])
def test_interrupt_storm_recv_takes_nothing_when_interrupted(cap):
    # A value returned just before the handler's exception surfaces is dropped by Python
    # itself (the assignment never runs), so only "no duplicates, and no more missing
    # values than exceptions that arrived outside fastchan" can be checked here.
    run_child(
        STORM
        + f"""
ch = fc.Chan({cap})
N = 1500
def producer():
    for i in range(N):
        if i % 10 == 0:
            time.sleep(0.002)   # so that recv really blocks, and signals land there
        ch.send(i)
    ch.close()
t = threading.Thread(target=producer)
t.start()
got = []
outside = interrupted = 0
while True:
    armed[0] = True
    try:
        v = ch.recv()
        armed[0] = False
        got.append(v)
    except fc.Closed:
        armed[0] = False
        break
    except Intr as e:
        armed[0] = False
        if inside_fastchan(e):
            interrupted += 1
        else:
            outside += 1
stop.set()
t.join()
assert len(got) == len(set(got)), "duplicated values"
assert got == sorted(got), "out of order"
assert N - len(got) <= outside, ("lost values", N - len(got), outside)
assert interrupted > 0, "the storm never interrupted a blocked call"
""",
        timeout=60,
    )


# ------------------------------------------------------- timers, Context, pools, Group


def test_interrupt_timer_select_and_context_wait():
    run_child(
        """
        interrupt(lambda: fc.select(fc.after(30), fc.Chan()))
        # a parked receive on a ticker wakes at every tick and re-parks; the signal
        # still gets through (the ticker is stopped so no tick completes the call)
        with fc.tick(30) as t:
            interrupt(t.recv)
        ctx = fc.Context(timeout=30)
        interrupt(ctx.wait)
        assert not ctx.cancelled
        """
    )


def test_interrupt_pool_join_and_map_then_shutdown_cleanly():
    run_child(
        """
        release = threading.Event()
        pool = fc.WorkerPool(workers=2, queue_size=2)
        pool.submit(release.wait)
        interrupt(pool.join)
        # map blocks (backpressure: the queue is full) or waits for a result
        interrupt(lambda: next(pool.map(lambda x: release.wait() and x, range(10))))
        release.set()
        pool.shutdown(wait=True)
        assert pool.join(timeout=10)
        alive = [t.name for t in threading.enumerate() if t.name.startswith("fastchan-")]
        assert not alive, alive
        """
    )


def test_interrupt_group_wait():
    run_child(
        """
        release = threading.Event()
        g = fc.Group()
        g.go(release.wait)
        interrupt(g.wait)
        release.set()
        g.wait()
        """
    )
