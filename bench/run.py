"""Run the fastchan-vs-peer workloads of PERF.md and print a table of ratios.

    python bench/run.py [--quick] [--only W1,W3] [--repeat N]

For each workload the fastchan and the peer function run interleaved (their order
alternates between repeats), each after a small untimed warm-up; the table shows the
median ns per item of each side, their ratio (fastchan / peer; lower is better for
fastchan) and whether the PERF.md target is met. Exit code: 0 when everything ran
(targets missed or not), 1 when a workload failed or hung, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time

try:  # as part of a package (e.g. a future ``python -m fastchan.bench``)
    from . import workloads as wl
except ImportError:  # as a script: ``python bench/run.py``
    import workloads as wl


def target_text(target) -> str:
    return "-" if target is None else f"<= {target:g}"


def build_description() -> str:
    gil_check = getattr(sys, "_is_gil_enabled", None)
    try:
        import sysconfig

        ft_build = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    except Exception:
        ft_build = False
    if gil_check is None:
        return "GIL"
    if gil_check():
        return "free-threaded build, GIL enabled at run time" if ft_build else "GIL"
    return "free-threaded (GIL disabled)"


def cpu_description() -> str:
    total = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = None
    if usable is not None and usable != total:
        return f"{usable} usable of {total}"
    return str(total)


def header() -> str:
    try:
        import fastchan

        fcinfo = f"fastchan {getattr(fastchan, '__version__', '?')} ({os.path.dirname(fastchan.__file__)})"
    except Exception as exc:  # report, the peers still run
        fcinfo = f"fastchan NOT importable: {exc.__class__.__name__}: {exc}"
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}, "
        f"{build_description()}) on {platform.system()} {platform.machine()}, "
        f"CPUs: {cpu_description()}; {fcinfo}"
    )


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench/run.py",
        description="fastchan vs stdlib peers (PERF.md workloads); prints median ns/item and ratios.",
    )
    p.add_argument("--quick", action="store_true",
                   help="small n: the whole run takes well under 30 s (smoke test, noisier)")
    p.add_argument("--only", metavar="W1,W3",
                   help="comma-separated workload ids (default: all of %s)" % ",".join(wl.WORKLOADS))
    p.add_argument("--repeat", type=int, metavar="N",
                   help="repeats per side (default 5; 9 for W7)")
    args = p.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        p.error("--repeat must be >= 1")
    return args


def select_workloads(only):
    if not only:
        return list(wl.WORKLOADS)
    names = [s.strip().upper() for s in only.split(",") if s.strip()]
    unknown = [s for s in names if s not in wl.WORKLOADS]
    if unknown or not names:
        print(
            f"unknown workload(s): {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(wl.WORKLOADS)}",
            file=sys.stderr,
        )
        return None
    return list(dict.fromkeys(names))  # keep order, drop duplicates


def measure(fn, n):
    gc.collect()
    return fn(n)


def run_workload(wid, quick, repeat):
    fc_fn, peer_fn, target, _desc = wl.WORKLOADS[wid]
    full_n, quick_n = wl.SIZES[wid]
    n = quick_n if quick else full_n
    reps = repeat if repeat is not None else wl.REPEATS[wid]
    warm = max(1, n // 20)
    fc_fn(warm)
    peer_fn(warm)
    fc_times, peer_times = [], []
    for r in range(reps):
        pair = [(fc_fn, fc_times), (peer_fn, peer_times)]
        if r % 2:
            pair.reverse()
        for fn, out in pair:
            out.append(measure(fn, n) / n * 1e9)
    fc_med = statistics.median(fc_times)
    peer_med = statistics.median(peer_times)
    return n, reps, fc_times, peer_times, fc_med, peer_med, target


def fmt_ns(ns):
    if ns >= 10_000:
        return f"{ns / 1000:.1f} µs"
    return f"{ns:.1f} ns"


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    wids = select_workloads(args.only)
    if wids is None:
        return 2
    print(header())
    mode = "quick" if args.quick else "full"
    print(f"mode: {mode}; medians of the repeats; ratio = fastchan / peer (lower is better)")
    print()
    cols = ("id", "n", "reps", "fastchan/item", "peer/item", "ratio", "target", "verdict")
    rows = []
    failed = False
    start = time.perf_counter()
    for wid in wids:
        try:
            n, reps, fts, pts, fmed, pmed, target = run_workload(wid, args.quick, args.repeat)
        except TimeoutError as exc:
            failed = True
            rows.append((wid, "", "", "", "", "", target_text(wl.WORKLOADS[wid][2]), "HANG"))
            print(f"{wid}: HANG: {exc}", file=sys.stderr)
            continue
        except Exception as exc:
            failed = True
            rows.append((wid, "", "", "", "", "", target_text(wl.WORKLOADS[wid][2]), "ERROR"))
            print(f"{wid}: ERROR: {exc.__class__.__name__}: {exc}", file=sys.stderr)
            continue
        ratio = fmed / pmed
        verdict = "-" if target is None else ("met" if ratio <= target else "missed")
        rows.append((wid, f"{n:,}", str(reps), fmt_ns(fmed), fmt_ns(pmed),
                     f"{ratio:.3f}", target_text(target), verdict))
        spread = lambda ts: f"{fmt_ns(min(ts))}..{fmt_ns(max(ts))}"
        print(f"  {wid} done: fastchan {spread(fts)}, peer {spread(pts)}", file=sys.stderr)
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    print()
    for wid in wids:
        print(f"{wid}: {wl.WORKLOADS[wid][3]}")
    print(f"total {time.perf_counter() - start:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
