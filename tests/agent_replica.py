"""Drive trace-hooks managers through tests/agent_replica/main.go, a replica of
container-tracer's node agent (discovery, environment, handshake, per-line reader, SIGINT).

    hooks = listed(env)                                  # what the agent's --get-all shows
    run = AgentRun("ebpf", "ebpf-process", "--pid 1", env, tmp_path)
    run.read_so_far()                                    # lines its reader got, live
    result = run.stop()                                  # {"read": N, "exit": RC, ...}

`wrap` runs the replica under another command (a mount namespace, see daemonset.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import bounds

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path(__file__).parent / "agent_replica" / "main.go"
HOOKS = ROOT / "trace-hooks"


def binary() -> Path:
    """The replica built from its source, cached by the source's digest."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    out = Path(tempfile.gettempdir()) / f"tracer-agent-replica-{digest}" / "agent-replica"
    if out.exists():
        return out
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("go not found: scripts/setup.sh installs golang-go")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"agent-replica.{os.getpid()}")
    env = {**os.environ, "GOCACHE": str(out.parent / "gocache"), "GO111MODULE": "off",
           "CGO_ENABLED": "0"}
    subprocess.run([go, "build", "-o", str(tmp), str(SOURCE)], check=True, env=env,
                   cwd=SOURCE.parent, capture_output=True, timeout=300)
    os.replace(tmp, out)
    return out


def _env_flags(env: dict[str, str]) -> list[str]:
    return [a for k, v in env.items() for a in ("-env", f"{k}={v}")]


def listed(env: dict[str, str], wrap: list[str] | None = None) -> list[tuple[str, str]]:
    """(subsystem, hook) pairs the agent discovers."""
    out = subprocess.run([*(wrap or []), str(binary()), "list", "-hooks", str(HOOKS), *_env_flags(env)],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [tuple(ln.split(" ", 1)) for ln in out.splitlines()]  # type: ignore[misc]


class AgentRun:
    def __init__(self, sub: str, hook: str, args: str, env: dict[str, str], tmp: Path,
                 wrap: list[str] | None = None) -> None:
        self.out = tmp / f"read-{hook}.txt"
        self.proc = subprocess.Popen(
            [*(wrap or []), str(binary()), "run", "-hooks", str(HOOKS), "-sub", sub, "-hook", hook,
             "-args", args, "-out", str(self.out), "-polls", str(int(50 * bounds.FACTOR)),
             *_env_flags(env)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        if not first.startswith("path "):  # the agent gives up after 50 polls of 100 ms
            rest = self.proc.communicate(timeout=bounds.bound(30))[0]
            raise AssertionError(f"{hook}: handshake failed: {first}{rest}")
        self.announced = Path(first[len("path "):].strip())

    @property
    def file(self) -> Path:
        """The complete trace the manager keeps on disk."""
        return self.announced.with_name(self.announced.name + ".txt")

    def read_so_far(self) -> int:
        return self.out.read_bytes().count(b"\n") if self.out.exists() else 0

    def wait_caught_up(self, at_least: int = 0, timeout: float = 60.0) -> tuple[int, int]:
        """Wait until the file has `at_least` lines and stops growing, and the reader has every
        line of it, live. (A hook whose first lines are still in the kernel's buffer has written
        nothing yet: an empty file that stays empty for one poll is not the end of its trace.)"""
        deadline = time.monotonic() + bounds.bound(timeout)
        last = (-1, -1)
        while time.monotonic() < deadline:
            now = (self.file.read_bytes().count(b"\n"), self.read_so_far())
            if now[0] == now[1] and now == last and now[0] >= at_least:
                return now
            last = now
            time.sleep(0.3)
        return last

    def stop(self) -> dict[str, str]:
        out = self.proc.communicate("stop\n", timeout=bounds.bound(60))[0]
        return dict(ln.split(" ", 1) for ln in out.splitlines() if " " in ln)
