"""WorkerPool (a bounded concurrent.futures.Executor) and Group (Go's errgroup).

WorkerPool: `workers` named threads receive jobs from one channel of capacity
`queue_size`; a full channel blocks submitters (backpressure).  A job is a tuple
(fn, args, kwargs, sink) where sink says where the outcome goes:
  None    go():     an exception is kept in `errors`;
  Future  submit(): the Future gets the result or exception;
  Chan    map():    (index, ok, result-or-exception) is sent to that map's results
                    channel, and `kwargs` holds the index (map calls take no kwargs).
Invariants: `_pending` counts accepted jobs not yet finished or dropped, and `_idle` is
notified whenever it drops to zero (join waits on that); a worker catches every
exception of a task (BaseException included), so no task kills its worker; workers
exit only when the job channel is closed and drained (a Deadlock from
fastchan.debug.detect_deadlocks() reaching an idle worker is not theirs to die of).

Group: one thread per go(), `limit` enforced by a channel of tokens.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import itertools
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastchan._context import Cancelled, Context, cancelled_error
from fastchan._core import AtomicInt, Chan, Closed, Deadlock, Send, _parse_timeout, select

_live_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()
_pool_ids = itertools.count()


@atexit.register
def _drain_pools_at_exit() -> None:
    # Workers are daemon threads; at interpreter exit let accepted work finish first,
    # as ThreadPoolExecutor does.
    for pool in list(_live_pools):
        pool.shutdown(wait=True)


def _check_count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int >= {minimum}, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _check_callable(fn: Any) -> None:
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")


def _deadline(timeout: Any) -> float | None:
    t = _parse_timeout(timeout)
    return None if t is None else time.monotonic() + t


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


# Waits outside fastchan's own channels (a Condition, Thread.join) sleep in slices this
# long: a lock wait is woken by a signal only if the signal hits the waiting thread, so
# slices are what keeps Ctrl-C in the main thread prompt.
_SIGNAL_SLICE = 0.05


def _slice(deadline: float | None) -> float:
    left = _remaining(deadline)
    return _SIGNAL_SLICE if left is None else min(left, _SIGNAL_SLICE)


def _past_deadlocks(wait: Callable[[], Any]) -> Any:
    """wait(), again whenever detect_deadlocks() ends it with Deadlock: the pool's own
    threads idle on purpose, and the caller that is really stuck raises it too."""
    while True:
        try:
            return wait()
        except Deadlock:
            continue


def _join_thread(t: threading.Thread, deadline: float | None) -> bool:
    while t.is_alive():
        if _remaining(deadline) == 0:
            return False
        t.join(_slice(deadline))
    return True


class WorkerPool(concurrent.futures.Executor):
    """WorkerPool(workers=None, queue_size=None, *, context=None, name="fastchan")

    A bounded pool of worker threads and a drop-in concurrent.futures.Executor.

        >>> with WorkerPool(workers=4) as pool:
        ...     squares = list(pool.map(lambda x: x * x, range(5)))
        ...     future = pool.submit(sum, [1, 2, 3])
        >>> squares, future.result()
        ([0, 1, 4, 9, 16], 6)

    `workers` threads (default os.cpu_count()) named "<name>-<pool>-<i>" run the tasks;
    up to `queue_size` more (default 2 * workers) wait in a queue, and submitting to a
    full queue blocks (backpressure).  `with pool:` closes the pool and waits for the
    accepted work (graceful drain); shutdown(cancel_futures=True) drops queued work.

    A task that raises never kills its worker: the exception goes to its Future
    (submit), to the results (map) or to `errors` (go).  That holds for
    BaseExceptions too -- KeyboardInterrupt or SystemExit raised *inside a task* is
    recorded like any other exception, as ThreadPoolExecutor does, not re-raised.
    If `context` is cancelled (or its deadline passes), queued tasks are dropped (their
    Futures get Cancelled) and go/submit/map raise Cancelled.
    """

    def __init__(
        self,
        workers: int | None = None,
        queue_size: int | None = None,
        *,
        context: Context | None = None,
        name: str = "fastchan",
    ) -> None:
        workers = (os.cpu_count() or 1) if workers is None else _check_count("workers", workers, 1)
        queue_size = 2 * workers if queue_size is None else _check_count("queue_size", queue_size, 0)
        if context is not None and not isinstance(context, Context):
            raise TypeError(f"context must be a Context or None, got {type(context).__name__}")
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        self._workers = workers
        self._queue_size = queue_size
        self._context = context
        self._done = None if context is None else context.done
        self._jobs: Chan = Chan(queue_size)
        self._closed = False
        self._pending = AtomicInt()
        self._busy = AtomicInt()
        self._completed = AtomicInt()
        self._failed = AtomicInt()
        self._idle = threading.Condition()
        self.errors: list[BaseException] = []
        pool_id = next(_pool_ids)
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{pool_id}-{i}", daemon=True)
            for i in range(workers)
        ]
        for t in self._threads:
            t.start()
        # With a context, one more thread waits for it to end and drops the queued jobs
        # at once, even while every worker is busy (a deadline fires with nobody else
        # looking).  It exits when the workers have exited.
        self._stop: Chan = Chan(0)
        if context is not None:
            self._watcher = threading.Thread(target=self._watch, name=f"{name}-{pool_id}-context", daemon=True)
            self._watcher.start()
        _live_pools.add(self)

    # -- workers -----------------------------------------------------------------------

    def _work(self) -> None:
        _past_deadlocks(self._work_until_closed)

    def _work_until_closed(self) -> None:
        done = self._done
        busy, completed, failed = self._busy, self._completed, self._failed
        for fn, args, kwargs, sink in self._jobs:
            try:
                if done is not None and done.closed:
                    self._drop(sink)
                    continue
                is_map = type(sink) is Chan
                if is_map and sink.closed:      # the map was abandoned
                    continue
                if not is_map and sink is not None and not sink.set_running_or_notify_cancel():
                    continue                    # its Future was cancelled
                busy.add()
                try:
                    result = fn(*args) if is_map else fn(*args, **kwargs)
                    ok = True
                    completed.add()
                except BaseException as e:  # noqa: BLE001 - delivered to the sink below
                    result, ok = e, False
                    failed.add()
                busy.sub()
                if is_map:
                    try:
                        sink.send((kwargs, ok, result))     # kwargs holds the map index
                    except Closed:
                        pass
                elif sink is None:
                    if not ok:
                        self.errors.append(result)
                elif ok:
                    sink.set_result(result)
                else:
                    sink.set_exception(result)
            finally:
                fn = args = kwargs = sink = result = None   # an idle worker holds nothing
                self._finish_one()

    def _watch(self) -> None:
        if _past_deadlocks(lambda: select(self._done, self._stop, ordered=True)[0]) != 0:
            return
        while True:
            try:
                _fn, _args, _kwargs, sink = self._jobs.try_recv()
            except Exception:          # Empty, or Closed once drained
                return
            self._drop(sink)
            self._finish_one()

    def _finish_one(self) -> None:
        if self._pending.sub() == 0:
            with self._idle:
                self._idle.notify_all()

    def _drop(self, sink: Any) -> None:
        """A queued job that will not run: its Future (or map reader) learns why."""
        if sink is None:
            return
        err = cancelled_error(self._context) if self._context is not None else Cancelled("pool shut down")
        if type(sink) is Chan:
            try:
                sink.try_send((None, False, err))
            except Closed:
                pass
        elif sink.set_running_or_notify_cancel():
            sink.set_exception(err)

    # -- accepting work ----------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("cannot schedule new work after the pool was closed")
        if self._context is not None and self._context.cancelled:
            raise cancelled_error(self._context)

    def _put(self, job: tuple[Any, ...], deadline: float | None = None) -> None:
        """Queue one job, blocking while the queue is full (until `deadline`)."""
        self._pending.add()
        try:
            if self._done is None:
                self._jobs.send(job, timeout=_remaining(deadline))
            else:
                idx = select(self._done, Send(self._jobs, job), ordered=True, timeout=_remaining(deadline))[0]
                if idx == 0:
                    raise cancelled_error(self._context)  # type: ignore[arg-type]
                if idx < 0:
                    raise TimeoutError("WorkerPool.map timed out")
        except Closed:
            self._finish_one()
            raise RuntimeError("cannot schedule new work after the pool was closed") from None
        except BaseException:
            self._finish_one()
            raise

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        """submit(fn, /, *args, **kwargs) -> Future: run fn(*args, **kwargs) on a worker."""
        _check_callable(fn)
        self._check_open()
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._put((fn, args, kwargs, future))
        return future

    def go(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """go(fn, /, *args, **kwargs) -> None: fire and forget; an exception lands in
        `errors` and counts as failed in `stats`."""
        _check_callable(fn)
        self._check_open()
        self._put((fn, args, kwargs, None))

    def map(  # type: ignore[override]
        self,
        fn: Callable[..., Any],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        ordered: bool = True,
        chunksize: int = 1,
    ) -> Iterator[Any]:
        """map(fn, *iterables, timeout=None, ordered=True) -> iterator of results

        Lazy: at most workers + queue_size tasks are in flight (submitted and not yet
        yielded), however long the input, so a huge generator never fills memory.
        ordered=False yields in completion order.  A task's exception is raised when
        its result is reached, and ends the iteration (the map's unstarted tasks are
        skipped).  `timeout` bounds the whole iteration from this call (TimeoutError).
        `chunksize` is accepted for Executor compatibility and ignored.
        """
        _check_callable(fn)
        deadline = _deadline(timeout)
        self._check_open()
        results: Chan = Chan(None)
        args_iter = iter(zip(*iterables))
        limit = self._workers + self._queue_size
        # Start the first tasks now, as Executor.map does; the rest follow as results
        # are consumed.
        try:
            submitted = self._map_submit(fn, args_iter, results, 0, limit, deadline)
        except BaseException:
            results.close()     # workers skip the tasks that did get queued
            raise
        return self._map_results(fn, args_iter, results, submitted, limit, deadline, ordered)

    def _map_submit(
        self, fn: Any, args_iter: Iterator[tuple[Any, ...]], results: Chan, start: int, n: int, deadline: float | None
    ) -> int:
        """Queue up to n more tasks of one map, in one batch; returns the next index."""
        batch = [(fn, args, start + i, results) for i, args in enumerate(itertools.islice(args_iter, n))]
        if not batch:
            return start
        if self._done is not None:
            for job in batch:
                self._put(job, deadline)
            return start + len(batch)
        self._pending.add(len(batch))
        sent = 0
        try:
            sent = self._jobs.send_many(batch, timeout=_remaining(deadline))
        except TimeoutError as e:
            sent = e.sent
            raise TimeoutError("WorkerPool.map timed out") from None
        except Closed as e:
            sent = e.sent
            raise RuntimeError("cannot schedule new work after the pool was closed") from None
        except BaseException as e:
            sent = getattr(e, "sent", 0)
            raise
        finally:
            for _ in range(len(batch) - sent):
                self._finish_one()
        return start + sent

    def _map_results(
        self,
        fn: Any,
        args_iter: Iterator[tuple[Any, ...]],
        results: Chan,
        submitted: int,
        limit: int,
        deadline: float | None,
        ordered: bool,
    ) -> Iterator[Any]:
        yielded = 0
        early: dict[int, tuple[bool, Any]] = {}     # ordered: results ahead of their turn
        try:
            while yielded < submitted:
                if ordered:
                    ready = yielded in early
                    index = yielded
                else:
                    ready = bool(early)
                    index = next(iter(early)) if ready else -1
                if not ready:
                    try:
                        batch = results.recv_many(limit, timeout=_remaining(deadline))
                    except TimeoutError:
                        raise TimeoutError("WorkerPool.map timed out") from None
                    for i, ok, value in batch:
                        if i is None:           # dropped: the pool's context was cancelled
                            raise value
                        early[i] = (ok, value)
                    continue
                ok, value = early.pop(index)
                if not ok:
                    raise value
                yielded += 1
                # Refill in batches once half the window is free: fewer wake-ups.
                if submitted - yielded <= limit // 2:
                    submitted = self._map_submit(
                        fn, args_iter, results, submitted, limit - (submitted - yielded), deadline
                    )
                yield value
        finally:
            results.close()     # workers skip this map's tasks still queued

    # -- shutting down -------------------------------------------------------------------

    def close(self) -> None:
        """Accept no more work; what was accepted still runs."""
        self._closed = True
        self._jobs.close()

    def join(self, timeout: float | None = None) -> bool:
        """join(timeout=None) -> bool: wait until all accepted work is finished (True),
        or `timeout` passed (False).  After close(), also waits for the workers to exit."""
        deadline = _deadline(timeout)
        with self._idle:
            while self._pending.load() != 0:
                if not self._idle.wait(_slice(deadline)) and _remaining(deadline) == 0:
                    return False
        if self._closed:
            me = threading.current_thread()
            if not all(_join_thread(t, deadline) for t in self._threads if t is not me):
                return False
            self._stop.close()
            if self._context is not None and self._watcher is not me:
                return _join_thread(self._watcher, deadline)
        return True

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """The Executor rule: close; with cancel_futures, cancel what is still queued;
        with wait, join."""
        self.close()
        if cancel_futures:
            while True:
                try:
                    _fn, _args, _kwargs, sink = self._jobs.try_recv()
                except Exception:      # Empty, or Closed once drained
                    break
                if isinstance(sink, concurrent.futures.Future):
                    sink.cancel()
                else:
                    self._drop(sink)
                self._finish_one()
        if wait:
            self.join()

    def __exit__(self, *exc_info: object) -> bool:
        self.close()
        self.join()
        return False

    # -- introspection -----------------------------------------------------------------

    @property
    def stats(self) -> dict[str, int]:
        """workers, busy (running a task now), queued, completed, failed."""
        return {
            "workers": self._workers,
            "busy": self._busy.load(),
            "queued": len(self._jobs),
            "completed": self._completed.load(),
            "failed": self._failed.load(),
        }

    @property
    def context(self) -> Context | None:
        return self._context

    def __repr__(self) -> str:
        s = self.stats
        state = "closed" if self._closed else "open"
        return f"<fastchan.WorkerPool workers={s['workers']} busy={s['busy']} queued={s['queued']} {state}>"


class Group:
    """Group(limit=None, *, context=None) -- Go's errgroup with TaskGroup manners.

        >>> results = SyncMap()
        >>> with Group(limit=2) as g:
        ...     for n in (1, 2, 3):
        ...         g.go(results.store, n, n * n)
        >>> sorted(results.items())
        [(1, 1), (2, 4), (3, 9)]

    go() runs fn on a new thread, first blocking while `limit` tasks run; try_go() does
    not block and returns False instead.  The first exception cancels, with itself as
    the cause, both `g.context` (the group's own child of the one given) and the
    `context` given, as the contract says ("context is cancelled on the first
    exception"; Go's errgroup would leave the given one alone), so the other tasks --
    and whatever else watches that context -- can stop early.  wait() waits for every
    task, cancels `g.context` only (its work is over, as in Go; the given context is
    not cancelled by a group that succeeded) and raises an ExceptionGroup of all the
    tasks' exceptions (a
    BaseExceptionGroup if one was not an Exception).  `with` waits on exit; if the
    body raised, the context is cancelled first and the body's exception joins the
    group.
    """

    def __init__(self, limit: int | None = None, *, context: Context | None = None) -> None:
        if limit is not None:
            _check_count("limit", limit, 1)
        if context is not None and not isinstance(context, Context):
            raise TypeError(f"context must be a Context or None, got {type(context).__name__}")
        self._parent = context
        self._context = Context(parent=context)
        self._tokens: Chan | None = None if limit is None else Chan(limit)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []
        self._ids = itertools.count()

    @property
    def context(self) -> Context:
        return self._context

    def go(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """go(fn, /, *args, **kwargs) -> None: run fn on a new thread (blocks at limit)."""
        _check_callable(fn)
        if self._tokens is not None:
            self._tokens.send(None)
        self._start(fn, args, kwargs)

    def try_go(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> bool:
        """try_go(fn, /, *args, **kwargs) -> bool: like go, but False instead of blocking."""
        _check_callable(fn)
        if self._tokens is not None and not self._tokens.try_send(None):
            return False
        self._start(fn, args, kwargs)
        return True

    def _start(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        t = threading.Thread(target=self._run, args=(fn, args, kwargs), name=f"fastchan-group-{next(self._ids)}", daemon=True)
        with self._lock:
            self._threads.append(t)
        try:
            t.start()
        except BaseException:
            with self._lock:
                self._threads.remove(t)
            if self._tokens is not None:
                self._tokens.try_recv(None)
            raise

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            fn(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - reported by wait()
            with self._lock:
                self._errors.append(e)
            self._fail(e)
        finally:
            if self._tokens is not None:
                self._tokens.try_recv(None)

    def _fail(self, e: BaseException) -> None:
        self._context.cancel(e)
        if self._parent is not None:
            self._parent.cancel(e)

    def _join_all(self) -> list[BaseException]:
        while True:
            with self._lock:
                threads, self._threads = self._threads, []
            if not threads:
                break
            for t in threads:
                _join_thread(t, None)
        with self._lock:
            errors, self._errors = self._errors, []
        return errors

    def wait(self) -> None:
        """Wait for every task; raise an ExceptionGroup of their exceptions, if any."""
        errors = self._join_all()
        self._context.cancel()
        if errors:
            raise BaseExceptionGroup("errors in fastchan.Group tasks", errors)

    def __enter__(self) -> Group:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None:
            self.wait()
            return False
        self._fail(exc)
        errors = self._join_all()
        if isinstance(exc, Exception) or errors:
            raise BaseExceptionGroup("errors in fastchan.Group", [exc, *errors])
        return False
