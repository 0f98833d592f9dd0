"""Context: cancellation that composes with select (Go's context), and its exceptions.

A Context's `done` channel is a receive-only timer channel (fastchan._core): it closes
itself when the deadline passes -- observed by anyone who looks at it, and woken up for
anyone blocked on it -- so a deadline needs no thread and fires even if nobody waits on
it at that moment.  Explicit cancel() closes it at once and cancels every child.

Invariants: `_err` is set once, under `_lock`, before `done` is closed by cancel(); a
closed `done` with `_err` still None means the deadline passed.  A child's deadline is
never later than its parent's, so a parent's deadline reaches its children without
the parent telling them.
"""

from __future__ import annotations

import threading

from fastchan._core import Chan, _close_deadline_chan, _deadline_chan, _monotonic, _parse_timeout, select


class Cancelled(Exception):
    """Work refused or stopped because its Context was cancelled."""


class DeadlineExceeded(Cancelled, TimeoutError):
    """A Context reached its deadline."""


Cancelled.__module__ = DeadlineExceeded.__module__ = "fastchan"

# Prune a parent's set of children (drop the finished ones) whenever it has doubled.
_PRUNE_MIN = 64


class Context:
    """Context(timeout=None, parent=None) -- cancellation that composes with select.

        >>> ctx = Context(timeout=0.01)
        >>> jobs = Chan()
        >>> select(jobs, ctx.done)         # nothing to do: the deadline ends the wait
        (1, None, False)
        >>> type(ctx.err).__name__, ctx.cancelled
        ('DeadlineExceeded', True)

    `done` is a receive-only channel closed on cancel() or at the deadline, so
    `select(jobs, ctx.done)` stops waiting when the context ends.  `err` is None, then
    a Cancelled instance (or the `cause` given to cancel), or a DeadlineExceeded
    instance.  Cancelling a parent cancels its children (their err is the parent's);
    never the reverse.  A child's deadline is the earlier of its own and its parent's.

    A child stays referenced by its parent until either is cancelled or its deadline
    passes: cancel contexts you are done with (`with Context(...) as ctx:` does).
    """

    __slots__ = ("_lock", "_done", "_err", "_deadline", "_parent", "_children", "_prune_at")

    def __init__(self, timeout: float | None = None, parent: Context | None = None) -> None:
        if parent is not None and not isinstance(parent, Context):
            raise TypeError(f"parent must be a Context or None, got {type(parent).__name__}")
        t = _parse_timeout(timeout)
        deadline = None if t is None else _monotonic() + t
        if parent is not None and parent._deadline is not None:
            if deadline is None or parent._deadline < deadline:
                deadline = parent._deadline
        self._lock = threading.Lock()
        self._err: BaseException | None = None
        self._deadline = deadline
        self._done: Chan = _deadline_chan(deadline)
        self._parent = parent
        self._children: set[Context] | None = set()
        self._prune_at = _PRUNE_MIN
        if parent is not None:
            parent._adopt(self)

    def _adopt(self, child: Context) -> None:
        with self._lock:
            children = self._children
            if children is not None:
                children.add(child)
                if len(children) >= self._prune_at:
                    children.difference_update([c for c in children if c._done.closed])
                    self._prune_at = max(_PRUNE_MIN, 2 * len(children))
                return
            err = self._err
        # Already cancelled (explicitly; a passed deadline the child inherits anyway).
        child._cancel(err)

    def cancel(self, cause: BaseException | None = None) -> None:
        """cancel(cause=None) -> None: cancel this context and all its children.

        `cause` (an exception) becomes `err`; default a Cancelled instance.  Only the
        first cancel counts; cancelling after the deadline passed changes nothing.
        """
        if isinstance(cause, type) and issubclass(cause, BaseException):
            cause = cause()
        if cause is not None and not isinstance(cause, BaseException):
            raise TypeError(f"cause must be an exception or None, got {type(cause).__name__}")
        self._cancel(cause if cause is not None else Cancelled("context cancelled"))
        parent = self._parent
        if parent is not None:
            with parent._lock:
                if parent._children is not None:
                    parent._children.discard(self)

    def _cancel(self, err: BaseException | None) -> None:
        with self._lock:
            if self._err is not None:
                return
            if self._done.closed:       # the deadline passed first: that stays the reason
                self._err = DeadlineExceeded("context deadline exceeded")
            else:
                self._err = err
            children, self._children = self._children, None
        _close_deadline_chan(self._done)
        for child in children or ():
            child._cancel(self._err)

    @property
    def done(self) -> Chan:
        """A receive-only channel closed when this context is cancelled or expires."""
        return self._done

    @property
    def cancelled(self) -> bool:
        """True once cancelled or past the deadline."""
        return self._done.closed

    @property
    def err(self) -> BaseException | None:
        """None while active; then the cause, a Cancelled or a DeadlineExceeded."""
        err = self._err
        if err is None and self._done.closed:
            self._cancel(None)          # records DeadlineExceeded unless cancel() won
            err = self._err
        return err

    @property
    def deadline(self) -> float | None:
        """The deadline on the time.monotonic() clock, in seconds, or None."""
        return self._deadline

    def wait(self, timeout: float | None = None) -> bool:
        """wait(timeout=None) -> bool: block until cancelled (True) or `timeout` (False)."""
        return select(self._done, timeout=timeout)[0] == 0

    def raise_if_cancelled(self) -> None:
        """Raise `err` if the context is cancelled; else return None."""
        err = self.err
        if err is not None:
            raise err

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc_info: object) -> bool:
        self.cancel()
        return False

    def __repr__(self) -> str:
        err = self.err
        state = "active" if err is None else f"cancelled ({type(err).__name__})"
        left = "" if self._deadline is None else f" deadline_in={self._deadline - _monotonic():.3f}s"
        return f"<fastchan.Context {state}{left}>"


def cancelled_error(ctx: Context) -> Cancelled:
    """The exception for work refused or dropped because `ctx` is cancelled."""
    err = ctx.err
    if isinstance(err, Cancelled):
        return err
    exc = Cancelled(f"context cancelled: {err!r}")
    exc.__cause__ = err
    return exc
