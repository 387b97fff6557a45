"""vagrant/test-matrix: one line per kernel from the recorded runs, shards added up, with or without
the host; --report prints the table again."""

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def closing(passed: int, failed: int = 0, skipped: int = 0) -> str:
    parts = ([f"{failed} failed"] if failed else []) + [f"{passed} passed"] + \
        ([f"{skipped} skipped"] if skipped else [])
    return f"====== {', '.join(parts)}, 300 deselected in 10.0s ======\n"


def report(tmp_path: Path, runs: dict[str, tuple[str, str]]) -> subprocess.CompletedProcess:
    """test-matrix --report over logs `runs` (added to earlier ones): name -> (status line, log text)."""
    (tmp_path / "vagrant").mkdir(exist_ok=True)
    shutil.copy(ROOT / "vagrant/test-matrix", tmp_path / "vagrant/test-matrix")
    logs = tmp_path / "vagrant/.cache/matrix-logs"
    logs.mkdir(parents=True, exist_ok=True)
    for name, (status, log) in runs.items():
        (logs / f"{name}.status").write_text(status + "\n")
        (logs / f"{name}.log").write_text(log)
    env = {k: v for k, v in os.environ.items() if k != "TRACER_MATRIX_LOGS"}  # the copy's own logs
    return subprocess.run(["bash", str(tmp_path / "vagrant/test-matrix"), "--report"],
                          capture_output=True, text=True, timeout=60, env=env)


def test_the_shards_of_a_kernel_make_one_line_that_fails_if_one_shard_failed(tmp_path):
    boot = "run-qemu: booting 7.2.13+deb14-amd64 (TCG, 1 vCPUs, 4G) to run: pytest\n"
    r = report(tmp_path, {
        "7.2.1": ("0 1000 4000 abc1234", boot + closing(280, skipped=2)),
        "7.2.2": ("1 1000 4600 abc1234", boot + closing(290, failed=3)),
        "6.1": ("0 100 700 def5678", "run-qemu: booting 6.1.0-56-amd64 (TCG)\n" + closing(570, skipped=19)),
    })
    lines = r.stdout.splitlines()
    assert r.returncode == 1, r.stderr  # one kernel failed
    assert lines[0].split() == ["kernel", "result", "passed", "failed", "skipped", "errors", "time", "commit"]
    assert lines[1].split() == ["6.1.0-56-amd64", "PASS", "570", "0", "19", "0", "10m00s", "def5678"]
    # wall time from the first shard's start to the last one's end
    assert lines[2].split() == ["7.2.13+deb14-amd64", "FAIL", "570", "3", "2", "0", "60m00s", "abc1234"]
    assert len(lines) == 3


def test_a_kernel_with_a_shard_not_finished_is_partial_not_a_pass(tmp_path):
    def boot(shard: str) -> str:
        return f"run-qemu: booting 6.1.0-56-amd64 (TCG, 1 vCPUs, 4G) to run: pytest --shard {shard}\n"
    r = report(tmp_path, {  # shard 3/3 still running or stopped: it has no status
        "6.1.1": ("0 0 1800 abc1234", boot("1/3") + closing(170)),
        "6.1.2": ("0 0 1700 abc1234", boot("2/3") + closing(191, skipped=1)),
    })
    assert r.returncode == 1, r.stderr
    assert r.stdout.splitlines()[1].split() == \
        ["6.1.0-56-amd64", "PART", "361", "0", "1", "0", "30m00s", "abc1234", "(2", "of", "3", "shards)"]

    r = report(tmp_path, {"6.1.3": ("0 1800 3000 abc1234", boot("3/3") + closing(267))})
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[1].split() == \
        ["6.1.0-56-amd64", "PASS", "628", "0", "1", "0", "50m00s", "abc1234"]


def test_shards_of_two_different_splits_do_not_make_a_pass(tmp_path):
    boot = "run-qemu: booting 6.12.74+deb13-amd64 (TCG, 1 vCPUs, 4G) to run: pytest --shard {}\n"
    r = report(tmp_path, {
        "6.12.1": ("0 0 600 abc1234", boot.format("1/2") + closing(300)),
        "6.12.2": ("0 0 600 abc1234", boot.format("2/3") + closing(200)),
    })
    assert r.returncode == 1, r.stderr
    assert "PART" in r.stdout and "(shards of different splits: 2 3)" in r.stdout, r.stdout


def test_a_report_with_no_run_recorded_says_so(tmp_path):
    r = report(tmp_path, {})
    assert r.returncode == 2 and "no run recorded" in r.stderr


FAKE_RUN_QEMU = r"""#!/usr/bin/env bash
# Stands in for the qemu runner: echoes its arguments and a pytest closing line; the kernel 7.2's
# second shard fails unless $LOGS/fixed exists.
kernel=$2 args="$*"
echo "run-qemu: booting $kernel.0-test (TCG, 1 vCPUs) to run: pytest"
echo "args: $args"
if [ "$kernel" = 7.2 ] && [[ $args == *"--shard 2/2"* ]] && [ ! -e "$TRACER_MATRIX_LOGS/fixed" ]; then
  echo "FAILED tests/test_x.py::test_y - boom"
  echo "=== 1 failed, 10 passed in 1.0s ==="
  exit 1
fi
echo "=== 10 passed, 1 skipped in 1.0s ==="
"""


def matrix(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """vagrant/test-matrix run for real over a stand-in qemu runner."""
    script = tmp_path / "vagrant/test-matrix"
    if not script.exists():
        script.parent.mkdir()
        shutil.copy(ROOT / "vagrant/test-matrix", script)
        (tmp_path / "vagrant/run-qemu").write_text(FAKE_RUN_QEMU)
        (tmp_path / "vagrant/run-qemu").chmod(0o755)
    # the caller's own matrix settings (a suite run by test-matrix inherits them) stay out
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACER_QEMU_", "TRACER_MATRIX_"))}
    env["TRACER_MATRIX_LOGS"] = str(tmp_path / "logs")
    return subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=60,
                          env=env, cwd=tmp_path)


def test_a_sharded_run_without_the_host_prints_its_table_and_reruns_one_shard(tmp_path):
    r = matrix(tmp_path, "--no-host", "--kernels", "6.1 7.2", "-j", "2", "--shards", "2",
               "--", "-m", "smoke")
    lines = r.stdout.splitlines()
    assert r.returncode == 1, r.stderr  # one kernel failed
    assert lines[1].split()[:6] == ["6.1.0-test", "PASS", "20", "0", "2", "0"]
    assert lines[2].split()[:6] == ["7.2.0-test", "FAIL", "20", "1", "1", "0"]
    # the failed shard's summary reaches the output, not only its log
    assert "--- 7.2.2: exit 1" in r.stdout and "FAILED tests/test_x.py::test_y - boom" in r.stdout
    log = (tmp_path / "logs/6.1.1.log").read_text()
    assert "args: --kernel 6.1 --timeout 3600 -- --shard 1/2 -m smoke" in log

    (tmp_path / "logs/fixed").touch()
    r = matrix(tmp_path, "--no-host", "--kernels", "7.2", "--shards", "2", "--only", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[1].split()[:6] == ["7.2.0-test", "PASS", "20", "0", "2", "0"]
    r = matrix(tmp_path, "--report")
    assert [line.split()[1] for line in r.stdout.splitlines()[1:]] == ["PASS", "PASS"], r.stdout
