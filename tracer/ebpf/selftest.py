"""Load tiny BPF programs to prove, not assume, what the BPF side of this kernel can do."""

from __future__ import annotations

from typing import Iterable

from tracer import capabilities as cap


def _try(text: str, attach) -> tuple[bool, str]:
    from bcc import BPF

    b = None
    try:
        b = BPF(text=text)
        attach(b)
        return True, "loaded and attached a test program"
    except Exception as e:  # BCC raises bare Exception with the kernel's reason
        return False, " ".join(str(e).split())[:160]
    finally:
        if b is not None:
            b.cleanup()


def verify(feats: dict[str, cap.Feature]) -> Iterable[tuple[str, bool, str]]:
    import os
    import sys

    # BCC prints compile warnings and kernel logs on stderr; doctor keeps its output clean.
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        raw = _try("RAW_TRACEPOINT_PROBE(sys_enter) { return 0; }", lambda b: None)
        yield cap.RAW_TRACEPOINTS, raw[0], raw[1] if raw[0] else f"load failed: {raw[1]}"
        ring = _try("BPF_RINGBUF_OUTPUT(rb, 1);"
                    " TRACEPOINT_PROBE(raw_syscalls, sys_enter) { u32 x = 0;"
                    " rb.ringbuf_output(&x, sizeof(x), 0); return 0; }", lambda b: None)
        yield cap.RINGBUF, ring[0], ring[1] if ring[0] else f"load failed: {ring[1]}; perf buffer used"
        if feats[cap.FENTRY].ok:
            fe = _try("KFUNC_PROBE(do_sys_openat2) { return 0; }", lambda b: None)
            why = fe[1]
            if "super-user" in why:  # BCC's words for EPERM, which root gets only from the kernel
                why = "the kernel refused it (EPERM)" + (
                    "; " + feats[cap.LOCKDOWN].reason if not feats[cap.LOCKDOWN].ok else "")
            yield cap.FENTRY, fe[0], fe[1] if fe[0] else f"load failed: {why}"
        if feats[cap.KPROBES].ok:
            kp = _try("int f(void *ctx) { return 0; }",
                      lambda b: b.attach_kprobe(event=b.get_syscall_fnname("getpid"), fn_name="f"))
            yield cap.KPROBES, kp[0], kp[1] if kp[0] else f"attach failed: {kp[1]}"
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
