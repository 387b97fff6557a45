"""What this kernel and machine can do, each answer with its reason.

Every other module asks `probe()` instead of guessing. The probe only reads files
(managers call it for --get-all, which must stay well under half a second);
`tracer doctor` also loads tiny BPF programs to prove the BPF features really work
(tracer/ebpf/selftest.py, which refines these answers).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

from tracer import paths
from tracer.errors import TracerError
from tracer.tracefs.mount import find_tracefs

TRACEFS = "tracefs"
KPROBES = "kprobes"
UPROBES = "uprobes"
SYSCALL_TRACEPOINTS = "syscall tracepoints"
RAW_TRACEPOINTS = "raw tracepoints"
RINGBUF = "BPF ring buffer"
BTF = "BTF"
FENTRY = "fentry"
HEADERS = "kernel headers"
BCC = "BCC"
ROOT = "root"
LOCKDOWN = "no lockdown"
ORDER = (TRACEFS, KPROBES, UPROBES, SYSCALL_TRACEPOINTS, RAW_TRACEPOINTS, RINGBUF, BTF, FENTRY,
         HEADERS, BCC, ROOT, LOCKDOWN)


@dataclass(frozen=True)
class Feature:
    name: str
    ok: bool
    reason: str


def _version(release: str) -> tuple[int, int]:
    m = re.match(r"(\d+)\.(\d+)", release)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


class Capabilities:
    """The probe's answers, by feature name."""

    def __init__(self, features: dict[str, Feature], tracefs: Path | None, release: str) -> None:
        self.features = features
        self.tracefs = tracefs
        self.release = release

    def has(self, name: str) -> bool:
        return self.features[name].ok

    def reason(self, name: str) -> str:
        return self.features[name].reason

    def lines(self) -> list[str]:
        width = max(len(n) for n in self.features)
        return [f"{f.name:<{width}}  {'yes' if f.ok else 'NO ':<3}  {f.reason}"
                for f in (self.features[n] for n in ORDER if n in self.features)]


def _headers(release: str) -> Feature:
    build = Path("/lib/modules") / release / "build"
    if not build.exists():
        return Feature(HEADERS, False, f"no {build}; run scripts/setup.sh to install and link headers")
    target = build.resolve()
    m = re.search(r"linux-headers-(.+)$", target.name)
    version = m.group(1) if m else target.name
    if version.startswith(release) or release.startswith(version):
        return Feature(HEADERS, True, f"exact: {target}")
    return Feature(HEADERS, True, f"nearest: {target} (no headers for {release}; BCC reads"
                                   " tracepoint layouts from tracefs, so only struct layouts may differ)")


def _bcc() -> Feature:
    spec = importlib.util.find_spec("bcc")
    if spec is None:
        return Feature(BCC, False, "python module bcc not importable; install Debian's python3-bpfcc")
    origin = Path(spec.origin or "").parent
    version = "unknown version"
    try:
        m = re.search(r'__version__\s*=\s*[\'"]([^\'"]+)', (origin / "version.py").read_text())
        version = m.group(1) if m else version
    except OSError:
        pass
    return Feature(BCC, True, f"{version} from {origin}")


def _lockdown() -> Feature:
    """Kernel lockdown refuses some tracing (fentry, the function tracer) even to root."""
    f = paths.sysfs() / "kernel/security/lockdown"
    try:
        mode = re.search(r"\[(\w+)\]", f.read_text())
        if mode:
            state = mode.group(1)
            return Feature(LOCKDOWN, state == "none", f"lockdown is '{state}' ({f})")
    except OSError:
        pass
    try:
        import gzip

        config = gzip.open(paths.procfs() / "config.gz", "rt").read()
        m = re.search(r"^CONFIG_LOCK_DOWN_KERNEL_FORCE_(INTEGRITY|CONFIDENTIALITY)=y", config, re.M)
        if m:
            return Feature(LOCKDOWN, False, f"lockdown forced to {m.group(1).lower()} by the kernel's"
                                             " configuration (it may refuse root the function tracer"
                                             " and fentry)")
    except OSError:
        pass
    return Feature(LOCKDOWN, True, "no lockdown found")


def _probe() -> Capabilities:
    release = paths.kernel_release()
    ver = _version(release)
    feats: dict[str, Feature] = {}
    tracefs: Path | None
    try:
        tracefs = find_tracefs()
        feats[TRACEFS] = Feature(TRACEFS, True, f"at {tracefs}")
    except TracerError as e:
        tracefs = None
        feats[TRACEFS] = Feature(TRACEFS, False, str(e))

    def tracefs_file(name: str, rel: str, missing: str) -> None:
        if tracefs is None:
            feats[name] = Feature(name, False, "tracefs not found")
        elif (tracefs / rel).exists():
            feats[name] = Feature(name, True, f"{tracefs / rel} exists")
        else:
            feats[name] = Feature(name, False, missing)

    tracefs_file(KPROBES, "kprobe_events",
                 "no kprobe_events in tracefs (kernel built without CONFIG_KPROBES)")
    tracefs_file(UPROBES, "uprobe_events",
                 "no uprobe_events in tracefs (kernel built without CONFIG_UPROBE_EVENTS)")
    tracefs_file(SYSCALL_TRACEPOINTS, "events/syscalls",
                 "no events/syscalls in tracefs (kernel built without CONFIG_FTRACE_SYSCALLS)")
    bpf = (paths.procfs() / "sys/kernel/unprivileged_bpf_disabled").exists()
    if not bpf:
        feats[RAW_TRACEPOINTS] = Feature(RAW_TRACEPOINTS, False, "no bpf() syscall (CONFIG_BPF_SYSCALL off)")
        feats[RINGBUF] = Feature(RINGBUF, False, "no bpf() syscall (CONFIG_BPF_SYSCALL off)")
    else:
        feats[RAW_TRACEPOINTS] = (Feature(RAW_TRACEPOINTS, True, f"kernel {release} >= 4.17")
                                  if ver >= (4, 17) else
                                  Feature(RAW_TRACEPOINTS, False, f"kernel {release} < 4.17"))
        feats[RINGBUF] = (Feature(RINGBUF, True, f"kernel {release} >= 5.8") if ver >= (5, 8) else
                          Feature(RINGBUF, False, f"kernel {release} < 5.8; the perf buffer is used"))
    btf = paths.sysfs() / "kernel/btf/vmlinux"
    feats[BTF] = (Feature(BTF, True, f"{btf} exists") if btf.exists() else
                  Feature(BTF, False, f"no {btf} (kernel built without CONFIG_DEBUG_INFO_BTF)"))
    if not feats[BTF].ok:
        feats[FENTRY] = Feature(FENTRY, False, "needs BTF")
    elif ver < (5, 5):
        feats[FENTRY] = Feature(FENTRY, False, f"kernel {release} < 5.5")
    else:
        feats[FENTRY] = Feature(FENTRY, True, f"kernel {release} >= 5.5 with BTF (not load-tested)")
    feats[HEADERS] = _headers(release)
    feats[BCC] = _bcc()
    feats[LOCKDOWN] = _lockdown()
    feats[ROOT] = (Feature(ROOT, True, "running as root") if os.geteuid() == 0 else
                   Feature(ROOT, False, "not root: run as root (sudo)"))
    return Capabilities(feats, tracefs, release)


@functools.lru_cache(maxsize=1)
def probe() -> Capabilities:
    return _probe()
