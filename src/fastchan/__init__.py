"""fastchan: Go's concurrency toolkit for Python, with the hot path in C.

Public names only; the implementation lives in fastchan._core.

    >>> import fastchan as fc
    >>> ch = fc.Chan(8)
    >>> ch.send(1)
    >>> fc.select(ch, timeout=0)
    (0, 1, True)
"""

from fastchan._core import Chan, Closed, Empty, Send, select

__version__ = "0.1.0"

__all__ = ["Chan", "Closed", "Empty", "Send", "select", "__version__"]
