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
