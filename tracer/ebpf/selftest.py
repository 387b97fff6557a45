"""Load tiny BPF programs to prove, not assume, what the BPF side of this kernel can do
(`tracer doctor`): the file-based probe's answers, refined by what really loaded."""

from __future__ import annotations

import os
import sys
from typing import Iterable

from tracer import capabilities as cap
from tracer.capabilities import Capabilities, Feature
from tracer.ebpf import bccmodule


def _try(text: str, attach) -> tuple[bool, str]:
    from bcc import BPF

    b = None
    try:
        b = bccmodule.create(lambda: BPF(text=text))
        attach(b)
        return True, "loaded and attached a test program"
    except Exception as e:  # BCC raises bare Exception with the kernel's reason
        return False, " ".join(str(e).split())[:160]
    finally:
        if b is not None:
            b.cleanup()


def _compiles(text: str) -> tuple[bool, str]:
    """Whether BCC compiles `text` against this kernel's headers (nothing is loaded)."""
    from bcc import BPF

    try:
        bccmodule.create(lambda: BPF(text=text)).cleanup()
        return True, ""
    except Exception:  # BCC says only "Failed to compile": clang's first error is on fd 2
        return False, ""


def _first_error(log: str) -> str:
    for ln in log.splitlines():
        if "error:" in ln:
            return " ".join(ln.split())[:140]
    return "compile failed"


# What tracer's own programs include (bpf/tracer.h): uapi headers only, tracepoint fields, no
# kernel struct. Kernel-internal headers are what a handler file reading kernel structs needs.
_UAPI = "#include <uapi/linux/ptrace.h>\nint f(struct pt_regs *ctx) { return 0; }"
_INTERNAL = "#include <linux/sched.h>\n#include <linux/fs.h>\nint f(void *ctx) { return 0; }"


def headers(feat: cap.Feature) -> tuple[bool, str]:
    """Which of our programs BCC can build with these headers, said in the headers' line.

    BCC 0.26 (Debian's) compiles with clang 14 and its own copy of uapi linux/bpf.h: kernel
    headers newer than both (6.12, 7.x) break its compile of kernel-internal headers, while the
    uapi-only programs tracer ships still build. The reason names which case applies here.
    """
    import tempfile

    with tempfile.TemporaryFile() as log:
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        try:
            uapi = _compiles(_UAPI)
            internal = _compiles(_INTERNAL) if uapi[0] else (False, "")
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        log.seek(0)
        err = _first_error(log.read().decode("utf-8", "replace"))
    if not uapi[0]:
        return False, f"{feat.reason}; BCC cannot compile even uapi-only programs with them: {err}"
    if internal[0]:
        return True, f"{feat.reason}; BCC compiles against them (kernel-internal headers too)"
    return True, (f"{feat.reason}; BCC compiles tracer's programs (uapi headers only) but not"
                  f" kernel-internal headers, whose linux/bpf.h or C is newer than BCC's: {err};"
                  " handler files must read kernel structs with bpf_probe_read, not <linux/*.h>")


def _verify(caps: Capabilities) -> Iterable[tuple[str, bool, str]]:
    if caps.has(cap.HEADERS):
        ok, why = headers(caps.features[cap.HEADERS])
        yield cap.HEADERS, ok, why
    raw = _try("RAW_TRACEPOINT_PROBE(sys_enter) { return 0; }", lambda b: None)
    yield cap.RAW_TRACEPOINTS, raw[0], raw[1] if raw[0] else f"load failed: {raw[1]}"
    ring = _try("BPF_RINGBUF_OUTPUT(rb, 1);"
                " TRACEPOINT_PROBE(raw_syscalls, sys_enter) { u32 x = 0;"
                " rb.ringbuf_output(&x, sizeof(x), 0); return 0; }", lambda b: None)
    yield cap.RINGBUF, ring[0], ring[1] if ring[0] else f"load failed: {ring[1]}; perf buffer used"
    if caps.has(cap.FENTRY):
        fe = _try("KFUNC_PROBE(do_sys_openat2) { return 0; }", lambda b: None)
        why = fe[1]
        if "super-user" in why:  # BCC's words for EPERM, which root gets only from the kernel
            why = "the kernel refused it (EPERM)" + (
                "; " + caps.reason(cap.LOCKDOWN) if not caps.has(cap.LOCKDOWN) else "")
        yield cap.FENTRY, fe[0], fe[1] if fe[0] else f"load failed: {why}"
    if caps.has(cap.KPROBES):
        kp = _try("int f(void *ctx) { return 0; }",
                  lambda b: b.attach_kprobe(event=b.get_syscall_fnname("getpid"), fn_name="f"))
        yield cap.KPROBES, kp[0], kp[1] if kp[0] else f"attach failed: {kp[1]}"


def verified(caps: Capabilities) -> Capabilities:
    """`caps` with the BPF features proven by loading programs (unchanged where BCC,
    root or the headers are missing: nothing could be loaded)."""
    if not (caps.has(cap.BCC) and caps.has(cap.ROOT) and caps.has(cap.HEADERS)):
        return caps
    feats = dict(caps.features)
    # BCC prints compile warnings and kernel logs on stderr; doctor keeps its output clean.
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        for name, ok, reason in _verify(caps):
            feats[name] = Feature(name, ok, reason)
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return Capabilities(feats, caps.tracefs, caps.release)
