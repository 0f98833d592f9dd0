"""fastchan: Go's concurrency toolkit for Python, with the hot path in C.

Public names only; the implementation lives in fastchan._core (compiled) and the small
Python modules beside it.

    >>> import fastchan as fc
    >>> ch = fc.Chan(8)
    >>> ch.send(1)
    >>> fc.select(ch, timeout=0)
    (0, 1, True)
"""

from fastchan._core import (
    AtomicBool,
    AtomicInt,
    AtomicRef,
    Chan,
    Closed,
    Deadlock,
    Empty,
    Once,
    Send,
    Ticker,
    after,
    once,
    select,
    tick,
)
from fastchan._context import Cancelled, Context, DeadlineExceeded
from fastchan._pool import Group, WorkerPool
from fastchan._sync import SyncMap, WaitGroup
from fastchan import debug

__version__ = "0.1.0"

__all__ = [
    "AtomicBool",
    "AtomicInt",
    "AtomicRef",
    "Cancelled",
    "Chan",
    "Closed",
    "Context",
    "DeadlineExceeded",
    "Deadlock",
    "Empty",
    "Group",
    "Once",
    "Send",
    "SyncMap",
    "Ticker",
    "WaitGroup",
    "WorkerPool",
    "after",
    "debug",
    "once",
    "select",
    "tick",
    "__version__",
]
