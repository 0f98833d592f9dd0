# _once.pxi -- Once and the @once decorator (Go's sync.Once and sync.OnceValue).
#
# `state` is published with a release store after the first run has finished (value or
# exception recorded), and read with an acquire load, so a caller that sees it set also
# sees everything the first run wrote.  That acquire load is the whole fast path.
# The first run is serialised by a threading.Lock: waiting on it releases the GIL and is
# interruptible (acquire_interruptibly), and fn may run for as long as it likes.
# `owner` (the ident of the thread inside fn) turns a recursive call into RuntimeError
# instead of a self-deadlock.

cdef enum:
    ONCE_PENDING = 0
    ONCE_VALUE = 1
    ONCE_RAISED = 2


cdef inline int64_t thread_ident() noexcept nogil:
    return <int64_t>PyThread_get_thread_ident()


cdef extern from *:
    """
    /* Once.do as a plain METH_FASTCALL method: the fast path is one acquire load of
     * the state at `fc_once_state_offset` (measured on a real instance at import), with
     * no argument packing; everything else is in Once._first (Cython). */
    static Py_ssize_t fc_once_state_offset;
    static PyObject *(*fc_once_first)(PyObject *, PyObject **, Py_ssize_t, PyObject *);

    static PyObject *fc_once_do(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                PyObject *kwnames) {
        if (nargs > 0
                && fc_atomic_load_int32_acquire((int32_t *)((char *)self + fc_once_state_offset)) != 0)
            Py_RETURN_NONE;
        return fc_once_first(self, (PyObject **)args, nargs, kwnames);
    }

    static PyMethodDef fc_once_do_def = {
        "do", (PyCFunction)(void (*)(void))fc_once_do, METH_FASTCALL | METH_KEYWORDS,
        "do($self, fn, /, *args, **kwargs)\\n--\\n\\n"
        "Call fn(*args, **kwargs) if no do() call on this Once ran yet; return None once\\n"
        "that first call has finished (returned or raised)."};

    static int fc_install_method(PyObject *type, PyMethodDef *def) {
        PyObject *descr = PyDescr_NewMethod((PyTypeObject *)type, def);
        int r;
        if (descr == NULL) return -1;
        r = PyDict_SetItemString(((PyTypeObject *)type)->tp_dict, def->ml_name, descr);
        Py_DECREF(descr);
        PyType_Modified((PyTypeObject *)type);
        return r;
    }
    """
    Py_ssize_t fc_once_state_offset
    PyObject *(*fc_once_first)(PyObject *, PyObject **, Py_ssize_t, PyObject *) except NULL
    ctypedef struct PyMethodDef:
        pass
    PyMethodDef fc_once_do_def
    int fc_install_method(object type, PyMethodDef *d) except -1
    object PyObject_Vectorcall(PyObject *fn, PyObject **args, size_t nargsf, PyObject *kwnames)


cdef acquire_interruptibly(lock):
    # Waiting for another thread's first run: in slices, so that a signal handler (Ctrl-C)
    # runs within ~50 ms even when the signal was delivered to some other thread.
    while not lock.acquire(True, 0.05):
        PyErr_CheckSignals()        # a C loop: the handlers run only if we ask


cdef class Once:
    """Once() -- run a function exactly once, however many threads ask (Go's sync.Once).

        >>> setup = Once()
        >>> setup.do(print, "initialising")
        initialising
        >>> setup.do(print, "initialising")       # already done: returns at once
        >>> setup.done
        True

    Every caller of do() returns only after the first run has finished.  If fn raises,
    the exception propagates to the caller that ran it and the Once still counts as done
    (Go's rule); later callers return normally.  Calling do() from inside fn on the same
    Once raises RuntimeError (Go would deadlock).
    """
    cdef int32_t state
    cdef int64_t owner
    cdef object lock

    def __init__(self):
        self.lock = _threading.Lock()

    # do(fn, /, *args, **kwargs) is fc_once_do (C, above), installed below the class.

    cdef _run(self, call):
        if fc_atomic_load_int64(&self.owner) == thread_ident():
            raise RuntimeError("Once.do called from inside its own function (Go would deadlock)")
        acquire_interruptibly(self.lock)
        try:
            if fc_atomic_load_int32_acquire(&self.state) != ONCE_PENDING:
                return
            fc_atomic_store_int64(&self.owner, thread_ident())
            try:
                call()
            finally:
                fc_atomic_store_int64(&self.owner, 0)
                fc_atomic_store_int32_release(&self.state, ONCE_VALUE)
        finally:
            self.lock.release()

    @property
    def done(self):
        """True once the first do() call has finished (returned or raised)."""
        return fc_atomic_load_int32_acquire(&self.state) != ONCE_PENDING

    def __repr__(self):
        return f"<fastchan.Once {'done' if self.done else 'pending'}>"


cdef class OnceValue:
    """The callable that @once returns: see once()."""
    cdef int32_t state
    cdef int64_t owner
    cdef object lock
    cdef object fn
    cdef object value           # written before `state` is published, then never again
    cdef object exc
    cdef object tb
    cdef dict __dict__          # functools.update_wrapper metadata

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"once() argument must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.lock = _threading.Lock()
        _functools.update_wrapper(self, fn)

    def __call__(self):
        cdef int32_t s = fc_atomic_load_int32_acquire(&self.state)
        if s == ONCE_VALUE:
            return self.value
        if s == ONCE_RAISED:
            raise self.exc.with_traceback(self.tb)
        return self._first()

    cdef _first(self):
        if fc_atomic_load_int64(&self.owner) == thread_ident():
            raise RuntimeError(f"{self.fn!r} called itself through @once (Go would deadlock)")
        acquire_interruptibly(self.lock)
        try:
            if fc_atomic_load_int32_acquire(&self.state) == ONCE_PENDING:
                fc_atomic_store_int64(&self.owner, thread_ident())
                try:
                    self.value = self.fn()
                except Exception as e:
                    self.exc = e
                    self.tb = e.__traceback__
                    fc_atomic_store_int32_release(&self.state, ONCE_RAISED)
                else:
                    fc_atomic_store_int32_release(&self.state, ONCE_VALUE)
                finally:
                    fc_atomic_store_int64(&self.owner, 0)
                if self.state != ONCE_PENDING:
                    self.fn = None      # release what the function closed over
        finally:
            self.lock.release()
        return self()

    def __repr__(self):
        return f"<fastchan.once wrapper of {getattr(self, '__wrapped__', None)!r}>"


cdef PyObject *once_first(PyObject *self, PyObject **args, Py_ssize_t nargs,
                          PyObject *kwnames) except NULL:
    # The slow path of fc_once_do: fn is args[0]; the rest is passed on untouched.
    if nargs < 1:
        raise TypeError("Once.do() missing required argument 'fn'")
    if fc_atomic_load_int32_acquire(&(<Once>self).state) != ONCE_PENDING:
        fc_incref(<PyObject *>None)     # done already (fc_once_do checks only when fn is there)
        return <PyObject *>None
    if not callable(<object>args[0]):   # checked before the Once is spent on it
        raise TypeError(f"Once.do() argument 'fn' must be callable, got {type(<object>args[0]).__name__}")
    (<Once>self)._run(lambda: PyObject_Vectorcall(args[0], args + 1, nargs - 1, kwnames))
    fc_incref(<PyObject *>None)
    return <PyObject *>None


cdef Py_ssize_t once_state_offset():
    cdef Once probe = Once()
    return <char *>&probe.state - <char *><PyObject *>probe


fc_once_state_offset = once_state_offset()
fc_once_first = once_first
fc_install_method(Once, &fc_once_do_def)


@cython.always_allow_keywords(True)
def once(fn):
    """@once -- call a function of no arguments once; every call returns its value (Go's
    sync.OnceValue).

        >>> @once
        ... def config():
        ...     print("loading")
        ...     return {"debug": True}
        >>> config()
        loading
        {'debug': True}
        >>> config() is config()
        True

    If the function raises, every call re-raises that same exception (with the original
    traceback).  BaseExceptions such as KeyboardInterrupt are not cached: they propagate
    and the next call tries again.  A recursive call raises RuntimeError.
    """
    return OnceValue(fn)
