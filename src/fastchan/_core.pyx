# cython: language_level=3, freethreading_compatible=True, binding=False, embedsignature=True, embedsignature.format=clinic
# cython: boundscheck=False, wraparound=False, cdivision=True, auto_pickle=False, always_allow_keywords=False
"""fastchan._core: the compiled hot path -- Chan, select, Send, parking, atomics, Once.

The module is one translation unit split into included files, in dependency order:

  _waiter.pxi   waiter records ("sudogs"), per-channel wait queues, parking, timeouts
  _chan.pxi     Chan: ring buffer, unbuffered hand-off, close, batch operations
  _select.pxi   select() and Send
  _timer.pxi    after(), tick() and Ticker; the Context deadline channel
  _atomic.pxi   AtomicInt, AtomicBool, AtomicRef
  _once.pxi     Once and @once

Nothing here relies on the GIL for correctness: shared state is either under a channel's
fc_mutex or accessed through fc_atomic_* (includes/).  The module declares free-threading
support, so importing it on a free-threaded build keeps the GIL off.
"""

cimport cython
from cpython.object cimport PyObject
from libc.stdint cimport INT64_MAX, int32_t, int64_t, uint32_t, uint64_t
from libc.string cimport memset

import functools as _functools
import os as _os
import queue as _queue
import sys as _sys
from types import GenericAlias as _GenericAlias
import threading as _threading

cdef extern from "Python.h":
    # Reference moves on raw pointers, callable inside our nogil helpers (which still run
    # with an attached thread state: "nogil" there only forbids Python-level code).
    void fc_incref "Py_INCREF"(PyObject *o) nogil
    void fc_decref "Py_DECREF"(PyObject *o)
    void *PyMem_RawMalloc(size_t n) nogil
    void *PyMem_RawCalloc(size_t n, size_t size) nogil
    void PyMem_RawFree(void *p) nogil
    int PyErr_CheckSignals() except -1
    int Py_AddPendingCall(int (*func)(void *) noexcept, void *arg)
    void PyErr_SetObject(PyObject *type, PyObject *value)
    PyObject *Py_TYPE(PyObject *o)
    Py_ssize_t PY_SSIZE_T_MAX
    PyObject *fc_tuple_item "PyTuple_GET_ITEM"(object t, Py_ssize_t i)  # borrowed

cdef extern from "Python.h":
    # GC slot types, declared here without the Python-object arguments of Cython's own.
    ctypedef int (*c_visitproc "visitproc")(PyObject *, void *) noexcept
    ctypedef int (*c_traverseproc "traverseproc")(PyObject *, c_visitproc, void *) noexcept
    ctypedef int (*c_inquiry "inquiry")(PyObject *) noexcept

cdef extern from *:
    """
    /* Give a Cython type extra GC slots that wrap Cython's own (kept in *orig_*). */
    static void fc_install_gc(PyObject *type, traverseproc tr, inquiry cl,
                              traverseproc *orig_tr, inquiry *orig_cl) {
        PyTypeObject *t = (PyTypeObject *)type;
        *orig_tr = t->tp_traverse;
        *orig_cl = t->tp_clear;
        t->tp_traverse = tr;
        t->tp_clear = cl;
    }
    """
    void fc_install_gc(object type, c_traverseproc tr, c_inquiry cl,
                       c_traverseproc *orig_tr, c_inquiry *orig_cl)

cdef extern from "pythread.h":
    ctypedef void *PyThread_type_lock
    ctypedef long long PY_TIMEOUT_T
    PY_TIMEOUT_T PY_TIMEOUT_MAX
    ctypedef enum PyLockStatus:
        PY_LOCK_FAILURE
        PY_LOCK_ACQUIRED
        PY_LOCK_INTR
    PyThread_type_lock PyThread_allocate_lock() nogil
    void PyThread_free_lock(PyThread_type_lock) nogil
    int PyThread_acquire_lock(PyThread_type_lock, int waitflag) nogil
    PyLockStatus PyThread_acquire_lock_timed(PyThread_type_lock, PY_TIMEOUT_T us, int intr_flag) nogil
    void PyThread_release_lock(PyThread_type_lock) nogil
    unsigned long PyThread_get_thread_ident() nogil

cdef extern from "fc_atomic.h" nogil:
    int32_t fc_atomic_load_int32_acquire(const int32_t *p)
    void fc_atomic_store_int32_release(int32_t *p, int32_t v)
    void fc_atomic_store_int32_relaxed(int32_t *p, int32_t v)
    int fc_atomic_cas_int32(int32_t *p, int32_t expected, int32_t desired)
    int32_t fc_atomic_add_int32(int32_t *p, int32_t v)
    int64_t fc_atomic_load_int64_relaxed(const int64_t *p)
    void fc_atomic_store_int64_relaxed(int64_t *p, int64_t v)
    uint64_t fc_atomic_load_uint64_relaxed(const uint64_t *p)
    void fc_atomic_store_uint64_relaxed(uint64_t *p, uint64_t v)
    Py_ssize_t fc_atomic_load_ssize_relaxed(const Py_ssize_t *p)
    void fc_cpu_relax()
    void fc_atomic_store_ssize_relaxed(Py_ssize_t *p, Py_ssize_t v)

cdef extern from "fc_lock.h" nogil:
    ctypedef struct fc_mutex:
        pass
    void fc_mutex_lock(fc_mutex *m)
    void fc_mutex_unlock(fc_mutex *m)
    int64_t fc_monotonic_ns()
    int32_t fc_fork_generation
    void fc_after_fork_in_child()


class Closed(Exception):
    """Send on a closed channel, or receive from a closed and drained one.

    Raised by send_many with ``.sent``: the number of values delivered before it.
    """


class Empty(_queue.Empty):
    """try_recv() found nothing ready and was given no default."""


Closed.__module__ = Empty.__module__ = "fastchan"

include "_waiter.pxi"
include "_chan.pxi"
include "_select.pxi"
include "_timer.pxi"
include "_atomic.pxi"
include "_once.pxi"
