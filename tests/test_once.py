"""Once.do and @once: exactly once, everyone waits for the first run, errors, recursion.

Contract (API.md "`fc.Once()` and `@fc.once`"): fn runs exactly once per Once however
many threads call; every caller returns only after that first run finished; if fn
raises, the exception propagates to the caller that ran it and the Once still counts as
done (later callers return normally); `do` from inside fn on the same Once raises
RuntimeError.  @once returns the first call's value to every call, or re-raises that
same exception; BaseExceptions such as KeyboardInterrupt are not cached (documented).
"""

import os
import subprocess
import sys
import textwrap
import threading
import time
import traceback

import pytest

import fastchan as fc
from _helpers import assert_blocks, run_threads, spawn

pytestmark = pytest.mark.timeout(60)

HERD = 32


# ============================================================================ Once.do


def test_do_runs_once_with_args_and_kwargs():
    o = fc.Once()
    calls = []
    assert o.done is False
    assert o.do(lambda *a, **k: calls.append((a, k)) or "ignored", 1, 2, x=3) is None
    assert calls == [((1, 2), {"x": 3})]
    assert o.done is True
    for _ in range(5):
        assert o.do(calls.append, "again") is None
    assert calls == [((1, 2), {"x": 3})]
    assert o.done is True


def test_do_kwargs_named_fn_do_not_clash():
    # fn is positional-only: a keyword called "fn" goes to the function.
    o = fc.Once()
    got = []
    o.do(lambda **k: got.append(k), fn="value")
    assert got == [{"fn": "value"}]


def test_separate_onces_are_independent():
    a, b = fc.Once(), fc.Once()
    calls = []
    a.do(calls.append, "a")
    assert b.done is False
    b.do(calls.append, "b")
    a.do(calls.append, "a2")
    b.do(calls.append, "b2")
    assert calls == ["a", "b"]


def test_done_false_while_fn_runs():
    o = fc.Once()
    states = []
    o.do(lambda: states.append(o.done))
    assert states == [False]
    assert o.done is True


def test_thundering_herd_fn_runs_once_and_everyone_waits():
    for _ in range(3):
        o = fc.Once()
        barrier = threading.Barrier(HERD)
        runs = fc.AtomicInt()
        finished = fc.AtomicBool()

        def fn():
            runs.add()
            time.sleep(0.05)  # let the whole herd pile up behind the first run
            finished.store(True)

        def caller(_):
            barrier.wait()
            r = o.do(fn)
            # returning before fn finished would break the contract
            return r, finished.load(), o.done

        results = run_threads(HERD, caller)
        assert runs.load() == 1
        assert all(r == (None, True, True) for r in results), results


def test_waiting_caller_blocks_until_first_run_finishes():
    o = fc.Once()
    release = threading.Event()
    entered = threading.Event()
    finished = []

    def slow():
        entered.set()
        release.wait(10)
        finished.append(True)

    first = spawn(o.do, slow)
    assert entered.wait(10)
    second = assert_blocks(o.do, finished.append, "second", for_=0.2)
    assert o.done is False
    release.set()
    assert first.join() is None
    assert second.join() is None
    assert finished == [True]  # the second fn never ran
    assert o.done is True


def test_exception_propagates_to_runner_and_counts_as_done():
    o = fc.Once()

    class Boom(Exception):
        pass

    err = Boom("first")

    def fn():
        raise err

    with pytest.raises(Boom) as ei:
        o.do(fn)
    assert ei.value is err
    assert o.done is True
    calls = []
    assert o.do(calls.append, 1) is None  # later callers return normally
    assert o.do(fn) is None  # even with the raising fn: it does not run again
    assert calls == []


def test_base_exception_also_counts_as_done():
    # Go's rule: a panicking f still counts as having run.
    o = fc.Once()

    class Stop(BaseException):
        pass

    def fn():
        raise Stop()

    with pytest.raises(Stop):
        o.do(fn)
    assert o.done is True
    calls = []
    o.do(calls.append, 1)
    assert calls == []


def test_exception_under_herd_only_runner_raises():
    o = fc.Once()
    barrier = threading.Barrier(HERD)
    runs = fc.AtomicInt()
    finished = fc.AtomicBool()

    def fn():
        runs.add()
        time.sleep(0.05)
        finished.store(True)
        raise ValueError("from fn")

    def caller(_):
        barrier.wait()
        try:
            o.do(fn)
        except ValueError as e:
            return "raised", str(e), finished.load()
        return "returned", None, finished.load()

    results = run_threads(HERD, caller)
    assert runs.load() == 1
    assert sum(1 for r in results if r[0] == "raised") == 1
    assert all(r[2] for r in results), "a caller returned before fn finished"
    assert [r for r in results if r[0] == "raised"][0][1] == "from fn"
    assert o.done is True


def test_recursive_do_raises_runtime_error():
    o = fc.Once()
    inner_ran = []
    caught = []

    def fn():
        try:
            o.do(inner_ran.append, 1)
        except RuntimeError as e:
            caught.append(e)
            raise

    with pytest.raises(RuntimeError):
        o.do(fn)
    assert len(caught) == 1
    assert inner_ran == []
    assert o.done is True
    o.do(inner_ran.append, 2)
    assert inner_ran == []


def test_recursive_do_caught_inside_fn():
    # fn may catch the RuntimeError and finish normally; the Once is then done.
    o = fc.Once()
    log = []

    def fn():
        with pytest.raises(RuntimeError):
            o.do(log.append, "inner")
        log.append("outer")

    spawn(o.do, fn).join(timeout=10)  # a self-deadlock fails instead of hanging
    assert log == ["outer"]
    assert o.done is True


def test_nested_different_onces_are_fine():
    a, b = fc.Once(), fc.Once()
    log = []
    a.do(lambda: b.do(log.append, "inner") or log.append("outer"))
    assert log == ["inner", "outer"]
    assert a.done and b.done


def test_other_thread_inside_fn_is_not_recursion():
    # A *different* thread calling do while fn runs waits; it does not get RuntimeError.
    o = fc.Once()
    out = []

    def fn():
        t = spawn(o.do, out.append, "other")
        threading.Thread.join(t, 0.2)
        out.append(("other still waiting", t.is_alive()))
        return t

    holder = []
    o.do(lambda: holder.append(fn()))
    assert holder[0].join() is None  # returned normally after fn finished
    assert out == [("other still waiting", True)]


def test_do_fast_path_many_calls():
    o = fc.Once()
    o.do(lambda: None)
    calls = []
    for _ in range(100_000):
        o.do(calls.append, 1)
    assert calls == []


# ============================================================================= @once


def test_once_value_and_identity():
    calls = []

    @fc.once
    def config():
        calls.append(1)
        return {"debug": True}

    v = config()
    assert v == {"debug": True}
    assert config() is v
    assert config() is v
    assert calls == [1]


def test_once_none_value_cached():
    calls = []

    @fc.once
    def f():
        calls.append(1)

    assert f() is None
    assert f() is None
    assert calls == [1]


def test_once_falsy_values_cached():
    for value in (0, "", [], False):
        calls = []

        def f(value=value):
            calls.append(1)
            return value

        g = fc.once(f)
        assert g() is value
        assert g() is value
        assert calls == [1]


def test_once_exception_cached_same_object():
    calls = []

    class Boom(Exception):
        pass

    @fc.once
    def f():
        calls.append(1)
        raise Boom("nope")

    with pytest.raises(Boom) as e1:
        f()
    with pytest.raises(Boom) as e2:
        f()
    with pytest.raises(Boom) as e3:
        f()
    assert e1.value is e2.value is e3.value
    assert calls == [1]


def test_once_cached_exception_keeps_original_traceback():
    @fc.once
    def failing_loader():
        raise KeyError("missing")

    with pytest.raises(KeyError):
        failing_loader()
    with pytest.raises(KeyError) as ei:
        failing_loader()
    names = [fr.name for fr in traceback.extract_tb(ei.value.__traceback__)]
    assert "failing_loader" in names
    # re-raising again and again does not make the traceback grow without bound
    lengths = []
    for _ in range(5):
        try:
            failing_loader()
        except KeyError as e:
            lengths.append(len(traceback.extract_tb(e.__traceback__)))
    assert len(set(lengths)) == 1


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit])
def test_once_base_exception_not_cached(exc_type):
    calls = []

    @fc.once
    def f():
        calls.append(1)
        if len(calls) == 1:
            raise exc_type()
        return "second try"

    with pytest.raises(exc_type):
        f()
    assert f() == "second try"
    assert f() == "second try"
    assert calls == [1, 1]


def test_once_base_exception_then_exception_cached():
    calls = []

    @fc.once
    def f():
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        raise ValueError("cached")

    with pytest.raises(KeyboardInterrupt):
        f()
    with pytest.raises(ValueError) as e1:
        f()
    with pytest.raises(ValueError) as e2:
        f()
    assert e1.value is e2.value
    assert calls == [1, 1]


def test_once_concurrent_runs_once():
    for _ in range(3):
        runs = fc.AtomicInt()
        finished = fc.AtomicBool()
        barrier = threading.Barrier(HERD)

        @fc.once
        def value():
            runs.add()
            time.sleep(0.05)
            finished.store(True)
            return object()

        def caller(_):
            barrier.wait()
            v = value()
            return v, finished.load()

        results = run_threads(HERD, caller)
        assert runs.load() == 1
        first = results[0][0]
        assert all(v is first for v, _ in results)
        assert all(f for _, f in results)


def test_once_concurrent_exception_same_object_for_all():
    runs = fc.AtomicInt()
    barrier = threading.Barrier(HERD)

    @fc.once
    def value():
        runs.add()
        time.sleep(0.05)
        raise OSError("shared")

    def caller(_):
        barrier.wait()
        try:
            value()
        except OSError as e:
            return e
        return None

    results = run_threads(HERD, caller)
    assert runs.load() == 1
    assert results[0] is not None
    assert all(e is results[0] for e in results)


def test_once_preserves_metadata():
    def loader():
        """Load the configuration."""
        return 1

    wrapped = fc.once(loader)
    assert wrapped.__name__ == "loader"
    assert wrapped.__qualname__ == loader.__qualname__
    assert wrapped.__doc__ == "Load the configuration."
    assert wrapped.__wrapped__ is loader
    assert wrapped.__module__ == loader.__module__
    assert wrapped() == 1
    assert wrapped.__wrapped__ is loader  # still there after the first call


def test_once_preserves_function_attributes():
    def f():
        return 2

    f.custom = "attr"
    g = fc.once(f)
    assert g.custom == "attr"


def test_once_recursive_call_raises_runtime_error():
    @fc.once
    def f():
        return f()

    r = spawn(lambda: pytest.raises(RuntimeError, f)).join(timeout=10)
    first = r.value
    # The RuntimeError escaped fn as an ordinary Exception: it is the cached outcome.
    with pytest.raises(RuntimeError) as again:
        f()
    assert again.value is first


def test_do_rejects_non_callable_without_spending_the_once():
    o = fc.Once()
    with pytest.raises(TypeError, match="fn"):
        o.do(42)
    assert o.done is False
    ran = []
    o.do(ran.append, 1)
    assert ran == [1] and o.done is True


def test_do_without_fn_raises_also_when_done():
    o = fc.Once()
    with pytest.raises(TypeError, match="fn"):
        o.do()
    o.do(lambda: None)
    with pytest.raises(TypeError, match="fn"):
        o.do()


def test_once_accepts_fn_by_keyword():
    assert fc.once(fn=lambda: 7)() == 7


def test_once_rejects_non_callable():
    with pytest.raises(TypeError):
        fc.once(42)
    with pytest.raises(TypeError):
        fc.once(None)


def test_once_usable_as_decorator_on_lambda_and_callable_object():
    class C:
        def __init__(self):
            self.n = 0

        def __call__(self):
            self.n += 1
            return self.n

    c = C()
    g = fc.once(c)
    assert g() == 1 and g() == 1 and c.n == 1
    h = fc.once(lambda: [])
    assert h() is h()


# ======================================================================= interrupts

_CHILD = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import fastchan as fc

    # A parent started in the background may pass SIGINT down as ignored (SIG_IGN);
    # Python then installs no handler.  Ctrl-C behaviour needs the default one.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def interrupt_main_after(delay):
        # The signal goes to the firing thread itself, not to the main thread: the main
        # thread's wait is not interrupted by it and must notice on its own (the worst
        # case of a process-directed Ctrl-C, which the kernel may hand to any thread).
        def fire():
            time.sleep(delay)
            fired.append(time.monotonic())
            signal.pthread_kill(threading.get_ident(), signal.SIGINT)
        fired = []
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


posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals (os.kill SIGINT)")


@posix_only
def test_interrupt_do_waiting_for_first_run():
    # The main thread waits in do() for another thread's slow fn: Ctrl-C interrupts it.
    run_child(
        """
        o = fc.Once()
        entered = threading.Event()
        release = threading.Event()
        runs = []
        def slow():
            runs.append(1)
            entered.set()
            release.wait(30)
        t = threading.Thread(target=o.do, args=(slow,), daemon=True)
        t.start()
        assert entered.wait(10)
        fired = interrupt_main_after(0.2)
        t0 = time.monotonic()
        try:
            o.do(runs.append, "main")
        except KeyboardInterrupt:
            t1 = time.monotonic()
        else:
            raise AssertionError("do() returned instead of being interrupted")
        assert t1 - t0 >= 0.15, "do() did not wait for the first run: %.3f" % (t1 - t0)
        assert t1 - fired[0] < 0.5, "interrupt took %.3fs" % (t1 - fired[0])
        assert o.done is False
        release.set()
        t.join(10)
        assert not t.is_alive()
        o.do(runs.append, "after")
        assert runs == [1], runs
        assert o.done is True
        """
    )


@posix_only
def test_interrupt_once_value_waiting_for_first_run():
    run_child(
        """
        entered = threading.Event()
        release = threading.Event()
        runs = []
        @fc.once
        def value():
            runs.append(1)
            entered.set()
            release.wait(30)
            return "v"
        t = threading.Thread(target=value, daemon=True)
        t.start()
        assert entered.wait(10)
        fired = interrupt_main_after(0.2)
        t0 = time.monotonic()
        try:
            value()
        except KeyboardInterrupt:
            t1 = time.monotonic()
        else:
            raise AssertionError("@once call returned instead of being interrupted")
        assert t1 - t0 >= 0.15
        assert t1 - fired[0] < 0.5, "interrupt took %.3fs" % (t1 - fired[0])
        release.set()
        t.join(10)
        assert value() == "v"
        assert runs == [1], runs
        """
    )
