"""Shared pytest configuration for the fastchan test suite."""

import os
import sys

# Make ``import _helpers`` work whatever --import-mode pytest runs with.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


import pytest

# The leak check is fastchan's own plugin; registered here too so the suite runs the
# same from a source tree without the installed entry point.
pytest_plugins = ["fastchan.testing", "pytester"]


@pytest.fixture(autouse=True)
def no_thread_leak(fastchan_no_leaks):
    """Every test: no thread it started (pool workers included) may outlive it."""


def pytest_collection_modifyitems(config, items):
    """FASTCHAN_TIMEOUT_SCALE=N multiplies every test's time limit (pytest-timeout's
    marker or ini value): for runs under a slow instrumented build (tools/tsan)."""
    scale = float(os.environ.get("FASTCHAN_TIMEOUT_SCALE", "1"))
    if scale == 1:
        return
    default = float(config.getini("timeout") or 0)
    for item in items:
        marker = item.get_closest_marker("timeout")
        limit = marker.kwargs.get("timeout", marker.args[0] if marker.args else default) if marker else default
        if limit:
            item.add_marker(pytest.mark.timeout(float(limit) * scale), append=False)
