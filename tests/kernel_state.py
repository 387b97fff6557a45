"""What tracing state of ours the kernel holds now: tests assert it is none after each stop."""

from __future__ import annotations

import json
import operator
import subprocess
from pathlib import Path

from bounds import bound, wait_until

TRACEFS = Path("/sys/kernel/tracing")
# Our BPF programs' names cut to 15 characters, as the kernel keeps them (bpftool shows the
# whole name where the program has BTF: compared cut).
OUR_PROGS = {"raw_exit", "tp_exit", "kp_enter", "kp_exit", "handle_call", "handle_entry",
             "handle_exec", "tracepoint__sch",
             "raw_enter", "handle_iov", "sum_enter", "sum_exit", "sum_switch", "task_exit", "sig_deliver",
             "sig_generate", "cpu_switch"} | {f"tp_enter{n}" for n in range(7)}
USER_PREFIX = "tracer_h_"  # user handler files' programs (bpf/api.h)
POLICY_PREFIX = "pol_"  # TracingPolicy programs (bpf/policy_hook.h)
PACKET_PREFIX = "tracer_pkt"  # ebpf-packets: its programs, and the names of its tc filters
NET_RECORDS = Path("/run/tracer")  # net-<pid>.json: tc attachments a session made


def leftovers(settle: float = 1.0) -> list[str]:
    """Our tracing objects still in the kernel. The kernel frees a BPF program detached
    from a perf event after an RCU grace period, so wait up to `settle` s for that."""
    return wait_until(_leftovers, settle, until=operator.not_)


def _leftovers() -> list[str]:
    found = []
    inst = TRACEFS / "instances"
    if inst.is_dir():
        found += [f"tracefs instance {d.name}" for d in inst.iterdir() if d.name.startswith("tracer_")]
    for f in ("kprobe_events", "uprobe_events", "dynamic_events"):
        p = TRACEFS / f
        if p.exists():
            found += [f"{f}: {ln}" for ln in p.read_text().splitlines() if ":tracer_" in ln]
    try:
        out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                             timeout=bound(10))
        progs = json.loads(out.stdout or "[]")
    except (OSError, ValueError, subprocess.SubprocessError):
        progs = []
    found += [f"BPF program {p.get('name')} (id {p.get('id')})" for p in progs
              if str(p.get("name", ""))[:15] in OUR_PROGS
              or str(p.get("name", "")).startswith((USER_PREFIX, PACKET_PREFIX, POLICY_PREFIX))]
    found += _net_leftovers()
    return found


def _bpftool_json(*args: str) -> object:
    try:
        out = subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True, timeout=bound(10))
        return json.loads(out.stdout or "null")
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def _net_leftovers() -> list[str]:
    """tc filters (this network namespace), cgroup programs, and records of ebpf-packets."""
    found = []
    for entry in _bpftool_json("net", "show") or []:
        for f in entry.get("tc", []) if isinstance(entry, dict) else []:
            if str(f.get("name", "")).startswith(PACKET_PREFIX):
                found.append(f"tc filter {f.get('name')} on {f.get('devname')} ({f.get('kind')})")
    v2 = next((str(d) for d in (Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))
               if (d / "cgroup.controllers").exists()), "/sys/fs/cgroup")
    for cg in _bpftool_json("cgroup", "tree", v2) or []:
        for p in cg.get("programs", []) if isinstance(cg, dict) else []:
            if str(p.get("name", "")).startswith(PACKET_PREFIX):
                found.append(f"cgroup program {p.get('name')} on {cg.get('cgroup')} ({p.get('attach_type')})")
    if NET_RECORDS.is_dir():
        found += [f"ebpf-packets record {r}" for r in sorted(NET_RECORDS.glob("net-*.json"))]
    return found
