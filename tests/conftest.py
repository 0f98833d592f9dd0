"""Shared pytest configuration for the fastchan test suite."""

import os
import sys

# Make ``import _helpers`` work whatever --import-mode pytest runs with.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


import threading
import time

import pytest

#: How long a test's threads get to finish after the test before they count as leaked.
THREAD_GRACE = 10.0


@pytest.fixture(autouse=True)
def no_thread_leak():
    """Fail a test that leaves behind a thread it started (pool workers included)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + THREAD_GRACE
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    if leaked:
        pytest.fail(f"test left {len(leaked)} thread(s) running: {sorted(t.name for t in leaked)}")
