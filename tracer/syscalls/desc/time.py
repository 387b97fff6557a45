"""Time: clocks, sleeps, timers, interval timers."""

from tracer.syscalls.desc.model import call

CALLS = (
    call(35, "nanosleep", "rqtp:timespec rmtp:timespec_rem", ""),
    call(36, "getitimer", "which:int value:ptr", ""),
    call(37, "alarm", "seconds:uint", ""),
    call(38, "setitimer", "which:int value:ptr ovalue:ptr", ""),
    call(96, "gettimeofday", "tv:timeval_out tz:ptr", "TCL"),
    call(100, "times", "tbuf:ptr", ""),
    call(159, "adjtimex", "txc_p:ptr", "TCL"),
    call(164, "settimeofday", "tv:ptr tz:ptr", "TCL"),
    call(201, "time", "tloc:ptr", "TCL"),
    call(222, "timer_create", "which_clock:int timer_event_spec:ptr created_timer_id:ptr", ""),
    call(223, "timer_settime", "timer_id:int flags:int new_setting:ptr old_setting:ptr", ""),
    call(224, "timer_gettime", "timer_id:int setting:ptr", ""),
    call(225, "timer_getoverrun", "timer_id:int", ""),
    call(226, "timer_delete", "timer_id:int", ""),
    call(227, "clock_settime", "which_clock:int tp:ptr", "TCL"),
    call(228, "clock_gettime", "which_clock:clock tp:timespec_out", "TCL"),
    call(229, "clock_getres", "which_clock:clock tp:timespec_out", "TCL"),
    call(230, "clock_nanosleep", "which_clock:clock flags:timer_flags rqtp:timespec rmtp:timespec_rem", ""),
    call(283, "timerfd_create", "clockid:clock flags:tfd_flags", "TD"),
    call(286, "timerfd_settime", "ufd:fd flags:int utmr:ptr otmr:ptr", "TD"),
    call(287, "timerfd_gettime", "ufd:fd otmr:ptr", "TD"),
    call(305, "clock_adjtime", "which_clock:int utx:ptr", "TCL"),
)
