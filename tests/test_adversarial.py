"""An adversarial probe of our own: bad inputs and faults through both managers and the CLI.

Every case must end with exactly one stderr line, a non-zero exit, nothing on stdout,
nothing attached in the kernel, no file anywhere but TRACER_OUTPUT_DIR (and there, none
for a start that failed). Then the stop cycle: sessions killed by SIGINT, SIGTERM or
SIGKILL at random moments of their start-up, and `--clear` leaves nothing of any kind.
"""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kernel_state import leftovers

ROOT = Path(__file__).resolve().parents[1]
HOOKS_DIR = ROOT / "trace-hooks"
TRACER = [sys.executable, "-m", "tracer"]
NOBODY = 65534
OWN = "@OWN@"
EXEC_AS_SELF = ("import os, sys; a = [x.replace('@OWN@', str(os.getpid())) for x in sys.argv[1:]];"
                " os.execvp(a[0], a)")


@dataclass
class Case:
    name: str
    argv: list[str]  # {sleeper}, {own} and {tmp} are filled in
    where: str = ""  # the manager's subsystem, or "" for the tracer CLI
    env: dict = field(default_factory=dict)
    expect: str = ""  # a piece of the one stderr line
    prepare: str = ""  # name of a setup step (below)


def manager_cases(sub: str, hook: str) -> list[Case]:
    def c(name: str, args: str, expect: str = "", **kw) -> Case:
        return Case(f"{sub}: {name}", ["--run", hook, "--args", args], sub, expect=expect, **kw)

    return [
        c("no target", "", "give --pid"),
        c("empty PID", "--pid", "expected"),
        c("superscript digit PID", "--pid ²", "bad PID"),
        c("Arabic-Indic digit PID", "--pid ١٢٣", "bad PID"),
        c("negative PID", "--pid -5", "PID"),
        c("PID 0", "--pid 0", "out of range"),
        c("PID above pid_max", "--pid 99999999", "out of range"),
        c("PID that does not exist", "--pid {dead}", "does not exist"),
        c("120,000-character PID", "--pid " + "9" * 120000, "bad PID"),
        c("control bytes in a PID", "--pid 1\x1b]0;owned\x07\r", "bad PID"),
        c("the manager's own PID", "--pid {own}", "tracer itself"),
        c("unbalanced quote", '--pid "1', "cannot be split"),
        c("unknown option", "--pid {sleeper} --bogus", "unrecognized"),
        c("bad format", "--pid {sleeper} --format xml", "invalid choice"),
        c("path traversal in --syscalls",
          "--pid {sleeper} --syscalls read/../../../../../events/sched/sched_process_exec", "bad name"),
        c("unknown syscall", "--pid {sleeper} --syscalls nosuchcall", "nosuchcall"),
        c("empty --syscalls list", "--pid {sleeper} --syscalls ,,,", "comma-separated"),
        c("huge --buffer-size", "--pid {sleeper} --buffer-size 999G", "out of range"),
        c("tiny --buffer-size", "--pid {sleeper} --buffer-size 1k", "out of range"),
        c("non-ASCII --buffer-size", "--pid {sleeper} --buffer-size ²M", "bad --buffer-size"),
        c("unknown container", "--container deadbeefcafe", "no running container"),
        c("output dir writable by all", "--pid {sleeper}", "writable by other users",
          prepare="open_dir"),
        c("output dir of another user", "--pid {sleeper}", "another user", prepare="nobody_dir"),
        c("bad output mode", "--pid {sleeper}", "TRACER_OUTPUT_MODE", env={"TRACER_OUTPUT_MODE": "x"}),
        Case(f"{sub}: unknown hook with escape bytes", ["--run", "\x1b[2Jevil\x07", "--args", "--pid 1"],
             sub, expect="unknown hook"),
        Case(f"{sub}: no verb", ["--args", "--pid 1"], sub, expect="one of the arguments"),
    ]


# ftrace-syscalls for the syscall cases (ftrace's --syscalls builds tracefs paths)
CASES = manager_cases("ebpf", "ebpf-syscalls") + manager_cases("ftrace", "ftrace-syscalls") + [
    Case("ftrace: --filter with a trigger command",
         ["--run", "ftrace-functions", "--args", "--pid {sleeper} --filter vfs_read:traceoff"],
         "ftrace", expect="glob of kernel function names"),
    Case("ftrace: --filter with a newline",
         ["--run", "ftrace-functions", "--args", "--pid {sleeper} --filter 'vfs_*\n:mod:ext4'"],
         "ftrace", expect="glob of kernel function names"),
    Case("ftrace: ftrace-sched on its own PID", ["--run", "ftrace-sched", "--args", "--pid {own}"],
         "ftrace", expect="tracer itself"),
    Case("cli: superscript PID", ["trace", "²:openat"], expect="is not a PID"),
    Case("cli: unknown handler", ["trace", "{sleeper}:nosuchcall"], expect="unknown syscall"),
    Case("cli: PID that does not exist", ["trace", "{dead}:openat"], expect="no process"),
    Case("cli: its own PID", ["trace", "{own}:openat"], expect="tracer itself"),
    Case("cli: -o onto an existing file", ["trace", "{sleeper}:openat", "-o", "{tmp}/exists"],
         expect="exists", prepare="existing"),
    Case("cli: -o through a planted symlink", ["trace", "{sleeper}:openat", "-o", "{tmp}/link"],
         expect="symlink", prepare="symlink"),
    Case("cli: -o in a directory writable by all", ["trace", "{sleeper}:openat", "-o", "{tmp}/open/x"],
         expect="writable by other users", prepare="open_dir"),
    Case("cli: handler file that is a symlink", ["trace", "{sleeper}:{tmp}/h_link.c"],
         expect="symlink", prepare="handler_link"),
    Case("cli: handler file of another user", ["trace", "{sleeper}:{tmp}/h_other.c"],
         expect="another user", prepare="handler_other"),
    Case("cli: world-writable handler file", ["trace", "{sleeper}:{tmp}/h_ww.c"],
         expect="writable by others", prepare="handler_ww"),
    Case("cli: handler file in a directory writable by all", ["trace", "{sleeper}:{tmp}/open/h.c"],
         expect="writable by other users", prepare="handler_open_dir"),
    Case("cli: ctl add with a superscript PID", ["ctl", "add", "²:read"], expect="is not a PID"),
    Case("cli: ctl list as non-root", ["ctl", "list"], expect="needs root", prepare="as_nobody"),
    Case("cli: run with an Arabic-Indic PID", ["run", "ftrace-sched", "--pid", "١"], expect="bad PID"),
    Case("cli: run with --pid=", ["run", "ftrace-sched", "--pid=abc"], expect="bad PID"),
    Case("cli: 120,000-character spec", ["trace", "1" * 120000 + ":openat"], expect="is not a PID"),
    Case("cli: escape bytes in a spec", ["trace", "\x1b[31m1:openat"], expect="is not a PID"),
]


HANDLER = "TRACER_HANDLER(openat) { return tracer_submit(); }\n"


def _prepare(step: str, tmp: Path, out: Path, env: dict) -> list[str]:
    """Set the scene for a case; returns a prefix for argv (to run as another user)."""
    if step == "open_dir":
        d = tmp / "open"
        d.mkdir()
        d.chmod(0o777)
        env["TRACER_OUTPUT_DIR"] = str(d)
    elif step == "nobody_dir":
        d = tmp / "theirs"
        d.mkdir(mode=0o755)
        os.chown(d, NOBODY, NOBODY)
        env["TRACER_OUTPUT_DIR"] = str(d)
    elif step == "existing":
        (tmp / "exists").write_text("keep me\n")
    elif step == "symlink":
        (tmp / "victim").write_text("keep me\n")
        (tmp / "link").symlink_to(tmp / "victim")
    elif step == "handler_link":
        (tmp / "h_real.c").write_text(HANDLER)
        (tmp / "h_link.c").symlink_to(tmp / "h_real.c")
    elif step == "handler_other":
        (tmp / "h_other.c").write_text(HANDLER)
        os.chown(tmp / "h_other.c", NOBODY, NOBODY)
    elif step == "handler_open_dir":
        (tmp / "open").mkdir()
        (tmp / "open").chmod(0o777)
        (tmp / "open/h.c").write_text(HANDLER)
        (tmp / "open/h.c").chmod(0o644)
    elif step == "handler_ww":
        (tmp / "h_ww.c").write_text(HANDLER)
        (tmp / "h_ww.c").chmod(0o666)
    elif step == "as_nobody":
        tmp.chmod(0o755)
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return []


def _free_pid() -> int:
    limit = int(Path("/proc/sys/kernel/pid_max").read_text())
    return next(p for p in range(limit - 1, 1, -1) if not Path(f"/proc/{p}").exists())


def _files(dirs: list[Path]) -> set[str]:
    found = set()
    for d in dirs:
        try:
            found |= {str(d / n) for n in os.listdir(d)}
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def sleeper():
    p = subprocess.Popen(["sleep", "600"])
    yield p.pid
    p.kill()
    p.wait()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line_nonzero_and_leaves_nothing(case, sleeper, tmp_path):
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "TRACER_OUTPUT_DIR": str(out), **case.env}
    prefix = _prepare(case.prepare, work, out, env)
    watched = [HOOKS_DIR / "ebpf", HOOKS_DIR / "ftrace", ROOT, Path("/run/tracer"),
               Path("/var/lib/tracer/traces"), work]
    files_before = _files(watched)
    kernel_before = set(leftovers(settle=0))
    fill = {"sleeper": str(sleeper), "tmp": str(work), "own": OWN, "dead": str(_free_pid())}
    argv = [a.format(**fill) if "{" in a else a for a in case.argv]
    if case.where:
        cmd, cwd = ["./manager.py", *argv], HOOKS_DIR / case.where
    else:
        cmd, cwd = [*prefix, *TRACER, *argv], ROOT
    # exec'd by a process whose PID it keeps, so "{own}" can name the tracer's own PID
    cmd = [sys.executable, "-c", EXEC_AS_SELF, *cmd]
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=60)
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode != 0, (case.name, r.returncode, err)
    assert r.stdout == b"", (case.name, r.stdout[:200])
    assert len(err.splitlines()) == 1 and err.endswith("\n"), (case.name, err[:500])
    assert len(err) < 1200, (case.name, len(err))
    assert all(c.isprintable() for c in err.rstrip("\n")), (case.name, err)
    assert case.expect in err, (case.name, err)
    assert "Traceback" not in err and "internal error" not in err, err
    assert [x for x in leftovers(settle=0.5) if x not in kernel_before] == []
    appeared = _files(watched) - files_before
    assert not appeared, f"files appeared outside TRACER_OUTPUT_DIR: {sorted(appeared)}"
    assert list(out.iterdir()) == [], "a failed start left a trace file"
    for name in ("victim", "exists"):
        if (work / name).exists():
            assert (work / name).read_text() == "keep me\n"


# -- the stop cycle ------------------------------------------------------------------------

CYCLE_RUNS = [  # (how to start it, how long its start-up takes at most, here)
    (("ftrace", "ftrace-syscalls", "--pid {pid} --syscalls getppid,openat"), 0.6),
    (("ftrace", "ftrace-sched", "--pid {pid}"), 0.6),
    (("ftrace", "ftrace-files", "--pid {pid}"), 0.8),
    (("ftrace", "ftrace-syscalls", "--pid {pid}"), 0.6),
    (("ebpf", "ebpf-syscalls", "--pid {pid} --syscalls getppid"), 2.0),
    (("ebpf", "ebpf-files", "--pid {pid}"), 2.0),
    (("cli", "trace", "{pid}:openat,getppid"), 2.0),
]
CYCLES = 105


def _start(run: tuple, pid: int, env: dict) -> subprocess.Popen:
    sub, hook, args = run
    if sub == "cli":
        # -o names a file of the user's: kept even when empty, so not in the checked dir
        return subprocess.Popen([*TRACER, hook, args.format(pid=pid), "-o",
                                 f"{env['CLI_OUT']}/cli-{time.monotonic_ns()}.txt"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return subprocess.Popen(["./manager.py", "--run", hook, "--args", args.format(pid=pid)],
                            cwd=HOOKS_DIR / sub, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def test_stop_cycle_killed_at_random_moments_of_start_up_then_clear_leaves_nothing(tmp_path):
    rng = random.Random(int(os.environ.get("TRACER_CYCLE_SEED", "20261122")))
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    cli_out = tmp_path / "cli"
    cli_out.mkdir(mode=0o700)
    target = subprocess.Popen(["sleep", "900"])
    kernel_before = set(leftovers(settle=0))
    sockets_before = _files([Path("/run/tracer")])
    counts: dict[str, int] = {}
    tracebacks = []
    try:
        for i in range(CYCLES):
            run, longest = CYCLE_RUNS[i % len(CYCLE_RUNS)]
            sig = rng.choice([signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
            env = {**os.environ, "TRACER_OUTPUT_DIR": str(out), "CLI_OUT": str(cli_out),
                   "TRACER_OUTPUT_MODE": rng.choice(["file", "fifo", "paced"])}
            proc = _start(run, target.pid, env)
            time.sleep(rng.uniform(0, longest))
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=30)
            # The managers start with stop signals blocked (env --block-signal), so none can
            # land in the interpreter's start-up; `python -m tracer` has that window.
            if sig != signal.SIGKILL and run[0] != "cli":
                if b"Traceback" in err or proc.returncode not in (0, 130, -sig):
                    tracebacks.append((run[1], sig, proc.returncode, err[-300:]))
            key = f"{run[1]} {signal.Signals(sig).name}"
            counts[key] = counts.get(key, 0) + 1
    finally:
        target.kill()
        target.wait()
    env = {**os.environ, "TRACER_OUTPUT_DIR": str(out)}
    for sub in ("ebpf", "ftrace"):
        r = subprocess.run(["./manager.py", "--clear"], cwd=HOOKS_DIR / sub, env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stderr == "", r.stderr
    r = subprocess.run([*TRACER, "clear"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    left = [x for x in leftovers(settle=2.0) if x not in kernel_before]
    left += [f"socket {s}" for s in _files([Path("/run/tracer")]) - sockets_before]
    for p in out.iterdir():
        st = p.lstat()
        if stat.S_ISFIFO(st.st_mode):
            left.append(f"named pipe {p}")
        elif st.st_size == 0:
            left.append(f"empty trace file {p}")
    print(f"stop cycle: {CYCLES} cycles {sorted(counts.items())}; leftovers after --clear: {len(left)}")
    assert tracebacks == []
    assert left == []
