"""What the BPF handlers capture for each argument of each syscall.

The generic handler is one BPF program driven by a per-syscall descriptor map:
these specs are turned into that map's values. Keep the kinds in sync with
bpf/tracer.h (CAP_*).

Common syscalls have hand-written specs (`_HAND`, by argument name, so they follow the
kernel's format files); every other one gets `_generic`: its path-like strings only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from tracer.syscalls.table import Syscall

NONE = 0  # the register value only
STR = 1  # NUL-terminated user string (a path, a name)
BUF_IN = 2  # user buffer; its length is the value of argument `size`
BUF_RET = 3  # user buffer filled by the call; its length is the return value (read, recv)
FIXED = 4  # user memory of `size` bytes (a struct: stat, timespec, int[2] ...)
LENPTR = 5  # user buffer whose length is the int that argument `size` points to (accept's addr)
STRV = 6  # NULL-terminated array of strings (execve's argv)

_PATH_NAMES = {"filename", "pathname", "path", "oldname", "newname", "name", "specialfile",
               "dev_name", "dir_name", "type", "uname"}

# Sizes of the x86_64 structs captured whole.
STAT = 144
STATX = 256
TIMESPEC = 16
TIMEVAL = 16
RLIMIT = 16
UTSNAME = 390
SYSINFO = 112  # struct sysinfo on 64-bit
INT = 4
INT_PAIR = 8
SIGSET = 8
SIGACTION = 32  # the kernel's struct sigaction: handler, flags, restorer, mask


@dataclass(frozen=True)
class Capture:
    kind: int = NONE
    size: int = 0  # BUF_IN/LENPTR: index of the length argument; FIXED: bytes


@dataclass(frozen=True)
class CallSpec:
    captures: tuple[Capture, ...]  # one per argument, at most 6
    at_enter: bool = False  # capture and emit at entry: execve (its memory is gone at exit), exit*


# Per syscall: argument name -> (kind, size) where size is bytes for FIXED and the *name*
# of the length argument for BUF_IN/LENPTR. Arguments not named keep the generic capture.
_Hand = dict[str, tuple[int, "int | str"]]
_SOCKADDR_OUT = {"upeer_sockaddr": (LENPTR, "upeer_addrlen"), "upeer_addrlen": (FIXED, INT)}
_HAND: dict[str, _Hand] = {
    "read": {"buf": (BUF_RET, 0)},
    "pread64": {"buf": (BUF_RET, 0)},
    "write": {"buf": (BUF_IN, "count")},
    "pwrite64": {"buf": (BUF_IN, "count")},
    "recvfrom": {"ubuf": (BUF_RET, 0), "addr": (LENPTR, "addr_len"), "addr_len": (FIXED, INT)},
    "sendto": {"buff": (BUF_IN, "len"), "addr": (BUF_IN, "addr_len")},
    "connect": {"uservaddr": (BUF_IN, "addrlen")},
    "bind": {"umyaddr": (BUF_IN, "addrlen")},
    "accept": _SOCKADDR_OUT,
    "accept4": _SOCKADDR_OUT,
    "getsockname": {"usockaddr": (LENPTR, "usockaddr_len"), "usockaddr_len": (FIXED, INT)},
    "getpeername": {"usockaddr": (LENPTR, "usockaddr_len"), "usockaddr_len": (FIXED, INT)},
    "setsockopt": {"optval": (BUF_IN, "optlen")},
    "getsockopt": {"optval": (LENPTR, "optlen"), "optlen": (FIXED, INT)},
    "socketpair": {"usockvec": (FIXED, INT_PAIR)},
    "stat": {"statbuf": (FIXED, STAT)},
    "lstat": {"statbuf": (FIXED, STAT)},
    "fstat": {"statbuf": (FIXED, STAT)},
    "newfstatat": {"statbuf": (FIXED, STAT)},
    "statx": {"buffer": (FIXED, STATX)},
    "pipe": {"fildes": (FIXED, INT_PAIR)},
    "pipe2": {"fildes": (FIXED, INT_PAIR)},
    "execve": {"argv": (STRV, 0)},
    "execveat": {"argv": (STRV, 0)},
    "nanosleep": {"rqtp": (FIXED, TIMESPEC), "rmtp": (FIXED, TIMESPEC)},
    "clock_nanosleep": {"rqtp": (FIXED, TIMESPEC), "rmtp": (FIXED, TIMESPEC)},
    "clock_gettime": {"tp": (FIXED, TIMESPEC)},
    "clock_getres": {"tp": (FIXED, TIMESPEC)},
    "gettimeofday": {"tv": (FIXED, TIMEVAL)},
    "wait4": {"stat_addr": (FIXED, INT)},
    "uname": {"name": (FIXED, UTSNAME)},
    "sysinfo": {"info": (FIXED, SYSINFO)},
    "getrandom": {"ubuf": (BUF_RET, 0)},
    "readlink": {"buf": (BUF_RET, 0)},
    "readlinkat": {"buf": (BUF_RET, 0)},
    "getcwd": {"buf": (BUF_RET, 0)},  # the return value is the length with the NUL
    "getdents64": {"dirent": (BUF_RET, 0)},  # only counted: strace shows `/* N entries */`
    "getrlimit": {"rlim": (FIXED, RLIMIT)},
    "setrlimit": {"rlim": (FIXED, RLIMIT)},
    "prlimit64": {"new_rlim": (FIXED, RLIMIT), "old_rlim": (FIXED, RLIMIT)},
    "rt_sigaction": {"act": (FIXED, SIGACTION), "oact": (FIXED, SIGACTION)},
    "rt_sigprocmask": {"nset": (FIXED, SIGSET), "oset": (FIXED, SIGSET)},
    "clone": {"parent_tidptr": (FIXED, INT)},
    "sethostname": {"name": (BUF_IN, "len")},
    "setdomainname": {"name": (BUF_IN, "len")},
}
_AT_ENTER = frozenset({"execve", "execveat", "exit", "exit_group"})


def _generic_capture(f) -> Capture:
    if "char *" in f.type and f.name in _PATH_NAMES:
        return Capture(STR)
    return Capture(NONE)


def _generic(sc: Syscall) -> CallSpec:
    return CallSpec(tuple(_generic_capture(f) for f in sc.args[:6]), sc.name in _AT_ENTER)


def _hand(sc: Syscall, table: _Hand) -> CallSpec:
    index = {f.name: i for i, f in enumerate(sc.args[:6])}
    caps = []
    for f in sc.args[:6]:
        want = table.get(f.name)
        if want is None:
            caps.append(_generic_capture(f))
            continue
        kind, size = want
        if isinstance(size, str):  # the length argument, by name: its index
            if size not in index:
                caps.append(Capture(NONE))  # a kernel whose format differs: capture nothing
                continue
            size = index[size]
        caps.append(Capture(kind, size))
    return CallSpec(tuple(caps), sc.name in _AT_ENTER)


@functools.lru_cache(maxsize=1024)
def spec_for(sc: Syscall) -> CallSpec:
    """The capture spec of `sc`: hand-written for common syscalls, from its format otherwise."""
    table = _HAND.get(sc.name)
    return _hand(sc, table) if table else _generic(sc)
