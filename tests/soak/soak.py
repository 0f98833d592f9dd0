"""Soak test (not part of the default run): 8 threads do random mixed operations on 16
channels of every flavor for a set time, then the books must balance.

    python tests/soak/soak.py --seconds 600 [--threads 8] [--channels 16] [--seed N]

Every value is unique (sender id and sequence number packed in an int).  Checked at the
end: each channel's count and checksums of received + still-buffered values equal those
of the values whose send succeeded (nothing lost, nothing invented, nothing twice in
the sum), every receiver saw each sender's values on each channel in the order sent,
ch.stats() agrees, and no operation is left blocked.  Prints throughput; exits 1 on a
broken invariant.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time

import fastchan as fc

SEQ_BITS = 40


def worker(tid, chans, stop_at, seed, books, lock):
    rng = random.Random(seed)
    n = len(chans)
    seq = 0
    sent_count = [0] * n
    sent_sum = [0] * n
    sent_sq = [0] * n
    recv_count = [0] * n
    recv_sum = [0] * n
    recv_sq = [0] * n
    last_seen = {}          # (channel, sender) -> last sequence number received here
    ops = 0
    bad = []

    def got(ci, v):
        recv_count[ci] += 1
        recv_sum[ci] += v
        recv_sq[ci] += v * v
        sender, s = v >> SEQ_BITS, v & ((1 << SEQ_BITS) - 1)
        if last_seen.get((ci, sender), -1) >= s:
            bad.append(f"thread {tid}: channel {ci} gave sender {sender}'s #{s} after #{last_seen[(ci, sender)]}")
        last_seen[(ci, sender)] = s

    def sent(ci, v):
        sent_count[ci] += 1
        sent_sum[ci] += v
        sent_sq[ci] += v * v

    while time.monotonic() < stop_at:
        ci = rng.randrange(n)
        ch = chans[ci]
        op = rng.randrange(8)
        v = (tid << SEQ_BITS) | seq
        seq += 1
        ops += 1
        try:
            if op == 0:
                ch.send(v, timeout=0.002)
                sent(ci, v)
            elif op == 1:
                if ch.try_send(v):
                    sent(ci, v)
            elif op == 2:
                batch = [v + k for k in range(4)]
                seq += 3
                try:
                    k = ch.send_many(batch, timeout=0.002)
                except (TimeoutError, fc.Closed) as e:
                    k = e.sent
                for x in batch[:k]:
                    sent(ci, x)
            elif op == 3:
                cj = rng.randrange(n)
                idx, x, ok = fc.select(fc.Send(ch, v), chans[cj], timeout=0.002)
                if idx == 0:
                    sent(ci, v)
                elif idx == 1 and ok:
                    got(cj, x)
            elif op == 4:
                got(ci, ch.recv(timeout=0.002))
            elif op == 5:
                x = ch.try_recv(None)
                if x is not None:
                    got(ci, x)
            elif op == 6:
                for x in ch.recv_many(8, timeout=0.002):
                    got(ci, x)
            else:
                cj = rng.randrange(n)
                idx, x, ok = fc.select(ch, chans[cj], timeout=0.002)
                if idx >= 0 and ok:
                    got((ci, cj)[idx], x)
        except (TimeoutError, fc.Closed):
            pass
    with lock:
        for ci in range(n):
            for key, arr in (("sent_count", sent_count), ("sent_sum", sent_sum), ("sent_sq", sent_sq),
                             ("recv_count", recv_count), ("recv_sum", recv_sum), ("recv_sq", recv_sq)):
                books[key][ci] += arr[ci]
        books["ops"] += ops
        books["bad"].extend(bad[:10])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--seed", type=int, default=None)
    a = p.parse_args(argv)
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    caps = [(0, 1, 16, None)[i % 4] for i in range(a.channels)]
    chans = [fc.Chan(c) for c in caps]
    n = len(chans)
    books = {k: [0] * n for k in ("sent_count", "sent_sum", "sent_sq", "recv_count", "recv_sum", "recv_sq")}
    books["ops"], books["bad"] = 0, []
    lock = threading.Lock()
    t0 = time.monotonic()
    stop_at = t0 + a.seconds
    threads = [threading.Thread(target=worker, args=(t, chans, stop_at, seed + t, books, lock), name=f"soak-{t}")
               for t in range(a.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.seconds + 60)
        if t.is_alive():
            print(f"FAIL: {t.name} still running 60 s after the end (hang)", file=sys.stderr)
            fc.debug.dump()
            return 1
    elapsed = time.monotonic() - t0
    failures = list(books["bad"])
    for ci, ch in enumerate(chans):
        ch.close()
        rest = list(ch)
        rc = books["recv_count"][ci] + len(rest)
        rs = books["recv_sum"][ci] + sum(rest)
        rq = books["recv_sq"][ci] + sum(x * x for x in rest)
        if (rc, rs, rq) != (books["sent_count"][ci], books["sent_sum"][ci], books["sent_sq"][ci]):
            failures.append(f"channel {ci} (capacity {caps[ci]}): sent {books['sent_count'][ci]}, "
                            f"received + buffered {rc}, checksums {'equal' if rs == books['sent_sum'][ci] else 'differ'}")
        s = ch.stats()
        if s["sent"] != books["sent_count"][ci] or s["received"] != rc:
            failures.append(f"channel {ci}: stats {s} disagree with the books")
    if fc.debug.blocked():
        failures.append(f"operations left blocked: {fc.debug.blocked()}")
    moved = sum(books["sent_count"])
    print(f"soak: {a.threads} threads, {n} channels, {elapsed:.1f} s, seed {seed}, Python {sys.version.split()[0]}"
          f"{' free-threaded' if not getattr(sys, '_is_gil_enabled', lambda: True)() else ''}")
    print(f"soak: {books['ops']:,} operations ({books['ops'] / elapsed:,.0f}/s), {moved:,} values moved "
          f"({moved / elapsed:,.0f}/s)")
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print("soak: every invariant held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
