"""Process and signal structs and constants as strace prints them: prctl and its per-option
arguments, siginfo, rusage, sched_param, clone3's clone_args, stack_t, flock, epoll_event,
sigevent."""

from __future__ import annotations

import struct
from typing import Any

from tracer.decode import flags as F
from tracer.decode import timefmt as T
from tracer.decode.strings import quote
from tracer.decode.values import ptr, s32

# -- prctl ---------------------------------------------------------------------------------
CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]
DUMPABLE = F.Enum([("SUID_DUMP_DISABLE", 0), ("SUID_DUMP_USER", 1), ("SUID_DUMP_ROOT", 2)],
                  unknown="SUID_DUMP_???")
PR = F.Enum([("PR_SET_PDEATHSIG", 1), ("PR_GET_PDEATHSIG", 2), ("PR_GET_DUMPABLE", 3),
             ("PR_SET_DUMPABLE", 4), ("PR_GET_UNALIGN", 5), ("PR_SET_UNALIGN", 6), ("PR_GET_KEEPCAPS", 7),
             ("PR_SET_KEEPCAPS", 8), ("PR_GET_FPEMU", 9), ("PR_SET_FPEMU", 10), ("PR_GET_FPEXC", 11),
             ("PR_SET_FPEXC", 12), ("PR_GET_TIMING", 13), ("PR_SET_TIMING", 14), ("PR_SET_NAME", 15),
             ("PR_GET_NAME", 16), ("PR_GET_ENDIAN", 19), ("PR_SET_ENDIAN", 20), ("PR_GET_SECCOMP", 21),
             ("PR_SET_SECCOMP", 22), ("PR_CAPBSET_READ", 23), ("PR_CAPBSET_DROP", 24),
             ("PR_GET_TSC", 25), ("PR_SET_TSC", 26), ("PR_GET_SECUREBITS", 27), ("PR_SET_SECUREBITS", 28),
             ("PR_SET_TIMERSLACK", 29), ("PR_GET_TIMERSLACK", 30), ("PR_TASK_PERF_EVENTS_DISABLE", 31),
             ("PR_TASK_PERF_EVENTS_ENABLE", 32), ("PR_MCE_KILL", 33), ("PR_MCE_KILL_GET", 34),
             ("PR_SET_MM", 35), ("PR_SET_CHILD_SUBREAPER", 36), ("PR_GET_CHILD_SUBREAPER", 37),
             ("PR_SET_NO_NEW_PRIVS", 38), ("PR_GET_NO_NEW_PRIVS", 39), ("PR_GET_TID_ADDRESS", 40),
             ("PR_SET_THP_DISABLE", 41), ("PR_GET_THP_DISABLE", 42), ("PR_MPX_ENABLE_MANAGEMENT", 43),
             ("PR_MPX_DISABLE_MANAGEMENT", 44), ("PR_SET_FP_MODE", 45), ("PR_GET_FP_MODE", 46),
             ("PR_CAP_AMBIENT", 47), ("PR_SVE_SET_VL", 50), ("PR_SVE_GET_VL", 51),
             ("PR_GET_SPECULATION_CTRL", 52), ("PR_SET_SPECULATION_CTRL", 53),
             ("PR_PAC_RESET_KEYS", 54), ("PR_SET_TAGGED_ADDR_CTRL", 55), ("PR_GET_TAGGED_ADDR_CTRL", 56),
             ("PR_SET_IO_FLUSHER", 57), ("PR_GET_IO_FLUSHER", 58), ("PR_SET_SYSCALL_USER_DISPATCH", 59),
             ("PR_SCHED_CORE", 62), ("PR_SET_VMA", 0x53564D41)], unknown="PR_???")
# option -> how many arguments strace shows and how the second is printed
_ONE = {2: "ptr", 3: None, 5: "ptr", 7: None, 9: "ptr", 11: "ptr", 13: None, 19: "ptr", 21: None,
        25: "ptr", 27: None, 30: None, 31: None, 32: None, 34: None, 37: "ptr", 40: "ptr", 42: None,
        46: None, 58: None}


def prctl_args(a: tuple, r: Any, b: dict, t: frozenset) -> list[str]:
    op = a[0] & 0xFFFFFFFF
    name = PR.render(op)
    if op in (15, 16):  # PR_SET_NAME / PR_GET_NAME: the name
        d = b.get(1)
        shown = quote(d) if d is not None and (op == 15 or (r is not None and r >= 0)) else ptr(a[1])
        return [name, shown]
    if op in _ONE:
        return [name] if _ONE[op] is None else [name, ptr(a[1])]
    if op == 1:
        return [name, F.signame(s32(a[1]))]
    if op == 4:
        return [name, DUMPABLE.render(a[1] & 0xFFFFFFFF)]
    if op in (23, 24):
        c = a[1] & 0xFFFFFFFF
        return [name, CAPS[c] if c < len(CAPS) else f"{c:#x} /* CAP_??? */"]
    if op in (8, 29, 36):
        return [name, str(a[1])]
    if op in (38, 39, 41):
        return [name] + [str(x) for x in a[1:5]]
    if op in PR.by_value:
        return [name] + [hex(x) if x else "0" for x in a[1:5]]
    return [name] + [hex(x) if x else "0" for x in a[1:5]]


def prctl_ret(ret: Any, args: tuple) -> str | None:
    if ret is None or ret < 0:
        return None
    if args[0] & 0xFFFFFFFF == 3:  # PR_GET_DUMPABLE
        return f"{ret} ({DUMPABLE.render(ret)})"
    return None


# -- siginfo -------------------------------------------------------------------------------
CLD = {1: "CLD_EXITED", 2: "CLD_KILLED", 3: "CLD_DUMPED", 4: "CLD_TRAPPED", 5: "CLD_STOPPED",
       6: "CLD_CONTINUED"}
SI = {0: "SI_USER", 0x80: "SI_KERNEL", -1: "SI_QUEUE", -2: "SI_TIMER", -3: "SI_MESGQ", -4: "SI_ASYNCIO",
      -5: "SI_SIGIO", -6: "SI_TKILL", -7: "SI_DETHREAD"}


def _ticks(v: int) -> str:
    return f"{v} /* {v // 100}.{v % 100:02d} s */" if v else "0"


# si_code names of the signals the kernel raises on a fault, and their si_addr
FAULT_CODES = {
    4: ["ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC",
        "ILL_BADSTK"],
    5: ["TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT"],
    7: ["BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"],
    8: ["FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND", "FPE_FLTRES",
        "FPE_FLTINV", "FPE_FLTSUB"],
    11: ["SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR"],
}


POLL_CODES = ["POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI", "POLL_HUP"]
SIGCHLD, SIGPOLL = 17, 29
NAMED_CODES = {SIGCHLD: list(CLD.values()), SIGPOLL: POLL_CODES, **FAULT_CODES}  # si_code 1, 2 ...


def _code(signo: int, code: int) -> str:
    """si_code's name: a generic one first, then those of the signal; else its hex value."""
    if code in SI:
        return SI[code]
    named = NAMED_CODES.get(signo)
    if named and 0 < code <= len(named):
        return named[code - 1]
    return f"{code & 0xFFFFFFFF:#x}"


def siginfo(b: bytes) -> str:
    """A siginfo_t as strace prints it: the fields of the union member that si_code (and, for
    codes the kernel sets, si_signo) selects, si_errno only when set."""
    signo, err, code = struct.unpack_from("<iii", b)
    if signo == 0:
        return "{}"
    out = [f"si_signo={F.signame(signo)}", f"si_code={_code(signo, code)}"]
    if err:
        out.append(f"si_errno={F.ERRNO_NAMES.get(err, err)}")
    pid, uid = struct.unpack_from("<iI", b, 16)
    sigval = struct.unpack_from("<Q", b, 24)[0]
    value = [f"si_int={struct.unpack_from('<i', b, 24)[0]}", f"si_ptr={ptr(sigval)}"]
    if code <= 0:  # sent by a process
        if code == -2:  # SI_TIMER
            out += [f"si_timerid={pid:#x}", f"si_overrun={uid}", *value]
        else:
            out += [f"si_pid={pid}", f"si_uid={uid}"]
            if code not in (0, -6) and sigval:  # not SI_USER or SI_TKILL: a value may come along
                out += value
    elif signo == SIGCHLD:
        status = struct.unpack_from("<i", b, 24)[0]
        utime, stime = struct.unpack_from("<qq", b, 32)
        st = F.signame(status) if code in (2, 3, 4, 5) else str(status)
        out += [f"si_pid={pid}", f"si_uid={uid}", f"si_status={st}",
                f"si_utime={_ticks(utime)}", f"si_stime={_ticks(stime)}"]
    elif signo in FAULT_CODES:  # a fault: where it happened
        addr = struct.unpack_from("<Q", b, 16)[0]
        out.append(f"si_addr={ptr(addr)}")
    elif signo == SIGPOLL:
        band, fd = struct.unpack_from("<qi", b, 16)
        out += [f"si_band={band}", f"si_fd={fd}"]
    else:
        if pid or uid:
            out += [f"si_pid={pid}", f"si_uid={uid}"]
        if sigval:
            out += value
    return "{" + ", ".join(out) + "}"


def msgbuf(b: bytes) -> str:
    """struct msgbuf: {mtype=1, mtext="hi\\0"}."""
    return f"{{mtype={int.from_bytes(b[:8], 'little', signed=True)}, mtext={quote(b[8:])}}}"


# -- resource usage, scheduling ------------------------------------------------------------
def rusage(b: bytes) -> str:
    return f"{{ru_utime={T.timeval(b, 0)}, ru_stime={T.timeval(b, 16)}, ...}}"


def int_in_brackets(b: bytes) -> str:
    return f"[{struct.unpack_from('<i', b)[0]}]"


def uint_in_brackets(b: bytes) -> str:
    return f"[{struct.unpack_from('<I', b)[0]}]"


def sched_ret(ret: Any, args: tuple) -> str | None:
    if ret is None or ret < 0:
        return None
    return f"{ret} ({F.SCHED_POLICY.render(ret)})"


def ioprio_ret(ret: Any, args: tuple) -> str | None:
    if ret is None or ret < 0:
        return None
    return f"{ret} ({F.ioprio(ret)})"


def membarrier_ret(ret: Any, args: tuple) -> str | None:
    if ret is None or ret <= 0 or args[0] & 0xFFFFFFFF != 0:
        return None
    return f"{ret:#x} ({F.MEMBARRIER.render(ret)})"


def cpu_mask(b: bytes) -> str:
    bits = int.from_bytes(b, "little")
    return "[" + " ".join(str(i) for i in range(len(b) * 8) if bits >> i & 1) + "]"


# -- clone3 --------------------------------------------------------------------------------
def clone_args(b: bytes) -> str:
    (flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls) = \
        struct.unpack_from("<8Q", b)
    out = [f"flags={F.clone_flags(flags) if flags else '0'}"]
    if flags & 0x1000:
        out.append(f"pidfd={ptr(pidfd)}")
    if flags & 0x01200000:
        out.append(f"child_tid={ptr(child_tid)}")
    if flags & 0x100000:
        out.append(f"parent_tid={ptr(parent_tid)}")
    out.append(f"exit_signal={F.signame(exit_signal) if exit_signal else 0}")
    out += [f"stack={ptr(stack)}", f"stack_size={stack_size:#x}" if stack_size else "stack_size=0"]
    if flags & 0x80000:
        out.append(f"tls={ptr(tls)}")
    return "{" + ", ".join(out) + "}"


# -- signals -------------------------------------------------------------------------------
SS_FLAGS = F.Flags([("SS_ONSTACK", 1), ("SS_DISABLE", 2), ("SS_AUTODISARM", 1 << 31)],
                   unknown="SS_???")


def stack_t(b: bytes) -> str:
    sp, fl, size = struct.unpack_from("<QI4xQ", b)
    return f"{{ss_sp={ptr(sp)}, ss_flags={SS_FLAGS.render(fl)}, ss_size={size}}}"


SIGEV = {0: "SIGEV_SIGNAL", 1: "SIGEV_NONE", 2: "SIGEV_THREAD", 4: "SIGEV_THREAD_ID"}


def sigevent(b: bytes) -> str:
    _value, signo, notify = struct.unpack_from("<Qii", b)
    sig = F.signame(signo) if signo else "0"
    return f"{{sigev_signo={sig}, sigev_notify={SIGEV.get(notify, notify)}}}"


# -- files ---------------------------------------------------------------------------------
LOCK_TYPE = F.Enum([("F_RDLCK", 0), ("F_WRLCK", 1), ("F_UNLCK", 2)], unknown="F_???")


def flock(b: bytes, with_pid: bool) -> str:
    typ, whence, start, length, pid = struct.unpack_from("<hh4xqqi", b)
    out = (f"{{l_type={LOCK_TYPE.render(typ & 0xFFFF)}, l_whence={F.SEEK.render(whence & 0xFFFF)}, "
           f"l_start={start}, l_len={length}")
    return out + (f", l_pid={pid}}}" if with_pid else "}")


def epoll_event(b: bytes) -> str:
    ev, data = struct.unpack_from("<IQ", b)
    return f"{{events={F.EPOLL_EVENTS.render(ev)}, data={{u32={data & 0xFFFFFFFF}, u64={data}}}}}"


def sembufs(b: bytes) -> str:
    items = []
    for k in range(len(b) // 6):
        num, op, flg = struct.unpack_from("<Hhh", b, k * 6)
        items.append(f"{{sem_num={num}, sem_op={op}, sem_flg={F.SEM_FLAGS.render(flg & 0xFFFF)}}}")
    return "[" + ", ".join(items) + "]"
