"""AtomicInt, AtomicBool, AtomicRef: semantics, bad input, contention, references.

Contract (API.md "Atomics"): AtomicInt is a signed 64-bit integer; a result or argument
outside int64 raises OverflowError and leaves the value unchanged.  AtomicBool takes
arguments by truth value.  AtomicRef compares identity and never leaks or frees a
reference early, also on free-threaded builds.
"""

import gc
import sys
import threading
import weakref
from collections import Counter
from decimal import Decimal
from fractions import Fraction

import pytest

import fastchan as fc
from _helpers import run_threads, spawn

pytestmark = pytest.mark.timeout(60)

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


class Idx:
    """An object that is not an int but has __index__."""

    def __init__(self, v):
        self.v = v

    def __index__(self):
        return self.v


class Obj:
    """A weak-referenceable payload."""

    def __init__(self, tag=None):
        self.tag = tag


def collect():
    for _ in range(3):
        gc.collect()


# =========================================================================== AtomicInt


def test_int_default_and_initial():
    assert fc.AtomicInt().load() == 0
    assert fc.AtomicInt(5).load() == 5
    assert fc.AtomicInt(value=-7).load() == -7
    assert fc.AtomicInt(INT64_MAX).load() == INT64_MAX
    assert fc.AtomicInt(INT64_MIN).load() == INT64_MIN


def test_int_load_returns_int():
    v = fc.AtomicInt(3).load()
    assert type(v) is int and v == 3


def test_int_store():
    a = fc.AtomicInt(1)
    assert a.store(42) is None
    assert a.load() == 42
    a.store(-1)
    assert a.load() == -1


def test_int_add_sub_return_new_value():
    a = fc.AtomicInt(10)
    assert a.add() == 11
    assert a.add(5) == 16
    assert a.add(-20) == -4
    assert a.add(0) == -4
    assert a.sub() == -5
    assert a.sub(5) == -10
    assert a.sub(-30) == 20
    assert a.sub(0) == 20
    assert a.load() == 20


def test_int_swap_returns_old():
    a = fc.AtomicInt(3)
    assert a.swap(9) == 3
    assert a.swap(-2) == 9
    assert a.load() == -2


def test_int_compare_and_swap():
    a = fc.AtomicInt(1)
    assert a.compare_and_swap(1, 2) is True
    assert a.load() == 2
    assert a.compare_and_swap(1, 3) is False
    assert a.load() == 2
    assert a.compare_and_swap(2, 2) is True
    assert a.load() == 2


def test_int_int_and_repr():
    a = fc.AtomicInt(12345)
    assert int(a) == 12345 and type(int(a)) is int
    r = repr(a)
    assert "AtomicInt" in r and "12345" in r
    a.store(-99)
    assert int(a) == -99
    assert "-99" in repr(a)


@pytest.mark.parametrize("op", ["init", "store", "add", "sub", "swap", "cas_expected", "cas_new"])
def test_int_accepts_index_objects(op):
    a = fc.AtomicInt(10)
    if op == "init":
        assert fc.AtomicInt(Idx(7)).load() == 7
    elif op == "store":
        a.store(Idx(7))
        assert a.load() == 7
    elif op == "add":
        assert a.add(Idx(7)) == 17
    elif op == "sub":
        assert a.sub(Idx(7)) == 3
    elif op == "swap":
        assert a.swap(Idx(7)) == 10
        assert a.load() == 7
    elif op == "cas_expected":
        assert a.compare_and_swap(Idx(10), 7) is True
        assert a.load() == 7
    elif op == "cas_new":
        assert a.compare_and_swap(10, Idx(7)) is True
        assert a.load() == 7


BAD_INTS = [1.0, 1.5, "1", b"1", None, [1], object(), Decimal(1), Fraction(1, 1), 1j]
BAD_IDS = ["float1", "float", "str", "bytes", "None", "list", "object", "Decimal", "Fraction", "complex"]


@pytest.mark.parametrize("bad", BAD_INTS, ids=BAD_IDS)
def test_int_init_type_error(bad):
    with pytest.raises(TypeError, match="value"):
        fc.AtomicInt(bad)


@pytest.mark.parametrize("bad", BAD_INTS, ids=BAD_IDS)
def test_int_methods_type_error_value_unchanged(bad):
    a = fc.AtomicInt(5)
    calls = {
        "value": [lambda: a.store(bad), lambda: a.swap(bad)],
        "delta": [lambda: a.add(bad), lambda: a.sub(bad)],
        "expected": [lambda: a.compare_and_swap(bad, 6)],
        "new": [lambda: a.compare_and_swap(5, bad)],
    }
    for name, fns in calls.items():
        for fn in fns:
            with pytest.raises(TypeError, match=name):
                fn()
            assert a.load() == 5


@pytest.mark.parametrize("bad", [INT64_MAX + 1, INT64_MIN - 1, 2**64, -(2**100)])
def test_int_init_overflow(bad):
    with pytest.raises(OverflowError):
        fc.AtomicInt(bad)
    with pytest.raises(OverflowError):
        fc.AtomicInt(Idx(bad))


@pytest.mark.parametrize("bad", [INT64_MAX + 1, INT64_MIN - 1, 2**64, -(2**100)])
def test_int_argument_overflow_value_unchanged(bad):
    a = fc.AtomicInt(5)
    with pytest.raises(OverflowError, match="value"):
        a.store(bad)
    with pytest.raises(OverflowError, match="delta"):
        a.add(bad)
    for fn in (
        lambda: a.store(bad),
        lambda: a.swap(bad),
        lambda: a.add(bad),
        lambda: a.sub(bad),
        lambda: a.compare_and_swap(bad, 1),
        lambda: a.compare_and_swap(5, bad),  # expected matches: must still not store
        lambda: a.store(Idx(bad)),
    ):
        with pytest.raises(OverflowError):
            fn()
        assert a.load() == 5


def test_arguments_by_keyword_as_documented():
    a = fc.AtomicInt(1)
    assert a.add(delta=2) == 3
    assert a.sub(delta=1) == 2
    assert a.compare_and_swap(expected=2, new=7) is True and a.load() == 7
    b = fc.AtomicBool()
    assert b.compare_and_swap(expected=False, new=True) is True and b.load() is True
    r = fc.AtomicRef()
    obj = object()
    assert r.compare_and_swap(expected=None, new=obj) is True and r.load() is obj


def test_int_add_overflow_value_unchanged():
    a = fc.AtomicInt(INT64_MAX)
    with pytest.raises(OverflowError):
        a.add()
    assert a.load() == INT64_MAX
    a.store(INT64_MAX - 10)
    with pytest.raises(OverflowError):
        a.add(11)
    assert a.load() == INT64_MAX - 10
    assert a.add(10) == INT64_MAX  # exactly at the edge is fine
    a.store(INT64_MIN)
    with pytest.raises(OverflowError):
        a.add(-1)
    assert a.load() == INT64_MIN


def test_int_sub_overflow_value_unchanged():
    a = fc.AtomicInt(INT64_MIN)
    with pytest.raises(OverflowError):
        a.sub()
    assert a.load() == INT64_MIN
    a.store(INT64_MAX)
    with pytest.raises(OverflowError):
        a.sub(-1)
    assert a.load() == INT64_MAX
    a.store(INT64_MIN + 10)
    assert a.sub(10) == INT64_MIN


def test_int_extreme_deltas():
    # delta == INT64_MIN is a valid argument; only the result decides.
    a = fc.AtomicInt(0)
    assert a.add(INT64_MIN) == INT64_MIN
    a.store(0)
    with pytest.raises(OverflowError):
        a.sub(INT64_MIN)  # 0 - (-2**63) == 2**63: out of range
    assert a.load() == 0
    a.store(-1)
    assert a.sub(INT64_MIN) == INT64_MAX
    a.store(-1)
    with pytest.raises(OverflowError):
        a.add(INT64_MIN)
    assert a.load() == -1
    a.store(INT64_MIN)
    assert a.add(INT64_MAX) == -1
    assert a.sub(INT64_MAX) == INT64_MIN


def test_int_overflow_does_not_break_later_ops():
    a = fc.AtomicInt(INT64_MAX)
    for _ in range(100):
        with pytest.raises(OverflowError):
            a.add()
    assert a.sub() == INT64_MAX - 1
    assert a.add() == INT64_MAX


# ------------------------------------------------------------------ AtomicInt contention

THREADS = 8
N = 100_000


def test_int_add_exact_under_contention():
    a = fc.AtomicInt()

    def work(_):
        add = a.add
        for _ in range(N):
            add()

    run_threads(THREADS, work)
    assert a.load() == THREADS * N


def test_int_sub_exact_under_contention():
    a = fc.AtomicInt(THREADS * N)

    def work(_):
        sub = a.sub
        for _ in range(N):
            sub()

    run_threads(THREADS, work)
    assert a.load() == 0


def test_int_mixed_add_sub_with_deltas_exact():
    a = fc.AtomicInt(1000)
    n = 20_000

    def work(i):
        d = i + 1
        if i % 2:
            for _ in range(n):
                a.add(d)
        else:
            for _ in range(n):
                a.sub(d)

    run_threads(THREADS, work)
    expected = 1000 + sum(((i + 1) if i % 2 else -(i + 1)) * n for i in range(THREADS))
    assert a.load() == expected


def test_int_add_returns_unique_new_values():
    # Every add(1) returns a distinct new value: together exactly 1..total.
    a = fc.AtomicInt()
    n = 20_000

    def work(_):
        add = a.add
        return [add() for _ in range(n)]

    results = run_threads(THREADS, work)
    seen = [v for r in results for v in r]
    assert len(seen) == THREADS * n
    assert set(seen) == set(range(1, THREADS * n + 1))
    for r in results:  # each thread sees its own results strictly increasing
        assert all(x < y for x, y in zip(r, r[1:]))


def test_int_cas_counter_never_loses_an_update():
    a = fc.AtomicInt()
    n = 20_000

    def work(_):
        retries = 0
        for _ in range(n):
            while True:
                old = a.load()
                if a.compare_and_swap(old, old + 1):
                    break
                retries += 1
        return retries

    run_threads(THREADS, work)
    assert a.load() == THREADS * n


def test_int_cas_spin_lock_mutual_exclusion():
    lock = fc.AtomicInt(0)  # 0 free, 1 held
    inside = [0]
    max_inside = [0]
    total = [0]  # a plain, non-atomic read-modify-write guarded only by the spin lock
    n = 3000

    def work(_):
        for _ in range(n):
            while not lock.compare_and_swap(0, 1):
                pass
            inside[0] += 1
            if inside[0] > max_inside[0]:
                max_inside[0] = inside[0]
            v = total[0]
            for _ in range(5):  # widen the window between read and write
                pass
            total[0] = v + 1
            inside[0] -= 1
            assert lock.swap(0) == 1

    run_threads(4, work)
    assert total[0] == 4 * n
    assert max_inside[0] == 1
    assert lock.load() == 0


def test_int_swap_chain_every_value_seen_once():
    initial = -1
    a = fc.AtomicInt(initial)
    n = 20_000

    def work(i):
        base = i * n
        swap = a.swap
        return [swap(base + j) for j in range(n)]

    results = run_threads(THREADS, work)
    olds = Counter(v for r in results for v in r)
    olds[a.load()] += 1
    stored = Counter(range(THREADS * n))
    stored[initial] += 1
    assert olds == stored


def test_int_cas_exactly_one_winner():
    for _ in range(20):
        a = fc.AtomicInt(0)
        barrier = threading.Barrier(THREADS)

        def work(i):
            barrier.wait()
            return a.compare_and_swap(0, i + 1)

        wins = run_threads(THREADS, work)
        assert sum(wins) == 1
        assert a.load() == wins.index(True) + 1


def test_int_overflow_under_contention_never_exceeds_range():
    # Many threads add toward INT64_MAX: exactly `room` adds succeed, the rest raise,
    # and the value ends exactly at INT64_MAX (never wrapped).
    room = 5000
    a = fc.AtomicInt(INT64_MAX - room)

    def work(_):
        ok = over = 0
        for _ in range(2000):
            try:
                a.add()
                ok += 1
            except OverflowError:
                over += 1
        return ok, over

    results = run_threads(THREADS, work)
    assert sum(ok for ok, _ in results) == room
    assert sum(over for _, over in results) == THREADS * 2000 - room
    assert a.load() == INT64_MAX


# ========================================================================== AtomicBool


def test_bool_default_and_initial():
    assert fc.AtomicBool().load() is False
    assert fc.AtomicBool(True).load() is True
    assert fc.AtomicBool(value=True).load() is True


@pytest.mark.parametrize("v,expected", [(1, True), (0, False), ("x", True), ("", False),
                                        ([0], True), ([], False), (None, False), (object(), True),
                                        (2.5, True), (0.0, False)])
def test_bool_truth_value_arguments(v, expected):
    assert fc.AtomicBool(v).load() is expected
    b = fc.AtomicBool(not expected)
    b.store(v)
    assert b.load() is expected
    b = fc.AtomicBool(not expected)
    assert b.swap(v) is (not expected)
    assert b.load() is expected
    b = fc.AtomicBool(expected)
    assert b.compare_and_swap(v, not expected) is True  # expected by truth value
    assert b.load() is (not expected)
    b = fc.AtomicBool(False)
    assert b.compare_and_swap(False, v) is True  # new by truth value
    assert b.load() is expected


def test_bool_store_swap_cas():
    b = fc.AtomicBool()
    b.store(True)
    assert b.load() is True
    assert b.swap(False) is True
    assert b.swap(False) is False
    assert b.load() is False
    assert b.compare_and_swap(True, True) is False
    assert b.load() is False
    assert b.compare_and_swap(False, True) is True
    assert b.load() is True
    assert b.compare_and_swap(False, False) is False
    assert b.load() is True


def test_bool_dunder_bool_and_repr():
    b = fc.AtomicBool()
    assert bool(b) is False
    assert not b
    assert "False" in repr(b) and "AtomicBool" in repr(b)
    b.store(True)
    assert bool(b) is True
    assert b
    assert "True" in repr(b)


def test_bool_bad_truth_value_propagates_value_unchanged():
    class Bad:
        def __bool__(self):
            raise ZeroDivisionError("no truth")

    b = fc.AtomicBool(True)
    with pytest.raises(ZeroDivisionError):
        b.store(Bad())
    with pytest.raises(ZeroDivisionError):
        b.swap(Bad())
    with pytest.raises(ZeroDivisionError):
        b.compare_and_swap(True, Bad())
    assert b.load() is True
    with pytest.raises(ZeroDivisionError):
        fc.AtomicBool(Bad())


def test_bool_cas_exactly_one_winner():
    for _ in range(20):
        b = fc.AtomicBool()
        barrier = threading.Barrier(THREADS)

        def work(_):
            barrier.wait()
            return b.compare_and_swap(False, True)

        assert sum(run_threads(THREADS, work)) == 1
        assert b.load() is True


def test_bool_swap_toggle_exact():
    # Every swap(True) that returns False is a distinct "acquire"; each releaser swaps
    # back to False.  Acquisitions are counted exactly with no overlap.
    b = fc.AtomicBool()
    holders = [0]
    overlap = [False]
    n = 3000
    acquired = fc.AtomicInt()

    def work(_):
        done = 0
        while done < n:
            if not b.swap(True):
                holders[0] += 1
                if holders[0] != 1:
                    overlap[0] = True
                holders[0] -= 1
                acquired.add()
                done += 1
                b.store(False)

    run_threads(4, work)
    assert acquired.load() == 4 * n
    assert not overlap[0]
    assert b.load() is False


# =========================================================================== AtomicRef


def test_ref_default_and_initial():
    assert fc.AtomicRef().load() is None
    o = Obj()
    assert fc.AtomicRef(o).load() is o
    assert fc.AtomicRef(obj=o).load() is o


def test_ref_store_swap():
    a, b, c = Obj("a"), Obj("b"), Obj("c")
    r = fc.AtomicRef(a)
    assert r.store(b) is None
    assert r.load() is b
    assert r.swap(c) is b
    assert r.load() is c
    assert r.swap(None) is c
    assert r.load() is None


def test_ref_compare_and_swap_uses_identity():
    x = [1, 2]
    equal_not_same = [1, 2]
    new = Obj()
    r = fc.AtomicRef(x)
    assert r.compare_and_swap(equal_not_same, new) is False
    assert r.load() is x
    assert r.compare_and_swap(x, new) is True
    assert r.load() is new
    assert r.compare_and_swap(x, equal_not_same) is False
    assert r.load() is new


def test_ref_compare_and_swap_identity_not_eq():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

        __hash__ = object.__hash__

    class NeverEqual:
        def __eq__(self, other):
            return False

        __hash__ = object.__hash__

    ne = NeverEqual()
    r = fc.AtomicRef(ne)
    assert r.compare_and_swap(AlwaysEqual(), 1) is False
    assert r.load() is ne
    assert r.compare_and_swap(ne, 1) is True  # same object, even though ne != ne
    assert r.load() == 1


def test_ref_compare_and_swap_big_ints_by_identity():
    a = int("12345678901234567890")
    b = int("12345678901234567890")
    assert a == b and a is not b
    r = fc.AtomicRef(a)
    assert r.compare_and_swap(b, 0) is False
    assert r.load() is a
    assert r.compare_and_swap(a, b) is True
    assert r.load() is b


def test_ref_repr():
    r = fc.AtomicRef({"v": 1})
    assert "AtomicRef" in repr(r) and repr({"v": 1}) in repr(r)


# --------------------------------------------------------------- AtomicRef references

needs_refcount = pytest.mark.skipif(not hasattr(sys, "getrefcount"), reason="CPython refcounts")


def test_ref_swapped_out_objects_are_released():
    first = Obj("first")
    refs = [weakref.ref(first)]
    r = fc.AtomicRef(first)
    del first
    collect()
    assert refs[0]() is not None, "held object freed early"
    for i in range(200):
        o = Obj(i)
        refs.append(weakref.ref(o))
        mode = i % 3
        if mode == 0:
            r.store(o)
        elif mode == 1:
            old = r.swap(o)
            assert old is refs[-2]()
            del old
        else:
            assert r.compare_and_swap(r.load(), o)
        del o
    collect()
    assert all(w() is None for w in refs[:-1]), "a swapped-out object leaked"
    assert refs[-1]() is not None, "current object freed early"
    assert r.load() is refs[-1]()
    del r
    collect()
    assert refs[-1]() is None, "object held by a dropped AtomicRef leaked"


def test_ref_failed_cas_does_not_keep_new():
    cur = Obj("cur")
    r = fc.AtomicRef(cur)
    new = Obj("new")
    w = weakref.ref(new)
    for _ in range(100):
        assert r.compare_and_swap(Obj("other"), new) is False
    del new
    collect()
    assert w() is None, "failed compare_and_swap leaked `new`"
    assert r.load() is cur


def test_ref_load_does_not_leak():
    o = Obj()
    w = weakref.ref(o)
    r = fc.AtomicRef(o)
    del o
    for _ in range(1000):
        r.load()
    r.store(None)
    collect()
    assert w() is None


@needs_refcount
def test_ref_refcount_stable_over_many_ops():
    o = Obj("o")
    other = Obj("other")
    r = fc.AtomicRef(o)
    base_o = sys.getrefcount(o)
    base_other = sys.getrefcount(other)
    for _ in range(100_000):
        r.load()
        r.compare_and_swap(o, o)  # success, same object
        r.compare_and_swap(other, other)  # failure
        r.store(o)
    for _ in range(10_000):
        assert r.swap(o) is o
        assert r.compare_and_swap(o, other)
        assert r.compare_and_swap(other, o)
    assert sys.getrefcount(o) == base_o
    assert sys.getrefcount(other) == base_other
    assert r.load() is o
    del r
    assert sys.getrefcount(o) == base_o - 1


def test_ref_cycle_through_atomic_ref_is_collected():
    class Node:
        pass

    n = Node()
    n.ref = fc.AtomicRef(n)
    w = weakref.ref(n)
    del n
    collect()
    assert w() is None, "cycle through AtomicRef not collected"


def test_ref_longer_cycle_is_collected():
    class Node:
        pass

    a, b = Node(), Node()
    a.ref = fc.AtomicRef(b)
    b.ref = fc.AtomicRef([a])
    wa, wb = weakref.ref(a), weakref.ref(b)
    del a, b
    collect()
    assert wa() is None and wb() is None


def test_ref_del_of_replaced_object_may_use_same_ref():
    # Releasing the replaced object may run its __del__, which uses this very AtomicRef.
    r = fc.AtomicRef()
    seen = []

    class D:
        def __del__(self):
            seen.append(r.load())
            r.compare_and_swap(None, None)

    def body():
        r.store(D())
        marker = Obj("m")
        r.store(marker)  # releases the D: its __del__ loads r
        collect()
        r.store(D())
        old = r.swap(marker)
        del old
        collect()
        r.store(D())
        assert r.compare_and_swap(r.load(), marker)
        collect()
        return marker

    marker = spawn(body).join(timeout=10)  # a self-deadlock fails instead of hanging
    assert len(seen) == 3
    assert all(s is marker for s in seen)


def test_ref_concurrent_swaps_no_leak_no_early_free():
    # Writers replace the object, readers use whatever they load.  Afterwards every
    # object except the final one has been released.
    r = fc.AtomicRef(Obj(-1))
    refs = []
    refs_lock = threading.Lock()
    n = 5000

    def writer(i):
        mine = []
        for j in range(n):
            o = Obj((i, j))
            mine.append(weakref.ref(o))
            if j % 2:
                r.store(o)
            else:
                old = r.swap(o)
                assert isinstance(old, Obj)
                assert old.tag == -1 or isinstance(old.tag, tuple)  # still a live object
            del o
        with refs_lock:
            refs.extend(mine)

    def reader(_):
        for _ in range(n):
            o = r.load()
            assert isinstance(o, Obj)
            t = o.tag
            assert t == -1 or isinstance(t, tuple)
            r.compare_and_swap(o, o)

    def work(i):
        (writer if i < 3 else reader)(i)

    run_threads(6, work)
    collect()
    final = r.load()
    alive = [w for w in refs if w() is not None]
    assert alive == [w for w in refs if w() is final]
    assert len(alive) == 1


def test_ref_swap_chain_every_object_seen_once():
    initial = Obj("initial")
    r = fc.AtomicRef(initial)
    n = 10_000
    objs = [[Obj((i, j)) for j in range(n)] for i in range(THREADS)]

    def work(i):
        swap = r.swap
        return [swap(o) for o in objs[i]]

    results = run_threads(THREADS, work)
    olds = Counter(id(o) for res in results for o in res)
    olds[id(r.load())] += 1
    stored = Counter(id(o) for row in objs for o in row)
    stored[id(initial)] += 1
    assert olds == stored


def test_ref_cas_exactly_one_winner():
    for _ in range(20):
        start = Obj("start")
        r = fc.AtomicRef(start)
        barrier = threading.Barrier(THREADS)
        mine = [Obj(i) for i in range(THREADS)]

        def work(i):
            barrier.wait()
            return r.compare_and_swap(start, mine[i])

        wins = run_threads(THREADS, work)
        assert sum(wins) == 1
        assert r.load() is mine[wins.index(True)]
