"""python -m fastchan.bench: bad input exits 2 with one clear line; a run writes JSON."""

import json
import subprocess
import sys

import pytest


def bench(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "fastchan.bench", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("args,message", [
    (["--only", "W99"], "unknown workload"),
    (["--only", ","], "unknown workload"),
    (["--repeat", "0"], "--repeat must be an integer >= 1"),
    (["--repeat", "many"], "--repeat must be an integer >= 1"),
    (["--json", "/nonexistent-dir/x.json"], "--json: cannot write"),
])
def test_bad_input_exits_2_without_traceback(args, message):
    out = bench(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout == ""


@pytest.mark.timeout(120)
def test_quick_run_writes_json_with_environment_and_rows(tmp_path):
    path = tmp_path / "out.json"
    out = bench("--quick", "--only", "W1,W11,w8", "--repeat", "1", "--json", str(path))
    assert out.returncode == 0, out.stderr
    data = json.loads(path.read_text())
    env = data["environment"]
    assert {"fastchan_version", "python_version", "build", "cpu_count"} <= set(env)
    assert [r["id"] for r in data["workloads"]] == ["W1", "W11", "W8"]
    for row in data["workloads"]:
        assert row["status"] == "ok"
        assert row["ratio"] == pytest.approx(row["fastchan_median_ns"] / row["peers"]["peer"]["median_ns"])
        assert row["verdict"] in ("met", "missed")
    assert "W11" in out.stdout and "ratio" in out.stdout


@pytest.mark.timeout(120)
def test_optional_thread_queue_peers_get_their_own_column(tmp_path):
    # A stand-in "culsans" (a queue with a sync side) on the path: the W3 row gains a
    # peer named after it, measured in the same run.
    (tmp_path / "culsans.py").write_text(
        "import queue\n"
        "class Queue:\n"
        "    def __init__(self, maxsize=0):\n"
        "        self.sync_q = queue.Queue(maxsize)\n"
    )
    path = tmp_path / "out.json"
    env = dict(__import__("os").environ)
    env["PYTHONPATH"] = str(tmp_path) + (__import__("os").pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    out = subprocess.run([sys.executable, "-m", "fastchan.bench", "--quick", "--only", "W3", "--repeat", "1",
                          "--json", str(path)], capture_output=True, text=True, timeout=110, env=env)
    assert out.returncode == 0, out.stderr
    row = json.loads(path.read_text())["workloads"][0]
    peer = row["peers"]["culsans.Queue.sync_q"]
    assert peer["median_ns"] > 0
    assert "culsans" in out.stdout
