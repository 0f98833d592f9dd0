"""Small helpers for the fastchan tests.

Every helper that waits does so with a bound and *fails* the test instead of
hanging: a blocked thread is a daemon, so a broken implementation cannot keep the
interpreter alive either.
"""

import threading
import time

import pytest

import fastchan as fc

#: Upper bound for anything that "should finish soon" (joins, polls).  Generous so
#: that a loaded 2-core CI machine never produces a false failure.
JOIN_TIMEOUT = 30.0


class Thread(threading.Thread):
    """A daemon thread that stores ``fn``'s result or exception.

    ``join()`` waits at most ``timeout`` seconds, fails the test if the thread is
    still alive, re-raises the thread's exception, and returns its result.
    """

    def __init__(self, fn, *args, name=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "worker"), daemon=True)
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self.result = None
        self.exc = None

    def run(self):
        try:
            self.result = self._fn(*self._args, **self._kwargs)
        except BaseException as e:  # noqa: BLE001 - re-raised on join
            self.exc = e

    def join(self, timeout=JOIN_TIMEOUT):
        super().join(timeout)
        if self.is_alive():
            pytest.fail(f"thread {self.name!r} still running after {timeout}s (hang?)")
        if self.exc is not None:
            raise self.exc
        return self.result

    def join_exc(self, timeout=JOIN_TIMEOUT):
        """Join and return the exception the thread raised (or None)."""
        super().join(timeout)
        if self.is_alive():
            pytest.fail(f"thread {self.name!r} still running after {timeout}s (hang?)")
        return self.exc


def spawn(fn, *args, **kwargs):
    """Start ``fn(*args, **kwargs)`` in a :class:`Thread` and return it."""
    t = Thread(fn, *args, **kwargs)
    t.start()
    return t


def run_threads(n, fn, timeout=JOIN_TIMEOUT):
    """Run ``fn(i)`` for ``i in range(n)`` in ``n`` threads; return the results.

    Re-raises the first exception a thread raised; fails if any thread hangs.
    """
    threads = [Thread(fn, i, name=f"{getattr(fn, '__name__', 'worker')}-{i}") for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        threading.Thread.join(t, max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in threads if t.is_alive()]
    if alive:
        pytest.fail(f"threads still running after {timeout}s (hang?): {alive}")
    for t in threads:
        if t.exc is not None:
            raise t.exc
    return [t.result for t in threads]


def assert_blocks(fn, *args, for_=0.1, **kwargs):
    """Start ``fn`` in a thread and assert it is still blocked after ``for_`` s.

    Returns the running :class:`Thread`; the caller unblocks it and joins it.
    """
    t = spawn(fn, *args, **kwargs)
    t_join = threading.Thread.join
    t_join(t, for_)
    if not t.is_alive():
        if t.exc is not None:
            raise AssertionError(f"expected {fn!r} to block, it raised {t.exc!r}") from t.exc
        raise AssertionError(f"expected {fn!r} to block, it returned {t.result!r}")
    return t


def wait_until(pred, timeout=JOIN_TIMEOUT, interval=0.001, msg="condition"):
    """Poll ``pred()`` until it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {msg}")
        time.sleep(interval)


class Elapsed:
    """``with Elapsed() as e: ...`` then ``e.seconds``."""

    def __enter__(self):
        self._t0 = time.monotonic()
        self.seconds = None
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self._t0
        return False


#: Capacities every basic test runs with: unbuffered, one slot, a ring, unbounded.
CAPACITIES = [0, 1, 16, None]


MISSING = object()


def drain(ch):
    """Take everything that is ready now (single-threaded); stops at Closed."""
    out = []
    while True:
        try:
            v = ch.try_recv(MISSING)
        except fc.Closed:
            return out
        if v is MISSING:
            return out
        out.append(v)
