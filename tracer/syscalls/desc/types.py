"""How the BPF side captures each argument type word (the printing side is
tracer/decode/printers.py). A word not listed here is a register value only."""

from __future__ import annotations

from dataclasses import dataclass

# Capture kinds: the generated C header gives bpf/ the same values (CAP_*).
NONE = 0  # the register value only
STR = 1  # NUL-terminated user string (a path, a name)
BUF_IN = 2  # user buffer whose length is the value of the PARAM argument
BUF_RET = 3  # user buffer filled by the call; its length is the return value (read, recv)
FIXED = 4  # user memory of `size` bytes (a struct: stat, timespec, int[2] ...)
LENPTR = 5  # user buffer whose length is the int the PARAM argument points to (accept's addr)
STRV = 6  # NULL-terminated array of strings (execve's argv)
IOV = 7  # struct iovec array of PARAM entries, with the start of each entry's data
ARRAY = 8  # array of PARAM elements of `size` bytes each
ARRAY_RET = 9  # array of as many `size`-byte elements as the call returned (epoll_wait)
BITS = 10  # bit set of PARAM bits (fd_set), at most `size` bytes
MSGHDR = 11  # struct msghdr, then its iovec array as IOV does (under argument index + MSG_IOV_KEY)
KINDS = {"NONE": NONE, "STR": STR, "BUF_IN": BUF_IN, "BUF_RET": BUF_RET, "FIXED": FIXED,
         "LENPTR": LENPTR, "STRV": STRV, "IOV": IOV, "ARRAY": ARRAY, "ARRAY_RET": ARRAY_RET, "BITS": BITS,
         "MSGHDR": MSGHDR}
MSG_IOV_KEY = 16
MSGHDR_SIZE = 56
IOV_MAX = 8  # entries captured (bpf/tracer.h)
IOV_STR = 32  # bytes of data captured per entry
IOV_ENTRY = 48

# When a capture is taken: at entry (the call changes or frees the memory), at exit, or both.
ENTRY = 1
EXIT = 2

# x86_64 sizes of the structs captured whole.
STAT = 144
STATX = 256
TIMESPEC = 16
TIMEVAL = 16
RLIMIT = 16
UTSNAME = 390
SYSINFO = 112
INT = 4
INT_PAIR = 8
SIGSET = 8
SIGACTION = 32  # the kernel's struct sigaction: handler, flags, restorer, mask
FLOCK = 32
RUSAGE = 144
SIGINFO = 128
STACK_T = 24
EPOLL_EVENT = 12


@dataclass(frozen=True)
class Capture:
    kind: int = NONE
    size: int = 0  # FIXED: bytes
    when: int = EXIT
    param: bool = False  # BUF_IN/LENPTR: the length comes from the argument the word's PARAM names
    # (with `size`, for BUF_IN: that many bytes more, a header before the counted ones)


CAPTURES: dict[str, Capture] = {
    "path": Capture(STR),
    "str": Capture(STR),
    "strv": Capture(STRV),
    "buf_in": Capture(BUF_IN, param=True),
    "sockaddr_in": Capture(BUF_IN, param=True),
    "sockopt_in": Capture(BUF_IN, param=True),
    "buf_out": Capture(BUF_RET),
    "random_buf": Capture(BUF_RET),
    "cwd": Capture(BUF_RET),  # the return value is the length with the NUL
    "dirents": Capture(BUF_RET),  # only counted: strace shows `/* N entries */`
    "sockaddr_out": Capture(LENPTR, param=True),
    "sockopt_out": Capture(LENPTR, param=True),
    "stat": Capture(FIXED, STAT),
    "statx": Capture(FIXED, STATX),
    "timespec": Capture(FIXED, TIMESPEC),
    "timespec_out": Capture(FIXED, TIMESPEC),
    "timespec_rem": Capture(FIXED, TIMESPEC),
    "timeval_out": Capture(FIXED, TIMEVAL),
    "rlimit": Capture(FIXED, RLIMIT),
    "rlimit_out": Capture(FIXED, RLIMIT),
    "utsname": Capture(FIXED, UTSNAME),
    "sysinfo": Capture(FIXED, SYSINFO),
    "int_pair": Capture(FIXED, INT_PAIR),
    "int_out": Capture(FIXED, INT),
    "wait_status": Capture(FIXED, INT),
    "clone_ptid": Capture(FIXED, INT),
    "sigaction": Capture(FIXED, SIGACTION),
    "sigaction_out": Capture(FIXED, SIGACTION),
    "sigset": Capture(FIXED, SIGSET),
    "sigset_out": Capture(FIXED, SIGSET),
    "fcntl_arg": Capture(FIXED, FLOCK),  # a struct flock for the lock commands; an int otherwise
    "utimbuf": Capture(FIXED, 16),
    "timeval": Capture(FIXED, TIMEVAL),
    "timeval_pair": Capture(FIXED, 2 * TIMEVAL),
    "timespec_pair": Capture(FIXED, 2 * TIMESPEC),
    "itimerval": Capture(FIXED, 2 * TIMEVAL),
    "itimerval_out": Capture(FIXED, 2 * TIMEVAL),
    "itimerspec": Capture(FIXED, 2 * TIMESPEC),
    "itimerspec_out": Capture(FIXED, 2 * TIMESPEC),
    "rusage_out": Capture(FIXED, RUSAGE),
    "sched_param": Capture(FIXED, INT),
    "sched_param_out": Capture(FIXED, INT),
    "uint_out": Capture(FIXED, INT),
    "siginfo": Capture(FIXED, SIGINFO),
    "siginfo_out": Capture(FIXED, SIGINFO),
    "clone_args": Capture(BUF_IN, param=True),
    "stack_t": Capture(FIXED, STACK_T),
    "stack_t_out": Capture(FIXED, STACK_T),
    "sigevent": Capture(FIXED, 16),  # value, signo, notify: what strace shows
    "epoll_event": Capture(FIXED, EPOLL_EVENT),
    "cpu_mask_out": Capture(BUF_RET),
    "prctl_arg2": Capture(STR),
    "iovec_in": Capture(IOV, param=True),
    "iovec_out": Capture(IOV, param=True),
    "msghdr_in": Capture(MSGHDR, MSGHDR_SIZE),
    "msghdr_out": Capture(MSGHDR, MSGHDR_SIZE),
    "socklen_io": Capture(FIXED, INT, ENTRY | EXIT),
    "loff_io": Capture(FIXED, 8, ENTRY | EXIT),
    "fdset_io": Capture(BITS, 128, ENTRY | EXIT, param=True),
    # a timeout given, and at exit what is left of it (select's `left {...}`)
    "timeval_io": Capture(FIXED, TIMEVAL, ENTRY | EXIT),
    "timespec_io": Capture(FIXED, TIMESPEC, ENTRY | EXIT),
    "pollfd_io": Capture(ARRAY, 8, EXIT, param=True),
    "epoll_events_out": Capture(ARRAY_RET, EPOLL_EVENT),
    "gid_array_out": Capture(ARRAY_RET, INT),
    "gid_array": Capture(ARRAY, INT, param=True),
    "sembufs": Capture(ARRAY, 6, param=True),
    "hostname": Capture(BUF_IN, param=True),  # PR_SET_NAME/PR_GET_NAME's name; a failed read for the others
    # struct msgbuf: its mtype (8 bytes) before the PARAM bytes of its text
    "msgbuf": Capture(BUF_IN, 8, param=True),
    "msgbuf_out": Capture(BUF_IN, 8, param=True),
}


def capture(word: str) -> Capture:
    return CAPTURES.get(word, Capture())
