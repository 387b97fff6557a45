"""Signals: handlers, masks, delivery, waiting."""

from tracer.syscalls.desc.model import call

CALLS = (
    call(13, "rt_sigaction", "sig:signal act:sigaction oact:sigaction_out sigsetsize:ulong", "TS"),
    call(14, "rt_sigprocmask", "how:sigprocmask_how nset:sigset oset:sigset_out sigsetsize:ulong", "TS"),
    call(15, "rt_sigreturn", "", "TS", flags="sigreturn"),
    call(34, "pause", "", "TS"),
    call(62, "kill", "pid:int sig:signal", "TS|TP"),
    call(127, "rt_sigpending", "uset:ptr sigsetsize:ulong", "TS"),
    call(128, "rt_sigtimedwait", "uthese:ptr uinfo:ptr uts:ptr sigsetsize:ulong", "TS"),
    call(129, "rt_sigqueueinfo", "pid:int sig:int uinfo:ptr", "TS|TP"),
    call(130, "rt_sigsuspend", "unewset:ptr sigsetsize:ulong", "TS"),
    call(131, "sigaltstack", "uss:ptr uoss:ptr", "TS"),
    call(200, "tkill", "pid:int sig:signal", "TS|TP"),
    call(234, "tgkill", "tgid:int pid:int sig:signal", "TS|TP"),
    call(282, "signalfd", "ufd:fd user_mask:ptr sizemask:ulong", "TD|TS"),
    call(289, "signalfd4", "ufd:fd user_mask:ptr sizemask:ulong flags:int", "TD|TS"),
    call(297, "rt_tgsigqueueinfo", "tgid:int pid:int sig:int uinfo:ptr", "TP|TS"),
    call(424, "pidfd_send_signal", "pidfd:fd sig:int info:ptr flags:uint", "TD|TS|TP"),
)
