"""Shared pytest configuration for the fastchan test suite."""

import os
import sys

# Make ``import _helpers`` work whatever --import-mode pytest runs with.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
