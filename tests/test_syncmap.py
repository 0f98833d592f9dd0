"""SyncMap: every method's semantics, snapshots, == comparisons, and atomicity under load.

Contract (API.md "`fc.SyncMap()`", Go's sync.Map): load(key, default=None),
store(key, value), load_or_store -> (value, loaded), load_and_delete -> (value, loaded),
delete(key), swap -> (previous, loaded), compare_and_swap(key, old, new) -> bool,
compare_and_delete(key, old) -> bool (both compare with ==; documented: a comparison that
writes to the same map raises RuntimeError), len(), clear(), items() (a consistent
snapshot list), keys() (snapshot list, documented), m[key], key in m, iter(m) over a
snapshot.
"""

import threading
from collections import Counter

import pytest

import fastchan as fc
from _helpers import run_threads, spawn

pytestmark = pytest.mark.timeout(60)


def make(**kv):
    m = fc.SyncMap()
    for k, v in kv.items():
        m.store(k, v)
    return m


# =========================================================================== load/store


def test_empty_map():
    m = fc.SyncMap()
    assert len(m) == 0 and m.len() == 0
    assert m.load("k") is None
    assert "k" not in m
    assert list(m) == []
    assert m.items() == [] and m.keys() == []


def test_load_default():
    m = fc.SyncMap()
    sentinel = object()
    assert m.load("missing") is None
    assert m.load("missing", sentinel) is sentinel
    assert m.load("missing", default=5) == 5
    m.store("k", 0)
    assert m.load("k", sentinel) == 0


def test_store_and_overwrite():
    m = fc.SyncMap()
    v = object()
    assert m.store("k", v) is None
    assert m.load("k") is v
    m.store("k", 2)
    assert m.load("k") == 2
    assert len(m) == 1


def test_stored_none_is_a_real_entry():
    m = make(k=None)
    assert m.load("k", "default") is None
    assert "k" in m
    assert m["k"] is None
    assert len(m) == 1
    assert m.load_or_store("k", 1) == (None, True)
    assert m.swap("k", None) == (None, True)
    assert m.load_and_delete("k") == (None, True)
    assert "k" not in m


def test_keys_compare_by_hash_and_eq():
    m = fc.SyncMap()
    m.store(1, "int")
    assert m.load(1.0) == "int"  # dict semantics: 1 == 1.0, same hash
    assert 1.0 in m
    m.store((1, "a"), "tuple")
    assert m[(1, "a")] == "tuple"


def test_unhashable_key_type_error():
    m = fc.SyncMap()
    with pytest.raises(TypeError):
        m.store([1], 1)
    with pytest.raises(TypeError):
        m.load([1])
    assert len(m) == 0


# ======================================================================= load_or_store


def test_load_or_store():
    m = fc.SyncMap()
    v1, v2 = object(), object()
    value, loaded = m.load_or_store("k", v1)
    assert value is v1 and loaded is False
    value, loaded = m.load_or_store("k", v2)
    assert value is v1 and loaded is True
    assert m.load("k") is v1
    assert len(m) == 1


def test_load_or_store_concurrent_exactly_one_stores():
    for _ in range(10):
        m = fc.SyncMap()
        n = 16
        barrier = threading.Barrier(n)
        mine = [object() for _ in range(n)]

        def work(i):
            barrier.wait()
            return m.load_or_store("k", mine[i])

        results = run_threads(n, work)
        assert sum(not loaded for _, loaded in results) == 1
        winner = next(v for v, loaded in results if not loaded)
        assert all(v is winner for v, _ in results)
        assert m.load("k") is winner


# ====================================================================== load_and_delete


def test_load_and_delete():
    v = object()
    m = make(k=v, other=1)
    assert m.load_and_delete("k") == (v, True)
    assert m.load_and_delete("k")[0] is None
    assert m.load_and_delete("k") == (None, False)
    assert "k" not in m and m.load("k") is None
    assert m.load("other") == 1
    assert len(m) == 1


def test_load_and_delete_concurrent_exactly_one_gets_it():
    for _ in range(10):
        v = object()
        m = make(k=v)
        n = 16
        barrier = threading.Barrier(n)

        def work(_):
            barrier.wait()
            return m.load_and_delete("k")

        results = run_threads(n, work)
        assert [r for r in results if r[1]] == [(v, True)]
        assert results.count((None, False)) == n - 1
        assert len(m) == 0


# ============================================================================== delete


def test_delete():
    m = make(a=1, b=2)
    assert m.delete("a") is None
    assert "a" not in m and len(m) == 1
    assert m.delete("a") is None  # missing: no error
    assert m.delete("never") is None
    assert len(m) == 1 and m["b"] == 2


# ================================================================================ swap


def test_swap():
    m = fc.SyncMap()
    assert m.swap("k", 1) == (None, False)
    assert m.load("k") == 1
    assert m.swap("k", 2) == (1, True)
    assert m.swap("k", None) == (2, True)
    assert m.swap("k", 3) == (None, True)
    assert m.load("k") == 3


def test_swap_chain_every_value_seen_once():
    m = make(k="initial")
    threads, n = 8, 5000

    def work(i):
        return [m.swap("k", (i, j)) for j in range(n)]

    results = run_threads(threads, work)
    assert all(loaded for r in results for _, loaded in r)
    olds = Counter(v for r in results for v, _ in r)
    olds[m.load("k")] += 1
    stored = Counter((i, j) for i in range(threads) for j in range(n))
    stored["initial"] += 1
    assert olds == stored


# ==================================================================== compare_and_swap


def test_compare_and_swap():
    m = make(k=1)
    assert m.compare_and_swap("k", 2, 10) is False
    assert m.load("k") == 1
    assert m.compare_and_swap("k", 1, 10) is True
    assert m.load("k") == 10
    assert m.compare_and_swap("k", 1, 20) is False
    assert m.load("k") == 10


def test_compare_and_swap_missing_key_false():
    m = fc.SyncMap()
    assert m.compare_and_swap("k", None, 1) is False
    assert "k" not in m
    assert m.compare_and_swap("k", 0, 1) is False
    assert len(m) == 0


def test_compare_and_swap_uses_eq_not_identity():
    a = [1, 2]
    m = make(k=a)
    assert m.compare_and_swap("k", [1, 2], "new") is True  # equal, not the same object
    assert m.load("k") == "new"
    m.store("n", 1)
    assert m.compare_and_swap("n", 1.0, 2) is True
    assert m.compare_and_swap("n", 2.0000001, 3) is False
    assert m.load("n") == 2


def test_compare_and_swap_custom_eq():
    class Version:
        def __init__(self, v):
            self.v = v

        def __eq__(self, other):
            return isinstance(other, Version) and self.v == other.v

        __hash__ = None

    m = make(k=Version(1))
    assert m.compare_and_swap("k", Version(2), "x") is False
    assert m.compare_and_swap("k", Version(1), "x") is True
    assert m.load("k") == "x"


# ================================================================== compare_and_delete


def test_compare_and_delete():
    m = make(k=1, other=2)
    assert m.compare_and_delete("k", 2) is False
    assert m.load("k") == 1
    assert m.compare_and_delete("k", 1.0) is True  # ==
    assert "k" not in m
    assert m.compare_and_delete("k", 1) is False  # missing
    assert m.compare_and_delete("never", None) is False
    assert len(m) == 1 and m["other"] == 2


def test_compare_and_delete_concurrent_exactly_one_wins():
    for _ in range(10):
        m = make(k="v")
        n = 16
        barrier = threading.Barrier(n)

        def work(_):
            barrier.wait()
            return m.compare_and_delete("k", "v")

        assert sum(run_threads(n, work)) == 1
        assert "k" not in m


# ===================================================================== comparison rules


class _WritesTo:
    """A value whose == writes to `target`."""

    def __init__(self, target, op):
        self.target = target
        self.op = op

    def __eq__(self, other):
        self.op(self.target)
        return True

    __hash__ = None


SELF_WRITES = {
    "store": lambda m: m.store("x", 1),
    "delete": lambda m: m.delete("k"),
    "load_or_store": lambda m: m.load_or_store("x", 1),
    "swap": lambda m: m.swap("k", "hijacked"),
    "clear": lambda m: m.clear(),
    "compare_and_swap": lambda m: m.compare_and_swap("k", "v", "w"),
}


@pytest.mark.parametrize("write", list(SELF_WRITES), ids=list(SELF_WRITES))
@pytest.mark.parametrize("method", ["compare_and_swap", "compare_and_delete"])
def test_comparison_writing_same_map_raises_runtime_error(method, write):
    m = make(k="v")
    evil = _WritesTo(m, SELF_WRITES[write])

    def call():
        if method == "compare_and_swap":
            return m.compare_and_swap("k", evil, "new")
        return m.compare_and_delete("k", evil)

    t = spawn(call)  # a self-deadlock fails the test instead of hanging it
    exc = t.join_exc(timeout=10)
    assert isinstance(exc, RuntimeError), exc
    assert m.items() == [("k", "v")]  # nothing changed
    m.store("after", 1)  # the lock was released
    assert m.load("after") == 1


def test_comparison_may_write_a_different_map():
    m, other = make(k="v"), fc.SyncMap()
    evil = _WritesTo(other, lambda o: o.store("side", "effect"))
    assert m.compare_and_swap("k", evil, "new") is True
    assert m.load("k") == "new"
    assert other.load("side") == "effect"


def test_comparison_exception_propagates_map_unchanged_and_usable():
    class Boom(Exception):
        pass

    class Bad:
        def __eq__(self, other):
            raise Boom

        __hash__ = None

    m = make(k="v")
    with pytest.raises(Boom):
        m.compare_and_swap("k", Bad(), "new")
    with pytest.raises(Boom):
        m.compare_and_delete("k", Bad())
    assert m.load("k") == "v"

    def after():
        m.store("k", "w")
        return m.compare_and_swap("k", "w", "z")

    assert spawn(after).join(timeout=10) is True
    assert m.load("k") == "z"


# ======================================================================= len / clear


def test_len_and_clear():
    m = fc.SyncMap()
    for i in range(10):
        m.store(i, i)
    assert len(m) == 10 and m.len() == 10
    m.delete(3)
    assert len(m) == 9 and m.len() == 9
    assert m.clear() is None
    assert len(m) == 0 and m.len() == 0
    assert m.items() == [] and list(m) == []
    m.store("again", 1)
    assert len(m) == 1


# ==================================================================== snapshots & protocol


def test_items_and_keys_are_snapshot_lists():
    m = make(a=1, b=2)
    items = m.items()
    keys = m.keys()
    assert type(items) is list and type(keys) is list
    assert sorted(items) == [("a", 1), ("b", 2)]
    assert sorted(keys) == ["a", "b"]
    m.store("c", 3)
    m.delete("a")
    m.store("b", 20)
    assert sorted(items) == [("a", 1), ("b", 2)]  # unaffected by later writes
    assert sorted(keys) == ["a", "b"]
    items.append(("zzz", 0))  # and mutating the list does not touch the map
    keys.clear()
    assert sorted(m.items()) == [("b", 20), ("c", 3)]


def test_get_and_values_as_the_mapping_protocol():
    m = make(a=1, b=2)
    assert m.get("a") == 1 and m.get("zz") is None and m.get("zz", 0) == 0
    values = m.values()
    assert type(values) is list and sorted(values) == [1, 2]
    m.store("c", 3)
    assert sorted(values) == [1, 2]         # a snapshot
    assert dict(m) == {"a": 1, "b": 2, "c": 3}


def test_getitem():
    m = make(k=1)
    assert m["k"] == 1
    with pytest.raises(KeyError) as ei:
        m["missing"]
    assert ei.value.args == ("missing",)
    m.delete("k")
    with pytest.raises(KeyError):
        m["k"]


def test_contains():
    m = make(k=0)
    assert "k" in m
    assert "x" not in m
    m.delete("k")
    assert "k" not in m


def test_iter_over_snapshot_allows_mutation():
    m = fc.SyncMap()
    for i in range(10):
        m.store(i, i)
    seen = []
    for k in m:
        seen.append(k)
        m.delete(k)  # would be "dictionary changed size" on a live view
        m.store(("new", k), k)
    assert sorted(seen) == list(range(10))  # the snapshot, not the new keys
    assert sorted(m.keys()) == [("new", k) for k in range(10)]


def test_iter_yields_keys():
    m = make(a=1, b=2, c=3)
    assert sorted(m) == ["a", "b", "c"]
    assert sorted(iter(m)) == ["a", "b", "c"]
    assert set(m.keys()) == {"a", "b", "c"}
    assert dict(m.items()) == {"a": 1, "b": 2, "c": 3}


def test_items_consistent_snapshot_under_writes():
    # The writer keeps the invariant "a == b or a == b + 1" between any two writes;
    # a consistent snapshot must see it, and iteration never trips over a resize.
    m = make(a=0, b=0)
    stop = threading.Event()
    n = 20000

    def writer():
        for i in range(1, n + 1):
            m.store("a", i)
            m.store(("tmp", i % 50), i)  # churn the dict size as well
            m.delete(("tmp", (i + 25) % 50))
            m.store("b", i)
        stop.set()

    def reader(_):
        checks = 0
        while not stop.is_set() or checks == 0:
            snap = dict(m.items())
            a, b = snap["a"], snap["b"]
            assert a == b or a == b + 1, (a, b)
            list(m)  # never raises
            checks += 1
        return checks

    w = spawn(writer)
    checks = run_threads(3, reader)
    w.join()
    assert all(c > 0 for c in checks)
    assert m.load("a") == m.load("b") == n


# ===================================================================== hammer tests


def test_hammer_cas_increments_exact():
    m = fc.SyncMap()
    keys = ["k0", "k1", "k2", "k3"]
    threads, n = 8, 2000

    def work(i):
        retries = 0
        for j in range(n):
            key = keys[(i + j) % len(keys)]
            m.load_or_store(key, 0)
            while True:
                old = m.load(key)
                if m.compare_and_swap(key, old, old + 1):
                    break
                retries += 1
        return retries

    run_threads(threads, work)
    per_key = threads * n // len(keys)
    assert {k: m.load(k) for k in keys} == {k: per_key for k in keys}
    assert sum(v for _, v in m.items()) == threads * n


def test_hammer_load_or_store_counter_objects():
    # Each key's counter object is created once by load_or_store; every thread then
    # increments whichever object won.  Lost stores would lose counts.
    m = fc.SyncMap()
    threads, n = 8, 2000

    def work(i):
        for j in range(n):
            counter, _ = m.load_or_store(j % 10, fc.AtomicInt())
            counter.add()

    run_threads(threads, work)
    assert len(m) == 10
    assert {k: c.load() for k, c in m.items()} == {k: threads * n // 10 for k in range(10)}


def test_hammer_mixed_operations_keep_tokens():
    # Tokens move between keys only through atomic operations; none is lost or
    # duplicated: take with load_and_delete, put back with load_or_store (to an empty
    # slot) or keep trying.
    m = fc.SyncMap()
    slots = 16
    tokens = 8
    for t in range(tokens):
        m.store(t, ("token", t))
    threads, n = 6, 2000

    def work(i):
        held = None
        for j in range(n):
            if held is None:
                v, loaded = m.load_and_delete((i + j) % slots)
                if loaded:
                    held = v
            else:
                _, loaded = m.load_or_store((i * 7 + j) % slots, held)
                if not loaded:
                    held = None
        while held is not None:  # put it back somewhere
            for s in range(slots):
                _, loaded = m.load_or_store(s, held)
                if not loaded:
                    held = None
                    break
        return None

    run_threads(threads, work)
    assert sorted(v for _, v in m.items()) == [("token", t) for t in range(tokens)]


def test_hammer_compare_and_delete_and_store():
    # Each key goes 0 -> 1 -> deleted in order; every thread tries every step; each
    # step succeeds exactly once per key.
    m = fc.SyncMap()
    keys = 500
    for k in range(keys):
        m.store(k, 0)
    threads = 8
    barrier = threading.Barrier(threads)

    def work(_):
        barrier.wait()
        wins_cas = wins_del = 0
        for k in range(keys):
            if m.compare_and_swap(k, 0, 1):
                wins_cas += 1
        for k in range(keys):
            while k in m and m.load(k) == 0:  # another thread's CAS may be pending
                pass
            if m.compare_and_delete(k, 1):
                wins_del += 1
        return wins_cas, wins_del

    results = run_threads(threads, work)
    assert sum(c for c, _ in results) == keys
    assert sum(d for _, d in results) == keys
    assert len(m) == 0
