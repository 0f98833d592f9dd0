"""WaitGroup and SyncMap: small Python classes on top of the compiled primitives.

WaitGroup waits on a fastchan channel, so its wait() releases the GIL, honours timeouts
and is interrupted by Ctrl-C exactly like Chan.recv.  SyncMap relies on the one thing a
dict guarantees on every build (a single get/set/pop is atomic) for its reads, and puts
every write behind one lock so that compound operations are atomic with respect to each
other and to plain writes.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from fastchan._core import Chan, _wait_closed

_MISSING: Any = object()


def _closed_chan() -> Chan:
    ch: Chan = Chan(0)
    ch.close()
    return ch


class WaitGroup:
    """WaitGroup() -- wait for a collection of tasks to finish (Go's sync.WaitGroup).

        >>> wg = WaitGroup()
        >>> results = []
        >>> for i in range(3):
        ...     _ = wg.go(results.append, i)
        >>> wg.wait()
        True
        >>> sorted(results)
        [0, 1, 2]

    The counter may be reused after it reaches zero.  A wait() that starts while the
    counter is zero returns True at once, even if add() follows immediately.
    """

    __slots__ = ("_lock", "_count", "_zero")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        # Closed exactly while the counter is zero: waiters park on recv until close().
        self._zero = _closed_chan()

    def add(self, delta: int = 1) -> None:
        """add(delta=1) -> None: add `delta` (may be negative) to the counter.

        ValueError if the counter would go negative; it is then left unchanged.
        """
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise TypeError(f"delta must be an int, got {type(delta).__name__}")
        with self._lock:
            count = self._count + delta
            if count < 0:
                raise ValueError(f"WaitGroup counter would go negative: {self._count} + {delta}")
            if self._count == 0 and count > 0:
                self._zero = Chan(0)
            self._count = count
            if count == 0 and delta != 0:
                self._zero.close()

    def done(self) -> None:
        """done() -> None: add(-1)."""
        self.add(-1)

    def wait(self, timeout: float | None = None) -> bool:
        """wait(timeout=None) -> bool: True once the counter is zero, False on timeout."""
        return _wait_closed(self._zero, timeout)

    @property
    def count(self) -> int:
        """The counter's current value."""
        return self._count

    def go(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> threading.Thread:
        """go(fn, /, *args, **kwargs) -> threading.Thread (Go 1.25's wg.Go).

        add(1), run fn(*args, **kwargs) in a new thread, done() when it returns or
        raises; its exception goes to threading.excepthook.
        """
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        self.add(1)

        def run() -> None:
            try:
                fn(*args, **kwargs)
            finally:
                self.done()

        thread = threading.Thread(target=run, name=f"WaitGroup.go-{getattr(fn, '__name__', 'fn')}")
        try:
            thread.start()
        except BaseException:
            self.done()
            raise
        return thread

    def __repr__(self) -> str:
        return f"<fastchan.WaitGroup count={self._count}>"


class SyncMap:
    """SyncMap() -- a map whose compound operations are atomic (Go's sync.Map).

        >>> m = SyncMap()
        >>> m.load_or_store("k", 1)
        (1, False)
        >>> m.load_or_store("k", 2)
        (1, True)
        >>> m.compare_and_swap("k", 1, 3)
        True
        >>> m["k"]
        3

    Reads (load, m[key], key in m, len) take no lock.  Writes serialise on one lock, so
    SyncMap shines for read-mostly maps; see README "SyncMap or dict + Lock?".
    compare_and_swap / compare_and_delete compare with ==, under that lock: the
    comparison must not write to the same map (doing so raises RuntimeError rather
    than deadlocking).
    """

    __slots__ = ("_data", "_lock", "_comparing")

    def __init__(self) -> None:
        self._data: dict[Any, Any] = {}
        self._lock = threading.Lock()
        self._comparing = 0  # ident of the thread running a user __eq__ under the lock

    def _refuse_reentry(self) -> None:
        if self._comparing == threading.get_ident():
            raise RuntimeError("SyncMap modified from inside its own comparison")

    def _equal(self, current: Any, expected: Any) -> bool:
        if current is expected:
            return True
        self._comparing = threading.get_ident()
        try:
            return bool(current == expected)
        finally:
            self._comparing = 0

    def load(self, key: Any, default: Any = None) -> Any:
        """load(key, default=None) -> value or default."""
        return self._data.get(key, default)

    def store(self, key: Any, value: Any) -> None:
        """store(key, value) -> None."""
        if self._comparing:
            self._refuse_reentry()
        with self._lock:
            self._data[key] = value

    def load_or_store(self, key: Any, value: Any) -> tuple[Any, bool]:
        """load_or_store(key, value) -> (value, loaded): the existing value and True, or
        store `value` and return (value, False)."""
        if self._comparing:
            self._refuse_reentry()
        with self._lock:
            current = self._data.get(key, _MISSING)
            if current is not _MISSING:
                return current, True
            self._data[key] = value
            return value, False

    def load_and_delete(self, key: Any) -> tuple[Any, bool]:
        """load_and_delete(key) -> (value, True), or (None, False) if absent."""
        if self._comparing:
            self._refuse_reentry()
        with self._lock:
            current = self._data.pop(key, _MISSING)
        return (None, False) if current is _MISSING else (current, True)

    def delete(self, key: Any) -> None:
        """delete(key) -> None; no error if absent."""
        if self._comparing:
            self._refuse_reentry()
        with self._lock:
            self._data.pop(key, None)

    def swap(self, key: Any, value: Any) -> tuple[Any, bool]:
        """swap(key, value) -> (previous, loaded): store `value`, return what was there."""
        if self._comparing:
            self._refuse_reentry()
        with self._lock:
            previous = self._data.get(key, _MISSING)
            self._data[key] = value
        return (None, False) if previous is _MISSING else (previous, True)

    def compare_and_swap(self, key: Any, old: Any, new: Any) -> bool:
        """compare_and_swap(key, old, new) -> bool: store `new` if the value == `old`."""
        if self._comparing:
            self._refuse_reentry()
        with self._lock:
            current = self._data.get(key, _MISSING)
            if current is _MISSING or not self._equal(current, old):
                return False
            self._data[key] = new
            return True

    def compare_and_delete(self, key: Any, old: Any) -> bool:
        """compare_and_delete(key, old) -> bool: delete the entry if its value == `old`."""
        if self._comparing:
            self._refuse_reentry()
        with self._lock:
            current = self._data.get(key, _MISSING)
            if current is _MISSING or not self._equal(current, old):
                return False
            del self._data[key]
            return True

    def len(self) -> int:
        """len() -> int (also len(m))."""
        return len(self._data)

    def clear(self) -> None:
        """clear() -> None."""
        if self._comparing:
            self._refuse_reentry()
        with self._lock:
            self._data.clear()

    def items(self) -> list[tuple[Any, Any]]:
        """items() -> list of (key, value): a consistent snapshot."""
        if self._comparing:
            self._refuse_reentry()
        with self._lock:
            return list(self._data.items())

    def keys(self) -> list[Any]:
        """keys() -> list: a consistent snapshot."""
        if self._comparing:
            self._refuse_reentry()
        with self._lock:
            return list(self._data)

    def values(self) -> list[Any]:
        """values() -> list: a consistent snapshot."""
        if self._comparing:
            self._refuse_reentry()
        with self._lock:
            return list(self._data.values())

    get = load      # the mapping protocol's name for it

    def __getitem__(self, key: Any) -> Any:
        value = self._data.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key: Any) -> bool:
        return key in self._data

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"<fastchan.SyncMap len={len(self._data)}>"
