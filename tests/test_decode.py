"""The decoders against strace: events built by hand, lines strace printed for the same calls
(tests/fixtures/strace/workload.txt is `strace -f -qq` of bench/workload.c)."""

from __future__ import annotations

import re
import socket
import struct
from pathlib import Path

import pytest

from tracer.decode import make_formatter, make_json
from tracer.syscalls.formats import Field
from tracer.syscalls.table import Syscall

FIXTURE = Path(__file__).parent / "fixtures/strace/workload.txt"
NR = iter(range(1000))


def sc(name: str, decl: str) -> Syscall:
    """A Syscall as the format file declares it: 'int dfd; const char * filename'."""
    fields = []
    for part in filter(None, (p.strip() for p in decl.split(";"))):
        typ, _, fname = part.rpartition(" ")
        fields.append(Field(typ.strip(), fname, 0, 8, False))
    return Syscall(next(NR), name, name, tuple(fields))


def regs(*vals: int) -> tuple[int, ...]:
    """Raw registers: negative ints arrive as unsigned 64-bit values."""
    v = [x & 0xFFFFFFFFFFFFFFFF for x in vals]
    return tuple(v + [0] * (6 - len(v)))


def strace_line(prefix: str) -> str:
    """The fixture line (without strace's padding) that starts with `prefix`."""
    for line in FIXTURE.read_text().splitlines():
        line = re.sub(r"\)\s+= ", ") = ", line)
        if line.startswith(prefix):
            return line
    raise AssertionError(f"no fixture line starts with {prefix!r}")


def stat_buf(mode: int, size: int, rdev: int = 0) -> bytes:
    b = bytearray(144)
    struct.pack_into("<QQQIII4xQq", b, 0, 2049, 1234, 1, mode, 0, 0, rdev, size)
    return bytes(b)


def sin(addr: str, port: int) -> bytes:
    return struct.pack("<H", socket.AF_INET) + struct.pack(">H", port) + socket.inet_aton(addr) + bytes(8)


OPENAT = sc("openat", "int dfd; const char * filename; int flags; umode_t mode")
OPEN = sc("open", "const char * filename; int flags; umode_t mode")
READ = sc("read", "unsigned int fd; char * buf; size_t count")
WRITE = sc("write", "unsigned int fd; const char * buf; size_t count")


def fmt(s: Syscall, args: tuple, ret, blobs=None, trunc=frozenset()) -> str:
    return make_formatter(s)(args, ret, blobs or {}, trunc)


def test_openat_matches_strace():
    got = fmt(OPENAT, regs(-100, 0x5000, 0o2000000, 0), 3, {1: b"data.txt"})
    assert got == strace_line('openat(AT_FDCWD, "data.txt"')


def test_dirfd_arrives_as_32_bits():
    got = fmt(OPENAT, (0xFFFFFF9C, 0x5000, 0, 0, 0, 0), -2, {1: b"missing.txt"})
    assert got == strace_line('openat(AT_FDCWD, "missing.txt"')
    assert got.endswith("= -1 ENOENT (No such file or directory)")


def test_open_shows_mode_only_when_creating():
    assert fmt(OPEN, regs(0x1, 0o1101, 0o644), 3, {0: b"data.txt"}) == strace_line('open("data.txt"')
    assert fmt(OPEN, regs(0x1, 0, 0o644), 3, {0: b"x"}) == 'open("x", O_RDONLY) = 3'


def test_read_buffer_cut_at_32_bytes():
    elf = b"\x7fELF\x02\x01\x01\x03" + bytes(8) + b"\x03\x00>\x00\x01\x00\x00\x00\x10t\x02" + bytes(800)
    got = fmt(READ, regs(3, 0x7000, 832), 832, {1: elf})
    assert got == strace_line('read(3, "\\177ELF')


def test_failed_read_shows_pointer_and_errno():
    got = fmt(READ, regs(8, 0x7FFFFFFFEA00, 64), -11)
    assert got == strace_line("read(8, 0x7fffffffea00")


def test_read_of_nothing_is_empty_string():
    assert fmt(READ, regs(3, 0x7000, 64), 0) == 'read(3, "", 64) = 0'


def test_write_escapes_like_strace():
    data = b"line two\twith tab and \"quotes\" and \\ backslash\n\x01\xffend\n"
    got = fmt(WRITE, regs(3, 0x5000, 52), 52, {1: data})
    assert got == strace_line('write(3, "line two')


@pytest.mark.parametrize("data,shown", [
    (b"a\x01b", '"a\\1b"'), (b"a\x012", '"a\\0012"'), (b"\x00", '"\\0"'), (b"\r\v\f", '"\\r\\v\\f"'),
    (b"\xc3\xa9", '"\\303\\251"'),
])
def test_string_escapes(data, shown):
    n = len(data)
    assert fmt(WRITE, regs(1, 1, n), n, {1: data}) == f"write(1, {shown}, {n}) = {n}"


def test_stat_family():
    fstat = sc("fstat", "unsigned int fd; struct stat * statbuf")
    stat = sc("stat", "const char * filename; struct stat * statbuf")
    nfa = sc("newfstatat", "int dfd; const char * filename; struct stat * statbuf; int flag")
    st = stat_buf(0o100644, 64)
    assert fmt(fstat, regs(3, 0x1000), 0, {1: st}) == strace_line("fstat(3,")
    assert fmt(stat, regs(1, 0x1000), 0, {0: b"data.txt", 1: st}) == strace_line('stat("data.txt"')
    assert fmt(stat, regs(1, 0x7FFFFFFFE870), -2, {0: b"missing.txt"}) == strace_line('stat("missing.txt"')
    got = fmt(nfa, regs(-100, 1, 0x1000, 0x100), 0, {1: b"data.txt", 2: st})
    assert got == strace_line("newfstatat(AT_FDCWD,")
    got = fmt(nfa, regs(3, 1, 0x1000, 0x1000), 0, {1: b"", 2: stat_buf(0o100755, 1926232)})
    assert got == strace_line('newfstatat(3, "", {st_mode=S_IFREG|0755')


def test_stat_of_a_device_shows_rdev():
    fstat = sc("fstat", "unsigned int fd; struct stat * statbuf")
    got = fmt(fstat, regs(0, 0x1000), 0, {1: stat_buf(0o20620, 0, (136 << 8) | 2)})
    assert got == "fstat(0, {st_mode=S_IFCHR|0620, st_rdev=makedev(0x88, 0x2), ...}) = 0"


def test_statx():
    s = sc("statx", "int dfd; const char * filename; unsigned flags; unsigned int mask; "
                    "struct statx * buffer")
    b = bytearray(256)
    struct.pack_into("<IIQIIIH", b, 0, 0x17FF, 4096, 0, 1, 0, 0, 0o100600)
    struct.pack_into("<Q", b, 40, 32)
    got = fmt(s, regs(-100, 1, 0, 0x7FF, 0x1000), 0, {1: b"moved.txt", 4: bytes(b)})
    assert got == strace_line('statx(AT_FDCWD, "moved.txt"')


def test_mmap_flags_and_hex_return():
    s = sc("mmap", "unsigned long addr; unsigned long len; unsigned long prot; unsigned long flags; "
                   "unsigned long fd; unsigned long off")
    got = fmt(s, regs(0x7FFFF7DF8000, 1400832, 5, 0x812, 3, 0x26000), 0x7FFFF7DF8000)
    assert got == strace_line("mmap(0x7ffff7df8000, 1400832")
    got = fmt(s, regs(0, 8192, 3, 0x22, -1, 0), 0x7FFFF7FBE000)
    assert got == strace_line("mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) "
                              "= 0x7ffff7fbe")


def test_sockets():
    sock = sc("socket", "int family; int type; int protocol")
    bind = sc("bind", "int fd; struct sockaddr * umyaddr; int addrlen")
    acc = sc("accept4", "int fd; struct sockaddr * upeer_sockaddr; int * upeer_addrlen; int flags")
    rf = sc("recvfrom", "int fd; void * ubuf; size_t size; unsigned int flags; struct sockaddr * addr; "
                        "int * addr_len")
    so = sc("setsockopt", "int fd; int level; int optname; char * optval; int optlen")
    assert fmt(sock, regs(2, 0x80001, 0), 4) == strace_line("socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC")
    assert fmt(sock, regs(1, 1, 0), 4) == strace_line("socket(AF_UNIX")
    assert fmt(so, regs(4, 1, 2, 0x1000, 4), 0, {3: struct.pack("<i", 1)}) == strace_line("setsockopt(4,")
    got = fmt(bind, regs(4, 0x1000, 16), 0, {1: sin("127.0.0.1", 47311)})
    assert got == strace_line("bind(4, {sa_family=AF_INET")
    got = fmt(acc, regs(4, 0x1000, 0x2000, 0x80000), 6,
              {1: sin("127.0.0.1", 47312), 2: struct.pack("<i", 16)})
    assert got == strace_line("accept4(4,")
    got = fmt(rf, regs(4, 0x1000, 64, 0, 0x2000, 0x3000), 8,
              {1: b"datagram", 4: sin("127.0.0.1", 47313), 5: struct.pack("<i", 16)})
    assert got == strace_line('recvfrom(4, "datagram"')
    got = fmt(rf, regs(5, 0x1000, 64, 2, 0, 0), 4, {1: b"pong"})
    assert got == strace_line('recvfrom(5, "pong", 64, MSG_PEEK')


def test_sockaddr_inet6_and_unix():
    bind = sc("bind", "int fd; struct sockaddr * umyaddr; int addrlen")
    s6 = struct.pack("<H", socket.AF_INET6) + struct.pack(">HI", 47313, 0) + socket.inet_pton(
        socket.AF_INET6, "::1") + bytes(4)
    assert fmt(bind, regs(4, 0x1000, 28), 0, {1: s6}) == strace_line("bind(4, {sa_family=AF_INET6")
    un = struct.pack("<H", socket.AF_UNIX) + b"unix.sock" + bytes(99)
    assert fmt(bind, regs(4, 0x1000, 110), 0, {1: un}) == strace_line("bind(4, {sa_family=AF_UNIX")


def test_pipes_fcntl_and_umask():
    p2 = sc("pipe2", "int * fildes; int flags")
    fc = sc("fcntl", "unsigned int fd; unsigned int cmd; unsigned long arg")
    um = sc("umask", "int mask")
    assert fmt(p2, regs(0x1000, 0o2000000), 0, {0: struct.pack("<ii", 4, 5)}) == strace_line("pipe2(")
    assert fmt(fc, regs(8, 1, 0), 0) == strace_line("fcntl(8, F_GETFD)")
    assert fmt(fc, regs(8, 3, 0), 0) == strace_line("fcntl(8, F_GETFL)")
    assert fmt(fc, regs(8, 4, 0o4000), 0) == strace_line("fcntl(8, F_SETFL")
    assert fmt(fc, regs(8, 1030, 30), 30) == strace_line("fcntl(8, F_DUPFD_CLOEXEC")
    assert fmt(um, regs(0o27), 0o22) == strace_line("umask(027)")


def test_processes():
    w4 = sc("wait4", "pid_t upid; int * stat_addr; int options; struct rusage * ru")
    kill = sc("kill", "pid_t pid; int sig")
    eg = sc("exit_group", "int error_code")
    ex = sc("execve", "const char * filename; const char *const * argv; const char *const * envp")
    assert fmt(w4, regs(8469, 0x1000, 0, 0), 8469, {1: struct.pack("<i", 3 << 8)}) == \
        "wait4(8469, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 8469"
    assert fmt(w4, regs(-1, 0x7FFFFFFFEA00, 1, 0), -10) == strace_line("wait4(-1,")
    assert fmt(kill, regs(999999, 15), -3) == strace_line("kill(999999")
    assert fmt(eg, regs(3), None) == strace_line("exit_group(3)")
    got = fmt(ex, regs(0x1000, 0x2000, 0x555555559DC0), 0,
              {0: b"/tmp/wl/workload", 1: b'workload\0child\0with "quote"\0'})
    # strace also counts the environment (`/* 2 vars */`): the envp array is not captured
    assert got == strace_line('execve("/tmp/wl/workload", ["workload"').replace(" /* 2 vars */", "")
    assert fmt(ex, regs(1, 2, 3), 0, {0: b"/bin/x", 1: b"a\0b\0"}, frozenset({1})) == \
        'execve("/bin/x", ["a", "b", ...], 0x3) = 0'


def test_loader_calls():
    pl = sc("prlimit64", "pid_t pid; unsigned int resource; const struct rlimit64 * new_rlim; "
                         "struct rlimit64 * old_rlim")
    rseq = sc("rseq", "struct rseq * rseq; u32 rseq_len; int flags; u32 sig")
    ap = sc("arch_prctl", "int option; unsigned long arg2")
    pers = sc("personality", "unsigned int personality")
    got = fmt(pl, regs(0, 3, 0, 0x1000), 0, {3: struct.pack("<QQ", 8192 * 1024, (1 << 64) - 1)})
    assert got == strace_line("prlimit64(0, RLIMIT_STACK")
    assert fmt(rseq, regs(0x7FFFF7DD0060, 0x20, 0, 0x53053053), 0) == strace_line("rseq(0x7ffff7dd0060")
    assert fmt(ap, regs(0x1002, 0x7FFFF7DCF740), 0) == strace_line("arch_prctl(ARCH_SET_FS, 0x7ffff7dcf740")
    assert fmt(pers, regs(0x40000), 0) == strace_line("personality(")


def test_time_and_uname():
    cn = sc("clock_nanosleep", "const clockid_t which_clock; int flags; "
                               "const struct __kernel_timespec * rqtp; struct __kernel_timespec * rmtp")
    un = sc("uname", "struct new_utsname * name")
    got = fmt(cn, regs(1, 0, 0x1000, 0), 0, {2: struct.pack("<qq", 0, 1000)})
    assert got == strace_line("clock_nanosleep(CLOCK_MONOTONIC")
    uts = b"".join(s.ljust(65, b"\0") for s in (b"Linux", b"vm", b"6.18", b"#1", b"x86_64", b"(none)"))
    assert fmt(un, regs(0x1000), 0, {0: uts}) == strace_line("uname(")


def test_clone_named_arguments():
    cl = sc("clone", "unsigned long clone_flags; unsigned long newsp; int * parent_tidptr; "
                     "int * child_tidptr; unsigned long tls")
    got = fmt(cl, regs(0x1200011, 0, 0, 0x7FFFF7DCFA10, 0), 8469)
    assert got == ("clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
                   "child_tidptr=0x7ffff7dcfa10) = 8469")


def test_generic_fallback():
    s = sc("frobnicate", "int fd; void * p; unsigned long n; const char * pathname")
    assert fmt(s, regs(-1, 0, 5, 0x10), 0, {3: b"/x"}) == 'frobnicate(-1, NULL, 5, "/x") = 0'


def test_restart_errno():
    s = sc("pause", "")
    assert fmt(s, regs(), -514) == "pause() = ? ERESTARTNOHAND (To be restarted if no handler)"


def test_json_fields():
    j = make_json(OPENAT)(regs(-100, 0x5000, 0o2000000, 0), -2, {1: b"missing.txt"}, frozenset())
    assert j == {"syscall": "openat", "args": {"dfd": "AT_FDCWD", "dfd_raw": -100 & (2**64 - 1),
                                              "filename": "missing.txt", "filename_raw": 0x5000,
                                              "flags": "O_RDONLY|O_CLOEXEC", "flags_raw": 0o2000000},
                 "ret": -1, "errno": "ENOENT", "error": "No such file or directory", "ret_raw": -2}
    bind = sc("bind", "int fd; struct sockaddr * umyaddr; int addrlen")
    j = make_json(bind)(regs(4, 0x1000, 16), 0, {1: sin("127.0.0.1", 80)}, frozenset())
    assert j["args"]["umyaddr"] == {"sa_family": "AF_INET", "port": 80, "addr": "127.0.0.1"}
    assert j["ret"] == 0 and j["errno"] is None
    ex = sc("execve", "const char * filename; const char *const * argv; const char *const * envp")
    j = make_json(ex)(regs(1, 2, 3), None, {0: b"/bin/ls", 1: b"ls\0-l\0"}, frozenset())
    assert j["args"]["argv"] == ["ls", "-l"] and j["ret"] is None


def test_getrandom_bytes_in_hex():
    s = sc("getrandom", "char * ubuf; size_t len; unsigned int flags")
    got = fmt(s, regs(0x1000, 8, 1), 8, {0: bytes.fromhex("bcbf96a37e503575")})
    assert got == 'getrandom("\\xbc\\xbf\\x96\\xa3\\x7e\\x50\\x35\\x75", 8, GRND_NONBLOCK) = 8'


def test_getdents64_counts_entries():
    s = sc("getdents64", "unsigned int fd; struct linux_dirent64 * dirent; unsigned int count")

    def ent(name: bytes) -> bytes:
        reclen = (19 + len(name) + 1 + 7) & ~7
        return struct.pack("<QqHB", 1, 0, reclen, 4) + name.ljust(reclen - 19, b"\0")

    d = ent(b".") + ent(b"..") + ent(b"certs")
    assert fmt(s, regs(3, 0x5555, 32768), len(d), {1: d}) == \
        "getdents64(3, 0x5555 /* 3 entries */, 32768) = " + str(len(d))
    assert fmt(s, regs(3, 0x5555, 32768), 0) == "getdents64(3, 0x5555 /* 0 entries */, 32768) = 0"
    assert make_json(s)(regs(3, 0x5555, 32768), len(d), {1: d}, frozenset())["args"]["dirent"] == \
        [".", "..", "certs"]


def test_ioctl_requests():
    s = sc("ioctl", "unsigned int fd; unsigned int cmd; unsigned long arg")
    assert fmt(s, regs(1, 0x5401, 0x7FFFFFFFE590), -25) == \
        "ioctl(1, TCGETS, 0x7fffffffe590) = -1 ENOTTY (Inappropriate ioctl for device)"
    assert fmt(s, regs(3, 0x5451, 0), 0) == "ioctl(3, FIOCLEX) = 0"


def test_open_flags_in_strace_order():
    assert fmt(OPENAT, regs(-100, 1, 0o2204000, 0), 3, {1: b"/etc/ssl"}) == \
        'openat(AT_FDCWD, "/etc/ssl", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 3'
    assert fmt(OPENAT, regs(-100, 1, 0o20200002 | 0o2000000 | 0o10000000, 0o600), 3, {1: b"/t"}) == \
        'openat(AT_FDCWD, "/t", O_RDWR|O_CLOEXEC|O_PATH|O_TMPFILE, 0600) = 3'


def test_signal_sets_use_kernel_numbering():
    sa = sc("rt_sigaction", "int sig; const struct sigaction * act; struct sigaction * oact; "
                            "size_t sigsetsize")
    pm = sc("rt_sigprocmask", "int how; sigset_t * nset; sigset_t * oset; size_t sigsetsize")
    full = (1 << 64) - 1
    act = struct.pack("<QQQQ", 0x555555566DC0, 0x04000000, 0x7FFFF7E0E050, full & ~(3 << 31))
    assert fmt(sa, regs(17, 0x1000, 0, 8), 0, {1: act}) == (
        "rt_sigaction(SIGCHLD, {sa_handler=0x555555566dc0, sa_mask=~[RTMIN RT_1], sa_flags=SA_RESTORER, "
        "sa_restorer=0x7ffff7e0e050}, NULL, 8) = 0")
    old = struct.pack("<Q", full & ~(1 << 8 | 1 << 18 | 3 << 31))
    assert fmt(pm, regs(2, 0x1000, 0x2000, 8), 0, {1: bytes(8), 2: old}) == \
        "rt_sigprocmask(SIG_SETMASK, [], ~[KILL STOP RTMIN RT_1], 8) = 0"
    kill = sc("kill", "pid_t pid; int sig")
    assert fmt(kill, regs(1, 34), 0) == "kill(1, SIGRT_2) = 0"


def test_fadvise64():
    s = sc("fadvise64", "int fd; loff_t offset; size_t len; int advice")
    assert fmt(s, regs(0, 0, 0, 2), -29) == \
        "fadvise64(0, 0, 0, POSIX_FADV_SEQUENTIAL) = -1 ESPIPE (Illegal seek)"


def test_cloexec_flags_by_api():
    assert fmt(sc("epoll_create1", "int flags"), regs(0o2000000), 3) == "epoll_create1(EPOLL_CLOEXEC) = 3"
    ev = sc("eventfd2", "unsigned int count; int flags")
    assert fmt(ev, regs(0, 0o2004000), 4) == "eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK) = 4"


def test_sysinfo_like_strace():
    s = sc("sysinfo", "struct sysinfo * info")
    raw = struct.pack("<q3Q6QH6xQQI4x", 4295, 44128, 37376, 34560, 25276063744, 23724072960, 9224192,
                      9490432, 0, 0, 88, 0, 0, 1)
    assert len(raw) == 112
    assert fmt(s, (0x7FFD0000,), 0, {0: raw}) == (
        "sysinfo({uptime=4295, loads=[44128, 37376, 34560], totalram=25276063744, freeram=23724072960,"
        " sharedram=9224192, bufferram=9490432, totalswap=0, freeswap=0, procs=88, totalhigh=0,"
        " freehigh=0, mem_unit=1}) = 0")
