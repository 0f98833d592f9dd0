"""Model-based tests: random programs of channel operations checked against a plain
Python model of API.md (hypothesis RuleBasedStateMachine), and random multi-threaded
programs checked for the global invariants (exactly once, per-sender order)."""

import collections
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import fastchan as fc
from _helpers import JOIN_TIMEOUT

CAPACITIES = st.sampled_from([0, 1, 2, 5, None])
VALUES = st.integers(-3, 1000)


class Model:
    """What API.md says one channel does when only this thread touches it (so an
    unbuffered channel never has a partner, and timeout=0 calls never wait)."""

    def __init__(self, cap):
        self.cap, self.buf, self.closed, self.sent, self.received = cap, collections.deque(), False, 0, 0

    def room(self):
        return self.cap is None or len(self.buf) < self.cap

    def can_send(self):
        return self.closed or self.room()

    def can_recv(self):
        return bool(self.buf) or self.closed

    def put(self, v):
        self.buf.append(v)
        self.sent += 1

    def take(self):
        self.received += 1
        return self.buf.popleft()


class ChannelMachine(RuleBasedStateMachine):
    @initialize(caps=st.lists(CAPACITIES, min_size=2, max_size=2))
    def make(self, caps):
        self.chans = [fc.Chan(c) for c in caps]
        self.models = [Model(c) for c in caps]

    def pick(self, i):
        return self.chans[i], self.models[i]

    @rule(i=st.integers(0, 1), v=VALUES)
    def try_send(self, i, v):
        ch, m = self.pick(i)
        if m.closed:
            with pytest.raises(fc.Closed):
                ch.try_send(v)
        elif m.room():
            assert ch.try_send(v) is True
            m.put(v)
        else:
            assert ch.try_send(v) is False

    @rule(i=st.integers(0, 1), v=VALUES)
    def send_now(self, i, v):
        ch, m = self.pick(i)
        if m.closed:
            with pytest.raises(fc.Closed):
                ch.send(v, timeout=0)
        elif m.room():
            ch.send(v, timeout=0)
            m.put(v)
        else:
            with pytest.raises(TimeoutError):
                ch.send(v, timeout=0)

    @rule(i=st.integers(0, 1), default=st.sampled_from([None, "missing", "absent"]))
    def try_recv(self, i, default):
        ch, m = self.pick(i)
        if m.buf:
            assert ch.try_recv() == m.take()
        elif m.closed:
            with pytest.raises(fc.Closed):
                ch.try_recv(default) if default != "absent" else ch.try_recv()
        elif default == "absent":
            with pytest.raises(fc.Empty):
                ch.try_recv()
        else:
            assert ch.try_recv(default) == default

    @rule(i=st.integers(0, 1))
    def recv_now(self, i):
        ch, m = self.pick(i)
        if m.buf:
            assert ch.recv(timeout=0) == m.take()
        elif m.closed:
            with pytest.raises(fc.Closed):
                ch.recv(timeout=0)
        else:
            with pytest.raises(TimeoutError):
                ch.recv(timeout=0)

    @rule(i=st.integers(0, 1), values=st.lists(VALUES, max_size=8), as_list=st.booleans())
    def send_many_now(self, i, values, as_list):
        ch, m = self.pick(i)
        expected_sent, error = 0, None
        for v in values:
            if m.closed:
                error = fc.Closed
                break
            if not m.room():
                error = TimeoutError
                break
            m.put(v)
            expected_sent += 1
        arg = values if as_list else iter(values)
        if error is None:
            assert ch.send_many(arg, timeout=0) == len(values)
        else:
            with pytest.raises(error) as info:
                ch.send_many(arg, timeout=0)
            assert info.value.sent == expected_sent

    @rule(i=st.integers(0, 1), k=st.integers(1, 4))
    def recv_many_now(self, i, k):
        ch, m = self.pick(i)
        if m.buf:
            want = [m.take() for _ in range(min(k, len(m.buf)))]
            assert ch.recv_many(k, timeout=0) == want
        elif m.closed:
            with pytest.raises(fc.Closed):
                ch.recv_many(k, timeout=0)
        else:
            with pytest.raises(TimeoutError):
                ch.recv_many(k, timeout=0)

    @rule(i=st.integers(0, 1))
    def close(self, i):
        ch, m = self.pick(i)
        assert ch.close() is (not m.closed)
        m.closed = True

    @rule(
        cases=st.lists(st.tuples(st.sampled_from(["recv", "send", "none"]), st.integers(0, 1), VALUES),
                       min_size=1, max_size=4),
    )
    def select_ordered_now(self, cases):
        args = []
        for kind, i, v in cases:
            args.append(None if kind == "none" else self.chans[i] if kind == "recv" else fc.Send(self.chans[i], v))
        for idx, (kind, i, v) in enumerate(cases):
            m = self.models[i]
            if kind == "recv" and m.can_recv():
                if m.buf:
                    assert fc.select(*args, timeout=0, ordered=True) == (idx, m.take(), True)
                else:
                    assert fc.select(*args, timeout=0, ordered=True) == (idx, None, False)
                return
            if kind == "send" and m.can_send():
                if m.closed:
                    with pytest.raises(fc.Closed):
                        fc.select(*args, timeout=0, ordered=True)
                else:
                    assert fc.select(*args, timeout=0, ordered=True) == (idx, None, True)
                    m.put(v)
                return
        assert fc.select(*args, timeout=0, ordered=True) == (-1, None, False)

    @precondition(lambda self: hasattr(self, "chans"))
    @invariant()
    def observable_state_matches(self):
        for ch, m in zip(self.chans, self.models):
            assert len(ch) == len(m.buf)
            assert ch.closed == m.closed
            s = ch.stats()
            assert (s["len"], s["sent"], s["received"], s["closed"]) == (len(m.buf), m.sent, m.received, m.closed)

    def teardown(self):
        # Whatever is still buffered comes out in order, then Closed.
        for ch, m in zip(getattr(self, "chans", []), getattr(self, "models", [])):
            ch.close()
            assert list(ch) == list(m.buf)


ChannelMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestChannelModel = pytest.mark.timeout(300)(ChannelMachine.TestCase)


# ---------------------------------------------------------------- threaded programs

OPS = st.sampled_from(["send", "try_send", "send_many", "select_send", "recv", "try_recv", "recv_many", "select_recv"])


def run_program(tid, ops, chans, sent_log, recv_log):
    """One thread's random program.  Sent values are (tid, seq), unique per sender;
    every success is logged, per channel, in the order it happened."""
    seq = 0
    for op, ci in ops:
        ch = chans[ci]
        try:
            if op == "send":
                ch.send((tid, seq), timeout=0.01)
                sent_log[ci].append((tid, seq))
            elif op == "try_send":
                if ch.try_send((tid, seq)):
                    sent_log[ci].append((tid, seq))
            elif op == "send_many":
                batch = [(tid, seq + k) for k in range(3)]
                seq += 2                # values stay unique even when this raises
                try:
                    n = ch.send_many(batch, timeout=0.01)
                except (TimeoutError, fc.Closed) as e:
                    n = e.sent
                    sent_log[ci].extend(batch[:n])
                    raise
                sent_log[ci].extend(batch[:n])
            elif op == "select_send":
                if fc.select(fc.Send(ch, (tid, seq)), timeout=0.01)[0] == 0:
                    sent_log[ci].append((tid, seq))
            elif op == "recv":
                recv_log[ci].append(ch.recv(timeout=0.01))
            elif op == "try_recv":
                v = ch.try_recv(None)
                if v is not None:
                    recv_log[ci].append(v)
            elif op == "recv_many":
                recv_log[ci].extend(ch.recv_many(3, timeout=0.01))
            else:
                idx, v, ok = fc.select(ch, chans[1 - ci], timeout=0.01)
                if idx >= 0 and ok:
                    recv_log[(ci, 1 - ci)[idx]].append(v)
        except (TimeoutError, fc.Closed):
            pass
        seq += 1


@pytest.mark.timeout(300)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    caps=st.lists(CAPACITIES, min_size=2, max_size=2),
    programs=st.lists(st.lists(st.tuples(OPS, st.integers(0, 1)), min_size=1, max_size=60), min_size=2, max_size=4),
    close_early=st.booleans(),
)
def test_threaded_programs_keep_the_invariants(caps, programs, close_early):
    chans = [fc.Chan(c) for c in caps]
    sent_logs = [[[] for _ in chans] for _ in programs]
    recv_logs = [[[] for _ in chans] for _ in programs]

    def body(tid):
        run_program(tid, programs[tid], chans, sent_logs[tid], recv_logs[tid])

    threads = [threading.Thread(target=body, args=(t,)) for t in range(len(programs))]
    for t in threads:
        t.start()
    if close_early:
        chans[0].close()
    for t in threads:
        t.join(JOIN_TIMEOUT)
        assert not t.is_alive()
    for ch in chans:
        ch.close()
    for ci, ch in enumerate(chans):
        received = [v for logs in recv_logs for v in logs[ci]] + list(ch)
        sent = [v for logs in sent_logs for v in logs[ci]]
        assert len(received) == len(set(received)), "a value was received twice"
        assert collections.Counter(received) == collections.Counter(sent), "lost or invented values"
        # per sender, each receiver sees that sender's values in the order sent
        order = {v: k for logs in sent_logs for k, v in enumerate(logs[ci])}
        for logs in recv_logs:
            for tid in range(len(programs)):
                mine = [order[v] for v in logs[ci] if v[0] == tid]
                assert mine == sorted(mine), "per-sender order broken"
        s = ch.stats()
        assert s["sent"] == s["received"] == len(sent)
