"""Signals: handlers, masks, delivery, waiting."""

from tracer.syscalls.desc.model import call

CALLS = (
    call(13, "rt_sigaction", "sig:signal act:sigaction oact:sigaction_out sigsetsize:ulong", "TS"),
    call(14, "rt_sigprocmask", "how:sigprocmask_how nset:sigset oset:sigset_out sigsetsize:ulong", "TS"),
    call(15, "rt_sigreturn", "", "TS", flags="sigreturn"),
    call(34, "pause", "", "TS"),
    call(62, "kill", "pid:int sig:signal", "TS|TP"),
    call(127, "rt_sigpending", "uset:sigset_out sigsetsize:ulong", "TS"),
    call(128, "rt_sigtimedwait", "uthese:sigset uinfo:siginfo_out uts:timespec sigsetsize:ulong", "TS"),
    call(129, "rt_sigqueueinfo", "pid:int sig:signal uinfo:siginfo", "TS|TP"),
    call(130, "rt_sigsuspend", "unewset:ptr sigsetsize:ulong", "TS"),
    call(131, "sigaltstack", "uss:stack_t uoss:stack_t_out", "TS"),
    call(200, "tkill", "pid:int sig:signal", "TS|TP"),
    call(234, "tgkill", "tgid:int pid:int sig:signal", "TS|TP"),
    call(282, "signalfd", "ufd:fd user_mask:sigset sizemask:ulong", "TD|TS"),
    call(289, "signalfd4", "ufd:fd user_mask:sigset sizemask:ulong flags:sfd_flags", "TD|TS"),
    call(297, "rt_tgsigqueueinfo", "tgid:int pid:int sig:signal uinfo:siginfo", "TP|TS"),
    call(424, "pidfd_send_signal", "pidfd:fd sig:int info:ptr flags:uint", "TD|TS|TP"),
)
