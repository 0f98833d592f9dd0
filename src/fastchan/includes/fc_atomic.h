/* fc_atomic.h -- portable atomic operations on plain integer fields.
 *
 * Owns: every atomic access in fastchan.  Fields stay ordinary C integers (Cython
 * cannot spell _Atomic); only the accesses are atomic, always through these functions,
 * so the memory order is written at each call site.
 *
 * Naming follows CPython's pyatomic.h: operations are sequentially consistent unless a
 * _relaxed, _acquire or _release suffix says otherwise; read-modify-write operations
 * return the PREVIOUS value; compare-exchange returns 1 on success.
 *
 * Backends, in this order: GCC/Clang __atomic builtins, MSVC _Interlocked* intrinsics
 * (x64 / ARM64), else #error -- never a silent non-atomic fallback: these fields are
 * touched by threads that do not hold the GIL.
 */
#ifndef FC_ATOMIC_H
#define FC_ATOMIC_H

#include <Python.h>     /* Py_ssize_t; Python.h must come first in every unit anyway */
#include <stdint.h>
#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)

#define FC__LOAD(p, o) __atomic_load_n((p), (o))
#define FC__STORE(p, v, o) __atomic_store_n((p), (v), (o))

static inline int32_t fc_atomic_load_int32(const int32_t *p) { return FC__LOAD(p, __ATOMIC_SEQ_CST); }
static inline int32_t fc_atomic_load_int32_acquire(const int32_t *p) { return FC__LOAD(p, __ATOMIC_ACQUIRE); }
static inline int32_t fc_atomic_load_int32_relaxed(const int32_t *p) { return FC__LOAD(p, __ATOMIC_RELAXED); }
static inline void fc_atomic_store_int32(int32_t *p, int32_t v) { FC__STORE(p, v, __ATOMIC_SEQ_CST); }
static inline void fc_atomic_store_int32_release(int32_t *p, int32_t v) { FC__STORE(p, v, __ATOMIC_RELEASE); }
static inline void fc_atomic_store_int32_relaxed(int32_t *p, int32_t v) { FC__STORE(p, v, __ATOMIC_RELAXED); }
static inline int32_t fc_atomic_exchange_int32(int32_t *p, int32_t v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
static inline int32_t fc_atomic_add_int32(int32_t *p, int32_t v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline int fc_atomic_cas_int32(int32_t *p, int32_t expected, int32_t desired) {
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static inline int64_t fc_atomic_load_int64(const int64_t *p) { return FC__LOAD(p, __ATOMIC_SEQ_CST); }
static inline int64_t fc_atomic_load_int64_relaxed(const int64_t *p) { return FC__LOAD(p, __ATOMIC_RELAXED); }
static inline void fc_atomic_store_int64(int64_t *p, int64_t v) { FC__STORE(p, v, __ATOMIC_SEQ_CST); }
static inline void fc_atomic_store_int64_relaxed(int64_t *p, int64_t v) { FC__STORE(p, v, __ATOMIC_RELAXED); }
static inline int64_t fc_atomic_add_int64(int64_t *p, int64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline int64_t fc_atomic_exchange_int64(int64_t *p, int64_t v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
static inline int fc_atomic_cas_int64(int64_t *p, int64_t expected, int64_t desired) {
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static inline uint64_t fc_atomic_load_uint64_relaxed(const uint64_t *p) { return FC__LOAD(p, __ATOMIC_RELAXED); }
static inline void fc_atomic_store_uint64_relaxed(uint64_t *p, uint64_t v) { FC__STORE(p, v, __ATOMIC_RELAXED); }

static inline Py_ssize_t fc_atomic_load_ssize_relaxed(const Py_ssize_t *p) { return FC__LOAD(p, __ATOMIC_RELAXED); }
static inline void fc_atomic_store_ssize_relaxed(Py_ssize_t *p, Py_ssize_t v) { FC__STORE(p, v, __ATOMIC_RELAXED); }

static inline int fc_atomic_cas_uint8_acquire(uint8_t *p, uint8_t expected, uint8_t desired) {
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
static inline uint8_t fc_atomic_load_uint8_relaxed(const uint8_t *p) { return FC__LOAD(p, __ATOMIC_RELAXED); }
static inline void fc_atomic_store_uint8_release(uint8_t *p, uint8_t v) { FC__STORE(p, v, __ATOMIC_RELEASE); }

static inline void fc_atomic_fence_seq_cst(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

#if defined(__x86_64__) || defined(__i386__)
static inline void fc_cpu_relax(void) { __builtin_ia32_pause(); }
#elif defined(__aarch64__) || defined(__arm__)
static inline void fc_cpu_relax(void) { __asm__ __volatile__("yield"); }
#else
static inline void fc_cpu_relax(void) { }
#endif

#undef FC__LOAD
#undef FC__STORE

#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_ARM64))

#include <intrin.h>

/* Interlocked* are full barriers.  Plain loads/stores of aligned words are atomic on
 * x64 and ARM64.  Acquire/release: __ldar/__stlr on ARM64; on x64 (TSO) a plain access
 * with a compiler barrier on the correct side (after an acquire load, before a release
 * store), independent of /volatile:ms.  Seq_cst loads and stores use Interlocked ops. */
#if defined(_M_ARM64)
static inline int32_t fc__load_acq32(const int32_t *p) { return (int32_t)__ldar32((volatile unsigned __int32 *)p); }
static inline void fc__store_rel32(int32_t *p, int32_t v) { __stlr32((volatile unsigned __int32 *)p, (unsigned __int32)v); }
static inline void fc__store_rel8(uint8_t *p, uint8_t v) { __stlr8((volatile unsigned __int8 *)p, (unsigned __int8)v); }
#else
static inline int32_t fc__load_acq32(const int32_t *p) { int32_t v = *(volatile const int32_t *)p; _ReadWriteBarrier(); return v; }
static inline void fc__store_rel32(int32_t *p, int32_t v) { _ReadWriteBarrier(); *(volatile int32_t *)p = v; }
static inline void fc__store_rel8(uint8_t *p, uint8_t v) { _ReadWriteBarrier(); *(volatile uint8_t *)p = v; }
#endif

static inline int32_t fc_atomic_load_int32(const int32_t *p) { return (int32_t)_InterlockedCompareExchange((volatile long *)p, 0, 0); }
static inline int32_t fc_atomic_load_int32_acquire(const int32_t *p) { return fc__load_acq32(p); }
static inline int32_t fc_atomic_load_int32_relaxed(const int32_t *p) { return *(volatile const int32_t *)p; }
static inline void fc_atomic_store_int32(int32_t *p, int32_t v) { _InterlockedExchange((volatile long *)p, (long)v); }
static inline void fc_atomic_store_int32_release(int32_t *p, int32_t v) { fc__store_rel32(p, v); }
static inline void fc_atomic_store_int32_relaxed(int32_t *p, int32_t v) { *(volatile int32_t *)p = v; }
static inline int32_t fc_atomic_exchange_int32(int32_t *p, int32_t v) { return (int32_t)_InterlockedExchange((volatile long *)p, (long)v); }
static inline int32_t fc_atomic_add_int32(int32_t *p, int32_t v) { return (int32_t)_InterlockedExchangeAdd((volatile long *)p, (long)v); }
static inline int fc_atomic_cas_int32(int32_t *p, int32_t expected, int32_t desired) {
    return _InterlockedCompareExchange((volatile long *)p, (long)desired, (long)expected) == (long)expected;
}

static inline int64_t fc_atomic_load_int64(const int64_t *p) { return _InterlockedCompareExchange64((volatile __int64 *)p, 0, 0); }
static inline int64_t fc_atomic_load_int64_relaxed(const int64_t *p) { return *(volatile const int64_t *)p; }
static inline void fc_atomic_store_int64(int64_t *p, int64_t v) { _InterlockedExchange64((volatile __int64 *)p, v); }
static inline void fc_atomic_store_int64_relaxed(int64_t *p, int64_t v) { *(volatile int64_t *)p = v; }
static inline int64_t fc_atomic_add_int64(int64_t *p, int64_t v) { return _InterlockedExchangeAdd64((volatile __int64 *)p, v); }
static inline int64_t fc_atomic_exchange_int64(int64_t *p, int64_t v) { return _InterlockedExchange64((volatile __int64 *)p, v); }
static inline int fc_atomic_cas_int64(int64_t *p, int64_t expected, int64_t desired) {
    return _InterlockedCompareExchange64((volatile __int64 *)p, desired, expected) == expected;
}

static inline uint64_t fc_atomic_load_uint64_relaxed(const uint64_t *p) { return *(volatile const uint64_t *)p; }
static inline void fc_atomic_store_uint64_relaxed(uint64_t *p, uint64_t v) { *(volatile uint64_t *)p = v; }

static inline Py_ssize_t fc_atomic_load_ssize_relaxed(const Py_ssize_t *p) { return *(volatile const Py_ssize_t *)p; }
static inline void fc_atomic_store_ssize_relaxed(Py_ssize_t *p, Py_ssize_t v) { *(volatile Py_ssize_t *)p = v; }

static inline int fc_atomic_cas_uint8_acquire(uint8_t *p, uint8_t expected, uint8_t desired) {
    return (uint8_t)_InterlockedCompareExchange8((volatile char *)p, (char)desired, (char)expected) == expected;
}
static inline uint8_t fc_atomic_load_uint8_relaxed(const uint8_t *p) { return *(volatile const uint8_t *)p; }
static inline void fc_atomic_store_uint8_release(uint8_t *p, uint8_t v) { fc__store_rel8(p, v); }

#if defined(_M_ARM64)
static inline void fc_atomic_fence_seq_cst(void) { __dmb(_ARM64_BARRIER_ISH); }
static inline void fc_cpu_relax(void) { __yield(); }
#else
static inline void fc_atomic_fence_seq_cst(void) { _mm_mfence(); }
static inline void fc_cpu_relax(void) { _mm_pause(); }
#endif

#else
#error "fastchan: no atomic operations for this compiler/platform (need GCC/Clang __atomic or MSVC x64/ARM64)"
#endif

#endif /* FC_ATOMIC_H */
