"""Faults: iterables that raise inside send_many, objects whose __del__ uses the channel
that is releasing them, and finalizers running while a channel is collected."""

import gc
import subprocess
import sys
import textwrap
import weakref

import pytest

import fastchan as fc

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("cap", [1, 3, 16, None])
def test_send_many_iterable_raises_midway(cap):
    ch = fc.Chan(cap)

    def items():
        yield 1
        yield 2
        raise ValueError("source broke")

    room = 2 if cap is None else min(cap, 2)
    with pytest.raises((ValueError, TimeoutError)) as info:
        ch.send_many(items(), timeout=0)
    assert info.value.sent == room
    assert [ch.recv() for _ in range(room)] == [1, 2][:room]
    assert ch.try_recv(None) is None
    ch.send("still works")
    assert ch.recv() == "still works"


def test_send_many_iterable_raises_before_anything():
    ch = fc.Chan(4)

    def items():
        raise KeyError("at once")
        yield  # pragma: no cover

    with pytest.raises(KeyError) as info:
        ch.send_many(items())
    assert info.value.sent == 0
    assert len(ch) == 0


class Reentrant:
    """On release, sends on and closes the channel it was buffered in."""

    log = []

    def __init__(self, ch):
        self.ch = ch                        # a cycle: channel -> self -> channel

    def __del__(self):
        try:
            Reentrant.log.append(self.ch.try_send("from __del__"))
        except fc.Closed:
            Reentrant.log.append("closed")
        Reentrant.log.append(self.ch.close())


@pytest.mark.parametrize("cap", [1, 4, None])
def test_del_that_sends_and_closes_while_the_channel_is_collected(cap):
    Reentrant.log = []
    ch = fc.Chan(cap)
    for _ in range(1 if cap == 1 else 3):
        ch.send(Reentrant(ch))
    probe = weakref.ref(ch)
    del ch
    gc.collect()
    assert probe() is None                  # the cycle was collected, nothing crashed
    assert Reentrant.log                    # and the finalizers ran


def test_del_that_uses_the_channel_while_a_receiver_drops_it():
    Reentrant.log = []
    ch = fc.Chan(2)
    ch.send(Reentrant(ch))
    obj = ch.recv()
    del obj                                 # __del__ runs now: sends, then closes
    assert Reentrant.log == [True, True]
    assert ch.closed and ch.recv() == "from __del__"
    del ch
    gc.collect()


def test_del_that_sends_on_the_channel_it_came_from():
    ch = fc.Chan(1)

    class Sender:
        def __del__(self):
            ch.send("late", timeout=5)      # the slot it left is free: no deadlock

    ch.send(Sender())
    ch.recv()                               # drops the Sender: __del__ runs outside any lock
    assert ch.try_recv() == "late"


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS address-space limit (Linux)")
@pytest.mark.timeout(120)
def test_memory_error_while_an_unbounded_channel_grows_leaves_it_consistent():
    # In a child with a capped address space, an unbounded channel grows until its ring
    # cannot double: send_many raises MemoryError with .sent, and every value sent is
    # still there, in order; the channel keeps working.
    code = textwrap.dedent(
        """
        import itertools, resource, fastchan as fc
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        with open("/proc/self/statm") as f:
            vsize = int(f.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (vsize + 96 * 2**20, hard))
        ch = fc.Chan(None)
        marker = object()
        try:
            ch.send_many(itertools.repeat(marker))
        except MemoryError as e:
            sent = e.sent
        else:
            raise AssertionError("no MemoryError")
        assert sent > 1000 and len(ch) == sent, (sent, len(ch))
        assert ch.stats()["sent"] == sent
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        ch.send("last")
        n = 0
        while True:
            batch = ch.recv_many(65536, timeout=0)
            if batch[-1] == "last":
                n += len(batch) - 1
                break
            n += len(batch)
        assert n == sent and len(ch) == 0
        print("OK", sent)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=100)
    assert out.returncode == 0 and out.stdout.startswith("OK"), out.stderr[-2000:]
