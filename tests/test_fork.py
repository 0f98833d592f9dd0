"""os.fork() while other threads use or wait on channels: the child can make and use new
channels, inherited channels work (values buffered before the fork are there; waiters of
threads that did not survive the fork are never handed a value), and nothing deadlocks --
also when a lock was held by another thread at the instant of the fork.

Each scenario forks inside a fresh interpreter, so a hang fails a bounded subprocess,
never pytest; the child reports through its exit code."""

import os
import subprocess
import sys
import textwrap

import pytest

import fastchan as fc

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    pytest.mark.timeout(120),
]

PRELUDE = textwrap.dedent(
    """
    import os, sys, threading, time, warnings
    import fastchan as fc
    warnings.simplefilter("ignore", DeprecationWarning)   # fork() with threads running

    def in_child(body, timeout=20):
        # Run body() in a forked child; the child's exit code says how it went.
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                body()
                code = 0
            except BaseException:
                import traceback; traceback.print_exc()
            finally:
                os._exit(code)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                assert os.waitstatus_to_exitcode(status) == 0, "child failed"
                return
            time.sleep(0.01)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise AssertionError("child hung (deadlock after fork?)")
    """
)


def run(body, timeout=60):
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(fc.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    script = PRELUDE + textwrap.dedent(body) + "\nprint('OK')\n"
    try:
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"parent hung\nstdout:\n{e.stdout}\nstderr:\n{e.stderr}")
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), (
        f"rc={proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )


def test_child_uses_new_and_inherited_channels_while_parent_threads_wait():
    run(
        """
        unbuffered, buffered = fc.Chan(), fc.Chan(4)
        buffered.send("before fork")
        readers = [threading.Thread(target=lambda: unbuffered.recv(timeout=30), daemon=True) for _ in range(2)]
        for t in readers:
            t.start()
        while len(fc.debug.blocked()) < 2:
            time.sleep(0.001)

        def child():
            assert fc.debug.blocked() == []             # the parent's waiters are gone
            # A parent's reader is not there to take a value: no hand-off to a ghost.
            assert unbuffered.try_send("lost?") is False
            assert unbuffered.stats()["waiting_receivers"] == 0
            assert buffered.recv(timeout=1) == "before fork"
            fresh = fc.Chan()
            t = threading.Thread(target=lambda: fresh.send(42))
            t.start()
            assert fresh.recv(timeout=5) == 42
            t.join()
            # a blocked call in the child works and times out as usual
            try:
                unbuffered.recv(timeout=0.05)
            except TimeoutError:
                pass
            with fc.WorkerPool(workers=2) as pool:
                assert list(pool.map(abs, [-1, -2])) == [1, 2]

        in_child(child)
        unbuffered.send("a"); unbuffered.send("b")        # the parent is unaffected
        for t in readers:
            t.join(10)
            assert not t.is_alive()
        """
    )


def test_fork_while_other_threads_hammer_the_same_channels():
    # Some forks land while a hammering thread holds a channel's lock: the child must
    # still be able to use that channel (the lock is reset there), never hang.
    run(
        """
        chans = [fc.Chan(8), fc.Chan(0), fc.Chan(None)]
        stop = threading.Event()

        def hammer(i):
            while not stop.is_set():
                for ch in chans:
                    fc.select(fc.Send(ch, i), ch, timeout=0)
                    ch.try_recv(None)

        threads = [threading.Thread(target=hammer, args=(i,), daemon=True) for i in range(2)]
        for t in threads:
            t.start()

        def child():
            for ch in chans:
                if ch.capacity != 0:
                    ch.try_send("child")
                    while ch.try_recv(None) is not None:
                        pass
                fc.select(ch, timeout=0.001)
                ch.stats()
            fc.AtomicRef(1).swap(2)

        for _ in range(30):
            in_child(child, timeout=20)
        stop.set()
        for t in threads:
            t.join(10)
        """,
        timeout=110,
    )


def test_deadlock_detector_and_registry_in_child():
    run(
        """
        ch = fc.Chan()
        t = threading.Thread(target=lambda: ch.recv(timeout=30), daemon=True)
        t.start()
        while not fc.debug.blocked():
            time.sleep(0.001)

        def child():
            fc.debug.detect_deadlocks(True)
            try:
                fc.Chan().send(1)          # the child's only thread: a deadlock, reported
            except fc.Deadlock:
                pass
            else:
                raise AssertionError("no Deadlock in the child")

        in_child(child)
        ch.send("done")
        t.join(10)
        """
    )
