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
    Empty,
    Once,
    Send,
    once,
    select,
)
from fastchan._sync import SyncMap, WaitGroup

__version__ = "0.1.0"

__all__ = [
    "AtomicBool",
    "AtomicInt",
    "AtomicRef",
    "Chan",
    "Closed",
    "Empty",
    "Once",
    "Send",
    "SyncMap",
    "WaitGroup",
    "once",
    "select",
    "__version__",
]
