"""Timers: fc.after and fc.tick (Ticker) -- firing, select integration, tick dropping,
receive-only rules, bad input.  Time bounds are generous (loaded 2-core machines)."""

import math
import threading
import time

import pytest

import fastchan as fc
from _helpers import spawn

pytestmark = pytest.mark.timeout(60)


def test_after_delivers_monotonic_time_once_due():
    t0 = time.monotonic()
    ch = fc.after(0.05)
    assert isinstance(ch, fc.Chan)
    with pytest.raises(fc.Empty):
        ch.try_recv()
    fired_at = ch.recv(timeout=10)
    t1 = time.monotonic()
    assert t0 + 0.05 <= fired_at <= t1
    assert t1 - t0 < 5
    # exactly one value, then nothing more (not closed either: Go's time.After)
    assert ch.try_recv(None) is None
    assert fc.select(ch, timeout=0.05) == (-1, None, False)
    assert not ch.closed


def test_after_is_ready_without_anyone_waiting():
    ch = fc.after(0.02)
    time.sleep(0.1)
    assert len(ch) == 1
    assert fc.select(ch, timeout=0)[0] == 0


def test_after_zero_is_ready_at_once():
    assert fc.after(0).try_recv(None) is not None


def test_after_inf_never_fires():
    ch = fc.after(math.inf)
    assert fc.select(ch, timeout=0.05) == (-1, None, False)


def test_select_wakes_for_the_earliest_timer():
    never = fc.Chan()
    t0 = time.monotonic()
    idx, value, ok = fc.select(never, fc.after(5), fc.after(0.05), timeout=10)
    elapsed = time.monotonic() - t0
    assert (idx, ok) == (2, True)
    assert value >= t0 + 0.05
    assert elapsed < 4


def test_select_timeout_before_timer():
    t0 = time.monotonic()
    assert fc.select(fc.after(5), timeout=0.05) == (-1, None, False)
    assert time.monotonic() - t0 < 4


def test_recv_timeout_before_timer_raises_timeout():
    with pytest.raises(TimeoutError):
        fc.after(5).recv(timeout=0.05)


def test_timer_wakes_a_select_blocked_in_another_thread():
    jobs = fc.Chan()
    t = spawn(lambda: fc.select(jobs, fc.after(0.05)))
    idx, _value, ok = t.join()
    assert (idx, ok) == (1, True)


def test_value_sent_before_timer_wins():
    ch = fc.Chan(1)
    timer = fc.after(5)
    spawn(ch.send, "x").join()
    assert fc.select(timer, ch) == (1, "x", True)


def test_tick_delivers_increasing_times():
    with fc.tick(0.01) as t:
        assert isinstance(t, fc.Ticker) and isinstance(t, fc.Chan)
        assert t.interval == pytest.approx(0.01)
        got = [t.recv(timeout=10) for _ in range(5)]
    assert got == sorted(got)
    assert all(b > a for a, b in zip(got, got[1:]))
    assert got[-1] - got[0] >= 4 * 0.01 * 0.99


def test_tick_drops_ticks_while_the_receiver_is_slow():
    t = fc.tick(0.01)
    try:
        time.sleep(0.2)                  # ~20 ticks due, one slot: the rest are dropped
        assert len(t) == 1
        first = t.recv()
        # the next one is a fresh tick, about one interval later, not a queued old one
        second = t.recv(timeout=10)
        assert second - first >= 0.01 * 0.99
    finally:
        t.stop()


def test_stop_ends_ticks_and_keeps_channel_open():
    t = fc.tick(0.01)
    t.recv(timeout=10)
    t.stop()
    t.try_recv(None)                    # a tick delivered before stop may remain
    assert fc.select(t, timeout=0.1) == (-1, None, False)
    assert not t.closed
    assert "stopped" in repr(t)


def test_ticker_context_manager_stops():
    with fc.tick(0.01) as t:
        t.recv(timeout=10)
    t.try_recv(None)
    assert fc.select(t, timeout=0.1) == (-1, None, False)


def test_ticker_in_select_loop_with_deadline():
    deadline = fc.after(0.2)
    ticks = 0
    with fc.tick(0.01) as t:
        while True:
            idx, _v, _ok = fc.select(t, deadline, ordered=True)   # a ready tick first
            if idx == 1:
                break
            ticks += 1
    assert 1 <= ticks <= 25


def test_many_threads_share_one_ticker_without_duplicates():
    got = []
    lock = threading.Lock()
    with fc.tick(0.005) as t:
        def reader():
            for _ in range(10):
                v = t.recv(timeout=10)
                with lock:
                    got.append(v)

        threads = [spawn(reader) for _ in range(4)]
        for th in threads:
            th.join()
    assert len(got) == 40
    assert len(set(got)) == 40          # every tick went to exactly one reader


@pytest.mark.parametrize("make", [lambda: fc.after(1), lambda: fc.tick(1)])
def test_timer_channels_are_receive_only(make):
    ch = make()
    with pytest.raises(TypeError, match="receive-only"):
        ch.send(1)
    with pytest.raises(TypeError, match="receive-only"):
        ch.try_send(1)
    with pytest.raises(TypeError, match="receive-only"):
        ch.send_many([1])
    with pytest.raises(TypeError, match="receive-only"):
        ch.close()
    with pytest.raises(TypeError, match="receive-only"):
        fc.select(fc.Send(ch, 1), timeout=0)
    if isinstance(ch, fc.Ticker):
        ch.stop()


@pytest.mark.parametrize("fn, arg", [("after", "seconds"), ("tick", "interval")])
def test_bad_input(fn, arg):
    f = getattr(fc, fn)
    for bad in (None, "1", b"1", [1]):
        with pytest.raises(TypeError, match=arg):
            f(bad)
    for bad in (-1, -0.5, math.nan):
        with pytest.raises(ValueError, match=arg):
            f(bad)


def test_tick_interval_must_be_positive():
    with pytest.raises(ValueError, match="interval"):
        fc.tick(0)


# Before 3.13, time.monotonic() on Windows is a coarser clock than the one timers use.
CLOCK_SLACK = 0.05


def test_tick_interval_below_a_nanosecond_is_positive():
    with fc.tick(1e-12) as t:
        assert t.interval > 0
        assert t.recv(timeout=10) <= time.monotonic() + CLOCK_SLACK


def test_arguments_by_keyword():
    assert fc.after(seconds=0).recv(timeout=10) <= time.monotonic() + CLOCK_SLACK
    with fc.tick(interval=0.001) as t:
        assert t.recv(timeout=10) <= time.monotonic() + CLOCK_SLACK


@pytest.mark.parametrize("fn", ["after", "tick"])
def test_huge_int_means_never_and_huge_negative_is_rejected(fn):
    t = getattr(fc, fn)(10**400)
    assert t.try_recv(None) is None
    if isinstance(t, fc.Ticker):
        t.stop()
    with pytest.raises(ValueError):
        getattr(fc, fn)(-10**400)


def test_recv_on_timer_is_interruptible_by_timeout_many_times():
    # A blocked receive re-parks when the timer, not its deadline, ends the park.
    with fc.tick(0.01) as t:
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            fc.Chan().recv(timeout=0.05)
        values = t.recv_many(10, timeout=10)
        assert len(values) == 1        # one slot: the ticks meanwhile were dropped
        assert time.monotonic() - t0 < 5
