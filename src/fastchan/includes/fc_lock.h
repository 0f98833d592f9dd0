/* fc_lock.h -- the small per-channel mutex and the monotonic clock.
 *
 * Owns: fc_mutex (a channel's lock, valid across fork()) and fc_monotonic_ns().
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
#include <string.h>
#include "fc_atomic.h"

#if defined(_WIN32)
#include <windows.h>
#define FC__YIELD() SwitchToThread()
#else
#include <sched.h>
#define FC__YIELD() sched_yield()
#endif

#if PY_VERSION_HEX >= 0x030D0000

typedef PyMutex fc_rawlock;
static inline void fc_rawlock_lock(fc_rawlock *m) { PyMutex_Lock(m); }
static inline void fc_rawlock_unlock(fc_rawlock *m) { PyMutex_Unlock(m); }

#else

typedef struct { uint8_t locked; } fc_rawlock;

static void fc_rawlock_lock_slow(fc_rawlock *m) {
    unsigned spins = 0;
    for (;;) {
        if (fc_atomic_load_uint8_relaxed(&m->locked) == 0 &&
            fc_atomic_cas_uint8_acquire(&m->locked, 0, 1))
            return;
        if (++spins < 64) fc_cpu_relax();
        else FC__YIELD();
    }
}
static inline void fc_rawlock_lock(fc_rawlock *m) {
    if (!fc_atomic_cas_uint8_acquire(&m->locked, 0, 1)) fc_rawlock_lock_slow(m);
}
static inline void fc_rawlock_unlock(fc_rawlock *m) { fc_atomic_store_uint8_release(&m->locked, 0); }

#endif

/* fork().  A thread that held an fc_mutex when another thread forked does not exist in
 * the child, where that lock would then stay held forever.  So every fc_mutex records
 * the fork generation it is valid in; the child bumps fc_fork_generation (fastchan's
 * os.register_at_fork hook, run while the child has a single thread), and the first
 * lock of an older mutex in the child resets it under one global fix-up lock before it
 * publishes the new generation (release).  Every acquisition checks the generation
 * first (acquire), so no thread of the child can hold the mutex while it is reset.
 * A zeroed fc_mutex is an unlocked one of generation 0. */
typedef struct {
    fc_rawlock raw;
    int32_t gen;
} fc_mutex;

static int32_t fc_fork_generation = 0;
static uint8_t fc__fixup_lock = 0;

static void fc_mutex_renew(fc_mutex *m) {
    unsigned spins = 0;
    while (!fc_atomic_cas_uint8_acquire(&fc__fixup_lock, 0, 1)) {
        if (++spins < 64) fc_cpu_relax();
        else FC__YIELD();
    }
    int32_t gen = fc_atomic_load_int32_relaxed(&fc_fork_generation);
    if (fc_atomic_load_int32_relaxed(&m->gen) != gen) {
        memset(&m->raw, 0, sizeof(m->raw));
        fc_atomic_store_int32_release(&m->gen, gen);
    }
    fc_atomic_store_uint8_release(&fc__fixup_lock, 0);
}
static inline void fc_mutex_lock(fc_mutex *m) {
    if (fc_atomic_load_int32_acquire(&m->gen) != fc_atomic_load_int32_relaxed(&fc_fork_generation))
        fc_mutex_renew(m);
    fc_rawlock_lock(&m->raw);
}
static inline void fc_mutex_unlock(fc_mutex *m) { fc_rawlock_unlock(&m->raw); }

/* In the child right after fork(), while it has one thread. */
static inline void fc_after_fork_in_child(void) {
    fc_fork_generation += 1;
    fc__fixup_lock = 0;
}

/* Monotonic clock in nanoseconds; callable without an attached thread state.  The
 * same clock as time.monotonic() (timer values and Context deadlines are compared with
 * it): CLOCK_MONOTONIC on Linux, mach_absolute_time() on macOS (where CLOCK_MONOTONIC
 * also counts system sleep), the performance counter on Windows (time.monotonic()
 * there since 3.13; before, it reads the coarser GetTickCount64, so values may differ
 * by a few milliseconds from ours). */
#if defined(_WIN32)
#include <windows.h>
static inline int64_t fc_monotonic_ns(void) {
    LARGE_INTEGER freq, now;
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    return (int64_t)((double)now.QuadPart * 1e9 / (double)freq.QuadPart);
}
#elif defined(__APPLE__)
#include <mach/mach_time.h>
static inline int64_t fc_monotonic_ns(void) {
    mach_timebase_info_data_t tb;   /* a constant; cheap to read, so no cache to race on */
    uint64_t ticks = mach_absolute_time();
    if (mach_timebase_info(&tb) != 0 || tb.denom == 0)   /* 0: KERN_SUCCESS */
        tb.numer = tb.denom = 1;    /* never seen; but never divide by zero */
    /* ticks * numer / denom without overflowing 64 bits */
    return (int64_t)((ticks / tb.denom) * tb.numer + (ticks % tb.denom) * tb.numer / tb.denom);
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
