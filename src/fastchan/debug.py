"""fastchan.debug: what is blocked in fastchan right now, and deadlock detection.

Go prints every goroutine's stack on a deadlock or on SIGQUIT; this module gives Python
programs the same view of fastchan:

    >>> import fastchan as fc
    >>> fc.debug.blocked()               # nothing is blocked in this example
    []

blocked() lists every call sleeping in fastchan (send, recv, select, WaitGroup.wait):
the compiled core keeps a registry of them, fed only when a call really goes to sleep,
so the fast paths never pay for it.  dump() prints that list with each thread's stack.
detect_deadlocks() turns a process whose every thread waits in fastchan forever into
fc.Deadlock exceptions instead of a silent hang.
"""

from __future__ import annotations

import signal as _signal
import sys
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any, TextIO

from fastchan._core import Chan, Deadlock, Send, _blocked_raw, _detect_deadlocks_flag, _monotonic

__all__ = ["BlockedOp", "Deadlock", "blocked", "detect_deadlocks", "dump", "dump_on"]


@dataclass(frozen=True)
class BlockedOp:
    """One call blocked in fastchan: who, doing what, on which channels, since when."""

    thread_name: str
    thread_ident: int
    op: str                          # "send", "recv", "select" or "wait"
    channels: list[Chan] = field(repr=False)
    waited: float                    # seconds asleep so far
    deadline: float | None           # seconds until it wakes by itself; None: never
    stack: str = field(repr=False)   # the thread's Python stack, innermost last


def _channels(what: Any) -> list[Chan]:
    if isinstance(what, Chan):
        return [what]
    chans = []
    for case in what:                # select: the cases as given
        ch = case.chan if isinstance(case, Send) else case
        if isinstance(ch, Chan) and not any(ch is c for c in chans):
            chans.append(ch)
    return chans


def _stack(frame: Any) -> str:
    # The calling thread's own innermost frames are this module's: show its caller's.
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    if frame is None:
        return "  (no Python frame)\n"
    # threading's bootstrap frames say nothing about the program: leave them out.
    entries = [e for e in traceback.extract_stack(frame) if e.filename != threading.__file__]
    return "".join(traceback.format_list(entries))


def blocked() -> list[BlockedOp]:
    """Every call blocked in fastchan right now, longest-waiting first."""
    raw = _blocked_raw()
    if not raw:
        return []
    now_ns = int(_monotonic() * 1e9)
    frames = sys._current_frames()
    names = {t.ident: t.name for t in threading.enumerate()}
    ops = [
        BlockedOp(
            thread_name=names.get(ident, f"thread-{ident}"),
            thread_ident=ident,
            op=op,
            channels=_channels(what),
            waited=max(now_ns - since, 0) / 1e9,
            deadline=None if deadline < 0 else max(deadline - now_ns, 0) / 1e9,
            stack=_stack(frames.get(ident)),
        )
        for ident, op, what, since, deadline in raw
    ]
    ops.sort(key=lambda b: -b.waited)
    return ops


def _format_blocked(ops: list[BlockedOp]) -> str:
    if not ops:
        return "fastchan: no operation is blocked\n"
    lines = [f"fastchan: {len(ops)} blocked operation(s), {threading.active_count()} live thread(s)\n"]
    for b in ops:
        until = "forever" if b.deadline is None else f"{b.deadline:.3f}s more"
        lines.append(f"\n{b.op} in thread {b.thread_name!r} ({b.thread_ident}), waiting {b.waited:.3f}s, {until}\n")
        lines.extend(f"  on {ch!r}\n" for ch in b.channels)
        lines.append(b.stack)
    return "".join(lines)


def dump(file: TextIO | None = None) -> None:
    """Write every blocked call, with its channels and its thread's stack, to `file`
    (default sys.stderr)."""
    out = sys.stderr if file is None else file
    out.write(_format_blocked(blocked()))
    out.flush()


def dump_on(signum: int = _signal.SIGUSR1 if hasattr(_signal, "SIGUSR1") else _signal.SIGTERM) -> None:
    """Install dump() as the handler of `signum` (default SIGUSR1): `kill -USR1 <pid>`
    then prints what is blocked, like Go's SIGQUIT goroutine dump.  Main thread only
    (Python's rule for signal handlers)."""
    _signal.signal(signum, lambda _signum, _frame: dump())


def detect_deadlocks(enabled: bool = True) -> bool:
    """Turn deadlock detection on or off; returns the previous setting.  Safe from any
    thread at any time; costs nothing on any fast path.

    The rule: a deadlock is when every live thread of the process (threading's count)
    sleeps in fastchan -- send, recv, select or WaitGroup.wait -- with no timeout and no
    timer or Context deadline among its cases.  Then each of those calls raises
    fc.Deadlock, whose message is the dump(), instead of hanging forever; none of them
    happened.  A thread that runs, sleeps (time.sleep), does I/O or waits on anything
    outside fastchan (a Lock, a Queue, Thread.join, a Once) counts as able to progress,
    so it never fires while one exists.  Threads started outside Python's threading
    module are not counted.  Checked when a call goes to sleep and every 0.1 s while it
    sleeps (threads exit without telling anyone).
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool, got {type(enabled).__name__}")
    previous = _detect_deadlocks_flag()
    _detect_deadlocks_flag(enabled)
    return previous
