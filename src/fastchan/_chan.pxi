# _chan.pxi -- Chan: the channel (ring buffer, unbuffered hand-off, close, batches).
#
# Invariants (Go's hchan), with "live" meaning a node whose waiter is still W_WAITING
# (stale nodes of finished selects may linger until their owner unlinks them):
#   - at least one of sendq and recvq has no live node;
#   - cap > 0: count > 0 implies no live receiver; count < cap implies no live sender;
#   - cap == 0: count == 0; a value moves straight from a sender to a receiver;
#   - cap < 0 (unbounded): senders never wait;
#   - closed implies both queues are empty: close() claims every node and nobody
#     enqueues on a closed channel.
# Every field below `mutex` is guarded by it; `count` and `closed_flag` are also read
# without it (len(), .closed) through atomic loads, which is why they are written with
# atomic stores.  Those racy reads are snapshots: true at some instant during the call.
#
# Reference ownership: each non-NULL ring slot owns one reference.  A sender INCREFs the
# value when it moves into a slot or into a receiving waiter; a receiver takes that
# reference over (fc_steal) without touching the count again.  No DECREF ever happens
# under the lock (it could run __del__).

cdef enum OpResult:
    OP_OK = 1
    OP_BLOCK = 0
    OP_CLOSED = -1
    OP_NOMEM = -2
    OP_RECV_ONLY = -3       # a send on a timer channel (after/tick/Context.done)

# Timer channels (_timer.pxi) are ordinary channels whose next value -- or, for a
# Context's done channel, whose close -- becomes due at `timer_next`.  Nothing runs at
# that instant: whoever looks at the channel (a receive, select, len, .closed) first
# calls timer_poll, and every blocked receive folds timer_next into its park deadline,
# so it wakes when the timer is due.  No thread per timer.
cdef enum TimerMode:
    TIMER_NONE = 0
    TIMER_AFTER = 1         # one value at timer_next, then never again
    TIMER_TICK = 2          # a value every timer_period; dropped while one is unread
    TIMER_CLOSE = 3         # close() at timer_next (a Context deadline); -1: never

cdef Py_ssize_t UNBOUNDED_MIN_SIZE = 16
cdef Py_ssize_t BATCH = 64             # values moved per lock hold by recv_many
cdef object _MISSING = object()


cdef inline Py_ssize_t ring_index(Chan ch, Py_ssize_t i) noexcept nogil:
    i += ch.head
    return i - ch.size if i >= ch.size else i


cdef inline void ring_put(Chan ch, PyObject *owned) noexcept nogil:
    ch.buf[ring_index(ch, ch.count)] = owned
    fc_atomic_store_ssize_relaxed(&ch.count, ch.count + 1)
    if ch.count > ch.peak:
        ch.peak = ch.count


cdef inline PyObject *ring_take(Chan ch) noexcept nogil:
    cdef PyObject *v = ch.buf[ch.head]
    ch.buf[ch.head] = NULL
    ch.head = ring_index(ch, 1)
    fc_atomic_store_ssize_relaxed(&ch.count, ch.count - 1)
    return v


cdef int ring_resize(Chan ch, Py_ssize_t new_size) noexcept nogil:
    """Unbounded only: move the values into a ring of new_size >= count slots.
    Returns 0, or -1 if out of memory (the ring is unchanged)."""
    cdef PyObject **nb = <PyObject **>PyMem_RawCalloc(new_size, sizeof(PyObject *))
    cdef Py_ssize_t i
    if nb == NULL:
        return -1
    for i in range(ch.count):
        nb[i] = ch.buf[ring_index(ch, i)]
    PyMem_RawFree(ch.buf)
    ch.buf = nb
    ch.size = new_size
    ch.head = 0
    return 0


cdef inline int try_send_locked(Chan ch, PyObject *v, Waiter **wake) noexcept nogil:
    """Send now if possible.  Lock held.  OP_OK (and maybe a waiter to unpark after
    unlocking), OP_BLOCK, OP_CLOSED, OP_NOMEM or OP_RECV_ONLY."""
    if ch.timer_mode != TIMER_NONE:
        return OP_RECV_ONLY
    return send_locked(ch, v, wake)


cdef int send_locked(Chan ch, PyObject *v, Waiter **wake) noexcept nogil:
    """try_send_locked without the receive-only check: the timer's own delivery."""
    cdef Node *n
    if ch.closed_flag:
        return OP_CLOSED
    if ch.recvq.first != NULL:
        n = wq_claim(&ch.recvq)
        if n != NULL:               # direct hand-off to a parked receiver
            fc_incref(v)
            n.waiter.value = v
            wake[0] = n.waiter
            ch.sent += 1
            ch.received += 1
            return OP_OK
    if ch.count == ch.size:
        if ch.cap >= 0:             # unbuffered, or the ring is full
            return OP_BLOCK
        if ring_resize(ch, ch.size * 2) < 0:
            return OP_NOMEM
    fc_incref(v)
    ring_put(ch, v)
    ch.sent += 1
    return OP_OK


cdef int try_recv_locked(Chan ch, PyObject **out, Waiter **wake) noexcept nogil:
    """Receive now if possible.  Lock held.  OP_OK with a new reference in *out (and maybe
    a waiter to unpark after unlocking), OP_BLOCK or OP_CLOSED (closed and drained)."""
    cdef Node *n
    if ch.count > 0:
        out[0] = ring_take(ch)
        if ch.sendq.first != NULL:
            # The ring was full and a sender is parked: its value takes the freed slot.
            n = wq_claim(&ch.sendq)
            if n != NULL:
                fc_incref(n.item)
                ring_put(ch, n.item)
                wake[0] = n.waiter
                ch.sent += 1
        elif ch.cap < 0 and ch.size > UNBOUNDED_MIN_SIZE and ch.count * 4 < ch.size:
            ring_resize(ch, ch.size // 2)   # shrinking is optional: failure is harmless
        ch.received += 1
        return OP_OK
    if ch.sendq.first != NULL:
        n = wq_claim(&ch.sendq)
        if n != NULL:               # unbuffered: take the value from a parked sender
            fc_incref(n.item)
            out[0] = n.item
            wake[0] = n.waiter
            ch.received += 1
            ch.sent += 1
            return OP_OK
    return OP_CLOSED if ch.closed_flag else OP_BLOCK


cdef Py_ssize_t count_waiting(WaitQueue *q) noexcept nogil:
    """Nodes of `q` whose operation still waits (stale select nodes excluded).  Lock held."""
    cdef Py_ssize_t n = 0
    cdef Node *node = q.first
    while node != NULL:
        if (node.waiter.fork_gen == fc_fork_generation
                and fc_atomic_load_int32_acquire(&node.waiter.state) == W_WAITING):
            n += 1
        node = node.next
    return n


cdef Node *claim_all_closed(WaitQueue *q, Node *woken) noexcept nogil:
    """close(): claim every live node of `q`, chaining them onto `woken`.  Lock held."""
    cdef Node *n
    while True:
        n = wq_claim(q)
        if n == NULL:
            return woken
        n.waiter.closed = 1
        n.wake_next = woken
        woken = n


cdef int send_batch_now(Chan ch, tuple items, Py_ssize_t *sent) except -1:
    """Send items[*sent:] while that can happen now, BATCH per lock hold, advancing
    *sent.  Returns 1 if all were sent, 0 if the next one would block; raises Closed /
    MemoryError (with *sent already counting what was delivered)."""
    cdef Waiter *wakes[64]
    cdef Py_ssize_t n = len(items), i = sent[0], stop, nwake, j
    cdef int r = OP_OK
    while i < n and r == OP_OK:
        stop = i + BATCH if n - i > BATCH else n
        nwake = 0
        fc_mutex_lock(&ch.mutex)
        while i < stop:
            wakes[nwake] = NULL
            r = try_send_locked(ch, fc_tuple_item(items, i), &wakes[nwake])
            if r != OP_OK:
                break
            i += 1
            if wakes[nwake] != NULL:
                nwake += 1
        fc_mutex_unlock(&ch.mutex)
        sent[0] = i
        for j in range(nwake):
            unpark(wakes[j])
    if r < 0:
        raise_send_error(r)
    return i == n


cdef int raise_send_error(int r) except -1:
    if r == OP_CLOSED:
        raise Closed("send on closed channel")
    if r == OP_RECV_ONLY:
        raise TypeError("send on a receive-only timer channel")
    raise MemoryError("cannot grow the channel's buffer")


cdef Node *chan_close_locked(Chan ch) noexcept nogil:
    """Mark `ch` closed and claim every waiter; returns them chained for wake_all.
    Lock held, channel open."""
    cdef Node *woken = NULL
    fc_atomic_store_int32_relaxed(&ch.closed_flag, 1)
    fc_atomic_store_int64_relaxed(&ch.timer_next, -1)
    woken = claim_all_closed(&ch.recvq, woken)
    return claim_all_closed(&ch.sendq, woken)


cdef void wake_all(Node *woken) noexcept nogil:
    cdef Waiter *w
    while woken != NULL:        # Go's closechan: ready them all after unlocking
        w = woken.waiter
        woken = woken.wake_next
        unpark(w)


cdef bint chan_close(Chan ch) noexcept:
    """Close `ch` (any flavor); True if this call closed it."""
    cdef Node *woken
    fc_mutex_lock(&ch.mutex)
    if ch.closed_flag:
        fc_mutex_unlock(&ch.mutex)
        return False
    woken = chan_close_locked(ch)
    fc_mutex_unlock(&ch.mutex)
    wake_all(woken)
    return True


cdef inline int timer_poll(Chan ch) except -1:
    """Make a due timer's value (or close) happen now.  Called before every receive-side
    look at a timer channel; a no-op for other channels."""
    if ch.timer_mode != TIMER_NONE:
        timer_fire(ch, fc_monotonic_ns())
    return 0


cdef int timer_fire(Chan ch, int64_t now) except -1:
    cdef Waiter *wake = NULL
    cdef Node *woken = NULL
    cdef int64_t due = fc_atomic_load_int64_relaxed(&ch.timer_next)
    if due < 0 or now < due:        # racy hint; decided again under the lock
        return 0
    # The value is the time the timer came due, not when someone looked, so ticks are
    # exactly one interval apart (or a multiple: dropped ticks).  Made before locking: no
    # allocation under a channel lock.
    value = due / 1e9 if ch.timer_mode != TIMER_CLOSE else None
    fc_mutex_lock(&ch.mutex)
    due = ch.timer_next
    if due >= 0 and now >= due:
        if ch.timer_mode == TIMER_CLOSE:
            woken = chan_close_locked(ch)
        else:
            # A tick finding its one slot full is dropped (OP_BLOCK): Go's Ticker.
            send_locked(ch, <PyObject *>value, &wake)
            if ch.timer_mode == TIMER_TICK:
                due += ((now - due) // ch.timer_period + 1) * ch.timer_period
            else:
                due = -1
            fc_atomic_store_int64_relaxed(&ch.timer_next, due)
    fc_mutex_unlock(&ch.mutex)
    if wake != NULL:
        unpark(wake)
    wake_all(woken)
    return 0


cdef inline int64_t fold_timer_locked(Chan ch, int64_t deadline) noexcept nogil:
    """The earlier of `deadline` and `ch`'s next timer event (-1 = none).  Lock held."""
    if ch.timer_next >= 0 and (deadline < 0 or ch.timer_next < deadline):
        return ch.timer_next
    return deadline


cdef int chan_try_send(Chan ch, PyObject *v) except -1:
    """1 sent, 0 would block; raises Closed / MemoryError."""
    cdef Waiter *wake = NULL
    fc_mutex_lock(&ch.mutex)
    cdef int r = try_send_locked(ch, v, &wake)
    fc_mutex_unlock(&ch.mutex)
    if wake != NULL:
        unpark(wake)
    if r >= 0:
        return r
    return raise_send_error(r)


cdef int chan_send_wait(Chan ch, PyObject *v, int64_t deadline, bint spin) except -1:
    """Blocking send until `deadline` (-1: none).  Raises Closed / TimeoutError / the
    exception of a signal handler; in every raising case the value was not delivered."""
    cdef Waiter w
    cdef Node node
    cdef Waiter *wake = NULL
    cdef int r
    if deadline >= 0 and fc_monotonic_ns() >= deadline:
        if chan_try_send(ch, v):
            return 0
        raise TimeoutError("send timed out")
    waiter_init(&w)
    try:
        node_init(&node, &w, v, 0)
        fc_mutex_lock(&ch.mutex)
        r = try_send_locked(ch, v, &wake)
        if r == OP_BLOCK:           # register and re-check happen under one lock hold
            wq_push(&ch.sendq, &node)
        fc_mutex_unlock(&ch.mutex)
        if wake != NULL:
            unpark(wake)
        if r == OP_OK:
            return 0
        if r != OP_BLOCK:
            return raise_send_error(r)
        try:
            r = park(&w, deadline, spin, BLOCKED_SEND, ch)
        finally:
            if ensure_finished(&w):
                fc_mutex_lock(&ch.mutex)
                wq_remove(&ch.sendq, &node)
                fc_mutex_unlock(&ch.mutex)
        if r == PARK_TIMEOUT:
            raise TimeoutError("send timed out")
        if w.closed:
            raise Closed("send on closed channel")
        return 0
    finally:
        waiter_fini(&w)


cdef object chan_recv_wait(Chan ch, int64_t deadline, bint spin, int32_t op):
    """Blocking receive until `deadline` (-1: none).  Raises Closed / TimeoutError / the
    exception of a signal handler; in every raising case nothing was taken."""
    cdef Waiter w
    cdef Node node
    cdef Waiter *wake = NULL
    cdef PyObject *out = NULL
    cdef int64_t park_until = deadline
    cdef int r
    waiter_init(&w)
    try:
        while True:             # more than once only when a timer came due: poll it
            timer_poll(ch)
            fc_atomic_store_int32_relaxed(&w.state, W_WAITING)  # all nodes unlinked: ours again
            node_init(&node, &w, NULL, 0)
            fc_mutex_lock(&ch.mutex)
            r = try_recv_locked(ch, &out, &wake)
            if r == OP_BLOCK:
                if deadline >= 0 and fc_monotonic_ns() >= deadline:
                    fc_mutex_unlock(&ch.mutex)
                    raise TimeoutError("recv timed out")
                wq_push(&ch.recvq, &node)
                park_until = fold_timer_locked(ch, deadline)
            fc_mutex_unlock(&ch.mutex)
            if wake != NULL:
                unpark(wake)
            if r == OP_OK:
                return fc_steal(out)
            if r == OP_CLOSED:
                raise Closed("receive from closed channel")
            try:
                r = park(&w, park_until, spin, op, ch)
                spin = False    # after a timer wake-up: many receivers may share it
            finally:
                if ensure_finished(&w):
                    fc_mutex_lock(&ch.mutex)
                    wq_remove(&ch.recvq, &node)
                    fc_mutex_unlock(&ch.mutex)
            if r == PARK_TIMEOUT:
                if park_until == deadline:
                    raise TimeoutError("recv timed out")
                continue
            if w.closed:
                raise Closed("receive from closed channel")
            return fc_steal(w.value)
    finally:
        waiter_fini(&w)


cdef inline object chan_recv(Chan ch, int64_t timeout_ns, bint spin=True, int32_t op=BLOCKED_RECV):
    cdef PyObject *out = NULL
    cdef Waiter *wake = NULL
    timer_poll(ch)
    fc_mutex_lock(&ch.mutex)
    cdef int r = try_recv_locked(ch, &out, &wake)
    fc_mutex_unlock(&ch.mutex)
    if wake != NULL:
        unpark(wake)
    if r == OP_OK:
        return fc_steal(out)
    if r == OP_CLOSED:
        raise Closed("receive from closed channel")
    if timeout_ns == 0:
        raise TimeoutError("recv timed out")
    return chan_recv_wait(ch, deadline_after(timeout_ns), spin, op)


def _wait_closed(Chan ch, timeout=None):
    """Block until `ch` is closed and drained (True) or `timeout` passes (False), shown
    as a "wait" by fastchan.debug: WaitGroup.wait."""
    try:
        chan_recv(ch, -1 if timeout is None else parse_timeout(timeout), True, BLOCKED_WAIT)
    except Closed:
        return True
    except TimeoutError:
        return False
    raise RuntimeError("a value arrived on a channel that is only ever closed")


# Chan's GC slots: Cython's own (object fields, and the type for heap types), then the
# ring.  Installed on the type object right after the class statement below.
cdef c_traverseproc cython_traverse_chan
cdef c_inquiry cython_clear_chan


cdef int traverse_chan(PyObject *o, c_visitproc visit, void *arg) noexcept:
    # Runs while no thread mutates the ring (under the GIL, which no lock holder drops;
    # or during a free-threaded stop-the-world), so it reads without the lock, which a
    # detached lock holder might own.  No refcounting here: see traverse_ring.
    cdef int r = cython_traverse_chan(o, visit, arg)
    return r if r else traverse_ring(<Chan>o, visit, arg)


cdef int traverse_ring(Chan ch, c_visitproc visit, void *arg) noexcept:
    cdef Py_ssize_t i
    cdef int r
    for i in range(ch.count):
        r = visit(ch.buf[ring_index(ch, i)], arg)
        if r:
            return r
    return 0


cdef int clear_chan(PyObject *o) noexcept:
    cdef Chan ch = <Chan>o
    cdef PyObject *v
    cython_clear_chan(o)
    while True:
        fc_mutex_lock(&ch.mutex)
        v = ring_take(ch) if ch.count > 0 else NULL
        fc_mutex_unlock(&ch.mutex)
        if v == NULL:
            return 0
        fc_decref(v)


cdef class Chan:
    """Chan(capacity=0) -- a FIFO channel of Python objects, safe from any thread.

    capacity=0 is unbuffered (a send completes when a receiver takes the value),
    capacity=N buffers up to N values, capacity=None never blocks a sender.

        >>> ch = Chan(2)
        >>> ch.send("a"); ch.send("b"); ch.close()
        True
        >>> list(ch)
        ['a', 'b']

    FIFO per sending thread and exactly-once delivery are guaranteed.  Which of several
    blocked senders or receivers goes first is FIFO in practice but not promised.
    """

    cdef fc_mutex mutex
    cdef Py_ssize_t cap             # -1 unbounded, 0 unbuffered, N ring slots; immutable
    cdef PyObject **buf             # ring storage (NULL for unbuffered)
    cdef Py_ssize_t size            # slots in buf (0 for unbuffered)
    cdef Py_ssize_t head            # slot of the oldest value
    cdef Py_ssize_t count           # values buffered (atomic store, racy readers)
    cdef int32_t closed_flag        # 0/1 (atomic store, racy readers)
    cdef WaitQueue sendq            # parked senders (value in node.item)
    cdef WaitQueue recvq            # parked receivers
    cdef int32_t timer_mode         # TimerMode; set once, before the channel is shared
    cdef int64_t timer_next         # ns when the timer is next due, -1 never (atomic
                                    # store, racy readers: timer_fire re-checks it)
    cdef int64_t timer_period       # TIMER_TICK: ns between ticks
    cdef Py_ssize_t peak            # statistics, guarded by the lock
    cdef uint64_t sent
    cdef uint64_t received
    cdef bint initialized
    cdef object _gc_anchor          # always None: an object field makes Cython give Chan
                                    # GC support; traverse_chan/clear_chan report the ring
    cdef object __weakref__

    def __init__(self, capacity=0):
        cdef Py_ssize_t cap
        if self.initialized:
            raise TypeError("Chan.__init__ may be called only once")
        if capacity is None:
            cap = -1
        elif isinstance(capacity, bool) or isinstance(capacity, float):
            raise TypeError(f"capacity must be an int >= 0 or None, got {type(capacity).__name__}")
        else:
            try:
                n = capacity.__index__()
            except AttributeError:
                raise TypeError(f"capacity must be an int >= 0 or None, got {type(capacity).__name__}") from None
            if n < 0:
                raise ValueError(f"capacity must be >= 0 or None, got {n}")
            if n > (<Py_ssize_t>1 << 40):
                raise ValueError(f"capacity must be at most 2**40, got {n}")
            cap = n
        size = UNBOUNDED_MIN_SIZE if cap < 0 else cap
        if size > 0:
            self.buf = <PyObject **>PyMem_RawCalloc(size, sizeof(PyObject *))
            if self.buf == NULL:
                raise MemoryError(f"cannot allocate a channel of capacity {cap}")
        self.size = size
        self.cap = cap
        self.timer_next = -1
        self.initialized = True

    def __dealloc__(self):
        cdef Py_ssize_t i
        if self.buf != NULL:
            for i in range(self.count):
                fc_decref(self.buf[ring_index(self, i)])
            PyMem_RawFree(self.buf)
            self.buf = NULL

    def send(self, value, /, timeout=None):
        """send(value, /, timeout=None) -> None

        Block until `value` is taken (unbuffered) or buffered.  Raises Closed if the
        channel is closed, also while waiting; TimeoutError when `timeout` runs out.  In
        both cases the value was not delivered.
        """
        cdef int64_t t = -1 if timeout is None else parse_timeout(timeout)
        if chan_try_send(self, <PyObject *>value):
            return
        if t == 0:
            raise TimeoutError("send timed out")
        chan_send_wait(self, <PyObject *>value, deadline_after(t), True)

    def try_send(self, value, /):
        """try_send(value, /) -> bool: send only if that can happen now.  Closed if closed."""
        return chan_try_send(self, <PyObject *>value) == 1

    def recv(self, timeout=None):
        """recv(timeout=None) -> object

        The next value; blocks while there is none.  Buffered values are still delivered
        after close, then Closed is raised.  TimeoutError when `timeout` runs out.
        """
        return chan_recv(self, -1 if timeout is None else parse_timeout(timeout))

    def try_recv(self, default=_MISSING, /):
        """try_recv(default=<missing>, /) -> object

        The next value if one is ready now, else `default`, else raise Empty.  Raises
        Closed once the channel is closed and drained, even when a default is given.
        """
        cdef PyObject *out = NULL
        cdef Waiter *wake = NULL
        timer_poll(self)
        fc_mutex_lock(&self.mutex)
        cdef int r = try_recv_locked(self, &out, &wake)
        fc_mutex_unlock(&self.mutex)
        if wake != NULL:
            unpark(wake)
        if r == OP_OK:
            return fc_steal(out)
        if r == OP_CLOSED:
            raise Closed("receive from closed channel")
        if default is _MISSING:
            raise Empty()
        return default

    def send_many(self, values, /, timeout=None):
        """send_many(values, /, timeout=None) -> int

        Send every item of the iterable in order, blocking as needed; return the count.
        `timeout` bounds the whole call.  Closed, TimeoutError, or an exception raised by
        the iterable carries `.sent`, the number of values delivered before it.
        """
        cdef int64_t t = -1 if timeout is None else parse_timeout(timeout)
        cdef int64_t deadline = deadline_after(t) if t > 0 else t
        cdef Py_ssize_t sent = 0
        cdef tuple snapshot
        try:
            if type(values) is list or type(values) is tuple:
                # Whole batches under one lock hold; the tuple also pins the items.
                snapshot = tuple(values)
                while not send_batch_now(self, snapshot, &sent):
                    if t == 0:
                        raise TimeoutError("send timed out")
                    chan_send_wait(self, fc_tuple_item(snapshot, sent), deadline, False)
                    sent += 1
                return sent
            for v in values:
                if not chan_try_send(self, <PyObject *>v):
                    if t == 0:
                        raise TimeoutError("send timed out")
                    chan_send_wait(self, <PyObject *>v, deadline, False)
                sent += 1
        except BaseException as e:
            try:                # also on KeyboardInterrupt: callers may need the count
                e.sent = sent
            except Exception:
                pass
            raise
        return sent

    def recv_many(self, max_items, /, timeout=None):
        """recv_many(max_items, /, timeout=None) -> list

        Wait (up to `timeout`) for at least one value, then return up to `max_items`
        values that are ready without further waiting.  Closed when closed and drained.
        """
        cdef PyObject *items[64]
        cdef Waiter *wakes[64]
        cdef Py_ssize_t want, got, nwake, i
        cdef int r
        if isinstance(max_items, bool):
            raise TypeError("max_items must be an int >= 1, got bool")
        try:
            max_items = max_items.__index__()
        except AttributeError:
            raise TypeError(f"max_items must be an int >= 1, got {type(max_items).__name__}") from None
        if max_items < 1:
            raise ValueError(f"max_items must be >= 1, got {max_items}")
        cdef int64_t t = -1 if timeout is None else parse_timeout(timeout)
        cdef Py_ssize_t limit = max_items if max_items < PY_SSIZE_T_MAX else PY_SSIZE_T_MAX
        result = [chan_recv(self, t, False)]
        while len(result) < limit:
            want = limit - len(result)
            if want > BATCH:
                want = BATCH
            got = nwake = 0
            fc_mutex_lock(&self.mutex)
            while got < want:
                wakes[nwake] = NULL
                r = try_recv_locked(self, &items[got], &wakes[nwake])
                if r != OP_OK:
                    break
                got += 1
                if wakes[nwake] != NULL:
                    nwake += 1
            fc_mutex_unlock(&self.mutex)
            for i in range(nwake):
                unpark(wakes[i])
            for i in range(got):
                result.append(fc_steal(items[i]))
            if got < want:
                break
        return result

    def close(self):
        """close() -> bool

        Close the channel: True if this call closed it, False if it already was.  Every
        blocked sender raises Closed (its value not delivered); blocked receivers drain
        what is buffered, then raise Closed.
        """
        if self.timer_mode != TIMER_NONE:
            raise TypeError("close of a receive-only timer channel")
        return chan_close(self)

    def stats(self):
        """stats() -> dict: len, capacity, closed, waiting_senders, waiting_receivers,
        peak_len (most values ever buffered at once), sent and received (counts since
        creation).  One consistent snapshot, taken under the channel's lock.

            >>> ch = Chan(4); ch.send_many("abc"); ch.recv()
            3
            'a'
            >>> s = ch.stats(); (s["len"], s["peak_len"], s["sent"], s["received"])
            (2, 3, 3, 1)
        """
        cdef Py_ssize_t senders, receivers, n, peak
        cdef uint64_t sent, received
        cdef int32_t closed
        timer_poll(self)
        fc_mutex_lock(&self.mutex)
        senders = count_waiting(&self.sendq)
        receivers = count_waiting(&self.recvq)
        n, peak, sent, received, closed = self.count, self.peak, self.sent, self.received, self.closed_flag
        fc_mutex_unlock(&self.mutex)
        return {
            "len": n,
            "capacity": None if self.cap < 0 else self.cap,
            "closed": closed != 0,
            "waiting_senders": senders,
            "waiting_receivers": receivers,
            "peak_len": peak,
            "sent": sent,
            "received": received,
        }

    @property
    def closed(self):
        """True once the channel is closed (buffered values may still be waiting)."""
        timer_poll(self)
        return fc_atomic_load_int32_acquire(&self.closed_flag) != 0

    @property
    def capacity(self):
        """0 (unbuffered), N (buffered) or None (unbounded)."""
        return None if self.cap < 0 else self.cap

    def __len__(self):
        timer_poll(self)
        return fc_atomic_load_ssize_relaxed(&self.count)

    def __bool__(self):
        # Always true, like queue.Queue: a channel is a connection, not a container, and
        # an empty one must not vanish in `ch or Chan()` / `if ch:`.  len(ch) counts.
        return True

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return chan_recv(self, -1)
        except Closed:
            raise StopIteration from None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.timer_mode == TIMER_NONE:   # a timer channel cannot be closed: no-op
            chan_close(self)
        return False

    def __repr__(self):
        cap = "None" if self.cap < 0 else str(self.cap)
        state = "closed" if self.closed else "open"
        return f"<fastchan.{type(self).__name__} capacity={cap} len={len(self)} {state}>"

    def __reduce__(self):
        raise TypeError("cannot pickle 'fastchan.Chan' object")

    @classmethod
    def __class_getitem__(cls, item):
        return _GenericAlias(cls, item)


fc_install_gc(Chan, traverse_chan, clear_chan, &cython_traverse_chan, &cython_clear_chan)
