"""Create BCC modules without BCC's scan of every kernel symbol.

BCC loads the whole of /proc/kallsyms (some 120,000 symbols) into a hash table each time it
creates a module, only to find how the kernel names syscall functions (`__x64_sys_bpf` or
`sys_bpf`): on this machine that is more than half of compiling the dispatch. So a module is
created in a thread of its own, in a mount namespace of its own (a thread can have one), where
/proc/kallsyms shows only those lines. The rest of the process keeps the real table, and the
namespace ends with the thread. Where a private namespace cannot be had (no CAP_SYS_ADMIN), the
module is created the usual way.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import re
import tempfile
import threading
from typing import Any, Callable, TypeVar

T = TypeVar("T")
KALLSYMS = "/proc/kallsyms"
CLONE_NEWNS = 0x00020000
MS_BIND = 4096
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
# the lines BCC's syscall-prefix probe looks up: <prefix>sys_bpf
_PREFIX_PROBE = re.compile(rb"[0-9a-f]+ \w (?:\w*_)?sys_bpf\n")


@functools.lru_cache(maxsize=1)
def prefix_lines() -> bytes:
    """The lines of /proc/kallsyms that name the bpf syscall's function (b"" if unreadable):
    read once per process, for every module it creates (they do not change while it runs)."""
    try:
        with open(KALLSYMS, "rb", buffering=0) as f:
            data = f.readall()
    except OSError:
        return b""
    out, pos = [], 0
    while (end := data.find(b"sys_bpf\n", pos)) >= 0:
        pos = end + 8
        line = data[data.rfind(b"\n", 0, end) + 1:pos]
        if _PREFIX_PROBE.fullmatch(line):
            out.append(line)
    return b"".join(out)


def _hide_symbols(lines: bytes) -> bool:
    """In the calling thread only: a private mount namespace whose /proc/kallsyms holds `lines`."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        return False
    # our copy of every mount made private first: the bind below must not reach the host
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    fd, path = tempfile.mkstemp(prefix="tracer-kallsyms-")  # 0600: the addresses are root's to see
    try:
        os.write(fd, lines)
        return libc.mount(path.encode(), KALLSYMS.encode(), None, MS_BIND, None) == 0
    finally:
        os.close(fd)
        os.unlink(path)  # the mount keeps the file while the namespace lives


def create(make: Callable[[], T]) -> T:
    """make() (a BCC module's creation) with BCC's symbol scan cut short, as described above."""
    lines = prefix_lines() if os.geteuid() == 0 else b""
    if not lines:
        return make()
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            _hide_symbols(lines)  # when it fails, make() just takes the usual time
            out["value"] = make()
        except BaseException as e:  # re-raised in the caller's thread
            out["error"] = e

    worker = threading.Thread(target=run, name="bcc-compile")
    worker.start()
    worker.join()
    if "error" in out:
        raise out["error"]
    return out["value"]
