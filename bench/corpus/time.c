/* Time: clocks, sleeps, POSIX timers, interval timers, timerfds. */
#include "corpus.h"
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/times.h>
#include <time.h>

static void corpus(void)
{
    struct timespec ts = {0, 1000}, rem;
    syscall(SYS_nanosleep, &ts, &rem);
    syscall(SYS_nanosleep, &ts, NULL);
    struct timespec bad = {0, -1};
    syscall(SYS_nanosleep, &bad, NULL);
    syscall(SYS_nanosleep, NULL, NULL);
    syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL);
    syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
    syscall(SYS_clock_nanosleep, 99, 0, &ts, NULL);
    syscall(SYS_clock_getres, CLOCK_MONOTONIC, &ts);
    syscall(SYS_clock_getres, CLOCK_REALTIME, NULL);
    syscall(SYS_clock_getres, 77, &ts);
    syscall(SYS_clock_getres, CLOCK_BOOTTIME, &ts);
    syscall(SYS_clock_gettime, 99, &ts);
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, NULL);
    syscall(SYS_clock_settime, 99, &ts);
    syscall(SYS_gettimeofday, NULL, NULL);
    syscall(SYS_settimeofday, NULL, NULL);
    syscall(SYS_time, NULL);
    syscall(SYS_alarm, 0);
    syscall(SYS_alarm, 100);
    syscall(SYS_alarm, 0);
    struct itimerval it = {{0, 0}, {100, 0}}, old;
    syscall(SYS_setitimer, ITIMER_REAL, &it, &old);
    syscall(SYS_getitimer, ITIMER_VIRTUAL, &old);
    syscall(SYS_getitimer, 9, &old);
    struct itimerval zero = {{0, 0}, {0, 0}};
    syscall(SYS_setitimer, ITIMER_REAL, &zero, NULL);
    timer_t tid = 0;
    struct sigevent sev = {.sigev_notify = SIGEV_NONE};
    syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &tid);
    syscall(SYS_timer_create, 99, NULL, &tid);
    struct itimerspec its = {{0, 0}, {100, 0}}, oits;
    syscall(SYS_timer_settime, 0, 0, &its, &oits);
    syscall(SYS_timer_gettime, 0, &oits);
    syscall(SYS_timer_getoverrun, 0);
    syscall(SYS_timer_delete, 0);
    syscall(SYS_timer_delete, 99);
    int tfd = syscall(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    syscall(SYS_timerfd_settime, tfd, 0, &its, &oits);
    syscall(SYS_timerfd_settime, tfd, TFD_TIMER_ABSTIME, &its, NULL);
    syscall(SYS_timerfd_gettime, -1, &oits);
    syscall(SYS_timerfd_create, 99, 0);
    syscall(SYS_close, tfd);
    struct tms t;
    syscall(SYS_times, NULL);
    (void)t;
    syscall(SYS_adjtimex, NULL);
    syscall(SYS_clock_adjtime, 99, NULL);
}
