"""Which decoder each argument of each syscall gets: by syscall and argument name for the
common calls, by C type and capture kind for every other one."""

from __future__ import annotations

import os
import socket
from typing import Any, Callable

from tracer.decode import arrays as A
from tracer.decode import flags as F
from tracer.decode import procfmt as P
from tracer.decode import structs as S
from tracer.decode import timefmt as TF
from tracer.decode import values as V
from tracer.decode.strings import quote, quote_hex, quote_path
from tracer.decode.values import Arg, s32
from tracer.syscalls import desc, specs
from tracer.syscalls.formats import Field
from tracer.syscalls.table import Syscall

Builder = Callable[[str, int], Arg]

_FD_NAMES = {"fd", "fildes", "oldfd", "newfd", "out_fd", "in_fd", "epfd", "fd_in", "fd_out", "pidfd",
             "ufd", "mqdes", "fd1", "fd2"}
_DIRFD_NAMES = {"dfd", "olddfd", "newdfd", "dirfd"}
_SIGNED32 = {"int", "pid_t", "clockid_t", "const clockid_t", "uid_t", "gid_t", "timer_t", "key_t",
             "mqd_t", "key_serial_t", "qid_t", "old_uid_t", "old_gid_t", "rwf_t"}
_SIGNED64 = {"long", "off_t", "loff_t", "ssize_t", "__kernel_old_time_t", "time_t"}
_UNSIGNED32 = {"unsigned int", "unsigned", "u32", "__u32", "unsigned short", "u16"}
_PATH_ARGS = {"filename", "pathname", "path", "oldname", "newname", "specialfile", "dev_name",
              "dir_name", "library"}


def by_type(f: Field, i: int, kind: int) -> Arg:
    """The decoder of an argument nothing more specific is known about."""
    t = " ".join(f.type.split())
    if kind == specs.STR:
        return (V.path if f.name in _PATH_ARGS else V.string)(f.name, i)
    if kind == specs.STRV:
        return V.strv(f.name, i)
    if "*" in t:
        return V.pointer(f.name, i)
    if f.name in _DIRFD_NAMES:
        return V.dirfd(f.name, i)
    if f.name in _FD_NAMES:
        return V.signed32(f.name, i)
    if t == "umode_t":
        return V.mapped(f.name, i, S.octal)
    if t in _SIGNED32:
        return V.signed32(f.name, i)
    if t in _SIGNED64:
        return V.signed64(f.name, i)
    if t in _UNSIGNED32:
        return V.unsigned32(f.name, i)
    return V.unsigned64(f.name, i)


# -- argument decoders, by role ------------------------------------------------------------
def _m(render: Callable[[int], str], mask: int = 0xFFFFFFFF) -> Builder:
    return lambda name, i: V.mapped(name, i, render, mask)


def _blob(show: Callable[[bytes], str], value: Callable[[bytes], Any],
          when: Callable[[Any], bool] | None = None) -> Builder:
    return lambda name, i: V.blob(name, i, show, value, when)


def _ok(r: Any) -> bool:
    return r is not None and r >= 0


def _positive(r: Any) -> bool:
    return r is not None and r > 0


def _interrupted(r: Any) -> bool:
    return r == -4 or r == -516  # EINTR, ERESTART_RESTARTBLOCK: the remaining time is filled


def _signal(v: int) -> str:
    return F.signame(s32(v))


def _octal_mode(v: int) -> str:
    return S.octal(v)  # unmasked, as strace shows it: 0177777


def _mknod_mode(v: int) -> str:
    return S.file_mode(v)


_stat = _blob(S.stat_text, S.stat_value, _ok)
_statx = _blob(S.statx_text, S.statx_value, _ok)
_timespec = _blob(S.timespec_text, S.timespec_value)
_timeval_out = _blob(S.timeval_text, S.timeval_value, _ok)
_timespec_out = _blob(S.timespec_text, S.timespec_value, _ok)
_rlimit_in = _blob(S.rlimit_text, S.rlimit_value)
_rlimit_out = _blob(S.rlimit_text, S.rlimit_value, _ok)
_int_pair = _blob(S.int_pair_text, S.int_pair_value, _ok)
_int_out = _blob(S.int_text, S.int_value, _ok)
_sockaddr_in = _blob(S.sockaddr_text, S.sockaddr_value)
_sockaddr_out = _blob(S.sockaddr_text, S.sockaddr_value, _ok)
_sigset = _blob(S.sigset_text, S.sigset_text)
_sigset_out = _blob(S.sigset_text, S.sigset_text, _ok)


def _buf_in(name: str, i: int) -> Arg:
    return V.buffer(name, i, False)


def _buf_out(name: str, i: int) -> Arg:
    return V.buffer(name, i, True)


def _getcwd_buf(name: str, i: int) -> Arg:
    # the return value counts the NUL: strace prints the path whole
    return V.blob(name, i, lambda d: quote_path(d.rstrip(b"\0")),
                  lambda d: d.rstrip(b"\0").decode("utf-8", "replace"), _positive)


def _random_buf(name: str, i: int) -> Arg:
    got = V.blob(name, i, quote_hex, lambda d: d.hex(), _positive)

    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        return '""' if r == 0 and a[i] else got.text(a, r, b, t)

    return Arg(name, txt, got.value)


def _arch_prctl_arg(name: str, i: int) -> Arg:
    """An address where the option reads into one (ARCH_GET_*), a number otherwise."""
    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        if a[0] & 0xFFFFFFFF in (0x1003, 0x1004):
            return hex(a[i]) if a[i] else "NULL"
        return hex(a[i]) if a[i] else "0"

    return Arg(name, txt, lambda a, r, b, t: a[i])


def _hostname(name: str, i: int) -> Arg:
    """sethostname's name: the string when its length is a valid one (up to 64), else the address."""
    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        d = b.get(i)
        if d is None or a[i + 1] & 0xFFFFFFFF > 64:
            return hex(a[i]) if a[i] else "NULL"
        return quote(d)

    return Arg(name, txt, txt)


def _dirents(name: str, i: int) -> Arg:
    """getdents64's buffer: `0x... /* 5 entries */` (strace's default), names in JSON."""
    def walk(d: bytes) -> list[bytes]:
        names, pos = [], 0
        while pos + 19 <= len(d):
            reclen = int.from_bytes(d[pos + 16:pos + 18], "little")
            if reclen == 0:
                break
            names.append(d[pos + 19:pos + reclen].split(b"\0", 1)[0])
            pos += reclen
        return names

    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        p = hex(a[i]) if a[i] else "NULL"
        if r == 0:
            return f"{p} /* 0 entries */"
        d = b.get(i)
        if d is None or i in t or r is None or r < 0:
            return p  # a partial capture cannot be counted
        return f"{p} /* {len(walk(d))} entries */"

    def val(a: tuple, r: Any, b: dict, t: frozenset) -> Any:
        d = b.get(i)
        if d is None:
            return [] if r == 0 else a[i]
        return [n.decode("utf-8", "replace") for n in walk(d)]

    return Arg(name, txt, val)


def _ioctl_arg(name: str, i: int) -> Arg:
    def render(a: tuple) -> str:
        return hex(a[i]) if a[i] else "0"

    return Arg(name, lambda a, r, b, t: render(a), lambda a, r, b, t: a[i])


def _sockopt_val(name: str, i: int) -> Arg:
    def show(d: bytes) -> str:
        return S.int_text(d) if len(d) == 4 else quote(d)

    def value(d: bytes) -> Any:
        return S.int_value(d) if len(d) == 4 else d.hex()

    return V.blob(name, i, show, value)


def _wait_status(name: str, i: int) -> Arg:
    return V.blob(name, i, lambda d: S.wait_status_text(int.from_bytes(d[:4], "little")),
                  lambda d: S.wait_status_value(int.from_bytes(d[:4], "little")), _positive)


_SA_FLAGS = F.Flags([("SA_NOCLDSTOP", 1), ("SA_NOCLDWAIT", 2), ("SA_SIGINFO", 4),
                     ("SA_RESTORER", 0x04000000), ("SA_ONSTACK", 0x08000000),
                     ("SA_RESTART", 0x10000000), ("SA_NODEFER", 0x40000000),
                     ("SA_RESETHAND", 0x80000000)])


def _sigaction_text(d: bytes) -> str:
    handler, fl, restorer, mask = (int.from_bytes(d[k:k + 8], "little") for k in (0, 8, 16, 24))
    h = {0: "SIG_DFL", 1: "SIG_IGN"}.get(handler, hex(handler))
    out = f"{{sa_handler={h}, sa_mask={S.sigset_text(mask.to_bytes(8, 'little'))}, " \
          f"sa_flags={_SA_FLAGS.render(fl)}"
    if fl & 0x04000000:
        out += f", sa_restorer={hex(restorer) if restorer else 'NULL'}"
    return out + "}"


def _sigaction_value(d: bytes) -> dict[str, Any]:
    handler, fl, restorer, mask = (int.from_bytes(d[k:k + 8], "little") for k in (0, 8, 16, 24))
    return {"sa_handler": {0: "SIG_DFL", 1: "SIG_IGN"}.get(handler, handler),
            "sa_mask": S.sigset_text(mask.to_bytes(8, "little")), "sa_flags": _SA_FLAGS.render(fl)}


def _socket_protocol(name: str, i: int) -> Arg:
    # the protocol's names depend on the family (argument 0)
    def render(a: tuple) -> str:
        fam = a[0] & 0xFFFF
        p = s32(a[i])
        if fam in (socket.AF_INET, socket.AF_INET6):
            return F.IPPROTO.render(p)
        if fam == socket.AF_NETLINK:
            return F.NETLINK.render(p)
        return str(p)

    return Arg(name, lambda a, r, b, t: render(a), lambda a, r, b, t: render(a))


def _sockopt_name(name: str, i: int) -> Arg:
    def render(a: tuple) -> str:
        level = s32(a[1])
        v = s32(a[i])
        if level == socket.SOL_SOCKET:
            return F.SO.render(v)
        if level == socket.IPPROTO_TCP:
            return F.TCP.render(v)
        return str(v)

    return Arg(name, lambda a, r, b, t: render(a), lambda a, r, b, t: render(a))


def _fcntl_arg(name: str, i: int) -> Arg:
    def render(a: tuple) -> str:
        cmd = a[1] & 0xFFFFFFFF
        v = a[i]
        if cmd == 2:  # F_SETFD
            return F.FD_FLAGS.render(v & 0xFFFFFFFF)
        if cmd == 4:  # F_SETFL
            return F.open_flags(v & 0xFFFFFFFF)
        if cmd in (0, 1030, 8, 10, 1031, 1024):  # DUPFD, DUPFD_CLOEXEC, SETOWN, SETSIG, SETPIPE_SZ, SETLEASE
            return str(s32(v))
        return hex(v) if v else "NULL"

    def text(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        cmd = a[1] & 0xFFFFFFFF
        d = b.get(i)
        if cmd in _FCNTL_LOCKS and d is not None and len(d) >= 32:
            out = cmd in (5, 36)  # F_GETLK, F_OFD_GETLK: the lock found, with its owner
            if not out or (r is not None and r >= 0):
                return P.flock(d, out)
        return render(a)

    return Arg(name, text, lambda a, r, b, t: render(a))


_FCNTL_LOCKS = {5, 6, 7, 36, 37, 38}  # F_GETLK F_SETLK F_SETLKW F_OFD_GETLK F_OFD_SETLK F_OFD_SETLKW


def _entry_blob(show: Callable[[bytes], str]) -> Builder:
    """An argument captured at entry and exit, shown as it was given."""
    def build(name: str, i: int) -> Arg:
        def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
            d = b.get(i + A.ENTRY_KEY, b.get(i))
            return show(d) if d is not None else (hex(a[i]) if a[i] else "NULL")

        return Arg(name, txt, txt)

    return build


_IDTYPE = F.Enum([("P_ALL", 0), ("P_PID", 1), ("P_PGID", 2), ("P_PIDFD", 3)], unknown="P_???")


def _syslog(v: int) -> str:
    n = F.SYSLOG.get(s32(v))
    return n if n is not None else f"{s32(v)} /* SYSLOG_ACTION_??? */"


def _makedev(v: int) -> str:
    major = (v >> 8) & 0xFFF | ((v >> 32) & ~0xFFF)
    minor = (v & 0xFF) | ((v >> 12) & ~0xFF)
    return f"makedev({major:#x}, {minor:#x})"


def _ok_nonempty(r: Any) -> bool:
    return r is not None and r >= 0


def _personality(v: int) -> str:
    return hex(v) if v == 0xFFFFFFFF else F.personality(v)


# type word (tracer/syscalls/desc) -> builder of the argument's decoder
PRINTERS: dict[str, Builder] = {
    # numbers
    "int": V.signed32, "uint": V.unsigned32, "long": V.signed64, "ulong": V.unsigned64,
    "hex": V.hex_arg, "ptr": V.pointer, "fd": V.signed32, "dirfd": V.dirfd,
    "mode": _m(_octal_mode), "file_mode": _m(_mknod_mode), "signal": _m(_signal, 0xFFFFFFFFFFFFFFFF),
    # strings and buffers
    "path": V.path, "str": V.string, "strv": V.strv, "envp": V.env_count,
    "buf_in": _buf_in, "buf_out": _buf_out, "cwd": _getcwd_buf, "random_buf": _random_buf,
    "dirents": _dirents,
    # structs
    "stat": _stat, "statx": _statx, "timespec": _timespec, "timespec_out": _timespec_out,
    "timespec_rem": _blob(S.timespec_text, S.timespec_value, _interrupted),
    "timeval_out": _timeval_out, "rlimit": _rlimit_in, "rlimit_out": _rlimit_out,
    "int_pair": _int_pair, "int_out": _int_out, "sockaddr_in": _sockaddr_in,
    "sockaddr_out": _sockaddr_out, "sockopt_in": _sockopt_val,
    "sockopt_out": lambda n, i: V.blob(n, i, S.int_text, S.int_value, _ok),
    "utsname": _blob(S.utsname_text, S.utsname_value, _ok),
    "sysinfo": _blob(S.sysinfo_text, S.sysinfo_value, _ok),
    "wait_status": _wait_status, "clone_ptid": V.pointer,
    "sigaction": _blob(_sigaction_text, _sigaction_value),
    "sigaction_out": _blob(_sigaction_text, _sigaction_value, _ok),
    "sigset": _sigset, "sigset_out": _sigset_out,
    # arguments whose meaning depends on another one
    "ioctl_arg": _ioctl_arg, "fcntl_arg": _fcntl_arg, "socket_protocol": _socket_protocol,
    "sockopt_name": _sockopt_name,
    # constants and flag sets
    "open_flags": _m(F.open_flags), "at_flags": _m(F.AT_FLAGS.render),
    "at_eaccess_flags": _m(F.AT_EACCESS_FLAGS.render), "statx_flags": _m(F.statx_flags),
    "statx_mask": _m(F.statx_mask), "seek": _m(F.SEEK.render), "prot": _m(F.PROT.render),
    "mmap_flags": _m(F.mmap_flags), "madv": _m(F.MADV.render), "mremap_flags": _m(F.MREMAP.render),
    "access_mode": _m(F.ACCESS_MODE.render), "cloexec_flags": _m(F.CLOEXEC_FLAGS.render),
    "efd_flags": _m(F.EFD_FLAGS.render), "epoll_flags": _m(F.EPOLL_FLAGS.render),
    "in_flags": _m(F.IN_FLAGS.render), "clock": _m(F.CLOCKS.render), "tfd_flags": _m(F.TFD_FLAGS.render),
    "fcntl_cmd": _m(F.FCNTL_CMD.render), "lock_ops": _m(F.LOCK_OPS.render),
    "rename_flags": _m(F.RENAME_FLAGS.render), "af": _m(F.AF.render), "socket_type": _m(F.socket_type),
    "sock_flags": _m(F.SOCK_FLAGS.render), "msg_flags": _m(F.MSG.render), "shut": _m(F.SHUT.render),
    "sol": _m(F.SOL.render), "timer_flags": _m(F.TIMER_FLAGS.render), "grnd_flags": _m(F.GRND.render),
    "ioctl_cmd": _m(F.ioctl_cmd), "fadvise": _m(F.FADVISE.render),
    "sigprocmask_how": _m(F.SIGPROCMASK_HOW.render), "wait_options": _m(F.WAIT_OPTS.render),
    "rlimit_resource": _m(F.RLIMIT.render), "arch_prctl_code": _m(F.ARCH_PRCTL.render),
    "personality": _m(_personality), "futex_op": _m(F.futex_op),
    "module_init_flags": V.hex_arg,
    "o_flags": _m(F.O_FLAGS.render), "umount_flags": _m(F.UMOUNT.render),
    "xattr_flags": _m(F.XATTR.render), "in_events": _m(F.IN_EVENTS.render), "mfd_flags": _m(F.MFD.render),
    "epoll_ctl_op": _m(F.EPOLL_CTL.render), "splice_flags": _m(F.SPLICE.render),
    "sfd_flags": _m(F.SFD_FLAGS.render), "tfd_settime_flags": _m(F.TFD_SETTIME.render),
    "uffd_flags": _m(F.UFFD.render), "ms_flags": _m(F.MS.render), "mlock2_flags": _m(F.MLOCK2.render),
    "mcl_flags": _m(F.MCL.render), "mpol": _m(F.MPOL.render), "membarrier_cmd": _m(F.MEMBARRIER.render),
    "itimer": _m(F.ITIMER.render), "prio_which": _m(F.PRIO_WHICH.render),
    "rusage_who": _m(F.RUSAGE_WHO.render), "idtype": _m(_IDTYPE.render),
    "sched_policy": _m(F.SCHED_POLICY.render), "kcmp_type": _m(F.KCMP.render),
    "ioprio_who": _m(F.IOPRIO_WHO.render), "ioprio_value": _m(F.ioprio),
    "seccomp_op": _m(F.SECCOMP_OP.render), "ptrace_request": _m(F.PTRACE.render, 0xFFFFFFFFFFFFFFFF),
    "syslog_action": _m(_syslog), "bpf_cmd": _m(F.BPF_CMD.render),
    "keyctl_cmd": _m(F.KEYCTL.render), "prctl_option": _m(P.PR.render), "prctl_arg2": V.unsigned64,
    "dev": _m(_makedev, 0xFFFFFFFFFFFFFFFF),
    "utimbuf": _blob(TF.utimbuf, TF.pair_value), "timeval": _blob(TF.timeval, TF.timeval_value),
    "timeval_pair": _blob(TF.timeval_pair, TF.pair_value),
    "timespec_pair": _blob(TF.timespec_pair, TF.pair_value),
    "itimerval": _blob(TF.itimerval, TF.itimerval_value),
    "itimerval_out": _blob(TF.itimerval, TF.itimerval_value, _ok),
    "itimerspec": _blob(TF.itimerspec, TF.itimerspec_value),
    "itimerspec_out": _blob(TF.itimerspec, TF.itimerspec_value, _ok),
    "rusage_out": _blob(P.rusage, P.rusage, _ok),
    "sched_param": _blob(P.int_in_brackets, P.int_in_brackets),
    "sched_param_out": _blob(P.int_in_brackets, P.int_in_brackets, _ok),
    "uint_out": _blob(P.uint_in_brackets, P.uint_in_brackets, _ok),
    "siginfo": _blob(P.siginfo, P.siginfo), "siginfo_out": _blob(P.siginfo, P.siginfo, _ok_nonempty),
    "clone_args": _blob(P.clone_args, P.clone_args), "stack_t": _blob(P.stack_t, P.stack_t),
    "stack_t_out": _blob(P.stack_t, P.stack_t, _ok), "sigevent": _blob(P.sigevent, P.sigevent),
    "epoll_event": _blob(P.epoll_event, P.epoll_event),
    "cpu_mask_out": _blob(P.cpu_mask, P.cpu_mask, _positive),
    "iovec_in": lambda n, i: A.iovec(n, i, False), "iovec_out": lambda n, i: A.iovec(n, i, True),
    "msghdr_in": lambda n, i: A.msghdr(n, i, False), "msghdr_out": lambda n, i: A.msghdr(n, i, True),
    "socklen_io": A.socklen, "loff_io": A.loff, "fdset_io": A.fdset, "pollfd_io": A.pollfds,
    "epoll_events_out": A.epoll_events, "gid_array_out": lambda n, i: A.int_array(n, i, True),
    "gid_array": lambda n, i: A.int_array(n, i, False),
    "timeval_io": _entry_blob(TF.timeval), "timespec_io": _entry_blob(TF.timespec),
    "ipc_key": _m(F.ipc_key), "ipc_flags": _m(F.ipc_flags), "ipc_cmd": _m(F.IPC_CMD.render),
    "shm_flags": _m(F.SHM_FLAGS.render), "msg_ipc_flags": _m(F.MSG_IPC.render),
    "sembufs": _blob(P.sembufs, P.sembufs), "reboot_magic": _m(F.REBOOT_MAGIC.render),
    "reboot_cmd": _m(F.REBOOT_CMD.render), "hostname": _hostname,
    "arch_prctl_arg": _arch_prctl_arg,
    "msgbuf": _blob(P.msgbuf, P.msgbuf), "msgbuf_out": _blob(P.msgbuf, P.msgbuf, _ok),
    "io_uring_register_op": _m(F.IORING_REGISTER.render), "quotactl_cmd": _m(F.quotactl_cmd),
    "fan_init_flags": _m(F.FAN_INIT.render), "landlock_flags": _m(F.LANDLOCK.render),
}


# type words whose builder also gets the index of the argument their PARAM names
PARAM_PRINTERS: dict[str, Callable[[str, int, int], Arg]] = {
    "buf_in": lambda name, i, p: V.buffer(name, i, False, length_at=p),
}

# return values annotated from captured memory: (args, ret, blobs, trunc) -> text or None
CUSTOM_RET: dict[str, Callable[[tuple, Any, dict, frozenset], str | None]] = {
    "select": lambda a, r, b, t: A.select_ret(a, r, b, t, nsec=False),
    "pselect6": lambda a, r, b, t: A.select_ret(a, r, b, t, nsec=True),
    "poll": lambda a, r, b, t: A.poll_ret(a, r, b, t),
    "ppoll": lambda a, r, b, t: A.poll_ret(a, r, b, t, left_at=2),
}

# whole argument lists strace prints its own way: (args, ret, blobs, trunc) -> texts
CUSTOM: dict[str, Callable[[tuple, Any, dict, frozenset], list[str]]] = {
    "prctl": P.prctl_args,
    # the mask it restores, when the BPF side could read it (args[1]) from the signal frame
    "rt_sigreturn": lambda a, r, b, t: [f"{{mask={S.sigset_text(a[0].to_bytes(8, 'little'))}}}"]
    if a[1] == 1 else [],
}


def printer(word: str) -> Builder:
    """The decoder builder of a type word (KeyError for a word nobody prints)."""
    return PRINTERS[word]


def arg_decoders(sc: Syscall) -> list[Arg]:
    """One decoder per argument of `sc`, in order: from its description, else from its C types."""
    call = desc.get(sc.name)
    if call is None:
        spec = specs.spec_for(sc)
        return [by_type(f, i, spec.captures[i].kind if i < len(spec.captures) else specs.NONE)
                for i, f in enumerate(sc.args[:6])]
    out = []
    for i, a in enumerate(call.args[:6]):
        with_param = PARAM_PRINTERS.get(a.type)
        if with_param is not None and a.param:
            out.append(with_param(a.name, i, call.index(a.param)))
        else:
            out.append(PRINTERS[a.type](a.name, i))
    return out


# -- which arguments strace shows ----------------------------------------------------------
def shown_count(sc: Syscall) -> int:
    """How many arguments strace prints by default (preadv's split offset counts once)."""
    call = desc.get(sc.name)
    return call.nargs if call is not None else len(sc.args)


def _open_shown(mode_at: int) -> Callable[[tuple], range]:
    with_mode, without = range(mode_at + 1), range(mode_at)
    creates = os.O_CREAT | F.O_TMPFILE_BIT

    def shown(a: tuple) -> range:
        return with_mode if a[mode_at - 1] & creates else without

    return shown


_FCNTL_NO_ARG = {1, 3, 9, 11, 1025, 1032, 1034}  # GETFD GETFL GETOWN GETSIG GETLEASE GETPIPE_SZ GET_SEALS


def _fcntl_shown(a: tuple) -> range:
    return range(2) if a[1] & 0xFFFFFFFF in _FCNTL_NO_ARG else range(3)


def _ioctl_shown(a: tuple) -> range:
    return range(2) if a[1] & 0xFFFFFFFF in F.IOCTL_NO_ARG else range(3)


def _futex_shown(a: tuple) -> range:
    op = a[1] & 0x7F
    return range(3) if op == 1 else range(4) if op == 0 else range(6)


def _mknod_shown(mode_at: int) -> Callable[[tuple], range]:
    """The device number only for character and block devices."""
    def shown(a: tuple) -> range:
        fmt = a[mode_at] & 0o170000
        return range(mode_at + 2) if fmt in (0o020000, 0o060000) else range(mode_at + 1)

    return shown


def _rw2_shown(a: tuple) -> tuple[int, ...]:
    return (0, 1, 2, 3, 5)  # preadv2/pwritev2: one offset (pos_l holds it whole on 64-bit), flags


def _reboot_shown(a: tuple) -> range:
    return range(4) if a[2] & 0xFFFFFFFF == 0xA1B2C3D4 else range(3)  # RESTART2 takes a command line


def _mremap_shown(a: tuple) -> range:
    """The new address only when the call is told to move the mapping there."""
    return range(5) if a[3] & 3 == 3 else range(4)  # MREMAP_MAYMOVE|MREMAP_FIXED


def _membarrier_shown(a: tuple) -> range:
    return range(3) if a[1] & 1 else range(2)  # the CPU only with MEMBARRIER_CMD_FLAG_CPU


def _mq_open_shown(a: tuple) -> range:
    return range(4) if a[1] & os.O_CREAT else range(2)


SHOWN: dict[str, Callable[[tuple], range | tuple[int, ...]]] = {
    "open": _open_shown(2), "openat": _open_shown(3), "fcntl": _fcntl_shown, "futex": _futex_shown,
    "ioctl": _ioctl_shown, "mknod": _mknod_shown(1), "mknodat": _mknod_shown(2),
    "preadv2": _rw2_shown, "pwritev2": _rw2_shown, "reboot": _reboot_shown, "mq_open": _mq_open_shown,
    "mremap": _mremap_shown, "membarrier": _membarrier_shown,
}
