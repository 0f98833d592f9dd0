# _atomic.pxi -- AtomicInt, AtomicBool, AtomicRef.
#
# AtomicInt and AtomicBool are lock-free: every access is one fc_atomic_* operation
# (sequentially consistent), and read-modify-writes that can overflow are CAS loops, so
# an OverflowError leaves the value exactly as it was -- no other thread ever sees an
# out-of-range intermediate.
#
# AtomicRef holds a strong reference.  Taking a *new* reference to an object that another
# thread may be swapping out at the same instant is impossible with a plain atomic load
# (the other thread's DECREF could free the object between our load and our INCREF), so
# the pointer is guarded by a one-byte fc_mutex held only across the pointer move and
# the INCREF of load() -- the scheme of C++'s std::atomic<std::shared_ptr>.  Rules that
# make it leak-free and free-nothing-early on every build:
#   - the field always owns exactly one reference to the object it points to;
#   - load() INCREFs under the lock, so the object cannot be released in between;
#   - store()/swap()/compare_and_swap() move the pointer under the lock and release the
#     replaced reference only after unlocking (a DECREF may run __del__, which may use
#     this very AtomicRef).

cdef extern from "fc_atomic.h" nogil:
    int64_t fc_atomic_load_int64(const int64_t *p)
    void fc_atomic_store_int64(int64_t *p, int64_t v)
    int64_t fc_atomic_exchange_int64(int64_t *p, int64_t v)
    int fc_atomic_cas_int64(int64_t *p, int64_t expected, int64_t desired)
    int32_t fc_atomic_exchange_int32(int32_t *p, int32_t v)
    void fc_atomic_store_int32(int32_t *p, int32_t v)

from libc.stdint cimport INT64_MAX, INT64_MIN


cdef inline bint add_overflows(int64_t a, int64_t b) noexcept nogil:
    return (b > 0 and a > INT64_MAX - b) or (b < 0 and a < INT64_MIN - b)


cdef inline bint sub_overflows(int64_t a, int64_t b) noexcept nogil:
    return (b < 0 and a > INT64_MAX + b) or (b > 0 and a < INT64_MIN + b)


cdef int64_t as_int64(object v, str name) except? -1:
    if not isinstance(v, int):
        try:
            v = v.__index__()
        except AttributeError:
            raise TypeError(f"{name} must be an int, got {type(v).__name__}") from None
    try:
        return v
    except OverflowError:
        raise OverflowError(f"{name} must fit in a signed 64-bit integer, got {v}") from None


cdef class AtomicInt:
    """AtomicInt(value=0) -- a signed 64-bit integer with lock-free atomic operations.

        >>> hits = AtomicInt()
        >>> hits.add()
        1
        >>> hits.compare_and_swap(1, 10)
        True
        >>> int(hits)
        10

    Every operation is sequentially consistent.  A result or argument outside the int64
    range raises OverflowError and leaves the value unchanged.
    """
    cdef int64_t value

    def __init__(self, value=0):
        fc_atomic_store_int64(&self.value, as_int64(value, "value"))

    def load(self):
        """load() -> int: the current value."""
        return fc_atomic_load_int64(&self.value)

    def store(self, value, /):
        """store(value, /) -> None: set the value."""
        fc_atomic_store_int64(&self.value, as_int64(value, "value"))

    def add(self, delta=1):
        """add(delta=1) -> int: add `delta` and return the NEW value."""
        return self._add(as_int64(delta, "delta"), 1)

    def sub(self, delta=1):
        """sub(delta=1) -> int: subtract `delta` and return the NEW value."""
        return self._add(as_int64(delta, "delta"), -1)

    cdef int64_t _add(self, int64_t delta, int sign) except? -1:
        cdef int64_t old = fc_atomic_load_int64(&self.value)
        while True:
            if add_overflows(old, delta) if sign > 0 else sub_overflows(old, delta):
                raise OverflowError(
                    f"AtomicInt.{'add' if sign > 0 else 'sub'}({delta}) on {old} would overflow int64")
            if fc_atomic_cas_int64(&self.value, old, old + delta if sign > 0 else old - delta):
                return old + delta if sign > 0 else old - delta
            old = fc_atomic_load_int64(&self.value)

    def swap(self, value, /):
        """swap(value, /) -> int: set the value and return the OLD one."""
        return fc_atomic_exchange_int64(&self.value, as_int64(value, "value"))

    def compare_and_swap(self, expected, new):
        """compare_and_swap(expected, new) -> bool: set `new` if the value is `expected`."""
        cdef int64_t e = as_int64(expected, "expected")
        return fc_atomic_cas_int64(&self.value, e, as_int64(new, "new")) != 0

    def __int__(self):
        return fc_atomic_load_int64(&self.value)

    def __index__(self):
        return fc_atomic_load_int64(&self.value)

    def __repr__(self):
        return f"fastchan.AtomicInt({fc_atomic_load_int64(&self.value)})"

    def __reduce__(self):
        return (type(self), (fc_atomic_load_int64(&self.value),))


cdef class AtomicBool:
    """AtomicBool(value=False) -- a lock-free atomic flag.

        >>> started = AtomicBool()
        >>> started.compare_and_swap(False, True)   # exactly one caller wins
        True
        >>> bool(started)
        True

    Arguments are interpreted by truth value, like bool(v).
    """
    cdef int32_t value

    def __init__(self, value=False):
        fc_atomic_store_int32(&self.value, 1 if value else 0)

    def load(self):
        """load() -> bool"""
        return fc_atomic_load_int32_acquire(&self.value) != 0

    def store(self, value, /):
        """store(value, /) -> None"""
        fc_atomic_store_int32(&self.value, 1 if value else 0)

    def swap(self, value, /):
        """swap(value, /) -> bool: set the value and return the OLD one."""
        return fc_atomic_exchange_int32(&self.value, 1 if value else 0) != 0

    def compare_and_swap(self, expected, new):
        """compare_and_swap(expected, new) -> bool: set `new` if the value is `expected`."""
        return fc_atomic_cas_int32(&self.value, 1 if expected else 0, 1 if new else 0) != 0

    def __bool__(self):
        return fc_atomic_load_int32_acquire(&self.value) != 0

    def __repr__(self):
        return f"fastchan.AtomicBool({self.load()})"

    def __reduce__(self):
        return (type(self), (self.load(),))


cdef class AtomicRef:
    """AtomicRef(obj=None) -- an atomically replaceable reference to a Python object.

        >>> config = AtomicRef({"v": 1})
        >>> old = config.load()
        >>> config.compare_and_swap(old, {"v": 2})    # compares identity (`is`)
        True
        >>> config.load()
        {'v': 2}

    No reference is ever leaked or released early, on GIL and free-threaded builds alike
    (see the comment at the top of _atomic.pxi for how).
    """
    cdef fc_mutex mutex             # guards `obj` for the pointer move + INCREF only
    cdef PyObject *obj              # owns one reference; never NULL
    cdef object _gc_anchor          # always None: gives the type GC support (see Chan)

    def __cinit__(self, *args, **kwargs):
        fc_incref(<PyObject *>None)
        self.obj = <PyObject *>None

    def __init__(self, obj=None):
        self.store(obj)

    def __dealloc__(self):
        fc_decref(self.obj)

    def load(self):
        """load() -> object: the current object."""
        cdef PyObject *o
        fc_mutex_lock(&self.mutex)
        o = self.obj
        fc_incref(o)
        fc_mutex_unlock(&self.mutex)
        return fc_steal(o)

    def store(self, obj, /):
        """store(obj, /) -> None: replace the object."""
        fc_decref(self._exchange(obj))

    def swap(self, obj, /):
        """swap(obj, /) -> object: replace the object and return the OLD one."""
        return fc_steal(self._exchange(obj))

    cdef PyObject *_exchange(self, object obj):
        cdef PyObject *old
        fc_incref(<PyObject *>obj)
        fc_mutex_lock(&self.mutex)
        old = self.obj
        self.obj = <PyObject *>obj
        fc_mutex_unlock(&self.mutex)
        return old                  # the caller owns it

    def compare_and_swap(self, expected, new):
        """compare_and_swap(expected, new) -> bool: replace with `new` if the current
        object `is` `expected`."""
        cdef PyObject *old = NULL
        fc_incref(<PyObject *>new)
        fc_mutex_lock(&self.mutex)
        if self.obj == <PyObject *>expected:
            old = self.obj
            self.obj = <PyObject *>new
        fc_mutex_unlock(&self.mutex)
        if old == NULL:
            fc_decref(<PyObject *>new)
            return False
        fc_decref(old)
        return True

    def __repr__(self):
        return f"fastchan.AtomicRef({self.load()!r})"

    def __reduce__(self):
        raise TypeError("cannot pickle 'fastchan.AtomicRef' object")


cdef c_traverseproc cython_traverse_atomic_ref
cdef c_inquiry cython_clear_atomic_ref


cdef int traverse_atomic_ref(PyObject *o, c_visitproc visit, void *arg) noexcept:
    # Same conditions as traverse_chan: no thread moves the pointer meanwhile.
    cdef int r = cython_traverse_atomic_ref(o, visit, arg)
    return r if r else visit((<AtomicRef>o).obj, arg)


cdef int clear_atomic_ref(PyObject *o) noexcept:
    cython_clear_atomic_ref(o)
    fc_decref((<AtomicRef>o)._exchange(None))
    return 0


fc_install_gc(AtomicRef, traverse_atomic_ref, clear_atomic_ref,
              &cython_traverse_atomic_ref, &cython_clear_atomic_ref)
