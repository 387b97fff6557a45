"""Compile bpf/packets.c and load its programs; attach the cgroup ones through BPF links.

A BPF link (BPF_LINK_CREATE) detaches when its last file descriptor closes, so the
cgroup attachments cannot outlive the process, even one killed with SIGKILL. BCC 0.26
only offers the legacy attach, whose programs stay on the cgroup after such a kill;
the system libbpf (which BCC itself links) offers bpf_link_create.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any

from tracer.ebpf import compile as bcompile
from tracer.errors import TracerError

SOURCE = "packets.c"
SNAP = 256

# enum bpf_attach_type (uapi/linux/bpf.h)
CGROUP_INET_INGRESS = 0
CGROUP_INET_EGRESS = 1
CGROUP_INET_SOCK_CREATE = 2
CGROUP_INET4_CONNECT = 10
CGROUP_INET6_CONNECT = 11
CGROUP_INET4_POST_BIND = 12
CGROUP_INET6_POST_BIND = 13
CGROUP_UDP4_SENDMSG = 14
CGROUP_UDP6_SENDMSG = 15

# (function, program type name in BCC, attach type): what goes on a target's cgroup.
# The capture variants replace the first two when the cgroup hooks must also emit.
ATTRIBUTION = (
    ("tracer_pkt_cg_out", "CGROUP_SKB", CGROUP_INET_EGRESS),
    ("tracer_pkt_cg_in", "CGROUP_SKB", CGROUP_INET_INGRESS),
    ("tracer_pkt_sock", "CGROUP_SOCK", CGROUP_INET_SOCK_CREATE),
    ("tracer_pkt_bind4", "CGROUP_SOCK", CGROUP_INET4_POST_BIND),
    ("tracer_pkt_bind6", "CGROUP_SOCK", CGROUP_INET6_POST_BIND),
    ("tracer_pkt_conn4", "CGROUP_SOCK_ADDR", CGROUP_INET4_CONNECT),
    ("tracer_pkt_conn6", "CGROUP_SOCK_ADDR", CGROUP_INET6_CONNECT),
    ("tracer_pkt_send4", "CGROUP_SOCK_ADDR", CGROUP_UDP4_SENDMSG),
    ("tracer_pkt_send6", "CGROUP_SOCK_ADDR", CGROUP_UDP6_SENDMSG),
)
CAPTURE = {"tracer_pkt_cg_out": "tracer_pkt_cgc_out", "tracer_pkt_cg_in": "tracer_pkt_cgc_in"}
TC_OUT, TC_IN = "tracer_pkt_tc_out", "tracer_pkt_tc_in"


def build(pages: int, owners: bool, follow_forks: bool) -> Any:
    """The programs; `owners`: packets are kept by their owner's PID (the `traced` marks, and
    the sched handlers that keep them), `follow_forks`: children are marked too."""
    flags = [f"-DSNAP={SNAP}", f"-DRINGBUF_PAGES={pages}"]
    if owners:
        flags.append("-DOWNERS")
        if follow_forks:
            flags.append("-DFOLLOW_FORKS")
    return bcompile.build(bcompile.source(SOURCE), flags)


def load(bpf: Any, func: str, kind: str, attach_type: int = -1) -> Any:
    """A loaded program (BCC caches one per name and type)."""
    from bcc import BPF

    q = bcompile.Quiet()
    try:
        with q:
            return bpf.load_func(func, getattr(BPF, kind), attach_type=attach_type)
    except Exception as e:
        raise TracerError(f"cannot load BPF program {func}: {q.errors() if hasattr(q, 'text') else e}"
                          "; see 'tracer doctor'") from None


_libbpf: Any = None


def _lib() -> Any:
    global _libbpf
    if _libbpf is None:
        name = ctypes.util.find_library("bpf") or "libbpf.so.1"
        try:
            lib = ctypes.CDLL(name, use_errno=True)
        except OSError as e:
            raise TracerError(f"cannot load libbpf ({name}): {e}; install libbpf1") from None
        lib.bpf_link_create.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
        lib.bpf_link_create.restype = ctypes.c_int
        _libbpf = lib
    return _libbpf


def link_cgroup(prog_fd: int, cgroup_dir: str, attach_type: int) -> int:
    """Attach a program to a cgroup v2 directory; returns the link fd (close it to detach)."""
    try:
        cg = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        raise TracerError(f"cannot open cgroup {cgroup_dir}: {e.strerror}") from None
    try:
        fd = _lib().bpf_link_create(prog_fd, cg, attach_type, None)
    finally:
        os.close(cg)
    if fd < 0:
        err = -fd if fd < -1 else ctypes.get_errno()
        raise TracerError(f"cannot attach a BPF program to cgroup {cgroup_dir}: {os.strerror(err)}")
    return fd
