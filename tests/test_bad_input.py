"""Bad arguments: TypeError for wrong types, ValueError for wrong values, and the
message names the argument. A rejected call has no effect."""

import math

import pytest

import fastchan as fc
from _helpers import assert_blocks

INF_LIKE = [math.inf, 1e10, 1e300, 10**400]    # the last is beyond any float


# ------------------------------------------------------------------------ capacity


@pytest.mark.parametrize("bad", [-1, -2, -(2**40)])
def test_capacity_negative_value_error(bad):
    with pytest.raises(ValueError, match="capacity") as ei:
        fc.Chan(bad)
    assert str(bad) in str(ei.value)
    with pytest.raises(ValueError, match="capacity"):
        fc.Chan(capacity=bad)


@pytest.mark.parametrize("bad", [1.5, 1.0, 0.0, True, False, "3", b"3", [1], object()])
def test_capacity_type_error(bad):
    with pytest.raises(TypeError, match="capacity"):
        fc.Chan(bad)
    with pytest.raises(TypeError, match="capacity"):
        fc.Chan(capacity=bad)


def test_capacity_message_example():
    with pytest.raises(ValueError) as ei:
        fc.Chan(-1)
    msg = str(ei.value)
    assert "capacity" in msg and "-1" in msg


# ------------------------------------------------------------------------- timeouts


def _ready_chan():
    ch = fc.Chan(4)
    ch.send("keep")
    return ch


# Each entry calls a blocking operation with the given timeout on a channel where it
# could complete at once; a bad timeout must be rejected without performing it.
OPS = {
    "recv": lambda ch, t: ch.recv(timeout=t),
    "send": lambda ch, t: ch.send("new", timeout=t),
    "recv_many": lambda ch, t: ch.recv_many(2, timeout=t),
    "send_many": lambda ch, t: ch.send_many(["new"], timeout=t),
    "select_recv": lambda ch, t: fc.select(ch, timeout=t),
    "select_send": lambda ch, t: fc.select(fc.Send(ch, "new"), timeout=t),
}


@pytest.mark.parametrize("bad", [-1, -0.5, -1e-9, -math.inf, math.nan])
@pytest.mark.parametrize("op", list(OPS), ids=list(OPS))
def test_timeout_value_error(op, bad):
    ch = _ready_chan()
    with pytest.raises(ValueError, match="timeout"):
        OPS[op](ch, bad)
    assert len(ch) == 1 and ch.recv() == "keep"  # nothing happened


@pytest.mark.parametrize("op", list(OPS), ids=list(OPS))
def test_timeout_huge_negative_int_value_error(op):
    # Beyond any float: still a negative number (ValueError), not an OverflowError.
    ch = _ready_chan()
    with pytest.raises(ValueError, match="timeout"):
        OPS[op](ch, -10**400)
    assert len(ch) == 1 and ch.recv() == "keep"


@pytest.mark.parametrize("bad", ["1", b"1", [1], object(), 1j])
@pytest.mark.parametrize("op", list(OPS), ids=list(OPS))
def test_timeout_type_error(op, bad):
    ch = _ready_chan()
    with pytest.raises(TypeError, match="timeout"):
        OPS[op](ch, bad)
    assert len(ch) == 1 and ch.recv() == "keep"


@pytest.mark.parametrize("bad", [-1, math.nan])
def test_timeout_value_error_on_empty_channel(bad):
    ch = fc.Chan(0)
    with pytest.raises(ValueError, match="timeout"):
        ch.recv(timeout=bad)
    with pytest.raises(ValueError, match="timeout"):
        ch.send(1, timeout=bad)
    with pytest.raises(ValueError, match="timeout"):
        fc.select(ch, timeout=bad)
    with pytest.raises(ValueError, match="timeout"):
        fc.select(timeout=bad)


@pytest.mark.parametrize("t", [0, 0.0, 1, 2.5])
def test_timeout_accepts_int_and_float(t):
    ch = fc.Chan(4)
    ch.send(1, timeout=t)
    assert ch.recv(timeout=t) == 1
    assert ch.send_many([1, 2], timeout=t) == 2
    assert ch.recv_many(5, timeout=t) == [1, 2]


@pytest.mark.parametrize("t", INF_LIKE, ids=["inf", "1e10", "1e300", "10**400"])
def test_timeout_infinite_recv_waits(t):
    ch = fc.Chan(0)
    r = assert_blocks(ch.recv, timeout=t, for_=0.2)
    ch.send("delivered", timeout=10)
    assert r.join() == "delivered"


@pytest.mark.parametrize("t", INF_LIKE, ids=["inf", "1e10", "1e300", "10**400"])
def test_timeout_infinite_send_waits(t):
    ch = fc.Chan(0)
    s = assert_blocks(ch.send, "v", timeout=t, for_=0.2)
    assert ch.recv(timeout=10) == "v"
    assert s.join() is None


@pytest.mark.parametrize("t", INF_LIKE, ids=["inf", "1e10", "1e300", "10**400"])
def test_timeout_infinite_select_waits(t):
    ch = fc.Chan(0)
    r = assert_blocks(fc.select, ch, timeout=t, for_=0.2)
    ch.send("v", timeout=10)
    assert r.join() == (0, "v", True)


@pytest.mark.parametrize("t", INF_LIKE, ids=["inf", "1e10", "1e300", "10**400"])
def test_timeout_infinite_batch_waits(t):
    ch = fc.Chan(1)
    r = assert_blocks(ch.recv_many, 3, timeout=t, for_=0.2)
    ch.send("v", timeout=10)
    assert r.join() == ["v"]
    ch.send("fill")
    s = assert_blocks(ch.send_many, ["a", "b"], timeout=t, for_=0.2)
    got = [ch.recv(timeout=10) for _ in range(3)]
    assert s.join() == 2
    assert got == ["fill", "a", "b"]


def test_timeout_none_waits():
    ch = fc.Chan(0)
    r = assert_blocks(ch.recv, timeout=None, for_=0.2)
    ch.send(1, timeout=10)
    assert r.join() == 1


# ------------------------------------------------------------------------ max_items


@pytest.mark.parametrize("bad", [0, -1])
def test_max_items_value_error(bad):
    ch = _ready_chan()
    with pytest.raises(ValueError, match="max_items"):
        ch.recv_many(bad)
    with pytest.raises(ValueError, match="max_items"):
        ch.recv_many(bad, timeout=0)
    assert len(ch) == 1


@pytest.mark.parametrize("bad", [1.0, 2.5, "2", None, [2]])
def test_max_items_type_error(bad):
    ch = _ready_chan()
    with pytest.raises(TypeError, match="max_items"):
        ch.recv_many(bad)
    assert len(ch) == 1


# ----------------------------------------------------------------------- arg count


def test_wrong_argument_counts():
    ch = fc.Chan(4)
    with pytest.raises(TypeError):
        ch.send()
    with pytest.raises(TypeError):
        ch.try_send()
    with pytest.raises(TypeError):
        ch.try_recv(1, 2)
    with pytest.raises(TypeError):
        ch.recv_many()
    with pytest.raises(TypeError):
        ch.send_many()
    assert len(ch) == 0
    with pytest.raises(TypeError):
        fc.select(timeout=0, bogus=1)
