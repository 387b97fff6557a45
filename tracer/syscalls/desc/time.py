"""Time: clocks, sleeps, timers, interval timers."""

from tracer.syscalls.desc.model import call

CALLS = (
    call(35, "nanosleep", "rqtp:timespec rmtp:timespec_rem", ""),
    call(36, "getitimer", "which:itimer value:itimerval_out", ""),
    call(37, "alarm", "seconds:uint", ""),
    call(38, "setitimer", "which:itimer value:itimerval ovalue:itimerval_out", ""),
    call(96, "gettimeofday", "tv:timeval_out tz:ptr", "TCL"),
    call(100, "times", "tbuf:ptr", ""),
    call(159, "adjtimex", "txc_p:ptr", "TCL"),
    call(164, "settimeofday", "tv:timeval tz:ptr", "TCL"),
    call(201, "time", "tloc:ptr", "TCL", ret="time"),
    call(222, "timer_create", "which_clock:clock timer_event_spec:sigevent created_timer_id:int_out", ""),
    call(223, "timer_settime", "timer_id:int flags:timer_flags new_setting:itimerspec old_setting:itimerspec_out", ""),
    call(224, "timer_gettime", "timer_id:int setting:itimerspec_out", ""),
    call(225, "timer_getoverrun", "timer_id:int", ""),
    call(226, "timer_delete", "timer_id:int", ""),
    call(227, "clock_settime", "which_clock:clock tp:timespec", "TCL"),
    call(228, "clock_gettime", "which_clock:clock tp:timespec_out", "TCL"),
    call(229, "clock_getres", "which_clock:clock tp:timespec_out", "TCL"),
    call(230, "clock_nanosleep", "which_clock:clock flags:timer_flags rqtp:timespec rmtp:timespec_rem", ""),
    call(283, "timerfd_create", "clockid:clock flags:tfd_flags", "TD"),
    call(286, "timerfd_settime", "ufd:fd flags:tfd_settime_flags utmr:itimerspec otmr:itimerspec_out", "TD"),
    call(287, "timerfd_gettime", "ufd:fd otmr:itimerspec_out", "TD"),
    call(305, "clock_adjtime", "which_clock:clock utx:ptr", "TCL"),
)
