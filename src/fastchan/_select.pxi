# _select.pxi -- select() and Send.
#
# select runs Go's three passes (runtime/select.go):
#   pass 1: try every enabled case in poll order, each under its own channel's lock;
#           the first that can proceed wins.  Poll order is a uniform random permutation
#           (Fisher-Yates; a random start then an in-order scan would not be uniform), or
#           argument order with ordered=True.
#   pass 2: lock every distinct channel in address order (no deadlock against another
#           select), try pass 1 again under all the locks, and if nothing can proceed,
#           enqueue one Node per enabled case -- all on one Waiter -- before unlocking.
#           Re-checking and registering under the same locks means no wake-up is lost;
#           none of our own nodes is queued while we try, so a select never pairs with
#           itself.
#   park;   a waker claims the Waiter by CAS, so exactly one case fires.
#   pass 3: unlink the nodes still queued, one channel lock at a time.

cdef enum:
    CASE_DISABLED = 0
    CASE_RECV = 1
    CASE_SEND = 2
    SMALL_SELECT = 8            # cases handled with stack arrays, no allocation


cdef struct SelCase:
    PyObject *chan              # borrowed: the cases tuple (or its Send) keeps it alive
    PyObject *item              # send: borrowed value; recv: NULL
    int32_t kind


cdef uint64_t _rng_state = <uint64_t>fc_monotonic_ns() | 1


cdef inline uint32_t rand_below(uint32_t n) noexcept nogil:
    """Uniform-enough integer in [0, n): xorshift64* then Lemire's multiply-shift.
    Threads share the state through relaxed atomics; a lost update only repeats a number."""
    cdef uint64_t x = fc_atomic_load_uint64_relaxed(&_rng_state)
    x ^= x >> 12
    x ^= x << 25
    x ^= x >> 27
    fc_atomic_store_uint64_relaxed(&_rng_state, x)
    return <uint32_t>(((x * <uint64_t>2685821657736338717ULL) >> 32) * n >> 32)


@cython.final
cdef class Send:
    """Send(chan, value) -- a select case that sends `value` on `chan`.

        >>> ch = Chan(1)
        >>> select(Send(ch, 42), timeout=0)
        (0, None, True)
    """
    cdef readonly Chan chan
    cdef readonly object value

    def __init__(self, chan, value):
        if self.chan is not None:
            raise TypeError("Send is immutable")
        if not isinstance(chan, Chan):
            raise TypeError(f"Send() chan must be a fastchan.Chan, got {type(chan).__name__}")
        self.chan = chan
        self.value = value

    def __repr__(self):
        return f"fastchan.Send({self.chan!r}, {self.value!r})"

    def __reduce__(self):
        raise TypeError("cannot pickle 'fastchan.Send' object")


cdef inline int try_case_locked(SelCase *c, PyObject **out, Waiter **wake) noexcept nogil:
    if c.kind == CASE_RECV:
        return try_recv_locked(<Chan>c.chan, out, wake)
    return try_send_locked(<Chan>c.chan, c.item, wake)


cdef object case_result(SelCase *c, Py_ssize_t i, int r, PyObject *out):
    """The select result for case i after an attempt that did not block."""
    if r == OP_OK:
        if c.kind == CASE_RECV:
            return (i, fc_steal(out), True)
        return (i, None, True)
    if c.kind == CASE_RECV:         # OP_CLOSED
        return (i, None, False)
    raise_send_error(r)


cdef void lock_all(PyObject **chans, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        fc_mutex_lock(&(<Chan>chans[i]).mutex)


cdef void unlock_all(PyObject **chans, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        fc_mutex_unlock(&(<Chan>chans[i]).mutex)


cdef extern from *:
    """
    static PyObject *(*fc_select_entry)(PyObject **, Py_ssize_t, PyObject *);

    /* select() is a plain METH_FASTCALL builtin: the cases are read straight from the
     * caller's argument array, which the caller keeps alive for the whole call, so a
     * select that completes at once builds no tuple.  The rest is select_entry. */
    static PyObject *fc_select(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                               PyObject *kwnames) {
        (void)self;
        return fc_select_entry((PyObject **)args, nargs, kwnames);
    }

    static PyMethodDef fc_select_def = {
        "select", (PyCFunction)(void (*)(void))fc_select, METH_FASTCALL | METH_KEYWORDS, NULL};

    static PyObject *fc_make_select(PyObject *module_name, const char *doc) {
        fc_select_def.ml_doc = doc;     /* kept alive by the module (select_doc) */
        return PyCFunction_NewEx(&fc_select_def, NULL, module_name);
    }

    static PyObject *fc_tuple_from_array(PyObject *const *items, Py_ssize_t n) {
        PyObject *t = PyTuple_New(n);
        Py_ssize_t i;
        if (t == NULL) return NULL;
        for (i = 0; i < n; i++) {
            Py_INCREF(items[i]);
            PyTuple_SET_ITEM(t, i, items[i]);
        }
        return t;
    }
    """
    PyObject *(*fc_select_entry)(PyObject **, Py_ssize_t, PyObject *) except NULL
    object fc_make_select(object module_name, const char *doc)
    tuple fc_tuple_from_array(PyObject **items, Py_ssize_t n)


# The text signature line ("--") gives inspect.signature(select) its parameters.
cdef bytes select_doc = """select(*cases, timeout=None, ordered=False)
--

select(*cases, timeout=None, ordered=False) -> (index, value, ok)

Wait until one case can proceed, perform exactly that one and report it.  A case is
a Chan (receive), Send(chan, value) (send) or None (never fires).  Returns
(i, value, True) for a receive, (i, None, False) for a receive that found its channel
closed and drained, (i, None, True) for a send, and (-1, None, False) if nothing fired
within `timeout` (timeout=0: only what can happen now, Go's `default:`).  A Send on a
closed channel raises Closed when chosen.  Ready cases are chosen uniformly at random;
ordered=True picks the first ready case in argument order.

    >>> a, b = Chan(1), Chan(1)
    >>> b.send("x")
    >>> select(a, b, timeout=0)
    (1, 'x', True)
""".encode()


cdef PyObject *select_entry(PyObject **args, Py_ssize_t n, PyObject *kwnames) except NULL:
    cdef Py_ssize_t k
    cdef object timeout = None
    cdef bint ordered = False
    if kwnames != NULL:
        for k in range(len(<tuple>kwnames)):
            name = (<tuple>kwnames)[k]
            if name == "timeout":
                timeout = <object>args[n + k]
            elif name == "ordered":
                ordered = <object>args[n + k]
            else:
                raise TypeError(f"select() got an unexpected keyword argument {name!r}")
    cdef int64_t t = -1 if timeout is None else parse_timeout(timeout)
    cdef SelCase small_cases[SMALL_SELECT]
    cdef uint32_t small_order[SMALL_SELECT]
    cdef SelCase *cs = small_cases
    cdef uint32_t *order = small_order
    if n > SMALL_SELECT:
        if n > 0x7fffffff:
            raise ValueError("select takes at most 2**31 - 1 cases")
        cs = <SelCase *>PyMem_RawMalloc(n * sizeof(SelCase))
        order = <uint32_t *>PyMem_RawMalloc(n * sizeof(uint32_t))
        if cs == NULL or order == NULL:
            PyMem_RawFree(cs)
            PyMem_RawFree(order)
            raise MemoryError()
    try:
        result = select_impl(args, n, cs, order, t, ordered)
    finally:
        if n > SMALL_SELECT:
            PyMem_RawFree(cs)
            PyMem_RawFree(order)
    fc_incref(<PyObject *>result)
    return <PyObject *>result


fc_select_entry = select_entry
select = fc_make_select(__name__, select_doc)


cdef object select_impl(PyObject **items, Py_ssize_t n, SelCase *cs, uint32_t *order,
                        int64_t timeout_ns, bint ordered):
    # `items` is borrowed from the caller's arguments, alive for the whole call.
    cdef Py_ssize_t i, j, nenabled = 0
    cdef uint32_t tmp
    cdef int64_t deadline = -1
    cdef bint spin = True
    cdef tuple cases = None
    for i in range(n):
        c = <object>items[i]
        order[i] = <uint32_t>i
        if type(c) is Chan or isinstance(c, Chan):
            cs[i].chan = <PyObject *>c
            cs[i].item = NULL
            cs[i].kind = CASE_RECV
        elif type(c) is Send:
            if (<Send>c).chan is None:
                raise TypeError(f"select case {i} is a Send that was never initialised")
            cs[i].chan = <PyObject *>(<Send>c).chan
            cs[i].item = <PyObject *>(<Send>c).value
            cs[i].kind = CASE_SEND
        elif c is None:
            cs[i].kind = CASE_DISABLED
            continue
        else:
            raise TypeError(f"select case {i} must be a Chan, a Send or None, got {type(c).__name__}")
        nenabled += 1
    if not ordered:
        for i in range(n - 1, 0, -1):
            j = rand_below(<uint32_t>(i + 1))
            tmp = order[i]
            order[i] = order[j]
            order[j] = tmp

    while True:
        result = select_poll(cs, n, order)
        if result is not None:
            return result
        if timeout_ns == 0:
            return (-1, None, False)
        if deadline < 0:
            deadline = deadline_after(timeout_ns)
        if cases is None:       # fastchan.debug shows what a sleeping select waits on
            cases = fc_tuple_from_array(items, n)
        result = select_wait(cases, cs, n, order, nenabled, deadline, spin)
        if result is not None:
            return result
        spin = False    # woken by a timer that other waiters may share: sleep, don't spin
        # A timer case came due while we waited: poll it in pass 1.


cdef object select_poll(SelCase *cs, Py_ssize_t n, uint32_t *order):
    """Pass 1: the result of the first case, in poll order, that can proceed now; else
    None."""
    cdef Py_ssize_t i, k
    cdef PyObject *out = NULL
    cdef Waiter *wake = NULL
    cdef int r
    cdef Chan ch
    for k in range(n):
        i = order[k]
        if cs[i].kind == CASE_DISABLED:
            continue
        ch = <Chan>cs[i].chan
        if cs[i].kind == CASE_RECV:
            timer_poll(ch)
        fc_mutex_lock(&ch.mutex)
        r = try_case_locked(&cs[i], &out, &wake)
        fc_mutex_unlock(&ch.mutex)
        if wake != NULL:
            unpark(wake)
        if r != OP_BLOCK:
            return case_result(&cs[i], i, r, out)
    return None


cdef object select_wait(tuple cases, SelCase *cs, Py_ssize_t n, uint32_t *order,
                        Py_ssize_t nenabled, int64_t deadline, bint spin):
    """Passes 2 and 3 and the park between them.  Returns the result, or None when a
    timer case (whose due time was folded into the park) came due first."""
    cdef Node small_nodes[SMALL_SELECT]
    cdef PyObject *small_chans[SMALL_SELECT]
    cdef Node *nodes = small_nodes
    cdef PyObject **chans = small_chans     # distinct channels in address order (borrowed)
    cdef Py_ssize_t nchans = 0
    cdef Py_ssize_t i, j, k
    cdef Waiter w
    cdef Waiter *wake = NULL
    cdef PyObject *out = NULL
    cdef Chan ch
    cdef int r
    cdef int64_t park_until = deadline
    if n > SMALL_SELECT:
        nodes = <Node *>PyMem_RawMalloc(n * sizeof(Node))
        chans = <PyObject **>PyMem_RawMalloc(n * sizeof(PyObject *))
        if nodes == NULL or chans == NULL:
            PyMem_RawFree(nodes)
            PyMem_RawFree(chans)
            raise MemoryError()
    # Distinct channels sorted by address (insertion sort: n is small).
    for i in range(n):
        if cs[i].kind == CASE_DISABLED:
            continue
        j = nchans
        while j > 0 and <size_t>chans[j - 1] > <size_t>cs[i].chan:
            j -= 1
        if j > 0 and chans[j - 1] == cs[i].chan:
            continue
        for k in range(nchans, j, -1):
            chans[k] = chans[k - 1]
        chans[j] = cs[i].chan
        nchans += 1
    try:
        waiter_init(&w)
    except BaseException:
        if n > SMALL_SELECT:
            PyMem_RawFree(nodes)
            PyMem_RawFree(chans)
        raise
    try:
        # pass 2
        lock_all(chans, nchans)
        for k in range(n):
            i = order[k]
            if cs[i].kind == CASE_DISABLED:
                continue
            r = try_case_locked(&cs[i], &out, &wake)
            if r != OP_BLOCK:
                unlock_all(chans, nchans)
                if wake != NULL:
                    unpark(wake)
                return case_result(&cs[i], i, r, out)
        if deadline >= 0 and fc_monotonic_ns() >= deadline:
            unlock_all(chans, nchans)
            return (-1, None, False)
        for i in range(n):
            if cs[i].kind == CASE_DISABLED:
                continue
            node_init(&nodes[i], &w, cs[i].item, <int32_t>i)
            ch = <Chan>cs[i].chan
            if cs[i].kind == CASE_RECV:
                wq_push(&ch.recvq, &nodes[i])
                park_until = fold_timer_locked(ch, park_until)
            else:
                wq_push(&ch.sendq, &nodes[i])
        unlock_all(chans, nchans)

        try:
            r = park(&w, park_until, spin, BLOCKED_SELECT, cases)
        finally:
            ensure_finished(&w)
            # pass 3: unlink what no waker dequeued (all of it, unless a case fired)
            for j in range(nchans):
                ch = <Chan>chans[j]
                fc_mutex_lock(&ch.mutex)
                for i in range(n):
                    if cs[i].kind != CASE_DISABLED and cs[i].chan == chans[j]:
                        wq_remove(&ch.recvq if cs[i].kind == CASE_RECV else &ch.sendq, &nodes[i])
                fc_mutex_unlock(&ch.mutex)
        if r == PARK_TIMEOUT:
            return (-1, None, False) if park_until == deadline else None
        i = fc_atomic_load_int32_acquire(&w.state) - 1
        if w.closed:
            return case_result(&cs[i], i, OP_CLOSED, NULL)
        return case_result(&cs[i], i, OP_OK, w.value)
    finally:
        waiter_fini(&w)
        if n > SMALL_SELECT:
            PyMem_RawFree(nodes)
            PyMem_RawFree(chans)
