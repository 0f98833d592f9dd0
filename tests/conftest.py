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
