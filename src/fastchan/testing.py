"""fastchan.testing: a pytest plugin that fails tests which leave threads running or
calls blocked in fastchan behind (Go's goleak.VerifyNone).

Registered through the ``pytest11`` entry point and inactive unless asked for:

* ``pytest --fastchan-leaks`` checks every test;
* the ``fastchan_no_leaks`` fixture checks the tests that use it;
* ``@pytest.mark.fastchan_leaks(ignore=["thread-name", ...])`` ignores known
  long-lived threads by name (a prefix ending in ``*`` matches many);
* the ini option ``fastchan_leaks_timeout`` (seconds, default 2) is how long threads
  get to finish after the test before they count as leaked.

After the test and its other fixtures are torn down, every thread started during the
test must have ended; each one still alive is reported with what it is blocked on in
fastchan (if anything) and its stack.  The check runs as the last teardown, so a
test's own failure is always reported as well, never hidden.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

from fastchan import debug


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("fastchan")
    group.addoption(
        "--fastchan-leaks",
        action="store_true",
        default=False,
        help="fail tests that leave threads running or calls blocked in fastchan",
    )
    parser.addini("fastchan_leaks_timeout", "seconds threads get to finish after a test (default 2)", default="2")


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "fastchan_leaks(ignore=[...]): thread names the fastchan leak check ignores"
    )


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if config.getoption("--fastchan-leaks"):
        for item in items:
            if "fastchan_no_leaks" not in item.fixturenames:
                item.fixturenames.insert(0, "fastchan_no_leaks")   # set up first, checked last


def _ignored(name: str, patterns: list[str]) -> bool:
    return any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in patterns)


def leaked_threads(before: set[threading.Thread], ignore: list[str], timeout: float) -> list[threading.Thread]:
    """Threads not in `before` (nor ignored) still alive after waiting up to `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        leaked = [
            t for t in threading.enumerate()
            if t not in before and t.is_alive() and not _ignored(t.name, ignore)
        ]
        if not leaked or time.monotonic() >= deadline:
            return leaked
        time.sleep(0.01)


def describe(threads: list[threading.Thread]) -> str:
    """A report of `threads`: what each is blocked on in fastchan, and its stack."""
    ops = {b.thread_ident: b for b in debug.blocked()}
    frames = sys._current_frames()
    parts = [f"{len(threads)} thread(s) left running by this test:\n"]
    for t in sorted(threads, key=lambda t: t.name):
        b = ops.get(t.ident)
        if b is not None:
            parts.append(f"\n{t.name!r}: blocked in fastchan {b.op} for {b.waited:.3f}s on "
                         + ", ".join(repr(c) for c in b.channels) + "\n")
            parts.append(b.stack)
        else:
            parts.append(f"\n{t.name!r}: running (not blocked in fastchan)\n")
            frame = frames.get(t.ident)
            parts.append("".join(traceback.format_stack(frame)) if frame is not None else "  (no frame)\n")
    return "".join(parts)


@pytest.fixture
def fastchan_no_leaks(request: Any) -> Iterator[None]:
    """Fail the test if a thread it started is still running afterwards."""
    ignore: list[str] = []
    for mark in request.node.iter_markers("fastchan_leaks"):
        names = mark.kwargs.get("ignore", mark.args[0] if mark.args else [])
        if isinstance(names, str):
            names = [names]
        ignore.extend(names)
    timeout = float(request.config.getini("fastchan_leaks_timeout"))
    before = set(threading.enumerate())
    yield
    leaked = leaked_threads(before, ignore, timeout)
    if leaked:
        pytest.fail(describe(leaked), pytrace=False)
