# _timer.pxi -- after(), tick() and Ticker; the deadline channel behind Context.done.
#
# A timer is a channel flavor (see TimerMode in _chan.pxi): after() and tick() return
# one-slot channels whose value is produced by timer_poll when someone looks at them at
# or past `timer_next`, and every blocked receive or select folds `timer_next` into its
# park deadline.  So a timer costs one small channel and no thread, and a select over
# timers, channels and a Context wakes exactly when the first of them is due.
#
# Timer channels are receive-only: send and close raise TypeError.


cdef str short_repr(object v):
    """repr(v) for an error message, unless it is huge (or too long to print at all)."""
    try:
        r = repr(v)
    except ValueError:      # an int beyond sys.get_int_max_str_digits()
        r = ""
    return r if 0 < len(r) <= 40 else "a number too large to show"


cdef int64_t parse_interval(object seconds, str name, bint allow_zero) except -2:
    """Seconds -> ns (-1 for inf: never).  Same rules as a timeout; a tick interval must
    also be > 0."""
    cdef int64_t ns
    if seconds is None:
        raise TypeError(f"{name} must be a number, got NoneType")
    try:
        ns = parse_timeout(seconds)
    except TypeError:
        raise TypeError(f"{name} must be a number, got {type(seconds).__name__}") from None
    except ValueError:
        raise ValueError(f"{name} must be >= 0, got {short_repr(seconds)}") from None
    if not allow_zero:
        if seconds <= 0:
            raise ValueError(f"{name} must be > 0, got {short_repr(seconds)}")
        if ns == 0:         # positive but under a nanosecond: the clock's finest step
            ns = 1
    return ns


cdef Chan make_timer(type kind, int32_t mode, int64_t first_due, int64_t period):
    cdef Chan ch = kind(1 if mode != TIMER_CLOSE else 0)
    ch.timer_mode = mode
    ch.timer_next = first_due
    ch.timer_period = period
    return ch


@cython.always_allow_keywords(True)
def after(seconds):
    """after(seconds) -> Chan

    A receive-only channel that delivers one value, the time.monotonic() at which it
    fired (came due), once `seconds` have passed (Go's time.After).  No thread:
    whoever receives or selects on it wakes when it is due.  after(inf) never fires.

        >>> idx, fired_at, ok = select(after(0.01))
        >>> idx, ok
        (0, True)
    """
    cdef int64_t ns = parse_interval(seconds, "seconds", True)
    return make_timer(Chan, TIMER_AFTER, deadline_after(ns), 0)


@cython.final
cdef class Ticker(Chan):
    """Ticker -- a receive-only channel that delivers time.monotonic() every `interval`
    seconds; made by tick().  A tick due while the previous one is still unread is
    dropped, not queued (Go's time.Ticker).  stop() ends the ticks; `with tick(i) as t:`
    stops on exit.  Stopping does not close the channel (as in Go), so a receive
    waiting on a stopped ticker waits for nothing: select on it together with
    something that ends.
    """

    def __init__(self, capacity=1):
        # Only tick() makes usable tickers; a bare Ticker() is a ticker never started.
        Chan.__init__(self, capacity)
        self.timer_mode = TIMER_TICK

    def stop(self):
        """stop() -> None: no more ticks (one already delivered stays readable)."""
        fc_mutex_lock(&self.mutex)
        fc_atomic_store_int64_relaxed(&self.timer_next, -1)
        fc_mutex_unlock(&self.mutex)

    @property
    def interval(self):
        """Seconds between ticks."""
        return self.timer_period / 1e9

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()
        return False

    def __repr__(self):
        state = "stopped" if fc_atomic_load_int64_relaxed(&self.timer_next) < 0 else "running"
        return f"<fastchan.Ticker interval={self.timer_period / 1e9!r} len={len(self)} {state}>"


@cython.always_allow_keywords(True)
def tick(interval):
    """tick(interval) -> Ticker

    A channel delivering time.monotonic() every `interval` seconds (> 0), first after
    one interval; ticks are dropped while the receiver is slow.

        >>> with tick(0.001) as t:
        ...     first, second = t.recv(), t.recv()
        >>> second > first
        True
    """
    cdef int64_t ns = parse_interval(interval, "interval", False)
    if ns < 0:
        return make_timer(Ticker, TIMER_TICK, -1, INT64_MAX)
    return make_timer(Ticker, TIMER_TICK, deadline_after(ns), ns)


def _monotonic():
    """The clock timers and deadlines use, in seconds: time.monotonic()'s clock (see
    fc_monotonic_ns), read without the GIL.  Context computes its deadlines with it so
    that they agree to the nanosecond with the channel that enforces them."""
    return fc_monotonic_ns() / 1e9


def _deadline_chan(deadline):
    """The done channel of a Context: unbuffered and receive-only; closed by
    _close_deadline_chan, or by itself at `deadline` (_monotonic() seconds, or None for
    never)."""
    cdef int64_t due = -1
    if deadline is not None:
        due = max(<int64_t>(deadline * 1e9), 0) if deadline < 9.2e9 else -1
    return make_timer(Chan, TIMER_CLOSE, due, 0)


def _close_deadline_chan(Chan ch):
    """Close a receive-only channel made by _deadline_chan: True if this call closed it
    (False if it already was, by an earlier call or because its deadline passed)."""
    timer_poll(ch)
    return chan_close(ch)
