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
    W_DEADLOCK = -2         # the deadlock detector woke it: the call raises Deadlock

cdef enum BlockedOp:        # what a registered (sleeping) waiter is doing
    BLOCKED_SEND = 0
    BLOCKED_RECV = 1
    BLOCKED_SELECT = 2
    BLOCKED_WAIT = 3        # WaitGroup.wait

cdef tuple BLOCKED_OP_NAMES = ("send", "recv", "select", "wait")

cdef enum:
    PARK_FIRED = 0          # a waker claimed the waiter; the result is in it
    PARK_TIMEOUT = 1        # the deadline passed; the owner cancelled the waiter
    PARK_DEADLOCK = 2       # internal to park: the deadlock detector claimed the waiter

# Main-thread parks wake this often to run signal handlers, so Ctrl-C is seen within
# 100 ms on every platform (Windows ignores intr_flag).
cdef PY_TIMEOUT_T SIGNAL_SLICE_US = 50000

cdef struct Waiter:
    int32_t state           # atomic: W_WAITING -> fired case + 1 | W_CANCELLED | W_DEADLOCK, once
    int32_t closed          # set by the winning waker: the fired case found its channel closed
    PyObject *value         # recv: strong reference handed over by the winning waker
    PyThread_type_lock parker   # held by the owner while it sleeps; the winner releases it
    int32_t fork_gen        # fc_fork_generation when made: older ones are a forked-away
                            # parent thread's, which no waker may pick (wq_claim)
    # Registry of sleeping operations (fastchan.debug): fields below are written by the
    # owner before it links the waiter and read by others only under _registry_lock.
    Waiter *reg_prev
    Waiter *reg_next
    bint registered
    int32_t op              # BlockedOp
    PyObject *what          # borrowed: the Chan or the select cases; the owner's frame
                            # keeps it alive until it unlinks the waiter
    unsigned long thread_ident
    int64_t since           # ns: when it went to sleep
    int64_t deadline        # ns: when it wakes by itself; -1 never

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
    # Runs in the child while it has a single thread, before any fastchan call can run
    # in another.  The other threads of the parent are gone: locks they held are reset
    # on first use (fc_lock.h), the waiters they had queued on channels belong to an
    # older fork generation and are skipped by wakers (wq_claim), and they are dropped
    # from the registry; the forking thread is the child's main thread.
    global _main_thread_ident, _registry_first, _registry_gen, _spinners
    fc_after_fork_in_child()
    _main_thread_ident = PyThread_get_thread_ident()
    _registry_first = NULL
    _registry_gen += 1
    _spinners = 0


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
    operation not yet unlinked, a parent thread's after fork) are unlinked on the way.
    Channel lock held.
    """
    cdef Node *n = q.first
    while n != NULL:
        wq_remove(q, n)
        if (n.waiter.fork_gen == fc_fork_generation
                and fc_atomic_cas_int32(&n.waiter.state, W_WAITING, n.case_index + 1)):
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
    w.registered = False
    w.reg_prev = w.reg_next = NULL
    w.what = NULL
    w.fork_gen = fc_fork_generation
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
    """True if the owner cancelled `w` (or the deadlock detector did); False if a waker
    had already fired it.  Unless this call cancelled it, also waits for the (imminent)
    unpark."""
    if fc_atomic_cas_int32(&w.state, W_WAITING, W_CANCELLED):
        return True
    with nogil:
        PyThread_acquire_lock(w.parker, 1)
    return fc_atomic_load_int32_acquire(&w.state) == W_DEADLOCK


cdef bint ensure_finished(Waiter *w) noexcept:
    """After park() returned or raised: make sure `w` is fired or cancelled (it already
    is, unless park was left by an unexpected error); True if it was cancelled, so the
    caller still has nodes to unlink and no result."""
    if fc_atomic_load_int32_acquire(&w.state) == W_WAITING:
        cancel_or_collect(w)
    return fc_atomic_load_int32_acquire(&w.state) < 0


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


# ---- the registry of sleeping operations, and deadlock detection --------------------
#
# Every waiter that really goes to sleep (after any spin) is linked into one global list
# under _registry_lock and unlinked before park returns, so fastchan.debug.blocked() can
# list them (what, since when, which thread) and the detector can see when every live
# thread sleeps with no deadline.  Only sleeping costs this, never a fast path.
# The detector, when enabled, runs in a thread that goes to sleep with no deadline and
# again every DEADLOCK_SLICE_US while it sleeps (threads that exit change the count).
# Under the lock it claims every such waiter by CAS (W_WAITING -> W_DEADLOCK) only if
# their number is still at least the number of live threads and the registry did not
# change since it counted; the owners then raise Deadlock with the dump.

cdef fc_mutex _registry_lock
cdef Waiter *_registry_first = NULL
cdef uint64_t _registry_gen = 0            # bumped by every link/unlink, under the lock
cdef int32_t _detect_deadlocks = 0         # atomic flag
cdef PY_TIMEOUT_T DEADLOCK_SLICE_US = 100000
_deadlock_dump = ""                        # the dump the woken threads raise with


class Deadlock(RuntimeError):
    """Every live thread was blocked in fastchan with nothing that could wake one
    (fastchan.debug.detect_deadlocks).  `dump` (also str() of it) is the dump of the
    blocked calls, as fastchan.debug.dump() writes it."""

    @property
    def dump(self):
        return str(self.args[0]) if self.args else ""


Deadlock.__module__ = "fastchan"


cdef void registry_link(Waiter *w) noexcept nogil:
    global _registry_first, _registry_gen
    fc_mutex_lock(&_registry_lock)
    w.reg_prev = NULL
    w.reg_next = _registry_first
    if _registry_first != NULL:
        _registry_first.reg_prev = w
    _registry_first = w
    w.registered = True
    _registry_gen += 1
    fc_mutex_unlock(&_registry_lock)


cdef void registry_unlink(Waiter *w) noexcept nogil:
    global _registry_first, _registry_gen
    if not w.registered:
        return
    fc_mutex_lock(&_registry_lock)
    if w.reg_prev != NULL:
        w.reg_prev.reg_next = w.reg_next
    else:
        _registry_first = w.reg_next
    if w.reg_next != NULL:
        w.reg_next.reg_prev = w.reg_prev
    w.registered = False
    _registry_gen += 1
    fc_mutex_unlock(&_registry_lock)


cdef inline bint stuck(Waiter *w) noexcept nogil:
    return w.deadline < 0 and fc_atomic_load_int32_acquire(&w.state) == W_WAITING


cdef Py_ssize_t count_stuck_locked() noexcept nogil:
    cdef Py_ssize_t n = 0
    cdef Waiter *w = _registry_first
    while w != NULL:
        if stuck(w):
            n += 1
        w = w.reg_next
    return n


def _blocked_raw():
    """[(thread_ident, op, what, since_ns, deadline_ns), ...] for every sleeping call:
    the raw material of fastchan.debug.blocked()."""
    cdef Py_ssize_t n, cap = 0, i
    cdef Waiter *w
    cdef PyObject **whats = NULL
    cdef uint64_t *info = NULL      # 4 words per entry: ident, op, since, deadline
    try:
        while True:
            fc_mutex_lock(&_registry_lock)
            n = 0
            w = _registry_first
            while w != NULL:
                if n < cap:         # the owner keeps `what` alive while linked
                    fc_incref(w.what)
                    whats[n] = w.what
                    info[4 * n] = w.thread_ident
                    info[4 * n + 1] = <uint64_t>w.op
                    info[4 * n + 2] = <uint64_t>w.since
                    info[4 * n + 3] = <uint64_t>w.deadline
                n += 1
                w = w.reg_next
            fc_mutex_unlock(&_registry_lock)
            if n <= cap:
                break
            for i in range(cap):
                fc_decref(whats[i])
            PyMem_RawFree(whats)
            PyMem_RawFree(info)
            cap = n + 8
            whats = <PyObject **>PyMem_RawMalloc(cap * sizeof(PyObject *))
            info = <uint64_t *>PyMem_RawMalloc(4 * cap * sizeof(uint64_t))
            if whats == NULL or info == NULL:
                cap = 0
                raise MemoryError()
        result = []
        for i in range(n):
            result.append((info[4 * i], BLOCKED_OP_NAMES[info[4 * i + 1]], fc_steal(whats[i]),
                           <int64_t>info[4 * i + 2], <int64_t>info[4 * i + 3]))
        return result
    finally:
        PyMem_RawFree(whats)
        PyMem_RawFree(info)


def _detect_deadlocks_flag(enabled=None):
    """Read, or set when `enabled` is not None, the deadlock detector's switch."""
    if enabled is not None:
        fc_atomic_store_int32_release(&_detect_deadlocks, 1 if enabled else 0)
    return fc_atomic_load_int32_acquire(&_detect_deadlocks) != 0


cdef int check_deadlock() except -1:
    """If every live thread sleeps in fastchan with no deadline, wake them all with
    W_DEADLOCK (the caller is one of them)."""
    global _deadlock_dump
    cdef Py_ssize_t n, nthreads = _threading.active_count()
    cdef uint64_t gen
    cdef Waiter *w
    fc_mutex_lock(&_registry_lock)
    n = count_stuck_locked()
    gen = _registry_gen
    fc_mutex_unlock(&_registry_lock)
    if n < nthreads:
        return 0
    from fastchan import debug        # the dump is Python; made before anyone is woken
    dump = debug._format_blocked(debug.blocked())
    fc_mutex_lock(&_registry_lock)
    if gen == _registry_gen and count_stuck_locked() == n and n >= _threading.active_count():
        _deadlock_dump = dump
        w = _registry_first
        while w != NULL:
            if stuck(w) and fc_atomic_cas_int32(&w.state, W_WAITING, W_DEADLOCK):
                unpark(w)   # its owner unlinks it only after taking this lock
            w = w.reg_next
    fc_mutex_unlock(&_registry_lock)
    return 0


cdef int park(Waiter *w, int64_t deadline, bint spin, int32_t op, object what) except -1:
    """Sleep, with the GIL released, until a waker fires `w` (PARK_FIRED) or the
    deadline -- ns on the monotonic clock, -1 for none -- passes and the owner cancels
    `w` (PARK_TIMEOUT).  With `spin`, first spins briefly watching w.state.  While it
    sleeps, `w` is in the registry as `op` on `what` (a Chan or the select cases).

    In the main thread it wakes every SIGNAL_SLICE_US (and on EINTR) to run signal
    handlers, staying registered meanwhile.  If a handler raises, `w` is cancelled and
    the exception propagates: the operation has not happened.  If a waker fired `w`
    first, the operation has happened: park returns PARK_FIRED and the handler's
    exception is raised right after the call returns, as a pending call.  If the
    deadlock detector claimed `w`, Deadlock is raised (the operation has not happened).
    """
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
    w.op = op
    w.what = <PyObject *>what
    w.thread_ident = PyThread_get_thread_ident()
    w.since = fc_monotonic_ns()
    w.deadline = deadline
    registry_link(w)
    try:
        r = park_sleep(w, deadline)
    finally:
        registry_unlink(w)
    if r == PARK_DEADLOCK:
        raise Deadlock(_deadlock_dump)
    return r


cdef int park_sleep(Waiter *w, int64_t deadline) except -1:
    cdef bint is_main = w.thread_ident == _main_thread_ident
    cdef PY_TIMEOUT_T us
    cdef int64_t remaining
    cdef PyLockStatus r
    cdef bint detect = deadline < 0 and fc_atomic_load_int32_acquire(&_detect_deadlocks)
    if detect:
        check_deadlock()
    while True:
        if deadline >= 0:
            remaining = deadline - fc_monotonic_ns()
            if remaining <= 0:
                if cancel_or_collect(w):
                    return PARK_DEADLOCK if fc_atomic_load_int32_acquire(&w.state) == W_DEADLOCK else PARK_TIMEOUT
                return PARK_FIRED
            us = (remaining + 999) // 1000
            if us > PY_TIMEOUT_MAX:
                us = PY_TIMEOUT_MAX
        else:
            us = -1
        if is_main and (us < 0 or us > SIGNAL_SLICE_US):
            us = SIGNAL_SLICE_US
        if detect and (us < 0 or us > DEADLOCK_SLICE_US):
            us = DEADLOCK_SLICE_US
        with nogil:
            r = PyThread_acquire_lock_timed(w.parker, us, 1)
        if r == PY_LOCK_ACQUIRED:
            return PARK_DEADLOCK if fc_atomic_load_int32_acquire(&w.state) == W_DEADLOCK else PARK_FIRED
        if is_main:
            try:
                PyErr_CheckSignals()
            except BaseException as e:
                if cancel_or_collect(w):
                    raise
                defer_exception(e)
                return PARK_FIRED
        # Other threads get EINTR for signals only the main thread handles: sleep on.
        if deadline < 0:
            detect = fc_atomic_load_int32_acquire(&_detect_deadlocks)
            if detect:
                check_deadlock()


cdef int64_t parse_timeout(object timeout) except -2:
    """Relative timeout in ns: -1 for None/inf (wait forever), else >= 0."""
    cdef double t
    if timeout is None:
        return -1
    if isinstance(timeout, (bool, str, bytes)):
        raise TypeError(f"timeout must be a number or None, got {type(timeout).__name__}")
    try:
        t = timeout if isinstance(timeout, (int, float)) else float(timeout)
    except OverflowError:   # beyond any float (a huge int or Fraction): forever, or negative
        try:
            negative = timeout < 0
        except TypeError:
            raise TypeError(f"timeout must be a number or None, got {type(timeout).__name__}") from None
        if negative:
            raise ValueError("timeout must be >= 0 or None, got a large negative number") from None
        return -1
    except (TypeError, ValueError):
        raise TypeError(f"timeout must be a number or None, got {type(timeout).__name__}") from None
    if t != t:
        raise ValueError("timeout must be >= 0 or None, got nan")
    if t < 0:
        raise ValueError(f"timeout must be >= 0 or None, got {timeout!r}")
    if t >= 9.2e9:          # ~292 years: forever (and inf)
        return -1
    return <int64_t>(t * 1e9)


def _parse_timeout(timeout):
    """Seconds as a float, or None for no limit: the timeout rules of every fastchan
    call, for the Python modules (Context, WorkerPool)."""
    cdef int64_t ns = parse_timeout(timeout)
    return None if ns < 0 else ns / 1e9


cdef inline int64_t deadline_after(int64_t timeout_ns) noexcept nogil:
    cdef int64_t now
    if timeout_ns < 0:
        return -1
    now = fc_monotonic_ns()
    return -1 if timeout_ns > INT64_MAX - now else now + timeout_ns
