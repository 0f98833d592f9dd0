"""fastchan.testing: a pytest plugin that fails tests which leave threads running or
calls blocked in fastchan behind (Go's goleak.VerifyNone).

Registered through the ``pytest11`` entry point and inactive unless asked for:

* ``pytest --fastchan-leaks`` checks every test;
* the ``fastchan_no_leaks`` fixture checks the tests that use it;
* ``@pytest.mark.fastchan_leaks(ignore=["thread-name", ...])`` ignores known
  long-lived threads by name (a prefix ending in ``*`` matches many), in both checks;
* the ini option ``fastchan_leaks_timeout`` (seconds, default 2) is how long threads
  and blocked calls get to go away after the test before they count as leaked.

What is checked, once the test and its other fixtures are torn down (so a thread that a
fixture's teardown stops is no leak):

* threads: every thread started during the test must have ended.  Each one still
  alive is reported with what it is blocked on in fastchan (if anything) and its stack.
* blocked calls: no call may be left blocked in fastchan (``fastchan.debug.blocked()``)
  for good -- with no timeout and no timer among its cases -- by a thread older than
  the test, unless that thread was already waiting that same way (same operation on
  the same channels, by identity) when this test or an earlier one started.  Each such
  call is reported with its thread and stack: this is how a thread older than the test
  (a module-level worker, say) that the test left waiting is caught, while a
  long-lived thread back in its usual wait -- an idle pool worker on its job channel,
  even one still finishing the previous test's job when this one started -- is not a
  leak.  The thread running the test is not checked.  One case cannot be told apart:
  a pool made just before a test whose workers reach their job channel only during it
  (first seen waiting there at its end); name long-lived threads in ``ignore=`` to be
  sure.

How a leak is reported: if the test itself passed, the leak fails the test -- one
failure, counted as failed (``-x`` stops on it, ``--lf`` reruns it, junitxml writes a
``<failure>``), whose text names the leaked threads and calls.  If the test failed, was
skipped or xfailed, or another fixture's teardown failed too, that outcome stands and
the leak is reported beside it as an error at teardown: neither hides the other.  To
judge after the teardown yet fail the test, the plugin runs the protocol of checked
tests itself (``pytest_runtest_protocol``: their reports are made first, then logged,
as pytest-rerunfailures does); hook wrappers around it, such as pytest-timeout's,
still apply.  A test that only asks for the fixture at run time
(``request.getfixturevalue``) gets the leak as a teardown error.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
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
    parser.addini(
        "fastchan_leaks_timeout",
        "seconds leaked threads and blocked calls get to go away after a test (default 2)",
        default="2",
    )


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "fastchan_leaks(ignore=[...]): thread names the fastchan leak check ignores"
    )


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if config.getoption("--fastchan-leaks"):
        for item in items:
            if "fastchan_no_leaks" not in item.fixturenames:
                item.fixturenames.insert(_first_function_fixture(item), "fastchan_no_leaks")


def _first_function_fixture(item: Any) -> int:
    """Where the check goes in the item's fixture list: after the wider-scoped fixtures
    (a module's pool is set up before the snapshot, so it is no leak of the first test
    using it) and before every function-scoped one (set up first, checked last)."""
    defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    at = 0
    for i, name in enumerate(item.fixturenames):
        fixturedefs = defs.get(name)
        if fixturedefs and fixturedefs[-1].scope != "function":
            at = i + 1
    return at


def _ignored(name: str, patterns: list[str]) -> bool:
    return any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in patterns)


_Key = tuple[int, str, tuple[int, ...]]


def _op_key(b: debug.BlockedOp) -> _Key:
    return (b.thread_ident, b.op, tuple(sorted(id(c) for c in b.channels)))


def _remember(resting: dict[_Key, list[Any]], ops: list[debug.BlockedOp]) -> None:
    """Add `ops` to `resting`, the ways threads have been seen waiting when a test
    started, and forget the threads that have ended.  The channels are compared by
    identity: `resting` keeps them alive, so no new channel can take one of their ids."""
    alive = sys._current_frames().keys()
    for key in [k for k in resting if k[0] not in alive]:
        del resting[key]
    for b in ops:
        resting.setdefault(_op_key(b), b.channels)


def _new_threads(before: set[threading.Thread], ignore: list[str]) -> list[threading.Thread]:
    return [
        t for t in threading.enumerate()
        if t not in before and t.is_alive() and not _ignored(t.name, ignore)
    ]


def _find_leaks(
    before: set[threading.Thread],
    resting: dict[_Key, list[Any]],
    ignore: list[str],
    timeout: float,
) -> tuple[list[threading.Thread], list[debug.BlockedOp]]:
    """The threads started since `before`, and the calls left blocked for good in
    threads older than that (in a way not in `resting`), still there after waiting up
    to `timeout` for both to go away."""
    deadline = time.monotonic() + timeout
    me = threading.get_ident()
    while True:
        threads = _new_threads(before, ignore)
        idents = {t.ident for t in threads}
        ops = [
            b for b in debug.blocked()
            if b.deadline is None and b.thread_ident != me and b.thread_ident not in idents
            and _op_key(b) not in resting and not _ignored(b.thread_name, ignore)
        ]
        if (not threads and not ops) or time.monotonic() >= deadline:
            return threads, ops
        time.sleep(0.01)


def _describe_op(b: debug.BlockedOp, name: str) -> str:
    return (f"\n{name!r}: blocked in fastchan {b.op} for {b.waited:.3f}s on "
            + ", ".join(repr(c) for c in b.channels) + "\n" + b.stack)


def describe(threads: list[threading.Thread], blocked: Sequence[debug.BlockedOp] = ()) -> str:
    """A report of leaked `threads` (what each is blocked on in fastchan, and its stack)
    and of the `blocked` operations this test left in threads that predate it."""
    ops = {b.thread_ident: b for b in debug.blocked()}
    frames = sys._current_frames()
    parts: list[str] = []
    if threads:
        parts.append(f"{len(threads)} thread(s) left running by this test:\n")
    for t in sorted(threads, key=lambda t: t.name):
        b = ops.get(t.ident)
        if b is not None:
            parts.append(_describe_op(b, t.name))
        else:
            parts.append(f"\n{t.name!r}: running (not blocked in fastchan)\n")
            frame = frames.get(t.ident)
            parts.append("".join(traceback.format_stack(frame)) if frame is not None else "  (no frame)\n")
    if blocked:
        if threads:
            parts.append("\n")
        parts.append(f"{len(blocked)} operation(s) left blocked in fastchan by this test "
                     "in thread(s) that were already running:\n")
        for b in sorted(blocked, key=lambda b: (b.thread_name, b.thread_ident)):
            parts.append(_describe_op(b, b.thread_name))
    return "".join(parts)


class LeakFailure(pytest.fail.Exception):  # type: ignore[name-defined,misc]
    """The leak check's failure, raised when the fastchan_no_leaks fixture is torn down
    and turned into a failure of the test itself (see pytest_runtest_protocol)."""


_LEAK_REPORT = pytest.StashKey[Any]()
_REPORTS = pytest.StashKey[list[Any]]()
_RESTING = pytest.StashKey[dict[_Key, list[Any]]]()


@pytest.fixture
def fastchan_no_leaks(request: Any) -> Iterator[None]:
    """Fail the test if a thread it started is still running afterwards, or if it left
    a call blocked in fastchan in a thread that was already running."""
    ignore: list[str] = []
    for mark in request.node.iter_markers("fastchan_leaks"):
        names = mark.kwargs.get("ignore", mark.args[0] if mark.args else [])
        if isinstance(names, str):
            names = [names]
        ignore.extend(names)
    timeout = float(request.config.getini("fastchan_leaks_timeout"))
    before = set(threading.enumerate())
    resting = request.config.stash.setdefault(_RESTING, {})
    _remember(resting, debug.blocked())
    yield
    threads, ops = _find_leaks(before, resting, ignore, timeout)
    if threads or ops:
        raise LeakFailure(describe(threads, ops), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Iterator[None]:
    outcome = yield
    made = item.stash.get(_REPORTS, None)
    if made is None:
        return                          # not run by pytest_runtest_protocol below
    report = outcome.get_result()
    made.append(report)
    # Only a teardown whose sole error is the leak check's: a group of several
    # teardown errors is left alone.
    if call.when == "teardown" and call.excinfo is not None and type(call.excinfo.value) is LeakFailure:
        item.stash[_LEAK_REPORT] = report


def _log(item: Any, reports: list[Any]) -> None:
    leak = item.stash[_LEAK_REPORT]
    call = next((r for r in reports if r.when == "call"), None)
    if (leak is not None and any(r is leak for r in reports) and call is not None
            and call.passed and not hasattr(call, "wasxfail")):
        # The body passed: the leak is the test's failure.  (If the body failed, or
        # never ran, both stay visible: its failure, and the leak as a teardown error.)
        call.outcome, call.longrepr = "failed", leak.longrepr
        leak.outcome, leak.longrepr = "passed", None
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)


def pytest_runtest_protocol(item: Any, nextitem: Any) -> bool | None:
    """Run a checked test as pytest does, except that a leak found while its fixtures
    are torn down fails the test itself (pytest would report a teardown error after a
    pass): the reports are made first, then logged, as pytest-rerunfailures does."""
    if "fastchan_no_leaks" not in getattr(item, "fixturenames", ()):
        return None                     # pytest's own protocol
    from _pytest.runner import runtestprotocol

    made: list[Any] = []
    item.stash[_REPORTS] = made
    item.stash[_LEAK_REPORT] = None
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    try:
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
    except BaseException:
        _log(item, made)                # interrupted (Ctrl-C, quitting --pdb): what was made
        raise
    finally:
        del item.stash[_REPORTS]
    _log(item, reports)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
