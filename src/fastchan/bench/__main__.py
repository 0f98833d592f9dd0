"""python -m fastchan.bench: how much faster is fastchan than the stdlib, on this machine?

    python -m fastchan.bench [--quick] [--only W1,W3] [--repeat N] [--json FILE] [--plot FILE.png]

Runs the PERF.md workloads (fastchan.bench.workloads) for fastchan and for the peer of
each row, interleaved (the order alternates between repeats, after an untimed warm-up),
and prints one table: median time per item of each side, their ratio (fastchan / peer,
lower is better), the target and whether it is met.  Cross-thread workloads run behind a
watchdog: a hang shows as "timeout" in its row instead of hanging the command.  Stdlib
only; --plot needs matplotlib (pip install "fastchan[plot]").

Exit codes: 0 when every workload ran (targets met or not), 1 when one failed or hung,
2 for bad arguments (unknown workload, bad --repeat, unwritable --json/--plot path).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import sysconfig
import time

import fastchan
from fastchan.bench import workloads as wl


class UsageError(Exception):
    """Bad command-line input: reported in one line, exit code 2."""


def build() -> str:
    if not sysconfig.get_config_var("Py_GIL_DISABLED"):
        return "GIL"
    return "free-threaded" if not sys._is_gil_enabled() else "free-threaded build, GIL enabled"


def environment() -> dict:
    return {
        "fastchan_version": fastchan.__version__,
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "build": build(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "system": platform.system(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parse_args(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m fastchan.bench",
        description="fastchan vs the standard library on the PERF.md workloads: "
        "median time per item and the ratio fastchan / peer (lower is better).",
    )
    p.add_argument("--quick", action="store_true", help="small sizes: the whole run takes under ~30 s")
    p.add_argument("--only", metavar="IDS", help=f"comma-separated workload ids (all: {','.join(wl.WORKLOADS)})")
    p.add_argument("--repeat", metavar="N", help="repeats per side (default 5; 9 for W7, 3 for W10/W12)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    p.add_argument("--plot", metavar="FILE.png", help="also draw the ratios as a bar chart (needs matplotlib)")
    args = p.parse_args(argv)
    if args.repeat is not None:
        try:
            args.repeat = int(args.repeat)
        except ValueError:
            raise UsageError(f"--repeat must be an integer >= 1, got {args.repeat!r}") from None
        if args.repeat < 1:
            raise UsageError(f"--repeat must be an integer >= 1, got {args.repeat}")
    args.ids = select(args.only)
    for option in ("json", "plot"):
        path = getattr(args, option)
        if path is not None:
            check_writable(option, path)
    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UsageError('--plot needs matplotlib: pip install "fastchan[plot]"') from None
    return args


def select(only: str | None) -> list[str]:
    if not only:
        return list(wl.WORKLOADS)
    names = [s.strip().upper() for s in only.split(",") if s.strip()]
    unknown = [s for s in names if s not in wl.WORKLOADS]
    if unknown or not names:
        raise UsageError(f"unknown workload(s) {', '.join(unknown) or '(none)'}; known: {', '.join(wl.WORKLOADS)}")
    return list(dict.fromkeys(names))


def check_writable(option: str, path: str) -> None:
    try:
        with open(path, "a"):
            pass
    except OSError as exc:
        raise UsageError(f"--{option}: cannot write {path!r}: {exc.strerror}") from None


def timed(fn, n: int) -> float:
    gc.collect()
    return fn(n) / n * 1e9


def measure(wid: str, quick: bool, repeat: int | None, progress) -> dict:
    fc_fn, peer_fn, target, description = wl.WORKLOADS[wid]
    n = wl.SIZES[wid][1 if quick else 0]
    reps = repeat or wl.REPEATS[wid]
    row = {"id": wid, "description": description, "n": n, "repeats": reps, "target": target}
    peers = {"peer": peer_fn, **wl.EXTRA_PEERS.get(wid, {})}
    samples: dict[str, list[float]] = {"fastchan": [], **{name: [] for name in peers}}
    try:
        warm = max(1, n // 20)
        fc_fn(warm)
        for fn in peers.values():
            fn(warm)
        for r in range(reps):
            progress(f"{wid} repeat {r + 1}/{reps}")
            order = [("fastchan", fc_fn), *peers.items()]
            for name, fn in order if r % 2 == 0 else reversed(order):
                samples[name].append(timed(fn, n))
    except wl.Unavailable as exc:
        return {**row, "status": "skipped", "reason": str(exc)}
    except TimeoutError as exc:
        return {**row, "status": "timeout", "reason": str(exc)}
    except Exception as exc:
        return {**row, "status": "error", "reason": f"{type(exc).__name__}: {exc}"}
    fc_median = statistics.median(samples["fastchan"])
    row.update(status="ok", fastchan_ns=samples["fastchan"], fastchan_median_ns=fc_median, peers={})
    for name in peers:
        median = statistics.median(samples[name])
        row["peers"][name] = {"ns": samples[name], "median_ns": median, "ratio": fc_median / median}
    ratio = row["peers"]["peer"]["ratio"]
    row["ratio"] = ratio
    row["verdict"] = "-" if target is None else ("met" if ratio <= target else "missed")
    return row


def fmt_ns(ns: float) -> str:
    return f"{ns / 1000:.1f} µs" if ns >= 10_000 else f"{ns:.1f} ns"


def spread(ns: list[float]) -> str:
    med = statistics.median(ns)
    return f"±{(max(ns) - min(ns)) / 2 / med * 100:.0f}%" if med else ""


def table(rows: list[dict]) -> str:
    cols = ("workload", "fastchan", "peer", "ratio", "target", "verdict")
    lines = []
    for r in rows:
        target = "-" if r["target"] is None else f"<= {r['target']:g}"
        if r["status"] != "ok":
            cell = {"skipped": "skipped", "timeout": "timeout", "error": "ERROR"}[r["status"]]
            lines.append((r["id"], cell, cell, "", target, r["reason"]))
            continue
        lines.append((
            r["id"],
            f"{fmt_ns(r['fastchan_median_ns'])} {spread(r['fastchan_ns'])}",
            f"{fmt_ns(r['peers']['peer']['median_ns'])} {spread(r['peers']['peer']['ns'])}",
            f"{r['ratio']:.3f}", target, r["verdict"],
        ))
        for name, p in r["peers"].items():
            if name != "peer":
                lines.append((f"  vs {name}", "", f"{fmt_ns(p['median_ns'])} {spread(p['ns'])}",
                              f"{p['ratio']:.3f}", "", ""))
    widths = [max(len(c), *(len(x[i]) for x in lines)) for i, c in enumerate(cols)]
    out = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    out.append("-" * len(out[0]))
    out += ["  ".join(v.ljust(w) for v, w in zip(x, widths)).rstrip() for x in lines]
    return "\n".join(out)


def plot(rows: list[dict], env: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if r["status"] == "ok"]
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(ok) + 2), 4.5))
    xs = range(len(ok))
    ratios = [r["ratio"] for r in ok]
    colours = ["#3a7" if r["verdict"] != "missed" else "#d55" for r in ok]
    ax.bar(xs, ratios, color=colours)
    for x, r in zip(xs, ok):
        if r["target"] is not None:
            ax.plot([x - 0.4, x + 0.4], [r["target"]] * 2, color="black", linewidth=1.5)
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_yscale("log")
    ax.set_xticks(list(xs), [r["id"] for r in ok])
    ax.set_ylabel("time fastchan / time peer (log; lower is better)")
    ax.set_title(f"fastchan {env['fastchan_version']} vs stdlib: Python {env['python_version']} "
                 f"({env['build']}), {env['cpu_count']} CPUs\nbars: ratio; black ticks: target")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"python -m fastchan.bench: error: {exc}", file=sys.stderr)
        return 2
    env = environment()
    interactive = sys.stderr.isatty()

    def progress(text: str) -> None:
        # One rewritten line on a terminal; on a pipe, one line per workload.
        if interactive:
            print(f"\r\033[K{text}", end="", file=sys.stderr, flush=True)
        elif " repeat 1/" in text:
            print(text.split(" repeat ")[0], "...", file=sys.stderr, flush=True)

    start = time.perf_counter()
    rows = [measure(wid, args.quick, args.repeat, progress) for wid in args.ids]
    if interactive:
        progress("")
        print("\r", end="", file=sys.stderr)
    print(f"fastchan {env['fastchan_version']} on Python {env['python_version']} ({env['build']}), "
          f"{env['cpu_count']} CPUs ({env['processor']}), {env['system']} {env['machine']}")
    print(f"{'quick' if args.quick else 'full'} run; medians of the repeats, ± half their spread; "
          "ratio = time fastchan / time peer (lower is better)\n")
    print(table(rows))
    print()
    for r in rows:
        print(f"{r['id']}: {r['description']}")
    print(f"total {time.perf_counter() - start:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "mode": "quick" if args.quick else "full", "workloads": rows}, f, indent=1)
    if args.plot:
        plot(rows, env, args.plot)
    return 1 if any(r["status"] in ("timeout", "error") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
