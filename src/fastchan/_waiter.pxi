# _waiter.pxi -- waiter records, wait queues, parking and timeout parsing.
#
# A blocked operation (a send, a recv, or a whole select) owns one Waiter on its C stack
# and one Node per channel case it waits on (Go's sudog; crossbeam's Context + Entry).
#
# The one rule that makes select fire exactly one case, and timeouts and signals lose
# nothing: whoever wants to finish a waiter first wins a CAS on `state` from W_WAITING.
#   - a waker (a peer operation or close) CASes WAITING -> case index + 1 while holding
#     the lock of the channel whose queue holds the node, writes the result into the
#     waiter (value / closed), unlocks, then unparks it: that release is its last touch;
#   - the owner, on timeout or signal, CASes WAITING -> W_CANCELLED.  If it loses, the
#     operation completed: it waits for the (imminent) unpark and reports the result.
# Nodes are linked and unlinked only under their channel's lock.  The owner unlinks every
# node it still has before it returns, so no waker can reach a dead stack frame.

cdef extern from *:
    """
    static inline PyObject *fc_steal(PyObject *o) { return o; }
    """
    # Returns its argument as a new reference Cython now owns: a reference hand-over.
    object fc_steal(PyObject *o)

cdef enum:
    W_WAITING = 0
    W_CANCELLED = -1        # > 0: the case with index state - 1 fired

cdef enum:
    PARK_FIRED = 0          # a waker claimed the waiter; the result is in it
    PARK_TIMEOUT = 1        # the deadline passed; the owner cancelled the waiter

# Main-thread parks wake this often to run signal handlers, so Ctrl-C is seen within
# 100 ms on every platform (Windows ignores intr_flag).
cdef PY_TIMEOUT_T SIGNAL_SLICE_US = 50000

cdef struct Waiter:
    int32_t state           # atomic: W_WAITING -> fired case + 1 | W_CANCELLED, once
    int32_t closed          # set by the winning waker: the fired case found its channel closed
    PyObject *value         # recv: strong reference handed over by the winning waker
    PyThread_type_lock parker   # held by the owner while it sleeps; the winner releases it

cdef struct Node:
    Node *prev              # queue links: guarded by the channel lock
    Node *next
    Node *wake_next         # close() chains the nodes it claimed here, to unpark after unlock
    Waiter *waiter
    PyObject *item          # send: the offered value (borrowed: the sending call holds it)
    int32_t case_index
    bint linked             # guarded by the channel lock

cdef struct WaitQueue:
    Node *first
    Node *last


cdef unsigned long _main_thread_ident = _threading.main_thread().ident


def _after_fork_in_child():
    # The forking thread is the child's only, hence main, thread.  Written while the
    # child has a single thread, before any fastchan call can run in another.
    global _main_thread_ident
    _main_thread_ident = PyThread_get_thread_ident()


_os.register_at_fork(after_in_child=_after_fork_in_child)


cdef inline void wq_push(WaitQueue *q, Node *n) noexcept nogil:
    n.next = NULL
    n.prev = q.last
    if q.last != NULL:
        q.last.next = n
    else:
        q.first = n
    q.last = n
    n.linked = True


cdef inline void wq_remove(WaitQueue *q, Node *n) noexcept nogil:
    if not n.linked:
        return
    if n.prev != NULL:
        n.prev.next = n.next
    else:
        q.first = n.next
    if n.next != NULL:
        n.next.prev = n.prev
    else:
        q.last = n.prev
    n.prev = n.next = NULL
    n.linked = False


cdef inline Node *wq_claim(WaitQueue *q) noexcept nogil:
    """Unlink and return the first node whose waiter this call wins, or NULL.

    Nodes whose waiter is already finished (a select that fired elsewhere, a timed-out
    operation not yet unlinked) are unlinked on the way.  Channel lock held.
    """
    cdef Node *n = q.first
    while n != NULL:
        wq_remove(q, n)
        if fc_atomic_cas_int32(&n.waiter.state, W_WAITING, n.case_index + 1):
            return n
        n = q.first
    return NULL


cdef inline void unpark(Waiter *w) noexcept nogil:
    # The waiter may return and its frame vanish as soon as this releases: last touch.
    PyThread_release_lock(w.parker)


cdef int waiter_init(Waiter *w) except -1:
    w.state = W_WAITING
    w.closed = 0
    w.value = NULL
    w.parker = PyThread_allocate_lock()
    if w.parker == NULL:
        raise MemoryError("cannot allocate a parker")
    PyThread_acquire_lock(w.parker, 0)
    return 0


cdef void waiter_fini(Waiter *w) noexcept:
    # The parker is held here on every path (never acquired, or acquired by the wake-up).
    PyThread_release_lock(w.parker)
    PyThread_free_lock(w.parker)
    w.parker = NULL


cdef inline void node_init(Node *n, Waiter *w, PyObject *item, int32_t case_index) noexcept nogil:
    n.prev = n.next = n.wake_next = NULL
    n.waiter = w
    n.item = item
    n.case_index = case_index
    n.linked = False


cdef bint cancel_or_collect(Waiter *w) noexcept:
    """True if the owner cancelled `w`; False if a waker had already fired it, in which
    case this also waits for that waker's (imminent) unpark."""
    if fc_atomic_cas_int32(&w.state, W_WAITING, W_CANCELLED):
        return True
    with nogil:
        PyThread_acquire_lock(w.parker, 1)
    return False


cdef bint ensure_finished(Waiter *w) noexcept:
    """After park() returned or raised: make sure `w` is fired or cancelled (it already
    is, unless park was left by an unexpected error); True if it was cancelled, so the
    caller still has nodes to unlink and no result."""
    if fc_atomic_load_int32_acquire(&w.state) == W_WAITING:
        cancel_or_collect(w)
    return fc_atomic_load_int32_acquire(&w.state) == W_CANCELLED


cdef int reraise_deferred(void *exc) noexcept with gil:
    # A pending call: raise, at the interpreter's next check, the exception a signal
    # handler raised while the operation it interrupted was completing.  Set directly
    # (no Cython traceback entry), so the traceback shows only where it surfaced.
    PyErr_SetObject(<PyObject *>Py_TYPE(<PyObject *>exc), <PyObject *>exc)
    fc_decref(<PyObject *>exc)
    return -1


cdef void defer_exception(object e) noexcept:
    # Its traceback points into the finished call: drop it, the call did not fail.
    e.__traceback__ = None
    fc_incref(<PyObject *>e)
    if Py_AddPendingCall(reraise_deferred, <void *>e) < 0:
        fc_decref(<PyObject *>e)
        # The pending-call queue is full: report the exception rather than lose the
        # result of the operation that completed.
        _sys.excepthook(type(e), e, None)


# Spin this long (without the GIL) before sleeping, when the machine has a CPU to spare:
# a peer on another core usually answers within a few microseconds, and a futex sleep
# plus wake-up costs more than that.  At most MAX_SPINNERS threads spin at once (one
# fewer than the CPUs, Go's "only if a P is idle" rule): with more threads than cores,
# spinners would only steal time from the threads they wait for.
# Batch calls (send_many/recv_many) never spin: waking at the first value would make
# them move tiny batches, so they sleep and let values pile up.
cdef int64_t SPIN_NS = 20000
cdef int32_t MAX_SPINNERS = max((_os.cpu_count() or 1) - 1, 0)
cdef int32_t _spinners = 0         # threads spinning now; only touched atomically


cdef bint spin_until_fired(Waiter *w, int64_t deadline) noexcept nogil:
    cdef int64_t stop = fc_monotonic_ns() + SPIN_NS
    cdef int i
    if deadline >= 0 and deadline < stop:
        stop = deadline
    while True:
        for i in range(64):
            if fc_atomic_load_int32_acquire(&w.state) != W_WAITING:
                return True
            fc_cpu_relax()
        if fc_monotonic_ns() >= stop:
            return False


cdef int park(Waiter *w, int64_t deadline, bint spin) except -1:
    """Sleep, with the GIL released, until a waker fires `w` (PARK_FIRED) or the
    deadline -- ns on the monotonic clock, -1 for none -- passes and the owner cancels
    `w` (PARK_TIMEOUT).  With `spin`, first spins briefly watching w.state.

    In the main thread it wakes every SIGNAL_SLICE_US (and on EINTR) to run signal
    handlers, staying registered meanwhile.  If a handler raises, `w` is cancelled and
    the exception propagates: the operation has not happened.  If a waker fired `w`
    first, the operation has happened: park returns PARK_FIRED and the handler's
    exception is raised right after the call returns, as a pending call.
    """
    cdef bint is_main = PyThread_get_thread_ident() == _main_thread_ident
    cdef PY_TIMEOUT_T us
    cdef int64_t remaining
    cdef PyLockStatus r
    cdef bint fired = False
    if spin and MAX_SPINNERS > 0:
        with nogil:
            if fc_atomic_add_int32(&_spinners, 1) < MAX_SPINNERS:
                fired = spin_until_fired(w, deadline)
            fc_atomic_add_int32(&_spinners, -1)
            if fired:       # the waker's unpark is imminent
                PyThread_acquire_lock(w.parker, 1)
        if fired:
            return PARK_FIRED
    while True:
        if deadline >= 0:
            remaining = deadline - fc_monotonic_ns()
            if remaining <= 0:
                return PARK_TIMEOUT if cancel_or_collect(w) else PARK_FIRED
            us = (remaining + 999) // 1000
            if us > PY_TIMEOUT_MAX:
                us = PY_TIMEOUT_MAX
        else:
            us = -1
        if is_main and (us < 0 or us > SIGNAL_SLICE_US):
            us = SIGNAL_SLICE_US
        with nogil:
            r = PyThread_acquire_lock_timed(w.parker, us, 1)
        if r == PY_LOCK_ACQUIRED:
            return PARK_FIRED
        if is_main:
            try:
                PyErr_CheckSignals()
            except BaseException as e:
                if cancel_or_collect(w):
                    raise
                defer_exception(e)
                return PARK_FIRED
        # Other threads get EINTR for signals only the main thread handles: sleep on.


cdef int64_t parse_timeout(object timeout) except -2:
    """Relative timeout in ns: -1 for None/inf (wait forever), else >= 0."""
    cdef double t
    if timeout is None:
        return -1
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        try:
            if isinstance(timeout, (bool, str, bytes)):
                raise TypeError
            t = float(timeout)
        except (TypeError, ValueError):
            raise TypeError(f"timeout must be a number or None, got {type(timeout).__name__}") from None
    else:
        t = timeout
    if t != t:
        raise ValueError("timeout must be >= 0 or None, got nan")
    if t < 0:
        raise ValueError(f"timeout must be >= 0 or None, got {timeout!r}")
    if t >= 9.2e9:          # ~292 years: forever (and inf)
        return -1
    return <int64_t>(t * 1e9)


cdef inline int64_t deadline_after(int64_t timeout_ns) noexcept nogil:
    cdef int64_t now
    if timeout_ns < 0:
        return -1
    now = fc_monotonic_ns()
    return -1 if timeout_ns > INT64_MAX - now else now + timeout_ns
