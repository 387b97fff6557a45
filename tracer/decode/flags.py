"""Named constants as strace prints them: bit sets joined with '|', enums by name.

Values come from the stdlib (os, socket, mmap, signal, fcntl, resource) where it has
them; the rest are the x86_64 Linux ABI values. The name lists keep strace's order.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import resource
import signal
import socket
from typing import Any


def _lookup(names: list[str], fallback: dict[str, int], *modules: Any) -> list[tuple[str, int]]:
    """(name, value) for each name: from the first module that has it, else `fallback`."""
    out = []
    for n in names:
        for m in modules:
            # x86_64 userspace defines O_LARGEFILE as 0: the kernel's value is the fallback's
            if hasattr(m, n) and not (getattr(m, n) == 0 and n in fallback):
                out.append((n, int(getattr(m, n))))
                break
        else:
            if n in fallback:
                out.append((n, fallback[n]))
    return out


class Flags:
    """A bit set: `render(v)` gives 'A|B|0x40' (unknown bits as hex), `zero` when v is 0."""

    __slots__ = ("bits", "zero", "cache", "unknown")

    def __init__(self, bits: list[tuple[str, int]], zero: str = "0", unknown: str = "") -> None:
        self.bits = [(n, v) for n, v in bits if v]
        self.zero = zero
        self.unknown = unknown  # strace's comment for a value with no known bit: 0x8 /* ?_OK */
        self.cache: dict[int, str] = {}  # the same few values recur: render each once

    def render(self, v: int) -> str:
        s = self.cache.get(v)
        if s is None:
            s = self._render(v)
            if len(self.cache) < 4096:  # bounded: arbitrary values must not grow it forever
                self.cache[v] = s
        return s

    def _render(self, v: int) -> str:
        if v == 0:
            return self.zero
        parts = []
        rest = v
        for n, b in self.bits:
            if rest & b == b:
                parts.append(n)
                rest &= ~b
        if rest:
            if not parts and self.unknown:
                return f"{hex(rest)} /* {self.unknown} */"
            parts.append(hex(rest))
        return "|".join(parts)

    def names(self, v: int) -> list[str]:
        s = self.render(v)
        return [] if v == 0 and s == "0" else s.split("|")


class Enum:
    """One value among named ones: unknown values print as `default` does (decimal or hex)."""

    __slots__ = ("by_value", "hex", "unknown")

    def __init__(self, pairs: list[tuple[str, int]], hex_unknown: bool = False, unknown: str = "") -> None:
        self.by_value: dict[int, str] = {}
        for n, v in pairs:
            self.by_value.setdefault(v, n)  # the first name listed wins over aliases
        self.hex = hex_unknown
        self.unknown = unknown  # strace's comment for an unknown value: 0x63 /* CLOCK_??? */

    def render(self, v: int) -> str:
        n = self.by_value.get(v)
        if n is not None:
            return n
        if self.unknown:
            return f"{hex(v) if v else 0} /* {self.unknown} */"
        return hex(v) if self.hex else str(v)

    def get(self, v: int) -> str | None:
        return self.by_value.get(v)


# -- files ---------------------------------------------------------------------------------
O_ACCMODE = 3
_O_ACC = Enum(_lookup(["O_RDONLY", "O_WRONLY", "O_RDWR"], {}, os))
# strace's order (xlat/open_mode_flags): not by value. O_SYNC includes O_DSYNC and O_TMPFILE
# includes O_DIRECTORY, so they come first and take those bits.
O_FLAGS = Flags(_lookup(
    ["O_CREAT", "O_EXCL", "O_NOCTTY", "O_TRUNC", "O_APPEND", "O_NONBLOCK", "O_SYNC", "O_DSYNC",
     "O_DIRECT", "O_LARGEFILE", "O_NOFOLLOW", "O_NOATIME", "O_CLOEXEC", "O_PATH", "O_TMPFILE",
     "O_DIRECTORY", "FASYNC"],
    {"O_LARGEFILE": 0o100000, "O_TMPFILE": 0o20200000, "FASYNC": 0o20000}, os))
O_CREAT = os.O_CREAT
O_TMPFILE_BIT = 0o20000000


def open_flags(v: int) -> str:
    """O_RDONLY|O_CLOEXEC: the access mode always shows, then the other bits."""
    acc = v & O_ACCMODE
    rest = v & ~O_ACCMODE
    head = _O_ACC.render(acc) if acc != 3 else "O_ACCMODE"
    return f"{head}|{O_FLAGS.render(rest)}" if rest else head


AT_FDCWD = -100
AT_FLAGS = Flags([("AT_SYMLINK_NOFOLLOW", 0x100), ("AT_REMOVEDIR", 0x200), ("AT_SYMLINK_FOLLOW", 0x400),
                  ("AT_NO_AUTOMOUNT", 0x800), ("AT_EMPTY_PATH", 0x1000), ("AT_RECURSIVE", 0x8000)])
AT_EACCESS_FLAGS = Flags([("AT_SYMLINK_NOFOLLOW", 0x100), ("AT_EACCESS", 0x200),
                          ("AT_EMPTY_PATH", 0x1000)])
AT_STATX_SYNC = Enum([("AT_STATX_SYNC_AS_STAT", 0), ("AT_STATX_FORCE_SYNC", 0x2000),
                      ("AT_STATX_DONT_SYNC", 0x4000)])
STATX_MASK = Flags([("STATX_TYPE", 1), ("STATX_MODE", 2), ("STATX_NLINK", 4), ("STATX_UID", 8),
                    ("STATX_GID", 0x10), ("STATX_ATIME", 0x20), ("STATX_MTIME", 0x40),
                    ("STATX_CTIME", 0x80), ("STATX_INO", 0x100), ("STATX_SIZE", 0x200),
                    ("STATX_BLOCKS", 0x400), ("STATX_BTIME", 0x800), ("STATX_MNT_ID", 0x1000),
                    ("STATX_DIOALIGN", 0x2000)])
STATX_BASIC_STATS = 0x7FF
STATX_ATTRS = Flags([("STATX_ATTR_COMPRESSED", 0x4), ("STATX_ATTR_IMMUTABLE", 0x10),
                     ("STATX_ATTR_APPEND", 0x20), ("STATX_ATTR_NODUMP", 0x40),
                     ("STATX_ATTR_ENCRYPTED", 0x800), ("STATX_ATTR_AUTOMOUNT", 0x1000),
                     ("STATX_ATTR_MOUNT_ROOT", 0x2000), ("STATX_ATTR_VERITY", 0x100000),
                     ("STATX_ATTR_DAX", 0x200000)])


def statx_mask(v: int) -> str:
    if v & STATX_BASIC_STATS == STATX_BASIC_STATS:
        rest = v & ~STATX_BASIC_STATS
        return "STATX_BASIC_STATS" + (f"|{STATX_MASK.render(rest)}" if rest else "")
    return STATX_MASK.render(v)


def statx_flags(v: int) -> str:
    sync = v & 0x6000
    rest = v & ~0x6000
    head = AT_STATX_SYNC.render(sync)
    return f"{head}|{AT_FLAGS.render(rest)}" if rest else head


ACCESS_MODE = Flags(_lookup(["R_OK", "W_OK", "X_OK"], {}, os), zero="F_OK")
SEEK = Enum(_lookup(["SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"], {}, os))
FCNTL_CMD = Enum(_lookup(
    ["F_DUPFD", "F_GETFD", "F_SETFD", "F_GETFL", "F_SETFL", "F_GETLK", "F_SETLK", "F_SETLKW",
     "F_SETOWN", "F_GETOWN", "F_SETSIG", "F_GETSIG", "F_SETOWN_EX", "F_GETOWN_EX", "F_OFD_GETLK",
     "F_OFD_SETLK", "F_OFD_SETLKW", "F_SETLEASE", "F_GETLEASE", "F_NOTIFY", "F_DUPFD_CLOEXEC",
     "F_SETPIPE_SZ", "F_GETPIPE_SZ", "F_ADD_SEALS", "F_GET_SEALS"],
    {"F_SETOWN_EX": 15, "F_GETOWN_EX": 16}, fcntl))
FD_FLAGS = Flags([("FD_CLOEXEC", 1)])
LOCK_OPS = Flags([("LOCK_SH", 1), ("LOCK_EX", 2), ("LOCK_NB", 4), ("LOCK_UN", 8)])
# pipe2, dup3, eventfd2, inotify_init1, signalfd4, epoll_create1: O_CLOEXEC/O_NONBLOCK only
CLOEXEC_FLAGS = Flags(_lookup(["O_NONBLOCK", "O_CLOEXEC", "O_DIRECT"], {}, os))
# the same O_CLOEXEC/O_NONBLOCK bits under each API's own names
EPOLL_FLAGS = Flags([("EPOLL_CLOEXEC", 0o2000000)])
EFD_FLAGS = Flags([("EFD_SEMAPHORE", 1), ("EFD_CLOEXEC", 0o2000000), ("EFD_NONBLOCK", 0o4000)])
IN_FLAGS = Flags([("IN_NONBLOCK", 0o4000), ("IN_CLOEXEC", 0o2000000)])
TFD_FLAGS = Flags([("TFD_CLOEXEC", 0o2000000), ("TFD_NONBLOCK", 0o4000)])
RENAME_FLAGS = Flags([("RENAME_NOREPLACE", 1), ("RENAME_EXCHANGE", 2), ("RENAME_WHITEOUT", 4)])

# -- memory --------------------------------------------------------------------------------
PROT = Flags(_lookup(["PROT_READ", "PROT_WRITE", "PROT_EXEC", "PROT_SEM", "PROT_GROWSDOWN",
                      "PROT_GROWSUP"], {"PROT_SEM": 8, "PROT_GROWSDOWN": 0x01000000,
                                        "PROT_GROWSUP": 0x02000000}, mmap), zero="PROT_NONE")
_MAP_TYPE = Enum([("MAP_FILE", 0), ("MAP_SHARED", 1), ("MAP_PRIVATE", 2), ("MAP_SHARED_VALIDATE", 3)],
                 hex_unknown=True)
MAP_FLAGS = Flags([("MAP_FIXED", 0x10), ("MAP_ANONYMOUS", 0x20), ("MAP_32BIT", 0x40),
                   ("MAP_NORESERVE", 0x4000), ("MAP_POPULATE", 0x8000), ("MAP_NONBLOCK", 0x10000),
                   ("MAP_GROWSDOWN", 0x100), ("MAP_DENYWRITE", 0x800), ("MAP_EXECUTABLE", 0x1000),
                   ("MAP_LOCKED", 0x2000), ("MAP_STACK", 0x20000), ("MAP_HUGETLB", 0x40000),
                   ("MAP_SYNC", 0x80000), ("MAP_FIXED_NOREPLACE", 0x100000)])
_MAP_HUGE_SHIFT = 26


def mmap_flags(v: int) -> str:
    """MAP_PRIVATE|MAP_FIXED|...: the mapping type (MAP_FILE when none), the flags in strace's
    order, the page size."""
    parts = [_MAP_TYPE.render(v & 3)]
    huge = (v >> _MAP_HUGE_SHIFT) & 0x3F
    rest = v & ~3 & ~(0x3F << _MAP_HUGE_SHIFT)
    if rest:
        parts.append(MAP_FLAGS.render(rest))
    if huge:
        parts.append(f"{huge}<<MAP_HUGE_SHIFT")
    return "|".join(parts)


MADV = Enum(_lookup(["MADV_NORMAL", "MADV_RANDOM", "MADV_SEQUENTIAL", "MADV_WILLNEED", "MADV_DONTNEED",
                     "MADV_FREE", "MADV_REMOVE", "MADV_DONTFORK", "MADV_DOFORK", "MADV_MERGEABLE",
                     "MADV_UNMERGEABLE", "MADV_HUGEPAGE", "MADV_NOHUGEPAGE", "MADV_DONTDUMP",
                     "MADV_DODUMP", "MADV_WIPEONFORK", "MADV_KEEPONFORK", "MADV_COLD",
                     "MADV_PAGEOUT", "MADV_HWPOISON"],
                    {"MADV_WIPEONFORK": 18, "MADV_KEEPONFORK": 19, "MADV_COLD": 20, "MADV_PAGEOUT": 21},
                    mmap))
MREMAP = Flags([("MREMAP_MAYMOVE", 1), ("MREMAP_FIXED", 2), ("MREMAP_DONTUNMAP", 4)])

# -- sockets -------------------------------------------------------------------------------
AF = Enum([(n, int(getattr(socket, n))) for n in
           ["AF_UNSPEC", "AF_UNIX", "AF_INET", "AF_AX25", "AF_IPX", "AF_APPLETALK", "AF_NETROM",
            "AF_BRIDGE", "AF_X25", "AF_INET6", "AF_ROSE", "AF_DECnet", "AF_SECURITY", "AF_KEY",
            "AF_NETLINK", "AF_PACKET", "AF_ECONET", "AF_ATMSVC", "AF_RDS", "AF_IRDA", "AF_PPPOX",
            "AF_WANPIPE", "AF_LLC", "AF_CAN", "AF_TIPC", "AF_BLUETOOTH", "AF_IUCV", "AF_RXRPC",
            "AF_ISDN", "AF_PHONET", "AF_IEEE802154", "AF_CAIF", "AF_ALG", "AF_NFC", "AF_VSOCK",
            "AF_KCM", "AF_QIPCRTR", "AF_SMC", "AF_XDP"] if hasattr(socket, n)], unknown="AF_???")
SOCK_TYPE = Enum(_lookup(["SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET",
                          "SOCK_DCCP", "SOCK_PACKET"], {"SOCK_DCCP": 6, "SOCK_PACKET": 10}, socket))
SOCK_FLAGS = Flags(_lookup(["SOCK_CLOEXEC", "SOCK_NONBLOCK"], {}, socket))


def socket_type(v: int) -> str:
    head = SOCK_TYPE.render(v & 0xF)
    rest = v & ~0xF
    return f"{head}|{SOCK_FLAGS.render(rest)}" if rest else head


IPPROTO = Enum(_lookup(["IPPROTO_IP", "IPPROTO_ICMP", "IPPROTO_IGMP", "IPPROTO_IPIP", "IPPROTO_TCP",
                        "IPPROTO_EGP", "IPPROTO_PUP", "IPPROTO_UDP", "IPPROTO_IDP", "IPPROTO_TP",
                        "IPPROTO_DCCP", "IPPROTO_IPV6", "IPPROTO_RSVP", "IPPROTO_GRE", "IPPROTO_ESP",
                        "IPPROTO_AH", "IPPROTO_ICMPV6", "IPPROTO_MTP", "IPPROTO_BEETPH",
                        "IPPROTO_ENCAP", "IPPROTO_PIM", "IPPROTO_COMP", "IPPROTO_L2TP",
                        "IPPROTO_SCTP", "IPPROTO_UDPLITE", "IPPROTO_MPLS", "IPPROTO_ETHERNET",
                        "IPPROTO_RAW", "IPPROTO_MPTCP"], {"IPPROTO_MPTCP": 262}, socket))
NETLINK = Enum([("NETLINK_ROUTE", 0), ("NETLINK_UNUSED", 1), ("NETLINK_USERSOCK", 2),
                ("NETLINK_FIREWALL", 3), ("NETLINK_SOCK_DIAG", 4), ("NETLINK_NFLOG", 5),
                ("NETLINK_XFRM", 6), ("NETLINK_SELINUX", 7), ("NETLINK_ISCSI", 8), ("NETLINK_AUDIT", 9),
                ("NETLINK_FIB_LOOKUP", 10), ("NETLINK_CONNECTOR", 11), ("NETLINK_NETFILTER", 12),
                ("NETLINK_IP6_FW", 13), ("NETLINK_DNRTMSG", 14), ("NETLINK_KOBJECT_UEVENT", 15),
                ("NETLINK_GENERIC", 16)])
MSG = Flags(_lookup(["MSG_OOB", "MSG_PEEK", "MSG_DONTROUTE", "MSG_CTRUNC", "MSG_PROXY", "MSG_TRUNC",
                     "MSG_DONTWAIT", "MSG_EOR", "MSG_WAITALL", "MSG_FIN", "MSG_SYN", "MSG_CONFIRM",
                     "MSG_RST", "MSG_ERRQUEUE", "MSG_NOSIGNAL", "MSG_MORE", "MSG_WAITFORONE",
                     "MSG_BATCH", "MSG_ZEROCOPY", "MSG_FASTOPEN", "MSG_CMSG_CLOEXEC"],
                    {"MSG_PROXY": 0x10, "MSG_FIN": 0x200, "MSG_SYN": 0x400, "MSG_RST": 0x1000,
                     "MSG_WAITFORONE": 0x10000, "MSG_BATCH": 0x40000, "MSG_ZEROCOPY": 0x4000000},
                    socket))
SHUT = Enum(_lookup(["SHUT_RD", "SHUT_WR", "SHUT_RDWR"], {}, socket))
SOL = Enum([("SOL_IP", 0), ("SOL_SOCKET", 1), ("SOL_TCP", 6), ("SOL_UDP", 17), ("SOL_IPV6", 41),
            ("SOL_ICMPV6", 58), ("SOL_RAW", 255), ("SOL_NETLINK", 270), ("SOL_PACKET", 263)])
SO = Enum(_lookup(["SO_DEBUG", "SO_REUSEADDR", "SO_TYPE", "SO_ERROR", "SO_DONTROUTE", "SO_BROADCAST",
                   "SO_SNDBUF", "SO_RCVBUF", "SO_KEEPALIVE", "SO_OOBINLINE", "SO_NO_CHECK",
                   "SO_PRIORITY", "SO_LINGER", "SO_BSDCOMPAT", "SO_REUSEPORT", "SO_PASSCRED",
                   "SO_PEERCRED", "SO_RCVLOWAT", "SO_SNDLOWAT", "SO_RCVTIMEO_OLD", "SO_SNDTIMEO_OLD",
                   "SO_BINDTODEVICE", "SO_TIMESTAMP_OLD", "SO_ACCEPTCONN", "SO_PEERSEC",
                   "SO_SNDBUFFORCE", "SO_RCVBUFFORCE", "SO_PASSSEC", "SO_MARK", "SO_PROTOCOL",
                   "SO_DOMAIN", "SO_RXQ_OVFL", "SO_BUSY_POLL", "SO_INCOMING_CPU", "SO_ZEROCOPY"],
                  {"SO_NO_CHECK": 11, "SO_BSDCOMPAT": 14, "SO_RCVTIMEO_OLD": 20, "SO_SNDTIMEO_OLD": 21,
                   "SO_TIMESTAMP_OLD": 29, "SO_PEERSEC": 31, "SO_SNDBUFFORCE": 32,
                   "SO_RCVBUFFORCE": 33, "SO_PASSSEC": 34, "SO_RXQ_OVFL": 40, "SO_BUSY_POLL": 46,
                   "SO_INCOMING_CPU": 49, "SO_ZEROCOPY": 60}, socket))
TCP = Enum(_lookup(["TCP_NODELAY", "TCP_MAXSEG", "TCP_CORK", "TCP_KEEPIDLE", "TCP_KEEPINTVL",
                    "TCP_KEEPCNT", "TCP_SYNCNT", "TCP_LINGER2", "TCP_DEFER_ACCEPT", "TCP_WINDOW_CLAMP",
                    "TCP_INFO", "TCP_QUICKACK", "TCP_CONGESTION", "TCP_USER_TIMEOUT",
                    "TCP_FASTOPEN"], {}, socket))

# -- processes and signals -----------------------------------------------------------------
SIGNALS: dict[int, str] = {}
for _s in signal.Signals:
    # the stdlib names SIGIOT/SIGABRT, SIGCLD/SIGCHLD ...: keep strace's (the Signals enum's canonical)
    if int(_s) < 32:
        SIGNALS.setdefault(int(_s), _s.name)
# Real-time signals by the kernel's numbering, as strace names them: glibc's SIGRTMIN (34, what
# the stdlib reports) is the kernel's SIGRT_2.
SIGNALS[32] = "SIGRTMIN"
for _i in range(1, 33):
    SIGNALS[32 + _i] = f"SIGRT_{_i}"


def signame(v: int) -> str:
    """SIGTERM; 0 and unknown numbers as decimal."""
    return SIGNALS.get(v) or str(v)


CLONE_FLAGS = Flags([("CLONE_VM", 0x100), ("CLONE_FS", 0x200), ("CLONE_FILES", 0x400),
                     ("CLONE_SIGHAND", 0x800), ("CLONE_PIDFD", 0x1000), ("CLONE_PTRACE", 0x2000),
                     ("CLONE_VFORK", 0x4000), ("CLONE_PARENT", 0x8000), ("CLONE_THREAD", 0x10000),
                     ("CLONE_NEWNS", 0x20000), ("CLONE_SYSVSEM", 0x40000), ("CLONE_SETTLS", 0x80000),
                     ("CLONE_PARENT_SETTID", 0x100000), ("CLONE_CHILD_CLEARTID", 0x200000),
                     ("CLONE_DETACHED", 0x400000), ("CLONE_UNTRACED", 0x800000),
                     ("CLONE_CHILD_SETTID", 0x1000000), ("CLONE_NEWCGROUP", 0x2000000),
                     ("CLONE_NEWUTS", 0x4000000), ("CLONE_NEWIPC", 0x8000000),
                     ("CLONE_NEWUSER", 0x10000000), ("CLONE_NEWPID", 0x20000000),
                     ("CLONE_NEWNET", 0x40000000), ("CLONE_IO", 0x80000000)])


def clone_flags(v: int) -> str:
    sig = v & 0xFF
    rest = v & ~0xFF
    parts = [CLONE_FLAGS.render(rest)] if rest else []
    if sig:
        parts.append(signame(sig))
    return "|".join(parts) or "0"


WAIT_OPTS = Flags(_lookup(["WNOHANG", "WUNTRACED", "WEXITED", "WCONTINUED", "WNOWAIT", "__WNOTHREAD",
                           "__WALL", "__WCLONE"],
                          {"__WNOTHREAD": 0x20000000, "__WALL": 0x40000000, "__WCLONE": 0x80000000}, os))
SIGPROCMASK_HOW = Enum([("SIG_BLOCK", 0), ("SIG_UNBLOCK", 1), ("SIG_SETMASK", 2)])
RLIMIT = Enum(_lookup(["RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
                       "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",
                       "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
                       "RLIMIT_RTPRIO", "RLIMIT_RTTIME"], {"RLIMIT_LOCKS": 10}, resource))
ARCH_PRCTL = Enum([("ARCH_SET_GS", 0x1001), ("ARCH_SET_FS", 0x1002), ("ARCH_GET_FS", 0x1003),
                   ("ARCH_GET_GS", 0x1004), ("ARCH_GET_CPUID", 0x1011), ("ARCH_SET_CPUID", 0x1012),
                   ("ARCH_GET_XCOMP_SUPP", 0x1021), ("ARCH_GET_XCOMP_PERM", 0x1022),
                   ("ARCH_REQ_XCOMP_PERM", 0x1023), ("ARCH_SHSTK_ENABLE", 0x5001),
                   ("ARCH_SHSTK_DISABLE", 0x5002), ("ARCH_SHSTK_STATUS", 0x5005)], hex_unknown=True)
CLOCKS = Enum([("CLOCK_REALTIME", 0), ("CLOCK_MONOTONIC", 1), ("CLOCK_PROCESS_CPUTIME_ID", 2),
               ("CLOCK_THREAD_CPUTIME_ID", 3), ("CLOCK_MONOTONIC_RAW", 4), ("CLOCK_REALTIME_COARSE", 5),
               ("CLOCK_MONOTONIC_COARSE", 6), ("CLOCK_BOOTTIME", 7), ("CLOCK_REALTIME_ALARM", 8),
               ("CLOCK_BOOTTIME_ALARM", 9), ("CLOCK_TAI", 11)])
TIMER_FLAGS = Flags([("TIMER_ABSTIME", 1)])
GRND = Flags(_lookup(["GRND_NONBLOCK", "GRND_RANDOM", "GRND_INSECURE"], {"GRND_INSECURE": 4}, os))
PERSONALITY = Enum([("PER_LINUX", 0), ("PER_LINUX_32BIT", 0x800000), ("PER_SVR4", 0x4000001),
                    ("PER_LINUX32", 8)], hex_unknown=True)
PERSONALITY_FLAGS = Flags([("UNAME26", 0x20000), ("ADDR_NO_RANDOMIZE", 0x40000),
                           ("FDPIC_FUNCPTRS", 0x80000), ("MMAP_PAGE_ZERO", 0x100000),
                           ("ADDR_COMPAT_LAYOUT", 0x200000), ("READ_IMPLIES_EXEC", 0x400000),
                           ("ADDR_LIMIT_32BIT", 0x800000), ("SHORT_INODE", 0x1000000),
                           ("WHOLE_SECONDS", 0x2000000), ("STICKY_TIMEOUTS", 0x4000000),
                           ("ADDR_LIMIT_3GB", 0x8000000)])


def personality(v: int) -> str:
    head = PERSONALITY.render(v & 0xFF)
    rest = v & ~0xFF & 0xFFFFFFFF
    return f"{head}|{PERSONALITY_FLAGS.render(rest)}" if rest else head


FUTEX_OPS = Enum([("FUTEX_WAIT", 0), ("FUTEX_WAKE", 1), ("FUTEX_FD", 2), ("FUTEX_REQUEUE", 3),
                  ("FUTEX_CMP_REQUEUE", 4), ("FUTEX_WAKE_OP", 5), ("FUTEX_LOCK_PI", 6),
                  ("FUTEX_UNLOCK_PI", 7), ("FUTEX_TRYLOCK_PI", 8), ("FUTEX_WAIT_BITSET", 9),
                  ("FUTEX_WAKE_BITSET", 10), ("FUTEX_WAIT_REQUEUE_PI", 11),
                  ("FUTEX_CMP_REQUEUE_PI", 12), ("FUTEX_LOCK_PI2", 13)])


def futex_op(v: int) -> str:
    s = FUTEX_OPS.render(v & 0x7F)
    if v & 128:
        s += "_PRIVATE"
    if v & 256:
        s = "FUTEX_CLOCK_REALTIME|" + s
    return s


FADVISE = Enum(_lookup(["POSIX_FADV_NORMAL", "POSIX_FADV_RANDOM", "POSIX_FADV_SEQUENTIAL",
                        "POSIX_FADV_WILLNEED", "POSIX_FADV_DONTNEED", "POSIX_FADV_NOREUSE"], {}, os))

# -- ioctl --------------------------------------------------------------------------------
IOCTLS = Enum([("TCGETS", 0x5401), ("TCSETS", 0x5402), ("TCSETSW", 0x5403), ("TCSETSF", 0x5404),
               ("TCSBRK", 0x5409), ("TCXONC", 0x540A), ("TCFLSH", 0x540B), ("TIOCEXCL", 0x540C),
               ("TIOCNXCL", 0x540D), ("TIOCSCTTY", 0x540E), ("TIOCGPGRP", 0x540F),
               ("TIOCSPGRP", 0x5410), ("TIOCOUTQ", 0x5411), ("TIOCSTI", 0x5412), ("TIOCGWINSZ", 0x5413),
               ("TIOCSWINSZ", 0x5414), ("TIOCMGET", 0x5415), ("FIONREAD", 0x541B),
               ("TIOCLINUX", 0x541C), ("TIOCCONS", 0x541D), ("FIONBIO", 0x5421), ("TIOCNOTTY", 0x5422),
               ("TIOCGSID", 0x5429), ("TIOCGPTN", 0x80045430), ("TIOCSPTLCK", 0x40045431),
               ("TIOCGPTPEER", 0x5441), ("FIONCLEX", 0x5450), ("FIOCLEX", 0x5451),
               ("FIOASYNC", 0x5452), ("FIOQSIZE", 0x5460), ("SIOCGIFCONF", 0x8912),
               ("SIOCGIFFLAGS", 0x8913), ("SIOCGIFINDEX", 0x8933), ("FICLONE", 0x40049409),
               ("BLKGETSIZE64", 0x80081272), ("FS_IOC_GETFLAGS", 0x80086601)])
IOCTL_NO_ARG = frozenset({0x5450, 0x5451, 0x540C, 0x540D, 0x5422})
_IOC_DIR = {0: "_IOC_NONE", 1: "_IOC_WRITE", 2: "_IOC_READ", 3: "_IOC_READ|_IOC_WRITE"}


def ioctl_cmd(v: int) -> str:
    """A known request by name, any other as strace decomposes it: _IOC(dir, type, nr, size)."""
    n = IOCTLS.get(v)
    if n is not None:
        return n
    size = (v >> 16) & 0x3FFF
    return f"_IOC({_IOC_DIR[v >> 30 & 3]}, {(v >> 8) & 0xFF:#x}, {v & 0xFF:#x}, {size:#x})" \
        if size else f"_IOC({_IOC_DIR[v >> 30 & 3]}, {(v >> 8) & 0xFF:#x}, {v & 0xFF:#x}, 0)"


# -- errno ---------------------------------------------------------------------------------
# The stdlib's errorcode picks an alias for a few numbers; strace prints the primary name.
ERRNO_NAMES: dict[int, str] = dict(errno.errorcode)
ERRNO_NAMES.update({errno.EDEADLK: "EDEADLK", errno.EOPNOTSUPP: "EOPNOTSUPP", errno.EAGAIN: "EAGAIN"})
# Kernel-internal codes a traced call can return when a signal interrupts it.
KERNEL_ERRNO = {512: ("ERESTARTSYS", "To be restarted if SA_RESTART is set"),
                513: ("ERESTARTNOINTR", "To be restarted"),
                514: ("ERESTARTNOHAND", "To be restarted if no handler"),
                515: ("ENOIOCTLCMD", "No ioctl command"),
                516: ("ERESTART_RESTARTBLOCK", "Interrupted by signal"),
                517: ("EPROBE_DEFER", "Requested probe deferral"),
                518: ("EOPENSTALE", "Open stale"),
                519: ("ENOPARAM", "Parameter not supported")}


# -- more constants, in strace's order -----------------------------------------------------
UMOUNT = Flags([("MNT_FORCE", 1), ("MNT_DETACH", 2), ("MNT_EXPIRE", 4), ("UMOUNT_NOFOLLOW", 8)],
               unknown="MNT_???")
XATTR = Flags([("XATTR_CREATE", 1), ("XATTR_REPLACE", 2)], unknown="XATTR_???")
MLOCK2 = Flags([("MLOCK_ONFAULT", 1)], unknown="MLOCK_???")
MCL = Flags([("MCL_CURRENT", 1), ("MCL_FUTURE", 2), ("MCL_ONFAULT", 4)], unknown="MCL_???")
MS = Flags([("MS_ASYNC", 1), ("MS_INVALIDATE", 2), ("MS_SYNC", 4)], unknown="MS_???")
MPOL = Enum([("MPOL_DEFAULT", 0), ("MPOL_PREFERRED", 1), ("MPOL_BIND", 2), ("MPOL_INTERLEAVE", 3),
             ("MPOL_LOCAL", 4), ("MPOL_PREFERRED_MANY", 5)], unknown="MPOL_???")
MEMBARRIER = Flags([("MEMBARRIER_CMD_GLOBAL", 1), ("MEMBARRIER_CMD_GLOBAL_EXPEDITED", 2),
                    ("MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED", 4),
                    ("MEMBARRIER_CMD_PRIVATE_EXPEDITED", 8),
                    ("MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED", 16),
                    ("MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE", 32),
                    ("MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE", 64),
                    ("MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ", 128),
                    ("MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ", 256),
                    ("MEMBARRIER_CMD_GET_REGISTRATIONS", 512)], zero="MEMBARRIER_CMD_QUERY",
                   unknown="MEMBARRIER_CMD_???")
PRIO_WHICH = Enum([("PRIO_PROCESS", 0), ("PRIO_PGRP", 1), ("PRIO_USER", 2)], unknown="PRIO_???")
RUSAGE_WHO = Enum([("RUSAGE_SELF", 0), ("RUSAGE_CHILDREN", 0xFFFFFFFF), ("RUSAGE_THREAD", 1)],
                  unknown="RUSAGE_???")
SCHED_POLICY = Enum([("SCHED_OTHER", 0), ("SCHED_FIFO", 1), ("SCHED_RR", 2), ("SCHED_BATCH", 3),
                     ("SCHED_ISO", 4), ("SCHED_IDLE", 5), ("SCHED_DEADLINE", 6)], unknown="SCHED_???")
KCMP = Enum([("KCMP_FILE", 0), ("KCMP_VM", 1), ("KCMP_FILES", 2), ("KCMP_FS", 3), ("KCMP_SIGHAND", 4),
             ("KCMP_IO", 5), ("KCMP_SYSVSEM", 6), ("KCMP_EPOLL_TFD", 7)], unknown="KCMP_???")
ITIMER = Enum([("ITIMER_REAL", 0), ("ITIMER_VIRTUAL", 1), ("ITIMER_PROF", 2)], unknown="ITIMER_???")
IOPRIO_WHO = Enum([("IOPRIO_WHO_PROCESS", 1), ("IOPRIO_WHO_PGRP", 2), ("IOPRIO_WHO_USER", 3)],
                  unknown="IOPRIO_WHO_???")
IOPRIO_CLASS = Enum([("IOPRIO_CLASS_NONE", 0), ("IOPRIO_CLASS_RT", 1), ("IOPRIO_CLASS_BE", 2),
                     ("IOPRIO_CLASS_IDLE", 3)], unknown="IOPRIO_CLASS_???")


def ioprio(v: int) -> str:
    return f"IOPRIO_PRIO_VALUE({IOPRIO_CLASS.render(v >> 13 & 7)}, {v & 0x1FFF})"


SECCOMP_OP = Enum([("SECCOMP_SET_MODE_STRICT", 0), ("SECCOMP_SET_MODE_FILTER", 1),
                   ("SECCOMP_GET_ACTION_AVAIL", 2), ("SECCOMP_GET_NOTIF_SIZES", 3)],
                  unknown="SECCOMP_SET_MODE_???")
PTRACE = Enum([("PTRACE_TRACEME", 0), ("PTRACE_PEEKTEXT", 1), ("PTRACE_PEEKDATA", 2), ("PTRACE_PEEKUSER", 3),
               ("PTRACE_POKETEXT", 4), ("PTRACE_POKEDATA", 5), ("PTRACE_POKEUSER", 6), ("PTRACE_CONT", 7),
               ("PTRACE_KILL", 8), ("PTRACE_SINGLESTEP", 9), ("PTRACE_GETREGS", 12), ("PTRACE_SETREGS", 13),
               ("PTRACE_ATTACH", 16), ("PTRACE_DETACH", 17), ("PTRACE_SYSCALL", 24),
               ("PTRACE_SETOPTIONS", 0x4200), ("PTRACE_GETEVENTMSG", 0x4201), ("PTRACE_GETSIGINFO", 0x4202),
               ("PTRACE_SETSIGINFO", 0x4203), ("PTRACE_SEIZE", 0x4206), ("PTRACE_INTERRUPT", 0x4207),
               ("PTRACE_LISTEN", 0x4208)], unknown="PTRACE_???")
EPOLL_CTL = Enum([("EPOLL_CTL_ADD", 1), ("EPOLL_CTL_DEL", 2), ("EPOLL_CTL_MOD", 3)], unknown="EPOLL_CTL_???")
EPOLL_EVENTS = Flags([("EPOLLIN", 1), ("EPOLLPRI", 2), ("EPOLLOUT", 4), ("EPOLLERR", 8), ("EPOLLHUP", 0x10),
                      ("EPOLLNVAL", 0x20), ("EPOLLRDNORM", 0x40), ("EPOLLRDBAND", 0x80),
                      ("EPOLLWRNORM", 0x100), ("EPOLLWRBAND", 0x200), ("EPOLLMSG", 0x400),
                      ("EPOLLRDHUP", 0x2000), ("EPOLLURING_WAKE", 1 << 27), ("EPOLLEXCLUSIVE", 1 << 28),
                      ("EPOLLWAKEUP", 1 << 29), ("EPOLLONESHOT", 1 << 30), ("EPOLLET", 1 << 31)],
                     unknown="EPOLL???")
POLL_EVENTS = Flags([("POLLIN", 1), ("POLLPRI", 2), ("POLLOUT", 4), ("POLLERR", 8), ("POLLHUP", 0x10),
                     ("POLLNVAL", 0x20), ("POLLRDNORM", 0x40), ("POLLRDBAND", 0x80), ("POLLWRNORM", 0x100),
                     ("POLLWRBAND", 0x200), ("POLLMSG", 0x400), ("POLLREMOVE", 0x1000),
                     ("POLLRDHUP", 0x2000)], unknown="POLL???")
IN_EVENTS = Flags([("IN_ACCESS", 1), ("IN_MODIFY", 2), ("IN_ATTRIB", 4), ("IN_CLOSE_WRITE", 8),
                   ("IN_CLOSE_NOWRITE", 0x10), ("IN_OPEN", 0x20), ("IN_MOVED_FROM", 0x40),
                   ("IN_MOVED_TO", 0x80), ("IN_CREATE", 0x100), ("IN_DELETE", 0x200),
                   ("IN_DELETE_SELF", 0x400), ("IN_MOVE_SELF", 0x800), ("IN_UNMOUNT", 0x2000),
                   ("IN_Q_OVERFLOW", 0x4000), ("IN_IGNORED", 0x8000), ("IN_ONLYDIR", 0x1000000),
                   ("IN_DONT_FOLLOW", 0x2000000), ("IN_EXCL_UNLINK", 0x4000000),
                   ("IN_MASK_CREATE", 0x10000000), ("IN_MASK_ADD", 0x20000000), ("IN_ISDIR", 0x40000000),
                   ("IN_ONESHOT", 0x80000000)], unknown="IN_???")
MFD = Flags([("MFD_CLOEXEC", 1), ("MFD_ALLOW_SEALING", 2), ("MFD_HUGETLB", 4), ("MFD_NOEXEC_SEAL", 8),
             ("MFD_EXEC", 0x10)], unknown="MFD_???")
SFD_FLAGS = Flags([("SFD_CLOEXEC", 0o2000000), ("SFD_NONBLOCK", 0o4000)], unknown="SFD_???")
TFD_SETTIME = Flags([("TFD_TIMER_ABSTIME", 1), ("TFD_TIMER_CANCEL_ON_SET", 2)], unknown="TFD_???")
SEM_FLAGS = Flags([("SEM_UNDO", 0x1000), ("IPC_NOWAIT", 0o4000)])
IPC_CMD = Enum([("IPC_RMID", 0), ("IPC_SET", 1), ("IPC_STAT", 2), ("IPC_INFO", 3)], unknown="IPC_???")
SPLICE = Flags([("SPLICE_F_MOVE", 1), ("SPLICE_F_NONBLOCK", 2), ("SPLICE_F_MORE", 4), ("SPLICE_F_GIFT", 8)],
               unknown="SPLICE_F_???")
SYSLOG = Enum([("SYSLOG_ACTION_CLOSE", 0), ("SYSLOG_ACTION_OPEN", 1), ("SYSLOG_ACTION_READ", 2),
               ("SYSLOG_ACTION_READ_ALL", 3), ("SYSLOG_ACTION_READ_CLEAR", 4), ("SYSLOG_ACTION_CLEAR", 5),
               ("SYSLOG_ACTION_CONSOLE_OFF", 6), ("SYSLOG_ACTION_CONSOLE_ON", 7),
               ("SYSLOG_ACTION_CONSOLE_LEVEL", 8), ("SYSLOG_ACTION_SIZE_UNREAD", 9),
               ("SYSLOG_ACTION_SIZE_BUFFER", 10)], unknown="SYSLOG_ACTION_???")
BPF_CMD = Enum([("BPF_MAP_CREATE", 0), ("BPF_MAP_LOOKUP_ELEM", 1), ("BPF_MAP_UPDATE_ELEM", 2),
                ("BPF_MAP_DELETE_ELEM", 3), ("BPF_MAP_GET_NEXT_KEY", 4), ("BPF_PROG_LOAD", 5)],
               unknown="BPF_???")
KEYCTL = Enum([("KEYCTL_GET_KEYRING_ID", 0), ("KEYCTL_JOIN_SESSION_KEYRING", 1), ("KEYCTL_UPDATE", 2),
               ("KEYCTL_REVOKE", 3), ("KEYCTL_CHOWN", 4), ("KEYCTL_SETPERM", 5), ("KEYCTL_DESCRIBE", 6),
               ("KEYCTL_CLEAR", 7), ("KEYCTL_LINK", 8), ("KEYCTL_UNLINK", 9), ("KEYCTL_SEARCH", 10),
               ("KEYCTL_READ", 11)], unknown="KEYCTL_???")
UFFD = Flags([("UFFD_USER_MODE_ONLY", 1), ("O_NONBLOCK", 0o4000), ("O_CLOEXEC", 0o2000000)])
LOCK_OPS.unknown = "LOCK_???"
SEEK.unknown = "SEEK_???"
ACCESS_MODE.unknown = "?_OK"
AT_FLAGS.unknown = "AT_???"
AT_EACCESS_FLAGS.unknown = "AT_???"
RLIMIT.unknown = "RLIMIT_???"
CLOCKS.unknown = "CLOCK_???"
ARCH_PRCTL.unknown = "ARCH_???"
MADV.unknown = "MADV_???"
FADVISE.unknown = "POSIX_FADV_???"
SHUT.unknown = "SHUT_???"
SIGPROCMASK_HOW.unknown = "SIG_???"
FCNTL_CMD.unknown = "F_???"
RENAME_FLAGS.unknown = "RENAME_???"
MREMAP.unknown = "MREMAP_???"
PROT.unknown = "PROT_???"
GRND.unknown = "GRND_???"
TIMER_FLAGS.unknown = "TIMER_???"
WAIT_OPTS.unknown = "W???"
SOCK_FLAGS.unknown = "SOCK_???"
MSG.unknown = "MSG_???"
EFD_FLAGS.unknown = "EFD_???"
EPOLL_FLAGS.unknown = "EPOLL_???"
IN_FLAGS.unknown = "IN_???"
TFD_FLAGS.unknown = "TFD_???"
CLOEXEC_FLAGS.unknown = "O_???"
IPC_FLAGS = [("IPC_CREAT", 0o1000), ("IPC_EXCL", 0o2000), ("IPC_NOWAIT", 0o4000)]
SHM_FLAGS = Flags([("SHM_RDONLY", 0o10000), ("SHM_RND", 0o20000), ("SHM_REMAP", 0o40000),
                   ("SHM_EXEC", 0o100000)], unknown="SHM_???")
MSG_IPC = Flags([("IPC_NOWAIT", 0o4000), ("MSG_NOERROR", 0o10000), ("MSG_EXCEPT", 0o20000),
                 ("MSG_COPY", 0o40000)], unknown="MSG_???")
REBOOT_MAGIC = Enum([("LINUX_REBOOT_MAGIC1", 0xFEE1DEAD), ("LINUX_REBOOT_MAGIC2", 672274793),
                     ("LINUX_REBOOT_MAGIC2A", 85072278), ("LINUX_REBOOT_MAGIC2B", 369367448),
                     ("LINUX_REBOOT_MAGIC2C", 537993216)], unknown="LINUX_REBOOT_MAGIC_???")
REBOOT_CMD = Enum([("LINUX_REBOOT_CMD_CAD_OFF", 0), ("LINUX_REBOOT_CMD_CAD_ON", 0x89ABCDEF),
                   ("LINUX_REBOOT_CMD_HALT", 0xCDEF0123), ("LINUX_REBOOT_CMD_KEXEC", 0x45584543),
                   ("LINUX_REBOOT_CMD_POWER_OFF", 0x4321FEDC), ("LINUX_REBOOT_CMD_RESTART", 0x01234567),
                   ("LINUX_REBOOT_CMD_RESTART2", 0xA1B2C3D4), ("LINUX_REBOOT_CMD_SW_SUSPEND", 0xD000FCE2)],
                  unknown="LINUX_REBOOT_CMD_???")


def ipc_flags(v: int) -> str:
    """IPC_CREAT|0600: the IPC_* bits, then the permissions in octal (000 when none)."""
    names = [n for n, b in IPC_FLAGS if v & b]
    rest = v & ~0o7000
    return "|".join(names + ["0" + format(rest, "o").rjust(3, "0") if rest else "000"])


def ipc_key(v: int) -> str:
    return "IPC_PRIVATE" if v == 0 else f"{v:#x}"
SO.unknown = "SO_???"
TCP.unknown = "TCP_???"
FAN_INIT = Flags([("FAN_CLOEXEC", 1), ("FAN_NONBLOCK", 2), ("FAN_CLASS_CONTENT", 4),
                  ("FAN_CLASS_PRE_CONTENT", 8),
                  ("FAN_UNLIMITED_QUEUE", 0x10), ("FAN_UNLIMITED_MARKS", 0x20), ("FAN_ENABLE_AUDIT", 0x40),
                  ("FAN_REPORT_TID", 0x100), ("FAN_REPORT_FID", 0x200), ("FAN_REPORT_DIR_FID", 0x400),
                  ("FAN_REPORT_NAME", 0x800)], zero="FAN_CLASS_NOTIF", unknown="FAN_???")
LANDLOCK = Flags([("LANDLOCK_CREATE_RULESET_VERSION", 1)], unknown="LANDLOCK_CREATE_RULESET_???")


IORING_REGISTER = Enum([(f"IORING_{n}", v) for v, n in enumerate([
    "REGISTER_BUFFERS", "UNREGISTER_BUFFERS", "REGISTER_FILES", "UNREGISTER_FILES",
    "REGISTER_EVENTFD", "UNREGISTER_EVENTFD", "REGISTER_FILES_UPDATE", "REGISTER_EVENTFD_ASYNC",
    "REGISTER_PROBE", "REGISTER_PERSONALITY", "UNREGISTER_PERSONALITY", "REGISTER_RESTRICTIONS",
    "REGISTER_ENABLE_RINGS", "REGISTER_FILES2", "REGISTER_FILES_UPDATE2", "REGISTER_BUFFERS2",
    "REGISTER_BUFFERS_UPDATE", "REGISTER_IOWQ_AFF", "UNREGISTER_IOWQ_AFF",
    "REGISTER_IOWQ_MAX_WORKERS", "REGISTER_RING_FDS", "UNREGISTER_RING_FDS",
    "REGISTER_PBUF_RING", "UNREGISTER_PBUF_RING", "REGISTER_SYNC_CANCEL",
    "REGISTER_FILE_ALLOC_RANGE"])], unknown="IORING_REGISTER_???")

# quotactl's command is QCMD(subcommand, quota type): the subcommand above 8 bits, the type below
_Q_SUBCMD = Enum([("Q_SYNC", 0x800001), ("Q_QUOTAON", 0x800002), ("Q_QUOTAOFF", 0x800003),
                  ("Q_GETFMT", 0x800004), ("Q_GETINFO", 0x800005), ("Q_SETINFO", 0x800006),
                  ("Q_GETQUOTA", 0x800007), ("Q_SETQUOTA", 0x800008), ("Q_GETNEXTQUOTA", 0x800009),
                  ("Q_XQUOTAON", 0x5801), ("Q_XQUOTAOFF", 0x5802), ("Q_XGETQUOTA", 0x5803),
                  ("Q_XSETQLIM", 0x5804), ("Q_XGETQSTAT", 0x5805), ("Q_XQUOTARM", 0x5806),
                  ("Q_XQUOTASYNC", 0x5807), ("Q_XGETQSTATV", 0x5808), ("Q_XGETNEXTQUOTA", 0x5809)],
                 unknown="Q_???")
_Q_TYPE = Enum([("USRQUOTA", 0), ("GRPQUOTA", 1), ("PRJQUOTA", 2)], unknown="???QUOTA")


def quotactl_cmd(v: int) -> str:
    """QCMD(Q_GETQUOTA, USRQUOTA)."""
    return f"QCMD({_Q_SUBCMD.render(v >> 8)}, {_Q_TYPE.render(v & 0xFF)})"
