"""pytest-benchmark suite over the workloads of fastchan.bench (PERF.md).

    pip install ".[bench]"
    pytest bench/ --benchmark-only --benchmark-group-by=group

Each workload runs twice, fastchan and its peer, in one group, so the table puts them
side by side.  A round is one call of the workload function with the quick size (the
full sizes are for ``python -m fastchan.bench``); W12 runs only on a free-threaded build.
"""

import pytest

from fastchan.bench import workloads as wl

CASES = [(wid, side) for wid in wl.WORKLOADS for side in ("fastchan", "peer")]


@pytest.mark.parametrize("wid,side", CASES, ids=[f"{w}-{s}" for w, s in CASES])
def test_workload(benchmark, wid, side):
    fc_fn, peer_fn, _target, description = wl.WORKLOADS[wid]
    fn = fc_fn if side == "fastchan" else peer_fn
    n = wl.SIZES[wid][1]
    benchmark.group = f"{wid}: {description}"
    benchmark.extra_info["items"] = n
    try:
        fn(max(1, n // 20))
    except wl.Unavailable as exc:
        pytest.skip(str(exc))
    benchmark.pedantic(fn, args=(n,), rounds=wl.REPEATS[wid], iterations=1)
