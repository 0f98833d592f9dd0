/* fc_lock.h -- the small per-channel mutex and the monotonic clock.
 *
 * Owns: fc_mutex (a channel's lock) and fc_monotonic_ns().
 *
 * fc_mutex invariants (callers keep them):
 *   - held only for a few pointer moves: never across a park, never while running
 *     Python code (no DECREF that could run __del__, no object allocation), never while
 *     releasing the GIL on purpose;
 *   - several channels' locks are taken only by select, in address order (no deadlock).
 *
 * On CPython >= 3.13 it is PyMutex (one byte, parks properly when contended and
 * detaches the thread state while it waits).  On 3.11/3.12 (always GIL builds) it is a
 * test-and-set byte with a spin-then-yield slow path: it is a real lock, so correctness
 * does not depend on the GIL; under the GIL it is in practice never contended because
 * of the invariants above.
 */
#ifndef FC_LOCK_H
#define FC_LOCK_H

#include <Python.h>
#include <stdint.h>
#include "fc_atomic.h"

#if PY_VERSION_HEX >= 0x030D0000

typedef PyMutex fc_mutex;
static inline void fc_mutex_lock(fc_mutex *m) { PyMutex_Lock(m); }
static inline void fc_mutex_unlock(fc_mutex *m) { PyMutex_Unlock(m); }

#else

#if defined(_WIN32)
#include <windows.h>
#define FC__YIELD() SwitchToThread()
#else
#include <sched.h>
#define FC__YIELD() sched_yield()
#endif

typedef struct { uint8_t locked; } fc_mutex;

static void fc_mutex_lock_slow(fc_mutex *m) {
    unsigned spins = 0;
    for (;;) {
        if (fc_atomic_load_uint8_relaxed(&m->locked) == 0 &&
            fc_atomic_cas_uint8_acquire(&m->locked, 0, 1))
            return;
        if (++spins < 64) fc_cpu_relax();
        else FC__YIELD();
    }
}
static inline void fc_mutex_lock(fc_mutex *m) {
    if (!fc_atomic_cas_uint8_acquire(&m->locked, 0, 1)) fc_mutex_lock_slow(m);
}
static inline void fc_mutex_unlock(fc_mutex *m) { fc_atomic_store_uint8_release(&m->locked, 0); }

#endif

/* Monotonic clock in nanoseconds; callable without an attached thread state. */
#if defined(_WIN32)
#include <windows.h>
static inline int64_t fc_monotonic_ns(void) {
    LARGE_INTEGER freq, now;
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    return (int64_t)((double)now.QuadPart * 1e9 / (double)freq.QuadPart);
}
#else
#include <time.h>
static inline int64_t fc_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
#endif

#endif /* FC_LOCK_H */
