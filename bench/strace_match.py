"""How much of strace's output our ebpf-syscalls hook reproduces, line for line.

Runs bench/workload.c (compiled here with gcc) once under `strace -f -q` and once traced
by `trace-hooks/ebpf/manager --run ebpf-syscalls --args "--pid PID"`, cuts both traces at
the workload's start marker (`read(0, "g", 1) = 1`), and compares each process's calls:

    .venv/bin/python bench/strace_match.py [--strace FILE --ours FILE] [--keep DIR] [--command CMD]
    .venv/bin/python bench/strace_match.py --corpus [NAME ...]

--command runs `setarch -R sh -c 'read x; exec CMD'` instead of the workload (same marker).
--corpus runs every program of bench/corpus/ (one per syscall family; or the NAMEs given) the
same way and prints a figure per family and overall, then every differing line pair grouped
by cause (syscall and first differing argument).

With --strace/--ours it only compares two recorded traces. PIDs are replaced by P0, P1 ...
(in order of appearance) on both sides, and strace's padding before ' = ' is dropped.
"""

from __future__ import annotations

import argparse
import collections
import difflib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKDIR = Path("/tmp/tracer-workload")  # fixed: getcwd and paths must agree between the runs
MANAGER = ROOT / "trace-hooks/ebpf/manager"
MARKER = 'read(0, "g", 1) = 1'

Line = "tuple[int, str]"  # (pid, "NAME(ARGS) = RET")


CORPUS = ROOT / "bench/corpus"


def corpus_programs(names: list[str] | None = None) -> list[Path]:
    found = sorted(CORPUS.glob("*.c"))
    if names:
        found = [p for p in found if p.stem in names]
    return found


def compile_corpus(src: Path, out: Path) -> Path:
    exe = out / src.stem
    subprocess.run(["gcc", "-O1", f"-I{CORPUS}", "-o", str(exe), str(src)], check=True)
    return exe


def compile_workload(out: Path) -> Path:
    exe = out / "workload"
    subprocess.run(["gcc", "-O1", "-o", str(exe), str(ROOT / "bench/workload.c")], check=True)
    return exe


def _fresh_workdir() -> None:
    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)


def workload_argv(exe: Path | None, command: str | None) -> list[str]:
    if command:
        # no ASLR, so addresses agree between the runs; `read` consumes the marker byte
        return ["setarch", "-R", "sh", "-c", f"read x; exec {command}"]
    return [str(exe), str(WORKDIR)]


def run_strace(argv: list[str], out: Path) -> Path:
    _fresh_workdir()
    trace = out / "strace.txt"
    # -q, not -qq: the `+++ exited with N +++` lines are compared too
    subprocess.run(["strace", "-f", "-q", "-o", str(trace), *argv], input=b"g",
                   cwd=WORKDIR, check=False, timeout=60, stdout=subprocess.DEVNULL)
    return trace


def _wait_for(cond, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise SystemExit(f"strace_match: timed out waiting for {what}")
        time.sleep(0.02)


def run_ours(argv: list[str], out: Path) -> Path:
    _fresh_workdir()
    w = subprocess.Popen(argv, stdin=subprocess.PIPE, cwd=WORKDIR, stdout=subprocess.DEVNULL)

    def waiting() -> bool:  # re-executed itself (sh or the workload) and blocked on stdin
        cmd = Path(f"/proc/{w.pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{w.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (b"\0run\0" in cmd or cmd.startswith(b"sh\0")) and stat[0] == "S"

    _wait_for(waiting, 10, "the workload to wait on stdin")
    # file mode: the announced path is the complete trace file itself (no paced pipe to read)
    env = {**os.environ, "TRACER_OUTPUT_DIR": str(out), "TRACER_OUTPUT_MODE": "file"}
    m = subprocess.Popen([str(MANAGER), "--run", "ebpf-syscalls", "--args", f"--pid {w.pid}"],
                         cwd=MANAGER.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    path = m.stdout.readline().strip()  # announced once attached
    if not path:
        w.kill()
        raise SystemExit(f"strace_match: the manager did not start: {m.stderr.read().strip()}")
    w.communicate(b"g", timeout=60)
    time.sleep(0.5)  # a few poll intervals: the last events reach the file
    m.send_signal(signal.SIGINT)
    m.wait(timeout=30)
    return Path(path)


# -- parsing -------------------------------------------------------------------------------
_STRACE = re.compile(r"^(\d+)\s+(.*)$")
_PAD = re.compile(r"\)\s+= ")


def parse_strace(text: str) -> list[Line]:
    """strace -f -o lines: unfinished/resumed halves joined."""
    out: list[Line] = []
    pending: dict[int, str] = {}
    for raw in text.splitlines():
        m = _STRACE.match(raw)
        if not m:
            continue
        pid, rest = int(m.group(1)), m.group(2)
        if rest.endswith(" <unfinished ...>"):
            pending[pid] = rest[: -len(" <unfinished ...>")]
            continue
        r = re.match(r"<\.\.\. (\w+) resumed>(.*)$", rest)
        if r:
            head = pending.pop(pid, f"{r.group(1)}(")
            rest = head + r.group(2)
        out.append((pid, _PAD.sub(") = ", rest).rstrip()))
    return out


_OURS = re.compile(r"^\S+ .* (\d+)/(\d+) (?:\S+ )?((?:[a-z_0-9]+\(|--- |\+\+\+ ).*)$")


def parse_ours(text: str) -> list[Line]:
    """Our trace lines: TIMESTAMP COMM PID/TID [CID] NAME(ARGS) = RET."""
    out: list[Line] = []
    for raw in text.splitlines():
        m = _OURS.match(raw)
        if m:
            out.append((int(m.group(2)), m.group(3).rstrip()))
    return out


def from_marker(lines: list[Line]) -> list[Line]:
    for k, (_pid, text) in enumerate(lines):
        if text == MARKER:
            return lines[k:]
    return []


def normalize(lines: list[Line]) -> list[Line]:
    """Replace the workload's PIDs by P0, P1 ... and its parent's by PPID."""
    names: dict[int, str] = {}
    for pid, _ in lines:
        names.setdefault(pid, f"P{len(names)}")
    for _pid, text in lines:  # fork's return value names the child before it runs
        m = re.match(r"(?:fork|vfork|clone3?)\(.*\) = (\d+)$", text)
        if m:
            names.setdefault(int(m.group(1)), f"P{len(names)}")
    pat = re.compile(r"\b(" + "|".join(str(p) for p in sorted(names, reverse=True)) + r")\b") \
        if names else None
    out = []
    for pid, text in lines:
        if pat:
            text = pat.sub(lambda m: names[int(m.group(1))], text)
        text = re.sub(r"^getppid\(\) = \d+$", "getppid() = PPID", text)
        out.append((pid, varying(text)))
    return [(int(names[p][1:]), t) for p, t in out]


# Values that differ between two runs of the same program, whoever traces it: clocks read
# by the call, CPU times, random bytes, ephemeral ports. Replaced on both sides alike.
_CLOCKED = re.compile(r"^(?:clock_gettime|gettimeofday|timer_gettime|timerfd_gettime|wait4|getrusage|"
                      r"waitid|times|time|rt_sigtimedwait|nanosleep|clock_nanosleep)\(")
_TIMES = re.compile(r"\b(tv_sec|tv_nsec|tv_usec|si_utime|si_stime)=\d+(?: /\* [^*]* \*/)?")
_CLOCK_RET = re.compile(r"^(times?\(.*\)) = \d+( \([^)]*\))?$")
_RANDOM = re.compile(r'^(getrandom\()"[^"]*"')
_EPHEMERAL = re.compile(r"htons\((?:3[2-9]\d{3}|[4-6]\d{4})\)")


def varying(text: str) -> str:
    # a SIGCHLD carries the child's CPU times: a tick or not, by how fast the machine ran it
    if _CLOCKED.match(text) or text.startswith("--- SIGCHLD "):
        text = _TIMES.sub(r"\1=N", text)
        text = _CLOCK_RET.sub(lambda m: f"{m.group(1)} = N" + (" (DATE)" if m.group(2) else ""), text)
    text = _RANDOM.sub(r'\1"RANDOM"', text)
    return _EPHEMERAL.sub("htons(EPHEMERAL)", text)


def _name(text: str) -> str:
    """The call's name; for the lines of what happens to a task, what they are about."""
    if text.startswith("--- "):
        return "--- " + text.split()[1]  # the signal
    if text.startswith("+++ "):
        return "+++ end"
    return text.split("(", 1)[0]


def _is_call(text: str) -> bool:
    return not text.startswith(("--- ", "+++ "))


def compare(ref: list[Line], ours: list[Line]) -> dict:
    """Align each process's calls by syscall name, then compare the aligned lines exactly."""
    by_ref: dict[int, list[str]] = collections.defaultdict(list)
    by_ours: dict[int, list[str]] = collections.defaultdict(list)
    for p, t in ref:
        by_ref[p].append(t)
    for p, t in ours:
        by_ours[p].append(t)
    matched = total = 0
    mismatches: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    missing: list[str] = []
    extra: list[str] = []
    for p, rlines in by_ref.items():
        olines = by_ours.get(p, [])
        sm = difflib.SequenceMatcher(a=[_name(t) for t in rlines], b=[_name(t) for t in olines],
                                     autojunk=False)
        for op, i1, i2, j1, j2 in sm.get_opcodes():
            if op == "equal":
                for r, o in zip(rlines[i1:i2], olines[j1:j2]):
                    total += 1
                    if r == o:
                        matched += 1
                    else:
                        mismatches[_name(r)].append((r, o))
            else:
                total += i2 - i1
                missing += rlines[i1:i2]
                extra += olines[j1:j2]
    names = {_name(t) for _, t in ref if _is_call(t)}
    return {"matched": matched, "total": total, "mismatches": mismatches, "missing": missing,
            "extra": extra, "names": names, "distinct": len(names)}


def _args_of(text: str) -> tuple[str, list[str], str]:
    """NAME(ARGS) = RET split at top-level commas: (name, args, ret)."""
    name, _, rest = text.partition("(")
    body, _, ret = rest.rpartition(") = ")
    args, depth, cur, quoted, esc = [], 0, "", False, False
    for ch in body:
        if quoted:
            cur += ch
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                quoted = False
            continue
        if ch == '"':
            quoted = True
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        args.append(cur.strip())
    return name, args, ret


def cause(ref: str, ours: str) -> str:
    """What differs between two lines of the same call: the argument count, the first
    differing argument (by position) or the return value."""
    if not _is_call(ref):
        return f"{_name(ref)}: differs"
    name, ra, rr = _args_of(ref)
    _, oa, orr = _args_of(ours)
    if len(ra) != len(oa):
        return f"{name}: argument count {len(oa)} instead of {len(ra)}"
    for k, (x, y) in enumerate(zip(ra, oa)):
        if x != y:
            return f"{name}: argument {k + 1}"
    if rr != orr:
        return f"{name}: return value"
    return f"{name}: other"


def report_corpus(results: dict[str, dict]) -> None:
    matched = sum(r["matched"] for r in results.values())
    total = sum(r["total"] for r in results.values())
    names: set[str] = set()
    for r in results.values():
        names |= r["names"]
    print(f"{'family':<12} {'identical':>9} {'strace':>7} {'rate':>7} {'syscalls':>8}")
    for fam, r in results.items():
        rate = 100.0 * r["matched"] / r["total"] if r["total"] else 0.0
        print(f"{fam:<12} {r['matched']:>9} {r['total']:>7} {rate:>6.1f}% {len(r['names']):>8}")
    rate = 100.0 * matched / total if total else 0.0
    print(f"{'overall':<12} {matched:>9} {total:>7} {rate:>6.1f}% {len(names):>8}")
    groups: dict[str, list[tuple[str, str, str]]] = collections.defaultdict(list)
    for fam, r in results.items():
        for _call, pairs in r["mismatches"].items():
            for a, b in pairs:
                groups[cause(a, b)].append((fam, a, b))
        for t in r["missing"]:
            groups[f"{_name(t)}: missing from ours"].append((fam, t, ""))
        for t in r["extra"]:
            groups[f"{_name(t)}: only in ours"].append((fam, "", t))
    if groups:
        print("\ndiffering lines, by cause:")
    for key in sorted(groups):
        print(f"  {key} ({len(groups[key])})")
        for fam, a, b in groups[key]:
            print(f"    [{fam}] strace: {a}\n    [{fam}] ours:   {b}")


def run_corpus(names: list[str] | None, tmp: Path) -> dict[str, dict]:
    """Each corpus program under strace and under ebpf-syscalls: its comparison, by family."""
    results: dict[str, dict] = {}
    for src in corpus_programs(names):
        exe = compile_corpus(src, tmp)
        out = tmp / f"{src.stem}.traces"
        out.mkdir(exist_ok=True)
        # each run in a new IPC namespace: the identifiers msgget/semget/shmget return are the
        # kernel's, counted per namespace, and would otherwise differ between the two runs
        argv = ["unshare", "--ipc", str(exe), str(WORKDIR)]
        ref = normalize(from_marker(parse_strace(run_strace(argv, out).read_text())))
        ours = normalize(from_marker(parse_ours(run_ours(argv, out).read_text())))
        res = compare(ref, ours)
        res["ref_texts"] = {t for _, t in ref}
        results[src.stem] = res
    return results


def report(res: dict) -> None:
    rate = 100.0 * res["matched"] / res["total"] if res["total"] else 0.0
    print(f"strace match: {res['matched']}/{res['total']} lines ({rate:.1f}%), "
          f"{res['distinct']} distinct syscalls")
    for name, pairs in sorted(res["mismatches"].items()):
        print(f"  {name}: {len(pairs)} mismatched")
        for r, o in pairs[:3]:
            print(f"    strace: {r}\n    ours:   {o}")
    if res["missing"]:
        print(f"  missing from ours ({len(res['missing'])}):")
        for t in res["missing"][:10]:
            print(f"    {t}")
    if res["extra"]:
        print(f"  only in ours ({len(res['extra'])}):")
        for t in res["extra"][:10]:
            print(f"    {t}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strace", type=Path, help="a recorded strace -f -o file (skip running)")
    ap.add_argument("--ours", type=Path, help="a recorded trace file of ours (skip running)")
    ap.add_argument("--keep", type=Path, help="keep the binaries and traces in this directory")
    ap.add_argument("--command", help="trace this shell command instead of bench/workload.c")
    ap.add_argument("--corpus", nargs="*", metavar="NAME",
                    help="run the programs of bench/corpus/ (all, or those named)")
    ns = ap.parse_args(argv)
    tmp = Path(ns.keep or tempfile.mkdtemp(prefix="strace-match-"))
    tmp.mkdir(parents=True, exist_ok=True)
    if ns.corpus is not None:
        try:
            report_corpus(run_corpus(ns.corpus, tmp))
        finally:
            if not ns.keep:
                shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(WORKDIR, ignore_errors=True)
        return 0
    try:
        exe = compile_workload(tmp) if not (ns.strace and ns.ours or ns.command) else None
        argv = workload_argv(exe, ns.command)
        ref_file = ns.strace or run_strace(argv, tmp)
        ours_file = ns.ours or run_ours(argv, tmp)
        ref = normalize(from_marker(parse_strace(ref_file.read_text())))
        ours = normalize(from_marker(parse_ours(ours_file.read_text())))
        if not ref:
            raise SystemExit(f"strace_match: no marker line in {ref_file}")
        if not ours:
            raise SystemExit(f"strace_match: no marker line in {ours_file}")
        report(compare(ref, ours))
    finally:
        if not ns.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(WORKDIR, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
