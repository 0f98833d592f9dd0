"""fastchan.bench: the bundled comparison with the standard library.

Run it with ``python -m fastchan.bench`` (see ``--help``); the workloads live in
``fastchan.bench.workloads`` and are shared with the pytest-benchmark suite in the
repository's ``bench/`` directory.
"""
