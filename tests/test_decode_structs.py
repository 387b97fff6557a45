"""Struct, array and constant decoders against lines strace 6.1 printed for the same calls
(bench/corpus/ runs): events built by hand with the memory the BPF side captures."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from tracer.decode import make_formatter
from tracer.syscalls import desc
from tracer.syscalls.table import Syscall

ENTRY = 8  # entry-time captures arrive at argument index + 8


def line(name: str, args: list[int], ret: int, blobs: dict | None = None) -> str:
    call = desc.get(name)
    regs = tuple(v & 0xFFFFFFFFFFFFFFFF for v in args) + (0,) * (6 - len(args))
    return make_formatter(Syscall(call.nr, name, name, ()))(regs, ret, blobs or {}, frozenset())


def iov(*items: tuple[int, bytes, int]) -> bytes:
    out = b""
    for base, data, n in items:
        out += struct.pack("<QQ", base, n) + data[:32].ljust(32, b"\0")
    return out


def msghdr(iov_at: int, iovlen: int, flags: int = 0, control: int = 0, controllen: int = 0) -> bytes:
    return struct.pack("<QI4xQQQQi4x", 0, 0, iov_at, iovlen, control, controllen, flags)


CASES = [
    ("sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"ab\", iov_len=2}, {iov_base=\"cde\","
     " iov_len=3}], msg_iovlen=2, msg_controllen=0, msg_flags=0}, 0) = 5", "sendmsg", [3, 0x7000, 0], 5,
     {1: msghdr(0x6000, 2), 17: iov((0x5000, b"ab", 2), (0x5010, b"cde", 3))}),
    # a read: each entry shows what the call filled in (5 bytes of 128)
    ("recvmsg(4, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"abcde\", iov_len=128}], msg_iovlen=1,"
     " msg_controllen=0, msg_flags=MSG_TRUNC}, 0) = 5", "recvmsg", [4, 0x7000, 0], 5,
     {1: msghdr(0x6000, 1, flags=0x20), 17: iov((0x5000, b"abcdefgh", 128))}),
    ("recvmsg(4, 0x7000, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)", "recvmsg",
     [4, 0x7000, 0x40], -11, {1: msghdr(0x6000, 1)}),
    ("lseek(3, 2, 0x7 /* SEEK_??? */) = -1 EINVAL (Invalid argument)", "lseek", [3, 2, 7], -22, None),
    ("access(\"f1\", 0x8 /* ?_OK */) = -1 EINVAL (Invalid argument)", "access", [1, 8], -22, {0: b"f1"}),
    ("newfstatat(AT_FDCWD, \"f1\", 0x7fffffffdaa0, 0x10000000 /* AT_??? */) = -1 EINVAL (Invalid argument)",
     "newfstatat", [-100, 1, 0x7fffffffdaa0, 0x10000000], -22, {1: b"f1"}),
    ("chmod(\"f1\", 0177777) = 0", "chmod", [1, 0o177777], 0, {0: b"f1"}),
    ("chown(\"f1\", -1, -1) = 0", "chown", [1, -1, -1], 0, {0: b"f1"}),
    ("write(3, \"\", 0) = 0", "write", [3, 0x5555, 0], 0, None),
    ("dup3(3, 31, O_CREAT) = -1 EINVAL (Invalid argument)", "dup3", [3, 31, 0x40], -22, None),
    ("umount2(\"nope\", MNT_DETACH) = -1 ENOENT (No such file or directory)", "umount2", [1, 2], -2,
     {0: b"nope"}),
    ("mknod(\"p1\", S_IFIFO|0644) = 0", "mknod", [1, 0o10644, 0], 0, {0: b"p1"}),
    ("mknod(\"c1\", S_IFCHR|0600, makedev(0x1, 0x3)) = 0", "mknod", [1, 0o20600, 0x103], 0, {0: b"c1"}),
    ("fcntl(3, F_SETLK, {l_type=F_RDLCK, l_whence=SEEK_SET, l_start=0, l_len=4096}) = 0", "fcntl",
     [3, 6, 0x7000], 0, {2: struct.pack("<hh4xqqi4x", 0, 0, 0, 4096, 0)}),
    ("fcntl(3, F_GETLK, {l_type=F_UNLCK, l_whence=SEEK_SET, l_start=0, l_len=4096, l_pid=0}) = 0", "fcntl",
     [3, 5, 0x7000], 0, {2: struct.pack("<hh4xqqi4x", 2, 0, 0, 4096, 0)}),
    ("readv(3, [{iov_base=\"ef\", iov_len=2}, {iov_base=\"ghX\", iov_len=3}], 2) = 5", "readv",
     [3, 0x7000, 2], 5, {1: iov((0x10, b"ef", 2), (0x20, b"ghX", 3))}),
    ("writev(3, [{iov_base=\"hello\", iov_len=5}, {iov_base=\"world\", iov_len=5}], 2) = 10", "writev",
     [3, 0x7000, 2], 10, {1: iov((0x10, b"hello", 5), (0x20, b"world", 5))}),
    ("preadv2(3, [{iov_base=\"ab\", iov_len=2}], 1, 0, 0) = 2", "preadv2", [3, 0x7000, 1, 0, 0, 0], 2,
     {1: iov((0x10, b"ab", 2))}),
    ("utime(\"f6\", {actime=1000 /* 1970-01-01T00:16:40+0000 */, "
     "modtime=2000 /* 1970-01-01T00:33:20+0000 */}) = 0", "utime", [1, 0x7000], 0,
     {0: b"f6", 1: struct.pack("<qq", 1000, 2000)}),
    ("nanosleep({tv_sec=0, tv_nsec=18446744073709551615}, NULL) = -1 EINVAL (Invalid argument)",
     "nanosleep", [0x7000, 0], -22, {0: struct.pack("<qq", 0, -1)}),
    ("clock_nanosleep(0x63 /* CLOCK_??? */, 0, {tv_sec=0, tv_nsec=1000}, NULL) = -1 EINVAL "
     "(Invalid argument)",
     "clock_nanosleep", [99, 0, 0x7000, 0], -22, {2: struct.pack("<qq", 0, 1000)}),
    ("setitimer(ITIMER_REAL, {it_interval={tv_sec=0, tv_usec=0}, "
     "it_value={tv_sec=100, tv_usec=0}}, NULL) = 0",
     "setitimer", [0, 0x7000, 0], 0, {1: struct.pack("<4q", 0, 0, 100, 0)}),
    ("getitimer(0x9 /* ITIMER_??? */, 0x7fffffffebd0) = -1 EINVAL (Invalid argument)", "getitimer",
     [9, 0x7fffffffebd0], -22, None),
    ("timer_create(CLOCK_MONOTONIC, {sigev_signo=0, sigev_notify=SIGEV_NONE}, [0]) = 0", "timer_create",
     [1, 0x7000, 0x8000], 0, {1: struct.pack("<Qii", 0, 0, 1), 2: struct.pack("<i", 0)}),
    ("getresuid([0], [0], [0]) = 0", "getresuid", [1, 2, 3], 0,
     {0: bytes(4), 1: bytes(4), 2: bytes(4)}),
    ("getpriority(0x9 /* PRIO_??? */, 0) = -1 EINVAL (Invalid argument)", "getpriority", [9, 0], -22, None),
    ("getrlimit(0x10 /* RLIMIT_??? */, 0x7fffffffebe0) = -1 EINVAL (Invalid argument)", "getrlimit",
     [16, 0x7fffffffebe0], -22, None),
    ("sched_getscheduler(0) = 0 (SCHED_OTHER)", "sched_getscheduler", [0], 0, None),
    ("sched_setscheduler(0, 0x63 /* SCHED_??? */, [0]) = -1 EINVAL (Invalid argument)",
     "sched_setscheduler", [0, 99, 0x7000], -22, {2: bytes(4)}),
    ("prctl(PR_SET_NAME, \"corpusname\") = 0", "prctl", [15, 0x7000, 0, 0, 0], 0, {1: b"corpusname"}),
    ("prctl(PR_GET_DUMPABLE) = 1 (SUID_DUMP_USER)", "prctl", [3, 0, 0, 0, 0], 1, None),
    ("prctl(PR_SET_PDEATHSIG, SIGTERM) = 0", "prctl", [1, 15, 0, 0, 0], 0, None),
    ("prctl(PR_CAPBSET_READ, CAP_CHOWN) = 1", "prctl", [23, 0, 0, 0, 0], 1, None),
    ("prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) = -1 EINVAL (Invalid argument)", "prctl", [38, 0, 0, 0, 0], -22,
     None),
    ("prctl(0x270f /* PR_??? */, 0x1, 0x2, 0x3, 0x4) = -1 EINVAL (Invalid argument)", "prctl",
     [9999, 1, 2, 3, 4], -22, None),
    ("arch_prctl(0 /* ARCH_??? */, 0) = -1 EINVAL (Invalid argument)", "arch_prctl", [0, 0], -22, None),
    ("kcmp(-1, -1, 0x63 /* KCMP_??? */, 0, 0) = -1 ESRCH (No such process)", "kcmp", [-1, -1, 99, 0, 0], -3,
     None),
    ("ioprio_get(IOPRIO_WHO_PROCESS, 0) = 0 (IOPRIO_PRIO_VALUE(IOPRIO_CLASS_NONE, 0))", "ioprio_get", [1, 0],
     0, None),
    ("clone3({flags=0, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, 88) = 1426", "clone3", [0x7000, 88],
     1426, {0: struct.pack("<11Q", 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0)}),
    ("waitid(P_PID, 1425, {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=1425, si_uid=0, si_status=0, "
     "si_utime=0, si_stime=0}, WEXITED, NULL) = 0", "waitid", [1, 1425, 0x7000, 4, 0], 0,
     {2: struct.pack("<iiiiiIi4xqq", 17, 0, 1, 0, 1425, 0, 0, 0, 0) + bytes(80)}),
    ("sigaltstack(NULL, {ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}) = 0", "sigaltstack", [0, 0x7000], 0,
     {1: struct.pack("<QI4xQ", 0, 2, 0)}),
    ("rt_sigprocmask(0x9 /* SIG_??? */, [USR1 TERM], NULL, 8) = -1 EINVAL (Invalid argument)",
     "rt_sigprocmask", [9, 0x7000, 0, 8], -22, {1: struct.pack("<Q", 1 << 9 | 1 << 14)}),
    ("getsockname(3, {sa_family=AF_UNIX, sun_path=\"sock.1\"}, [110 => 9]) = 0", "getsockname",
     [3, 0x7000, 0x8000], 0, {1: struct.pack("<H", 1) + b"sock.1\0", 2: struct.pack("<i", 9),
                               2 + ENTRY: struct.pack("<i", 110)}),
    ("setsockopt(3, SOL_SOCKET, 0x3e7 /* SO_??? */, [1], 4) = -1 ENOPROTOOPT (Protocol not available)",
     "setsockopt", [3, 1, 999, 0x7000, 4], -92, {3: struct.pack("<i", 1)}),
    ("shutdown(3, 0x9 /* SHUT_??? */) = -1 EINVAL (Invalid argument)", "shutdown", [3, 9], -22, None),
    ("sendfile(4, 3, [0] => [4], 4) = 4", "sendfile", [4, 3, 0x7000, 4], 4,
     {2: struct.pack("<q", 4), 2 + ENTRY: struct.pack("<q", 0)}),
    ("select(5, [3], [4], NULL, {tv_sec=0, tv_usec=0}) = 2 (in [3], out [4], left {tv_sec=0, tv_usec=0})",
     "select", [5, 0x7000, 0x7100, 0, 0x7200], 2,
     {1 + ENTRY: struct.pack("<Q", 8), 2 + ENTRY: struct.pack("<Q", 16), 1: struct.pack("<Q", 8),
      2: struct.pack("<Q", 16), 4 + ENTRY: bytes(16), 4: bytes(16)}),
    ("select(5, [], NULL, NULL, {tv_sec=0, tv_usec=0}) = 0 (Timeout)", "select", [5, 0x7000, 0, 0, 0x7200], 0,
     {1 + ENTRY: bytes(8), 1: bytes(8), 4 + ENTRY: bytes(16), 4: bytes(16)}),
    ("poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN|POLLOUT}], 2, 0) = 2 ([{fd=3, revents=POLLIN}, "
     "{fd=4, revents=POLLOUT}])", "poll", [0x7000, 2, 0], 2,
     {0: struct.pack("<ihhihh", 3, 1, 1, 4, 5, 4)}),
    ("poll(NULL, 0, 0) = 0 (Timeout)", "poll", [0, 0, 0], 0, None),
    ("epoll_wait(5, [{events=EPOLLIN, data={u32=7, u64=7}}], 4, 0) = 1", "epoll_wait", [5, 0x7000, 4, 0], 1,
     {1: struct.pack("<IQ", 1, 7)}),
    ("epoll_ctl(5, 0x9 /* EPOLL_CTL_??? */, 3, {events=EPOLLIN|EPOLLET, data={u32=7, u64=7}}) = -1 EINVAL "
     "(Invalid argument)", "epoll_ctl", [5, 9, 3, 0x7000], -22, {3: struct.pack("<IQ", 1 | 1 << 31, 7)}),
    ("shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600) = 0", "shmget", [0, 4096, 0o1600], 0, None),
    ("semget(0x3039, 1, 000) = -1 ENOENT (No such file or directory)", "semget", [12345, 1, 0], -2, None),
    ("semop(0, [{sem_num=0, sem_op=1, sem_flg=0}], 1) = 0", "semop", [0, 0x7000, 1], 0,
     {1: struct.pack("<Hhh", 0, 1, 0)}),
    ("pipe2(0x7fffffffec78, 0x1 /* O_??? */) = -1 EINVAL (Invalid argument)", "pipe2", [0x7fffffffec78, 1],
     -22, None),
    ("eventfd2(3, EFD_CLOEXEC|EFD_NONBLOCK) = 3", "eventfd2", [3, 0o2004000], 3, None),
    ("time(NULL) = 0 (1970-01-01T00:00:00+0000)", "time", [0], 0, None),
    ("reboot(0 /* LINUX_REBOOT_MAGIC_??? */, 0 /* LINUX_REBOOT_MAGIC_??? */, LINUX_REBOOT_CMD_CAD_OFF) = -1 "
     "EINVAL (Invalid argument)", "reboot", [0, 0, 0, 0], -22, None),
    ("getrandom(\"\", 0, 0) = 0", "getrandom", [0x7000, 0, 0], 0, None),
    ("memfd_create(\"bad\", 0x1000 /* MFD_??? */) = -1 EINVAL (Invalid argument)", "memfd_create",
     [0x7000, 0x1000], -22, {0: b"bad"}),
]


@pytest.mark.parametrize("expected,name,args,ret,blobs", CASES,
                         ids=[c[1] + str(k) for k, c in enumerate(CASES)])
def test_line_as_strace_prints_it(expected, name, args, ret, blobs, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    import time
    time.tzset()
    assert line(name, args, ret, blobs) == expected


SIGINFOS = [  # si_signo, si_errno, si_code, then the union: 8 bytes at 16, 8 at 24
    (10, 0, 0, 5, 0), (10, 0, -6, 5, 0), (10, 0, -1, 5, 42), (10, 0, -1, 5, 0), (10, 1, -7, 5, 7),
    (10, 0, -2, 0x100000003, 9), (11, 0, 0x80, 0, 0), (11, 0, 1, 0x10, 0), (9, 0, 0x80, 0, 0),
    (29, 0, 1, 3, 4), (29, 0, 4, 3, 4), (5, 0, 2, 16, 0), (5, 0, 0x80, 0, 0), (12, 0, 3, 5, 9),
    (12, 0, 3, 0, 0), (-4928, 32767, 0x80000, 12976128, 0xc60000), (17, 0, 2, 7 | 1 << 40, 9),
]


@pytest.mark.skipif(not shutil.which("strace") or not shutil.which("gcc"), reason="needs strace and gcc")
def test_siginfo_as_real_strace_prints_it(tmp_path):
    """Each siginfo_t above, decoded by us and by strace (rt_sigqueueinfo's argument)."""
    from tracer.decode.procfmt import siginfo

    records = [struct.pack("<iii4xQQ", *r).ljust(128, b"\0") for r in SIGINFOS]
    prog = tmp_path / "queue"
    subprocess.run(["gcc", "-o", prog, Path(__file__).parent / "fixtures/siginfo/queue.c"], check=True)
    subprocess.run(["strace", "-e", "trace=rt_sigqueueinfo", "-o", tmp_path / "log", prog],
                   input=b"".join(records), check=True)
    theirs = [ln.split("SIGUSR1, ", 1)[1].rsplit(") = ", 1)[0]
              for ln in (tmp_path / "log").read_text().splitlines() if ln.startswith("rt_sigqueueinfo")]
    assert [siginfo(r) for r in records] == theirs
