/* Processes: ids, credentials, fork/clone/wait, scheduling, limits, prctl, misc process state. */
#include "corpus.h"
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

/* A child's first call: it ends only once its parent is waiting for it, so the SIGCHLD line
 * comes after the wait's in every run. On one CPU a new child can otherwise run, and end,
 * before its parent reaches the wait, and the signal is then shown before the wait call. */
static void settle(void)
{
    struct timespec ts = {0, 100 * 1000 * 1000};
    syscall(SYS_nanosleep, &ts, NULL);
}

static void corpus(void)
{
    syscall(SYS_getpid);
    syscall(SYS_gettid);
    syscall(SYS_getuid);
    syscall(SYS_geteuid);
    syscall(SYS_getgid);
    syscall(SYS_getegid);
    syscall(SYS_getpgrp);
    syscall(SYS_getpgid, 0);
    syscall(SYS_getsid, 0);
    syscall(SYS_getpgid, -1);
    syscall(SYS_setuid, 0);
    syscall(SYS_setgid, 0);
    syscall(SYS_setreuid, -1, -1);
    syscall(SYS_setregid, -1, -1);
    syscall(SYS_setresuid, -1, -1, -1);
    syscall(SYS_setresgid, -1, -1, -1);
    unsigned r[3];
    syscall(SYS_getresuid, &r[0], &r[1], &r[2]);
    syscall(SYS_getresgid, &r[0], &r[1], &r[2]);
    syscall(SYS_setfsuid, -1);
    syscall(SYS_setfsgid, -1);
    unsigned groups[4];
    syscall(SYS_getgroups, 0, NULL);
    syscall(SYS_getgroups, 4, groups);
    syscall(SYS_setgroups, 0, NULL);
    syscall(SYS_getpriority, PRIO_PROCESS, 0);
    syscall(SYS_setpriority, PRIO_PROCESS, 0, 0);
    syscall(SYS_getpriority, 9, 0);
    struct rlimit rl;
    syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl);
    syscall(SYS_getrlimit, 16, &rl);
    syscall(SYS_setrlimit, RLIMIT_CORE, &rl);
    syscall(SYS_prlimit64, 0, RLIMIT_STACK, NULL, &rl);
    syscall(SYS_prlimit64, 0, 99, NULL, &rl);
    struct rusage ru;
    syscall(SYS_getrusage, 99, &ru);
    syscall(SYS_getrusage, RUSAGE_SELF, NULL);
    struct sched_param sp = {0};
    syscall(SYS_sched_getscheduler, 0);
    syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &sp);
    syscall(SYS_sched_setscheduler, 0, 99, &sp);
    syscall(SYS_sched_getparam, 0, &sp);
    syscall(SYS_sched_setparam, 0, &sp);
    syscall(SYS_sched_get_priority_max, SCHED_FIFO);
    syscall(SYS_sched_get_priority_min, SCHED_RR);
    syscall(SYS_sched_get_priority_max, 99);
    struct timespec ts;
    syscall(SYS_sched_rr_get_interval, -1, &ts);
    syscall(SYS_sched_yield);
    unsigned long mask[16];
    syscall(SYS_sched_getaffinity, 0, 8, mask);
    syscall(SYS_sched_setaffinity, 0, 0, NULL);
    syscall(SYS_sched_getattr, 0, NULL, 0, 0);
    syscall(SYS_sched_setattr, 0, NULL, 0);
    unsigned cpu, node;
    syscall(SYS_getcpu, NULL, NULL, NULL);
    (void)cpu; (void)node;
    syscall(SYS_prctl, PR_SET_NAME, "corpusname", 0, 0, 0);
    char name[16];
    syscall(SYS_prctl, PR_GET_NAME, name, 0, 0, 0);
    syscall(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0);
    syscall(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0);
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0);
    syscall(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    syscall(SYS_prctl, PR_CAPBSET_READ, 0, 0, 0, 0);
    syscall(SYS_prctl, PR_GET_SECCOMP, 0, 0, 0, 0);
    syscall(SYS_prctl, 9999, 1, 2, 3, 4);
    syscall(SYS_arch_prctl, 0, 0);
    syscall(SYS_arch_prctl, 0x1003, NULL);
    syscall(SYS_personality, 0xffffffff);
    syscall(SYS_umask, 022);
    syscall(SYS_unshare, 0);
    syscall(SYS_setns, -1, 0);
    syscall(SYS_kcmp, 0, 0, 0, 0, 0);
    syscall(SYS_kcmp, -1, -1, 99, 0, 0);
    syscall(SYS_ioprio_get, 1, 0);
    syscall(SYS_ioprio_set, 1, 0, 0);
    syscall(SYS_set_robust_list, NULL, 0);
    syscall(SYS_get_robust_list, 0, NULL, NULL);
    syscall(SYS_capget, NULL, NULL);
    syscall(SYS_capset, NULL, NULL);
    syscall(SYS_setpgid, 0, 0);
    syscall(SYS_setsid);
    syscall(SYS_seccomp, 99, 0, NULL);
    syscall(SYS_ptrace, 99, 0, 0, 0);
    syscall(SYS_process_vm_readv, -1, NULL, 0, NULL, 0, 0);
    syscall(SYS_pidfd_open, 999999, 0);
    syscall(SYS_pidfd_getfd, -1, 0, 0);
    syscall(SYS_pidfd_send_signal, -1, 0, NULL, 0);
    syscall(SYS_futex, NULL, FUTEX_WAKE, 1, NULL, NULL, 0);
    int fw = 0;
    syscall(SYS_futex, &fw, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    syscall(SYS_futex, &fw, FUTEX_WAIT, 1, NULL, NULL, 0);
    int status;
    long pid = syscall(SYS_fork);
    if (pid == 0) {
        settle();
        syscall(SYS_exit_group, 3);
    }
    syscall(SYS_wait4, pid, &status, 0, NULL);
    pid = syscall(SYS_vfork);
    if (pid == 0)
        syscall(SYS_exit, 5);
    struct rusage ru2;
    syscall(SYS_wait4, -1, &status, __WALL, &ru2);
    pid = syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
    if (pid == 0) {
        settle();
        syscall(SYS_exit_group, 0);
    }
    siginfo_t si;
    syscall(SYS_waitid, P_PID, pid, &si, WEXITED, NULL);
    syscall(SYS_waitid, P_ALL, 0, &si, WEXITED | WNOHANG, NULL);
    syscall(SYS_wait4, -1, &status, WNOHANG, NULL);
    struct clone_args ca = {.flags = 0, .exit_signal = SIGCHLD};
    pid = syscall(SYS_clone3, &ca, sizeof(ca));
    if (pid == 0) {
        settle();
        syscall(SYS_exit_group, 7);
    }
    syscall(SYS_wait4, pid, &status, 0, NULL);
    pid = syscall(SYS_fork);
    if (pid == 0) {
        settle();
        syscall(SYS_kill, syscall(SYS_getpid), SIGKILL);
        syscall(SYS_exit_group, 1);
    }
    syscall(SYS_wait4, pid, &status, 0, NULL);
    /* a child killed by a signal it does not handle, taken when it unblocks it */
    pid = syscall(SYS_fork);
    if (pid == 0) {
        uint64_t term = 1UL << (SIGTERM - 1);
        settle();
        syscall(SYS_rt_sigprocmask, SIG_BLOCK, &term, NULL, 8);
        syscall(SYS_kill, syscall(SYS_getpid), SIGTERM);
        syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &term, NULL, 8);
        syscall(SYS_exit_group, 1);
    }
    syscall(SYS_wait4, pid, &status, 0, NULL);
    /* and one killed by its own fault (not dumpable: no core file) */
    pid = syscall(SYS_fork);
    if (pid == 0) {
        settle();
        syscall(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
        *(volatile int *)BAD = 1;
        syscall(SYS_exit_group, 1);
    }
    syscall(SYS_wait4, pid, &status, 0, NULL);
    syscall(SYS_kill, 999999, 0);
    syscall(SYS_tkill, 999999, SIGTERM);
    syscall(SYS_tgkill, 999999, 999999, SIGUSR1);
    syscall(SYS_execve, "/nonexistent", (char *[]){"x", NULL}, (char *[]){NULL});
    syscall(SYS_execveat, AT_FDCWD, "/nonexistent", (char *[]){"x", "y", NULL}, (char *[]){"A=1", NULL}, 0);
}
