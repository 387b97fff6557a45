"""Kernel structs copied from user memory, shown as strace's default (abbreviated) form.

Each decoder has a text form (strace's) and a value form (a dict for JSON). Layouts are
the x86_64 ABI ones.
"""

from __future__ import annotations

import socket
import stat
import struct
from typing import Any

from tracer.decode import flags
from tracer.decode.strings import escape, quote, text

# -- stat ----------------------------------------------------------------------------------
_STAT = struct.Struct("<QQQIII4xQqqq16x16x16x")  # dev ino nlink mode uid gid rdev size blksize blocks
_STAT_TIMES = struct.Struct("<qqqqqq")  # atime, mtime, ctime (sec, nsec) at offset 72
STAT_SIZE = 144
STATX_SIZE = 256
_S_IFMT = {stat.S_IFREG: "S_IFREG", stat.S_IFDIR: "S_IFDIR", stat.S_IFLNK: "S_IFLNK",
           stat.S_IFCHR: "S_IFCHR", stat.S_IFBLK: "S_IFBLK", stat.S_IFIFO: "S_IFIFO",
           stat.S_IFSOCK: "S_IFSOCK"}
_S_BITS = [(stat.S_ISUID, "S_ISUID"), (stat.S_ISGID, "S_ISGID"), (stat.S_ISVTX, "S_ISVTX")]


def file_mode(mode: int) -> str:
    s = _MODES.get(mode)
    if s is None:
        s = _MODES[mode] = _file_mode(mode)  # at most 2^16 keys: st_mode is 16 bits
    return s


_MODES: dict[int, str] = {}


def _file_mode(mode: int) -> str:
    """S_IFREG|0644, S_IFDIR|S_ISVTX|0777: type, special bits, then the permissions in octal."""
    parts = []
    fmt = stat.S_IFMT(mode)
    if fmt:
        parts.append(_S_IFMT.get(fmt, f"{fmt:#o}"))
    parts += [n for b, n in _S_BITS if mode & b]
    return "|".join(parts + [octal(mode & 0o777)])


def octal(v: int) -> str:
    """C's %#03o as strace prints modes: 0644, 022, 000."""
    return ("0" + format(v, "o")).rjust(3, "0")


def _major_minor(dev: int) -> tuple[int, int]:
    # the kernel's new_encode_dev: 12 bits of major, 20 of minor, interleaved
    return (dev >> 8) & 0xFFF | ((dev >> 32) & ~0xFFF), (dev & 0xFF) | ((dev >> 12) & ~0xFF)


def stat_text(b: bytes) -> str:
    if len(b) < STAT_SIZE:
        return "{...}"
    dev, ino, nlink, mode, uid, gid, rdev, size, _bs, _blocks = _STAT.unpack_from(b)
    if mode & 0o170000 in (0o020000, 0o060000):  # S_IFCHR, S_IFBLK
        ma, mi = _major_minor(rdev)
        return f"{{st_mode={file_mode(mode)}, st_rdev=makedev({ma:#x}, {mi:#x}), ...}}"
    return f"{{st_mode={file_mode(mode)}, st_size={size}, ...}}"


def stat_value(b: bytes) -> dict[str, Any] | None:
    if len(b) < STAT_SIZE:
        return None
    dev, ino, nlink, mode, uid, gid, rdev, size, bs, blocks = _STAT.unpack_from(b)
    at, atn, mt, mtn, ct, ctn = _STAT_TIMES.unpack_from(b, 72)
    return {"st_dev": dev, "st_ino": ino, "st_nlink": nlink, "st_mode": file_mode(mode), "st_uid": uid,
            "st_gid": gid, "st_rdev": rdev, "st_size": size, "st_blksize": bs, "st_blocks": blocks,
            "st_atime": at + atn / 1e9, "st_mtime": mt + mtn / 1e9, "st_ctime": ct + ctn / 1e9}


_STATX = struct.Struct("<IIQIIIH2xQQQQ")  # mask blksize attributes nlink uid gid mode ino size blocks amask


def statx_text(b: bytes) -> str:
    if len(b) < STATX_SIZE:
        return "{...}"
    mask, _bs, attrs, _nl, _uid, _gid, mode, _ino, size, _bl, _am = _STATX.unpack_from(b)
    return (f"{{stx_mask={flags.statx_mask(mask)}, stx_attributes={flags.STATX_ATTRS.render(attrs)}, "
            f"stx_mode={file_mode(mode)}, stx_size={size}, ...}}")


def statx_value(b: bytes) -> dict[str, Any] | None:
    if len(b) < STATX_SIZE:
        return None
    mask, bs, attrs, nl, uid, gid, mode, ino, size, blocks, _am = _STATX.unpack_from(b)
    return {"stx_mask": flags.statx_mask(mask), "stx_blksize": bs, "stx_attributes": attrs,
            "stx_nlink": nl, "stx_uid": uid, "stx_gid": gid, "stx_mode": file_mode(mode),
            "stx_ino": ino, "stx_size": size, "stx_blocks": blocks}


# -- time ----------------------------------------------------------------------------------
_TWO_Q = struct.Struct("<qq")


_SEC_NSEC = struct.Struct("<qQ")  # strace prints tv_nsec unsigned


def timespec_text(b: bytes) -> str:
    sec, nsec = _SEC_NSEC.unpack_from(b)
    return f"{{tv_sec={sec}, tv_nsec={nsec}}}"


def timespec_value(b: bytes) -> dict[str, int]:
    sec, nsec = _SEC_NSEC.unpack_from(b)
    return {"tv_sec": sec, "tv_nsec": nsec}


def timeval_text(b: bytes) -> str:
    sec, usec = _TWO_Q.unpack_from(b)
    return f"{{tv_sec={sec}, tv_usec={usec}}}"


def timeval_value(b: bytes) -> dict[str, int]:
    sec, usec = _TWO_Q.unpack_from(b)
    return {"tv_sec": sec, "tv_usec": usec}


# -- rlimit --------------------------------------------------------------------------------
_RLIM_INF = (1 << 64) - 1
_TWO_UQ = struct.Struct("<QQ")


def _rlim(v: int) -> str:
    if v == _RLIM_INF:
        return "RLIM64_INFINITY"
    if v and v % 1024 == 0:
        return f"{v // 1024}*1024"  # strace's way of showing round sizes
    return str(v)


def rlimit_text(b: bytes) -> str:
    cur, mx = _TWO_UQ.unpack_from(b)
    return f"{{rlim_cur={_rlim(cur)}, rlim_max={_rlim(mx)}}}"


def rlimit_value(b: bytes) -> dict[str, Any]:
    cur, mx = _TWO_UQ.unpack_from(b)
    return {"rlim_cur": "RLIM64_INFINITY" if cur == _RLIM_INF else cur,
            "rlim_max": "RLIM64_INFINITY" if mx == _RLIM_INF else mx}


# -- utsname -------------------------------------------------------------------------------
_UTS_FIELDS = ("sysname", "nodename", "release", "version", "machine", "domainname")
UTSNAME_SIZE = 390


def _uts(b: bytes) -> list[bytes]:
    return [b[i * 65:(i + 1) * 65].split(b"\0", 1)[0] for i in range(6)]


def utsname_text(b: bytes) -> str:
    f = _uts(b)
    return f"{{sysname={quote(f[0])}, nodename={quote(f[1])}, ...}}"


def utsname_value(b: bytes) -> dict[str, str]:
    return {k: text(v) for k, v in zip(_UTS_FIELDS, _uts(b))}


# -- sysinfo -------------------------------------------------------------------------------
# long uptime; unsigned long loads[3], totalram, freeram, sharedram, bufferram, totalswap,
# freeswap; unsigned short procs (+ padding); unsigned long totalhigh, freehigh; u32 mem_unit
_SYSINFO = struct.Struct("<q3Q6QH6xQQI")
_SYSINFO_FIELDS = ("uptime", "loads", "totalram", "freeram", "sharedram", "bufferram", "totalswap",
                   "freeswap", "procs", "totalhigh", "freehigh", "mem_unit")


def sysinfo_value(b: bytes) -> dict[str, Any]:
    v = _SYSINFO.unpack_from(b)
    return dict(zip(_SYSINFO_FIELDS, (v[0], list(v[1:4]), *v[4:])))


def sysinfo_text(b: bytes) -> str:
    """strace's form: {uptime=4295, loads=[44128, 37376, 34560], totalram=..., mem_unit=1}"""
    d = sysinfo_value(b)
    d["loads"] = "[" + ", ".join(map(str, d["loads"])) + "]"
    return "{" + ", ".join(f"{k}={v}" for k, v in d.items()) + "}"


# -- wait status ---------------------------------------------------------------------------
def wait_status_text(s: int) -> str:
    """[{WIFEXITED(s) && WEXITSTATUS(s) == 3}] as strace shows wait4's status."""
    if s & 0x7F == 0:
        inner = f"WIFEXITED(s) && WEXITSTATUS(s) == {(s >> 8) & 0xFF}"
    elif s & 0xFF == 0x7F:
        inner = f"WIFSTOPPED(s) && WSTOPSIG(s) == {flags.signame((s >> 8) & 0xFF)}"
    elif s == 0xFFFF:
        inner = "WIFCONTINUED(s)"
    else:
        inner = f"WIFSIGNALED(s) && WTERMSIG(s) == {flags.signame(s & 0x7F)}"
        if s & 0x80:
            inner += " && WCOREDUMP(s)"
    return f"[{{{inner}}}]"


def wait_status_value(s: int) -> dict[str, Any]:
    if s & 0x7F == 0:
        return {"exited": True, "status": (s >> 8) & 0xFF}
    if s & 0xFF == 0x7F:
        return {"stopped": True, "signal": flags.signame((s >> 8) & 0xFF)}
    return {"signaled": True, "signal": flags.signame(s & 0x7F), "core_dumped": bool(s & 0x80)}


# -- sockaddr ------------------------------------------------------------------------------
def _family(b: bytes) -> int:
    return int.from_bytes(b[:2], "little") if len(b) >= 2 else -1


def sockaddr_text(b: bytes) -> str:
    fam = _family(b)
    if fam < 0:
        return "{...}"
    name = flags.AF.render(fam)
    if fam == socket.AF_INET and len(b) >= 8:
        port = int.from_bytes(b[2:4], "big")
        return (f"{{sa_family=AF_INET, sin_port=htons({port}), "
                f"sin_addr=inet_addr(\"{socket.inet_ntop(socket.AF_INET, b[4:8])}\")}}")
    if fam == socket.AF_INET6 and len(b) >= 24:
        port = int.from_bytes(b[2:4], "big")
        flow = int.from_bytes(b[4:8], "big")
        addr = socket.inet_ntop(socket.AF_INET6, b[8:24])
        scope = int.from_bytes(b[24:28], "little") if len(b) >= 28 else 0
        return (f"{{sa_family=AF_INET6, sin6_port=htons({port}), sin6_flowinfo=htonl({flow}), "
                f"inet_pton(AF_INET6, \"{addr}\", &sin6_addr), sin6_scope_id={scope}}}")
    if fam == socket.AF_UNIX:
        path = b[2:]
        if not path:
            return "{sa_family=AF_UNIX}"
        if path[0] == 0:  # abstract socket: strace marks it with '@'
            return f"{{sa_family=AF_UNIX, sun_path=@\"{escape(path[1:].rstrip(bytes(1)))}\"}}"
        return f"{{sa_family=AF_UNIX, sun_path=\"{escape(path.split(bytes(1), 1)[0])}\"}}"
    if fam == socket.AF_NETLINK and len(b) >= 12:
        pid = int.from_bytes(b[4:8], "little")
        groups = int.from_bytes(b[8:12], "little")
        return f"{{sa_family=AF_NETLINK, nl_pid={pid}, nl_groups={groups:08x}}}"
    data = b[2:]
    return f"{{sa_family={name}, sa_data={quote(data, limit=len(data))}}}"


def sockaddr_value(b: bytes) -> dict[str, Any]:
    fam = _family(b)
    out: dict[str, Any] = {"sa_family": flags.AF.render(fam)}
    if fam == socket.AF_INET and len(b) >= 8:
        out.update(port=int.from_bytes(b[2:4], "big"), addr=socket.inet_ntop(socket.AF_INET, b[4:8]))
    elif fam == socket.AF_INET6 and len(b) >= 24:
        out.update(port=int.from_bytes(b[2:4], "big"), addr=socket.inet_ntop(socket.AF_INET6, b[8:24]))
    elif fam == socket.AF_UNIX:
        path = b[2:]
        out["path"] = ("@" + text(path[1:].rstrip(bytes(1)))) if path[:1] == b"\0" else \
            text(path.split(bytes(1), 1)[0])
    return out


# -- small arrays --------------------------------------------------------------------------
_TWO_I = struct.Struct("<ii")


def int_pair_text(b: bytes) -> str:
    a, c = _TWO_I.unpack_from(b)
    return f"[{a}, {c}]"


def int_pair_value(b: bytes) -> list[int]:
    return list(_TWO_I.unpack_from(b))


def int_text(b: bytes) -> str:
    return f"[{int.from_bytes(b[:4], 'little', signed=True)}]"


def int_value(b: bytes) -> int:
    return int.from_bytes(b[:4], "little", signed=True)



def sigset_text(b: bytes) -> str:
    """[INT TERM] or ~[RTMIN RT_1] (strace shows the complement when most bits are set)."""
    m = int.from_bytes(b[:8], "little")
    bits = [i + 1 for i in range(64) if m >> i & 1]
    prefix = ""
    if len(bits) > 32:
        prefix = "~"
        bits = [i + 1 for i in range(64) if not m >> i & 1]
    names = [flags.signame(s)[3:] if flags.signame(s).startswith("SIG") else str(s) for s in bits]
    return f"{prefix}[{' '.join(names)}]"
